#pragma once
#include <boost/asio/ip/tcp.hpp>

#include "baton/core/asio.hpp"
#include "baton/server/worker.hpp"

namespace baton::server {

// One downstream connection: read a request (limits and timeouts), hand it to the worker's
// handler, repeat while keep-alive.
awaitable<void> run_session(asio::ip::tcp::socket socket, Worker& worker);

}  // namespace baton::server
