// OpenAI chat request → Anthropic Messages request (PROVIDER-FORMATS.md §4.1, §4.2).
#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "baton/translate/anthropic.hpp"
#include "translate/json_util.hpp"

namespace baton::translate {
namespace {

using namespace detail;

// Top-level fields with no Anthropic equivalent that are safe to leave out (reported in
// Translated::dropped). Fields not listed here and not translated are dropped too.
constexpr std::array kRejectedIfSet = {
    std::string_view{"functions"},
    std::string_view{"function_call"},
    std::string_view{"audio"},
    std::string_view{"web_search_options"},
};

// One Anthropic turn under construction. For user turns, tool_result blocks are kept apart and
// put first (the API requires tool results at the start of the turn that follows tool_use).
struct Turn {
    std::string role;
    json results = json::array();
    json blocks = json::array();
};

struct DataUrl {
    std::string mime;
    std::string data;
};

// "data:<mime>[;param]*;base64,<data>"; nullopt if not a base64 data URL.
std::optional<DataUrl> parse_data_url(std::string_view url) {
    if (url.substr(0, 5) != "data:") return std::nullopt;
    const size_t comma = url.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    const std::string_view header = url.substr(5, comma - 5);
    const size_t semi = header.find(';');
    if (semi == std::string_view::npos || header.find(";base64") == std::string_view::npos) {
        return std::nullopt;
    }
    DataUrl d{std::string(header.substr(0, semi)), std::string(url.substr(comma + 1))};
    for (auto& c : d.mime) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (d.mime == "image/jpg") d.mime = "image/jpeg";
    return d;
}

bool is_image_mime(std::string_view m) {
    return m == "image/jpeg" || m == "image/png" || m == "image/gif" || m == "image/webp";
}

void copy_cache_control(const json& part, json& block) {
    if (const json* cc = find(part, "cache_control")) block["cache_control"] = *cc;
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

Result<json> translate_messages(const json& messages, json& system) {
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
    auto msgs = translate_messages(messages ? *messages : json(), system);
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
    for (auto key : kRejectedIfSet) {
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
