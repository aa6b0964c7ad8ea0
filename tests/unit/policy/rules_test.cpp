// Rules (match kinds, actions, first match wins), compile() errors, tiers and experiments.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "baton/policy/engine.hpp"
#include "unit/policy/policy_fixture.hpp"

namespace baton::policy {
namespace {

using namespace testing;

// three_models() + a "premium" route (strong only) + rules.
config::Config with_rules() {
    auto c = three_models();
    c.routes.push_back(make_route("premium", c, {"strong"}));
    return c;
}

config::Rule rule(int line) {
    config::Rule r;
    r.line = line;
    return r;
}

Plan plan_request(const config::Config& c, const TestRequest& t, const Features& f,
                  const HeaderLookup* h = nullptr, StickyKeys sticky = {}) {
    CompiledPolicy pol = compile(c);
    PlanInput in(c, pol, "auto", f);
    in.headers = h;
    in.request = &t.req;
    in.body = t.body;
    in.sticky = sticky;
    in.today_days = 20000;
    return plan(in);
}

// ---- match kinds --------------------------------------------------------------------------

TEST(Rules, HeaderEqualitySwitchesRoute) {
    auto c = with_rules();
    auto r = rule(10);
    r.match.headers = {{"x-persona", "legal"}};
    r.then.route = "premium";
    c.rules.push_back(r);
    MapHeaders legal{{"X-Persona", "legal"}};
    Plan p = run_plan(c, "auto", simple_features(), &legal);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.route, "premium");
    EXPECT_EQ(chosen_name(c, p), "strong");
    ASSERT_TRUE(p.rule_index);
    EXPECT_EQ(*p.rule_index, 0u);
    EXPECT_EQ(p.rule_line, 10);
    EXPECT_NE(p.reason.find("rule:10"), std::string::npos);
    MapHeaders other{{"x-persona", "Legal"}};  // values are compared exactly
    p = run_plan(c, "auto", simple_features(), &other);
    EXPECT_EQ(p.route, "auto");
    EXPECT_FALSE(p.rule_index);
}

TEST(Rules, PromptTokensOverAddsCapability) {
    auto c = with_rules();
    c.models[1].capabilities.push_back("long_context");
    auto r = rule(20);
    r.match.prompt_tokens_over = 100000;
    r.then.require_capabilities = {"long_context"};
    c.rules.push_back(r);
    Plan p = run_plan(c, "auto", simple_features(100000));  // not over
    EXPECT_TRUE(p.required_capabilities.empty());
    p = run_plan(c, "auto", simple_features(100001));
    EXPECT_EQ(p.required_capabilities, (std::vector<std::string>{"long_context"}));
    EXPECT_EQ(chosen_name(c, p), "strong");
    EXPECT_TRUE(has_reason(p, exclusion_of(c, p, "cheap"), "capability:long_context"));
}

TEST(Rules, ContentRegexOverMessageTextAddsTags) {
    auto c = with_rules();
    auto r = rule(30);
    r.match.content_regex = "(?i)\\bconfidential\\b";
    r.then.require_tags = {"on_prem"};
    c.rules.push_back(r);
    Features f = simple_features();
    // The word right after an escaped newline: the text is unescaped before matching.
    auto t = make_request("auto", {{"system", "Be brief."}, {"user", "Memo\nCONFIDENTIAL: q3"}});
    Plan p = plan_request(c, t, f);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.required_tags, (std::vector<std::string>{"on_prem"}));
    EXPECT_EQ(chosen_name(c, p), "local");
    // \u escapes are decoded too.
    TestRequest u;
    u.body = R"({"model":"auto","messages":[{"role":"user","content":"\u0043onfidential"}]})";
    auto at = static_cast<uint32_t>(u.body.find("\\u0043"));
    u.req.text_spans.push_back({at, at + 17});
    u.req.message_count = 1;
    EXPECT_TRUE(plan_request(c, u, f).rule_index);
    auto clean = make_request("auto", {{"user", "nonconfidential stuff"}});
    p = plan_request(c, clean, f);
    EXPECT_FALSE(p.rule_index);
    EXPECT_TRUE(p.required_tags.empty());
}

TEST(Rules, ModelListAndObjectiveOverride) {
    auto c = with_rules();
    auto r = rule(40);
    r.match.models = {"auto", "other"};
    r.then.objective = config::Objective{0, 0, 1};
    c.rules.push_back(r);
    Plan p = run_plan(c, "auto", simple_features(100, 0.5));
    EXPECT_EQ(p.objective_source, "rule:40");
    EXPECT_DOUBLE_EQ(p.objective.quality, 1.0);
    EXPECT_EQ(chosen_name(c, p), "strong");
    p = run_plan(c, "premium", simple_features(100, 0.5));
    EXPECT_FALSE(p.rule_index);
    EXPECT_EQ(p.objective_source, "route");
}

