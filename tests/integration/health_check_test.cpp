// Active provider health checks behind the real binary: a provider whose health endpoint fails
// is skipped (its models fall back without being tried) until the endpoint recovers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "support/fake_upstream.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"
#include "support/wait.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kChat = "/v1/chat/completions";

std::string config(const std::string& a_url, const std::string& b_url) {
    return R"(server: {listen: 127.0.0.1:0, threads: 2}
logging: {level: info, access_log: stdout}
providers:
  - name: pa
    kind: openai
    base_url: )" +
           a_url + R"(
    api_key: env:TEST_KEY
    health_check: {path: /models, interval: 100ms, timeout: 500ms, unhealthy_after: 2, healthy_after: 2}
  - {name: pb, kind: openai, base_url: )" +
           b_url + R"(, api_key: env:TEST_KEY}
models:
  - {name: ma, provider: pa, upstream_model: real-a, price: {input: 0.1, output: 0.1}}
  - {name: mb, provider: pb, upstream_model: real-b, price: {input: 1, output: 1}}
routes:
  - {name: auto, candidates: [ma, mb], objective: {cost: 1}}
)";
}

// pa's /admin/health entry.
std::optional<json> provider_a(GatewayProcess& gw) {
    auto r = http_get(gw.port(), "/admin/health");
    auto j = parse_json(r.body);
    if (!j) return std::nullopt;
    for (const auto& p : (*j)["providers"]) {
        if (p["provider"] == "pa") return p;
    }
    return std::nullopt;
}

TEST(HealthCheckTest, AFailingProviderIsSkippedUntilItRecovers) {
    FakeUpstream a, b;
    std::atomic<bool> a_healthy{false};
    a.set_handler([&](const RecordedRequest& req) {
        if (req.method == "GET") {
            return a_healthy ? Reply::json(200, R"({"object":"list","data":[]})")
                             : Reply::json(503, R"({"error":{"message":"down"}})");
        }
        return Reply::json(200, chat_completion_body("real-a"));
    });
    GatewayProcess gw(config(a.base_url(), b.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());

    ASSERT_TRUE(wait_until(
        [&] {
            auto p = provider_a(gw);
            return p && (*p)["healthy"] == false;
        },
        Millis(5000)))
        << http_get(gw.port(), "/admin/health").body;
    auto p = provider_a(gw);
    EXPECT_EQ((*p)["health_check"], true);
    EXPECT_THAT((*p)["last_error"].get<std::string>(), HasSubstr("503"));

    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "mb");
    EXPECT_EQ(r.header("x-baton-fallback-from"), "ma");
    EXPECT_EQ(r.header("x-baton-attempts"), "1");  // ma was skipped, not tried
    size_t chat_posts_to_a = 0;
    for (const auto& e : a.exchanges()) {
        if (e.request.method == "POST") ++chat_posts_to_a;
        // the check carries the provider's credentials and goes to base_url + path
        if (e.request.method == "GET") {
            EXPECT_EQ(e.request.target, "/v1/models");
            EXPECT_EQ(e.request.header("authorization"), std::string("Bearer ") + kTestApiKey);
        }
    }
    EXPECT_EQ(chat_posts_to_a, 0u);
    EXPECT_THAT(http_get(gw.port(), "/metrics").body,
                HasSubstr("baton_provider_healthy{provider=\"pa\"} 0"));

    a_healthy = true;
    ASSERT_TRUE(wait_until(
        [&] {
            auto q = provider_a(gw);
            return q && (*q)["healthy"] == true;
        },
        Millis(5000)))
        << http_get(gw.port(), "/admin/health").body;
    auto back = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    ASSERT_EQ(back.status, 200u) << back.describe();
    EXPECT_EQ(back.header("x-baton-model"), "ma");
    EXPECT_THAT(http_get(gw.port(), "/metrics").body,
                HasSubstr("baton_provider_healthy{provider=\"pa\"} 1"));
}

}  // namespace
}  // namespace baton::test
