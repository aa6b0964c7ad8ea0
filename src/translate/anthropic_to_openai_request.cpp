// Anthropic Messages request (inbound /v1/messages) → OpenAI chat request
// (PROVIDER-FORMATS.md §4.3).
#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "baton/translate/anthropic.hpp"
#include "translate/json_util.hpp"

namespace baton::translate {
namespace {

using namespace detail;

// Text of a string or of an array of text blocks (other blocks are an error), joined with
// `sep`.
Result<std::string> plain_text(const json& content, const std::string& param,
                               std::string_view sep) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array())
        return invalid("content must be a string or an array of blocks", param);
    std::string out;
    for (size_t i = 0; i < content.size(); ++i) {
        const json& block = content[i];
        if (str_or(block, "type") != "text") {
            return invalid("only text blocks are supported here", at(at(param, i), "type"));
        }
        if (!out.empty()) out += sep;
        out += str_or(block, "text");
    }
    return out;
}

Result<json> image_part(const json& block, const std::string& param) {
    const json* src = find(block, "source");
    const std::string type = src ? str_or(*src, "type") : std::string();
    std::string url;
    if (type == "base64") {
        url = "data:" + str_or(*src, "media_type") + ";base64," + str_or(*src, "data");
    } else if (type == "url") {
        url = str_or(*src, "url");
    } else {
        return invalid("image source must be base64 or url", at(at(param, "source"), "type"));
    }
    return json{{"type", "image_url"}, {"image_url", {{"url", url}}}};
}

Result<json> document_part(const json& block, const std::string& param) {
    const json* src = find(block, "source");
    const std::string type = src ? str_or(*src, "type") : std::string();
    if (type == "text") return json{{"type", "text"}, {"text", str_or(*src, "data")}};
    if (type == "base64") {
        json file = {{"file_data",
                      "data:" + str_or(*src, "media_type") + ";base64," + str_or(*src, "data")}};
        file["filename"] = str_or(block, "title", "document.pdf");
        return json{{"type", "file"}, {"file", std::move(file)}};
    }
    return invalid("document source must be base64 or text for OpenAI models",
                   at(at(param, "source"), "type"));
}

// A user turn: tool_result blocks → tool messages (first, in order), the rest → one user
// message (string content when it is a single text block).
std::optional<baton::Error> user_turn(const json& content, const std::string& param, json& out) {
    if (content.is_string()) {
        out.push_back({{"role", "user"}, {"content", content}});
        return std::nullopt;
    }
    if (!content.is_array())
        return invalid("content must be a string or an array of blocks", param);
    json parts = json::array();
    for (size_t i = 0; i < content.size(); ++i) {
        const json& block = content[i];
        const std::string bp = at(param, i);
        const std::string type = str_or(block, "type");
        if (type == "text") {
            parts.push_back({{"type", "text"}, {"text", str_or(block, "text")}});
        } else if (type == "image") {
            auto p = image_part(block, bp);
            if (!p) return p.error();
            parts.push_back(std::move(*p));
        } else if (type == "document") {
            auto p = document_part(block, bp);
            if (!p) return p.error();
            parts.push_back(std::move(*p));
        } else if (type == "tool_result") {
            std::string text;
            if (const json* c = find(block, "content")) {
                if (c->is_string()) {
                    text = c->get<std::string>();
                } else if (c->is_array()) {
                    // Text is joined; images cannot go into an OpenAI tool message, so they
                    // follow in the user message.
                    for (size_t k = 0; k < c->size(); ++k) {
                        const json& sub = (*c)[k];
                        const std::string st = str_or(sub, "type");
                        if (st == "text") {
                            if (!text.empty()) text += "\n";
                            text += str_or(sub, "text");
                        } else if (st == "image") {
                            auto p = image_part(sub, at(at(bp, "content"), k));
                            if (!p) return p.error();
                            parts.push_back(std::move(*p));
                        } else {
                            return invalid("tool_result content may contain text and images",
                                           at(at(at(bp, "content"), k), "type"));
                        }
                    }
                } else {
                    return invalid("tool_result content must be a string or blocks",
                                   at(bp, "content"));
                }
            }
            if (const json* e = find(block, "is_error"); e && e->is_boolean() && e->get<bool>()) {
                text = "Error: " + text;  // OpenAI has no error flag on tool results
            }
            out.push_back({{"role", "tool"},
                           {"tool_call_id", str_or(block, "tool_use_id")},
                           {"content", text}});
        } else if (type == "thinking" || type == "redacted_thinking") {
            continue;
        } else {
            return invalid("unsupported content block type \"" + type + "\"", at(bp, "type"));
        }
    }
    if (parts.size() == 1 && parts[0]["type"] == "text") {
        out.push_back({{"role", "user"}, {"content", parts[0]["text"]}});
    } else if (!parts.empty()) {
        out.push_back({{"role", "user"}, {"content", std::move(parts)}});
    }
    return std::nullopt;
}

