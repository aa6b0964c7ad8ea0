#include "baton/openai/chat_request.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace baton::openai {
namespace {

using nlohmann::json;

constexpr std::string_view kMinimal =
    R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})";

std::string_view span_text(std::string_view body, Span s) { return body.substr(s.begin, s.size()); }

// A valid body with `fields` (a `"k":v,` list) spliced in front of model/messages.
std::string with(std::string_view fields) {
    return "{" + std::string(fields) + R"("model":"m","messages":[{"role":"user","content":"x"}]})";
}
std::string with_messages(std::string_view messages) {
    return R"({"model":"m","messages":)" + std::string(messages) + "}";
}

// ---- extraction ---------------------------------------------------------------------------

TEST(ScanChatRequest, MinimalRequest) {
    auto r = scan_chat_request(kMinimal);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->model, "gpt-4o");
    EXPECT_EQ(span_text(kMinimal, r->model_value), "\"gpt-4o\"");
    EXPECT_FALSE(r->stream);
    EXPECT_FALSE(r->has_stream_options);
    EXPECT_FALSE(r->include_usage);
    EXPECT_FALSE(r->max_tokens.has_value());
    EXPECT_FALSE(r->has_tools);
    EXPECT_FALSE(r->has_images);
    EXPECT_FALSE(r->has_response_format);
    EXPECT_EQ(r->message_count, 1u);
    EXPECT_TRUE(r->user.empty());
    ASSERT_EQ(r->text_spans.size(), 1u);
    EXPECT_EQ(span_text(kMinimal, r->text_spans[0]), "hi");
    EXPECT_EQ(r->text_bytes, 2u);
}

TEST(ScanChatRequest, FullRequestWithWhitespaceAndUnknownFields) {
    const std::string body = R"(
    {
        "messages" : [
            {"role": "system", "content": "You are terse.", "name": "sys"},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                {"text": "this image?", "type": "text"}
            ]},
            {"role": "assistant", "content": null,
             "tool_calls": [{"id": "c1", "type": "function",
                             "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
            {"role": "developer", "content": "dev"},
            {"role": "function", "name": "f", "content": "legacy"}
        ],
        "model" : "gpt-4o-mini",
        "stream" : true,
        "stream_options" : {"include_usage": true, "future": [1, 2, {"x": null}]},
        "max_tokens" : 100,
        "temperature" : 0.7,
        "top_p" : 1e-2,
        "n" : 1,
        "tools" : [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "response_format" : {"type": "json_schema", "json_schema": {"name": "s", "schema": {}}},
        "user" : "user-123",
        "metadata" : {"deep": [[[[true, false, null, -0.5e+10]]]]},
        "logit_bias" : {}
    }
    )";
    auto r = scan_chat_request(body);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->model, "gpt-4o-mini");
    EXPECT_EQ(span_text(body, r->model_value), "\"gpt-4o-mini\"");
    EXPECT_TRUE(r->stream);
    EXPECT_TRUE(r->has_stream_options);
    EXPECT_TRUE(r->include_usage);
    EXPECT_EQ(span_text(body, r->stream_options_value),
              R"({"include_usage": true, "future": [1, 2, {"x": null}]})");
    EXPECT_EQ(r->max_tokens, 100);
    EXPECT_TRUE(r->has_tools);
    EXPECT_TRUE(r->has_images);
    EXPECT_TRUE(r->has_response_format);
    EXPECT_TRUE(r->json_schema);
    EXPECT_FALSE(r->json_object);
    EXPECT_EQ(r->message_count, 6u);
    EXPECT_EQ(r->user, "user-123");
    std::vector<std::string_view> texts;
    for (Span s : r->text_spans) texts.push_back(span_text(body, s));
    const std::vector<std::string_view> expected = {
        "You are terse.", "What is in", "this image?", "42", "dev", "legacy"};
    EXPECT_EQ(texts, expected);
    uint64_t sum = 0;
    for (auto t : expected) sum += t.size();
    EXPECT_EQ(r->text_bytes, sum);
}

