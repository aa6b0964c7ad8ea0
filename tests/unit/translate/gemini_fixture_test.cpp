// Table-driven translation tests over tests/fixtures/providers/gemini/ (layout in the README
// there). Every `<case>.<input>` file must have its expected `<case>.<output>` file; error cases
// (`<case>.error.json`) name the expected param and a message fragment.
//
// BATON_UPDATE_FIXTURES=1 rewrites the expected files from the current output (review the diff).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "baton/translate/gemini.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using namespace test;

constexpr int64_t kCreated = 1767225600;  // 2026-01-01T00:00:00Z

std::filesystem::path gemini_root() { return fixture_root("gemini"); }

std::vector<std::string> gemini_cases(const std::string& dir, const std::string& suffix) {
    return cases(dir, suffix, "gemini");
}

TEST(GeminiFixtures, ChatToGemini) {
    const auto dir = gemini_root() / "chat_to_gemini";
    const auto names = gemini_cases("chat_to_gemini", ".openai.json");
    ASSERT_GE(names.size(), 10u);
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        auto r = openai_to_gemini_request(read_json(dir / (name + ".openai.json")));
        ASSERT_TRUE(r.has_value()) << r.error().param << ": " << r.error().message;
        // The expected file holds the body and the dropped list.
        check_json(dir / (name + ".gemini.json"), json{{"body", r->body}, {"dropped", r->dropped}});
    }
    const auto errors = gemini_cases("chat_to_gemini", ".error.json");
    ASSERT_GE(errors.size(), 6u);
    for (const auto& name : errors) {
        SCOPED_TRACE(name);
        check_error_case(dir / (name + ".error.json"), [](const json& in) -> Result<json> {
            auto r = openai_to_gemini_request(in);
            if (!r) return r.error();
            return r->body;
        });
    }
}

TEST(GeminiFixtures, ResponseToCompletion) {
    const auto dir = gemini_root() / "response_to_completion";
    const auto names = gemini_cases("response_to_completion", ".gemini.json");
    ASSERT_GE(names.size(), 8u);
    const ResponseMeta meta{"", "", kCreated};
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        auto r = gemini_to_openai_response(read_json(dir / (name + ".gemini.json")), meta);
        ASSERT_TRUE(r.has_value()) << r.error().param << ": " << r.error().message;
        check_json(dir / (name + ".openai.json"), *r);
    }
    const auto errors = gemini_cases("response_to_completion", ".error.json");
    ASSERT_GE(errors.size(), 4u);
    for (const auto& name : errors) {
        SCOPED_TRACE(name);
        check_error_case(dir / (name + ".error.json"), [&](const json& in) -> Result<json> {
            auto r = gemini_to_openai_response(in, meta);
            if (r) return *r;
            EXPECT_EQ(r.error().code, baton::Errc::upstream_protocol);
            return r.error();
        });
    }
}

// Feeds every event of the fixture, then finish() (the upstream closes the connection).
std::string run_stream(const std::string& sse, bool include_usage) {
    GeminiStreamToOpenAI tr({{"", "", kCreated}, include_usage, true});
    std::string out;
    for (const auto& e : parse_sse(sse)) out += tr.feed(e.data);
    out += tr.finish();
    return out;
}

TEST(GeminiFixtures, StreamToOpenAI) {
    const auto dir = gemini_root() / "stream_to_openai";
    const auto names = gemini_cases("stream_to_openai", ".gemini.sse");
    ASSERT_GE(names.size(), 8u);
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        // The fixtures run with stream_options.include_usage = true.
        check_sse(dir / (name + ".openai.sse"),
                  run_stream(read_file(dir / (name + ".gemini.sse")), true));
    }
}

TEST(GeminiFixtures, Errors) {
    const auto names = gemini_cases("errors", ".json");
    ASSERT_GE(names.size(), 8u);
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        const json spec = read_json(gemini_root() / "errors" / (name + ".json"));
        const std::string body =
            spec.contains("body_raw") ? spec["body_raw"].get<std::string>() : spec["body"].dump();
        const HttpError e = gemini_error_to_openai(spec["status"].get<unsigned>(), body);
        EXPECT_EQ(e.status, spec["expect_status"].get<unsigned>());
        EXPECT_EQ(Unordered(e.body), Unordered(spec["expect_body"])) << e.body.dump(2);
        if (spec.contains("expect_retry_after")) {
            const auto delay = gemini_retry_delay_seconds(body);
            ASSERT_TRUE(delay.has_value());
            EXPECT_EQ(*delay, spec["expect_retry_after"].get<uint32_t>());
        } else {
            EXPECT_FALSE(gemini_retry_delay_seconds(body).has_value());
        }
    }
}

