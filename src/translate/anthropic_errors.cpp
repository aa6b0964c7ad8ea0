// Error shapes: OpenAI envelope ⇄ Anthropic error body (PROVIDER-FORMATS.md §1.9, §3.7, §4.7).
#include "baton/translate/anthropic_errors.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "baton/openai/error_envelope.hpp"
#include "translate/json_util.hpp"

namespace baton::translate {

using namespace detail;

namespace {

struct OpenAIKind {
    const char* type;
    const char* code;  // nullptr → null
};

OpenAIKind openai_kind(std::string_view anthropic_type, std::string_view message) {
    if (anthropic_type == "invalid_request_error") {
        std::string lower(message);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        // Lets routers trigger a context-window fallback (§4.7).
        if (lower.find("prompt is too long") != std::string::npos) {
            return {"invalid_request_error", "context_length_exceeded"};
        }
        return {"invalid_request_error", nullptr};
    }
    if (anthropic_type == "authentication_error")
        return {"authentication_error", "invalid_api_key"};
    if (anthropic_type == "permission_error") return {"permission_error", nullptr};
    if (anthropic_type == "not_found_error") return {"invalid_request_error", "not_found"};
    if (anthropic_type == "request_too_large")
        return {"invalid_request_error", "request_too_large"};
    if (anthropic_type == "rate_limit_error") return {"rate_limit_error", "rate_limit_exceeded"};
    if (anthropic_type == "billing_error") return {"insufficient_quota", "insufficient_quota"};
    if (anthropic_type == "overloaded_error") return {"api_error", "overloaded"};
    if (anthropic_type == "timeout_error") return {"api_error", "timeout"};
    return {"api_error", nullptr};
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

unsigned error_status(unsigned status) { return status >= 400 && status <= 599 ? status : 502; }

}  // namespace

std::string_view anthropic_error_type_for_status(unsigned status) {
    switch (status) {
        case 400:
            return "invalid_request_error";
        case 401:
            return "authentication_error";
        case 402:
            return "billing_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 503:
        case 529:
            return "overloaded_error";
        case 504:
            return "timeout_error";
        default:
            break;
    }
    return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
}

unsigned status_for_anthropic_error_type(std::string_view type) {
    if (type == "invalid_request_error") return 400;
    if (type == "authentication_error") return 401;
    if (type == "billing_error") return 402;
    if (type == "permission_error") return 403;
    if (type == "not_found_error") return 404;
    if (type == "request_too_large") return 413;
    if (type == "rate_limit_error") return 429;
    if (type == "timeout_error") return 504;
    if (type == "overloaded_error") return 529;
    return 500;
}

json openai_error_object(const json& anthropic_error) {
    const std::string type = str_or(anthropic_error, "type", "api_error");
    const std::string message = str_or(anthropic_error, "message", "upstream error");
    const OpenAIKind k = openai_kind(type, message);
    return {{"message", message},
            {"type", k.type},
            {"param", nullptr},
            {"code", k.code ? json(k.code) : json()}};
}

HttpError anthropic_error_to_openai(unsigned status, std::string_view body) {
    status = error_status(status);
    auto parsed = parse(body);
    const json* err = parsed ? find(*parsed, "error") : nullptr;
    json e;
    if (err && err->is_object() && find(*err, "message")) {
        e = *err;
        if (!find(e, "type")) e["type"] = anthropic_error_type_for_status(status);
    } else {
        e = {{"type", anthropic_error_type_for_status(status)},
             {"message", body_excerpt(body, status)}};
    }
    return {status == 529 ? 503u : status, {{"error", openai_error_object(e)}}};
}

json anthropic_error_object(const json& openai_error, unsigned status) {
    std::string message = str_or(openai_error, "message");
    if (message.empty()) message = "upstream error";
    if (status != 0)
        return {{"type", anthropic_error_type_for_status(status)}, {"message", message}};
    // Inside a stream there is no status: go by the OpenAI type and code.
    const std::string type = str_or(openai_error, "type");
    const std::string code = str_or(openai_error, "code");
    std::string_view out = "api_error";
    if (code == "model_not_found" || code == "not_found") {
        out = "not_found_error";
    } else if (type == "invalid_request_error") {
        out = "invalid_request_error";
    } else if (type == "authentication_error" || code == "invalid_api_key") {
        out = "authentication_error";
    } else if (type == "permission_error") {
        out = "permission_error";
    } else if (type == "insufficient_quota") {
        out = "billing_error";
    } else if (type == "rate_limit_error" || type == "tokens" || type == "requests" ||
               code == "rate_limit_exceeded") {
        out = "rate_limit_error";
    }
    return {{"type", out}, {"message", message}};
}

HttpError openai_error_to_anthropic(unsigned status, std::string_view body) {
    status = error_status(status);
    auto parsed = parse(body);
    const json* err = parsed ? find(*parsed, "error") : nullptr;
    json e;
    if (err && err->is_object()) {
        e = *err;
    } else if (err && err->is_string()) {  // some OpenAI-compatible servers: {"error": "..."}
        e = {{"message", *err}};
    } else {
        e = {{"message", body_excerpt(body, status)}};
    }
    return {status, {{"type", "error"}, {"error", anthropic_error_object(e, status)}}};
}

HttpError anthropic_error(const baton::Error& e) {
    const unsigned status = openai::error_info(e.code).status;
    std::string_view type = anthropic_error_type_for_status(status);
    if (status == 502) type = "api_error";
    return {status, {{"type", "error"}, {"error", {{"type", type}, {"message", e.message}}}}};
}

std::string anthropic_error_body(const baton::Error& e) { return dump(anthropic_error(e).body); }

std::string anthropic_error_sse_event(const baton::Error& e) {
    return "event: error\ndata: " + anthropic_error_body(e) + "\n\n";
}

}  // namespace baton::translate
