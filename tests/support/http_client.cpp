#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace baton::test {

namespace {

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
    if (left < 0) return 0;
    if (left > 60'000) return 60'000;
    return static_cast<int>(left);
}

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

std::string errno_text(int e) { return std::string(std::strerror(e)); }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
    for (const auto& h : headers) {
        if (iequals(h.name, name)) return h.value;
    }
    return std::nullopt;
}

size_t count_header(const Headers& headers, std::string_view name) {
    return static_cast<size_t>(std::count_if(
        headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); }));
}

// ---- Socket ---------------------------------------------------------------------------------

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

Socket Socket::connect(uint16_t port, Millis timeout, ConnectResult* result, std::string* error) {
    auto set = [&](ConnectResult r, std::string e) {
        if (result) *result = r;
        if (error) *error = std::move(e);
    };
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set(ConnectResult::error, "socket: " + errno_text(errno));
        return Socket{};
    }
    Socket s(fd);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        set(ConnectResult::connected, {});
        return s;
    }
    if (errno == ECONNREFUSED) {
        set(ConnectResult::refused, "connection refused");
        return Socket{};
    }
    if (errno != EINPROGRESS) {
        set(ConnectResult::error, "connect: " + errno_text(errno));
        return Socket{};
    }
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        pollfd p{fd, POLLOUT, 0};
        int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            set(ConnectResult::timeout, "connect timed out");
            return Socket{};
        }
        break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) {
        set(ConnectResult::connected, {});
        return s;
    }
    set(err == ECONNREFUSED ? ConnectResult::refused : ConnectResult::error,
        "connect: " + errno_text(err));
    return Socket{};
}

bool Socket::send_all(std::string_view data, Clock::time_point deadline, std::string* error) {
    while (!data.empty()) {
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd_, POLLOUT, 0};
            int r = ::poll(&p, 1, remaining_ms(deadline));
            if (r == 0) {
                if (error) *error = "send timed out";
                return false;
            }
            continue;
        }
        if (error) *error = "send: " + errno_text(errno);
        return false;
    }
    return true;
}

RecvStatus Socket::recv_some(std::string& out, Clock::time_point deadline, std::string* error) {
    char buf[16384];
    for (;;) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
            return RecvStatus::data;
        }
        if (n == 0) return RecvStatus::eof;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            pollfd p{fd_, POLLIN, 0};
            int r = ::poll(&p, 1, remaining_ms(deadline));
            if (r == 0) {
                if (error) *error = "receive timed out";
                return RecvStatus::timeout;
            }
            continue;
        }
        if (error) *error = "recv: " + errno_text(errno);
        return RecvStatus::error;
    }
}

bool Socket::read_until_closed(std::string& out, Clock::time_point deadline) {
    for (;;) {
        switch (recv_some(out, deadline)) {
            case RecvStatus::data:
                continue;
            case RecvStatus::eof:
            case RecvStatus::error:  // reset by peer counts as closed
                return true;
            case RecvStatus::timeout:
                return false;
        }
    }
}

void Socket::shutdown_write() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void Socket::reset() {
    if (fd_ < 0) return;
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
}

void Socket::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

ConnectResult try_connect(uint16_t port, Millis timeout) {
    ConnectResult r = ConnectResult::error;
    Socket s = Socket::connect(port, timeout, &r);
    return r;
}

uint16_t unused_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in a = loopback(0);
    uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port;
}

// ---- responses ------------------------------------------------------------------------------

std::string HttpResponse::describe() const {
    std::ostringstream ss;
    if (!ok) ss << "[incomplete: " << error << "] ";
    ss << "HTTP " << status << " " << reason << "\n";
    for (const auto& h : headers) ss << h.name << ": " << h.value << "\n";
    ss << "\n" << (body.size() > 2000 ? body.substr(0, 2000) + "..." : body);
    return ss.str();
}

