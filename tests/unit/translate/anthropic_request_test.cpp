// Request translation rules, one test per rule, plus round trips
// (OpenAI → Anthropic → OpenAI keeps the meaning of messages and tools).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "baton/translate/anthropic.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using test::json;
using test::Unordered;

json chat(json messages, json extra = json::object()) {
    json c = {{"model", "m"}, {"messages", std::move(messages)}};
    for (auto& [k, v] : extra.items()) c[k] = v;
    return c;
}

json user(std::string text) { return {{"role", "user"}, {"content", std::move(text)}}; }

Translated to_anthropic(const json& c, const AnthropicRequestOptions& o = {}) {
    auto r = openai_to_anthropic_request(c, "claude-x", o);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().param + ": " + r.error().message);
    return r ? *r : Translated{};
}

baton::Error to_anthropic_error(const json& c, const AnthropicRequestOptions& o = {}) {
    auto r = openai_to_anthropic_request(c, "claude-x", o);
    EXPECT_FALSE(r.has_value()) << r->body.dump();
    return r ? baton::Error{} : r.error();
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// ---- OpenAI → Anthropic -------------------------------------------------------------------

TEST(OpenAIToAnthropicRequest, ModelIsTheUpstreamModel) {
    EXPECT_EQ(to_anthropic(chat({user("hi")})).body["model"], "claude-x");
}

TEST(OpenAIToAnthropicRequest, MaxTokensPrecedenceAndDefault) {
    EXPECT_EQ(to_anthropic(chat({user("hi")})).body["max_tokens"], 4096);
    EXPECT_EQ(to_anthropic(chat({user("hi")}), {.default_max_tokens = 8192}).body["max_tokens"],
              8192);
    EXPECT_EQ(to_anthropic(chat({user("hi")}, {{"max_tokens", 10}})).body["max_tokens"], 10);
    EXPECT_EQ(to_anthropic(chat({user("hi")}, {{"max_tokens", 10}, {"max_completion_tokens", 20}}))
                  .body["max_tokens"],
              20);
    EXPECT_EQ(to_anthropic_error(chat({user("hi")}), {.default_max_tokens = 0}).param,
              "max_tokens");
    EXPECT_EQ(to_anthropic_error(chat({user("hi")}, {{"max_tokens", 0}})).param, "max_tokens");
    EXPECT_EQ(to_anthropic_error(chat({user("hi")}, {{"max_completion_tokens", "5"}})).param,
              "max_completion_tokens");
    // null means absent
    EXPECT_EQ(to_anthropic(chat({user("hi")}, {{"max_tokens", nullptr}})).body["max_tokens"], 4096);
}

TEST(OpenAIToAnthropicRequest, SystemAndDeveloperMessagesBecomeSystemBlocksInOrder) {
    auto t = to_anthropic(
        chat({{{"role", "system"}, {"content", "A"}},
              user("q"),
              {{"role", "developer"}, {"content", {{{"type", "text"}, {"text", "B"}}}}}}));
    EXPECT_EQ(t.body["system"],
              json::parse(R"([{"type":"text","text":"A"},{"type":"text","text":"B"}])"));
    EXPECT_EQ(t.body["messages"].size(), 1u);
    EXPECT_EQ(to_anthropic_error(
                  chat({{{"role", "system"},
                         {"content",
                          {{{"type", "image_url"}, {"image_url", {{"url", "https://x/y.png"}}}}}}},
                        user("q")}))
                  .param,
              "messages[0].content[0]");
}

TEST(OpenAIToAnthropicRequest, NoSystemKeyWithoutSystemMessages) {
    EXPECT_FALSE(to_anthropic(chat({user("hi")})).body.contains("system"));
}

TEST(OpenAIToAnthropicRequest, ConsecutiveSameRoleMessagesAreMerged) {
    auto t = to_anthropic(chat({user("a"),
                                user("b"),
                                {{"role", "assistant"}, {"content", "c"}},
                                {{"role", "assistant"}, {"content", "d"}},
                                user("e")}));
    const auto& m = t.body["messages"];
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0]["role"], "user");
    EXPECT_EQ(m[0]["content"].size(), 2u);
    EXPECT_EQ(m[1]["role"], "assistant");
    EXPECT_EQ(m[1]["content"].size(), 2u);
    EXPECT_EQ(m[2]["role"], "user");
}

