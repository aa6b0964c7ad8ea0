// Table-driven translation tests over tests/fixtures/providers/anthropic/ (layout in the README
// there). Every `<case>.<input>` file must have its expected `<case>.<output>` file; error cases
// (`<case>.error.json`) name the expected param and a message fragment.
//
// BATON_UPDATE_FIXTURES=1 rewrites the expected files from the current output (review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "baton/translate/anthropic.hpp"
#include "baton/translate/anthropic_errors.hpp"
#include "baton/translate/anthropic_stream.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using namespace test;

constexpr int64_t kCreated = 1767225600;  // 2026-01-01T00:00:00Z

TEST(AnthropicFixtures, ChatToMessages) {
    const auto dir = fixture_root() / "chat_to_messages";
    const auto names = cases("chat_to_messages", ".openai.json");
    ASSERT_GE(names.size(), 8u);
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        auto r = openai_to_anthropic_request(read_json(dir / (name + ".openai.json")),
                                             "claude-sonnet-4-5");
        ASSERT_TRUE(r.has_value()) << r.error().param << ": " << r.error().message;
        check_json(dir / (name + ".anthropic.json"), r->body);
    }
    const auto errors = cases("chat_to_messages", ".error.json");
    ASSERT_GE(errors.size(), 6u);
    for (const auto& name : errors) {
        SCOPED_TRACE(name);
        check_error_case(dir / (name + ".error.json"), [](const json& in) -> Result<json> {
            auto r = openai_to_anthropic_request(in, "claude-sonnet-4-5");
            if (!r) return r.error();
            return r->body;
        });
    }
}

TEST(AnthropicFixtures, MessagesToChat) {
    const auto dir = fixture_root() / "messages_to_chat";
    const auto names = cases("messages_to_chat", ".anthropic.json");
    ASSERT_GE(names.size(), 4u);
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        auto r =
            anthropic_to_openai_request(read_json(dir / (name + ".anthropic.json")), "gpt-4.1");
        ASSERT_TRUE(r.has_value()) << r.error().param << ": " << r.error().message;
        check_json(dir / (name + ".openai.json"), r->body);
    }
    for (const auto& name : cases("messages_to_chat", ".error.json")) {
        SCOPED_TRACE(name);
        check_error_case(dir / (name + ".error.json"), [](const json& in) -> Result<json> {
            auto r = anthropic_to_openai_request(in, "gpt-4.1");
            if (!r) return r.error();
            return r->body;
        });
    }
}

TEST(AnthropicFixtures, MessageToCompletion) {
    const auto dir = fixture_root() / "message_to_completion";
    const auto names = cases("message_to_completion", ".anthropic.json");
    ASSERT_GE(names.size(), 7u);
    const ResponseMeta meta{"", "", kCreated};
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        auto r = anthropic_to_openai_response(read_json(dir / (name + ".anthropic.json")), meta);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        check_json(dir / (name + ".openai.json"), *r);
    }
    for (const auto& name : cases("message_to_completion", ".error.json")) {
        SCOPED_TRACE(name);
        check_error_case(dir / (name + ".error.json"),
                         [&](const json& in) { return anthropic_to_openai_response(in, meta); });
    }
}

TEST(AnthropicFixtures, CompletionToMessage) {
    const auto dir = fixture_root() / "completion_to_message";
    const auto names = cases("completion_to_message", ".openai.json");
    ASSERT_GE(names.size(), 5u);
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        auto r = openai_to_anthropic_response(read_json(dir / (name + ".openai.json")), {});
        ASSERT_TRUE(r.has_value()) << r.error().message;
        check_json(dir / (name + ".anthropic.json"), *r);
    }
    for (const auto& name : cases("completion_to_message", ".error.json")) {
        SCOPED_TRACE(name);
        check_error_case(dir / (name + ".error.json"),
                         [](const json& in) { return openai_to_anthropic_response(in, {}); });
    }
}

// Feeds every event of the fixture, then finish() (the upstream closes the connection).
std::string run_to_openai(const std::string& sse, bool include_usage) {
    AnthropicStreamToOpenAI tr({{"", "", kCreated}, include_usage, true});
    std::string out;
    for (const auto& e : parse_sse(sse)) out += tr.feed(e.event, e.data);
    out += tr.finish();
    return out;
}

std::string run_to_anthropic(const std::string& sse) {
    OpenAIStreamToAnthropic tr({});
    std::string out;
    for (const auto& e : parse_sse(sse)) out += tr.feed(e.data);
    out += tr.finish();
    return out;
}

TEST(AnthropicFixtures, StreamToOpenAI) {
    const auto dir = fixture_root() / "stream_to_openai";
    const auto names = cases("stream_to_openai", ".anthropic.sse");
    ASSERT_GE(names.size(), 7u);
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        // The fixtures run with stream_options.include_usage = true.
        check_sse(dir / (name + ".openai.sse"),
                  run_to_openai(read_file(dir / (name + ".anthropic.sse")), true));
    }
}

