// Spend store: SQLite file, one writer thread batching the ledger's dirty keys.
#include "baton/state/spend_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

namespace baton::state {

namespace detail {

struct DbClose {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbClose>;

struct StmtFinalize {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

// Resets and clears a reused statement when leaving scope, whatever happened.
class StmtUse {
  public:
    explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
    ~StmtUse() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    StmtUse(const StmtUse&) = delete;
    StmtUse& operator=(const StmtUse&) = delete;

  private:
    sqlite3_stmt* s_;
};

// What the ledger's callback shares with the writer. Held by shared_ptr from the callback, so it
// outlives the store when the ledger does; `closed` then makes the callback a no-op.
struct Queue {
    std::mutex mu;
    std::condition_variable wake;  // the writer waits on it
    std::condition_variable done;  // flush() waits on it
    std::unordered_set<std::string> dirty;
    std::size_t max_batch = 1;
    uint64_t charges = 0;       // charges since the last batch was taken (for max_batch)
    uint64_t enqueued = 0;      // sequence of reported charges (and flushes of pending keys)
    uint64_t attempted = 0;     // highest sequence a finished write attempt covered
    uint64_t committed = 0;     // highest sequence a committed transaction covered
    uint64_t flush_target = 0;  // highest sequence a flush() waits for
    bool stopping = false;
    bool closed = false;
    bool backing_off = false;  // the last attempt failed: max_batch does not hurry the retry
    ratelimit::BudgetLedger* ledger = nullptr;
    std::optional<Error> last_failure;  // of the last attempt, cleared by a commit
    SpendStoreStats stats;

    // Called on event-loop threads after a request's charge; never throws.
    void mark(const std::string& key) noexcept {
        try {
            bool notify = false;
            {
                std::lock_guard lock(mu);
                if (closed) return;
                const bool was_empty = dirty.empty();
                dirty.insert(key);
                ++enqueued;
                ++charges;
                notify = was_empty || (charges == max_batch && !backing_off);
            }
            if (notify) wake.notify_one();
        } catch (...) {
            // Out of memory: this charge is written with the key's next one, or lost at shutdown.
        }
    }
};

int64_t unix_s(ratelimit::SysClock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::optional<ratelimit::Period> parse_period(std::string_view s) {
    for (std::size_t p = 0; p < ratelimit::kPeriods; ++p) {
        const auto period = static_cast<ratelimit::Period>(p);
        if (ratelimit::period_name(period) == s) return period;
    }
    return std::nullopt;
}

constexpr int kSchemaVersion = 1;

// The ledger's current totals of `keys`. Uses BudgetLedger::snapshot(key) when the ledger has
// it (one account lock per dirty key), else filters the whole snapshot.
template <class Ledger>
std::vector<ratelimit::BudgetLedger::Entry> entries_of(
    const Ledger& ledger, const std::unordered_set<std::string>& keys) {
    std::vector<ratelimit::BudgetLedger::Entry> out;
    if constexpr (requires(const Ledger& l, const std::string& k) { l.snapshot(k); }) {
        for (const std::string& key : keys) {
            for (auto& e : ledger.snapshot(key)) out.push_back(std::move(e));
        }
    } else {
        for (auto& e : ledger.snapshot()) {
            if (keys.contains(e.key)) out.push_back(std::move(e));
        }
    }
    return out;
}

}  // namespace detail

using detail::DbPtr;
using detail::StmtPtr;
using detail::StmtUse;

struct SpendStore::Impl {
    Options opts;
    std::shared_ptr<detail::Queue> q = std::make_shared<detail::Queue>();

    std::mutex db_mu;  // the connection and its statements: writer thread vs load()
    DbPtr db;
    StmtPtr begin, commit, rollback, upsert, select, prune;
    std::chrono::steady_clock::time_point last_prune{};

    std::thread writer;

    Error error(std::string_view what, int rc) const {
        std::string msg = "spend store '" + opts.path + "': " + std::string(what) + ": ";
        const char* text = db ? sqlite3_errmsg(db.get()) : nullptr;
        const std::string_view generic = sqlite3_errstr(rc);
        const std::string_view specific = text != nullptr ? text : generic;
        msg += specific;
        msg += " (";
        if (specific != generic) msg += std::string(generic) + ", ";
        msg += "SQLite code " + std::to_string(rc) + ")";
        return make_error(Errc::internal, std::move(msg));
    }

