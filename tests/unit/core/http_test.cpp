// HTTP/1.1 helpers shared by the request and response parsers.
#include "baton/core/http.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace baton::http1 {
namespace {

// Decodes `in` fed in pieces of `step` bytes into a destination of `cap` bytes at a time.
struct Decoded {
    ChunkedDecoder::Status status = ChunkedDecoder::Status::need_more;
    std::string body;
    size_t used = 0;
};

Decoded decode_all(std::string_view in, size_t step, size_t cap) {
    ChunkedDecoder d;
    d.reset();
    Decoded out;
    std::string pending;
    size_t pos = 0;
    for (int guard = 0; guard < 100000; ++guard) {
        if (pending.empty() && pos < in.size()) {
            size_t n = std::min(step, in.size() - pos);
            pending.append(in.substr(pos, n));
            pos += n;
        }
        std::string dst(cap, '\0');
        size_t produced = 0;
        size_t used = d.decode(pending, dst.data(), cap, produced, out.status);
        out.body.append(dst.data(), produced);
        out.used += used;
        pending.erase(0, used);
        if (out.status != ChunkedDecoder::Status::need_more) break;
        if (pending.empty() && pos >= in.size()) break;
        if (used == 0 && produced == 0 && !pending.empty() && pos < in.size()) {
            size_t n = std::min(step, in.size() - pos);  // needs more bytes for a line
            pending.append(in.substr(pos, n));
            pos += n;
        }
    }
    return out;
}

TEST(ChunkedDecoder, DecodesAcrossEverySplitAndSmallDestinations) {
    const std::string in =
        "4\r\nWiki\r\n7;ext=1\r\npedia i\r\nB\r\nn \r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nNEXT";
    for (size_t step : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{100}}) {
        for (size_t cap : {size_t{1}, size_t{3}, size_t{64}}) {
            auto r = decode_all(in, step, cap);
            ASSERT_EQ(r.status, ChunkedDecoder::Status::done) << step << "/" << cap;
            EXPECT_EQ(r.body, "Wikipedia in \r\nchunks.");
            EXPECT_EQ(r.used, in.size() - 4);  // "NEXT" belongs to what follows
        }
    }
}

TEST(ChunkedDecoder, RejectsBadFraming) {
    for (std::string_view bad : {"zz\r\n", "5\r\nhelloX\r\n", "5\nhello\r\n",
                                 "ffffffffffffffffff\r\n", "3 x\r\nabc\r\n0\r\n\r\n"}) {
        auto r = decode_all(bad, 100, 64);
        if (bad == "3 x\r\nabc\r\n0\r\n\r\n") {  // whitespace then an extension-ish tail: ok
            EXPECT_EQ(r.status, ChunkedDecoder::Status::done);
            continue;
        }
        EXPECT_EQ(r.status, ChunkedDecoder::Status::error) << bad;
    }
}

TEST(HttpFields, ParsesTrimsAndRejects) {
    std::string head = "A: 1\r\nB-Name:\t two words \t\r\nC:\r\n\r\n";
    std::vector<HeaderField> f;
    ASSERT_EQ(parse_fields(head.data(), head.data() + head.size(), f), nullptr);
    ASSERT_EQ(f.size(), 3u);
    EXPECT_EQ(f[1].name, "B-Name");
    EXPECT_EQ(f[1].value, "two words");
    EXPECT_EQ(f[2].value, "");
    EXPECT_EQ(find(f, "b-name"), &f[1]);
    EXPECT_EQ(find(f, "d"), nullptr);
    // UTF-8 (obs-text) is allowed in values; controls are not, and neither is obs-fold.
    std::string utf8 = "X: caf\xc3\xa9 \x7e\r\n\r\n";
    f.clear();
    EXPECT_EQ(parse_fields(utf8.data(), utf8.data() + utf8.size(), f), nullptr);
    for (std::string bad : {std::string("X: a\x7f\r\n\r\n"), std::string("X: a\0b\r\n\r\n", 10),
                            std::string("X: a\r\n b\r\n\r\n"), std::string(": a\r\n\r\n")}) {
        f.clear();
        EXPECT_NE(parse_fields(bad.data(), bad.data() + bad.size(), f), nullptr) << bad;
    }
    // A long value crosses the vectorised scan's 16-byte steps.
    std::string long_value(100, 'v');
    long_value[77] = '\t';
    std::string lv = "L: " + long_value + "\r\n\r\n";
    f.clear();
    ASSERT_EQ(parse_fields(lv.data(), lv.data() + lv.size(), f), nullptr);
    EXPECT_EQ(f[0].value, long_value);
}

