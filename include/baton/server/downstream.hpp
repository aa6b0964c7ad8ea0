#pragma once
// The client side of one request: writes a response (complete, or streamed with chunked
// transfer encoding) to the downstream connection. Knows HTTP framing, not SSE or OpenAI.
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"
#include "baton/core/deadline.hpp"

namespace baton::server {

// Builds a response head ("HTTP/1.1 200 OK\r\n...\r\n\r\n") in one string.
class ResponseHead {
  public:
    explicit ResponseHead(unsigned status);
    ResponseHead& header(std::string_view name, std::string_view value);
    ResponseHead& content_length(uint64_t n);
    // Appends already formatted "Name: value\r\n" lines.
    ResponseHead& raw(std::string_view lines) {
        s_.append(lines);
        return *this;
    }
    ResponseHead& chunked();
    // Appends "Connection: close" when !keep_alive and the final CRLF; returns the head.
    std::string finish(bool keep_alive);
    static std::string_view reason(unsigned status);

  private:
    std::string s_;
};

struct TlsConnection;  // src/server/tls.hpp

// Plain TCP and TLS share this class: a TLS connection costs the plain path one pointer test per
// write, no virtual call and no allocation.
class Downstream {
  public:
    Downstream(asio::ip::tcp::socket& socket, Deadline& deadline, Duration write_timeout)
        : stream_(socket), deadline_(deadline), write_timeout_(write_timeout) {}
    // Over a TLS connection (server.tls).
    Downstream(TlsConnection& tls, Duration write_timeout);
    ~Downstream() {
        if (watch_) unwatch();
    }
    Downstream(const Downstream&) = delete;
    Downstream& operator=(const Downstream&) = delete;

    // Whether the connection stays open after this response (set by the session from the
    // request; handlers may clear it).
    bool keep_alive = true;
    // True once any byte of the response was written (the commit point).
    bool committed() const { return committed_; }
    uint64_t bytes_out() const { return bytes_out_; }

    // Complete response: status, extra headers (each "Name: value\r\n" already formatted, may be
    // empty), body. Content-Length is added.
    awaitable<bool> send(unsigned status, std::string_view content_type,
                         std::string_view extra_headers, std::string_view body);
    // Writes a prepared head + body in one gather write.
    awaitable<bool> write_head_and_body(std::string_view head, std::string_view body);
    // The same in two steps, so that a response the socket takes at once costs no coroutine
    // frame: write_now() writes what a plain TCP socket takes without waiting and returns true
    // when nothing is left to do (all written, or the client is gone: client_gone()); else
    // flush() writes the rest (always so over TLS). head and body must outlive flush().
    bool write_now(std::string_view head, std::string_view body);
    awaitable<bool> flush();
    // Streaming: head must declare Transfer-Encoding: chunked.
    awaitable<bool> write_head(std::string_view head);
    awaitable<bool> write_chunk(std::string_view data);
    awaitable<bool> write_last_chunk();

    // Calls on_close once if the client closes the connection while a response is being
    // streamed; more bytes from the client (a pipelined request) end the watch without a call.
    // Cancelled by unwatch(). Used to cancel the upstream request. Plain TCP: a wait for
    // readability and a peek. TLS: a read through the TLS stream (see src/server/tls.hpp).
    void watch_disconnect(std::function<void()> on_close);
    void unwatch();
    bool client_gone() const { return client_gone_; }

  private:
    awaitable<bool> write(std::span<const asio::const_buffer> bufs);
    bool write_now(std::span<const asio::const_buffer> bufs);
    awaitable<bool> write_tls(std::span<const asio::const_buffer> bufs);
    static void arm_tls_watch(TlsConnection& tls);
    void client_left();
    asio::ip::tcp::socket& stream_;  // the TCP layer (under tls_ when set)
    Deadline& deadline_;             // of stream_
    TlsConnection* tls_ = nullptr;
    Duration write_timeout_;
    bool committed_ = false;
    bool client_gone_ = false;
    uint64_t bytes_out_ = 0;
    // What write_now() left for flush(): views into rest_, or the caller's buffers.
    std::span<const asio::const_buffer> pending_;
    std::array<asio::const_buffer, 8> rest_;
    struct Watch;
    std::shared_ptr<Watch> watch_;
};

}  // namespace baton::server