TEST(AnthropicFixtures, StreamToAnthropic) {
    const auto dir = fixture_root() / "stream_to_anthropic";
    const auto names = cases("stream_to_anthropic", ".openai.sse");
    ASSERT_GE(names.size(), 7u);
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        check_sse(dir / (name + ".anthropic.sse"),
                  run_to_anthropic(read_file(dir / (name + ".openai.sse"))));
    }
}

TEST(AnthropicFixtures, Errors) {
    const auto names = cases("errors", ".json");
    ASSERT_GE(names.size(), 8u);
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        const json spec = read_json(fixture_root() / "errors" / (name + ".json"));
        const std::string body =
            spec.contains("body_raw") ? spec["body_raw"].get<std::string>() : spec["body"].dump();
        const unsigned status = spec["status"].get<unsigned>();
        const HttpError e = spec["direction"] == "anthropic_to_openai"
                                ? anthropic_error_to_openai(status, body)
                                : openai_error_to_anthropic(status, body);
        EXPECT_EQ(e.status, spec["expect_status"].get<unsigned>());
        EXPECT_EQ(Unordered(e.body), Unordered(spec["expect_body"])) << e.body.dump(2);
    }
}

// Streams and their non-streamed counterparts agree: accumulating the translated OpenAI chunks
// gives the same message as translating the accumulated Anthropic message.
TEST(AnthropicFixtures, StreamMatchesNonStreamToOpenAI) {
    const auto dir = fixture_root() / "stream_to_openai";
    for (const auto& name : cases("stream_to_openai", ".anthropic.sse")) {
        SCOPED_TRACE(name);
        const auto in = parse_sse(read_file(dir / (name + ".anthropic.sse")));
        const json upstream = accumulate_anthropic(in);
        const json streamed = accumulate_openai(
            parse_sse(run_to_openai(read_file(dir / (name + ".anthropic.sse")), true)));
        if (!upstream["done"].get<bool>()) {
            EXPECT_TRUE(streamed.contains("error"));
            EXPECT_FALSE(streamed["done"].get<bool>());
            continue;
        }
        auto whole = anthropic_to_openai_response(upstream["message"], {"", "", kCreated});
        ASSERT_TRUE(whole.has_value());
        const json& m = (*whole)["choices"][0]["message"];
        json expected = {{"role", "assistant"}, {"content", m["content"]}};
        if (m.contains("tool_calls")) expected["tool_calls"] = m["tool_calls"];
        if (m.contains("reasoning_content")) expected["reasoning_content"] = m["reasoning_content"];
        EXPECT_EQ(Unordered(normalize_tool_calls(streamed["message"])),
                  Unordered(normalize_tool_calls(expected)));
        EXPECT_EQ(streamed["finish_reason"], (*whole)["choices"][0]["finish_reason"]);
        EXPECT_EQ(Unordered(streamed["usage"]), Unordered((*whole)["usage"]));
        EXPECT_TRUE(streamed["done"].get<bool>());
    }
}

TEST(AnthropicFixtures, StreamMatchesNonStreamToAnthropic) {
    const auto dir = fixture_root() / "stream_to_anthropic";
    for (const auto& name : cases("stream_to_anthropic", ".openai.sse")) {
        SCOPED_TRACE(name);
        const std::string text = read_file(dir / (name + ".openai.sse"));
        const json upstream = accumulate_openai(parse_sse(text));
        const json streamed = accumulate_anthropic(parse_sse(run_to_anthropic(text)));
        if (upstream.contains("error") || upstream["finish_reason"].is_null()) {
            EXPECT_TRUE(streamed.contains("error"));
            EXPECT_FALSE(streamed["done"].get<bool>());
            continue;
        }
        json completion = {{"id", "x"},
                           {"model", "m"},
                           {"choices",
                            {{{"index", 0},
                              {"message", upstream["message"]},
                              {"finish_reason", upstream["finish_reason"]}}}}};
        if (upstream["usage"].is_object()) completion["usage"] = upstream["usage"];
        auto whole = openai_to_anthropic_response(completion, {});
        ASSERT_TRUE(whole.has_value());
        EXPECT_EQ(Unordered(streamed["message"]["content"]), Unordered((*whole)["content"]));
        EXPECT_EQ(streamed["message"]["stop_reason"], (*whole)["stop_reason"]);
        EXPECT_EQ(Unordered(streamed["message"]["usage"]), Unordered((*whole)["usage"]));
        EXPECT_TRUE(streamed["done"].get<bool>());
    }
}

}  // namespace
}  // namespace baton::translate
