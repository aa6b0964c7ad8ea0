#pragma once
// Private helpers of the translators: null-tolerant lookups, JSON paths, error values, dumping.
#include <array>
#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "baton/core/error.hpp"

namespace baton::translate::detail {

using json = nlohmann::ordered_json;

// The member `key` of `obj`, or nullptr when obj is not an object, the key is absent, or the
// value is null (OpenAI treats null as "not given" almost everywhere).
inline const json* find(const json& obj, std::string_view key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

inline std::string str_or(const json& obj, std::string_view key, std::string fallback = {}) {
    const json* v = find(obj, key);
    return v && v->is_string() ? v->get<std::string>() : std::move(fallback);
}

inline int64_t int_or(const json& obj, std::string_view key, int64_t fallback = 0) {
    const json* v = find(obj, key);
    return v && v->is_number_integer() ? v->get<int64_t>() : fallback;
}

inline const json& empty_object() {
    static const json kEmpty = json::object();
    return kEmpty;
}

// Anthropic's prompt-caching marker, accepted on OpenAI parts/tools as a vendor extension.
inline void copy_cache_control(const json& part, json& block) {
    if (const json* cc = find(part, "cache_control")) block["cache_control"] = *cc;
}

// JSON paths in error params: "messages[3].content".
inline std::string at(std::string_view base, std::string_view key) {
    std::string p(base);
    if (!p.empty()) p += '.';
    p += key;
    return p;
}
inline std::string at(std::string_view base, size_t i) {
    std::string p(base);
    p += '[';
    p += std::to_string(i);
    p += ']';
    return p;
}

inline baton::Error invalid(std::string message, std::string param) {
    return baton::make_error(baton::Errc::invalid_request, std::move(message), std::move(param));
}
inline baton::Error bad_upstream(std::string message, std::string param = {}) {
    return baton::make_error(baton::Errc::upstream_protocol, std::move(message), std::move(param));
}

// Never throws on invalid UTF-8 (peers' bytes): substitutes U+FFFD.
inline std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

inline bool is_blank(std::string_view s) {
    return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

inline std::string_view type_name(const json& j) {
    switch (j.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::object:
            return "an object";
        case json::value_t::array:
            return "an array";
        case json::value_t::string:
            return "a string";
        case json::value_t::boolean:
            return "a boolean";
        case json::value_t::binary:
        case json::value_t::discarded:
            break;
        default:
            return "a number";
    }
    return "a value";
}

// Runs f(); a JSON type error (a document shape this code did not anticipate) becomes an Error
// with `code` instead of an exception: the translators never throw.
template <class F>
auto guarded(baton::Errc code, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const nlohmann::json::exception& e) {
        return baton::make_error(code, std::string("cannot translate this document: ") + e.what());
    }
}

// Parses text that may be empty or invalid; nullopt on failure. Never throws.
inline std::optional<json> parse(std::string_view text) {
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

// Top-level OpenAI chat fields that change the meaning of a request and have no equivalent at
// Anthropic or Gemini: rejected rather than dropped. (Other untranslated fields are left out and
// reported in Translated::dropped.)
inline constexpr std::array kRejectedChatFields = {
    std::string_view{"functions"},
    std::string_view{"function_call"},
    std::string_view{"audio"},
    std::string_view{"web_search_options"},
};

struct DataUrl {
    std::string mime;  // lower-cased; image/jpg normalised to image/jpeg
    std::string data;  // the base64 payload
};

// "data:<mime>[;param]*;base64,<data>"; nullopt if not a base64 data URL.
inline std::optional<DataUrl> parse_data_url(std::string_view url) {
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

}  // namespace baton::translate::detail
