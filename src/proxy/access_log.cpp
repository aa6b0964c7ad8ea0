#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BATON_USAGE_AVX2 1
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <ctime>

#include "baton/core/json_escape.hpp"
#include "context.hpp"

namespace baton::proxy {

namespace {
void append_escaped(std::string& s, std::string_view v) {
    s.push_back('"');
    json_escape_append(s, v);
    s.push_back('"');
}

void field(std::string& s, const char* name, std::string_view v) {
    s.push_back(',');
    s.push_back('"');
    s.append(name);
    s.append("\":");
    append_escaped(s, v);
}

void field_num(std::string& s, const char* name, double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, ",\"%.16s\":%.3f", name, v);
    s.append(buf);
}

void field_int(std::string& s, const char* name, uint64_t v) {
    s.append(",\"").append(name).append("\":").append(std::to_string(v));
}

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

#if defined(BATON_USAGE_AVX2)
namespace {
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");

// find_pair's loop with AVX2: 32 positions per step. Returns where it stopped (a match, or the
// last position it could not test).
__attribute__((target("avx2"))) size_t find_pair_avx2(const char* base, size_t n, size_t i, char a,
                                                      char b) {
    const __m256i va = _mm256_set1_epi8(a);
    const __m256i vb = _mm256_set1_epi8(b);
    for (; i + 33 <= n; i += 32) {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + i));
        const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + i + 1));
        const auto mask = static_cast<unsigned>(_mm256_movemask_epi8(
            _mm256_and_si256(_mm256_cmpeq_epi8(x, va), _mm256_cmpeq_epi8(y, vb))));
        if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
    }
    return i;
}
}  // namespace
#endif

size_t find_pair(std::string_view text, size_t from, char a, char b) {
    const char* const base = text.data();
    const size_t n = text.size();
    size_t i = from;
#if defined(BATON_USAGE_AVX2)
    if (kHaveAvx2 && i + 33 <= n) {
        i = find_pair_avx2(base, n, i, a, b);
        if (i + 1 < n && base[i] == a && base[i + 1] == b) return i;
    }
#endif
#ifdef __SSE2__
    // 16 positions per step: bit k of the mask is set when text[i+k] == a and text[i+k+1] == b.
    const __m128i va = _mm_set1_epi8(a);
    const __m128i vb = _mm_set1_epi8(b);
    for (; i + 17 <= n; i += 16) {
        __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i));
        __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i + 1));
        unsigned mask = static_cast<unsigned>(
            _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(y, vb))));
        if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
    }
#endif
    for (; i + 1 < n; ++i) {
        if (base[i] == a && base[i + 1] == b) return i;
    }
    return std::string_view::npos;
}

size_t rfind_pair(std::string_view text, size_t end, char a, char b) {
    const char* const base = text.data();
    size_t i = std::min(end, text.size());  // candidates: positions k with k + 1 < i
#ifdef __SSE2__
    // 16 positions per step, from the back: bit k is set when text[j+k] == a, text[j+k+1] == b.
    const __m128i va = _mm_set1_epi8(a);
    const __m128i vb = _mm_set1_epi8(b);
    while (i >= 17) {
        const size_t j = i - 17;
        __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + j));
        __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + j + 1));
        unsigned mask = static_cast<unsigned>(
            _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(y, vb))));
        if (mask != 0) return j + 31 - static_cast<size_t>(__builtin_clz(mask));
        i -= 16;
    }
#endif
    for (; i >= 2; --i) {
        if (base[i - 2] == a && base[i - 1] == b) return i - 2;
    }
    return std::string_view::npos;
}

namespace {
// The token counts of one usage object: its "key": number members up to its first '}' (usage
// holds nested *_details objects only after the counts), read in one pass. The first
// occurrence of each key counts.
struct UsageCounts {
    std::optional<uint64_t> prompt, completion;  // OpenAI's names
    std::optional<uint64_t> input, output;       // Anthropic's
};

UsageCounts read_usage_object(std::string_view obj) {
    UsageCounts u;
    const char* p = obj.data();
    const char* const end = p + obj.size();
    for (;;) {
        const auto* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
        if (q == nullptr) break;
        const auto* k = q + 1;
        const auto* ke =
            static_cast<const char*>(std::memchr(k, '"', static_cast<size_t>(end - k)));
        if (ke == nullptr) break;
        const std::string_view key(k, static_cast<size_t>(ke - k));
        p = ke + 1;
        while (p < end && (*p == ' ' || *p == ':')) ++p;
        uint64_t v = 0;
        const char* digits = p;
        while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
        if (p == digits) continue;  // not a count (a string value is skipped as a "key")
        std::optional<uint64_t>* slot = nullptr;
        switch (key.size()) {
            case 12:  // input_tokens
                if (key == "input_tokens") slot = &u.input;
                break;
            case 13:  // prompt_tokens, output_tokens
                if (key == "prompt_tokens") {
                    slot = &u.prompt;
                } else if (key == "output_tokens") {
                    slot = &u.output;
                }
                break;
            case 17:
                if (key == "completion_tokens") slot = &u.completion;
                break;
            default:
                break;
        }
        if (slot != nullptr && !*slot) *slot = v;
        if ((u.prompt && u.completion) || (u.input && u.output)) break;  // (the rest is totals)
    }
    return u;
}
}  // namespace

