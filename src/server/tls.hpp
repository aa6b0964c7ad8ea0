#pragma once
// Private to the server part: one HTTPS connection on the listener (server.tls).
//
// The plain-TCP path never sees this type: Session is a template over the connection type and
// Downstream only tests one pointer per write (see downstream.hpp).
#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <string>

#include "baton/core/asio.hpp"
#include "baton/core/deadline.hpp"

namespace baton::server {

class Downstream;
using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

struct TlsConnection {
    // Takes ownership of `ssl` (made with SSL_new from the listener's context; it holds its own
    // reference to that context, so a reload never changes an established connection).
    TlsConnection(asio::ip::tcp::socket socket, SSL* ssl)
        : stream(std::move(socket), ssl),
          deadline(stream.next_layer()),
          watch_done(stream.get_executor()) {}
    TlsConnection(const TlsConnection&) = delete;
    TlsConnection& operator=(const TlsConnection&) = delete;

    asio::ip::tcp::socket& tcp() { return stream.next_layer(); }

    TlsStream stream;
    Deadline deadline;               // of the TCP socket under the TLS stream
    beast::flat_buffer read_buffer;  // the session's request buffer
    std::string write_scratch;       // a gather write coalesced into one TLS record

    // Disconnect watch. Under TLS a client that leaves sends a close_notify record before its
    // FIN, so peeking at the socket cannot tell a close from a pipelined request. Instead the
    // watch reads through the TLS stream while the response is written (asio's ssl::stream
    // allows one read and one write in flight at a time): an error or close_notify means the
    // client left; application data is kept in read_buffer for the next request. The read is
    // cancelled by unwatch(), and the session waits for it to end (watch_done) before it
    // reads again or destroys the stream.
    Downstream* watcher = nullptr;  // whom to tell; nullptr once unwatched
    bool watch_reading = false;     // the watch's read is in flight
    bool watch_cancelled = false;   // ... and was cancelled by unwatch()
    asio::steady_timer watch_done;  // cancelled when that read ends
};

}  // namespace baton::server
