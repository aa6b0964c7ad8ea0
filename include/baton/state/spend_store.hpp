#pragma once
// Persistent budget spend: an embedded SQLite file (config `state.path`) that keeps each key's
// per-period totals across restarts, written without blocking the event loop.
//
// Startup:   auto store = SpendStore::open({.path = cfg.state.path});   // Error on failure
//            ledger.restore(store.value()->load().value());
//            store.value()->attach(ledger);                            // before any traffic
// Shutdown:  drain requests, then destroy the store (it flushes), then the ledger.
//
// Threading: the ledger's on-charge callback (called on event-loop threads after a request
// ends) only marks the key dirty in a small mutex-protected set and, at most once per batch,
// wakes the writer. One writer thread per store waits until `flush_interval` has passed since
// the first pending charge or `max_batch` charges are pending, takes the ledger's totals for the
// dirty keys and upserts them in one transaction. Totals are absolute (spent so far in the
// period), and a row never goes down (MAX), so rewriting is idempotent: no double counting after
// a crash or a retry. A failed transaction keeps its keys dirty for the next round; the writer
// never throws and records the error in stats(). With synchronous=NORMAL under WAL, a committed
// transaction survives a crash of the process; a power loss may lose the last few.
//
// Schema (version 1):
//   schema_version(version INTEGER NOT NULL)                     -- one row
//   spend(key TEXT, period TEXT, period_start INTEGER, spent_usd REAL, updated_at INTEGER,
//         PRIMARY KEY(key, period, period_start))               -- period: day | week | month
// period_start and updated_at are Unix seconds (UTC). Rows whose period started more than
// `retention` ago are deleted at load() and about once a day by the writer.
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "baton/core/error.hpp"
#include "baton/ratelimit/budget.hpp"

namespace baton::state {

struct SpendStoreStats {
    uint64_t rows_written = 0;         // rows upserted by committed transactions
    uint64_t transactions = 0;         // committed write transactions
    uint64_t failed_transactions = 0;  // rolled back (their keys are retried)
    uint64_t rows_pruned = 0;
    std::size_t pending_keys = 0;  // dirty keys not yet written
    std::string last_error;        // empty if no write ever failed; kept after recovery
    int64_t last_error_at_s = 0;   // Unix seconds of last_error (0: none)
    int64_t last_write_at_s = 0;   // Unix seconds of the last committed transaction (0: none)
};

class SpendStore {
  public:
    struct Options {
        std::string path;  // the SQLite file; created if missing, its directory must exist
        std::chrono::milliseconds flush_interval{200};  // max delay from a charge to its write
        std::size_t max_batch = 512;                    // this many pending charges: write now
        // Rows of periods that started longer ago are pruned (at least 32 days: never the
        // current month).
        std::chrono::hours retention{24 * 40};
        std::chrono::milliseconds busy_timeout{5000};  // waiting for another connection's lock
        ratelimit::SysNowFn now;  // default system_clock; the ledger's clock in tests
    };

    // Opens (creating if needed) the database, applies WAL, synchronous=NORMAL, busy_timeout,
    // creates or checks the schema and starts the writer thread. Errc::internal with the path
    // and the SQLite message when the directory is missing, the file is not a SQLite database,
    // it cannot be opened for writing, or it was written by a newer schema version.
    static boost::system::result<std::unique_ptr<SpendStore>, Error> open(Options options);

    ~SpendStore();  // flushes what is pending (errors land in stats()), stops the writer
    SpendStore(const SpendStore&) = delete;
    SpendStore& operator=(const SpendStore&) = delete;

    // Prunes rows older than `retention`, then returns the rows of the periods current now, for
    // BudgetLedger::restore(). Blocking file I/O: call at startup, before attach().
    boost::system::result<std::vector<ratelimit::BudgetLedger::Entry>, Error> load();

    // Installs the ledger's on-charge callback (replacing any other) and makes the writer read
    // totals from `ledger`. Call once, before the ledger serves requests (set_on_charge is not
    // synchronized with charges). The ledger must outlive this store; after the store is
    // destroyed, the callback left in the ledger does nothing.
    void attach(ratelimit::BudgetLedger& ledger);

    // Blocks until every charge reported before the call is committed (or the attempt to commit
    // it failed: then the error, and the keys stay pending). Not for event-loop threads.
    boost::system::result<void, Error> flush();

    SpendStoreStats stats() const;
    const std::string& path() const;

  private:
    struct Impl;
    explicit SpendStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace baton::state
