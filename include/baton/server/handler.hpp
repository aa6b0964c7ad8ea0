#pragma once
// The server's only view of the request pipeline.
#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"
#include "baton/server/downstream.hpp"
#include "baton/server/request.hpp"

namespace baton::server {

struct Request {
    HttpRequest& msg;
    Clock::time_point received;  // when the first byte of the request arrived
    Clock::time_point parsed;    // when the request was complete
    uint64_t bytes_in = 0;
};

class RequestHandler {
  public:
    virtual ~RequestHandler() = default;
    // Handles one request and writes its response to `out`.
    virtual awaitable<void> handle(Request& req, Downstream& out) = 0;
    // An error detected by the server before the request was complete (431, 413, 408, 400).
    virtual awaitable<void> reject(unsigned status, std::string_view message, Downstream& out) = 0;
};

}  // namespace baton::server
