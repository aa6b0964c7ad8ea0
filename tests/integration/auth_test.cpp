// Virtual keys behind the real binary: 401 for missing/unknown keys, 403 for a model the key may
// not use or an admin path without an admin key, per-key rpm with 429 + Retry-After +
// x-ratelimit-* headers, key tags narrowing routing, and `baton keys new`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <regex>
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

struct Keys {
    std::string team = auth::generate_key();
    std::string eu = auth::generate_key();
    std::string admin = auth::generate_key();
};

std::string yaml_for(const Keys& k, bool required) {
    return std::string(R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: stdout}
auth: {required: )") +
           (required ? "true" : "false") + R"(, secret: env:BATON_KEY_SECRET}
keys:
  - {name: team-a, hash: )" +
           auth::hash_key(kSecret, k.team) + R"(, models: [auto, cheap], rpm: 3}
  - {name: team-eu, hash: )" +
           auth::hash_key(kSecret, k.eu) + R"(, require_tags: [eu]}
  - {name: ops, hash: )" +
           auth::hash_key(kSecret, k.admin) + R"(, admin: true}
providers:
  - {name: demo, kind: mock, mock: {tokens: 4}}
models:
  - {name: cheap, provider: demo, price: {input: 0.1, output: 0.1}}
  - {name: euro, provider: demo, price: {input: 1, output: 1}, tags: [eu]}
  - {name: other, provider: demo}
routes:
  - {name: auto, candidates: [cheap, euro], objective: {cost: 1}}
)";
}

Headers bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

TEST(AuthTest, KeysAreRequiredCheckedAndScoped) {
    Keys k;
    GatewayProcess gw(yaml_for(k, true), {{"BATON_KEY_SECRET", kSecret}});
    ASSERT_TRUE(gw.start());
    const auto p = gw.port();
    EXPECT_TRUE(is_openai_error(http_post(p, kChat, chat_body("auto", "hi")), 401));
    EXPECT_TRUE(
        is_openai_error(http_post(p, kChat, chat_body("auto", "hi"), bearer("bt-nope")), 401));
    auto ok = http_post(p, kChat, chat_body("auto", "hi"), bearer(k.team));
    ASSERT_EQ(ok.status, 200u) << ok.describe();
    // the same key as x-api-key
    EXPECT_EQ(http_post(p, kChat, chat_body("auto", "hi"), {{"x-api-key", k.eu}}).status, 200u);
    // a model outside the key's list
    json err;
    auto forbidden = http_post(p, kChat, chat_body("other", "hi"), bearer(k.team));
    EXPECT_TRUE(is_openai_error(forbidden, 403, &err)) << forbidden.describe();
    // admin paths: no key 401, non-admin 403, admin 200
    EXPECT_TRUE(is_openai_error(http_get(p, "/admin/health"), 401));
    EXPECT_TRUE(is_openai_error(http_get(p, "/admin/health", bearer(k.eu)), 403));
    EXPECT_EQ(http_get(p, "/admin/health", bearer(k.admin)).status, 200u);
    EXPECT_EQ(http_get(p, "/healthz").status, 200u);  // probes stay open
    // keys never reach the logs; key names do
    ASSERT_TRUE(gw.wait_for_stdout("\"key\":\"team-a\"", Millis(2000))) << gw.stdout_text();
    for (const auto& secret : {k.team, k.eu, k.admin, std::string(kSecret)}) {
        EXPECT_THAT(gw.stdout_text(), Not(HasSubstr(secret)));
        EXPECT_THAT(gw.stderr_text(), Not(HasSubstr(secret)));
    }
}

TEST(AuthTest, KeyTagsNarrowTheRoute) {
    Keys k;
    GatewayProcess gw(yaml_for(k, false), {{"BATON_KEY_SECRET", kSecret}});
    ASSERT_TRUE(gw.start());
    // without a key (not required) the cheapest model wins; team-eu must stay in the EU
    EXPECT_EQ(http_post(gw.port(), kChat, chat_body("auto", "hi")).header("x-baton-model"),
              "cheap");
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"), bearer(k.eu));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "euro");
}

TEST(AuthTest, RequestsPerMinuteLimitAnswers429WithHeaders) {
    Keys k;
    GatewayProcess gw(yaml_for(k, true), {{"BATON_KEY_SECRET", kSecret}});
    ASSERT_TRUE(gw.start());
    for (int i = 0; i < 3; ++i) {
        auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"), bearer(k.team));
        ASSERT_EQ(r.status, 200u) << r.describe();
        EXPECT_EQ(r.header("x-ratelimit-limit-requests"), "3");
        EXPECT_EQ(r.header("x-ratelimit-remaining-requests"), std::to_string(2 - i));
    }
    auto limited = http_post(gw.port(), kChat, chat_body("auto", "hi"), bearer(k.team));
    EXPECT_TRUE(is_openai_error(limited, 429)) << limited.describe();
    EXPECT_FALSE(limited.header("retry-after").empty());
    EXPECT_EQ(limited.header("x-ratelimit-remaining-requests"), "0");
    // other keys are not affected
    EXPECT_EQ(http_post(gw.port(), kChat, chat_body("auto", "hi"), bearer(k.eu)).status, 200u);
}

