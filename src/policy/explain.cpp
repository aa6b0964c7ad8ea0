// explain() JSON and the decision response headers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "baton/policy/engine.hpp"

namespace baton::policy {
namespace {

using nlohmann::json;

// Rounds to `digits` decimals (dividing by a power of ten prints cleanly, multiplying doesn't).
double round_to(double v, int digits) {
    double scale = std::pow(10.0, digits);
    return std::round(v * scale) / scale;
}

json features_json(const Features& f) {
    json j;
    j["prompt_tokens"] = f.prompt_tokens;
    j["text_tokens"] = f.text_tokens;
    j["tools_tokens"] = f.tools_tokens;
    j["image_tokens"] = f.image_tokens;
    j["overhead_tokens"] = f.overhead_tokens;
    j["last_user_tokens"] = f.last_user_tokens;
    j["max_tokens"] = f.max_tokens ? json(*f.max_tokens) : json(nullptr);
    j["tools"] = f.tools;
    j["images"] = f.image_count;
    j["response_format"] = f.json_schema ? "json_schema" : f.json_object ? "json_object" : "text";
    j["stream"] = f.stream;
    j["messages"] = f.message_count;
    j["complexity"] = round_to(f.complexity, 3);
    const ComplexityTerms& t = f.complexity_terms;
    j["complexity_terms"] = {{"length", round_to(t.length, 3)},
                             {"code", round_to(t.code, 3)},
                             {"math", round_to(t.math, 3)},
                             {"steps", round_to(t.steps, 3)},
                             {"reasoning", round_to(t.reasoning, 3)},
                             {"questions", round_to(t.questions, 3)},
                             {"constraints", round_to(t.constraints, 3)}};
    return j;
}

json score_json(const Score& s) {
    return {{"total", round_to(s.total, 4)},
            {"cost_term", round_to(s.cost_term, 4)},
            {"latency_term", round_to(s.latency_term, 4)},
            {"quality_term", round_to(s.quality_term, 4)},
            {"cost_usd", s.cost_usd},
            {"latency_ms", round_to(s.latency_ms, 1)},
            {"ttft_ms", round_to(s.ttft_ms, 1)},
            {"tokens_per_s", round_to(s.tokens_per_s, 2)},
            {"latency_samples", s.latency_samples},
            {"latency_source", s.live_latency          ? "live"
                               : s.latency_samples > 0 ? "blend"
                                                       : "hint"},
            {"quality", s.quality}};
}

const std::string& name_of(const config::Config& c, size_t mi) {
    static const std::string unknown = "?";
    return mi < c.models.size() ? c.models[mi].name : unknown;
}

std::string fmt_num(double v) {
    char buf[32];
    if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", v);
    } else {
        std::snprintf(buf, sizeof buf, "%.4g", v);
    }
    return buf;
}

constexpr std::string_view kFilterNames[] = {
    "context",
    "max_output",
    "capability:tools",
    "capability:vision",
    "capability:json_schema",
    "capability:json_mode",
    "capability:streaming",
    "capability",
    "tag",
    "price",
    "ttft",
    "deprecated",
};

template <typename Fn>
void for_each_reason(const Plan& p, const FilterResult& r, Fn&& fn) {
    for (unsigned f = 0; f < std::size(kFilterNames); ++f) {
        if (!((r.failed >> f) & 1u)) continue;
        auto flt = static_cast<Filter>(f);
        if (flt == Filter::capability) {
            for (size_t i = 0; i < p.required_capabilities.size() && i < 64; ++i) {
                if ((r.missing_capabilities >> i) & 1u) {
                    fn(flt, "capability:" + p.required_capabilities[i]);
                }
            }
        } else if (flt == Filter::tag) {
            for (size_t i = 0; i < p.required_tags.size() && i < 64; ++i) {
                if ((r.missing_tags >> i) & 1u) fn(flt, "tag:" + p.required_tags[i]);
            }
        } else {
            fn(flt, std::string(kFilterNames[f]));
        }
    }
}

std::string detail_of(const Plan& p, Filter flt, const config::Model& m, const FilterResult& r) {
    const Features& f = p.features;
    switch (flt) {
        case Filter::context: {
            uint32_t reserve = f.max_tokens ? *f.max_tokens
                               : m.max_output_tokens > 0
                                   ? std::min(kDefaultOutputReserve, m.max_output_tokens)
                                   : kDefaultOutputReserve;
            return "needs " + std::to_string(f.prompt_tokens) + " prompt + " +
                   std::to_string(reserve) + " output tokens > context_window " +
                   std::to_string(m.context_window);
        }
        case Filter::max_output:
            return "max_tokens " + std::to_string(f.max_tokens.value_or(0)) +
                   " > max_output_tokens " + std::to_string(m.max_output_tokens);
        case Filter::tools:
            return "request has tools; model lacks tools";
        case Filter::vision:
            return "request has images; model lacks vision";
        case Filter::json_schema:
            return "response_format json_schema; model lacks it";
        case Filter::json_mode:
            return "response_format json_object; model lacks json_mode";
        case Filter::streaming:
            return "request streams; model lacks streaming";
        case Filter::capability:
            return "required capability missing";
        case Filter::tag:
            return "model lacks required tag";
        case Filter::price:
            if (p.max_price_output && m.price.output > *p.max_price_output) {
                return "output $" + fmt_num(m.price.output) + "/1M > max $" +
                       fmt_num(*p.max_price_output) + "/1M";
            }
            return "input $" + fmt_num(m.price.input) + "/1M > max $" +
                   fmt_num(p.max_price_input.value_or(0)) + "/1M";
        case Filter::ttft:
            return "predicted " + fmt_num(std::round(r.ttft_ms)) + "ms > max " +
                   std::to_string(p.max_ttft ? p.max_ttft->count() : 0) + "ms";
        case Filter::deprecated:
            return "deprecated";
    }
    return {};
}

std::string describe_result(const Plan& p, const FilterResult& r, const config::Model& m) {
    std::string out;
    for_each_reason(p, r, [&](Filter flt, std::string name) {
        if (flt == Filter::deprecated) return;
        if (!out.empty()) out += "; ";
        out += name + " (" + detail_of(p, flt, m, r) + ")";
    });
    return out;
}

}  // namespace