std::optional<baton::Error> assistant_turn(const json& content, const std::string& param,
                                           json& out) {
    json msg = {{"role", "assistant"}};
    if (content.is_string()) {
        msg["content"] = content;
        out.push_back(std::move(msg));
        return std::nullopt;
    }
    if (!content.is_array())
        return invalid("content must be a string or an array of blocks", param);
    std::string text;
    bool have_text = false;
    json calls = json::array();
    for (size_t i = 0; i < content.size(); ++i) {
        const json& block = content[i];
        const std::string type = str_or(block, "type");
        if (type == "text") {
            text += str_or(block, "text");
            have_text = true;
        } else if (type == "tool_use") {
            const json* input = find(block, "input");
            calls.push_back({{"id", str_or(block, "id")},
                             {"type", "function"},
                             {"function",
                              {{"name", str_or(block, "name")},
                               {"arguments", dump(input ? *input : empty_object())}}}});
        } else if (type == "thinking" || type == "redacted_thinking") {
            continue;  // signed Anthropic reasoning means nothing to an OpenAI model
        } else {
            return invalid("unsupported content block type \"" + type + "\"",
                           at(at(param, i), "type"));
        }
    }
    msg["content"] = have_text || calls.empty() ? json(text) : json();
    if (!calls.empty()) msg["tool_calls"] = std::move(calls);
    out.push_back(std::move(msg));
    return std::nullopt;
}

Result<json> translate_tools(const json& tools) {
    if (!tools.is_array()) return invalid("tools must be an array", "tools");
    json out = json::array();
    for (size_t i = 0; i < tools.size(); ++i) {
        const json& tool = tools[i];
        const std::string p = at("tools", i);
        const std::string type = str_or(tool, "type", "custom");
        if (type != "custom") {
            return invalid("server tool \"" + type + "\" cannot be served by an OpenAI model",
                           at(p, "type"));
        }
        const json* name = find(tool, "name");
        if (!name || !name->is_string()) return invalid("tool needs a name", at(p, "name"));
        json fn = {{"name", *name}};
        if (const json* d = find(tool, "description"); d && d->is_string()) fn["description"] = *d;
        const json* schema = find(tool, "input_schema");
        fn["parameters"] =
            schema ? *schema : json{{"type", "object"}, {"properties", json::object()}};
        if (const json* s = find(tool, "strict"); s && s->is_boolean()) fn["strict"] = *s;
        out.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    return out;
}

// budget_tokens → reasoning_effort bucket (no gateway evidence for the thresholds).
std::string_view effort_for_budget(int64_t budget) {
    if (budget <= 2048) return "low";
    if (budget <= 8192) return "medium";
    return "high";
}

}  // namespace

