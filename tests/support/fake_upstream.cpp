#include "support/fake_upstream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace baton::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct FakeUpstream::Impl {
    std::optional<asio::ssl::context> ssl;
};

// ---- canned bodies --------------------------------------------------------------------------

Reply Reply::json(unsigned status, std::string body) {
    Reply r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

Reply Reply::sse(std::vector<SseChunk> chunks) {
    Reply r;
    r.stream = true;
    r.chunks = std::move(chunks);
    return r;
}

Reply Reply::hang_forever() {
    Reply r;
    r.hang = true;
    return r;
}

std::string chat_completion_body(std::string_view model, std::string_view content) {
    std::string out;
    out += R"({"id":"chatcmpl-fake-1","object":"chat.completion","created":1700000000,"model":")";
    out += model;
    out += R"(","choices":[{"index":0,"message":{"role":"assistant","content":")";
    out += content;
    out += R"("},"logprobs":null,"finish_reason":"stop"}],)";
    out += R"("usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})";
    return out;
}

std::vector<SseChunk> sse_chunks(const std::vector<std::string>& words, Millis delay) {
    const std::string prefix =
        R"({"id":"chatcmpl-fake-s","object":"chat.completion.chunk","created":1700000000,)"
        R"("model":"real-model-1","choices":[{"index":0,)";
    std::vector<SseChunk> out;
    out.push_back({"data: " + prefix + R"("delta":{"role":"assistant","content":""},)" +
                       R"("finish_reason":null}]})" + "\n\n",
                   Millis{0}});
    for (const auto& w : words) {
        out.push_back({"data: " + prefix + R"("delta":{"content":")" + w +
                           R"("},"finish_reason":null}]})" + "\n\n",
                       delay});
    }
    out.push_back({"data: " + prefix + R"("delta":{},"finish_reason":"stop"}]})" + "\n\n", delay});
    out.push_back({"data: [DONE]\n\n", delay});
    return out;
}

// ---- server ---------------------------------------------------------------------------------

FakeUpstream::FakeUpstream() : FakeUpstream(Tls{}) {}

FakeUpstream::FakeUpstream(Tls tls) : impl_(std::make_shared<Impl>()) {
    if (!tls.cert_file.empty()) {
        tls_ = true;
        impl_->ssl.emplace(asio::ssl::context::tls_server);
        impl_->ssl->use_certificate_chain_file(tls.cert_file);
        impl_->ssl->use_private_key_file(tls.key_file, asio::ssl::context::pem);
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("fake upstream: socket failed");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 128) != 0) {
        ::close(listen_fd_);
        throw std::runtime_error("fake upstream: bind/listen failed");
    }
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

FakeUpstream::~FakeUpstream() { stop(); }

std::string FakeUpstream::base_url() const {
    return (tls_ ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_) + "/v1";
}

void FakeUpstream::stop() {
    if (stopping_.exchange(true)) return;
    if (acceptor_.joinable()) acceptor_.join();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
    }
    {
        std::lock_guard lk(mu_);
        for (int fd : live_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    for (auto& t : workers_) {
        if (t.joinable()) t.join();
    }
}

void FakeUpstream::accept_loop() {
    while (!stopping_.load()) {
        pollfd p{listen_fd_, POLLIN, 0};
        int n = ::poll(&p, 1, 50);
        if (n <= 0) continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        size_t id;
        {
            std::lock_guard lk(mu_);
            id = ++accepted_;
            ++open_;
            live_fds_.insert(fd);
        }
        cv_.notify_all();
        workers_.emplace_back([this, fd, id] { serve(fd, id); });
    }
}

void FakeUpstream::enqueue(Reply r) {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(r));
}

void FakeUpstream::set_handler(Handler h) {
    std::lock_guard lk(mu_);
    handler_ = std::move(h);
}

size_t FakeUpstream::record(RecordedRequest req) {
    size_t idx;
    {
        std::lock_guard lk(mu_);
        exchanges_.push_back(Exchange{std::move(req), {}, {}, false, false, {}});
        idx = exchanges_.size() - 1;
    }
    cv_.notify_all();
    return idx;
}

