// plan(): resolution, hard filters, scoring, deprecation, header overrides, errors.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "baton/policy/engine.hpp"
#include "unit/policy/policy_fixture.hpp"

namespace baton::policy {
namespace {

using namespace testing;

// ---- resolution ---------------------------------------------------------------------------

TEST(PlanResolve, UnknownNameListsRoutesAndModels) {
    auto c = three_models();
    Plan p = run_plan(c, "gpt-5", simple_features());
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error->code, Errc::model_not_found);
    EXPECT_NE(p.error->message.find("\"gpt-5\""), std::string::npos);
    EXPECT_NE(p.error->message.find("routes: auto"), std::string::npos);
    EXPECT_NE(p.error->message.find("models: cheap, strong, local"), std::string::npos);
    EXPECT_TRUE(p.ranked.empty());
}

TEST(PlanResolve, DirectModelSkipsFiltersAndScoring) {
    auto c = three_models();
    Features f = simple_features(50000);  // far over local's 8k context
    f.tools = true;                       // and local has no tools
    Plan p = run_plan(c, "local", f);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p.direct);
    EXPECT_EQ(p.route, "local");
    ASSERT_EQ(p.ranked.size(), 1u);
    EXPECT_EQ(chosen_name(c, p), "local");
    EXPECT_TRUE(p.excluded.empty());
    EXPECT_EQ(p.decisive, "requested");
    EXPECT_EQ(p.reason, "requested-model");
}

TEST(PlanResolve, RouteCandidatesFromNamesAndTagSelectors) {
    auto c = three_models();
    config::Route r;
    r.name = "eu";
    r.candidates = {"tag:eu", "cheap"};  // candidate_models left empty: resolved by compile()
    c.routes.push_back(r);
    Plan p = run_plan(c, "eu", simple_features());
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.ranked.size() + p.excluded.size(), 3u);  // strong, local, cheap
}

// ---- hard filters -------------------------------------------------------------------------

TEST(PlanFilters, ContextUsesPromptPlusMaxTokensOrDefaultReserve) {
    auto c = three_models();
    // local: 8192 window. 7500 + default reserve (1024) > 8192.
    Plan p = run_plan(c, "auto", simple_features(7500));
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "local"), "context"));
    // 7500 + 500 fits.
    Features f = simple_features(7500);
    f.max_tokens = 500;
    p = run_plan(c, "auto", f);
    EXPECT_EQ(exclusion_of(c, p, "local"), nullptr);
    // 130000 prompt: only strong (200k) fits.
    p = run_plan(c, "auto", simple_features(130000));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(chosen_name(c, p), "strong");
    const Exclusion* e = exclusion_of(c, p, "cheap");
    ASSERT_TRUE(has_reason(p, e, "context"));
    EXPECT_NE(describe(p, *e, c).find("context_window 128000"), std::string::npos);
}

TEST(PlanFilters, MaxOutput) {
    auto c = three_models();
    Features f = simple_features();
    f.max_tokens = 5000;  // local allows 4096
    Plan p = run_plan(c, "auto", f);
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "local"), "max_output"));
}

TEST(PlanFilters, Capabilities) {
    auto c = three_models();
    c.models[0].capabilities = {"streaming", "json_mode"};  // cheap: no tools/vision/schema
    struct Case {
        const char* reason;
        void (*set)(Features&);
    };
    const Case cases[] = {
        {"capability:tools", [](Features& f) { f.tools = true; }},
        {"capability:vision", [](Features& f) { f.images = true; }},
        {"capability:json_schema", [](Features& f) { f.json_schema = true; }},
    };
    for (const auto& k : cases) {
        Features f = simple_features();
        k.set(f);
        Plan p = run_plan(c, "auto", f);
        ASSERT_TRUE(p.ok()) << k.reason;
        EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "cheap"), k.reason)) << k.reason;
        EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "local"), k.reason)) << k.reason;
        EXPECT_EQ(chosen_name(c, p), "strong") << k.reason;
    }
    // json_object: json_mode or json_schema will do; local has neither.
    Features f = simple_features();
    f.json_object = true;
    Plan p = run_plan(c, "auto", f);
    EXPECT_EQ(exclusion_of(c, p, "cheap"), nullptr);
    EXPECT_EQ(exclusion_of(c, p, "strong"), nullptr);
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "local"), "capability:json_mode"));
    // streaming
    c.models[1].capabilities = {"tools"};
    f = simple_features();
    f.stream = true;
    p = run_plan(c, "auto", f);
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "strong"), "capability:streaming"));
    // a model that declares no capabilities at all is assumed to stream
    c.models[1].capabilities = {};
    p = run_plan(c, "auto", f);
    EXPECT_EQ(exclusion_of(c, p, "strong"), nullptr);
}

