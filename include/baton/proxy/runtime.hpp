#pragma once
// The immutable, compiled form of a loaded config, shared by every worker and pinned by each
// request for its whole life (a reload publishes a new one; in-flight requests keep theirs).
#include <array>
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "baton/audit/log.hpp"
#include "baton/auth/keys.hpp"
#include "baton/config/model.hpp"
#include "baton/core/clock.hpp"
#include "baton/guard/injection.hpp"
#include "baton/metrics/registry.hpp"
#include "baton/policy/engine.hpp"
#include "baton/policy/stats.hpp"
#include "baton/proxy/health.hpp"
#include "baton/proxy/resilience.hpp"
#include "baton/ratelimit/budget.hpp"
#include "baton/upstream/connection.hpp"

namespace baton::proxy {

// Metric cells of one configured model, resolved once per config load.
struct ModelMetrics {
    std::string model;
    std::string provider;
    metrics::Histogram* duration = nullptr;
    metrics::Histogram* ttft = nullptr;
    metrics::Counter* prompt_tokens = nullptr;
    metrics::Counter* completion_tokens = nullptr;
    // baton_requests_total{route,model,status}: cells created on first use of a status code.
    metrics::Counter& requests(std::string_view route, unsigned status);

  private:
    std::array<std::atomic<metrics::Counter*>, 600> by_status_{};
};

struct ProviderRuntime {
    upstream::Origin origin;  // where connections go (pool key: origin.key() + settings)
    std::string pool_key;     // origin + cap + tls profile
    // "GET <base_path><health_check.path> HTTP/1.1\r\n..." (also holds the secret).
    std::string health_request;
    metrics::Histogram* upstream_duration = nullptr;
};

struct Runtime {
    std::shared_ptr<const config::Config> config;
    std::vector<ProviderRuntime> providers;                    // same order as config->providers
    std::vector<std::unique_ptr<ModelMetrics>> model_metrics;  // same order as config->models
    std::unique_ptr<ModelMetrics> unknown_model_metrics;       // requests with no resolved model
    std::vector<std::string> upstream_model_json;  // per model: "\"upstream-name\"" (JSON string)
    // Per model: "POST /v1/chat/completions HTTP/1.1\r\nHost: ...\r\nAuthorization: ...\r\n..."
    // up to (not including) Content-Length, in the provider's wire format; stream_prefix is the
    // same for a streaming request (differs for gemini). Hold the secret: never log them.
    std::vector<std::string> chat_prefix;
    std::vector<std::string> stream_prefix;
    policy::CompiledPolicy policy;  // routes, rules, lookup tables
    auth::KeyStore keys;
    std::shared_ptr<audit::AuditWriter> audit;    // null: no audit log configured // virtual keys
                                                  // (empty: no keys configured)
    std::shared_ptr<policy::LatencyStats> stats;  // live TTFT / tokens-per-second per model
    // Per model (deployment = provider + model): shared across reloads while the pair exists.
    std::vector<std::shared_ptr<CircuitBreaker>> breakers;
    // Per provider (same order as config->providers): active health-check state.
    std::vector<std::shared_ptr<ProviderHealth>> health;
    std::optional<guard::InjectionScanner> injection;  // set when config.injection.enabled
    // baton_cost_usd_total{model,route} for every (route, candidate) and (model, model) pair.
    std::map<std::pair<std::string, size_t>, metrics::Counter*, std::less<>> cost_counters;
    metrics::Counter* cost_counter(std::string_view route, size_t model_index) const;
    std::string models_json;        // GET /v1/models body
    std::string known_models_list;  // "a, b, c" for 404 messages
    uint64_t generation = 0;
    std::string loaded_at;  // UTC ISO-8601 time this snapshot was built
};

// Compiles a validated config (TLS contexts, request prefixes, metric cells). Throws
// baton::ConfigError (e.g. unreadable ca_file).
// `previous` (may be null) donates the live latency stats of models that keep their name.
std::shared_ptr<const Runtime> build_runtime(std::shared_ptr<const config::Config> cfg,
                                             uint64_t generation,
                                             const Runtime* previous = nullptr);

// Holds the current Runtime. publish() is called by the reload controller; workers read
// generation() (an atomic) on each request and call current() only when it changed.
class SnapshotHolder {
  public:
    void publish(std::shared_ptr<const Runtime> rt);
    std::shared_ptr<const Runtime> current() const;
    uint64_t generation() const { return gen_.load(std::memory_order_acquire); }

  private:
    mutable std::mutex mu_;
    std::shared_ptr<const Runtime> rt_;
    std::atomic<uint64_t> gen_{0};
};

// "POST <path> HTTP/1.1\r\n" + host, credentials and content headers (no Content-Length) for
// `endpoint` ("chat/completions", "completions", "embeddings") of model `m` at provider `p`, in
// the provider's URL scheme (azure deployments, anthropic /messages, gemini :generateContent or,
// with `stream`, :streamGenerateContent). Holds the secret: never log it.
std::string request_prefix(const config::Provider& p, const config::Model& m,
                           std::string_view endpoint, bool stream = false);

// Background work that must not block an event loop (audit appends). Waits for everything
// queued; call once at shutdown, after the workers stopped.
void finish_background_work();

// The process's spend ledger (budgets per key; shared by all workers, restored from and saved to
// the state store by the daemon).
ratelimit::BudgetLedger& budget_ledger();

// Process-wide state the pipeline reads.
struct ProcessState {
    std::atomic<bool> draining{false};
    Clock::time_point started = Clock::now();
};

}  // namespace baton::proxy
