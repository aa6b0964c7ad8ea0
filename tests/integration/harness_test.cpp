// Self-tests of the integration harness (no gateway involved): when a gateway test fails, these
// say whether the fake upstream, the client or the process runner can be trusted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_helpers.hpp"
#include "support/test_pki.hpp"

namespace baton::test {
namespace {

TEST(HarnessTest, FakeUpstreamKeepsConnectionAliveAndRecordsRequests) {
    FakeUpstream up;
    up.enqueue(Reply::json(200, R"({"n":1})"));
    up.enqueue(Reply::json(201, R"({"n":2})"));
    Socket s = Socket::connect(up.port());
    ASSERT_TRUE(s.valid());
    std::string buffer;
    const auto deadline = Clock::now() + 5s;
    for (int i = 0; i < 3; ++i) {
        std::string body = R"({"i":)" + std::to_string(i) + "}";
        ASSERT_TRUE(s.send_all(build_request(up.port(), "POST", "/v1/chat/completions", body,
                                             {{"X-Test", "v" + std::to_string(i)}}),
                               deadline));
        HttpResponse r = read_response(s, buffer, deadline, "POST");
        ASSERT_TRUE(r.ok) << r.describe();
        if (i == 0) {
            EXPECT_EQ(r.body, R"({"n":1})");
        } else if (i == 1) {
            EXPECT_EQ(r.status, 201u);
        } else {
            EXPECT_NE(r.body.find("chat.completion"), std::string::npos);
        }
    }
    EXPECT_EQ(up.connections_accepted(), 1u);
    ASSERT_EQ(up.request_count(), 3u);
    ASSERT_TRUE(up.wait_for_response_complete(2, 2s));  // marked just after the last write
    Exchange e = up.exchange(2);
    EXPECT_EQ(e.request.method, "POST");
    EXPECT_EQ(e.request.target, "/v1/chat/completions");
    EXPECT_EQ(e.request.body, R"({"i":2})");
    EXPECT_EQ(e.request.header("x-test"), "v2");
}

TEST(HarnessTest, FakeUpstreamStreamsChunksOnSchedule) {
    FakeUpstream up;
    auto chunks = sse_chunks({"a", "b"}, 150ms);
    std::string expected;
    for (const auto& c : chunks) expected += c.bytes;
    up.enqueue(Reply::sse(chunks));
    HttpResponse r = http_stream(up.port(), "/v1/chat/completions", "{}");
    ASSERT_TRUE(r.ok) << r.describe();
    EXPECT_TRUE(r.chunked);
    EXPECT_EQ(r.header("content-type"), "text/event-stream");
    EXPECT_EQ(r.body, expected);
    ASSERT_TRUE(up.wait_for_response_complete(0, 2s));
    Exchange e = up.exchange(0);
    ASSERT_EQ(e.chunk_sent_at.size(), chunks.size());
    ASSERT_FALSE(r.pieces.empty());
    EXPECT_LT(r.pieces.front().arrived, e.chunk_sent_at.back());
    EXPECT_GE(seconds_between(e.chunk_sent_at.front(), e.chunk_sent_at.back()), 0.5);
}

TEST(HarnessTest, FakeUpstreamNoticesPeerCloseWhileHanging) {
    FakeUpstream up;
    up.enqueue(Reply::hang_forever());
    Socket s = Socket::connect(up.port());
    ASSERT_TRUE(s.valid());
    ASSERT_TRUE(s.send_all(build_request(up.port(), "POST", "/v1/x", "{}", {}), Clock::now() + 2s));
    ASSERT_TRUE(up.wait_for_requests(1, 2s));
    const auto closed = Clock::now();
    s.close();
    ASSERT_TRUE(up.wait_for_peer_close(0, 2s));
    EXPECT_LT(seconds_between(closed, up.exchange(0).peer_closed_at), 0.5);
    EXPECT_FALSE(up.exchange(0).response_complete);
}

TEST(HarnessTest, FakeUpstreamNoticesPeerCloseMidStream) {
    FakeUpstream up;
    up.enqueue(Reply::sse(sse_chunks({"a", "b", "c", "d", "e", "f"}, 200ms)));
    HttpResponse r = http_stream(up.port(), "/v1/chat/completions", "{}", {},
                                 [](const BodyPiece&, const HttpResponse&) { return false; });
    EXPECT_TRUE(r.stopped_by_client);
    ASSERT_TRUE(up.wait_for_peer_close(0, 2s));
    EXPECT_LT(up.exchange(0).chunk_sent_at.size(), 4u);
}

TEST(HarnessTest, FakeUpstreamAbortsMidStream) {
    FakeUpstream up;
    Reply reply = Reply::sse({{"data: {}\n\n", 0ms}});
    reply.abort_after_chunks = true;
    up.enqueue(reply);
    HttpResponse r = http_stream(up.port(), "/v1/chat/completions", "{}");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.body, "data: {}\n\n");
}

// A bounded HTTPS GET with OpenSSL directly; returns the raw response or "" on failure.
std::string https_get(uint16_t port, const std::string& ca_file, bool* handshake_ok) {
    *handshake_ok = false;
    Socket s = Socket::connect(port);
    if (!s.valid()) return {};
    // OpenSSL gets a blocking socket; socket timeouts bound every call.
    timeval tv{3, 0};
    ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int fl = ::fcntl(s.fd(), F_GETFL);
    ::fcntl(s.fd(), F_SETFL, fl & ~O_NONBLOCK);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ca_file.empty()) {
        SSL_CTX_set_default_verify_paths(ctx);
    } else {
        SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL* ssl = SSL_new(ctx);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
    SSL_set_fd(ssl, s.fd());
    std::string out;
    if (SSL_connect(ssl) == 1) {
        *handshake_ok = true;
        std::string req = build_request(port, "GET", "/v1/models", {}, {{"Connection", "close"}});
        SSL_write(ssl, req.data(), static_cast<int>(req.size()));
        char buf[4096];
        int n;
        while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return out;
}

TEST(HarnessTest, TestPkiServesTlsTrustedOnlyWithItsCa) {
    TempDir dir;
    TestPki pki = make_test_pki(dir.path());
    FakeUpstream up(FakeUpstream::Tls{pki.server_cert, pki.server_key});
    EXPECT_EQ(up.base_url(), "https://localhost:" + std::to_string(up.port()) + "/v1");
    bool handshake_ok = false;
    std::string raw = https_get(up.port(), pki.ca_cert, &handshake_ok);
    EXPECT_TRUE(handshake_ok);
    HttpResponse r = parse_response(raw);
    EXPECT_TRUE(r.ok) << raw;
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(up.request_count(), 1u);

    std::string raw2 = https_get(up.port(), "", &handshake_ok);
    EXPECT_FALSE(handshake_ok) << "the test CA must not be trusted by the system store";
    EXPECT_EQ(up.request_count(), 1u);
    EXPECT_TRUE(wait_until([&] { return up.tls_handshake_failures() == 1; }, 2s));
}

TEST(HarnessTest, ResponseParserHandlesChunkExtensionsAndTrailers) {
    HttpResponse r = parse_response(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
        "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
    ASSERT_TRUE(r.ok) << r.describe();
    EXPECT_EQ(r.body, "hello world");
    EXPECT_EQ(r.header("x-a"), "b");
    EXPECT_EQ(r.pieces.size(), 2u);

    HttpResponse cl = parse_response("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabcdef");
    ASSERT_TRUE(cl.ok);
    EXPECT_EQ(cl.status, 404u);
    EXPECT_EQ(cl.reason, "Not Found");
    EXPECT_EQ(cl.body, "abc");

    HttpResponse cut = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    EXPECT_FALSE(cut.ok);
}

TEST(HarnessTest, SseDataSplitsEvents) {
    auto d = sse_data("data: {\"a\":1}\n\n: comment\n\ndata: x\ndata: y\n\ndata: [DONE]\n\n");
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0], "{\"a\":1}");
    EXPECT_EQ(d[1], "x\ny");
    EXPECT_EQ(d[2], "[DONE]");
}

TEST(HarnessTest, ChildProcessCapturesOutputAndExitCode) {
    TempDir dir;
    ChildProcess p;
    ASSERT_TRUE(p.spawn({"/bin/sh", "-c", "echo out; echo \"$HARNESS_VAR\" >&2; exit 3"},
                        {{"HARNESS_VAR", "from-env"}}, dir.file("o"), dir.file("e")));
    EXPECT_EQ(p.wait_exit(5s), 3);
    EXPECT_EQ(read_file_text(dir.file("o")), "out\n");
    EXPECT_EQ(read_file_text(dir.file("e")), "from-env\n");

    ChildProcess sleeper;
    ASSERT_TRUE(sleeper.spawn({"/bin/sleep", "30"}, {}, dir.file("o2"), dir.file("e2")));
    EXPECT_TRUE(sleeper.running());
    EXPECT_FALSE(sleeper.wait_exit(50ms).has_value());
    EXPECT_TRUE(sleeper.send_signal(SIGTERM));
    EXPECT_EQ(sleeper.wait_exit(5s), 128 + SIGTERM);
}

TEST(HarnessTest, UnusedPortRefusesConnections) {
    uint16_t port = unused_port();
    ASSERT_NE(port, 0);
    EXPECT_EQ(try_connect(port), ConnectResult::refused);
}

}  // namespace
}  // namespace baton::test
