// The gateway's own endpoints: /healthz, /readyz, /v1/models, /metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "support/fake_upstream.hpp"
#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;

TEST(EndpointsTest, HealthAndReadinessAre200) {
    auto gw = make_gateway(GatewayConfig{});
    ASSERT_TRUE(gw->start());
    HttpResponse h = http_get(gw->port(), "/healthz");
    ASSERT_TRUE(h.ok) << h.describe();
    EXPECT_EQ(h.status, 200u);
    HttpResponse r = http_get(gw->port(), "/readyz");
    ASSERT_TRUE(r.ok) << r.describe();
    EXPECT_EQ(r.status, 200u);
}

TEST(EndpointsTest, ModelsListsConfiguredModelsInOpenAiShape) {
    auto gw = make_gateway(GatewayConfig{});
    ASSERT_TRUE(gw->start());
    HttpResponse r = http_get(gw->port(), "/v1/models");
    ASSERT_TRUE(r.ok) << r.describe();
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_THAT(r.header("content-type"), ::testing::StartsWith("application/json"));
    auto j = parse_json(r.body);
    ASSERT_TRUE(j.has_value()) << r.body;
    EXPECT_EQ((*j)["object"], "list");
    ASSERT_TRUE((*j)["data"].is_array()) << r.body;
    ASSERT_EQ((*j)["data"].size(), 2u) << r.body;
    std::map<std::string, std::string> owned_by;
    for (const auto& m : (*j)["data"]) {
        ASSERT_TRUE(m["id"].is_string()) << m.dump();
        EXPECT_EQ(m["object"], "model") << m.dump();
        EXPECT_TRUE(m["created"].is_number_integer()) << m.dump();
        ASSERT_TRUE(m["owned_by"].is_string()) << m.dump();
        owned_by[m["id"].get<std::string>()] = m["owned_by"].get<std::string>();
    }
    EXPECT_EQ(owned_by["m1"], "up");
    EXPECT_EQ(owned_by["demo-small"], "demo");
    // Configured order.
    EXPECT_EQ((*j)["data"][0]["id"], "m1");
    EXPECT_EQ((*j)["data"][1]["id"], "demo-small");
}

TEST(EndpointsTest, MetricsExposeRequestsLatencyAndUpstreamConnections) {
    FakeUpstream up;
    GatewayConfig cfg;
    cfg.upstream_base_url = up.base_url();
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());
    ASSERT_EQ(http_post(gw->port(), "/v1/chat/completions", chat_body("m1")).status, 200u);
    ASSERT_EQ(http_post(gw->port(), "/v1/chat/completions", chat_body("demo-small")).status, 200u);
    ASSERT_EQ(http_post(gw->port(), "/v1/chat/completions", chat_body("nope")).status, 404u);

    HttpResponse r = http_get(gw->port(), "/metrics");
    ASSERT_TRUE(r.ok) << r.describe();
    ASSERT_EQ(r.status, 200u);
    EXPECT_THAT(r.header("content-type"), ::testing::StartsWith("text/plain"));
    EXPECT_THAT(r.body, HasSubstr("baton_requests_total"));
    EXPECT_THAT(r.body, HasSubstr("baton_request_duration_seconds_bucket"));
    EXPECT_THAT(r.body, HasSubstr("baton_upstream_connections"));
    EXPECT_THAT(r.body, HasSubstr("# TYPE baton_requests_total counter"));
    EXPECT_THAT(r.body, HasSubstr("le=\"+Inf\""));
}

}  // namespace
}  // namespace baton::test
