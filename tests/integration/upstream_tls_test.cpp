// HTTPS upstreams: a private CA given as tls.ca_file is trusted; without it the upstream's
// certificate is checked against the system store, fails, and the client gets a 502.
#include <gtest/gtest.h>

#include "support/fake_upstream.hpp"
#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_helpers.hpp"
#include "support/test_pki.hpp"

namespace baton::test {
namespace {

constexpr const char* kChat = "/v1/chat/completions";

TEST(UpstreamTlsTest, HttpsUpstreamWithCaFileWorks) {
    TempDir dir;
    TestPki pki = make_test_pki(dir.path());
    FakeUpstream up(FakeUpstream::Tls{pki.server_cert, pki.server_key});
    const std::string body = chat_completion_body("real-model-1", "over TLS");
    up.enqueue(Reply::json(200, body));
    GatewayConfig cfg;
    cfg.upstream_base_url = up.base_url();  // https://localhost:PORT/v1
    cfg.ca_file = pki.ca_cert;
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());

    HttpResponse r = http_post(gw->port(), kChat, chat_body("m1"));
    ASSERT_TRUE(r.ok) << r.describe();
    EXPECT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.body, body);
    ASSERT_EQ(up.request_count(), 1u);
    Exchange e = up.exchange(0);
    EXPECT_EQ(e.request.target, "/v1/chat/completions");
    EXPECT_EQ(e.request.body, chat_body("real-model-1"));
    EXPECT_EQ(e.request.header("authorization"), std::string("Bearer ") + kTestApiKey);
    EXPECT_EQ(up.tls_handshake_failures(), 0u);

    // Streaming over TLS as well.
    auto chunks = sse_chunks({"secure"}, 50ms);
    std::string sent;
    for (const auto& c : chunks) sent += c.bytes;
    up.enqueue(Reply::sse(chunks));
    HttpResponse s = http_stream(gw->port(), kChat, chat_body("m1", "hi", true));
    ASSERT_TRUE(s.ok) << s.describe();
    EXPECT_EQ(s.body, sent);
}

TEST(UpstreamTlsTest, HttpsUpstreamWithUntrustedCertificateIs502) {
    TempDir dir;
    TestPki pki = make_test_pki(dir.path());
    FakeUpstream up(FakeUpstream::Tls{pki.server_cert, pki.server_key});
    GatewayConfig cfg;
    cfg.upstream_base_url = up.base_url();  // no ca_file: system store only
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());

    HttpResponse r = http_post(gw->port(), kChat, chat_body("m1"));
    EXPECT_TRUE(is_openai_error(r, 502));
    EXPECT_EQ(up.request_count(), 0u) << "request sent over an unverified connection";
}

}  // namespace
}  // namespace baton::test
