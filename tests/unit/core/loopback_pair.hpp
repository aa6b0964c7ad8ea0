#pragma once
// Two connected TCP sockets on 127.0.0.1 and their io_context, for unit tests of socket code.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "baton/core/asio.hpp"

namespace baton::test {

struct LoopbackPair {
    asio::io_context ioc;
    asio::ip::tcp::socket a{ioc}, b{ioc};
    LoopbackPair() {
        asio::ip::tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        a.connect(acc.local_endpoint());
        acc.accept(b);
        a.set_option(asio::ip::tcp::no_delay(true));
        b.set_option(asio::ip::tcp::no_delay(true));
    }
};

}  // namespace baton::test
