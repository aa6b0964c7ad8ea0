// send_now / buffers_after: the synchronous first attempt of every plain write.
#include "baton/core/send_now.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <string>

#include "unit/core/loopback_pair.hpp"

namespace baton {
namespace {

TEST(SendNow, BuffersAfterSkipsWholeAndPartialBuffers) {
    const std::string a = "head", b = "body-bytes", c = "\r\n";
    const std::array<asio::const_buffer, 3> bufs{asio::buffer(a), asio::buffer(b), asio::buffer(c)};
    std::array<asio::const_buffer, 8> out;
    EXPECT_EQ(buffers_after(bufs, 0, out), 3u);
    EXPECT_EQ(out[0].size(), 4u);
    ASSERT_EQ(buffers_after(bufs, 6, out), 2u);  // 2 bytes into "body-bytes"
    EXPECT_EQ(std::string(static_cast<const char*>(out[0].data()), out[0].size()), "dy-bytes");
    EXPECT_EQ(out[1].size(), 2u);
    EXPECT_EQ(buffers_after(bufs, 14, out), 1u);
    EXPECT_EQ(buffers_after(bufs, 16, out), 0u);
    EXPECT_EQ(buffer_bytes(bufs), 16u);
}

TEST(SendNow, SendsAtOnceAndReportsAFullSocketAsZeroNotAnError) {
    test::LoopbackPair p;
    auto& a = p.a;
    auto& b = p.b;
    a.non_blocking(true);

    const std::string head = "HTTP/1.1 200 OK\r\n\r\n", body = "hello";
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(body)};
    boost::system::error_code ec;
    EXPECT_EQ(send_now(a, bufs, ec), head.size() + body.size());
    EXPECT_FALSE(ec);
    std::string got(head.size() + body.size(), '\0');
    asio::read(b, asio::buffer(got));
    EXPECT_EQ(got, head + body);

    // Nobody reads b: the send buffers fill up, then send_now takes nothing and says so
    // without an error (the caller then waits for the socket).
    const std::string chunk(64 * 1024, 'x');
    const std::array<asio::const_buffer, 1> big{asio::buffer(chunk)};
    size_t sent = 0, rounds = 0;
    for (; rounds < 10000; ++rounds) {
        size_t n = send_now(a, big, ec);
        ASSERT_FALSE(ec) << ec.message();
        if (n == 0) break;
        sent += n;
    }
    EXPECT_LT(rounds, 10000u);
    EXPECT_GT(sent, 0u);

    // A closed peer is an error.
    b.close();
    for (int i = 0; i < 100 && !ec; ++i) send_now(a, big, ec);
    EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace baton
