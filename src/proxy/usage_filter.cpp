#include "usage_filter.hpp"

#include <algorithm>

#include "context.hpp"

namespace baton::proxy {

namespace {
// End of the last complete event in `s` (one past its blank line), or 0.
size_t last_event_end(std::string_view s) {
    for (size_t i = s.size(); i >= 2; --i) {
        if (s[i - 1] == '\n' &&
            (s[i - 2] == '\n' || (i >= 3 && s[i - 2] == '\r' && s[i - 3] == '\n'))) {
            return i;
        }
    }
    return 0;
}

// Offset of the first event in `s` (complete events only) whose data is neither "[DONE]" nor
// framed as a JSON object, or npos. Multi-line data is joined: the first data line must start
// with '{' and the last end with '}'.
size_t first_malformed_event(std::string_view s) {
    size_t pos = 0;
    size_t event_start = 0;
    char first = 0, last = 0;  // first/last payload characters of the event's data
    bool have_data = false, done = false;
    while (pos < s.size()) {
        size_t nl = s.find('\n', pos);
        if (nl == std::string_view::npos) nl = s.size();
        std::string_view line = s.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) {
            if (have_data && !done && !(first == '{' && last == '}')) return event_start;
            have_data = done = false;
            event_start = nl + 1;
        } else if (line.starts_with("data:")) {
            std::string_view payload = line.substr(5);
            if (!payload.empty() && payload.front() == ' ') payload.remove_prefix(1);
            while (!payload.empty() && (payload.back() == ' ' || payload.back() == '\t')) {
                payload.remove_suffix(1);
            }
            if (!have_data) {
                first = payload.empty() ? 0 : payload.front();
                done = payload == "[DONE]";
            }
            last = payload.empty() ? 0 : payload.back();
            have_data = true;
        }
        pos = nl + 1;
    }
    return std::string_view::npos;
}

bool is_usage_chunk(std::string_view event) {
    return event.find("\"choices\":[]") != std::string_view::npos &&
           event.find("\"usage\":{") != std::string_view::npos;
}
}  // namespace

std::string_view UsageFilter::process(std::string_view complete) {
    if (malformed_) return {};
    if (size_t bad = first_malformed_event(complete); bad != std::string_view::npos) {
        malformed_ = true;
        complete = complete.substr(0, bad);
    }
    // the stream's terminator: OpenAI's [DONE], or Anthropic's message_stop (passed through)
    if (!saw_done_ && (complete.find("data: [DONE]") != std::string_view::npos ||
                       complete.find("\"type\":\"message_stop\"") != std::string_view::npos)) {
        saw_done_ = true;
    }
    // Fast path: no usage numbers in these events.
    if (complete.find("_tokens\"") == std::string_view::npos) return complete;
    if (!strip_) {
        uint64_t p = 0, c = 0;
        if (scan_usage(complete, p, c)) {  // counts are cumulative: keep the largest
            have_usage_ = true;
            prompt_ = std::max(prompt_, p);
            completion_ = std::max(completion_, c);
        }
        return complete;
    }
    // Walk the events; drop usage-only chunks, keep the rest.
    out_.clear();
    size_t pos = 0;
    while (pos < complete.size()) {
        size_t end = complete.find("\n\n", pos);
        size_t end_crlf = complete.find("\r\n\r\n", pos);
        size_t stop;
        if (end == std::string_view::npos && end_crlf == std::string_view::npos) {
            stop = complete.size();
        } else if (end_crlf != std::string_view::npos &&
                   (end == std::string_view::npos || end_crlf < end)) {
            stop = end_crlf + 4;
        } else {
            stop = end + 2;
        }
        auto event = complete.substr(pos, stop - pos);
        if (is_usage_chunk(event)) {
            uint64_t p = 0, c = 0;
            if (scan_usage(event, p, c)) {
                have_usage_ = true;
                prompt_ = std::max(prompt_, p);
                completion_ = std::max(completion_, c);
            }
        } else {
            out_.append(event);
        }
        pos = stop;
    }
    return out_;
}

std::string_view UsageFilter::feed(std::string_view piece) {
    if (carry_.empty()) {  // common case: no copy unless a usage chunk is cut out
        size_t end = last_event_end(piece);
        carry_.assign(piece.substr(end));
        return process(piece.substr(0, end));
    }
    carry_.append(piece);
    size_t end = last_event_end(carry_);
    if (end == 0) return {};
    std::string complete = carry_.substr(0, end);
    carry_.erase(0, end);
    auto ready = process(complete);
    if (ready.empty() || ready.data() == out_.data()) return ready;
    complete.resize(ready.size());  // a prefix of `complete` (all of it unless malformed)
    out_ = std::move(complete);
    return out_;
}

std::string_view UsageFilter::flush() {
    if (malformed_) return {};
    out_ = std::move(carry_);
    carry_.clear();
    return out_;
}

}  // namespace baton::proxy
