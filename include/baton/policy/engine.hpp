#pragma once
// Baton's policy engine: picks the upstream model for a chat request and says why.
//
// The engine is pure: no I/O, no clock reads, no global mutable state. Given the same inputs
// (config snapshot, its CompiledPolicy, request features, headers, sticky keys, today's date and a
// latency-stats view) plan() returns the same Plan. docs/routing.md explains the model with
// worked examples.
//
// Integration (per config load, then per request):
//   auto policy = policy::compile(config);        // once; policy.errors() lists bad regexes
//   policy::LatencyStats stats(config.models.size());  // live; stats.record() after responses
//   auto features = policy::extract_features(chat_request, body);
//   policy::PlanInput in(config, policy, chat_request.model, features);
//   in.headers = &headers;                 // a HeaderLookup over the request headers
//   in.request = &chat_request;            // for content_regex rules
//   in.body = body;
//   in.sticky = {chat_request.user, key_id};
//   in.today_days = days_since_epoch;      // from the injected clock
//   in.stats = &stats;
//   policy::Plan p = policy::plan(in);
//   if (!p.ok()) -> reply with *p.error (model_not_found 404, unprocessable 422, ...)
//   else forward to config.models[p.ranked[0].model_index]; later entries are the fallbacks;
//        add policy::decision_headers(p, config) to the response; log p.deprecations once each.
//
// Steps of plan(), in order:
//  1. Resolve the requested name: a route, or a model named directly (a single-candidate plan:
//     only deprecation -> replacement applies, no filters, no scoring). Unknown: model_not_found
//     listing routes and models.
//  2. Rules in config order, first match wins. A rule matches when all its conditions hold:
//     header equality, prompt_tokens_over, content_regex (any message text), requested name in
//     list. Actions: switch route, add required capabilities/tags, override the objective.
//     For a directly named model only a route switch applies.
//  3. Requirements: route constraints + rule + header x-baton-require-tags (comma-separated);
//     price cap: route max_price_output and header x-baton-max-price (USD per 1M output tokens,
//     the lower wins).
//  4. Tier from the complexity score and the route's thresholds (simple | medium | complex);
//     experiment variant: sticky by hash(experiment name, sticky key), weighted;
//     objective: route -> variant -> rule -> header x-baton-objective (dominant 0.8).
//  5. Hard filters per candidate, every failing filter named: context, max_output,
//     capability:<c> (tools, vision, json_schema, json_mode, streaming, required ones), tag:<t>,
//     price, ttft, deprecated (past `after`: replaced by its replacement when that passes).
//  6. Score the survivors: cost of this request, predicted latency, tier-adjusted quality, each
//     normalised to [0,1] across survivors, weighted by the objective; ties by candidate order,
//     then name.
//  7. Output: ranked survivors with score breakdowns, exclusions with reasons, a short reason for
//     x-baton-reason, deprecation notices. No survivor: unprocessable (422) listing every
//     candidate and why it was excluded.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "baton/config/model.hpp"
#include "baton/core/error.hpp"
#include "baton/openai/chat_request.hpp"
#include "baton/policy/features.hpp"
#include "baton/policy/stats.hpp"

namespace re2 {
class RE2;
}

namespace baton::policy {

// ---- request headers ----------------------------------------------------------------------

// Read-only view of the request headers, by lower-case name. The proxy adapts its own header
// container; the engine never sees HTTP library types.
class HeaderLookup {
  public:
    virtual ~HeaderLookup() = default;
    virtual std::optional<std::string_view> get(std::string_view lower_name) const = 0;
};

// A small HeaderLookup over owned pairs (tests, the explain CLI). Names are lower-cased.
class MapHeaders final : public HeaderLookup {
  public:
    MapHeaders() = default;
    MapHeaders(std::initializer_list<std::pair<std::string, std::string>> headers);
    void set(std::string_view name, std::string value);
    std::optional<std::string_view> get(std::string_view lower_name) const override;

  private:
    std::vector<std::pair<std::string, std::string>> headers_;
};

// Header names the engine reads.
inline constexpr std::string_view kHeaderRequireTags = "x-baton-require-tags";
inline constexpr std::string_view kHeaderObjective = "x-baton-objective";
inline constexpr std::string_view kHeaderMaxPrice = "x-baton-max-price";

// ---- compiled policy ----------------------------------------------------------------------

struct CompileError {
    size_t rule_index = 0;  // index into Config::rules
    int line = 0;           // the rule's line in the config file (0 = unknown)
    std::string message;    // e.g. rules[2].match.content_regex: missing ): (?i)(foo
};

// Built once per config load; immutable and shareable across threads afterwards. Holds the
// compiled rule regexes and lookup tables over the Config it was built from (use it only with
// that Config).
class CompiledPolicy {
  public:
    CompiledPolicy();
    ~CompiledPolicy();
    CompiledPolicy(CompiledPolicy&&) noexcept;
    CompiledPolicy& operator=(CompiledPolicy&&) noexcept;

