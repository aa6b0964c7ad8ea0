#pragma once
// Hot-path reading of an OpenAI chat-completions body, without building a DOM.
//
// scan_chat_request() makes one pass over the original bytes: it validates the JSON syntax
// (malformed input → Errc::invalid_json with line/column/byte offset in the message), records the
// byte spans of the top-level fields routing needs, and validates the shape of the request
// (Errc::invalid_request with `param` set to the JSON path, e.g. "messages[2].role").
// Nothing is copied: every std::string_view points into the caller's body, which must outlive the
// ChatRequest. The forwarded body is the original bytes with only the `model` value replaced
// (see ModelSplice), so unknown fields pass through byte for byte.
#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "baton/core/error.hpp"

namespace baton::openai {

struct Span {
    uint32_t begin = 0;  // byte offset into the body
    uint32_t end = 0;    // one past the last byte
    bool empty() const { return begin == end; }
    uint32_t size() const { return end - begin; }
};

struct ChatRequest {
    std::string_view model;  // decoded value of "model" (escapes are rejected in model names)
    Span model_value;        // span of the model JSON string *including* its quotes
    bool stream = false;
    bool has_stream_options = false;    // "stream_options" key present (object or null)
    bool include_usage = false;         // stream_options.include_usage == true
    Span stream_options_value;          // span of the stream_options value when present
    std::optional<int64_t> max_tokens;  // max_completion_tokens if given, else max_tokens
    bool has_tools = false;             // non-empty "tools" (or legacy "functions")
    bool has_images = false;            // any content part of type image_url / input_image
    bool has_response_format = false;
    bool json_schema = false;  // response_format.type == "json_schema"
    bool json_object = false;  // response_format.type == "json_object"
    uint32_t message_count = 0;
    std::string_view user;  // top-level "user" (raw, without quotes), for stickiness
    // Spans of every message text (string content, or "text" of text parts), raw JSON string
    // contents without quotes (escapes left as written). Used for token estimates and scanning.
    std::vector<Span> text_spans;
    uint64_t text_bytes = 0;  // sum of text span sizes
};

using ScanResult = boost::system::result<ChatRequest, baton::Error>;

// Scans `body`. Rules enforced (each with its own message and param):
// - body is one JSON object (invalid_json otherwise, e.g. "malformed JSON at line 1 column 17
//   (byte 16): expected ',' or '}'");
// - "model": required string, non-empty; duplicate top-level "model" is rejected;
// - "messages": required non-empty array of objects; each has "role" (string, one of system,
//   developer, user, assistant, tool, function) and "content" (string, array of parts, or null;
//   null only allowed for assistant with tool_calls/function_call); tool messages need
//   "tool_call_id";
// - "stream": boolean if present; "max_tokens"/"max_completion_tokens": positive integer;
//   "temperature": number; "n": positive integer; "tools": array; "stream_options": object.
// Also: the optional fields above may be null (= absent); content parts are objects with a
// string "type" ("text" parts need a string "text"); "response_format" is an object with a
// string "type"; "user" is a string; any top-level field extracted here may appear only once.
// Escaped keys and enum values are compared decoded ("mod\u0065l" is "model"). Unknown fields
// are skipped. A syntax error anywhere wins over a shape error; otherwise the first shape error
// in document order is reported. Max nesting depth is 128 (the top-level object counts as 1).
ScanResult scan_chat_request(std::string_view body);

// The OpenAI APIs sharing this scanner. For completions, "prompt" (a string or an array of
// strings; token arrays are skipped) is required instead of "messages"; for embeddings, "input"
// (same forms). Their strings become text_spans (PII and injection scanning, token estimates).
enum class Api : uint8_t { chat, completions, embeddings };
ScanResult scan_request(std::string_view body, Api api);

}  // namespace baton::openai
