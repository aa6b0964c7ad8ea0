// RecvBuffer: a read that drained the socket (fewer bytes than asked for, and no peer close
// reported by epoll's EPOLLRDHUP) tells Asio's reactor so, and the next read waits for readiness
// instead of trying a recv() that ends in EAGAIN. Real TCP sockets on 127.0.0.1. The first test
// shows the saved recv (the bytes are still in the kernel right after the read was started); the
// others that no byte and no end of stream is ever missed.
#include "baton/core/recv_buffer.hpp"

#include <gtest/gtest.h>
#include <sys/ioctl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "baton/core/asio.hpp"
#include "unit/core/loopback_pair.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;

struct Pair : test::LoopbackPair {
    // Bytes the kernel holds for `a` that nobody has read yet.
    int unread() {
        int n = -1;
        ::ioctl(a.native_handle(), FIONREAD, &n);
        return n;
    }
    // Lets the reactor see every readiness event raised so far (an edge of data written before
    // a read started would otherwise re-enable speculation and blur the test).
    void settle() {
        bool done = false;
        a.async_wait(asio::socket_base::wait_read, [&](boost::system::error_code) { done = true; });
        ioc.restart();
        while (!done) ioc.run_one();
    }
    void wait_for_bytes(int n) {
        for (int i = 0; i < 1000 && unread() < n; ++i) std::this_thread::sleep_for(1ms);
    }
};

// Reads once into buf[0..cap) through a Buffer (RecvBuffer or a plain mutable_buffer);
// `during` runs right after the read was started, before the io_context runs.
template <class Buffer>
std::string read_once(Pair& p, char* buf, size_t cap, const std::function<void()>& during) {
    std::string got;
    bool done = false;
    p.a.async_read_some(Buffer(asio::buffer(buf, cap)),
                        [&](boost::system::error_code ec, size_t n) {
                            EXPECT_FALSE(ec) << ec.message();
                            got.assign(buf, n);
                            done = true;
                        });
    if (during) during();
    p.ioc.restart();
    while (!done) p.ioc.run_one();
    return got;
}

// The read after a draining read does not touch the socket until the reactor reports data: the
// bytes written meanwhile are still unread in the kernel right after the read was started.
// With a plain buffer Asio reads them on the spot (the speculative recv that usually finds
// nothing and costs a syscall per read).
template <class Buffer>
void after_draining_read(bool expect_left_in_kernel) {
    Pair p;
    char buf[64];
    asio::write(p.b, asio::buffer("abc", 3));
    p.wait_for_bytes(3);
    p.settle();
    EXPECT_EQ(read_once<Buffer>(p, buf, sizeof buf, {}), "abc");  // nothing left behind
    asio::write(p.b, asio::buffer("defg", 4));
    p.wait_for_bytes(4);
    int unread_after_start = -1;
    EXPECT_EQ(read_once<Buffer>(p, buf, sizeof buf, [&] { unread_after_start = p.unread(); }),
              "defg");
    EXPECT_EQ(unread_after_start, expect_left_in_kernel ? 4 : 0);
}

TEST(RecvBuffer, DrainingReadSparesTheNextSpeculativeRecv) {
#ifdef BATON_RECV_BUFFER_DRAINS
    after_draining_read<RecvBuffer>(true);
#else
    FAIL() << "core/recv_buffer.hpp does not know this Boost version: reads speculate again";
#endif
    after_draining_read<asio::mutable_buffer>(false);  // the control: Asio as it is
}

// Bytes left behind (a buffer smaller than what came): the next read still tries at once.
TEST(RecvBuffer, BytesLeftBehindKeepSpeculating) {
    Pair p;
    char buf[4];
    asio::write(p.b, asio::buffer("abcdef", 6));
    p.wait_for_bytes(6);
    p.settle();
    EXPECT_EQ(read_once<RecvBuffer>(p, buf, sizeof buf, {}), "abcd");
    int unread_after_start = -1;
    EXPECT_EQ(read_once<RecvBuffer>(p, buf, sizeof buf, [&] { unread_after_start = p.unread(); }),
              "ef");
    EXPECT_EQ(unread_after_start, 0);
}