TEST(OpenAIToAnthropicRequest, EmptyTextIsSkipped) {
    auto t = to_anthropic(chat({user("a"), {{"role", "assistant"}, {"content", ""}}, user("b")}));
    ASSERT_EQ(t.body["messages"].size(), 1u);  // the empty assistant turn vanished; users merged
    EXPECT_EQ(t.body["messages"][0]["content"].size(), 2u);
    EXPECT_EQ(to_anthropic_error(chat({user("")})).param, "messages");
}

TEST(OpenAIToAnthropicRequest, ToolCallsBecomeToolUseAfterText) {
    json asst = {{"role", "assistant"},
                 {"content", "Checking."},
                 {"tool_calls",
                  {{{"id", "call_1"},
                    {"type", "function"},
                    {"function", {{"name", "f"}, {"arguments", R"({"b":1,"a":[2]})"}}}},
                   {{"id", "call_2"},
                    {"type", "function"},
                    {"function", {{"name", "g"}, {"arguments", ""}}}}}}};
    auto t = to_anthropic(chat({user("q"), asst}));
    const auto& c = t.body["messages"][1]["content"];
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0]["type"], "text");
    EXPECT_EQ(c[1], json::parse(
                        R"({"type":"tool_use","id":"call_1","name":"f","input":{"b":1,"a":[2]}})"));
    EXPECT_EQ(c[1]["input"].dump(), R"({"b":1,"a":[2]})");  // key order kept
    EXPECT_EQ(c[2]["input"], json::object());               // empty arguments → {}
}

TEST(OpenAIToAnthropicRequest, InvalidOrNonObjectArgumentsAreErrors) {
    auto with_args = [](json args) {
        return chat({user("q"),
                     {{"role", "assistant"},
                      {"tool_calls",
                       {{{"id", "c"},
                         {"type", "function"},
                         {"function", {{"name", "f"}, {"arguments", args}}}}}}}});
    };
    auto e = to_anthropic_error(with_args("{\"a\":"));
    EXPECT_EQ(e.code, baton::Errc::invalid_request);
    EXPECT_EQ(e.param, "messages[1].tool_calls[0].function.arguments");
    EXPECT_EQ(to_anthropic_error(with_args("[1,2]")).param,
              "messages[1].tool_calls[0].function.arguments");
    // Some clients send the arguments object itself.
    EXPECT_EQ(to_anthropic(with_args(json{{"x", 1}})).body["messages"][1]["content"][0]["input"],
              json({{"x", 1}}));
}

TEST(OpenAIToAnthropicRequest, ToolMessagesBecomeToolResultsFirstInTheUserTurn) {
    json asst = {
        {"role", "assistant"},
        {"tool_calls",
         {{{"id", "A"}, {"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{}"}}}},
          {{"id", "B"},
           {"type", "function"},
           {"function", {{"name", "f"}, {"arguments", "{}"}}}}}}};
    auto t = to_anthropic(chat({user("q"),
                                asst,
                                user("also this"),
                                {{"role", "tool"}, {"tool_call_id", "B"}, {"content", "rb"}},
                                {{"role", "tool"}, {"tool_call_id", "A"}, {"content", ""}}}));
    const auto& m = t.body["messages"];
    ASSERT_EQ(m.size(), 3u);
    const auto& c = m[2]["content"];
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0],
              json::parse(R"({"type":"tool_result","tool_use_id":"A"})"));  // empty: no content
    EXPECT_EQ(c[1], json::parse(R"({"type":"tool_result","tool_use_id":"B","content":"rb"})"));
    EXPECT_EQ(c[2]["type"], "text");
    EXPECT_EQ(to_anthropic_error(chat({user("q"), {{"role", "tool"}, {"content", "x"}}})).param,
              "messages[1].tool_call_id");
}