Reply FakeUpstream::next_reply(const RecordedRequest& req) {
    Handler h;
    {
        std::lock_guard lk(mu_);
        if (!queue_.empty()) {
            Reply r = std::move(queue_.front());
            queue_.pop_front();
            return r;
        }
        h = handler_;
    }
    if (h) return h(req);
    return Reply::json(200, chat_completion_body("real-model-1"));
}

template <class F>
void FakeUpstream::update(size_t exchange_index, F&& f) {
    {
        std::lock_guard lk(mu_);
        f(exchanges_.at(exchange_index));
    }
    cv_.notify_all();
}

template <class Pred>
bool FakeUpstream::wait(Pred&& pred, Millis timeout) const {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return pred(); });
}

size_t FakeUpstream::connections_accepted() const {
    std::lock_guard lk(mu_);
    return accepted_;
}

size_t FakeUpstream::connections_open() const {
    std::lock_guard lk(mu_);
    return open_;
}

size_t FakeUpstream::request_count() const {
    std::lock_guard lk(mu_);
    return exchanges_.size();
}

size_t FakeUpstream::tls_handshake_failures() const {
    std::lock_guard lk(mu_);
    return handshake_failures_;
}

std::vector<Exchange> FakeUpstream::exchanges() const {
    std::lock_guard lk(mu_);
    return exchanges_;
}

Exchange FakeUpstream::exchange(size_t index) const {
    std::lock_guard lk(mu_);
    return exchanges_.at(index);
}

size_t FakeUpstream::peer_closed_mid_response_count() const {
    std::lock_guard lk(mu_);
    size_t n = 0;
    for (const auto& e : exchanges_) n += e.peer_closed_mid_response ? 1 : 0;
    return n;
}

bool FakeUpstream::wait_for_requests(size_t n, Millis timeout) const {
    return wait([&] { return exchanges_.size() >= n; }, timeout);
}

bool FakeUpstream::wait_for_connections(size_t n, Millis timeout) const {
    return wait([&] { return accepted_ >= n; }, timeout);
}

bool FakeUpstream::wait_for_peer_close(size_t i, Millis timeout) const {
    return wait([&] { return exchanges_.size() > i && exchanges_[i].peer_closed_mid_response; },
                timeout);
}

bool FakeUpstream::wait_for_response_complete(size_t i, Millis timeout) const {
    return wait([&] { return exchanges_.size() > i && exchanges_[i].response_complete; }, timeout);
}

bool FakeUpstream::wait_for_chunks_sent(size_t i, size_t n, Millis timeout) const {
    return wait([&] { return exchanges_.size() > i && exchanges_[i].chunk_sent_at.size() >= n; },
                timeout);
}

// ---- one connection -------------------------------------------------------------------------

namespace {

enum class Waited { elapsed, peer_closed, stopping };

// Waits `d` while watching for the peer to close (FIN or RST) and for stop().
Waited wait_watching_peer(int fd, Millis d, const std::atomic<bool>& stopping) {
    const auto deadline = Clock::now() + d;
    for (;;) {
        if (stopping.load()) return Waited::stopping;
        auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
        if (left <= 0) return Waited::elapsed;
        pollfd p{fd, POLLRDHUP, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 50)));
        if (n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return Waited::peer_closed;
    }
}

std::string response_head(const Reply& r, bool close) {
    std::string h = "HTTP/1.1 " + std::to_string(r.status) + " ";
    h += std::string(http::obsolete_reason(http::int_to_status(r.status)));
    h += "\r\n";
    if (r.stream) {
        if (!find_header(r.headers, "content-type")) h += "Content-Type: text/event-stream\r\n";
        h += "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n";
    } else {
        if (!find_header(r.headers, "content-type")) h += "Content-Type: application/json\r\n";
        h += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    }
    if (close) h += "Connection: close\r\n";
    for (const auto& x : r.headers) h += x.name + ": " + x.value + "\r\n";
    h += "\r\n";
    return h;
}

std::string frame_chunk(std::string_view bytes) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    std::string out = size;
    out.append(bytes);
    out.append("\r\n");
    return out;
}

}  // namespace

