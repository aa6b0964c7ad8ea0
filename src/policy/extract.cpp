// extract_features(): the request's features from the scanned request and its body (last user
// message, tools and image estimates, per-message overhead).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "baton/policy/features.hpp"

namespace baton::policy {

// ---- extract_features ---------------------------------------------------------------------
namespace {

// Skips a JSON string starting at body[i] == '"'; returns the index after its closing quote.
size_t skip_string(std::string_view body, size_t i) {
    size_t n = body.size();
    ++i;
    while (i < n) {
        const void* q = std::memchr(body.data() + i, '"', n - i);
        if (!q) return n;
        size_t j = static_cast<size_t>(static_cast<const char*>(q) - body.data());
        size_t bs = 0;
        while (j - bs > i && body[j - bs - 1] == '\\') ++bs;
        if (bs % 2 == 0) return j + 1;
        i = j + 1;
    }
    return n;
}

// Skips one JSON value starting at body[i] (no validation: the body was already scanned).
size_t skip_value(std::string_view body, size_t i) {
    size_t n = body.size();
    if (i >= n) return n;
    if (body[i] == '"') return skip_string(body, i);
    if (body[i] != '{' && body[i] != '[') {
        while (i < n && body[i] != ',' && body[i] != '}' && body[i] != ']') ++i;
        return i;
    }
    int depth = 0;
    while (i < n) {
        char c = body[i];
        if (c == '"') {
            i = skip_string(body, i);
            continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') {
            if (--depth == 0) return i + 1;
        }
        ++i;
    }
    return n;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Raw text of the value of a top-level member `key` (first found), or empty.
std::string_view top_level_value(std::string_view body, std::string_view key) {
    size_t i = 0, n = body.size();
    while (i < n && is_ws(body[i])) ++i;
    if (i >= n || body[i] != '{') return {};
    ++i;
    while (i < n) {
        while (i < n && (is_ws(body[i]) || body[i] == ',')) ++i;
        if (i >= n || body[i] != '"') return {};
        size_t key_end = skip_string(body, i);
        std::string_view k;
        if (key_end >= i + 2) k = body.substr(i + 1, key_end - i - 2);
        i = key_end;
        while (i < n && (is_ws(body[i]) || body[i] == ':')) ++i;
        size_t v_end = skip_value(body, i);
        if (k == key) return body.substr(i, v_end - i);
        i = v_end;
    }
    return {};
}

// Counts "image_url" members (one per image part, chat and responses styles).
uint32_t count_images(std::string_view body) {
    uint32_t count = 0;
    constexpr std::string_view kKey = "\"image_url\"";
    size_t pos = 0;
    while ((pos = body.find(kKey, pos)) != std::string_view::npos) {
        pos += kKey.size();
        size_t j = pos;
        while (j < body.size() && is_ws(body[j])) ++j;
        if (j < body.size() && body[j] == ':') ++count;
    }
    return count;
}

enum class Role { unknown, user, other };

// Role of the message whose text starts at `text_begin`, from the last "role" member in
// body[gap_begin, text_begin) that belongs to a still-open object. unknown when there is none
// (a continuation part of the same message).
Role role_before(std::string_view body, size_t gap_begin, size_t text_begin) {
    if (text_begin == 0 || text_begin > body.size() || gap_begin >= text_begin) {
        return Role::unknown;
    }
    std::string_view gap = body.substr(gap_begin, text_begin - 1 - gap_begin);
    constexpr std::string_view kRole = "\"role\"";
    size_t at = gap.rfind(kRole);
    if (at == std::string_view::npos) return Role::unknown;
    size_t i = gap_begin + at + kRole.size();
    size_t stop = text_begin - 1;  // the text's opening quote
    while (i < stop && (is_ws(body[i]) || body[i] == ':')) ++i;
    if (i >= stop || body[i] != '"') return Role::unknown;
    size_t v_end = skip_string(body, i);
    std::string_view value = body.substr(i + 1, v_end > i + 1 ? v_end - i - 2 : 0);
    // The role must belong to an object that is still open at the text.
    int depth = 0;
    i = v_end;
    while (i < stop) {
        char c = body[i];
        if (c == '"') {
            i = skip_string(body, i);
            continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') {
            if (--depth < 0) return Role::unknown;
        }
        ++i;
    }
    return value == "user" ? Role::user : Role::other;
}

constexpr size_t kLastBudget = 8 * 1024;    // bytes of the last user message scanned at most
constexpr size_t kTotalBudget = 12 * 1024;  // bytes of all message text scanned at most

// A prefix of raw JSON string text of at most `max` bytes that does not end inside an escape
// sequence (\uXXXX is the longest: 6 bytes).
std::string_view safe_prefix(std::string_view text, size_t max) {
    size_t cut = std::min(max, text.size());
    size_t lo = cut > 6 ? cut - 6 : 0;
    for (size_t i = cut; i > lo; --i) {
        if (text[i - 1] == '\\') {
            cut = i - 1;
            // an escaped backslash pair ("\\\\") may end here; step before it to be safe
            while (cut > 0 && text[cut - 1] == '\\') --cut;
            break;
        }
    }
    return text.substr(0, cut);
}

void scale(TextStats& t, double f) {
    auto sc = [f](uint32_t& v) {
        double x = static_cast<double>(v) * f;
        v = x >= 4294967295.0 ? UINT32_MAX : static_cast<uint32_t>(std::lround(x));
    };
    sc(t.bytes);
    sc(t.words);
    sc(t.word_chars_over4);
    sc(t.word_chars_over8);
    sc(t.caps_words);
    sc(t.digit_groups);
    sc(t.punct);
    sc(t.punct_runs);
    sc(t.newline_runs);
    sc(t.blank_runs);
    sc(t.nonascii2);
    sc(t.nonascii3);
    sc(t.nonascii4);
    sc(t.code_fences);
    sc(t.backticks);
    sc(t.code_punct);
    sc(t.code_words);
    sc(t.math);
    sc(t.math_words);
    sc(t.list_items);
    sc(t.step_phrases);
    sc(t.strong_reasoning);
    sc(t.reasoning);
    sc(t.questions);
    sc(t.constraints);
}

uint32_t round_tokens(double t) { return t <= 0 ? 0u : static_cast<uint32_t>(std::lround(t)); }

}  // namespace

Features extract_features(const openai::ChatRequest& req, std::string_view body, ScanCache* cache) {
    Features f;
    f.max_tokens = req.max_tokens && *req.max_tokens > 0
                       ? std::optional<uint32_t>(
                             static_cast<uint32_t>(std::min<int64_t>(*req.max_tokens, UINT32_MAX)))
                       : std::nullopt;
    f.tools = req.has_tools;
    f.images = req.has_images;
    f.json_schema = req.json_schema;
    f.json_object = req.json_object;
    f.stream = req.stream;
    f.message_count = req.message_count;

    const auto& spans = req.text_spans;
    size_t n = spans.size();
    auto in_body = [&](const openai::Span& s) { return s.end <= body.size() && s.begin <= s.end; };

    // Find the spans of the last user message: walk back message by message.
    size_t last_begin = n, last_end = n;
    {
        size_t group_end = n;
        for (size_t k = n; k-- > 0;) {
            if (!in_body(spans[k])) continue;
            size_t gap_begin = k > 0 && in_body(spans[k - 1]) ? spans[k - 1].end : 0;
            Role r = role_before(body, gap_begin, spans[k].begin);
            if (r == Role::unknown) continue;
            if (r == Role::user) {
                last_begin = k;
                last_end = group_end;
                break;
            }
            group_end = k;
        }
        if (last_begin == n && n > 0) {  // no roles found: the last text stands for it
            last_begin = n - 1;
            last_end = n;
        }
    }

    // Bounded work per request: at most kLastBudget bytes of the last user message and
    // kTotalBudget bytes in all are scanned; counts of a sampled group are scaled up by the
    // share that was scanned (prose and code are homogeneous enough for the estimate to hold;
    // docs/routing.md). So a 100 KB prompt costs the same few microseconds as a 12 KB one.
    TextStats last, rest;
    uint64_t last_total = 0, rest_total = 0;
    for (size_t k = 0; k < n; ++k) {
        if (!in_body(spans[k])) continue;
        (k >= last_begin && k < last_end ? last_total : rest_total) += spans[k].size();
    }
    size_t last_budget = static_cast<size_t>(std::min<uint64_t>(last_total, kLastBudget));
    size_t rest_budget = kTotalBudget - last_budget;
    uint64_t last_scanned = 0, rest_scanned = 0;
    for (size_t k = 0; k < n; ++k) {
        if (!in_body(spans[k])) continue;
        bool in_last = k >= last_begin && k < last_end;
        size_t& budget = in_last ? last_budget : rest_budget;
        if (budget == 0) continue;
        std::string_view text = body.substr(spans[k].begin, spans[k].size());
        if (text.size() > budget) text = safe_prefix(text, budget);
        budget -= std::min(budget, text.size());
        (in_last ? last_scanned : rest_scanned) += text.size();
        if (cache && !in_last && text.size() == spans[k].size()) {
            cache->scan(text, rest);  // a whole text before the last user message
        } else {
            scan_text(text, in_last ? last : rest);
        }
    }
    if (last_scanned > 0 && last_scanned < last_total) {
        scale(last, static_cast<double>(last_total) / static_cast<double>(last_scanned));
    }
    if (rest_scanned > 0 && rest_scanned < rest_total) {
        scale(rest, static_cast<double>(rest_total) / static_cast<double>(rest_scanned));
    }
    double last_tokens = estimate_tokens(last);
    f.last_user_tokens = round_tokens(last_tokens);
    f.text_tokens = round_tokens(last_tokens + estimate_tokens(rest));
    if (req.has_tools) {
        std::string_view tools = top_level_value(body, "tools");
        if (tools.empty()) tools = top_level_value(body, "functions");
        f.tools_tokens = estimate_tokens(tools);
    }
    if (req.has_images) {
        f.image_count = std::max<uint32_t>(1, count_images(body));
        f.image_tokens = f.image_count * kTokensPerImage;
    }
    f.overhead_tokens = req.message_count * kTokensPerMessage + kTokensReplyPriming;
    f.prompt_tokens = f.text_tokens + f.tools_tokens + f.image_tokens + f.overhead_tokens;
    f.complexity = complexity_from(last, rest, &f.complexity_terms);
    return f;
}

}  // namespace baton::policy