TEST(ScanChatRequest, MaxCompletionTokensPreferredOverMaxTokens) {
    auto r = scan_chat_request(with(R"("max_completion_tokens":7,)"));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->max_tokens, 7);
    const std::string both = with(R"("max_tokens":9,"max_completion_tokens":7,)");
    r = scan_chat_request(both);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->max_tokens, 7);
    r = scan_chat_request(with(R"("max_tokens":9223372036854775807,)"));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->max_tokens, INT64_MAX);
}

TEST(ScanChatRequest, ResponseFormatKinds) {
    auto r = scan_chat_request(with(R"("response_format":{"type":"json_object"},)"));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(r->has_response_format);
    EXPECT_TRUE(r->json_object);
    EXPECT_FALSE(r->json_schema);
    r = scan_chat_request(with(R"("response_format":{"type":"text"},)"));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->has_response_format);
    EXPECT_FALSE(r->json_object);
    EXPECT_FALSE(r->json_schema);
    // Escapes in the type value are decoded before comparing.
    r = scan_chat_request(with(R"("response_format":{"type":"json_\u0073chema"},)"));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->json_schema);
}

TEST(ScanChatRequest, ToolsAndFunctions) {
    auto r = scan_chat_request(with(R"("tools":[],)"));
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->has_tools);
    r = scan_chat_request(with(R"("functions":[{"name":"f"}],)"));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->has_tools);
    r = scan_chat_request(with(R"("tools":null,)"));
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->has_tools);
}

TEST(ScanChatRequest, ImagesDetected) {
    for (const char* type : {"image_url", "input_image"}) {
        const std::string body =
            with_messages(std::string(R"([{"role":"user","content":[{"type":")") + type +
                          R"(","image_url":{"url":"data:..."}}]}])");
        auto r = scan_chat_request(body);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        EXPECT_TRUE(r->has_images) << type;
        EXPECT_TRUE(r->text_spans.empty());
    }
    // Other part types are accepted and do not count as images or text.
    auto r = scan_chat_request(
        with_messages(R"([{"role":"user","content":[{"type":"input_audio","input_audio":{}},)"
                      R"({"type":"file","text":"not text"}]}])"));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_FALSE(r->has_images);
    EXPECT_TRUE(r->text_spans.empty());
}

TEST(ScanChatRequest, NullOptionalFieldsAreAbsent) {
    auto r = scan_chat_request(
        with(R"("stream":null,"max_tokens":null,"max_completion_tokens":null,"temperature":null,)"
             R"("n":null,"user":null,"response_format":null,"functions":null,)"));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_FALSE(r->stream);
    EXPECT_FALSE(r->max_tokens);
    EXPECT_FALSE(r->has_response_format);
    EXPECT_FALSE(r->has_tools);
}

TEST(ScanChatRequest, StreamOptionsNullIsPresentWithSpan) {
    // Present-but-null still reports the span so a proxy can replace it rather than add a
    // duplicate key.
    const std::string body = with(R"("stream":true,"stream_options": null ,)");
    auto r = scan_chat_request(body);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(r->has_stream_options);
    EXPECT_FALSE(r->include_usage);
    EXPECT_EQ(span_text(body, r->stream_options_value), "null");
    const std::string body2 = with(R"("stream_options":{"include_usage":false},)");
    r = scan_chat_request(body2);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->has_stream_options);
    EXPECT_FALSE(r->include_usage);
    EXPECT_EQ(span_text(body2, r->stream_options_value), R"({"include_usage":false})");
}

TEST(ScanChatRequest, UnicodeAndEscapesInContentAccepted) {
    const std::string content =
        R"(h\u00e9llo \"q\" \\ \/ \b\f\n\r\t \ud83d\ude00 )"
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF";
    const std::string body = with_messages(R"([{"role":"user","content":")" + content +
                                           R"("},{"role":"user","content":[{"type":"text",)"
                                           R"("text":"\u4f60\u597d"}]}])");
    auto r = scan_chat_request(body);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->text_spans.size(), 2u);
    EXPECT_EQ(span_text(body, r->text_spans[0]), content);
    EXPECT_EQ(span_text(body, r->text_spans[1]), R"(\u4f60\u597d)");
    EXPECT_EQ(r->text_bytes, content.size() + 12);
    EXPECT_TRUE(json::accept(body));
}

