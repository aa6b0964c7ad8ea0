#pragma once
// Error mapping between the OpenAI envelope {"error":{"message","type","param","code"}} and the
// Anthropic body {"type":"error","error":{"type","message"}}, both directions, plus Baton's own
// errors in Anthropic shape (for clients of /v1/messages).
//
// Status ⇄ Anthropic error.type:
//   400 invalid_request_error · 401 authentication_error · 402 billing_error · 403
//   permission_error · 404 not_found_error · 413 request_too_large · 429 rate_limit_error ·
//   500 api_error · 504 timeout_error · 529 overloaded_error. Other 4xx →
//   invalid_request_error, 503 → overloaded_error, other 5xx → api_error. (402 and 504 are in the
//   SDK's ErrorType but their statuses are not confirmed by Anthropic's docs.)
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "baton/core/error.hpp"
#include "baton/translate/common.hpp"

namespace baton::translate {

struct HttpError {
    unsigned status = 500;
    Json body;
};

std::string_view anthropic_error_type_for_status(unsigned status);
// Inverse of the table above; unknown types → 500.
unsigned status_for_anthropic_error_type(std::string_view type);

// An Anthropic upstream's error response (status + raw body, which may be non-JSON, e.g. an
// HTML page from a proxy) → what an OpenAI client should receive. The status is kept except
// 529 → 503. type/code: invalid_request_error (code context_length_exceeded when the message
// says the prompt is too long), authentication_error/invalid_api_key, permission_error,
// not_found_error → invalid_request_error/not_found, request_too_large →
// invalid_request_error/request_too_large, rate_limit_error/rate_limit_exceeded, billing_error →
// insufficient_quota, api_error, overloaded_error → api_error/overloaded, timeout_error →
// api_error/timeout. param is always null.
HttpError anthropic_error_to_openai(unsigned status, std::string_view body);
// The OpenAI error object {"message","type","param","code"} for an Anthropic error object
// {"type","message"} (used for stream error events as well).
Json openai_error_object(const Json& anthropic_error);

// An OpenAI-format upstream's error response → what an Anthropic client should receive:
// {"type":"error","error":{"type": <by status, table above>, "message"}}. The status is kept
// (a non-error status becomes 502). Bodies that are not an OpenAI envelope (HTML, plain text,
// {"error":"..."} from some OpenAI-compatible servers) are carried in the message.
HttpError openai_error_to_anthropic(unsigned status, std::string_view body);
// The Anthropic error object {"type","message"} for an OpenAI error object, given the status
// (0 = unknown, e.g. inside a stream: the type decides).
Json anthropic_error_object(const Json& openai_error, unsigned status);

// Baton's own errors (baton::Error, status from openai::error_info) in Anthropic shape, for
// /v1/messages: the body, and the SSE event for failures after a stream started.
HttpError anthropic_error(const baton::Error& e);
std::string anthropic_error_body(const baton::Error& e);
std::string anthropic_error_sse_event(const baton::Error& e);

}  // namespace baton::translate
