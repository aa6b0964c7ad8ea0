// Anthropic Messages SSE → OpenAI chat.completion.chunk SSE (PROVIDER-FORMATS.md §4.5 A).
#include <string>
#include <string_view>

#include "baton/openai/error_envelope.hpp"
#include "baton/openai/sse.hpp"
#include "baton/translate/anthropic.hpp"
#include "baton/translate/anthropic_errors.hpp"
#include "baton/translate/anthropic_stream.hpp"
#include "translate/json_util.hpp"

namespace baton::translate {

using namespace detail;

AnthropicStreamToOpenAI::AnthropicStreamToOpenAI(Options opts) : opts_(std::move(opts)) {
    id_ = opts_.meta.id;
    model_ = opts_.meta.model;
}

std::string AnthropicStreamToOpenAI::chunk(json delta, const json& finish_reason) const {
    json c = {{"id", id_},
              {"object", "chat.completion.chunk"},
              {"created", opts_.meta.created},
              {"model", model_},
              {"choices", json::array({{{"index", 0},
                                        {"delta", std::move(delta)},
                                        {"logprobs", nullptr},
                                        {"finish_reason", finish_reason}}})}};
    if (opts_.include_usage) c["usage"] = nullptr;  // as OpenAI does: null except the last chunk
    return openai::sse_data(dump(c));
}

std::string AnthropicStreamToOpenAI::error_event(std::string_view type, std::string_view message,
                                                 const json& code) {
    done_ = failed_ = true;
    const json body = {
        {"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}};
    return openai::sse_data(dump(body));
}

std::string AnthropicStreamToOpenAI::fail(const baton::Error& e) {
    if (done_) return {};
    done_ = failed_ = true;
    return openai::error_sse_event(e);
}

json AnthropicStreamToOpenAI::usage() const { return openai_usage_from_anthropic(usage_); }

std::string AnthropicStreamToOpenAI::feed(std::string_view event, std::string_view data) {
    if (done_) return {};
    try {
        return feed_unguarded(event, data);
    } catch (const nlohmann::json::exception&) {
        return error_event("api_error", "malformed event in the upstream stream",
                           "upstream_protocol_error");
    }
}

std::string AnthropicStreamToOpenAI::feed_unguarded(std::string_view event, std::string_view data) {
    auto ev = parse(data);
    if (!ev || !ev->is_object()) {
        return error_event("api_error", "malformed event in the upstream stream",
                           "upstream_protocol_error");
    }
    const std::string name = event.empty() ? str_or(*ev, "type") : std::string(event);
    if (name == "ping") return {};
    if (name == "error") {
        const json* err = find(*ev, "error");
        const json e = openai_error_object(err ? *err : empty_object());
        done_ = failed_ = true;
        return openai::sse_data(dump(json{{"error", e}}));
    }
    if (name == "message_start") return on_message_start(*ev);
    if (!started_) {
        return error_event("api_error", "upstream stream did not start with message_start",
                           "upstream_protocol_error");
    }
    if (name == "content_block_start") return on_block_start(*ev);
    if (name == "content_block_delta") return on_block_delta(*ev);
    if (name == "content_block_stop") return on_block_stop(*ev);
    if (name == "message_delta") {
        on_message_delta(*ev);
        return {};
    }
    if (name == "message_stop") return on_message_stop();
    return {};  // event types added later (clients must ignore unknown ones)
}

std::string AnthropicStreamToOpenAI::finish() {
    if (done_) return {};
    return error_event("api_error", "upstream stream ended before the response was complete",
                       "upstream_protocol_error");
}

std::string AnthropicStreamToOpenAI::on_message_start(const json& ev) {
    if (started_) return {};
    started_ = true;
    const json* msg = find(ev, "message");
    const json& m = msg ? *msg : empty_object();
    if (id_.empty()) id_ = str_or(m, "id");
    if (model_.empty()) model_ = str_or(m, "model");
    if (const json* u = find(m, "usage"); u && u->is_object()) usage_ = *u;
    return chunk({{"role", "assistant"}, {"content", ""}}, nullptr);
}

std::string AnthropicStreamToOpenAI::on_block_start(const json& ev) {
    const int64_t index = int_or(ev, "index", -1);
    const json* cb = find(ev, "content_block");
    if (!cb) return {};
    const std::string type = str_or(*cb, "type");
    if (type == "text") {
        const std::string text = str_or(*cb, "text");
        return text.empty() ? std::string() : chunk({{"content", text}}, nullptr);
    }
    if (type == "tool_use") {
        const int64_t slot = next_slot_++;
        tool_slot_[index] = slot;
        const json* input = find(*cb, "input");
        const std::string args =
            input && input->is_object() && !input->empty() ? dump(*input) : std::string();
        json call = {{"index", slot},
                     {"id", str_or(*cb, "id")},
                     {"type", "function"},
                     {"function", {{"name", str_or(*cb, "name")}, {"arguments", args}}}};
        return chunk({{"tool_calls", json::array({std::move(call)})}}, nullptr);
    }
    if (type == "thinking") {
        const std::string thinking = str_or(*cb, "thinking");
        thinking_[index] = {
            {"type", "thinking"}, {"thinking", thinking}, {"signature", str_or(*cb, "signature")}};
        return thinking.empty() ? std::string() : chunk({{"reasoning_content", thinking}}, nullptr);
    }
    if (type == "redacted_thinking" && opts_.thinking_blocks) {
        return chunk({{"thinking_blocks", json::array({*cb})}}, nullptr);
    }
    return {};  // server tool blocks have no OpenAI form
}

std::string AnthropicStreamToOpenAI::on_block_delta(const json& ev) {
    const json* delta = find(ev, "delta");
    if (!delta) return {};
    const std::string type = str_or(*delta, "type");
    if (type == "text_delta") {
        const std::string text = str_or(*delta, "text");
        return text.empty() ? std::string() : chunk({{"content", text}}, nullptr);
    }
    if (type == "input_json_delta") {
        const std::string part = str_or(*delta, "partial_json");
        auto it = tool_slot_.find(int_or(ev, "index", -1));
        if (part.empty() || it == tool_slot_.end()) return {};
        json call = {{"index", it->second}, {"function", {{"arguments", part}}}};
        return chunk({{"tool_calls", json::array({std::move(call)})}}, nullptr);
    }
    auto open = thinking_.find(int_or(ev, "index", -1));
    if (type == "thinking_delta") {
        const std::string thinking = str_or(*delta, "thinking");
        if (open != thinking_.end()) {
            open->second["thinking"] = open->second["thinking"].get<std::string>() + thinking;
        }
        return thinking.empty() ? std::string() : chunk({{"reasoning_content", thinking}}, nullptr);
    }
    if (type == "signature_delta" && open != thinking_.end()) {
        open->second["signature"] = str_or(*delta, "signature");
    }
    return {};  // citations_delta and unknown deltas
}

std::string AnthropicStreamToOpenAI::on_block_stop(const json& ev) {
    auto it = thinking_.find(int_or(ev, "index", -1));
    if (it == thinking_.end()) return {};
    json block = std::move(it->second);
    thinking_.erase(it);
    if (!opts_.thinking_blocks) return {};
    return chunk({{"thinking_blocks", json::array({std::move(block)})}}, nullptr);
}

void AnthropicStreamToOpenAI::on_message_delta(const json& ev) {
    if (const json* d = find(ev, "delta")) {
        if (const json* r = find(*d, "stop_reason"); r && r->is_string()) stop_reason_ = *r;
    }
    // Usage values are cumulative totals; a missing field means "unchanged".
    if (const json* u = find(ev, "usage"); u && u->is_object()) {
        for (const auto& [key, value] : u->items()) {
            if (!value.is_null()) usage_[key] = value;
        }
    }
}

std::string AnthropicStreamToOpenAI::on_message_stop() {
    std::string out = chunk(json::object(), finish_reason_for(stop_reason_));
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
