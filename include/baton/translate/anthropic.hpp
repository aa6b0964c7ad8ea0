#pragma once
// OpenAI Chat Completions (Baton's canonical format) ⇄ Anthropic Messages, non-streaming parts:
// requests both ways, responses both ways, stop reasons and usage. Streams are in
// anthropic_stream.hpp, errors in anthropic_errors.hpp. The rules, and what is lossy, are listed
// in docs/providers.md ("Anthropic translation"); the wire formats are described in
// shared/design/PROVIDER-FORMATS.md §3–§4.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "baton/translate/common.hpp"

namespace baton::translate {

// How an OpenAI `reasoning_effort` becomes Anthropic extended thinking.
enum class ThinkingStyle {
    budget,    // thinking: {type: "enabled", budget_tokens: N} (Claude 3.7 – 4.6)
    adaptive,  // thinking: {type: "adaptive"} + output_config.effort (Claude 4.6+; 4.7+ require it)
};

struct AnthropicRequestOptions {
    // Anthropic requires max_tokens. Used when the request has neither max_completion_tokens nor
    // max_tokens; callers should pass the model's catalogue max_output_tokens when known.
    // 0 = no default: such requests are rejected (param "max_tokens").
    uint32_t default_max_tokens = 4096;
    ThinkingStyle thinking_style = ThinkingStyle::budget;
    // budget_tokens per effort (ThinkingStyle::budget): minimal/low, medium, high/xhigh/max.
    uint32_t budget_low = 1024;
    uint32_t budget_medium = 4096;
    uint32_t budget_high = 16384;
    // OpenAI accepts temperature 0..2, Anthropic 0..1. false: values above 1 are rejected;
    // true: they are clamped to 1.
    bool clamp_temperature = false;
};

// OpenAI chat request → Anthropic Messages request (model = upstream_model). The input is the
// client's parsed body; it is not modified. Errors: Errc::invalid_request with param set.
Result<Translated> openai_to_anthropic_request(const Json& chat, const std::string& upstream_model,
                                               const AnthropicRequestOptions& opts = {});

struct OpenAIRequestOptions {
    // Name of the output-limit field sent upstream: "max_completion_tokens" (OpenAI, reasoning
    // models) or "max_tokens" (many OpenAI-compatible servers).
    std::string max_tokens_field = "max_completion_tokens";
    // Streaming requests get stream_options.include_usage = true so that the translated stream
    // can report usage in message_delta (Anthropic clients always expect it).
    bool stream_include_usage = true;
    // Anthropic `thinking` / output_config.effort → `reasoning_effort`. Off by default: models
    // without reasoning reject the field. When off, `thinking` is dropped (reported in dropped).
    bool map_thinking_to_reasoning_effort = false;
    // Role of the message carrying the Anthropic `system` prompt ("system" or "developer").
    std::string system_role = "system";
};

// Anthropic Messages request (inbound /v1/messages) → OpenAI chat request.
Result<Translated> anthropic_to_openai_request(const Json& messages_request,
                                               const std::string& upstream_model,
                                               const OpenAIRequestOptions& opts = {});

// Anthropic Message → OpenAI chat.completion. meta.id/model empty → msg.id / msg.model.
// Thinking blocks become message.reasoning_content (text joined) and message.thinking_blocks
// (verbatim, signatures included) so clients can echo them back on the next turn.
// Errors: Errc::upstream_protocol (not an object with type "message" and a content array).
Result<Json> anthropic_to_openai_response(const Json& msg, const ResponseMeta& meta);

struct AnthropicResponseOptions {
    // message.reasoning_content (or `reasoning`) → a leading thinking block with an empty
    // signature. Such a block cannot be replayed to a real Anthropic upstream; Baton's own
    // anthropic_to_openai_request drops thinking blocks, so replaying through Baton is safe.
    bool reasoning_as_thinking = true;
};

// OpenAI chat.completion → Anthropic Message (for /v1/messages served by an OpenAI model).
// Uses choices[0]. Errors: Errc::upstream_protocol (no choices, tool call arguments that are
// not a JSON object).
Result<Json> openai_to_anthropic_response(const Json& completion, const ResponseMeta& meta,
                                          const AnthropicResponseOptions& opts = {});

// stop_reason → finish_reason: end_turn/stop_sequence/pause_turn → stop, max_tokens and
// model_context_window_exceeded → length, tool_use → tool_calls, refusal → content_filter;
// anything else (null, unknown) → stop.
std::string_view finish_reason_for(std::string_view stop_reason);
// finish_reason → stop_reason: stop → end_turn, length → max_tokens, tool_calls and
// function_call → tool_use, content_filter → refusal; anything else → end_turn.
std::string_view stop_reason_for(std::string_view finish_reason);

// Anthropic usage → OpenAI usage: prompt_tokens = input + cache_creation + cache_read,
// completion_tokens = output, total = sum, prompt_tokens_details.cached_tokens = cache_read,
// prompt_tokens_details.cache_write_tokens = cache_creation (when the upstream reports it),
// completion_tokens_details.reasoning_tokens = output_tokens_details.thinking_tokens (if any).
Json openai_usage_from_anthropic(const Json& usage);
// OpenAI usage → Anthropic usage: cache_read = cached_tokens, cache_creation =
// cache_write_tokens, input = prompt − cache_read − cache_creation (never negative),
// output = completion.
Json anthropic_usage_from_openai(const Json& usage);

}  // namespace baton::translate
