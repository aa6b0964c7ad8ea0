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

}  // namespace
}  // namespace baton::proxy
