// OpenAI chat.completion.chunk SSE → Anthropic Messages SSE (PROVIDER-FORMATS.md §4.5 B).
#include <string>
#include <string_view>

#include "baton/translate/anthropic.hpp"
#include "baton/translate/anthropic_errors.hpp"
#include "baton/translate/anthropic_stream.hpp"
#include "translate/json_util.hpp"

namespace baton::translate {

using namespace detail;

namespace {

// "event: <type>\ndata: <json>\n\n" (both SDKs dispatch on the event name, §0.1).
std::string frame(const json& payload) {
    std::string out = "event: ";
    out += payload["type"].get_ref<const std::string&>();
    out += "\ndata: ";
    out += dump(payload);
    out += "\n\n";
    return out;
}

}  // namespace

OpenAIStreamToAnthropic::OpenAIStreamToAnthropic(ResponseMeta meta) : meta_(std::move(meta)) {}

json OpenAIStreamToAnthropic::usage() const { return anthropic_usage_from_openai(usage_); }

std::string OpenAIStreamToAnthropic::error_event(std::string_view type, std::string_view message) {
    done_ = failed_ = true;
    return frame({{"type", "error"}, {"error", {{"type", type}, {"message", message}}}});
}

std::string OpenAIStreamToAnthropic::fail(const baton::Error& e) {
    if (done_) return {};
    done_ = failed_ = true;
    return anthropic_error_sse_event(e);
}

std::string OpenAIStreamToAnthropic::start_message(const json& chunk) {
    started_ = true;
    if (meta_.id.empty()) meta_.id = str_or(chunk, "id");
    if (meta_.model.empty()) meta_.model = str_or(chunk, "model");
    return frame({{"type", "message_start"},
                  {"message",
                   {{"id", meta_.id},
                    {"type", "message"},
                    {"role", "assistant"},
                    {"model", meta_.model},
                    {"content", json::array()},
                    {"stop_reason", nullptr},
                    {"stop_sequence", nullptr},
                    {"usage", {{"input_tokens", 0}, {"output_tokens", 0}}}}}});
}

std::string OpenAIStreamToAnthropic::open_block(Open kind, const json& content_block) {
    std::string out = close_block();
    ++block_index_;
    open_ = kind;
    out += frame({{"type", "content_block_start"},
                  {"index", block_index_},
                  {"content_block", content_block}});
    return out;
}

std::string OpenAIStreamToAnthropic::close_block() {
    if (open_ == Open::none) return {};
    open_ = Open::none;
    return frame({{"type", "content_block_stop"}, {"index", block_index_}});
}

std::string OpenAIStreamToAnthropic::delta_event(int64_t index, json delta) const {
    return frame({{"type", "content_block_delta"}, {"index", index}, {"delta", std::move(delta)}});
}

std::string OpenAIStreamToAnthropic::on_tool_calls(const json& calls) {
    std::string out;
    for (size_t i = 0; i < calls.size(); ++i) {
        const json& call = calls[i];
        const int64_t idx = int_or(call, "index", static_cast<int64_t>(i));
        const json* fn = find(call, "function");
        auto it = tool_block_.find(idx);
        if (it == tool_block_.end()) {
            std::string id = str_or(call, "id");
            if (id.empty()) id = "toolu_baton_" + std::to_string(idx);
            out += open_block(Open::tool, {{"type", "tool_use"},
                                           {"id", id},
                                           {"name", fn ? str_or(*fn, "name") : std::string()},
                                           {"input", json::object()}});
            it = tool_block_.emplace(idx, block_index_).first;
        }
        const std::string args = fn ? str_or(*fn, "arguments") : std::string();
        if (!args.empty()) {
            out += delta_event(it->second, {{"type", "input_json_delta"}, {"partial_json", args}});
        }
    }
    return out;
}

std::string OpenAIStreamToAnthropic::feed(std::string_view data) {
    if (done_) return {};
    try {
        return feed_unguarded(data);
    } catch (const nlohmann::json::exception&) {
        return error_event("api_error", "malformed chunk in the upstream stream");
    }
}

std::string OpenAIStreamToAnthropic::feed_unguarded(std::string_view data) {
    if (data == "[DONE]") {
        std::string out = started_ ? std::string() : start_message(empty_object());
        return out + finalize();
    }
    auto chunk = parse(data);
    if (!chunk || !chunk->is_object()) {
        return error_event("api_error", "malformed chunk in the upstream stream");
    }
    if (const json* err = find(*chunk, "error")) {
        const json e = err->is_object() ? *err : json{{"message", *err}};
        const json a = anthropic_error_object(e, 0);
        return error_event(a["type"].get<std::string>(), a["message"].get<std::string>());
    }
    std::string out;
    if (!started_) out += start_message(*chunk);
    if (const json* u = find(*chunk, "usage"); u && u->is_object()) usage_ = *u;
    const json* choices = find(*chunk, "choices");
    if (!choices || !choices->is_array()) return out;
    for (const auto& choice : *choices) {
        if (int_or(choice, "index", 0) != 0) continue;  // n > 1: only the first choice
        if (const json* delta = find(choice, "delta")) {
            std::string reasoning = str_or(*delta, "reasoning_content");
            if (reasoning.empty()) reasoning = str_or(*delta, "reasoning");
            if (!reasoning.empty()) {
                if (open_ != Open::thinking) {
                    out += open_block(Open::thinking,
                                      {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}});
                }
                out += delta_event(block_index_,
                                   {{"type", "thinking_delta"}, {"thinking", reasoning}});
            }
            std::string text = str_or(*delta, "content");
            if (const std::string refusal = str_or(*delta, "refusal"); !refusal.empty()) {
                refusal_ = true;
                text += refusal;
            }
            if (!text.empty()) {
                if (open_ != Open::text)
                    out += open_block(Open::text, {{"type", "text"}, {"text", ""}});
                out += delta_event(block_index_, {{"type", "text_delta"}, {"text", text}});
            }
            if (const json* calls = find(*delta, "tool_calls"); calls && calls->is_array()) {
                out += on_tool_calls(*calls);
            }
        }
        if (const json* fr = find(choice, "finish_reason"); fr && fr->is_string()) {
            finish_reason_ = *fr;
        }
    }
    return out;
}

std::string OpenAIStreamToAnthropic::finalize() {
    std::string out = close_block();
    const std::string_view stop =
        refusal_ ? std::string_view("refusal")
                 : stop_reason_for(finish_reason_.empty() ? "stop" : finish_reason_);
    out += frame({{"type", "message_delta"},
                  {"delta", {{"stop_reason", stop}, {"stop_sequence", nullptr}}},
                  {"usage", usage()}});
    out += frame({{"type", "message_stop"}});
    done_ = true;
    return out;
}

std::string OpenAIStreamToAnthropic::finish() {
    if (done_) return {};
    // Some OpenAI-compatible servers end without [DONE]; a finish_reason means it completed.
    if (started_ && !finish_reason_.empty()) return finalize();
    return error_event("api_error", "upstream stream ended before the response was complete");
}

}  // namespace baton::translate
