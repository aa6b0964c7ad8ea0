// The mock provider's named faults behind the real binary, one test per fault: what the client
// sees, how many attempts the faulty model got (the attempts metric is the mock's call count),
// the headers, the metrics and the access log. Plus the per-route resilience settings (retries,
// timeout, hold-back window) the faults make easy to show.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kChat = "/v1/chat/completions";

// Mock provider "chaos" (model cm, cheaper) with every fault, selectable by header; mock
// provider "steady" (model sm). Route auto = [cm, sm] by cost; route held = the same with a
// hold-back window and no retries; route quick = cm only with a 300 ms deadline.
std::string chaos_config(const std::string& extra_models = "") {
    return R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: stdout}
providers:
  - name: chaos
    kind: mock
    timeouts: {first_byte: 300ms, idle: 300ms, total: 10s}
    resilience: {backoff_base: 10ms, backoff_cap: 20ms}
    mock:
      tokens: 6
      fault_header: true
      faults:
        flaky: {status: [500, 500, 200]}
        down: {status: [503]}
        throttled: {status: [429, 200], retry_after: 1s}
        hang: {stall_before_headers: 5s}
        stall: {stall_after_chunks: 3, stall_for: 5s}
        cut: {cut_after_chunks: 3}
        garbage: {malformed_after_chunks: 2}
        garbage_early: {malformed_after_chunks: 0}
        slow: {trickle: {bytes: 7, interval: 5ms}}
        too_slow: {trickle: {bytes: 7, interval: 1s}}
        html: {content_type: text/html}
        error200: {error_body: true}
  - name: steady
    kind: mock
    mock: {tokens: 4}
  - name: strict
    kind: mock
    mock:
      faults:
        flaky: {status: [500, 500, 200]}
models:
  - {name: cm, provider: chaos, price: {input: 0.1, output: 0.1}}
  - {name: sm, provider: steady, price: {input: 1, output: 1}}
  - {name: strict-m, provider: strict}
)" + extra_models +
           R"(routes:
  - {name: auto, candidates: [cm, sm], objective: {cost: 1}}
  - name: held
    candidates: [cm, sm]
    objective: {cost: 1}
    resilience: {max_retries: 0, hold_back: {bytes: 100000, time: 5s}}
  - name: quick
    candidates: [cm]
    resilience: {timeout: 300ms}
)";
}

Headers fault(const std::string& name) { return {{"x-baton-mock-fault", name}}; }

std::string metrics(GatewayProcess& gw) { return http_get(gw.port(), "/metrics").body; }

std::string attempts_metric(const std::string& provider, const std::string& model,
                            const std::string& outcome) {
    return "baton_upstream_attempts_total{provider=\"" + provider + "\",model=\"" + model +
           "\",outcome=\"" + outcome + "\"} ";
}

// The content of a chat completion stream's chunks, and whether each event is JSON or [DONE].
struct StreamView {
    std::string text;
    size_t content_chunks = 0;
    bool all_json = true;
    bool ends_with_done = false;
    std::optional<json> error;  // an {"error":...} event
};

StreamView view(const std::string& body) {
    StreamView v;
    auto events = sse_data(body);
    v.ends_with_done = !events.empty() && events.back() == "[DONE]";
    for (const auto& e : events) {
        if (e == "[DONE]") continue;
        auto j = parse_json(e);
        if (!j) {
            v.all_json = false;
            continue;
        }
        if (j->contains("error")) {
            v.error = (*j)["error"];
            continue;
        }
        if (!(*j)["choices"].empty()) {
            const auto& d = (*j)["choices"][0]["delta"];
            if (d.contains("content") && d["content"].is_string() &&
                !d["content"].get<std::string>().empty()) {
                ++v.content_chunks;
                v.text += d["content"].get<std::string>();
            }
        }
    }
    return v;
}

class MockFaultsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        gw_ = make_gateway_yaml(chaos_config());
        ASSERT_TRUE(gw_->start());
    }
    static std::unique_ptr<GatewayProcess> make_gateway_yaml(const std::string& yaml) {
        return std::make_unique<GatewayProcess>(yaml);
    }
    std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(MockFaultsTest, StatusSequenceIsRetriedUntilItSucceeds) {
    auto r = http_post(gw_->port(), kChat, chat_body("auto", "hi"), fault("flaky"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-attempts"), "3");
    EXPECT_EQ(r.header("x-baton-model"), "cm");
    EXPECT_FALSE(r.has_header("x-baton-fallback-from"));
    auto j = parse_json(r.body);
    ASSERT_TRUE(j && (*j)["object"] == "chat.completion") << r.body;
    auto m = metrics(*gw_);
    EXPECT_THAT(m, HasSubstr(attempts_metric("chaos", "cm", "server_error") + "2"));
    EXPECT_THAT(m, HasSubstr(attempts_metric("chaos", "cm", "ok") + "1"));
    EXPECT_THAT(m, HasSubstr("baton_retry_decisions_total{decision=\"retry\"} 2"));
    EXPECT_THAT(m, Not(HasSubstr("provider=\"steady\",model=\"sm\"")));
}

TEST_F(MockFaultsTest, PersistentServerErrorsFallBackToTheNextCandidate) {
    auto r = http_post(gw_->port(), kChat, chat_body("auto", "hi"), fault("down"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-attempts"), "4");  // 1 + 2 retries on cm, then sm
    EXPECT_EQ(r.header("x-baton-model"), "sm");
    EXPECT_EQ(r.header("x-baton-fallback-from"), "cm");
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "server_error") + "3"));
}

TEST_F(MockFaultsTest, RateLimitWithRetryAfterWaitsAsTold) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = http_post(gw_->port(), kChat, chat_body("auto", "hi"), fault("throttled"));
    auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-attempts"), "2");
    EXPECT_EQ(r.header("x-baton-model"), "cm");
    EXPECT_GE(took, std::chrono::milliseconds(950));  // Retry-After: 1, not the 10 ms backoff
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "rate_limited") + "1"));
}

TEST_F(MockFaultsTest, StallBeforeHeadersTimesOutAndFallsBack) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = http_post(gw_->port(), kChat, chat_body("auto", "hi"), fault("hang"));
    auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "sm");
    EXPECT_EQ(r.header("x-baton-fallback-from"), "cm");
    EXPECT_EQ(r.header("x-baton-attempts"), "2");  // a silent target is not retried
    EXPECT_LT(took, std::chrono::milliseconds(2000));
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "timeout_headers") + "1"));
}

TEST_F(MockFaultsTest, StallMidStreamEndsWithAnErrorEventAfterTheIdleTimeout) {
    auto r = http_stream(gw_->port(), kChat, chat_body("auto", "hi", true), fault("stall"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto v = view(r.body);
    EXPECT_TRUE(v.all_json) << r.body;
    EXPECT_TRUE(v.ends_with_done) << r.body;
    ASSERT_TRUE(v.error.has_value()) << r.body;
    EXPECT_THAT((*v.error)["message"].get<std::string>(), HasSubstr("idle timeout"));
    EXPECT_EQ(v.content_chunks, 2u) << r.body;  // chunk 0 is the role, then 2 words
    EXPECT_TRUE(gw_->wait_for_stdout("\"error\":\"stream_idle_timeout\"", Millis(2000)))
        << gw_->stdout_text();
    auto m = metrics(*gw_);
    EXPECT_THAT(m, HasSubstr(attempts_metric("chaos", "cm", "timeout_idle") + "1"));
    EXPECT_THAT(m, HasSubstr("baton_stream_cuts_total 1"));
    EXPECT_THAT(
        m,
        Not(HasSubstr("provider=\"steady\",model=\"sm\"")));  // after the first byte: no fallback
}

TEST_F(MockFaultsTest, CutMidStreamIsNeverPassedOffAsACleanEnd) {
    auto r = http_stream(gw_->port(), kChat, chat_body("auto", "hi", true), fault("cut"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto v = view(r.body);
    EXPECT_TRUE(v.ends_with_done) << r.body;
    ASSERT_TRUE(v.error.has_value()) << r.body;
    EXPECT_EQ(v.content_chunks, 2u) << r.body;
    EXPECT_TRUE(gw_->wait_for_stdout("\"stream_cut\":true", Millis(2000))) << gw_->stdout_text();
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "stream_cut") + "1"));
}

TEST_F(MockFaultsTest, CutPlainResponseIsRetriedThenFallsBack) {
    auto r = http_post(gw_->port(), kChat, chat_body("auto", "hi"), fault("cut"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "sm");
    EXPECT_EQ(r.header("x-baton-attempts"), "4");
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "stream_cut") + "3"));
}

