// Spend store: round trip through SQLite, period filtering and pruning, idempotent writes,
// concurrent charges while the writer runs, clear errors, flush on destruction, batching, retry
// after a locked database.
#include "baton/state/spend_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

namespace baton::state {
namespace {

using namespace std::chrono;
using ratelimit::BudgetLedger;
using ratelimit::BudgetLimits;
using ratelimit::Period;
using ratelimit::SysClock;
using ratelimit::SysNowFn;
namespace fs = std::filesystem;

// 2026-11-27 (a Friday) 15:04 UTC.
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

class SpendStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("baton-spend-" + std::to_string(::getpid()) + "-" + info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string db_path() const { return (dir_ / "state.db").string(); }

    std::unique_ptr<SpendStore> open(std::chrono::milliseconds interval = milliseconds(20),
                                     std::size_t max_batch = 512) {
        SpendStore::Options o;
        o.path = db_path();
        o.flush_interval = interval;
        o.max_batch = max_batch;
        o.now = clock_.fn();
        auto s = SpendStore::open(std::move(o));
        EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
        return s ? std::move(*s) : nullptr;
    }

    static void charge(BudgetLedger& ledger, const std::string& key, double usd) {
        auto h = ledger.reserve(key, {}, usd);
        ASSERT_TRUE(h.has_value());
        h->settle(usd);
    }

    // (key, period, period_start) -> spent_usd, read with a separate connection.
    std::map<std::tuple<std::string, std::string, int64_t>, double> rows() const {
        std::map<std::tuple<std::string, std::string, int64_t>, double> out;
        sqlite3* db = nullptr;
        EXPECT_EQ(sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
                  SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT key, period, period_start, spent_usd FROM spend",
                                     -1, &st, nullptr),
                  SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            out[{reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                 reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                 sqlite3_column_int64(st, 2)}] = sqlite3_column_double(st, 3);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
    }

    static int64_t unix_s(SysClock::time_point t) {
        return duration_cast<seconds>(t.time_since_epoch()).count();
    }

    fs::path dir_;
    FakeClock clock_;
};

TEST_F(SpendStoreTest, RoundTrip) {
    const BudgetLimits limits{.day_usd = 10.0, .week_usd = 50.0, .month_usd = 100.0};
    BudgetLedger a(clock_.fn());
    {
        auto store = open();
        ASSERT_TRUE(store);
        auto loaded = store->load();
        ASSERT_TRUE(loaded.has_value());
        EXPECT_TRUE(loaded->empty());
        store->attach(a);
        charge(a, "team-a", 1.25);
        charge(a, "team-a", 0.5);
        charge(a, "team-b", 3);
        ASSERT_TRUE(store->flush().has_value());
        const auto st = store->stats();
        EXPECT_EQ(st.rows_written, 6u);  // 2 keys x 3 periods, in one transaction
        EXPECT_EQ(st.transactions, 1u);
        EXPECT_EQ(st.failed_transactions, 0u);
        EXPECT_EQ(st.pending_keys, 0u);
        EXPECT_TRUE(st.last_error.empty());
    }

    auto store = open();
    ASSERT_TRUE(store);
    auto loaded = store->load();
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->size(), 6u);
    BudgetLedger b(clock_.fn());
    b.restore(*loaded);
    for (const std::string key : {"team-a", "team-b", "team-c"}) {
        const auto before = a.status(key, limits);
        const auto after = b.status(key, limits);
        EXPECT_DOUBLE_EQ(after.remaining_usd, before.remaining_usd) << key;
        for (std::size_t p = 0; p < ratelimit::kPeriods; ++p) {
            EXPECT_DOUBLE_EQ(after.periods[p].spent_usd, before.periods[p].spent_usd) << key;
        }
    }
    EXPECT_DOUBLE_EQ(b.status("team-a", limits).remaining_usd, 10.0 - 1.75);
    // The restored budget is enforced.
    EXPECT_FALSE(b.reserve("team-b", limits, 7.5).has_value());
    EXPECT_TRUE(b.reserve("team-b", limits, 7.0).has_value());
}

TEST_F(SpendStoreTest, EndedPeriodsIgnoredAndOldRowsPruned) {
    {
        BudgetLedger ledger(clock_.fn());
        auto store = open();
        ASSERT_TRUE(store);
        store->attach(ledger);
        charge(ledger, "k", 2);
        ASSERT_TRUE(store->flush().has_value());
    }
    EXPECT_EQ(rows().size(), 3u);

    // Saturday: the day ended, the week and the month did not.
    clock_.advance(hours(24));
    {
        auto store = open();
        auto loaded = store->load();
        ASSERT_TRUE(loaded.has_value());
        ASSERT_EQ(loaded->size(), 2u);
        BudgetLedger ledger(clock_.fn());
        ledger.restore(*loaded);
        const auto st = ledger.status("k", {});
        EXPECT_DOUBLE_EQ(st.periods[0].spent_usd, 0);
        EXPECT_DOUBLE_EQ(st.periods[1].spent_usd, 2);
        EXPECT_DOUBLE_EQ(st.periods[2].spent_usd, 2);
    }

    // Next month (Wednesday 2 December): nothing current, but the rows are kept for a while.
    clock_.advance(hours(24 * 4));
    {
        auto store = open();
        auto loaded = store->load();
        ASSERT_TRUE(loaded.has_value());
        EXPECT_TRUE(loaded->empty());
        EXPECT_EQ(store->stats().rows_pruned, 0u);
    }
    EXPECT_EQ(rows().size(), 3u);

    // 60 days later: pruned at load (month row started 2026-11-01, older than 40 days).
    clock_.advance(hours(24 * 60));
    {
        auto store = open();
        auto loaded = store->load();
        ASSERT_TRUE(loaded.has_value());
        EXPECT_TRUE(loaded->empty());
        EXPECT_EQ(store->stats().rows_pruned, 3u);
    }
    EXPECT_TRUE(rows().empty());
}

TEST_F(SpendStoreTest, RepeatedFlushesAreIdempotent) {
    BudgetLedger ledger(clock_.fn());
    auto store = open();
    ASSERT_TRUE(store);
    store->attach(ledger);
    charge(ledger, "k", 0.75);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->flush().has_value());
    EXPECT_EQ(store->stats().transactions, 1u);
    auto r = rows();
    ASSERT_EQ(r.size(), 3u);
    const int64_t day = unix_s(ratelimit::period_start(Period::day, clock_.t));
    EXPECT_DOUBLE_EQ((r[{"k", "day", day}]), 0.75);

