#pragma once
// The built-in mock provider's response generation: pure functions producing OpenAI's exact
// chat-completion shapes (with usage). The I/O side (latency, chunk delays) lives in the proxy.
#include <cstdint>
#include <string>
#include <string_view>

#include "baton/config/model.hpp"
#include "baton/openai/chat_request.hpp"

namespace baton::providers {

struct MockPlan {
    int status = 200;            // != 200: inject this failure
    uint32_t prompt_tokens = 0;  // estimated from the request text
    uint32_t completion_tokens = 0;
    bool capped = false;  // completion_tokens was cut by max_tokens → "length"
};

// Decides the outcome of one request: failure injection by error_rate (draw in [0,1) supplied
// by the caller so tests are deterministic), token counts (tokens capped by max_tokens).
MockPlan mock_plan(const config::MockSettings& s, const openai::ChatRequest& req,
                   std::string_view body, double draw, uint64_t seed);

// {"id":"chatcmpl-<id>","object":"chat.completion","created":...,"model":...,
//  "choices":[{"index":0,"message":{"role":"assistant","content":"...","refusal":null},
//  "logprobs":null,"finish_reason":"stop"|"length"}],"usage":{...},
//  "system_fingerprint":"fp_baton_mock"}
// content is completion_tokens words joined by single spaces (deterministic).
std::string mock_completion(const MockPlan& p, std::string_view model, std::string_view id,
                            int64_t created);

// One streamed chunk, already framed as "data: {...}\n\n". index 0 carries the role; content
// chunks carry one word each; the final chunk has finish_reason; with include_usage the usage
// chunk (empty choices) follows, and every earlier chunk carries "usage":null. Content chunks
// concatenate to mock_completion()'s content. mock_chunk_count() tells how many chunks precede
// [DONE] (1 + completion_tokens + 1, +1 with usage); an index past that yields "".
// Per-chunk cost is a few string appends (no DOM).
uint32_t mock_chunk_count(const MockPlan& p, bool include_usage);
std::string mock_chunk(const MockPlan& p, std::string_view model, std::string_view id,
                       int64_t created, uint32_t index, bool include_usage);

// OpenAI-shaped error body for an injected failure status.
std::string mock_error_body(int status);

}  // namespace baton::providers
