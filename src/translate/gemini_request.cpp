// OpenAI chat request → Gemini GenerateContentRequest (PROVIDER-FORMATS.md §5.2, §5.6).
#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "baton/translate/gemini.hpp"
#include "translate/gemini_common.hpp"

namespace baton::translate {
namespace {

using namespace detail;

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// ---- media ------------------------------------------------------------------------------------

// A base64 data URL whose media type has a subtype (else it is not sent inline).
std::optional<DataUrl> parse_media_data_url(std::string_view url) {
    auto d = parse_data_url(url);
    if (d && d->mime.find('/') == std::string::npos) return std::nullopt;
    return d;
}

// MIME type from the extension of a URL's path or a file name; "" when unknown.
std::string mime_from_name(std::string_view name) {
    name = name.substr(0, name.find_first_of("?#"));
    const size_t slash = name.rfind('/');
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
    const size_t dot = name.rfind('.');
    if (dot == std::string_view::npos) return {};
    static const std::map<std::string, std::string, std::less<>> kByExt = {
        {"jpg", "image/jpeg"},   {"jpeg", "image/jpeg"},     {"png", "image/png"},
        {"gif", "image/gif"},    {"webp", "image/webp"},     {"heic", "image/heic"},
        {"heif", "image/heif"},  {"pdf", "application/pdf"}, {"txt", "text/plain"},
        {"md", "text/markdown"}, {"html", "text/html"},      {"csv", "text/csv"},
        {"xml", "text/xml"},     {"mp3", "audio/mp3"},       {"wav", "audio/wav"},
        {"aac", "audio/aac"},    {"ogg", "audio/ogg"},       {"flac", "audio/flac"},
        {"aiff", "audio/aiff"},  {"mp4", "video/mp4"},       {"mpeg", "video/mpeg"},
        {"mov", "video/mov"},    {"avi", "video/avi"},       {"webm", "video/webm"},
        {"wmv", "video/wmv"},    {"3gp", "video/3gpp"},      {"flv", "video/x-flv"},
    };
    auto it = kByExt.find(to_lower(name.substr(dot + 1)));
    return it == kByExt.end() ? std::string() : it->second;
}

Result<json> image_part(const json& part, const std::string& param,
                        const GeminiRequestOptions& opts, Translated& t) {
    const json* img = find(part, "image_url");
    const json* url = img && img->is_object() ? find(*img, "url") : img;
    if (!url || !url->is_string()) {
        return invalid("image_url part needs image_url.url (a string)", at(param, "image_url"));
    }
    if (img->is_object()) {
        const std::string detail = str_or(*img, "detail", "auto");
        if (detail != "auto") t.dropped.push_back(at(at(param, "image_url"), "detail"));
    }
    const std::string& u = url->get_ref<const std::string&>();
    const std::string uparam = at(at(param, "image_url"), "url");
    if (u.rfind("data:", 0) == 0) {
        auto d = parse_media_data_url(u);
        if (!d) return invalid("only base64 data: URLs are supported", uparam);
        return json{{"inlineData", {{"mimeType", d->mime}, {"data", std::move(d->data)}}}};
    }
    if (u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0 || u.rfind("gs://", 0) == 0) {
        std::string mime = mime_from_name(u);
        if (mime.empty()) mime = opts.default_image_mime;
        return json{{"fileData", {{"mimeType", mime}, {"fileUri", u}}}};
    }
    return invalid("image URL must be http(s), gs:// or a base64 data: URL", uparam);
}

Result<json> audio_part(const json& part, const std::string& param) {
    const json* audio = find(part, "input_audio");
    const std::string ap = at(param, "input_audio");
    if (!audio || !audio->is_object()) return invalid("input_audio part needs input_audio", ap);
    const json* data = find(*audio, "data");
    if (!data || !data->is_string()) return invalid("input_audio needs data", at(ap, "data"));
    const std::string format = to_lower(str_or(*audio, "format"));
    if (format.empty() || format.find('/') != std::string::npos) {
        return invalid("input_audio needs a format such as wav or mp3", at(ap, "format"));
    }
    return json{{"inlineData", {{"mimeType", "audio/" + format}, {"data", *data}}}};
}

Result<json> file_part(const json& part, const std::string& param) {
    const json* file = find(part, "file");
    const std::string fp = at(param, "file");
    if (!file || !file->is_object()) return invalid("file part needs a file object", param);
    if (find(*file, "file_id")) {
        return invalid("OpenAI file ids cannot be sent to a Gemini model; send file_data",
                       at(fp, "file_id"));
    }
    const json* data = find(*file, "file_data");
    if (!data || !data->is_string())
        return invalid("file part needs file.file_data", at(fp, "file_data"));
    const std::string& d = data->get_ref<const std::string&>();
    if (auto url = parse_media_data_url(d)) {
        return json{{"inlineData", {{"mimeType", url->mime}, {"data", std::move(url->data)}}}};
    }
    // Bare base64: the file name must tell the type.
    const std::string mime = mime_from_name(str_or(*file, "filename"));
    if (mime.empty() || d.rfind("data:", 0) == 0) {
        return invalid("file_data must be a base64 data: URL (or a filename must give its type)",
                       at(fp, "file_data"));
    }
    return json{{"inlineData", {{"mimeType", mime}, {"data", d}}}};
}

// Content (string or parts) of a user or tool message → Gemini parts (empty text is skipped:
// Gemini rejects empty text parts).
Result<json> user_parts(const json& content, const std::string& param,
                        const GeminiRequestOptions& opts, Translated& t) {
    json out = json::array();
    if (content.is_string()) {
        if (!content.get_ref<const std::string&>().empty()) out.push_back({{"text", content}});
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
        Result<json> p = json();
        if (type == "text") {
            const json* text = find(part, "text");
            if (!text || !text->is_string()) return invalid("text part needs text", pp);
            if (text->get_ref<const std::string&>().empty()) continue;
            p = json{{"text", *text}};
        } else if (type == "image_url") {
            p = image_part(part, pp, opts, t);
        } else if (type == "input_audio") {
            p = audio_part(part, pp);
        } else if (type == "file") {
            p = file_part(part, pp);
        } else {
            return invalid("unsupported content part type \"" + type + "\"", at(pp, "type"));
        }
        if (!p) return p.error();
        out.push_back(std::move(*p));
    }
    return out;
}

// system/developer content → text parts appended to `system`.
std::optional<baton::Error> system_parts(const json& content, const std::string& param,
                                         json& system) {
    if (content.is_string()) {
        if (!content.get_ref<const std::string&>().empty()) system.push_back({{"text", content}});
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
        if (!text->get_ref<const std::string&>().empty()) system.push_back({{"text", *text}});
    }
    return std::nullopt;
}

// ---- messages ---------------------------------------------------------------------------------

constexpr std::string_view kSignatureSeparator = "__thought__";  // LiteLLM's id suffix

// The thoughtSignature a client echoes with a tool call: extra_content.google.thought_signature
// (Google's OpenAI-compatible endpoint, and what gemini_to_openai_response emits),
// function.thought_signature (Portkey), or a "__thought__<signature>" id suffix (LiteLLM).
std::string call_signature(const json& call, const json& fn, const std::string& id) {
    if (const json* extra = find(call, "extra_content")) {
        if (const json* g = find(*extra, "google")) {
            const std::string s = str_or(*g, "thought_signature");
            if (!s.empty()) return s;
        }
    }
    std::string s = str_or(fn, "thought_signature");
    if (!s.empty()) return s;
    const size_t sep = id.find(kSignatureSeparator);
    if (sep != std::string::npos) return id.substr(sep + kSignatureSeparator.size());
    return {};
}

// The `arguments` of an assistant tool call → the functionCall `args` object.
Result<json> call_args(const json& fn, const std::string& param) {
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

// One Gemini turn under construction. In user turns the functionResponse parts are kept apart
// (with the tool_call_id they answer) and put first, ordered like the calls.
struct Turn {
    std::string role;  // "user" | "model"
    std::vector<std::pair<std::string, json>> responses;
    json parts = json::array();
    std::vector<std::string> call_ids;  // model turns: tool_call ids in order
};

class MessageBuilder {
  public:
    MessageBuilder(const GeminiRequestOptions& opts, Translated& t) : opts_(opts), t_(t) {}

    std::optional<baton::Error> add(const json& msg, size_t i, json& system) {
        const std::string p = at("messages", i);
        if (!msg.is_object()) return invalid("message must be an object", p);
        const std::string role = str_or(msg, "role");
        const json* content = find(msg, "content");
        const std::string cp = at(p, "content");
        if (role == "system" || role == "developer") {
            if (!content) return std::nullopt;
            return system_parts(*content, cp, system);
        }
        if (role == "user") {
            if (!content) return invalid("user message needs content", cp);
            auto parts = user_parts(*content, cp, opts_, t_);
            if (!parts) return parts.error();
            if (parts->empty()) return std::nullopt;
            Turn& turn = turn_for("user");
            for (auto& x : *parts) turn.parts.push_back(std::move(x));
            return std::nullopt;
        }
        if (role == "tool") return add_tool_result(msg, p);
        if (role == "assistant") return add_assistant(msg, p);
        if (role == "function") {
            return invalid("the deprecated function role is not supported; use tool messages",
                           at(p, "role"));
        }
        return invalid("unknown role \"" + role + "\"", at(p, "role"));
    }

    Result<json> contents() {
        if (turns_.empty()) {
            return invalid("messages contain no user or assistant content", "messages");
        }
        json out = json::array();
        for (size_t n = 0; n < turns_.size(); ++n) {
            Turn& turn = turns_[n];
            json parts = json::array();
            if (!turn.responses.empty()) {
                order_responses(turn, n > 0 ? &turns_[n - 1] : nullptr);
                for (auto& r : turn.responses) parts.push_back(std::move(r.second));
            }
            for (auto& x : turn.parts) parts.push_back(std::move(x));
            if (turn.role == "model") add_missing_signature(parts);
            out.push_back({{"role", turn.role}, {"parts", std::move(parts)}});
        }
        return out;
    }

  private:
    Turn& turn_for(const std::string& role) {
        if (turns_.empty() || turns_.back().role != role) turns_.push_back(Turn{role, {}, {}, {}});
        return turns_.back();
    }

    std::optional<baton::Error> add_assistant(const json& msg, const std::string& p) {
        json parts = json::array();
        const json* content = find(msg, "content");
        const std::string cp = at(p, "content");
        auto add_text = [&](const json& text) {
            if (!text.get_ref<const std::string&>().empty()) parts.push_back({{"text", text}});
        };
        if (content && content->is_string()) {
            add_text(*content);
        } else if (content && content->is_array()) {
            for (size_t i = 0; i < content->size(); ++i) {
                const json& part = (*content)[i];
                const std::string type = str_or(part, "type");
                const json* text = find(part, type == "refusal" ? "refusal" : "text");
                if ((type != "text" && type != "refusal") || !text || !text->is_string()) {
                    return invalid("assistant content parts must be text or refusal", at(cp, i));
                }
                add_text(*text);
            }
        } else if (content) {
            return invalid("content must be a string, an array of parts or null", cp);
        }
        if (const json* refusal = find(msg, "refusal"); refusal && refusal->is_string()) {
            if (parts.empty()) add_text(*refusal);
        }
        if (find(msg, "function_call")) {
            return invalid("the deprecated function_call is not supported; use tool_calls",
                           at(p, "function_call"));
        }
        std::vector<std::string> ids;
        if (const json* calls = find(msg, "tool_calls")) {
            const std::string tp = at(p, "tool_calls");
            if (!calls->is_array()) return invalid("tool_calls must be an array", tp);
            for (size_t i = 0; i < calls->size(); ++i) {
                auto part = call_part((*calls)[i], at(tp, i));
                if (!part) return part.error();
                ids.push_back(str_or((*calls)[i], "id"));
                parts.push_back(std::move(*part));
            }
        }
        // reasoning_content / thinking blocks are not sent back: Gemini keeps its reasoning
        // context in thought signatures.
        if (parts.empty()) return std::nullopt;
        Turn& turn = turn_for("model");
        for (auto& x : parts) turn.parts.push_back(std::move(x));
        for (auto& id : ids) turn.call_ids.push_back(std::move(id));
        return std::nullopt;
    }

    Result<json> call_part(const json& call, const std::string& p) {
        if (!call.is_object()) return invalid("tool call must be an object", p);
        const std::string type = str_or(call, "type", "function");
        if (type != "function")
            return invalid("only function tool calls are supported", at(p, "type"));
        const json* id = find(call, "id");
        if (!id || !id->is_string()) return invalid("tool call needs an id", at(p, "id"));
        const json* fn = find(call, "function");
        const json* name = fn ? find(*fn, "name") : nullptr;
        if (!name || !name->is_string() || name->get_ref<const std::string&>().empty()) {
            return invalid("tool call needs function.name", at(at(p, "function"), "name"));
        }
        auto args = call_args(*fn, at(p, "function"));
        if (!args) return args.error();
        const std::string& call_id = id->get_ref<const std::string&>();
        json fc = {{"name", *name}, {"args", std::move(*args)}};
        if (opts_.send_function_call_ids) fc["id"] = *id;
        json part = {{"functionCall", std::move(fc)}};
        const std::string sig = call_signature(call, *fn, call_id);
        if (!sig.empty()) part["thoughtSignature"] = sig;
        names_[call_id] = name->get<std::string>();
        return part;
    }

    std::optional<baton::Error> add_tool_result(const json& msg, const std::string& p) {
        const json* id = find(msg, "tool_call_id");
        if (!id || !id->is_string()) {
            return invalid("tool message needs tool_call_id", at(p, "tool_call_id"));
        }
        const std::string& call_id = id->get_ref<const std::string&>();
        std::string name;
        if (auto it = names_.find(call_id); it != names_.end()) {
            name = it->second;
        } else {
            name = str_or(msg, "name");  // legacy tool messages carry the function name
        }
        if (name.empty()) {
            return invalid("tool_call_id \"" + call_id +
                               "\" does not match a tool call of an earlier assistant message",
                           at(p, "tool_call_id"));
        }
        // Text content becomes the response; other parts (images) follow as ordinary parts.
        const json* content = find(msg, "content");
        const std::string cp = at(p, "content");
        std::string text;
        json extra = json::array();
        if (content && content->is_string()) {
            text = content->get<std::string>();
        } else if (content) {
            auto parts = user_parts(*content, cp, opts_, t_);
            if (!parts) return parts.error();
            for (auto& x : *parts) {
                if (const json* s = find(x, "text")) {
                    text += s->get<std::string>();
                } else {
                    extra.push_back(std::move(x));
                }
            }
        }
        json response;
        if (auto parsed = parse(text); parsed && parsed->is_object()) {
            response = std::move(*parsed);
        } else {
            response = {{opts_.function_response_key,
                         parsed && !is_blank(text) ? std::move(*parsed) : json(text)}};
        }
        json fr = {{"name", name}, {"response", std::move(response)}};
        if (opts_.send_function_call_ids) fr["id"] = call_id;
        Turn& turn = turn_for("user");
        turn.responses.emplace_back(call_id, json{{"functionResponse", std::move(fr)}});
        for (auto& x : extra) turn.parts.push_back(std::move(x));
        return std::nullopt;
    }

    // Function responses in the order of the calls of the model turn before (Gemini pairs
    // parallel calls and responses by position when there are no ids).
    static void order_responses(Turn& turn, const Turn* prev) {
        if (!prev || prev->role != "model" || turn.responses.size() < 2) return;
        auto rank = [&](const std::string& id) {
            auto it = std::find(prev->call_ids.begin(), prev->call_ids.end(), id);
            return static_cast<size_t>(it - prev->call_ids.begin());
        };
        std::stable_sort(
            turn.responses.begin(), turn.responses.end(),
            [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
    }

    // Gemini 3 requires a thoughtSignature on the first functionCall part of each model turn.
    void add_missing_signature(json& parts) const {
        if (opts_.missing_thought_signature.empty()) return;
        for (auto& part : parts) {
            if (!part.contains("functionCall")) continue;
            if (!part.contains("thoughtSignature")) {
                part["thoughtSignature"] = opts_.missing_thought_signature;
            }
            return;
        }
    }

    const GeminiRequestOptions& opts_;
    Translated& t_;
    std::vector<Turn> turns_;
    std::map<std::string, std::string> names_;  // tool_call id → function name
};

// ---- tools --------------------------------------------------------------------------------------

// tools[] → functionDeclarations (in order). `allowed`: when non-empty, only these names.
Result<json> function_declarations(const json& tools, const GeminiRequestOptions& opts,
                                   Translated& t) {
    if (!tools.is_array()) return invalid("tools must be an array", "tools");
    json out = json::array();
    for (size_t i = 0; i < tools.size(); ++i) {
        const json& tool = tools[i];
        const std::string p = at("tools", i);
        const std::string type = str_or(tool, "type");
        if (type != "function") {
            return invalid("only function tools can be sent to a Gemini model", at(p, "type"));
        }
        const json* fn = find(tool, "function");
        const json* name = fn ? find(*fn, "name") : nullptr;
        const std::string fp = at(p, "function");
        if (!name || !name->is_string() || name->get_ref<const std::string&>().empty()) {
            return invalid("tool needs function.name", at(fp, "name"));
        }
        json decl = {{"name", *name}};
        if (const json* d = find(*fn, "description"); d && d->is_string()) decl["description"] = *d;
        if (const json* params = find(*fn, "parameters")) {
            const std::string pp = at(fp, "parameters");
            if (!params->is_object()) return invalid("parameters must be an object", pp);
            if (str_or(*params, "type", "object") != "object") {
                return invalid("parameters must be a JSON Schema of type object", at(pp, "type"));
            }
            if (opts.schema_mode == GeminiSchemaMode::json_schema) {
                decl["parametersJsonSchema"] = *params;
            } else {
                json schema = gemini_openapi_schema(*params, pp, t.dropped);
                // Gemini rejects an OBJECT schema with no properties ("should be non-empty for
                // OBJECT type"): a function without parameters simply has none.
                const json* props = find(schema, "properties");
                if (props && props->is_object() && !props->empty()) {
                    schema["type"] = "object";
                    decl["parameters"] = std::move(schema);
                }
            }
        }
        if (find(*fn, "strict")) t.dropped.push_back(at(fp, "strict"));
        out.push_back(std::move(decl));
    }
    return out;
}

// Names listed by an allowed_tools tool_choice.
Result<std::vector<std::string>> allowed_names(const json& choice) {
    const json* at_ = find(choice, "allowed_tools");
    const json* tools = at_ ? find(*at_, "tools") : nullptr;
    if (!tools || !tools->is_array()) {
        return invalid("allowed_tools needs a tools array", "tool_choice.allowed_tools.tools");
    }
    std::vector<std::string> names;
    for (size_t i = 0; i < tools->size(); ++i) {
        const json* fn = find((*tools)[i], "function");
        const json* name = fn ? find(*fn, "name") : nullptr;
        if (!name || !name->is_string()) {
            return invalid("allowed tools must be {type: function, function: {name}}",
                           at(at("tool_choice.allowed_tools.tools", i), "function.name"));
        }
        names.push_back(*name);
    }
    return names;
}

// tool_choice → toolConfig.functionCallingConfig (null: omit). May narrow `decls`
// (allowed_tools with mode auto).
Result<json> tool_config(const json& chat, json& decls) {
    const json* choice = find(chat, "tool_choice");
    if (!choice) return json();
    const bool have_tools = !decls.empty();
    json cfg;
    if (choice->is_string()) {
        const std::string& c = choice->get_ref<const std::string&>();
        if (c == "auto") {
            cfg = {{"mode", "AUTO"}};
        } else if (c == "none") {
            cfg = {{"mode", "NONE"}};
        } else if (c == "required") {
            cfg = {{"mode", "ANY"}};
        } else {
            return invalid("tool_choice must be auto, none, required or a function", "tool_choice");
        }
    } else if (choice->is_object()) {
        const std::string type = str_or(*choice, "type");
        if (type == "function") {
            const json* fn = find(*choice, "function");
            const json* name = fn ? find(*fn, "name") : nullptr;
            if (!name || !name->is_string()) {
                return invalid("tool_choice needs function.name", "tool_choice.function.name");
            }
            cfg = {{"mode", "ANY"}, {"allowedFunctionNames", json::array({*name})}};
        } else if (type == "allowed_tools") {
            auto names = allowed_names(*choice);
            if (!names) return names.error();
            const std::string mode = str_or(*find(*choice, "allowed_tools"), "mode", "auto");
            if (mode != "auto" && mode != "required") {
                return invalid("allowed_tools.mode must be auto or required",
                               "tool_choice.allowed_tools.mode");
            }
            if (mode == "required") {
                cfg = {{"mode", "ANY"}, {"allowedFunctionNames", *names}};
            } else {
                // allowedFunctionNames is only valid with ANY: offer just the allowed tools.
                json kept = json::array();
                for (auto& d : decls) {
                    if (std::find(names->begin(), names->end(), d["name"].get<std::string>()) !=
                        names->end()) {
                        kept.push_back(std::move(d));
                    }
                }
                decls = std::move(kept);  // none left: neither tools nor toolConfig are sent
                cfg = {{"mode", "AUTO"}};
            }
        } else {
            return invalid("tool_choice type \"" + type + "\" is not supported for Gemini models",
                           "tool_choice.type");
        }
    } else {
        return invalid("tool_choice must be a string or an object", "tool_choice");
    }
    if (!have_tools) {
        if (cfg["mode"] == "ANY") return invalid("tool_choice requires tools", "tool_choice");
        return json();
    }
    return cfg;
}

// ---- generation config --------------------------------------------------------------------------

std::optional<baton::Error> number_field(const json& chat, const char* key, const char* to,
                                         json& gen) {
    const json* v = find(chat, key);
    if (!v) return std::nullopt;
    if (!v->is_number()) return invalid(std::string(key) + " must be a number", key);
    gen[to] = *v;
    return std::nullopt;
}

std::optional<baton::Error> translate_stop(const json& chat, json& gen, Translated& t) {
    const json* v = find(chat, "stop");
    if (!v) return std::nullopt;
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
        if (!seqs[i].is_string()) return invalid("stop sequences must be strings", at("stop", i));
        if (seqs[i].get_ref<const std::string&>().empty()) {
            t.dropped.push_back(v->is_array() ? at("stop", i) : std::string("stop"));
        } else {
            kept.push_back(seqs[i]);
        }
    }
    if (!kept.empty()) gen["stopSequences"] = std::move(kept);
    return std::nullopt;
}

std::optional<baton::Error> translate_response_format(const json& chat,
                                                      const GeminiRequestOptions& opts, json& gen,
                                                      Translated& t) {
    const json* rf = find(chat, "response_format");
    if (!rf) return std::nullopt;
    if (!rf->is_object()) return invalid("response_format must be an object", "response_format");
    const std::string type = str_or(*rf, "type");
    if (type == "text") return std::nullopt;
    if (type == "json_object") {
        gen["responseMimeType"] = "application/json";
        return std::nullopt;
    }
    if (type != "json_schema") {
        return invalid("response_format type \"" + type + "\" is not supported",
                       "response_format.type");
    }
    const json* js = find(*rf, "json_schema");
    if (!js || !js->is_object()) {
        return invalid("response_format json_schema needs a json_schema object",
                       "response_format.json_schema");
    }
    gen["responseMimeType"] = "application/json";
    const std::string base = "response_format.json_schema";
    if (const json* schema = find(*js, "schema")) {
        if (!schema->is_object()) return invalid("schema must be an object", at(base, "schema"));
        if (opts.schema_mode == GeminiSchemaMode::json_schema) {
            gen["responseJsonSchema"] = *schema;
        } else {
            gen["responseSchema"] = gemini_openapi_schema(*schema, at(base, "schema"), t.dropped);
        }
    }
    for (const char* key : {"strict", "description"}) {
        if (find(*js, key)) t.dropped.push_back(at(base, key));
    }
    return std::nullopt;
}

// reasoning_effort (or an Anthropic-style `thinking` object, a vendor extension) →
// thinkingConfig.
std::optional<baton::Error> translate_thinking(const json& chat, const GeminiRequestOptions& o,
                                               json& gen) {
    if (const json* th = find(chat, "thinking")) {
        const std::string type = str_or(*th, "type");
        const json* budget = find(*th, "budget_tokens");
        if (type == "disabled") {
            gen["thinkingConfig"] = {{"thinkingBudget", 0}};
        } else if (type == "enabled" && budget && budget->is_number_integer()) {
            gen["thinkingConfig"] = {{"thinkingBudget", *budget}, {"includeThoughts", true}};
        } else {
            return invalid("thinking must be {type: enabled, budget_tokens} or {type: disabled}",
                           "thinking");
        }
        return std::nullopt;
    }
    const json* effort = find(chat, "reasoning_effort");
    if (!effort) return std::nullopt;
    if (!effort->is_string())
        return invalid("reasoning_effort must be a string", "reasoning_effort");
    const std::string& e = effort->get_ref<const std::string&>();
    const bool high = e == "high" || e == "xhigh" || e == "max";
    if (!high && e != "none" && e != "minimal" && e != "low" && e != "medium") {
        return invalid("unknown reasoning_effort \"" + e + "\"", "reasoning_effort");
    }
    json cfg = json::object();
    if (o.thinking_style == GeminiThinkingStyle::level) {
        const std::string& level = e == "none"      ? o.level_none
                                   : e == "minimal" ? o.level_minimal
                                   : e == "low"     ? o.level_low
                                   : e == "medium"  ? o.level_medium
                                                    : o.level_high;
        if (level.empty()) return std::nullopt;
        cfg["thinkingLevel"] = level;
    } else {
        cfg["thinkingBudget"] = e == "none"      ? o.budget_none
                                : e == "minimal" ? o.budget_minimal
                                : e == "low"     ? o.budget_low
                                : e == "medium"  ? o.budget_medium
                                                 : o.budget_high;
    }
    if (o.include_thoughts && e != "none") cfg["includeThoughts"] = true;
    gen["thinkingConfig"] = std::move(cfg);
    return std::nullopt;
}

Result<Translated> to_gemini_unguarded(const json& chat, const GeminiRequestOptions& opts) {
    if (!chat.is_object()) return invalid("request body must be a JSON object", "");
    Translated t;
    json& body = t.body;
    body = json::object();

    json system = json::array();
    const json* messages = find(chat, "messages");
    if (!messages || !messages->is_array() || messages->empty()) {
        return invalid("messages must be a non-empty array", "messages");
    }
    MessageBuilder builder(opts, t);
    for (size_t i = 0; i < messages->size(); ++i) {
        if (auto e = builder.add((*messages)[i], i, system)) return *e;
    }
    auto contents = builder.contents();
    if (!contents) return contents.error();
    body["contents"] = std::move(*contents);
    if (!system.empty()) body["systemInstruction"] = {{"parts", std::move(system)}};

    json decls = json::array();
    if (const json* v = find(chat, "tools")) {
        auto d = function_declarations(*v, opts, t);
        if (!d) return d.error();
        decls = std::move(*d);
    }
    auto cfg = tool_config(chat, decls);
    if (!cfg) return cfg.error();
    if (!decls.empty()) {
        body["tools"] = json::array({{{"functionDeclarations", std::move(decls)}}});
        if (!cfg->is_null()) body["toolConfig"] = {{"functionCallingConfig", std::move(*cfg)}};
    }

    if (const json* v = find(chat, "safety_settings")) {  // vendor extension, passed through
        if (!v->is_array()) return invalid("safety_settings must be an array", "safety_settings");
        body["safetySettings"] = *v;
    }
    if (const json* v = find(chat, "cached_content")) {  // vendor extension: cachedContents/…
        if (!v->is_string()) return invalid("cached_content must be a string", "cached_content");
        body["cachedContent"] = *v;
    }

    json gen = json::object();
    if (const json* v = find(chat, "temperature")) {
        if (!v->is_number() || v->get<double>() < 0) {
            return invalid("temperature must be a number between 0 and 2", "temperature");
        }
        gen["temperature"] = *v;
    }
    if (auto e = number_field(chat, "top_p", "topP", gen)) return *e;
    if (const json* v = find(chat, "top_k")) {  // vendor extension, no OpenAI equivalent
        if (!v->is_number_integer()) return invalid("top_k must be an integer", "top_k");
        gen["topK"] = *v;
    }
    if (const json* v = find(chat, "n")) {
        if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > 128) {
            return invalid("n must be a positive integer", "n");
        }
        if (v->get<int64_t>() != 1) gen["candidateCount"] = *v;
    }
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
        const json* v = find(chat, key);
        if (!v) continue;
        if (!v->is_number_integer() || v->get<int64_t>() < 1 ||
            (v->is_number_unsigned() && v->get<uint64_t>() > 100'000'000)) {
            return invalid(std::string(key) + " must be a positive integer", key);
        }
        gen["maxOutputTokens"] = *v;
        break;
    }
    if (auto e = translate_stop(chat, gen, t)) return *e;
    if (auto e = number_field(chat, "presence_penalty", "presencePenalty", gen)) return *e;
    if (auto e = number_field(chat, "frequency_penalty", "frequencyPenalty", gen)) return *e;
    if (const json* v = find(chat, "seed")) {
        if (!v->is_number_integer()) return invalid("seed must be an integer", "seed");
        // Gemini's seed is an int32: keep the low 32 bits of larger values.
        gen["seed"] = static_cast<int32_t>(static_cast<uint32_t>(v->get<int64_t>()));
    }
    if (auto e = translate_response_format(chat, opts, gen, t)) return *e;
    if (auto e = translate_thinking(chat, opts, gen)) return *e;
    if (!gen.empty()) body["generationConfig"] = std::move(gen);

    if (const json* v = find(chat, "stream"); v && !v->is_boolean()) {
        return invalid("stream must be a boolean", "stream");
    }
    if (const json* v = find(chat, "modalities"); v && v->is_array()) {
        for (const auto& m : *v) {
            if (m != "text") return invalid("only text output is supported", "modalities");
        }
    }
    for (auto key : kRejectedChatFields) {
        if (find(chat, key)) {
            return invalid("\"" + std::string(key) + "\" is not supported for Gemini models",
                           std::string(key));
        }
    }
    static constexpr std::array kHandled = {"model",
                                            "messages",
                                            "temperature",
                                            "top_p",
                                            "top_k",
                                            "n",
                                            "max_tokens",
                                            "max_completion_tokens",
                                            "stop",
                                            "presence_penalty",
                                            "frequency_penalty",
                                            "seed",
                                            "response_format",
                                            "reasoning_effort",
                                            "thinking",
                                            "tools",
                                            "tool_choice",
                                            "stream",
                                            "modalities",
                                            "safety_settings",
                                            "cached_content"};
    for (const auto& [key, value] : chat.items()) {
        if (value.is_null()) continue;
        if (std::find(kHandled.begin(), kHandled.end(), key) != kHandled.end()) continue;
        t.dropped.push_back(key);  // user, logit_bias, parallel_tool_calls, stream_options, …
    }
    return t;
}

}  // namespace

Result<Translated> openai_to_gemini_request(const Json& chat, const GeminiRequestOptions& opts) {
    return guarded(baton::Errc::invalid_request, [&] { return to_gemini_unguarded(chat, opts); });
}

}  // namespace baton::translate