bool scan_answer_usage(std::string_view answer, uint64_t& prompt, uint64_t& completion) {
    static constexpr std::string_view kUsage = "\"usage\"";
    for (size_t end = answer.size();;) {
        const size_t at = rfind_pair(answer, end, '"', 'u');
        if (at == std::string_view::npos) return false;
        if (answer.compare(at, kUsage.size(), kUsage) != 0) {
            end = at + 1;  // (the pair at `at` is excluded from the next search)
            continue;
        }
        std::string_view obj = answer.substr(at + kUsage.size(), 512);
        if (size_t close = obj.find('}'); close != std::string_view::npos) {
            obj = obj.substr(0, close);
        }
        const UsageCounts u = read_usage_object(obj);
        if (u.prompt || u.completion) {
            prompt = u.prompt.value_or(0);
            completion = u.completion.value_or(0);
            return true;
        }
        if (u.input || u.output) {  // Anthropic's names (a passed-through Messages answer)
            prompt = u.input.value_or(0);
            completion = u.output.value_or(0);
            return true;
        }
        return false;  // the answer's usage holds no counts
    }
}

bool scan_usage(std::string_view text, uint64_t& prompt, uint64_t& completion) {
    // The counts sit in "usage" objects. Find each with find_pair's vector search for '"u' (this
    // runs on every answer, and a plain find stops at every '"' of the JSON), then read the keys
    // inside the object. Every occurrence counts and the largest wins: usage counts are cumulative,
    // and a chunk may hold several events (Anthropic's message_start carries input_tokens and an
    // early output_tokens, message_delta the final output_tokens). Inside JSON strings quotes are
    // escaped, so a quoted key only matches a key.
    static constexpr std::string_view kUsage = "\"usage\"";
    uint64_t p = 0, c = 0;
    bool found_p = false, found_c = false, openai_names = false;
    auto take = [](const std::optional<uint64_t>& v, uint64_t& out, bool& found) {
        if (!v) return false;
        out = found ? std::max(out, *v) : *v;
        found = true;
        return true;
    };
    for (size_t at = 0;;) {
        at = find_pair(text, at, '"', 'u');
        if (at == std::string_view::npos) break;
        if (text.compare(at, kUsage.size(), kUsage) != 0) {
            ++at;
            continue;
        }
        // bounded so that a malformed body cannot make this quadratic
        size_t from = at + kUsage.size();
        std::string_view obj = text.substr(from, 512);
        if (size_t close = obj.find('}'); close != std::string_view::npos) {
            obj = obj.substr(0, close);
        }
        const UsageCounts u = read_usage_object(obj);
        const bool o1 = take(u.prompt, p, found_p);
        const bool o2 = take(u.completion, c, found_c);
        if (o1 || o2) {
            openai_names = true;
        } else if (!openai_names) {  // Anthropic's names (a passed-through Messages answer)
            take(u.input, p, found_p);
            take(u.output, c, found_c);
        }
        at = from;
    }
    if (!found_c && !found_p) return false;
    prompt = p;
    completion = c;
    return true;
}

std::string access_log_line(const RequestContext& ctx, Clock::time_point end) {
    std::string s;
    s.reserve(512);
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char tbuf[96];
    std::snprintf(tbuf, sizeof tbuf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms.count()));
    s.append("{\"time\":\"").append(tbuf).append("\"");
    field(s, "request_id", ctx.request_id);
    field(s, "method", ctx.method);
    field(s, "path", ctx.path);
    field_int(s, "status", ctx.status);
    if (ctx.principal) field(s, "key", ctx.principal->name());
    if (!ctx.model_asked.empty()) field(s, "model", ctx.model_asked);
    if (ctx.model) {
        field(s, "model_used", ctx.model->name);
        field(s, "upstream_model", ctx.model->upstream_model);
    }
    if (ctx.provider) field(s, "provider", ctx.provider->name);
    if (!ctx.route.empty()) field(s, "route", ctx.route);
    if (!ctx.variant.empty()) field(s, "variant", ctx.variant);
    if (!ctx.decisive.empty()) field(s, "decided_by", ctx.decisive);
    s.append(",\"stream\":").append(ctx.stream ? "true" : "false");
    field_int(s, "bytes_in", ctx.req.bytes_in);
    field_int(s, "bytes_out", ctx.out.bytes_out());
    auto start = ctx.req.received;
    field_num(s, "latency_ms", ms_between(start, end));
    if (ctx.upstream_start != Clock::time_point{}) {
        auto uend = ctx.upstream_end != Clock::time_point{} ? ctx.upstream_end : end;
        double up = ms_between(ctx.upstream_start, uend);
        field_num(s, "upstream_ms", up);
        field_num(s, "overhead_ms", ms_between(start, end) - up);
    }
    if (ctx.first_byte != Clock::time_point{})
        field_num(s, "ttft_ms", ms_between(start, ctx.first_byte));
    if (ctx.have_usage) {
        field_int(s, "prompt_tokens", ctx.prompt_tokens);
        field_int(s, "completion_tokens", ctx.completion_tokens);
    }
    if (!ctx.pii.empty()) field(s, "pii", ctx.pii);
    if (!ctx.injection.empty()) field(s, "injection", ctx.injection);
    if (ctx.cost_usd >= 0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, ",\"cost_usd\":%.9g", ctx.cost_usd);
        s.append(buf);
    }
    if (!ctx.error_code.empty()) field(s, "error", ctx.error_code);
    if (!ctx.attempt_outcome.empty()) field(s, "outcome", ctx.attempt_outcome);
    if (ctx.stream_cut) s.append(",\"stream_cut\":true");
    s.push_back('}');
    return s;
}

}  // namespace baton::proxy
