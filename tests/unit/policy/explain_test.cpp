// explain() JSON shape and decision_headers().
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "baton/policy/engine.hpp"
#include "unit/policy/policy_fixture.hpp"

namespace baton::policy {
namespace {

using namespace testing;
using nlohmann::json;

TEST(Explain, ShapeOfASuccessfulPlan) {
    auto c = three_models();
    c.routes[0].experiment = config::Experiment{"exp", "user", {{"a", 1, std::nullopt}}};
    auto t = make_request("auto", {{"user", "What is 2+2?"}});
    t.req.has_tools = false;
    Features f = extract_features(t.req, t.body);
    f.tools = true;  // pretend: excludes local
    MapHeaders h{{"x-baton-require-tags", "us"}};
    Plan p = run_plan(c, "auto", f, &h, nullptr, 20000, StickyKeys{"alice", {}});
    ASSERT_TRUE(p.ok());
    json j = explain(p, f, c);

    EXPECT_EQ(j["requested"], "auto");
    EXPECT_EQ(j["route"], "auto");
    EXPECT_EQ(j["direct"], false);
    EXPECT_EQ(j["tier"], "simple");
    for (const char* k : {"prompt_tokens", "text_tokens", "tools_tokens", "image_tokens",
                          "overhead_tokens", "max_tokens", "tools", "images", "response_format",
                          "stream", "messages", "complexity", "complexity_terms"}) {
        EXPECT_TRUE(j["features"].contains(k)) << k;
    }
    EXPECT_EQ(j["features"]["prompt_tokens"], f.prompt_tokens);
    EXPECT_EQ(j["objective"]["source"], "route");
    EXPECT_EQ(j["experiment"]["variant"], "a");
    EXPECT_EQ(j["requirements"]["tags"], json::array({"us"}));

    // Every candidate appears once: ranked with a score breakdown or excluded with reasons.
    ASSERT_EQ(j["candidates"].size(), 3u);
    int ranked = 0, excluded = 0;
    for (const auto& cand : j["candidates"]) {
        if (cand["status"] == "ranked") {
            ++ranked;
            for (const char* k :
                 {"total", "cost_term", "latency_term", "quality_term", "cost_usd", "latency_ms",
                  "ttft_ms", "tokens_per_s", "latency_source", "quality"}) {
                EXPECT_TRUE(cand["score"].contains(k)) << k;
            }
            EXPECT_EQ(cand["score"]["latency_source"], "hint");
        } else {
            ++excluded;
            EXPECT_EQ(cand["status"], "excluded");
            EXPECT_EQ(cand["model"], "local");
            EXPECT_EQ(cand["reasons"], json::array({"capability:tools", "tag:us"}));
            EXPECT_FALSE(cand["detail"].get<std::string>().empty());
        }
    }
    EXPECT_EQ(ranked, 2);
    EXPECT_EQ(excluded, 1);
    EXPECT_EQ(j["candidates"][0]["rank"], 1);

    // The chosen plan matches what would be routed, headers included.
    EXPECT_EQ(j["chosen"]["model"], chosen_name(c, p));
    EXPECT_EQ(j["chosen"]["provider"], "p-" + chosen_name(c, p));
    EXPECT_EQ(j["chosen"]["reason"], p.reason);
    EXPECT_EQ(j["chosen"]["fallbacks"].size(), 1u);
    EXPECT_EQ(j["headers"]["x-baton-model"], chosen_name(c, p));
    EXPECT_EQ(j["headers"]["x-baton-route"], "auto");
    EXPECT_EQ(j["headers"]["x-baton-variant"], "a");
    EXPECT_EQ(j["headers"]["x-baton-reason"], p.reason);
    EXPECT_TRUE(j["error"].is_null());
}

TEST(Explain, FailedPlanListsExclusionsAndError) {
    auto c = three_models();
    Features f = simple_features(500000);
    Plan p = run_plan(c, "auto", f);
    ASSERT_FALSE(p.ok());
    json j = explain(p, f, c);
    EXPECT_TRUE(j["chosen"].is_null());
    EXPECT_EQ(j["error"]["status"], 422);
    EXPECT_EQ(j["candidates"].size(), 3u);
    for (const auto& cand : j["candidates"]) {
        EXPECT_EQ(cand["status"], "excluded");
        EXPECT_EQ(cand["reasons"][0], "context");
    }
    EXPECT_TRUE(decision_headers(p, c).empty());
}

TEST(Explain, UnknownModel) {
    auto c = three_models();
    Plan p = run_plan(c, "nope", simple_features());
    json j = explain(p, p.features, c);
    EXPECT_EQ(j["error"]["status"], 404);
    EXPECT_TRUE(j["candidates"].empty());
}

TEST(DecisionHeaders, RoutedRequest) {
    auto c = three_models();
    Plan p = run_plan(c, "auto", simple_features());
    auto h = decision_headers(p, c);
    ASSERT_EQ(h.size(), 4u);  // no variant, no deprecation
    EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"x-baton-route", "auto"}));
    EXPECT_EQ(h[1].first, "x-baton-model");
    EXPECT_EQ(h[2].first, "x-baton-provider");
    EXPECT_EQ(h[3].first, "x-baton-reason");
    for (const auto& [k, v] : h) {
        for (char ch : v) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << k;  // header-safe
    }
}

}  // namespace
}  // namespace baton::policy