namespace {

// Pulls more bytes into `buffer`; false when nothing more can come (eof, error, timeout).
bool fill(Socket* sock, std::string& buffer, Clock::time_point deadline, HttpResponse& r,
          Clock::time_point& last_arrival) {
    if (sock == nullptr || !sock->valid()) {
        r.error = "unexpected end of data";
        return false;
    }
    std::string err;
    switch (sock->recv_some(buffer, deadline, &err)) {
        case RecvStatus::data:
            last_arrival = Clock::now();
            return true;
        case RecvStatus::eof:
            r.error = "connection closed by peer";
            return false;
        case RecvStatus::timeout:
            r.error = "timed out";
            return false;
        case RecvStatus::error:
            r.error = err;
            return false;
    }
    return false;
}

bool parse_head(std::string_view head, HttpResponse& r) {
    size_t eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, eol);
    // HTTP/1.1 200 OK
    if (status_line.substr(0, 5) != "HTTP/") {
        r.error = "bad status line: " + std::string(status_line);
        return false;
    }
    size_t sp1 = status_line.find(' ');
    if (sp1 == std::string_view::npos || status_line.size() < sp1 + 4) {
        r.error = "bad status line: " + std::string(status_line);
        return false;
    }
    r.status =
        static_cast<unsigned>(std::atoi(std::string(status_line.substr(sp1 + 1, 3)).c_str()));
    if (status_line.size() > sp1 + 5) r.reason = std::string(status_line.substr(sp1 + 5));
    std::string_view rest = eol == std::string_view::npos ? "" : head.substr(eol + 2);
    while (!rest.empty()) {
        size_t e = rest.find("\r\n");
        std::string_view line = rest.substr(0, e);
        rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
        if (line.empty()) continue;
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            r.error = "bad header line: " + std::string(line);
            return false;
        }
        r.headers.push_back(
            {std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
    }
    return true;
}

}  // namespace

static HttpResponse read_response_impl(Socket* sock, std::string& buffer,
                                       Clock::time_point deadline, std::string_view method,
                                       const PieceCallback& on_piece) {
    HttpResponse r;
    Clock::time_point last_arrival = Clock::now();
    auto finish = [&](bool ok) {
        r.ok = ok;
        r.done_at = Clock::now();
        return r;
    };
    // Head.
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(sock, buffer, deadline, r, last_arrival)) return finish(false);
    }
    if (!parse_head(std::string_view(buffer).substr(0, head_end), r)) return finish(false);
    buffer.erase(0, head_end + 4);
    r.head_at = Clock::now();

    auto emit = [&](std::string bytes) -> bool {
        if (bytes.empty()) return true;
        r.body += bytes;
        r.pieces.push_back({std::move(bytes), last_arrival});
        if (on_piece && !on_piece(r.pieces.back(), r)) {
            r.stopped_by_client = true;
            if (sock) sock->close();
            return false;
        }
        return true;
    };

    const bool no_body =
        method == "HEAD" || r.status / 100 == 1 || r.status == 204 || r.status == 304;
    if (no_body) return finish(true);

    auto te = find_header(r.headers, "transfer-encoding");
    if (te && te->find("chunked") != std::string::npos) {
        r.chunked = true;
        for (;;) {
            size_t eol;
            while ((eol = buffer.find("\r\n")) == std::string::npos) {
                if (!fill(sock, buffer, deadline, r, last_arrival)) return finish(false);
            }
            std::string size_line = buffer.substr(0, eol);
            buffer.erase(0, eol + 2);
            size_t semi = size_line.find(';');
            if (semi != std::string::npos) size_line.resize(semi);
            char* endp = nullptr;
            unsigned long long size = std::strtoull(size_line.c_str(), &endp, 16);
            if (size_line.empty() || endp == size_line.c_str()) {
                r.error = "bad chunk size line: " + size_line;
                return finish(false);
            }
            if (size == 0) {
                // Trailer section: lines until an empty one.
                for (;;) {
                    while ((eol = buffer.find("\r\n")) == std::string::npos) {
                        if (!fill(sock, buffer, deadline, r, last_arrival)) return finish(false);
                    }
                    bool empty = eol == 0;
                    buffer.erase(0, eol + 2);
                    if (empty) return finish(true);
                }
            }
            unsigned long long left = size;
            while (left > 0) {
                if (buffer.empty() && !fill(sock, buffer, deadline, r, last_arrival)) {
                    return finish(false);
                }
                size_t take =
                    static_cast<size_t>(std::min<unsigned long long>(left, buffer.size()));
                std::string piece = buffer.substr(0, take);
                buffer.erase(0, take);
                left -= take;
                if (!emit(std::move(piece))) return finish(false);
            }
            while (buffer.size() < 2) {
                if (!fill(sock, buffer, deadline, r, last_arrival)) return finish(false);
            }
            if (buffer.compare(0, 2, "\r\n") != 0) {
                r.error = "chunk not followed by CRLF";
                return finish(false);
            }
            buffer.erase(0, 2);
        }
    }

    auto cl = find_header(r.headers, "content-length");
    if (cl) {
        unsigned long long left = std::strtoull(cl->c_str(), nullptr, 10);
        while (left > 0) {
            if (buffer.empty() && !fill(sock, buffer, deadline, r, last_arrival)) {
                return finish(false);
            }
            size_t take = static_cast<size_t>(std::min<unsigned long long>(left, buffer.size()));
            std::string piece = buffer.substr(0, take);
            buffer.erase(0, take);
            left -= take;
            if (!emit(std::move(piece))) return finish(false);
        }
        return finish(true);
    }

    // Delimited by close.
    for (;;) {
        if (!buffer.empty()) {
            std::string piece;
            piece.swap(buffer);
            if (!emit(std::move(piece))) return finish(false);
        }
        if (!fill(sock, buffer, deadline, r, last_arrival)) {
            bool eof =
                r.error == "connection closed by peer" || r.error == "unexpected end of data";
            if (eof) r.error.clear();
            return finish(eof);
        }
    }
}

