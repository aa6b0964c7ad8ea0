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
