// scan_usage reads token counts from answers and stream events on every request; find_pair is
// its vectorised search.
#include <gtest/gtest.h>

#include <string>

#include "proxy/context.hpp"

namespace baton::proxy {
namespace {

TEST(FindPair, FindsEveryPositionAcrossTheVectorBoundary) {
    for (size_t len = 2; len < 140; ++len) {  // both the 32- and the 16-byte steps, and the tail
        for (size_t at = 0; at + 1 < len; ++at) {
            std::string s(len, 'x');
            s[at] = '"';
            s[at + 1] = 'u';
            EXPECT_EQ(find_pair(s, 0, '"', 'u'), at) << len << " " << at;
            EXPECT_EQ(find_pair(s, at + 1, '"', 'u'), std::string_view::npos);
        }
    }
    std::string s = std::string(40, '"') + "u";  // a lone first character is not a match
    EXPECT_EQ(find_pair(s, 0, '"', 'u'), 39u);
    EXPECT_EQ(find_pair("", 0, '"', 'u'), std::string_view::npos);
    EXPECT_EQ(find_pair("\"", 0, '"', 'u'), std::string_view::npos);
}

TEST(ScanUsage, ReadsOpenAiUsageAtTheEndOfAnAnswer) {
    std::string body =
        R"({"id":"c","choices":[{"message":{"role":"assistant","content":"the \"usage\" word and \"prompt_tokens\": 999 inside a string"}}],)"
        R"("usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46,)"
        R"("prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":5}}})";
    uint64_t p = 0, c = 0;
    ASSERT_TRUE(scan_usage(body, p, c));
    EXPECT_EQ(p, 12u);
    EXPECT_EQ(c, 34u);
}

TEST(ScanUsage, AnthropicNamesAndTheLargestOfSeveralEvents) {
    std::string events =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
        "{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":"
        "15}}\n\n";
    uint64_t p = 0, c = 0;
    ASSERT_TRUE(scan_usage(events, p, c));
    EXPECT_EQ(p, 25u);
    EXPECT_EQ(c, 15u);
}

TEST(ScanUsage, NoUsageOrNoNumbers) {
    uint64_t p = 7, c = 8;
    EXPECT_FALSE(scan_usage(R"({"choices":[]})", p, c));
    EXPECT_FALSE(scan_usage(R"({"usage":null})", p, c));
    EXPECT_FALSE(scan_usage(R"({"usage":{"prompt_tokens":"x"}})", p, c));
    EXPECT_EQ(p, 7u);
    EXPECT_EQ(c, 8u);
    // Only the completion count: the prompt count reads as zero.
    ASSERT_TRUE(scan_usage(R"({"usage":{"completion_tokens": 3}})", p, c));
    EXPECT_EQ(p, 0u);
    EXPECT_EQ(c, 3u);
}

TEST(FindPair, ReverseFindsEveryPositionFromTheBack) {
    for (size_t len = 2; len < 70; ++len) {
        for (size_t at = 0; at + 1 < len; ++at) {
            std::string s(len, 'x');
            s[at] = '"';
            s[at + 1] = 'u';
            EXPECT_EQ(rfind_pair(s, len, '"', 'u'), at) << len << " " << at;
            EXPECT_EQ(rfind_pair(s, at + 1, '"', 'u'), std::string_view::npos);  // pair cut off
            EXPECT_EQ(rfind_pair(s, at + 2, '"', 'u'), at);
        }
    }
    std::string two = std::string(20, 'x') + "\"u" + std::string(30, 'x') + "\"u" + "x";
    EXPECT_EQ(rfind_pair(two, two.size(), '"', 'u'), 52u);
    EXPECT_EQ(rfind_pair(two, 52, '"', 'u'), 20u);
    EXPECT_EQ(rfind_pair("", 0, '"', 'u'), std::string_view::npos);
}

// A whole answer: its usage object is found from the end; the word "usage" inside the content
// (quotes escaped) and a usage-looking object inside a string do not count.
TEST(ScanUsage, AnswerUsageFromTheEnd) {
    std::string body =
        R"({"id":"c","choices":[{"message":{"role":"assistant","content":"the \"usage\":{\"prompt_tokens\": 999} word"}}],)"
        R"("usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46,)"
        R"("prompt_tokens_details":{"cached_tokens":0}},"system_fingerprint":"fp_1"})";
    uint64_t p = 0, c = 0;
    ASSERT_TRUE(scan_answer_usage(body, p, c));
    EXPECT_EQ(p, 12u);
    EXPECT_EQ(c, 34u);
    // Anthropic's names (a passed-through Messages answer)
    ASSERT_TRUE(scan_answer_usage(
        R"({"type":"message","content":[],"usage":{"input_tokens":7,"output_tokens":9}})", p, c));
    EXPECT_EQ(p, 7u);
    EXPECT_EQ(c, 9u);
    p = c = 5;
    EXPECT_FALSE(scan_answer_usage(R"({"choices":[],"usage":null})", p, c));
    EXPECT_FALSE(scan_answer_usage(R"({"choices":[]})", p, c));
    EXPECT_EQ(p, 5u);
    EXPECT_EQ(c, 5u);
    // scan_answer_usage and scan_usage agree on an answer with one usage object
    uint64_t p2 = 0, c2 = 0;
    ASSERT_TRUE(scan_usage(body, p2, c2));
    EXPECT_EQ(p2, 12u);
    EXPECT_EQ(c2, 34u);
}

}  // namespace
}  // namespace baton::proxy
