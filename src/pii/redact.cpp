// Redactor (stable placeholders per request) and Restorer (streaming placeholder restoration).
#include "baton/pii/redact.hpp"

#include <algorithm>

#include "baton/pii/validators.hpp"

namespace baton::pii {
namespace {

bool placeholder_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Identity of a value for "same value, same placeholder".
std::string normalise(Class cls, std::string_view v) {
    std::string key;
    key.reserve(v.size() + 2);
    key.push_back(static_cast<char>('0' + static_cast<int>(cls)));
    key.push_back(':');
    switch (cls) {
        case Class::email:
        case Class::ip:
            for (char c : v) key.push_back(lower(c));
            break;
        case Class::card:
        case Class::phone:
        case Class::ssn:
            for (char c : v) {
                if (c >= '0' && c <= '9') key.push_back(c);
            }
            break;
        case Class::iban:
            for (char c : v) {
                if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) key.push_back(c);
                if (c >= 'a' && c <= 'z') key.push_back(static_cast<char>(c - 32));
            }
            break;
        case Class::secret:
            key.append(v);
            break;
    }
    return key;
}

// How far `buf` from `j` agrees with `pattern` (hex letters case-insensitive).
// Returns 1 on a full match, 0 when the buffer ends while still agreeing, -1 on mismatch.
int match_escape(std::string_view buf, std::size_t j, std::string_view pattern) {
    for (std::size_t k = 0; k < pattern.size(); ++k) {
        if (j + k >= buf.size()) return 0;
        if (lower(buf[j + k]) != pattern[k]) return -1;
    }
    return 1;
}

}  // namespace

// ---- Mapping ----------------------------------------------------------------------------------

const std::string* Mapping::find(std::string_view placeholder) const {
    auto it = by_placeholder_.find(std::string(placeholder));
    return it == by_placeholder_.end() ? nullptr : &entries_[it->second].value;
}

std::string Mapping::describe() const {
    std::string out;
    for (const Entry& e : entries_) {
        if (!out.empty()) out.push_back(',');
        out += e.placeholder;
    }
    return out;
}

// ---- Redactor ---------------------------------------------------------------------------------

Redactor::Redactor(ClassSet classes, Encoding encoding) : classes_(classes), encoding_(encoding) {}

const std::string& Redactor::placeholder_for(Class cls, std::string value) {
    std::string key = normalise(cls, value);
    auto it = by_key_.find(key);
    if (it != by_key_.end()) return mapping_.entries_[it->second].placeholder;
    const auto c = static_cast<std::size_t>(cls);
    std::string ph = "<";
    ph += placeholder_stem(cls);
    ph.push_back('_');
    ph += std::to_string(++next_[c]);
    ph.push_back('>');
    const std::size_t index = mapping_.entries_.size();
    mapping_.entries_.push_back(Mapping::Entry{ph, cls, std::move(value)});
    mapping_.by_placeholder_.emplace(std::move(ph), index);
    by_key_.emplace(std::move(key), index);
    return mapping_.entries_[index].placeholder;
}

std::string Redactor::redact(std::string_view text, std::span<const Finding> findings,
                             ClassCounts* redacted) {
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    for (const Finding& f : findings) {
        if (!classes_.has(f.cls) || f.begin < pos || f.end > text.size() || f.end <= f.begin) {
            continue;
        }
        out.append(text.substr(pos, f.begin - pos));
        std::string_view raw = text.substr(f.begin, f.end - f.begin);
        std::string value =
            encoding_ == Encoding::json_string ? json_unescape(raw) : std::string(raw);
        out += placeholder_for(f.cls, std::move(value));
        if (redacted != nullptr) redacted->add(f.cls);
        pos = f.end;
    }
    out.append(text.substr(pos));
    return out;
}

std::string Redactor::redact(std::string_view text, ClassCounts* redacted) {
    std::vector<Finding> findings;
    scan(text, ScanOptions{encoding_, classes_}, findings);
    return redact(text, findings, redacted);
}

