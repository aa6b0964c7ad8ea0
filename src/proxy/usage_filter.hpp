#pragma once
// Splits a relayed SSE byte stream into whole events, reads the usage chunk's token counts, and
// (when Baton itself asked the upstream for usage) removes that chunk before the client sees it.
// Bytes of an unfinished event are held until the event completes: a client can't use half an
// event anyway, and the usage chunk must be seen whole. Everything else passes in order.
// Every event's data is checked to be a JSON object ({...}) or [DONE] (a cheap framing check,
// not a JSON parse), so a broken upstream event never reaches an SDK that would choke on it.
#include <cstdint>
#include <string>
#include <string_view>

namespace baton::proxy {

class UsageFilter {
  public:
    explicit UsageFilter(bool strip_usage_chunk) : strip_(strip_usage_chunk) {}

    // Returns the bytes to forward now (a view into `piece` or into an internal buffer, valid
    // until the next call).
    std::string_view feed(std::string_view piece);
    // At the end of the stream: whatever is still held.
    std::string_view flush();
    // Bytes of an unfinished event are held.
    bool pending() const { return !carry_.empty(); }

    bool have_usage() const { return have_usage_; }
    // True once the OpenAI terminator event "data: [DONE]" went through.
    bool saw_done() const { return saw_done_; }
    // True once an event whose data is neither a JSON object nor [DONE] arrived (a broken
    // upstream). That event and everything after it are withheld; the caller ends the stream.
    bool malformed() const { return malformed_; }
    uint64_t prompt_tokens() const { return prompt_; }
    uint64_t completion_tokens() const { return completion_; }

  private:
    std::string_view process(std::string_view complete);
    bool strip_;
    std::string carry_;
    std::string out_;
    bool have_usage_ = false;
    bool saw_done_ = false;
    bool malformed_ = false;
    uint64_t prompt_ = 0;
    uint64_t completion_ = 0;
};

}  // namespace baton::proxy