TEST(PlanFilters, ToolsRequestNeverGoesToModelWithoutTools) {
    auto c = three_models();
    Features f = simple_features();
    f.tools = true;
    for (double complexity : {0.0, 0.5, 1.0}) {
        f.complexity = complexity;
        Plan p = run_plan(c, "auto", f);
        ASSERT_TRUE(p.ok());
        for (const auto& cand : p.ranked) EXPECT_NE(c.models[cand.model_index].name, "local");
    }
}

TEST(PlanFilters, RequiredCapabilityFromRoute) {
    auto c = three_models();
    c.models[1].capabilities.push_back("long_context");
    c.routes[0].constraints.require_capabilities = {"long_context"};
    Plan p = run_plan(c, "auto", simple_features());
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(chosen_name(c, p), "strong");
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "cheap"), "capability:long_context"));
}

TEST(PlanFilters, TagsFromRouteAndHeader) {
    auto c = three_models();
    c.routes[0].constraints.require_tags = {"eu"};
    Plan p = run_plan(c, "auto", simple_features());
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "cheap"), "tag:eu"));
    EXPECT_EQ(p.ranked.size(), 2u);

    c.routes[0].constraints.require_tags.clear();
    MapHeaders h{{"X-Baton-Require-Tags", " eu , on_prem,"}};
    p = run_plan(c, "auto", simple_features(), &h);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.required_tags, (std::vector<std::string>{"eu", "on_prem"}));
    EXPECT_EQ(chosen_name(c, p), "local");
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "cheap"), "tag:eu"));
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "cheap"), "tag:on_prem"));
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "strong"), "tag:on_prem"));
}

TEST(PlanFilters, RequireTagsHeaderNeverReachesUntaggedModel) {
    auto c = three_models();
    MapHeaders h{{"x-baton-require-tags", "eu"}};
    for (double complexity : {0.0, 0.5, 0.95}) {
        Plan p = run_plan(c, "auto", simple_features(100, complexity), &h);
        ASSERT_TRUE(p.ok());
        for (const auto& cand : p.ranked) {
            EXPECT_TRUE(c.models[cand.model_index].has_tag("eu"));
        }
    }
}

TEST(PlanFilters, PriceFromRouteAndHeaderLowerWins) {
    auto c = three_models();
    c.routes[0].constraints.max_price_output = 20;
    Plan p = run_plan(c, "auto", simple_features());
    EXPECT_TRUE(p.excluded.empty());
    MapHeaders h{{"x-baton-max-price", "10"}};
    p = run_plan(c, "auto", simple_features(), &h);
    ASSERT_TRUE(p.max_price_output);
    EXPECT_EQ(*p.max_price_output, 10);
    const Exclusion* e = exclusion_of(c, p, "strong");
    ASSERT_TRUE(has_reason(p, e, "price"));
    EXPECT_NE(describe(p, *e, c).find("output $15/1M > max $10/1M"), std::string::npos);
    c.routes[0].constraints.max_price_output = 0.5;
    p = run_plan(c, "auto", simple_features(), &h);
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "cheap"), "price"));  // 0.60 > 0.5
    c.routes[0].constraints.max_price_output.reset();
    c.routes[0].constraints.max_price_input = 1.0;
    p = run_plan(c, "auto", simple_features());
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "strong"), "price"));  // input 3.0 > 1.0
}