TEST(OpenAIToAnthropicRequest, Images) {
    auto part = [](std::string url) {
        return chat({{{"role", "user"},
                      {"content", {{{"type", "image_url"}, {"image_url", {{"url", url}}}}}}}});
    };
    auto first = [](const Translated& t) { return t.body["messages"][0]["content"][0]; };
    EXPECT_EQ(
        first(to_anthropic(part("https://e.org/a.png"))),
        json::parse(R"({"type":"image","source":{"type":"url","url":"https://e.org/a.png"}})"));
    EXPECT_EQ(first(to_anthropic(part("data:image/webp;base64,UklGR"))), json::parse(
                                                                             R"({"type":"image",
                "source":{"type":"base64","media_type":"image/webp","data":"UklGR"}})"));
    EXPECT_EQ(first(to_anthropic(part("data:application/pdf;base64,JVBER")))["type"], "document");
    EXPECT_EQ(to_anthropic_error(part("ftp://e.org/a.png")).param,
              "messages[0].content[0].image_url.url");
    EXPECT_EQ(to_anthropic_error(part("data:image/png,rawbytes")).param,
              "messages[0].content[0].image_url.url");  // not base64
    // image_url given as a bare string (older clients)
    json bare =
        chat({{{"role", "user"},
               {"content", {{{"type", "image_url"}, {"image_url", "https://e.org/b.gif"}}}}}});
    EXPECT_EQ(first(to_anthropic(bare))["source"]["url"], "https://e.org/b.gif");
}

TEST(OpenAIToAnthropicRequest, CacheControlOnPartsIsKept) {
    json c = chat({{{"role", "user"},
                    {"content",
                     {{{"type", "text"},
                       {"text", "long doc"},
                       {"cache_control", {{"type", "ephemeral"}}}}}}}});
    EXPECT_EQ(to_anthropic(c).body["messages"][0]["content"][0]["cache_control"]["type"],
              "ephemeral");
}

TEST(OpenAIToAnthropicRequest, Tools) {
    json tools = json::parse(R"([
      {"type":"function","function":{"name":"a","description":"d","strict":true,
        "parameters":{"type":"object",
                      "properties":{"z":{"type":"string"},"y":{"type":"integer"}}}}},
      {"type":"function","function":{"name":"b"}}])");
    auto t = to_anthropic(chat({user("q")}, {{"tools", tools}}));
    EXPECT_EQ(t.body["tools"][0]["name"], "a");
    EXPECT_EQ(t.body["tools"][0]["description"], "d");
    EXPECT_EQ(t.body["tools"][0]["input_schema"]["properties"].dump(),
              R"({"z":{"type":"string"},"y":{"type":"integer"}})");  // property order kept
    EXPECT_EQ(t.body["tools"][1]["input_schema"],
              json::parse(R"({"type":"object","properties":{}})"));
    EXPECT_TRUE(has(t.dropped, "tools[0].function.strict"));
    EXPECT_FALSE(t.body.contains("tool_choice"));

    json dotted = json::parse(R"([{"type":"function","function":{"name":"fs.read"}}])");
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"tools", dotted}})).param,
              "tools[0].function.name");
    json array_schema = json::parse(
        R"([{"type":"function","function":{"name":"x","parameters":{"type":"array"}}}])");
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"tools", array_schema}})).param,
              "tools[0].function.parameters.type");
}