    boost::system::result<StmtPtr, Error> prepare(std::string_view sql) {
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()),
                                          SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
        StmtPtr s(raw);
        if (rc != SQLITE_OK) return error("preparing '" + std::string(sql) + "'", rc);
        return s;
    }

    // Runs a statement that returns no rows.
    boost::system::result<void, Error> run(sqlite3_stmt* s, std::string_view what) {
        StmtUse use(s);
        const int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error(what, rc);
        return {};
    }

    boost::system::result<void, Error> exec(std::string_view sql) {
        auto s = prepare(sql);
        if (!s) return s.error();
        return run(s->get(), sql);
    }

    ratelimit::SysClock::time_point now() const { return opts.now(); }

    // Under db_mu, inside a transaction. Returns the number of rows deleted.
    boost::system::result<uint64_t, Error> prune_old() {
        StmtUse use(prune.get());
        sqlite3_bind_int64(prune.get(), 1, detail::unix_s(now() - opts.retention));
        const int rc = sqlite3_step(prune.get());
        if (rc != SQLITE_DONE) return error("pruning old rows", rc);
        last_prune = std::chrono::steady_clock::now();
        return static_cast<uint64_t>(sqlite3_changes64(db.get()));
    }

    // Under db_mu: rolls back a failed transaction, keeping the first error.
    void abort_tx() {
        if (sqlite3_get_autocommit(db.get()) == 0) {
            StmtUse use(rollback.get());
            sqlite3_step(rollback.get());
        }
    }

    struct Written {
        uint64_t rows = 0;
        uint64_t pruned = 0;
    };

    // One transaction: the ledger's totals for `keys`, plus a prune once a day. Never throws.
    boost::system::result<Written, Error> write(const std::unordered_set<std::string>& keys,
                                                ratelimit::BudgetLedger* ledger) noexcept {
        try {
            std::vector<ratelimit::BudgetLedger::Entry> entries;
            if (ledger != nullptr) entries = detail::entries_of(*ledger, keys);
            const int64_t updated_at = detail::unix_s(now());

            std::lock_guard lock(db_mu);
            const bool prune_due =
                std::chrono::steady_clock::now() - last_prune >= std::chrono::hours(24);
            if (entries.empty() && !prune_due) return Written{};
            Written w;
            auto r = [&]() -> boost::system::result<void, Error> {
                if (auto b = run(begin.get(), "beginning a write transaction"); !b) return b;
                for (const auto& e : entries) {
                    StmtUse use(upsert.get());
                    const std::string_view period = ratelimit::period_name(e.period);
                    sqlite3_bind_text(upsert.get(), 1, e.key.data(), static_cast<int>(e.key.size()),
                                      SQLITE_STATIC);
                    sqlite3_bind_text(upsert.get(), 2, period.data(),
                                      static_cast<int>(period.size()), SQLITE_STATIC);
                    sqlite3_bind_int64(upsert.get(), 3, e.period_start_s);
                    sqlite3_bind_double(upsert.get(), 4, e.spent_usd);
                    sqlite3_bind_int64(upsert.get(), 5, updated_at);
                    const int rc = sqlite3_step(upsert.get());
                    if (rc != SQLITE_DONE) return error("writing spend of key '" + e.key + "'", rc);
                    ++w.rows;
                }
                if (prune_due) {
                    auto p = prune_old();
                    if (!p) return p.error();
                    w.pruned = *p;
                }
                return run(commit.get(), "committing spend");
            }();
            if (!r) {
                abort_tx();
                return r.error();
            }
            return w;
        } catch (const std::exception& e) {
            rollback_after_exception();
            return make_error(Errc::internal,
                              "spend store '" + opts.path + "': write failed: " + e.what());
        } catch (...) {
            rollback_after_exception();
            return make_error(Errc::internal, "spend store '" + opts.path + "': write failed");
        }
    }

    // An exception (out of memory) may have left a transaction open: close it so the next
    // BEGIN works.
    void rollback_after_exception() noexcept {
        try {
            std::lock_guard lock(db_mu);
            abort_tx();
        } catch (...) {
        }
    }

