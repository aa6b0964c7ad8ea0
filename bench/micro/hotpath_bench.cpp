// Hot-path micro-benchmarks (Google Benchmark): request scan + model rewrite, feature
// extraction, and the per-chunk work of the SSE relay. Built by `make bench-micro`.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "baton/core/http.hpp"
#include "baton/metrics/registry.hpp"
#include "baton/openai/chat_request.hpp"
#include "baton/policy/features.hpp"
#include "baton/server/downstream.hpp"
#include "baton/server/request.hpp"
#include "proxy/context.hpp"
#include "proxy/usage_filter.hpp"

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

// The request head as the OpenAI Python SDK sends it, parsed into a reused request object
// (what the session does for every request on a keep-alive connection).
void BM_ParseRequestHead(benchmark::State& st) {
    const std::string body = small_body();
    const std::string raw =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nAccept: application/json\r\n"
        "Content-Type: application/json\r\nUser-Agent: OpenAI/Python 1.51.0\r\n"
        "X-Stainless-Lang: python\r\nX-Stainless-Package-Version: 1.51.0\r\n"
        "Authorization: Bearer sk-baton-0123456789abcdef0123456789abcdef\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    server::RequestParser parser(16 * 1024, 8 << 20);
    server::HttpRequest req;
    for (auto _ : st) {
        parser.reset(req);
        server::RequestParser::Status status{};
        benchmark::DoNotOptimize(parser.put(raw, status));
        benchmark::DoNotOptimize(req["authorization"]);
    }
}
BENCHMARK(BM_ParseRequestHead);

// One SSE event through the relay's usage filter (event framing, terminator and usage checks)
// and into a chunked-coding decoder, as an upstream stream arrives.
void BM_RelaySseChunk(benchmark::State& st) {
    const std::string event =
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1727712600,"
        "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" the "
        "checkout\"},\"finish_reason\":null}]}\n\n";
    char size_line[16];
    const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", event.size());
    const std::string chunk = std::string(size_line, static_cast<size_t>(n)) + event + "\r\n";
    std::string out(16 * 1024, '\0');
    proxy::UsageFilter usage(false);
    http1::ChunkedDecoder chunks;
    for (auto _ : st) {
        chunks.reset();
        size_t produced = 0;
        http1::ChunkedDecoder::Status s{};
        chunks.decode(chunk, out.data(), out.size(), produced, s);
        benchmark::DoNotOptimize(usage.feed(std::string_view(out.data(), produced)));
    }
}
BENCHMARK(BM_RelaySseChunk);

// A whole ~1 KB answer: its token counts are read once per non-streamed response.
const std::string kAnswer =
    R"({"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1727712600,)"
    R"("model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":)"
    R"("Here is a short summary of the incident report. On Tuesday the checkout service saw elevated )"
    R"(error rates for about 40 minutes after a configuration change reduced the upstream connection )"
    R"(pool from 256 to 16 connections. The change was rolled back and the error rate returned to )"
    R"(baseline within five minutes.","refusal":null},"logprobs":null,"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":412,"completion_tokens":96,"total_tokens":508,"prompt_tokens_details":)"
    R"({"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},)"
    R"("system_fingerprint":"fp_0ba0d124f1"})";

// Every usage object of a text (stream events), searched from the front.
void BM_UsageScanAnswer(benchmark::State& st) {
    for (auto _ : st) {
        uint64_t p = 0, c = 0;
        benchmark::DoNotOptimize(proxy::scan_usage(kAnswer, p, c));
    }
}
BENCHMARK(BM_UsageScanAnswer);

// A whole answer's one usage object, searched from the end (what the relay uses).
void BM_AnswerUsageFromTheEnd(benchmark::State& st) {
    for (auto _ : st) {
        uint64_t p = 0, c = 0;
        benchmark::DoNotOptimize(proxy::scan_answer_usage(kAnswer, p, c));
    }
}
BENCHMARK(BM_AnswerUsageFromTheEnd);

}  // namespace

// The metric updates of one request (four counters, two histograms) after ~0.1 us of other
// work, per thread: with 2 threads, cells shared by the threads would cost each update a cache
// line fetched from the other core; sharded by thread (metrics/registry.hpp) they cost the same
// as with one thread.
void BM_MetricsPerRequest(benchmark::State& state) {
    static metrics::Registry reg;
    static metrics::Counter& c1 = reg.counter("a_total", "A.");
    static metrics::Counter& c2 = reg.counter("b_total", "B.", {{"model", "m"}});
    static metrics::Counter& c3 = reg.counter("c_total", "C.");
    static metrics::Counter& c4 = reg.counter("d_total", "D.");
    static metrics::Histogram& h1 =
        reg.histogram("h1_seconds", "H.", {}, metrics::latency_buckets());
    static metrics::Histogram& h2 =
        reg.histogram("h2_seconds", "H.", {}, metrics::overhead_buckets());
    unsigned sink = 0;
    for (auto _ : state) {
        for (unsigned k = 0; k < 150; ++k) benchmark::DoNotOptimize(sink += k);
        c1.inc();
        c2.inc();
        c3.inc(512);
        c4.inc();
        h1.observe_seconds(0.0012);
        h2.observe_seconds(0.00002);
    }
}
BENCHMARK(BM_MetricsPerRequest)->Threads(1)->Threads(2);

BENCHMARK_MAIN();
