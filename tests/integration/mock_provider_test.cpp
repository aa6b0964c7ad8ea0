// The built-in mock provider (model demo-small, tokens: 8): OpenAI-shaped completions and
// streams, without any network upstream.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

constexpr const char* kChat = "/v1/chat/completions";

TEST(MockProviderTest, AnswersChatCompletionWithUsage) {
    auto gw = make_gateway(GatewayConfig{});
    ASSERT_TRUE(gw->start());
    HttpResponse r = http_post(gw->port(), kChat, chat_body("demo-small", "Hello mock"));
    ASSERT_TRUE(r.ok) << r.describe();
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_THAT(r.header("content-type"), StartsWith("application/json"));
    EXPECT_EQ(r.header("x-baton-model"), "demo-small");
    EXPECT_EQ(r.header("x-baton-provider"), "demo");
    EXPECT_FALSE(r.header("x-request-id").empty());
    auto j = parse_json(r.body);
    ASSERT_TRUE(j.has_value()) << r.body;
    EXPECT_EQ((*j)["object"], "chat.completion");
    EXPECT_TRUE((*j)["id"].is_string());
    EXPECT_TRUE((*j)["created"].is_number_integer());
    EXPECT_EQ((*j)["model"], "demo-small");
    ASSERT_EQ((*j)["choices"].size(), 1u) << r.body;
    const json& c = (*j)["choices"][0];
    EXPECT_EQ(c["index"], 0);
    EXPECT_EQ(c["message"]["role"], "assistant");
    ASSERT_TRUE(c["message"]["content"].is_string());
    EXPECT_FALSE(c["message"]["content"].get<std::string>().empty());
    EXPECT_EQ(c["finish_reason"], "stop");
    const json& u = (*j)["usage"];
    ASSERT_TRUE(u.is_object()) << r.body;
    EXPECT_GT(u["prompt_tokens"].get<int>(), 0);
    EXPECT_EQ(u["completion_tokens"].get<int>(), 8);
    EXPECT_EQ(u["total_tokens"].get<int>(),
              u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());
}

TEST(MockProviderTest, StreamsChunksEndingInDone) {
    auto gw = make_gateway(GatewayConfig{});
    ASSERT_TRUE(gw->start());
    HttpResponse r = http_stream(gw->port(), kChat, chat_body("demo-small", "Hello", true));
    ASSERT_TRUE(r.ok) << r.describe();
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_THAT(r.header("content-type"), StartsWith("text/event-stream"));
    EXPECT_THAT(r.body, EndsWith("data: [DONE]\n\n"));
    auto events = sse_data(r.body);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events.back(), "[DONE]");
    size_t content_chunks = 0;
    std::string text;
    std::string finish;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
        auto j = parse_json(events[i]);
        ASSERT_TRUE(j.has_value()) << events[i];
        EXPECT_EQ((*j)["object"], "chat.completion.chunk") << events[i];
        EXPECT_EQ((*j)["model"], "demo-small") << events[i];
        ASSERT_EQ((*j)["choices"].size(), 1u) << events[i];
        const json& ch = (*j)["choices"][0];
        if (ch["delta"].contains("content") && ch["delta"]["content"].is_string() &&
            !ch["delta"]["content"].get<std::string>().empty()) {
            ++content_chunks;
            text += ch["delta"]["content"].get<std::string>();
        }
        if (ch["finish_reason"].is_string()) finish = ch["finish_reason"].get<std::string>();
    }
    auto first = parse_json(events.front());
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ((*first)["choices"][0]["delta"]["role"], "assistant") << events.front();
    EXPECT_EQ(content_chunks, 8u) << r.body;
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(finish, "stop");
}

TEST(MockProviderTest, StreamWithIncludeUsageEndsWithUsageChunk) {
    auto gw = make_gateway(GatewayConfig{});
    ASSERT_TRUE(gw->start());
    const std::string body = R"({"model":"demo-small","messages":[{"role":"user","content":"Hi"}],)"
                             R"("stream":true,"stream_options":{"include_usage":true}})";
    HttpResponse r = http_stream(gw->port(), kChat, body);
    ASSERT_TRUE(r.ok) << r.describe();
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto events = sse_data(r.body);
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events.back(), "[DONE]");
    auto usage_chunk = parse_json(events[events.size() - 2]);
    ASSERT_TRUE(usage_chunk.has_value());
    EXPECT_TRUE((*usage_chunk)["choices"].is_array() && (*usage_chunk)["choices"].empty())
        << events[events.size() - 2];
    EXPECT_EQ((*usage_chunk)["usage"]["completion_tokens"], 8) << events[events.size() - 2];
}

}  // namespace
}  // namespace baton::test
