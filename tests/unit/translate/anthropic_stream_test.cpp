// Stream translator rules (the fixtures cover whole streams; these cover the edges).
#include "baton/translate/anthropic_stream.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "baton/openai/sse.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using test::json;

const char* kStart =
    R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",
        "model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,
        "usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}})";

std::vector<json> chunks(const std::string& sse) {
    std::vector<json> out;
    for (const auto& e : test::parse_sse(sse)) {
        EXPECT_EQ(e.event, "") << "OpenAI streams carry no event names";
        out.push_back(e.data == "[DONE]" ? json("[DONE]") : json::parse(e.data));
    }
    return out;
}

std::string block_start(int index, const std::string& block) {
    return R"({"type":"content_block_start","index":)" + std::to_string(index) +
           R"(,"content_block":)" + block + "}";
}
std::string block_delta(int index, const std::string& delta) {
    return R"({"type":"content_block_delta","index":)" + std::to_string(index) + R"(,"delta":)" +
           delta + "}";
}

TEST(AnthropicStreamToOpenAI, WithoutIncludeUsageNoUsageChunkAndNoUsageKey) {
    AnthropicStreamToOpenAI tr({{"chatcmpl-x", "alias", 7}, false, true});
    std::string out = tr.feed("message_start", kStart);
    out += tr.feed("message_delta",
                   R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},
            "usage":{"output_tokens":3}})");
    out += tr.feed("message_stop", R"({"type":"message_stop"})");
    auto c = chunks(out);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0]["id"], "chatcmpl-x");  // meta overrides the upstream id and model
    EXPECT_EQ(c[0]["model"], "alias");
    EXPECT_EQ(c[0]["created"], 7);
    EXPECT_FALSE(c[0].contains("usage"));
    EXPECT_EQ(c[1]["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(c[2], "[DONE]");
    EXPECT_TRUE(tr.done());
    EXPECT_FALSE(tr.failed());
    EXPECT_EQ(tr.usage()["prompt_tokens"], 15);
    EXPECT_EQ(tr.usage()["completion_tokens"], 3);
    EXPECT_EQ(tr.feed("ping", R"({"type":"ping"})"), "");  // after the end: nothing
    EXPECT_EQ(tr.finish(), "");
}

TEST(AnthropicStreamToOpenAI, ToolIndexesCountToolUseBlocksOnly) {
    AnthropicStreamToOpenAI tr({});
    std::string out = tr.feed("", kStart);  // no SSE event name: the JSON type decides
    out += tr.feed("", block_start(0, R"({"type":"thinking","thinking":"","signature":""})"));
    out += tr.feed("", block_start(1, R"({"type":"text","text":""})"));
    out += tr.feed("", block_start(2, R"({"type":"tool_use","id":"t1","name":"a","input":{}})"));
    out += tr.feed("", block_start(3, R"({"type":"text","text":""})"));
    out += tr.feed("", block_start(4, R"({"type":"tool_use","id":"t2","name":"b","input":{}})"));
    out += tr.feed("", block_delta(4, R"({"type":"input_json_delta","partial_json":"{}"})"));
    out += tr.feed("", block_delta(2, R"({"type":"input_json_delta","partial_json":""})"));
    auto c = chunks(out);
    ASSERT_EQ(c.size(), 4u);  // role, two tool starts, one non-empty fragment
    EXPECT_EQ(c[1]["choices"][0]["delta"]["tool_calls"][0]["index"], 0);
    EXPECT_EQ(c[1]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"], "");
    EXPECT_EQ(c[2]["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
    EXPECT_EQ(c[3]["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
    EXPECT_FALSE(c[3]["choices"][0]["delta"]["tool_calls"][0].contains("id"));
}

TEST(AnthropicStreamToOpenAI, NonEmptyInputInStartEventBecomesArguments) {
    AnthropicStreamToOpenAI tr({});
    tr.feed("message_start", kStart);
    auto c = chunks(
        tr.feed("content_block_start",
                block_start(0, R"({"type":"tool_use","id":"t","name":"f","input":{"k":"v"}})")));
    EXPECT_EQ(c[0]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
              R"({"k":"v"})");
}

TEST(AnthropicStreamToOpenAI, ThinkingBlocksOption) {
    auto run = [](bool blocks) {
        AnthropicStreamToOpenAI tr({{}, false, blocks});
        std::string out = tr.feed("message_start", kStart);
        out += tr.feed("content_block_start",
                       block_start(0, R"({"type":"thinking","thinking":"","signature":""})"));
        out += tr.feed("content_block_delta",
                       block_delta(0, R"({"type":"thinking_delta","thinking":"hm"})"));
        out += tr.feed("content_block_delta",
                       block_delta(0, R"({"type":"signature_delta","signature":"S"})"));
        out += tr.feed("content_block_stop", R"({"type":"content_block_stop","index":0})");
        return chunks(out);
    };
    auto with = run(true);
    ASSERT_EQ(with.size(), 3u);
    EXPECT_EQ(with[1]["choices"][0]["delta"]["reasoning_content"], "hm");
    EXPECT_EQ(with[2]["choices"][0]["delta"]["thinking_blocks"],
              json::parse(R"([{"type":"thinking","thinking":"hm","signature":"S"}])"));
    EXPECT_EQ(run(false).size(), 2u);
}

TEST(AnthropicStreamToOpenAI, UsageIsCumulativeAndMissingFieldsAreUnchanged) {
    AnthropicStreamToOpenAI tr({{}, true, true});
    tr.feed("message_start", kStart);
    tr.feed("message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":5}})");
    tr.feed("message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},
            "usage":{"output_tokens":9,"cache_read_input_tokens":7}})");
    auto c = chunks(tr.feed("message_stop", R"({"type":"message_stop"})"));
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0]["choices"][0]["finish_reason"], "length");
    EXPECT_TRUE(c[0]["usage"].is_null());
    EXPECT_EQ(c[1]["choices"], json::array());
    EXPECT_EQ(c[1]["usage"]["prompt_tokens"], 17);     // 10 input + 7 cache read (updated)
    EXPECT_EQ(c[1]["usage"]["completion_tokens"], 9);  // set, not added
}

TEST(AnthropicStreamToOpenAI, ProtocolErrors) {
    {
        AnthropicStreamToOpenAI tr({});
        auto c =
            chunks(tr.feed("content_block_start", block_start(0, R"({"type":"text","text":""})")));
        ASSERT_EQ(c.size(), 1u);
        EXPECT_EQ(c[0]["error"]["code"], "upstream_protocol_error");
        EXPECT_TRUE(tr.failed());
    }
    {
        AnthropicStreamToOpenAI tr({});
        tr.feed("message_start", kStart);
        auto c = chunks(tr.feed("content_block_delta", "{not json"));
        EXPECT_EQ(c[0]["error"]["type"], "api_error");
        EXPECT_TRUE(tr.done());
    }
    {
        AnthropicStreamToOpenAI tr({});
        tr.feed("message_start", kStart);
        EXPECT_EQ(tr.feed("mystery_event", R"({"type":"mystery_event"})"), "");  // ignored
        auto c = chunks(tr.fail(baton::make_error(baton::Errc::upstream_timeout, "upstream idle")));
        EXPECT_EQ(c[0]["error"]["message"], "upstream idle");
        EXPECT_EQ(c[0]["error"]["code"], "upstream_timeout");
        EXPECT_EQ(tr.fail(baton::make_error(baton::Errc::internal, "again")), "");
    }
}

TEST(AnthropicStreamToOpenAI, UpstreamErrorEventTypes) {
    AnthropicStreamToOpenAI tr({});
    tr.feed("message_start", kStart);
    auto c = chunks(tr.feed(
        "error", R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})"));
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(test::Unordered(c[0]),
              test::Unordered(json::parse(
                  R"({"error":{"message":"slow down","type":"rate_limit_error","param":null,
                "code":"rate_limit_exceeded"}})")));
    EXPECT_TRUE(tr.failed());
}

// The translator is fed from an SseDecoder; byte-by-byte delivery gives the same output.
TEST(AnthropicStreamToOpenAI, ArbitraryNetworkSplits) {
    const std::string upstream = test::read_file(test::fixture_root() / "stream_to_openai" /
                                                 "tool_use_split_json.anthropic.sse");
    auto run = [&](size_t step) {
        AnthropicStreamToOpenAI tr({{}, true, true});
        openai::SseDecoder d;
        std::string out;
        for (size_t i = 0; i < upstream.size(); i += step) {
            d.feed(std::string_view(upstream).substr(i, step),
                   [&](const openai::SseEvent& e) { out += tr.feed(e.event, e.data); });
        }
        return out + tr.finish();
    };
    const std::string whole = run(upstream.size());
    EXPECT_EQ(run(1), whole);
    EXPECT_EQ(run(7), whole);
}

// ---- OpenAI → Anthropic -------------------------------------------------------------------

std::vector<test::Event> events(const std::string& sse) { return test::parse_sse(sse); }

std::string chunk(const std::string& delta, const std::string& finish = "null") {
    return R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-x",
        "choices":[{"index":0,"delta":)" +
           delta + R"(,"finish_reason":)" + finish + "}]}";
}

TEST(OpenAIStreamToAnthropic, FramingAndOrder) {
    OpenAIStreamToAnthropic tr({"msg_fixed", "", 0});
    std::string out = tr.feed(chunk(R"({"role":"assistant","content":"Hi"})"));
    out += tr.feed(chunk("{}", R"("stop")"));
    out += tr.feed("[DONE]");
    EXPECT_EQ(out.rfind("event: message_start\ndata: {", 0), 0u);
    auto ev = events(out);
    std::vector<std::string> names;
    for (const auto& e : ev) names.push_back(e.event);
    EXPECT_EQ(names, (std::vector<std::string>{"message_start", "content_block_start",
                                               "content_block_delta", "content_block_stop",
                                               "message_delta", "message_stop"}));
    EXPECT_EQ(json::parse(ev[0].data)["message"]["id"], "msg_fixed");
    EXPECT_EQ(json::parse(ev[0].data)["message"]["model"], "gpt-x");
    EXPECT_TRUE(tr.done());
    EXPECT_EQ(tr.feed(chunk(R"({"content":"late"})")), "");
}

TEST(OpenAIStreamToAnthropic, InterleavedParallelToolCallsKeepTheirBlocks) {
    OpenAIStreamToAnthropic tr({});
    std::string out = tr.feed(chunk(
        R"({"tool_calls":[{"index":0,"id":"a","type":"function",
            "function":{"name":"f","arguments":"{\"x\":"}}]})"));
    out += tr.feed(chunk(
        R"({"tool_calls":[{"index":1,"id":"b","type":"function",
            "function":{"name":"g","arguments":"{\"y\":"}}]})"));
    out += tr.feed(chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]})"));
    out += tr.feed(chunk(R"({"tool_calls":[{"index":1,"function":{"arguments":"2}"}}]})"));
    out += tr.feed(chunk("{}", R"("tool_calls")"));
    out += tr.finish();  // no [DONE]: a finish_reason was seen, so the message completes
    const json msg = test::accumulate_anthropic(events(out));
    ASSERT_TRUE(msg["done"].get<bool>());
    EXPECT_EQ(msg["message"]["content"][0]["input"], json::parse(R"({"x":1})"));
    EXPECT_EQ(msg["message"]["content"][1]["input"], json::parse(R"({"y":2})"));
    EXPECT_EQ(msg["message"]["stop_reason"], "tool_use");
}

