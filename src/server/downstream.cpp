#include "baton/server/downstream.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/write.hpp>
#include <charconv>
#include <utility>

#include "baton/core/send_now.hpp"
#include "tls.hpp"

namespace baton::server {

namespace {
// A gather write of up to this many bytes goes out as one TLS record (one copy) instead of a
// record per buffer.
constexpr size_t kTlsCoalesceMax = 64 * 1024;
// What one watch read may take from a TLS connection (a pipelined request, kept for later).
constexpr size_t kTlsWatchChunk = 4 * 1024;
}  // namespace

Downstream::Downstream(TlsConnection& tls, Duration write_timeout)
    : stream_(tls.tcp()), deadline_(tls.deadline), tls_(&tls), write_timeout_(write_timeout) {}

ResponseHead::ResponseHead(unsigned status) {
    using namespace std::string_view_literals;
    s_.reserve(512);
    s_.append("HTTP/1.1 "sv);
    char num[8];
    auto r = std::to_chars(num, num + sizeof num, status);
    s_.append(num, r.ptr);
    s_.push_back(' ');
    s_.append(reason(status));
    s_.append("\r\n"sv);
}

ResponseHead& ResponseHead::header(std::string_view name, std::string_view value) {
    using namespace std::string_view_literals;
    s_.append(name).append(": "sv).append(value).append("\r\n"sv);
    return *this;
}

ResponseHead& ResponseHead::content_length(uint64_t n) {
    char num[24];
    auto r = std::to_chars(num, num + sizeof num, n);
    return header("Content-Length", std::string_view(num, static_cast<size_t>(r.ptr - num)));
}

ResponseHead& ResponseHead::chunked() { return header("Transfer-Encoding", "chunked"); }

std::string ResponseHead::finish(bool keep_alive) {
    if (!keep_alive) s_.append("Connection: close\r\n");
    s_.append("\r\n");
    return std::move(s_);
}

std::string_view ResponseHead::reason(unsigned status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 402:
            return "Payment Required";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Entity";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 499:
            return "Client Closed Request";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 529:
            return "Site Overloaded";
        default:
            return status < 400 ? "OK" : (status < 500 ? "Client Error" : "Server Error");
    }
}

awaitable<bool> Downstream::write(std::span<const asio::const_buffer> bufs) {
    if (write_now(bufs)) co_return !client_gone_;
    co_return co_await flush();
}

bool Downstream::write_now(std::span<const asio::const_buffer> bufs) {
    pending_ = {};
    if (client_gone_) return true;
    committed_ = true;
    if (bufs.size() > rest_.size()) {  // (no caller writes this many at once)
        pending_ = bufs;
        return false;
    }
    if (tls_ != nullptr) {
        std::copy(bufs.begin(), bufs.end(), rest_.begin());
        pending_ = {rest_.data(), bufs.size()};
        return false;
    }
    // At once when the socket takes it all (core/send_now.hpp); flush() waits for the socket
    // to take the rest, if any.
    boost::system::error_code sec;
    const size_t sent = send_now(stream_, bufs, sec);
    bytes_out_ += sent;
    if (sec) {
        client_gone_ = true;
        return true;
    }
    pending_ = {rest_.data(), buffers_after(bufs, sent, rest_)};
    return pending_.empty();
}

bool Downstream::write_now(std::string_view head, std::string_view body) {
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(body)};
    return write_now(bufs);
}

awaitable<bool> Downstream::flush() {
    const auto pending = std::exchange(pending_, {});
    if (pending.empty()) co_return !client_gone_;
    deadline_.expires_after(write_timeout_);
    if (tls_ != nullptr) co_return co_await write_tls(pending);
    auto [ec, n] = co_await asio::async_write(stream_, pending, use_nothrow);
    deadline_.expires_never();
    bytes_out_ += n;
    if (ec) {
        client_gone_ = true;
        co_return false;
    }
    co_return true;
}

// asio's ssl::stream encrypts one buffer per write_some: a chunk (size line, data, CRLF) would
// become three records and three syscalls. Small gather writes are copied into one buffer.
awaitable<bool> Downstream::write_tls(std::span<const asio::const_buffer> bufs) {
    size_t total = 0;
    for (const auto& b : bufs) total += b.size();
    boost::system::error_code ec;
    size_t n = 0;
    if (bufs.size() > 1 && total <= kTlsCoalesceMax) {
        std::string& flat = tls_->write_scratch;
        flat.clear();
        for (const auto& b : bufs) flat.append(static_cast<const char*>(b.data()), b.size());
        auto [wec, wn] = co_await asio::async_write(tls_->stream, asio::buffer(flat), use_nothrow);
        ec = wec;
        n = wn;
    } else {
        auto [wec, wn] = co_await asio::async_write(tls_->stream, bufs, use_nothrow);
        ec = wec;
        n = wn;
    }
    deadline_.expires_never();
    bytes_out_ += n;
    if (ec) {
        client_gone_ = true;
        co_return false;
    }
    co_return true;
}

