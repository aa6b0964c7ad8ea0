#pragma once
// A lazy deadline for one socket: the timeouts of beast::tcp_stream without its cost.
//
// beast::tcp_stream arms and cancels a timer around every read and write (a timer-queue insert,
// a cancel, a posted completion: about 5k instructions per proxied request, see
// docs/benchmarks.md). Here setting a deadline only stores a time point. One timer per
// connection is armed for the earliest deadline it may need to enforce; when it fires it
// compares the current deadline with the clock and either re-arms for the later deadline or
// closes the socket, which ends the pending operations with operation_aborted. check() turns
// that into beast::error::timeout, the error the rest of Baton already handles.
//
// Only a deadline earlier than the armed one re-arms the timer at once, so a keep-alive
// connection whose requests arrive in one read pays a clock read and a compare per operation.
//
// Single-threaded like the socket it guards (the socket's executor runs the timer).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <memory>

#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"

namespace baton {

class Deadline {
  public:
    explicit Deadline(asio::ip::tcp::socket& socket)
        : st_(std::make_shared<State>(socket.get_executor(), &socket)) {}
    ~Deadline() {
        st_->socket = nullptr;  // a completion already queued must not touch the socket
        st_->timer.cancel();
    }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    void expires_after(Duration d) { expires_at(Clock::now() + d); }
    void expires_at(Clock::time_point t) {
        st_->deadline = t;
        if (!st_->armed || t < st_->armed_for) arm(st_, t);
    }
    // No deadline (the armed timer, if any, finds none when it fires and stops).
    void expires_never() { st_->deadline = Clock::time_point::max(); }
    // True once a deadline passed and the socket was closed.
    bool expired() const { return st_->expired; }
    // An operation's error as the caller should see it: beast::error::timeout if the deadline
    // ended it.
    boost::system::error_code check(boost::system::error_code ec) const {
        if (ec && st_->expired) return beast::error::timeout;
        return ec;
    }

  private:
    struct State {
        State(const asio::any_io_executor& ex, asio::ip::tcp::socket* s) : timer(ex), socket(s) {}
        asio::steady_timer timer;
        asio::ip::tcp::socket* socket;
        Clock::time_point deadline = Clock::time_point::max();
        Clock::time_point armed_for{};
        unsigned generation = 0;  // which wait is the current one
        bool armed = false;
        bool expired = false;
    };

    static void arm(const std::shared_ptr<State>& st, Clock::time_point t) {
        st->armed = true;
        st->armed_for = t;
        const unsigned gen = ++st->generation;
        st->timer.expires_at(t);  // cancels the previous wait, whose handler sees a stale gen
        st->timer.async_wait([st, gen](const boost::system::error_code&) {
            if (gen != st->generation || st->socket == nullptr) return;  // superseded / gone
            st->armed = false;
            if (st->deadline == Clock::time_point::max()) return;
            if (Clock::now() < st->deadline) {
                arm(st, st->deadline);  // the deadline moved later since this was armed
                return;
            }
            st->expired = true;
            boost::system::error_code ignored;
            st->socket->close(ignored);
        });
    }

    std::shared_ptr<State> st_;
};

}  // namespace baton
