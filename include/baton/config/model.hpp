#pragma once
// Plain config structs: the validated, typed form of baton.yaml. Built by config::load(),
// never mutated after. Durations are std::chrono::milliseconds.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baton::config {

using Millis = std::chrono::milliseconds;

struct ServerTimeouts {
    Millis header_read{10'000};  // whole request head (and body) must arrive within this
    Millis idle{60'000};         // keep-alive idle between requests
    Millis drain{30'000};        // SIGTERM: in-flight requests get this long
};

struct Server {
    std::string listen = "127.0.0.1:8080";  // host:port; host may be an IPv4/IPv6 literal
    std::string host = "127.0.0.1";         // parsed from listen
    uint16_t port = 8080;                   // parsed from listen
    unsigned threads = 0;                   // 0 = one per core
    uint64_t max_body_bytes = 8ull << 20;
    uint32_t max_header_bytes = 16 * 1024;
    uint32_t max_connections = 10'000;  // concurrent downstream connections
    ServerTimeouts timeouts;
};

struct Logging {
    std::string level = "info";         // trace|debug|info|warn|error|off
    std::string access_log = "stdout";  // stdout | off | path
};

enum class ProviderKind { openai, mock };

struct ProviderTimeouts {
    Millis connect{3'000};
    Millis first_byte{60'000};
    Millis idle{30'000};
    Millis total{600'000};
};

struct MockSettings {
    Millis latency{0};                     // delay before the response head / first chunk
    uint32_t tokens = 16;                  // completion tokens per response
    Millis chunk_delay{0};                 // delay between stream chunks
    double error_rate = 0.0;               // 0..1 share of requests that fail
    std::vector<int> error_statuses{500};  // statuses drawn for injected failures
};

// Retries and circuit breaking for a provider's deployments (docs/resilience.md).
struct Resilience {
    uint32_t max_retries = 2;  // retries of one target before falling back
    Millis backoff_base{100};  // full-jitter exponential backoff
    Millis backoff_cap{2'000};
    Millis retry_after_cap{10'000};      // an upstream Retry-After is honoured up to this
    uint32_t breaker_consecutive = 5;    // open after this many failures in a row
    double breaker_ratio = 0.5;          // ... or this failure share in the window
    uint32_t breaker_min_requests = 20;  // ... once the window holds this many outcomes
    Millis breaker_window{30'000};
    Millis breaker_cool_down{10'000};  // open → half-open (one probe) after this
};

struct Tls {
    std::string ca_file;  // extra CA bundle (PEM) for private CAs; empty = system store
    bool verify = true;   // certificate + host-name verification
};

struct Provider {
    std::string name;
    ProviderKind kind = ProviderKind::openai;
    std::string base_url;  // e.g. https://api.openai.com/v1 (openai kind)
    // Parsed from base_url:
    bool tls = false;
    std::string host;
    uint16_t port = 0;
    std::string base_path;  // "/v1" (no trailing slash)
    // api_key: resolved secret value (never logged). api_key_ref is "env:NAME"/"file:PATH".
    std::string api_key;
    std::string api_key_ref;
    bool api_key_missing = false;        // env var unset or file unreadable: models answer 401
    std::string api_key_missing_reason;  // e.g. "environment variable OPENAI_API_KEY is not set"
    uint32_t max_connections = 128;
    Millis pool_idle{90'000};  // idle upstream connections are closed after this
    ProviderTimeouts timeouts;
    Tls tls_settings;
    std::map<std::string, std::string> headers;  // extra headers sent upstream
    MockSettings mock;                           // kind: mock only
    Resilience resilience;
};

// Closed vocabulary of model capabilities (validated by the loader).
inline const std::vector<std::string>& capability_names() {
    static const std::vector<std::string> names{
        "tools", "vision", "json_mode", "json_schema", "streaming", "long_context", "reasoning"};
    return names;
}

struct Price {  // USD per 1M tokens
    double input = 0;
    double output = 0;
    double cached_input = 0;
};

struct LatencyHint {  // prior until live stats exist
    Millis ttft{1'000};
    double tokens_per_s = 50;
};

struct Deprecation {
    std::string after;        // YYYY-MM-DD as written
    int64_t after_days = 0;   // days since 1970-01-01 of `after`
    std::string replacement;  // model name (validated to exist), may be empty
};

struct Model {
    std::string name;            // what clients send as "model"
    std::string provider;        // provider name
    std::string upstream_model;  // defaults to name
    size_t provider_index = 0;   // index into Config::providers (resolved by the loader)
    // Catalogue (policy engine):
    uint32_t context_window = 0;            // tokens; 0 = unknown (no context filter)
    uint32_t max_output_tokens = 0;         // 0 = unknown
    std::vector<std::string> capabilities;  // subset of capability_names()
    Price price;
    double quality = 0.5;           // 0..1 prior
    std::vector<std::string> tags;  // compliance / data-policy tags
    LatencyHint latency_hint;
    std::optional<Deprecation> deprecated;

    bool has_capability(std::string_view c) const {
        for (const auto& x : capabilities) {
            if (x == c) return true;
        }
        return false;
    }
    bool has_tag(std::string_view t) const {
        for (const auto& x : tags) {
            if (x == t) return true;
        }
        return false;
    }
};

struct Objective {  // weights of the normalised score; the loader normalises them to sum 1
    double cost = 0.5;
    double latency = 0.2;
    double quality = 0.3;
};

struct Constraints {
    std::optional<double> max_price_input;   // USD per 1M tokens
    std::optional<double> max_price_output;  // USD per 1M tokens
    std::optional<Millis> max_ttft;
    std::vector<std::string> require_tags;
    std::vector<std::string> require_capabilities;
};

struct ComplexityTiers {
    double simple_below = 0.35;
    double complex_above = 0.65;
};

struct Variant {
    std::string name;
    uint32_t weight = 0;
    std::optional<Objective> objective;  // overrides the route's objective
};

struct Experiment {
    std::string name;
    std::string sticky_by = "user";  // user | key | header:<name>
    std::vector<Variant> variants;
};

struct Route {
    std::string name;
    std::vector<std::string> candidates;   // as written: model names or selectors "tag:x"
    std::vector<size_t> candidate_models;  // resolved indices into Config::models, in order, unique
    Objective objective;
    Constraints constraints;
    ComplexityTiers complexity;
    std::optional<Experiment> experiment;
};

struct RuleMatch {
    std::map<std::string, std::string> headers;  // lower-case header name -> exact value
    std::optional<uint32_t> prompt_tokens_over;
    std::string content_regex;        // RE2 syntax, validated by the loader
    std::vector<std::string> models;  // requested model/route names
};

struct RuleAction {
    std::optional<std::string> route;  // switch to this route
    std::vector<std::string> require_capabilities;
    std::vector<std::string> require_tags;
    std::optional<Objective> objective;
};

struct Rule {
    int line = 0;  // 1-based line in the config, for explanations
    RuleMatch match;
    RuleAction then;
};

// Virtual keys (issue: tenancy). Keys are never in the config: only HMAC-SHA256(secret, key).
struct KeyEntry {
    std::string name;
    std::string hash;                       // 64 hex chars (`baton keys new` prints it)
    std::vector<std::string> models;        // allowed models/routes; empty = all
    std::vector<std::string> require_tags;  // every candidate must carry these
    uint32_t rpm = 0;                       // requests per minute, 0 = unlimited
    uint32_t tpm = 0;                       // tokens per minute, 0 = unlimited
    uint32_t max_concurrent = 0;            // 0 = unlimited
    std::optional<double> budget_day_usd;   // spend caps (reserved at admission, then settled)
    std::optional<double> budget_week_usd;
    std::optional<double> budget_month_usd;
    std::map<std::string, std::string> metadata;
    bool admin = false;  // may call /admin/* and /v1/route/explain
};

struct Auth {
    bool required = false;   // a key is mandatory on API calls
    std::string secret;      // HMAC secret (resolved from env:/file:; never printed)
    std::string secret_ref;  // as written: env:NAME / file:PATH
};

// Sensitive data in prompts (docs/security.md). Per class: what happens when a message carries it.
enum class PiiAction { allow, route, redact, block };
struct Pii {
    bool enabled = false;  // any class configured
    // Index: pii::Class (email, phone, card, iban, ssn, ip, secret).
    std::array<PiiAction, 7> actions{};  // default allow
    std::string route_tag = "pii_ok";    // `route`: only candidates with this tag
    bool restore = false;                // put redacted values back into responses (streams too)
};

// Tamper-evident audit log (JSON lines, each record carries the SHA-256 of the previous one).
struct AuditLog {
    std::string path;    // empty: no audit log
    bool fsync = false;  // fsync after every record
};

struct Config {
    std::string source_path;    // file it was loaded from
    std::string source_sha256;  // SHA-256 (hex) of the file's text (load_file only)
    Server server;
    Logging logging;
    std::vector<Provider> providers;
    std::vector<Model> models;
    std::vector<Route> routes;
    std::vector<Rule> rules;
    Auth auth;
    std::vector<KeyEntry> keys;
    Pii pii;
    AuditLog audit;

    const Route* find_route(std::string_view name) const {
        for (const auto& r : routes) {
            if (r.name == name) return &r;
        }
        return nullptr;
    }
    const Model* find_model(std::string_view name) const {
        for (const auto& m : models) {
            if (m.name == name) return &m;
        }
        return nullptr;
    }
};

}  // namespace baton::config
