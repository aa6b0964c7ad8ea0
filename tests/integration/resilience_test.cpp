// Failure handling behind the real binary: retries (status sequences, 429 + Retry-After),
// fallback along the plan (refused, silent, context length), errors that must not be retried,
// streams cut after the first byte, and circuit breaking with a probe back after recovery.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_upstream.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

constexpr const char* kChat = "/v1/chat/completions";

// Two OpenAI-kind providers; route "auto" prefers a (cheaper) over b.
std::string two_upstreams(const std::string& a_url, const std::string& b_url,
                          const std::string& a_extra = "", const std::string& b_extra = "") {
    return R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: stdout}
providers:
  - {name: pa, kind: openai, base_url: )" +
           a_url +
           R"(, timeouts: {connect: 1s, first_byte: 1s, idle: 1s, total: 10s}, resilience: {backoff_base: 10ms, backoff_cap: 50ms)" +
           a_extra + R"(}}
  - {name: pb, kind: openai, base_url: )" +
           b_url +
           R"(, timeouts: {connect: 1s, first_byte: 1s, idle: 1s, total: 10s}, resilience: {backoff_base: 10ms, backoff_cap: 50ms)" +
           b_extra + R"(}}
models:
  - {name: ma, provider: pa, upstream_model: real-a, context_window: 200000, price: {input: 0.1, output: 0.1}}
  - {name: mb, provider: pb, upstream_model: real-b, context_window: 200000, price: {input: 1, output: 1}}
routes:
  - {name: auto, candidates: [ma, mb], objective: {cost: 1}}
)";
}

std::string error_json(const std::string& code, const std::string& msg) {
    return R"({"error":{"message":")" + msg +
           R"(","type":"invalid_request_error","param":null,"code":")" + code + R"("}})";
}

TEST(ResilienceTest, RetriesAStatusSequenceUntilSuccess) {
    FakeUpstream a, b;
    a.enqueue(Reply::json(500, error_json("server_error", "boom")));
    a.enqueue(Reply::json(502, error_json("server_error", "boom")));
    a.enqueue(Reply::json(200, chat_completion_body("real-a")));
    GatewayProcess gw(two_upstreams(a.base_url(), b.base_url()));
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-attempts"), "3");
    EXPECT_EQ(r.header("x-baton-model"), "ma");
    EXPECT_FALSE(r.has_header("x-baton-fallback-from"));
    EXPECT_EQ(a.request_count(), 3u);
    EXPECT_EQ(b.request_count(), 0u);
    auto m = http_get(gw.port(), "/metrics");
    EXPECT_THAT(m.body, HasSubstr("baton_upstream_attempts_total{provider=\"pa\",model=\"ma\","
                                  "outcome=\"server_error\"} 2"));
    EXPECT_THAT(m.body, HasSubstr("baton_retry_decisions_total{decision=\"retry\"} 2"));
}

TEST(ResilienceTest, HonoursRetryAfterOn429) {
    FakeUpstream a, b;
    Reply limited = Reply::json(429, error_json("rate_limit_exceeded", "slow down"));
    limited.headers.push_back({"Retry-After", "1"});
    a.enqueue(limited);
    a.enqueue(Reply::json(200, chat_completion_body("real-a")));
    GatewayProcess gw(two_upstreams(a.base_url(), b.base_url()));
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-attempts"), "2");
    ASSERT_TRUE(a.wait_for_requests(2, Millis(100)));
    auto gap =
        seconds_between(a.exchange(0).request.received_at, a.exchange(1).request.received_at);
    EXPECT_GE(gap, 0.95);
    EXPECT_LT(gap, 3.0);
}

TEST(ResilienceTest, FallsBackWhenTheFirstProviderRefuses) {
    FakeUpstream b;
    std::string dead = "http://127.0.0.1:" + std::to_string(unused_port()) + "/v1";
    GatewayProcess gw(two_upstreams(dead, b.base_url(), ", max_retries: 0"));
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "mb");
    EXPECT_EQ(r.header("x-baton-fallback-from"), "ma");
    EXPECT_EQ(r.header("x-baton-attempts"), "2");
    ASSERT_EQ(b.request_count(), 1u);
    auto sent = parse_json(b.exchange(0).request.body);
    ASSERT_TRUE(sent.has_value());
    EXPECT_EQ((*sent)["model"], "real-b");  // the fallback gets its own upstream model name
}

TEST(ResilienceTest, FallsBackWhenTheFirstProviderIsSilent) {
    FakeUpstream a, b;
    a.set_handler([](const RecordedRequest&) { return Reply::hang_forever(); });
    GatewayProcess gw(two_upstreams(a.base_url(), b.base_url()));
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"), {}, Millis(8000));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "mb");
    EXPECT_GE(r.seconds(), 0.9);  // the first_byte timeout (1 s) elapsed first
    EXPECT_LT(r.seconds(), 4.0);
}

