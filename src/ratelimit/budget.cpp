// Budget ledger: per-key reservations, settlement and period rollover.
#include "baton/ratelimit/budget.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace baton::ratelimit {

struct LedgerShared {
    SysNowFn now;
    std::function<void(const std::string&, double)> on_charge;
};

struct Account {
    std::mutex mu;
    std::string key;
    double reserved = 0;
    uint64_t holds = 0;  // reservations in flight; at 0, `reserved` is exactly 0 (no fp drift)
    std::array<double, kPeriods> spent{};
    std::array<SysClock::time_point, kPeriods> start{};

    // Under mu: a new period starts with nothing spent (reservations stay in flight).
    void roll(SysClock::time_point now) {
        for (std::size_t p = 0; p < kPeriods; ++p) {
            const auto s = period_start(static_cast<Period>(p), now);
            if (s > start[p]) {
                start[p] = s;
                spent[p] = 0;
            }
        }
    }
};

namespace {

// "$10.00", "$9.98", "$0.0123", "$0.000012".
std::string usd(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    std::string s = buf;
    const std::size_t dot = s.find('.');
    while (s.size() > dot + 3 && s.back() == '0') s.pop_back();
    return "$" + s;
}

// The account's non-zero totals of the periods current at `now`.
void append_entries(Account& a, SysClock::time_point now, std::vector<BudgetLedger::Entry>& out) {
    std::lock_guard lock(a.mu);
    a.roll(now);
    for (std::size_t p = 0; p < kPeriods; ++p) {
        if (a.spent[p] <= 0) continue;
        const auto secs =
            std::chrono::duration_cast<std::chrono::seconds>(a.start[p].time_since_epoch());
        out.push_back(BudgetLedger::Entry{a.key, static_cast<Period>(p), secs.count(), a.spent[p]});
    }
}

}  // namespace

std::string_view period_name(Period p) {
    switch (p) {
        case Period::day:
            return "day";
        case Period::week:
            return "week";
        case Period::month:
            return "month";
    }
    return "?";
}

SysClock::time_point period_start(Period p, SysClock::time_point t) {
    using namespace std::chrono;
    const sys_days d = floor<days>(t);
    switch (p) {
        case Period::day:
            return d;
        case Period::week:
            return d - days{weekday{d}.iso_encoding() - 1};
        case Period::month: {
            const year_month_day ymd{d};
            return sys_days{ymd.year() / ymd.month() / 1};
        }
    }
    return d;
}

SysClock::time_point period_end(Period p, SysClock::time_point t) {
    using namespace std::chrono;
    const sys_days s = floor<days>(period_start(p, t));
    switch (p) {
        case Period::day:
            return s + days{1};
        case Period::week:
            return s + days{7};
        case Period::month: {
            year_month_day ymd{s};
            ymd += months{1};
            return sys_days{ymd};
        }
    }
    return s;
}

const std::optional<double>& BudgetLimits::of(Period p) const {
    switch (p) {
        case Period::day:
            return day_usd;
        case Period::week:
            return week_usd;
        case Period::month:
            return month_usd;
    }
    return day_usd;
}

double reservation_usd(uint64_t prompt_tokens, uint64_t max_tokens, double input_usd_per_mtok,
                       double output_usd_per_mtok) {
    return (static_cast<double>(prompt_tokens) * input_usd_per_mtok +
            static_cast<double>(max_tokens) * output_usd_per_mtok) /
           1e6;
}

// ---- Hold -------------------------------------------------------------------------------------

Hold::Hold(Hold&& o) noexcept
    : account_(std::move(o.account_)), shared_(std::move(o.shared_)), amount_(o.amount_) {
    o.account_.reset();
}

Hold& Hold::operator=(Hold&& o) noexcept {
    if (this != &o) {
        if (account_ != nullptr) close(amount_);
        account_ = std::move(o.account_);
        shared_ = std::move(o.shared_);
        amount_ = o.amount_;
        o.account_.reset();
    }
    return *this;
}

Hold::~Hold() {
    if (account_ != nullptr) close(amount_);
}

void Hold::settle(double actual_usd) {
    if (account_ == nullptr) return;
    close(std::isfinite(actual_usd) ? std::max(0.0, actual_usd) : amount_);
}

void Hold::refund() {
    if (account_ != nullptr) close(0);
}

void Hold::close(double charge) {
    std::shared_ptr<Account> acct = std::move(account_);
    account_.reset();
    {
        std::lock_guard lock(acct->mu);
        acct->roll(shared_->now());
        acct->reserved = std::max(0.0, acct->reserved - amount_);
        if (--acct->holds == 0) acct->reserved = 0;  // sums of doubles leave residues
        if (charge > 0) {
            for (double& s : acct->spent) s += charge;
        }
    }
    if (charge > 0 && shared_->on_charge) shared_->on_charge(acct->key, charge);
}