TEST(OpenAIToAnthropicRequest, ToolChoice) {
    json tools = json::parse(R"([{"type":"function","function":{"name":"f"}}])");
    auto choice = [&](json tc, json extra = json::object()) {
        json c = chat({user("q")}, {{"tools", tools}, {"tool_choice", tc}});
        for (auto& [k, v] : extra.items()) c[k] = v;
        return to_anthropic(c).body["tool_choice"];
    };
    EXPECT_EQ(choice("auto"), json::parse(R"({"type":"auto"})"));
    EXPECT_EQ(choice("none"), json::parse(R"({"type":"none"})"));
    EXPECT_EQ(choice("required"), json::parse(R"({"type":"any"})"));
    EXPECT_EQ(choice(json::parse(R"({"type":"function","function":{"name":"f"}})")),
              json::parse(R"({"type":"tool","name":"f"})"));
    EXPECT_EQ(choice("required", {{"parallel_tool_calls", false}}),
              json::parse(R"({"type":"any","disable_parallel_tool_use":true})"));
    EXPECT_EQ(choice("none", {{"parallel_tool_calls", false}}), json::parse(R"({"type":"none"})"));
    EXPECT_EQ(to_anthropic(chat({user("q")}, {{"tools", tools}, {"parallel_tool_calls", false}}))
                  .body["tool_choice"],
              json::parse(R"({"type":"auto","disable_parallel_tool_use":true})"));
    // Without tools: auto/none are left out, forcing is an error.
    EXPECT_FALSE(
        to_anthropic(chat({user("q")}, {{"tool_choice", "none"}})).body.contains("tool_choice"));
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"tool_choice", "required"}})).param,
              "tool_choice");
    EXPECT_EQ(
        to_anthropic_error(
            chat({user("q")},
                 {{"tools", tools},
                  {"tool_choice",
                   json::parse(
                       R"({"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}})")}}))
            .param,
        "tool_choice");
}

TEST(OpenAIToAnthropicRequest, SamplingStopStreamUser) {
    auto t = to_anthropic(chat({user("q")}, {{"temperature", 0.3},
                                             {"top_p", 0.5},
                                             {"stop", {"A", " ", "B"}},
                                             {"stream", true},
                                             {"stream_options", {{"include_usage", true}}},
                                             {"user", "u-1"}}));
    EXPECT_EQ(t.body["temperature"], 0.3);
    EXPECT_EQ(t.body["top_p"], 0.5);
    EXPECT_EQ(t.body["stop_sequences"], json({"A", "B"}));
    EXPECT_TRUE(has(t.dropped, "stop[1]"));
    EXPECT_EQ(t.body["stream"], true);
    EXPECT_FALSE(t.body.contains("stream_options"));
    EXPECT_EQ(t.body["metadata"], json({{"user_id", "u-1"}}));
    EXPECT_FALSE(to_anthropic(chat({user("q")}, {{"stream", false}})).body.contains("stream"));
    EXPECT_EQ(to_anthropic(chat({user("q")}, {{"stop", "X"}})).body["stop_sequences"], json({"X"}));
    // safety_identifier is used when user is absent; e-mail addresses are not forwarded.
    EXPECT_EQ(
        to_anthropic(chat({user("q")}, {{"safety_identifier", "s-9"}})).body["metadata"]["user_id"],
        "s-9");
    auto mail = to_anthropic(chat({user("q")}, {{"user", "bob@example.com"}}));
    EXPECT_FALSE(mail.body.contains("metadata"));
    EXPECT_TRUE(has(mail.dropped, "user"));
}

TEST(OpenAIToAnthropicRequest, TemperatureRange) {
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"temperature", 1.2}})).param, "temperature");
    EXPECT_EQ(to_anthropic(chat({user("q")}, {{"temperature", 1.2}}), {.clamp_temperature = true})
                  .body["temperature"],
              1.0);
    EXPECT_EQ(to_anthropic(chat({user("q")}, {{"temperature", 1}})).body["temperature"], 1.0);
}

TEST(OpenAIToAnthropicRequest, ReasoningEffortBudgetStyle) {
    auto thinking = [](json extra, AnthropicRequestOptions o = {}) {
        return to_anthropic(chat({user("q")}, std::move(extra)), o).body;
    };
    EXPECT_EQ(thinking({{"reasoning_effort", "low"}, {"max_completion_tokens", 8000}})["thinking"],
              json::parse(R"({"type":"enabled","budget_tokens":1024})"));
    EXPECT_EQ(thinking({{"reasoning_effort", "medium"},
                        {"max_tokens", 8000}})["thinking"]["budget_tokens"],
              4096);
    EXPECT_EQ(thinking({{"reasoning_effort", "xhigh"},
                        {"max_tokens", 64000}})["thinking"]["budget_tokens"],
              16384);
    EXPECT_FALSE(thinking({{"reasoning_effort", "none"}}).contains("thinking"));
    // Explicit limit below the budget: the budget shrinks to fit (limit covers both, as in OpenAI).
    EXPECT_EQ(
        thinking({{"reasoning_effort", "high"}, {"max_tokens", 3000}})["thinking"]["budget_tokens"],
        2999);
    EXPECT_EQ(
        to_anthropic_error(chat({user("q")}, {{"reasoning_effort", "low"}, {"max_tokens", 1000}}))
            .param,
        "reasoning_effort");
    // Defaulted limit: raised to budget + default so the answer still has room.
    auto b = thinking({{"reasoning_effort", "high"}});
    EXPECT_EQ(b["max_tokens"], 16384 + 4096);
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"reasoning_effort", "turbo"}})).param,
              "reasoning_effort");
}

