// JSON Schema → the OpenAPI 3.0 subset of Gemini's Schema object (PROVIDER-FORMATS.md §5.6:
// "Unknown name additionalProperties / $schema / const / exclusiveMinimum …" is what Gemini
// answers to schemas sent unchanged in FunctionDeclaration.parameters).
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "translate/gemini_common.hpp"

namespace baton::translate::detail {
namespace {

constexpr size_t kMaxDepth = 64;

// Keys copied unchanged when their value has the expected JSON type.
constexpr std::array kStringKeys = {std::string_view{"title"}, std::string_view{"description"},
                                    std::string_view{"pattern"}};
constexpr std::array kIntegerKeys = {
    std::string_view{"minItems"},      std::string_view{"maxItems"},
    std::string_view{"minLength"},     std::string_view{"maxLength"},
    std::string_view{"minProperties"}, std::string_view{"maxProperties"}};
constexpr std::array kNumberKeys = {std::string_view{"minimum"}, std::string_view{"maximum"}};
// string formats Gemini accepts ("enum", "date-time"); integer/number formats.
constexpr std::array kFormats = {std::string_view{"enum"},  std::string_view{"date-time"},
                                 std::string_view{"int32"}, std::string_view{"int64"},
                                 std::string_view{"float"}, std::string_view{"double"}};

template <size_t N>
bool in(const std::array<std::string_view, N>& set, std::string_view key) {
    return std::find(set.begin(), set.end(), key) != set.end();
}

class Sanitizer {
  public:
    Sanitizer(const json& root, std::vector<std::string>& dropped)
        : root_(root), dropped_(dropped) {}

    json run(const json& node, const std::string& path, size_t depth) {
        if (!node.is_object()) {
            // `true` / `{}`-like boolean schemas have no Gemini form.
            if (!node.is_null()) dropped_.push_back(path);
            return json::object();
        }
        if (depth > kMaxDepth) {
            dropped_.push_back(path);
            return json::object();
        }
        json out = json::object();
        if (const json* ref = find(node, "$ref")) {
            out = resolve(*ref, at(path, "$ref"), depth);
        }
        bool nullable = false;
        for (const auto& [key, value] : node.items()) {
            const std::string p = at(path, key);
            if (key == "$ref" || key == "$defs" || key == "definitions") continue;  // inlined
            if (key == "type") {
                set_type(value, p, out, nullable);
            } else if (key == "nullable" && value.is_boolean()) {
                nullable = nullable || value.get<bool>();
            } else if (key == "format") {
                if (value.is_string() && in(kFormats, value.get_ref<const std::string&>())) {
                    out["format"] = value;
                } else {
                    dropped_.push_back(p);
                }
            } else if (key == "enum") {
                set_enum(value, p, out, nullable);
            } else if (key == "const") {
                if (value.is_string()) {
                    out["enum"] = json::array({value});
                } else {
                    dropped_.push_back(p);
                }
            } else if (key == "properties" && value.is_object()) {
                json props = json::object();
                for (const auto& [name, sub] : value.items()) {
                    props[name] = run(sub, at(p, name), depth + 1);
                }
                out["properties"] = std::move(props);
            } else if (key == "items" && value.is_object()) {
                out["items"] = run(value, p, depth + 1);
            } else if ((key == "anyOf" || key == "oneOf") && value.is_array()) {
                json alts = json::array();
                for (size_t i = 0; i < value.size(); ++i) {
                    // {"type":"null"} alternatives (Optional[...] in pydantic) become nullable.
                    if (value[i].is_object() && value[i].size() == 1 &&
                        str_or(value[i], "type") == "null") {
                        nullable = true;
                        continue;
                    }
                    alts.push_back(run(value[i], at(p, i), depth + 1));
                }
                if (alts.size() == 1) {
                    merge(out, alts[0]);
                } else if (!alts.empty()) {
                    out["anyOf"] = std::move(alts);
                }
            } else if (key == "allOf" && value.is_array() && value.size() == 1) {
                merge(out, run(value[0], at(p, 0), depth + 1));
            } else if (key == "required" && value.is_array() &&
                       std::all_of(value.begin(), value.end(),
                                   [](const json& v) { return v.is_string(); })) {
                out["required"] = value;
            } else if (key == "propertyOrdering" && value.is_array()) {
                out["propertyOrdering"] = value;
            } else if (key == "example" || key == "default") {
                out[key] = value;
            } else if ((in(kStringKeys, key) && value.is_string()) ||
                       (in(kIntegerKeys, key) && value.is_number_integer()) ||
                       (in(kNumberKeys, key) && value.is_number())) {
                out[key] = value;
            } else {
                dropped_.push_back(p);
            }
        }
        if (nullable) out["nullable"] = true;
        finish(out, path);
        return out;
    }

