#pragma once
// A scripted OpenAI-compatible upstream on 127.0.0.1:<ephemeral>, plain HTTP or TLS.
//
// One thread accepts; each connection gets its own thread doing blocking Beast reads, so the
// server honours keep-alive and pipelining-free HTTP/1.1 exactly like a real provider. Replies
// come from a queue (enqueue()), else from a handler (set_handler()), else a default
// chat.completion. Everything observed is recorded: accepted connections, each request (method,
// target, headers, body), when each SSE chunk was written, and whether the peer (the gateway)
// closed the connection before the response was complete.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/wait.hpp"

namespace baton::test {

struct SseChunk {
    std::string bytes;  // written as one HTTP chunk
    Millis delay{0};    // wait before writing it
};

struct Reply {
    unsigned status = 200;
    Headers headers;      // extra headers; Content-Type defaults to application/json
    std::string body;     // non-streaming body (Content-Length framed)
    bool stream = false;  // chunked text/event-stream made of `chunks`
    std::vector<SseChunk> chunks;
    Millis head_delay{0};             // wait before the response head
    bool hang = false;                // never answer: wait until the peer closes or stop
    bool abort_after_chunks = false;  // after `chunks`, reset the connection (no final chunk)
    bool close_after = false;         // "Connection: close" and close after the response

    static Reply json(unsigned status, std::string body);
    static Reply sse(std::vector<SseChunk> chunks);
    static Reply hang_forever();
};

struct RecordedRequest {
    size_t connection = 0;  // 1-based number of the accepted connection it came on
    std::string method;
    std::string target;
    Headers headers;
    std::string body;
    Clock::time_point received_at{};

    std::string header(std::string_view name) const {
        return find_header(headers, name).value_or("");
    }
    bool has_header(std::string_view name) const { return find_header(headers, name).has_value(); }
};

struct Exchange {
    RecordedRequest request;
    std::vector<Clock::time_point> chunk_sent_at;  // one per SSE chunk written
    Clock::time_point head_sent_at{};
    bool response_complete = false;
    bool peer_closed_mid_response = false;  // the gateway went away before we finished
    Clock::time_point peer_closed_at{};
};

// A default non-streaming chat.completion body with the given model name.
std::string chat_completion_body(std::string_view model, std::string_view content = "Hello!");
// "data: <json>\n\n" chat.completion.chunk events carrying `words`, then "data: [DONE]\n\n".
std::vector<SseChunk> sse_chunks(const std::vector<std::string>& words, Millis delay);

class FakeUpstream {
  public:
    struct Tls {
        std::string cert_file;  // PEM chain
        std::string key_file;   // PEM private key
    };

    FakeUpstream();                  // plain HTTP
    explicit FakeUpstream(Tls tls);  // HTTPS
    ~FakeUpstream();
    FakeUpstream(const FakeUpstream&) = delete;
    FakeUpstream& operator=(const FakeUpstream&) = delete;

    uint16_t port() const { return port_; }
    // http://127.0.0.1:PORT/v1, or https://localhost:PORT/v1 with TLS.
    std::string base_url() const;

    void enqueue(Reply r);
    using Handler = std::function<Reply(const RecordedRequest&)>;
    void set_handler(Handler h);

    size_t connections_accepted() const;
    size_t connections_open() const;
    size_t request_count() const;
    size_t tls_handshake_failures() const;
    std::vector<Exchange> exchanges() const;
    Exchange exchange(size_t index) const;  // index < request_count()
    size_t peer_closed_mid_response_count() const;

    bool wait_for_requests(size_t n, Millis timeout) const;
    bool wait_for_connections(size_t n, Millis timeout) const;
    bool wait_for_peer_close(size_t exchange_index, Millis timeout) const;
    bool wait_for_response_complete(size_t exchange_index, Millis timeout) const;
    bool wait_for_chunks_sent(size_t exchange_index, size_t n, Millis timeout) const;

    void stop();

  private:
    struct Impl;
    friend struct FakeSession;
    void accept_loop();
    void serve(int fd, size_t conn_id);
    size_t record(RecordedRequest req);  // returns the exchange index
    Reply next_reply(const RecordedRequest& req);
    template <class F>
    void update(size_t exchange_index, F&& f);  // mutate an exchange under the lock, notify
    template <class Pred>
    bool wait(Pred&& pred, Millis timeout) const;

    std::shared_ptr<Impl> impl_;
    uint16_t port_ = 0;
    bool tls_ = false;
    int listen_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::deque<Reply> queue_;
    Handler handler_;
    std::vector<Exchange> exchanges_;
    size_t accepted_ = 0;
    size_t open_ = 0;
    size_t handshake_failures_ = 0;
    std::set<int> live_fds_;
    std::list<std::thread> workers_;
};

}  // namespace baton::test
