// Proxying POST /v1/chat/completions to an OpenAI-kind provider (a scripted fake upstream):
// byte-exact forwarding, headers both ways, streaming without buffering, upstream keep-alive,
// cancellation when the client goes away, and the upstream failure statuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kChat = "/v1/chat/completions";

// Odd spacing, unknown fields and a nested vendor object: all must reach the upstream unchanged.
constexpr const char* kOriginalBody =
    "{ \"model\" : \"m1\",\n"
    "  \"messages\": [{\"role\": \"system\", \"content\": \"Be terse.\"},\n"
    "               {\"role\":\"user\",\"content\":\"hello \\u00e9\\n there\"}],\n"
    "  \"temperature\": 0.25, \"x_vendor\": {\"a\":[1,2]}, \"seed\": 7,\n"
    "  \"metadata\": {\"model\": \"not-this-one\"}   }";
constexpr const char* kForwardedBody =
    "{ \"model\" : \"real-model-1\",\n"
    "  \"messages\": [{\"role\": \"system\", \"content\": \"Be terse.\"},\n"
    "               {\"role\":\"user\",\"content\":\"hello \\u00e9\\n there\"}],\n"
    "  \"temperature\": 0.25, \"x_vendor\": {\"a\":[1,2]}, \"seed\": 7,\n"
    "  \"metadata\": {\"model\": \"not-this-one\"}   }";

struct ProxyRig {
    FakeUpstream up;
    GatewayConfig cfg;
    std::unique_ptr<GatewayProcess> gw;

    explicit ProxyRig(GatewayConfig c = {}) : cfg(std::move(c)) {
        cfg.upstream_base_url = up.base_url();
    }
    ::testing::AssertionResult start() {
        gw = make_gateway(cfg);
        return gw->start();
    }
};

TEST(ProxyTest, ForwardsBodyWithOnlyModelReplaced) {
    ProxyRig s;
    ASSERT_TRUE(s.start());
    HttpResponse r = http_post(s.gw->port(), kChat, kOriginalBody);
    ASSERT_TRUE(r.ok) << r.describe();
    EXPECT_EQ(r.status, 200u) << r.describe();
    ASSERT_EQ(s.up.request_count(), 1u);
    Exchange e = s.up.exchange(0);
    EXPECT_EQ(e.request.method, "POST");
    EXPECT_EQ(e.request.target, "/v1/chat/completions");
    EXPECT_EQ(e.request.body, kForwardedBody);
}

TEST(ProxyTest, PassesNonStreamingResponseBackByteForByte) {
    ProxyRig s;
    // Unusual formatting and an unknown field: the gateway must not re-serialise the response.
    const std::string upstream_body =
        "{\"id\":\"chatcmpl-xyz\",  \"object\":\"chat.completion\",\"created\":1700000001,"
        "\"model\":\"real-model-1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"Hi \\ud83d\\ude00\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12},"
        "\"system_fingerprint\":\"fp_1\", \"x_extra\": [true, null]}\n";
    s.up.enqueue(Reply::json(200, upstream_body));
    ASSERT_TRUE(s.start());
    HttpResponse r = http_post(s.gw->port(), kChat, chat_body("m1"));
    ASSERT_TRUE(r.ok) << r.describe();
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, upstream_body);
    EXPECT_EQ(r.header("x-baton-model"), "m1");
    EXPECT_EQ(r.header("x-baton-provider"), "up");
    EXPECT_FALSE(r.header("x-request-id").empty());
    EXPECT_THAT(r.header("content-type"), StartsWith("application/json"));
}

// A 6 MB answer to a client that reads nothing for a while: the part the socket takes is written
// at once, the rest when the client reads (Downstream::write_now, then flush). Every byte
// arrives in order, the usage at its end is accounted, and the gateway serves the next request.
TEST(ProxyTest, LargeAnswerReachesASlowReaderWhole) {
    ProxyRig s;
    std::string content(6 << 20, 'x');
    for (size_t i = 0; i < content.size(); i += 97) content[i] = static_cast<char>('a' + i % 26);
    const std::string upstream_body =
        R"({"id":"chatcmpl-big","object":"chat.completion","model":"real-model-1","choices":[{"index":0,"message":{"role":"assistant","content":")" +
        content +
        R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1500000,"total_tokens":1500005}})";
    s.up.enqueue(Reply::json(200, upstream_body));
    ASSERT_TRUE(s.start());
    Socket sock = Socket::connect(s.gw->port());
    ASSERT_TRUE(sock.valid());
    const auto deadline = Clock::now() + 20s;
    ASSERT_TRUE(
        sock.send_all(build_request(s.gw->port(), "POST", kChat, chat_body("m1"), {}), deadline));
    std::this_thread::sleep_for(300ms);  // the gateway fills the socket and waits
    std::string buffer;
    HttpResponse r = read_response(sock, buffer, deadline, "POST");
    ASSERT_TRUE(r.ok) << r.describe();
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("content-length"), std::to_string(upstream_body.size()));
    EXPECT_TRUE(r.body == upstream_body) << "body differs (" << r.body.size() << " bytes)";
    EXPECT_FALSE(r.header("x-baton-cost-usd").empty());
    HttpResponse next = http_post(s.gw->port(), kChat, chat_body("m1"));
    EXPECT_EQ(next.status, 200u) << next.describe();
}

