#pragma once
// One upstream connection (plain TCP or TLS) with its read buffer. Knows bytes and HTTP only,
// never OpenAI schemas.
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>

#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"
#include "baton/core/deadline.hpp"

namespace baton::upstream {

// Where connections go. Pools are keyed by this.
struct Origin {
    bool tls = false;
    std::string host;
    uint16_t port = 0;
    std::shared_ptr<asio::ssl::context> ssl;  // set when tls
    bool verify = true;
    std::string key() const;  // "https://host:port"
};

class Connection {
  public:
    explicit Connection(asio::any_io_executor ex);
    Connection(asio::any_io_executor ex, asio::ssl::context& ctx);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Connects (and handshakes for TLS) within `timeout`. Returns the error, if any.
    awaitable<boost::system::error_code> connect(const Origin& origin, Duration timeout);

    // Gather-writes `buffers` within `timeout`.
    awaitable<boost::system::error_code> write(std::span<const asio::const_buffer> buffers,
                                               Duration timeout);
    // The hot path's write in two steps, so that a write the socket takes at once costs no
    // coroutine frame: write_now() writes what a plain TCP socket takes without waiting and
    // returns true when nothing is left to do (all written, or `ec` set); otherwise (a full
    // socket, or TLS) write_rest() writes the rest within `timeout`. `buffers` must outlive it.
    bool write_now(std::span<const asio::const_buffer> buffers, boost::system::error_code& ec);
    awaitable<boost::system::error_code> write_rest(Duration timeout);

    // Reads some bytes into buffer() within `timeout`, without a coroutine frame of its own:
    //   auto [ec, n] = conn.end_read(co_await conn.start_read(timeout));  // error (eof,
    //   timeout...), count
    // start_read arms the deadline and returns the read operation (not yet started); end_read
    // disarms it, commits the bytes to buffer() and reports a deadline expiry as a timeout.
    using ReadOp = awaitable<std::tuple<boost::system::error_code, size_t>>;
    ReadOp start_read(Duration timeout);
    ReadOp start_read(Clock::time_point until);
    std::pair<boost::system::error_code, size_t> end_read(
        std::tuple<boost::system::error_code, size_t> result);

    beast::flat_buffer& buffer() { return buffer_; }
    asio::ip::tcp::socket& tcp() { return tls_ ? tls_->next_layer() : *tcp_; }
    bool is_tls() const { return tls_ != nullptr; }
    // Closes the socket at once (cancels pending operations). The connection is not reusable.
    void close();

    Clock::time_point last_used{};
    uint32_t requests_served = 0;

  private:
    std::unique_ptr<asio::ip::tcp::socket> tcp_;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> tls_;
    Deadline deadline_;  // of tcp()
    beast::flat_buffer buffer_;
    // What write_now() left for write_rest() (a request is at most 6 buffers).
    std::span<const asio::const_buffer> pending_;
    std::array<asio::const_buffer, 8> rest_;
};

}  // namespace baton::upstream
