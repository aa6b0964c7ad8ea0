// The end of a stream arriving with the last bytes: the gateway's reads skip the recv() that
// would find nothing by treating a short read as "socket drained" unless epoll reported the
// peer's FIN (core/recv_buffer.hpp, src/asio/epoll_reactor.ipp). These tests are the cases where
// a missed FIN would hang until a timeout: a client that closes its side right after its request,
// and an upstream answer whose body ends with the connection (no Content-Length, not chunked).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kChat = "/v1/chat/completions";

// Request and FIN sent together: the answer still comes, then the gateway closes at once (the
// read for a next request sees the end of stream instead of waiting for the idle timeout).
TEST(EndOfStreamTest, ClientClosingItsSideAfterTheRequestGetsTheAnswerAndAClose) {
    FakeUpstream up;
    GatewayConfig cfg;
    cfg.upstream_base_url = up.base_url();
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());
    for (int i = 0; i < 20; ++i) {
        Socket s = Socket::connect(gw->port());
        ASSERT_TRUE(s.valid());
        ASSERT_TRUE(s.send_all(build_request(gw->port(), "POST", kChat, chat_body("m1"), {}),
                               Clock::now() + 2s));
        s.shutdown_write();
        const auto sent = Clock::now();
        std::string got;
        const bool closed = s.read_until_closed(got, sent + 5s);
        ASSERT_TRUE(closed) << "connection still open 5 s after the request (round " << i << ")";
        EXPECT_LT(seconds_between(sent, Clock::now()), 2.0);
        EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
        EXPECT_NE(got.find("chat.completion"), std::string::npos) << got;
    }
}

// An upstream that answers with "Connection: close" and no length: its body ends with the
// connection, often in the same segment train as the last bytes. The client gets all of it, at
// once (a missed FIN would wait for the upstream timeout).
TEST(EndOfStreamTest, UpstreamAnswerEndedByTheCloseIsRelayedWhole) {
    const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(lfd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(lfd, 16), 0);
    ASSERT_EQ(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &alen), 0);
    const uint16_t up_port = ntohs(a.sin_port);
    const std::string answer = chat_completion_body("real-model-1", std::string(3000, 'x'));
    std::atomic<int> served{0};
    std::thread upstream([&] {
        for (;;) {
            const int c = ::accept(lfd, nullptr, nullptr);
            if (c < 0) return;
            std::string req;
            char buf[4096];
            // the head, then as many body bytes as Content-Length says
            size_t need = std::string::npos;
            while (need == std::string::npos || req.size() < need) {
                const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                req.append(buf, static_cast<size_t>(n));
                const size_t end = req.find("\r\n\r\n");
                if (need == std::string::npos && end != std::string::npos) {
                    size_t cl = 0;
                    const size_t at = req.find("ontent-Length: ");
                    if (at != std::string::npos && at < end) cl = std::stoul(req.substr(at + 15));
                    need = end + 4 + cl;
                }
            }
            const std::string resp =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" +
                answer;
            (void)::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            ::close(c);  // the FIN right behind the body
            ++served;
        }
    });
    GatewayConfig cfg;
    cfg.upstream_base_url = "http://127.0.0.1:" + std::to_string(up_port) + "/v1";
    auto gw = make_gateway(cfg);
    ASSERT_TRUE(gw->start());
    for (int i = 0; i < 20; ++i) {
        const auto t0 = Clock::now();
        HttpResponse r = http_post(gw->port(), kChat, chat_body("m1"));
        EXPECT_EQ(r.status, 200u) << r.describe();
        EXPECT_NE(r.body.find(std::string(3000, 'x')), std::string::npos) << r.describe();
        EXPECT_LT(seconds_between(t0, Clock::now()), 2.0) << "round " << i;
    }
    EXPECT_EQ(served.load(), 20);
    ::shutdown(lfd, SHUT_RDWR);
    ::close(lfd);
    upstream.join();
}

}  // namespace
}  // namespace baton::test
