#include "baton/openai/sse.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace baton::openai {
namespace {

using Events = std::vector<std::pair<std::string, std::string>>;  // (event, data)

Events decode(SseDecoder& d, const std::vector<std::string_view>& pieces) {
    Events out;
    for (auto piece : pieces) {
        d.feed(piece, [&](const SseEvent& e) { out.emplace_back(e.event, e.data); });
    }
    return out;
}

Events decode(std::string_view stream) {
    SseDecoder d;
    return decode(d, {stream});
}

TEST(SseDecoder, BasicOpenAiStream) {
    const std::string s =
        "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
        "data: {\"id\":\"1\",\"choices\":[]}\n\n"
        "data: [DONE]\n\n";
    const Events expected = {{"", "{\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"},
                             {"", "{\"id\":\"1\",\"choices\":[]}"},
                             {"", "[DONE]"}};
    EXPECT_EQ(decode(s), expected);
}

TEST(SseDecoder, FieldParsingRules) {
    EXPECT_EQ(decode("data:x\n\n"), (Events{{"", "x"}}));
    EXPECT_EQ(decode("data:  x\n\n"), (Events{{"", " x"}}));  // only one space stripped
    EXPECT_EQ(decode("data: a\ndata: b\ndata:\ndata: c\n\n"), (Events{{"", "a\nb\n\nc"}}));
    EXPECT_EQ(decode("data\n\n"), (Events{{"", ""}}));  // field with no colon, empty value
    EXPECT_EQ(decode("data:\n\n"), (Events{{"", ""}}));
    EXPECT_EQ(decode("data: a:b: c\n\n"), (Events{{"", "a:b: c"}}));
    EXPECT_EQ(decode(": comment\ndata: x\n: another\n\n"), (Events{{"", "x"}}));
    EXPECT_EQ(decode(":\n\n"), Events{});
    EXPECT_EQ(decode("event: message_start\ndata: {}\n\n"), (Events{{"message_start", "{}"}}));
    EXPECT_EQ(decode("event:ping\ndata: 1\n\ndata: 2\n\n"), (Events{{"ping", "1"}, {"", "2"}}));
    EXPECT_EQ(decode("id: 7\nretry: 1000\nfoo: bar\ndata: x\n\n"), (Events{{"", "x"}}));
    EXPECT_EQ(decode("Data: x\n\n"), Events{});  // field names are case-sensitive
    EXPECT_EQ(decode(" data: x\n\n"), Events{});
    // A blank line without data dispatches nothing and forgets the event type.
    EXPECT_EQ(decode("event: a\n\ndata: x\n\n"), (Events{{"", "x"}}));
    EXPECT_EQ(decode("\n\n\n"), Events{});
    // A leading BOM is ignored.
    EXPECT_EQ(decode("\xEF\xBB\xBF"
                     "data: x\n\n"),
              (Events{{"", "x"}}));
}

TEST(SseDecoder, LineEndings) {
    const Events expected = {{"e", "a\nb"}, {"", "c"}};
    EXPECT_EQ(decode("event: e\ndata: a\ndata: b\n\ndata: c\n\n"), expected);
    EXPECT_EQ(decode("event: e\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"), expected);
    EXPECT_EQ(decode("event: e\rdata: a\rdata: b\r\rdata: c\r\r"), expected);
    EXPECT_EQ(decode("event: e\r\ndata: a\rdata: b\n\r\ndata: c\r\r\n"), expected);
}

TEST(SseDecoder, IncompleteEventIsHeldUntilBlankLine) {
    SseDecoder d;
    EXPECT_TRUE(d.idle());
    Events got = decode(d, {"data: partial"});
    EXPECT_TRUE(got.empty());
    EXPECT_FALSE(d.idle());
    got = decode(d, {"\n"});
    EXPECT_TRUE(got.empty());
    EXPECT_FALSE(d.idle());
    got = decode(d, {"\n"});
    EXPECT_EQ(got, (Events{{"", "partial"}}));
    EXPECT_TRUE(d.idle());
    // Data line complete but no dispatch yet: the data must survive the end of the feed.
    got = decode(d, {"event: e\ndata: kept\n"});
    EXPECT_TRUE(got.empty());
    EXPECT_FALSE(d.idle());
    got = decode(d, {"\n"});
    EXPECT_EQ(got, (Events{{"e", "kept"}}));
    EXPECT_TRUE(d.idle());
}

TEST(SseDecoder, ResetDropsPartialState) {
    SseDecoder d;
    decode(d, {"event: e\ndata: x\ndata: part"});
    EXPECT_FALSE(d.idle());
    d.reset();
    EXPECT_TRUE(d.idle());
    EXPECT_EQ(decode(d, {"data: y\n\n"}), (Events{{"", "y"}}));
}

TEST(SseDecoder, CrAtEndOfFeedFollowedByLf) {
    SseDecoder d;
    // "\r" then "\n" in the next feed is one line end, not two (which would dispatch early).
    Events got = decode(d, {"data: a\r", "\ndata: b\r", "\n\r", "\n"});
    EXPECT_EQ(got, (Events{{"", "a\nb"}}));
    // Empty feeds in between do not break the pairing.
    got = decode(d, {"data: c\r", "", "\ndata: d\r\n\r\n"});
    EXPECT_EQ(got, (Events{{"", "c\nd"}}));
}

const std::string kComplex =
    "\xEF\xBB\xBF: hello\r\n"
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\"}\r\n"
    "\r\n"
    "data: line1\n"
    "data:line2\r"
    "data:  line3\r\n"
    "id: 42\n"
    "\n"
    "event: ping\r"
    "\r"
    "data\n"
    "\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"caf\xC3\xA9\"}}]}\n"
    "\n"
    "event: x\n"
    "retry: 5\n"
    "unknown\n"
    "data: [DONE]\r\n"
    "\r\n"
    "data: trailing partial";

TEST(SseDecoder, SplitAnywhereGivesIdenticalEvents) {
    const Events whole = decode(kComplex);
    const Events expected = {{"message_start", "{\"type\":\"message_start\"}"},
                             {"", "line1\nline2\n line3"},
                             {"", ""},
                             {"", "{\"choices\":[{\"delta\":{\"content\":\"caf\xC3\xA9\"}}]}"},
                             {"x", "[DONE]"}};
    ASSERT_EQ(whole, expected);
    const std::string_view s = kComplex;
    // Every single split point and every pair of split points.
    for (size_t a = 0; a <= s.size(); ++a) {
        SseDecoder d1;
        ASSERT_EQ(decode(d1, {s.substr(0, a), s.substr(a)}), expected) << "split at " << a;
        for (size_t b = a; b <= s.size(); ++b) {
            SseDecoder d;
            ASSERT_EQ(decode(d, {s.substr(0, a), s.substr(a, b - a), s.substr(b)}), expected)
                << "splits at " << a << ", " << b;
            EXPECT_FALSE(d.idle());
        }
    }
    // Byte by byte.
    SseDecoder d;
    std::vector<std::string_view> bytes;
    for (size_t k = 0; k < s.size(); ++k) bytes.push_back(s.substr(k, 1));
    EXPECT_EQ(decode(d, bytes), expected);
}

TEST(SseData, FramesAndRoundTrips) {
    EXPECT_EQ(sse_data("{\"a\":1}"), "data: {\"a\":1}\n\n");
    EXPECT_EQ(sse_data(""), "data: \n\n");
    EXPECT_EQ(sse_data("a\nb"), "data: a\ndata: b\n\n");
    EXPECT_EQ(sse_data("a\r\nb\rc\n"), "data: a\ndata: b\ndata: c\ndata: \n\n");
    for (std::string_view payload : {"{\"x\":\"y\"}", "", "a\nb", "a\n\nb", "a\n", " lead"}) {
        EXPECT_EQ(decode(sse_data(payload)), (Events{{"", std::string(payload)}})) << payload;
    }
    EXPECT_EQ(decode(kSseDone), (Events{{"", "[DONE]"}}));
    EXPECT_EQ(decode(sse_data("a") + std::string(kSseDone)), (Events{{"", "a"}, {"", "[DONE]"}}));
}

}  // namespace
}  // namespace baton::openai
