#pragma once
// Per-request state carried through the pipeline stages.
#include <map>
#include <optional>
#include <string>

#include "baton/auth/keys.hpp"
#include "baton/openai/chat_request.hpp"
#include "baton/pii/redact.hpp"
#include "baton/policy/engine.hpp"
#include "baton/proxy/resilience.hpp"
#include "baton/proxy/runtime.hpp"
#include "baton/ratelimit/budget.hpp"
#include "baton/ratelimit/limiter.hpp"
#include "baton/server/handler.hpp"

namespace baton::proxy {

// What one attempt at one candidate produced.
struct Attempt {
    Outcome outcome = Outcome::ok;
    bool committed = false;  // bytes reached the client: no retry or fallback after this
    unsigned status = 0;     // an upstream error response held back (when !committed)
    std::string body;
    std::string content_type;
    std::optional<Error> error;    // a gateway-made error (502/504) when no response came
    double retry_after = -1;       // upstream Retry-After in seconds (< 0: none)
    bool anthropic_shape = false;  // body is already Anthropic's (a passed-through error)
};

struct RequestContext {
    RequestContext(server::Request& r, server::Downstream& o) : req(r), out(o) {}
    server::Request& req;
    server::Downstream& out;
    std::shared_ptr<const Runtime> rt;  // pinned snapshot
    std::string request_id;
    std::string_view method;
    std::string_view path;
    bool api = false;                          // a /v1 API call (counted in request metrics)
    openai::Api api_kind = openai::Api::chat;  // chat, legacy completions or embeddings

    openai::ChatRequest chat;
    std::string_view model_asked;
    const config::Model* model = nullptr;
    size_t model_index = 0;
    const config::Provider* provider = nullptr;

    std::optional<auth::Principal> principal;  // the caller's virtual key, when one was given
    ratelimit::Ticket ticket;  // rate-limit admission, settled with real usage at the end
    std::optional<ratelimit::Hold> budget_hold;  // spend reserved at admission, settled at end
    std::string rate_headers;                    // x-ratelimit-* lines for the response
    std::vector<std::string> required_tags;      // from the key and from PII findings (`route`)
    std::map<std::string, uint32_t> pii_counts;  // class -> findings (for the audit log)
    std::optional<pii::Mapping> pii_mapping;     // placeholders -> values, when pii.restore is on
    std::string pii_action;         // strongest action taken: block > redact > route > allow
    std::string pii;                // classes found and what was done, e.g. "email=1:redact"
    std::string injection;          // prompt-injection signals (scores and rule ids, no text)
    std::string injection_header;   // "x-baton-injection: ...\r\n" when suspicious
    std::string route;              // route (or model) the plan used
    std::string variant;            // experiment variant, if any
    std::string decisive;           // what decided the choice: cost | latency | quality | ...
    std::string decision_headers;   // "x-baton-route: ...\r\n..." for the response head
    bool inject_usage = false;      // Baton asked the upstream for stream usage itself
    bool anthropic_client = false;  // POST /v1/messages: answers and errors in Anthropic's shape
    std::string anthropic_body;     // the client's own Messages body (for an Anthropic upstream)
    bool body_rewritten = false;    // PII redaction or strip_tools changed the canonical body
    bool passthrough = false;       // this attempt: Anthropic client → Anthropic upstream as is
    std::string client_model;       // the model the Anthropic client asked for (echoed back)
    const config::RouteResilience* route_resilience = nullptr;  // the route's, when routed
    double cost_usd = -1;                                       // < 0: unknown

    unsigned status = 0;
    bool stream = false;
    bool stream_cut = false;
    std::string error_code;       // Errc name or upstream class, for the access log
    std::string attempt_outcome;  // outcome class of the last attempt
    Clock::time_point upstream_start{};
    Clock::time_point upstream_end{};
    Clock::time_point first_byte{};
    bool have_usage = false;
    uint64_t prompt_tokens = 0;
    uint64_t completion_tokens = 0;
};

// Finds "prompt_tokens": N and "completion_tokens": N in a usage object (or Anthropic's
// "input_tokens" / "output_tokens" when those are absent). True if found.
bool scan_usage(std::string_view text, uint64_t& prompt, uint64_t& completion);
// The same for one complete JSON answer, which has one top-level "usage" object, near its end
// in every provider's format: searched from the end, the last occurrence counts.
bool scan_answer_usage(std::string_view answer, uint64_t& prompt, uint64_t& completion);
// Position of the first `a` at or after `from` that is followed by `b`, or npos (SSE2: 16
// positions per step).
size_t find_pair(std::string_view text, size_t from, char a, char b);
// Position of the last `a` before `end` that is followed by `b` (at an index below `end`), or
// npos.
size_t rfind_pair(std::string_view text, size_t end, char a, char b);

// The access-log line (JSON, no trailing newline). Never includes prompt text or secrets.
std::string access_log_line(const RequestContext& ctx, Clock::time_point end);

}  // namespace baton::proxy
