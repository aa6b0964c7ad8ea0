#pragma once
// Private to the Gemini translators: reading a Candidate (shared by the response and stream
// translators) and making tool call ids.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "baton/translate/common.hpp"
#include "translate/json_util.hpp"

namespace baton::translate::detail {

struct GeminiCall {
    std::string id;  // functionCall.id ("" when the upstream sent none)
    std::string name;
    std::string arguments;  // serialised args (an object; "{}" when absent)
    std::string signature;  // the part's thoughtSignature ("" when none)
};

// What one Candidate holds, parts in order folded by kind.
struct GeminiCandidate {
    int64_t index = 0;
    std::string text;  // non-thought text parts, concatenated
    bool have_text = false;
    std::string reasoning;  // thought:true text parts, concatenated
    bool have_reasoning = false;
    std::vector<GeminiCall> calls;
    std::string finish_reason;  // raw finishReason; "" when absent
};

// Reads candidates[position] (path: its JSON path in the upstream document, for error params).
// A candidate without content (blocked, or a finishReason-only stream event) has no parts.
// Errors: Errc::upstream_protocol for a value of the wrong type.
Result<GeminiCandidate> read_gemini_candidate(const json& candidate, size_t position,
                                              const std::string& path);

// The id given to the k-th function call (0-based) of candidate `candidate` when the upstream
// sent no functionCall.id: "call_<8 hex digits of a hash of base>_<k>" ("call_<k>" without a
// base; "_c<candidate>" is inserted for candidates other than 0). `base` is the response id, so
// the ids are deterministic, equal for a stream and its non-streamed counterpart, and distinct
// across the turns of a conversation.
std::string gemini_call_id(std::string_view base, int64_t candidate, int64_t k);

// A tool call in OpenAI shape (as in message.tool_calls; the stream adds "index").
json openai_tool_call(const GeminiCall& call, const std::string& id, bool with_signature);

// True for finish reasons that end a candidate (anything but "" and FINISH_REASON_UNSPECIFIED).
bool is_terminal_finish(std::string_view finish_reason);

}  // namespace baton::translate::detail

namespace baton::translate::detail {

// A JSON Schema from the client → the OpenAPI 3.0 subset accepted by Gemini's Schema
// (GeminiSchemaMode::openapi; rules in gemini.hpp). `path` is the schema's JSON path in the chat
// request; every removed keyword is appended to `dropped` as "<path>.<…>.<keyword>".
json gemini_openapi_schema(const json& schema, const std::string& path,
                           std::vector<std::string>& dropped);

}  // namespace baton::translate::detail
