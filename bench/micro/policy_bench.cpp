// Policy engine micro-benchmarks (Google Benchmark).
//   plan() over a 50-candidate route       target < 5 us
//   complexity score of a 4 KB prompt      target < 10 us
// Build (from the repository root):
//   g++ -std=c++20 -O2 -DNDEBUG -Iinclude bench/micro/policy_bench.cpp src/policy/*.cpp
//       $(pkg-config --cflags --libs re2) -lbenchmark -pthread -o policy_bench
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "baton/policy/engine.hpp"

namespace {

using namespace baton;
using namespace baton::policy;

const char* kParagraph =
    "Design a rate limiter for a distributed API gateway. Compare token bucket and sliding "
    "window approaches, analyze the trade-offs in memory and accuracy, and explain why one is "
    "better under bursty traffic.\\n\\n```go\\nfunc (l *Limiter) Allow(key string) bool {\\n"
    "    l.mu.Lock()\\n    defer l.mu.Unlock()\\n    return l.buckets[key].take(1)\\n}\\n```\\n"
    "1. First, state the requirements: at least 10k keys, exactly-once accounting.\\n"
    "2. Then derive the memory bound and prove it is tight. What happens at 1M keys? \\n";

// About 4 KB of raw JSON string content (a user prompt as it sits in the body).
std::string prompt_4k() {
    std::string s;
    while (s.size() < 4096) s += kParagraph;
    s.resize(4096);
    return s;
}

config::Config fifty_models() {
    config::Config c;
    const std::vector<std::string> caps_full{"tools", "vision", "json_schema", "json_mode",
                                             "streaming"};
    for (int i = 0; i < 50; ++i) {
        config::Model m;
        m.name = "model-" + std::to_string(i);
        m.provider = "provider-" + std::to_string(i % 5);
        m.context_window = i % 10 == 0 ? 8192 : 128000;
        m.max_output_tokens = 16384;
        m.capabilities = i % 7 == 0 ? std::vector<std::string>{"streaming"} : caps_full;
        m.price = {0.1 + 0.2 * i, 0.4 + 0.6 * i, 0.05 + 0.1 * i};
        m.quality = 0.3 + 0.012 * i;
        m.tags = i % 3 == 0 ? std::vector<std::string>{"us", "eu"}
                            : std::vector<std::string>{"us", "zero_retention"};
        m.latency_hint.ttft = config::Millis{200 + 20 * (i % 13)};
        m.latency_hint.tokens_per_s = 40.0 + i;
        c.models.push_back(std::move(m));
    }
    config::Route r;
    r.name = "auto";
    for (size_t i = 0; i < c.models.size(); ++i) {
        r.candidates.push_back(c.models[i].name);
        r.candidate_models.push_back(i);
    }
    r.objective = {0.5, 0.2, 0.3};
    r.constraints.max_price_output = 25;
    c.routes.push_back(std::move(r));
    config::Rule rule;
    rule.line = 1;
    rule.match.headers = {{"x-persona", "legal"}};
    rule.then.route = "auto";
    c.rules.push_back(rule);
    return c;
}

void BM_Plan50Candidates(benchmark::State& state) {
    config::Config c = fifty_models();
    CompiledPolicy pol = compile(c);
    LatencyStats stats(c.models.size());
    for (size_t i = 0; i < c.models.size(); i += 2) {
        for (int k = 0; k < 6; ++k) stats.record(i, 300.0 + i, 50.0 + k);
    }
    Features f;
    f.prompt_tokens = 900;
    f.tools = true;
    f.stream = true;
    f.message_count = 3;
    f.complexity = 0.5;
    MapHeaders headers{{"x-baton-require-tags", "us"}};
    for (auto _ : state) {
        PlanInput in(c, pol, "auto", f);
        in.headers = &headers;
        in.today_days = 20000;
        in.stats = &stats;
        Plan p = plan(in);
        benchmark::DoNotOptimize(p);
    }
}
BENCHMARK(BM_Plan50Candidates);

void BM_Complexity4K(benchmark::State& state) {
    std::string text = prompt_4k();
    for (auto _ : state) benchmark::DoNotOptimize(complexity_score(text));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_Complexity4K);

void BM_ExtractFeatures4K(benchmark::State& state) {
    std::string text = prompt_4k();
    std::string body = R"({"model":"auto","messages":[{"role":"system","content":"Be concise."},)"
                       R"({"role":"user","content":")" +
                       text + R"("}]})";
    openai::ChatRequest req;
    auto sys = static_cast<uint32_t>(body.find("Be concise."));
    req.text_spans.push_back({sys, sys + 11});
    auto user = static_cast<uint32_t>(body.find(text));
    req.text_spans.push_back({user, user + static_cast<uint32_t>(text.size())});
    req.message_count = 2;
    for (auto _ : state) {
        Features f = extract_features(req, body);
        benchmark::DoNotOptimize(f);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ExtractFeatures4K);

}  // namespace

BENCHMARK_MAIN();