TEST(OpenAIToAnthropicRequest, ReasoningEffortAdaptiveStyleAndVendorThinking) {
    AnthropicRequestOptions o;
    o.thinking_style = ThinkingStyle::adaptive;
    auto b = to_anthropic(chat({user("q")}, {{"reasoning_effort", "minimal"}}), o).body;
    EXPECT_EQ(b["thinking"], json::parse(R"({"type":"adaptive"})"));
    EXPECT_EQ(b["output_config"], json::parse(R"({"effort":"low"})"));
    // An Anthropic-shaped `thinking` object wins and is passed through.
    json vendor = json::parse(R"({"type":"enabled","budget_tokens":2000})");
    auto v =
        to_anthropic(chat({user("q")}, {{"thinking", vendor}, {"reasoning_effort", "high"}})).body;
    EXPECT_EQ(v["thinking"], vendor);
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"thinking", true}})).param, "thinking");
}

TEST(OpenAIToAnthropicRequest, ThinkingBlocksAreReplayedFirst) {
    json asst = json::parse(R"({"role":"assistant","content":"t","reasoning_content":"why",
      "thinking_blocks":[{"type":"thinking","thinking":"","signature":"sig"},
                         {"type":"redacted_thinking","data":"xx"}],
      "tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]})");
    auto c = to_anthropic(chat({user("q"), asst})).body["messages"][1]["content"];
    ASSERT_EQ(c.size(), 4u);
    // signature-only block (streamed LiteLLM-style) gets its text from reasoning_content
    EXPECT_EQ(c[0], json::parse(R"({"type":"thinking","thinking":"why","signature":"sig"})"));
    EXPECT_EQ(c[1]["type"], "redacted_thinking");
    EXPECT_EQ(c[2]["type"], "text");
    EXPECT_EQ(c[3]["type"], "tool_use");
}

TEST(OpenAIToAnthropicRequest, FinalAssistantPrefillLosesTrailingWhitespace) {
    auto m = to_anthropic(chat({user("q"), {{"role", "assistant"}, {"content", "Sure: \n"}}}))
                 .body["messages"];
    EXPECT_EQ(m[1]["content"][0]["text"], "Sure:");
    auto gone = to_anthropic(chat({user("q"), {{"role", "assistant"}, {"content", "  "}}}))
                    .body["messages"];
    EXPECT_EQ(gone.size(), 1u);
    // Not the final turn: kept as written.
    auto mid =
        to_anthropic(chat({user("q"), {{"role", "assistant"}, {"content", "a "}}, user("r")}))
            .body["messages"];
    EXPECT_EQ(mid[1]["content"][0]["text"], "a ");
}

TEST(OpenAIToAnthropicRequest, RefusalPartsAndFieldBecomeText) {
    json asst = json::parse(R"({"role":"assistant","content":null,"refusal":"No."})");
    EXPECT_EQ(
        to_anthropic(chat({user("q"), asst, user("ok")})).body["messages"][1]["content"][0]["text"],
        "No.");
}

TEST(OpenAIToAnthropicRequest, UnsupportedFeaturesAreErrors) {
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"n", 2}})).param, "n");
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"logprobs", true}})).param, "logprobs");
    EXPECT_EQ(
        to_anthropic_error(chat({user("q")}, {{"response_format", {{"type", "json_object"}}}}))
            .param,
        "response_format.type");
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"modalities", {"text", "audio"}}})).param,
              "modalities");
    EXPECT_EQ(to_anthropic_error(chat({user("q")}, {{"functions", json::array({{{"name", "f"}}})}}))
                  .param,
              "functions");
    EXPECT_EQ(
        to_anthropic_error(chat({{{"role", "function"}, {"name", "f"}, {"content", "x"}}})).param,
        "messages[0].role");
    EXPECT_EQ(to_anthropic_error(chat({{{"role", "critic"}, {"content", "x"}}})).param,
              "messages[0].role");
    EXPECT_EQ(to_anthropic_error(json::array()).param, "");
    EXPECT_EQ(to_anthropic_error(json{{"model", "m"}}).param, "messages");
    json file_id = chat(
        {{{"role", "user"}, {"content", {{{"type", "file"}, {"file", {{"file_id", "file-1"}}}}}}}});
    EXPECT_EQ(to_anthropic_error(file_id).param, "messages[0].content[0].file.file_id");
}

