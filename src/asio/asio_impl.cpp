// Separate compilation of Asio, Asio SSL and Beast: their non-template code is compiled here
// once instead of in every translation unit (BOOST_ASIO_SEPARATE_COMPILATION).
#include "baton/core/recv_buffer.hpp"  // BATON_RECV_BUFFER_DRAINS

#ifdef BATON_RECV_BUFFER_DRAINS
// Our copy of Asio 1.81's epoll reactor (EPOLLRDHUP noted for RecvBuffer reads), compiled in
// place of the original, which its include guard then skips.
#include "epoll_reactor.ipp"
#endif
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
