// A provider whose api_key env var is unset: the daemon starts anyway (with a warning), the
// provider's models answer 401 naming the variable, other providers keep working.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_upstream.hpp"
#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;

TEST(CredentialsTest, MissingProviderKeyAnswers401NamingTheVariable) {
    FakeUpstream up;
    GatewayConfig cfg;
    cfg.upstream_base_url = up.base_url();
    cfg.upstream_api_key = "env:BATON_IT_UNSET_KEY_VAR";
    auto gw = make_gateway(cfg, {{"BATON_IT_UNSET_KEY_VAR", std::nullopt}});
    ASSERT_TRUE(gw->start());
    EXPECT_TRUE(gw->wait_for_stderr("BATON_IT_UNSET_KEY_VAR", 2s))
        << "no startup warning about the missing key";

    HttpResponse r = http_post(gw->port(), "/v1/chat/completions", chat_body("m1"));
    json e;
    ASSERT_TRUE(is_openai_error(r, 401, &e));
    EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("BATON_IT_UNSET_KEY_VAR"));
    EXPECT_EQ(up.request_count(), 0u);

    HttpResponse mock = http_post(gw->port(), "/v1/chat/completions", chat_body("demo-small"));
    EXPECT_EQ(mock.status, 200u) << mock.describe();
    EXPECT_TRUE(gw->running());
}

TEST(CredentialsTest, TestKeyVariableUnsetAlsoAnswers401) {
    // The standard config (api_key: env:TEST_KEY) with TEST_KEY removed from the environment.
    FakeUpstream up;
    GatewayConfig cfg;
    cfg.upstream_base_url = up.base_url();
    auto gw = make_gateway(cfg, {{"TEST_KEY", std::nullopt}});
    ASSERT_TRUE(gw->start());
    HttpResponse r = http_post(gw->port(), "/v1/chat/completions", chat_body("m1"));
    json e;
    ASSERT_TRUE(is_openai_error(r, 401, &e));
    EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("TEST_KEY"));
    EXPECT_EQ(up.request_count(), 0u);
}

}  // namespace
}  // namespace baton::test