    void run_writer() noexcept {
        using Clock = std::chrono::steady_clock;
        auto& qu = *q;
        std::chrono::milliseconds backoff{0};
        int rounds_after_stop = 0;
        std::unique_lock lk(qu.mu);
        for (;;) {
            qu.wake.wait(lk, [&] { return qu.stopping || !qu.dirty.empty(); });
            if (qu.dirty.empty()) break;  // stopping with nothing pending
            // Batching window: from the first pending charge (or a failure), until the interval
            // (or the backoff) has passed, max_batch charges are pending, a flush or shutdown.
            const auto deadline = Clock::now() + std::max(opts.flush_interval, backoff);
            qu.wake.wait_until(lk, deadline, [&] {
                return qu.stopping || qu.flush_target > qu.attempted ||
                       (qu.charges >= qu.max_batch && backoff.count() == 0);
            });

            std::unordered_set<std::string> keys;
            keys.swap(qu.dirty);
            const uint64_t seq = qu.enqueued;
            qu.charges = 0;
            ratelimit::BudgetLedger* ledger = qu.ledger;
            lk.unlock();
            auto r = write(keys, ledger);
            lk.lock();

            qu.attempted = std::max(qu.attempted, seq);
            const int64_t at = detail::unix_s(now());
            if (r) {
                qu.committed = std::max(qu.committed, seq);
                qu.last_failure.reset();
                if (r->rows > 0 || r->pruned > 0) {
                    ++qu.stats.transactions;
                    qu.stats.rows_written += r->rows;
                    qu.stats.rows_pruned += r->pruned;
                    qu.stats.last_write_at_s = at;
                }
                backoff = std::chrono::milliseconds{0};
                qu.backing_off = false;
            } else {
                // Keep the keys for the next attempt; totals are absolute, so retrying later
                // writes whatever they have become by then.
                qu.dirty.merge(keys);  // moves the nodes: no allocation
                ++qu.stats.failed_transactions;
                qu.stats.last_error_at_s = at;
                try {
                    qu.stats.last_error = r.error().message;
                    qu.last_failure = r.error();
                } catch (...) {
                    qu.last_failure = Error{};  // out of memory: flush() still reports a failure
                }
                backoff = std::clamp(backoff * 2, std::chrono::milliseconds{1000},
                                     std::chrono::milliseconds{30000});
                qu.backing_off = true;
            }
            qu.done.notify_all();
            // At shutdown: write what arrived meanwhile a couple of times, not forever, and do
            // not retry a failure.
            if (qu.stopping && (!r || ++rounds_after_stop >= 3)) break;
        }
        qu.closed = true;
        qu.done.notify_all();
    }

    boost::system::result<void, Error> open_db() {
        namespace fs = std::filesystem;
        if (opts.path.empty()) {
            return make_error(Errc::internal, "spend store: state.path is empty");
        }
        if (opts.path != ":memory:") {
            const fs::path p(opts.path);
            fs::path dir = p.parent_path();
            if (dir.empty()) dir = ".";
            std::error_code ec;
            const auto dst = fs::status(dir, ec);
            if (dst.type() == fs::file_type::not_found) {
                return make_error(Errc::internal, "spend store '" + opts.path + "': directory '" +
                                                      dir.string() +
                                                      "' does not exist (create it first)");
            }
            if (!ec && !fs::is_directory(dst)) {
                return make_error(Errc::internal, "spend store '" + opts.path + "': '" +
                                                      dir.string() + "' is not a directory");
            }
            if (fs::is_directory(fs::status(p, ec))) {
                return make_error(Errc::internal,
                                  "spend store '" + opts.path + "': is a directory, not a file");
            }
        }

        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(opts.path.c_str(), &raw,
                                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                           SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                                       nullptr);
        db.reset(raw);  // closed even when the open failed
        if ((rc & 0xff) == SQLITE_CANTOPEN) {
            return error("cannot open or create the file (is it and its directory writable?)", rc);
        }
        if (rc != SQLITE_OK) return error("cannot open", rc);
        if (sqlite3_db_readonly(db.get(), "main") == 1) {
            return make_error(Errc::internal,
                              "spend store '" + opts.path +
                                  "': opened read-only (the file or its directory is not "
                                  "writable)");
        }
        sqlite3_busy_timeout(db.get(), static_cast<int>(opts.busy_timeout.count()));

        // The first statement reads the header: a file that is not a database fails here.
        {
            auto s = prepare("PRAGMA journal_mode=WAL");
            if (!s) {
                return error("cannot read the file as a SQLite database",
                             sqlite3_extended_errcode(db.get()));
            }
            StmtUse use(s->get());
            const int step = sqlite3_step(s->get());
            if (step != SQLITE_ROW) return error("cannot enable WAL journal mode", step);
            const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(s->get(), 0));
            const std::string_view got = mode != nullptr ? mode : "";
            if (got != "wal" && !(opts.path == ":memory:" && got == "memory")) {
                return make_error(Errc::internal,
                                  "spend store '" + opts.path +
                                      "': cannot enable WAL journal mode (SQLite kept '" +
                                      std::string(got) + "'; is the file system local?)");
            }
        }
        if (auto r = exec("PRAGMA synchronous=NORMAL"); !r) return r;

