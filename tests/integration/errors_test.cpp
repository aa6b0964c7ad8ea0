// Requests the gateway must refuse itself, each with an OpenAI-shaped error
// {"error":{"message","type","param","code"}} and the right status; none reaches the upstream.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "support/fake_upstream.hpp"
#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kChat = "/v1/chat/completions";

class RequestErrorsTest : public ::testing::Test {
  protected:
    ::testing::AssertionResult start(GatewayConfig cfg = {}) {
        cfg.upstream_base_url = up_.base_url();
        gw_ = make_gateway(cfg);
        return gw_->start();
    }
    uint16_t port() const { return gw_->port(); }
    void TearDown() override {
        EXPECT_EQ(up_.request_count(), 0u) << "a refused request reached the upstream";
    }

    FakeUpstream up_;
    std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(RequestErrorsTest, MalformedJsonIs400WithLineAndColumn) {
    ASSERT_TRUE(start());
    HttpResponse r = http_post(port(), kChat, "{\"model\": \"m1\",\n  \"messages\": [,]}");
    json e;
    ASSERT_TRUE(is_openai_error(r, 400, &e));
    std::string msg = e["message"].get<std::string>();
    EXPECT_TRUE(std::regex_search(msg, std::regex("line 2\\b", std::regex::icase))) << msg;
    EXPECT_TRUE(std::regex_search(msg, std::regex("column \\d+", std::regex::icase))) << msg;
}

TEST_F(RequestErrorsTest, TruncatedJsonIs400) {
    ASSERT_TRUE(start());
    HttpResponse r = http_post(port(), kChat, R"({"model":"m1","messages":[{"role":"user")");
    EXPECT_TRUE(is_openai_error(r, 400));
}

TEST_F(RequestErrorsTest, WrongTypeNamesTheParam) {
    ASSERT_TRUE(start());
    HttpResponse r = http_post(port(), kChat, R"({"model":"m1","messages":"hi"})");
    json e;
    ASSERT_TRUE(is_openai_error(r, 400, &e));
    EXPECT_EQ(e["param"], "messages") << r.body;
}

TEST_F(RequestErrorsTest, InvalidRoleNamesTheElementPath) {
    ASSERT_TRUE(start());
    HttpResponse r = http_post(
        port(), kChat, R"({"model":"m1","messages":[{"role":"wizard","content":"abracadabra"}]})");
    json e;
    ASSERT_TRUE(is_openai_error(r, 400, &e));
    EXPECT_EQ(e["param"], "messages[0].role") << r.body;
}

TEST_F(RequestErrorsTest, OversizedBodyIs413) {
    GatewayConfig cfg;
    cfg.max_body_bytes = 1024;
    ASSERT_TRUE(start(cfg));
    // A body just under the limit still works (it goes to the mock provider).
    std::string small = chat_body("demo-small", std::string(900, 'a'));
    ASSERT_LT(small.size(), 1024u);
    HttpResponse ok = http_post(port(), kChat, small);
    EXPECT_EQ(ok.status, 200u) << ok.describe();

    HttpResponse r = http_post(port(), kChat, chat_body("m1", std::string(4000, 'a')));
    EXPECT_TRUE(is_openai_error(r, 413));
}

TEST_F(RequestErrorsTest, OversizedChunkedBodyIs413) {
    GatewayConfig cfg;
    cfg.max_body_bytes = 1024;
    ASSERT_TRUE(start(cfg));
    std::string req =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string prefix = R"({"model":"m1","messages":[{"role":"user","content":")";
    std::string filler(3000, 'b');
    std::string suffix = R"("}]})";
    for (const std::string* part : {&prefix, &filler, &suffix}) {
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", part->size());
        req += size + *part + "\r\n";
    }
    req += "0\r\n\r\n";
    RawExchange x = raw_exchange(port(), req, 5s);
    ASSERT_TRUE(x.connected);
    HttpResponse r = parse_response(x.received, "POST");
    EXPECT_TRUE(is_openai_error(r, 413)) << "raw: " << x.received;
}

TEST_F(RequestErrorsTest, OversizedHeaderIs431) {
    ASSERT_TRUE(start());  // max_header_bytes defaults to 16384
    HttpResponse r =
        http_post(port(), kChat, chat_body("m1"), {{"X-Filler", std::string(20000, 'h')}});
    EXPECT_TRUE(is_openai_error(r, 431));
}

TEST_F(RequestErrorsTest, UnknownModelIs404ListingTheConfiguredModels) {
    ASSERT_TRUE(start());
    HttpResponse r = http_post(port(), kChat, chat_body("gpt-nonexistent"));
    json e;
    ASSERT_TRUE(is_openai_error(r, 404, &e));
    std::string msg = e["message"].get<std::string>();
    EXPECT_THAT(msg, HasSubstr("gpt-nonexistent"));
    EXPECT_THAT(msg, HasSubstr("m1"));
    EXPECT_THAT(msg, HasSubstr("demo-small"));
}

TEST_F(RequestErrorsTest, GetOnChatCompletionsIs405) {
    ASSERT_TRUE(start());
    HttpResponse r = http_get(port(), kChat);
    EXPECT_TRUE(is_openai_error(r, 405));
}

TEST_F(RequestErrorsTest, UnknownPathIs404) {
    ASSERT_TRUE(start());
    HttpResponse r = http_get(port(), "/v1/does-not-exist");
    EXPECT_TRUE(is_openai_error(r, 404));
    HttpResponse p = http_post(port(), "/v2/chat/completions", chat_body("m1"));
    EXPECT_TRUE(is_openai_error(p, 404));
}

TEST_F(RequestErrorsTest, SlowHeaderIsDisconnectedAfterHeaderReadTimeout) {
    GatewayConfig cfg;
    cfg.header_read = "1s";
    ASSERT_TRUE(start(cfg));
    Socket s = Socket::connect(port());
    ASSERT_TRUE(s.valid());
    ASSERT_TRUE(s.send_all("POST /v1/chat/comp", Clock::now() + 1s));
    const auto sent = Clock::now();
    std::string received;
    bool closed = s.read_until_closed(received, sent + 3500ms);
    const double took = seconds_between(sent, Clock::now());
    ASSERT_TRUE(closed) << "connection still open " << took << " s after half a request line";
    EXPECT_GE(took, 0.7);
    EXPECT_LE(took, 3.0);
    if (!received.empty()) {
        EXPECT_THAT(received, ::testing::StartsWith("HTTP/1.1 408")) << received;
    }
}

TEST_F(RequestErrorsTest, GarbageRequestLineIs400OrClosed) {
    ASSERT_TRUE(start());
    RawExchange x = raw_exchange(port(), "THIS IS NOT HTTP\r\n\r\n", 3s);
    ASSERT_TRUE(x.connected);
    EXPECT_TRUE(x.closed_by_peer);
    if (!x.received.empty()) {
        EXPECT_THAT(x.received, ::testing::StartsWith("HTTP/1.1 400")) << x.received;
    }
    // The gateway survives it.
    EXPECT_EQ(http_get(port(), "/healthz").status, 200u);
}

}  // namespace
}  // namespace baton::test
