#include "baton/upstream/connection.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>

#include "baton/core/send_now.hpp"

namespace baton::upstream {

namespace {
constexpr size_t kReadChunk = 16 * 1024;
// The most buffers one write sends at once without the async path (the request is 6 pieces).
constexpr size_t kMaxWriteBuffers = 8;
}  // namespace

std::string Origin::key() const {
    return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

Connection::Connection(asio::any_io_executor ex)
    : tcp_(std::make_unique<asio::ip::tcp::socket>(ex)), deadline_(*tcp_) {
    buffer_.reserve(kReadChunk);
}

Connection::Connection(asio::any_io_executor ex, asio::ssl::context& ctx)
    : tls_(std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(ex, ctx)),
      deadline_(tls_->next_layer()) {
    buffer_.reserve(kReadChunk);
}

Connection::~Connection() = default;

void Connection::close() {
    boost::system::error_code ec;
    tcp().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    tcp().close(ec);
}

awaitable<boost::system::error_code> Connection::connect(const Origin& origin, Duration timeout) {
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(ex);
    auto [rec, results] =
        co_await resolver.async_resolve(origin.host, std::to_string(origin.port), use_nothrow);
    if (rec) co_return rec;
    deadline_.expires_after(timeout);
    auto [raw_cec, ep] = co_await asio::async_connect(tcp(), results, use_nothrow);
    deadline_.expires_never();
    if (auto cec = deadline_.check(raw_cec)) co_return cec;
    boost::system::error_code opt_ec;
    tcp().set_option(asio::ip::tcp::no_delay(true), opt_ec);
    if (!tls_) tcp().non_blocking(true, opt_ec);  // for send_now() in write()
    if (tls_) {
        // SNI (not for IP literals) and host-name verification.
        boost::system::error_code addr_ec;
        asio::ip::make_address(origin.host, addr_ec);
        if (addr_ec && !SSL_set_tlsext_host_name(tls_->native_handle(), origin.host.c_str())) {
            co_return boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                                asio::error::get_ssl_category());
        }
        if (origin.verify) {
            tls_->set_verify_mode(asio::ssl::verify_peer);
            tls_->set_verify_callback(asio::ssl::host_name_verification(origin.host));
        } else {
            tls_->set_verify_mode(asio::ssl::verify_none);
        }
        deadline_.expires_after(timeout);
        auto [hec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, use_nothrow);
        deadline_.expires_never();
        if (hec) co_return deadline_.check(hec);
    }
    co_return boost::system::error_code{};
}

awaitable<boost::system::error_code> Connection::write(std::span<const asio::const_buffer> buffers,
                                                       Duration timeout) {
    boost::system::error_code ec;
    if (tls_) {
        deadline_.expires_after(timeout);
        std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, buffers, use_nothrow);
        deadline_.expires_never();
        co_return deadline_.check(ec);
    }
    // At once when the socket takes it all (core/send_now.hpp), else the rest under `timeout`.
    std::array<asio::const_buffer, kMaxWriteBuffers> rest;
    std::span<const asio::const_buffer> pending = buffers;
    if (buffers.size() <= rest.size()) {
        const size_t sent = send_now(*tcp_, buffers, ec);
        if (ec) co_return ec;
        pending = {rest.data(), buffers_after(buffers, sent, rest)};
        if (pending.empty()) co_return ec;
    }
    deadline_.expires_after(timeout);
    std::tie(ec, std::ignore) = co_await asio::async_write(*tcp_, pending, use_nothrow);
    deadline_.expires_never();
    co_return deadline_.check(ec);
}

awaitable<std::pair<boost::system::error_code, size_t>> Connection::read_some(Duration timeout) {
    deadline_.expires_after(timeout);
    auto buf = buffer_.prepare(kReadChunk);
    boost::system::error_code ec;
    size_t n = 0;
    if (tls_) {
        std::tie(ec, n) = co_await tls_->async_read_some(buf, use_nothrow);
    } else {
        std::tie(ec, n) = co_await tcp_->async_read_some(buf, use_nothrow);
    }
    deadline_.expires_never();
    buffer_.commit(n);
    co_return std::pair{deadline_.check(ec), n};
}

}  // namespace baton::upstream