TEST(ProxyTest, SendsProviderKeyJsonContentTypeAndGeneratedRequestId) {
    ProxyRig s;
    ASSERT_TRUE(s.start());
    HttpResponse r1 = http_post(s.gw->port(), kChat, chat_body("m1"));
    HttpResponse r2 = http_post(s.gw->port(), kChat, chat_body("m1"));
    ASSERT_TRUE(r1.ok && r2.ok) << r1.describe() << "\n" << r2.describe();
    ASSERT_EQ(s.up.request_count(), 2u);
    Exchange e1 = s.up.exchange(0);
    Exchange e2 = s.up.exchange(1);
    EXPECT_EQ(e1.request.header("authorization"), std::string("Bearer ") + kTestApiKey);
    EXPECT_EQ(count_header(e1.request.headers, "authorization"), 1u);
    EXPECT_THAT(e1.request.header("content-type"), StartsWith("application/json"));
    // Generated ids: present, sent upstream, echoed to the client, unique per request.
    std::string id1 = e1.request.header("x-request-id");
    std::string id2 = e2.request.header("x-request-id");
    EXPECT_FALSE(id1.empty());
    EXPECT_FALSE(id2.empty());
    EXPECT_NE(id1, id2);
    EXPECT_EQ(r1.header("x-request-id"), id1);
    EXPECT_EQ(r2.header("x-request-id"), id2);
}

TEST(ProxyTest, ForwardsClientRequestIdAndNeverClientAuthorization) {
    ProxyRig s;
    ASSERT_TRUE(s.start());
    HttpResponse r = http_post(
        s.gw->port(), kChat, chat_body("m1"),
        {{"X-Request-Id", "client-req-42"}, {"Authorization", "Bearer client-secret-token-xyz"}});
    ASSERT_TRUE(r.ok) << r.describe();
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("x-request-id"), "client-req-42");
    ASSERT_EQ(s.up.request_count(), 1u);
    Exchange e = s.up.exchange(0);
    EXPECT_EQ(e.request.header("x-request-id"), "client-req-42");
    EXPECT_EQ(e.request.header("authorization"), std::string("Bearer ") + kTestApiKey);
    for (const auto& h : e.request.headers) {
        EXPECT_THAT(h.value, ::testing::Not(HasSubstr("client-secret-token-xyz")))
            << "client credential forwarded in " << h.name;
    }
}

TEST(ProxyTest, StreamsEachEventAsItIsSent) {
    ProxyRig s;
    auto chunks = sse_chunks({"The", " quick", " brown", " fox"}, 250ms);
    std::string sent;
    for (const auto& c : chunks) sent += c.bytes;
    s.up.enqueue(Reply::sse(chunks));
    ASSERT_TRUE(s.start());
    const std::string body = chat_body("m1", "Tell me about foxes", /*stream=*/true);
    HttpResponse r = http_stream(s.gw->port(), kChat, body);
    ASSERT_TRUE(r.ok) << r.describe();
    EXPECT_EQ(r.status, 200u);
    EXPECT_THAT(r.header("content-type"), StartsWith("text/event-stream"));
    EXPECT_EQ(r.body, sent);
    EXPECT_THAT(r.body, ::testing::EndsWith("data: [DONE]\n\n"));
    EXPECT_EQ(r.header("x-baton-model"), "m1");

    ASSERT_EQ(s.up.request_count(), 1u);
    ASSERT_TRUE(s.up.wait_for_response_complete(0, 2s));
    Exchange e = s.up.exchange(0);
    EXPECT_THAT(e.request.body, HasSubstr("\"stream\":true"));
    ASSERT_EQ(e.chunk_sent_at.size(), chunks.size());
    ASSERT_FALSE(r.pieces.empty());
    EXPECT_LT(r.pieces.front().arrived, e.chunk_sent_at.back())
        << "first event only arrived after the upstream sent the last one (buffering)";
    // Stronger: every event reached the client before the upstream sent the next one.
    size_t expected_len = 0;
    for (size_t k = 0; k + 1 < chunks.size(); ++k) {
        expected_len += chunks[k].bytes.size();
        size_t have = 0;
        std::optional<Clock::time_point> arrived;
        for (const auto& p : r.pieces) {
            have += p.bytes.size();
            if (have >= expected_len) {
                arrived = p.arrived;
                break;
            }
        }
        ASSERT_TRUE(arrived.has_value());
        EXPECT_LT(*arrived, e.chunk_sent_at[k + 1]) << "event " << k << " was held back";
    }
}

