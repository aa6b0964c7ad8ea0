// SIGHUP reload under load: 32 clients (half streaming) keep requests flowing while the config is
// reloaded 100 times, alternating valid changes and invalid files. No request may fail or be
// truncated, and an invalid file must never take effect.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <thread>

#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;

std::string config_with(unsigned tokens, bool broken) {
    std::string y = R"(server: {listen: 127.0.0.1:0, threads: 2, timeouts: {drain: 5s}}
logging: {level: info, access_log: off}
providers:
  - {name: demo, kind: mock, mock: {latency: 2ms, tokens: )" +
                    std::to_string(tokens) +
                    R"(, chunk_delay: 1ms}}
models:
  - {name: demo-small, provider: demo}
)";
    if (broken) {
        // Would rename the model (every request would 404) if any of it were applied.
        y = R"(server: {listen: 127.0.0.1:0, threads: 2}
providers:
  - {name: demo, kind: mock, mock: {tokens: 3}}
models:
  - {name: renamed-model, provider: demo, quality: 7}
)";
    }
    return y;
}

size_t count_of(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

TEST(ReloadTest, HundredReloadsUnderLoadLoseNothing) {
    GatewayProcess gw(config_with(6, false));
    ASSERT_TRUE(gw.start());
    const uint16_t port = gw.port();
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, failed{0};
    std::mutex mu;
    std::vector<std::string> failures;
    std::vector<std::thread> clients;
    for (int c = 0; c < 32; ++c) {
        clients.emplace_back([&, c] {
            bool stream = c % 2 == 0;
            while (!stop) {
                HttpResponse r =
                    stream ? http_stream(port, "/v1/chat/completions",
                                         chat_body("demo-small", "hi", true))
                           : http_post(port, "/v1/chat/completions", chat_body("demo-small", "hi"));
                bool good =
                    r.ok && r.status == 200 && (!stream || r.body.ends_with("data: [DONE]\n\n"));
                if (good && !stream) {
                    auto j = parse_json(r.body);
                    good = j && (*j)["object"] == "chat.completion";
                }
                if (good) {
                    ++ok;
                } else {
                    ++failed;
                    std::lock_guard lk(mu);
                    if (failures.size() < 5) failures.push_back(r.describe());
                }
            }
        });
    }
    auto start = Clock::now();
    for (int i = 0; i < 100; ++i) {
        bool broken = i % 2 == 1;
        {
            std::ofstream f(gw.config_path(), std::ios::trunc);
            f << config_with(6 + (i / 2) % 3, broken);
        }
        size_t before_ok = count_of(gw.stderr_text(), "config reloaded");
        size_t before_bad = count_of(gw.stderr_text(), "reload rejected");
        ASSERT_TRUE(gw.send_signal(SIGHUP));
        ASSERT_TRUE(wait_until(
            [&] {
                auto e = gw.stderr_text();
                return broken ? count_of(e, "reload rejected") > before_bad
                              : count_of(e, "config reloaded") > before_ok;
            },
            Millis(5000)))
            << "reload " << i << " not logged\n"
            << gw.stderr_text();
        // spread the 100 reloads over about 10 s
        auto due = start + Millis(100 * (i + 1));
        if (Clock::now() < due) std::this_thread::sleep_until(due);
    }
    stop = true;
    for (auto& t : clients) t.join();
    EXPECT_EQ(failed.load(), 0) << (failures.empty() ? "" : failures.front());
    EXPECT_GT(ok.load(), 200);
    auto m = http_get(port, "/metrics");
    EXPECT_THAT(m.body, HasSubstr("baton_config_reloads_total{result=\"ok\"} 50"));
    EXPECT_THAT(m.body, HasSubstr("baton_config_reloads_total{result=\"rejected\"} 50"));
    // the last valid config is the one serving; the broken rename never applied
    auto models = http_get(port, "/v1/models");
    EXPECT_THAT(models.body, HasSubstr("demo-small"));
    EXPECT_THAT(models.body, ::testing::Not(HasSubstr("renamed-model")));
    auto cfg = http_get(port, "/admin/config");
    auto j = parse_json(cfg.body);
    ASSERT_TRUE(j.has_value()) << cfg.body;
    EXPECT_EQ((*j)["generation"], 51);
    EXPECT_EQ((*j)["sha256"].get<std::string>().size(), 64u);
}

TEST(ReloadTest, AdminConfigNeverShowsSecrets) {
    std::string yaml = R"(server: {listen: 127.0.0.1:0, threads: 1}
providers:
  - {name: up, kind: openai, base_url: http://127.0.0.1:9/v1, api_key: env:TEST_KEY}
  - {name: inline, kind: openai, base_url: http://127.0.0.1:9/v1, api_key: sk-inline-SECRET-123}
models:
  - {name: m1, provider: up}
  - {name: m2, provider: inline}
)";
    GatewayProcess gw(yaml, test_key_env());
    ASSERT_TRUE(gw.start());
    auto r = http_get(gw.port(), "/admin/config");
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_THAT(r.body, HasSubstr("env:TEST_KEY"));
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr(kTestApiKey)));
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr("sk-inline-SECRET-123")));
    EXPECT_THAT(gw.stderr_text(), ::testing::Not(HasSubstr("sk-inline-SECRET-123")));
}

}  // namespace
}  // namespace baton::test
