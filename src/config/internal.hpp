#pragma once
// Private to the config part: the parse state shared by the section parsers (load.cpp,
// providers.cpp, catalog.cpp) and the cross-reference pass (validate.cpp).
#include <string>
#include <vector>

#include "baton/config/model.hpp"
#include "config/yaml_cursor.hpp"

namespace baton::config::detail {

// Where things were written, for cross-reference diagnostics, plus whether the entry parsed
// cleanly (only clean entries get cross-reference checks).
struct ProviderInfo {
    bool ok = false;
    bool has_name = false;
    Position name_pos;
};

struct ModelInfo {
    bool ok = false;
    bool has_name = false;
    Position pos;  // the list item
    Position name_pos;
    Position provider_pos;
    Position replacement_pos;
    Position mock_fault_pos;
};

struct RouteInfo {
    bool ok = false;
    bool has_name = false;
    Position name_pos;
    std::vector<Position> candidate_pos;  // parallel to Route::candidates
};

struct RuleInfo {
    bool ok = false;
    Position route_pos;
    std::vector<Position> model_pos;  // parallel to RuleMatch::models
};

struct Draft {
    Config config;
    std::string base_dir;  // relative file: / ca_file paths are resolved against this ("" = cwd)
    Position root_pos{1, 1};
    std::vector<ProviderInfo> providers;
    std::vector<ModelInfo> models;
    std::vector<RouteInfo> routes;
    std::vector<RuleInfo> rules;
};

void parse_server(const Cursor& c, Server& out, const std::string& base_dir);
void parse_logging(const Cursor& c, Logging& out);
void parse_providers(const Cursor& c, Draft& draft);
void parse_models(const Cursor& c, Draft& draft);
void parse_routes(const Cursor& c, Draft& draft);
void parse_rules(const Cursor& c, Draft& draft);
void parse_auth(const Cursor& c, Draft& draft);
void parse_keys(const Cursor& c, Draft& draft);
void parse_pii(const Cursor& c, Draft& draft);
void parse_audit(const Cursor& c, Draft& draft);
void parse_state(const Cursor& c, Draft& draft);
void parse_injection(const Cursor& c, Draft& draft);
// Objective weights (>= 0, not all zero, missing ones are 0), normalised to sum 1.
bool read_objective(const Cursor& c, Objective& out);

// Cross references: duplicate names, model providers, route candidates, replacements, rules.
void validate(Draft& draft, Reporter& reporter);

}  // namespace baton::config::detail