TEST(AuthTest, KeysNewPrintsAKeyAndItsHash) {
    auto r = run_baton({"keys", "new", "--name", "team-z"}, Millis(5000),
                       {{"BATON_KEY_SECRET", kSecret}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("(bt-[A-Za-z0-9]{32})"))) << r.out;
    std::string key = m[1];
    EXPECT_THAT(r.out, HasSubstr(auth::hash_key(kSecret, key)));
    EXPECT_THAT(r.out, HasSubstr("name: team-z"));
    auto no_secret = run_baton({"keys", "new", "--name", "x"}, Millis(5000),
                               {{"BATON_KEY_SECRET", std::nullopt}});
    EXPECT_NE(no_secret.exit_code, 0);
}

TEST(AuthTest, ConfigNeedsTheSecretWhenKeysExist) {
    Keys k;
    TempDir dir;
    std::string path = dir.file("k.yaml");
    {
        std::ofstream f(path);
        f << yaml_for(k, true);
    }
    auto r = run_baton({"--check", path}, Millis(5000), {{"BATON_KEY_SECRET", std::nullopt}});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.out, HasSubstr("BATON_KEY_SECRET"));
}

}  // namespace
}  // namespace baton::test

namespace baton::test {
namespace {

TEST(BudgetTest, ConcurrentBurstStopsAtTheBudgetWithinOneReservation) {
    std::string key = auth::generate_key();
    // Each request costs (5 + 4) tokens x $1000/1M = $0.009 by the mock's usage; the
    // reservation is prompt estimate + max_tokens (16) x $1000/1M ≈ $0.021.
    std::string yaml = std::string(R"(server: {listen: 127.0.0.1:0, threads: 2}
logging: {level: info, access_log: off}
auth: {required: true, secret: env:BATON_KEY_SECRET}
keys:
  - {name: team-b, hash: )") +
                       auth::hash_key(kSecret, key) + R"(, budget: {day: 0.2}}
providers:
  - {name: demo, kind: mock, mock: {tokens: 4, latency: 5ms}}
models:
  - {name: paid, provider: demo, price: {input: 1000, output: 1000}}
)";
    GatewayProcess gw(yaml, {{"BATON_KEY_SECRET", kSecret}});
    ASSERT_TRUE(gw.start());
    std::atomic<int> ok{0}, refused{0}, other{0};
    std::vector<std::thread> ts;
    std::string body =
        R"({"model":"paid","max_tokens":16,"messages":[{"role":"user","content":"hi"}]})";
    for (int t = 0; t < 8; ++t) {
        ts.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                auto r = http_post(gw.port(), kChat, body, bearer(key));
                if (r.status == 200) {
                    ++ok;
                } else if (r.status == 429) {
                    ++refused;
                } else {
                    ++other;
                }
            }
        });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(other.load(), 0);
    EXPECT_GT(refused.load(), 0);
    // spent = ok x $0.009 must stay within the budget plus one reservation
    double spent = ok.load() * 0.009;
    EXPECT_LE(spent, 0.2 + 0.021 + 1e-9) << ok.load() << " requests admitted";
    EXPECT_GE(spent, 0.2 - 0.03) << "the budget should be nearly used, not refused early";
    auto r = http_post(gw.port(), kChat, body, bearer(key));
    json err;
    EXPECT_TRUE(is_openai_error(r, 429, &err)) << r.describe();
}

TEST(BudgetTest, RemainingBudgetHeaderGoesDown) {
    std::string key = auth::generate_key();
    std::string yaml = std::string(R"(server: {listen: 127.0.0.1:0, threads: 1}
auth: {secret: env:BATON_KEY_SECRET}
keys:
  - {name: team-c, hash: )") +
                       auth::hash_key(kSecret, key) + R"(, budget: {month: 1.0}}
providers:
  - {name: demo, kind: mock, mock: {tokens: 4}}
models:
  - {name: paid, provider: demo, price: {input: 1000, output: 1000}}
)";
    GatewayProcess gw(yaml, {{"BATON_KEY_SECRET", kSecret}});
    ASSERT_TRUE(gw.start());
    auto a = http_post(gw.port(), kChat, chat_body("paid", "hi"), bearer(key));
    auto b = http_post(gw.port(), kChat, chat_body("paid", "hi"), bearer(key));
    ASSERT_EQ(a.status, 200u) << a.describe();
    ASSERT_EQ(b.status, 200u) << b.describe();
    double ra = std::stod(a.header("x-baton-budget-remaining"));
    double rb = std::stod(b.header("x-baton-budget-remaining"));
    EXPECT_LT(rb, ra);
    EXPECT_LT(ra, 1.0);
}

}  // namespace
}  // namespace baton::test