TEST(ScanChatRequest, EscapedKeysAreDecoded) {
    // "mod\u0065l" is "model": it must be recognised (and so caught as a duplicate).
    auto r = scan_chat_request(R"({"mod\u0065l":"a","messages":[{"r\u006fle":"user",)"
                               R"("content":"x"}]})");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->model, "a");
    r = scan_chat_request(R"({"model":"a","mod\u0065l":"b","messages":[]})");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::invalid_request);
    EXPECT_EQ(r.error().param, "model");
    // Escaped role values are decoded too.
    r = scan_chat_request(with_messages(R"([{"role":"\u0075ser","content":"x"}])"));
    ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST(ScanChatRequest, SplicingModelYieldsSameJsonWithNewModel) {
    const std::vector<std::string> bodies = {
        std::string(kMinimal),
        R"(  { "a" : {"model": "inner"}, "model" :  "gpt-4o" , "messages":[{"role":"user",)"
        R"("content":"model"}], "z": [1,2,3] }  )",
        "{\n\t\"messages\": [{\"role\": \"user\", \"content\": \"\\u00e9\"}],\n"
        "\t\"model\": \"org/model:tag@v1\"\n}\n",
    };
    for (const auto& body : bodies) {
        auto r = scan_chat_request(body);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        std::string spliced = body.substr(0, r->model_value.begin) + "\"other-model\"" +
                              body.substr(r->model_value.end);
        json orig = json::parse(body);
        json now = json::parse(spliced);
        EXPECT_EQ(orig["model"], std::string(r->model));
        orig["model"] = "other-model";
        EXPECT_EQ(orig, now) << spliced;
        auto r2 = scan_chat_request(spliced);
        ASSERT_TRUE(r2.has_value());
        EXPECT_EQ(r2->model, "other-model");
    }
}

// ---- shape validation ---------------------------------------------------------------------

struct ShapeCase {
    std::string body;
    std::string param;
    std::string message;
};