// The next read after `read_once` must see the end of stream (a watchdog turns waiting
// forever into a failure).
void expect_end_of_stream(Pair& p, char* buf, size_t cap) {
    boost::system::error_code end;
    bool done = false;
    p.a.async_read_some(RecvBuffer(asio::buffer(buf, cap)),
                        [&](boost::system::error_code ec, size_t) {
                            end = ec;
                            done = true;
                        });
    asio::steady_timer watchdog(p.ioc, 5s);
    watchdog.async_wait([&](boost::system::error_code ec) {
        if (!ec) p.a.close();
    });
    p.ioc.restart();
    while (!done) p.ioc.run_one();
    watchdog.cancel();
    EXPECT_EQ(end, asio::error::eof) << end.message();
}

// Data and the end of stream arriving together: the short read that takes the data also
// consumes the FIN, and no readiness event will follow. epoll reported EPOLLRDHUP with the data,
// so the read is not taken for a drained socket and the next read tries at once (a bare
// short-read rule would wait forever here).
// "abc" and the FIN are both in the kernel; with `settled` the reactor has also seen their
// readiness (EPOLLIN | EPOLLRDHUP) before the reads. Then one read takes "abc" and the next one
// must end the stream.
void data_then_end_of_stream(bool settled) {
    Pair p;
    char buf[64];
    asio::write(p.b, asio::buffer("abc", 3));
    p.b.shutdown(asio::ip::tcp::socket::shutdown_send);
    p.wait_for_bytes(3);
    std::this_thread::sleep_for(20ms);  // the FIN is in too
    if (settled) p.settle();
    EXPECT_EQ(read_once<RecvBuffer>(p, buf, sizeof buf, {}), "abc");
    expect_end_of_stream(p, buf, sizeof buf);
}

TEST(RecvBuffer, DataWithEndOfStreamStillEnds) { data_then_end_of_stream(true); }

// The same before the reactor has looked: the first read (speculative, at once) takes data and
// FIN and calls the socket drained, then epoll's still pending report of them (EPOLLRDHUP) wakes
// the next read, which sees the end of stream.
TEST(RecvBuffer, DataWithEndOfStreamBeforeTheReactorLooked) { data_then_end_of_stream(false); }

// A writer thread sends 2 MB in pieces of random size with random pauses while the reader reads
// into buffers of random size; every byte arrives, in order, and the end of stream is seen.
// A readiness event lost by the drained-socket rule would stall the reader (the watchdog ends
// the test with a failure instead of hanging).
TEST(RecvBuffer, NoByteOrEndOfStreamIsMissed) {
    Pair p;
    const size_t total = 2 << 20;
    std::string sent(total, '\0');
    std::mt19937 rng(7);
    for (auto& c : sent) c = static_cast<char>('a' + rng() % 26);
    const int fd = p.b.native_handle();
    p.b.non_blocking(false);
    std::thread writer([&] {
        std::mt19937 wr(11);
        size_t off = 0;
        while (off < total) {
            size_t n = std::min<size_t>(total - off, 1 + wr() % 40000);
            ssize_t w = ::send(fd, sent.data() + off, n, MSG_NOSIGNAL);
            if (w <= 0) break;
            off += static_cast<size_t>(w);
            if (wr() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(wr() % 300));
        }
        ::shutdown(fd, SHUT_WR);
    });
    std::string got;
    got.reserve(total);
    std::vector<char> buf(70000);
    bool eof = false;
    std::mt19937 rr(13);
    std::function<void()> next = [&] {
        const size_t want = 1 + rr() % buf.size();
        p.a.async_read_some(RecvBuffer(asio::buffer(buf.data(), want)),
                            [&](boost::system::error_code ec, size_t n) {
                                got.append(buf.data(), n);
                                if (ec == asio::error::eof) {
                                    eof = true;
                                    return;
                                }
                                ASSERT_FALSE(ec) << ec.message();
                                next();
                            });
    };
    next();
    asio::steady_timer watchdog(p.ioc, 20s);
    watchdog.async_wait([&](boost::system::error_code ec) {
        if (!ec) p.a.close();
    });
    while (!eof && p.a.is_open()) p.ioc.run_one();
    watchdog.cancel();
    writer.join();
    EXPECT_TRUE(eof) << "stalled after " << got.size() << " of " << total << " bytes";
    EXPECT_EQ(got.size(), total);
    EXPECT_TRUE(got == sent);
}

}  // namespace
}  // namespace baton