    // Invalid content_regex rules (such a rule never matches; the daemon should refuse the
    // config, as the loader does).
    const std::vector<CompileError>& errors() const { return errors_; }
    bool ok() const { return errors_.empty(); }

  private:
    friend CompiledPolicy compile(const config::Config&);
    friend struct Planner;

    std::vector<CompileError> errors_;
    std::vector<std::unique_ptr<re2::RE2>> rule_regex_;  // per rule; null = no content_regex
    std::map<std::string, size_t, std::less<>> route_index_;
    std::vector<std::vector<size_t>> route_candidates_;  // per route: model indices
    std::map<std::string, size_t, std::less<>> model_index_;
    std::map<std::string, uint32_t, std::less<>> tag_ids_;  // every tag some model has
    std::vector<uint32_t> model_caps_;                      // capability bits per model
    size_t tag_words_ = 1;                                  // uint64 words per model
    std::vector<uint64_t> model_tags_;                      // tag bits, tag_words_ per model
    std::string known_names_;  // "routes: auto, premium; models: a, b" for errors
};

CompiledPolicy compile(const config::Config& config);

// ---- plan ---------------------------------------------------------------------------------

enum class Tier { simple, medium, complex };
std::string_view to_string(Tier t);

struct StickyKeys {
    std::string_view user;  // end-user id (request "user" field)
    std::string_view key;   // caller's API key identity (e.g. key id); only hashed
};

struct PlanInput {
    PlanInput(const config::Config& config_, const CompiledPolicy& policy_,
              std::string_view requested_, const Features& features_)
        : config(config_), policy(policy_), requested(requested_), features(features_) {}

    const config::Config& config;
    const CompiledPolicy& policy;  // compile(config)
    std::string_view requested;    // the request's "model": a route or model name
    const Features& features;
    const HeaderLookup* headers = nullptr;         // null: no headers
    const openai::ChatRequest* request = nullptr;  // text spans for content_regex (null: none)
    std::string_view body;                         // the body request's spans point into
    StickyKeys sticky;
    int64_t today_days = 0;               // days since 1970-01-01 (injected clock)
    const LatencyStats* stats = nullptr;  // null: latency hints only
    // Tags every candidate must carry, from outside the request (e.g. the caller's API key).
    const std::vector<std::string>* extra_required_tags = nullptr;
};

struct Score {
    double cost_usd = 0;      // estimated cost of this request
    double latency_ms = 0;    // predicted: ttft + expected output tokens / tokens_per_s
    double ttft_ms = 0;       // predicted time to first token
    double tokens_per_s = 0;  // predicted generation speed
    uint64_t latency_samples = 0;
    bool live_latency = false;  // warm-up done: live stats, not the hint
    double quality = 0;         // the model's quality prior
    double cost_term = 0;       // [0,1], 1 = cheapest survivor
    double latency_term = 0;    // [0,1], 1 = fastest survivor
    double quality_term = 0;    // [0,1], 1 = best (tier-adjusted) quality
    double total = 0;           // weights . terms
};

struct Candidate {
    size_t model_index = 0;          // into Config::models
    size_t position = 0;             // place in the route's candidate list
    std::optional<size_t> replaces;  // the deprecated model this one stands in for
    Score score;
};

// Hard filters, as bit positions in FilterResult::failed (in the order they are checked and
// reported).
enum class Filter : uint8_t {
    context,      // prompt estimate + output reserve > context_window
    max_output,   // max_tokens > max_output_tokens
    tools,        // capability:tools
    vision,       // capability:vision
    json_schema,  // capability:json_schema
    json_mode,    // capability:json_mode (json_object; json_schema models also qualify)
    streaming,    // capability:streaming
    capability,   // capability:<required>, see missing_capabilities
    tag,          // tag:<required>, see missing_tags
    price,        // over max_price_output (route or x-baton-max-price) or max_price_input
    ttft,         // predicted TTFT over the route's max_ttft
    deprecated,   // past its `after` date and no usable replacement
};

// Outcome of the hard filters for one model: compact (no strings), formatted on demand by
// reasons() and describe().
struct FilterResult {
    uint32_t failed = 0;                // bit (1 << Filter) per failed filter
    uint64_t missing_capabilities = 0;  // bit i: Plan::required_capabilities[i] missing
    uint64_t missing_tags = 0;          // bit i: Plan::required_tags[i] missing
    double ttft_ms = 0;                 // predicted TTFT (for the ttft filter)
    bool ok() const { return failed == 0; }
    bool has(Filter f) const { return (failed >> static_cast<unsigned>(f)) & 1u; }
};

struct Exclusion {
    size_t model_index = 0;
    FilterResult why;
    // deprecated: the replacement that was tried, and why it could not stand in.
    std::optional<size_t> replacement;
    bool replacement_is_candidate = false;  // it is already in the route on its own
    FilterResult replacement_why;
};

struct DeprecationNotice {
    size_t model_index = 0;             // the deprecated model
    std::optional<size_t> replacement;  // the model used instead (none: excluded or served)
    std::string after;                  // YYYY-MM-DD
};

struct Plan {
    std::optional<Error> error;  // set: no plan (ranked is empty)
    bool ok() const { return !error.has_value(); }

