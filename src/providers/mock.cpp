#include "baton/providers/mock.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

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

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
    const unsigned char c = b(i);
    if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(i + 1) || !cont(i + 2)) return 0;
        const unsigned char c1 = b(i + 1);
        if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
        if (c == 0xED && c1 > 0x9F) return 0;  // surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
        const unsigned char c1 = b(i + 1);
        if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
        if (c == 0xF4 && c1 > 0x8F) return 0;  // > U+10FFFF
        return 4;
    }
    return 0;
}

// Appends the JSON-escaped contents of s (no quotes). Invalid UTF-8 bytes become U+FFFD so the
// output is always valid JSON.
void append_json_escaped(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < s.size()) {
        // Fast path: run of bytes needing no escaping.
        size_t j = i;
        while (j < s.size()) {
            const auto c = static_cast<unsigned char>(s[j]);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
            ++j;
        }
        out.append(s.data() + i, j - i);
        i = j;
        if (i == s.size()) break;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '\b':
                    out += "\\b";
                    break;
                case '\f':
                    out += "\\f";
                    break;
                default:
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 0xF];
            }
            ++i;
            continue;
        }
        const size_t n = utf8_sequence(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.data() + i, n);
            i += n;
        }
    }
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
    append_json_escaped(out, id);
    out += "\",\"object\":\"";
    out += object;
    out += "\",\"created\":";
    append_int(out, created);
    out += ",\"model\":\"";
    append_json_escaped(out, model);
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
