#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "baton/core/asio.hpp"
#include "baton/server/worker.hpp"

namespace baton::server {

// One downstream connection: read a request (limits and timeouts), hand it to the worker's
// handler, repeat while keep-alive.
awaitable<void> run_session(asio::ip::tcp::socket socket, Worker& worker);

// The same over TLS with the listener's context `ctx` (server.tls): the handshake must complete
// within header_read; the connection keeps its context for life (a reload affects only new
// connections).
awaitable<void> run_tls_session(asio::ip::tcp::socket socket, Worker& worker,
                                std::shared_ptr<ssl_ctx_st> ctx);

}  // namespace baton::server
