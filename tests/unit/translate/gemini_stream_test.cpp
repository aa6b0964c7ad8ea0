// Gemini stream translator rules (the fixtures cover whole streams; these cover the edges).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "baton/openai/sse.hpp"
#include "baton/translate/gemini.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using test::json;

std::vector<json> chunks(const std::string& sse) {
    std::vector<json> out;
    for (const auto& e : test::parse_sse(sse)) {
        EXPECT_EQ(e.event, "") << "OpenAI streams carry no event names";
        out.push_back(e.data == "[DONE]" ? json("[DONE]") : json::parse(e.data));
    }
    return out;
}

std::string text_event(const std::string& text, const std::string& finish = "") {
    json c = {{"content", {{"role", "model"}, {"parts", {{{"text", text}}}}}}, {"index", 0}};
    if (!finish.empty()) c["finishReason"] = finish;
    return json({{"candidates", {c}},
                 {"responseId", "r-1"},
                 {"modelVersion", "gemini-2.5-flash"},
                 {"usageMetadata", {{"promptTokenCount", 5}, {"candidatesTokenCount", 1}}}})
        .dump();
}

const json& delta(const json& chunk) { return chunk["choices"][0]["delta"]; }

TEST(GeminiStreamToOpenAI, WithoutIncludeUsageNoUsageChunkAndNoUsageKey) {
    GeminiStreamToOpenAI tr({{"chatcmpl-x", "alias", 7}, false, true});
    std::string out = tr.feed(text_event("Hel"));
    EXPECT_FALSE(tr.complete());
    out += tr.feed(text_event("lo", "STOP"));
    EXPECT_TRUE(tr.complete());
    EXPECT_FALSE(tr.done());  // [DONE] waits for the end of the upstream stream
    out += tr.finish();
    auto c = chunks(out);
    ASSERT_EQ(c.size(), 5u);              // role, "Hel", "lo", finish, [DONE]
    EXPECT_EQ(c[0]["id"], "chatcmpl-x");  // meta overrides the upstream id and model
    EXPECT_EQ(c[0]["model"], "alias");
    EXPECT_EQ(c[0]["created"], 7);
    EXPECT_FALSE(c[0].contains("usage"));
    EXPECT_EQ(delta(c[0]), json::parse(R"({"role":"assistant","content":""})"));
    EXPECT_EQ(delta(c[1])["content"], "Hel");
    EXPECT_EQ(c[3]["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(delta(c[3]), json::object());
    EXPECT_EQ(c[4], "[DONE]");
    EXPECT_TRUE(tr.done());
    EXPECT_FALSE(tr.failed());
    EXPECT_EQ(tr.usage()["prompt_tokens"], 5);
    EXPECT_EQ(tr.feed(text_event("late")), "");  // after the end: nothing
    EXPECT_EQ(tr.finish(), "");
}

TEST(GeminiStreamToOpenAI, IdsAndModelFromTheFirstEventWhenMetaIsEmpty) {
    GeminiStreamToOpenAI tr({});
    auto c = chunks(tr.feed(text_event("x")));
    ASSERT_FALSE(c.empty());
    EXPECT_EQ(c[0]["id"], "r-1");
    EXPECT_EQ(c[0]["model"], "gemini-2.5-flash");
}

TEST(GeminiStreamToOpenAI, ToolIndexesRunAcrossEventsAndUpstreamIdsWin) {
    GeminiStreamToOpenAI tr({{"chatcmpl-1", "", 0}, false, false});
    std::string out = tr.feed(
        R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"a","args":{"x":1}},"thoughtSignature":"c2ln"}]}}]})");
    out += tr.feed(
        R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"b","id":"up-2"}}]},"finishReason":"STOP"}]})");
    auto c = chunks(out);
    ASSERT_EQ(c.size(), 4u);
    const json& t0 = delta(c[1])["tool_calls"][0];
    EXPECT_EQ(t0["index"], 0);
    EXPECT_EQ(t0["id"], "call_25c04111_0");
    EXPECT_EQ(t0["function"]["arguments"], "{\"x\":1}");
    EXPECT_FALSE(t0.contains("extra_content"));  // thought_signatures off
    const json& t1 = delta(c[2])["tool_calls"][0];
    EXPECT_EQ(t1["index"], 1);
    EXPECT_EQ(t1["id"], "up-2");
    EXPECT_EQ(t1["function"]["arguments"], "{}");
    EXPECT_EQ(c[3]["choices"][0]["finish_reason"], "tool_calls");
}