TEST(OpenAIToAnthropicRequest, FieldsWithoutEquivalentAreReportedAsDropped) {
    auto t = to_anthropic(chat({user("q")}, {{"seed", 1},
                                             {"frequency_penalty", 0.5},
                                             {"metadata", {{"k", "v"}}},
                                             {"logprobs", false},
                                             {"store", nullptr},
                                             {"n", 1}}));
    EXPECT_TRUE(has(t.dropped, "seed"));
    EXPECT_TRUE(has(t.dropped, "frequency_penalty"));
    EXPECT_TRUE(has(t.dropped, "metadata"));  // OpenAI storage metadata is not Anthropic metadata
    EXPECT_FALSE(has(t.dropped, "store"));    // null = absent
    EXPECT_FALSE(has(t.dropped, "n"));
    EXPECT_FALSE(t.body.contains("metadata"));
}

TEST(OpenAIToAnthropicRequest, NeverThrowsOnOddShapes) {
    for (const char* body :
         {R"({"messages":[null]})", R"({"messages":[{"role":1}]})",
          R"({"messages":[{"role":"user","content":[null]}]})",
          R"({"messages":[{"role":"user","content":[{"type":"text"}]}]})",
          R"({"messages":[{"role":"assistant","tool_calls":[null]}]})",
          R"({"messages":[{"role":"assistant","tool_calls":[{"id":"x","function":null}]}]})",
          R"({"messages":[{"role":"user","content":"q"}],"tools":[null]})",
          R"({"messages":[{"role":"user","content":"q"}],"tools":[{"type":"function"}]})",
          R"({"messages":[{"role":"user","content":"q"}],"stop":[1]})",
          R"({"messages":[{"role":"user","content":"q"}],"tool_choice":3})",
          R"({"messages":[{"role":"user","content":"q"}],"user":5})"}) {
        SCOPED_TRACE(body);
        auto r = openai_to_anthropic_request(json::parse(body), "c");
        EXPECT_FALSE(r.has_value());
    }
}

// ---- Anthropic → OpenAI -------------------------------------------------------------------

Translated to_openai(const json& req, const OpenAIRequestOptions& o = {}) {
    auto r = anthropic_to_openai_request(req, "gpt-x", o);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().param + ": " + r.error().message);
    return r ? *r : Translated{};
}

json messages_req(json messages, json extra = json::object()) {
    json r = {{"model", "claude"}, {"max_tokens", 100}, {"messages", std::move(messages)}};
    for (auto& [k, v] : extra.items()) r[k] = v;
    return r;
}

TEST(AnthropicToOpenAIRequest, BasicsAndOptions) {
    auto b =
        to_openai(messages_req({user("hi")}, {{"system", "S"}, {"stop_sequences", {"x"}}})).body;
    EXPECT_EQ(b["model"], "gpt-x");
    EXPECT_EQ(b["max_completion_tokens"], 100);
    EXPECT_EQ(b["messages"][0], json::parse(R"({"role":"system","content":"S"})"));
    EXPECT_EQ(b["messages"][1], json::parse(R"({"role":"user","content":"hi"})"));
    EXPECT_EQ(b["stop"], json({"x"}));
    OpenAIRequestOptions o;
    o.max_tokens_field = "max_tokens";
    o.system_role = "developer";
    auto b2 = to_openai(messages_req({user("hi")}, {{"system", "S"}, {"stream", true}}), o).body;
    EXPECT_EQ(b2["max_tokens"], 100);
    EXPECT_EQ(b2["messages"][0]["role"], "developer");
    EXPECT_EQ(b2["stream_options"], json::parse(R"({"include_usage":true})"));
}