TEST(ScanChatRequest, ShapeErrors) {
    const std::string user_x = R"({"role":"user","content":"x"})";
    const std::vector<ShapeCase> cases = {
        {R"({"messages":[{"role":"user","content":"x"}]})", "model",
         "'model' is a required property"},
        {R"({"model":"m"})", "messages", "'messages' is a required property"},
        {R"({})", "model", "'model' is a required property"},
        {R"({"model":5,"messages":[]})", "model", "'model' must be a string, got a number"},
        {R"({"model":null,"messages":[]})", "model", "'model' must be a string, got null"},
        {R"({"model":["m"],"messages":[]})", "model", "'model' must be a string, got an array"},
        {R"({"model":"","messages":[]})", "model", "'model' must be a non-empty string"},
        {R"({"model":"gpt\u002d4","messages":[]})", "model",
         "'model' must not contain escape sequences (model names cannot contain escapes)"},
        {R"({"model":"a\/b","messages":[]})", "model",
         "'model' must not contain escape sequences (model names cannot contain escapes)"},
        {R"({"model":"a","model":"b","messages":[]})", "model", "duplicate top-level 'model'"},
        {R"({"model":"m","messages":{}})", "messages",
         "'messages' must be an array, got an object"},
        {R"({"model":"m","messages":null})", "messages", "'messages' must be an array, got null"},
        {R"({"model":"m","messages":[]})", "messages", "'messages' must be a non-empty array"},
        {with_messages("[1]"), "messages[0]",
         "messages[0]: expected a message object, got a number"},
        {with_messages(R"([{"content":"x"}])"), "messages[0].role",
         "messages[0]: 'role' is a required property"},
        {with_messages(R"([{"role":3,"content":"x"}])"), "messages[0].role",
         "messages[0].role must be a string, got a number"},
        {with_messages("[" + user_x + "," + user_x + R"(,{"role":"robot","content":"x"}])"),
         "messages[2].role",
         "messages[2].role: expected one of system, developer, user, assistant, tool, function, "
         "got \"robot\""},
        {with_messages(R"([{"role":"User","content":"x"}])"), "messages[0].role",
         "messages[0].role: expected one of system, developer, user, assistant, tool, function, "
         "got \"User\""},
        {with_messages(R"([{"role":"user"}])"), "messages[0].content",
         "messages[0].content is required (a string or an array of content parts) for role "
         "'user'"},
        {with_messages(R"([{"role":"system","content":null}])"), "messages[0].content",
         "messages[0].content is required (a string or an array of content parts) for role "
         "'system'"},
        {with_messages(R"([{"role":"user","content":5}])"), "messages[0].content",
         "messages[0].content must be a string, an array of content parts, or null, got a "
         "number"},
        {with_messages(R"([{"role":"user","content":{"text":"x"}}])"), "messages[0].content",
         "messages[0].content must be a string, an array of content parts, or null, got an "
         "object"},
        {with_messages(R"([{"role":"assistant","content":null}])"), "messages[0].content",
         "messages[0].content must be a string or an array of content parts unless the assistant "
         "message has tool_calls or function_call"},
        {with_messages(R"([{"role":"assistant","content":null,"tool_calls":null}])"),
         "messages[0].content",
         "messages[0].content must be a string or an array of content parts unless the assistant "
         "message has tool_calls or function_call"},
        {with_messages(R"([{"role":"user","tool_calls":[{}]}])"), "messages[0].content",
         "messages[0].content is required (a string or an array of content parts) for role "
         "'user'"},
        {with_messages("[" + user_x + R"(,{"role":"tool","content":"42"}])"),
         "messages[1].tool_call_id", "messages[1]: 'tool_call_id' is required for role 'tool'"},
        {with_messages(R"([{"role":"tool","content":"42","tool_call_id":7}])"),
         "messages[0].tool_call_id", "messages[0].tool_call_id must be a string, got a number"},
        {with_messages(R"([{"role":"user","content":["x"]}])"), "messages[0].content[0]",
         "messages[0].content[0]: expected a content part object, got a string"},
        {with_messages(R"([{"role":"user","content":[{"text":"x"}]}])"),
         "messages[0].content[0].type", "messages[0].content[0]: 'type' is a required property"},
        {with_messages(R"([{"role":"user","content":[{"type":1}]}])"),
         "messages[0].content[0].type",
         "messages[0].content[0].type must be a string, got a number"},
        {with_messages("[" + user_x +
                       R"(,{"role":"user","content":[{"type":"text","text":"a"},)"
                       R"({"type":"text"}]}])"),
         "messages[1].content[1].text",
         "messages[1].content[1].text must be a string for a part of type 'text'"},
        {with_messages(R"([{"role":"user","content":[{"type":"text","text":5}]}])"),
         "messages[0].content[0].text",
         "messages[0].content[0].text must be a string for a part of type 'text'"},
        {with(R"("stream":"yes",)"), "stream", "'stream' must be a boolean, got a string"},
        {with(R"("stream":1,)"), "stream", "'stream' must be a boolean, got a number"},
        {with(R"("stream":true,"stream":true,)"), "stream", "duplicate top-level 'stream'"},
        {with(R"("max_tokens":0,)"), "max_tokens",
         "'max_tokens' must be a positive integer, got 0"},
        {with(R"("max_tokens":-5,)"), "max_tokens",
         "'max_tokens' must be a positive integer, got -5"},
        {with(R"("max_tokens":1.5,)"), "max_tokens",
         "'max_tokens' must be a positive integer, got 1.5"},
        {with(R"("max_tokens":1e3,)"), "max_tokens",
         "'max_tokens' must be a positive integer, got 1e3"},
        {with(R"("max_tokens":9223372036854775808,)"), "max_tokens",
         "'max_tokens' must be a positive integer, got 9223372036854775808"},
        {with(R"("max_tokens":"10",)"), "max_tokens",
         "'max_tokens' must be a positive integer, got a string"},
        {with(R"("max_completion_tokens":-0,)"), "max_completion_tokens",
         "'max_completion_tokens' must be a positive integer, got -0"},
        {with(R"("temperature":"hot",)"), "temperature",
         "'temperature' must be a number, got a string"},
        {with(R"("n":0,)"), "n", "'n' must be a positive integer, got 0"},
        {with(R"("n":true,)"), "n", "'n' must be a positive integer, got a boolean"},
        {with(R"("tools":{},)"), "tools", "'tools' must be an array, got an object"},
        {with(R"("functions":1,)"), "functions", "'functions' must be an array, got a number"},
        {with(R"("stream_options":true,)"), "stream_options",
         "'stream_options' must be an object, got a boolean"},
        {with(R"("stream_options":{"include_usage":"yes"},)"), "stream_options.include_usage",
         "'stream_options.include_usage' must be a boolean, got a string"},
        {with(R"("response_format":"json",)"), "response_format",
         "'response_format' must be an object, got a string"},
        {with(R"("response_format":{},)"), "response_format.type",
         "'response_format.type' is a required property"},
        {with(R"("response_format":{"type":1},)"), "response_format.type",
         "'response_format.type' must be a string, got a number"},
        {with(R"("user":1,)"), "user", "'user' must be a string, got a number"},
        {with(R"("tools":[],"tools":[],)"), "tools", "duplicate top-level 'tools'"},
        {R"({"model":"m","messages":[{"role":"user","content":"x"}],"messages":[]})", "messages",
         "duplicate top-level 'messages'"},
    };
    for (const auto& c : cases) {
        auto r = scan_chat_request(c.body);
        ASSERT_FALSE(r.has_value()) << c.body;
        EXPECT_EQ(r.error().code, Errc::invalid_request) << c.body;
        EXPECT_EQ(r.error().param, c.param) << c.body;
        EXPECT_EQ(r.error().message, c.message) << c.body;
    }
}