    charge(ledger, "k", 0.25);
    ASSERT_TRUE(store->flush().has_value());
    ASSERT_TRUE(store->flush().has_value());
    r = rows();
    ASSERT_EQ(r.size(), 3u);
    for (const auto& [k, v] : r) EXPECT_DOUBLE_EQ(v, 1.0) << std::get<1>(k);
    EXPECT_EQ(store->stats().transactions, 2u);

    // A ledger that lost its state (not restored) never lowers a stored total.
    BudgetLedger fresh(clock_.fn());
    store->attach(fresh);
    charge(fresh, "k", 0.1);
    ASSERT_TRUE(store->flush().has_value());
    for (const auto& [k, v] : rows()) EXPECT_DOUBLE_EQ(v, 1.0) << std::get<1>(k);
    store->attach(ledger);
}

TEST_F(SpendStoreTest, ConcurrentChargesWhileWriting) {
    BudgetLedger ledger(clock_.fn());
    auto store = open(milliseconds(2), 16);
    ASSERT_TRUE(store);
    store->attach(ledger);

    constexpr int kThreads = 4;
    constexpr int kCharges = 400;
    std::atomic<bool> done{false};
    std::thread flusher([&] {
        while (!done.load()) {
            EXPECT_TRUE(store->flush().has_value());
            (void)store->stats();
            std::this_thread::sleep_for(microseconds(300));
        }
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            for (int i = 0; i < kCharges; ++i) {
                const std::string key = "key-" + std::to_string(rng() % 8);
                auto h = ledger.reserve(key, {}, 0.01);
                ASSERT_TRUE(h.has_value());
                h->settle(0.001 * static_cast<double>(1 + rng() % 5));
            }
        });
    }
    for (auto& th : threads) th.join();
    done = true;
    flusher.join();
    ASSERT_TRUE(store->flush().has_value());
    EXPECT_GE(store->stats().transactions, 1u);

    // Every total on disk is the ledger's, exactly.
    std::map<std::tuple<std::string, std::string, int64_t>, double> expected;
    for (const auto& e : ledger.snapshot()) {
        expected[{e.key, std::string(ratelimit::period_name(e.period)), e.period_start_s}] =
            e.spent_usd;
    }
    EXPECT_EQ(rows(), expected);
    EXPECT_EQ(expected.size(), 8u * 3u);
}

