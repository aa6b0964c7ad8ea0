#pragma once
// Loading and validating baton.yaml.
//
// Every problem is reported as "file:line:col: yaml.path: message (did you mean "x"?)", all of
// them at once. Unknown keys are errors. Secrets (env:NAME / file:PATH) are resolved here; a
// missing env var is a warning (the provider's models answer 401), not an error.
#include <string>
#include <string_view>
#include <vector>

#include "baton/config/model.hpp"

namespace baton::config {

struct Diagnostic {
    enum class Severity { error, warning };
    Severity severity = Severity::error;
    std::string file;
    int line = 0;         // 1-based; 0 = unknown
    int column = 0;       // 1-based; 0 = unknown
    std::string path;     // e.g. providers[0].kind
    std::string message;  // e.g. unknown kind "opnai" (did you mean "openai"?)

    // "file:line:col: path: message" (warnings prefixed with "warning: " after the position)
    std::string format() const;
};

struct LoadResult {
    Config config;                        // valid only when ok()
    std::vector<Diagnostic> diagnostics;  // errors and warnings, in file order
    bool ok() const {
        for (const auto& d : diagnostics) {
            if (d.severity == Diagnostic::Severity::error) return false;
        }
        return true;
    }
};

// Reads and validates a file. Never throws: I/O and YAML syntax problems become diagnostics.
LoadResult load_file(const std::string& path);
// Same, from text already in memory (file_name is used in messages only).
LoadResult load_string(std::string_view yaml, const std::string& file_name);

// Parses "250ms", "10s", "2m", "1h" (also "1.5s"). Returns false on anything else.
bool parse_duration(std::string_view text, Millis& out);

// Levenshtein-nearest candidate within a sensible distance, or "" if none is close.
std::string nearest_name(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace baton::config
