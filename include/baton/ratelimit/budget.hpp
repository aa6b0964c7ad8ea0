#pragma once
// USD budgets per key and period (UTC day, ISO week from Monday, calendar month), enforced by
// reservation: admission reserves the worst-case cost (estimated prompt tokens x input price +
// max_tokens x output price) and is refused if spent + in-flight reservations + this one would
// exceed any configured limit; the end of the request settles the reservation to the actual
// cost (or refunds it on failure). Checks and reservation happen under one per-key lock, so
// concurrent requests cannot all pass a check the sum of them breaks: as long as the actual
// cost of a request does not exceed its reservation, spend never exceeds the budget.
#include <array>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "baton/core/error.hpp"

namespace baton::ratelimit {

using SysClock = std::chrono::system_clock;
using SysNowFn = std::function<SysClock::time_point()>;

enum class Period : uint8_t { day, week, month };
inline constexpr std::size_t kPeriods = 3;
std::string_view period_name(Period p);  // "day", "week", "month"

// Start of the period that contains `t` (UTC; weeks start Monday 00:00) and the next start.
SysClock::time_point period_start(Period p, SysClock::time_point t);
SysClock::time_point period_end(Period p, SysClock::time_point t);

struct BudgetLimits {
    std::optional<double> day_usd{};
    std::optional<double> week_usd{};
    std::optional<double> month_usd{};
    const std::optional<double>& of(Period p) const;
    bool any() const { return day_usd || week_usd || month_usd; }
};

// Worst-case cost of a request: prompt_tokens x input + max_tokens x output (prices per 1M).
double reservation_usd(uint64_t prompt_tokens, uint64_t max_tokens, double input_usd_per_mtok,
                       double output_usd_per_mtok);

struct Account;
struct LedgerShared;

// A reservation. Settle it to the actual cost or refund it; if neither happens, the destructor
// charges the full reservation (fail closed: a lost settlement never under-counts spend).
class Hold {
  public:
    Hold() = default;
    Hold(Hold&& o) noexcept;
    Hold& operator=(Hold&& o) noexcept;
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold();

    void settle(double actual_usd);  // charges actual (may exceed the reservation), frees it
    void refund();                   // charges nothing, frees the reservation
    double amount() const { return amount_; }
    bool open() const { return account_ != nullptr; }

  private:
    friend class BudgetLedger;
    void close(double charge);

    std::shared_ptr<Account> account_;
    std::shared_ptr<const LedgerShared> shared_;
    double amount_ = 0;
};

struct PeriodUsage {
    Period period = Period::day;
    std::optional<double> limit_usd;
    double spent_usd = 0;
    SysClock::time_point resets_at{};
};

struct BudgetStatus {
    double reserved_usd = 0;  // in flight
    std::array<PeriodUsage, kPeriods> periods{};
    // min over limited periods of limit - spent - reserved (+inf when no limit): the value of
    // x-baton-budget-remaining. May be negative after an overrun.
    double remaining_usd = std::numeric_limits<double>::infinity();
};

class BudgetLedger {
  public:
    explicit BudgetLedger(SysNowFn now = {});

    // Reserves `amount_usd` for `key`, or Errc::rate_limited ("budget exceeded for key 'k':
    // day budget $10.00, spent $9.98, in flight $0.01, this request needs up to $0.05").
    boost::system::result<Hold, Error> reserve(const std::string& key, const BudgetLimits& limits,
                                               double amount_usd);
    BudgetStatus status(const std::string& key, const BudgetLimits& limits) const;

    // Persistence (the caller stores these, e.g. in SQLite, off the event loop).
    struct Entry {
        std::string key;
        Period period = Period::day;
        int64_t period_start_s = 0;  // Unix seconds
        double spent_usd = 0;
    };
    std::vector<Entry> snapshot() const;
    // The entries of one key (empty if it has spent nothing this period or is unknown).
    std::vector<Entry> snapshot(const std::string& key) const;
    // Loads spend; entries for periods that have ended are ignored.
    void restore(const std::vector<Entry>& entries);
    // Called after every charge (settle or abandoned hold) with the key, outside the key lock.
    // Set it before use.
    void set_on_charge(std::function<void(const std::string& key, double usd)> fn);

  private:
    std::shared_ptr<Account> account(const std::string& key) const;

    std::shared_ptr<LedgerShared> shared_;
    mutable std::shared_mutex mu_;
    mutable std::unordered_map<std::string, std::shared_ptr<Account>> accounts_;
};

}  // namespace baton::ratelimit
