// Budget reservations, settlement, refunds, period rollover, persistence, concurrency bound.
#include "baton/ratelimit/budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace baton::ratelimit {
namespace {

using namespace std::chrono;

// 2026-11-27 (a Friday) 15:04:05 UTC.
SysClock::time_point friday() { return sys_days{2026y / November / 27} + hours(15) + minutes(4); }

struct FakeClock {
    std::mutex mu;
    SysClock::time_point t = friday();
    SysNowFn fn() {
        return [this] {
            std::lock_guard lock(mu);
            return t;
        };
    }
    void advance(SysClock::duration d) {
        std::lock_guard lock(mu);
        t += d;
    }
};

TEST(Budget, Periods) {
    const auto t = friday();
    EXPECT_EQ(period_start(Period::day, t), sys_days{2026y / November / 27});
    EXPECT_EQ(period_start(Period::week, t), sys_days{2026y / November / 23});  // Monday
    EXPECT_EQ(period_start(Period::month, t), sys_days{2026y / November / 1});
    EXPECT_EQ(period_end(Period::day, t), sys_days{2026y / November / 28});
    EXPECT_EQ(period_end(Period::week, t), sys_days{2026y / November / 30});
    EXPECT_EQ(period_end(Period::month, t), sys_days{2026y / December / 1});
    const SysClock::time_point dec = sys_days{2026y / December / 31} + hours(23);
    EXPECT_EQ(period_end(Period::month, dec), sys_days{2027y / January / 1});
    // A Monday is the start of its own week; a Sunday belongs to the week before.
    EXPECT_EQ(period_start(Period::week, sys_days{2026y / November / 30}),
              sys_days{2026y / November / 30});
    EXPECT_EQ(period_start(Period::week, sys_days{2026y / November / 29} + hours(23)),
              sys_days{2026y / November / 23});
}

TEST(Budget, ReservationAmount) {
    // 1000 prompt tokens at $2.50/M + 500 max output tokens at $10/M.
    EXPECT_DOUBLE_EQ(reservation_usd(1000, 500, 2.5, 10), 0.0075);
}

TEST(Budget, ReserveSettleRefund) {
    FakeClock c;
    BudgetLedger ledger(c.fn());
    BudgetLimits lim{.day_usd = 1.0};
    auto h = ledger.reserve("k", lim, 0.6);
    ASSERT_TRUE(h.has_value());
    EXPECT_DOUBLE_EQ(ledger.status("k", lim).reserved_usd, 0.6);
    EXPECT_DOUBLE_EQ(ledger.status("k", lim).remaining_usd, 0.4);
    auto refused = ledger.reserve("k", lim, 0.5);  // 0 spent + 0.6 in flight + 0.5 > 1
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, Errc::rate_limited);
    EXPECT_EQ(refused.error().message,
              "budget exceeded for key 'k': day budget $1.00, spent $0.00, in flight $0.60, this "
              "request needs up to $0.50");
    h->settle(0.25);
    EXPECT_FALSE(h->open());
    BudgetStatus st = ledger.status("k", lim);
    EXPECT_DOUBLE_EQ(st.reserved_usd, 0);
    EXPECT_DOUBLE_EQ(st.periods[0].spent_usd, 0.25);
    EXPECT_DOUBLE_EQ(st.periods[2].spent_usd, 0.25);  // month tracked without a limit
    EXPECT_DOUBLE_EQ(st.remaining_usd, 0.75);
    auto r2 = ledger.reserve("k", lim, 0.5);
    ASSERT_TRUE(r2.has_value());
    r2->refund();
    EXPECT_DOUBLE_EQ(ledger.status("k", lim).periods[0].spent_usd, 0.25);
    EXPECT_TRUE(std::isinf(ledger.status("k", BudgetLimits{}).remaining_usd));
}

TEST(Budget, AbandonedHoldChargesTheReservation) {
    FakeClock c;
    BudgetLedger ledger(c.fn());
    std::vector<double> charges;
    ledger.set_on_charge([&](const std::string& key, double usd) {
        EXPECT_EQ(key, "k");
        charges.push_back(usd);
    });
    { auto h = ledger.reserve("k", {}, 0.3); }
    EXPECT_DOUBLE_EQ(ledger.status("k", {}).periods[0].spent_usd, 0.3);
    auto h2 = ledger.reserve("k", {}, 0.1);
    Hold moved = std::move(*h2);
    moved.settle(0.05);
    EXPECT_EQ(charges, (std::vector<double>{0.3, 0.05}));
}