TEST(PlanFilters, BadOverrideHeadersAreRequestErrors) {
    auto c = three_models();
    MapHeaders price{{"x-baton-max-price", "cheap"}};
    Plan p = run_plan(c, "auto", simple_features(), &price);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error->code, Errc::invalid_request);
    EXPECT_EQ(p.error->param, "x-baton-max-price");
    MapHeaders obj{{"x-baton-objective", "speed"}};
    p = run_plan(c, "auto", simple_features(), &obj);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error->param, "x-baton-objective");
}

TEST(PlanFilters, TtftFromHintAndLiveStats) {
    auto c = three_models();
    c.routes[0].constraints.max_ttft = config::Millis{800};
    Plan p = run_plan(c, "auto", simple_features());
    const Exclusion* e = exclusion_of(c, p, "strong");  // hint 900ms
    ASSERT_TRUE(has_reason(p, e, "ttft"));
    EXPECT_NE(describe(p, *e, c).find("predicted 900ms > max 800ms"), std::string::npos);
    // Live stats show strong is fast after all, cheap is slow.
    LatencyStats stats(c.models.size());
    for (int i = 0; i < 10; ++i) {
        stats.record(1, 300, 60);
        stats.record(0, 2000, 80);
    }
    p = run_plan(c, "auto", simple_features(), nullptr, &stats);
    EXPECT_EQ(exclusion_of(c, p, "strong"), nullptr);
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "cheap"), "ttft"));
}

TEST(PlanFilters, EveryFailingFilterIsListed) {
    auto c = three_models();
    Features f = simple_features(9000);
    f.tools = true;
    f.images = true;
    MapHeaders h{{"x-baton-require-tags", "us"}};
    Plan p = run_plan(c, "auto", f, &h);
    const Exclusion* e = exclusion_of(c, p, "local");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(reasons(p, *e), (std::vector<std::string>{"context", "capability:tools",
                                                        "capability:vision", "tag:us"}));
}

TEST(PlanFilters, NoCandidateLeftListsEveryExclusion) {
    auto c = three_models();
    Features f = simple_features(300000);
    MapHeaders h{{"x-baton-require-tags", "us"}};
    Plan p = run_plan(c, "auto", f, &h);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error->code, Errc::unprocessable);
    const std::string& m = p.error->message;
    EXPECT_NE(m.find("no model of route \"auto\""), std::string::npos);
    EXPECT_NE(m.find("cheap excluded by context (needs 300000 prompt"), std::string::npos) << m;
    EXPECT_NE(m.find("strong excluded by context"), std::string::npos) << m;
    EXPECT_NE(m.find("local excluded by context"), std::string::npos) << m;
    EXPECT_NE(m.find("tag:us"), std::string::npos) << m;
    EXPECT_EQ(p.excluded.size(), 3u);
    EXPECT_TRUE(p.ranked.empty());
}

// ---- deprecation --------------------------------------------------------------------------

config::Config with_deprecation(const std::string& replacement) {
    auto c = three_models();
    c.models.push_back(make_model({.name = "cheap2",
                                   .in = 0.10,
                                   .out = 0.40,
                                   .quality = 0.65,
                                   .tags = {"us"},
                                   .ttft_ms = 350,
                                   .tps = 90}));
    c.models[0].deprecated =
        config::Deprecation{"2027-01-31", days_from_civil(2027, 1, 31), replacement};
    return c;
}

TEST(PlanDeprecation, BeforeAndOnTheDateNothingChanges) {
    auto c = with_deprecation("cheap2");
    for (int64_t day : {days_from_civil(2026, 6, 1), days_from_civil(2027, 1, 31)}) {
        Plan p = run_plan(c, "auto", simple_features(), nullptr, nullptr, day);
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(chosen_name(c, p), "cheap");
        EXPECT_TRUE(p.deprecations.empty());
    }
}

