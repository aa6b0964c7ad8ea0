#include "baton/upstream/response_reader.hpp"

#include <boost/beast/http/error.hpp>

namespace baton::upstream {

ResponseReader::ResponseReader(Connection& conn, uint64_t body_limit) : conn_(conn) {
    parser_.body_limit(body_limit);
    parser_.header_limit(64 * 1024);
}

awaitable<boost::system::error_code> ResponseReader::read_head(Duration timeout) {
    auto& buf = conn_.buffer();
    auto deadline = Clock::now() + timeout;
    for (;;) {
        if (buf.size() > 0) {
            received_any_ = true;
            boost::system::error_code ec;
            size_t n = parser_.put(buf.data(), ec);
            buf.consume(n);
            if (!ec && parser_.is_header_done()) co_return ec;
            if (ec && ec != http::error::need_more) co_return ec;
        }
        auto left = deadline - Clock::now();
        if (left <= Duration::zero()) co_return beast::error::timeout;
        auto [ec, n] = co_await conn_.read_some(left);
        if (ec) {
            if (ec == asio::error::eof && received_any_) co_return http::error::partial_message;
            co_return ec;
        }
    }
}

awaitable<std::pair<boost::system::error_code, size_t>> ResponseReader::read_body(
    char* dst, size_t cap, Duration timeout) {
    auto& buf = conn_.buffer();
    for (;;) {
        if (parser_.is_done()) co_return std::pair{boost::system::error_code{}, size_t{0}};
        auto& body = parser_.get().body();
        body.data = dst;
        body.size = cap;
        boost::system::error_code ec;
        if (buf.size() > 0) {
            size_t used = parser_.put(buf.data(), ec);
            buf.consume(used);
            if (ec == http::error::need_buffer) ec = {};
            if (ec == http::error::need_more) ec = {};
            if (ec) co_return std::pair{ec, size_t{0}};
            size_t n = cap - body.size;
            if (n > 0 || parser_.is_done()) co_return std::pair{ec, n};
            if (used > 0) continue;  // consumed framing only (e.g. a chunk header): parse on
        }
        auto [rec, rn] = co_await conn_.read_some(timeout);
        if (rec == asio::error::eof) {
            // Body delimited by connection close: tell the parser.
            boost::system::error_code eec;
            parser_.put_eof(eec);
            if (eec) co_return std::pair{eec, size_t{0}};
            co_return std::pair{boost::system::error_code{}, size_t{0}};
        }
        if (rec) co_return std::pair{rec, size_t{0}};
    }
}

}  // namespace baton::upstream