struct FakeSession {
    template <class Stream>
    static void run(FakeUpstream& self, Stream& s, int fd, size_t conn_id) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(256u << 20);
            parser.header_limit(1u << 20);
            beast::error_code ec;
            http::read(s, buffer, parser, ec);
            if (ec) return;  // eof, reset, stop, garbage
            auto& msg = parser.get();
            RecordedRequest req;
            req.connection = conn_id;
            req.method = std::string(msg.method_string());
            req.target = std::string(msg.target());
            for (const auto& f : msg) {
                req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
            }
            req.body = msg.body();
            req.received_at = Clock::now();
            const bool keep_alive = msg.keep_alive();
            Reply reply = self.next_reply(req);
            size_t idx = self.record(std::move(req));
            if (!respond(self, s, fd, idx, reply, !keep_alive || reply.close_after)) return;
            if (!keep_alive || reply.close_after) return;
        }
    }

    // False when the connection must not be used again.
    template <class Stream>
    static bool respond(FakeUpstream& self, Stream& s, int fd, size_t idx, const Reply& r,
                        bool close) {
        auto peer_closed = [&] {
            self.update(idx, [](Exchange& e) {
                e.peer_closed_mid_response = true;
                e.peer_closed_at = Clock::now();
            });
            return false;
        };
        auto write = [&](std::string_view bytes) {
            beast::error_code ec;
            asio::write(s, asio::buffer(bytes.data(), bytes.size()), ec);
            return !ec;
        };
        if (r.hang) {
            Waited w = wait_watching_peer(fd, std::chrono::hours(1), self.stopping_);
            if (w == Waited::peer_closed) return peer_closed();
            return false;
        }
        if (r.head_delay.count() > 0) {
            Waited w = wait_watching_peer(fd, r.head_delay, self.stopping_);
            if (w == Waited::peer_closed) return peer_closed();
            if (w == Waited::stopping) return false;
        }
        if (!r.stream) {
            if (!write(response_head(r, close) + r.body)) return peer_closed();
            self.update(idx, [](Exchange& e) {
                e.head_sent_at = Clock::now();
                e.response_complete = true;
            });
            return true;
        }
        if (!write(response_head(r, close))) return peer_closed();
        self.update(idx, [](Exchange& e) { e.head_sent_at = Clock::now(); });
        for (const auto& c : r.chunks) {
            if (c.delay.count() > 0) {
                Waited w = wait_watching_peer(fd, c.delay, self.stopping_);
                if (w == Waited::peer_closed) return peer_closed();
                if (w == Waited::stopping) return false;
            }
            if (c.bytes.empty()) continue;  // an empty chunk would end the body
            if (!write(frame_chunk(c.bytes))) return peer_closed();
            self.update(idx, [](Exchange& e) { e.chunk_sent_at.push_back(Clock::now()); });
        }
        if (r.abort_after_chunks) {
            linger l{1, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
            return false;  // the caller closes the socket: RST, no final chunk
        }
        if (!write("0\r\n\r\n")) return peer_closed();
        self.update(idx, [](Exchange& e) { e.response_complete = true; });
        return true;
    }
};

void FakeUpstream::serve(int fd, size_t conn_id) {
    asio::io_context ioc;
    tcp::socket sock(ioc);
    beast::error_code ec;
    sock.assign(tcp::v4(), fd, ec);
    const bool assigned = !ec;
    if (assigned) {
        if (impl_->ssl) {
            asio::ssl::stream<tcp::socket&> stream(sock, *impl_->ssl);
            stream.handshake(asio::ssl::stream_base::server, ec);
            if (ec) {
                std::lock_guard lk(mu_);
                ++handshake_failures_;
            } else {
                FakeSession::run(*this, stream, fd, conn_id);
            }
        } else {
            FakeSession::run(*this, sock, fd, conn_id);
        }
    }
    {
        std::lock_guard lk(mu_);
        live_fds_.erase(fd);
        --open_;
    }
    cv_.notify_all();
    if (assigned) {
        beast::error_code ignored;
        sock.close(ignored);
    } else {
        ::close(fd);  // assign failed: we still own the descriptor
    }
}

}  // namespace baton::test