TEST_F(MockFaultsTest, MalformedEventMidStreamIsWithheldAndReported) {
    auto r = http_stream(gw_->port(), kChat, chat_body("auto", "hi", true), fault("garbage"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto v = view(r.body);
    EXPECT_TRUE(v.all_json) << r.body;  // the broken event never reaches the client
    EXPECT_THAT(r.body, Not(HasSubstr("chatcmpl-broken")));
    EXPECT_TRUE(v.ends_with_done) << r.body;
    ASSERT_TRUE(v.error.has_value()) << r.body;
    EXPECT_THAT((*v.error)["message"].get<std::string>(), HasSubstr("malformed"));
    EXPECT_EQ(v.content_chunks, 1u) << r.body;
    EXPECT_TRUE(gw_->wait_for_stdout("\"error\":\"stream_malformed\"", Millis(2000)))
        << gw_->stdout_text();
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "malformed") + "1"));
}

TEST_F(MockFaultsTest, MalformedFirstEventFallsBackInvisibly) {
    auto r = http_stream(gw_->port(), kChat, chat_body("auto", "hi", true), fault("garbage_early"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "sm");
    EXPECT_EQ(r.header("x-baton-attempts"), "2");
    auto v = view(r.body);
    EXPECT_TRUE(v.all_json && v.ends_with_done) << r.body;
    EXPECT_FALSE(v.error.has_value()) << r.body;
    EXPECT_EQ(v.content_chunks, 4u) << r.body;  // sm's 4 tokens
}

TEST_F(MockFaultsTest, SlowTrickleIsRelayedIntactWithinTheIdleTimeout) {
    auto s = http_stream(gw_->port(), kChat, chat_body("auto", "hi", true), fault("slow"));
    ASSERT_EQ(s.status, 200u) << s.describe();
    auto v = view(s.body);
    EXPECT_TRUE(v.all_json && v.ends_with_done) << s.body;
    EXPECT_FALSE(v.error.has_value()) << s.body;
    EXPECT_EQ(v.content_chunks, 6u) << s.body;
    auto p = http_post(gw_->port(), kChat, chat_body("auto", "hi"), fault("slow"));
    ASSERT_EQ(p.status, 200u) << p.describe();
    EXPECT_EQ(p.header("x-baton-model"), "cm");
    auto j = parse_json(p.body);
    ASSERT_TRUE(j.has_value()) << p.body;
    EXPECT_EQ((*j)["usage"]["completion_tokens"], 6);
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "ok") + "2"));
}

TEST_F(MockFaultsTest, TrickleSlowerThanTheIdleTimeoutFallsBack) {
    auto r = http_post(gw_->port(), kChat, chat_body("auto", "hi"), fault("too_slow"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "sm");
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "timeout_idle") + "1"));
}

TEST_F(MockFaultsTest, WrongContentTypeIsMalformedAndFallsBack) {
    auto r = http_post(gw_->port(), kChat, chat_body("auto", "hi"), fault("html"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "sm");
    EXPECT_THAT(r.header("content-type"), HasSubstr("application/json"));
    auto s = http_stream(gw_->port(), kChat, chat_body("auto", "hi", true), fault("html"));
    ASSERT_EQ(s.status, 200u) << s.describe();
    EXPECT_EQ(s.header("x-baton-model"), "sm");
    EXPECT_THAT(s.body, Not(HasSubstr("<html>")));
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "malformed") + "2"));
}

