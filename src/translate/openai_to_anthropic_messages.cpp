// OpenAI chat messages → Anthropic messages and system blocks (PROVIDER-FORMATS.md §4.2).
#include "translate/openai_to_anthropic_messages.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baton::translate::detail {
namespace {

// One Anthropic turn under construction. For user turns, tool_result blocks are kept apart and
// put first (the API requires tool results at the start of the turn that follows tool_use).
struct Turn {
    std::string role;
    json results = json::array();
    json blocks = json::array();
};

bool is_image_mime(std::string_view m) {
    return m == "image/jpeg" || m == "image/png" || m == "image/gif" || m == "image/webp";
}

// A base64 data URL → image or PDF document block.
Result<json> block_from_data_url(std::string_view url, const std::string& param) {
    auto d = parse_data_url(url);
    if (!d) return invalid("only base64 data: URLs are supported", param);
    json source = {{"type", "base64"}, {"media_type", d->mime}, {"data", std::move(d->data)}};
    if (is_image_mime(d->mime)) return json{{"type", "image"}, {"source", std::move(source)}};
    if (d->mime == "application/pdf") {
        return json{{"type", "document"}, {"source", std::move(source)}};
    }
    return invalid("unsupported media type \"" + d->mime +
                       "\" (Anthropic accepts image/jpeg, image/png, image/gif, image/webp and "
                       "application/pdf)",
                   param);
}

Result<json> image_block(const json& part, const std::string& param) {
    const json* img = find(part, "image_url");
    const json* url = img && img->is_object() ? find(*img, "url") : img;
    if (!url || !url->is_string()) {
        return invalid("image_url part needs image_url.url (a string)", at(param, "image_url"));
    }
    const std::string& u = url->get_ref<const std::string&>();
    const std::string uparam = at(at(param, "image_url"), "url");
    json block;
    if (u.rfind("data:", 0) == 0) {
        auto b = block_from_data_url(u, uparam);
        if (!b) return b;
        block = std::move(*b);
    } else if (u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0) {
        block = {{"type", "image"}, {"source", {{"type", "url"}, {"url", u}}}};
    } else {
        return invalid("image URL must be http(s) or a base64 data: URL", uparam);
    }
    copy_cache_control(part, block);
    return block;
}

Result<json> file_block(const json& part, const std::string& param) {
    const json* file = find(part, "file");
    if (!file || !file->is_object()) return invalid("file part needs a file object", param);
    if (find(*file, "file_id")) {
        return invalid("OpenAI file ids cannot be sent to an Anthropic model; send file_data",
                       at(at(param, "file"), "file_id"));
    }
    const json* data = find(*file, "file_data");
    if (!data || !data->is_string()) {
        return invalid("file part needs file.file_data", at(at(param, "file"), "file_data"));
    }
    auto b = block_from_data_url(data->get_ref<const std::string&>(),
                                 at(at(param, "file"), "file_data"));
    if (!b) return b;
    const std::string name = str_or(*file, "filename");
    if ((*b)["type"] == "document" && !name.empty()) (*b)["title"] = name;
    copy_cache_control(part, *b);
    return b;
}

// Content (string or parts) of a user or tool message → blocks (empty text is skipped: the
// API rejects empty text blocks).
Result<json> user_blocks(const json& content, const std::string& param) {
    json out = json::array();
    if (content.is_string()) {
        if (!content.get_ref<const std::string&>().empty()) {
            out.push_back({{"type", "text"}, {"text", content}});
        }
        return out;
    }
    if (!content.is_array()) {
        return invalid(
            "content must be a string or an array of parts, got " + std::string(type_name(content)),
            param);
    }
    for (size_t i = 0; i < content.size(); ++i) {
        const json& part = content[i];
        const std::string pp = at(param, i);
        const std::string type = str_or(part, "type");
        if (type == "text") {
            const json* text = find(part, "text");
            if (!text || !text->is_string()) return invalid("text part needs text", pp);
            if (text->get_ref<const std::string&>().empty()) continue;
            json block = {{"type", "text"}, {"text", *text}};
            copy_cache_control(part, block);
            out.push_back(std::move(block));
        } else if (type == "image_url") {
            auto b = image_block(part, pp);
            if (!b) return b.error();
            out.push_back(std::move(*b));
        } else if (type == "file") {
            auto b = file_block(part, pp);
            if (!b) return b.error();
            out.push_back(std::move(*b));
        } else if (type == "input_audio") {
            return invalid("audio input is not supported by Anthropic models", pp);
        } else {
            return invalid("unsupported content part type \"" + type + "\"", at(pp, "type"));
        }
    }
    return out;
}

// system/developer content → text blocks appended to `system`.
std::optional<baton::Error> system_blocks(const json& content, const std::string& param,
                                          json& system) {
    if (content.is_string()) {
        if (!content.get_ref<const std::string&>().empty()) {
            system.push_back({{"type", "text"}, {"text", content}});
        }
        return std::nullopt;
    }
    if (!content.is_array()) return invalid("content must be a string or text parts", param);
    for (size_t i = 0; i < content.size(); ++i) {
        const json& part = content[i];
        const json* text = find(part, "text");
        if (str_or(part, "type") != "text" || !text || !text->is_string()) {
            return invalid("system and developer messages may contain only text parts",
                           at(param, i));
        }
        if (text->get_ref<const std::string&>().empty()) continue;
        json block = {{"type", "text"}, {"text", *text}};
        copy_cache_control(part, block);
        system.push_back(std::move(block));
    }
    return std::nullopt;
}

// The `arguments` of an assistant tool call → the tool_use `input` object.
Result<json> tool_input(const json& fn, const std::string& param) {
    const json* args = find(fn, "arguments");
    const std::string ap = at(param, "arguments");
    if (!args) return json::object();
    if (args->is_object()) return *args;  // some clients send the object itself
    if (!args->is_string()) return invalid("arguments must be a JSON string", ap);
    const std::string& text = args->get_ref<const std::string&>();
    if (is_blank(text)) return json::object();
    auto parsed = parse(text);
    if (!parsed) return invalid("arguments is not valid JSON", ap);
    if (!parsed->is_object()) return invalid("arguments must encode a JSON object", ap);
    return std::move(*parsed);
}

// Thinking blocks replayed by the client: message.thinking_blocks (LiteLLM convention) and
// thinking/redacted_thinking parts inside content. They go first, verbatim.
std::optional<baton::Error> thinking_blocks(const json& msg, const std::string& param, json& out) {
    const json* tb = find(msg, "thinking_blocks");
    if (!tb) return std::nullopt;
    if (!tb->is_array())
        return invalid("thinking_blocks must be an array", at(param, "thinking_blocks"));
    size_t unfilled = 0;
    for (size_t i = 0; i < tb->size(); ++i) {
        const std::string type = str_or((*tb)[i], "type");
        if (type != "thinking" && type != "redacted_thinking") {
            return invalid("thinking block type must be thinking or redacted_thinking",
                           at(at(at(param, "thinking_blocks"), i), "type"));
        }
        if (type == "thinking" && str_or((*tb)[i], "thinking").empty()) ++unfilled;
        out.push_back((*tb)[i]);
    }
    // A streamed signature-only block (LiteLLM convention: text in reasoning_content).
    const std::string reasoning = str_or(msg, "reasoning_content");
    if (unfilled == 1 && !reasoning.empty()) {
        for (auto& b : out) {
            if (b.value("type", "") == "thinking" && str_or(b, "thinking").empty()) {
                b["thinking"] = reasoning;
            }
        }
    }
    return std::nullopt;
}

Result<json> assistant_blocks(const json& msg, const std::string& param) {
    json out = json::array();
    if (auto e = thinking_blocks(msg, param, out)) return *e;
    json text = json::array();
    const json* content = find(msg, "content");
    const std::string cp = at(param, "content");
    auto add_text = [&](const json& t, const json* part) {
        if (t.get_ref<const std::string&>().empty()) return;
        json block = {{"type", "text"}, {"text", t}};
        if (part) copy_cache_control(*part, block);
        text.push_back(std::move(block));
    };
    if (content && content->is_string()) {
        add_text(*content, nullptr);
    } else if (content && content->is_array()) {
        for (size_t i = 0; i < content->size(); ++i) {
            const json& part = (*content)[i];
            const std::string type = str_or(part, "type");
            const json* t = find(part, type == "refusal" ? "refusal" : "text");
            if ((type == "text" || type == "refusal") && t && t->is_string()) {
                add_text(*t, &part);
            } else if (type == "thinking" || type == "redacted_thinking") {
                out.push_back(part);
            } else {
                return invalid("assistant content parts must be text or refusal", at(cp, i));
            }
        }
    } else if (content) {
        return invalid("content must be a string, an array of parts or null", cp);
    }
    if (const json* refusal = find(msg, "refusal"); refusal && refusal->is_string()) {
        if (text.empty()) add_text(*refusal, nullptr);
    }
    for (auto& b : text) out.push_back(std::move(b));

    if (find(msg, "function_call")) {
        return invalid("the deprecated function_call is not supported; use tool_calls",
                       at(param, "function_call"));
    }
    const json* calls = find(msg, "tool_calls");
    if (!calls) return out;
    const std::string tp = at(param, "tool_calls");
    if (!calls->is_array()) return invalid("tool_calls must be an array", tp);
    for (size_t i = 0; i < calls->size(); ++i) {
        const json& call = (*calls)[i];
        const std::string p = at(tp, i);
        const std::string type = str_or(call, "type", "function");
        if (type != "function")
            return invalid("only function tool calls are supported", at(p, "type"));
        const json* id = find(call, "id");
        if (!id || !id->is_string()) return invalid("tool call needs an id", at(p, "id"));
        const json* fn = find(call, "function");
        const json* name = fn ? find(*fn, "name") : nullptr;
        if (!name || !name->is_string()) {
            return invalid("tool call needs function.name", at(at(p, "function"), "name"));
        }
        auto input = tool_input(*fn, at(p, "function"));
        if (!input) return input.error();
        out.push_back({{"type", "tool_use"}, {"id", *id}, {"name", *name}, {"input", *input}});
    }
    return out;
}

// Orders the tool results of a user turn like the tool_use blocks of the assistant turn before.
void order_results(json& results, const Turn* prev) {
    if (!prev || prev->role != "assistant" || results.size() < 2) return;
    std::vector<std::string> ids;
    for (const auto& b : prev->blocks) {
        if (b.value("type", "") == "tool_use") ids.push_back(b.value("id", ""));
    }
    auto rank = [&](const json& r) {
        auto it = std::find(ids.begin(), ids.end(), r.value("tool_use_id", ""));
        return static_cast<size_t>(it - ids.begin());
    };
    std::vector<json> v(results.begin(), results.end());
    std::stable_sort(v.begin(), v.end(),
                     [&](const json& a, const json& b) { return rank(a) < rank(b); });
    results = json(std::move(v));
}

// Strips trailing whitespace from a final assistant (prefill) turn: the API rejects it.
void trim_prefill(std::vector<Turn>& turns) {
    if (turns.empty() || turns.back().role != "assistant") return;
    json& blocks = turns.back().blocks;
    if (blocks.empty() || blocks.back().value("type", "") != "text") return;
    std::string text = blocks.back()["text"].get<std::string>();
    text.erase(text.find_last_not_of(" \t\r\n") + 1);
    if (text.empty()) {
        blocks.erase(blocks.size() - 1);
        if (blocks.empty()) turns.pop_back();
    } else {
        blocks.back()["text"] = text;
    }
}

}  // namespace

