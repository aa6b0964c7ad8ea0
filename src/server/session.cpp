#include "session.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>

namespace baton::server {

namespace {
constexpr size_t kReadChunk = 16 * 1024;

enum class ReadResult { ok, closed, timeout, header_too_large, body_too_large, bad_request };

struct SessionGuard {
    Worker& w;
    std::list<Worker::SessionState>::iterator it;
    ~SessionGuard() { w.unregister_session(it); }
};

// Reads one request. The first byte may take up to the idle timeout (keep-alive wait); from
// then on the whole request must arrive within header_read. Already-buffered bytes are parsed
// without waiting.
awaitable<ReadResult> read_request(beast::tcp_stream& stream, beast::flat_buffer& buf,
                                   http::request_parser<http::string_body>& parser,
                                   const Limits& limits, Worker::SessionState& state,
                                   Clock::time_point& first_byte) {
    bool started = buf.size() > 0;
    Clock::time_point deadline{};
    if (started) {
        first_byte = Clock::now();
        deadline = first_byte + limits.header_read;
    }
    for (;;) {
        if (buf.size() > 0) {
            boost::system::error_code ec;
            size_t n = parser.put(buf.data(), ec);
            buf.consume(n);
            if (ec == http::error::need_more) {
                ec = {};
            } else if (ec == http::error::header_limit) {
                co_return ReadResult::header_too_large;
            } else if (ec == http::error::body_limit) {
                co_return ReadResult::body_too_large;
            } else if (ec) {
                co_return ReadResult::bad_request;
            }
            if (parser.is_done()) co_return ReadResult::ok;
            if (n == 0 && buf.size() > 0 && !parser.is_header_done() &&
                buf.size() >= limits.max_header_bytes) {
                co_return ReadResult::header_too_large;
            }
        }
        Duration timeout;
        if (!started) {
            state.idle = true;
            timeout = limits.idle;
        } else {
            timeout = deadline - Clock::now();
            if (timeout <= Duration::zero()) co_return ReadResult::timeout;
        }
        stream.expires_after(timeout);
        auto [ec, n] = co_await stream.async_read_some(buf.prepare(kReadChunk), use_nothrow);
        buf.commit(n);
        if (ec == beast::error::timeout)
            co_return started ? ReadResult::timeout : ReadResult::closed;
        if (ec) co_return ReadResult::closed;
        if (!started) {
            started = true;
            state.idle = false;
            first_byte = Clock::now();
            deadline = first_byte + limits.header_read;
        }
    }
}
}  // namespace

awaitable<void> run_session(asio::ip::tcp::socket socket, Worker& worker) {
    const Limits& limits = worker.limits();
    beast::tcp_stream stream(std::move(socket));
    {
        boost::system::error_code ec;
        stream.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    }
    SessionGuard guard{worker, worker.register_session(&stream)};
    auto& state = *guard.it;
    beast::flat_buffer buf;
    buf.reserve(kReadChunk);

    for (;;) {
        if (worker.draining() && buf.size() == 0) break;
        std::optional<http::request_parser<http::string_body>> parser;
        parser.emplace();
        parser->header_limit(limits.max_header_bytes);
        parser->body_limit(limits.max_body_bytes);
        parser->eager(true);
        Clock::time_point first_byte{};
        auto rr = co_await read_request(stream, buf, *parser, limits, state, first_byte);
        state.idle = false;
        Downstream out(stream, limits.write);
        if (rr == ReadResult::closed) break;
        if (rr != ReadResult::ok) {
            out.keep_alive = false;
            switch (rr) {
                case ReadResult::timeout:
                    co_await worker.handler().reject(408, "request not received in time", out);
                    break;
                case ReadResult::header_too_large:
                    co_await worker.handler().reject(431,
                                                     "request header fields too large (limit " +
                                                         std::to_string(limits.max_header_bytes) +
                                                         " bytes)",
                                                     out);
                    break;
                case ReadResult::body_too_large:
                    co_await worker.handler().reject(413,
                                                     "request body too large (limit " +
                                                         std::to_string(limits.max_body_bytes) +
                                                         " bytes, server.max_body_bytes)",
                                                     out);
                    break;
                default:
                    co_await worker.handler().reject(400, "malformed HTTP request", out);
                    break;
            }
            break;
        }
        auto msg = parser->release();
        out.keep_alive = msg.keep_alive() && !worker.draining();
        Request req{msg, first_byte, Clock::now(), 0};
        co_await worker.handler().handle(req, out);
        if (!out.keep_alive || out.client_gone() || worker.draining()) break;
    }
    boost::system::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    stream.socket().close(ec);
}

}  // namespace baton::server
