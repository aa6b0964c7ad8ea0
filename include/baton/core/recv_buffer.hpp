#pragma once
// A receive buffer for plain TCP sockets that spares the next read a useless recv().
//
// Asio's reactor tries every read at once ("speculatively") before waiting for the socket, and
// in Boost 1.81 it stops doing so only after end of stream. For a proxy that is one recv() per
// read that ends in EAGAIN: after a response is written the next request has not come yet, after
// a request is sent upstream the answer has not come yet (strace: 3.2 recv per proxied request
// against nginx's 2.0). nginx knows better: a read that returned less than it asked for drained
// the socket, unless epoll reported the peer's FIN (EPOLLRDHUP), and then the next read waits
// for epoll to report new data.
//
// Reading into a RecvBuffer does the same with Asio. The read is a plain recv(); when it returns
// fewer bytes than the buffer holds and no peer close was reported for the socket
// (core/peer_closed.hpp, recorded by our copy of Asio's epoll reactor, which registers sockets
// with EPOLLRDHUP), the socket is marked "exhausted" in the reactor, in the reactor's own turn,
// so that no readiness reported later can be lost, and the next read waits for the next
// edge-triggered readiness event instead of trying first. The FIN check matters: data and FIN
// arriving together leave a socket that has nothing but EOF to give and will raise no further
// event; with EPOLLRDHUP seen the reads go on until they return the EOF.
//
// (Session 4 asked the kernel instead, recvmsg() with the TCP_INQ control message: ~285 ns more
// per read than recv() on the benchmark VM, bench/tools/recv_cost.c; end to end 0.2-3.5% of the
// CPU per proxied request, depending on the upstream. docs/benchmarks.md, "Session 5".)
//
// Mechanism: an explicit specialisation of Asio's receive operation for this buffer type (a
// user-defined type, so the specialisation is ours to give), the same as Asio's except for that
// one rule, and src/asio/epoll_reactor.ipp (Asio's reactor with two marked changes). Both are
// tied to the Asio version they were written against; with any other Boost (or another reactor)
// RecvBuffer is an ordinary one-buffer sequence and reads behave as Asio's do.
// tests/unit/core/recv_buffer_test.cpp checks the saved recv, end of stream and the data path.
#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/version.hpp>

#include "baton/core/peer_closed.hpp"

namespace baton {

// A MutableBufferSequence of one buffer.
class RecvBuffer {
  public:
    using value_type = boost::asio::mutable_buffer;
    using const_iterator = const boost::asio::mutable_buffer*;
    explicit RecvBuffer(boost::asio::mutable_buffer b) : b_(b) {}
    const_iterator begin() const { return &b_; }
    const_iterator end() const { return &b_ + 1; }
    boost::asio::mutable_buffer buffer() const { return b_; }

  private:
    boost::asio::mutable_buffer b_;
};

}  // namespace baton

#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) && !defined(BOOST_ASIO_WINDOWS)
#define BATON_RECV_BUFFER_DRAINS 1

namespace boost::asio::detail {

// Asio 1.81's reactive_socket_recv_op_base (detail/reactive_socket_recv_op.hpp) for RecvBuffer:
// the same, but a stream read that returned less than asked, with no FIN reported, is
// done_and_exhausted (Asio: only a read of 0 bytes), which turns off the speculative read until the
// reactor sees the socket ready again.
template <>
class reactive_socket_recv_op_base<baton::RecvBuffer> : public reactor_op {
  public:
    reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                                 socket_ops::state_type state, const baton::RecvBuffer& buffers,
                                 socket_base::message_flags flags, func_type complete_func)
        : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
          socket_(socket),
          state_(state),
          buffers_(buffers),
          flags_(flags) {}

    static status do_perform(reactor_op* base) {
        auto* o = static_cast<reactive_socket_recv_op_base*>(base);
        const auto b = o->buffers_.buffer();
        if ((o->state_ & socket_ops::stream_oriented) == 0) {  // (not a TCP socket: as Asio)
            return socket_ops::non_blocking_recv1(o->socket_, b.data(), b.size(), o->flags_, false,
                                                  o->ec_, o->bytes_transferred_)
                       ? done
                       : not_done;
        }
        const bool ready = socket_ops::non_blocking_recv1(o->socket_, b.data(), b.size(), o->flags_,
                                                          true, o->ec_, o->bytes_transferred_);
        if (!ready) return not_done;
        if (o->ec_ || o->bytes_transferred_ == 0) return done_and_exhausted;  // (as Asio)
        // Short read and no FIN reported: the socket is drained.
        return o->bytes_transferred_ < b.size() && !baton::detail::peer_closed(o->socket_)
                   ? done_and_exhausted
                   : done;
    }

  private:
    socket_type socket_;
    socket_ops::state_type state_;
    baton::RecvBuffer buffers_;
    socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif
