// Token buckets and the per-key rate limiter.
#include "baton/ratelimit/limiter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace baton::ratelimit {

// ---- TokenBucket ------------------------------------------------------------------------------

TokenBucket::TokenBucket(double capacity, double per_second, Clock::time_point now)
    : capacity_(capacity), per_second_(per_second), level_(capacity), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
    if (now <= last_) return;
    const double dt = std::chrono::duration<double>(now - last_).count();
    level_ = std::min(capacity_, level_ + dt * per_second_);
    last_ = now;
}

double TokenBucket::level(Clock::time_point now) {
    refill(now);
    return level_;
}

bool TokenBucket::try_take(double n, Clock::time_point now) {
    refill(now);
    if (level_ < n) return false;
    level_ -= n;
    return true;
}

void TokenBucket::take(double n, Clock::time_point now) {
    refill(now);
    level_ -= n;
}

void TokenBucket::give(double n, Clock::time_point now) {
    refill(now);
    level_ = std::min(capacity_, level_ + n);
}

double TokenBucket::wait_for(double n, Clock::time_point now) {
    refill(now);
    if (n > capacity_) return std::numeric_limits<double>::infinity();
    if (level_ >= n) return 0;
    if (per_second_ <= 0) return std::numeric_limits<double>::infinity();
    return (n - level_) / per_second_;
}

double TokenBucket::until_full(Clock::time_point now) {
    refill(now);
    if (level_ >= capacity_) return 0;
    if (per_second_ <= 0) return std::numeric_limits<double>::infinity();
    return (capacity_ - level_) / per_second_;
}

void TokenBucket::resize(double capacity, double per_second, Clock::time_point now) {
    refill(now);
    capacity_ = capacity;
    per_second_ = per_second;
    level_ = std::min(level_, capacity_);
}

// ---- headers ----------------------------------------------------------------------------------

std::string format_reset(double seconds) {
    if (!(seconds > 0)) return "0s";
    if (std::isinf(seconds)) seconds = 3600.0 * 24;
    if (seconds < 1) return std::to_string(static_cast<int>(std::ceil(seconds * 1000))) + "ms";
    auto total = static_cast<long long>(std::ceil(seconds));
    const long long h = total / 3600;
    const long long m = (total % 3600) / 60;
    const long long s = total % 60;
    std::string out;
    if (h > 0) out += std::to_string(h) + "h";
    if (h > 0 || m > 0) out += std::to_string(m) + "m";
    out += std::to_string(s) + "s";
    return out;
}

std::vector<std::pair<std::string, std::string>> RateHeaders::http() const {
    std::vector<std::pair<std::string, std::string>> out;
    if (has_requests) {
        out.emplace_back("x-ratelimit-limit-requests", std::to_string(limit_requests));
        out.emplace_back("x-ratelimit-remaining-requests", std::to_string(remaining_requests));
        out.emplace_back("x-ratelimit-reset-requests", format_reset(reset_requests_s));
    }
    if (has_tokens) {
        out.emplace_back("x-ratelimit-limit-tokens", std::to_string(limit_tokens));
        out.emplace_back("x-ratelimit-remaining-tokens", std::to_string(remaining_tokens));
        out.emplace_back("x-ratelimit-reset-tokens", format_reset(reset_tokens_s));
    }
    return out;
}

// ---- per-key state ----------------------------------------------------------------------------

struct KeyState {
    std::mutex mu;
    std::string name;
    std::shared_ptr<const NowFn> now;
    Limits limits;
    TokenBucket requests;
    TokenBucket tokens;
    uint32_t in_flight = 0;

    // Under mu.
    void apply(const Limits& l, Clock::time_point t) {
        if (l == limits) return;
        if (l.rpm != limits.rpm) {
            if (limits.rpm == 0) {
                requests = TokenBucket(l.rpm, l.rpm / 60.0, t);
            } else {
                requests.resize(l.rpm, l.rpm / 60.0, t);
            }
        }
        if (l.tpm != limits.tpm) {
            if (limits.tpm == 0) {
                tokens = TokenBucket(l.tpm, l.tpm / 60.0, t);
            } else {
                tokens.resize(l.tpm, l.tpm / 60.0, t);
            }
        }
        limits = l;
    }

    RateHeaders headers(Clock::time_point t) {
        RateHeaders h;
        auto remaining = [](double level) {
            return level <= 0 ? 0u : static_cast<uint32_t>(std::floor(level));
        };
        if (limits.rpm != 0) {
            h.has_requests = true;
            h.limit_requests = limits.rpm;
            h.remaining_requests = remaining(requests.level(t));
            h.reset_requests_s = requests.until_full(t);
        }
        if (limits.tpm != 0) {
            h.has_tokens = true;
            h.limit_tokens = limits.tpm;
            h.remaining_tokens = remaining(tokens.level(t));
            h.reset_tokens_s = tokens.until_full(t);
        }
        return h;
    }
};

// ---- Ticket -----------------------------------------------------------------------------------

Ticket::Ticket(Ticket&& o) noexcept
    : state_(std::move(o.state_)),
      estimated_(o.estimated_),
      settled_(o.settled_),
      released_(o.released_) {
    o.state_.reset();
}

Ticket& Ticket::operator=(Ticket&& o) noexcept {
    if (this != &o) {
        release();
        state_ = std::move(o.state_);
        estimated_ = o.estimated_;
        settled_ = o.settled_;
        released_ = o.released_;
        o.state_.reset();
    }
    return *this;
}

Ticket::~Ticket() { release(); }

void Ticket::settle(uint32_t actual_tokens) {
    if (state_ == nullptr || settled_) return;
    settled_ = true;
    std::lock_guard lock(state_->mu);
    if (state_->limits.tpm == 0) return;
    const auto t = (*state_->now)();
    const double delta = static_cast<double>(actual_tokens) - static_cast<double>(estimated_);
    if (delta > 0) {
        state_->tokens.take(delta, t);
    } else if (delta < 0) {
        state_->tokens.give(-delta, t);
    }
}

void Ticket::release() {
    if (state_ == nullptr || released_) return;
    released_ = true;
    std::lock_guard lock(state_->mu);
    if (state_->in_flight > 0) --state_->in_flight;
}

// ---- RateLimiter ------------------------------------------------------------------------------

RateLimiter::RateLimiter(NowFn now)
    : now_(std::make_shared<const NowFn>(now ? std::move(now)
                                             : NowFn([] { return Clock::now(); }))) {}

std::shared_ptr<KeyState> RateLimiter::state(const std::string& key, const Limits& limits) {
    {
        std::shared_lock lock(mu_);
        auto it = keys_.find(key);
        if (it != keys_.end()) return it->second;
    }
    std::unique_lock lock(mu_);
    auto& slot = keys_[key];
    if (slot == nullptr) {
        slot = std::make_shared<KeyState>();
        slot->name = key;
        slot->now = now_;
        slot->apply(limits, (*now_)());
    }
    return slot;
}

Admission RateLimiter::admit(const std::string& key, const Limits& limits,
                             uint32_t estimated_tokens) {
    std::shared_ptr<KeyState> st = state(key, limits);
    std::lock_guard lock(st->mu);
    const auto t = (*now_)();
    st->apply(limits, t);
    Admission a;
    const std::string who = "key '" + key + "'";
    if (limits.tpm != 0 && estimated_tokens > limits.tpm) {
        a.deny = Deny::too_large;
        a.message = "request needs ~" + std::to_string(estimated_tokens) +
                    " tokens, more than the " + std::to_string(limits.tpm) +
                    " tokens per minute allowed for " + who;
        a.headers = st->headers(t);
        return a;
    }
    double wait = 0;
    if (limits.max_concurrent != 0 && st->in_flight >= limits.max_concurrent) {
        a.deny = Deny::concurrency;
        a.message = "concurrency limit reached for " + who + ": " +
                    std::to_string(limits.max_concurrent) + " requests in flight";
        wait = 1;
    }
    if (limits.rpm != 0) {
        const double w = st->requests.wait_for(1, t);
        if (w > 0 && a.deny == Deny::none) {
            a.deny = Deny::requests;
            a.message = "rate limit reached for " + who + ": " + std::to_string(limits.rpm) +
                        " requests per minute";
        }
        wait = std::max(wait, w);
    }
    if (limits.tpm != 0) {
        const double w = st->tokens.wait_for(estimated_tokens, t);
        if (w > 0 && a.deny == Deny::none) {
            a.deny = Deny::tokens;
            a.message = "rate limit reached for " + who + ": " + std::to_string(limits.tpm) +
                        " tokens per minute (this request needs ~" +
                        std::to_string(estimated_tokens) + ")";
        }
        wait = std::max(wait, w);
    }
    if (a.deny != Deny::none) {
        a.retry_after_s = static_cast<uint32_t>(std::max(1.0, std::ceil(std::min(wait, 86400.0))));
        a.headers = st->headers(t);
        return a;
    }
    if (limits.rpm != 0) st->requests.take(1, t);
    if (limits.tpm != 0) st->tokens.take(estimated_tokens, t);
    ++st->in_flight;
    a.headers = st->headers(t);
    a.ticket.state_ = st;
    a.ticket.estimated_ = estimated_tokens;
    return a;
}

RateHeaders RateLimiter::peek(const std::string& key, const Limits& limits) {
    std::shared_ptr<KeyState> st = state(key, limits);
    std::lock_guard lock(st->mu);
    const auto t = (*now_)();
    st->apply(limits, t);
    return st->headers(t);
}

uint32_t RateLimiter::in_flight(const std::string& key) const {
    std::shared_ptr<KeyState> st;
    {
        std::shared_lock lock(mu_);
        auto it = keys_.find(key);
        if (it == keys_.end()) return 0;
        st = it->second;
    }
    std::lock_guard lock(st->mu);
    return st->in_flight;
}

void RateLimiter::retain(const std::vector<std::string>& keep) {
    std::unordered_set<std::string> k(keep.begin(), keep.end());
    std::unique_lock lock(mu_);
    std::erase_if(keys_, [&](const auto& kv) { return !k.contains(kv.first); });
}

}  // namespace baton::ratelimit
