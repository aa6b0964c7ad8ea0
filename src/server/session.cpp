#include "session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <string>
#include <type_traits>

#include "baton/core/deadline.hpp"
#include "baton/core/recv_buffer.hpp"
#include "baton/metrics/registry.hpp"
#include "baton/server/request.hpp"
#include "tls.hpp"

namespace baton::server {

namespace {
constexpr size_t kReadChunk = 16 * 1024;
// Content-Length bodies with at least this much still to come are read into place.
constexpr size_t kDirectBody = 8 * 1024;
// Sending our close_notify may take this long at most (we do not wait for the client's).
constexpr Duration kTlsShutdownTimeout = std::chrono::seconds(1);

enum class ReadResult { ok, closed, timeout, header_too_large, body_too_large, bad_request };

struct SessionGuard {
    Worker& w;
    std::list<Worker::SessionState>::iterator it;
    ~SessionGuard() { w.unregister_session(it); }
};

// The two connection types the request loop is instantiated for: plain TCP (the hot path) and
// TLS (tls.hpp).
struct PlainConnection {
    explicit PlainConnection(asio::ip::tcp::socket s) : socket(std::move(s)), deadline(socket) {}
    asio::ip::tcp::socket socket;
    Deadline deadline;
};
asio::ip::tcp::socket& io_of(PlainConnection& c) { return c.socket; }
TlsStream& io_of(TlsConnection& c) { return c.stream; }
// Plain sockets read into a RecvBuffer: a read that drains the socket spares the next read a
// speculative recv() (core/recv_buffer.hpp). TLS reads go through the TLS stream's buffer.
RecvBuffer recv_buffer(asio::ip::tcp::socket&, asio::mutable_buffer b) { return RecvBuffer(b); }
asio::mutable_buffer recv_buffer(TlsStream&, asio::mutable_buffer b) { return b; }
Downstream make_downstream(PlainConnection& c, Duration write_timeout) {
    return Downstream(c.socket, c.deadline, write_timeout);
}
Downstream make_downstream(TlsConnection& c, Duration write_timeout) {
    return Downstream(c, write_timeout);
}

// Reads one request, in steps the request loop drives (no coroutine frame of its own): parse
// what is buffered, else read more, until the request is complete or failed. The first byte may
// take up to the idle timeout (keep-alive wait); from then on the whole request must arrive
// within header_read. Already-buffered bytes are parsed without waiting.
class RequestRead {
  public:
    RequestRead(beast::flat_buffer& buf, RequestParser& parser, const Limits& limits,
                Worker::SessionState& state)
        : buf_(buf), parser_(parser), limits_(limits), state_(state) {
        started_ = buf.size() > 0;
        if (started_) begin();
    }
    ReadResult result = ReadResult::ok;
    Clock::time_point first_byte{};

    // Parses the buffered bytes; true when the request is complete or failed (see result).
    bool parse() {
        if (buf_.size() == 0) return false;
        const auto data = buf_.data();
        RequestParser::Status st{};
        size_t n =
            parser_.put(std::string_view(static_cast<const char*>(data.data()), data.size()), st);
        buf_.consume(n);
        switch (st) {
            case RequestParser::Status::need_more:
                return false;
            case RequestParser::Status::done:
                return finish(ReadResult::ok);
            case RequestParser::Status::header_too_large:
                return finish(ReadResult::header_too_large);
            case RequestParser::Status::body_too_large:
                return finish(ReadResult::body_too_large);
            case RequestParser::Status::bad_request:
                return finish(ReadResult::bad_request);
        }
        return false;
    }

    // Where the next read goes, with `guard` (the TCP socket's deadline) armed for it; false
    // when the request's time is up (result: timeout). A large body still to come is read
    // straight into place (the read buffer is empty here: everything buffered was parsed).
    bool prepare(Deadline& guard, asio::mutable_buffer& into) {
        if (!started_) {
            state_.idle = true;
            guard.expires_after(limits_.idle);
        } else {
            // (checked here, not left to the deadline, so that the 408 can still be sent)
            if (Clock::now() >= deadline_) return !finish(ReadResult::timeout);
            guard.expires_at(deadline_);
        }
        const auto space = parser_.body_space();
        direct_ = space.size() >= kDirectBody;
        into =
            direct_ ? asio::mutable_buffer(space.data(), space.size()) : buf_.prepare(kReadChunk);
        return true;
    }