static Result<Translated> to_openai_unguarded(const json& req, const std::string& upstream_model,
                                              const OpenAIRequestOptions& opts) {
    if (!req.is_object()) return invalid("request body must be a JSON object", "");
    Translated t;
    json& body = t.body;
    body = json::object();
    body["model"] = upstream_model;
    json messages = json::array();

    if (const json* sys = find(req, "system")) {
        auto text = plain_text(*sys, "system", "\n\n");
        if (!text) return text.error();
        if (!text->empty()) messages.push_back({{"role", opts.system_role}, {"content", *text}});
    }
    const json* msgs = find(req, "messages");
    if (!msgs || !msgs->is_array() || msgs->empty()) {
        return invalid("messages must be a non-empty array", "messages");
    }
    for (size_t i = 0; i < msgs->size(); ++i) {
        const json& m = (*msgs)[i];
        const std::string p = at("messages", i);
        const std::string role = str_or(m, "role");
        const json* content = find(m, "content");
        if (!content) return invalid("message needs content", at(p, "content"));
        std::optional<baton::Error> e;
        if (role == "user") {
            e = user_turn(*content, at(p, "content"), messages);
        } else if (role == "assistant") {
            e = assistant_turn(*content, at(p, "content"), messages);
        } else if (role == "system") {
            auto text = plain_text(*content, at(p, "content"), "\n\n");
            if (!text) return text.error();
            messages.push_back({{"role", opts.system_role}, {"content", *text}});
        } else {
            return invalid("role must be user or assistant", at(p, "role"));
        }
        if (e) return *e;
    }
    body["messages"] = std::move(messages);

    const json* mt = find(req, "max_tokens");
    if (!mt || !mt->is_number_integer() || mt->get<int64_t>() < 0) {
        return invalid("max_tokens is required (a non-negative integer)", "max_tokens");
    }
    if (mt->get<int64_t>() == 0) {
        return invalid("max_tokens 0 (prompt-cache pre-warming) is not available on OpenAI models",
                       "max_tokens");
    }
    body[opts.max_tokens_field] = *mt;
    for (const char* key : {"temperature", "top_p"}) {
        if (const json* v = find(req, key)) {
            if (!v->is_number()) return invalid(std::string(key) + " must be a number", key);
            body[key] = *v;
        }
    }
    if (const json* v = find(req, "stop_sequences")) {
        if (!v->is_array()) return invalid("stop_sequences must be an array", "stop_sequences");
        if (v->size() > 4) {
            return invalid("OpenAI models accept at most 4 stop sequences", "stop_sequences");
        }
        if (!v->empty()) body["stop"] = *v;
    }
    if (const json* v = find(req, "stream"); v && v->is_boolean() && v->get<bool>()) {
        body["stream"] = true;
        if (opts.stream_include_usage) body["stream_options"] = {{"include_usage", true}};
    }
    if (const json* md = find(req, "metadata")) {
        if (const json* u = find(*md, "user_id"); u && u->is_string()) body["user"] = *u;
    }

    bool have_tools = false;
    if (const json* v = find(req, "tools")) {
        auto tools = translate_tools(*v);
        if (!tools) return tools.error();
        have_tools = !tools->empty();
        if (have_tools) body["tools"] = std::move(*tools);
    }
    if (const json* tc = find(req, "tool_choice")) {
        const std::string type = str_or(*tc, "type");
        if (type == "auto") {
            if (have_tools) body["tool_choice"] = "auto";
        } else if (type == "any") {
            body["tool_choice"] = "required";
        } else if (type == "none") {
            if (have_tools) body["tool_choice"] = "none";
        } else if (type == "tool") {
            body["tool_choice"] = {{"type", "function"},
                                   {"function", {{"name", str_or(*tc, "name")}}}};
        } else {
            return invalid("tool_choice.type must be auto, any, tool or none", "tool_choice.type");
        }
        if (const json* d = find(*tc, "disable_parallel_tool_use");
            d && d->is_boolean() && d->get<bool>() && have_tools) {
            body["parallel_tool_calls"] = false;
        }
    }

    const json* thinking = find(req, "thinking");
    const json* output_config = find(req, "output_config");
    const json* effort = output_config ? find(*output_config, "effort") : nullptr;
    if (opts.map_thinking_to_reasoning_effort) {
        const std::string ttype = thinking ? str_or(*thinking, "type") : std::string();
        if (effort && effort->is_string()) {
            body["reasoning_effort"] = *effort;
        } else if (ttype == "enabled") {
            body["reasoning_effort"] = effort_for_budget(int_or(*thinking, "budget_tokens"));
        } else if (ttype == "adaptive") {
            body["reasoning_effort"] = "medium";
        }
    } else {
        if (thinking) t.dropped.emplace_back("thinking");
        if (effort) t.dropped.emplace_back("output_config.effort");
    }
    if (output_config) {
        if (const json* fmt = find(*output_config, "format")) {
            if (str_or(*fmt, "type") != "json_schema" || !find(*fmt, "schema")) {
                return invalid("output_config.format must be a json_schema format",
                               "output_config.format");
            }
            body["response_format"] = {
                {"type", "json_schema"},
                {"json_schema",
                 {{"name", "output"}, {"schema", (*fmt)["schema"]}, {"strict", true}}}};
        }
    }
    static constexpr std::array kHandled = {
        "model",       "messages",       "system",       "max_tokens", "temperature",
        "top_p",       "stop_sequences", "stream",       "metadata",   "tools",
        "tool_choice", "thinking",       "output_config"};
    for (const auto& [key, value] : req.items()) {
        if (value.is_null()) continue;
        if (std::find(kHandled.begin(), kHandled.end(), key) != kHandled.end()) continue;
        t.dropped.push_back(key);  // top_k, service_tier, container, cache_control, ...
    }
    return t;
}

Result<Translated> anthropic_to_openai_request(const json& req, const std::string& upstream_model,
                                               const OpenAIRequestOptions& opts) {
    return guarded(baton::Errc::invalid_request,
                   [&] { return to_openai_unguarded(req, upstream_model, opts); });
}

}  // namespace baton::translate
