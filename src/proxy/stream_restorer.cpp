#include "stream_restorer.hpp"

namespace baton::proxy {

std::string StreamRestorer::process(std::string_view events) {
    std::string out;
    out.reserve(events.size() + 32);
    size_t pos = 0;
    while (pos < events.size()) {
        size_t end = events.find("\n\n", pos);
        size_t stop = end == std::string_view::npos ? events.size() : end + 2;
        std::string_view ev = events.substr(pos, stop - pos);
        pos = stop;
        bool terminal = ev.find("data: [DONE]") != std::string_view::npos ||
                        ev.find("\"finish_reason\":\"") != std::string_view::npos;
        size_t k = ev.find("\"content\":\"");
        if (k == std::string_view::npos) {
            if (terminal) out += flush();
            out.append(ev);
            continue;
        }
        size_t b = k + 11;
        size_t e = b;
        while (e < ev.size() && ev[e] != '"') e += ev[e] == '\\' ? 2 : 1;
        e = std::min(e, ev.size());
        std::string restored;
        restorer_.feed(ev.substr(b, e - b), restored);
        if (terminal) restorer_.finish(restored);
        prefix_.assign(ev.substr(0, b));
        suffix_.assign(ev.substr(e));
        out += prefix_;
        out += restored;
        out += suffix_;
    }
    return out;
}

std::string StreamRestorer::flush() {
    std::string held;
    restorer_.finish(held);
    if (held.empty() || prefix_.empty()) return {};
    return prefix_ + held + suffix_;
}

}  // namespace baton::proxy
