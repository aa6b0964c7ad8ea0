#pragma once
// OpenAI Chat Completions (Baton's canonical format) → Google Gemini generateContent, and the
// way back: request, response, stream (streamGenerateContent?alt=sse) and errors. Pure functions
// and one small state machine: no I/O, no credentials, never throws. The rules, and what is
// lossy, are listed in docs/providers.md ("Gemini translation"); the wire formats are described
// in shared/design/PROVIDER-FORMATS.md §5.
//
// The model is not part of a Gemini body: it goes in the URL
// (…/v1beta/models/{model}:generateContent, or :streamGenerateContent?alt=sse when the client
// asked for `stream`).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "baton/core/error.hpp"
#include "baton/translate/anthropic_errors.hpp"  // HttpError
#include "baton/translate/common.hpp"

namespace baton::translate {

// Where JSON schemas from the client (tools[].function.parameters, response_format.json_schema)
// go in the Gemini request.
enum class GeminiSchemaMode {
    // FunctionDeclaration.parameters / generationConfig.responseSchema: the OpenAPI 3.0 subset
    // every Gemini model accepts. The schema is rewritten: local $refs ("#/$defs/…",
    // "#/definitions/…") are inlined, type [T, "null"] becomes type T + nullable, const becomes a
    // one-value enum, oneOf becomes anyOf, a single-element allOf is merged; keywords Gemini
    // rejects (additionalProperties, $schema, $id, strict, exclusiveMinimum, patternProperties,
    // …) are removed and listed in Translated::dropped.
    openapi,
    // FunctionDeclaration.parametersJsonSchema / generationConfig.responseJsonSchema: the schema
    // is forwarded as JSON Schema (Gemini 2.5 and later).
    json_schema,
};

// How `reasoning_effort` becomes generationConfig.thinkingConfig.
enum class GeminiThinkingStyle {
    budget,  // thinkingBudget: N tokens (Gemini 2.5)
    level,   // thinkingLevel: "low" | "high" | … (Gemini 3)
};

struct GeminiRequestOptions {
    GeminiSchemaMode schema_mode = GeminiSchemaMode::openapi;
    // fileData.mimeType for an http(s):// or gs:// image URL whose extension does not tell.
    std::string default_image_mime = "image/jpeg";
    // A tool result that is not a JSON object is sent as functionResponse.response =
    // {<function_response_key>: <result>} (Gemini requires an object).
    std::string function_response_key = "result";
    // Also send the OpenAI tool_call ids as functionCall.id / functionResponse.id. Off by
    // default: calls and results are paired by name and order, which every Gemini endpoint
    // accepts.
    bool send_function_call_ids = false;
    // thoughtSignature set on the first functionCall part of a model turn that carries none
    // (history from another model, or a client that dropped extra_content). Gemini 3 rejects
    // function calls without a signature; Google documents this value for such histories.
    // Empty: send no signature.
    std::string missing_thought_signature = "skip_thought_signature_validator";

    // reasoning_effort → thinkingConfig. Efforts: none, minimal, low, medium, high (xhigh and
    // max count as high).
    GeminiThinkingStyle thinking_style = GeminiThinkingStyle::budget;
    // thinkingBudget per effort (ThinkingStyle::budget); -1 = let the model decide.
    int32_t budget_none = 0;
    int32_t budget_minimal = 512;
    int32_t budget_low = 1024;
    int32_t budget_medium = 8192;
    int32_t budget_high = 24576;
    // thinkingLevel per effort (ThinkingStyle::level); an empty string sends no thinkingConfig.
    std::string level_none = "minimal";
    std::string level_minimal = "minimal";
    std::string level_low = "low";
    std::string level_medium = "medium";
    std::string level_high = "high";
    // thinkingConfig.includeThoughts when a reasoning effort other than none is requested: the
    // thought summaries come back as message.reasoning_content.
    bool include_thoughts = true;
};

// OpenAI chat request → Gemini GenerateContentRequest body. The input is the client's parsed
// body; it is not modified. Errors: Errc::invalid_request with param set (the JSON path in the
// chat request).
Result<Translated> openai_to_gemini_request(const Json& chat,
                                            const GeminiRequestOptions& opts = {});

struct GeminiResponseOptions {
    // A functionCall part's thoughtSignature → tool_calls[].extra_content.google.thought_signature
    // (the convention of Google's own OpenAI-compatible endpoint). openai_to_gemini_request reads
    // it back, so a client that echoes the assistant message keeps Gemini 3 tool use working.
    bool thought_signatures = true;
};

// Gemini GenerateContentResponse → OpenAI chat.completion. meta.id/model empty → responseId /
// modelVersion. One choice per candidate. A prompt blocked with promptFeedback.blockReason (HTTP
// 200 and no candidates) becomes one choice with content "" and finish_reason content_filter.
// Errors: Errc::upstream_protocol (not an object, an "error" document, no candidates and no
// blockReason, or a field of the wrong type; param is the path in the Gemini document).
Result<Json> gemini_to_openai_response(const Json& resp, const ResponseMeta& meta,
                                       const GeminiResponseOptions& opts = {});

// Candidate.finishReason → finish_reason: STOP → stop, or tool_calls when the candidate has
// function calls; MAX_TOKENS → length; SAFETY, RECITATION, LANGUAGE, BLOCKLIST,
// PROHIBITED_CONTENT, SPII, IMAGE_SAFETY, IMAGE_PROHIBITED_CONTENT, IMAGE_RECITATION →
// content_filter; anything else (OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, unknown,
// empty) → stop, or tool_calls when the candidate has function calls.
std::string_view finish_reason_for_gemini(std::string_view finish_reason, bool has_tool_calls);

// usageMetadata → OpenAI usage: prompt_tokens = promptTokenCount + toolUsePromptTokenCount,
// completion_tokens = candidatesTokenCount + thoughtsTokenCount, total = prompt + completion
// (= totalTokenCount), prompt_tokens_details.cached_tokens = cachedContentTokenCount,
// completion_tokens_details.reasoning_tokens = thoughtsTokenCount (when reported).
Json openai_usage_from_gemini(const Json& usage_metadata);

// Gemini streamGenerateContent?alt=sse → OpenAI chat.completion.chunk SSE. Fed the data of each
// decoded SSE event (openai::SseDecoder output; Gemini streams carry no event names and no
// terminator), returns the framed bytes to write downstream. Each Gemini event is a whole
// GenerateContentResponse holding only the new parts:
//   first event of a candidate → {delta:{role:"assistant",content:""}}
//   text part                  → delta.content;  thought part (thought:true) → reasoning_content
//   functionCall part          → one tool_calls delta [{index, id, type, function:{name,
//                                arguments: the whole JSON}}] (+ extra_content.google.
//                                thought_signature); index counts the candidate's calls over
//                                the whole stream
//   finishReason               → {delta:{}, finish_reason} for that candidate (parts arriving
//                                after it are ignored)
//   promptFeedback.blockReason → a content_filter finish for choice 0
//   usageMetadata              → remembered (the last one wins: it is cumulative)
//   {"error":{…}}              → data: {"error":{…}} in OpenAI shape, and the stream ends
// finish() (upstream EOF) then writes the usage chunk {choices:[], usage} when include_usage and
// "data: [DONE]" — or, when some candidate never reached a finishReason, an error event: a cut
// stream must not look complete. Candidates become choices by their index.
class GeminiStreamToOpenAI {
  public:
    struct Options {
        ResponseMeta meta;           // chunk id/model/created (empty → responseId/modelVersion)
        bool include_usage = false;  // the client's stream_options.include_usage
        bool thought_signatures = true;  // as GeminiResponseOptions::thought_signatures
    };