// Field names are scanned 16 bytes at a time for the common characters (letters, digits,
// '-'), the rest checked one by one: a name of any length with any character at any position
// is accepted exactly when every character is a tchar.
TEST(HttpFields, NameCharactersAtEveryPosition) {
    const std::string odd = std::string("_.!#$%&'*+^`|~\"(),/;<=>?@[]{} \t\x7f\x80\xff") + '\0';
    for (size_t len = 1; len <= 40; ++len) {
        for (size_t at = 0; at < len; ++at) {
            for (char c : odd) {
                std::string name(len, 'a');
                for (size_t i = 0; i < len; ++i) name[i] = "xY-7"[i % 4];
                name[at] = c;
                const std::string head = name + ": v\r\nNext: w\r\n\r\n";
                std::vector<HeaderField> f;
                const bool ok = parse_fields(head.data(), head.data() + head.size(), f) == nullptr;
                bool want = true;
                for (char n : name) want = want && is_tchar(n);
                ASSERT_EQ(ok, want) << "name of " << len << " with 0x" << std::hex
                                    << (static_cast<int>(c) & 0xff) << " at " << std::dec << at;
                if (ok) {
                    ASSERT_EQ(f.size(), 2u);
                    EXPECT_EQ(f[0].name, name);
                }
            }
        }
    }
}

// iequals compares 8 bytes at a time; checked against a byte-by-byte reference on every
// length up to 40 with case flips, neighbours of the letter ranges and non-ASCII bytes.
TEST(HttpTokens, IequalsMatchesByteReference) {
    auto reference = [](std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i) {
            auto l = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
            if (l(a[i]) != l(b[i])) return false;
        }
        return true;
    };
    const std::string alphabet = "aAzZ@[`{-_09\x80\xc1\xe1\xff";
    uint32_t seed = 12345;
    auto next = [&] {
        seed = seed * 1664525u + 1013904223u;
        return seed >> 8;
    };
    int equal = 0;
    for (int round = 0; round < 20000; ++round) {
        const size_t n = next() % 41;
        std::string a(n, ' ');
        for (auto& c : a) c = alphabet[next() % alphabet.size()];
        std::string b = a;
        // flip the case of some letters, or change one byte
        for (auto& c : b) {
            if (next() % 3 == 0 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) c ^= 0x20;
        }
        if (n > 0 && next() % 2 == 0) b[next() % n] = alphabet[next() % alphabet.size()];
        ASSERT_EQ(iequals(a, b), reference(a, b)) << a << " vs " << b;
        equal += reference(a, b) ? 1 : 0;
    }
    EXPECT_GT(equal, 5000);  // both outcomes were exercised
    EXPECT_TRUE(iequals("Content-Length", "content-length"));
    EXPECT_FALSE(iequals("Content-Lengtx", "content-length"));
    EXPECT_FALSE(iequals("\xc1", "\xe1"));  // not a letter: no case folding
    EXPECT_FALSE(iequals("@", "`"));
    EXPECT_FALSE(iequals("[", "{"));
    EXPECT_TRUE(iequals("", ""));
}

// find_blank_line scans 16 positions at a time; checked against a plain search on heads of
// every length with the blank line (or a near miss) at every offset.
TEST(HttpTokens, FindBlankLineMatchesPlainSearch) {
    const std::string pieces[] = {"\r\n\r\n", "\n\r", "\r\n", "\r\n\r", "\n\r\n", "a", "\r"};
    uint32_t seed = 99;
    auto next = [&] {
        seed = seed * 1664525u + 1013904223u;
        return seed >> 8;
    };
    for (int round = 0; round < 20000; ++round) {
        std::string s;
        const size_t len = next() % 70;
        while (s.size() < len) s += next() % 4 == 0 ? pieces[next() % 7] : std::string(1, 'x');
        const size_t want = s.find("\r\n\r\n");
        ASSERT_EQ(find_blank_line(s), want == std::string::npos ? want : want + 4) << round;
    }
}

TEST(HttpTokens, ListsAndBlankLines) {
    EXPECT_TRUE(has_token("keep-alive, Upgrade", "upgrade"));
    EXPECT_FALSE(has_token("keep-alive-ish", "keep-alive"));
    EXPECT_EQ(last_token("gzip, chunked "), "chunked");
    EXPECT_EQ(find_blank_line("a\r\n\r\nb"), 5u);
    EXPECT_EQ(find_blank_line("a\r\n\r"), std::string_view::npos);
    EXPECT_EQ(blank_line_across("a\r\n\r", "\nb"), 1u);
    EXPECT_EQ(blank_line_across("a\r", "\n\r\nb"), 3u);
    EXPECT_EQ(blank_line_across("a\r\n", "x"), 0u);
    uint64_t n = 0;
    EXPECT_TRUE(parse_decimal("0123", n));
    EXPECT_EQ(n, 123u);
    EXPECT_FALSE(parse_decimal("", n));
    EXPECT_FALSE(parse_decimal("1 2", n));
    EXPECT_FALSE(parse_decimal("9999999999999999999", n));
}

}  // namespace
}  // namespace baton::http1
