// Gemini error bodies (google.rpc.Status as JSON) → OpenAI error envelope
// (PROVIDER-FORMATS.md §5.5, §5.6 "Errors").
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include "baton/translate/gemini.hpp"
#include "translate/json_util.hpp"

namespace baton::translate {

using namespace detail;

namespace {

struct Kind {
    unsigned status;   // HTTP status for the client
    const char* type;  // OpenAI error.type
    const char* code;  // OpenAI error.code (nullptr → null)
};

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool has_reason(const json& err, std::string_view reason) {
    const json* details = find(err, "details");
    if (!details || !details->is_array()) return false;
    return std::any_of(details->begin(), details->end(),
                       [&](const json& d) { return str_or(d, "reason") == reason; });
}

Kind kind_for_status(unsigned http) {
    switch (http) {
        case 401:
            return {http, "authentication_error", "invalid_api_key"};
        case 403:
            return {http, "permission_error", nullptr};
        case 404:
            return {http, "invalid_request_error", "not_found"};
        case 413:
            return {http, "invalid_request_error", "request_too_large"};
        case 429:
            return {http, "rate_limit_error", "rate_limit_exceeded"};
        case 503:
            return {http, "api_error", "overloaded"};
        case 504:
            return {http, "api_error", "timeout"};
        default:
            break;
    }
    if (http >= 400 && http < 500) return {http, "invalid_request_error", nullptr};
    return {http, "api_error", nullptr};
}

// `http`: the HTTP status of the response (0 inside a stream: error.code is used).
Kind classify(const json& err, unsigned http) {
    if (http == 0) {
        const int64_t code = int_or(err, "code");
        http = code >= 400 && code <= 599 ? static_cast<unsigned>(code) : 500;
    }
    const std::string status = str_or(err, "status");
    const std::string message = lower(str_or(err, "message"));
    if (status == "INVALID_ARGUMENT" || (status.empty() && http == 400)) {
        if (has_reason(err, "API_KEY_INVALID") ||
            message.find("api key not valid") != std::string::npos) {
            return {401, "authentication_error", "invalid_api_key"};
        }
        // "The input token count (1054016) exceeds the maximum number of tokens allowed
        // (1048576)." Lets routers trigger a context-window fallback.
        if (message.find("input token count") != std::string::npos &&
            message.find("exceeds the maximum") != std::string::npos) {
            return {http, "invalid_request_error", "context_length_exceeded"};
        }
        if (message.find("payload size exceeds") != std::string::npos) {
            return {http, "invalid_request_error", "request_too_large"};
        }
        return {http, "invalid_request_error", nullptr};
    }
    if (status == "FAILED_PRECONDITION" || status == "OUT_OF_RANGE" || status == "ALREADY_EXISTS") {
        return {http, "invalid_request_error", nullptr};
    }
    if (status == "UNAUTHENTICATED") return {http, "authentication_error", "invalid_api_key"};
    if (status == "PERMISSION_DENIED") return {http, "permission_error", nullptr};
    if (status == "NOT_FOUND") {
        const bool model =
            message.find("models/") != std::string::npos || message.find("model") == 0;
        return {http, "invalid_request_error", model ? "model_not_found" : "not_found"};
    }
    if (status == "RESOURCE_EXHAUSTED") return {http, "rate_limit_error", "rate_limit_exceeded"};
    if (status == "UNAVAILABLE") return {http, "api_error", "overloaded"};
    if (status == "DEADLINE_EXCEEDED") return {http, "api_error", "timeout"};
    if (!status.empty() && http >= 500) return {http, "api_error", nullptr};
    return kind_for_status(http);
}

// A non-JSON (or non-conforming) error body, shortened for a message.
std::string body_excerpt(std::string_view body, unsigned status) {
    std::string s(body.substr(0, 300));
    for (auto& c : s) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    const size_t b = s.find_first_not_of(' ');
    if (b == std::string::npos) return "upstream returned HTTP " + std::to_string(status);
    s.erase(0, b);
    s.erase(s.find_last_not_of(' ') + 1);
    return "upstream returned HTTP " + std::to_string(status) + ": " + s;
}

// The error object of a body: {"error":{…}} or [{"error":{…}}] (non-SSE stream endpoint).
const json* error_member(const json& doc) {
    const json* d = &doc;
    if (d->is_array() && !d->empty()) d = &(*d)[0];
    return find(*d, "error");
}

}  // namespace

json openai_error_object_from_gemini(const json& gemini_error, unsigned http_status) {
    const Kind k = classify(gemini_error, http_status);
    std::string message = str_or(gemini_error, "message");
    if (message.empty()) message = "upstream error";
    return {{"message", message},
            {"type", k.type},
            {"param", nullptr},
            {"code", k.code ? json(k.code) : json()}};
}

HttpError gemini_error_to_openai(unsigned status, std::string_view body) {
    status = status >= 400 && status <= 599 ? status : 502;
    auto parsed = parse(body);
    const json* err = parsed ? error_member(*parsed) : nullptr;
    if (err && err->is_object() && find(*err, "message")) {
        const Kind k = classify(*err, status);
        return {k.status, {{"error", openai_error_object_from_gemini(*err, status)}}};
    }
    const Kind k = kind_for_status(status);
    const std::string message =
        err && err->is_string() ? err->get<std::string>() : body_excerpt(body, status);
    return {status,
            {{"error",
              {{"message", message},
               {"type", k.type},
               {"param", nullptr},
               {"code", k.code ? json(k.code) : json()}}}}};
}

std::optional<uint32_t> gemini_retry_delay_seconds(std::string_view body) {
    auto parsed = parse(body);
    const json* err = parsed ? error_member(*parsed) : nullptr;
    const json* details = err ? find(*err, "details") : nullptr;
    if (!details || !details->is_array()) return std::nullopt;
    for (const auto& d : *details) {
        const std::string type = str_or(d, "@type");
        if (type.size() < 9 || type.compare(type.size() - 9, 9, "RetryInfo") != 0) continue;
        const std::string delay = str_or(d, "retryDelay");  // proto Duration: "26s", "1.5s"
        if (delay.size() < 2 || delay.back() != 's') return std::nullopt;
        char* end = nullptr;
        const double secs = std::strtod(delay.c_str(), &end);
        if (end != delay.c_str() + delay.size() - 1 || !(secs >= 0) || secs > 86400) {
            return std::nullopt;
        }
        return static_cast<uint32_t>(std::ceil(secs));
    }
    return std::nullopt;
}

}  // namespace baton::translate
