// Response translation rules: stop reasons, usage, content mapping, both directions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "baton/translate/anthropic.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using test::json;
using test::Unordered;

TEST(StopReasons, AnthropicToOpenAI) {
    const std::vector<std::pair<std::string, std::string>> table = {
        {"end_turn", "stop"},
        {"stop_sequence", "stop"},
        {"max_tokens", "length"},
        {"tool_use", "tool_calls"},
        {"refusal", "content_filter"},
        {"pause_turn", "stop"},
        {"model_context_window_exceeded", "length"},
        {"", "stop"},
        {"something_new", "stop"},
    };
    for (const auto& [in, out] : table) EXPECT_EQ(finish_reason_for(in), out) << in;
}

TEST(StopReasons, OpenAIToAnthropic) {
    const std::vector<std::pair<std::string, std::string>> table = {
        {"stop", "end_turn"},          {"length", "max_tokens"},      {"tool_calls", "tool_use"},
        {"function_call", "tool_use"}, {"content_filter", "refusal"}, {"", "end_turn"},
        {"other", "end_turn"},
    };
    for (const auto& [in, out] : table) EXPECT_EQ(stop_reason_for(in), out) << in;
}

TEST(Usage, AnthropicToOpenAICountsCacheTokensAsPrompt) {
    const json u = openai_usage_from_anthropic(json::parse(
        R"({"input_tokens":10,"cache_creation_input_tokens":200,"cache_read_input_tokens":3000,
            "output_tokens":50,"output_tokens_details":{"thinking_tokens":20}})"));
    EXPECT_EQ(Unordered(u), Unordered(json::parse(R"({"prompt_tokens":3210,"completion_tokens":50,
        "total_tokens":3260,"prompt_tokens_details":{"cached_tokens":3000,"cache_write_tokens":200},
        "completion_tokens_details":{"reasoning_tokens":20}})")));
    const json minimal =
        openai_usage_from_anthropic(json::parse(R"({"input_tokens":5,"output_tokens":1})"));
    EXPECT_EQ(Unordered(minimal), Unordered(json::parse(R"({"prompt_tokens":5,"completion_tokens":1,
        "total_tokens":6,"prompt_tokens_details":{"cached_tokens":0}})")));
    EXPECT_EQ(openai_usage_from_anthropic(json())["total_tokens"], 0);
}

TEST(Usage, OpenAIToAnthropicSplitsCachedTokensOut) {
    const json u = anthropic_usage_from_openai(json::parse(
        R"({"prompt_tokens":3210,"completion_tokens":50,"total_tokens":3260,
            "prompt_tokens_details":{"cached_tokens":3000,"cache_write_tokens":200}})"));
    EXPECT_EQ(Unordered(u),
              Unordered(json::parse(R"({"input_tokens":10,"cache_creation_input_tokens":200,
        "cache_read_input_tokens":3000,"output_tokens":50})")));
    // Inconsistent upstream numbers never go negative.
    EXPECT_EQ(
        anthropic_usage_from_openai(json::parse(
            R"({"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":5}})"))["input_tokens"],
        0);
}

TEST(Usage, RoundTripIsLossless) {
    const json a = json::parse(R"({"input_tokens":7,"cache_creation_input_tokens":11,
        "cache_read_input_tokens":13,"output_tokens":17})");
    EXPECT_EQ(Unordered(anthropic_usage_from_openai(openai_usage_from_anthropic(a))), Unordered(a));
}

json anthropic_message(json content, std::string stop = "end_turn") {
    return {{"id", "msg_1"},
            {"type", "message"},
            {"role", "assistant"},
            {"model", "claude-x"},
            {"content", std::move(content)},
            {"stop_reason", stop},
            {"stop_sequence", nullptr},
            {"usage", {{"input_tokens", 1}, {"output_tokens", 2}}}};
}

TEST(AnthropicToOpenAIResponse, TextBlocksAreJoined) {
    auto r = anthropic_to_openai_response(
        anthropic_message(
            json::parse(R"([{"type":"text","text":"a"},{"type":"text","text":"b"}])")),
        {"", "", 42});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)["choices"][0]["message"]["content"], "ab");
    EXPECT_EQ((*r)["object"], "chat.completion");
    EXPECT_EQ((*r)["created"], 42);
    EXPECT_EQ((*r)["id"], "msg_1");
    EXPECT_EQ((*r)["model"], "claude-x");
}

TEST(AnthropicToOpenAIResponse, MetaOverridesIdAndModel) {
    auto r =
        anthropic_to_openai_response(anthropic_message(json::array()), {"chatcmpl-9", "alias", 1});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)["id"], "chatcmpl-9");
    EXPECT_EQ((*r)["model"], "alias");
    EXPECT_EQ((*r)["choices"][0]["message"]["content"], "");  // no text and no tools: ""
}

TEST(AnthropicToOpenAIResponse, ToolUseBecomesToolCallsWithJsonArguments) {
    auto r = anthropic_to_openai_response(
        anthropic_message(json::parse(
                              R"([{"type":"tool_use","id":"toolu_1","name":"f",
                     "input":{"z":1,"a":{"b":[true]}}}])"),
                          "tool_use"),
        {});
    ASSERT_TRUE(r.has_value());
    const json& m = (*r)["choices"][0]["message"];
    EXPECT_TRUE(m["content"].is_null());
    EXPECT_EQ(m["tool_calls"][0]["id"], "toolu_1");
    EXPECT_EQ(m["tool_calls"][0]["type"], "function");
    EXPECT_EQ(m["tool_calls"][0]["function"]["name"], "f");
    EXPECT_EQ(m["tool_calls"][0]["function"]["arguments"], R"({"z":1,"a":{"b":[true]}})");
    EXPECT_EQ((*r)["choices"][0]["finish_reason"], "tool_calls");
}

