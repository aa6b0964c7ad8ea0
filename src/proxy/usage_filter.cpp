#include "usage_filter.hpp"

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

bool is_usage_chunk(std::string_view event) {
    return event.find("\"choices\":[]") != std::string_view::npos &&
           event.find("\"usage\":{") != std::string_view::npos;
}
}  // namespace

std::string_view UsageFilter::process(std::string_view complete) {
    if (!saw_done_ && complete.find("data: [DONE]") != std::string_view::npos) saw_done_ = true;
    // Fast path: no usage numbers in these events.
    if (complete.find("_tokens\"") == std::string_view::npos) return complete;
    if (!strip_) {
        uint64_t p = 0, c = 0;
        if (scan_usage(complete, p, c)) {
            have_usage_ = true;
            prompt_ = p;
            completion_ = c;
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
                prompt_ = p;
                completion_ = c;
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
    if (ready.data() == out_.data()) return ready;
    out_ = std::move(complete);
    return out_;
}

std::string_view UsageFilter::flush() {
    out_ = std::move(carry_);
    carry_.clear();
    return out_;
}

}  // namespace baton::proxy
