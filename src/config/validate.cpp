// Cross references between sections. Only entries that parsed cleanly are checked, so one typo
// does not cascade into follow-up errors; names of broken entries still count as defined.
#include <algorithm>
#include <filesystem>
#include <map>

#include "config/internal.hpp"
#include "config/text.hpp"
#include "config/yaml_cursor.hpp"

namespace baton::config::detail {
namespace {

struct NameTable {
    std::map<std::string, size_t> index;  // name -> first entry
    std::vector<std::string> names;       // in config order, for suggestions
};

// Registers names in order, reporting duplicates at the later definition.
template <class Entry, class Info>
NameTable collect_names(const std::vector<Entry>& entries, const std::vector<Info>& infos,
                        std::string_view what, std::string_view section, Reporter& rep) {
    NameTable table;
    for (size_t i = 0; i < entries.size(); ++i) {
        if (!infos[i].has_name) continue;
        const std::string& name = entries[i].name;
        auto [it, inserted] = table.index.emplace(name, i);
        if (!inserted) {
            const int first_line = infos[it->second].name_pos.line;
            rep.error(infos[i].name_pos, child_path(index_path(section, i), "name"),
                      "duplicate " + std::string(what) + " name " + quote(name) +
                          " (first defined on line " + std::to_string(first_line) + ")");
            continue;
        }
        table.names.push_back(name);
    }
    return table;
}

void resolve_model_providers(Draft& d, const NameTable& providers, Reporter& rep) {
    for (size_t i = 0; i < d.config.models.size(); ++i) {
        auto& model = d.config.models[i];
        const auto& info = d.models[i];
        if (!info.ok) continue;
        auto it = providers.index.find(model.provider);
        if (it == providers.index.end()) {
            rep.error(info.provider_pos, child_path(index_path("models", i), "provider"),
                      "unknown provider " + quote(model.provider) +
                          suggest(model.provider, providers.names, "defined providers"));
            continue;
        }
        model.provider_index = it->second;
        if (model.mock_fault.empty()) continue;
        const auto& prov = d.config.providers[it->second];
        const std::string path = child_path(index_path("models", i), "mock_fault");
        if (prov.kind != ProviderKind::mock) {
            rep.error(info.mock_fault_pos, path,
                      "mock_fault needs a provider of kind mock (" + quote(prov.name) + " is not)");
        } else if (!prov.mock.faults.count(model.mock_fault)) {
            std::vector<std::string> names;
            for (const auto& [n, f] : prov.mock.faults) names.push_back(n);
            rep.error(
                info.mock_fault_pos, path,
                "unknown mock fault " + quote(model.mock_fault) +
                    suggest(model.mock_fault, names, "faults of provider " + quote(prov.name)));
        }
    }
}

void check_replacements(Draft& d, const NameTable& models, Reporter& rep) {
    for (size_t i = 0; i < d.config.models.size(); ++i) {
        const auto& model = d.config.models[i];
        const auto& info = d.models[i];
        if (!info.ok || !model.deprecated || model.deprecated->replacement.empty()) continue;
        const std::string& replacement = model.deprecated->replacement;
        const std::string path = index_path("models", i) + ".deprecated.replacement";
        if (replacement == model.name) {
            rep.error(info.replacement_pos, path, "a model cannot be its own replacement");
        } else if (!models.index.count(replacement)) {
            rep.error(info.replacement_pos, path,
                      "unknown model " + quote(replacement) +
                          suggest(replacement, models.names, "defined models"));
        }
    }
}

void resolve_candidates(Draft& d, const NameTable& models, const NameTable& routes, Reporter& rep) {
    const auto& all_models = d.config.models;
    for (size_t r = 0; r < d.config.routes.size(); ++r) {
        auto& route = d.config.routes[r];
        const auto& info = d.routes[r];
        if (!info.ok) continue;
        const std::string base = child_path(index_path("routes", r), "candidates");
        std::vector<size_t> resolved;
        auto add = [&](size_t m) {
            if (std::find(resolved.begin(), resolved.end(), m) == resolved.end()) {
                resolved.push_back(m);
            }
        };
        for (size_t c = 0; c < route.candidates.size(); ++c) {
            const std::string& cand = route.candidates[c];
            const Position pos = c < info.candidate_pos.size() ? info.candidate_pos[c] : Position{};
            const std::string path = index_path(base, c);
            if (cand.rfind("tag:", 0) == 0) {
                const std::string tag = cand.substr(4);
                if (tag.empty()) {
                    rep.error(pos, path, "empty tag selector (write tag:<tag>)");
                    continue;
                }
                size_t matched = 0;
                for (size_t m = 0; m < all_models.size(); ++m) {
                    if (d.models[m].has_name && all_models[m].has_tag(tag)) {
                        add(m);
                        ++matched;
                    }
                }
                if (matched == 0) {
                    rep.error(pos, path, "selector " + quote(cand) + " matches no model");
                }
                continue;
            }
            if (auto it = models.index.find(cand); it != models.index.end()) {
                add(it->second);
            } else if (routes.index.count(cand)) {
                rep.error(pos, path,
                          quote(cand) +
                              " is a route; candidates must be models or tag:<tag> "
                              "selectors");
            } else {
                rep.error(
                    pos, path,
                    "unknown model " + quote(cand) + suggest(cand, models.names, "defined models"));
            }
        }
        route.candidate_models = std::move(resolved);
    }
}

void check_route_names(const Draft& d, const NameTable& models, Reporter& rep) {
    for (size_t r = 0; r < d.config.routes.size(); ++r) {
        if (!d.routes[r].has_name) continue;
        const std::string& name = d.config.routes[r].name;
        if (auto it = models.index.find(name); it != models.index.end()) {
            rep.error(d.routes[r].name_pos, child_path(index_path("routes", r), "name"),
                      "route name " + quote(name) + " is already a model name (line " +
                          std::to_string(d.models[it->second].name_pos.line) + ")");
        }
    }
}

void check_rules(const Draft& d, const NameTable& models, const NameTable& routes, Reporter& rep) {
    std::vector<std::string> targets = routes.names;
    targets.insert(targets.end(), models.names.begin(), models.names.end());
    for (size_t i = 0; i < d.config.rules.size(); ++i) {
        const auto& rule = d.config.rules[i];
        const auto& info = d.rules[i];
        if (!info.ok) continue;
        const std::string base = index_path("rules", i);
        if (rule.then.route && !routes.index.count(*rule.then.route)) {
            rep.error(info.route_pos, base + ".then.route",
                      "unknown route " + quote(*rule.then.route) +
                          suggest(*rule.then.route, routes.names, "defined routes"));
        }
        for (size_t m = 0; m < rule.match.models.size(); ++m) {
            const std::string& name = rule.match.models[m];
            if (models.index.count(name) || routes.index.count(name)) continue;
            const Position pos = m < info.model_pos.size() ? info.model_pos[m] : Position{};
            rep.error(
                pos, base + ".match.model",
                "unknown model or route " + quote(name) + suggest(name, targets, "defined names"));
        }
    }
}

}  // namespace

void validate(Draft& d, Reporter& rep) {
    const NameTable providers =
        collect_names(d.config.providers, d.providers, "provider", "providers", rep);
    const NameTable models = collect_names(d.config.models, d.models, "model", "models", rep);
    const NameTable routes = collect_names(d.config.routes, d.routes, "route", "routes", rep);
    resolve_model_providers(d, providers, rep);
    check_replacements(d, models, rep);
    check_route_names(d, models, rep);
    resolve_candidates(d, models, routes, rep);
    check_rules(d, models, routes, rep);
    auto& st = d.config.state;
    if (st.persist && st.path.empty()) {
        st.path = d.base_dir.empty()
                      ? std::string("baton-state.db")
                      : (std::filesystem::path(d.base_dir) / "baton-state.db").string();
    }
}

}  // namespace baton::config::detail
