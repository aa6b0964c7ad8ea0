// PII scanner micro-benchmarks (Google Benchmark): scan speed in MB/s on one core.
//   target >= 200 MB/s per core on typical prompt text (docs/security.md records the results)
// Build (from the repository root):
//   g++ -std=c++20 -O2 -DNDEBUG -Iinclude -Isrc bench/micro/pii_bench.cpp src/pii/*.cpp
//       -lbenchmark -pthread -o pii_bench
// Optional: PII_BENCH_FILE=/path/to/text adds a benchmark over that file (scanned as plain text).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "baton/pii/redact.hpp"
#include "baton/pii/scanner.hpp"
#include "baton/pii/validators.hpp"

namespace {

using namespace baton::pii;

// Prose + code as it sits in a request body (JSON-escaped: \n, \", \u00e9).
const char* kProse =
    "Design a rate limiter for a distributed API gateway. Compare token bucket and sliding "
    "window approaches, analyze the trade-offs in memory and accuracy, and explain why one is "
    "better under bursty traffic.\\n\\n```go\\nfunc (l *Limiter) Allow(key string) bool {\\n"
    "    l.mu.Lock()\\n    defer l.mu.Unlock()\\n    return l.buckets[key].take(1)\\n}\\n```\\n"
    "1. First, state the requirements: at least 10k keys, exactly-once accounting.\\n"
    "2. Then derive the memory bound and prove it is tight. What happens at 1M keys? \\n"
    "The caf\\u00e9 on 5th street said \\\"it costs $12.50 per hour\\\", version 2.4.1, "
    "released 2024-03-15 at 10:30.\\n";
// The same amount of text with PII in it (one value roughly every 200 bytes).
const char* kWithPii =
    "Hi, I'm Jane (jane.doe@example.com, +44 20 7946 0958). My card 4111 1111 1111 1111 was "
    "charged twice; IBAN GB82 WEST 1234 5698 7654 32 should get the refund.\\nSSN 123-45-6789, "
    "server 10.20.30.40 / 2001:db8::1. Call me at (415) 555-2671 tomorrow.\\n"
    "export OPENAI_API_KEY=sk-proj-4fJ2kP9xQm7Lr3TzVb8NcWd1Ye6HgUa5\\n"
    "Plain words follow to dilute the findings: the quick brown fox jumps over the lazy dog, "
    "the meeting is at 3pm in room 204, order 58213 ships Monday.\\n";
// Numbers everywhere (math word problems, tables): many candidates, few findings.
const char* kNumeric =
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day for $2 each, 9 * 2 = $<<9*2=18>>18."
    "\\n| 2021 | 1,234,567 | 45.6% | 0.003 | 12 34 56 |\\n| 2022 | 2,345,678 | 47.1% | 0.004 |"
    " 78 90 12 |\\nTotal: 3580246 units, ids 100234 100235 100236, ratio 3.14159.\\n";

std::string corpus(const char* unit, std::size_t bytes) {
    std::string s;
    while (s.size() < bytes) s += unit;
    return s;
}

void run_scan(benchmark::State& state, const std::string& text, Encoding enc) {
    std::vector<Finding> out;
    out.reserve(1024);
    for (auto _ : state) {
        out.clear();
        scan(text, ScanOptions{enc, ClassSet::all()}, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.counters["findings"] = static_cast<double>(out.size());
}

void BM_ScanProseJson(benchmark::State& state) {
    const std::string text = corpus(kProse, static_cast<std::size_t>(state.range(0)));
    run_scan(state, text, Encoding::json_string);
}
BENCHMARK(BM_ScanProseJson)->Arg(4 << 10)->Arg(256 << 10);

void BM_ScanProsePlain(benchmark::State& state) {
    static const std::string text = json_unescape(corpus(kProse, 256 << 10));
    run_scan(state, text, Encoding::plain);
}
BENCHMARK(BM_ScanProsePlain);

void BM_ScanWithPii(benchmark::State& state) {
    static const std::string text = corpus(kWithPii, 256 << 10);
    run_scan(state, text, Encoding::json_string);
}
BENCHMARK(BM_ScanWithPii);

void BM_ScanNumeric(benchmark::State& state) {
    static const std::string text = corpus(kNumeric, 256 << 10);
    run_scan(state, text, Encoding::json_string);
}
BENCHMARK(BM_ScanNumeric);

void BM_ScanFile(benchmark::State& state) {
    static const std::string text = [] {
        const char* path = std::getenv("PII_BENCH_FILE");
        std::ifstream f(path != nullptr ? path : "");
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }();
    if (text.empty()) {
        state.SkipWithError("PII_BENCH_FILE not set or empty");
        return;
    }
    run_scan(state, text, Encoding::plain);
}
BENCHMARK(BM_ScanFile);

void BM_Redact(benchmark::State& state) {
    static const std::string text = corpus(kWithPii, 16 << 10);
    for (auto _ : state) {
        Redactor r;
        std::string out = r.redact(text);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Redact);

void BM_Restore(benchmark::State& state) {
    static const std::string text = corpus(kWithPii, 16 << 10);
    Redactor r;
    const std::string redacted = r.redact(text);
    const std::size_t chunk = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        Restorer rs(r.mapping());
        std::string out;
        for (std::size_t k = 0; k < redacted.size(); k += chunk) {
            rs.feed(std::string_view(redacted).substr(k, chunk), out);
        }
        rs.finish(out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * redacted.size()));
}
BENCHMARK(BM_Restore)->Arg(16)->Arg(4096);

}  // namespace

BENCHMARK_MAIN();
