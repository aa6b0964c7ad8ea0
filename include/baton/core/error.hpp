#pragma once
// Errors on the data plane are values (baton::Error), never exceptions.
// One table (openai/error_envelope.cpp) maps Errc to an HTTP status and OpenAI error type/code.
#include <boost/assert/source_location.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace baton {

enum class Errc {
    invalid_json,                  // 400: body is not valid JSON (message says where)
    invalid_request,               // 400: valid JSON, wrong shape (param names the field)
    unauthenticated,               // 401
    forbidden,                     // 403
    not_found,                     // 404: unknown path
    model_not_found,               // 404: unknown model (message lists what exists)
    method_not_allowed,            // 405
    request_timeout,               // 408: client too slow sending the request
    payload_too_large,             // 413
    unprocessable,                 // 422: no candidate satisfies the request
    rate_limited,                  // 429
    header_too_large,              // 431
    upstream_connect,              // 502: refused, DNS, TLS
    upstream_protocol,             // 502: malformed upstream response
    upstream_timeout,              // 504
    unavailable,                   // 503: draining / overloaded
    provider_credentials_missing,  // 401: provider's api key env var unset
    internal,                      // 500
};

struct Error {
    Errc code = Errc::internal;
    std::string message;
    std::string param;  // JSON path of the offending field, e.g. "messages[2].role"
};

inline Error make_error(Errc code, std::string message, std::string param = {}) {
    return Error{code, std::move(message), std::move(param)};
}

// The one exception type: control plane only (startup, reload). Caught in main() and the reload
// controller.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// boost::system::result<T, Error>::value() finds this by ADL (Boost 1.81 ships overloads only for
// error_code and friends). The data plane uses has_value()/operator* instead.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

}  // namespace baton
