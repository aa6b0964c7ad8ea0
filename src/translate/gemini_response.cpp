// Gemini GenerateContentResponse → OpenAI chat.completion: candidates, finish reasons, usage
// (PROVIDER-FORMATS.md §5.3, §5.6).
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "baton/translate/gemini.hpp"
#include "translate/gemini_common.hpp"

namespace baton::translate {

using namespace detail;

namespace detail {

namespace {

Result<GeminiCall> read_call(const json& fc, const json& part, const std::string& path) {
    if (!fc.is_object()) return bad_upstream("functionCall must be an object", path);
    const json* name = find(fc, "name");
    if (!name || !name->is_string() || name->get_ref<const std::string&>().empty()) {
        return bad_upstream("functionCall needs a name", at(path, "name"));
    }
    GeminiCall call;
    call.name = *name;
    if (const json* args = find(fc, "args")) {
        if (!args->is_object())
            return bad_upstream("functionCall.args must be an object", at(path, "args"));
        call.arguments = dump(*args);
    } else {
        call.arguments = "{}";
    }
    call.id = str_or(fc, "id");
    call.signature = str_or(part, "thoughtSignature");
    return call;
}

}  // namespace

Result<GeminiCandidate> read_gemini_candidate(const json& candidate, size_t position,
                                              const std::string& path) {
    if (!candidate.is_object()) return bad_upstream("candidate must be an object", path);
    GeminiCandidate out;
    out.index = static_cast<int64_t>(position);
    if (const json* index = find(candidate, "index")) {
        if (!index->is_number_integer() || index->get<int64_t>() < 0 ||
            index->get<int64_t>() > 1'000'000) {
            return bad_upstream("candidate index must be a non-negative integer",
                                at(path, "index"));
        }
        out.index = index->get<int64_t>();
    }
    if (const json* fr = find(candidate, "finishReason")) {
        if (!fr->is_string())
            return bad_upstream("finishReason must be a string", at(path, "finishReason"));
        out.finish_reason = *fr;
    }
    const json* content = find(candidate, "content");
    if (!content) return out;
    const std::string cp = at(path, "content");
    if (!content->is_object()) return bad_upstream("content must be an object", cp);
    const json* parts = find(*content, "parts");
    if (!parts) return out;
    const std::string pp = at(cp, "parts");
    if (!parts->is_array()) return bad_upstream("content.parts must be an array", pp);
    for (size_t i = 0; i < parts->size(); ++i) {
        const json& part = (*parts)[i];
        const std::string p = at(pp, i);
        if (!part.is_object()) return bad_upstream("part must be an object", p);
        bool thought = false;
        if (const json* t = find(part, "thought")) {
            if (!t->is_boolean())
                return bad_upstream("thought must be a boolean", at(p, "thought"));
            thought = t->get<bool>();
        }
        if (const json* text = find(part, "text")) {
            if (!text->is_string()) return bad_upstream("text must be a string", at(p, "text"));
            const std::string& s = text->get_ref<const std::string&>();
            if (thought) {
                out.reasoning += s;
                out.have_reasoning = out.have_reasoning || !s.empty();
            } else {
                out.text += s;
                out.have_text = out.have_text || !s.empty();
            }
        } else if (const json* fc = find(part, "functionCall")) {
            auto call = read_call(*fc, part, at(p, "functionCall"));
            if (!call) return call.error();
            out.calls.push_back(std::move(*call));
        }
        // inlineData (generated images), executableCode, codeExecutionResult and unknown parts
        // have no chat.completion form.
    }
    return out;
}

std::string gemini_call_id(std::string_view base, int64_t candidate, int64_t k) {
    std::string id = "call_";
    if (!base.empty()) {
        uint32_t h = 2166136261u;  // FNV-1a, 32 bits
        for (unsigned char c : base) {
            h ^= c;
            h *= 16777619u;
        }
        char hex[9];
        std::snprintf(hex, sizeof hex, "%08x", h);
        id += hex;
        id += '_';
    }
    if (candidate != 0) {
        id += 'c';
        id += std::to_string(candidate);
        id += '_';
    }
    id += std::to_string(k);
    return id;
}

json openai_tool_call(const GeminiCall& call, const std::string& id, bool with_signature) {
    json out = {{"id", id},
                {"type", "function"},
                {"function", {{"name", call.name}, {"arguments", call.arguments}}}};
    if (with_signature && !call.signature.empty()) {
        out["extra_content"] = {{"google", {{"thought_signature", call.signature}}}};
    }
    return out;
}

bool is_terminal_finish(std::string_view finish_reason) {
    return !finish_reason.empty() && finish_reason != "FINISH_REASON_UNSPECIFIED";
}

}  // namespace detail

std::string_view finish_reason_for_gemini(std::string_view finish_reason, bool has_tool_calls) {
    if (finish_reason == "MAX_TOKENS") return "length";
    static constexpr std::string_view kFiltered[] = {"SAFETY",
                                                     "RECITATION",
                                                     "LANGUAGE",
                                                     "BLOCKLIST",
                                                     "PROHIBITED_CONTENT",
                                                     "SPII",
                                                     "IMAGE_SAFETY",
                                                     "IMAGE_PROHIBITED_CONTENT",
                                                     "IMAGE_RECITATION"};
    if (std::find(std::begin(kFiltered), std::end(kFiltered), finish_reason) !=
        std::end(kFiltered)) {
        return "content_filter";
    }
    // STOP, OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, unknown.
    return has_tool_calls ? "tool_calls" : "stop";
}

json openai_usage_from_gemini(const json& usage_metadata) {
    const int64_t prompt = int_or(usage_metadata, "promptTokenCount") +
                           int_or(usage_metadata, "toolUsePromptTokenCount");
    const int64_t thoughts = int_or(usage_metadata, "thoughtsTokenCount");
    const int64_t completion = int_or(usage_metadata, "candidatesTokenCount") + thoughts;
    json out = {{"prompt_tokens", prompt},
                {"completion_tokens", completion},
                {"total_tokens", prompt + completion},
                {"prompt_tokens_details",
                 {{"cached_tokens", int_or(usage_metadata, "cachedContentTokenCount")}}}};
    if (const json* t = find(usage_metadata, "thoughtsTokenCount"); t && t->is_number_integer()) {
        out["completion_tokens_details"] = {{"reasoning_tokens", thoughts}};
    }
    return out;
}

static json completion_choice(const GeminiCandidate& c, const std::string& id_base,
                              const GeminiResponseOptions& opts) {
    json message = {{"role", "assistant"},
                    {"content", c.have_text || c.calls.empty() ? json(c.text) : json()},
                    {"refusal", nullptr}};
    if (!c.calls.empty()) {
        json calls = json::array();
        for (size_t k = 0; k < c.calls.size(); ++k) {
            const GeminiCall& call = c.calls[k];
            const std::string id = call.id.empty()
                                       ? gemini_call_id(id_base, c.index, static_cast<int64_t>(k))
                                       : call.id;
            calls.push_back(openai_tool_call(call, id, opts.thought_signatures));
        }
        message["tool_calls"] = std::move(calls);
    }
    if (c.have_reasoning) message["reasoning_content"] = c.reasoning;
    return {{"index", c.index},
            {"message", std::move(message)},
            {"logprobs", nullptr},
            {"finish_reason", finish_reason_for_gemini(c.finish_reason, !c.calls.empty())}};
}

static Result<json> to_completion_unguarded(const json& resp, const ResponseMeta& meta,
                                            const GeminiResponseOptions& opts) {
    if (!resp.is_object()) return bad_upstream("upstream response is not a Gemini response");
    if (const json* err = find(resp, "error")) {
        return bad_upstream("upstream returned an error document: " +
                                str_or(*err, "message", dump(*err).substr(0, 200)),
                            "error");
    }
    const std::string id = meta.id.empty() ? str_or(resp, "responseId") : meta.id;
    json choices = json::array();
    const json* candidates = find(resp, "candidates");
    if (candidates && !candidates->is_array()) {
        return bad_upstream("candidates must be an array", "candidates");
    }
    if (candidates && !candidates->empty()) {
        std::vector<GeminiCandidate> read;
        for (size_t i = 0; i < candidates->size(); ++i) {
            auto c = read_gemini_candidate((*candidates)[i], i, at("candidates", i));
            if (!c) return c.error();
            read.push_back(std::move(*c));
        }
        std::stable_sort(read.begin(), read.end(),
                         [](const auto& a, const auto& b) { return a.index < b.index; });
        for (const auto& c : read) choices.push_back(completion_choice(c, id, opts));
    } else {
        const json* feedback = find(resp, "promptFeedback");
        const json* reason = feedback ? find(*feedback, "blockReason") : nullptr;
        if (!reason) {
            return bad_upstream("upstream response has no candidates", "candidates");
        }
        // The prompt itself was blocked (HTTP 200, no candidates): an empty, filtered answer.
        choices.push_back(
            {{"index", 0},
             {"message", {{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}},
             {"logprobs", nullptr},
             {"finish_reason", "content_filter"}});
    }
    json out = {{"id", id},
                {"object", "chat.completion"},
                {"created", meta.created},
                {"model", meta.model.empty() ? str_or(resp, "modelVersion") : meta.model},
                {"choices", std::move(choices)}};
    const json* usage = find(resp, "usageMetadata");
    out["usage"] = openai_usage_from_gemini(usage ? *usage : empty_object());
    return out;
}

Result<json> gemini_to_openai_response(const json& resp, const ResponseMeta& meta,
                                       const GeminiResponseOptions& opts) {
    return guarded(baton::Errc::upstream_protocol,
                   [&] { return to_completion_unguarded(resp, meta, opts); });
}

}  // namespace baton::translate