  private:
    // Shapes Gemini rejects even with known keywords: an enum without a type (enums are
    // strings), an array without items ("items: missing field"), `required` names that are not
    // among the node's properties.
    void finish(json& out, const std::string& path) {
        if (out.contains("enum") && !out.contains("type")) out["type"] = "string";
        if (out.value("type", "") == "array" && !out.contains("items")) {
            out["items"] = {{"type", "string"}};
        }
        if (const json* req = find(out, "required")) {
            const json* props = find(out, "properties");
            json kept = json::array();
            for (const auto& name : *req) {
                if (props && props->contains(name.get_ref<const std::string&>())) {
                    kept.push_back(name);
                }
            }
            if (kept.size() != req->size()) dropped_.push_back(at(path, "required"));
            if (kept.empty()) {
                out.erase("required");
            } else {
                out["required"] = std::move(kept);
            }
        }
    }

    // type: "string" | ["string", "null"] | ["string", "integer"].
    void set_type(const json& value, const std::string& p, json& out, bool& nullable) {
        if (value.is_string()) {
            if (value == "null") {
                nullable = true;
            } else {
                out["type"] = value;
            }
            return;
        }
        if (!value.is_array()) {
            dropped_.push_back(p);
            return;
        }
        json types = json::array();
        for (const auto& t : value) {
            if (t == "null") {
                nullable = true;
            } else if (t.is_string()) {
                types.push_back(t);
            }
        }
        if (types.size() == 1) {
            out["type"] = types[0];
        } else if (types.size() > 1) {
            json alts = json::array();
            for (const auto& t : types) alts.push_back({{"type", t}});
            out["anyOf"] = std::move(alts);
        }
    }

    // Gemini enums are lists of strings; null members make the schema nullable.
    void set_enum(const json& value, const std::string& p, json& out, bool& nullable) {
        if (!value.is_array()) {
            dropped_.push_back(p);
            return;
        }
        json values = json::array();
        for (const auto& v : value) {
            if (v.is_null()) {
                nullable = true;
            } else if (v.is_string()) {
                values.push_back(v);
            } else {
                dropped_.push_back(p);
                return;
            }
        }
        if (!values.empty()) out["enum"] = std::move(values);
    }

    // Local references only: "#/$defs/Name", "#/definitions/Name" (any JSON pointer into the
    // root). A cycle or an unresolvable reference leaves {"type":"object"} / nothing.
    json resolve(const json& ref, const std::string& p, size_t depth) {
        if (!ref.is_string() ||
            (ref != "#" && ref.get_ref<const std::string&>().rfind("#/", 0) != 0)) {
            dropped_.push_back(p);
            return json::object();
        }
        const std::string& target = ref.get_ref<const std::string&>();
        if (std::find(stack_.begin(), stack_.end(), target) != stack_.end()) {
            dropped_.push_back(p);  // recursive schema: cut here
            return {{"type", "object"}};
        }
        const json* node = nullptr;
        try {
            const json::json_pointer ptr(target.substr(1));
            if (root_.contains(ptr)) node = &root_.at(ptr);
        } catch (const nlohmann::json::exception&) {
            node = nullptr;
        }
        if (!node) {
            dropped_.push_back(p);
            return json::object();
        }
        stack_.push_back(target);
        json out = run(*node, p, depth + 1);
        stack_.pop_back();
        return out;
    }

    // Adds the members of `from` that `into` does not have.
    static void merge(json& into, const json& from) {
        for (const auto& [k, v] : from.items()) {
            if (!into.contains(k)) into[k] = v;
        }
    }

    const json& root_;
    std::vector<std::string>& dropped_;
    std::vector<std::string> stack_;
};

}  // namespace

json gemini_openapi_schema(const json& schema, const std::string& path,
                           std::vector<std::string>& dropped) {
    return Sanitizer(schema, dropped).run(schema, path, 0);
}

}  // namespace baton::translate::detail
