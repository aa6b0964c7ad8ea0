// The policy engine behind the real binary: "model": "auto" over several mock providers of
// different price, latency and capability; explain matches what was routed; usage accounting
// for streams (Baton asks the upstream for usage and strips that chunk again).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "support/fake_upstream.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kChat = "/v1/chat/completions";

// cheap: no tools, low quality; mid: tools, tagged eu; strong: tools, expensive, best quality.
std::string three_models_yaml(std::string_view extra_routes = "") {
    return std::string(R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: stdout}
providers:
  - {name: p-cheap, kind: mock, mock: {latency: 0ms, tokens: 4}}
  - {name: p-mid, kind: mock, mock: {latency: 0ms, tokens: 4}}
  - {name: p-strong, kind: mock, mock: {latency: 0ms, tokens: 4}}
models:
  - name: cheap
    provider: p-cheap
    context_window: 8000
    capabilities: [streaming]
    price: {input: 0.1, output: 0.4}
    quality: 0.3
    latency_hint: {ttft: 100ms, tokens_per_s: 100}
  - name: mid
    provider: p-mid
    context_window: 64000
    capabilities: [tools, streaming]
    price: {input: 1.0, output: 4.0}
    quality: 0.6
    tags: [eu]
    latency_hint: {ttft: 100ms, tokens_per_s: 100}
  - name: strong
    provider: p-strong
    context_window: 200000
    capabilities: [tools, streaming, vision]
    price: {input: 5.0, output: 20.0}
    quality: 0.95
    latency_hint: {ttft: 100ms, tokens_per_s: 100}
routes:
  - name: auto
    candidates: [cheap, mid, strong]
    objective: {cost: 0.5, latency: 0.2, quality: 0.3}
)") + std::string(extra_routes);
}

const char* kComplexPrompt =
    "Prove step by step that there are infinitely many primes, then derive the asymptotic "
    "density of primes and compare the trade-offs of three proof techniques. First state the "
    "theorem precisely, then prove it rigorously, and finally analyze the edge cases. Explain "
    "why each technique works, what its limits are, and how it generalizes. Why is the Euler "
    "product relevant? How does the result change for primes in arithmetic progressions? "
    "You must justify every step and must not skip any lemma.";

TEST(RoutingTest, ShortPromptGoesToTheCheapModelComplexToTheStrong) {
    GatewayProcess gw(three_models_yaml());
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-route"), "auto");
    EXPECT_EQ(r.header("x-baton-model"), "cheap");
    EXPECT_EQ(r.header("x-baton-provider"), "p-cheap");
    EXPECT_FALSE(r.header("x-baton-reason").empty());
    EXPECT_FALSE(r.header("x-baton-cost-usd").empty());

    auto c = http_post(gw.port(), kChat, chat_body("auto", kComplexPrompt));
    ASSERT_EQ(c.status, 200u) << c.describe();
    EXPECT_EQ(c.header("x-baton-model"), "strong") << c.header("x-baton-reason");
    EXPECT_THAT(gw.stdout_text(), HasSubstr("\"route\":\"auto\""));
}

TEST(RoutingTest, ToolsRequestNeverGoesToAModelWithoutTools) {
    GatewayProcess gw(three_models_yaml());
    ASSERT_TRUE(gw.start());
    std::string body =
        R"({"model":"auto","messages":[{"role":"user","content":"hi"}],)"
        R"("tools":[{"type":"function","function":{"name":"get_time","parameters":{}}}]})";
    for (int i = 0; i < 5; ++i) {
        auto r = http_post(gw.port(), kChat, body);
        ASSERT_EQ(r.status, 200u) << r.describe();
        EXPECT_NE(r.header("x-baton-model"), "cheap");
        EXPECT_EQ(r.header("x-baton-model"), "mid");  // cheapest of those with tools
    }
}

