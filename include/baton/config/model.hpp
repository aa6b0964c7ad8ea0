#pragma once
// Plain config structs: the validated, typed form of baton.yaml. Built by config::load(),
// never mutated after. Durations are std::chrono::milliseconds.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX (server.tls)

namespace baton::config {

using Millis = std::chrono::milliseconds;

struct ServerTimeouts {
    Millis header_read{10'000};  // whole request head (and body) must arrive within this
    Millis idle{60'000};         // keep-alive idle between requests
    Millis drain{30'000};        // SIGTERM: in-flight requests get this long
};

// HTTPS on the listener (server.tls). The loader validates the files by building the SSL_CTX
// and keeps it: the listener serves exactly what was checked, and a reload (which re-reads the
// files) carries the rotated certificate in its new context.
struct ServerTls {
    std::string cert_file;            // PEM: leaf certificate first, then intermediates
    std::string key_file;             // PEM private key (unencrypted)
    std::string min_version = "1.2";  // "1.2" | "1.3"
    std::shared_ptr<ssl_ctx_st> ssl_ctx;
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
    std::optional<ServerTls> tls;  // unset: plain HTTP
};

struct Logging {
    std::string level = "info";         // trace|debug|info|warn|error|off
    std::string access_log = "stdout";  // stdout | off | path
};

// Wire format spoken by a provider (docs/providers.md). openai: OpenAI and every
// OpenAI-compatible server; azure: Azure OpenAI deployments; anthropic: the Messages API;
// gemini: generateContent; mock: Baton's built-in fake.
enum class ProviderKind { openai, azure, anthropic, gemini, mock };
std::string_view to_string(ProviderKind k);

struct ProviderTimeouts {
    Millis connect{3'000};
    Millis first_byte{60'000};
    Millis idle{30'000};
    Millis total{600'000};
};

// A named failure the mock provider can act out (docs/resilience.md, "Fault injection"). The
// mock's responses go through the same relay, classification and retry code as a real
// upstream's, so a fault shows exactly what Baton does when a provider misbehaves that way.
struct MockFault {
    // Status of the n-th attempt of one request at this model (retries of the same target):
    // [500, 500, 200] fails twice, then answers. Past the end the last status repeats.
    std::vector<int> status;
    Millis retry_after{-1};                          // Retry-After on 429/503 answers (< 0: none)
    Millis stall_before_headers{0};                  // silence before the response head
    uint32_t stall_after_chunks = 0;                 // stream: silence after this many chunks ...
    Millis stall_for{0};                             // ... for this long (0: no mid-stream stall)
    std::optional<uint32_t> cut_after_chunks;        // stream: connection drops, no [DONE]
    std::optional<uint32_t> malformed_after_chunks;  // stream: a broken event is sent
    uint32_t trickle_bytes = 0;                      // body delivered this many bytes at a time ...
    Millis trickle_interval{0};                      // ... with this pause between pieces
    std::string content_type;  // overrides the Content-Type of a 200 (e.g. text/html)
    bool error_body = false;   // a 200 whose body is an OpenAI error object
};

struct MockSettings {
    Millis latency{0};                        // delay before the response head / first chunk
    uint32_t tokens = 16;                     // completion tokens per response
    Millis chunk_delay{0};                    // delay between stream chunks
    double error_rate = 0.0;                  // 0..1 share of requests that fail
    std::vector<int> error_statuses{500};     // statuses drawn for injected failures
    std::map<std::string, MockFault> faults;  // by name
    // Honour `x-baton-mock-fault: <name>` on requests (tests only; off by default).
    bool fault_header = false;
    // Wire format the mock answers in (openai, anthropic or gemini); Baton translates it back
    // like a real provider's, so routing across provider kinds can be tried without keys.
    ProviderKind format = ProviderKind::openai;
};

// Optional active health checks of a provider: a GET on an endpoint every interval; after
// `unhealthy_after` failures in a row its deployments are skipped by the attempt loop (like an
// open breaker; the breakers themselves are left alone) until `healthy_after` successes in a row.
struct HealthCheck {
    bool enabled = false;
    std::string path = "/models";  // appended to base_url's path
    Millis interval{10'000};
    Millis timeout{2'000};
    uint32_t unhealthy_after = 2;
    uint32_t healthy_after = 1;
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

// Per-provider differences of OpenAI-compatible servers (kind openai/azure, chat requests).
// When any is set, the request body is rewritten (JSON DOM) instead of spliced.
struct OpenAIQuirks {
    // Name of the output-limit field the server understands: "max_tokens" (many compatible
    // servers, older models) or "max_completion_tokens" (OpenAI reasoning models); "" = as sent.
    std::string max_tokens_field;
    std::vector<std::string> drop_fields;  // top-level fields the server rejects (debug log)
    bool any() const { return !max_tokens_field.empty() || !drop_fields.empty(); }
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
    std::map<std::string, std::string> headers;    // extra headers sent upstream
    MockSettings mock;                             // kind: mock only
    std::string api_version = "2024-10-21";        // kind azure: ?api-version=
    std::string anthropic_version = "2023-06-01";  // kind anthropic: anthropic-version header
    OpenAIQuirks quirks;                           // kind openai/azure
    Resilience resilience;
    HealthCheck health_check;
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

// What a model does: chat (chat and legacy completions) or embedding (/v1/embeddings only).
enum class ModelKind { chat, embedding };

struct Model {
    std::string name;  // what clients send as "model"
    ModelKind kind = ModelKind::chat;
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
    std::string mock_fault;  // kind mock: a fault from the provider's mock.faults, always on

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

// Per-route overrides of the providers' retry settings, the route's default deadline, and the
// stream hold-back window (the first bytes of a stream are held until `hold_back_time` has
// passed since the first byte or `hold_back_bytes` are buffered, so an early failure is still
// retried or fallen back invisibly; checked when a piece arrives).
struct RouteResilience {
    std::optional<uint32_t> max_retries;
    std::optional<Millis> backoff_base;
    std::optional<Millis> backoff_cap;
    std::optional<Millis> retry_after_cap;
    std::optional<Millis> timeout;  // default deadline (x-baton-timeout-ms may shorten it)
    Millis hold_back_time{0};
    uint32_t hold_back_bytes = 0;
    bool holds_back() const { return hold_back_time.count() > 0 || hold_back_bytes > 0; }
};

struct Route {
    std::string name;
    std::vector<std::string> candidates;   // as written: model names or selectors "tag:x"
    std::vector<size_t> candidate_models;  // resolved indices into Config::models, in order, unique
    Objective objective;
    Constraints constraints;
    ComplexityTiers complexity;
    std::optional<Experiment> experiment;
    RouteResilience resilience;
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

// Where spend (budgets) is kept across restarts: an embedded SQLite file, written off the event
// loop. Default: baton-state.db next to the config file, opened only when a key has a budget.
struct State {
    bool persist = true;        // false: `path: none` (spend lives in memory only)
    std::string path;           // resolved; empty until defaulted by the loader
    bool path_written = false;  // set in the file (else the default)
    Millis flush_interval{200};
};

// Prompt-injection / jailbreak signals (docs/security.md): heuristics, not a guarantee.
enum class InjectionAction { flag, route, strip_tools, block };
struct Injection {
    bool enabled = false;  // an `injection:` block is present
    InjectionAction action = InjectionAction::flag;
    double threshold = 1.0;               // score at which a request counts as suspicious
    std::string route_tag = "hardened";   // action route: only candidates with this tag
    std::vector<std::string> categories;  // empty = all
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
    State state;
    Injection injection;

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
