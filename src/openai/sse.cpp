#include "baton/openai/sse.hpp"

#include <cstring>

namespace baton::openai {

namespace {

// First '\r' or '\n' at or after `pos`, or npos.
size_t find_line_end(std::string_view s, size_t pos) {
    const char* p = s.data();
    const size_t n = s.size();
    const void* lf = std::memchr(p + pos, '\n', n - pos);
    const size_t lf_at = lf ? size_t(static_cast<const char*>(lf) - p) : n;
    // '\r' is rare in practice; only look for it before the next '\n'.
    const void* cr = lf_at > pos ? std::memchr(p + pos, '\r', lf_at - pos) : nullptr;
    const size_t at = cr ? size_t(static_cast<const char*>(cr) - p) : lf_at;
    return at < n ? at : std::string_view::npos;
}

}  // namespace

void SseDecoder::feed(std::string_view bytes,
                      const std::function<void(const SseEvent&)>& on_event) {
    const size_t n = bytes.size();
    size_t pos = 0;
    if (last_was_cr_ && n > 0) {
        if (bytes[0] == '\n') pos = 1;  // the "\n" of a "\r\n" split across feeds
        last_was_cr_ = false;
    }
    while (pos < n) {
        size_t end = find_line_end(bytes, pos);
        if (end == std::string_view::npos) {
            line_.append(bytes.substr(pos));
            break;
        }
        const std::string_view seg = bytes.substr(pos, end - pos);
        if (bytes[end] == '\r') {
            if (end + 1 < n) {
                if (bytes[end + 1] == '\n') ++end;
            } else {
                last_was_cr_ = true;
            }
        }
        pos = end + 1;
        if (line_.empty()) {
            on_line(seg, true, on_event);
        } else {
            line_.append(seg);
            on_line(line_, false, on_event);
            line_.clear();
        }
    }
    if (data_in_view_) {
        data_.assign(data_view_);
        data_view_ = {};
        data_in_view_ = false;
    }
}

void SseDecoder::on_line(std::string_view line, bool in_feed,
                         const std::function<void(const SseEvent&)>& on_event) {
    if (!started_) {
        started_ = true;
        if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    }
    if (line.empty()) {  // dispatch
        if (have_data_) {
            const SseEvent ev{event_, data_in_view_ ? data_view_ : std::string_view(data_)};
            on_event(ev);
        }
        data_.clear();
        event_.clear();
        data_view_ = {};
        data_in_view_ = false;
        have_data_ = false;
        return;
    }
    if (line.front() == ':') return;  // comment
    const size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (!have_data_) {
            have_data_ = true;
            if (in_feed) {
                data_view_ = value;
                data_in_view_ = true;
            } else {
                data_.assign(value);
            }
        } else {
            if (data_in_view_) {
                data_.assign(data_view_);
                data_view_ = {};
                data_in_view_ = false;
            }
            data_ += '\n';
            data_ += value;
        }
    } else if (field == "event") {
        event_.assign(value);
    }
    // "id", "retry" and unknown fields are ignored.
}

void SseDecoder::reset() {
    line_.clear();
    data_.clear();
    event_.clear();
    data_view_ = {};
    data_in_view_ = false;
    have_data_ = false;
    last_was_cr_ = false;
    started_ = false;
}

std::string sse_data(std::string_view payload) {
    std::string out;
    if (payload.find_first_of("\r\n") == std::string_view::npos) {
        out.reserve(payload.size() + 8);
        out += "data: ";
        out += payload;
        out += "\n\n";
        return out;
    }
    out.reserve(payload.size() + 16);
    size_t pos = 0;
    for (;;) {
        const size_t end = payload.find_first_of("\r\n", pos);
        out += "data: ";
        out += payload.substr(pos, end == std::string_view::npos ? end : end - pos);
        out += '\n';
        if (end == std::string_view::npos) break;
        pos = end + 1;
        if (payload[end] == '\r' && pos < payload.size() && payload[pos] == '\n') ++pos;
    }
    out += '\n';
    return out;
}

}  // namespace baton::openai
