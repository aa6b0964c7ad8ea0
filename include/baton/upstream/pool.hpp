#pragma once
// Connection pool for one upstream origin, owned by one worker thread (no locks: every call
// happens on that worker's io_context). Keep-alive reuse (LIFO), a cap on open connections,
// waiting for a free connection within the request's deadline, idle eviction.
//
// A Lease discards its connection on destruction unless release_clean() was called after a
// response was read completely: a connection that was cancelled, timed out or half-read is
// closed, never pooled.
#include <boost/asio/steady_timer.hpp>
#include <list>
#include <memory>
#include <vector>

#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"
#include "baton/metrics/registry.hpp"
#include "baton/upstream/connection.hpp"

namespace baton::upstream {

struct PoolMetrics {
    metrics::Gauge* active = nullptr;  // leased connections
    metrics::Gauge* idle = nullptr;    // pooled, ready for reuse
    metrics::Counter* opened = nullptr;
    metrics::Counter* reused = nullptr;
    metrics::Counter* discarded = nullptr;
};

class Pool;

class Lease {
  public:
    Lease() = default;
    Lease(Pool* pool, std::unique_ptr<Connection> conn, bool reused)
        : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&& o) noexcept;
    ~Lease();

    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }
    explicit operator bool() const { return conn_ != nullptr; }
    bool reused() const { return reused_; }
    // Puts the connection back into the pool for reuse.
    void release_clean();
    // Closes and drops the connection now.
    void discard();

  private:
    Pool* pool_ = nullptr;
    std::unique_ptr<Connection> conn_;
    bool reused_ = false;
};

class Pool {
  public:
    Pool(asio::any_io_executor ex, Origin origin, uint32_t max_connections, Duration idle_timeout,
         PoolMetrics metrics);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Returns an idle connection or opens a new one (connect timeout = connect_timeout, bounded
    // by deadline). When max_connections are open, waits for one to be released until deadline
    // (error: timed_out). prefer_new skips idle connections (used to retry a stale reuse).
    awaitable<std::pair<boost::system::error_code, Lease>> acquire(Clock::time_point deadline,
                                                                   Duration connect_timeout,
                                                                   bool prefer_new = false);
    // The most recently used idle connection that has not idled out, without waiting; an empty
    // lease when there is none (then acquire()).
    Lease take_idle();
    // Closes idle connections unused for longer than the idle timeout.
    void sweep(Clock::time_point now);
    // Closes every idle connection (drain / config change).
    void close_idle();

    const Origin& origin() const { return origin_; }
    uint32_t open_connections() const { return total_; }
    size_t idle_connections() const { return idle_.size(); }

  private:
    friend class Lease;
    void give_back(std::unique_ptr<Connection> conn, bool clean);
    void wake_one();

    asio::any_io_executor ex_;
    Origin origin_;
    uint32_t max_;
    Duration idle_timeout_;
    PoolMetrics m_;
    std::vector<std::unique_ptr<Connection>> idle_;
    uint32_t total_ = 0;  // idle + leased + connecting
    std::list<asio::steady_timer*> waiters_;
};

}  // namespace baton::upstream