awaitable<bool> Downstream::send(unsigned status, std::string_view content_type,
                                 std::string_view extra_headers, std::string_view body) {
    ResponseHead h(status);
    h.header("Content-Type", content_type);
    std::string head = h.content_length(body.size()).finish(keep_alive);
    // extra headers go before the final CRLF of the head
    if (!extra_headers.empty()) head.insert(head.size() - 2, extra_headers);
    co_return co_await write_head_and_body(head, body);
}

awaitable<bool> Downstream::write_head_and_body(std::string_view head, std::string_view body) {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(body)};
    co_return co_await write(bufs);
}

awaitable<bool> Downstream::write_head(std::string_view head) {
    std::array<asio::const_buffer, 1> bufs{asio::buffer(head)};
    co_return co_await write(bufs);
}

awaitable<bool> Downstream::write_chunk(std::string_view data) {
    if (data.empty()) co_return true;  // an empty chunk would end the body
    char size_line[20];
    auto r = std::to_chars(size_line, size_line + 16, data.size(), 16);
    r.ptr[0] = '\r';
    r.ptr[1] = '\n';
    std::array<asio::const_buffer, 3> bufs{
        asio::buffer(size_line, static_cast<size_t>(r.ptr + 2 - size_line)), asio::buffer(data),
        asio::buffer("\r\n", 2)};
    co_return co_await write(bufs);
}

awaitable<bool> Downstream::write_last_chunk() {
    std::array<asio::const_buffer, 1> bufs{asio::buffer("0\r\n\r\n", 5)};
    co_return co_await write(bufs);
}

struct Downstream::Watch {
    bool active = true;
    std::function<void()> on_close;
};

void Downstream::watch_disconnect(std::function<void()> on_close) {
    unwatch();
    watch_ = std::make_shared<Watch>();
    watch_->on_close = std::move(on_close);
    if (tls_ != nullptr) {
        tls_->watcher = this;
        // A cancelled read still in flight is re-armed when it ends.
        if (!tls_->watch_reading) arm_tls_watch(*tls_);
        return;
    }
    auto w = watch_;
    auto* self = this;
    struct Arm {
        static void go(std::shared_ptr<Watch> w, Downstream* self) {
            self->stream_.async_wait(
                asio::ip::tcp::socket::wait_read, [w, self](boost::system::error_code ec) {
                    if (!w->active || ec) return;
                    char c;
                    ssize_t n =
                        ::recv(self->stream_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
                    if (n > 0) {  // pipelined bytes, not a close: stop watching
                        w->active = false;
                        return;
                    }
                    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        go(w, self);  // spurious wake-up
                        return;
                    }
                    w->active = false;
                    self->client_gone_ = true;
                    if (w->on_close) w->on_close();
                });
        }
    };
    Arm::go(std::move(w), self);
}

void Downstream::client_left() {
    client_gone_ = true;
    auto w = watch_;  // on_close may unwatch()
    if (w && w->active) {
        w->active = false;
        if (w->on_close) w->on_close();
    }
}

// One read through the TLS stream while the response is written (tls.hpp says why). Reading
// into the session's buffer is safe: the session touches it again only after this read ended.
void Downstream::arm_tls_watch(TlsConnection& tls) {
    tls.watch_reading = true;
    tls.watch_cancelled = false;
    // No deadline on this read: the connection's deadline is set only while a write is in
    // flight (a write that times out closes the socket, which ends this read too).
    tls.stream.async_read_some(
        tls.read_buffer.prepare(kTlsWatchChunk), [&tls](boost::system::error_code ec, size_t n) {
            tls.watch_reading = false;
            const bool cancelled = std::exchange(tls.watch_cancelled, false);
            tls.watch_done.cancel();
            if (n > 0) tls.read_buffer.commit(n);  // a pipelined request: parsed next
            if (tls.watcher == nullptr) return;    // unwatched
            if (n > 0) {                           // not a close: stop watching
                tls.watcher = nullptr;
                return;
            }
            if (cancelled && ec == asio::error::operation_aborted) {
                arm_tls_watch(tls);  // unwatched, then watched again before this read ended
                return;
            }
            std::exchange(tls.watcher, nullptr)->client_left();
        });
}

void Downstream::unwatch() {
    if (tls_ != nullptr) {
        if (watch_) watch_->active = false;
        watch_.reset();
        if (tls_->watcher == this) tls_->watcher = nullptr;
        if (tls_->watch_reading && !tls_->watch_cancelled) {
            tls_->watch_cancelled = true;
            boost::system::error_code ec;
            // cancels only the watch's read: no write is in flight when a handler unwatches
            stream_.cancel(ec);
        }
        return;
    }
    if (watch_) {
        if (watch_->active) {
            watch_->active = false;
            boost::system::error_code ec;
            // cancels only the pending wait: no other operation is outstanding here
            stream_.cancel(ec);
        }
        watch_.reset();
    }
}

}  // namespace baton::server
