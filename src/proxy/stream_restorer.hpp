#pragma once
// Puts redacted values back into a streamed OpenAI response. Placeholders (<EMAIL_1>) may be
// split across chat.completion.chunk events, so the restorer works on the sequence of
// `delta.content` strings, not on raw bytes: a possible partial placeholder at the end of one
// event's content is held back and emitted with the next content (or in a copy of the last
// content event just before the terminal event).
#include <string>
#include <string_view>

#include "baton/pii/redact.hpp"

namespace baton::proxy {

class StreamRestorer {
  public:
    explicit StreamRestorer(const pii::Mapping& mapping) : restorer_(mapping) {}

    // `events` holds complete SSE events; returns them with placeholders restored.
    std::string process(std::string_view events);
    // Held-back bytes as one more content event (empty when nothing is held).
    std::string flush();
    uint64_t restored() const { return restorer_.restored(); }

  private:
    pii::Restorer restorer_;
    std::string prefix_;  // last content event up to its content value
    std::string suffix_;  // and after it
};

}  // namespace baton::proxy
