#include "baton/proxy/resilience.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace baton::proxy {

std::string_view to_string(Outcome o) {
    switch (o) {
        case Outcome::ok:
            return "ok";
        case Outcome::connect_refused:
            return "connect_refused";
        case Outcome::dns:
            return "dns";
        case Outcome::tls:
            return "tls";
        case Outcome::timeout_connect:
            return "timeout_connect";
        case Outcome::timeout_headers:
            return "timeout_headers";
        case Outcome::timeout_idle:
            return "timeout_idle";
        case Outcome::rate_limited:
            return "rate_limited";
        case Outcome::server_error:
            return "server_error";
        case Outcome::credentials:
            return "credentials";
        case Outcome::context_length:
            return "context_length";
        case Outcome::content_policy:
            return "content_policy";
        case Outcome::client_error:
            return "client_error";
        case Outcome::malformed:
            return "malformed";
        case Outcome::stream_cut:
            return "stream_cut";
        case Outcome::pool_timeout:
            return "pool_timeout";
    }
    return "unknown";
}

std::string_view to_string(Action a) {
    switch (a) {
        case Action::done:
            return "done";
        case Action::retry_same:
            return "retry";
        case Action::fall_back:
            return "fallback";
        case Action::give_up:
            return "return";
    }
    return "unknown";
}

Action decide(Outcome o, unsigned attempt_on_target, unsigned max_retries) {
    bool can_retry = attempt_on_target <= max_retries;
    switch (o) {
        case Outcome::ok:
            return Action::done;
        // Transient on this target: retry it (backoff), then move on.
        case Outcome::rate_limited:
        case Outcome::server_error:
        case Outcome::connect_refused:
        case Outcome::stream_cut:
            return can_retry ? Action::retry_same : Action::fall_back;
        // This target is unusable for now: move on at once.
        case Outcome::dns:
        case Outcome::tls:
        case Outcome::timeout_connect:
        case Outcome::timeout_headers:
        case Outcome::timeout_idle:
        case Outcome::credentials:
        case Outcome::malformed:
        case Outcome::pool_timeout:
        case Outcome::context_length:  // a candidate with a larger window may fit
            return Action::fall_back;
        // The request itself is the problem: another model would say the same.
        case Outcome::content_policy:
        case Outcome::client_error:
            return Action::give_up;
    }
    return Action::give_up;
}

Outcome classify_status(unsigned status, std::string_view body) {
    if (status < 400) return Outcome::ok;
    if (status == 429) return Outcome::rate_limited;
    if (status >= 500) return Outcome::server_error;
    if (status == 401 || status == 403) return Outcome::credentials;
    if (status == 400 || status == 413 || status == 422) {
        if (body.find("context_length_exceeded") != std::string_view::npos ||
            body.find("maximum context length") != std::string_view::npos ||
            body.find("prompt is too long") != std::string_view::npos) {
            return Outcome::context_length;
        }
        if (body.find("content_policy") != std::string_view::npos ||
            body.find("content_filter") != std::string_view::npos ||
            body.find("safety") != std::string_view::npos) {
            return Outcome::content_policy;
        }
    }
    if (status == 408) return Outcome::server_error;
    return Outcome::client_error;
}

Duration backoff(unsigned attempt, Duration base, Duration cap, double draw) {
    double b = static_cast<double>(base.count());
    double ceiling = std::min(static_cast<double>(cap.count()),
                              b * std::pow(2.0, attempt > 0 ? attempt - 1 : 0));
    return Duration(static_cast<Duration::rep>(ceiling * std::clamp(draw, 0.0, 1.0)));
}

double parse_retry_after(std::string_view v) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    if (v.empty()) return -1;
    char* end = nullptr;
    std::string s(v);
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || d < 0 || !std::isfinite(d)) return -1;
    return d;
}

bool RetryBudget::try_retry() {
    int64_t allowed = std::max<int64_t>(
        min_, static_cast<int64_t>(ratio_ *
                                   static_cast<double>(active_.load(std::memory_order_relaxed))));
    int64_t cur = retries_.load(std::memory_order_relaxed);
    while (cur < allowed) {
        if (retries_.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed)) return true;
    }
    return false;
}

int64_t CircuitBreaker::epoch_of(Clock::time_point t) const {
    const int64_t width =
        std::max<int64_t>(1, std::chrono::duration_cast<Duration>(s_.window).count() /
                                 static_cast<int64_t>(kBuckets));
    return std::chrono::duration_cast<Duration>(t.time_since_epoch()).count() / width;
}

void CircuitBreaker::clear_window() { window_.fill(Bucket{}); }

bool CircuitBreaker::allow(Clock::time_point now) {
    if (closed_.load(std::memory_order_acquire)) return true;
    std::lock_guard lk(mu_);
    if (state_ == State::closed) return true;
    if (state_ == State::open && now - opened_at_ >= s_.cool_down) {
        set_state(State::half_open);
        probe_in_flight_ = false;
    }
    if (state_ == State::half_open && !probe_in_flight_) {
        probe_in_flight_ = true;
        return true;
    }
    return false;
}

bool CircuitBreaker::available(Clock::time_point now) const {
    if (closed_.load(std::memory_order_acquire)) return true;
    std::lock_guard lk(mu_);
    if (state_ == State::closed) return true;
    if (state_ == State::open) return now - opened_at_ >= s_.cool_down;
    return !probe_in_flight_;
}

void CircuitBreaker::record(bool success, Clock::time_point now) {
    std::lock_guard lk(mu_);
    const int64_t epoch = epoch_of(now);
    Bucket& b = window_[static_cast<size_t>(epoch) % kBuckets];
    if (b.epoch != epoch) b = Bucket{epoch, 0, 0};
    if (success) {
        ++b.ok;
        consecutive_ = 0;
        if (state_ != State::closed) {
            set_state(State::closed);
            clear_window();
        }
        probe_in_flight_ = false;
        return;
    }
    ++b.failed;
    ++consecutive_;
    if (state_ == State::half_open) {
        set_state(State::open);
        opened_at_ = now;
        probe_in_flight_ = false;
        return;
    }
    if (state_ == State::closed) {
        uint64_t total = 0, failures = 0;
        for (const Bucket& w : window_) {  // the buckets still inside the window
            if (w.epoch < 0 || w.epoch <= epoch - static_cast<int64_t>(kBuckets)) continue;
            total += w.ok + w.failed;
            failures += w.failed;
        }
        bool ratio_trip = total >= s_.min_requests &&
                          static_cast<double>(failures) >= s_.ratio * static_cast<double>(total);
        if (consecutive_ >= s_.consecutive || ratio_trip) {
            set_state(State::open);
            opened_at_ = now;
        }
    }
}

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
    std::lock_guard lk(mu_);
    if (state_ == State::open && now - opened_at_ >= s_.cool_down) return State::half_open;
    return state_;
}

uint32_t CircuitBreaker::consecutive_failures() const {
    std::lock_guard lk(mu_);
    return consecutive_;
}

std::string_view CircuitBreaker::to_string(State s) {
    switch (s) {
        case State::closed:
            return "closed";
        case State::open:
            return "open";
        case State::half_open:
            return "half_open";
    }
    return "unknown";
}

}  // namespace baton::proxy
