// Token buckets and the per-key limiter, with an injected clock.
#include "baton/ratelimit/limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

namespace baton::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct FakeClock {
    Clock::time_point t{seconds(1000)};
    NowFn fn() {
        return [this] { return t; };
    }
};

TEST(TokenBucket, RefillsContinuouslyUpToCapacity) {
    FakeClock c;
    TokenBucket b(10, 1, c.t);
    EXPECT_TRUE(b.try_take(10, c.t));
    EXPECT_FALSE(b.try_take(1, c.t));
    EXPECT_DOUBLE_EQ(b.wait_for(3, c.t), 3.0);
    c.t += milliseconds(2500);
    EXPECT_DOUBLE_EQ(b.level(c.t), 2.5);
    c.t += seconds(100);
    EXPECT_DOUBLE_EQ(b.level(c.t), 10.0);
    EXPECT_TRUE(std::isinf(b.wait_for(11, c.t)));
    b.take(15, c.t);  // debt
    EXPECT_DOUBLE_EQ(b.level(c.t), -5.0);
    EXPECT_DOUBLE_EQ(b.until_full(c.t), 15.0);
    b.give(100, c.t);
    EXPECT_DOUBLE_EQ(b.level(c.t), 10.0);
    b.resize(4, 1, c.t);
    EXPECT_DOUBLE_EQ(b.level(c.t), 4.0);
}

TEST(RateLimiter, FormatReset) {
    EXPECT_EQ(format_reset(0), "0s");
    EXPECT_EQ(format_reset(0.02), "20ms");
    EXPECT_EQ(format_reset(1), "1s");
    EXPECT_EQ(format_reset(1.2), "2s");
    EXPECT_EQ(format_reset(360), "6m0s");
    EXPECT_EQ(format_reset(3723), "1h2m3s");
}

TEST(RateLimiter, RequestsPerMinute) {
    FakeClock c;
    RateLimiter rl(c.fn());
    Limits l{.rpm = 60};
    std::vector<Ticket> held;
    for (int k = 0; k < 60; ++k) {
        Admission a = rl.admit("k", l, 10);
        ASSERT_TRUE(a.ok()) << k;
        held.push_back(std::move(a.ticket));
    }
    Admission a = rl.admit("k", l, 10);
    EXPECT_EQ(a.deny, Deny::requests);
    EXPECT_EQ(a.retry_after_s, 1u);
    EXPECT_EQ(a.message, "rate limit reached for key 'k': 60 requests per minute");
    EXPECT_FALSE(a.ticket.valid());
    auto h = a.headers.http();
    ASSERT_EQ(h.size(), 3u);  // no token limit: no token headers
    EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"x-ratelimit-limit-requests", "60"}));
    EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"x-ratelimit-remaining-requests", "0"}));
    EXPECT_EQ(h[2], (std::pair<std::string, std::string>{"x-ratelimit-reset-requests", "1m0s"}));
    c.t += seconds(1);
    EXPECT_TRUE(rl.admit("k", l, 10).ok());
    EXPECT_FALSE(rl.admit("k", l, 10).ok());
    EXPECT_TRUE(rl.admit("other", l, 10).ok());  // per key
}

TEST(RateLimiter, TokensEstimatedThenCorrected) {
    FakeClock c;
    RateLimiter rl(c.fn());
    Limits l{.tpm = 1000};
    Admission first = rl.admit("k", l, 600);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first.headers.remaining_tokens, 400u);
    Admission second = rl.admit("k", l, 600);
    EXPECT_EQ(second.deny, Deny::tokens);
    EXPECT_EQ(second.retry_after_s, 12u);  // 200 tokens at 1000/60 per second
    // Actual usage was 100: the 500 over-estimated tokens come back.
    first.ticket.settle(100);
    first.ticket.settle(5000);  // only the first settlement counts
    EXPECT_EQ(rl.peek("k", l).remaining_tokens, 900u);
    Admission third = rl.admit("k", l, 600);
    ASSERT_TRUE(third.ok());
    // Under-estimate: charged afterwards, the bucket goes into debt.
    third.ticket.settle(1500);
    EXPECT_EQ(rl.peek("k", l).remaining_tokens, 0u);
    Admission fourth = rl.admit("k", l, 100);
    EXPECT_EQ(fourth.deny, Deny::tokens);
    EXPECT_EQ(fourth.retry_after_s, 42u);  // level -600 -> 100 needs 700 tokens = 42 s
    auto h = fourth.headers.http();
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].first, "x-ratelimit-limit-tokens");
    EXPECT_EQ(h[2].second, "1m36s");
}