TEST(AnthropicToOpenAIRequest, Errors) {
    auto err = [](const json& req) {
        auto r = anthropic_to_openai_request(req, "gpt-x");
        EXPECT_FALSE(r.has_value());
        return r ? std::string("<ok>") : r.error().param;
    };
    EXPECT_EQ(err(messages_req({user("q")}, {{"max_tokens", 0}})), "max_tokens");
    EXPECT_EQ(err(messages_req({user("q")}, {{"stop_sequences", {"a", "b", "c", "d", "e"}}})),
              "stop_sequences");
    EXPECT_EQ(err(messages_req({{{"role", "tool"}, {"content", "x"}}})), "messages[0].role");
    EXPECT_EQ(err(messages_req({{{"role", "user"}, {"content", {{{"type", "search_result"}}}}}})),
              "messages[0].content[0].type");
    EXPECT_EQ(err(messages_req({user("q")}, {{"tool_choice", {{"type", "sometimes"}}}})),
              "tool_choice.type");
}

TEST(AnthropicToOpenAIRequest, ThinkingIsDroppedOrMappedToReasoningEffort) {
    json req =
        messages_req({user("q")}, {{"thinking", {{"type", "enabled"}, {"budget_tokens", 10000}}}});
    auto dropped = to_openai(req);
    EXPECT_FALSE(dropped.body.contains("reasoning_effort"));
    EXPECT_TRUE(has(dropped.dropped, "thinking"));
    OpenAIRequestOptions o;
    o.map_thinking_to_reasoning_effort = true;
    EXPECT_EQ(to_openai(req, o).body["reasoning_effort"], "high");
    req["thinking"]["budget_tokens"] = 1024;
    EXPECT_EQ(to_openai(req, o).body["reasoning_effort"], "low");
    req["output_config"] = {{"effort", "medium"}};
    EXPECT_EQ(to_openai(req, o).body["reasoning_effort"], "medium");
}

TEST(AnthropicToOpenAIRequest, OutputFormatBecomesResponseFormat) {
    json schema = json::parse(R"({"type":"object","properties":{"a":{"type":"string"}}})");
    auto b =
        to_openai(messages_req({user("q")},
                               {{"output_config",
                                 {{"format", {{"type", "json_schema"}, {"schema", schema}}}}}}))
            .body;
    EXPECT_EQ(b["response_format"]["type"], "json_schema");
    EXPECT_EQ(b["response_format"]["json_schema"]["schema"], schema);
}

// ---- Round trips ----------------------------------------------------------------------------

// Normal form of an OpenAI request's meaning: system text joined; content as a list of parts
// (strings become one text part); arguments parsed; tool results as strings.
Unordered meaning(const json& chat_req) {
    json out = {{"system", ""},
                {"messages", json::array()},
                {"tools", chat_req.value("tools", json::array())}};
    for (const auto& m : chat_req["messages"]) {
        const std::string role = m["role"];
        auto parts = [](const json& c) {
            if (c.is_null()) return json::array();
            if (c.is_string())
                return c.get<std::string>().empty()
                           ? json::array()
                           : json::array({{{"type", "text"}, {"text", c}}});
            return c;
        };
        if (role == "system" || role == "developer") {
            for (const auto& p : parts(m["content"])) {
                if (!out["system"].get<std::string>().empty())
                    out["system"] = out["system"].get<std::string>() + "\n\n";
                out["system"] = out["system"].get<std::string>() + p["text"].get<std::string>();
            }
            continue;
        }
        json n = {{"role", role}};
        if (role == "tool") {
            std::string text;
            for (const auto& p : parts(m["content"])) text += p["text"].get<std::string>();
            n["tool_call_id"] = m["tool_call_id"];
            n["content"] = text;
        } else {
            n["content"] = parts(m.value("content", json()));
        }
        if (m.contains("tool_calls")) n["tool_calls"] = test::normalize_tool_calls(m)["tool_calls"];
        out["messages"].push_back(n);
    }
    // Tool results answering one assistant turn are a set: order them like its tool calls.
    json& msgs = out["messages"];
    for (size_t i = 0; i < msgs.size(); ++i) {
        if (!msgs[i].contains("tool_calls")) continue;
        std::vector<std::string> ids;
        for (const auto& tc : msgs[i]["tool_calls"]) ids.push_back(tc["id"]);
        size_t end = i + 1;
        while (end < msgs.size() && msgs[end]["role"] == "tool") ++end;
        std::vector<json> run(msgs.begin() + static_cast<long>(i) + 1,
                              msgs.begin() + static_cast<long>(end));
        std::stable_sort(run.begin(), run.end(), [&](const json& a, const json& b) {
            return std::find(ids.begin(), ids.end(), a["tool_call_id"]) <
                   std::find(ids.begin(), ids.end(), b["tool_call_id"]);
        });
        for (size_t k = 0; k < run.size(); ++k) msgs[i + 1 + k] = run[k];
    }
    return Unordered(out);
}

