#include "baton/upstream/pool.hpp"

#include <boost/asio/this_coro.hpp>

namespace baton::upstream {

Lease& Lease::operator=(Lease&& o) noexcept {
    if (this != &o) {
        discard();
        pool_ = o.pool_;
        conn_ = std::move(o.conn_);
        reused_ = o.reused_;
        o.pool_ = nullptr;
    }
    return *this;
}

Lease::~Lease() { discard(); }

void Lease::release_clean() {
    if (conn_ && pool_) pool_->give_back(std::move(conn_), true);
    pool_ = nullptr;
}

void Lease::discard() {
    if (conn_) {
        conn_->close();
        if (pool_) pool_->give_back(std::move(conn_), false);
    }
    conn_.reset();
    pool_ = nullptr;
}

Pool::Pool(asio::any_io_executor ex, Origin origin, uint32_t max_connections, Duration idle_timeout,
           PoolMetrics metrics)
    : ex_(std::move(ex)),
      origin_(std::move(origin)),
      max_(max_connections == 0 ? 1 : max_connections),
      idle_timeout_(idle_timeout),
      m_(metrics) {}

Pool::~Pool() {
    close_idle();
    for (auto* t : waiters_) t->cancel();
}

void Pool::give_back(std::unique_ptr<Connection> conn, bool clean) {
    if (m_.active) m_.active->sub(1);
    if (clean) {
        conn->last_used = coarse_now();  // (idle timeouts are seconds: core/clock.hpp)
        idle_.push_back(std::move(conn));
        if (m_.idle) m_.idle->add(1);
    } else {
        --total_;
        if (m_.discarded) m_.discarded->inc();
    }
    wake_one();
}

void Pool::wake_one() {
    if (!waiters_.empty()) {
        auto* t = waiters_.front();
        waiters_.pop_front();
        t->cancel();
    }
}

void Pool::sweep(Clock::time_point now) {
    size_t kept = 0;
    for (auto& c : idle_) {
        if (now - c->last_used > idle_timeout_) {
            c->close();
            c.reset();
            --total_;
            if (m_.idle) m_.idle->sub(1);
            if (m_.discarded) m_.discarded->inc();
        } else {
            idle_[kept++] = std::move(c);
        }
    }
    idle_.resize(kept);
    if (kept < max_) wake_one();
}

void Pool::close_idle() {
    for (auto& c : idle_) {
        c->close();
        --total_;
        if (m_.idle) m_.idle->sub(1);
    }
    idle_.clear();
}

Lease Pool::take_idle() {
    const auto now = coarse_now();
    while (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        if (m_.idle) m_.idle->sub(1);
        if (now - conn->last_used > idle_timeout_) {
            conn->close();
            --total_;
            if (m_.discarded) m_.discarded->inc();
            continue;
        }
        if (m_.active) m_.active->add(1);
        if (m_.reused) m_.reused->inc();
        ++conn->requests_served;
        return Lease(this, std::move(conn), true);
    }
    return Lease{};
}

awaitable<std::pair<boost::system::error_code, Lease>> Pool::acquire(Clock::time_point deadline,
                                                                     Duration connect_timeout,
                                                                     bool prefer_new) {
    for (;;) {
        auto now = Clock::now();
        // Reuse the most recently used idle connection that has not idled out.
        if (!prefer_new) {
            if (Lease l = take_idle())
                co_return std::pair{boost::system::error_code{}, std::move(l)};
        }
        if (prefer_new && total_ >= max_ && !idle_.empty()) {
            // Make room by closing the oldest idle connection.
            idle_.front()->close();
            idle_.erase(idle_.begin());
            --total_;
            if (m_.idle) m_.idle->sub(1);
        }
        if (total_ < max_) {
            ++total_;
            if (m_.active) m_.active->add(1);
            std::unique_ptr<Connection> conn = origin_.tls
                                                   ? std::make_unique<Connection>(ex_, *origin_.ssl)
                                                   : std::make_unique<Connection>(ex_);
            Duration budget = std::min<Duration>(connect_timeout, deadline - now);
            if (budget <= Duration::zero()) budget = Duration(1);
            auto ec = co_await conn->connect(origin_, budget);
            if (ec) {
                --total_;
                if (m_.active) m_.active->sub(1);
                wake_one();
                co_return std::pair{ec, Lease{}};
            }
            if (m_.opened) m_.opened->inc();
            ++conn->requests_served;
            co_return std::pair{boost::system::error_code{}, Lease(this, std::move(conn), false)};
        }
        // At the cap: wait for a release, bounded by the deadline.
        if (now >= deadline) {
            co_return std::pair{boost::system::error_code(asio::error::timed_out), Lease{}};
        }
        asio::steady_timer timer(ex_, deadline);
        auto it = waiters_.insert(waiters_.end(), &timer);
        auto [ec] = co_await timer.async_wait(use_nothrow);
        if (!ec) {  // expired: nobody released a connection in time
            waiters_.erase(it);
            co_return std::pair{boost::system::error_code(asio::error::timed_out), Lease{}};
        }
        // cancelled by wake_one(), which already removed us from waiters_
    }
}

}  // namespace baton::upstream
