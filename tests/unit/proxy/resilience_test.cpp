#include "baton/proxy/resilience.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace baton::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Resilience, DecisionTable) {
    // transient on the target: retried, then fall back
    for (auto o : {Outcome::rate_limited, Outcome::server_error, Outcome::connect_refused,
                   Outcome::stream_cut}) {
        EXPECT_EQ(decide(o, 1, 2), Action::retry_same) << to_string(o);
        EXPECT_EQ(decide(o, 2, 2), Action::retry_same) << to_string(o);
        EXPECT_EQ(decide(o, 3, 2), Action::fall_back) << to_string(o);
        EXPECT_EQ(decide(o, 1, 0), Action::fall_back) << to_string(o);
    }
    for (auto o : {Outcome::dns, Outcome::tls, Outcome::timeout_connect, Outcome::timeout_headers,
                   Outcome::timeout_idle, Outcome::credentials, Outcome::malformed,
                   Outcome::pool_timeout, Outcome::context_length}) {
        EXPECT_EQ(decide(o, 1, 2), Action::fall_back) << to_string(o);
    }
    EXPECT_EQ(decide(Outcome::client_error, 1, 2), Action::give_up);
    EXPECT_EQ(decide(Outcome::content_policy, 1, 2), Action::give_up);
    EXPECT_EQ(decide(Outcome::ok, 1, 2), Action::done);
}

TEST(Resilience, ClassifiesUpstreamStatuses) {
    EXPECT_EQ(classify_status(200, ""), Outcome::ok);
    EXPECT_EQ(classify_status(429, "{}"), Outcome::rate_limited);
    EXPECT_EQ(classify_status(500, "{}"), Outcome::server_error);
    EXPECT_EQ(classify_status(503, "{}"), Outcome::server_error);
    EXPECT_EQ(classify_status(401, "{}"), Outcome::credentials);
    EXPECT_EQ(classify_status(403, "{}"), Outcome::credentials);
    EXPECT_EQ(
        classify_status(
            400, R"({"error":{"message":"This model's maximum context length is 8192 tokens",)"
                 R"("code":"context_length_exceeded"}})"),
        Outcome::context_length);
    EXPECT_EQ(classify_status(400, R"({"error":{"code":"content_policy_violation"}})"),
              Outcome::content_policy);
    EXPECT_EQ(classify_status(400, R"({"error":{"message":"bad 'messages'"}})"),
              Outcome::client_error);
    EXPECT_EQ(classify_status(404, "{}"), Outcome::client_error);
}

TEST(Resilience, BackoffIsFullJitterCappedExponential) {
    auto base = Duration(milliseconds(100));
    auto cap = Duration(seconds(2));
    EXPECT_EQ(backoff(1, base, cap, 0.0), Duration::zero());
    EXPECT_EQ(backoff(1, base, cap, 1.0), base);
    EXPECT_EQ(backoff(2, base, cap, 1.0), 2 * base);
    EXPECT_EQ(backoff(3, base, cap, 0.5), 2 * base);
    EXPECT_EQ(backoff(10, base, cap, 1.0), cap);
}