TEST(ScanChatRequest, AssistantWithToolCallsMayOmitContent) {
    for (const char* m : {R"([{"role":"assistant","content":null,"tool_calls":[]}])",
                          R"([{"role":"assistant","tool_calls":[{"id":"1"}]}])",
                          R"([{"role":"assistant","function_call":{"name":"f"}}])",
                          R"([{"tool_calls":[{"id":"1"}],"role":"assistant"}])"}) {
        auto r = scan_chat_request(with_messages(m));
        EXPECT_TRUE(r.has_value()) << m << ": " << r.error().message;
    }
}

TEST(ScanChatRequest, FirstShapeErrorInDocumentOrderWins) {
    auto r = scan_chat_request(R"({"stream":1,"model":5,"messages":[]})");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().param, "stream");
}

TEST(ScanChatRequest, SyntaxErrorWinsOverShapeError) {
    auto r = scan_chat_request(R"({"model":5,"messages":[],"x":tru})");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::invalid_json);
    EXPECT_TRUE(r.error().param.empty());
}

// ---- syntax -------------------------------------------------------------------------------

TEST(ScanChatRequest, EmptyBody) {
    for (std::string_view body : {std::string_view(""), std::string_view(" \r\n\t ")}) {
        auto r = scan_chat_request(body);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, Errc::invalid_json);
        EXPECT_EQ(r.error().message, "request body is empty; expected a JSON object");
    }
}

struct SyntaxCase {
    std::string body;
    std::string message;
};

std::string at(int line, int col, int byte, std::string_view what) {
    return "malformed JSON at line " + std::to_string(line) + " column " + std::to_string(col) +
           " (byte " + std::to_string(byte) + "): " + std::string(what);
}

