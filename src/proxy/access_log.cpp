#include <chrono>
#include <cstdio>
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

bool scan_usage(std::string_view text, uint64_t& prompt, uint64_t& completion) {
    auto read_num = [&](std::string_view key, uint64_t& out) {
        auto p = text.find(key);
        if (p == std::string_view::npos) return false;
        p += key.size();
        while (p < text.size() && (text[p] == ' ' || text[p] == ':')) ++p;
        uint64_t v = 0;
        bool any = false;
        while (p < text.size() && text[p] >= '0' && text[p] <= '9') {
            v = v * 10 + static_cast<uint64_t>(text[p] - '0');
            ++p;
            any = true;
        }
        if (any) out = v;
        return any;
    };
    uint64_t p = 0, c = 0;
    bool found_c = read_num("\"completion_tokens\"", c);
    bool found_p = read_num("\"prompt_tokens\"", p);
    if (!found_c && !found_p) {  // Anthropic's names (a passed-through Messages answer)
        found_c = read_num("\"output_tokens\"", c);
        found_p = read_num("\"input_tokens\"", p);
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