TEST_F(SpendStoreTest, DestroyWithoutFlushWritesPending) {
    BudgetLedger ledger(clock_.fn());
    {
        auto store = open(hours(1), 1000000);  // only the destructor will write
        ASSERT_TRUE(store);
        store->attach(ledger);
        charge(ledger, "k", 4.5);
        EXPECT_EQ(store->stats().transactions, 0u);
        EXPECT_EQ(store->stats().pending_keys, 1u);
    }
    // The ledger outlives the store: later charges are ignored, not a use-after-free.
    charge(ledger, "k", 1);

    auto store = open();
    auto loaded = store->load();
    ASSERT_TRUE(loaded.has_value());
    ASSERT_EQ(loaded->size(), 3u);
    for (const auto& e : *loaded) EXPECT_DOUBLE_EQ(e.spent_usd, 4.5);
}

TEST_F(SpendStoreTest, MaxBatchWritesBeforeTheInterval) {
    BudgetLedger ledger(clock_.fn());
    auto store = open(hours(1), 3);
    ASSERT_TRUE(store);
    store->attach(ledger);
    for (int i = 0; i < 3; ++i) charge(ledger, "k" + std::to_string(i), 1);
    const auto deadline = steady_clock::now() + seconds(10);
    while (store->stats().transactions == 0 && steady_clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(2));
    }
    EXPECT_EQ(store->stats().transactions, 1u);
    EXPECT_EQ(store->stats().rows_written, 9u);
}

TEST_F(SpendStoreTest, LockedDatabaseFailsThenRetries) {
    BudgetLedger ledger(clock_.fn());
    SpendStore::Options o;
    o.path = db_path();
    o.flush_interval = milliseconds(5);
    o.busy_timeout = milliseconds(20);
    o.now = clock_.fn();
    auto opened = SpendStore::open(std::move(o));
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    auto& store = *opened;
    store->attach(ledger);

    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(db_path().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);

    charge(ledger, "k", 1);
    auto r = store->flush();
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("locked"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(db_path()), std::string::npos) << r.error().message;
    auto st = store->stats();
    EXPECT_GE(st.failed_transactions, 1u);
    EXPECT_EQ(st.pending_keys, 1u);
    EXPECT_FALSE(st.last_error.empty());

    ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
    charge(ledger, "k", 1);
    ASSERT_TRUE(store->flush().has_value());
    st = store->stats();
    EXPECT_EQ(st.pending_keys, 0u);
    EXPECT_EQ(st.transactions, 1u);
    for (const auto& [k, v] : rows()) EXPECT_DOUBLE_EQ(v, 2.0) << std::get<1>(k);
}

std::string open_error(const std::string& path) {
    SpendStore::Options o;
    o.path = path;
    auto s = SpendStore::open(std::move(o));
    EXPECT_FALSE(s.has_value()) << path;
    if (s) return {};
    EXPECT_EQ(s.error().code, Errc::internal);
    EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
    return s.error().message;
}

TEST_F(SpendStoreTest, NotADatabase) {
    {
        std::ofstream f(db_path());
        f << "this is a text file, and long enough to be read as a database header: "
          << std::string(200, 'x') << "\n";
    }
    const auto msg = open_error(db_path());
    EXPECT_NE(msg.find("not a database"), std::string::npos) << msg;
}

TEST_F(SpendStoreTest, UnusablePaths) {
    auto msg = open_error((dir_ / "missing" / "state.db").string());
    EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;

    fs::create_directories(dir_ / "a-dir");
    msg = open_error((dir_ / "a-dir").string());
    EXPECT_NE(msg.find("is a directory"), std::string::npos) << msg;

    std::ofstream(dir_ / "a-file") << "x";
    msg = open_error((dir_ / "a-file" / "state.db").string());
    EXPECT_NE(msg.find("not a directory"), std::string::npos) << msg;

    msg = open_error("/proc/baton-state.db");  // no one can create files there, not even root
    EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;

    SpendStore::Options o;
    auto s = SpendStore::open(std::move(o));
    ASSERT_FALSE(s.has_value());
    EXPECT_NE(s.error().message.find("state.path is empty"), std::string::npos);
}

TEST_F(SpendStoreTest, NewerSchemaVersionIsRefused) {
    { ASSERT_TRUE(open()); }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 7", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    const auto msg = open_error(db_path());
    EXPECT_NE(msg.find("schema version 7"), std::string::npos) << msg;
}

}  // namespace
}  // namespace baton::state
