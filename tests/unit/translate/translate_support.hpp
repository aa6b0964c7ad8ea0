#pragma once
// Test helpers for the translation tests: fixture files, SSE parsing, and accumulators that
// rebuild a whole response from a stream the way the official SDKs do (so streamed and
// non-streamed translations can be compared).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "baton/openai/sse.hpp"
#include "baton/translate/common.hpp"

namespace baton::translate::test {

using json = nlohmann::ordered_json;
// Order-insensitive form for comparisons (JSON objects are unordered).
using Unordered = nlohmann::json;

// tests/fixtures/providers/<provider>/
inline std::filesystem::path fixture_root(std::string_view provider = "anthropic") {
    return std::filesystem::path(BATON_SOURCE_DIR) / "tests/fixtures/providers" / provider;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline json read_json(const std::filesystem::path& p) { return json::parse(read_file(p)); }

// Case names in fixture_root(provider)/dir whose files end with `suffix` (sorted).
inline std::vector<std::string> cases(const std::string& dir, const std::string& suffix,
                                      std::string_view provider = "anthropic") {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(fixture_root(provider) / dir)) {
        const std::string name = e.path().filename().string();
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            out.push_back(name.substr(0, name.size() - suffix.size()));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

struct Event {
    std::string event;
    std::string data;
};

inline std::vector<Event> parse_sse(std::string_view text) {
    std::vector<Event> out;
    openai::SseDecoder d;
    d.feed(text, [&](const openai::SseEvent& e) {
        out.push_back({std::string(e.event), std::string(e.data)});
    });
    return out;
}

// Events as JSON for comparisons: [{"event": name, "data": <parsed JSON or the raw string>}].
inline json events_json(const std::vector<Event>& events) {
    json out = json::array();
    for (const auto& e : events) {
        json data = json::parse(e.data, nullptr, false);
        if (data.is_discarded()) data = e.data;
        out.push_back({{"event", e.event}, {"data", std::move(data)}});
    }
    return out;
}

// Rebuilds {message, finish_reason, usage, error} from OpenAI chunks (like the OpenAI SDK's
// ChatCompletionStream): content and reasoning concatenated, tool calls by index.
inline json accumulate_openai(const std::vector<Event>& events) {
    json message = {{"role", "assistant"}, {"content", nullptr}};
    json tool_calls = json::array();
    json out = {{"finish_reason", nullptr}, {"usage", nullptr}, {"done", false}};
    for (const auto& e : events) {
        if (e.data == "[DONE]") {
            out["done"] = true;
            continue;
        }
        const json c = json::parse(e.data);
        if (c.contains("error")) {
            out["error"] = c["error"];
            continue;
        }
        if (c.contains("usage") && c["usage"].is_object()) out["usage"] = c["usage"];
        for (const auto& ch : c.value("choices", json::array())) {
            const json& d = ch["delta"];
            if (d.contains("content") && d["content"].is_string()) {
                std::string s = message["content"].is_string()
                                    ? message["content"].get<std::string>()
                                    : std::string();
                message["content"] = s + d["content"].get<std::string>();
            }
            if (d.contains("reasoning_content") && d["reasoning_content"].is_string()) {
                message["reasoning_content"] = message.value("reasoning_content", "") +
                                               d["reasoning_content"].get<std::string>();
            }
            for (const auto& tc : d.value("tool_calls", json::array())) {
                const size_t idx = tc["index"].get<size_t>();
                while (tool_calls.size() <= idx) {
                    tool_calls.push_back({{"id", ""},
                                          {"type", "function"},
                                          {"function", {{"name", ""}, {"arguments", ""}}}});
                }
                json& slot = tool_calls[idx];
                if (tc.contains("id")) slot["id"] = tc["id"];
                if (tc.contains("function")) {
                    const json& f = tc["function"];
                    if (f.contains("name")) slot["function"]["name"] = f["name"];
                    if (f.contains("arguments")) {
                        slot["function"]["arguments"] =
                            slot["function"]["arguments"].get<std::string>() +
                            f["arguments"].get<std::string>();
                    }
                }
            }
            if (!ch["finish_reason"].is_null()) out["finish_reason"] = ch["finish_reason"];
        }
    }
    if (!tool_calls.empty()) message["tool_calls"] = tool_calls;
    out["message"] = message;
    return out;
}

// Tool call arguments parsed, so that JSON texts differing only in spacing compare equal.
inline json normalize_tool_calls(json message) {
    if (!message.contains("tool_calls")) return message;
    for (auto& tc : message["tool_calls"]) {
        std::string& args = tc["function"]["arguments"].get_ref<std::string&>();
        tc["function"]["arguments"] = args.empty() ? json::object() : json::parse(args);
    }
    return message;
}

// Rebuilds an Anthropic Message from its stream (like the Anthropic SDK's MessageStream):
// content blocks by index, partial_json concatenated and parsed at the end.
inline json accumulate_anthropic(const std::vector<Event>& events) {
    json msg;
    std::vector<std::string> json_buf;
    json out = {{"done", false}};
    for (const auto& e : events) {
        const json d = json::parse(e.data);
        EXPECT_EQ(e.event, d["type"].get<std::string>()) << "event name must equal data.type";
        const std::string type = d["type"];
        if (type == "message_start") {
            msg = d["message"];
        } else if (type == "content_block_start") {
            EXPECT_EQ(d["index"].get<size_t>(), msg["content"].size()) << "blocks start in order";
            msg["content"].push_back(d["content_block"]);
            json_buf.emplace_back();
        } else if (type == "content_block_delta") {
            const size_t i = d["index"].get<size_t>();
            json& block = msg["content"][i];
            const json& delta = d["delta"];
            const std::string dt = delta["type"];
            if (dt == "text_delta")
                block["text"] = block["text"].get<std::string>() + delta["text"].get<std::string>();
            if (dt == "thinking_delta") {
                block["thinking"] =
                    block["thinking"].get<std::string>() + delta["thinking"].get<std::string>();
            }
            if (dt == "signature_delta") block["signature"] = delta["signature"];
            if (dt == "input_json_delta") json_buf[i] += delta["partial_json"].get<std::string>();
        } else if (type == "message_delta") {
            for (const auto& [k, v] : d["delta"].items()) msg[k] = v;
            for (const auto& [k, v] : d["usage"].items()) msg["usage"][k] = v;
        } else if (type == "message_stop") {
            out["done"] = true;
        } else if (type == "error") {
            out["error"] = d["error"];
        }
    }
    for (size_t i = 0; i < json_buf.size(); ++i) {
        if (msg["content"][i]["type"] == "tool_use" && !json_buf[i].empty()) {
            msg["content"][i]["input"] = json::parse(json_buf[i]);
        }
    }
    out["message"] = msg;
    return out;
}

// ---- fixture checks (BATON_UPDATE_FIXTURES=1 rewrites the expected files) -------------------

inline bool updating() {
    const char* v = std::getenv("BATON_UPDATE_FIXTURES");
    return v && std::string(v) == "1";
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

// Compares `actual` with the expected file (or rewrites it when updating).
inline void check_json(const std::filesystem::path& expected_path, const json& actual) {
    if (updating()) {
        write_file(expected_path, actual.dump(2) + "\n");
        return;
    }
    ASSERT_TRUE(std::filesystem::exists(expected_path)) << expected_path;
    EXPECT_EQ(Unordered(read_json(expected_path)), Unordered(actual))
        << expected_path << "\nactual:\n"
        << actual.dump(2);
}

inline void check_sse(const std::filesystem::path& expected_path, const std::string& actual) {
    if (updating()) {
        write_file(expected_path, actual);
        return;
    }
    ASSERT_TRUE(std::filesystem::exists(expected_path)) << expected_path;
    // Compared as events with parsed JSON data, so key order does not matter.
    EXPECT_EQ(Unordered(events_json(parse_sse(read_file(expected_path)))),
              Unordered(events_json(parse_sse(actual))))
        << expected_path << "\nactual:\n"
        << actual;
}

inline void check_error_case(const std::filesystem::path& p,
                             const std::function<Result<json>(const json&)>& run) {
    const json spec = read_json(p);
    const json& input = spec.contains("request") ? spec["request"] : spec["response"];
    auto r = run(input);
    ASSERT_FALSE(r.has_value()) << p << " translated unexpectedly:\n" << r->dump(2);
    EXPECT_EQ(r.error().param, spec["param"].get<std::string>()) << p;
    EXPECT_NE(r.error().message.find(spec["message_contains"].get<std::string>()),
              std::string::npos)
        << p << ": " << r.error().message;
}

}  // namespace baton::translate::test