    explicit GeminiStreamToOpenAI(Options opts);

    // One decoded event's data. Malformed JSON or a document of the wrong shape ends the stream
    // with an error event.
    std::string feed(std::string_view data);
    // The upstream stream ended (EOF). See above.
    std::string finish();
    // Ends the stream now with an OpenAI error event for `e` (e.g. an upstream idle timeout).
    std::string fail(const baton::Error& e);

    // Every candidate that started has a terminal finishReason (or the prompt was blocked): the
    // answer is complete, so finish() will write [DONE].
    bool complete() const;
    bool done() const { return done_; }      // [DONE] or an error was emitted; feeds return ""
    bool failed() const { return failed_; }  // ended with an error event
    // Usage in OpenAI shape from the last usageMetadata seen (zeros before any).
    Json usage() const;

  private:
    struct Choice {
        int64_t next_tool = 0;  // running tool_calls index
        bool finished = false;
    };
    std::string feed_unguarded(std::string_view data);
    std::string chunk(int64_t index, Json delta, const Json& finish_reason) const;
    std::string error_event(std::string_view type, std::string_view message, const Json& code);
    std::string protocol_error(const baton::Error& e);

    Options opts_;
    std::string id_;
    std::string model_;
    bool done_ = false;
    bool failed_ = false;
    bool blocked_ = false;
    std::map<int64_t, Choice> choices_;  // by candidate index
    Json usage_metadata_ = Json::object();
};

// A Gemini upstream's error response (status + raw body, which may be non-JSON, e.g. an HTML
// page from a proxy, or wrapped in a JSON array by the non-SSE stream endpoint) → what an OpenAI
// client should receive. By google.rpc status (HTTP status when absent):
//   INVALID_ARGUMENT → 400 invalid_request_error (code context_length_exceeded when the message
//     says the input token count exceeds the maximum; a bad API key — ErrorInfo.reason
//     API_KEY_INVALID — → 401 authentication_error/invalid_api_key)
//   FAILED_PRECONDITION, OUT_OF_RANGE, … → invalid_request_error
//   UNAUTHENTICATED → authentication_error/invalid_api_key · PERMISSION_DENIED →
//   permission_error · NOT_FOUND → invalid_request_error/model_not_found (not_found when the
//   message is not about a model) · RESOURCE_EXHAUSTED → 429 rate_limit_error/
//   rate_limit_exceeded · UNAVAILABLE → api_error/overloaded · DEADLINE_EXCEEDED →
//   api_error/timeout · INTERNAL and others → api_error.
// The HTTP status is kept (a non-error status becomes 502). param is always null.
HttpError gemini_error_to_openai(unsigned status, std::string_view body);
// The OpenAI error object {"message","type","param","code"} for a Gemini error object
// {"code","message","status","details"} (also used for errors inside a stream).
Json openai_error_object_from_gemini(const Json& gemini_error, unsigned http_status = 0);
// RetryInfo.retryDelay ("26s", "47.43s") of an error body, rounded up to whole seconds, for a
// Retry-After header; nullopt when absent.
std::optional<uint32_t> gemini_retry_delay_seconds(std::string_view body);

}  // namespace baton::translate
