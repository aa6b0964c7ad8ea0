#pragma once
// One HTTP/1.x request as the server hands it to the pipeline, and the incremental parser that
// fills it.
//
// Why not Beast's parser: it allocated a node per header field (kept in a list and a
// case-insensitive tree) and cost ~7.5k instructions per request, the largest user-space item
// on the proxy path (docs/benchmarks.md). Here the head is copied once into a buffer the request
// keeps, the fields are views into it in a flat array, and lookups are linear (requests carry
// a dozen fields). A request object is reused for every request of a connection, so a
// keep-alive connection allocates nothing per request once its buffers have grown (a body
// buffer over 16 KiB is released after its request, so idle connections stay small).
//
// The grammar is RFC 9112's, strictly: CRLF line endings, no obs-fold, token method and field
// names, no control characters in values, HTTP/1.0 or 1.1. Content-Length and chunked
// Transfer-Encoding bodies (trailers are read and dropped); a request with both, a
// Transfer-Encoding other than chunked, or conflicting Content-Lengths is rejected, so Baton and
// an upstream can never disagree about where a request ends.
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "baton/core/asio.hpp"
#include "baton/core/http.hpp"

namespace baton::server {

using HeaderField = http1::HeaderField;

class HttpRequest {
  public:
    http::verb method() const { return verb_; }
    std::string_view method_string() const { return method_; }
    std::string_view target() const { return target_; }
    unsigned version() const { return version_; }  // 10 or 11
    // Whether the client allows the connection to stay open (HTTP/1.1 unless "Connection:
    // close"; HTTP/1.0 only with "Connection: keep-alive").
    bool keep_alive() const { return keep_alive_; }

    // The first field named `name` (ASCII case-insensitive), or nullptr.
    const HeaderField* find(std::string_view name) const { return http1::find(fields_, name); }
    // Its value, or "" when absent.
    std::string_view operator[](std::string_view name) const {
        const HeaderField* f = find(name);
        return f ? f->value : std::string_view{};
    }
    std::span<const HeaderField> fields() const { return fields_; }

    std::string& body() { return body_; }
    const std::string& body() const { return body_; }

  private:
    friend class RequestParser;
    std::string head_;  // request line and fields as received; the views point here
    std::vector<HeaderField> fields_;
    std::string body_;
    std::string_view method_;
    std::string_view target_;
    http::verb verb_ = http::verb::unknown;
    unsigned version_ = 11;
    bool keep_alive_ = true;
};

class RequestParser {
  public:
    enum class Status { need_more, done, bad_request, header_too_large, body_too_large };

    RequestParser(uint32_t max_header_bytes, uint64_t max_body_bytes)
        : max_header_(max_header_bytes), max_body_(max_body_bytes) {}

    // Starts a new request that will be parsed into `req` (its buffers keep their capacity,
    // unless a previous body made them large).
    void reset(HttpRequest& req);
    // Parses bytes of the stream. Returns how many were used: with Status::done the rest
    // belongs to the next request (pipelining). After an error the parser must be reset.
    size_t put(std::string_view in, Status& status);
    bool header_done() const { return state_ != State::head; }
    // While a Content-Length body is being received: the part of the body still to come, in
    // place, so that the session can read large bodies straight into it (no copy through the
    // read buffer). Report what was read with body_received(); empty otherwise.
    std::span<char> body_space();
    void body_received(size_t n);
    // Why the last put() failed, for logs.
    std::string_view error() const { return error_; }

  private:
    enum class State { head, body_length, chunked, done };
    Status fail(Status s, std::string_view why) {
        error_ = why;
        return s;
    }
    Status parse_head();

    HttpRequest* req_ = nullptr;
    uint32_t max_header_;
    uint64_t max_body_;
    State state_ = State::head;
    uint64_t remaining_ = 0;  // Content-Length bytes still expected
    http1::ChunkedDecoder chunks_;
    std::string_view error_;
};

}  // namespace baton::server
