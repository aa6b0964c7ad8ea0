#pragma once
// Failure handling, as data and pure functions (no I/O): every upstream outcome falls into one
// class of a closed vocabulary; each class maps to an action (retry the same target, fall back
// to the next candidate of the plan, or return to the client). Circuit breakers per deployment
// (provider + model) and a retry budget bound the extra load a failing provider can cause.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "baton/core/clock.hpp"

namespace baton::proxy {

enum class Outcome {
    ok,
    connect_refused,  // TCP refused / reset while connecting
    dns,              // name did not resolve
    tls,              // handshake or certificate failure
    timeout_connect,  // connect did not finish within `connect`
    timeout_headers,  // no response head within `first_byte`
    timeout_idle,     // stalled between body pieces past `idle`
    rate_limited,     // 429
    server_error,     // 5xx
    credentials,      // 401 / 403 from the upstream
    context_length,   // 400 context_length_exceeded
    content_policy,   // 400 content policy / safety refusal
    client_error,     // other 4xx: the request itself is wrong
    malformed,        // not HTTP, bad framing, 200 with an error body, wrong content type
    stream_cut,       // body ended early / connection dropped mid-body
    pool_timeout,     // no free upstream connection before the deadline
};

std::string_view to_string(Outcome o);

enum class Action { done, retry_same, fall_back, give_up };
std::string_view to_string(Action a);

// The decision table (docs/resilience.md): what to do after `o` on the attempt-th try of one
// target (1-based).
Action decide(Outcome o, unsigned attempt_on_target, unsigned max_retries);

// Classifies an upstream error response from its status and (small) body.
Outcome classify_status(unsigned status, std::string_view body);

// Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))].
// `draw` in [0,1) (injected for tests).
Duration backoff(unsigned attempt, Duration base, Duration cap, double draw);

// Parses a Retry-After header value (delta seconds, possibly fractional). Returns -1 if absent
// or not a number (HTTP dates are not honoured).
double parse_retry_after(std::string_view v);

// Retry budget: retries in flight may not exceed max(min_concurrency, ratio * active requests),
// so a provider outage does not multiply the load (Envoy's retry budget).
class RetryBudget {
  public:
    RetryBudget(double ratio = 0.2, int64_t min_concurrency = 3)
        : ratio_(ratio), min_(min_concurrency) {}
    void request_started() { active_.fetch_add(1, std::memory_order_relaxed); }
    void request_finished() { active_.fetch_sub(1, std::memory_order_relaxed); }
    // Takes one retry slot if the budget allows; release with retry_finished().
    bool try_retry();
    void retry_finished() { retries_.fetch_sub(1, std::memory_order_relaxed); }
    int64_t active() const { return active_.load(std::memory_order_relaxed); }

  private:
    double ratio_;
    int64_t min_;
    std::atomic<int64_t> active_{0};
    std::atomic<int64_t> retries_{0};
};

// Circuit breaker for one deployment. Closed → open after `consecutive` failures in a row, or
// when at least `min_requests` outcomes in the sliding window failed at a share ≥ ratio; open
// → half-open after `cool_down`: one probe request is let through; its success closes the
// breaker, its failure re-opens it. Thread-safe (short mutex sections, never held across I/O).
struct BreakerSettings {
    uint32_t consecutive = 5;
    double ratio = 0.5;
    uint32_t min_requests = 20;
    Duration window = std::chrono::seconds(30);
    Duration cool_down = std::chrono::seconds(10);
    bool operator==(const BreakerSettings&) const = default;
};

class CircuitBreaker {
  public:
    enum class State { closed, open, half_open };
    explicit CircuitBreaker(BreakerSettings s = {}) : s_(s) {}
    const BreakerSettings& settings() const { return s_; }

    // May a request go to this deployment now? In half-open, true for exactly one probe.
    bool allow(Clock::time_point now);
    // Would allow() admit a request (without taking the half-open probe)?
    bool available(Clock::time_point now) const;
    void record(bool success, Clock::time_point now);
    State state(Clock::time_point now) const;
    uint32_t consecutive_failures() const;
    static std::string_view to_string(State s);

  private:
    // The sliding window as kBuckets counters of window/kBuckets each (a ring indexed by time):
    // O(1) per outcome and constant memory at any request rate. (It had been one entry per
    // outcome, trimmed from the front: at 30k requests/s that was ~900k entries and a memmove
    // per request, which slowed a busy gateway down by the minute.)
    static constexpr size_t kBuckets = 32;
    struct Bucket {
        int64_t epoch = -1;  // time / bucket width; -1: unused
        uint32_t ok = 0;
        uint32_t failed = 0;
    };
    int64_t epoch_of(Clock::time_point t) const;
    void clear_window();
    BreakerSettings s_;
    void set_state(State st) {  // (under mu_)
        state_ = st;
        closed_.store(st == State::closed, std::memory_order_release);
    }
    mutable std::mutex mu_;
    State state_ = State::closed;
    // state_ == closed, readable without the mutex: allow() and available() in the common case
    // take no lock (two workers would otherwise pass the mutex's line back and forth on every
    // request to a deployment).
    std::atomic<bool> closed_{true};
    Clock::time_point opened_at_{};
    bool probe_in_flight_ = false;
    uint32_t consecutive_ = 0;
    std::array<Bucket, kBuckets> window_{};
};

}  // namespace baton::proxy
