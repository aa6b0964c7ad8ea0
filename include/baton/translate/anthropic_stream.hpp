#pragma once
// Streaming translation between Anthropic Messages SSE and OpenAI chat.completion.chunk SSE.
// Both translators are fed *decoded* SSE events (openai::SseDecoder output) one at a time and
// return the bytes to write downstream, already framed. They hold no I/O and never throw.
//
// Anthropic → OpenAI (an OpenAI client served by an Anthropic upstream):
//   message_start        → {delta:{role:"assistant",content:""}} (input/cache usage remembered)
//   content_block_start  → text: nothing; tool_use: tool_calls[{index, id, type, function:
//                          {name, arguments:""}}] where index counts tool_use blocks only
//   content_block_delta  → text_delta: content; input_json_delta: tool_calls[index].function.
//                          arguments; thinking_delta: reasoning_content
//   content_block_stop   → for a thinking block: delta.thinking_blocks [the complete block,
//                          text and signature] (see Options); redacted_thinking blocks are sent
//                          the same way at their content_block_start
//   message_delta        → stop_reason and cumulative output usage remembered
//   message_stop         → {delta:{}, finish_reason}, the usage chunk {choices:[], usage} when
//                          include_usage, then "data: [DONE]"
//   ping                 → nothing;  error → data: {"error":{...}} (no [DONE])
// Anthropic clients' SSE rules: PROVIDER-FORMATS.md §3.6 and §4.5.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "baton/core/error.hpp"
#include "baton/translate/common.hpp"

namespace baton::translate {

class AnthropicStreamToOpenAI {
  public:
    struct Options {
        ResponseMeta meta;           // chunk id/model/created (empty → from message_start)
        bool include_usage = false;  // the client's stream_options.include_usage
        // Emit delta.thinking_blocks (one complete, signed block per chunk) so that clients
        // can echo thinking back on tool turns, as Anthropic requires.
        bool thinking_blocks = true;
    };

    explicit AnthropicStreamToOpenAI(Options opts);

    // One decoded event. `event` is the SSE event name; when empty, the JSON "type" is used.
    // Returns zero or more framed events ("data: {...}\n\n", "data: [DONE]\n\n").
    // Malformed JSON or an event before message_start ends the stream with an error event.
    std::string feed(std::string_view event, std::string_view data);
    // The upstream stream ended. If message_stop was not seen, returns an error event (a
    // truncated answer must not look like a success); otherwise "".
    std::string finish();
    // Ends the stream now with an OpenAI error event for `e` (e.g. an upstream idle timeout).
    std::string fail(const baton::Error& e);

    bool done() const { return done_; }      // [DONE] or an error was emitted; feeds return ""
    bool failed() const { return failed_; }  // ended with an error event
    // Usage in OpenAI shape as known so far (prompt from message_start, completion from the
    // latest message_delta).
    Json usage() const;

  private:
    std::string feed_unguarded(std::string_view event, std::string_view data);
    std::string chunk(Json delta, const Json& finish_reason) const;
    std::string error_event(std::string_view type, std::string_view message, const Json& code);
    std::string on_message_start(const Json& ev);
    std::string on_block_start(const Json& ev);
    std::string on_block_delta(const Json& ev);
    std::string on_block_stop(const Json& ev);
    void on_message_delta(const Json& ev);
    std::string on_message_stop();

    Options opts_;
    std::string id_;
    std::string model_;
    bool started_ = false;
    bool done_ = false;
    bool failed_ = false;
    std::map<int64_t, int64_t> tool_slot_;  // Anthropic block index → OpenAI tool_calls index
    int64_t next_slot_ = 0;
    std::map<int64_t, Json> thinking_;  // open thinking blocks by index: text and signature
    Json usage_ = Json::object();       // Anthropic-shaped, merged
    std::string stop_reason_;
};

// OpenAI upstream → Anthropic client (/v1/messages served by an OpenAI model). Output events
// are framed "event: <type>\ndata: {...}\n\n":
//   first chunk          → message_start (usage input/output 0; filled in message_delta)
//   delta.reasoning_content (or .reasoning) → thinking block (content_block_start/
//                          thinking_delta), delta.content / .refusal → text block,
//                          delta.tool_calls[k] → tool_use block per OpenAI index with
//                          input_json_delta fragments; a new block closes the open one
//   finish_reason        → remembered (stop_reason_for); the usage chunk → remembered
//   [DONE] (or finish() after a finish_reason) → content_block_stop, message_delta {stop_reason,
//                          usage}, message_stop
//   {"error":{...}} chunk, malformed JSON, or EOF before any finish_reason → event: error
// Only choices[0] is translated. Fragments for a tool call whose block was already closed
// (upstreams that interleave parallel calls) are still sent on that block's index: the
// official SDKs accumulate by index, so the final message stays correct.
class OpenAIStreamToAnthropic {
  public:
    explicit OpenAIStreamToAnthropic(ResponseMeta meta);

    // One decoded event's data (OpenAI streams carry no event names).
    std::string feed(std::string_view data);
    std::string finish();
    std::string fail(const baton::Error& e);

    bool done() const { return done_; }
    bool failed() const { return failed_; }
    // Anthropic-shaped usage as known so far.
    Json usage() const;

  private:
    enum class Open { none, text, thinking, tool };
    std::string feed_unguarded(std::string_view data);
    std::string start_message(const Json& chunk);
    std::string open_block(Open kind, const Json& content_block);
    std::string close_block();
    std::string delta_event(int64_t index, Json delta) const;
    std::string on_tool_calls(const Json& calls);
    std::string finalize();
    std::string error_event(std::string_view type, std::string_view message);

    ResponseMeta meta_;
    bool started_ = false;
    bool done_ = false;
    bool failed_ = false;
    int64_t block_index_ = -1;
    Open open_ = Open::none;
    std::map<int64_t, int64_t> tool_block_;  // OpenAI tool index → Anthropic block index
    std::string finish_reason_;
    bool refusal_ = false;         // delta.refusal seen → stop_reason "refusal"
    Json usage_ = Json::object();  // OpenAI-shaped, from the usage chunk
};

}  // namespace baton::translate