TEST(RoutingTest, RequiredTagHeaderNeverReachesAnUntaggedModel) {
    GatewayProcess gw(three_models_yaml());
    ASSERT_TRUE(gw.start());
    for (const char* prompt : {"hi", kComplexPrompt}) {
        auto r = http_post(gw.port(), kChat, chat_body("auto", prompt),
                           {{"x-baton-require-tags", "eu"}});
        ASSERT_EQ(r.status, 200u) << r.describe();
        EXPECT_EQ(r.header("x-baton-model"), "mid");
    }
    // No model has both tags: 422 listing why each candidate was excluded.
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"),
                       {{"x-baton-require-tags", "eu,on_prem"}});
    json err;
    ASSERT_TRUE(is_openai_error(r, 422, &err)) << r.describe();
    std::string msg = err["message"];
    EXPECT_THAT(msg, HasSubstr("cheap"));
    EXPECT_THAT(msg, HasSubstr("strong"));
    EXPECT_THAT(msg, HasSubstr("tag:on_prem"));
}

TEST(RoutingTest, UnknownNameListsModelsAndRoutes) {
    GatewayProcess gw(three_models_yaml());
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("autoo", "hi"));
    json err;
    ASSERT_TRUE(is_openai_error(r, 404, &err)) << r.describe();
    std::string msg = err["message"];
    EXPECT_THAT(msg, HasSubstr("auto"));
    EXPECT_THAT(msg, HasSubstr("cheap"));
}

TEST(RoutingTest, ExplainMatchesWhatWasRouted) {
    GatewayProcess gw(three_models_yaml());
    ASSERT_TRUE(gw.start());
    for (const char* prompt : {"hi", kComplexPrompt}) {
        auto body = chat_body("auto", prompt);
        auto ex = http_post(gw.port(), "/v1/route/explain", body);
        ASSERT_EQ(ex.status, 200u) << ex.describe();
        auto j = parse_json(ex.body);
        ASSERT_TRUE(j.has_value()) << ex.body;
        ASSERT_TRUE((*j)["chosen"].is_object()) << ex.body;
        std::string explained = (*j)["chosen"]["model"];
        ASSERT_TRUE((*j)["candidates"].is_array());
        EXPECT_EQ((*j)["candidates"].size(), 3u);
        auto r = http_post(gw.port(), kChat, body);
        ASSERT_EQ(r.status, 200u) << r.describe();
        EXPECT_EQ(r.header("x-baton-model"), explained) << prompt;
    }
    // explain makes no upstream call: only the two chat requests were logged as routed
    auto routed = [&] {
        auto out = gw.stdout_text();
        size_t n = 0;
        for (size_t p = out.find("\"model_used\""); p != std::string::npos;
             p = out.find("\"model_used\"", p + 1)) {
            ++n;
        }
        return n;
    };
    EXPECT_TRUE(wait_until([&] { return routed() >= 2; }, Millis(2000)));
    EXPECT_EQ(routed(), 2u);
}

TEST(RoutingTest, SlowModelLosesTrafficAfterWarmUp) {
    // Two equal models by price, quality and hint; "slow" answers in 150 ms, "fast" at once.
    // Candidate order makes "slow" win at first; the live TTFT average then moves traffic.
    std::string yaml = R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: off}
providers:
  - {name: p-slow, kind: mock, mock: {latency: 150ms, tokens: 2}}
  - {name: p-fast, kind: mock, mock: {latency: 0ms, tokens: 2}}
models:
  - {name: slow, provider: p-slow, price: {input: 1, output: 1}, quality: 0.5, latency_hint: {ttft: 50ms, tokens_per_s: 100}}
  - {name: fast, provider: p-fast, price: {input: 1, output: 1}, quality: 0.5, latency_hint: {ttft: 50ms, tokens_per_s: 100}}
