// Spend that survives a restart (state.path, SQLite) and GET /admin/keys, behind the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "baton/auth/keys.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kChat = "/v1/chat/completions";
constexpr const char* kSecret = "test-hmac-secret-0123456789";

struct Tenant {
    std::string key = auth::generate_key();
    std::string admin = auth::generate_key();
    std::string yaml(const std::string& state_path) const {
        return std::string(R"(server: {listen: 127.0.0.1:0, threads: 2}
auth: {secret: env:BATON_KEY_SECRET}
keys:
  - {name: team-c, hash: )") +
               auth::hash_key(kSecret, key) +
               R"(, budget: {day: 5, month: 10.0}, rpm: 100, metadata: {team: c}}
  - {name: ops, hash: )" +
               auth::hash_key(kSecret, admin) + R"(, admin: true}
state: {path: )" +
               state_path +
               R"(, flush_interval: 20ms}
providers:
  - {name: demo, kind: mock, mock: {tokens: 4}}
models:
  - {name: paid, provider: demo, price: {input: 1000, output: 1000}}
)";
    }
};

Headers bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

double remaining(const HttpResponse& r) { return std::stod(r.header("x-baton-budget-remaining")); }

TEST(StateTest, SpendSurvivesARestartAndACrash) {
    Tenant s;
    TempDir shared;
    const std::string db = shared.file("spend.db");
    const EnvChanges env{{"BATON_KEY_SECRET", kSecret}};
    double after_first_life = 0;
    {
        GatewayProcess gw(s.yaml(db), env);
        ASSERT_TRUE(gw.start());
        for (int i = 0; i < 3; ++i) {
            auto r = http_post(gw.port(), kChat, chat_body("paid", "hi"), bearer(s.key));
            ASSERT_EQ(r.status, 200u) << r.describe();
            after_first_life = remaining(r);
        }
        ASSERT_LT(after_first_life, 10.0);
        ASSERT_TRUE(gw.send_signal(SIGTERM));
        ASSERT_EQ(gw.wait_exit(Millis(10000)), 0);
    }
    double after_second_life = 0;
    {
        GatewayProcess gw(s.yaml(db), env);
        ASSERT_TRUE(gw.start());
        EXPECT_TRUE(gw.wait_for_stderr("period totals restored", Millis(2000)));
        auto r = http_post(gw.port(), kChat, chat_body("paid", "hi"), bearer(s.key));
        ASSERT_EQ(r.status, 200u) << r.describe();
        after_second_life = remaining(r);
        // the first life's spend is still counted: lower than before, not back near 10
        EXPECT_LT(after_second_life, after_first_life);
        // a crash (no shutdown) after the flush interval loses nothing either
        std::this_thread::sleep_for(Millis(300));
        ASSERT_TRUE(gw.send_signal(SIGKILL));
        gw.wait_exit(Millis(5000));
    }
    {
        GatewayProcess gw(s.yaml(db), env);
        ASSERT_TRUE(gw.start());
        auto r = http_post(gw.port(), kChat, chat_body("paid", "hi"), bearer(s.key));
        ASSERT_EQ(r.status, 200u) << r.describe();
        EXPECT_LT(remaining(r), after_second_life);
    }
}

TEST(StateTest, AdminKeysShowsUsageWithoutSecrets) {
    Tenant s;
    TempDir shared;
    GatewayProcess gw(s.yaml(shared.file("spend.db")), {{"BATON_KEY_SECRET", kSecret}});
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("paid", "hi"), bearer(s.key));
    ASSERT_EQ(r.status, 200u) << r.describe();

    auto denied = http_get(gw.port(), "/admin/keys", bearer(s.key));
    EXPECT_EQ(denied.status, 403u) << denied.describe();
    auto a = http_get(gw.port(), "/admin/keys", bearer(s.admin));
    ASSERT_EQ(a.status, 200u) << a.describe();
    auto j = parse_json(a.body);
    ASSERT_TRUE(j.has_value()) << a.body;
    ASSERT_EQ((*j)["keys"].size(), 2u) << a.body;
    const json& team = (*j)["keys"][0];
    EXPECT_EQ(team["name"], "team-c");
    EXPECT_EQ(team["metadata"]["team"], "c");
    EXPECT_EQ(team["limits"]["rpm"], 100);
    EXPECT_EQ(team["limits"]["remaining_requests"], 99);
    EXPECT_EQ(team["limits"]["in_flight"], 0);
    const json& month = team["budget"]["periods"]["month"];
    EXPECT_EQ(month["limit_usd"], 10.0);
    EXPECT_GT(month["spent_usd"].get<double>(), 0.0);
    // the response header counted the reservation; settled, the actual cost is charged
    const double left = team["budget"]["remaining_usd"].get<double>();
    EXPECT_GE(left, remaining(r)) << a.body;
    EXPECT_NEAR(left, 5.0 - team["budget"]["periods"]["day"]["spent_usd"].get<double>(), 1e-6)
        << a.body;
    EXPECT_TRUE(team["budget"]["periods"].contains("day"));
    EXPECT_FALSE(team["budget"]["periods"].contains("week"));
    // nothing secret: no key, no hash, no HMAC secret
    EXPECT_THAT(a.body, Not(HasSubstr(s.key)));
    EXPECT_THAT(a.body, Not(HasSubstr(auth::hash_key(kSecret, s.key))));
    EXPECT_THAT(a.body, Not(HasSubstr(kSecret)));
}

}  // namespace
}  // namespace baton::test
