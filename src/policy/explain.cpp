// explain() JSON and the decision response headers.
#include <nlohmann/json.hpp>

#include "baton/policy/engine.hpp"

namespace baton::policy {
namespace {

using nlohmann::json;

double round_to(double v, double unit) { return std::round(v / unit) * unit; }

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
    j["complexity"] = round_to(f.complexity, 0.001);
    const ComplexityTerms& t = f.complexity_terms;
    j["complexity_terms"] = {{"length", round_to(t.length, 0.001)},
                             {"code", round_to(t.code, 0.001)},
                             {"math", round_to(t.math, 0.001)},
                             {"steps", round_to(t.steps, 0.001)},
                             {"reasoning", round_to(t.reasoning, 0.001)},
                             {"questions", round_to(t.questions, 0.001)},
                             {"constraints", round_to(t.constraints, 0.001)}};
    return j;
}

json score_json(const Score& s) {
    return {{"total", round_to(s.total, 1e-4)},
            {"cost_term", round_to(s.cost_term, 1e-4)},
            {"latency_term", round_to(s.latency_term, 1e-4)},
            {"quality_term", round_to(s.quality_term, 1e-4)},
            {"cost_usd", s.cost_usd},
            {"latency_ms", round_to(s.latency_ms, 0.1)},
            {"ttft_ms", round_to(s.ttft_ms, 0.1)},
            {"tokens_per_s", round_to(s.tokens_per_s, 0.01)},
            {"latency_samples", s.latency_samples},
            {"latency_source", s.live_latency        ? "live"
                               : s.latency_samples > 0 ? "blend"
                                                       : "hint"},
            {"quality", s.quality}};
}

const std::string& name_of(const config::Config& c, size_t mi) {
    static const std::string unknown = "?";
    return mi < c.models.size() ? c.models[mi].name : unknown;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> decision_headers(const Plan& p,
                                                                  const config::Config& config) {
    std::vector<std::pair<std::string, std::string>> h;
    const Candidate* c = p.chosen();
    if (!p.ok() || !c || c->model_index >= config.models.size()) return h;
    const config::Model& m = config.models[c->model_index];
    h.emplace_back("x-baton-route", p.route);
    h.emplace_back("x-baton-model", m.name);
    h.emplace_back("x-baton-provider", m.provider);
    if (!p.variant.empty()) h.emplace_back("x-baton-variant", p.variant);
    h.emplace_back("x-baton-reason", p.reason);
    for (const auto& d : p.deprecations) {
        bool involved = (d.replacement && *d.replacement == c->model_index) ||
                        (!d.replacement && d.model_index == c->model_index);
        if (!involved) continue;
        std::string v = name_of(config, d.model_index) + "; after=" + d.after;
        if (d.replacement) v += "; replacement=" + name_of(config, *d.replacement);
        h.emplace_back("x-baton-deprecated", std::move(v));
        break;
    }
    return h;
}

nlohmann::json explain(const Plan& p, const Features& features, const config::Config& config) {
    json j;
    j["requested"] = p.requested;
    j["route"] = p.route;
    j["direct"] = p.direct;
    j["features"] = features_json(features);
    j["tier"] = std::string(to_string(p.tier));
    j["objective"] = {{"cost", round_to(p.objective.cost, 1e-4)},
                      {"latency", round_to(p.objective.latency, 1e-4)},
                      {"quality", round_to(p.objective.quality, 1e-4)},
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
        e["reasons"] = x.reasons;
        e["detail"] = x.detail;
        cands.push_back(std::move(e));
    }
    j["candidates"] = std::move(cands);

    json deps = json::array();
    for (const auto& d : p.deprecations) {
        deps.push_back({{"model", name_of(config, d.model_index)},
                        {"after", d.after},
                        {"replacement", d.replacement ? json(name_of(config, *d.replacement))
                                                      : json(nullptr)}});
    }
    j["deprecations"] = std::move(deps);

    if (p.ok() && p.chosen()) {
        const Candidate& c = *p.chosen();
        j["chosen"] = {{"model", name_of(config, c.model_index)},
                       {"provider", c.model_index < config.models.size()
                                        ? config.models[c.model_index].provider
                                        : ""},
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
            int status = p.error->code == Errc::model_not_found ? 404
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
