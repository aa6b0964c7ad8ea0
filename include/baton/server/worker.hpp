#pragma once
// One worker thread: its own io_context, its own SO_REUSEPORT acceptor on the shared listen
// address, its own request handler (and through it its own upstream pools). Nothing on the
// request path is shared between workers except atomics (metrics, counters) and the config
// snapshot, so the hot path takes no locks.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <list>
#include <memory>
#include <string>

#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"
#include "baton/server/handler.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace baton::server {

struct Limits {
    uint32_t max_header_bytes = 16 * 1024;
    uint64_t max_body_bytes = 8ull << 20;
    Duration header_read = std::chrono::seconds(10);
    Duration idle = std::chrono::seconds(60);
    Duration write = std::chrono::seconds(60);  // one downstream write may stall this long
    uint32_t max_connections = 10'000;          // across all workers
};

class Worker {
  public:
    Worker(Limits limits, std::atomic<int64_t>& open_connections);
    ~Worker();

    asio::io_context& ioc() { return ioc_; }
    void set_handler(std::unique_ptr<RequestHandler> h) { handler_ = std::move(h); }
    RequestHandler& handler() { return *handler_; }

    // Binds (SO_REUSEPORT) and listens. Throws ConfigError on failure. Returns the bound port.
    uint16_t listen(const std::string& host, uint16_t port);
    // HTTPS (server.tls): connections accepted from now on handshake with `ctx`; nullptr means
    // plain HTTP. Before start() it is set at once; afterwards the swap is posted to the worker
    // (thread-safe), and established connections keep the context they started with.
    void set_tls(std::shared_ptr<ssl_ctx_st> ctx);
    void start();  // spawns the accept loop (call before run)
    void run();    // runs the io_context on the calling thread until stop()
    // Stop accepting; close idle keep-alive connections; busy ones close after their response.
    // Thread-safe (posts to the worker).
    void drain();
    void stop() { ioc_.stop(); }
    bool draining() const { return draining_.load(std::memory_order_relaxed); }
    int64_t active_sessions() const { return sessions_.load(std::memory_order_relaxed); }

    // Session bookkeeping (worker thread only).
    struct SessionState {
        asio::ip::tcp::socket* socket = nullptr;
        bool idle = true;  // waiting for the next request
    };
    std::list<SessionState>::iterator register_session(asio::ip::tcp::socket* s);
    void unregister_session(std::list<SessionState>::iterator it);
    const Limits& limits() const { return limits_; }

  private:
    awaitable<void> accept_loop();
    // The worker's io_context, which can destroy what is still pending on it (sessions and
    // requests cut short by a drain timeout) before the members they use are destroyed.
    class Context : public asio::io_context {
      public:
        using asio::io_context::io_context;
        void shutdown_now() { shutdown(); }
    };
    // One thread runs this context and only it touches the sockets (other threads post), so
    // the reactor skips its per-descriptor locks; the scheduler keeps its lock for posts.
    Context ioc_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    asio::ip::tcp::acceptor acceptor_{ioc_};
    std::unique_ptr<RequestHandler> handler_;
    Limits limits_;
    std::atomic<int64_t>& open_connections_;
    std::atomic<bool> draining_{false};
    std::atomic<int64_t> sessions_{0};
    std::list<SessionState> session_list_;
    std::shared_ptr<ssl_ctx_st> tls_ctx_;  // worker thread only once started
    bool started_ = false;                 // start() was called (main thread)
};

}  // namespace baton::server
