// Non-streaming responses: Anthropic Message ⇄ OpenAI chat.completion, stop reasons, usage
// (PROVIDER-FORMATS.md §4.4).
#include <string>
#include <string_view>

#include "baton/translate/anthropic.hpp"
#include "translate/json_util.hpp"

namespace baton::translate {

using namespace detail;

std::string_view finish_reason_for(std::string_view stop_reason) {
    if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
        return "length";
    }
    if (stop_reason == "tool_use") return "tool_calls";
    if (stop_reason == "refusal") return "content_filter";
    return "stop";  // end_turn, stop_sequence, pause_turn, null, unknown
}

std::string_view stop_reason_for(std::string_view finish_reason) {
    if (finish_reason == "length") return "max_tokens";
    if (finish_reason == "tool_calls" || finish_reason == "function_call") return "tool_use";
    if (finish_reason == "content_filter") return "refusal";
    return "end_turn";
}

json openai_usage_from_anthropic(const json& usage) {
    const int64_t input = int_or(usage, "input_tokens");
    const int64_t creation = int_or(usage, "cache_creation_input_tokens");
    const int64_t read = int_or(usage, "cache_read_input_tokens");
    const int64_t output = int_or(usage, "output_tokens");
    json out = {{"prompt_tokens", input + creation + read},
                {"completion_tokens", output},
                {"total_tokens", input + creation + read + output}};
    json details = {{"cached_tokens", read}};
    if (find(usage, "cache_creation_input_tokens")) details["cache_write_tokens"] = creation;
    out["prompt_tokens_details"] = std::move(details);
    if (const json* od = find(usage, "output_tokens_details")) {
        if (const json* th = find(*od, "thinking_tokens"); th && th->is_number_integer()) {
            out["completion_tokens_details"] = {{"reasoning_tokens", *th}};
        }
    }
    return out;
}

json anthropic_usage_from_openai(const json& usage) {
    const json* details = find(usage, "prompt_tokens_details");
    const int64_t read = details ? int_or(*details, "cached_tokens") : 0;
    const int64_t creation = details ? int_or(*details, "cache_write_tokens") : 0;
    int64_t input = int_or(usage, "prompt_tokens") - read - creation;
    if (input < 0) input = 0;
    return {{"input_tokens", input},
            {"cache_creation_input_tokens", creation},
            {"cache_read_input_tokens", read},
            {"output_tokens", int_or(usage, "completion_tokens")}};
}

static Result<json> to_completion_unguarded(const json& msg, const ResponseMeta& meta) {
    if (!msg.is_object() || str_or(msg, "type") != "message") {
        return bad_upstream("upstream response is not an Anthropic message");
    }
    const json* content = find(msg, "content");
    if (!content || !content->is_array()) {
        return bad_upstream("upstream message has no content array", "content");
    }
    std::string text;
    std::string reasoning;
    bool have_text = false;
    bool have_reasoning = false;
    json tool_calls = json::array();
    json thinking = json::array();
    for (const auto& block : *content) {
        const std::string type = str_or(block, "type");
        if (type == "text") {
            text += str_or(block, "text");
            have_text = true;
        } else if (type == "tool_use") {
            const json* input = find(block, "input");
            tool_calls.push_back({{"id", str_or(block, "id")},
                                  {"type", "function"},
                                  {"function",
                                   {{"name", str_or(block, "name")},
                                    {"arguments", dump(input ? *input : empty_object())}}}});
        } else if (type == "thinking") {
            reasoning += str_or(block, "thinking");
            have_reasoning = true;
            thinking.push_back(block);
        } else if (type == "redacted_thinking") {
            thinking.push_back(block);
        }
        // Server tools (server_tool_use, *_tool_result) and unknown blocks have no OpenAI form.
    }
    json message = {{"role", "assistant"},
                    {"content", have_text || tool_calls.empty() ? json(text) : json()},
                    {"refusal", nullptr}};
    if (!tool_calls.empty()) message["tool_calls"] = std::move(tool_calls);
    if (have_reasoning) message["reasoning_content"] = reasoning;
    if (!thinking.empty()) message["thinking_blocks"] = std::move(thinking);

    const std::string stop_reason = str_or(msg, "stop_reason");
    json choice = {{"index", 0},
                   {"message", std::move(message)},
                   {"logprobs", nullptr},
                   {"finish_reason", finish_reason_for(stop_reason)}};
    json out = {{"id", meta.id.empty() ? str_or(msg, "id") : meta.id},
                {"object", "chat.completion"},
                {"created", meta.created},
                {"model", meta.model.empty() ? str_or(msg, "model") : meta.model},
                {"choices", json::array({std::move(choice)})}};
    const json* usage = find(msg, "usage");
    out["usage"] = openai_usage_from_anthropic(usage ? *usage : empty_object());
    return out;
}

