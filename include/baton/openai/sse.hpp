#pragma once
// Server-Sent Events framing, byte level. The decoder is incremental: feed it bytes as they
// arrive in arbitrary splits; it reports each complete event's data (multi-line data joined with
// '\n'), handling \n, \r\n and \r line ends, comments (":..."), and the "event:"/"id:" fields.
// It copies only a partial trailing line between feeds.
#include <functional>
#include <string>
#include <string_view>

namespace baton::openai {

struct SseEvent {
    std::string_view event;  // "event:" field ("" if none)
    std::string_view data;   // joined "data:" lines
};

class SseDecoder {
public:
    // Calls on_event for every event completed by `bytes`. Views are valid during the call only.
    void feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event);
    // True when no partial event is buffered.
    bool idle() const { return line_.empty() && data_.empty() && event_.empty() && !have_data_; }
    void reset();

private:
    void on_line(std::string_view line, const std::function<void(const SseEvent&)>& on_event);
    std::string line_;   // partial line carried across feeds
    std::string data_;
    std::string event_;
    bool have_data_ = false;
    bool last_was_cr_ = false;
};

// "data: <payload>\n\n"
std::string sse_data(std::string_view payload);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace baton::openai
