#pragma once
// One upstream response as the relay (Pipeline::relay) sees it, whoever produced it: a real HTTP
// response read from a pooled connection, or the mock provider's scripted one with its faults.
// Both go through the same relay, classification and retry code, so a mock fault shows exactly
// what Baton does when a real provider misbehaves that way.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "baton/config/model.hpp"
#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"
#include "baton/core/http.hpp"
#include "baton/upstream/pool.hpp"
#include "baton/upstream/response_reader.hpp"
#include "context.hpp"

namespace baton::proxy {

inline constexpr uint64_t kMaxUpstreamBody = 64ull << 20;  // non-stream bodies are read whole
inline constexpr size_t kRelayPiece = 16 * 1024;
inline constexpr size_t kMaxErrorBody = 1 << 20;  // chunked error bodies are read up to this

class UpstreamResponse {
  public:
    virtual ~UpstreamResponse() = default;
    virtual unsigned status() const = 0;
    virtual std::span<const http1::HeaderField> headers() const = 0;
    virtual std::optional<uint64_t> content_length() const = 0;
    virtual bool chunked() const = 0;
    // The next piece of body into dst[0..cap). n == 0 without error: the body is complete.
    // A wait longer than `timeout` ends with beast::error::timeout.
    virtual awaitable<std::pair<boost::system::error_code, size_t>> read_body(char* dst, size_t cap,
                                                                              Duration timeout) = 0;
    // read_body without waiting: a result when the piece is already there (or the body is
    // complete), nullopt when read_body would have to wait.
    virtual std::optional<std::pair<boost::system::error_code, size_t>> read_body_now(char*,
                                                                                      size_t) {
        return std::nullopt;
    }
    virtual bool done() const = 0;
    // The relay is through with the response: the connection goes back to the pool when the
    // body was read to its end and the upstream allows keep-alive, else it is closed.
    virtual void finish() = 0;
    // Closes the connection now (failure, or bytes left unread).
    virtual void abandon() = 0;
    // Interrupts a pending read_body (the client went away). Called from another handler while
    // the relay waits: it must not destroy anything the pending read uses.
    virtual void cancel() = 0;
};

// A response being read from a pooled upstream connection.
class PooledResponse final : public UpstreamResponse {
  public:
    PooledResponse(upstream::Lease& lease, upstream::ResponseReader& reader)
        : lease_(lease), reader_(reader) {}
    unsigned status() const override { return reader_.status(); }
    std::span<const http1::HeaderField> headers() const override { return reader_.headers(); }
    std::optional<uint64_t> content_length() const override { return reader_.content_length(); }
    bool chunked() const override { return reader_.chunked(); }
    awaitable<std::pair<boost::system::error_code, size_t>> read_body(char* dst, size_t cap,
                                                                      Duration timeout) override {
        return reader_.read_body(dst, cap, timeout);
    }
    std::optional<std::pair<boost::system::error_code, size_t>> read_body_now(char* dst,
                                                                              size_t cap) override {
        return reader_.read_body_now(dst, cap);
    }
    bool done() const override { return reader_.done(); }
    void finish() override {
        if (reader_.done() && reader_.keep_alive()) {
            lease_.release_clean();
        } else {
            lease_.discard();
        }
    }
    void abandon() override { lease_.discard(); }
    void cancel() override { lease_->close(); }

  private:
    upstream::Lease& lease_;
    upstream::ResponseReader& reader_;
};

// ---- small helpers shared by the pipeline's files ------------------------------------------

using http1::iequals;

// Upstream response headers not copied to the client (hop-by-hop or set by us). Dispatched on
// the length first: this runs for every header of every answer.
inline bool skip_upstream_header(std::string_view name) {
    switch (name.size()) {
        case 2:
            return iequals(name, "te");
        case 4:
            return iequals(name, "date");
        case 6:
            return iequals(name, "server");
        case 7:
            return iequals(name, "trailer") || iequals(name, "upgrade") || iequals(name, "alt-svc");
        case 10:
            return iequals(name, "connection") || iequals(name, "keep-alive") ||
                   iequals(name, "set-cookie");
        case 12:
            return iequals(name, "x-request-id");
        case 14:
            return iequals(name, "content-length");
        case 16:
            return iequals(name, "proxy-connection");
        case 17:
            return iequals(name, "transfer-encoding");
        default:
            return false;
    }
}

// `a`, but no longer than what is left until `deadline` (at least 1 ms).
inline Duration min_left(Duration a, Clock::time_point deadline) {
    auto left = deadline - Clock::now();
    if (left < Duration(1'000'000)) left = Duration(1'000'000);
    return std::min(a, left);
}

inline double request_cost(const config::Model& m, uint64_t prompt, uint64_t completion) {
    return (static_cast<double>(prompt) * m.price.input +
            static_cast<double>(completion) * m.price.output) /
           1e6;
}

inline Attempt gateway_failure(Outcome o, Errc code, std::string message) {
    Attempt a;
    a.outcome = o;
    a.error = make_error(code, std::move(message));
    return a;
}

// A 200 response that cannot be a chat completion: not JSON, or a JSON error object.
inline bool malformed_success(std::string_view content_type, std::string_view body) {
    if (content_type.find("json") == std::string_view::npos) return true;
    size_t i = body.find_first_not_of(" \t\r\n");
    if (i == std::string_view::npos || body[i] != '{') return true;
    size_t k = body.find_first_not_of(" \t\r\n", i + 1);
    return k != std::string_view::npos && body.compare(k, 7, "\"error\"") == 0;
}

}  // namespace baton::proxy
