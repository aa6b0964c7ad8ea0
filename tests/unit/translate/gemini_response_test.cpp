// Response and error translator rules (the fixtures cover whole documents; these cover edges).
#include <gtest/gtest.h>

#include <string>

#include "baton/translate/gemini.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using test::json;
using test::Unordered;

json candidate(const std::string& parts, const std::string& finish = "STOP") {
    return json::parse(R"({"content":{"role":"model","parts":)" + parts + R"(},"finishReason":")" +
                       finish + R"("})");
}

json response(json candidates) {
    return {{"candidates", std::move(candidates)},
            {"responseId", "resp-1"},
            {"modelVersion", "gemini-2.5-flash"},
            {"usageMetadata", {{"promptTokenCount", 3}, {"candidatesTokenCount", 2}}}};
}

baton::Error protocol_error(const json& resp) {
    auto r = gemini_to_openai_response(resp, {});
    EXPECT_FALSE(r.has_value()) << r->dump();
    if (r) return {};
    EXPECT_EQ(r.error().code, baton::Errc::upstream_protocol);
    return r.error();
}

TEST(GeminiResponse, MetaOverridesIdAndModel) {
    auto r = gemini_to_openai_response(response({candidate(R"([{"text":"hi"}])")}),
                                       {"chatcmpl-9", "my-alias", 42});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)["id"], "chatcmpl-9");
    EXPECT_EQ((*r)["model"], "my-alias");
    EXPECT_EQ((*r)["created"], 42);
    EXPECT_EQ((*r)["object"], "chat.completion");
    EXPECT_EQ(Unordered((*r)["usage"]),
              Unordered(json::parse(R"({"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,
                                         "prompt_tokens_details":{"cached_tokens":0}})")));
}

TEST(GeminiResponse, ToolCallIds) {
    const json parts = json::parse(R"([{"functionCall":{"name":"a","args":{},"id":"fc-upstream-7"}},
                        {"functionCall":{"name":"b"},"thoughtSignature":"c2ln"}])");
    json resp = response({candidate(parts.dump())});
    auto r = gemini_to_openai_response(resp, {"chatcmpl-1", "", 0});
    ASSERT_TRUE(r.has_value());
    const json& calls = (*r)["choices"][0]["message"]["tool_calls"];
    EXPECT_EQ(calls[0]["id"], "fc-upstream-7");    // the upstream's own id when it sends one
    EXPECT_EQ(calls[1]["id"], "call_25c04111_1");  // deterministic: hash of the id, index
    EXPECT_EQ(calls[1]["function"]["arguments"], "{}");
    EXPECT_EQ(calls[1]["extra_content"]["google"]["thought_signature"], "c2ln");
    EXPECT_TRUE((*r)["choices"][0]["message"]["content"].is_null());
    EXPECT_EQ((*r)["choices"][0]["finish_reason"], "tool_calls");

    // Same response, same ids; another response id, other ids.
    auto again = gemini_to_openai_response(resp, {"chatcmpl-1", "", 0});
    EXPECT_EQ((*again)["choices"][0]["message"]["tool_calls"][1]["id"], calls[1]["id"]);
    auto other = gemini_to_openai_response(resp, {"chatcmpl-2", "", 0});
    EXPECT_NE((*other)["choices"][0]["message"]["tool_calls"][1]["id"], calls[1]["id"]);

    GeminiResponseOptions no_sig;
    no_sig.thought_signatures = false;
    auto plain = gemini_to_openai_response(resp, {}, no_sig);
    EXPECT_FALSE((*plain)["choices"][0]["message"]["tool_calls"][1].contains("extra_content"));
}

TEST(GeminiResponse, FinishReasonTable) {
    EXPECT_EQ(finish_reason_for_gemini("STOP", false), "stop");
    EXPECT_EQ(finish_reason_for_gemini("STOP", true), "tool_calls");
    EXPECT_EQ(finish_reason_for_gemini("MAX_TOKENS", true), "length");
    for (const char* r : {"SAFETY", "RECITATION", "LANGUAGE", "BLOCKLIST", "PROHIBITED_CONTENT",
                          "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"}) {
        EXPECT_EQ(finish_reason_for_gemini(r, true), "content_filter") << r;
    }
    for (const char* r : {"OTHER", "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL",
                          "TOO_MANY_TOOL_CALLS", "FINISH_REASON_UNSPECIFIED", "", "NEW_REASON"}) {
        EXPECT_EQ(finish_reason_for_gemini(r, false), "stop") << r;
    }
}

TEST(GeminiResponse, UsageWithoutMetadataIsZero) {
    EXPECT_EQ(Unordered(openai_usage_from_gemini(json::object())),
              Unordered(json::parse(R"({"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,
                                         "prompt_tokens_details":{"cached_tokens":0}})")));
    json resp = response({candidate(R"([{"text":"x"}])")});
    resp.erase("usageMetadata");
    auto r = gemini_to_openai_response(resp, {});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)["usage"]["total_tokens"], 0);
}

TEST(GeminiResponse, EmptyCandidatesWithBlockReasonIsFiltered) {
    const json resp = json::parse(
        R"({"candidates":[],"promptFeedback":{"blockReason":"OTHER"},"responseId":"r"})");
    auto r = gemini_to_openai_response(resp, {});
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ((*r)["choices"].size(), 1u);
    EXPECT_EQ((*r)["choices"][0]["finish_reason"], "content_filter");
    EXPECT_EQ((*r)["choices"][0]["message"]["content"], "");
}