TEST(RoundTrip, OpenAIRequestThroughAnthropicKeepsMessagesAndTools) {
    for (const auto& name : test::cases("chat_to_messages", ".openai.json")) {
        if (name == "prefill_and_dropped") continue;  // trims the prefill and merges user turns
        SCOPED_TRACE(name);
        const json original =
            test::read_json(test::fixture_root() / "chat_to_messages" / (name + ".openai.json"));
        auto there = openai_to_anthropic_request(original, "claude-x");
        ASSERT_TRUE(there.has_value());
        auto back = anthropic_to_openai_request(there->body, "gpt-x");
        ASSERT_TRUE(back.has_value()) << back.error().param << ": " << back.error().message;
        Unordered expected = meaning(original);
        // Known, documented losses: tool `strict`, image `detail`, assistant reasoning fields.
        for (auto& t : expected["tools"]) {
            t["function"].erase("strict");
            if (!t["function"].contains("parameters")) {  // absent = an empty object schema
                t["function"]["parameters"] = {{"type", "object"},
                                               {"properties", Unordered::object()}};
            }
        }
        for (auto& m : expected["messages"]) {
            if (!m["content"].is_array()) continue;
            for (auto& p : m["content"]) {
                if (p.contains("image_url") && p["image_url"].is_object())
                    p["image_url"].erase("detail");
            }
        }
        Unordered actual = meaning(back->body);
        for (auto& m : actual["messages"]) {
            if (!m["content"].is_array()) continue;
            for (auto& p : m["content"]) {
                // data: URLs come back normalised (image/jpg → image/jpeg)
                if (p.value("type", "") == "image_url") {
                    std::string u = p["image_url"]["url"];
                    if (u.rfind("data:image/jpeg", 0) == 0) u.replace(0, 15, "data:image/jpg");
                    p["image_url"]["url"] = u;
                }
            }
        }
        EXPECT_EQ(actual["system"], expected["system"]);
        EXPECT_EQ(actual["tools"], expected["tools"]);
        EXPECT_EQ(actual["messages"], expected["messages"]);
    }
}

TEST(RoundTrip, AnthropicRequestThroughOpenAIKeepsMessages) {
    const json original = test::read_json(test::fixture_root() / "messages_to_chat" /
                                          "tool_use_round_trip.anthropic.json");
    auto there = anthropic_to_openai_request(original, "gpt-x");
    ASSERT_TRUE(there.has_value());
    auto back = openai_to_anthropic_request(there->body, "claude-x");
    ASSERT_TRUE(back.has_value()) << back.error().message;
    json expected = original["messages"];
    expected[0]["content"] =
        json::array({{{"type", "text"}, {"text", original["messages"][0]["content"]}}});
    expected[1]["content"].erase(0);  // the signed thinking block cannot survive an OpenAI hop
    expected[2]["content"][0]["content"] = "65 degrees, foggy";  // text blocks flattened
    EXPECT_EQ(Unordered(back->body["messages"]), Unordered(expected));
    EXPECT_EQ(Unordered(back->body["tools"][0]), Unordered(original["tools"][0]));
    EXPECT_EQ(back->body["tool_choice"],
              json::parse(R"({"type":"any","disable_parallel_tool_use":true})"));
}

}  // namespace
}  // namespace baton::translate
