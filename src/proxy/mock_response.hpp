#pragma once
// The mock provider's response as an UpstreamResponse: OpenAI's shapes from providers/mock.hpp,
// timed by the mock's settings, and acting out a named fault (config::MockFault) when one is
// selected. It is relayed by the same code as a real upstream's response.
#include <boost/asio/steady_timer.hpp>
#include <vector>

#include "baton/providers/mock.hpp"
#include "baton/translate/anthropic_stream.hpp"
#include "upstream_response.hpp"

namespace baton::proxy {

class MockResponse final : public UpstreamResponse {
  public:
    struct Spec {
        const config::MockSettings* settings = nullptr;
        const config::MockFault* fault = nullptr;  // null: behave
        unsigned attempt_on_target = 1;            // picks the fault's status
        providers::MockPlan plan;                  // status (error_rate), token counts
        std::string_view model;
        std::string_view id;
        int64_t created = 0;
        bool stream = false;
        bool include_usage = false;  // stream: send the usage chunk
        // Wire format spoken (mock.format): openai, anthropic or gemini. Baton translates it
        // back like a real provider's, so routing across kinds can be tried without keys.
        config::ProviderKind format = config::ProviderKind::openai;
    };
    MockResponse(asio::any_io_executor ex, const Spec& spec);

    // Waits out the latency and a fault's stall before headers. A wait past `timeout` ends
    // with beast::error::timeout (like a silent upstream).
    awaitable<boost::system::error_code> start(Duration timeout);

    MockResponse(const MockResponse&) = delete;  // fields_ points into this object
    MockResponse& operator=(const MockResponse&) = delete;

    unsigned status() const override { return status_; }
    std::span<const http1::HeaderField> headers() const override { return fields_; }
    std::optional<uint64_t> content_length() const override { return content_length_; }
    bool chunked() const override { return !content_length_; }
    awaitable<std::pair<boost::system::error_code, size_t>> read_body(char* dst, size_t cap,
                                                                      Duration timeout) override;
    bool done() const override { return done_; }
    void finish() override {}
    void abandon() override { timer_.cancel(); }
    void cancel() override {
        cancelled_ = true;
        timer_.cancel();
    }

  private:
    // Sleeps `d`; false (after sleeping `timeout`) when d > timeout or when cancelled.
    awaitable<bool> sleep(Duration d, Duration timeout);
    // The next chunk of the body into pending_ (false: there is none).
    bool next_chunk();
    // An OpenAI-format body / stream event in spec_.format ("" when nothing is sent for it).
    std::string in_format(unsigned status, std::string body) const;
    std::string event_in_format(std::string_view openai_event);

    Spec spec_;
    asio::steady_timer timer_;
    unsigned status_ = 200;
    std::vector<http1::HeaderField> fields_;  // names are literals; values literals, config
    std::string retry_after_;                 // strings or this
    std::optional<uint64_t> content_length_;
    std::string pending_;  // bytes of the current chunk not delivered yet
    size_t pending_off_ = 0;
    uint32_t chunk_ = 0;        // chunks produced so far
    uint32_t chunk_count_ = 0;  // stream: mock chunks before [DONE]
    bool sent_done_ = false;
    bool stalled_ = false;
    bool malformed_sent_ = false;
    bool done_ = false;
    bool cancelled_ = false;
    bool first_piece_ = true;
    std::string body_;                                                  // plain response body
    std::unique_ptr<translate::OpenAIStreamToAnthropic> to_anthropic_;  // format anthropic
};

}  // namespace baton::proxy