HttpResponse read_response(Socket& sock, std::string& buffer, Clock::time_point deadline,
                           std::string_view method, const PieceCallback& on_piece) {
    return read_response_impl(&sock, buffer, deadline, method, on_piece);
}

HttpResponse parse_response(std::string_view raw, std::string_view method) {
    std::string buffer(raw);
    return read_response_impl(nullptr, buffer, Clock::now(), method, {});
}

// ---- requests -------------------------------------------------------------------------------

std::string build_request(uint16_t port, std::string_view method, std::string_view target,
                          std::string_view body, const Headers& headers) {
    std::string out;
    out.reserve(256 + body.size());
    out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    if (!find_header(headers, "host")) {
        out.append("Host: 127.0.0.1:").append(std::to_string(port)).append("\r\n");
    }
    const bool has_body = !body.empty() || method == "POST" || method == "PUT";
    if (has_body && !find_header(headers, "content-type")) {
        out.append("Content-Type: application/json\r\n");
    }
    if (has_body && !find_header(headers, "content-length") &&
        !find_header(headers, "transfer-encoding")) {
        out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    for (const auto& h : headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
    out.append("\r\n");
    out.append(body);
    return out;
}

HttpResponse http_request(uint16_t port, std::string_view method, std::string_view target,
                          std::string_view body, const Headers& headers, Millis timeout,
                          const PieceCallback& on_piece) {
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    HttpResponse r;
    std::string err;
    Socket sock = Socket::connect(port, timeout, nullptr, &err);
    if (!sock.valid()) {
        r.error = err;
        r.sent_at = r.done_at = Clock::now();
        return r;
    }
    std::string req = build_request(port, method, target, body, headers);
    if (!sock.send_all(req, deadline, &err)) {
        // The server may have answered (e.g. 413) and closed before reading everything: try to
        // read the answer anyway.
        std::string buffer;
        r = read_response(sock, buffer, deadline, method, on_piece);
        if (!r.ok) r.error = err + "; then " + r.error;
        r.sent_at = start;
        return r;
    }
    const auto sent = Clock::now();
    std::string buffer;
    r = read_response(sock, buffer, deadline, method, on_piece);
    r.sent_at = sent;
    return r;
}

HttpResponse http_post(uint16_t port, std::string_view target, std::string_view body,
                       const Headers& headers, Millis timeout) {
    return http_request(port, "POST", target, body, headers, timeout);
}

HttpResponse http_get(uint16_t port, std::string_view target, const Headers& headers,
                      Millis timeout) {
    return http_request(port, "GET", target, {}, headers, timeout);
}

HttpResponse http_stream(uint16_t port, std::string_view target, std::string_view body,
                         const Headers& headers, const PieceCallback& on_piece, Millis timeout) {
    return http_request(port, "POST", target, body, headers, timeout, on_piece);
}

RawExchange raw_exchange(uint16_t port, std::string_view bytes, Millis timeout) {
    RawExchange x;
    const auto deadline = Clock::now() + timeout;
    Socket sock = Socket::connect(port, timeout);
    if (!sock.valid()) return x;
    x.connected = true;
    sock.send_all(bytes, deadline, &x.sent_error);
    const auto sent = Clock::now();
    x.closed_by_peer = sock.read_until_closed(x.received, deadline);
    x.seconds = seconds_between(sent, Clock::now());
    return x;
}

}  // namespace baton::test