TEST(ScanChatRequest, SyntaxErrorsSayWhere) {
    const std::vector<SyntaxCase> cases = {
        {R"({"model":"m" "messages":[]})", at(1, 14, 13, "expected ',' or '}'")},
        {R"({"model":"m",})", at(1, 14, 13, "expected a string key")},
        {R"({)", at(1, 2, 1, "unexpected end of input, expected a string key or '}'")},
        {R"({"a")", at(1, 5, 4, "unexpected end of input, expected ':' after the object key")},
        {R"({"a":)", at(1, 6, 5, "unexpected end of input, expected a JSON value")},
        {R"({"a":1)", at(1, 7, 6, "unexpected end of input, expected ',' or '}'")},
        {R"({"a":[1)", at(1, 8, 7, "unexpected end of input, expected ',' or ']'")},
        {R"({'a':1})", at(1, 2, 1, "expected a string key or '}'")},
        {R"([])", at(1, 1, 0, "expected a JSON object ('{')")},
        {R"("model")", at(1, 1, 0, "expected a JSON object ('{')")},
        {"  42", at(1, 3, 2, "expected a JSON object ('{')")},
        {R"({"a":1} x)", at(1, 9, 8, "unexpected data after the JSON object")},
        {R"({"a":1}{})", at(1, 8, 7, "unexpected data after the JSON object")},
        {R"({"a":tru})", at(1, 9, 8, "invalid literal, expected 'true'")},
        {R"({"a":nul)", at(1, 9, 8, "unexpected end of input, invalid literal, expected 'null'")},
        {R"({"a":fals})", at(1, 10, 9, "invalid literal, expected 'false'")},
        {R"({"a":True})", at(1, 6, 5, "expected a JSON value")},
        {R"({"a":01})", at(1, 7, 6, "leading zeros are not allowed in numbers")},
        {R"({"a":-})", at(1, 7, 6, "expected a digit")},
        {R"({"a":+1})", at(1, 6, 5, "expected a JSON value")},
        {R"({"a":.5})", at(1, 6, 5, "expected a JSON value")},
        {R"({"a":1.})", at(1, 8, 7, "expected a digit after the decimal point")},
        {R"({"a":1e})", at(1, 8, 7, "expected a digit in the exponent")},
        {R"({"a":1e+})", at(1, 9, 8, "expected a digit in the exponent")},
        {R"({"a":"\x"})", at(1, 8, 7, "invalid escape sequence in string")},
        {R"({"a":"\u12G4"})", at(1, 11, 10, "expected 4 hex digits after '\\u'")},
        {R"({"a":"\u12)",
         at(1, 11, 10, "unexpected end of input, expected 4 hex digits after '\\u'")},
        {R"({"a":"\uDC00"})", at(1, 7, 6, "unpaired UTF-16 low surrogate in '\\u' escape")},
        {R"({"a":"\uD800"})",
         at(1, 7, 6, "UTF-16 high surrogate in '\\u' escape not followed by a low one")},
        {R"({"a":"\uD800\u0041"})",
         at(1, 7, 6, "UTF-16 high surrogate in '\\u' escape not followed by a low one")},
        {R"({"a":"\uD800\uD800"})",
         at(1, 7, 6, "UTF-16 high surrogate in '\\u' escape not followed by a low one")},
        {"{\"a\":\"x\ty\"}", at(1, 8, 7, "control character in string (must be escaped)")},
        {std::string("{\"a\":\"x\0\"}", 10),
         at(1, 8, 7, "control character in string (must be escaped)")},
        {R"({"a":"abc)",
         at(1, 10, 9, "unexpected end of input, expected '\"' to close the string")},
        {R"({"a" 1})", at(1, 6, 5, "expected ':' after the object key")},
        {R"({"a":})", at(1, 6, 5, "expected a JSON value")},
        {R"({"a":[1,]})", at(1, 9, 8, "expected a JSON value")},
        {R"({"a":[1 2]})", at(1, 9, 8, "expected ',' or ']'")},
        {R"({"a":[,1]})", at(1, 7, 6, "expected a JSON value")},
        {"{\n  \"model\": \"m\",\n  \"x\": ?\n}", at(3, 8, 25, "expected a JSON value")},
        {"{\"a\":\"\xC3\xA9\"\xC3\xA9}", at(1, 9, 9, "expected ',' or '}'")},
        // Invalid UTF-8 inside strings: columns count characters, bytes count bytes.
        {"{\"a\":\"\xC3\xA9\xFF\"}", at(1, 8, 8, "invalid UTF-8 in string")},
        {"{\"a\":\"\x80\"}", at(1, 7, 6, "invalid UTF-8 in string")},
        {"{\"a\":\"\xC0\x80\"}", at(1, 7, 6, "invalid UTF-8 in string")},
        {"{\"a\":\"\xC3\"}", at(1, 7, 6, "invalid UTF-8 in string")},
        {"{\"a\":\"\xE0\x80\x80\"}", at(1, 7, 6, "invalid UTF-8 in string")},
        {"{\"a\":\"\xED\xA0\x80\"}", at(1, 7, 6, "invalid UTF-8 in string")},
        {"{\"a\":\"\xF0\x80\x80\x80\"}", at(1, 7, 6, "invalid UTF-8 in string")},
        {"{\"a\":\"\xF4\x90\x80\x80\"}", at(1, 7, 6, "invalid UTF-8 in string")},
        {"{\"a\":\"\xF5\x80\x80\x80\"}", at(1, 7, 6, "invalid UTF-8 in string")},
        {"{\"a\":\"\xE2\x82\"}", at(1, 7, 6, "invalid UTF-8 in string")},
        // A run of multi-byte characters ending in a truncated sequence.
        {"{\"a\":\"\xE4\xBD\xA0\xE5\xA5\xBD\xE5\xA5\"}", at(1, 9, 12, "invalid UTF-8 in string")},
        {"\xEF\xBB\xBF{}", at(1, 1, 0, "expected a JSON object ('{')")},
    };
    for (const auto& c : cases) {
        auto r = scan_chat_request(c.body);
        ASSERT_FALSE(r.has_value()) << c.body;
        EXPECT_EQ(r.error().code, Errc::invalid_json) << c.body;
        EXPECT_EQ(r.error().message, c.message) << c.body;
        EXPECT_TRUE(r.error().param.empty());
        EXPECT_FALSE(json::accept(c.body) && c.body.find('{') == 0) << c.body;
    }
}