TEST(Budget, PeriodRollover) {
    FakeClock c;
    BudgetLedger ledger(c.fn());
    BudgetLimits lim{.day_usd = 1.0, .week_usd = 1.5};
    ledger.reserve("k", lim, 1.0)->settle(1.0);
    EXPECT_FALSE(ledger.reserve("k", lim, 0.01).has_value());
    c.advance(hours(9));  // Saturday 00:04: new day, same week
    BudgetStatus st = ledger.status("k", lim);
    EXPECT_DOUBLE_EQ(st.periods[0].spent_usd, 0);
    EXPECT_DOUBLE_EQ(st.periods[1].spent_usd, 1.0);
    EXPECT_DOUBLE_EQ(st.remaining_usd, 0.5);  // the week is now the binding limit
    EXPECT_FALSE(ledger.reserve("k", lim, 0.6).has_value());
    ledger.reserve("k", lim, 0.5)->settle(0.5);
    c.advance(hours(48));  // Monday: new week
    EXPECT_DOUBLE_EQ(ledger.status("k", lim).remaining_usd, 1.0);
    // A reservation made before midnight settles into the new day.
    c.advance(hours(23) + minutes(50));
    auto h = ledger.reserve("k", lim, 0.4);
    ASSERT_TRUE(h.has_value());
    c.advance(minutes(20));
    h->settle(0.4);
    EXPECT_DOUBLE_EQ(ledger.status("k", lim).periods[0].spent_usd, 0.4);
}

TEST(Budget, SnapshotRestore) {
    FakeClock c;
    BudgetLedger a(c.fn());
    a.reserve("k", {}, 2.0)->settle(2.0);
    a.reserve("j", {}, 1.0)->settle(0.5);
    auto snap = a.snapshot();
    EXPECT_EQ(snap.size(), 6u);  // 2 keys x 3 periods
    BudgetLedger b(c.fn());
    b.restore(snap);
    EXPECT_DOUBLE_EQ(b.status("k", {}).periods[1].spent_usd, 2.0);
    EXPECT_DOUBLE_EQ(b.status("j", {}).periods[2].spent_usd, 0.5);
    // Restored after the day ended: day spend is gone, week and month remain.
    c.advance(hours(10));
    BudgetLedger later(c.fn());
    later.restore(snap);
    EXPECT_DOUBLE_EQ(later.status("k", {}).periods[0].spent_usd, 0);
    EXPECT_DOUBLE_EQ(later.status("k", {}).periods[1].spent_usd, 2.0);
}

// A burst of concurrent requests against a budget: spend never exceeds it (actual cost <=
// reservation), and the budget is used up to less than one reservation.
TEST(Budget, ConcurrentBurstNeverOverspends) {
    FakeClock c;
    BudgetLedger ledger(c.fn());
    const BudgetLimits lim{.day_usd = 10.0};
    constexpr double kMax = 0.05;
    std::atomic<int> admitted{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            std::uniform_real_distribution<double> amount(0.01, kMax);
            std::uniform_real_distribution<double> frac(0.5, 1.0);
            for (int k = 0; k < 2000; ++k) {
                const double a = amount(rng);
                auto h = ledger.reserve("k", lim, a);
                if (!h) {
                    ++refused;
                    continue;
                }
                ++admitted;
                BudgetStatus st = ledger.status("k", lim);
                ASSERT_LE(st.periods[0].spent_usd + st.reserved_usd, 10.0 + 1e-9);
                if (k % 10 == 0) {
                    h->refund();  // upstream failure
                } else {
                    h->settle(a * frac(rng));
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    BudgetStatus st = ledger.status("k", lim);
    EXPECT_LE(st.periods[0].spent_usd, 10.0 + 1e-9);
    EXPECT_GT(st.periods[0].spent_usd, 10.0 - kMax);
    EXPECT_DOUBLE_EQ(st.reserved_usd, 0);
    EXPECT_GT(refused.load(), 0);
}

// All requests reserve at once, then settle: exactly as many fit as the budget allows.
TEST(Budget, SimultaneousReservationsFitExactly) {
    FakeClock c;
    BudgetLedger ledger(c.fn());
    const BudgetLimits lim{.month_usd = 10.0};
    std::vector<std::thread> threads;
    std::mutex mu;
    std::vector<Hold> holds;
    for (int t = 0; t < 32; ++t) {
        threads.emplace_back([&] {
            auto h = ledger.reserve("k", lim, 1.0);
            if (h) {
                std::lock_guard lock(mu);
                holds.push_back(std::move(*h));
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(holds.size(), 10u);
    for (Hold& h : holds) h.settle(1.0);
    EXPECT_DOUBLE_EQ(ledger.status("k", lim).periods[2].spent_usd, 10.0);
}

}  // namespace
}  // namespace baton::ratelimit
