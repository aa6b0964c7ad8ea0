// OpenAI chat request → Anthropic Messages request (PROVIDER-FORMATS.md §4.1, §4.2).
#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "baton/translate/anthropic.hpp"
#include "translate/openai_to_anthropic_messages.hpp"

namespace baton::translate {
namespace {

using namespace detail;

bool valid_tool_name(std::string_view n) {
    if (n.empty() || n.size() > 128) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

Result<json> translate_tools(const json& tools, Translated& t) {
    if (!tools.is_array()) return invalid("tools must be an array", "tools");
    json out = json::array();
    for (size_t i = 0; i < tools.size(); ++i) {
        const json& tool = tools[i];
        const std::string p = at("tools", i);
        const std::string type = str_or(tool, "type");
        if (type != "function") {
            return invalid("only function tools can be sent to an Anthropic model", at(p, "type"));
        }
        const json* fn = find(tool, "function");
        const json* name = fn ? find(*fn, "name") : nullptr;
        const std::string fp = at(p, "function");
        if (!name || !name->is_string()) return invalid("tool needs function.name", at(fp, "name"));
        if (!valid_tool_name(name->get_ref<const std::string&>())) {
            return invalid("tool names must match ^[a-zA-Z0-9_-]{1,128}$ for Anthropic models",
                           at(fp, "name"));
        }
        json schema = {{"type", "object"}, {"properties", json::object()}};
        if (const json* params = find(*fn, "parameters")) {
            if (!params->is_object())
                return invalid("parameters must be an object", at(fp, "parameters"));
            const std::string st = str_or(*params, "type", "object");
            if (st != "object") {
                return invalid("parameters must be a JSON Schema of type object",
                               at(at(fp, "parameters"), "type"));
            }
            schema = *params;
            schema["type"] = "object";
        }
        json a = {{"name", *name}};
        if (const json* d = find(*fn, "description"); d && d->is_string()) a["description"] = *d;
        a["input_schema"] = std::move(schema);
        if (find(*fn, "strict")) t.dropped.push_back(at(fp, "strict"));
        copy_cache_control(tool, a);
        out.push_back(std::move(a));
    }
    return out;
}

// tool_choice (+ parallel_tool_calls) → Anthropic tool_choice; null when it should be omitted.
Result<json> translate_tool_choice(const json& chat, bool have_tools) {
    const json* choice = find(chat, "tool_choice");
    const json* parallel = find(chat, "parallel_tool_calls");
    json out;
    if (choice && choice->is_string()) {
        const std::string& c = choice->get_ref<const std::string&>();
        if (c == "auto") {
            out = {{"type", "auto"}};
        } else if (c == "none") {
            out = {{"type", "none"}};
        } else if (c == "required") {
            out = {{"type", "any"}};
        } else {
            return invalid("tool_choice must be auto, none, required or a function", "tool_choice");
        }
    } else if (choice && choice->is_object()) {
        const std::string type = str_or(*choice, "type");
        const json* fn = find(*choice, "function");
        const json* name = fn ? find(*fn, "name") : nullptr;
        if (type != "function" || !name || !name->is_string()) {
            return invalid(
                "only {type: function, function: {name}} tool_choice objects are "
                "supported for Anthropic models",
                "tool_choice");
        }
        out = {{"type", "tool"}, {"name", *name}};
    } else if (choice) {
        return invalid("tool_choice must be a string or an object", "tool_choice");
    }
    if (!have_tools) {
        if (out.is_object() && out["type"] != "auto" && out["type"] != "none") {
            return invalid("tool_choice requires tools", "tool_choice");
        }
        return json();
    }
    if (parallel && parallel->is_boolean() && !parallel->get<bool>()) {
        if (out.is_null()) out = {{"type", "auto"}};
        if (out["type"] != "none") out["disable_parallel_tool_use"] = true;
    }
    return out;
}

// max_completion_tokens ?? max_tokens ?? default. `explicit_limit` tells whether the client set it.
Result<int64_t> max_tokens(const json& chat, const AnthropicRequestOptions& opts,
                           bool& explicit_limit) {
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
        const json* v = find(chat, key);
        if (!v) continue;
        if (!v->is_number_integer() || v->get<int64_t>() < 1 ||
            (v->is_number_unsigned() && v->get<uint64_t>() > 100'000'000)) {
            return invalid(std::string(key) + " must be a positive integer", key);
        }
        explicit_limit = true;
        return v->get<int64_t>();
    }
    explicit_limit = false;
    if (opts.default_max_tokens == 0) {
        return invalid("max_tokens is required for this model (no default is configured)",
                       "max_tokens");
    }
    return int64_t{opts.default_max_tokens};
}

// reasoning_effort / vendor `thinking` → body.thinking (and output_config.effort).
std::optional<baton::Error> translate_thinking(const json& chat, const AnthropicRequestOptions& o,
                                               bool explicit_limit, json& body) {
    if (const json* th = find(chat, "thinking")) {
        if (!th->is_object() || !find(*th, "type")) {
            return invalid("thinking must be an Anthropic thinking object", "thinking");
        }
        body["thinking"] = *th;
        return std::nullopt;
    }
    const json* effort = find(chat, "reasoning_effort");
    if (!effort) return std::nullopt;
    if (!effort->is_string())
        return invalid("reasoning_effort must be a string", "reasoning_effort");
    const std::string& e = effort->get_ref<const std::string&>();
    if (e == "none") return std::nullopt;
    const bool low = e == "minimal" || e == "low";
    const bool high = e == "high" || e == "xhigh" || e == "max";
    if (!low && !high && e != "medium") {
        return invalid("unknown reasoning_effort \"" + e + "\"", "reasoning_effort");
    }
    if (o.thinking_style == ThinkingStyle::adaptive) {
        body["thinking"] = {{"type", "adaptive"}};
        body["output_config"]["effort"] = e == "minimal" ? "low" : e;
        return std::nullopt;
    }
    int64_t budget = low ? o.budget_low : high ? o.budget_high : o.budget_medium;
    int64_t limit = body["max_tokens"].get<int64_t>();
    if (budget >= limit) {
        if (!explicit_limit) {
            limit = budget + o.default_max_tokens;  // defaulted limit: room for the answer too
            body["max_tokens"] = limit;
        } else if (limit - 1 >= 1024) {
            budget = limit - 1;  // the client's limit covers thinking and answer, as in OpenAI
        } else {
            return invalid(
                "reasoning_effort needs max_completion_tokens above 1024 for "
                "Anthropic models (thinking budgets start at 1024 tokens)",
                "reasoning_effort");
        }
    }
    body["thinking"] = {{"type", "enabled"}, {"budget_tokens", budget}};
    return std::nullopt;
}

}  // namespace

static Result<Translated> to_anthropic_unguarded(const json& chat,
                                                 const std::string& upstream_model,
                                                 const AnthropicRequestOptions& opts) {
    if (!chat.is_object()) return invalid("request body must be a JSON object", "");
    Translated t;
    json& body = t.body;
    body = json::object();
    body["model"] = upstream_model;

    bool explicit_limit = false;
    auto limit = max_tokens(chat, opts, explicit_limit);
    if (!limit) return limit.error();
    body["max_tokens"] = *limit;

    json system = json::array();
    const json* messages = find(chat, "messages");
    auto msgs = anthropic_messages(messages ? *messages : json(), system);
    if (!msgs) return msgs.error();
    if (!system.empty()) body["system"] = std::move(system);
    body["messages"] = std::move(*msgs);

    if (const json* v = find(chat, "temperature")) {
        if (!v->is_number()) return invalid("temperature must be a number", "temperature");
        double temp = v->get<double>();
        if (temp < 0)
            return invalid("temperature must be between 0 and 1 for this model", "temperature");
        if (temp > 1) {
            if (!opts.clamp_temperature) {
                return invalid("temperature must be between 0 and 1 for this model", "temperature");
            }
            temp = 1.0;
        }
        body["temperature"] = temp;
    }
    if (const json* v = find(chat, "top_p")) {
        if (!v->is_number()) return invalid("top_p must be a number", "top_p");
        body["top_p"] = *v;
    }
    if (const json* v = find(chat, "top_k")) {  // vendor extension, no OpenAI equivalent
        if (!v->is_number_integer()) return invalid("top_k must be an integer", "top_k");
        body["top_k"] = *v;
    }
    if (const json* v = find(chat, "stop")) {
        json seqs = json::array();
        if (v->is_string()) {
            seqs.push_back(*v);
        } else if (v->is_array()) {
            seqs = *v;
        } else {
            return invalid("stop must be a string or an array of strings", "stop");
        }
        json kept = json::array();
        for (size_t i = 0; i < seqs.size(); ++i) {
            if (!seqs[i].is_string())
                return invalid("stop sequences must be strings", at("stop", i));
            // Anthropic rejects whitespace-only stop sequences.
            if (is_blank(seqs[i].get_ref<const std::string&>())) {
                t.dropped.push_back(v->is_array() ? at("stop", i) : std::string("stop"));
            } else {
                kept.push_back(seqs[i]);
            }
        }
        if (!kept.empty()) body["stop_sequences"] = std::move(kept);
    }
    if (const json* v = find(chat, "stream")) {
        if (!v->is_boolean()) return invalid("stream must be a boolean", "stream");
        if (v->get<bool>()) body["stream"] = true;
    }
    for (const char* key : {"user", "safety_identifier"}) {
        const json* v = find(chat, key);
        if (!v) continue;
        if (!v->is_string()) return invalid(std::string(key) + " must be a string", key);
        const std::string& u = v->get_ref<const std::string&>();
        // Anthropic: an opaque id, never a name, email address or phone number.
        if (u.empty() || u.find('@') != std::string::npos || body.contains("metadata")) {
            t.dropped.emplace_back(key);
        } else {
            body["metadata"] = {{"user_id", u}};
        }
    }

    bool have_tools = false;
    if (const json* v = find(chat, "tools")) {
        auto tools = translate_tools(*v, t);
        if (!tools) return tools.error();
        have_tools = !tools->empty();
        if (have_tools) body["tools"] = std::move(*tools);
    }
    auto choice = translate_tool_choice(chat, have_tools);
    if (!choice) return choice.error();
    if (!choice->is_null()) body["tool_choice"] = std::move(*choice);

    if (auto e = translate_thinking(chat, opts, explicit_limit, body)) return *e;

    if (const json* v = find(chat, "n"); v && !(v->is_number_integer() && v->get<int64_t>() == 1)) {
        return invalid("n must be 1 for Anthropic models", "n");
    }
    if (const json* v = find(chat, "logprobs"); v && v->is_boolean() && v->get<bool>()) {
        return invalid("logprobs are not available from Anthropic models", "logprobs");
    }
    if (const json* v = find(chat, "response_format")) {
        const std::string type = str_or(*v, "type");
        if (type != "text") {
            return invalid(
                "response_format \"" + type + "\" is not supported for Anthropic models yet",
                "response_format.type");
        }
    }
    if (const json* v = find(chat, "modalities"); v && v->is_array()) {
        for (const auto& m : *v) {
            if (m != "text") return invalid("only text output is supported", "modalities");
        }
    }
    for (auto key : kRejectedChatFields) {
        if (find(chat, key))
            return invalid("\"" + std::string(key) + "\" is not supported for Anthropic models",
                           std::string(key));
    }
    static constexpr std::array kHandled = {"model",
                                            "messages",
                                            "max_tokens",
                                            "max_completion_tokens",
                                            "temperature",
                                            "top_p",
                                            "top_k",
                                            "stop",
                                            "stream",
                                            "stream_options",
                                            "user",
                                            "safety_identifier",
                                            "tools",
                                            "tool_choice",
                                            "parallel_tool_calls",
                                            "thinking",
                                            "reasoning_effort",
                                            "n",
                                            "logprobs",
                                            "response_format",
                                            "modalities"};
    for (const auto& [key, value] : chat.items()) {
        if (value.is_null()) continue;
        if (std::find(kHandled.begin(), kHandled.end(), key) != kHandled.end()) continue;
        t.dropped.push_back(key);
    }
    return t;
}

Result<Translated> openai_to_anthropic_request(const json& chat, const std::string& upstream_model,
                                               const AnthropicRequestOptions& opts) {
    return guarded(baton::Errc::invalid_request,
                   [&] { return to_anthropic_unguarded(chat, upstream_model, opts); });
}

}  // namespace baton::translate
