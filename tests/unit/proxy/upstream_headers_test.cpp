// Which upstream response headers the relay drops (hop-by-hop, or set by Baton itself).
#include <gtest/gtest.h>

#include "proxy/upstream_response.hpp"

namespace baton::proxy {
namespace {

TEST(UpstreamHeaders, HopByHopAndOwnHeadersAreDroppedInAnyCase) {
    for (const char* h :
         {"Connection", "keep-alive", "Transfer-Encoding", "Content-Length", "Proxy-Connection",
          "TE", "Trailer", "Upgrade", "X-Request-Id", "Set-Cookie", "Alt-Svc", "Server", "Date"}) {
        EXPECT_TRUE(skip_upstream_header(h)) << h;
    }
    for (const char* h : {"Content-Type", "openai-processing-ms", "x-ratelimit-remaining-tokens",
                          "Retry-After", "Cache-Control", "Dates", "tee", "x-request-ids", ""}) {
        EXPECT_FALSE(skip_upstream_header(h)) << h;
    }
}

}  // namespace
}  // namespace baton::proxy
