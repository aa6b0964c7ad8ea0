// Hot-path micro-benchmarks (Google Benchmark): request scan + model rewrite, feature
// extraction, and the per-chunk work of the SSE relay. Built by `make bench-micro`.
#include <benchmark/benchmark.h>

#include <string>

#include "baton/openai/chat_request.hpp"
#include "baton/policy/features.hpp"
#include "baton/server/downstream.hpp"

namespace {

using namespace baton;

std::string small_body() {
    return R"({"model":"bench-model","messages":[{"role":"system","content":"You are a helpful )"
           R"(assistant."},{"role":"user","content":"Summarise the incident report in three )"
           R"(bullet points and suggest one follow-up."}],"temperature":0.2,"max_tokens":256,)"
           R"("stream":false,"user":"u-1234"})";
}

std::string big_body(size_t kb) {
    std::string doc;
    while (doc.size() < kb * 1024) {
        doc +=
            "The checkout service saw elevated error rates for about forty minutes after a "
            "configuration change reduced the upstream pool. \\n";
    }
    return R"({"model":"bench-model","messages":[{"role":"user","content":")" + doc +
           R"("}],"max_tokens":512})";
}

// Scan + the three-piece splice the proxy does before writing upstream (pieces are only
// measured, not copied: the proxy gather-writes them).
void scan_and_rewrite(benchmark::State& st, const std::string& body) {
    const std::string model_json = "\"gpt-4o-mini\"";
    for (auto _ : st) {
        auto r = openai::scan_chat_request(body);
        if (!r) st.SkipWithError("scan failed");
        auto mv = r->model_value;
        size_t clen = mv.begin + model_json.size() + (body.size() - mv.end);
        benchmark::DoNotOptimize(clen);
    }
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * body.size()));
}

void BM_ScanRewriteSmall(benchmark::State& st) { scan_and_rewrite(st, small_body()); }
BENCHMARK(BM_ScanRewriteSmall);

void BM_ScanRewrite100KB(benchmark::State& st) { scan_and_rewrite(st, big_body(100)); }
BENCHMARK(BM_ScanRewrite100KB);

void BM_FeaturesSmall(benchmark::State& st) {
    auto body = small_body();
    auto req = *openai::scan_chat_request(body);
    for (auto _ : st) benchmark::DoNotOptimize(policy::extract_features(req, body));
}
BENCHMARK(BM_FeaturesSmall);

void BM_Features100KB(benchmark::State& st) {
    auto body = big_body(100);
    auto req = *openai::scan_chat_request(body);
    for (auto _ : st) benchmark::DoNotOptimize(policy::extract_features(req, body));
}
BENCHMARK(BM_Features100KB);

// One SSE chunk relayed: chunk-size line formatting is what Downstream::write_chunk adds to the
// bytes; the response head is built once per stream.
void BM_ResponseHead(benchmark::State& st) {
    for (auto _ : st) {
        server::ResponseHead h(200);
        h.header("Content-Type", "text/event-stream")
            .header("x-request-id", "req_0123456789abcdef01234567")
            .header("x-baton-model", "gpt-4o-mini")
            .header("x-baton-provider", "openai")
            .chunked();
        benchmark::DoNotOptimize(h.finish(true));
    }
}
BENCHMARK(BM_ResponseHead);

}  // namespace

BENCHMARK_MAIN();
