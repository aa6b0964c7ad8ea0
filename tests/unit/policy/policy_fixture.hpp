#pragma once
// Shared helpers for the policy engine tests: configs built in C++ and hand-made requests.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "baton/config/model.hpp"
#include "baton/openai/chat_request.hpp"
#include "baton/policy/engine.hpp"

namespace baton::policy::testing {

inline const std::vector<std::string>& all_caps() {
    static const std::vector<std::string> caps{"tools", "vision", "json_schema", "json_mode",
                                               "streaming"};
    return caps;
}

struct ModelSpec {
    std::string name;
    double in = 1.0;   // USD per 1M input tokens
    double out = 2.0;  // USD per 1M output tokens
    double quality = 0.5;
    std::vector<std::string> caps = all_caps();
    std::vector<std::string> tags = {};
    uint32_t context = 128000;
    int ttft_ms = 500;
    double tps = 80;
    uint32_t max_output = 16384;
};

inline config::Model make_model(const ModelSpec& s) {
    config::Model m;
    m.name = s.name;
    m.provider = "p-" + s.name;
    m.upstream_model = s.name;
    m.context_window = s.context;
    m.max_output_tokens = s.max_output;
    m.capabilities = s.caps;
    m.price = {s.in, s.out, s.in / 2};
    m.quality = s.quality;
    m.tags = s.tags;
    m.latency_hint.ttft = config::Millis{s.ttft_ms};
    m.latency_hint.tokens_per_s = s.tps;
    return m;
}

inline config::Route make_route(std::string name, const config::Config& c,
                                std::vector<std::string> candidates,
                                config::Objective objective = {0.5, 0.2, 0.3}) {
    config::Route r;
    r.name = std::move(name);
    r.candidates = candidates;
    for (const auto& n : candidates) {
        for (size_t i = 0; i < c.models.size(); ++i) {
            if (c.models[i].name == n) r.candidate_models.push_back(i);
        }
    }
    r.objective = objective;
    return r;
}

// cheap: gpt-4o-mini-like; strong: expensive, high quality, slower; local: free-ish, small
// context, no tools, on_prem.
inline config::Config three_models() {
    config::Config c;
    c.source_path = "test.yaml";
    c.models.push_back(make_model({.name = "cheap",
                                   .in = 0.15,
                                   .out = 0.60,
                                   .quality = 0.62,
                                   .tags = {"us", "zero_retention"},
                                   .ttft_ms = 400,
                                   .tps = 80}));
    c.models.push_back(make_model({.name = "strong",
                                   .in = 3.0,
                                   .out = 15.0,
                                   .quality = 0.92,
                                   .tags = {"us", "eu"},
                                   .context = 200000,
                                   .ttft_ms = 900,
                                   .tps = 60}));
    c.models.push_back(make_model({.name = "local",
                                   .in = 0.05,
                                   .out = 0.10,
                                   .quality = 0.40,
                                   .caps = {"streaming"},
                                   .tags = {"on_prem", "eu"},
                                   .context = 8192,
                                   .ttft_ms = 300,
                                   .tps = 40,
                                   .max_output = 4096}));
    c.routes.push_back(make_route("auto", c, {"cheap", "strong", "local"}));
    return c;
}

inline Features simple_features(uint32_t prompt_tokens = 20, double complexity = 0.05) {
    Features f;
    f.prompt_tokens = prompt_tokens;
    f.text_tokens = prompt_tokens;
    f.message_count = 1;
    f.complexity = complexity;
    return f;
}

// A chat body built message by message, with the ChatRequest spans a scanner would produce.
struct TestRequest {
    std::string body;
    openai::ChatRequest req;
};

struct Msg {
    std::string role;
    std::string text;
};

inline TestRequest make_request(const std::string& model, const std::vector<Msg>& messages,
                                std::string extra = {}) {
    TestRequest t;
    t.body = "{\"model\":" + nlohmann::json(model).dump() + ",\"messages\":[";
    for (size_t i = 0; i < messages.size(); ++i) {
        if (i) t.body += ",";
        t.body += "{\"role\":" + nlohmann::json(messages[i].role).dump() + ",\"content\":";
        std::string quoted = nlohmann::json(messages[i].text).dump();
        auto begin = static_cast<uint32_t>(t.body.size() + 1);
        t.body += quoted;
        auto end = static_cast<uint32_t>(t.body.size() - 1);
        t.req.text_spans.push_back({begin, end});
        t.req.text_bytes += end - begin;
        t.body += "}";
    }
    t.body += "]";
    if (!extra.empty()) t.body += "," + extra;
    t.body += "}";
    t.req.message_count = static_cast<uint32_t>(messages.size());
    return t;
}

// Runs plan() with the usual defaults (no stats, day 20000 = 2024-10-04).
inline Plan run_plan(const config::Config& c, std::string_view requested, const Features& f,
                     const HeaderLookup* headers = nullptr, const LatencyStats* stats = nullptr,
                     int64_t today = 20000, StickyKeys sticky = {}) {
    CompiledPolicy pol = compile(c);
    PlanInput in(c, pol, requested, f);
    in.headers = headers;
    in.sticky = sticky;
    in.today_days = today;
    in.stats = stats;
    return plan(in);
}

inline std::string chosen_name(const config::Config& c, const Plan& p) {
    return p.chosen() ? c.models[p.chosen()->model_index].name : std::string("<none>");
}

inline const Exclusion* exclusion_of(const config::Config& c, const Plan& p,
                                     std::string_view model) {
    for (const auto& e : p.excluded) {
        if (c.models[e.model_index].name == model) return &e;
    }
    return nullptr;
}

inline bool has_reason(const Plan& p, const Exclusion* e, std::string_view reason) {
    if (!e) return false;
    for (const auto& r : reasons(p, *e)) {
        if (r == reason) return true;
    }
    return false;
}

}  // namespace baton::policy::testing