// ---- Restorer ---------------------------------------------------------------------------------

Restorer::Restorer(const Mapping& mapping, Encoding encoding) : encoding_(encoding) {
    for (const Mapping::Entry& e : mapping.entries()) {
        std::string v;
        if (encoding == Encoding::json_string) {
            json_escape_append(e.value, v);
        } else {
            v = e.value;
        }
        values_.emplace(e.placeholder, std::move(v));
        sorted_.push_back(e.placeholder);
        max_len_ = std::max(max_len_, e.placeholder.size());
    }
    std::sort(sorted_.begin(), sorted_.end());
}

bool Restorer::is_prefix(std::string_view canon) const {
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), canon,
                               [](const std::string& a, std::string_view b) { return a < b; });
    return it != sorted_.end() && std::string_view(*it).starts_with(canon);
}

Restorer::Match Restorer::match_at(std::string_view buf, std::size_t i, std::size_t& len,
                                   std::string& token) const {
    const bool json = encoding_ == Encoding::json_string;
    std::size_t j = i;
    if (buf[j] == '<') {
        ++j;
    } else if (json && buf[j] == '\\') {
        int m = match_escape(buf, j, "\\u003c");
        if (m <= 0) return m == 0 ? Match::partial : Match::none;
        j += 6;
    } else {
        return Match::none;
    }
    token.assign("<");
    while (j < buf.size()) {
        const char c = buf[j];
        bool close = false;
        if (c == '>') {
            close = true;
            ++j;
        } else if (json && c == '\\') {
            int m = match_escape(buf, j, "\\u003e");
            if (m < 0) return Match::none;
            if (m == 0) return is_prefix(token) ? Match::partial : Match::none;
            close = true;
            j += 6;
        }
        if (close) {
            token.push_back('>');
            if (values_.find(token) == values_.end()) return Match::none;
            len = j - i;
            return Match::full;
        }
        if (!placeholder_char(c)) return Match::none;
        token.push_back(c);
        if (token.size() >= max_len_ || !is_prefix(token)) return Match::none;
        ++j;
    }
    return is_prefix(token) ? Match::partial : Match::none;
}

void Restorer::feed(std::string_view chunk, std::string& out) {
    if (values_.empty()) {
        out.append(chunk);
        return;
    }
    std::string joined;
    std::string_view buf = chunk;
    if (!held_.empty()) {
        joined = std::move(held_);
        joined.append(chunk);
        buf = joined;
    }
    held_.clear();
    const bool json = encoding_ == Encoding::json_string;
    const char* stops = json ? "<\\" : "<";
    std::string token;
    std::size_t i = 0;
    while (i < buf.size()) {
        std::size_t k = buf.find_first_of(stops, i);
        if (k == std::string_view::npos) {
            out.append(buf.substr(i));
            return;
        }
        out.append(buf.substr(i, k - i));
        std::size_t len = 0;
        switch (match_at(buf, k, len, token)) {
            case Match::full:
                out += values_.find(token)->second;
                ++restored_;
                i = k + len;
                break;
            case Match::partial:
                held_.assign(buf.substr(k));
                return;
            case Match::none:
                if (json && buf[k] == '\\') {
                    if (k + 1 == buf.size()) {  // lone backslash: its escape continues next chunk
                        held_.assign("\\");
                        return;
                    }
                    out.append(buf.substr(k, 2));  // a whole escape pair, never a placeholder
                    i = k + 2;
                } else {
                    out.push_back(buf[k]);
                    i = k + 1;
                }
                break;
        }
    }
}

std::string Restorer::feed(std::string_view chunk) {
    std::string out;
    feed(chunk, out);
    return out;
}

void Restorer::finish(std::string& out) {
    out += held_;
    held_.clear();
}

std::string Restorer::finish() {
    std::string out;
    finish(out);
    return out;
}

}  // namespace baton::pii