TEST(ScanChatRequest, NumbersAndLiteralsAccepted) {
    for (const char* v : {"0", "-0", "1", "-1", "0.5", "-0.0e0", "1E10", "1e-10", "2E+3",
                          "123456789012345678901234567890", "true", "false", "null", "\"\"", "[]",
                          "{}", "[[],{}]", "{\"\":\"\"}"}) {
        const std::string body = with(std::string("\"v\":") + v + ",");
        auto r = scan_chat_request(body);
        EXPECT_TRUE(r.has_value()) << body << ": " << r.error().message;
    }
}

std::string nested(int depth_inside) {
    return R"({"model":"m","messages":[{"role":"user","content":"x"}],"x":)" +
           std::string(size_t(depth_inside), '[') + std::string(size_t(depth_inside), ']') + "}";
}

TEST(ScanChatRequest, NestingDepthLimit) {
    // The top-level object counts as depth 1: 127 arrays inside it make 128.
    auto r = scan_chat_request(nested(127));
    EXPECT_TRUE(r.has_value()) << r.error().message;
    const std::string deep = nested(128);
    r = scan_chat_request(deep);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::invalid_json);
    const size_t byte = deep.find('[', deep.find("\"x\":")) + 127;
    EXPECT_EQ(r.error().message,
              at(1, int(byte) + 1, int(byte), "nesting depth exceeds the limit of 128"));
    // Far deeper input fails fast without exhausting the stack.
    r = scan_chat_request(nested(1'000'000));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::invalid_json);
    // Objects count too.
    std::string objs = "{";
    for (int k = 0; k < 200; ++k) objs += "\"k\":{";
    r = scan_chat_request(objs);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("nesting depth exceeds the limit of 128"), std::string::npos);
}

// Every position of a special byte inside strings of every length, to exercise the block
// (SIMD/SWAR) scan and the byte-wise tail alike.
TEST(ScanChatRequest, StringScanFindsSpecialBytesAtEveryOffset) {
    for (size_t len = 0; len < 48; ++len) {
        for (size_t k = 0; k < len; ++k) {
            const std::string prefix = R"({"model":"m","messages":[{"role":"user","content":")";
            for (std::string_view special :
                 {std::string_view("\x01"), std::string_view("\\n"), std::string_view("\xC3\xA9"),
                  std::string_view("\xFF"), std::string_view("\"")}) {
                std::string content(len, 'a');
                content.replace(k, 1, special);
                const std::string body = prefix + content + "\"}]}";
                auto r = scan_chat_request(body);
                if (special == "\x01" || special == "\xFF") {
                    ASSERT_FALSE(r.has_value());
                    EXPECT_EQ(r.error().code, Errc::invalid_json);
                    EXPECT_NE(
                        r.error().message.find("(byte " + std::to_string(prefix.size() + k) + ")"),
                        std::string::npos)
                        << r.error().message;
                } else if (special == "\"") {
                    EXPECT_FALSE(r.has_value());
                } else {
                    ASSERT_TRUE(r.has_value()) << r.error().message;
                    EXPECT_EQ(span_text(body, r->text_spans.at(0)), content);
                }
            }
        }
    }
}

