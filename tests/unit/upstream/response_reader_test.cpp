// ResponseReader on a real loopback connection: a tiny server writes raw bytes (in pieces, to
// exercise every split), the reader parses the head and relays the body.
#include "baton/upstream/response_reader.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <vector>

namespace baton::upstream {
namespace {

using namespace std::chrono_literals;

struct Result {
    boost::system::error_code head_ec, body_ec;
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    std::optional<uint64_t> content_length;
    bool chunked = false;
    std::string body;
    bool done = false;
    bool keep_alive = false;
};

// Serves `raw` in pieces of `step` bytes (then closes if `close`), reads it with a
// ResponseReader (body pieces of `cap` bytes).
Result run(std::string raw, size_t step, bool close, size_t cap = 16 * 1024,
           uint64_t body_limit = 1 << 20) {
    asio::io_context ioc;
    asio::ip::tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    const uint16_t port = acc.local_endpoint().port();
    Result r;
    asio::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
            auto [ec, s] = co_await acc.async_accept(use_nothrow);
            if (ec) co_return;
            for (size_t pos = 0; pos < raw.size(); pos += step) {
                auto piece = asio::buffer(raw.data() + pos, std::min(step, raw.size() - pos));
                auto [wec, wn] = co_await asio::async_write(s, piece, use_nothrow);
                if (wec) co_return;  // the reader is done with the connection
                asio::steady_timer t(ioc, 1ms);
                co_await t.async_wait(use_nothrow);
            }
            if (close) {
                s.close();
            } else {
                asio::steady_timer t(ioc, 300ms);  // keep it open while the reader reads
                co_await t.async_wait(use_nothrow);
            }
        },
        asio::detached);
    asio::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
            Connection conn(ioc.get_executor());
            Origin o;
            o.host = "127.0.0.1";
            o.port = port;
            if (auto ec = co_await conn.connect(o, 2s)) {
                r.head_ec = ec;
                co_return;
            }
            ResponseReader reader(conn, body_limit);
            r.head_ec = co_await reader.read_head(2s);
            if (r.head_ec) co_return;
            r.status = reader.status();
            for (const auto& f : reader.headers()) {
                r.fields.emplace_back(std::string(f.name), std::string(f.value));
            }
            r.content_length = reader.content_length();
            r.chunked = reader.chunked();
            std::string piece(cap, '\0');
            for (;;) {
                auto [ec, n] = co_await reader.read_body(piece.data(), cap, 2s);
                if (ec) {
                    r.body_ec = ec;
                    break;
                }
                if (n == 0) break;
                r.body.append(piece.data(), n);
            }
            r.done = reader.done();
            r.keep_alive = reader.keep_alive();
        },
        asio::detached);
    ioc.run();
    return r;
}

const std::string kJson =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
    "x-request-id:  abc \r\n\r\n{\"ok\":true}";

TEST(ResponseReader, ContentLengthInEverySplit) {
    for (size_t step : {size_t{1}, size_t{3}, size_t{16}, size_t{1000}}) {
        auto r = run(kJson, step, false, 4);
        ASSERT_FALSE(r.head_ec) << step << ": " << r.head_ec.message();
        EXPECT_EQ(r.status, 200u);
        ASSERT_EQ(r.fields.size(), 3u);
        EXPECT_EQ(r.fields[2].second, "abc");
        EXPECT_EQ(r.content_length, 11u);
        EXPECT_FALSE(r.chunked);
        EXPECT_EQ(r.body, "{\"ok\":true}");
        EXPECT_TRUE(r.done);
        EXPECT_TRUE(r.keep_alive);
    }
}

TEST(ResponseReader, ChunkedStreamAndInterimResponsesSkipped) {
    std::string raw =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        "f\r\ndata: {\"a\":1}\n\n\r\n6\r\ndata: \r\n8\r\n[DONE]\n\n\r\n0\r\n\r\n";
    for (size_t step : {size_t{1}, size_t{7}, size_t{1000}}) {
        auto r = run(raw, step, false);
        ASSERT_FALSE(r.head_ec) << r.head_ec.message();
        EXPECT_EQ(r.status, 200u);
        EXPECT_TRUE(r.chunked);
        EXPECT_EQ(r.body, "data: {\"a\":1}\n\ndata: [DONE]\n\n");
        EXPECT_FALSE(r.body_ec) << r.body_ec.message();
        EXPECT_TRUE(r.done);
        EXPECT_TRUE(r.keep_alive);
    }
}

TEST(ResponseReader, BodyUntilCloseAndConnectionClose) {
    auto r = run("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", 5, true);
    ASSERT_FALSE(r.head_ec);
    EXPECT_EQ(r.body, "until the end");
    EXPECT_FALSE(r.body_ec);
    EXPECT_TRUE(r.done);
    EXPECT_FALSE(r.keep_alive);
    auto c = run("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 100, false);
    ASSERT_FALSE(c.head_ec);
    EXPECT_EQ(c.status, 204u);
    EXPECT_TRUE(c.done);
    EXPECT_FALSE(c.keep_alive);
}

TEST(ResponseReader, CutsAndMalformedHeads) {
    auto cut = run("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100, true);
    ASSERT_FALSE(cut.head_ec);
    EXPECT_EQ(cut.body_ec, http::error::partial_message);
    auto cut_chunk = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 100, true);
    EXPECT_EQ(cut_chunk.body_ec, http::error::partial_message);
    auto cut_head = run("HTTP/1.1 200 OK\r\nContent-", 100, true);
    EXPECT_EQ(cut_head.head_ec, http::error::partial_message);
    EXPECT_EQ(run("HTTP/2 200\r\n\r\n", 100, true).head_ec, http::error::bad_version);
    EXPECT_EQ(run("HTTP/1.1 2x0 OK\r\n\r\n", 100, true).head_ec, http::error::bad_status);
    EXPECT_EQ(run("HTTP/1.1 200 OK\r\nBad Field: x\r\n\r\n", 100, true).head_ec,
              http::error::bad_field);
    EXPECT_EQ(run("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 100, true)
                  .head_ec,
              http::error::bad_content_length);
    auto bad_chunk = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", 100, true);
    EXPECT_EQ(bad_chunk.body_ec, http::error::bad_chunk);
}

TEST(ResponseReader, BodyLimit) {
    EXPECT_EQ(run("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 100, true, 64, 10).head_ec,
              http::error::body_limit);
    auto chunked = run(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n"
        "0\r\n\r\n",
        100, true, 64, 10);
    EXPECT_EQ(chunked.body_ec, http::error::body_limit);
}

}  // namespace
}  // namespace baton::upstream