TEST(OpenAIStreamToAnthropic, ToolCallWithoutIdOrIndexGetsGeneratedOnes) {
    OpenAIStreamToAnthropic tr({});
    std::string out = tr.feed(
        chunk(R"({"tool_calls":[{"function":{"name":"f","arguments":"{}"}}]})", R"("tool_calls")"));
    out += tr.feed("[DONE]");
    const json msg = test::accumulate_anthropic(events(out));
    EXPECT_EQ(msg["message"]["content"][0]["id"], "toolu_baton_0");
    EXPECT_EQ(msg["message"]["content"][0]["name"], "f");
}

TEST(OpenAIStreamToAnthropic, RefusalDeltaEndsWithRefusal) {
    OpenAIStreamToAnthropic tr({});
    std::string out = tr.feed(chunk(R"({"role":"assistant","content":null,"refusal":"No."})"));
    out += tr.feed(chunk("{}", R"("stop")"));
    out += tr.feed("[DONE]");
    const json msg = test::accumulate_anthropic(events(out));
    EXPECT_EQ(msg["message"]["content"][0]["text"], "No.");
    EXPECT_EQ(msg["message"]["stop_reason"], "refusal");
}

TEST(OpenAIStreamToAnthropic, OnlyTheFirstChoiceIsTranslated) {
    OpenAIStreamToAnthropic tr({});
    std::string out = tr.feed(
        R"({"id":"c","model":"m","choices":[{"index":1,"delta":{"content":"other"}},
                                          {"index":0,"delta":{"content":"mine"}}]})");
    out += tr.feed("[DONE]");
    const json msg = test::accumulate_anthropic(events(out));
    ASSERT_EQ(msg["message"]["content"].size(), 1u);
    EXPECT_EQ(msg["message"]["content"][0]["text"], "mine");
}