    // After the read: true when the request is complete or failed (see result).
    bool received(Deadline& guard, const boost::system::error_code& rec, size_t n) {
        guard.expires_never();
        const auto ec = guard.check(rec);
        if (direct_) {
            parser_.body_received(n);
            if (!ec && parser_.body_space().empty()) return finish(ReadResult::ok);
        } else {
            buf_.commit(n);
        }
        if (ec == beast::error::timeout) {
            return finish(started_ ? ReadResult::timeout : ReadResult::closed);
        }
        if (ec) return finish(ReadResult::closed);
        if (!started_) {
            started_ = true;
            state_.idle = false;
            begin();
        }
        return false;
    }

  private:
    void begin() {
        first_byte = Clock::now();
        deadline_ = first_byte + limits_.header_read;
    }
    bool finish(ReadResult r) {
        result = r;
        return true;
    }
    beast::flat_buffer& buf_;
    RequestParser& parser_;
    const Limits& limits_;
    Worker::SessionState& state_;
    bool started_ = false;
    bool direct_ = false;
    Clock::time_point deadline_{};
};

// TLS only: the disconnect watch's read (if one is in flight) must end before the session reads
// again or destroys the stream. unwatch() has cancelled it, so this is one turn of the loop.
awaitable<void> wait_watch(TlsConnection& c) {
    while (c.watch_reading) {
        c.watch_done.expires_at(asio::steady_timer::time_point::max());
        co_await c.watch_done.async_wait(use_nothrow);
    }
}

// The request loop. Returns true when the server ended the connection itself (no keep-alive,
// draining, a rejected request) with the transport still usable, false when the client closed
// it, went away or timed out.
template <class Conn>
awaitable<bool> serve(Conn& conn, beast::flat_buffer& buf, Worker& worker,
                      Worker::SessionState& state) {
    constexpr bool kTls = std::is_same_v<Conn, TlsConnection>;
    const Limits& limits = worker.limits();
    // One request object for the connection: its buffers keep their capacity between requests.
    HttpRequest request;
    RequestParser parser(limits.max_header_bytes, limits.max_body_bytes);
    for (;;) {
        if constexpr (kTls) co_await wait_watch(conn);
        if (worker.draining() && buf.size() == 0) co_return true;
        parser.reset(request);
        RequestRead rd(buf, parser, limits, state);
        while (!rd.parse()) {
            asio::mutable_buffer into;
            if (!rd.prepare(conn.deadline, into)) break;
            auto& io = io_of(conn);
            auto [rec, n] = co_await io.async_read_some(recv_buffer(io, into), use_nothrow);
            if (rd.received(conn.deadline, rec, n)) break;
        }
        const ReadResult rr = rd.result;
        state.idle = false;
        Downstream out = make_downstream(conn, limits.write);
        if (rr == ReadResult::closed) co_return false;
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
                    co_await worker.handler().reject(
                        400, std::string("malformed HTTP request: ").append(parser.error()), out);
                    break;
            }
            co_return !out.client_gone();
        }
        out.keep_alive = request.keep_alive() && !worker.draining();
        Request req{request, rd.first_byte, Clock::now(), 0};
        co_await worker.handler().handle(req, out);
        if (out.client_gone()) co_return false;
        if (!out.keep_alive || worker.draining()) co_return true;
    }
}

void close_tcp(asio::ip::tcp::socket& tcp) {
    boost::system::error_code ec;
    tcp.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    tcp.close(ec);
}

enum class HandshakeFailure { timeout, plain_http, error };

void count_failure(HandshakeFailure f) {
    auto cell = [](const char* reason) {
        return &metrics::global().counter("baton_tls_handshake_failures_total",
                                          "Failed TLS handshakes on the listener, by reason.",
                                          {{"reason", reason}});
    };
    static metrics::Counter* const cells[] = {cell("timeout"), cell("plain_http"), cell("error")};
    cells[static_cast<int>(f)]->inc();
}