static Result<json> to_message_unguarded(const json& completion, const ResponseMeta& meta,
                                         const AnthropicResponseOptions& opts) {
    const json* choices = find(completion, "choices");
    if (!choices || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
        return bad_upstream("upstream chat completion has no choices", "choices");
    }
    const json& choice = (*choices)[0];
    const json* message = find(choice, "message");
    const json& m = message ? *message : empty_object();

    json content = json::array();
    if (opts.reasoning_as_thinking) {
        std::string reasoning = str_or(m, "reasoning_content");
        if (reasoning.empty()) reasoning = str_or(m, "reasoning");
        if (!reasoning.empty()) {
            content.push_back({{"type", "thinking"}, {"thinking", reasoning}, {"signature", ""}});
        }
    }
    std::string finish = str_or(choice, "finish_reason", "stop");
    const std::string text = str_or(m, "content");
    const std::string refusal = str_or(m, "refusal");
    if (!text.empty()) {
        content.push_back({{"type", "text"}, {"text", text}});
    } else if (!refusal.empty()) {
        content.push_back({{"type", "text"}, {"text", refusal}});
        finish = "content_filter";
    }
    if (const json* calls = find(m, "tool_calls"); calls && calls->is_array()) {
        for (size_t i = 0; i < calls->size(); ++i) {
            const json& call = (*calls)[i];
            const json* fn = find(call, "function");
            const std::string args = fn ? str_or(*fn, "arguments") : std::string();
            json input = json::object();
            if (!is_blank(args)) {
                auto parsed = parse(args);
                if (!parsed || !parsed->is_object()) {
                    return bad_upstream(
                        "upstream tool call arguments are not a JSON object",
                        at(at(at("choices[0].message", "tool_calls"), i), "function.arguments"));
                }
                input = std::move(*parsed);
            }
            content.push_back({{"type", "tool_use"},
                               {"id", str_or(call, "id")},
                               {"name", fn ? str_or(*fn, "name") : std::string()},
                               {"input", std::move(input)}});
        }
    }
    const json* usage = find(completion, "usage");
    return json{{"id", meta.id.empty() ? str_or(completion, "id") : meta.id},
                {"type", "message"},
                {"role", "assistant"},
                {"model", meta.model.empty() ? str_or(completion, "model") : meta.model},
                {"content", std::move(content)},
                {"stop_reason", stop_reason_for(finish)},
                {"stop_sequence", nullptr},
                {"usage", anthropic_usage_from_openai(usage ? *usage : empty_object())}};
}

Result<json> anthropic_to_openai_response(const json& msg, const ResponseMeta& meta) {
    return guarded(baton::Errc::upstream_protocol,
                   [&] { return to_completion_unguarded(msg, meta); });
}

Result<json> openai_to_anthropic_response(const json& completion, const ResponseMeta& meta,
                                          const AnthropicResponseOptions& opts) {
    return guarded(baton::Errc::upstream_protocol,
                   [&] { return to_message_unguarded(completion, meta, opts); });
}

}  // namespace baton::translate
