// The access log: one JSON line per request on stdout, with the agreed fields, and never the
// prompt or the provider key anywhere in the daemon's output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <sstream>

#include "support/fake_upstream.hpp"
#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kChat = "/v1/chat/completions";
constexpr const char* kPrompt = "PROMPT-SENTINEL-c0ffee-secret-question";

std::vector<json> log_lines(const std::string& out, std::vector<std::string>* bad = nullptr) {
    std::vector<json> lines;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto j = parse_json(line);
        if (j && j->is_object()) {
            lines.push_back(*j);
        } else if (bad) {
            bad->push_back(line);
        }
    }
    return lines;
}

std::vector<json> lines_for(const std::vector<json>& lines, const std::string& id) {
    std::vector<json> out;
    for (const auto& l : lines) {
        if (l.contains("request_id") && l["request_id"] == id) out.push_back(l);
    }
    return out;
}

TEST(AccessLogTest, OneJsonLinePerRequestWithFields) {
    FakeUpstream up;
    up.enqueue(Reply::json(200, chat_completion_body("real-model-1")));
    up.enqueue(Reply::sse(sse_chunks({"a", "b"}, 0ms)));
    GatewayConfig cfg;
    cfg.upstream_base_url = up.base_url();
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());
    const uint16_t port = gw->port();

    ASSERT_EQ(http_post(port, kChat, chat_body("m1", kPrompt), {{"X-Request-Id", "al-1"}}).status,
              200u);
    HttpResponse s =
        http_stream(port, kChat, chat_body("m1", kPrompt, true), {{"X-Request-Id", "al-2"}});
    ASSERT_TRUE(s.ok) << s.describe();
    ASSERT_EQ(
        http_post(port, kChat, chat_body("demo-small", kPrompt), {{"X-Request-Id", "al-3"}}).status,
        200u);
    ASSERT_EQ(http_post(port, kChat, chat_body("nope", kPrompt), {{"X-Request-Id", "al-4"}}).status,
              404u);

    ASSERT_TRUE(gw->wait_for_stdout("al-4", 5s)) << "access log lines not written (flushed)";
    std::vector<std::string> bad;
    auto lines = log_lines(gw->stdout_text(), &bad);
    EXPECT_TRUE(bad.empty()) << "non-JSON line on stdout: " << bad.front();

    auto l1 = lines_for(lines, "al-1");
    ASSERT_EQ(l1.size(), 1u) << gw->stdout_text();
    const json& a = l1[0];
    EXPECT_EQ(a["method"], "POST") << a.dump();
    EXPECT_EQ(a["path"], "/v1/chat/completions") << a.dump();
    EXPECT_EQ(a["status"], 200) << a.dump();
    EXPECT_EQ(a["model"], "m1") << a.dump();
    EXPECT_EQ(a["provider"], "up") << a.dump();
    EXPECT_EQ(a["stream"], false) << a.dump();
    ASSERT_TRUE(a.contains("latency_ms") && a["latency_ms"].is_number()) << a.dump();
    EXPECT_GE(a["latency_ms"].get<double>(), 0.0);

    auto l2 = lines_for(lines, "al-2");
    ASSERT_EQ(l2.size(), 1u) << gw->stdout_text();
    EXPECT_EQ(l2[0]["stream"], true) << l2[0].dump();
    EXPECT_EQ(l2[0]["status"], 200) << l2[0].dump();
    EXPECT_EQ(l2[0]["model"], "m1") << l2[0].dump();

    auto l3 = lines_for(lines, "al-3");
    ASSERT_EQ(l3.size(), 1u) << gw->stdout_text();
    EXPECT_EQ(l3[0]["model"], "demo-small") << l3[0].dump();
    EXPECT_EQ(l3[0]["provider"], "demo") << l3[0].dump();

    auto l4 = lines_for(lines, "al-4");
    ASSERT_EQ(l4.size(), 1u) << gw->stdout_text();
    EXPECT_EQ(l4[0]["status"], 404) << l4[0].dump();
}

TEST(AccessLogTest, NeverLogsPromptOrProviderKey) {
    FakeUpstream up;
    GatewayConfig cfg;
    cfg.max_retries = 0;
    cfg.upstream_base_url = up.base_url();
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());
    const uint16_t port = gw->port();

    ASSERT_EQ(http_post(port, kChat, chat_body("m1", kPrompt)).status, 200u);
    up.enqueue(Reply::sse(sse_chunks({"x"}, 0ms)));
    ASSERT_TRUE(http_stream(port, kChat, chat_body("m1", kPrompt, true)).ok);
    ASSERT_EQ(http_post(port, kChat, chat_body("demo-small", kPrompt)).status, 200u);
    // Failures are where secrets tend to leak: bad JSON echoing input, upstream errors.
    ASSERT_EQ(
        http_post(port, kChat, std::string("{\"model\":\"m1\",\"messages\":[") + kPrompt).status,
        400u);
    up.enqueue(Reply::json(500, R"({"error":{"message":"boom","type":"server_error"}})"));
    ASSERT_EQ(http_post(port, kChat, chat_body("m1", kPrompt)).status, 500u);
    ASSERT_EQ(up.request_count(), 3u);

    ASSERT_TRUE(gw->send_signal(SIGTERM));
    auto code = gw->wait_exit(5s);  // everything flushed
    ASSERT_TRUE(code.has_value());
    const std::string out = gw->stdout_text();
    const std::string err = gw->stderr_text();
    EXPECT_FALSE(out.empty()) << "no access log at all";
    EXPECT_THAT(out, Not(HasSubstr(kTestApiKey)));
    EXPECT_THAT(err, Not(HasSubstr(kTestApiKey)));
    EXPECT_THAT(out, Not(HasSubstr("PROMPT-SENTINEL")));
    EXPECT_THAT(err, Not(HasSubstr("PROMPT-SENTINEL")));
}

}  // namespace
}  // namespace baton::test
