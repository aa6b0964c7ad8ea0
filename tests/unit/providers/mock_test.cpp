#include "baton/providers/mock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace baton::providers {
namespace {

using nlohmann::json;

openai::ChatRequest make_request(uint64_t text_bytes, uint32_t messages,
                                 std::optional<int64_t> max_tokens = std::nullopt) {
    openai::ChatRequest r;
    r.model = "gpt-mock";
    r.message_count = messages;
    r.text_bytes = text_bytes;
    r.max_tokens = max_tokens;
    return r;
}

config::MockSettings settings(uint32_t tokens) {
    config::MockSettings s;
    s.tokens = tokens;
    return s;
}

// Strips the "data: " prefix and "\n\n" suffix, asserting the framing, then parses.
json parse_chunk(const std::string& framed) {
    EXPECT_TRUE(framed.starts_with("data: ")) << framed;
    EXPECT_TRUE(framed.ends_with("\n\n")) << framed;
    EXPECT_EQ(framed.find('\n'), framed.size() - 2) << "newline inside the event: " << framed;
    return json::parse(framed.substr(6, framed.size() - 8));
}

std::vector<json> all_chunks(const MockPlan& p, std::string_view model, std::string_view id,
                             int64_t created, bool include_usage) {
    std::vector<json> out;
    const uint32_t n = mock_chunk_count(p, include_usage);
    for (uint32_t i = 0; i < n; ++i)
        out.push_back(parse_chunk(mock_chunk(p, model, id, created, i, include_usage)));
    return out;
}

TEST(MockPlan, EstimatesPromptTokens) {
    const auto s = settings(16);
    // ceil(10/4) = 3, + 4 per message * 2 = 11
    EXPECT_EQ(mock_plan(s, make_request(10, 2), "", 0.5, 0).prompt_tokens, 11u);
    EXPECT_EQ(mock_plan(s, make_request(12, 1), "", 0.5, 0).prompt_tokens, 7u);
    EXPECT_EQ(mock_plan(s, make_request(13, 1), "", 0.5, 0).prompt_tokens, 8u);
    EXPECT_EQ(mock_plan(s, make_request(0, 0), "", 0.5, 0).prompt_tokens, 1u);  // at least 1
}

TEST(MockPlan, CompletionTokensCappedByMaxTokens) {
    auto p = mock_plan(settings(16), make_request(4, 1), "", 0.5, 0);
    EXPECT_EQ(p.status, 200);
    EXPECT_EQ(p.completion_tokens, 16u);
    EXPECT_FALSE(p.capped);

    p = mock_plan(settings(16), make_request(4, 1, 5), "", 0.5, 0);
    EXPECT_EQ(p.completion_tokens, 5u);
    EXPECT_TRUE(p.capped);

    p = mock_plan(settings(16), make_request(4, 1, 16), "", 0.5, 0);  // equal: not capped
    EXPECT_EQ(p.completion_tokens, 16u);
    EXPECT_FALSE(p.capped);

    p = mock_plan(settings(16), make_request(4, 1, 1000), "", 0.5, 0);
    EXPECT_EQ(p.completion_tokens, 16u);
    EXPECT_FALSE(p.capped);

    p = mock_plan(settings(0), make_request(4, 1), "", 0.5, 0);  // min 1
    EXPECT_EQ(p.completion_tokens, 1u);
}

TEST(MockPlan, ErrorRateDraws) {
    config::MockSettings s = settings(4);
    s.error_rate = 0.25;
    s.error_statuses = {503, 429, 500};
    const auto req = make_request(4, 1);
    EXPECT_EQ(mock_plan(s, req, "", 0.0, 0).status, 503);
    EXPECT_EQ(mock_plan(s, req, "", 0.2499, 1).status, 429);
    EXPECT_EQ(mock_plan(s, req, "", 0.1, 5).status, 500);   // 5 % 3 == 2
    EXPECT_EQ(mock_plan(s, req, "", 0.25, 0).status, 200);  // draw == rate: no failure
    EXPECT_EQ(mock_plan(s, req, "", 0.99, 0).status, 200);

    s.error_statuses.clear();
    EXPECT_EQ(mock_plan(s, req, "", 0.1, 7).status, 500);

    s.error_rate = 0.0;
    EXPECT_EQ(mock_plan(s, req, "", 0.0, 0).status, 200);
    s.error_rate = 1.0;
    EXPECT_NE(mock_plan(s, req, "", 0.999999, 0).status, 200);

    // Rough share over a uniform grid of draws.
    s.error_rate = 0.3;
    int failures = 0;
    for (int i = 0; i < 1000; ++i) {
        if (mock_plan(s, req, "", i / 1000.0, static_cast<uint64_t>(i)).status != 200) ++failures;
    }
    EXPECT_EQ(failures, 300);
}

TEST(MockCompletion, ExactShape) {
    MockPlan p;
    p.prompt_tokens = 11;
    p.completion_tokens = 5;
    const std::string body = mock_completion(p, "gpt-mock", "abc123", 1700000000);
    const json j = json::parse(body);
    const json expected = {
        {"id", "chatcmpl-abc123"},
        {"object", "chat.completion"},
        {"created", 1700000000},
        {"model", "gpt-mock"},
        {"choices", json::array({{{"index", 0},
                                  {"message",
                                   {{"role", "assistant"},
                                    {"content", "Hello from the Baton mock"},
                                    {"refusal", nullptr}}},
                                  {"logprobs", nullptr},
                                  {"finish_reason", "stop"}}})},
        {"usage", {{"prompt_tokens", 11}, {"completion_tokens", 5}, {"total_tokens", 16}}},
        {"system_fingerprint", "fp_baton_mock"}};
    EXPECT_EQ(j, expected) << j.dump(2);
    // Field order as OpenAI sends it.
    EXPECT_TRUE(
        body.starts_with("{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion\","
                         "\"created\":1700000000,\"model\":\"gpt-mock\",\"choices\":"));
}

TEST(MockCompletion, LengthFinishWhenCapped) {
    const auto p = mock_plan(settings(16), make_request(100, 3), "", 0.9, 0);
    const auto capped = mock_plan(settings(16), make_request(100, 3, 3), "", 0.9, 0);
    EXPECT_EQ(json::parse(mock_completion(p, "m", "1", 0))["choices"][0]["finish_reason"], "stop");
    const json j = json::parse(mock_completion(capped, "m", "1", 0));
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello from the");
    EXPECT_EQ(j["usage"]["prompt_tokens"], 25 + 12);
    EXPECT_EQ(j["usage"]["completion_tokens"], 3);
    EXPECT_EQ(j["usage"]["total_tokens"], 25 + 12 + 3);
}

TEST(MockCompletion, ContentHasOneWordPerToken) {
    MockPlan p;
    p.prompt_tokens = 1;
    p.completion_tokens = 57;  // cycles the word list
    const json j = json::parse(mock_completion(p, "m", "x", 1));
    const std::string content = j["choices"][0]["message"]["content"];
    EXPECT_EQ(std::count(content.begin(), content.end(), ' '), 56);
    EXPECT_FALSE(content.starts_with(" "));
    EXPECT_FALSE(content.ends_with(" "));
    EXPECT_EQ(content.find("  "), std::string::npos);
    // Deterministic.
    EXPECT_EQ(mock_completion(p, "m", "x", 1), mock_completion(p, "m", "x", 1));
}

TEST(MockStream, ExactChunkShapesWithoutUsage) {
    MockPlan p;
    p.prompt_tokens = 9;
    p.completion_tokens = 2;
    ASSERT_EQ(mock_chunk_count(p, false), 4u);
    const auto chunks = all_chunks(p, "gpt-mock", "s1", 42, false);
    const json head = {{"id", "chatcmpl-s1"},
                       {"object", "chat.completion.chunk"},
                       {"created", 42},
                       {"model", "gpt-mock"},
                       {"system_fingerprint", "fp_baton_mock"}};
    auto with_choice = [&](json delta, json finish) {
        json j = head;
        j["choices"] = json::array({{{"index", 0},
                                     {"delta", std::move(delta)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", std::move(finish)}}});
        return j;
    };
    EXPECT_EQ(chunks[0],
              with_choice({{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr));
    EXPECT_EQ(chunks[1], with_choice({{"content", "Hello"}}, nullptr));
    EXPECT_EQ(chunks[2], with_choice({{"content", " from"}}, nullptr));
    EXPECT_EQ(chunks[3], with_choice(json::object(), "stop"));
    for (const auto& c : chunks) EXPECT_FALSE(c.contains("usage")) << c.dump();
    // Past the end: nothing.
    EXPECT_EQ(mock_chunk(p, "gpt-mock", "s1", 42, 4, false), "");
}

TEST(MockStream, UsageChunkAndNullUsageBefore) {
    MockPlan p;
    p.prompt_tokens = 9;
    p.completion_tokens = 3;
    p.capped = true;
    ASSERT_EQ(mock_chunk_count(p, true), 6u);
    const auto chunks = all_chunks(p, "gpt-mock", "s2", 7, true);
    for (size_t i = 0; i + 1 < chunks.size(); ++i) {
        ASSERT_TRUE(chunks[i].contains("usage")) << i;
        EXPECT_TRUE(chunks[i]["usage"].is_null()) << i;
        EXPECT_EQ(chunks[i]["choices"].size(), 1u);
    }
    EXPECT_EQ(chunks[4]["choices"][0]["finish_reason"], "length");
    const json expected_usage = {
        {"id", "chatcmpl-s2"},
        {"object", "chat.completion.chunk"},
        {"created", 7},
        {"model", "gpt-mock"},
        {"system_fingerprint", "fp_baton_mock"},
        {"choices", json::array()},
        {"usage", {{"prompt_tokens", 9}, {"completion_tokens", 3}, {"total_tokens", 12}}}};
    EXPECT_EQ(chunks[5], expected_usage);
    EXPECT_EQ(mock_chunk(p, "gpt-mock", "s2", 7, 6, true), "");
}

TEST(MockStream, ConcatenationEqualsNonStreamContent) {
    for (uint32_t tokens : {1u, 2u, 16u, 45u}) {
        MockPlan p;
        p.prompt_tokens = 3;
        p.completion_tokens = tokens;
        for (bool usage : {false, true}) {
            ASSERT_EQ(mock_chunk_count(p, usage), tokens + 2 + (usage ? 1 : 0));
            std::string streamed;
            for (const auto& c : all_chunks(p, "m", "id", 1, usage)) {
                if (c["choices"].empty()) continue;
                const auto& delta = c["choices"][0]["delta"];
                if (delta.contains("content")) streamed += delta["content"].get<std::string>();
            }
            const json full = json::parse(mock_completion(p, "m", "id", 1));
            EXPECT_EQ(streamed, full["choices"][0]["message"]["content"].get<std::string>());
        }
    }
}

TEST(MockEscaping, ModelAndIdAreJsonEscaped) {
    MockPlan p;
    p.prompt_tokens = 1;
    p.completion_tokens = 1;
    const std::string model = "we\"ird\\model\n\t\x01 é 模型";
    const std::string id = "id\"1";
    const json j = json::parse(mock_completion(p, model, id, 5));
    EXPECT_EQ(j["model"], model);
    EXPECT_EQ(j["id"], "chatcmpl-" + id);
    for (uint32_t i = 0; i < mock_chunk_count(p, true); ++i) {
        const json c = parse_chunk(mock_chunk(p, model, id, 5, i, true));
        EXPECT_EQ(c["model"], model);
        EXPECT_EQ(c["id"], "chatcmpl-" + id);
    }
}

TEST(MockEscaping, InvalidUtf8BecomesReplacementCharacter) {
    MockPlan p;
    p.prompt_tokens = 1;
    p.completion_tokens = 1;
    const std::string model = "bad\xff\xc3(\xed\xa0\x80x";  // stray, truncated, surrogate
    const json j = json::parse(mock_completion(p, model, "i", 5));
    EXPECT_EQ(j["model"], "bad\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx");
    EXPECT_NO_THROW(parse_chunk(mock_chunk(p, model, "i", 5, 0, false)));
}

TEST(MockError, OpenAiEnvelope) {
    const json j = json::parse(mock_error_body(503));
    const json expected = {{"error",
                            {{"message", "mock provider: injected failure (status 503)"},
                             {"type", "api_error"},
                             {"param", nullptr},
                             {"code", "mock_injected_failure"}}}};
    EXPECT_EQ(j, expected);
    EXPECT_EQ(json::parse(mock_error_body(429))["error"]["type"], "rate_limit_error");
    EXPECT_EQ(json::parse(mock_error_body(500))["error"]["type"], "api_error");
    EXPECT_EQ(json::parse(mock_error_body(400))["error"]["type"], "invalid_request_error");
    EXPECT_EQ(json::parse(mock_error_body(401))["error"]["type"], "authentication_error");
    EXPECT_EQ(json::parse(mock_error_body(429))["error"]["message"],
              "mock provider: injected failure (status 429)");
}

}  // namespace
}  // namespace baton::providers