TEST(ResilienceTest, ContextLengthErrorFallsBackButAClientErrorIsReturned) {
    FakeUpstream a, b;
    a.enqueue(Reply::json(400, error_json("context_length_exceeded",
                                          "This model's maximum context length is 8192 tokens")));
    GatewayProcess gw(two_upstreams(a.base_url(), b.base_url()));
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "mb");
    EXPECT_EQ(a.request_count(), 1u);

    // A plain 400 means the request is wrong: returned as it is, not retried, no fallback.
    a.enqueue(Reply::json(400, error_json("invalid_value", "bad temperature")));
    auto r2 = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    EXPECT_EQ(r2.status, 400u) << r2.describe();
    EXPECT_THAT(r2.body, HasSubstr("bad temperature"));
    EXPECT_EQ(a.request_count(), 2u);
    EXPECT_EQ(b.request_count(), 1u);
}

TEST(ResilienceTest, AllCandidatesFailingReturnsTheLastUpstreamError) {
    FakeUpstream a, b;
    a.set_handler([](const RecordedRequest&) {
        return Reply::json(503, error_json("overloaded", "a down"));
    });
    b.set_handler([](const RecordedRequest&) {
        return Reply::json(503, error_json("overloaded", "b down"));
    });
    GatewayProcess gw(
        two_upstreams(a.base_url(), b.base_url(), ", max_retries: 1", ", max_retries: 1"));
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    EXPECT_EQ(r.status, 503u) << r.describe();
    EXPECT_THAT(r.body, HasSubstr("b down"));
    EXPECT_EQ(r.header("x-baton-attempts"), "4");
    EXPECT_EQ(a.request_count(), 2u);
    EXPECT_EQ(b.request_count(), 2u);
}

TEST(ResilienceTest, StreamCutBeforeFirstByteFallsBackInvisibly) {
    FakeUpstream a, b;
    Reply cut = Reply::sse({});
    cut.abort_after_chunks = true;  // head, then the connection drops with no event
    a.enqueue(cut);
    b.enqueue(Reply::sse(sse_chunks({"Hi", " there"}, Millis(0))));
    GatewayProcess gw(two_upstreams(a.base_url(), b.base_url(), ", max_retries: 0"));
    ASSERT_TRUE(gw.start());
    auto r = http_stream(gw.port(), kChat, chat_body("auto", "hi", true));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "mb");
    EXPECT_THAT(r.body, HasSubstr("there"));
    EXPECT_THAT(r.body, EndsWith("data: [DONE]\n\n"));
}

TEST(ResilienceTest, StreamCutAfterFirstByteEndsWithAnErrorEventNotACleanEnd) {
    FakeUpstream a, b;
    auto chunks = sse_chunks({"Hello", " world"}, Millis(0));
    chunks.pop_back();  // no [DONE]
    Reply cut = Reply::sse(chunks);
    cut.abort_after_chunks = true;
    a.enqueue(cut);
    GatewayProcess gw(two_upstreams(a.base_url(), b.base_url()));
    ASSERT_TRUE(gw.start());
    auto r = http_stream(gw.port(), kChat, chat_body("auto", "hi", true));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_THAT(r.body, HasSubstr("Hello"));
    auto events = sse_data(r.body);
    ASSERT_GE(events.size(), 2u) << r.body;
    EXPECT_EQ(events.back(), "[DONE]");
    auto err = parse_json(events[events.size() - 2]);
    ASSERT_TRUE(err.has_value()) << r.body;
    EXPECT_TRUE((*err)["error"]["message"].is_string());
    EXPECT_EQ(b.request_count(), 0u);  // after the first byte there is no fallback
    EXPECT_TRUE(gw.wait_for_stdout("\"stream_cut\":true", Millis(2000))) << gw.stdout_text();
}

TEST(ResilienceTest, BreakerStopsTrafficToAFailingProviderAndProbesItBack) {
    FakeUpstream a, b;
    std::atomic<bool> a_healthy{false};
    a.set_handler([&](const RecordedRequest&) {
        return a_healthy ? Reply::json(200, chat_completion_body("real-a"))
                         : Reply::json(500, error_json("server_error", "down"));
    });
    GatewayProcess gw(
        two_upstreams(a.base_url(), b.base_url(),
                      ", max_retries: 0, breaker: {consecutive_failures: 3, cool_down: 1s}"));
    ASSERT_TRUE(gw.start());
    for (int i = 0; i < 10; ++i) {
        auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
        ASSERT_EQ(r.status, 200u) << r.describe();
        EXPECT_EQ(r.header("x-baton-model"), "mb");
    }
    EXPECT_EQ(a.request_count(), 3u);  // opened after 3 failures; skipped afterwards
    auto h = http_get(gw.port(), "/admin/health");
    EXPECT_THAT(h.body, HasSubstr("\"circuit\": \"open\""));
    auto m = http_get(gw.port(), "/metrics");
    EXPECT_THAT(m.body, HasSubstr("baton_circuit_state{model=\"ma\",provider=\"pa\"} 1"));

    a_healthy = true;
    ASSERT_TRUE(wait_until(
        [&] {
            auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
            return r.header("x-baton-model") == "ma";
        },
        Millis(4000), Millis(100)));
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    EXPECT_EQ(r.header("x-baton-model"), "ma");  // closed again after the successful probe
}

