// The models, routes and rules sections (shape only; cross references are in validate.cpp).
#include <algorithm>
#include <limits>

#include "config/internal.hpp"
#include "config/text.hpp"
#include "config/yaml_cursor.hpp"

namespace baton::config::detail {

bool read_objective(const Cursor& c, Objective& out) {
    MapCursor m(c, {"cost", "latency", "quality"});
    if (!m.ok()) return false;
    Objective o{0, 0, 0};
    bool good = true;
    good &= m.field("cost", [&](const Cursor& v) { return read_double(v, 0, kUnbounded, o.cost); });
    good &= m.field("latency",
                    [&](const Cursor& v) { return read_double(v, 0, kUnbounded, o.latency); });
    good &= m.field("quality",
                    [&](const Cursor& v) { return read_double(v, 0, kUnbounded, o.quality); });
    if (!good) return false;
    const double sum = o.cost + o.latency + o.quality;
    if (!(sum > 0)) {
        c.error("objective weights must not all be zero (set cost, latency and/or quality)");
        return false;
    }
    out = Objective{o.cost / sum, o.latency / sum, o.quality / sum};
    return true;
}

namespace {

constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr const char* kDoesNothing =
    "this rule does nothing (set then: route, require_capabilities, require_tags or objective)";

bool read_capabilities(const Cursor& c, std::vector<std::string>& out) {
    auto items = sequence_items(c);
    if (!items) return false;
    std::vector<std::string> caps;
    bool good = true;
    for (const auto& item : *items) {
        std::string cap;
        if (!read_enum(item, "capability", capability_names(), cap)) {
            good = false;
        } else if (std::find(caps.begin(), caps.end(), cap) == caps.end()) {
            caps.push_back(std::move(cap));
        }
    }
    if (good) out = std::move(caps);
    return good;
}

bool read_price(const Cursor& c, Price& out) {
    MapCursor m(c, {"input", "output", "cached_input"});
    bool good = m.ok();
    good &=
        m.field("input", [&](const Cursor& v) { return read_double(v, 0, kUnbounded, out.input); });
    good &= m.field("output",
                    [&](const Cursor& v) { return read_double(v, 0, kUnbounded, out.output); });
    good &= m.field("cached_input", [&](const Cursor& v) {
        return read_double(v, 0, kUnbounded, out.cached_input);
    });
    return good;
}

bool read_latency_hint(const Cursor& c, LatencyHint& out) {
    MapCursor m(c, {"ttft", "tokens_per_s"});
    bool good = m.ok();
    good &= m.field("ttft", [&](const Cursor& v) { return read_duration(v, Millis{0}, out.ttft); });
    good &= m.field("tokens_per_s", [&](const Cursor& v) {
        if (!read_double(v, 0, kUnbounded, out.tokens_per_s)) return false;
        if (out.tokens_per_s > 0) return true;
        v.error("must be > 0, got " + v.scalar());
        return false;
    });
    return good;
}

bool read_deprecation(const Cursor& c, Deprecation& out, ModelInfo& info) {
    MapCursor m(c, {"after", "replacement"});
    if (!m.ok()) return false;
    bool good = true;
    if (auto v = m.require("after")) {
        std::string text;
        if (!read_string(*v, text)) {
            good = false;
        } else if (!parse_date(text, out.after_days)) {
            v->error("expected a date like 2027-01-31, got " + quote(text));
            good = false;
        } else {
            out.after = text;
        }
    } else {
        good = false;
    }
    good &= m.field("replacement", [&](const Cursor& v) {
        info.replacement_pos = v.pos();
        return read_name(v, out.replacement);
    });
    return good;
}

void parse_model(const Cursor& item, Model& model, ModelInfo& info) {
    MapCursor m(item, {"name", "provider", "upstream_model", "context_window", "max_output_tokens",
                       "capabilities", "price", "quality", "tags", "latency_hint", "deprecated",
                       "mock_fault", "kind"});
    info.pos = item.pos();
    if (!m.ok() && !item.is_map()) return;
    if (auto v = m.require("name"); v && read_name(*v, model.name)) {
        if (model.name.rfind("tag:", 0) == 0) {
            v->error("model names must not start with \"tag:\" (that prefix selects by tag)");
        } else {
            info.has_name = true;
            info.name_pos = v->pos();
        }
    }
    if (auto v = m.require("provider"); v && read_name(*v, model.provider)) {
        info.provider_pos = v->pos();
    }
    m.field("upstream_model",
            [&](const Cursor& v) { return read_string(v, model.upstream_model); });
    m.field("kind", [&](const Cursor& v) {
        std::string k;
        if (!read_enum(v, "kind", {"chat", "embedding"}, k)) return false;
        model.kind = k == "embedding" ? ModelKind::embedding : ModelKind::chat;
        return true;
    });
    if (auto v = m.get("mock_fault"); v && read_name(*v, model.mock_fault)) {
        info.mock_fault_pos = v->pos();
    }
    if (model.upstream_model.empty()) model.upstream_model = model.name;
    m.field("context_window",
            [&](const Cursor& v) { return read_uint_as(v, 0, kU32Max, model.context_window); });
    const bool max_out_ok = m.field("max_output_tokens", [&](const Cursor& v) {
        return read_uint_as(v, 0, kU32Max, model.max_output_tokens);
    });
    if (max_out_ok && model.context_window > 0 && model.max_output_tokens > model.context_window) {
        m.get("max_output_tokens")
            ->error("must not exceed context_window (" + std::to_string(model.context_window) +
                    "), got " + std::to_string(model.max_output_tokens));
    }
    m.field("capabilities",
            [&](const Cursor& v) { return read_capabilities(v, model.capabilities); });
    m.field("price", [&](const Cursor& v) { return read_price(v, model.price); });
    m.field("quality", [&](const Cursor& v) { return read_double(v, 0, 1, model.quality); });
    m.field("tags", [&](const Cursor& v) { return read_string_list(v, model.tags); });
    m.field("latency_hint",
            [&](const Cursor& v) { return read_latency_hint(v, model.latency_hint); });
    m.field("deprecated", [&](const Cursor& v) {
        Deprecation d;
        if (!read_deprecation(v, d, info)) return false;
        model.deprecated = std::move(d);
        return true;
    });
}

bool read_constraints(const Cursor& c, Constraints& out) {
    MapCursor m(c, {"max_price_input", "max_price_output", "max_ttft", "require_tags",
                    "require_capabilities"});
    bool good = m.ok();
    auto optional_price = [&](const char* key, std::optional<double>& dst) {
        return m.field(key, [&](const Cursor& v) {
            double x = 0;
            if (!read_double(v, 0, kUnbounded, x)) return false;
            dst = x;
            return true;
        });
    };
    good &= optional_price("max_price_input", out.max_price_input);
    good &= optional_price("max_price_output", out.max_price_output);
    good &= m.field("max_ttft", [&](const Cursor& v) {
        Millis d{};
        if (!read_duration(v, Millis{1}, d)) return false;
        out.max_ttft = d;
        return true;
    });
    good &= m.field("require_tags",
                    [&](const Cursor& v) { return read_string_list(v, out.require_tags); });
    good &= m.field("require_capabilities", [&](const Cursor& v) {
        return read_capabilities(v, out.require_capabilities);
    });
    return good;
}

bool read_complexity(const Cursor& c, ComplexityTiers& out) {
    MapCursor m(c, {"simple_below", "complex_above"});
    bool good = m.ok();
    good &= m.field("simple_below",
                    [&](const Cursor& v) { return read_double(v, 0, 1, out.simple_below); });
    good &= m.field("complex_above",
                    [&](const Cursor& v) { return read_double(v, 0, 1, out.complex_above); });
    if (good && out.simple_below > out.complex_above) {
        c.error("simple_below must not be greater than complex_above");
        return false;
    }
    return good;
}

bool read_sticky_by(const Cursor& c, std::string& out) {
    if (!c.is_scalar() || c.scalar().empty()) return c.expected("user, key or header:<name>");
    const std::string& s = c.scalar();
    if (s.rfind("header:", 0) == 0) {
        const std::string name = s.substr(7);
        if (!is_token(name)) {
            c.error("expected header:<name> with a header name, got " + quote(s));
            return false;
        }
        out = "header:" + to_lower(name);
        return true;
    }
    if (s == "user" || s == "key") {
        out = s;
        return true;
    }
    const std::string near = nearest_name(s, {"user", "key"});
    c.error("unknown sticky_by " + quote(s) +
            (near.empty() ? " (expected user, key or header:<name>)"
                          : " (did you mean " + quote(near) + "?)"));
    return false;
}

bool read_variant(const Cursor& c, Variant& out) {
    MapCursor m(c, {"name", "weight", "objective"});
    if (!m.ok()) return false;
    bool good = true;
    if (auto v = m.require("name")) {
        good &= read_name(*v, out.name);
    } else {
        good = false;
    }
    if (auto v = m.require("weight")) {
        good &= read_uint_as(*v, 1, 1'000'000, out.weight);
    } else {
        good = false;
    }
    good &= m.field("objective", [&](const Cursor& v) {
        Objective o;
        if (!read_objective(v, o)) return false;
        out.objective = o;
        return true;
    });
    return good;
}

bool read_experiment(const Cursor& c, const std::string& route_name, Experiment& out) {
    MapCursor m(c, {"name", "sticky_by", "variants"});
    if (!m.ok()) return false;
    bool good = true;
    out.name = route_name;
    good &= m.field("name", [&](const Cursor& v) { return read_name(v, out.name); });
    good &= m.field("sticky_by", [&](const Cursor& v) { return read_sticky_by(v, out.sticky_by); });
    auto variants = m.require("variants");
    if (!variants) return false;
    auto items = sequence_items(*variants);
    if (!items) return false;
    if (items->empty()) {
        variants->error("expected at least one variant");
        return false;
    }
    for (const auto& item : *items) {
        Variant variant;
        if (!read_variant(item, variant)) {
            good = false;
            continue;
        }
        const bool duplicate =
            std::any_of(out.variants.begin(), out.variants.end(),
                        [&](const Variant& x) { return x.name == variant.name; });
        if (duplicate) {
            item.error("duplicate variant name " + quote(variant.name));
            good = false;
            continue;
        }
        out.variants.push_back(std::move(variant));
    }
    return good;
}

// Optional-valued overrides: only what the route sets replaces the providers' settings.
bool read_optional_duration(const Cursor& v, Millis min, std::optional<Millis>& out) {
    Millis d{0};
    if (!read_duration(v, min, d)) return false;
    out = d;
    return true;
}

bool read_route_resilience(const Cursor& c, RouteResilience& out) {
    MapCursor m(c, {"max_retries", "backoff_base", "backoff_cap", "retry_after_cap", "timeout",
                    "hold_back"});
    bool good = m.ok();
    const Millis zero{0};
    good &= m.field("max_retries", [&](const Cursor& v) {
        uint32_t n = 0;
        if (!read_uint_as(v, 0, 10, n)) return false;
        out.max_retries = n;
        return true;
    });
    good &= m.field("backoff_base", [&](const Cursor& v) {
        return read_optional_duration(v, zero, out.backoff_base);
    });
    good &= m.field("backoff_cap", [&](const Cursor& v) {
        return read_optional_duration(v, zero, out.backoff_cap);
    });
    good &= m.field("retry_after_cap", [&](const Cursor& v) {
        return read_optional_duration(v, zero, out.retry_after_cap);
    });
    good &= m.field("timeout", [&](const Cursor& v) {
        return read_optional_duration(v, Millis{1}, out.timeout);
    });
    good &= m.field("hold_back", [&](const Cursor& h) {
        MapCursor hm(h, {"time", "bytes"});
        bool ok = hm.ok();
        ok &= hm.field("time",
                       [&](const Cursor& v) { return read_duration(v, zero, out.hold_back_time); });
        ok &= hm.field("bytes", [&](const Cursor& v) {
            return read_uint_as(v, 0, 1u << 20, out.hold_back_bytes);
        });
        return ok;
    });
    return good;
}

void parse_route(const Cursor& item, Route& route, RouteInfo& info) {
    MapCursor m(item, {"name", "candidates", "objective", "constraints", "complexity", "experiment",
                       "resilience"});
    if (!m.ok() && !item.is_map()) return;
    if (auto v = m.require("name"); v && read_name(*v, route.name)) {
        info.has_name = true;
        info.name_pos = v->pos();
    }
    if (auto v = m.require("candidates")) {
        std::vector<Position> positions;
        if (read_string_list(*v, route.candidates, false, &positions)) {
            info.candidate_pos = std::move(positions);
            if (route.candidates.empty()) v->error("expected at least one candidate");
        }
    }
    m.field("objective", [&](const Cursor& v) { return read_objective(v, route.objective); });
    m.field("constraints", [&](const Cursor& v) { return read_constraints(v, route.constraints); });
    m.field("complexity", [&](const Cursor& v) { return read_complexity(v, route.complexity); });
    m.field("experiment", [&](const Cursor& v) {
        Experiment e;
        if (!read_experiment(v, route.name, e)) return false;
        route.experiment = std::move(e);
        return true;
    });
    m.field("resilience",
            [&](const Cursor& v) { return read_route_resilience(v, route.resilience); });
}

bool read_rule_headers(const Cursor& c, std::map<std::string, std::string>& out) {
    MapCursor m(c);
    bool good = m.ok();
    for (const auto& e : m.entries()) {
        if (!is_token(e.key)) {
            e.value.error("invalid header name " + quote(e.key));
            good = false;
            continue;
        }
        if (!e.value.is_scalar()) {
            good = e.value.expected("a header value (a string)") && good;
            continue;
        }
        out[to_lower(e.key)] = e.value.scalar();
    }
    return good;
}

bool read_match(const Cursor& c, RuleMatch& out, RuleInfo& info) {
    MapCursor m(c, {"header", "prompt_tokens_over", "content_regex", "model"});
    bool good = m.ok();
    good &= m.field("header", [&](const Cursor& v) { return read_rule_headers(v, out.headers); });
    good &= m.field("prompt_tokens_over", [&](const Cursor& v) {
        uint32_t n = 0;
        if (!read_uint_as(v, 0, kU32Max, n)) return false;
        out.prompt_tokens_over = n;
        return true;
    });
    good &= m.field("content_regex", [&](const Cursor& v) {
        if (v.is_scalar() && !v.scalar().empty()) {
            out.content_regex = v.scalar();
            return true;
        }
        return v.expected("a regular expression (a non-empty string)");
    });
    good &= m.field("model", [&](const Cursor& v) {
        return read_string_list(v, out.models, true, &info.model_pos);
    });
    return good;
}

bool read_action(const Cursor& c, RuleAction& out, RuleInfo& info) {
    MapCursor m(c, {"route", "require_capabilities", "require_tags", "objective"});
    bool good = m.ok();
    good &= m.field("route", [&](const Cursor& v) {
        std::string name;
        if (!read_name(v, name)) return false;
        out.route = name;
        info.route_pos = v.pos();
        return true;
    });
    good &= m.field("require_capabilities", [&](const Cursor& v) {
        return read_capabilities(v, out.require_capabilities);
    });
    good &= m.field("require_tags",
                    [&](const Cursor& v) { return read_string_list(v, out.require_tags); });
    good &= m.field("objective", [&](const Cursor& v) {
        Objective o;
        if (!read_objective(v, o)) return false;
        out.objective = o;
        return true;
    });
    if (good && !out.route && out.require_capabilities.empty() && out.require_tags.empty() &&
        !out.objective) {
        c.warning(kDoesNothing);
    }
    return good;
}

void parse_rule(const Cursor& item, Rule& rule, RuleInfo& info) {
    MapCursor m(item, {"match", "then"});
    rule.line = item.pos().line;
    if (!m.ok() && !item.is_map()) return;
    m.field("match", [&](const Cursor& v) { return read_match(v, rule.match, info); });
    if (auto v = m.get("then")) {
        read_action(*v, rule.then, info);
    } else if (m.ok()) {
        item.warning(kDoesNothing);
    }
}

template <class Entry, class Info, class Parse>
void parse_list(const Cursor& c, std::vector<Entry>& entries, std::vector<Info>& infos,
                Parse parse) {
    auto items = sequence_items(c);
    if (!items) return;
    for (const auto& item : *items) {
        const size_t errors_before = c.reporter().error_count();
        Entry entry;
        Info info;
        parse(item, entry, info);
        info.ok = c.reporter().error_count() == errors_before;
        entries.push_back(std::move(entry));
        infos.push_back(std::move(info));
    }
}

}  // namespace

void parse_models(const Cursor& c, Draft& draft) {
    parse_list(c, draft.config.models, draft.models, parse_model);
}

void parse_routes(const Cursor& c, Draft& draft) {
    parse_list(c, draft.config.routes, draft.routes, parse_route);
}

void parse_rules(const Cursor& c, Draft& draft) {
    parse_list(c, draft.config.rules, draft.rules, parse_rule);
}

}  // namespace baton::config::detail
