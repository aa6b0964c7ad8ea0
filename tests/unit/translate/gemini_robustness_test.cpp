// The Gemini translators never throw and always produce well-formed output: every value of every
// fixture is replaced, one at a time, by values of other types, and the result is translated.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "baton/translate/gemini.hpp"
#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using test::json;

std::filesystem::path gemini_dir(const std::string& dir) {
    return test::fixture_root("gemini") / dir;
}

std::vector<std::filesystem::path> files(const std::string& dir, const std::string& suffix) {
    std::vector<std::filesystem::path> out;
    for (const auto& name : test::cases(dir, suffix, "gemini")) {
        out.push_back(gemini_dir(dir) / (name + suffix));
    }
    return out;
}

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

TEST(GeminiRobustness, RequestsAndResponsesNeverThrow) {
    size_t runs = 0;
    auto over = [&](const std::string& dir, const std::string& suffix,
                    const std::function<void(const json&)>& f) {
        for (const auto& path : files(dir, suffix)) {
            SCOPED_TRACE(path.filename().string());
            json doc = test::read_json(path);
            // Error cases hold their input under "request" / "response".
            if (suffix == ".error.json")
                doc = doc.contains("request") ? doc["request"] : doc["response"];
            mutate(doc, kValues, [&](const json& m) {
                ++runs;
                EXPECT_NO_THROW(f(m)) << m.dump();
            });
        }
    };
    GeminiRequestOptions json_schema;
    json_schema.schema_mode = GeminiSchemaMode::json_schema;
    json_schema.send_function_call_ids = true;
    const auto check = [](const Result<Translated>& r) {
        if (r) {
            (void)r->body.dump(-1, ' ', false, json::error_handler_t::replace);
        } else {
            EXPECT_EQ(r.error().code, baton::Errc::invalid_request);
        }
    };
    const auto request = [&](const json& m) {
        check(openai_to_gemini_request(m));
        check(openai_to_gemini_request(m, json_schema));
    };
    const auto response = [](const json& m) {
        auto r = gemini_to_openai_response(m, {});
        if (r) {
            EXPECT_FALSE((*r)["choices"].empty());
            (void)r->dump(-1, ' ', false, json::error_handler_t::replace);
        } else {
            EXPECT_EQ(r.error().code, baton::Errc::upstream_protocol);
        }
    };
    over("chat_to_gemini", ".openai.json", request);
    over("chat_to_gemini", ".error.json", request);
    over("response_to_completion", ".gemini.json", response);
    over("response_to_completion", ".error.json", response);
    EXPECT_GT(runs, 9000u);
}

// Output must stay parseable: every event's data is JSON or [DONE], and nothing follows [DONE]
// or an error.
void expect_well_formed(const std::string& out) {
    bool ended = false;
    for (const auto& e : test::parse_sse(out)) {
        EXPECT_FALSE(ended) << "event after the end: " << e.data;
        if (e.data == "[DONE]") {
            ended = true;
            continue;
        }
        const json d = json::parse(e.data, nullptr, false);
        ASSERT_FALSE(d.is_discarded()) << e.data;
        if (d.contains("error")) ended = true;
    }
}

TEST(GeminiRobustness, StreamsNeverThrowAndStayWellFormed) {
    const std::vector<json> values = {nullptr, 1, "x", json::object(), json::array()};
    size_t runs = 0;
    for (const auto& path : files("stream_to_openai", ".gemini.sse")) {
        SCOPED_TRACE(path.filename().string());
        const auto events = test::parse_sse(test::read_file(path));
        for (size_t i = 0; i < events.size(); ++i) {
            mutate(json::parse(events[i].data), values, [&](const json& m) {
                ++runs;
                GeminiStreamToOpenAI tr({{}, true, true});
                std::string out;
                for (size_t k = 0; k < events.size(); ++k) {
                    const std::string data = k == i ? m.dump() : events[k].data;
                    EXPECT_NO_THROW(out += tr.feed(data));
                }
                out += tr.finish();
                EXPECT_TRUE(tr.done());
                expect_well_formed(out);
            });
        }
    }
    EXPECT_GT(runs, 1000u);
}

TEST(GeminiRobustness, ErrorBodiesNeverThrow) {
    for (const auto& path : files("errors", ".json")) {
        const json spec = test::read_json(path);
        if (!spec.contains("body")) continue;
        mutate(spec["body"], kValues, [&](const json& m) {
            const std::string body = m.dump();
            HttpError e;
            EXPECT_NO_THROW(e = gemini_error_to_openai(400, body));
            EXPECT_GE(e.status, 400u);
            EXPECT_TRUE(e.body["error"]["message"].is_string());
            EXPECT_NO_THROW((void)gemini_retry_delay_seconds(body));
        });
    }
}

}  // namespace
}  // namespace baton::translate