TEST(ProxyTest, ReusesOneUpstreamConnectionForSequentialRequests) {
    ProxyRig s;
    ASSERT_TRUE(s.start());
    for (int i = 0; i < 5; ++i) {
        HttpResponse r = http_post(s.gw->port(), kChat, chat_body("m1"));
        ASSERT_TRUE(r.ok) << r.describe();
        ASSERT_EQ(r.status, 200u) << r.describe();
    }
    EXPECT_EQ(s.up.request_count(), 5u);
    EXPECT_EQ(s.up.connections_accepted(), 1u);
}

TEST(ProxyTest, ClientDisconnectMidStreamCancelsUpstream) {
    ProxyRig s;
    std::vector<std::string> words(20, " w");
    s.up.enqueue(Reply::sse(sse_chunks(words, 200ms)));  // ~4.4 s if nobody cancels
    ASSERT_TRUE(s.start());
    Clock::time_point client_closed{};
    HttpResponse r = http_stream(s.gw->port(), kChat, chat_body("m1", "hi", true), {},
                                 [&](const BodyPiece&, const HttpResponse&) {
                                     client_closed = Clock::now();
                                     return false;  // close after the first event
                                 });
    ASSERT_TRUE(r.stopped_by_client) << r.describe();
    ASSERT_TRUE(s.up.wait_for_peer_close(0, 3s))
        << "the gateway kept the upstream request running after the client left";
    Exchange e = s.up.exchange(0);
    EXPECT_LT(seconds_between(client_closed, e.peer_closed_at), 2.0);
    EXPECT_FALSE(e.response_complete);

    // The gateway still works, on a fresh upstream connection.
    HttpResponse next = http_post(s.gw->port(), kChat, chat_body("m1"));
    ASSERT_TRUE(next.ok) << next.describe();
    EXPECT_EQ(next.status, 200u) << next.describe();
    EXPECT_EQ(s.up.request_count(), 2u);
    EXPECT_EQ(s.up.connections_accepted(), 2u);
    EXPECT_EQ(s.up.exchange(1).request.connection, 2u);
}

TEST(ProxyTest, PassesUpstreamErrorStatusAndBodyThrough) {
    // With retries off, an upstream error is the answer (retries: resilience_test.cpp).
    GatewayConfig no_retries;
    no_retries.max_retries = 0;
    ProxyRig s(no_retries);
    const std::string rate_limited =
        R"({"error":{"message":"Rate limit reached for requests","type":"requests",)"
        R"("param":null,"code":"rate_limit_exceeded"}})";
    const std::string server_error =
        R"({"error":{"message":"The server had an error","type":"server_error",)"
        R"("param":null,"code":null}})";
    s.up.set_handler([&](const RecordedRequest& req) {
        if (req.body.find("please-429") != std::string::npos) {
            Reply r = Reply::json(429, rate_limited);
            r.headers.push_back({"Retry-After", "7"});
            return r;
        }
        return Reply::json(500, server_error);
    });
    ASSERT_TRUE(s.start());
    HttpResponse r429 = http_post(s.gw->port(), kChat, chat_body("m1", "please-429"));
    ASSERT_TRUE(r429.ok) << r429.describe();
    EXPECT_EQ(r429.status, 429u);
    EXPECT_EQ(r429.body, rate_limited);
    EXPECT_EQ(r429.header("retry-after"), "7");

    HttpResponse r500 = http_post(s.gw->port(), kChat, chat_body("m1", "please-500"));
    ASSERT_TRUE(r500.ok) << r500.describe();
    EXPECT_EQ(r500.status, 500u);
    EXPECT_EQ(r500.body, server_error);
}

TEST(ProxyTest, UpstreamRefusedIs502) {
    GatewayConfig cfg;
    cfg.upstream_base_url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/v1";
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());
    HttpResponse r = http_post(gw->port(), kChat, chat_body("m1"));
    EXPECT_TRUE(is_openai_error(r, 502));
    EXPECT_LT(r.seconds(), 3.0);
    EXPECT_FALSE(r.header("x-request-id").empty());
}

TEST(ProxyTest, SilentUpstreamIs504AfterFirstByteTimeout) {
    GatewayConfig cfg;
    cfg.first_byte_timeout = "1s";
    ProxyRig s(cfg);
    s.up.set_handler([](const RecordedRequest&) { return Reply::hang_forever(); });
    ASSERT_TRUE(s.start());
    HttpResponse r = http_post(s.gw->port(), kChat, chat_body("m1"));
    EXPECT_TRUE(is_openai_error(r, 504));
    EXPECT_GE(r.seconds(), 0.8);
    EXPECT_LE(r.seconds(), 2.5);
    // The timed-out upstream connection is abandoned, not left hanging.
    EXPECT_TRUE(s.up.wait_for_peer_close(0, 2s));
}

}  // namespace
}  // namespace baton::test
