#pragma once
// Which sockets' peers have closed their side: set by Asio's epoll reactor (our copy,
// src/asio/epoll_reactor.ipp) when epoll reports EPOLLRDHUP, cleared when a descriptor is
// registered; read by RecvBuffer reads (core/recv_buffer.hpp) to tell "a short read drained the
// socket" from "a FIN is still queued". Indexed by descriptor number; lock-free.
namespace baton::detail {

void note_peer_closed(int fd) noexcept;
void clear_peer_closed(int fd) noexcept;
// true also for descriptors beyond the table (the safe answer: keep reading)
bool peer_closed(int fd) noexcept;

}  // namespace baton::detail
