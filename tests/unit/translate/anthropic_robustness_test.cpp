// The translators never throw and always produce well-formed output: every value of every
// fixture is replaced, one at a time, by values of other types, and the result is translated.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "baton/translate/anthropic.hpp"
#include "baton/translate/anthropic_stream.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using test::json;

void pointers(const json& j, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
    out.push_back(at);
    if (j.is_object()) {
        for (const auto& [k, v] : j.items()) pointers(v, at / k, out);
    } else if (j.is_array()) {
        for (size_t i = 0; i < j.size(); ++i) pointers(j[i], at / i, out);
    }
}

// Calls run() with every single-value mutation of doc.
void mutate(const json& doc, const std::vector<json>& replacements,
            const std::function<void(const json&)>& run) {
    std::vector<json::json_pointer> ptrs;
    pointers(doc, json::json_pointer(), ptrs);
    for (const auto& p : ptrs) {
        for (const auto& r : replacements) {
            json m = doc;
            m[p] = r;
            run(m);
        }
    }
}

const std::vector<json> kValues = {
    nullptr, 0, -1, 1.5, "", "x", json::array(), json::object(), true, json::array({nullptr})};

TEST(Robustness, RequestsAndResponsesNeverThrow) {
    size_t runs = 0;
    auto over = [&](const std::string& dir, const std::string& suffix,
                    const std::function<void(const json&)>& f) {
        for (const auto& name : test::cases(dir, suffix)) {
            SCOPED_TRACE(name);
            mutate(test::read_json(test::fixture_root() / dir / (name + suffix)), kValues,
                   [&](const json& m) {
                       ++runs;
                       EXPECT_NO_THROW(f(m)) << m.dump();
                   });
        }
    };
    over("chat_to_messages", ".openai.json", [](const json& m) {
        auto r = openai_to_anthropic_request(m, "c");
        if (r) (void)test::json(r->body).dump();
    });
    over("messages_to_chat", ".anthropic.json",
         [](const json& m) { (void)anthropic_to_openai_request(m, "g"); });
    over("message_to_completion", ".anthropic.json",
         [](const json& m) { (void)anthropic_to_openai_response(m, {}); });
    over("completion_to_message", ".openai.json",
         [](const json& m) { (void)openai_to_anthropic_response(m, {}); });
    EXPECT_GT(runs, 5000u);
}

// Output must stay parseable: every event's data is JSON (or [DONE]).
void expect_well_formed(const std::string& out, bool anthropic) {
    for (const auto& e : test::parse_sse(out)) {
        if (!anthropic && e.data == "[DONE]") continue;
        const json d = json::parse(e.data, nullptr, false);
        ASSERT_FALSE(d.is_discarded()) << e.data;
        if (anthropic) {
            EXPECT_EQ(e.event, d["type"].get<std::string>());
        }
    }
}

TEST(Robustness, StreamsNeverThrowAndStayWellFormed) {
    const std::vector<json> values = {nullptr, 1, "x", json::object(), json::array()};
    for (const auto& name : test::cases("stream_to_openai", ".anthropic.sse")) {
        SCOPED_TRACE(name);
        const auto events = test::parse_sse(
            test::read_file(test::fixture_root() / "stream_to_openai" / (name + ".anthropic.sse")));
        for (size_t i = 0; i < events.size(); ++i) {
            mutate(json::parse(events[i].data), values, [&](const json& m) {
                AnthropicStreamToOpenAI tr({{}, true, true});
                std::string out;
                for (size_t k = 0; k < events.size(); ++k) {
                    const std::string data = k == i ? m.dump() : events[k].data;
                    EXPECT_NO_THROW(out += tr.feed(events[k].event, data));
                }
                out += tr.finish();
                expect_well_formed(out, false);
            });
        }
    }
    for (const auto& name : test::cases("stream_to_anthropic", ".openai.sse")) {
        SCOPED_TRACE(name);
        const auto events = test::parse_sse(
            test::read_file(test::fixture_root() / "stream_to_anthropic" / (name + ".openai.sse")));
        for (size_t i = 0; i < events.size(); ++i) {
            if (events[i].data == "[DONE]") continue;
            mutate(json::parse(events[i].data), values, [&](const json& m) {
                OpenAIStreamToAnthropic tr({});
                std::string out;
                for (size_t k = 0; k < events.size(); ++k) {
                    const std::string data = k == i ? m.dump() : events[k].data;
                    EXPECT_NO_THROW(out += tr.feed(data));
                }
                out += tr.finish();
                expect_well_formed(out, true);
            });
        }
    }
}

}  // namespace
}  // namespace baton::translate