        if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
        auto schema = [&]() -> boost::system::result<void, Error> {
            if (auto r =
                    exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
                !r) {
                return r;
            }
            auto s = prepare("SELECT max(version) FROM schema_version");
            if (!s) return s.error();
            std::optional<int64_t> version;
            {
                StmtUse use(s->get());
                const int step = sqlite3_step(s->get());
                if (step != SQLITE_ROW) return error("reading the schema version", step);
                if (sqlite3_column_type(s->get(), 0) != SQLITE_NULL) {
                    version = sqlite3_column_int64(s->get(), 0);
                }
            }
            if (version && *version > detail::kSchemaVersion) {
                return make_error(Errc::internal,
                                  "spend store '" + opts.path + "': schema version " +
                                      std::to_string(*version) +
                                      " was written by a newer Baton (this one knows up to " +
                                      std::to_string(detail::kSchemaVersion) + ")");
            }
            if (auto r = exec(
                    "CREATE TABLE IF NOT EXISTS spend(key TEXT NOT NULL, period TEXT NOT NULL, "
                    "period_start INTEGER NOT NULL, spent_usd REAL NOT NULL, "
                    "updated_at INTEGER NOT NULL, PRIMARY KEY(key, period, period_start))");
                !r) {
                return r;
            }
            if (!version) {
                return exec("INSERT INTO schema_version(version) VALUES(" +
                            std::to_string(detail::kSchemaVersion) + ")");
            }
            return {};
        }();
        if (!schema) {
            if (sqlite3_get_autocommit(db.get()) == 0) (void)exec("ROLLBACK");
            return schema;
        }
        if (auto r = exec("COMMIT"); !r) return r;