TEST(PlanDeprecation, AfterTheDateTheReplacementStandsIn) {
    auto c = with_deprecation("cheap2");
    int64_t day = days_from_civil(2027, 2, 1);
    Plan p = run_plan(c, "auto", simple_features(), nullptr, nullptr, day);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(chosen_name(c, p), "cheap2");
    ASSERT_TRUE(p.chosen()->replaces);
    EXPECT_EQ(*p.chosen()->replaces, 0u);
    EXPECT_EQ(p.chosen()->position, 0u);
    ASSERT_EQ(p.deprecations.size(), 1u);
    EXPECT_EQ(p.deprecations[0].after, "2027-01-31");
    EXPECT_NE(p.reason.find("deprecated cheap->cheap2"), std::string::npos);
    bool header = false;
    for (const auto& [k, v] : decision_headers(p, c)) {
        if (k == "x-baton-deprecated") {
            header = true;
            EXPECT_EQ(v, "cheap; after=2027-01-31; replacement=cheap2");
        }
    }
    EXPECT_TRUE(header);
}

TEST(PlanDeprecation, ReplacementFailingFiltersOrMissingExcludes) {
    auto c = with_deprecation("cheap2");
    c.models[3].tags = {};  // cheap2 loses "us"
    MapHeaders h{{"x-baton-require-tags", "us"}};
    int64_t day = days_from_civil(2027, 3, 1);
    Plan p = run_plan(c, "auto", simple_features(), &h, nullptr, day);
    ASSERT_TRUE(p.ok());
    const Exclusion* e = exclusion_of(c, p, "cheap");
    ASSERT_TRUE(has_reason(p, e, "deprecated"));
    EXPECT_NE(describe(p, *e, c).find("replacement cheap2 excluded: tag:us"), std::string::npos)
        << describe(p, *e, c);
    EXPECT_EQ(chosen_name(c, p), "strong");

    auto none = with_deprecation("");
    p = run_plan(none, "auto", simple_features(), nullptr, nullptr, day);
    EXPECT_TRUE(has_reason(p, exclusion_of(none, p, "cheap"), "deprecated"));
    ASSERT_EQ(p.deprecations.size(), 1u);
    EXPECT_FALSE(p.deprecations[0].replacement);
}

TEST(PlanDeprecation, ReplacementAlreadyACandidateIsNotDuplicated) {
    auto c = with_deprecation("strong");
    Plan p = run_plan(c, "auto", simple_features(), nullptr, nullptr, days_from_civil(2028, 1, 1));
    ASSERT_TRUE(p.ok());
    size_t strong = 0;
    for (const auto& cand : p.ranked) strong += c.models[cand.model_index].name == "strong";
    EXPECT_EQ(strong, 1u);
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "cheap"), "deprecated"));
}

TEST(PlanDeprecation, DirectModelFollowsReplacementChain) {
    auto c = with_deprecation("cheap2");
    c.models[3].deprecated =
        config::Deprecation{"2027-06-30", days_from_civil(2027, 6, 30), "strong"};
    Plan p = run_plan(c, "cheap", simple_features(), nullptr, nullptr, days_from_civil(2027, 3, 1));
    EXPECT_EQ(chosen_name(c, p), "cheap2");
    p = run_plan(c, "cheap", simple_features(), nullptr, nullptr, days_from_civil(2027, 8, 1));
    EXPECT_EQ(chosen_name(c, p), "strong");
    EXPECT_TRUE(p.direct);
    // No replacement: served as requested, with the notice.
    auto none = with_deprecation("");
    p = run_plan(none, "cheap", simple_features(), nullptr, nullptr, days_from_civil(2028, 1, 1));
    EXPECT_EQ(chosen_name(none, p), "cheap");
    EXPECT_EQ(p.deprecations.size(), 1u);
}

// ---- scoring ------------------------------------------------------------------------------

TEST(PlanScore, CheapModelWinsCostObjective) {
    auto c = three_models();
    c.routes[0].objective = {0.9, 0.0, 0.1};
    Features f = simple_features(100, 0.5);
    f.tools = true;  // local out
    Plan p = run_plan(c, "auto", f);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(chosen_name(c, p), "cheap");
    EXPECT_EQ(p.decisive, "cost");
    EXPECT_EQ(p.reason, "cheapest-capable; tier=medium; 1 excluded: capability:tools");
    EXPECT_DOUBLE_EQ(p.chosen()->score.cost_term, 1.0);
}

