#pragma once
// Incremental reading of one HTTP/1.1 response from an upstream connection: the head first,
// then the body in pieces as they arrive (de-chunked). Every read has a timeout; bytes already
// buffered are parsed without waiting.
//
// The head is copied once into a buffer the reader owns and its fields are views into it (see
// core/http.hpp): no allocation per field, unlike Beast's parser, which this replaced (it cost
// ~5k instructions per proxied response, docs/benchmarks.md). Interim 1xx responses (100
// Continue, 103 Early Hints) are skipped.
#include <boost/beast/http/error.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"
#include "baton/core/http.hpp"
#include "baton/upstream/connection.hpp"

namespace baton::upstream {

class ResponseReader {
  public:
    // Bodies larger than `body_limit` end with http::error::body_limit.
    explicit ResponseReader(Connection& conn, uint64_t body_limit)
        : conn_(conn), body_limit_(body_limit) {
        head_.reserve(1024);  // one allocation each for the usual head
        fields_.reserve(16);
    }

    // Reads until the response head is complete. `received_any` tells whether any byte arrived
    // (a reused connection that fails before any byte may be retried on a fresh one).
    awaitable<boost::system::error_code> read_head(Duration timeout);
    // The same with the time it must be complete by (no clock read on the way).
    awaitable<boost::system::error_code> read_head(Clock::time_point until);
    bool received_any() const { return received_any_; }
    unsigned status() const { return status_; }
    std::span<const http1::HeaderField> headers() const { return fields_; }
    bool chunked() const { return kind_ == Body::chunked; }
    std::optional<uint64_t> content_length() const {
        return kind_ == Body::length ? std::optional<uint64_t>(length_) : std::nullopt;
    }

    // Reads the next piece of body into dst[0..cap). n == 0 with no error means the body is
    // complete (done() is true).
    awaitable<std::pair<boost::system::error_code, size_t>> read_body(char* dst, size_t cap,
                                                                      Duration timeout);
    // The same when it needs no wait (bytes already buffered, or the body complete); nullopt
    // when it would have to read. Saves a coroutine frame per call on the common path.
    std::optional<std::pair<boost::system::error_code, size_t>> read_body_now(char* dst,
                                                                              size_t cap);
    bool done() const { return done_; }
    // True if the connection may be reused after done().
    bool keep_alive() const { return keep_alive_ && kind_ != Body::until_close; }

  private:
    enum class Body { none, length, chunked, until_close };
    // Parses head_ (complete). Returns an error for a malformed head.
    boost::system::error_code parse_head();

    Connection& conn_;
    uint64_t body_limit_;
    std::string head_;
    std::vector<http1::HeaderField> fields_;
    unsigned status_ = 0;
    bool keep_alive_ = true;
    Body kind_ = Body::none;
    uint64_t length_ = 0;     // Content-Length
    uint64_t remaining_ = 0;  // of a Content-Length body
    uint64_t body_bytes_ = 0;
    http1::ChunkedDecoder chunks_;
    bool done_ = false;
    bool received_any_ = false;
};

}  // namespace baton::upstream
