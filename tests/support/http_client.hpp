#pragma once
// A small blocking HTTP/1.1 client over plain POSIX sockets, for tests. Every operation has a
// deadline; nothing here can block forever. Responses are parsed by hand (status line, headers,
// Content-Length / chunked / close-delimited bodies) so the tests see exactly what was sent.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/wait.hpp"

namespace baton::test {

struct Header {
    std::string name;
    std::string value;
};
using Headers = std::vector<Header>;

bool iequals(std::string_view a, std::string_view b);
// First value of `name` (case-insensitive), if present.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);
size_t count_header(const Headers& headers, std::string_view name);

// ---- sockets --------------------------------------------------------------------------------

enum class ConnectResult { connected, refused, timeout, error };

enum class RecvStatus { data, eof, timeout, error };

// Move-only TCP socket to 127.0.0.1 (non-blocking underneath, every call bounded).
class Socket {
  public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket() { close(); }
    Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Socket& operator=(Socket&& o) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    // Connects to 127.0.0.1:port. `result` (optional) says why it failed.
    static Socket connect(uint16_t port, Millis timeout = 3s, ConnectResult* result = nullptr,
                          std::string* error = nullptr);

    bool valid() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    // Sends everything or fails (peer reset, deadline). Never raises SIGPIPE.
    bool send_all(std::string_view data, Clock::time_point deadline, std::string* error = nullptr);
    // Appends what is available (waiting until the deadline for at least one byte).
    RecvStatus recv_some(std::string& out, Clock::time_point deadline,
                         std::string* error = nullptr);
    // Reads until the peer closes (eof/reset) or the deadline passes; true if it closed.
    bool read_until_closed(std::string& out, Clock::time_point deadline);
    void shutdown_write();
    // Closes with an RST instead of a FIN (SO_LINGER 0).
    void reset();
    void close();

  private:
    int fd_ = -1;
};

// Tries one connection to 127.0.0.1:port and closes it at once.
ConnectResult try_connect(uint16_t port, Millis timeout = 1s);

// A port on 127.0.0.1 that nothing listens on (bound once by the kernel, then released).
uint16_t unused_port();

// ---- responses ------------------------------------------------------------------------------

struct BodyPiece {
    std::string bytes;          // decoded body bytes (chunk framing removed)
    Clock::time_point arrived;  // when the recv() that completed them returned
};

struct HttpResponse {
    bool ok = false;    // a complete response was read
    std::string error;  // transport problem when !ok
    unsigned status = 0;
    std::string reason;
    Headers headers;
    std::string body;  // the whole decoded body
    bool chunked = false;
    std::vector<BodyPiece> pieces;   // the body as it arrived, piece by piece
    bool stopped_by_client = false;  // the piece callback asked to stop; the socket was closed
    Clock::time_point sent_at{};     // request fully written
    Clock::time_point head_at{};     // response head parsed
    Clock::time_point done_at{};     // response complete (or failure)

    std::string header(std::string_view name) const {
        return find_header(headers, name).value_or("");
    }
    bool has_header(std::string_view name) const { return find_header(headers, name).has_value(); }
    double seconds() const { return seconds_between(sent_at, done_at); }
    std::string describe() const;  // for assertion messages
};

// Called for every decoded body piece; return false to close the connection at once.
using PieceCallback = std::function<bool(const BodyPiece& piece, const HttpResponse& so_far)>;

// Reads one response from `sock`. `buffer` holds bytes already received (and receives what is
// left over after the response). `method` matters for HEAD.
HttpResponse read_response(Socket& sock, std::string& buffer, Clock::time_point deadline,
                           std::string_view method = "GET", const PieceCallback& on_piece = {});

// ---- requests -------------------------------------------------------------------------------

// Serialises a request; Host and (when a body is given and none is set) Content-Type and
// Content-Length are added unless already present in `headers`.
std::string build_request(uint16_t port, std::string_view method, std::string_view target,
                          std::string_view body, const Headers& headers);

// One request on a fresh connection (closed afterwards).
HttpResponse http_request(uint16_t port, std::string_view method, std::string_view target,
                          std::string_view body = {}, const Headers& headers = {},
                          Millis timeout = 10s, const PieceCallback& on_piece = {});
HttpResponse http_post(uint16_t port, std::string_view target, std::string_view body,
                       const Headers& headers = {}, Millis timeout = 10s);
HttpResponse http_get(uint16_t port, std::string_view target, const Headers& headers = {},
                      Millis timeout = 10s);
// A POST whose body pieces are recorded with arrival times; on_piece may stop early.
HttpResponse http_stream(uint16_t port, std::string_view target, std::string_view body,
                         const Headers& headers = {}, const PieceCallback& on_piece = {},
                         Millis timeout = 15s);

// Sends raw bytes on a fresh connection and reads whatever comes back until the peer closes or
// the timeout passes.
struct RawExchange {
    bool connected = false;
    std::string sent_error;  // send failure (the peer may close before reading everything)
    std::string received;
    bool closed_by_peer = false;
    double seconds = 0;  // from the end of sending to close (or timeout)
};
RawExchange raw_exchange(uint16_t port, std::string_view bytes, Millis timeout = 5s);

// Parses the first response in raw bytes (e.g. RawExchange::received).
HttpResponse parse_response(std::string_view raw, std::string_view method = "GET");

}  // namespace baton::test