// A client that spoke plain HTTP to the HTTPS port: OpenSSL recognised the request line and
// sent nothing. Answer in plain HTTP so that curl and friends show why.
bool is_plain_http(const boost::system::error_code& ec) {
    if (ec.category() != asio::error::get_ssl_category()) return false;
    const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    return reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST;
}

}  // namespace

awaitable<void> run_session(asio::ip::tcp::socket socket, Worker& worker) {
    PlainConnection conn(std::move(socket));
    {
        boost::system::error_code ec;
        conn.socket.set_option(asio::ip::tcp::no_delay(true), ec);
        conn.socket.non_blocking(true, ec);  // Downstream writes with send_now() first
    }
    SessionGuard guard{worker, worker.register_session(&conn.socket)};
    beast::flat_buffer buf;
    buf.reserve(kReadChunk);
    co_await serve(conn, buf, worker, *guard.it);
    close_tcp(conn.socket);
}

awaitable<void> run_tls_session(asio::ip::tcp::socket socket, Worker& worker,
                                std::shared_ptr<ssl_ctx_st> ctx) {
    const Limits& limits = worker.limits();
    {
        boost::system::error_code ec;
        socket.set_option(asio::ip::tcp::no_delay(true), ec);
        socket.non_blocking(true, ec);  // a plain-HTTP reject is written with send_now()
    }
    SSL* ssl = SSL_new(ctx.get());
    ctx.reset();  // the SSL object holds its own reference
    if (ssl == nullptr) {
        ERR_clear_error();
        count_failure(HandshakeFailure::error);
        boost::system::error_code ec;
        socket.close(ec);
        co_return;
    }
    TlsConnection conn(std::move(socket), ssl);
    auto& tcp = conn.tcp();
    // Registered as idle: a drain closes connections still in their handshake.
    SessionGuard guard{worker, worker.register_session(&tcp)};

    // The handshake must complete within header_read, like a request head; a client that
    // connects and sends nothing holds only its own coroutine until then.
    conn.deadline.expires_after(limits.header_read);
    auto [raw_hec] =
        co_await conn.stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
    conn.deadline.expires_never();
    const auto hec = conn.deadline.check(raw_hec);
    if (hec) {
        const bool timed_out = hec == beast::error::timeout;
        const bool plain_http = !timed_out && is_plain_http(hec);
        if (!worker.draining()) {  // (a drain closes connections still in their handshake)
            count_failure(timed_out    ? HandshakeFailure::timeout
                          : plain_http ? HandshakeFailure::plain_http
                                       : HandshakeFailure::error);
        }
        if (spdlog::should_log(spdlog::level::debug)) {
            boost::system::error_code eec;
            auto peer = tcp.remote_endpoint(eec);
            spdlog::debug("TLS handshake with {}:{} failed: {}", peer.address().to_string(),
                          peer.port(), hec.message());
        }
        if (plain_http && tcp.is_open()) {
            Downstream out(tcp, conn.deadline, limits.write);
            out.keep_alive = false;
            co_await worker.handler().reject(
                400,
                "this port speaks HTTPS (server.tls is set) and the request came as plain "
                "HTTP; use an https:// URL",
                out);
        }
        close_tcp(tcp);
        co_return;
    }

    conn.read_buffer.reserve(kReadChunk);
    const bool polite = co_await serve(conn, conn.read_buffer, worker, *guard.it);
    co_await wait_watch(conn);
    if (polite && tcp.is_open()) {
        // Best effort close_notify, bounded; the client's is not awaited (RFC 8446 6.1 allows
        // this, and nginx does the same). Marking it as received makes SSL_shutdown complete
        // once ours is written.
        SSL_set_shutdown(conn.stream.native_handle(), SSL_RECEIVED_SHUTDOWN);
        conn.deadline.expires_after(std::min(limits.write, kTlsShutdownTimeout));
        auto [sec] = co_await conn.stream.async_shutdown(use_nothrow);
        conn.deadline.expires_never();
        (void)sec;
    }
    close_tcp(tcp);
}

}  // namespace baton::server
