#pragma once
// Per-key rate limits: token buckets for requests/minute and tokens/minute plus a concurrency
// cap, with an injected clock. Tokens are estimated at admission and corrected when the real
// usage arrives (Ticket::settle charges or refunds the difference). Admission is all-or-nothing:
// a refused request takes nothing from any bucket.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "baton/core/clock.hpp"

namespace baton::ratelimit {

using NowFn = std::function<Clock::time_point()>;

// A bucket of `capacity` tokens refilled continuously at `per_second`; starts full. Not
// thread-safe (the limiter guards it). The level may go negative after take() (debt).
class TokenBucket {
  public:
    TokenBucket() = default;
    TokenBucket(double capacity, double per_second, Clock::time_point now);

    double level(Clock::time_point now);
    bool try_take(double n, Clock::time_point now);  // all or nothing
    void take(double n, Clock::time_point now);      // unconditional (may go into debt)
    void give(double n, Clock::time_point now);      // refund, capped at capacity
    // Seconds until `n` tokens are available (0 if now; +inf if n > capacity).
    double wait_for(double n, Clock::time_point now);
    double until_full(Clock::time_point now);
    // New capacity/rate keeping the current level (capped at the new capacity).
    void resize(double capacity, double per_second, Clock::time_point now);
    double capacity() const { return capacity_; }

  private:
    void refill(Clock::time_point now);

    double capacity_ = 0;
    double per_second_ = 0;
    double level_ = 0;
    Clock::time_point last_{};
};

struct Limits {
    uint32_t rpm = 0;             // requests per minute; 0 = unlimited
    uint32_t tpm = 0;             // tokens per minute; 0 = unlimited
    uint32_t max_concurrent = 0;  // 0 = unlimited
    bool operator==(const Limits&) const = default;
};

// Values for the OpenAI-style x-ratelimit-* response headers (a dimension without a limit has
// no headers).
struct RateHeaders {
    bool has_requests = false;
    uint32_t limit_requests = 0;
    uint32_t remaining_requests = 0;
    double reset_requests_s = 0;  // until the request bucket is full again
    bool has_tokens = false;
    uint32_t limit_tokens = 0;
    uint32_t remaining_tokens = 0;
    double reset_tokens_s = 0;
    // {"x-ratelimit-limit-requests", "60"}, {"x-ratelimit-remaining-requests", "59"},
    // {"x-ratelimit-reset-requests", "1s"}, and the same for -tokens.
    std::vector<std::pair<std::string, std::string>> http() const;
};

// Duration as OpenAI formats reset headers: "0s", "20ms", "1s", "6m0s", "1h2m3s".
std::string format_reset(double seconds);

enum class Deny : uint8_t { none, requests, tokens, concurrency, too_large };

struct KeyState;

// An admitted request: holds a concurrency slot and the token estimate until settled. Release
// happens on destruction at the latest. Movable, not copyable.
class Ticket {
  public:
    Ticket() = default;
    Ticket(Ticket&& o) noexcept;
    Ticket& operator=(Ticket&& o) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    // Corrects the token bucket with the real usage: charges actual - estimate, or refunds the
    // difference. Only the first call has an effect.
    void settle(uint32_t actual_tokens);
    // Frees the concurrency slot (idempotent; the destructor calls it).
    void release();
    bool valid() const { return state_ != nullptr; }
    uint32_t estimated_tokens() const { return estimated_; }

  private:
    friend class RateLimiter;
    std::shared_ptr<KeyState> state_;
    uint32_t estimated_ = 0;
    bool settled_ = false;
    bool released_ = false;
};

struct Admission {
    Deny deny = Deny::none;
    uint32_t retry_after_s = 0;  // Retry-After value (whole seconds, >= 1) when refused
    RateHeaders headers;         // after this admission
    std::string message;         // for the 429 body when refused (no secrets)
    Ticket ticket;               // valid when admitted
    bool ok() const { return deny == Deny::none; }
};

class RateLimiter {
  public:
    explicit RateLimiter(NowFn now = {});

    // Admits one request of ~estimated_tokens for `key` under `limits` (limits may change
    // between calls, e.g. after a reload: buckets are resized, keeping their level).
    Admission admit(const std::string& key, const Limits& limits, uint32_t estimated_tokens);
    // Current header values without admitting anything.
    RateHeaders peek(const std::string& key, const Limits& limits);
    uint32_t in_flight(const std::string& key) const;
    // Drops the state of keys not in `keep` (after a reload removed keys).
    void retain(const std::vector<std::string>& keep);

  private:
    std::shared_ptr<KeyState> state(const std::string& key, const Limits& limits);

    std::shared_ptr<const NowFn> now_;
    mutable std::shared_mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<KeyState>> keys_;
};

}  // namespace baton::ratelimit
