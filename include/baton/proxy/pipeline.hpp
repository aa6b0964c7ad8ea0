#pragma once
// The request pipeline, in one place. One Pipeline per worker thread (it owns that worker's
// upstream pools, so nothing here takes a lock on the hot path).
//
// Life of a chat request (POST /v1/chat/completions):
//   server::Session   reads the request within limits (431, 413, 408) and calls handle()
//   1. pin            rt = the current Runtime snapshot (kept for the whole request)
//   2. request id     x-request-id from the client (sanitised) or generated
//   3. scan           openai::scan_chat_request(body): one pass, no DOM     → 400 + param
//   3a. auth          virtual key from Authorization / x-api-key → 401; model not allowed → 403;
//                     rpm / tpm / concurrency per key → 429 + Retry-After + x-ratelimit-*
//                     (the key itself is checked before dispatch, also for /admin/*)
//   3b. pii           classes found in message texts: block → 400, route → only candidates
//                     tagged pii.route_tag, redact → placeholders before forwarding
//   4. plan           policy::plan: route or model → rules → hard filters (context,
//                     capabilities, tags, price, ttft, deprecation) → scores (cost, live
//                     latency, quality for the complexity tier) → ranked candidates; 404 for an
//                     unknown name (lists models and routes), 422 when nothing qualifies
//   3c. injection     guard signals over message texts (when configured): flag / route /
//                     strip_tools / block
//   5. attempt loop   Pipeline::serve: candidates in plan order; providers without a key,
//                     failing their health check, and open breakers skipped (401 names the env
//                     var when nothing else is left); a route's resilience settings apply
//   6. forward        kind mock: a scripted MockResponse (latency, chunks, named faults)
//                     kind openai/azure: pool.acquire → write head + body with only "model"
//                     spliced → read response head (first_byte timeout)     → 502 / 504
//                     kind anthropic/gemini: body translated (wire.hpp), same I/O
//   7. relay          (relay.cpp) one path for mock and real responses, any wire format;
//                     non-stream: body read whole, sent with the head in one write
//                     stream: each upstream piece written as one chunk as it arrives (the next
//                     read starts after the write completes: backpressure); a client that
//                     disconnects closes the upstream connection; a failure after the first
//                     byte ends the stream with an SSE error event + [DONE], never a clean end
//   7b. on failure   (before the first byte) the outcome is classified (proxy/resilience.hpp) and
//                     the attempt retried (backoff with jitter, Retry-After, retry budget,
//                     deadline incl. x-baton-timeout-ms) or the next ranked candidate tried;
//                     open circuit breakers are skipped; x-baton-attempts/-fallback-from say so
//   8. finish         connection back to the pool only if the response was read completely;
//                     metrics; one access-log line (no prompt text, no keys)
// POST /v1/messages (Anthropic clients) enters at messages(): translated to an OpenAI request,
// then the same steps; answers, stream events and errors go back in Anthropic's shape.
// Every error response is produced by error_body_for (openai::error_body, or Anthropic's shape).
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "baton/core/error.hpp"
#include "baton/pii/scanner.hpp"
#include "baton/policy/engine.hpp"
#include "baton/proxy/resilience.hpp"
#include "baton/proxy/runtime.hpp"
#include "baton/server/handler.hpp"
#include "baton/upstream/pool.hpp"

namespace baton::proxy {

struct RequestContext;
struct Attempt;
class UpstreamResponse;
class UpstreamWire;
struct RelayHead;

class Pipeline final : public server::RequestHandler {
  public:
    Pipeline(asio::any_io_executor ex, SnapshotHolder& holder, ProcessState& process);
    ~Pipeline() override;

    awaitable<void> handle(server::Request& req, server::Downstream& out) override;
    awaitable<void> reject(unsigned status, std::string_view message,
                           server::Downstream& out) override;

    // Closes idle upstream connections past their idle timeout (called periodically).
    void sweep_pools();

  private:
    const Runtime& pin();
    upstream::Pool& pool_for(const Runtime& rt, size_t provider_index);
    awaitable<void> chat(RequestContext& ctx);
    awaitable<void> messages(RequestContext& ctx);
    awaitable<void> serve(RequestContext& ctx, const policy::Plan& plan);
    void use_candidate(RequestContext& ctx, const policy::Plan& plan, size_t model_index,
                       unsigned attempts, const std::string& fallback_from);
    awaitable<Attempt> forward(RequestContext& ctx, Clock::time_point deadline);
    awaitable<Attempt> mock(RequestContext& ctx, unsigned attempt_on_target,
                            Clock::time_point deadline);
    // Relays (or classifies) one upstream response; `wire` translates a non-OpenAI provider's.
    // A complete body goes through relay_whole, a stream through relay_stream.
    awaitable<Attempt> relay(RequestContext& ctx, UpstreamResponse& up, Clock::time_point deadline,
                             Duration idle, UpstreamWire* wire);
    awaitable<Attempt> relay_whole(RequestContext& ctx, UpstreamResponse& up, RelayHead head,
                                   Clock::time_point deadline, Duration idle, UpstreamWire* wire);
    awaitable<Attempt> relay_stream(RequestContext& ctx, UpstreamResponse& up, RelayHead head,
                                    Clock::time_point deadline, Duration idle, UpstreamWire* wire);
    metrics::Counter& attempt_counter(const std::string& provider, const std::string& model,
                                      Outcome o);
    metrics::Counter& retry_decision(std::string_view action);
    metrics::Counter& breaker_skips(const std::string& model);
    awaitable<void> admin_health(RequestContext& ctx);
    awaitable<void> admin_config(RequestContext& ctx);
    awaitable<void> admin_keys(RequestContext& ctx);
    awaitable<void> send_error(RequestContext& ctx, const Error& e);
    awaitable<void> admin(RequestContext& ctx);
    awaitable<bool> authenticate(RequestContext& ctx);
    std::optional<Error> apply_pii(RequestContext& ctx);
    std::optional<Error> apply_injection(RequestContext& ctx);
    std::optional<Error> keep_candidates_for_api(const RequestContext& ctx,
                                                 policy::Plan& plan) const;
    metrics::Counter& pii_counter(pii::Class cls, const char* action);
    awaitable<void> explain(RequestContext& ctx);
    policy::Plan make_plan(RequestContext& ctx, bool for_explain = false);
    using LabelView = std::pair<std::string_view, std::string_view>;
    metrics::Counter& counter(std::string_view name, std::string_view help,
                              std::initializer_list<LabelView> labels);
    metrics::Counter& decision_counter(const RequestContext& ctx);
    void record_latency(const RequestContext& ctx);
    void finish(RequestContext& ctx);

    asio::any_io_executor ex_;
    SnapshotHolder& holder_;
    ProcessState& process_;
    std::shared_ptr<const Runtime> rt_;  // this worker's cached snapshot
    uint64_t rt_gen_ = ~0ull;
    std::map<std::string, std::unique_ptr<upstream::Pool>> pools_;  // by ProviderRuntime::pool_key
    uint64_t rng_state_;
    std::unordered_map<std::string, metrics::Counter*> counters_;  // this worker's cache
    std::string key_buf_;  // reused lookup key (no allocation once warm)
    struct CounterMemo {
        metrics::Counter* cell = nullptr;
        std::string labels[4];
        Outcome outcome{};
    };
    CounterMemo decision_memo_, attempt_memo_;  // the last cell asked for (see pipeline.cpp)
    policy::ScanCache scan_cache_;              // stats of system prompts and history seen before
};

}  // namespace baton::proxy