TEST(GeminiStreamToOpenAI, UnspecifiedFinishIsNotTerminalAndPartsAfterFinishAreIgnored) {
    GeminiStreamToOpenAI tr({});
    std::string out = tr.feed(text_event("a", "FINISH_REASON_UNSPECIFIED"));
    EXPECT_FALSE(tr.complete());
    out += tr.feed(text_event("b", "MAX_TOKENS"));
    out += tr.feed(text_event("c", "STOP"));
    out += tr.finish();
    auto c = chunks(out);
    ASSERT_EQ(c.size(), 5u);  // role, a, b, finish, [DONE]
    EXPECT_EQ(c[3]["choices"][0]["finish_reason"], "length");
}

TEST(GeminiStreamToOpenAI, MalformedEventsEndTheStreamWithAnError) {
    for (const std::string bad : {"{not json", "[]", "42", R"({"candidates":"x"})",
                                  R"({"candidates":[{"content":{"parts":[{"text":7}]}}]})"}) {
        SCOPED_TRACE(bad);
        GeminiStreamToOpenAI tr({});
        (void)tr.feed(text_event("ok"));
        auto c = chunks(tr.feed(bad));
        ASSERT_EQ(c.size(), 1u);
        EXPECT_EQ(c[0]["error"]["code"], "upstream_protocol_error");
        EXPECT_TRUE(tr.done());
        EXPECT_TRUE(tr.failed());
        EXPECT_EQ(tr.finish(), "");
    }
    GeminiStreamToOpenAI tr({});
    auto c = chunks(tr.feed(R"({"candidates":[{"content":{"parts":[{"text":7}]}}]})"));
    EXPECT_NE(
        c[0]["error"]["message"].get<std::string>().find("candidates[0].content.parts[0].text"),
        std::string::npos);
}

TEST(GeminiStreamToOpenAI, ErrorDocumentsIncludingArrayWrappedOnes) {
    GeminiStreamToOpenAI tr({});
    auto c = chunks(tr.feed(
        R"([{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}])"));
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0]["error"]["type"], "rate_limit_error");
    EXPECT_EQ(c[0]["error"]["message"], "Resource exhausted");
    EXPECT_TRUE(tr.failed());
}

TEST(GeminiStreamToOpenAI, FailAndEmptyStreams) {
    GeminiStreamToOpenAI tr({});
    EXPECT_EQ(tr.feed("{}"), "");  // an empty document: nothing to say
    EXPECT_FALSE(tr.complete());
    auto c = chunks(tr.finish());  // EOF before anything: an error, not an empty success
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0]["error"]["code"], "upstream_protocol_error");

    GeminiStreamToOpenAI tr2({});
    (void)tr2.feed(text_event("x"));
    c = chunks(tr2.fail(baton::make_error(baton::Errc::upstream_timeout, "idle")));
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0]["error"]["message"], "idle");
    EXPECT_TRUE(tr2.failed());
    EXPECT_EQ(tr2.fail(baton::make_error(baton::Errc::internal, "again")), "");
    EXPECT_EQ(tr2.finish(), "");
}

TEST(GeminiStreamToOpenAI, ChoicesWaitForEveryCandidate) {
    GeminiStreamToOpenAI tr({});
    (void)tr.feed(R"({"candidates":[{"content":{"parts":[{"text":"a"}]},"index":0},
                                    {"content":{"parts":[{"text":"b"}]},"index":1}]})");
    (void)tr.feed(R"({"candidates":[{"finishReason":"STOP","index":0}]})");
    EXPECT_FALSE(tr.complete());
    auto c = chunks(tr.finish());
    ASSERT_EQ(c.size(), 1u);
    EXPECT_TRUE(c[0].contains("error"));
}

// Bytes split anywhere (CRLF framing included) give the same output as whole events.
TEST(GeminiStreamToOpenAI, ArbitraryByteSplits) {
    const std::string body = "data: " + text_event("Hello") +
                             "\r\n\r\ndata: " + text_event(" world", "STOP") + "\r\n\r\n";
    auto run = [&](size_t step) {
        GeminiStreamToOpenAI tr({{"x", "m", 1}, true, true});
        openai::SseDecoder d;
        std::string out;
        for (size_t i = 0; i < body.size(); i += step) {
            d.feed(std::string_view(body).substr(i, step),
                   [&](const openai::SseEvent& e) { out += tr.feed(e.data); });
        }
        return out + tr.finish();
    };
    const std::string whole = run(body.size());
    EXPECT_NE(whole.find("[DONE]"), std::string::npos);
    for (size_t step : {1u, 2u, 3u, 7u, 64u}) EXPECT_EQ(run(step), whole) << step;
}

}  // namespace
}  // namespace baton::translate
