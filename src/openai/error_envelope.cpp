#include "baton/openai/error_envelope.hpp"

#include <nlohmann/json.hpp>

namespace baton::openai {

ErrorInfo error_info(Errc code) {
    switch (code) {
        case Errc::invalid_json:
            return {400, "invalid_request_error", "invalid_json"};
        case Errc::invalid_request:
            return {400, "invalid_request_error", nullptr};
        case Errc::unauthenticated:
            return {401, "authentication_error", "invalid_api_key"};
        case Errc::provider_credentials_missing:
            return {401, "authentication_error", "provider_credentials_missing"};
        case Errc::forbidden:
            return {403, "permission_error", "forbidden"};
        case Errc::not_found:
            return {404, "invalid_request_error", "not_found"};
        case Errc::model_not_found:
            return {404, "invalid_request_error", "model_not_found"};
        case Errc::method_not_allowed:
            return {405, "invalid_request_error", "method_not_allowed"};
        case Errc::request_timeout:
            return {408, "invalid_request_error", "request_timeout"};
        case Errc::payload_too_large:
            return {413, "invalid_request_error", "request_too_large"};
        case Errc::unprocessable:
            return {422, "invalid_request_error", "no_candidate"};
        case Errc::rate_limited:
            return {429, "rate_limit_error", "rate_limit_exceeded"};
        case Errc::header_too_large:
            return {431, "invalid_request_error", "request_header_fields_too_large"};
        case Errc::upstream_connect:
            return {502, "api_error", "upstream_unreachable"};
        case Errc::upstream_protocol:
            return {502, "api_error", "upstream_protocol_error"};
        case Errc::upstream_timeout:
            return {504, "api_error", "upstream_timeout"};
        case Errc::unavailable:
            return {503, "api_error", "unavailable"};
        case Errc::internal:
            break;
    }
    return {500, "api_error", "internal_error"};
}

std::string error_body(const Error& e) {
    const ErrorInfo info = error_info(e.code);
    nlohmann::ordered_json err;
    err["message"] = e.message;
    err["type"] = info.type;
    err["param"] =
        e.param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.param);
    err["code"] = info.code ? nlohmann::ordered_json(info.code) : nlohmann::ordered_json(nullptr);
    nlohmann::ordered_json body;
    body["error"] = std::move(err);
    // Messages may quote bytes from a peer: never throw on invalid UTF-8, substitute U+FFFD.
    return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string error_sse_event(const Error& e) {
    std::string body = error_body(e);
    std::string out;
    out.reserve(body.size() + 8);
    out += "data: ";
    out += body;
    out += "\n\n";
    return out;
}

}  // namespace baton::openai