std::vector<std::string> reasons(const Plan& p, const FilterResult& r) {
    std::vector<std::string> out;
    for_each_reason(p, r, [&out](Filter, std::string name) { out.push_back(std::move(name)); });
    return out;
}

std::vector<std::string> reasons(const Plan& p, const Exclusion& e) { return reasons(p, e.why); }

std::string describe(const Plan& p, const Exclusion& e, const config::Config& config) {
    if (e.model_index >= config.models.size()) return {};
    const config::Model& m = config.models[e.model_index];
    std::string out = describe_result(p, e.why, m);
    if (e.why.has(Filter::deprecated)) {
        if (!out.empty()) out += "; ";
        out += "deprecated (past " + (m.deprecated ? m.deprecated->after : std::string("?"));
        if (!e.replacement) {
            out += ", no replacement)";
        } else if (e.replacement_is_candidate) {
            out += ", replacement " + name_of(config, *e.replacement) + " is already a candidate)";
        } else {
            out += ", replacement " + name_of(config, *e.replacement) + " excluded: " +
                   describe_result(p, e.replacement_why, config.models[*e.replacement]) + ")";
        }
    }
    return out;
}

namespace {
// Calls emit(name, value) for each decision header, in order. `model_and_provider` false leaves
// out x-baton-model and x-baton-provider (the proxy writes those for the attempt's candidate).
template <class Emit>
void each_decision_header(const Plan& p, const config::Config& config, bool model_and_provider,
                          Emit&& emit) {
    const Candidate* c = p.chosen();
    if (!p.ok() || !c || c->model_index >= config.models.size()) return;
    const config::Model& m = config.models[c->model_index];
    emit("x-baton-route", p.route);
    if (model_and_provider) {
        emit("x-baton-model", m.name);
        emit("x-baton-provider", m.provider);
    }
    if (!p.variant.empty()) emit("x-baton-variant", p.variant);
    emit("x-baton-reason", p.reason);
    for (const auto& d : p.deprecations) {
        bool involved = (d.replacement && *d.replacement == c->model_index) ||
                        (!d.replacement && d.model_index == c->model_index);
        if (!involved) continue;
        std::string v = name_of(config, d.model_index) + "; after=" + d.after;
        if (d.replacement) v += "; replacement=" + name_of(config, *d.replacement);
        emit("x-baton-deprecated", v);
        break;
    }
}
}  // namespace

