#include "baton/server/worker.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "baton/core/error.hpp"
#include "session.hpp"

namespace baton::server {

Worker::Worker(Limits limits, std::atomic<int64_t>& open_connections)
    : limits_(limits), open_connections_(open_connections) {}

Worker::~Worker() {
    // Coroutines still pending (a drain timeout stops the worker mid-request) are destroyed
    // here, while the session list, the handler (its pools and budget holds) and the acceptor
    // they use still exist; only then are the members destroyed.
    ioc_.shutdown_now();
}

uint16_t Worker::listen(const std::string& host, uint16_t port) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) throw ConfigError("server.listen: invalid address \"" + host + "\"");
    asio::ip::tcp::endpoint ep(addr, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
        int one = 1;
        ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        throw ConfigError("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                          ec.message());
    }
    return acceptor_.local_endpoint().port();
}

void Worker::set_tls(std::shared_ptr<ssl_ctx_st> ctx) {
    if (!started_) {
        tls_ctx_ = std::move(ctx);
        return;
    }
    asio::post(ioc_, [this, c = std::move(ctx)]() mutable { tls_ctx_ = std::move(c); });
}

void Worker::start() {
    started_ = true;
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
}

void Worker::run() { ioc_.run(); }

void Worker::drain() {
    asio::post(ioc_, [this] {
        draining_.store(true, std::memory_order_relaxed);
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (auto& s : session_list_) {
            if (s.idle && s.socket) s.socket->close(ec);
        }
    });
}

std::list<Worker::SessionState>::iterator Worker::register_session(asio::ip::tcp::socket* s) {
    sessions_.fetch_add(1, std::memory_order_relaxed);
    return session_list_.insert(session_list_.end(), SessionState{s, true});
}

void Worker::unregister_session(std::list<SessionState>::iterator it) {
    session_list_.erase(it);
    sessions_.fetch_sub(1, std::memory_order_relaxed);
}

awaitable<void> Worker::accept_loop() {
    for (;;) {
        auto [ec, sock] = co_await acceptor_.async_accept(use_nothrow);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
            spdlog::warn("accept failed: {}", ec.message());
            if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
                asio::steady_timer t(ioc_, std::chrono::milliseconds(50));
                co_await t.async_wait(use_nothrow);
            }
            continue;
        }
        if (open_connections_.fetch_add(1, std::memory_order_relaxed) >=
            static_cast<int64_t>(limits_.max_connections)) {
            open_connections_.fetch_sub(1, std::memory_order_relaxed);
            boost::system::error_code cec;
            sock.close(cec);  // over the connection cap: refuse
            continue;
        }
        auto done = [this](std::exception_ptr e) {
            open_connections_.fetch_sub(1, std::memory_order_relaxed);
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    spdlog::error("session crashed: {}", ex.what());
                }
            }
        };
        if (tls_ctx_) {
            asio::co_spawn(ioc_, run_tls_session(std::move(sock), *this, tls_ctx_), done);
        } else {
            asio::co_spawn(ioc_, run_session(std::move(sock), *this), done);
        }
    }
}

}  // namespace baton::server