// ---- BudgetLedger -----------------------------------------------------------------------------

BudgetLedger::BudgetLedger(SysNowFn now) : shared_(std::make_shared<LedgerShared>()) {
    shared_->now = now ? std::move(now) : SysNowFn([] { return SysClock::now(); });
}

void BudgetLedger::set_on_charge(std::function<void(const std::string&, double)> fn) {
    shared_->on_charge = std::move(fn);
}

std::shared_ptr<Account> BudgetLedger::account(const std::string& key) const {
    {
        std::shared_lock lock(mu_);
        auto it = accounts_.find(key);
        if (it != accounts_.end()) return it->second;
    }
    std::unique_lock lock(mu_);
    auto& slot = accounts_[key];
    if (slot == nullptr) {
        slot = std::make_shared<Account>();
        slot->key = key;
        slot->roll(shared_->now());
    }
    return slot;
}

boost::system::result<Hold, Error> BudgetLedger::reserve(const std::string& key,
                                                         const BudgetLimits& limits,
                                                         double amount_usd) {
    if (!(amount_usd >= 0) || !std::isfinite(amount_usd)) amount_usd = 0;
    std::shared_ptr<Account> acct = account(key);
    {
        std::lock_guard lock(acct->mu);
        acct->roll(shared_->now());
        for (std::size_t p = 0; p < kPeriods; ++p) {
            const auto& limit = limits.of(static_cast<Period>(p));
            if (!limit) continue;
            if (acct->spent[p] + acct->reserved + amount_usd > *limit + 1e-12) {
                return make_error(Errc::rate_limited,
                                  "budget exceeded for key '" + key +
                                      "': " + std::string(period_name(static_cast<Period>(p))) +
                                      " budget " + usd(*limit) + ", spent " + usd(acct->spent[p]) +
                                      ", in flight " + usd(acct->reserved) +
                                      ", this request needs up to " + usd(amount_usd));
            }
        }
        acct->reserved += amount_usd;
        ++acct->holds;
    }
    Hold h;
    h.account_ = std::move(acct);
    h.shared_ = shared_;
    h.amount_ = amount_usd;
    return h;
}

BudgetStatus BudgetLedger::status(const std::string& key, const BudgetLimits& limits) const {
    std::shared_ptr<Account> acct = account(key);
    BudgetStatus st;
    const auto now = shared_->now();
    std::lock_guard lock(acct->mu);
    acct->roll(now);
    st.reserved_usd = acct->reserved;
    for (std::size_t p = 0; p < kPeriods; ++p) {
        const auto period = static_cast<Period>(p);
        PeriodUsage& u = st.periods[p];
        u.period = period;
        u.limit_usd = limits.of(period);
        u.spent_usd = acct->spent[p];
        u.resets_at = period_end(period, now);
        if (u.limit_usd) {
            st.remaining_usd =
                std::min(st.remaining_usd, *u.limit_usd - u.spent_usd - acct->reserved);
        }
    }
    return st;
}

std::vector<BudgetLedger::Entry> BudgetLedger::snapshot() const {
    std::vector<std::shared_ptr<Account>> all;
    {
        std::shared_lock lock(mu_);
        for (const auto& [k, a] : accounts_) all.push_back(a);
    }
    std::vector<Entry> out;
    const auto now = shared_->now();
    for (const auto& a : all) append_entries(*a, now, out);
    return out;
}

std::vector<BudgetLedger::Entry> BudgetLedger::snapshot(const std::string& key) const {
    std::shared_ptr<Account> a;
    {
        std::shared_lock lock(mu_);
        auto it = accounts_.find(key);
        if (it == accounts_.end()) return {};
        a = it->second;
    }
    std::vector<Entry> out;
    append_entries(*a, shared_->now(), out);
    return out;
}

void BudgetLedger::restore(const std::vector<Entry>& entries) {
    const auto now = shared_->now();
    for (const Entry& e : entries) {
        const auto p = static_cast<std::size_t>(e.period);
        if (p >= kPeriods) continue;
        std::shared_ptr<Account> acct = account(e.key);
        std::lock_guard lock(acct->mu);
        acct->roll(now);
        const auto secs =
            std::chrono::duration_cast<std::chrono::seconds>(acct->start[p].time_since_epoch());
        if (secs.count() == e.period_start_s) acct->spent[p] = std::max(0.0, e.spent_usd);
    }
}

}  // namespace baton::ratelimit