std::vector<std::pair<std::string, std::string>> decision_headers(const Plan& p,
                                                                  const config::Config& config) {
    std::vector<std::pair<std::string, std::string>> h;
    each_decision_header(p, config, true, [&](std::string_view k, std::string_view v) {
        h.emplace_back(std::string(k), std::string(v));
    });
    return h;
}

void append_decision_headers(std::string& out, const Plan& p, const config::Config& config) {
    each_decision_header(p, config, false, [&](std::string_view k, std::string_view v) {
        out.append(k).append(std::string_view(": ")).append(v).append(std::string_view("\r\n"));
    });
}

nlohmann::json explain(const Plan& p, const Features& features, const config::Config& config) {
    json j;
    j["requested"] = p.requested;
    j["route"] = p.route;
    j["direct"] = p.direct;
    j["features"] = features_json(features);
    j["tier"] = std::string(to_string(p.tier));
    j["objective"] = {{"cost", round_to(p.objective.cost, 4)},
                      {"latency", round_to(p.objective.latency, 4)},
                      {"quality", round_to(p.objective.quality, 4)},
                      {"source", p.objective_source}};
    if (p.rule_index) {
        j["rule"] = {{"index", *p.rule_index}, {"line", p.rule_line}, {"applied", p.rule_applied}};
    } else {
        j["rule"] = nullptr;
    }
    if (!p.experiment.empty()) {
        j["experiment"] = {
            {"name", p.experiment}, {"variant", p.variant}, {"sticky_by", p.sticky_source}};
    } else {
        j["experiment"] = nullptr;
    }
    j["requirements"] = {
        {"tags", p.required_tags},
        {"capabilities", p.required_capabilities},
        {"max_price_output", p.max_price_output ? json(*p.max_price_output) : json(nullptr)}};
    j["expected_output_tokens"] = p.expected_output_tokens;

    // Every candidate: ranked ones with their score, excluded ones with their reasons, in rank
    // order then candidate order.
    json cands = json::array();
    for (size_t i = 0; i < p.ranked.size(); ++i) {
        const Candidate& c = p.ranked[i];
        json e;
        e["model"] = name_of(config, c.model_index);
        e["provider"] =
            c.model_index < config.models.size() ? config.models[c.model_index].provider : "";
        e["status"] = "ranked";
        e["rank"] = i + 1;
        e["score"] = score_json(c.score);
        if (c.replaces) e["replaces"] = name_of(config, *c.replaces);
        cands.push_back(std::move(e));
    }
    for (const Exclusion& x : p.excluded) {
        json e;
        e["model"] = name_of(config, x.model_index);
        e["provider"] =
            x.model_index < config.models.size() ? config.models[x.model_index].provider : "";
        e["status"] = "excluded";
        e["reasons"] = reasons(p, x);
        e["detail"] = describe(p, x, config);
        cands.push_back(std::move(e));
    }
    j["candidates"] = std::move(cands);

    json deps = json::array();
    for (const auto& d : p.deprecations) {
        deps.push_back({{"model", name_of(config, d.model_index)},
                        {"after", d.after},
                        {"replacement",
                         d.replacement ? json(name_of(config, *d.replacement)) : json(nullptr)}});
    }
    j["deprecations"] = std::move(deps);

    if (p.ok() && p.chosen()) {
        const Candidate& c = *p.chosen();
        j["chosen"] = {
            {"model", name_of(config, c.model_index)},
            {"provider",
             c.model_index < config.models.size() ? config.models[c.model_index].provider : ""},
            {"decisive", p.decisive},
            {"reason", p.reason}};
        json fallbacks = json::array();
        for (size_t i = 1; i < p.ranked.size(); ++i) {
            fallbacks.push_back(name_of(config, p.ranked[i].model_index));
        }
        j["chosen"]["fallbacks"] = std::move(fallbacks);
        json headers = json::object();
        for (const auto& [k, v] : decision_headers(p, config)) headers[k] = v;
        j["headers"] = std::move(headers);
        j["error"] = nullptr;
    } else {
        j["chosen"] = nullptr;
        j["headers"] = json::object();
        if (p.error) {
            int status = p.error->code == Errc::model_not_found   ? 404
                         : p.error->code == Errc::unprocessable   ? 422
                         : p.error->code == Errc::invalid_request ? 400
                                                                  : 500;
            j["error"] = {
                {"status", status}, {"message", p.error->message}, {"param", p.error->param}};
        }
    }
    return j;
}

}  // namespace baton::policy
