// Deadline: the lazy per-socket timeout that replaced beast::tcp_stream's per-operation timers.
// Real sockets on 127.0.0.1; a read that nobody answers must end at the deadline in force when
// it passes (later if the deadline moved later, sooner if it moved sooner), never before.
#include "baton/core/deadline.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <functional>

#include "unit/core/loopback_pair.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;

using Pair = test::LoopbackPair;

// Starts a read on p.a that the peer never answers; returns when it ends, with its error and
// how long it took.
struct ReadResult {
    boost::system::error_code ec;
    Duration took{};
};

ReadResult run_read(Pair& p, Deadline& d, const std::function<void()>& during = {}) {
    ReadResult r;
    const auto start = Clock::now();
    char buf[16];
    p.a.async_read_some(asio::buffer(buf), [&](boost::system::error_code ec, size_t) {
        r.ec = d.check(ec);
        r.took = Clock::now() - start;
    });
    if (during) during();
    p.ioc.run();
    return r;
}

TEST(Deadline, EndsAPendingReadWithTimeout) {
    Pair p;
    Deadline d(p.a);
    d.expires_after(50ms);
    auto r = run_read(p, d);
    EXPECT_EQ(r.ec, beast::error::timeout);
    EXPECT_GE(r.took, 50ms);
    EXPECT_LT(r.took, 1s);
    EXPECT_TRUE(d.expired());
    EXPECT_FALSE(p.a.is_open());
}

TEST(Deadline, ALaterDeadlineIsHonouredWithoutRearmingAtOnce) {
    Pair p;
    Deadline d(p.a);
    d.expires_after(40ms);
    d.expires_after(200ms);  // moved later: the armed 40 ms timer re-arms when it fires
    auto r = run_read(p, d);
    EXPECT_EQ(r.ec, beast::error::timeout);
    EXPECT_GE(r.took, 200ms);
    EXPECT_LT(r.took, 2s);
}

TEST(Deadline, ASoonerDeadlineRearmsAtOnce) {
    Pair p;
    Deadline d(p.a);
    d.expires_after(10s);
    d.expires_after(50ms);
    auto r = run_read(p, d);
    EXPECT_EQ(r.ec, beast::error::timeout);
    EXPECT_LT(r.took, 2s);
}

TEST(Deadline, NeverMeansNoTimeoutAndDataStillArrives) {
    Pair p;
    Deadline d(p.a);
    d.expires_after(30ms);
    d.expires_never();
    asio::steady_timer later(p.ioc, 150ms);
    auto r = run_read(p, d, [&] {
        later.async_wait(
            [&](boost::system::error_code) { asio::write(p.b, asio::buffer("hello", 5)); });
    });
    EXPECT_FALSE(r.ec) << r.ec.message();
    EXPECT_GE(r.took, 150ms);
    EXPECT_FALSE(d.expired());
    EXPECT_TRUE(p.a.is_open());
}

TEST(Deadline, DestroyedBeforeItFiresLeavesTheSocketAlone) {
    Pair p;
    {
        Deadline d(p.a);
        d.expires_after(20ms);
    }
    asio::steady_timer t(p.ioc, 100ms);
    t.async_wait([](boost::system::error_code) {});
    p.ioc.run();
    EXPECT_TRUE(p.a.is_open());
}

}  // namespace
}  // namespace baton