TEST(Rules, AllConditionsOfARuleMustHold) {
    auto c = with_rules();
    auto r = rule(50);
    r.match.headers = {{"x-team", "ml"}};
    r.match.prompt_tokens_over = 1000;
    r.then.route = "premium";
    c.rules.push_back(r);
    MapHeaders h{{"x-team", "ml"}};
    EXPECT_EQ(run_plan(c, "auto", simple_features(10), &h).route, "auto");
    EXPECT_EQ(run_plan(c, "auto", simple_features(5000)).route, "auto");
    EXPECT_EQ(run_plan(c, "auto", simple_features(5000), &h).route, "premium");
}

TEST(Rules, FirstMatchWins) {
    auto c = with_rules();
    auto a = rule(60);
    a.match.headers = {{"x-tier", "gold"}};
    a.then.require_tags = {"eu"};
    auto b = rule(61);
    b.match.headers = {{"x-tier", "gold"}};
    b.then.route = "premium";
    c.rules = {a, b};
    MapHeaders h{{"x-tier", "gold"}};
    Plan p = run_plan(c, "auto", simple_features(), &h);
    EXPECT_EQ(*p.rule_index, 0u);
    EXPECT_EQ(p.route, "auto");  // the second rule's route switch does not apply
    EXPECT_EQ(p.required_tags, (std::vector<std::string>{"eu"}));
}

TEST(Rules, DirectModelOnlyTakesRouteSwitches) {
    auto c = with_rules();
    auto a = rule(70);
    a.match.models = {"cheap"};
    a.then.require_tags = {"on_prem"};
    c.rules = {a};
    Plan p = run_plan(c, "cheap", simple_features());
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p.direct);
    EXPECT_FALSE(p.rule_applied);
    EXPECT_EQ(chosen_name(c, p), "cheap");
    c.rules[0].then.route = "premium";
    c.rules[0].then.require_tags.clear();
    p = run_plan(c, "cheap", simple_features());
    EXPECT_FALSE(p.direct);
    EXPECT_EQ(p.route, "premium");
    EXPECT_EQ(chosen_name(c, p), "strong");
}

TEST(Compile, InvalidRegexIsReportedWithRuleIndex) {
    auto c = with_rules();
    c.rules.push_back(rule(80));
    c.rules[0].match.headers = {{"x", "y"}};
    c.rules.push_back(rule(81));
    c.rules[1].match.content_regex = "(?i)(unclosed";
    CompiledPolicy pol = compile(c);
    ASSERT_FALSE(pol.ok());
    ASSERT_EQ(pol.errors().size(), 1u);
    EXPECT_EQ(pol.errors()[0].rule_index, 1u);
    EXPECT_EQ(pol.errors()[0].line, 81);
    EXPECT_NE(pol.errors()[0].message.find("rules[1].match.content_regex"), std::string::npos);
    // Such a rule never matches.
    auto t = make_request("auto", {{"user", "(unclosed"}});
    Features f = simple_features();
    PlanInput in(c, pol, "auto", f);
    in.request = &t.req;
    in.body = t.body;
    Plan p = plan(in);
    EXPECT_FALSE(p.rule_index);
}

// ---- tiers --------------------------------------------------------------------------------

TEST(Tiers, ThresholdsMapScoreToTier) {
    config::ComplexityTiers t{0.35, 0.65};
    EXPECT_EQ(tier_for(0.0, t), Tier::simple);
    EXPECT_EQ(tier_for(0.349, t), Tier::simple);
    EXPECT_EQ(tier_for(0.35, t), Tier::medium);
    EXPECT_EQ(tier_for(0.65, t), Tier::medium);
    EXPECT_EQ(tier_for(0.651, t), Tier::complex);
    EXPECT_EQ(to_string(Tier::complex), "complex");
}

TEST(Tiers, RouteThresholdsAndExpectedOutput) {
    auto c = three_models();
    c.routes[0].complexity = {0.1, 0.2};
    Plan p = run_plan(c, "auto", simple_features(20, 0.15));
    EXPECT_EQ(p.tier, Tier::medium);
    EXPECT_EQ(p.expected_output_tokens, 512u);
    p = run_plan(c, "auto", simple_features(20, 0.25));
    EXPECT_EQ(p.tier, Tier::complex);
    EXPECT_EQ(p.expected_output_tokens, 1024u);
    p = run_plan(c, "auto", simple_features(20, 0.05));
    EXPECT_EQ(p.tier, Tier::simple);
    EXPECT_EQ(p.expected_output_tokens, 256u);
}

// ---- experiments --------------------------------------------------------------------------

config::Experiment experiment(std::vector<std::pair<std::string, uint32_t>> weights) {
    config::Experiment e;
    e.name = "cheap-vs-balanced";
    for (auto& [n, w] : weights) e.variants.push_back({n, w, std::nullopt});
    return e;
}

