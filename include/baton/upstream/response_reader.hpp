#pragma once
// Incremental reading of one HTTP/1.1 response from an upstream connection: the head first,
// then the body in pieces as they arrive (de-chunked). Every read has a timeout; bytes already
// buffered are parsed without waiting.
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <optional>

#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"
#include "baton/upstream/connection.hpp"

namespace baton::upstream {

class ResponseReader {
  public:
    explicit ResponseReader(Connection& conn, uint64_t body_limit);

    // Reads until the response head is complete. `received_any` tells whether any byte arrived
    // (a reused connection that fails before any byte may be retried on a fresh one).
    awaitable<boost::system::error_code> read_head(Duration timeout);
    bool received_any() const { return received_any_; }
    const http::response_header<>& head() const { return parser_.get(); }
    unsigned status() const { return parser_.get().result_int(); }
    bool chunked() const { return parser_.chunked(); }
    std::optional<uint64_t> content_length() const {
        auto cl = parser_.content_length();
        return cl ? std::optional<uint64_t>(*cl) : std::nullopt;
    }

    // Reads the next piece of body into dst[0..cap). n == 0 with no error means the body is
    // complete (done() is true).
    awaitable<std::pair<boost::system::error_code, size_t>> read_body(char* dst, size_t cap,
                                                                      Duration timeout);
    bool done() const { return parser_.is_done(); }
    // True if the connection may be reused after done().
    bool keep_alive() const { return parser_.keep_alive(); }

  private:
    Connection& conn_;
    http::response_parser<http::buffer_body> parser_;
    bool received_any_ = false;
};

}  // namespace baton::upstream
