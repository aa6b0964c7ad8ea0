// The string-content scan of the request scanner: the SSE2 and AVX2 paths agree with a plain
// byte loop at every position and length.
#include "openai/json_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace baton::openai::detail {
namespace {

size_t naive(const std::string& s, size_t i) {
    for (; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return i;
    }
    return s.size();
}

TEST(JsonText, FindStringSpecialMatchesAPlainLoop) {
    std::mt19937 rng(7);
    const char specials[] = {
        '"', '\\', '\n', '\x01', '\x7f', static_cast<char>(0xc3), static_cast<char>(0xff),
        ' ', '~'};
    for (int round = 0; round < 400; ++round) {
        std::string s(rng() % 300, 'a');
        for (size_t k = rng() % 4; k > 0 && !s.empty(); --k) {
            s[rng() % s.size()] = specials[rng() % sizeof specials];
        }
        for (size_t from = 0; from <= s.size(); from += 1 + rng() % 7) {
            const size_t want = naive(s, from);
            EXPECT_EQ(find_string_special(s.data(), from, s.size()), want);
#if defined(BATON_JSON_AVX2)
            if (kHaveAvx2) {
                EXPECT_EQ(find_string_special_avx2(s.data(), from, s.size()), want);
            }
#endif
        }
    }
}

// What skip_string_run must return: the first byte the scanner has to look at, stepping
// over simple two-byte escapes.
size_t naive_run(const std::string& s, size_t i, bool& escaped) {
    for (; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && simple_escape(s[i + 1])) {
            escaped = true;
            ++i;
            continue;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return i;
    }
    return s.size();
}

// skip_string_run is the AVX2 loop on a CPU that has it (the CI machines do), else SSE2 +
// scalar escapes; both must agree with the byte loop.
TEST(JsonText, SkipStringRunStepsOverSimpleEscapesOnly) {
    std::mt19937 rng(11);
    const std::string pieces[] = {"\\n", "\\\\", "\\\"", "\\/",      "\\t", "\\u00e9",
                                  "\\x", "\"",   "\n",   "\xc3\xa9", "abc", "0123456789abcdef"};
    for (int round = 0; round < 2000; ++round) {
        std::string s;
        while (s.size() < 40 + rng() % 200) s += pieces[rng() % std::size(pieces)];
        for (size_t from = 0; from < s.size(); from += 1 + rng() % 13) {
            bool want_escaped = false, got_escaped = false;
            const size_t want = naive_run(s, from, want_escaped);
            const size_t got = skip_string_run(s.data(), from, s.size(), got_escaped);
            ASSERT_EQ(got, want) << "from " << from << " in " << s;
            EXPECT_EQ(got_escaped, want_escaped);
        }
    }
}

}  // namespace
}  // namespace baton::openai::detail