TEST_F(MockFaultsTest, ErrorBodyWithStatus200IsMalformedAndFallsBack) {
    auto r = http_post(gw_->port(), kChat, chat_body("auto", "hi"), fault("error200"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "sm");
    EXPECT_EQ(r.header("x-baton-attempts"), "2");
    auto j = parse_json(r.body);
    ASSERT_TRUE(j.has_value()) << r.body;
    EXPECT_FALSE(j->contains("error")) << r.body;
    EXPECT_THAT(metrics(*gw_), HasSubstr(attempts_metric("chaos", "cm", "malformed") + "1"));
}

TEST_F(MockFaultsTest, UnknownFaultNameIsAClientError) {
    auto r = http_post(gw_->port(), kChat, chat_body("cm", "hi"), fault("nope"));
    json err;
    ASSERT_TRUE(is_openai_error(r, 400, &err)) << r.describe();
    EXPECT_EQ(err["param"], "x-baton-mock-fault");
    EXPECT_THAT(err["message"].get<std::string>(), HasSubstr("flaky"));  // lists the defined ones
}

TEST_F(MockFaultsTest, TheFaultHeaderIsIgnoredUnlessTheProviderEnablesIt) {
    auto r = http_post(gw_->port(), kChat, chat_body("strict-m", "hi"), fault("flaky"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-attempts"), "1");
}

TEST_F(MockFaultsTest, HoldBackWindowKeepsAnEarlyStreamFailureInvisible) {
    // route held: the first 100 kB / 5 s are held back, so the cut after 3 chunks happens
    // before the client saw anything; with max_retries 0 it falls back at once
    auto r = http_stream(gw_->port(), kChat, chat_body("held", "hi", true), fault("cut"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "sm");
    EXPECT_EQ(r.header("x-baton-fallback-from"), "cm");
    EXPECT_EQ(r.header("x-baton-attempts"), "2");
    auto v = view(r.body);
    EXPECT_TRUE(v.all_json && v.ends_with_done) << r.body;
    EXPECT_FALSE(v.error.has_value()) << r.body;
    EXPECT_EQ(v.content_chunks, 4u) << r.body;
    // and a healthy stream shorter than the window is delivered whole at its end
    auto ok = http_stream(gw_->port(), kChat, chat_body("held", "hi", true));
    ASSERT_EQ(ok.status, 200u) << ok.describe();
    EXPECT_EQ(ok.header("x-baton-model"), "cm");
    auto w = view(ok.body);
    EXPECT_TRUE(w.all_json && w.ends_with_done && !w.error) << ok.body;
    EXPECT_EQ(w.content_chunks, 6u) << ok.body;
}

TEST_F(MockFaultsTest, RouteRetrySettingsOverrideTheProviders) {
    // the provider allows 2 retries, route held allows none: flaky falls back at once
    auto r = http_post(gw_->port(), kChat, chat_body("held", "hi"), fault("flaky"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "sm");
    EXPECT_EQ(r.header("x-baton-attempts"), "2");
}

TEST_F(MockFaultsTest, RouteTimeoutBoundsTheWholeRequest) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = http_post(gw_->port(), kChat, chat_body("quick", "hi"), fault("too_slow"));
    auto took = std::chrono::steady_clock::now() - t0;
    json err;
    ASSERT_TRUE(is_openai_error(r, 504, &err)) << r.describe();
    EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST(MockFaultsConfigTest, AModelCanCarryAFaultFromTheConfig) {
    GatewayProcess gw(chaos_config("  - {name: flaky-m, provider: chaos, mock_fault: flaky}\n"));
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("flaky-m", "hi"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-attempts"), "3");
}

TEST(MockFaultsConfigTest, AnUnknownFaultOrANonMockProviderIsAConfigError) {
    TempDir dir;
    auto path =
        dir.write("bad.yaml", chaos_config(R"(  - {name: x, provider: chaos, mock_fault: flakey}
  - {name: y, provider: up, mock_fault: flaky}
)") + "  # an openai provider for model y\n");
    // (provider "up" is added below the routes so the line numbers above stay put)
    std::string text = read_file_text(path);
    text.replace(text.find("models:"), 7,
                 "  - {name: up, kind: openai, base_url: \"http://127.0.0.1:9/v1\", api_key: "
                 "env:TEST_KEY}\nmodels:");
    write_file_text(path, text);
    auto res = run_baton({"--check", path});
    EXPECT_EQ(res.exit_code, 1) << res.out << res.err;
    const std::string all = res.out + res.err;
    EXPECT_THAT(all, HasSubstr("models[3].mock_fault: unknown mock fault \"flakey\" (did you "
                               "mean \"flaky\"?)"));
    EXPECT_THAT(all, HasSubstr("models[4].mock_fault: mock_fault needs a provider of kind mock"));
}

}  // namespace
}  // namespace baton::test
