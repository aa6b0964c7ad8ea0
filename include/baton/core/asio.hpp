#pragma once
// The one place with Asio/Beast namespace aliases and the non-throwing completion token.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace boost::beast {}
namespace boost::beast::http {}

namespace baton {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

// co_await op(..., use_nothrow) yields a tuple (error_code, result...) instead of throwing.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

template <class T = void>
using awaitable = asio::awaitable<T>;
}  // namespace baton