TEST(PlanScore, QualityObjectiveWithComplexPromptPicksStrongModel) {
    auto c = three_models();
    c.routes[0].objective = {0.1, 0.1, 0.8};
    Plan p = run_plan(c, "auto", simple_features(400, 0.9));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.tier, Tier::complex);
    EXPECT_EQ(chosen_name(c, p), "strong");
    EXPECT_EQ(p.decisive, "quality");
    EXPECT_EQ(p.reason.rfind("best-quality; tier=complex", 0), 0u);
}

TEST(PlanScore, BalancedObjectiveShortToCheapComplexToStrong) {
    auto c = three_models();
    Features short_prompt = simple_features(12, 0.02);
    short_prompt.tools = true;
    Plan p = run_plan(c, "auto", short_prompt);
    EXPECT_EQ(p.tier, Tier::simple);
    EXPECT_EQ(chosen_name(c, p), "cheap");
    Features complex_prompt = simple_features(600, 0.85);
    complex_prompt.tools = true;
    p = run_plan(c, "auto", complex_prompt);
    EXPECT_EQ(p.tier, Tier::complex);
    EXPECT_EQ(chosen_name(c, p), "strong");
    // The tier boost: quality weight 0.3 x3, renormalised.
    EXPECT_NEAR(p.objective.quality, 0.9 / 1.6, 1e-9);
}

TEST(PlanScore, SimpleTierQualitySaturates) {
    auto c = three_models();
    Plan p = run_plan(c, "auto", simple_features(12, 0.02));
    ASSERT_TRUE(p.ok());
    for (const auto& cand : p.ranked) {
        const auto& m = c.models[cand.model_index];
        if (m.quality >= 0.5) {
            EXPECT_DOUBLE_EQ(cand.score.quality_term, 1.0) << m.name;
        }
    }
}

TEST(PlanScore, ObjectiveHeaderBecomesDominant) {
    auto c = three_models();
    MapHeaders h{{"x-baton-objective", "latency"}};
    Features f = simple_features(100, 0.5);
    f.tools = true;
    Plan p = run_plan(c, "auto", f, &h);
    ASSERT_TRUE(p.ok());
    EXPECT_DOUBLE_EQ(p.objective.latency, 0.8);
    EXPECT_NEAR(p.objective.cost + p.objective.quality, 0.2, 1e-12);
    EXPECT_EQ(p.objective_source, "header:latency");
    EXPECT_EQ(chosen_name(c, p), "cheap");  // 400ms + 512/80 s beats 900ms + 512/60 s
    EXPECT_NE(p.reason.find("objective=latency"), std::string::npos);
    MapHeaders q{{"x-baton-objective", "quality"}};
    p = run_plan(c, "auto", simple_features(10, 0.01), &q);  // even a trivial prompt
    EXPECT_EQ(chosen_name(c, p), "strong");
}

TEST(PlanScore, TermsAreNormalisedAndCostIsForThisRequest) {
    auto c = three_models();
    Features f = simple_features(1000, 0.5);
    f.max_tokens = 100;
    Plan p = run_plan(c, "auto", f);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.expected_output_tokens, 100u);
    for (const auto& cand : p.ranked) {
        const auto& m = c.models[cand.model_index];
        EXPECT_NEAR(cand.score.cost_usd, (1000 * m.price.input + 100 * m.price.output) / 1e6,
                    1e-12);
        for (double t : {cand.score.cost_term, cand.score.latency_term, cand.score.quality_term}) {
            EXPECT_GE(t, 0.0);
            EXPECT_LE(t, 1.0);
        }
    }
    // Ranked best first.
    for (size_t i = 1; i < p.ranked.size(); ++i) {
        EXPECT_GE(p.ranked[i - 1].score.total, p.ranked[i].score.total);
    }
}