routes:
  - {name: quick, candidates: [slow, fast], objective: {cost: 0, latency: 1, quality: 0}}
)";
    GatewayProcess gw(yaml);
    ASSERT_TRUE(gw.start());
    std::map<std::string, int> counts;
    std::vector<std::string> order;
    for (int i = 0; i < 12; ++i) {
        auto r = http_post(gw.port(), kChat, chat_body("quick", "hi"));
        ASSERT_EQ(r.status, 200u) << r.describe();
        order.push_back(r.header("x-baton-model"));
        counts[order.back()]++;
    }
    EXPECT_EQ(order.front(), "slow");
    EXPECT_EQ(order.back(), "fast");
    // once it has learned, every later request avoids the slow model
    EXPECT_EQ(order[order.size() - 2], "fast");
    EXPECT_GT(counts["fast"], counts["slow"]);
}

TEST(RoutingTest, StreamUsageIsRequestedUpstreamAndStrippedForTheClient) {
    FakeUpstream up;
    std::string usage_chunk =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"x\","
        "\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":"
        "18}}\n\n";
    std::vector<SseChunk> chunks = sse_chunks({"Hello", " world"}, Millis(0));
    chunks.insert(chunks.end() - 1, SseChunk{usage_chunk, Millis(0)});
    up.enqueue(Reply::sse(chunks));
    up.enqueue(Reply::sse(chunks));
    std::string yaml = R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: stdout}
providers:
  - {name: up, kind: openai, base_url: )" +
                       up.base_url() + R"(}
models:
  - {name: m1, provider: up, upstream_model: real-1, price: {input: 1000000, output: 1000000}}
)";
    GatewayProcess gw(yaml);
    ASSERT_TRUE(gw.start());
    // The client did not ask for usage: Baton asks, reads it, and strips the chunk.
    auto r = http_stream(gw.port(), kChat, chat_body("m1", "hi", true));
    ASSERT_EQ(r.status, 200u) << r.describe();
    ASSERT_TRUE(up.wait_for_requests(1, Millis(2000)));
    EXPECT_THAT(up.exchange(0).request.body,
                HasSubstr("\"stream_options\":{\"include_usage\":true}"));
    auto sent = parse_json(up.exchange(0).request.body);
    ASSERT_TRUE(sent.has_value()) << up.exchange(0).request.body;
    EXPECT_EQ((*sent)["model"], "real-1");
    EXPECT_THAT(r.body, Not(HasSubstr("\"usage\":{")));
    EXPECT_THAT(r.body, HasSubstr("Hello"));
    EXPECT_THAT(r.body, HasSubstr("data: [DONE]\n\n"));
    ASSERT_TRUE(gw.wait_for_stdout("\"completion_tokens\":7", Millis(2000))) << gw.stdout_text();
    // cost = (11 + 7) tokens x $1 per token
    EXPECT_THAT(gw.stdout_text(), HasSubstr("\"cost_usd\":18"));

    // A client that asked for usage gets the chunk untouched, and the body is not modified.
    std::string asked =
        R"({"model":"m1","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})";
    auto r2 = http_stream(gw.port(), kChat, asked);
    ASSERT_EQ(r2.status, 200u) << r2.describe();
    ASSERT_TRUE(up.wait_for_requests(2, Millis(2000)));
    EXPECT_THAT(r2.body, HasSubstr("\"usage\":{\"prompt_tokens\":11"));
    std::string expected = asked;
    expected.replace(expected.find("\"m1\""), 4, "\"real-1\"");
    EXPECT_EQ(up.exchange(1).request.body, expected);

    auto metrics = http_get(gw.port(), "/metrics");
    EXPECT_THAT(metrics.body, HasSubstr("baton_cost_usd_total{model=\"m1\",route=\"m1\"} 36"));
    EXPECT_THAT(metrics.body, HasSubstr("baton_tokens_total{model=\"m1\",kind=\"completion\"} 14"));
    EXPECT_THAT(metrics.body, HasSubstr("baton_routing_decisions_total{route=\"m1\",model=\"m1\""));
}

}  // namespace
}  // namespace baton::test