    std::string requested;             // the client's "model"
    std::string route;                 // route used; the model name when direct
    bool direct = false;               // the client named a model (no route)
    std::optional<size_t> rule_index;  // first matching rule, if any
    int rule_line = 0;
    bool rule_applied = true;   // false: matched but ignored (direct model)
    std::string experiment;     // experiment name when one applies
    std::string variant;        // chosen variant ("" = no experiment)
    std::string sticky_source;  // "user" | "key" | "header:<name>" | "none"
    Tier tier = Tier::medium;
    config::Objective objective;   // weights used, after the tier adjustment (sum 1)
    std::string objective_source;  // "route" | "variant:<v>" | "rule:<line>" | "header:<w>"
    std::vector<std::string> required_tags;
    std::vector<std::string> required_capabilities;
    std::optional<double> max_price_output;  // effective cap (USD per 1M output tokens)
    std::optional<double> max_price_input;   // route cap (USD per 1M input tokens)
    std::optional<config::Millis> max_ttft;  // route cap
    uint32_t expected_output_tokens = 0;     // used for cost and latency
    std::vector<Candidate> ranked;           // survivors, best first; ranked[0] is the choice
    std::vector<Exclusion> excluded;         // in candidate order
    std::vector<DeprecationNotice> deprecations;
    std::string decisive;  // cost | latency | quality | tie | only | requested
    // For x-baton-reason, e.g. "cheapest-capable; tier=simple; 2 excluded: context, tag:eu".
    std::string reason;
    Features features;

    const Candidate* chosen() const { return ranked.empty() ? nullptr : &ranked.front(); }
};

Plan plan(const PlanInput& input);

// Names of the filters that excluded a model, in filter order: "context", "max_output",
// "capability:tools", "capability:<required>", "tag:<t>", "price", "ttft", "deprecated".
std::vector<std::string> reasons(const Plan& p, const Exclusion& e);
std::vector<std::string> reasons(const Plan& p, const FilterResult& r);
// The same with the numbers, e.g. "context (needs 140000 prompt + 1024 output tokens >
// context_window 128000); tag:eu (model lacks required tag)".
std::string describe(const Plan& p, const Exclusion& e, const config::Config& config);

// Response headers describing the decision: x-baton-route, x-baton-model, x-baton-provider,
// x-baton-variant (experiment), x-baton-reason, x-baton-deprecated (chosen model replaced or
// past its date). Empty when the plan failed.
std::vector<std::pair<std::string, std::string>> decision_headers(const Plan& p,
                                                                  const config::Config& config);
// The same as "Name: value\r\n" lines appended to `out`, without x-baton-model and
// x-baton-provider (the proxy writes those for each attempt's candidate). No allocation beyond
// `out` on the common path.
void append_decision_headers(std::string& out, const Plan& p, const config::Config& config);

// JSON for POST /v1/route/explain and `baton explain`: features, every candidate with its
// exclusion reasons or score breakdown, the chosen plan and its headers (shape in routing.md).
nlohmann::json explain(const Plan& p, const Features& features, const config::Config& config);

// ---- helpers (exposed for tests and the daemon) -------------------------------------------

// Tier of a complexity score under a route's thresholds.
Tier tier_for(double complexity, const config::ComplexityTiers& tiers);

// Stable 64-bit hash of (experiment name, sticky key): FNV-1a, then the SplitMix64 finaliser.
uint64_t sticky_hash(std::string_view experiment, std::string_view key);
// Variant index chosen for a sticky key (weights proportional); nullopt when weights sum to 0.
std::optional<size_t> pick_variant(const config::Experiment& e, std::string_view key);

// Bit of a capability in config::capability_names() (0 for an unknown name).
uint32_t capability_bit(std::string_view name);

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

}  // namespace baton::policy
