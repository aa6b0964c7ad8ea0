#pragma once
// One upstream connection (plain TCP or TLS) with its read buffer. Knows bytes and HTTP only,
// never OpenAI schemas.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>

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
    // Reads some bytes into buffer() within `timeout`; returns error (eof, timeout...) and count.
    awaitable<std::pair<boost::system::error_code, size_t>> read_some(Duration timeout);

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
};

}  // namespace baton::upstream
