// The server's HTTP/1.x request parser: grammar, bodies, limits, and every split of the input.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "baton/server/request.hpp"

namespace baton::server {
namespace {

using Status = RequestParser::Status;

struct Parsed {
    Status status = Status::need_more;
    size_t used = 0;
};

// Feeds `in` in pieces of `step` bytes (0: all at once), like reads from a socket.
Parsed feed(RequestParser& p, HttpRequest& r, std::string_view in, size_t step = 0) {
    p.reset(r);
    Parsed out;
    size_t pos = 0;
    std::string pending;  // bytes not used yet (like the session's read buffer)
    while (pos < in.size() || !pending.empty()) {
        size_t n = step == 0 ? in.size() - pos : std::min(step, in.size() - pos);
        pending.append(in.substr(pos, n));
        pos += n;
        size_t used = p.put(pending, out.status);
        out.used += used;
        pending.erase(0, used);
        if (out.status != Status::need_more) break;
        if (n == 0) break;
    }
    return out;
}

constexpr std::string_view kPost =
    "POST /v1/chat/completions?x=1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Authorization:  Bearer sk-test \t\r\n"
    "Content-Type: application/json\r\n"
    "X-Empty:\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "{\"model\":\"m\"}";

TEST(RequestParser, ParsesARequestInOnePieceAndInEverySplit) {
    for (size_t step : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}}) {
        RequestParser p(16 * 1024, 1 << 20);
        HttpRequest r;
        auto res = feed(p, r, kPost, step);
        ASSERT_EQ(res.status, Status::done) << "step " << step << ": " << p.error();
        EXPECT_EQ(res.used, kPost.size());
        EXPECT_EQ(r.method(), http::verb::post);
        EXPECT_EQ(r.method_string(), "POST");
        EXPECT_EQ(r.target(), "/v1/chat/completions?x=1");
        EXPECT_EQ(r.version(), 11u);
        EXPECT_TRUE(r.keep_alive());
        EXPECT_EQ(r["authorization"], "Bearer sk-test");  // surrounding whitespace trimmed
        EXPECT_EQ(r["CONTENT-TYPE"], "application/json");
        ASSERT_NE(r.find("x-empty"), nullptr);
        EXPECT_EQ(r["x-empty"], "");
        EXPECT_EQ(r.find("x-missing"), nullptr);
        EXPECT_EQ(r.fields().size(), 5u);
        EXPECT_EQ(r.body(), "{\"model\":\"m\"}");
    }
}

TEST(RequestParser, LeavesAPipelinedRequestAndIsReusable) {
    std::string two = std::string(kPost) + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    RequestParser p(16 * 1024, 1 << 20);
    HttpRequest r;
    p.reset(r);
    Status st{};
    size_t used = p.put(two, st);
    ASSERT_EQ(st, Status::done);
    EXPECT_EQ(used, kPost.size());
    p.reset(r);
    size_t used2 = p.put(std::string_view(two).substr(used), st);
    ASSERT_EQ(st, Status::done);
    EXPECT_EQ(used + used2, two.size());
    EXPECT_EQ(r.method(), http::verb::get);
    EXPECT_EQ(r.target(), "/healthz");
    EXPECT_TRUE(r.body().empty());
    EXPECT_EQ(r["authorization"], "");  // nothing left from the previous request
}

TEST(RequestParser, ChunkedBodiesWithExtensionsAndTrailers) {
    constexpr std::string_view in =
        "POST /v1/embeddings HTTP/1.1\r\n"
        "Transfer-Encoding: Chunked\r\n"
        "\r\n"
        "5;name=value\r\nhello\r\n"
        "A\r\n, chunked!\r\n"
        "0\r\n"
        "X-Trailer: ignored\r\n"
        "\r\n";
    for (size_t step : {size_t{0}, size_t{1}, size_t{5}}) {
        RequestParser p(16 * 1024, 1 << 20);
        HttpRequest r;
        auto res = feed(p, r, in, step);
        ASSERT_EQ(res.status, Status::done) << step << ": " << p.error();
        EXPECT_EQ(res.used, in.size());
        EXPECT_EQ(r.body(), "hello, chunked!");
    }
}

TEST(RequestParser, KeepAliveFollowsVersionAndConnection) {
    RequestParser p(16 * 1024, 1 << 20);
    HttpRequest r;
    ASSERT_EQ(feed(p, r, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n").status, Status::done);
    EXPECT_FALSE(r.keep_alive());
    ASSERT_EQ(feed(p, r, "GET / HTTP/1.0\r\n\r\n").status, Status::done);
    EXPECT_EQ(r.version(), 10u);
    EXPECT_FALSE(r.keep_alive());
    ASSERT_EQ(feed(p, r, "GET / HTTP/1.0\r\nConnection: Upgrade, Keep-Alive\r\n\r\n").status,
              Status::done);
    EXPECT_TRUE(r.keep_alive());
}

TEST(RequestParser, RejectsMalformedRequests) {
    const std::string_view bad[] = {
        "GET / HTTP/1.1\nHost: x\n\n",                    // bare LF
        "GET  / HTTP/1.1\r\n\r\n",                        // empty target
        "GET / HTTP/2.0\r\n\r\n",                         // version
        "G(T / HTTP/1.1\r\n\r\n",                         // method not a token
        "GET / HTTP/1.1\r\nHost x\r\n\r\n",               // no colon
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",          // space in a name
        "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",      // obs-fold
        "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",             // control character
        "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",  // not a number
        "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
    };
    for (auto in : bad) {
        RequestParser p(16 * 1024, 1 << 20);
        HttpRequest r;
        EXPECT_EQ(feed(p, r, in).status, Status::bad_request) << in;
        EXPECT_FALSE(p.error().empty());
    }
    // The same Content-Length twice is accepted.
    RequestParser p(16 * 1024, 1 << 20);
    HttpRequest r;
    ASSERT_EQ(
        feed(p, r, "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-length: 2\r\n\r\nok").status,
        Status::done);
    EXPECT_EQ(r.body(), "ok");
}

TEST(RequestParser, EnforcesTheLimits) {
    RequestParser p(64, 10);
    HttpRequest r;
    std::string big_head = "GET / HTTP/1.1\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n";
    EXPECT_EQ(feed(p, r, big_head).status, Status::header_too_large);
    EXPECT_EQ(feed(p, r, big_head, 7).status, Status::header_too_large);
    EXPECT_EQ(feed(p, r, "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n").status,
              Status::body_too_large);  // known from the head, before any body byte
    EXPECT_EQ(feed(p, r,
                   "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n")
                  .status,
              Status::body_too_large);
    EXPECT_EQ(feed(p, r, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789").status,
              Status::done);
}

TEST(RequestParser, AnIncompleteRequestNeedsMore) {
    RequestParser p(16 * 1024, 1 << 20);
    HttpRequest r;
    EXPECT_EQ(feed(p, r, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab").status,
              Status::need_more);
    EXPECT_TRUE(p.header_done());
    EXPECT_EQ(feed(p, r, "POST / HTTP/1.1\r\nContent-").status, Status::need_more);
    EXPECT_FALSE(p.header_done());
}

TEST(RequestParser, UnknownMethodsAreParsed) {
    RequestParser p(16 * 1024, 1 << 20);
    HttpRequest r;
    ASSERT_EQ(feed(p, r, "BREW /pot HTTP/1.1\r\n\r\n").status, Status::done);
    EXPECT_EQ(r.method(), http::verb::unknown);
    EXPECT_EQ(r.method_string(), "BREW");
}

}  // namespace
}  // namespace baton::server

namespace baton::server {
namespace {

TEST(RequestParser, ALargeBodyCanBeReadStraightIntoPlace) {
    RequestParser p(16 * 1024, 1 << 20);
    HttpRequest r;
    p.reset(r);
    std::string head = "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 20000\r\n\r\nabc";
    Status st{};
    ASSERT_EQ(p.put(head, st), head.size());
    ASSERT_EQ(st, Status::need_more);
    auto space = p.body_space();
    ASSERT_EQ(space.size(), 20000u - 3);
    std::fill(space.begin(), space.begin() + 10000, 'x');  // as a socket read would
    p.body_received(10000);
    space = p.body_space();
    ASSERT_EQ(space.size(), 20000u - 3 - 10000);
    std::fill(space.begin(), space.end(), 'y');
    p.body_received(space.size());
    EXPECT_TRUE(p.body_space().empty());
    ASSERT_EQ(r.body().size(), 20000u);
    EXPECT_EQ(r.body().substr(0, 3), "abc");
    EXPECT_EQ(r.body()[3], 'x');
    EXPECT_EQ(r.body().back(), 'y');
    // Bytes after the body in a later put() belong to the next request.
    p.reset(r);
    ASSERT_EQ(p.put("GET / HTTP/1.1\r\n\r\n", st), 18u);
    EXPECT_EQ(st, Status::done);
    EXPECT_TRUE(p.body_space().empty());
}

}  // namespace
}  // namespace baton::server