        auto prep = [&](StmtPtr& out, std::string_view sql) -> boost::system::result<void, Error> {
            auto s = prepare(sql);
            if (!s) return s.error();
            out = std::move(*s);
            return {};
        };
        for (auto r :
             {prep(begin, "BEGIN IMMEDIATE"), prep(commit, "COMMIT"), prep(rollback, "ROLLBACK"),
              prep(upsert,
                   "INSERT INTO spend(key, period, period_start, spent_usd, updated_at) "
                   "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(key, period, period_start) DO UPDATE "
                   "SET spent_usd = max(spent_usd, excluded.spent_usd), "
                   "updated_at = excluded.updated_at"),
              prep(select,
                   "SELECT key, period, period_start, spent_usd FROM spend "
                   "WHERE period_start >= ?1"),
              prep(prune, "DELETE FROM spend WHERE period_start < ?1")}) {
            if (!r) return r;
        }
        last_prune = std::chrono::steady_clock::now();
        return {};
    }
};

boost::system::result<std::unique_ptr<SpendStore>, Error> SpendStore::open(Options options) {
    auto impl = std::make_unique<Impl>();
    if (!options.now) options.now = [] { return ratelimit::SysClock::now(); };
    // A current month started at most 31 days ago: never prune it.
    options.retention = std::max(options.retention, std::chrono::hours(24 * 32));
    options.max_batch = std::max<std::size_t>(options.max_batch, 1);
    options.flush_interval = std::max(options.flush_interval, std::chrono::milliseconds{1});
    impl->opts = std::move(options);
    impl->q->max_batch = impl->opts.max_batch;
    if (auto r = impl->open_db(); !r) return r.error();
    try {
        Impl* self = impl.get();
        impl->writer = std::thread([self] { self->run_writer(); });
    } catch (const std::exception& e) {
        return make_error(Errc::internal, "spend store '" + impl->opts.path +
                                              "': cannot start the writer thread: " + e.what());
    }
    return std::unique_ptr<SpendStore>(new SpendStore(std::move(impl)));
}

SpendStore::SpendStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SpendStore::~SpendStore() {
    {
        std::lock_guard lock(impl_->q->mu);
        impl_->q->stopping = true;
    }
    impl_->q->wake.notify_all();
    if (impl_->writer.joinable()) impl_->writer.join();
}

const std::string& SpendStore::path() const { return impl_->opts.path; }

boost::system::result<std::vector<ratelimit::BudgetLedger::Entry>, Error> SpendStore::load() {
    Impl& s = *impl_;
    const auto now = s.now();
    std::vector<ratelimit::BudgetLedger::Entry> out;
    uint64_t pruned = 0;
    {
        std::lock_guard lock(s.db_mu);
        auto tx = [&]() -> boost::system::result<void, Error> {
            if (auto b = s.run(s.begin.get(), "beginning a transaction"); !b) return b;
            auto p = s.prune_old();
            if (!p) return p.error();
            pruned = *p;
            return s.run(s.commit.get(), "committing the prune");
        }();
        if (!tx) {
            s.abort_tx();
            return tx.error();
        }

        // Only rows of the periods current now (the ledger would ignore the others anyway).
        std::array<int64_t, ratelimit::kPeriods> current{};
        for (std::size_t p = 0; p < ratelimit::kPeriods; ++p) {
            current[p] =
                detail::unix_s(ratelimit::period_start(static_cast<ratelimit::Period>(p), now));
        }
        StmtUse use(s.select.get());
        sqlite3_bind_int64(s.select.get(), 1, *std::min_element(current.begin(), current.end()));
        for (;;) {
            const int rc = sqlite3_step(s.select.get());
            if (rc == SQLITE_DONE) break;
            if (rc != SQLITE_ROW) return s.error("reading spend", rc);
            sqlite3_stmt* st = s.select.get();
            const auto* key = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
            const int key_len = sqlite3_column_bytes(st, 0);
            const auto* period = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
            const int period_len = sqlite3_column_bytes(st, 1);
            if (key == nullptr || period == nullptr) continue;
            const auto p = detail::parse_period(
                std::string_view(period, static_cast<std::size_t>(period_len)));
            if (!p) continue;
            const int64_t start = sqlite3_column_int64(st, 2);
            if (start != current[static_cast<std::size_t>(*p)]) continue;
            out.push_back(
                ratelimit::BudgetLedger::Entry{std::string(key, static_cast<std::size_t>(key_len)),
                                               *p, start, sqlite3_column_double(st, 3)});
        }
    }
    if (pruned > 0) {
        std::lock_guard lock(s.q->mu);
        s.q->stats.rows_pruned += pruned;
    }
    return out;
}

void SpendStore::attach(ratelimit::BudgetLedger& ledger) {
    {
        std::lock_guard lock(impl_->q->mu);
        impl_->q->ledger = &ledger;
    }
    std::shared_ptr<detail::Queue> q = impl_->q;
    ledger.set_on_charge([q](const std::string& key, double) { q->mark(key); });
}

boost::system::result<void, Error> SpendStore::flush() {
    detail::Queue& q = *impl_->q;
    std::unique_lock lk(q.mu);
    // Pending keys that an earlier (failed) attempt covered need a new attempt: a new sequence.
    if (!q.dirty.empty() && q.attempted >= q.enqueued) ++q.enqueued;
    const uint64_t target = q.enqueued;
    if (q.attempted >= target) return {};
    q.flush_target = std::max(q.flush_target, target);
    q.wake.notify_one();
    q.done.wait(lk, [&] { return q.attempted >= target || q.closed; });
    if (q.committed >= target) return {};
    if (q.last_failure) return *q.last_failure;
    return make_error(Errc::internal,
                      "spend store '" + impl_->opts.path + "': the writer has stopped");
}

SpendStoreStats SpendStore::stats() const {
    std::lock_guard lock(impl_->q->mu);
    SpendStoreStats st = impl_->q->stats;
    st.pending_keys = impl_->q->dirty.size();
    return st;
}

}  // namespace baton::state
