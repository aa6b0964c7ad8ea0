#include "baton/core/recv_buffer.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace baton {

void enable_recv_hints(boost::asio::ip::tcp::socket& socket) {
#ifdef TCP_INQ
    const int one = 1;
    // (an old kernel refuses it: reads then simply get no hint)
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INQ, &one, sizeof one);
#else
    (void)socket;
#endif
}

namespace detail {

bool recv_with_hint(int fd, boost::asio::mutable_buffer b, int flags, boost::system::error_code& ec,
                    size_t& n, bool& drained) {
    iovec iov{b.data(), b.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    for (;;) {
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t r = ::recvmsg(fd, &msg, flags);
        if (r > 0) {
            ec = {};
            n = static_cast<size_t>(r);
#ifdef TCP_CM_INQ
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
                    int inq = 0;
                    std::memcpy(&inq, CMSG_DATA(c), sizeof inq);
                    // 0: nothing left and no FIN pending (with a FIN the kernel reports 1)
                    drained = inq == 0;
                }
            }
#endif
            return true;
        }
        if (r == 0) {
            ec = boost::asio::error::eof;
            n = 0;
            return true;
        }
        const int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) return false;
        ec = boost::system::error_code(err, boost::asio::error::get_system_category());
        n = 0;
        return true;
    }
}

}  // namespace detail
}  // namespace baton
