#include "baton/upstream/connection.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>

#include "baton/core/recv_buffer.hpp"
#include "baton/core/send_now.hpp"

namespace baton::upstream {

namespace {
constexpr size_t kReadChunk = 16 * 1024;
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
    if (!tls_) {
        tcp().non_blocking(true, opt_ec);  // for send_now() in write_now()
    }
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
    if (write_now(buffers, ec)) co_return ec;
    co_return co_await write_rest(timeout);
}

bool Connection::write_now(std::span<const asio::const_buffer> buffers,
                           boost::system::error_code& ec) {
    ec = {};
    pending_ = buffers;
    if (tls_ || buffers.size() > rest_.size()) return false;
    // At once when the socket takes it all (core/send_now.hpp), else the rest in write_rest().
    const size_t sent = send_now(*tcp_, buffers, ec);
    if (ec) return true;
    pending_ = {rest_.data(), buffers_after(buffers, sent, rest_)};
    return pending_.empty();
}

awaitable<boost::system::error_code> Connection::write_rest(Duration timeout) {
    boost::system::error_code ec;
    deadline_.expires_after(timeout);
    if (tls_) {
        std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, pending_, use_nothrow);
    } else {
        std::tie(ec, std::ignore) = co_await asio::async_write(*tcp_, pending_, use_nothrow);
    }
    deadline_.expires_never();
    pending_ = {};
    co_return deadline_.check(ec);
}

Connection::ReadOp Connection::start_read(Duration timeout) {
    return start_read(Clock::now() + timeout);
}

Connection::ReadOp Connection::start_read(Clock::time_point until) {
    deadline_.expires_at(until);
    auto buf = buffer_.prepare(kReadChunk);
    if (tls_) return tls_->async_read_some(buf, use_nothrow);
    return tcp_->async_read_some(RecvBuffer(buf), use_nothrow);  // (core/recv_buffer.hpp)
}

std::pair<boost::system::error_code, size_t> Connection::end_read(
    std::tuple<boost::system::error_code, size_t> result) {
    deadline_.expires_never();
    const auto [ec, n] = result;
    buffer_.commit(n);
    return {deadline_.check(ec), n};
}

}  // namespace baton::upstream
