// Process lifecycle: graceful drain on SIGTERM, SIGHUP, `--check`, `--version`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <future>
#include <regex>
#include <thread>

#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

TEST(LifecycleTest, SigtermDrainsInFlightStreamThenExitsZero) {
    GatewayConfig cfg;
    cfg.mock_chunk_delay = "100ms";
    cfg.mock_tokens = 20;  // ~2 s of streaming
    cfg.drain = "10s";
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());
    const uint16_t port = gw->port();

    std::promise<void> first_piece;
    std::atomic<bool> got_first{false};
    std::atomic<bool> stream_done{false};
    auto stream = std::async(std::launch::async, [&] {
        HttpResponse r =
            http_stream(port, "/v1/chat/completions", chat_body("demo-small", "drain me", true), {},
                        [&](const BodyPiece&, const HttpResponse&) {
                            if (!got_first.exchange(true)) first_piece.set_value();
                            return true;
                        });
        stream_done = true;
        return r;
    });
    ASSERT_EQ(first_piece.get_future().wait_for(5s), std::future_status::ready)
        << "stream never started";
    ASSERT_TRUE(gw->send_signal(SIGTERM));
    const auto signalled = Clock::now();

    // New connections are refused soon after the signal, while the stream is still running.
    bool refused = wait_until([&] { return try_connect(port, 200ms) == ConnectResult::refused; },
                              1500ms, 20ms);
    EXPECT_TRUE(refused) << "listener still accepting after SIGTERM";
    EXPECT_FALSE(stream_done.load()) << "stream ended before the listener closed";

    ASSERT_EQ(stream.wait_for(10s), std::future_status::ready);
    HttpResponse r = stream.get();
    ASSERT_TRUE(r.ok) << "in-flight stream cut by shutdown: " << r.describe();
    EXPECT_EQ(r.status, 200u);
    EXPECT_THAT(r.body, EndsWith("data: [DONE]\n\n"));
    size_t content_chunks = 0;
    for (const auto& ev : sse_data(r.body)) {
        auto j = parse_json(ev);
        if (!j || !(*j).contains("choices") || (*j)["choices"].empty()) continue;
        const json& d = (*j)["choices"][0]["delta"];
        if (d.contains("content") && d["content"].is_string() &&
            !d["content"].get<std::string>().empty()) {
            ++content_chunks;
        }
    }
    EXPECT_EQ(content_chunks, 20u);

    auto code = gw->wait_exit(5s);
    ASSERT_TRUE(code.has_value()) << "gateway did not exit after the drained stream ended";
    EXPECT_EQ(*code, 0);
    EXPECT_LT(seconds_between(signalled, Clock::now()), 8.0) << "exit waited for drain timeout";
}

TEST(LifecycleTest, DrainTimeoutBoundsShutdown) {
    GatewayConfig cfg;
    cfg.mock_chunk_delay = "200ms";
    cfg.mock_tokens = 50;  // ~10 s of streaming, far beyond the drain timeout
    cfg.drain = "1s";
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());
    const uint16_t port = gw->port();
    std::promise<void> first_piece;
    std::atomic<bool> got_first{false};
    auto stream = std::async(std::launch::async, [&] {
        return http_stream(port, "/v1/chat/completions", chat_body("demo-small", "long one", true),
                           {}, [&](const BodyPiece&, const HttpResponse&) {
                               if (!got_first.exchange(true)) first_piece.set_value();
                               return true;
                           });
    });
    ASSERT_EQ(first_piece.get_future().wait_for(5s), std::future_status::ready);
    ASSERT_TRUE(gw->send_signal(SIGTERM));
    const auto signalled = Clock::now();
    auto code = gw->wait_exit(5s);
    const double took = seconds_between(signalled, Clock::now());
    ASSERT_TRUE(code.has_value()) << "gateway still running 5 s after SIGTERM with drain: 1s";
    // the request still in flight is torn down with its worker: no crash, a clean exit
    EXPECT_EQ(*code, 0) << gw->stderr_text();
    EXPECT_GE(took, 0.8) << "in-flight stream not given the drain period";
    EXPECT_LE(took, 3.0);
    ASSERT_EQ(stream.wait_for(5s), std::future_status::ready);
    HttpResponse r = stream.get();
    EXPECT_THAT(r.body, ::testing::Not(EndsWith("data: [DONE]\n\n")));
}