// Rebuilds one GenerateContentResponse from a Gemini stream, the way the Gen AI SDKs join
// chunks: parts appended per candidate, the last finishReason and usageMetadata kept.
json accumulate_gemini(const std::vector<Event>& events) {
    json out = json::object();
    std::map<int64_t, json> candidates;
    for (const auto& e : events) {
        const json chunk = json::parse(e.data);
        if (chunk.contains("error")) {
            out["error"] = chunk["error"];
            continue;
        }
        for (const char* key : {"responseId", "modelVersion", "usageMetadata", "promptFeedback"}) {
            if (chunk.contains(key)) out[key] = chunk[key];
        }
        const json cands = chunk.value("candidates", json::array());
        for (size_t i = 0; i < cands.size(); ++i) {
            const json& c = cands[i];
            json& acc = candidates[c.value("index", static_cast<int64_t>(i))];
            acc["index"] = c.value("index", static_cast<int64_t>(i));
            if (!acc.contains("content"))
                acc["content"] = {{"role", "model"}, {"parts", json::array()}};
            if (c.contains("content") && c["content"].contains("parts")) {
                for (const auto& p : c["content"]["parts"]) acc["content"]["parts"].push_back(p);
            }
            if (c.contains("finishReason")) acc["finishReason"] = c["finishReason"];
        }
    }
    json list = json::array();
    for (auto& [i, c] : candidates) list.push_back(c);
    if (!list.empty()) out["candidates"] = list;
    return out;
}

// Streams and their non-streamed counterparts agree: accumulating the translated OpenAI chunks
// gives the same message as translating the accumulated Gemini response.
TEST(GeminiFixtures, StreamMatchesNonStream) {
    const auto dir = gemini_root() / "stream_to_openai";
    size_t compared = 0;
    for (const auto& name : gemini_cases("stream_to_openai", ".gemini.sse")) {
        SCOPED_TRACE(name);
        const std::string text = read_file(dir / (name + ".gemini.sse"));
        const json upstream = accumulate_gemini(parse_sse(text));
        const json streamed = accumulate_openai(parse_sse(run_stream(text, true)));
        const bool finished =
            upstream.contains("candidates") &&
            std::all_of(upstream["candidates"].begin(), upstream["candidates"].end(),
                        [](const json& c) { return c.contains("finishReason"); });
        if (upstream.contains("error") || (!finished && !upstream.contains("promptFeedback"))) {
            EXPECT_TRUE(streamed.contains("error"));
            EXPECT_FALSE(streamed["done"].get<bool>());
            continue;
        }
        if (upstream.contains("candidates") && upstream["candidates"].size() > 1) continue;
        auto whole = gemini_to_openai_response(upstream, {"", "", kCreated});
        ASSERT_TRUE(whole.has_value()) << whole.error().message;
        json m = (*whole)["choices"][0]["message"];
        json expected = {{"role", "assistant"},
                         {"content", m["content"].is_null() ? json("") : m["content"]}};
        if (m.contains("tool_calls")) {
            expected["tool_calls"] = m["tool_calls"];
            for (auto& tc : expected["tool_calls"]) tc.erase("extra_content");
        }
        if (m.contains("reasoning_content")) expected["reasoning_content"] = m["reasoning_content"];
        EXPECT_EQ(Unordered(normalize_tool_calls(streamed["message"])),
                  Unordered(normalize_tool_calls(expected)));
        EXPECT_EQ(streamed["finish_reason"], (*whole)["choices"][0]["finish_reason"]);
        EXPECT_EQ(Unordered(streamed["usage"]), Unordered((*whole)["usage"]));
        EXPECT_TRUE(streamed["done"].get<bool>());
        ++compared;
    }
    EXPECT_GE(compared, 5u);
}

}  // namespace
}  // namespace baton::translate