Result<json> anthropic_messages(const json& messages, json& system) {
    if (!messages.is_array() || messages.empty()) {
        return invalid("messages must be a non-empty array", "messages");
    }
    std::vector<Turn> turns;
    auto turn_for = [&](const std::string& role) -> Turn& {
        if (turns.empty() || turns.back().role != role)
            turns.push_back(Turn{role, json::array(), json::array()});
        return turns.back();
    };
    for (size_t i = 0; i < messages.size(); ++i) {
        const json& msg = messages[i];
        const std::string p = at("messages", i);
        const std::string role = str_or(msg, "role");
        const json* content = find(msg, "content");
        const std::string cp = at(p, "content");
        if (role == "system" || role == "developer") {
            if (!content) continue;
            if (auto e = system_blocks(*content, cp, system)) return *e;
        } else if (role == "user") {
            if (!content) return invalid("user message needs content", cp);
            auto b = user_blocks(*content, cp);
            if (!b) return b.error();
            if (b->empty()) continue;
            for (auto& x : *b) turn_for("user").blocks.push_back(std::move(x));
        } else if (role == "tool") {
            const json* id = find(msg, "tool_call_id");
            if (!id || !id->is_string())
                return invalid("tool message needs tool_call_id", at(p, "tool_call_id"));
            json result = {{"type", "tool_result"}, {"tool_use_id", *id}};
            if (content && content->is_string()) {
                if (!content->get_ref<const std::string&>().empty()) result["content"] = *content;
            } else if (content) {
                auto b = user_blocks(*content, cp);
                if (!b) return b.error();
                if (!b->empty()) result["content"] = std::move(*b);
            }
            turn_for("user").results.push_back(std::move(result));
        } else if (role == "assistant") {
            auto b = assistant_blocks(msg, p);
            if (!b) return b.error();
            if (b->empty()) continue;
            for (auto& x : *b) turn_for("assistant").blocks.push_back(std::move(x));
        } else if (role == "function") {
            return invalid("the deprecated function role is not supported; use tool messages",
                           at(p, "role"));
        } else {
            return invalid("unknown role \"" + role + "\"", at(p, "role"));
        }
    }
    trim_prefill(turns);
    if (turns.empty()) return invalid("messages contain no user or assistant content", "messages");
    for (size_t t = 1; t < turns.size(); ++t) order_results(turns[t].results, &turns[t - 1]);
    json out = json::array();
    for (auto& turn : turns) {
        json content = std::move(turn.results);
        for (auto& b : turn.blocks) content.push_back(std::move(b));
        out.push_back({{"role", turn.role}, {"content", std::move(content)}});
    }
    return out;
}

}  // namespace baton::translate::detail