TEST(Resilience, ParsesRetryAfter) {
    EXPECT_DOUBLE_EQ(parse_retry_after("3"), 3.0);
    EXPECT_DOUBLE_EQ(parse_retry_after(" 0.5"), 0.5);
    EXPECT_LT(parse_retry_after(""), 0);
    EXPECT_LT(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
    EXPECT_LT(parse_retry_after("-2"), 0);
}

TEST(Resilience, RetryBudgetBoundsConcurrentRetries) {
    RetryBudget b(0.2, 3);
    for (int i = 0; i < 10; ++i) b.request_started();
    // max(3, 0.2 * 10) = 3 retries at once
    EXPECT_TRUE(b.try_retry());
    EXPECT_TRUE(b.try_retry());
    EXPECT_TRUE(b.try_retry());
    EXPECT_FALSE(b.try_retry());
    b.retry_finished();
    EXPECT_TRUE(b.try_retry());
    for (int i = 0; i < 40; ++i) b.request_started();  // 50 active: 10 allowed
    int more = 0;
    while (b.try_retry()) ++more;
    EXPECT_EQ(more, 7);
}

TEST(CircuitBreakerTest, OpensAfterConsecutiveFailuresAndProbesAfterCoolDown) {
    BreakerSettings s;
    s.consecutive = 3;
    s.cool_down = seconds(10);
    CircuitBreaker b(s);
    auto t0 = Clock::time_point{} + seconds(1000);
    EXPECT_TRUE(b.allow(t0));
    b.record(false, t0);
    b.record(false, t0);
    EXPECT_EQ(b.state(t0), CircuitBreaker::State::closed);
    b.record(false, t0);
    EXPECT_EQ(b.state(t0), CircuitBreaker::State::open);
    EXPECT_FALSE(b.allow(t0 + seconds(9)));
    // half-open after the cool-down: exactly one probe
    EXPECT_EQ(b.state(t0 + seconds(10)), CircuitBreaker::State::half_open);
    EXPECT_TRUE(b.allow(t0 + seconds(10)));
    EXPECT_FALSE(b.allow(t0 + seconds(10)));
    // the probe fails: open again for another cool-down
    b.record(false, t0 + seconds(11));
    EXPECT_FALSE(b.allow(t0 + seconds(12)));
    EXPECT_TRUE(b.allow(t0 + seconds(21)));
    b.record(true, t0 + seconds(21));
    EXPECT_EQ(b.state(t0 + seconds(21)), CircuitBreaker::State::closed);
    EXPECT_TRUE(b.allow(t0 + seconds(21)));
}

TEST(CircuitBreakerTest, OpensOnFailureRatioInWindow) {
    BreakerSettings s;
    s.consecutive = 100;
    s.ratio = 0.5;
    s.min_requests = 10;
    s.window = seconds(30);
    CircuitBreaker b(s);
    auto t = Clock::time_point{} + seconds(1000);
    for (int i = 0; i < 9; ++i) b.record(i % 2 == 0, t);  // 4 failures of 9: below min_requests
    EXPECT_EQ(b.state(t), CircuitBreaker::State::closed);
    b.record(false, t);  // 5 of 10 failed
    EXPECT_EQ(b.state(t), CircuitBreaker::State::open);
}

TEST(CircuitBreakerTest, OldOutcomesLeaveTheWindow) {
    BreakerSettings s;
    s.consecutive = 100;
    s.min_requests = 4;
    s.window = seconds(10);
    CircuitBreaker b(s);
    auto t = Clock::time_point{} + seconds(1000);
    b.record(false, t);
    b.record(false, t);
    b.record(true, t + seconds(20));  // the two failures are out of the window now
    b.record(false, t + seconds(20));
    b.record(true, t + seconds(20));
    EXPECT_EQ(b.state(t + seconds(20)), CircuitBreaker::State::closed);
}

// Busy for an hour: only the last window's outcomes count, and recording stays O(1) (the window
// used to keep one entry per outcome).
TEST(CircuitBreakerTest, AnHourOfTrafficKeepsOnlyTheLastWindow) {
    BreakerSettings s;
    s.consecutive = 1000;
    s.ratio = 0.5;
    s.min_requests = 10;
    s.window = seconds(30);
    CircuitBreaker b(s);
    auto t = Clock::time_point{} + seconds(1000);
    for (int i = 0; i < 3600 * 200; ++i) b.record(true, t + std::chrono::milliseconds(i * 5));
    const auto end = t + seconds(3600);
    for (int i = 0; i < 20; ++i) b.record(false, end);  // 20 failures vs ~6000 recent successes
    EXPECT_EQ(b.state(end), CircuitBreaker::State::closed);
    const auto later = end + seconds(40);  // the successes have left the window
    for (int i = 0; i < 10; ++i) b.record(false, later);
    EXPECT_EQ(b.state(later), CircuitBreaker::State::open);
}

TEST(CircuitBreakerTest, ThreadSafeRecording) {
    BreakerSettings s;
    s.consecutive = 1'000'000;
    s.min_requests = 1'000'000;
    CircuitBreaker b(s);
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) {
        ts.emplace_back([&] {
            for (int j = 0; j < 2000; ++j) b.record(j % 3 != 0, Clock::now());
        });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(b.state(Clock::now()), CircuitBreaker::State::closed);
}

}  // namespace
}  // namespace baton::proxy
