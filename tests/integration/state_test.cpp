// Spend that survives a restart (state.path, SQLite) and GET /admin/keys, behind the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <future>
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

// team-c's entry of GET /admin/keys once none of its requests is in flight (nullopt if that does
// not happen within 5 s). The gateway settles a request's budget hold (and frees its rate-limit
// slot) in Pipeline::finish(), after the response has been written: a client that has read the
// whole response can still find the request in flight for a moment, longer on a loaded machine.
// x-baton-budget-remaining counts every hold in flight (limit - spent - in flight), so two values
// of it are only comparable when each was taken with the same holds open.
std::optional<json> settled_usage(uint16_t port, const Tenant& s) {
    std::optional<json> team;
    const bool settled = wait_until(
        [&] {
            auto a = http_get(port, "/admin/keys", bearer(s.admin));
            auto j = a.status == 200 ? parse_json(a.body) : std::nullopt;
            if (!j || !(*j)["keys"].is_array() || (*j)["keys"].empty()) return false;
            team = (*j)["keys"][0];
            return (*team)["budget"]["in_flight_usd"] == 0.0 && (*team)["limits"]["in_flight"] == 0;
        },
        Millis(5000));
    if (!settled) return std::nullopt;
    return team;
}

double spent(const json& team, const char* period) {
    return team["budget"]["periods"][period]["spent_usd"].get<double>();
}

TEST(StateTest, SpendSurvivesARestartAndACrash) {
    Tenant s;
    TempDir shared;
    const std::string db = shared.file("spend.db");
    const EnvChanges env{{"BATON_KEY_SECRET", kSecret}};
    // Every request below is the same, so it reserves the same amount: the first one, on a key
    // with nothing spent and nothing in flight, shows how much (5 - its remaining).
    double reservation = 0;
    double spent_first_life = 0;
    {
        GatewayProcess gw(s.yaml(db), env);
        ASSERT_TRUE(gw.start());
        for (int i = 0; i < 3; ++i) {
            auto r = http_post(gw.port(), kChat, chat_body("paid", "hi"), bearer(s.key));
            ASSERT_EQ(r.status, 200u) << r.describe();
            if (i == 0) reservation = 5.0 - remaining(r);
        }
        ASSERT_GT(reservation, 0.0);
        auto team = settled_usage(gw.port(), s);
        ASSERT_TRUE(team.has_value()) << gw.stderr_text();
        spent_first_life = spent(*team, "day");
        ASSERT_GT(spent_first_life, 0.0) << team->dump();
        ASSERT_DOUBLE_EQ(spent(*team, "month"), spent_first_life) << team->dump();
        ASSERT_TRUE(gw.send_signal(SIGTERM));
        ASSERT_EQ(gw.wait_exit(Millis(10000)), 0);
    }
    double after_second_life = 0;
    double spent_second_life = 0;
    {
        GatewayProcess gw(s.yaml(db), env);
        ASSERT_TRUE(gw.start());
        EXPECT_TRUE(gw.wait_for_stderr("period totals restored", Millis(2000)));
        // the first life's spend is still counted, to the cent and in every period
        auto restored = settled_usage(gw.port(), s);
        ASSERT_TRUE(restored.has_value()) << gw.stderr_text();
        EXPECT_NEAR(spent(*restored, "day"), spent_first_life, 1e-9) << restored->dump();
        EXPECT_NEAR(spent(*restored, "month"), spent_first_life, 1e-9) << restored->dump();
        auto r = http_post(gw.port(), kChat, chat_body("paid", "hi"), bearer(s.key));
        ASSERT_EQ(r.status, 200u) << r.describe();
        after_second_life = remaining(r);
        // only this request is in flight: the header is what is left after the first life
        // minus this request's reservation, not back near 5
        EXPECT_NEAR(after_second_life, 5.0 - spent_first_life - reservation, 1e-5);
        auto team = settled_usage(gw.port(), s);
        ASSERT_TRUE(team.has_value()) << gw.stderr_text();
        spent_second_life = spent(*team, "day");
        EXPECT_GT(spent_second_life, spent_first_life) << team->dump();
        // a crash (no shutdown) after the flush interval loses nothing either: the charge has
        // been made (settled above), the store writes it within 20 ms
        std::this_thread::sleep_for(Millis(300));
        ASSERT_TRUE(gw.send_signal(SIGKILL));
        gw.wait_exit(Millis(5000));
    }
    {
        GatewayProcess gw(s.yaml(db), env);
        ASSERT_TRUE(gw.start());
        auto restored = settled_usage(gw.port(), s);
        ASSERT_TRUE(restored.has_value()) << gw.stderr_text();
        EXPECT_NEAR(spent(*restored, "day"), spent_second_life, 1e-9) << restored->dump();
        auto r = http_post(gw.port(), kChat, chat_body("paid", "hi"), bearer(s.key));
        ASSERT_EQ(r.status, 200u) << r.describe();
        // both with only their own request in flight
        EXPECT_LT(remaining(r), after_second_life);
    }
}

// A stream still running when the drain timeout ends is torn down with its worker; its budget
// hold, never settled, charges the whole reservation (fail closed), and that charge reaches the
// state file before the process exits (the workers go before the store's last write).
TEST(StateTest, SpendOfAStreamCutByTheDrainTimeoutIsKept) {
    Tenant s;
    TempDir shared;
    const std::string db = shared.file("spend.db");
    const EnvChanges env{{"BATON_KEY_SECRET", kSecret}};
    std::string yaml = s.yaml(db);
    yaml.replace(yaml.find("threads: 2}"), 11, "threads: 2, timeouts: {drain: 300ms}}");
    yaml.replace(yaml.find("mock: {tokens: 4}"), 17, "mock: {tokens: 50, chunk_delay: 200ms}");
    double reservation = 0;
    {
        GatewayProcess gw(yaml, env);
        ASSERT_TRUE(gw.start());
        std::promise<void> first_piece;
        std::atomic<bool> got_first{false};
        const uint16_t port = gw.port();
        auto stream = std::async(std::launch::async, [&] {
            return http_stream(port, kChat, chat_body("paid", "a long answer", true), bearer(s.key),
                               [&](const BodyPiece&, const HttpResponse&) {
                                   if (!got_first.exchange(true)) first_piece.set_value();
                                   return true;
                               });
        });
        ASSERT_EQ(first_piece.get_future().wait_for(5s), std::future_status::ready);
        ASSERT_TRUE(gw.send_signal(SIGTERM));
        auto code = gw.wait_exit(Millis(5000));
        ASSERT_TRUE(code.has_value());
        EXPECT_EQ(*code, 0) << gw.stderr_text();
        ASSERT_EQ(stream.wait_for(5s), std::future_status::ready);
        HttpResponse r = stream.get();
        reservation = 5.0 - remaining(r);
        ASSERT_GT(reservation, 0.0) << r.describe();
    }
    GatewayProcess gw(s.yaml(db), env);
    ASSERT_TRUE(gw.start());
    auto team = settled_usage(gw.port(), s);
    ASSERT_TRUE(team.has_value()) << gw.stderr_text();
    EXPECT_NEAR(spent(*team, "day"), reservation, 1e-9) << team->dump();
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
    // the chat request is settled only after its response was written (see settled_usage)
    ASSERT_TRUE(settled_usage(gw.port(), s).has_value()) << gw.stderr_text();
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
