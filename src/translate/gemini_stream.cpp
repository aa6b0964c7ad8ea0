// Gemini streamGenerateContent?alt=sse → OpenAI chat.completion.chunk SSE
// (PROVIDER-FORMATS.md §5.4, §5.6 "Streaming").
#include <string>
#include <string_view>

#include "baton/openai/error_envelope.hpp"
#include "baton/openai/sse.hpp"
#include "baton/translate/gemini.hpp"
#include "translate/gemini_common.hpp"

namespace baton::translate {

using namespace detail;

GeminiStreamToOpenAI::GeminiStreamToOpenAI(Options opts) : opts_(std::move(opts)) {
    id_ = opts_.meta.id;
    model_ = opts_.meta.model;
}

std::string GeminiStreamToOpenAI::chunk(int64_t index, json delta,
                                        const json& finish_reason) const {
    json c = {{"id", id_},
              {"object", "chat.completion.chunk"},
              {"created", opts_.meta.created},
              {"model", model_},
              {"choices", json::array({{{"index", index},
                                        {"delta", std::move(delta)},
                                        {"logprobs", nullptr},
                                        {"finish_reason", finish_reason}}})}};
    if (opts_.include_usage) c["usage"] = nullptr;  // as OpenAI does: null except the last chunk
    return openai::sse_data(dump(c));
}

std::string GeminiStreamToOpenAI::error_event(std::string_view type, std::string_view message,
                                              const json& code) {
    done_ = failed_ = true;
    const json body = {
        {"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}};
    return openai::sse_data(dump(body));
}

std::string GeminiStreamToOpenAI::protocol_error(const baton::Error& e) {
    std::string message = "malformed event in the upstream stream";
    if (!e.message.empty()) {
        message += ": ";
        message += e.message;
        if (!e.param.empty()) message += " (" + e.param + ")";
    }
    return error_event("api_error", message, "upstream_protocol_error");
}

std::string GeminiStreamToOpenAI::fail(const baton::Error& e) {
    if (done_) return {};
    done_ = failed_ = true;
    return openai::error_sse_event(e);
}

json GeminiStreamToOpenAI::usage() const { return openai_usage_from_gemini(usage_metadata_); }

bool GeminiStreamToOpenAI::complete() const {
    if (blocked_) return true;
    if (choices_.empty()) return false;
    for (const auto& [index, choice] : choices_) {
        if (!choice.finished) return false;
    }
    return true;
}

std::string GeminiStreamToOpenAI::feed(std::string_view data) {
    if (done_) return {};
    try {
        return feed_unguarded(data);
    } catch (const nlohmann::json::exception&) {
        return error_event("api_error", "malformed event in the upstream stream",
                           "upstream_protocol_error");
    }
}

std::string GeminiStreamToOpenAI::feed_unguarded(std::string_view data) {
    auto parsed = parse(data);
    // The non-SSE stream endpoint wraps documents in a JSON array; accept a one-element one.
    const json* ev = parsed ? &*parsed : nullptr;
    if (ev && ev->is_array() && ev->size() == 1) ev = &(*ev)[0];
    if (!ev || !ev->is_object()) {
        return error_event("api_error", "malformed event in the upstream stream",
                           "upstream_protocol_error");
    }
    if (const json* err = find(*ev, "error")) {
        done_ = failed_ = true;
        return openai::sse_data(dump(json{{"error", openai_error_object_from_gemini(*err)}}));
    }
    if (id_.empty()) id_ = str_or(*ev, "responseId");
    if (model_.empty()) model_ = str_or(*ev, "modelVersion");
    if (const json* u = find(*ev, "usageMetadata"); u && u->is_object()) usage_metadata_ = *u;

    std::string out;
    const json* candidates = find(*ev, "candidates");
    if (candidates && !candidates->is_array()) {
        return protocol_error(bad_upstream("candidates must be an array", "candidates"));
    }
    if (!candidates || candidates->empty()) {
        const json* feedback = find(*ev, "promptFeedback");
        if (feedback && find(*feedback, "blockReason") && !blocked_) {
            // The prompt was blocked: no candidate will come.
            blocked_ = true;
            Choice& c0 = choices_[0];
            if (!c0.finished) {
                c0.finished = true;
                out += chunk(0, {{"role", "assistant"}, {"content", ""}}, nullptr);
                out += chunk(0, json::object(), "content_filter");
            }
        }
        return out;  // a usage-only event, or an empty keep-alive document
    }
    for (size_t i = 0; i < candidates->size(); ++i) {
        auto c = read_gemini_candidate((*candidates)[i], i, at("candidates", i));
        if (!c) return out + protocol_error(c.error());
        const bool fresh = choices_.find(c->index) == choices_.end();
        Choice& choice = choices_[c->index];
        if (choice.finished) continue;  // nothing may follow a choice's finish_reason
        if (fresh) out += chunk(c->index, {{"role", "assistant"}, {"content", ""}}, nullptr);
        if (c->have_reasoning)
            out += chunk(c->index, {{"reasoning_content", c->reasoning}}, nullptr);
        if (c->have_text) out += chunk(c->index, {{"content", c->text}}, nullptr);
        for (const GeminiCall& call : c->calls) {
            const int64_t k = choice.next_tool++;
            const std::string id = call.id.empty() ? gemini_call_id(id_, c->index, k) : call.id;
            json tc = {{"index", k}};
            const json base = openai_tool_call(call, id, opts_.thought_signatures);
            for (const auto& [key, value] : base.items()) tc[key] = value;
            out += chunk(c->index, {{"tool_calls", json::array({std::move(tc)})}}, nullptr);
        }
        if (is_terminal_finish(c->finish_reason)) {
            choice.finished = true;
            out += chunk(c->index, json::object(),
                         finish_reason_for_gemini(c->finish_reason, choice.next_tool > 0));
        }
    }
    return out;
}

std::string GeminiStreamToOpenAI::finish() {
    if (done_) return {};
    if (!complete()) {
        return error_event("api_error", "upstream stream ended before the response was complete",
                           "upstream_protocol_error");
    }
    std::string out;
    if (opts_.include_usage) {
        const json c = {
            {"id", id_},       {"object", "chat.completion.chunk"}, {"created", opts_.meta.created},
            {"model", model_}, {"choices", json::array()},          {"usage", usage()}};
        out += openai::sse_data(dump(c));
    }
    out += openai::kSseDone;
    done_ = true;
    return out;
}

}  // namespace baton::translate