TEST(AnthropicToOpenAIResponse, ServerToolBlocksAreSkipped) {
    auto r = anthropic_to_openai_response(
        anthropic_message(json::parse(
            R"([{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}},
            {"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[]},
            {"type":"text","text":"Found it."}])")),
        {});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)["choices"][0]["message"]["content"], "Found it.");
    EXPECT_FALSE((*r)["choices"][0]["message"].contains("tool_calls"));
}

TEST(AnthropicToOpenAIResponse, MalformedUpstream) {
    for (const char* body : {R"([])", R"({"type":"message"})", R"({"type":"message","content":{}})",
                             R"({"type":"error","error":{"type":"api_error","message":"x"}})"}) {
        auto r = anthropic_to_openai_response(json::parse(body), {});
        ASSERT_FALSE(r.has_value()) << body;
        EXPECT_EQ(r.error().code, baton::Errc::upstream_protocol);
    }
}

json completion(json message, std::string finish = "stop") {
    return {
        {"id", "chatcmpl-1"},
        {"object", "chat.completion"},
        {"created", 1},
        {"model", "gpt-x"},
        {"choices", {{{"index", 0}, {"message", std::move(message)}, {"finish_reason", finish}}}},
        {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 2}, {"total_tokens", 12}}}};
}

TEST(OpenAIToAnthropicResponse, TextToolsAndStop) {
    auto r = openai_to_anthropic_response(
        completion(json::parse(R"({"role":"assistant","content":"Sure.","tool_calls":[
            {"id":"call_1","type":"function",
             "function":{"name":"f","arguments":"{\"q\":\"x\",\"a\":1}"}}]})"),
                   "tool_calls"),
        {"msg_override", "", 0});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)["id"], "msg_override");
    EXPECT_EQ((*r)["model"], "gpt-x");
    EXPECT_EQ((*r)["type"], "message");
    EXPECT_EQ((*r)["stop_reason"], "tool_use");
    EXPECT_TRUE((*r)["stop_sequence"].is_null());
    ASSERT_EQ((*r)["content"].size(), 2u);
    EXPECT_EQ((*r)["content"][0], json::parse(R"({"type":"text","text":"Sure."})"));
    EXPECT_EQ((*r)["content"][1]["input"].dump(), R"({"q":"x","a":1})");
    EXPECT_EQ((*r)["usage"]["input_tokens"], 10);
}

TEST(OpenAIToAnthropicResponse, ReasoningOption) {
    json c = completion(json::parse(R"({"role":"assistant","content":"A","reasoning":"because"})"));
    auto with = openai_to_anthropic_response(c, {});
    ASSERT_TRUE(with.has_value());
    EXPECT_EQ((*with)["content"][0],
              json::parse(R"({"type":"thinking","thinking":"because","signature":""})"));
    auto without = openai_to_anthropic_response(c, {}, {.reasoning_as_thinking = false});
    ASSERT_TRUE(without.has_value());
    EXPECT_EQ((*without)["content"].size(), 1u);
}

TEST(OpenAIToAnthropicResponse, MalformedUpstream) {
    EXPECT_FALSE(openai_to_anthropic_response(json::parse(R"({"choices":[]})"), {}).has_value());
    EXPECT_FALSE(openai_to_anthropic_response(json::parse(R"({"choices":[1]})"), {}).has_value());
    EXPECT_FALSE(openai_to_anthropic_response(json::array(), {}).has_value());
    auto r = openai_to_anthropic_response(completion(json::parse(
                                              R"({"role":"assistant",
                "tool_calls":[{"id":"c","function":{"name":"f","arguments":"[1]"}}]})")),
                                          {});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, baton::Errc::upstream_protocol);
}

TEST(RoundTrip, AnthropicResponseThroughOpenAIKeepsContent) {
    for (const auto& name : test::cases("message_to_completion", ".anthropic.json")) {
        SCOPED_TRACE(name);
        const json original = test::read_json(test::fixture_root() / "message_to_completion" /
                                              (name + ".anthropic.json"));
        auto there = anthropic_to_openai_response(original, {});
        ASSERT_TRUE(there.has_value());
        auto back = openai_to_anthropic_response(*there, {}, {.reasoning_as_thinking = false});
        ASSERT_TRUE(back.has_value());
        // Text blocks are joined into one; thinking needs its signature and does not come back.
        std::string text;
        json tools = json::array();
        for (const auto& b : original["content"]) {
            if (b["type"] == "text") text += b["text"].get<std::string>();
            if (b["type"] == "tool_use") {
                tools.push_back({{"type", "tool_use"},
                                 {"id", b["id"]},
                                 {"name", b["name"]},
                                 {"input", b["input"]}});
            }
        }
        json expected = json::array();
        if (!text.empty()) expected.push_back({{"type", "text"}, {"text", text}});
        for (auto& t : tools) expected.push_back(t);
        EXPECT_EQ(Unordered((*back)["content"]), Unordered(expected));
        const std::string stop = original["stop_reason"];
        const std::string back_stop = (*back)["stop_reason"];
        if (stop == "stop_sequence" || stop == "model_context_window_exceeded") {
            EXPECT_EQ(back_stop, stop == "stop_sequence" ? "end_turn" : "max_tokens");  // lossy
        } else {
            EXPECT_EQ(back_stop, stop);
        }
        for (const char* k : {"input_tokens", "output_tokens", "cache_read_input_tokens",
                              "cache_creation_input_tokens"}) {
            EXPECT_EQ((*back)["usage"][k], original["usage"].value(k, 0)) << k;
        }
    }
}

}  // namespace
}  // namespace baton::translate
