#include "baton/providers/mock.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "baton/core/json_escape.hpp"

namespace baton::providers {

namespace {

// Words of the generated text, cycled. Plain ASCII without characters that need JSON escaping.
constexpr std::array<std::string_view, 20> kWords{
    "Hello",    "from",       "the",           "Baton", "mock",  "provider.",  "This",
    "is",       "a",          "deterministic", "reply", "used",  "to",         "exercise",
    "routing,", "streaming,", "failover",      "and",   "usage", "accounting."};

std::string_view word(uint32_t i) { return kWords[i % kWords.size()]; }

constexpr std::string_view kFingerprint = "fp_baton_mock";

void append_int(std::string& out, int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, end);
}

void append_uint(std::string& out, uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, end);
}

void append_usage(std::string& out, const MockPlan& p) {
    out += "{\"prompt_tokens\":";
    append_uint(out, p.prompt_tokens);
    out += ",\"completion_tokens\":";
    append_uint(out, p.completion_tokens);
    out += ",\"total_tokens\":";
    append_uint(out, uint64_t{p.prompt_tokens} + p.completion_tokens);
    out += '}';
}

std::string_view finish_reason(const MockPlan& p) { return p.capped ? "length" : "stop"; }

// {"id":"chatcmpl-<id>","object":"<object>","created":N,"model":"<model>"
void append_head(std::string& out, std::string_view object, std::string_view model,
                 std::string_view id, int64_t created) {
    out += "{\"id\":\"chatcmpl-";
    json_escape_append(out, id);
    out += "\",\"object\":\"";
    out += object;
    out += "\",\"created\":";
    append_int(out, created);
    out += ",\"model\":\"";
    json_escape_append(out, model);
    out += '"';
}

}  // namespace

MockPlan mock_plan(const config::MockSettings& s, const openai::ChatRequest& req,
                   std::string_view /*body*/, double draw, uint64_t seed) {
    MockPlan p;
    if (draw < s.error_rate) {
        p.status = s.error_statuses.empty()
                       ? 500
                       : s.error_statuses[static_cast<size_t>(seed % s.error_statuses.size())];
    }
    constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
    const uint64_t prompt = (req.text_bytes + 3) / 4 + uint64_t{4} * req.message_count;
    p.prompt_tokens = static_cast<uint32_t>(std::clamp<uint64_t>(prompt, 1, kMax));

    uint32_t completion = std::max<uint32_t>(s.tokens, 1);
    if (req.max_tokens && *req.max_tokens < static_cast<int64_t>(completion)) {
        completion = static_cast<uint32_t>(std::max<int64_t>(*req.max_tokens, 1));
        p.capped = true;
    }
    p.completion_tokens = completion;
    return p;
}

std::string mock_completion(const MockPlan& p, std::string_view model, std::string_view id,
                            int64_t created) {
    std::string out;
    out.reserve(320 + model.size() + id.size() + size_t{p.completion_tokens} * 8);
    append_head(out, "chat.completion", model, id, created);
    out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"";
    for (uint32_t i = 0; i < p.completion_tokens; ++i) {
        if (i != 0) out += ' ';
        out += word(i);
    }
    out += "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"";
    out += finish_reason(p);
    out += "\"}],\"usage\":";
    append_usage(out, p);
    out += ",\"system_fingerprint\":\"";
    out += kFingerprint;
    out += "\"}";
    return out;
}

uint32_t mock_chunk_count(const MockPlan& p, bool include_usage) {
    return 1 + p.completion_tokens + 1 + (include_usage ? 1 : 0);
}

std::string mock_chunk(const MockPlan& p, std::string_view model, std::string_view id,
                       int64_t created, uint32_t index, bool include_usage) {
    const uint32_t finish_index = p.completion_tokens + 1;
    if (index > finish_index + (include_usage ? 1 : 0)) return {};

    std::string out;
    out.reserve(240 + model.size() + id.size());
    out += "data: ";
    append_head(out, "chat.completion.chunk", model, id, created);
    out += ",\"system_fingerprint\":\"";
    out += kFingerprint;
    out += "\",\"choices\":";
    if (index > finish_index) {  // usage chunk
        out += "[],\"usage\":";
        append_usage(out, p);
        out += "}\n\n";
        return out;
    }
    out += "[{\"index\":0,\"delta\":";
    if (index == 0) {
        out += "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}";
    } else if (index < finish_index) {
        out += "{\"content\":\"";
        if (index > 1) out += ' ';
        out += word(index - 1);
        out += "\"}";
    } else {
        out += "{}";
    }
    out += ",\"logprobs\":null,\"finish_reason\":";
    if (index == finish_index) {
        out += '"';
        out += finish_reason(p);
        out += '"';
    } else {
        out += "null";
    }
    out += "}]";
    if (include_usage) out += ",\"usage\":null";
    out += "}\n\n";
    return out;
}

std::string mock_error_body(int status) {
    std::string_view type = "api_error";
    switch (status) {
        case 400:
        case 404:
        case 409:
        case 422:
            type = "invalid_request_error";
            break;
        case 401:
            type = "authentication_error";
            break;
        case 403:
            type = "permission_error";
            break;
        case 429:
            type = "rate_limit_error";
            break;
        default:
            break;
    }
    std::string out;
    out.reserve(160);
    out += "{\"error\":{\"message\":\"mock provider: injected failure (status ";
    append_int(out, status);
    out += ")\",\"type\":\"";
    out += type;
    out += "\",\"param\":null,\"code\":\"mock_injected_failure\"}}";
    return out;
}

}  // namespace baton::providers
