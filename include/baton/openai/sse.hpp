#pragma once
// Server-Sent Events framing, byte level. The decoder is incremental: feed it bytes as they
// arrive in arbitrary splits; it reports each complete event's data (multi-line data joined with
// '\n'), handling \n, \r\n and \r line ends, comments (":..."), and the "event:"/"id:" fields.
// It copies only a partial trailing line between feeds (and a single-line event's data is handed
// out as a view into the fed bytes when the event completes within one feed).
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
    // `in_feed`: `line` points into the bytes of the current feed (not into line_).
    void on_line(std::string_view line, bool in_feed,
                 const std::function<void(const SseEvent&)>& on_event);
    std::string line_;  // partial line carried across feeds
    std::string data_;
    std::string event_;
    std::string_view data_view_;  // single data line still inside the current feed's bytes
    bool data_in_view_ = false;   // data is data_view_ rather than data_ (only during feed())
    bool have_data_ = false;
    bool last_was_cr_ = false;
    bool started_ = false;  // first line seen (a leading UTF-8 BOM is stripped from it)
};

// "data: <payload>\n\n" (a payload containing line breaks becomes several data: lines, which
// the decoder joins back with '\n').
std::string sse_data(std::string_view payload);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace baton::openai
