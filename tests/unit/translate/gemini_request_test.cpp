// Request translator rules (the fixtures cover whole requests; these cover options and edges).
#include <gtest/gtest.h>

#include <string>

#include "baton/translate/gemini.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using test::json;

json user(const std::string& text) { return {{"role", "user"}, {"content", text}}; }

json call(const std::string& id, const std::string& name, const std::string& args) {
    return {{"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", args}}}};
}

json assistant_calls(json calls) {
    return {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", std::move(calls)}};
}

json tool_result(const std::string& id, json content) {
    return {{"role", "tool"}, {"tool_call_id", id}, {"content", std::move(content)}};
}

json weather_tool() {
    return {{"type", "function"},
            {"function",
             {{"name", "get_weather"},
              {"parameters",
               {{"type", "object"},
                {"properties", {{"city", {{"type", "string"}}}}},
                {"additionalProperties", false}}}}}};
}

Translated ok(const json& chat, const GeminiRequestOptions& opts = {}) {
    auto r = openai_to_gemini_request(chat, opts);
    EXPECT_TRUE(r.has_value()) << r.error().param << ": " << r.error().message;
    return r ? *r : Translated{};
}

baton::Error err(const json& chat, const GeminiRequestOptions& opts = {}) {
    auto r = openai_to_gemini_request(chat, opts);
    EXPECT_FALSE(r.has_value()) << r->body.dump();
    if (r) return {};
    EXPECT_EQ(r.error().code, baton::Errc::invalid_request);
    return r.error();
}

TEST(GeminiRequest, ModelAndStreamStayOutOfTheBody) {
    const json chat = {{"model", "gemini-2.5-flash"}, {"stream", true}, {"messages", {user("hi")}}};
    const Translated t = ok(chat);
    EXPECT_FALSE(t.body.contains("model"));
    EXPECT_FALSE(t.body.contains("stream"));
    EXPECT_FALSE(t.body.contains("generationConfig"));  // nothing to configure
    EXPECT_TRUE(t.dropped.empty());
    EXPECT_EQ(t.body["contents"], json::parse(R"([{"role":"user","parts":[{"text":"hi"}]}])"));
}

TEST(GeminiRequest, InputIsNotModified) {
    const json chat = {{"messages", {user("hi")}}, {"tools", {weather_tool()}}};
    const json copy = chat;
    (void)ok(chat);
    EXPECT_EQ(chat, copy);
}

TEST(GeminiRequest, JsonSchemaModeForwardsSchemasUnchanged) {
    GeminiRequestOptions o;
    o.schema_mode = GeminiSchemaMode::json_schema;
    const json schema = {{"type", "object"},
                         {"properties", {{"a", {{"type", "string"}}}}},
                         {"additionalProperties", false}};
    const json chat = {
        {"messages", {user("hi")}},
        {"tools", {weather_tool()}},
        {"response_format",
         {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", schema}}}}}};
    const Translated t = ok(chat, o);
    const json& decl = t.body["tools"][0]["functionDeclarations"][0];
    EXPECT_FALSE(decl.contains("parameters"));
    EXPECT_EQ(decl["parametersJsonSchema"], weather_tool()["function"]["parameters"]);
    EXPECT_EQ(t.body["generationConfig"]["responseJsonSchema"], schema);
    EXPECT_EQ(t.body["generationConfig"]["responseMimeType"], "application/json");
    EXPECT_TRUE(t.dropped.empty());
}

TEST(GeminiRequest, OpenApiModeRecordsEveryDroppedKeyword) {
    const Translated t = ok({{"messages", {user("hi")}}, {"tools", {weather_tool()}}});
    const json& params = t.body["tools"][0]["functionDeclarations"][0]["parameters"];
    EXPECT_FALSE(params.contains("additionalProperties"));
    ASSERT_EQ(t.dropped.size(), 1u);
    EXPECT_EQ(t.dropped[0], "tools[0].function.parameters.additionalProperties");
}

TEST(GeminiRequest, RecursiveRefsAreCutAndDeepSchemasDoNotOverflow) {
    json node = {{"type", "object"},
                 {"properties", {{"child", {{"$ref", "#"}}}, {"name", {{"type", "string"}}}}}};
    json chat = {
        {"messages", {user("hi")}},
        {"tools",
         {{{"type", "function"}, {"function", {{"name", "tree"}, {"parameters", node}}}}}}};
    Translated t = ok(chat);
    const json& params = t.body["tools"][0]["functionDeclarations"][0]["parameters"];
    // One level of the root is inlined; the cycle is cut there.
    EXPECT_EQ(params["properties"]["child"]["properties"]["child"], json({{"type", "object"}}));
    EXPECT_FALSE(t.dropped.empty());

    json deep = {{"type", "string"}};
    for (int i = 0; i < 500; ++i) {
        deep = {{"type", "object"}, {"properties", {{"x", deep}}}};
    }
    chat["tools"][0]["function"]["parameters"] = deep;
    t = ok(chat);
    EXPECT_FALSE(t.dropped.empty());  // cut below the depth limit
}

TEST(GeminiRequest, SchemaShapesGeminiRejectsAreRepaired) {
    const json params = json::parse(R"({"type":"object","properties":{
        "tags":{"type":"array"},
        "rows":{"type":"array","items":{"type":"object","properties":{"a":{"type":"string"}},
                "required":["a","b"]}},
        "either":{"type":["string","integer"]},
        "opt":{"oneOf":[{"type":"string"},{"type":"null"}]},
        "one":{"allOf":[{"type":"string","description":"d"}]},
        "num":{"enum":[1,2]}},
      "required":["tags","missing"]})");
    const Translated t =
        ok({{"messages", {user("hi")}},
            {"tools",
             {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", params}}}}}}});
    const json& p = t.body["tools"][0]["functionDeclarations"][0]["parameters"];
    EXPECT_EQ(p["properties"]["tags"]["items"], json({{"type", "string"}}));
    EXPECT_EQ(p["properties"]["rows"]["items"]["required"], json::array({"a"}));
    EXPECT_EQ(p["properties"]["either"]["anyOf"],
              json::parse(R"([{"type":"string"},{"type":"integer"}])"));
    EXPECT_EQ(p["properties"]["opt"], json::parse(R"({"type":"string","nullable":true})"));
    EXPECT_EQ(p["properties"]["one"], json::parse(R"({"type":"string","description":"d"})"));
    EXPECT_EQ(p["properties"]["num"], json::object());
    EXPECT_EQ(p["required"], json::array({"tags"}));
    const auto has = [&](const std::string& path) {
        return std::find(t.dropped.begin(), t.dropped.end(), path) != t.dropped.end();
    };
    EXPECT_TRUE(has("tools[0].function.parameters.required"));
    EXPECT_TRUE(has("tools[0].function.parameters.properties.rows.items.required"));
    EXPECT_TRUE(has("tools[0].function.parameters.properties.num.enum"));
}

TEST(GeminiRequest, ThinkingStyles) {
    json chat = {{"messages", {user("hi")}}, {"reasoning_effort", "low"}};
    EXPECT_EQ(ok(chat).body["generationConfig"]["thinkingConfig"],
              json::parse(R"({"thinkingBudget":1024,"includeThoughts":true})"));
    chat["reasoning_effort"] = "none";
    EXPECT_EQ(ok(chat).body["generationConfig"]["thinkingConfig"],
              json::parse(R"({"thinkingBudget":0})"));
    chat["reasoning_effort"] = "xhigh";
    GeminiRequestOptions o;
    o.thinking_style = GeminiThinkingStyle::level;
    o.include_thoughts = false;
    EXPECT_EQ(ok(chat, o).body["generationConfig"]["thinkingConfig"],
              json::parse(R"({"thinkingLevel":"high"})"));
    chat["reasoning_effort"] = "medium";
    o.level_medium = "";  // e.g. a model that accepts only low/high: leave the default
    EXPECT_FALSE(ok(chat, o).body.contains("generationConfig"));
    chat["reasoning_effort"] = "minimal";
    o.thinking_style = GeminiThinkingStyle::budget;
    o.budget_minimal = -1;
    EXPECT_EQ(ok(chat, o).body["generationConfig"]["thinkingConfig"]["thinkingBudget"], -1);
    chat.erase("reasoning_effort");
    chat["thinking"] = {{"type", "disabled"}};
    EXPECT_EQ(ok(chat).body["generationConfig"]["thinkingConfig"],
              json::parse(R"({"thinkingBudget":0})"));
    chat["thinking"] = {{"type", "enabled"}};
    EXPECT_EQ(err(chat).param, "thinking");
}

TEST(GeminiRequest, ToolResultShapes) {
    const json chat = {{"messages",
                        {user("go"),
                         assistant_calls({call("a", "f", "{}"), call("b", "g", ""),
                                          call("c", "h", "{}"), call("d", "k", "{}")}),
                         tool_result("a", "42"), tool_result("b", ""),
                         tool_result("c", json::parse(R"([{"type":"text","text":"{\"ok\":"},
                                           {"type":"text","text":"true}"},
                                           {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}])")),
                         tool_result("d", "\"quoted\""), user("and then?")}}};
    const Translated t = ok(chat);
    const json& turn = t.body["contents"][2];
    EXPECT_EQ(turn["role"], "user");
    ASSERT_EQ(turn["parts"].size(), 6u);
    EXPECT_EQ(turn["parts"][0]["functionResponse"],
              json::parse(R"({"name":"f","response":{"result":42}})"));
    EXPECT_EQ(turn["parts"][1]["functionResponse"]["response"], json::parse(R"({"result":""})"));
    EXPECT_EQ(turn["parts"][2]["functionResponse"]["response"], json::parse(R"({"ok":true})"));
    EXPECT_EQ(turn["parts"][3]["functionResponse"]["response"],
              json::parse(R"({"result":"quoted"})"));
    // Non-text tool output and the user's next message follow the function responses.
    EXPECT_EQ(turn["parts"][4],
              json::parse(R"({"inlineData":{"mimeType":"image/png","data":"AAAA"}})"));
    EXPECT_EQ(turn["parts"][5], json::parse(R"({"text":"and then?"})"));
    // An empty arguments string is an empty object.
    EXPECT_EQ(t.body["contents"][1]["parts"][1]["functionCall"]["args"], json::object());
}

TEST(GeminiRequest, CallIdsSignaturesAndResponseKeyOptions) {
    const json chat = {{"messages",
                        {user("go"), assistant_calls({call("call_1", "f", "{\"x\":1}")}),
                         tool_result("call_1", "done")}}};
    GeminiRequestOptions o;
    o.send_function_call_ids = true;
    o.missing_thought_signature = "";
    o.function_response_key = "output";
    const Translated t = ok(chat, o);
    EXPECT_EQ(t.body["contents"][1]["parts"][0],
              json::parse(R"({"functionCall":{"name":"f","args":{"x":1},"id":"call_1"}})"));
    EXPECT_EQ(
        t.body["contents"][2]["parts"][0],
        json::parse(
            R"({"functionResponse":{"name":"f","response":{"output":"done"},"id":"call_1"}})"));

    // Portkey's function.thought_signature is read as well.
    json c2 = chat;
    c2["messages"][1]["tool_calls"][0]["function"]["thought_signature"] = "c2ln";
    EXPECT_EQ(ok(c2).body["contents"][1]["parts"][0]["thoughtSignature"], "c2ln");
}

TEST(GeminiRequest, LegacyToolMessageNameIsAFallback) {
    json chat = {{"messages", {user("go"), tool_result("unknown", "x")}}};
    EXPECT_EQ(err(chat).param, "messages[1].tool_call_id");
    chat["messages"][1]["name"] = "lookup";
    // The function response goes first in the user turn.
    EXPECT_EQ(ok(chat).body["contents"][0]["parts"][0]["functionResponse"]["name"], "lookup");
}

TEST(GeminiRequest, ToolChoiceVariants) {
    json chat = {{"messages", {user("hi")}}, {"tool_choice", "auto"}};
    EXPECT_FALSE(ok(chat).body.contains("toolConfig"));  // auto/none without tools: nothing
    chat["tool_choice"] = "none";
    EXPECT_FALSE(ok(chat).body.contains("toolConfig"));
    chat["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
    EXPECT_EQ(err(chat).param, "tool_choice");

    chat["tools"] = {weather_tool()};
    chat["tool_choice"] = json::parse(
        R"({"type":"allowed_tools","allowed_tools":{"mode":"required",
            "tools":[{"type":"function","function":{"name":"get_weather"}}]}})");
    EXPECT_EQ(ok(chat).body["toolConfig"]["functionCallingConfig"],
              json::parse(R"({"mode":"ANY","allowedFunctionNames":["get_weather"]})"));
    chat["tool_choice"]["allowed_tools"]["mode"] = "auto";
    chat["tool_choice"]["allowed_tools"]["tools"][0]["function"]["name"] = "other";
    const Translated t = ok(chat);
    EXPECT_FALSE(t.body.contains("tools"));
    EXPECT_FALSE(t.body.contains("toolConfig"));
    chat["tool_choice"] = {{"type", "custom"}, {"custom", {{"name", "x"}}}};
    EXPECT_EQ(err(chat).param, "tool_choice.type");
    chat["tool_choice"] = "sometimes";
    EXPECT_EQ(err(chat).param, "tool_choice");
}

TEST(GeminiRequest, GenerationConfigValues) {
    const json chat = {{"messages", {user("hi")}},
                       {"max_tokens", 10},
                       {"max_completion_tokens", 20},  // wins over max_tokens
                       {"n", 1},
                       {"seed", 4294967297LL},  // int32 on Gemini: low 32 bits
                       {"temperature", 2},
                       {"cached_content", "cachedContents/abc123"}};
    const Translated t = ok(chat);
    EXPECT_EQ(t.body["generationConfig"],
              json::parse(R"({"temperature":2,"maxOutputTokens":20,"seed":1})"));
    EXPECT_EQ(t.body["cachedContent"], "cachedContents/abc123");
}

TEST(GeminiRequest, ImageUrlOptionsAndParts) {
    GeminiRequestOptions o;
    o.default_image_mime = "image/png";
    const json chat = {
        {"messages",
         {{{"role", "user"},
           {"content", json::parse(R"([{"type":"image_url","image_url":"https://x.test/a"},
                               {"type":"image_url","image_url":{"url":"https://x.test/b.HEIC?s=1"}},
                               {"type":"input_audio","input_audio":{"data":"AAAA","format":"mp3"}}])")}}}}};
    const Translated t = ok(chat, o);
    const json& parts = t.body["contents"][0]["parts"];
    EXPECT_EQ(parts[0]["fileData"]["mimeType"], "image/png");
    EXPECT_EQ(parts[1]["fileData"]["mimeType"], "image/heic");
    EXPECT_EQ(parts[2]["inlineData"]["mimeType"], "audio/mp3");
}

TEST(GeminiRequest, ErrorParams) {
    EXPECT_EQ(err(json::array()).param, "");
    EXPECT_EQ(err({{"messages", json::array()}}).param, "messages");
    EXPECT_EQ(err({{"messages", {{{"role", "robot"}, {"content", "x"}}}}}).param,
              "messages[0].role");
    EXPECT_EQ(err({{"messages", {{{"role", "function"}, {"name", "f"}, {"content", "x"}}}}}).param,
              "messages[0].role");
    EXPECT_EQ(err({{"messages",
                    {user("a"), {{"role", "assistant"}, {"content", {{{"type", "image_url"}}}}}}}})
                  .param,
              "messages[1].content[0]");
    EXPECT_EQ(err({{"messages",
                    {user("a"),
                     assistant_calls({{{"type", "function"}, {"function", {{"name", "f"}}}}})}}})
                  .param,
              "messages[1].tool_calls[0].id");
    EXPECT_EQ(err({{"messages", {user("a")}}, {"temperature", -1}}).param, "temperature");
    EXPECT_EQ(err({{"messages", {user("a")}}, {"max_tokens", 0}}).param, "max_tokens");
    EXPECT_EQ(err({{"messages", {user("a")}}, {"stop", 5}}).param, "stop");
    EXPECT_EQ(err({{"messages", {user("a")}}, {"stop", json::array({"a", 1})}}).param, "stop[1]");
    EXPECT_EQ(err({{"messages", {user("a")}}, {"n", 0}}).param, "n");
    EXPECT_EQ(err({{"messages", {user("a")}}, {"response_format", {{"type", "xml"}}}}).param,
              "response_format.type");
    EXPECT_EQ(
        err({{"messages", {user("a")}},
             {"response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", 1}}}}}})
            .param,
        "response_format.json_schema.schema");
    EXPECT_EQ(
        err({{"messages", {user("a")}}, {"modalities", json::array({"text", "audio"})}}).param,
        "modalities");
    EXPECT_EQ(err({{"messages", {user("a")}},
                   {"tools",
                    {{{"type", "function"},
                      {"function", {{"name", "f"}, {"parameters", {{"type", "string"}}}}}}}}})
                  .param,
              "tools[0].function.parameters.type");
    EXPECT_EQ(err({{"messages",
                    {{{"role", "user"},
                      {"content", {{{"type", "file"}, {"file", {{"file_data", "AAAA"}}}}}}}}}})
                  .param,
              "messages[0].content[0].file.file_data");
    EXPECT_EQ(err({{"messages",
                    {{{"role", "system"}, {"content", {{{"type", "image_url"}}}}}, user("a")}}})
                  .param,
              "messages[0].content[0]");
}

}  // namespace
}  // namespace baton::translate
