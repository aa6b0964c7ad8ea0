#include "config/yaml_cursor.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "config/text.hpp"

namespace baton::config::detail {

Position position_of(const YAML::Mark& mark) {
    if (mark.line < 0 || mark.column < 0) return {};
    return {mark.line + 1, mark.column + 1};
}

Position position_of(const YAML::Node& node) {
    try {
        if (!node.IsDefined()) return {};
        return position_of(node.Mark());
    } catch (const YAML::Exception&) {
        return {};
    }
}

// ---- Reporter -------------------------------------------------------------------------------

void Reporter::add(Diagnostic::Severity severity, Position pos, std::string path,
                   std::string message) {
    Diagnostic d;
    d.severity = severity;
    d.file = file_;
    d.line = pos.line;
    d.column = pos.column;
    d.path = std::move(path);
    d.message = std::move(message);
    diagnostics_.push_back(std::move(d));
}

void Reporter::error(Position pos, std::string path, std::string message) {
    ++errors_;
    add(Diagnostic::Severity::error, pos, std::move(path), std::move(message));
}

void Reporter::warning(Position pos, std::string path, std::string message) {
    add(Diagnostic::Severity::warning, pos, std::move(path), std::move(message));
}

std::vector<Diagnostic> Reporter::take() {
    std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         if (a.line != b.line) return a.line < b.line;
                         return a.column < b.column;
                     });
    errors_ = 0;
    return std::move(diagnostics_);
}

// ---- Cursor ---------------------------------------------------------------------------------

std::string Cursor::describe() const {
    if (!node_.IsDefined() || node_.IsNull()) return "nothing";
    if (node_.IsMap()) return "a mapping";
    if (node_.IsSequence()) return "a list";
    return quote(node_.Scalar());
}

bool Cursor::expected(std::string_view what) const {
    error("expected " + std::string(what) + ", got " + describe());
    return false;
}

// ---- helpers --------------------------------------------------------------------------------

std::string quote(std::string_view text) {
    std::string out = "\"";
    for (char ch : text) {
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (ch == '\n') {
            out += "\\n";
        } else if (ch == '\t') {
            out += "\\t";
        } else if (u < 0x20 || u == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 0xf];
        } else {
            out += ch;
        }
    }
    out += '"';
    return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += sep;
        out += items[i];
    }
    return out;
}

std::string child_path(std::string_view parent, std::string_view key) {
    if (parent.empty()) return std::string(key);
    std::string out(parent);
    out += '.';
    out += key;
    return out;
}

std::string index_path(std::string_view parent, size_t index) {
    return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string suggest(std::string_view word, const std::vector<std::string>& candidates,
                    std::string_view label) {
    auto near = nearest_name(word, candidates);
    if (!near.empty()) return " (did you mean " + quote(near) + "?)";
    if (candidates.empty()) return {};
    return " (" + std::string(label) + ": " + join(candidates) + ")";
}

// ---- MapCursor ------------------------------------------------------------------------------

MapCursor::MapCursor(const Cursor& cursor, const std::vector<std::string>& allowed)
    : cursor_(cursor), map_pos_(position_of(cursor.node())) {
    walk(&allowed);
}

MapCursor::MapCursor(const Cursor& cursor) : cursor_(cursor), map_pos_(position_of(cursor.node())) {
    walk(nullptr);
}

void MapCursor::walk(const std::vector<std::string>* allowed) {
    const auto& node = cursor_.node();
    if (!node.IsDefined() || node.IsNull()) return;  // "key:" with nothing = empty mapping
    if (!node.IsMap()) {
        ok_ = cursor_.expected("a mapping");
        return;
    }
    if (map_pos_.line == 0) map_pos_ = cursor_.pos();
    for (auto it = node.begin(); it != node.end(); ++it) {
        // Copies: the iterator hands out a temporary pair.
        const YAML::Node key = it->first;
        const YAML::Node value = it->second;
        const Position key_pos = position_of(key);
        Reporter& rep = cursor_.reporter();
        if (!key.IsScalar()) {
            rep.error(key_pos, cursor_.path(), "mapping keys must be plain strings");
            ok_ = false;
            continue;
        }
        const std::string& name = key.Scalar();
        if (allowed && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
            rep.error(key_pos, cursor_.path(),
                      "unknown key " + quote(name) + suggest(name, *allowed, "allowed"));
            ok_ = false;
            continue;
        }
        const bool duplicate = std::any_of(entries_.begin(), entries_.end(),
                                           [&](const Entry& e) { return e.key == name; });
        if (duplicate) {
            rep.error(key_pos, cursor_.path(), "duplicate key " + quote(name));
            ok_ = false;
            continue;
        }
        entries_.push_back(
            Entry{name, Cursor(value, child_path(cursor_.path(), name), key_pos, rep)});
    }
}

std::optional<Cursor> MapCursor::get(std::string_view key) const {
    for (const auto& e : entries_) {
        if (e.key == key) return e.value;
    }
    return std::nullopt;
}

std::optional<Cursor> MapCursor::require(std::string_view key, std::string_view note) const {
    auto c = get(key);
    if (!c) {
        std::string msg = "missing required key " + quote(key);
        if (!note.empty()) msg += " (" + std::string(note) + ")";
        cursor_.reporter().error(map_pos_.line ? map_pos_ : cursor_.pos(), cursor_.path(),
                                 std::move(msg));
    }
    return c;
}

std::optional<std::vector<Cursor>> sequence_items(const Cursor& c) {
    std::vector<Cursor> items;
    const auto& node = c.node();
    if (!node.IsDefined() || node.IsNull()) return items;
    if (!node.IsSequence()) {
        c.expected("a list");
        return std::nullopt;
    }
    size_t i = 0;
    for (auto it = node.begin(); it != node.end(); ++it, ++i) {
        const YAML::Node item = *it;
        Position pos = position_of(item);
        if (pos.line == 0) pos = c.pos();
        items.emplace_back(item, index_path(c.path(), i), pos, c.reporter());
    }
    return items;
}

// ---- typed readers --------------------------------------------------------------------------

bool read_string(const Cursor& c, std::string& out) {
    if (!c.is_scalar() || c.scalar().empty()) return c.expected("a string");
    out = c.scalar();
    return true;
}

bool read_name(const Cursor& c, std::string& out) {
    if (!c.is_scalar() || c.scalar().empty()) return c.expected("a name");
    const std::string& s = c.scalar();
    const bool clean = std::none_of(s.begin(), s.end(), [](char ch) {
        const auto u = static_cast<unsigned char>(ch);
        return std::isspace(u) || std::iscntrl(u);
    });
    if (!clean) {
        c.error("names must not contain spaces or control characters, got " + quote(s));
        return false;
    }
    out = s;
    return true;
}

bool read_bool(const Cursor& c, bool& out) {
    if (c.is_scalar()) {
        std::string s = c.scalar();
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        if (s == "true" || s == "yes" || s == "on") {
            out = true;
            return true;
        }
        if (s == "false" || s == "no" || s == "off") {
            out = false;
            return true;
        }
    }
    return c.expected("true or false");
}

namespace {

std::string format_number(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

std::string range_text(uint64_t min, uint64_t max) {
    if (max == std::numeric_limits<uint64_t>::max()) return "must be >= " + std::to_string(min);
    return "must be between " + std::to_string(min) + " and " + std::to_string(max);
}

std::string range_text(double min, double max) {
    if (std::isinf(max)) return "must be >= " + format_number(min);
    return "must be between " + format_number(min) + " and " + format_number(max);
}

}  // namespace

bool read_uint(const Cursor& c, uint64_t min, uint64_t max, uint64_t& out) {
    const char* kind = min >= 1 ? "a positive integer" : "a non-negative integer";
    if (!c.is_scalar()) return c.expected(kind);
    std::string_view s = c.scalar();
    const bool negative = !s.empty() && s.front() == '-';
    std::string_view digits = negative ? s.substr(1) : s;
    if (digits.empty() ||
        !std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        return c.expected(kind);
    if (negative) {
        c.error(range_text(min, max) + ", got " + std::string(s));
        return false;
    }
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || v < min || v > max) {
        c.error(range_text(min, max) + ", got " + std::string(s));
        return false;
    }
    out = v;
    return true;
}

bool read_double(const Cursor& c, double min, double max, double& out) {
    if (!c.is_scalar()) return c.expected("a number");
    const std::string& s = c.scalar();
    // Plain decimal notation only (no YAML .inf/.nan, no hex).
    const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
        return (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' ||
               ch == 'E';
    });
    if (!plain) return c.expected("a number");
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return c.expected("a number");
    if (v < min || v > max) {
        c.error(range_text(min, max) + ", got " + s);
        return false;
    }
    out = v;
    return true;
}

bool read_duration(const Cursor& c, Millis min, Millis& out) {
    static constexpr std::string_view kLike =
        "a duration like \"250ms\", \"10s\", \"2m\" or \"1h\"";
    if (!c.is_scalar() || c.scalar().empty()) return c.expected(kLike);
    const std::string& s = c.scalar();
    Millis v{};
    if (!parse_duration(s, v)) {
        char* end = nullptr;
        const double bare = std::strtod(s.c_str(), &end);
        if (end == s.c_str() + s.size() && std::isfinite(bare)) {
            c.error("expected a duration with a unit, got " + s + " (write " + s + "s or " + s +
                    "ms)");
            return false;
        }
        return c.expected(kLike);
    }
    if (v < min) {
        c.error("must be at least " + format_duration(min) + ", got " + s);
        return false;
    }
    out = v;
    return true;
}

bool read_enum(const Cursor& c, std::string_view what, const std::vector<std::string>& allowed,
               std::string& out) {
    if (!c.is_scalar() || c.scalar().empty()) {
        return c.expected("one of " + join(allowed));
    }
    const std::string& s = c.scalar();
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
        c.error("unknown " + std::string(what) + " " + quote(s) +
                suggest(s, allowed, "expected one of"));
        return false;
    }
    out = s;
    return true;
}

bool read_string_list(const Cursor& c, std::vector<std::string>& out, bool allow_single,
                      std::vector<Position>* positions) {
    std::vector<std::string> result;
    std::vector<Position> pos;
    if (allow_single && c.is_scalar()) {
        std::string s;
        if (!read_string(c, s)) return false;
        result.push_back(std::move(s));
        pos.push_back(c.pos());
    } else {
        auto items = sequence_items(c);
        if (!items) return false;
        bool good = true;
        for (const auto& item : *items) {
            std::string s;
            if (!read_string(item, s)) {
                good = false;
                continue;
            }
            result.push_back(std::move(s));
            pos.push_back(item.pos());
        }
        if (!good) return false;
    }
    out = std::move(result);
    if (positions) *positions = std::move(pos);
    return true;
}

}  // namespace baton::config::detail