TEST(LifecycleTest, SigtermOnIdleGatewayExitsZeroPromptly) {
    auto gw = make_gateway(GatewayConfig{});
    ASSERT_TRUE(gw->start());
    ASSERT_EQ(http_get(gw->port(), "/healthz").status, 200u);
    ASSERT_TRUE(gw->send_signal(SIGTERM));
    auto code = gw->wait_exit(3s);
    ASSERT_TRUE(code.has_value()) << "idle gateway did not exit within 3 s of SIGTERM";
    EXPECT_EQ(*code, 0);
}

// Once the ready line is out, signals must already be handled: a supervisor may send SIGTERM the
// moment it sees the daemon ready. Repeated to catch a handler installed after the ready line.
TEST(LifecycleTest, SigtermRightAfterReadyLineIsGraceful) {
    for (int i = 0; i < 10; ++i) {
        auto gw = make_gateway(GatewayConfig{});
        ASSERT_TRUE(gw->start());
        ASSERT_TRUE(gw->send_signal(SIGTERM));
        auto code = gw->wait_exit(3s);
        ASSERT_TRUE(code.has_value()) << "attempt " << i << ": no exit within 3 s of SIGTERM";
        ASSERT_EQ(*code, 0) << "attempt " << i << ": 143 = killed by SIGTERM's default action";
    }
}

TEST(LifecycleTest, SighupDoesNotStopTheDaemon) {
    auto gw = make_gateway(GatewayConfig{});
    ASSERT_TRUE(gw->start());
    ASSERT_TRUE(gw->send_signal(SIGHUP));
    EXPECT_FALSE(gw->wait_exit(500ms).has_value()) << "SIGHUP terminated the gateway";
    HttpResponse r = http_post(gw->port(), "/v1/chat/completions", chat_body("demo-small"));
    EXPECT_EQ(r.status, 200u) << r.describe();
}

TEST(LifecycleTest, CheckReportsBrokenConfigWithPosition) {
    TempDir dir;
    const std::string path = dir.write("broken.yaml",
                                       "providers:\n"
                                       "  - name: up\n"
                                       "    kind: opnai\n"
                                       "    base_url: http://127.0.0.1:1/v1\n"
                                       "models:\n"
                                       "  - {name: m1, provider: up}\n");
    CommandResult r = run_baton({"--check", path}, 10s, test_key_env());
    ASSERT_TRUE(r.exit_code.has_value()) << "--check did not finish";
    EXPECT_EQ(*r.exit_code, 1) << r.out << r.err;
    const std::string all = r.out + r.err;
    std::regex diag(std::regex_replace(path, std::regex(R"([.^$|()\[\]{}*+?\\])"), "\\$&") +
                    R"(:3:\d+: providers\[0\]\.kind: \S.*)");
    EXPECT_TRUE(std::regex_search(all, diag)) << all;
    EXPECT_THAT(all, HasSubstr("opnai"));
}

TEST(LifecycleTest, CheckReportsUnknownKey) {
    TempDir dir;
    const std::string path = dir.write("unknown.yaml",
                                       "server:\n"
                                       "  listen: 127.0.0.1:0\n"
                                       "  treads: 1\n"
                                       "providers:\n"
                                       "  - {name: demo, kind: mock}\n"
                                       "models:\n"
                                       "  - {name: demo-small, provider: demo}\n");
    CommandResult r = run_baton({"--check", path}, 10s, test_key_env());
    ASSERT_TRUE(r.exit_code.has_value());
    EXPECT_EQ(*r.exit_code, 1) << r.out << r.err;
    const std::string all = r.out + r.err;
    // Unknown keys are reported against the mapping that holds them (the loader's convention,
    // see tests/fixtures/config/invalid/unknown_keys.expected).
    EXPECT_TRUE(std::regex_search(all, std::regex(R"(unknown\.yaml:3:\d+: server: .*"treads")")))
        << all;
}

TEST(LifecycleTest, CheckAcceptsValidConfig) {
    TempDir dir;
    const std::string path = dir.write("good.yaml", GatewayConfig{}.to_yaml());
    CommandResult r = run_baton({"--check", path}, 10s, test_key_env());
    ASSERT_TRUE(r.exit_code.has_value());
    EXPECT_EQ(*r.exit_code, 0) << r.out << r.err;
}

TEST(LifecycleTest, VersionExitsZero) {
    CommandResult r = run_baton({"--version"});
    ASSERT_TRUE(r.exit_code.has_value());
    EXPECT_EQ(*r.exit_code, 0) << r.out << r.err;
#ifdef BATON_VERSION
    EXPECT_THAT(r.out + r.err, HasSubstr(BATON_VERSION));
#endif
}

}  // namespace
}  // namespace baton::test