// Random mutations of valid bodies: the scanner must agree with nlohmann::json::accept on what
// is syntactically valid (top-level object required).
TEST(ScanChatRequest, AgreesWithNlohmannOnMutatedInput) {
    const std::vector<std::string> seeds = {
        std::string(kMinimal),
        R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a\u00e9\n"},)"
        R"({"type":"image_url","image_url":{"url":"u"}}]}],"temperature":-1.5e+2,"stream":true,)"
        R"("stream_options":{"include_usage":false},"x":[null,true,false,0,{},[]]})",
        "{ \"model\" : \"m\" , \"messages\" : [ { \"role\" : \"assistant\" , \"content\" : "
        "\"caf\xC3\xA9 \\ud83d\\ude00\" } ] }",
    };
    const std::string alphabet = "{}[]:,\"\\ unt0-.eE+1a/\t\n\x01\xC3\xA9\x80\xFF\xED";
    std::mt19937 rng(12345);
    size_t valid = 0;
    size_t invalid = 0;
    for (int iter = 0; iter < 30000; ++iter) {
        std::string body = seeds[rng() % seeds.size()];
        const int edits = 1 + int(rng() % 3);
        for (int e = 0; e < edits && !body.empty(); ++e) {
            const size_t pos = rng() % body.size();
            const char c = alphabet[rng() % alphabet.size()];
            switch (rng() % 4) {
                case 0:
                    body[pos] = c;
                    break;
                case 1:
                    body.insert(body.begin() + long(pos), c);
                    break;
                case 2:
                    body.erase(pos, 1);
                    break;
                default:
                    body.resize(pos);
                    break;
            }
        }
        const size_t first = body.find_first_not_of(" \t\r\n");
        const bool ok = json::accept(body) && first != std::string::npos && body[first] == '{';
        auto r = scan_chat_request(body);
        const bool syntax_ok = r.has_value() || r.error().code != Errc::invalid_json;
        ASSERT_EQ(syntax_ok, ok) << body << "\n" << (r ? "" : r.error().message);
        (ok ? valid : invalid)++;
    }
    EXPECT_GT(valid, 1000u);
    EXPECT_GT(invalid, 1000u);
}

double cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// Not a timed assertion: prints throughput so regressions are visible (meaningful only in an
// optimised build without sanitizers).
TEST(ScanChatRequest, PrintsSpeed) {
    const std::string small =
        R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful )"
        R"(assistant."},{"role":"user","content":"Write a haiku about routers and the sea, )"
        R"(please."}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":256,)"
        R"("temperature":0.2})";
    std::string big = R"({"model":"gpt-4o","messages":[)";
    for (int k = 0; big.size() < 20'000; ++k) {
        if (k) big += ',';
        big += R"({"role":")";
        big += (k % 2) ? "assistant" : "user";
        big += R"(","content":"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do )"
               R"(eiusmod tempor incididunt ut labore et dolore magna aliqua. \"Ut enim\" ad )"
               R"(minim veniam, quis nostrud exercitation ullamco laboris.\n"})";
    }
    big += R"(],"stream":false})";
    for (const std::string* body : {&small, static_cast<const std::string*>(&big)}) {
        ASSERT_TRUE(scan_chat_request(*body).has_value());
        const int iters = body->size() < 1000 ? 20000 : 1000;
        // Thread CPU time, so a loaded machine does not inflate the figure.
        const double t0 = cpu_ns();
        size_t sink = 0;
        for (int k = 0; k < iters; ++k) sink += scan_chat_request(*body)->message_count;
        const double ns = (cpu_ns() - t0) / iters;
        std::printf("[ speed    ] scan_chat_request %zu bytes: %.0f ns/op (%zu)\n", body->size(),
                    ns, sink);
    }
}

}  // namespace
}  // namespace baton::openai