TEST(ResilienceTest, ClientDeadlineHeaderShortensTheWait) {
    FakeUpstream a, b;
    a.set_handler([](const RecordedRequest&) { return Reply::hang_forever(); });
    b.set_handler([](const RecordedRequest&) { return Reply::hang_forever(); });
    GatewayProcess gw(two_upstreams(a.base_url(), b.base_url()));
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"), {{"x-baton-timeout-ms", "300"}});
    EXPECT_EQ(r.status, 504u) << r.describe();
    EXPECT_LT(r.seconds(), 1.0);
    auto bad =
        http_post(gw.port(), kChat, chat_body("auto", "hi"), {{"x-baton-timeout-ms", "soon"}});
    EXPECT_TRUE(is_openai_error(bad, 400)) << bad.describe();
}

}  // namespace
}  // namespace baton::test

namespace baton::test {
namespace {

TEST(ResilienceEdgeTest, StreamEndingWithoutDoneIsReportedNotPassedOffAsClean) {
    FakeUpstream a, b;
    auto chunks = sse_chunks({"Hello", " world"}, Millis(0));
    chunks.pop_back();  // a clean chunked end, but no [DONE]
    a.enqueue(Reply::sse(chunks));
    GatewayProcess gw(two_upstreams(a.base_url(), b.base_url()));
    ASSERT_TRUE(gw.start());
    auto r = http_stream(gw.port(), kChat, chat_body("auto", "hi", true));
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto events = sse_data(r.body);
    ASSERT_GE(events.size(), 3u) << r.body;
    EXPECT_EQ(events.back(), "[DONE]");
    auto err = parse_json(events[events.size() - 2]);
    ASSERT_TRUE(err.has_value()) << r.body;
    EXPECT_THAT((*err)["error"]["message"].get<std::string>(), HasSubstr("terminator"));
    EXPECT_TRUE(gw.wait_for_stdout("\"stream_cut\":true", Millis(2000))) << gw.stdout_text();
}

TEST(ResilienceEdgeTest, SingleModelWithOpenBreakerAnswers503AndKeepsServing) {
    FakeUpstream a;
    a.set_handler([](const RecordedRequest&) {
        return Reply::json(500, R"({"error":{"message":"down","type":"server_error"}})");
    });
    std::string yaml =
        R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: off}
providers:
  - {name: pa, kind: openai, base_url: )" +
        a.base_url() +
        R"(, resilience: {max_retries: 0, breaker: {consecutive_failures: 2, cool_down: 30s}}}
  - {name: demo, kind: mock}
models:
  - {name: ma, provider: pa}
  - {name: demo-small, provider: demo}
)";
    GatewayProcess gw(yaml);
    ASSERT_TRUE(gw.start());
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(http_post(gw.port(), kChat, chat_body("ma", "hi")).status, 500u);
    }
    for (int i = 0; i < 3; ++i) {  // breaker open: nothing to try
        auto r = http_post(gw.port(), kChat, chat_body("ma", "hi"));
        json err;
        EXPECT_TRUE(is_openai_error(r, 503, &err)) << r.describe();
        EXPECT_THAT(err["message"].get<std::string>(), HasSubstr("circuit open"));
    }
    EXPECT_EQ(a.request_count(), 2u);
    EXPECT_TRUE(gw.running());
    EXPECT_EQ(http_post(gw.port(), kChat, chat_body("demo-small", "hi")).status, 200u);
}

}  // namespace
}  // namespace baton::test

namespace baton::test {
namespace {

TEST(ResilienceEdgeTest, A200WithAnErrorBodyOrWrongContentTypeFallsBack) {
    FakeUpstream a, b;
    a.enqueue(
        Reply::json(200, R"({"error":{"message":"Network connection lost.","type":"api_error"}})"));
    Reply html = Reply::json(200, "<html><body>Bad gateway</body></html>");
    html.headers.push_back({"Content-Type", "text/html"});
    a.enqueue(html);
    GatewayProcess gw(two_upstreams(a.base_url(), b.base_url(), ", max_retries: 0"));
    ASSERT_TRUE(gw.start());
    for (int i = 0; i < 2; ++i) {
        auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
        ASSERT_EQ(r.status, 200u) << r.describe();
        EXPECT_EQ(r.header("x-baton-model"), "mb") << i;
        EXPECT_EQ(r.header("x-baton-fallback-from"), "ma");
        auto j = parse_json(r.body);
        ASSERT_TRUE(j.has_value());
        EXPECT_EQ((*j)["object"], "chat.completion");
    }
    auto m = http_get(gw.port(), "/metrics");
    EXPECT_THAT(m.body, HasSubstr("outcome=\"malformed\"} 2"));
}

}  // namespace
}  // namespace baton::test