TEST(RateLimiter, TooLargeAndUnlimited) {
    FakeClock c;
    RateLimiter rl(c.fn());
    Admission a = rl.admit("k", Limits{.tpm = 1000}, 1001);
    EXPECT_EQ(a.deny, Deny::too_large);
    EXPECT_EQ(a.retry_after_s, 0u);
    for (int k = 0; k < 1000; ++k) ASSERT_TRUE(rl.admit("free", Limits{}, 1u << 30).ok());
    EXPECT_TRUE(rl.admit("free", Limits{}, 1).headers.http().empty());
}

TEST(RateLimiter, RefusalTakesNothing) {
    FakeClock c;
    RateLimiter rl(c.fn());
    Limits l{.rpm = 10, .tpm = 100};
    ASSERT_TRUE(rl.admit("k", l, 90).ok());
    EXPECT_EQ(rl.admit("k", l, 50).deny, Deny::tokens);
    RateHeaders h = rl.peek("k", l);
    EXPECT_EQ(h.remaining_requests, 9u);  // the refused request did not take a request token
    EXPECT_EQ(h.remaining_tokens, 10u);
}

TEST(RateLimiter, ConcurrencyCap) {
    FakeClock c;
    RateLimiter rl(c.fn());
    Limits l{.max_concurrent = 2};
    Admission a = rl.admit("k", l, 1);
    Admission b = rl.admit("k", l, 1);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(rl.in_flight("k"), 2u);
    Admission d = rl.admit("k", l, 1);
    EXPECT_EQ(d.deny, Deny::concurrency);
    EXPECT_EQ(d.retry_after_s, 1u);
    a.ticket.release();
    a.ticket.release();  // idempotent
    EXPECT_EQ(rl.in_flight("k"), 1u);
    {
        Admission e = rl.admit("k", l, 1);
        ASSERT_TRUE(e.ok());
        Ticket moved = std::move(e.ticket);
        EXPECT_FALSE(e.ticket.valid());
        EXPECT_EQ(rl.in_flight("k"), 2u);
    }  // destructor releases
    EXPECT_EQ(rl.in_flight("k"), 1u);
}

TEST(RateLimiter, LimitsChangeKeepsLevel) {
    FakeClock c;
    RateLimiter rl(c.fn());
    for (int k = 0; k < 4; ++k) ASSERT_TRUE(rl.admit("k", Limits{.rpm = 10}, 0).ok());
    EXPECT_EQ(rl.peek("k", Limits{.rpm = 10}).remaining_requests, 6u);
    EXPECT_EQ(rl.peek("k", Limits{.rpm = 5}).remaining_requests, 5u);    // capped
    EXPECT_EQ(rl.peek("k", Limits{.rpm = 100}).remaining_requests, 5u);  // not refilled
    rl.retain({"other"});
    EXPECT_EQ(rl.peek("k", Limits{.rpm = 100}).remaining_requests, 100u);  // state dropped
}

TEST(RateLimiter, ConcurrentAdmissionsNeverExceedTheBucket) {
    FakeClock c;  // frozen: no refill during the test
    RateLimiter rl(c.fn());
    Limits l{.rpm = 100, .tpm = 100000};
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int k = 0; k < 50; ++k) {
                Admission a = rl.admit("k", l, 7);
                if (a.ok()) {
                    ++admitted;
                    a.ticket.settle(7);
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(admitted.load(), 100);
    EXPECT_EQ(rl.in_flight("k"), 0u);
}

}  // namespace
}  // namespace baton::ratelimit
