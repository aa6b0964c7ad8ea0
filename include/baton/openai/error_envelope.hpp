#pragma once
// The only place that formats API error JSON:
// {"error":{"message":...,"type":...,"param":...,"code":...}}
#include <string>

#include "baton/core/error.hpp"

namespace baton::openai {

struct ErrorInfo {
    unsigned status;   // HTTP status
    const char* type;  // OpenAI error.type, e.g. "invalid_request_error"
    const char* code;  // OpenAI error.code, e.g. "model_not_found" (nullptr → JSON null)
};

ErrorInfo error_info(Errc code);

// Serialises the envelope. param empty → null.
std::string error_body(const Error& e);

// An SSE event carrying an error in the same shape, for failures after a stream started:
// "data: {\"error\":{...}}\n\n"
std::string error_sse_event(const Error& e);

}  // namespace baton::openai