TEST(OpenAIStreamToAnthropic, ErrorsAndTruncation) {
    {
        OpenAIStreamToAnthropic tr({});
        auto ev = events(tr.feed("garbage"));
        ASSERT_EQ(ev.size(), 1u);
        EXPECT_EQ(ev[0].event, "error");
        EXPECT_EQ(json::parse(ev[0].data)["error"]["type"], "api_error");
        EXPECT_TRUE(tr.failed());
    }
    {
        OpenAIStreamToAnthropic tr({});
        tr.feed(chunk(R"({"content":"x"})"));
        auto ev = events(tr.feed(
            R"({"error":{"message":"quota","type":"insufficient_quota",
                "code":"insufficient_quota"}})"));
        EXPECT_EQ(json::parse(ev[0].data)["error"]["type"], "billing_error");
    }
    {
        OpenAIStreamToAnthropic tr({});
        tr.feed(chunk(R"({"content":"x"})"));
        auto ev = events(tr.finish());
        ASSERT_EQ(ev.size(), 1u);
        EXPECT_EQ(ev[0].event, "error");
    }
    {
        OpenAIStreamToAnthropic tr({});
        auto ev = events(tr.fail(baton::make_error(baton::Errc::upstream_timeout, "idle")));
        EXPECT_EQ(json::parse(ev[0].data)["error"]["type"], "timeout_error");
    }
    {
        OpenAIStreamToAnthropic tr({"msg_e", "m", 0});
        auto ev = events(tr.feed("[DONE]"));  // an empty but complete stream
        ASSERT_EQ(ev.size(), 3u);
        EXPECT_EQ(ev[0].event, "message_start");
        EXPECT_EQ(ev[2].event, "message_stop");
    }
}

TEST(OpenAIStreamToAnthropic, UsageAccessor) {
    OpenAIStreamToAnthropic tr({});
    tr.feed(chunk(R"({"content":"x"})"));
    tr.feed(
        R"({"id":"c","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,
            "prompt_tokens_details":{"cached_tokens":60}}})");
    EXPECT_EQ(test::Unordered(tr.usage()),
              test::Unordered(json::parse(
                  R"({"input_tokens":40,"cache_creation_input_tokens":0,
                "cache_read_input_tokens":60,"output_tokens":5})")));
}

}  // namespace
}  // namespace baton::translate