TEST(GeminiResponse, WrongTypesAreProtocolErrors) {
    EXPECT_EQ(protocol_error(json::parse(R"({"candidates":{}})")).param, "candidates");
    EXPECT_EQ(protocol_error(json::parse(R"({"candidates":[1]})")).param, "candidates[0]");
    EXPECT_EQ(protocol_error(json::parse(R"({"candidates":[{"finishReason":1}]})")).param,
              "candidates[0].finishReason");
    EXPECT_EQ(protocol_error(json::parse(R"({"candidates":[{"index":-1}]})")).param,
              "candidates[0].index");
    EXPECT_EQ(protocol_error(json::parse(R"({"candidates":[{"content":[]}]})")).param,
              "candidates[0].content");
    EXPECT_EQ(protocol_error(response({candidate(R"([{"text":"a","thought":"yes"}])")})).param,
              "candidates[0].content.parts[0].thought");
    EXPECT_EQ(protocol_error(response({candidate(R"([{"functionCall":{"args":{}}}])")})).param,
              "candidates[0].content.parts[0].functionCall.name");
    EXPECT_EQ(protocol_error(response({candidate(R"([{"functionCall":"f"}])")})).param,
              "candidates[0].content.parts[0].functionCall");
    EXPECT_EQ(protocol_error(response({candidate(R"([null])")})).param,
              "candidates[0].content.parts[0]");
    EXPECT_EQ(protocol_error(json("text")).param, "");
}

TEST(GeminiResponse, ContentlessCandidateAndUnknownParts) {
    const json resp = json::parse(R"({"candidates":[
        {"finishReason":"STOP"},
        {"content":{"role":"model"},"finishReason":"OTHER","index":1},
        {"content":{"parts":[{"executableCode":{"code":"1"}},{"text":"","thoughtSignature":"x"}]},
         "index":2}]})");
    auto r = gemini_to_openai_response(resp, {});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ((*r)["choices"].size(), 3u);
    for (const auto& c : (*r)["choices"]) {
        EXPECT_EQ(c["message"]["content"], "");
        EXPECT_EQ(c["finish_reason"], "stop");
        EXPECT_FALSE(c["message"].contains("tool_calls"));
    }
}

// ---- errors -------------------------------------------------------------------------------------

TEST(GeminiErrors, StreamErrorObjectsUseTheirCode) {
    const json e = openai_error_object_from_gemini(
        json::parse(R"({"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"})"));
    EXPECT_EQ(e["type"], "rate_limit_error");
    EXPECT_EQ(e["code"], "rate_limit_exceeded");
    EXPECT_TRUE(e["param"].is_null());
    EXPECT_EQ(openai_error_object_from_gemini(json::parse(R"({"code":500})"))["type"], "api_error");
    EXPECT_EQ(openai_error_object_from_gemini(json::parse(R"({"code":500})"))["message"],
              "upstream error");
    EXPECT_EQ(openai_error_object_from_gemini(json("boom"))["type"], "api_error");
    EXPECT_EQ(openai_error_object_from_gemini(json::parse(
                  R"({"code":404,"message":"File xyz not found","status":"NOT_FOUND"})"))["code"],
              "not_found");
}

TEST(GeminiErrors, NonConformingBodies) {
    HttpError e = gemini_error_to_openai(500, R"({"error":"backend exploded"})");
    EXPECT_EQ(e.status, 500u);
    EXPECT_EQ(e.body["error"]["message"], "backend exploded");
    EXPECT_EQ(e.body["error"]["type"], "api_error");

    e = gemini_error_to_openai(413, "Request Entity Too Large");
    EXPECT_EQ(e.status, 413u);
    EXPECT_EQ(e.body["error"]["code"], "request_too_large");
    EXPECT_EQ(e.body["error"]["message"], "upstream returned HTTP 413: Request Entity Too Large");

    e = gemini_error_to_openai(
        400,
        R"({"error":{"code":400,"message":"Request payload size exceeds the limit: 20971520 bytes.","status":"INVALID_ARGUMENT"}})");
    EXPECT_EQ(e.body["error"]["code"], "request_too_large");

    e = gemini_error_to_openai(409,
                               R"({"error":{"code":409,"message":"conflict","status":"ABORTED"}})");
    EXPECT_EQ(e.status, 409u);
    EXPECT_EQ(e.body["error"]["type"], "invalid_request_error");

    e = gemini_error_to_openai(0, "\xff\xfe garbage");
    EXPECT_EQ(e.status, 502u);
    EXPECT_NO_THROW((void)e.body.dump(-1, ' ', false, json::error_handler_t::replace));
}

TEST(GeminiErrors, RetryDelayParsing) {
    auto body = [](const std::string& delay) {
        return R"({"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":")" +
               delay + R"("}]}})";
    };
    EXPECT_EQ(gemini_retry_delay_seconds(body("0s")), 0u);
    EXPECT_EQ(gemini_retry_delay_seconds(body("0.2s")), 1u);
    EXPECT_EQ(gemini_retry_delay_seconds(body("60s")), 60u);
    EXPECT_FALSE(gemini_retry_delay_seconds(body("60")).has_value());
    EXPECT_FALSE(gemini_retry_delay_seconds(body("abcs")).has_value());
    EXPECT_FALSE(gemini_retry_delay_seconds(body("-5s")).has_value());
    EXPECT_FALSE(gemini_retry_delay_seconds(body("99999999s")).has_value());
    EXPECT_FALSE(gemini_retry_delay_seconds("not json").has_value());
    EXPECT_FALSE(gemini_retry_delay_seconds(R"({"error":{"details":"x"}})").has_value());
}

}  // namespace
}  // namespace baton::translate
