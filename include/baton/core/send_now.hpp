#pragma once
// Writing without a round trip through the event loop when the socket can take the bytes at
// once, which is nearly always for a response or an upstream request: the kernel send buffer
// is empty between requests. An async_write would do the same speculative send, but then post
// its completion and resume the coroutine from the scheduler (a queue push, an extra turn of
// the loop). The socket must be in non-blocking mode (socket.non_blocking(true)).
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <span>

#include "baton/core/asio.hpp"

namespace baton {

// Sends what the socket takes now; would-block is not an error (returns 0).
inline size_t send_now(asio::ip::tcp::socket& s, std::span<const asio::const_buffer> bufs,
                       boost::system::error_code& ec) {
    size_t n = s.write_some(bufs, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        n = 0;
    }
    return n;
}

inline size_t buffer_bytes(std::span<const asio::const_buffer> bufs) {
    size_t total = 0;
    for (const auto& b : bufs) total += b.size();
    return total;
}

// The buffers after the first `skip` bytes of `bufs`, in `out`; returns how many. `out` must
// have room for bufs.size() buffers.
template <size_t N>
size_t buffers_after(std::span<const asio::const_buffer> bufs, size_t skip,
                     std::array<asio::const_buffer, N>& out) {
    size_t k = 0;
    for (const auto& b : bufs) {
        if (skip >= b.size()) {
            skip -= b.size();
            continue;
        }
        out[k++] = b + skip;
        skip = 0;
    }
    return k;
}

}  // namespace baton
