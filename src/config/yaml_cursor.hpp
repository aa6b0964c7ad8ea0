#pragma once
// Private to the config part: a YAML node plus its YAML path and source position, typed readers
// that report every problem to a Reporter instead of throwing, and the mapping walker that flags
// unknown and duplicate keys.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "baton/config/load.hpp"
#include "baton/config/model.hpp"

namespace baton::config::detail {

struct Position {
    int line = 0;    // 1-based; 0 = unknown
    int column = 0;  // 1-based; 0 = unknown
};

// 1-based position of a node (yaml-cpp marks are 0-based); {0, 0} when unknown.
Position position_of(const YAML::Node& node);
Position position_of(const YAML::Mark& mark);

// Collects the diagnostics of one load.
class Reporter {
  public:
    explicit Reporter(std::string file) : file_(std::move(file)) {}

    void error(Position pos, std::string path, std::string message);
    void warning(Position pos, std::string path, std::string message);
    size_t error_count() const { return errors_; }
    // Diagnostics sorted by position (stable, so same-position ones keep their order).
    std::vector<Diagnostic> take();

  private:
    void add(Diagnostic::Severity severity, Position pos, std::string path, std::string message);

    std::string file_;
    std::vector<Diagnostic> diagnostics_;
    size_t errors_ = 0;
};

// A node, the YAML path that leads to it and the position problems with it are reported at
// (for a mapping value that is its key, matching "file:12:5: providers[0].kind: ...").
class Cursor {
  public:
    Cursor(YAML::Node node, std::string path, Position pos, Reporter& reporter)
        : node_(std::move(node)), path_(std::move(path)), pos_(pos), reporter_(&reporter) {}

    const YAML::Node& node() const { return node_; }
    const std::string& path() const { return path_; }
    Position pos() const { return pos_; }
    Reporter& reporter() const { return *reporter_; }

    bool is_null() const { return node_.IsNull(); }
    bool is_scalar() const { return node_.IsScalar(); }
    bool is_map() const { return node_.IsMap(); }
    bool is_sequence() const { return node_.IsSequence(); }
    const std::string& scalar() const { return node_.Scalar(); }

    // What the node is, for "expected X, got Y": "\"abc\"", "a mapping", "a list", "nothing".
    std::string describe() const;

    void error(std::string message) const { reporter_->error(pos_, path_, std::move(message)); }
    void warning(std::string message) const { reporter_->warning(pos_, path_, std::move(message)); }
    // Reports "expected <what>, got <describe()>" and returns false.
    bool expected(std::string_view what) const;

  private:
    YAML::Node node_;
    std::string path_;
    Position pos_;
    Reporter* reporter_;
};

// Walks a mapping: reports a non-mapping node, unknown keys (with a suggestion or the list of
// allowed keys) and duplicate keys up front; then hands out the values of known keys.
// A null node (e.g. "server:" with nothing after it) is an empty mapping.
class MapCursor {
  public:
    struct Entry {
        std::string key;
        Cursor value;
    };

    MapCursor(const Cursor& cursor, const std::vector<std::string>& allowed);
    // Free-form mapping (e.g. headers): every scalar key is accepted.
    explicit MapCursor(const Cursor& cursor);

    bool ok() const { return ok_; }
    const Cursor& cursor() const { return cursor_; }
    const std::vector<Entry>& entries() const { return entries_; }

    std::optional<Cursor> get(std::string_view key) const;
    // Like get(); a missing key is reported at the mapping itself: `missing required key "k"`.
    std::optional<Cursor> require(std::string_view key, std::string_view note = {}) const;

    // Calls read(value) when the key is present; returns read's result, or true when absent.
    template <class Read>
    bool field(std::string_view key, Read&& read) const {
        auto c = get(key);
        return c ? read(*c) : true;
    }

  private:
    void walk(const std::vector<std::string>* allowed);

    Cursor cursor_;
    Position map_pos_;
    std::vector<Entry> entries_;
    bool ok_ = true;
};

// Items of a list, each with path "parent[i]" and its own position. Reports a non-list node and
// returns nothing; a null node is an empty list.
std::optional<std::vector<Cursor>> sequence_items(const Cursor& c);

std::string quote(std::string_view text);
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");
std::string child_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, size_t index);
// ` (did you mean "x"?)` when something is close, else ` (<label>: a, b, c)`.
std::string suggest(std::string_view word, const std::vector<std::string>& candidates,
                    std::string_view label);

// Typed readers: each reports its own problems and returns false on failure (out untouched).
bool read_string(const Cursor& c, std::string& out);  // non-empty scalar
// A name (provider, model, route, ...): non-empty, no whitespace or control characters.
bool read_name(const Cursor& c, std::string& out);
bool read_bool(const Cursor& c, bool& out);
bool read_uint(const Cursor& c, uint64_t min, uint64_t max, uint64_t& out);
bool read_double(const Cursor& c, double min, double max, double& out);
bool read_duration(const Cursor& c, Millis min, Millis& out);
// One of `allowed`; `what` names it in messages: unknown kind "opnai" (did you mean "openai"?).
bool read_enum(const Cursor& c, std::string_view what, const std::vector<std::string>& allowed,
               std::string& out);
// A list of non-empty strings (a single string is accepted as a one-item list when
// `allow_single`), kept as written. `positions` receives each item's position.
bool read_string_list(const Cursor& c, std::vector<std::string>& out, bool allow_single = false,
                      std::vector<Position>* positions = nullptr);

template <class T>
bool read_uint_as(const Cursor& c, uint64_t min, uint64_t max, T& out) {
    static_assert(std::numeric_limits<T>::is_integer);
    uint64_t v = 0;
    if (!read_uint(c, min, max, v)) return false;
    out = static_cast<T>(v);
    return true;
}

inline constexpr double kUnbounded = std::numeric_limits<double>::infinity();

}  // namespace baton::config::detail