void expect_split(const config::Experiment& e, int users) {
    std::map<std::string, int> counts;
    for (int u = 0; u < users; ++u) {
        auto v = pick_variant(e, "user-" + std::to_string(u));
        ASSERT_TRUE(v);
        ++counts[e.variants[*v].name];
    }
    double total = 0;
    for (const auto& v : e.variants) total += v.weight;
    for (const auto& v : e.variants) {
        double share = counts[v.name] / static_cast<double>(users);
        EXPECT_NEAR(share, v.weight / total, 0.02) << v.name;
    }
}

TEST(Experiments, SplitWithinTwoPercentOver10kUsers) {
    expect_split(experiment({{"a", 90}, {"b", 10}}), 10000);
    expect_split(experiment({{"a", 50}, {"b", 50}}), 10000);
    expect_split(experiment({{"x", 1}, {"y", 2}, {"z", 7}}), 10000);
}

TEST(Experiments, ZeroWeightNeverChosenAndEmptyWeightsMeanNoVariant) {
    auto e = experiment({{"a", 1}, {"off", 0}});
    for (int u = 0; u < 1000; ++u) EXPECT_EQ(*pick_variant(e, std::to_string(u)), 0u);
    EXPECT_FALSE(pick_variant(experiment({{"a", 0}}), "k"));
}

TEST(Experiments, StickyAndVariantObjectiveApplies) {
    auto c = three_models();
    auto e = experiment({{"a", 50}, {"b", 50}});
    e.variants[1].objective = config::Objective{0, 0, 1};
    c.routes[0].experiment = e;
    Features f = simple_features(100, 0.5);
    int seen_b = 0;
    for (int u = 0; u < 50; ++u) {
        std::string user = "u" + std::to_string(u);
        Plan p1 = run_plan(c, "auto", f, nullptr, nullptr, 20000, StickyKeys{user, {}});
        Plan p2 = run_plan(c, "auto", f, nullptr, nullptr, 20000, StickyKeys{user, {}});
        ASSERT_EQ(p1.variant, p2.variant);  // sticky
        EXPECT_EQ(p1.experiment, "cheap-vs-balanced");
        EXPECT_EQ(p1.sticky_source, "user");
        if (p1.variant == "b") {
            ++seen_b;
            EXPECT_EQ(p1.objective_source, "variant:b");
            EXPECT_EQ(chosen_name(c, p1), "strong");
        } else {
            EXPECT_EQ(p1.objective_source, "route");
        }
        bool header = false;
        for (const auto& [k, v] : decision_headers(p1, c)) {
            header = header || (k == "x-baton-variant" && v == p1.variant);
        }
        EXPECT_TRUE(header);
    }
    EXPECT_GT(seen_b, 10);
    EXPECT_LT(seen_b, 40);
}

TEST(Experiments, StickyByHeaderFallsBackToUserThenKey) {
    auto c = three_models();
    auto e = experiment({{"a", 50}, {"b", 50}});
    e.sticky_by = "header:X-Session-Id";
    c.routes[0].experiment = e;
    MapHeaders h{{"x-session-id", "s-42"}};
    Plan p = run_plan(c, "auto", simple_features(), &h, nullptr, 20000, StickyKeys{"u1", {}});
    EXPECT_EQ(p.sticky_source, "header:x-session-id");
    EXPECT_EQ(p.variant, e.variants[*pick_variant(e, "s-42")].name);
    p = run_plan(c, "auto", simple_features(), nullptr, nullptr, 20000, StickyKeys{"u1", {}});
    EXPECT_EQ(p.sticky_source, "user");
    p = run_plan(c, "auto", simple_features(), nullptr, nullptr, 20000, StickyKeys{{}, "key-1"});
    EXPECT_EQ(p.sticky_source, "key");
    p = run_plan(c, "auto", simple_features());
    EXPECT_EQ(p.sticky_source, "none");
}

TEST(Experiments, HashIsStableAcrossRuns) {
    // Pinned values: changing the hash would reshuffle every running experiment.
    EXPECT_EQ(sticky_hash("exp", "user-1"), sticky_hash("exp", "user-1"));
    EXPECT_NE(sticky_hash("exp", "user-1"), sticky_hash("exp", "user-2"));
    EXPECT_NE(sticky_hash("ab", "c"), sticky_hash("a", "bc"));
    EXPECT_EQ(sticky_hash("", ""), 0x25fc6dd36ce04b20ull);
}

TEST(CivilDays, KnownDates) {
    EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
    EXPECT_EQ(days_from_civil(2027, 1, 31) + 1, days_from_civil(2027, 2, 1));
    EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
}

}  // namespace
}  // namespace baton::policy