TEST(PlanScore, TiesBreakByCandidateOrderThenName) {
    config::Config c;
    for (const char* n : {"b", "a", "c"}) c.models.push_back(make_model({.name = n}));
    c.routes.push_back(make_route("r", c, {"b", "a", "c"}));
    Plan p = run_plan(c, "r", simple_features());
    ASSERT_EQ(p.ranked.size(), 3u);
    EXPECT_EQ(chosen_name(c, p), "b");
    EXPECT_EQ(c.models[p.ranked[1].model_index].name, "a");
    EXPECT_EQ(p.decisive, "tie");
    // Same input, same plan.
    Plan again = run_plan(c, "r", simple_features());
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(p.ranked[i].model_index, again.ranked[i].model_index);
}

// ---- latency stats ------------------------------------------------------------------------

TEST(LatencyStatsTest, EwmaAndWarmupBlend) {
    auto c = three_models();
    LatencyStats s(c.models.size());
    LatencyPrediction p0 = predict(c.models[0], 0, &s);
    EXPECT_DOUBLE_EQ(p0.ttft_ms, 400);  // hint
    EXPECT_FALSE(p0.live);
    s.record(0, 1400, 40);
    LatencyPrediction p1 = predict(c.models[0], 0, &s);
    EXPECT_DOUBLE_EQ(p1.ttft_ms, 0.8 * 400 + 0.2 * 1400);  // 1 of 5 warm-up samples
    EXPECT_DOUBLE_EQ(p1.tokens_per_s, 0.8 * 80 + 0.2 * 40);
    for (int i = 0; i < 4; ++i) s.record(0, 1400, 40);
    LatencyPrediction p5 = predict(c.models[0], 0, &s);
    EXPECT_TRUE(p5.live);
    EXPECT_DOUBLE_EQ(p5.ttft_ms, 1400);
    s.record(0, 400, -1);  // tokens/s unknown: only TTFT moves
    ModelLatency m = s.read(0);
    EXPECT_DOUBLE_EQ(m.ttft_ms, 1400 + kEwmaAlpha * (400 - 1400));
    EXPECT_EQ(m.ttft_samples, 6u);
    EXPECT_EQ(m.tps_samples, 5u);
    s.record(99, 1, 1);  // out of range: ignored
    EXPECT_EQ(s.read(99).ttft_samples, 0u);
}

TEST(LatencyStatsTest, SlowModelLosesAfterWarmup) {
    // Two equal models; latency-only objective. "a" is first in order and wins at first.
    config::Config c;
    c.models.push_back(make_model({.name = "a", .ttft_ms = 500, .tps = 80}));
    c.models.push_back(make_model({.name = "b", .ttft_ms = 500, .tps = 80}));
    c.routes.push_back(make_route("r", c, {"a", "b"}, {0, 1, 0}));
    LatencyStats stats(2);
    EXPECT_EQ(chosen_name(c, run_plan(c, "r", simple_features(), nullptr, &stats)), "a");
    for (uint32_t i = 0; i < kWarmupSamples; ++i) {
        stats.record(0, 3000, 20);  // a turns slow
        stats.record(1, 450, 85);
    }
    Plan p = run_plan(c, "r", simple_features(), nullptr, &stats);
    EXPECT_EQ(chosen_name(c, p), "b");
    EXPECT_TRUE(p.chosen()->score.live_latency);
    EXPECT_EQ(p.decisive, "latency");
}

TEST(LatencyStatsTest, ConcurrentRecordsAreAllCounted) {
    LatencyStats s(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&s] {
            for (int i = 0; i < 10000; ++i) s.record(1, 100, 50);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(s.read(1).ttft_samples, 40000u);
    EXPECT_DOUBLE_EQ(s.read(1).ttft_ms, 100);
}

TEST(LatencyStatsTest, ImportKeepsModelsByName) {
    auto a = three_models();
    auto b = three_models();
    std::swap(b.models[0], b.models[2]);  // reordered in the new config
    LatencyStats old(a.models.size());
    old.record(0, 1234, 55);  // "cheap"
    LatencyStats fresh(b.models.size());
    fresh.import_from(old, a, b);
    EXPECT_DOUBLE_EQ(fresh.read(2).ttft_ms, 1234);
    EXPECT_EQ(fresh.read(0).ttft_samples, 0u);
}

}  // namespace
}  // namespace baton::policy
