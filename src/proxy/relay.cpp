// Step 7 of the pipeline: relaying one upstream response (real or mock) to the client, or
// classifying it as a failure while the client has seen nothing yet.
#include <spdlog/spdlog.h>

#include <charconv>
#include <memory>

#include "baton/openai/error_envelope.hpp"
#include "baton/openai/sse.hpp"
#include "baton/pii/redact.hpp"
#include "baton/proxy/pipeline.hpp"
#include "baton/translate/anthropic_errors.hpp"
#include "context.hpp"
#include "stream_restorer.hpp"
#include "upstream_response.hpp"
#include "usage_filter.hpp"
#include "wire.hpp"

namespace baton::proxy {

namespace {

// Why a relayed stream ended early, for the client's SSE error event and the access log.
struct StreamFailure {
    Outcome outcome;
    Errc code;
    const char* log_code;  // access-log error_code
    std::string what;      // "stalled past the idle timeout", ...
};

StreamFailure read_failure(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) {
        return {Outcome::timeout_idle, Errc::upstream_timeout, "stream_idle_timeout",
                "stalled past the idle timeout"};
    }
    return {Outcome::stream_cut, Errc::upstream_protocol, "stream_cut", "failed: " + ec.message()};
}

}  // namespace

// The answer's head as the client will get it (the upstream's headers less the hop-by-hop ones
// and those Baton sets itself), and its content type.
struct RelayHead {
    server::ResponseHead h;
    std::string content_type;
    bool sse = false;          // an event stream
    bool wrong_shape = false;  // a 200 in the shape the request did not ask for
};

// Not a coroutine: reads the upstream head, then hands over to the coroutine for a complete
// body or for a stream (separate, so that the common case's coroutine frame stays small).
awaitable<Attempt> Pipeline::relay(RequestContext& ctx, UpstreamResponse& up,
                                   Clock::time_point deadline, Duration idle, UpstreamWire* wire) {
    RelayHead head{server::ResponseHead(up.status()), {}, false};
    for (const auto& f : up.headers()) {
        auto name = f.name;
        if (skip_upstream_header(name)) continue;
        // the caller's own key limits replace the provider's rate-limit headers
        if (!ctx.rate_headers.empty() && name.size() > 12 &&
            iequals(name.substr(0, 12), "x-ratelimit-")) {
            continue;
        }
        if (iequals(name, "content-type")) {
            head.content_type = f.value;
            if (f.value.starts_with("text/event-stream")) head.sse = true;
        }
        head.h.header(name, f.value);
    }
    // A success in the wrong shape (a plain body for a stream request, an event stream for a
    // plain one) cannot be relayed as an answer: its body is read whole and classified.
    head.wrong_shape = up.status() == 200 && head.sse != ctx.chat.stream;
    if (!ctx.chat.stream || up.status() >= 400 || head.wrong_shape) {
        return relay_whole(ctx, up, std::move(head), deadline, idle, wire);
    }
    return relay_stream(ctx, up, std::move(head), deadline, idle, wire);
}

// A complete body: error responses are classified (and maybe retried) before the client sees
// anything; successes are checked, then sent with the head in one write.
awaitable<Attempt> Pipeline::relay_whole(RequestContext& ctx, UpstreamResponse& up, RelayHead head,
                                         Clock::time_point deadline, Duration idle,
                                         UpstreamWire* wire) {
    const std::string& pname = ctx.provider->name;
    unsigned status = up.status();  // (a translated answer may change it)
    const bool sse = head.sse;
    std::string& content_type = head.content_type;
    server::ResponseHead& h = head.h;
    const bool wrong_shape = head.wrong_shape;
    auto cl = up.content_length();
    const bool success = status < 400 && !wrong_shape;
    const uint64_t limit = success ? kMaxUpstreamBody : kMaxErrorBody;
    auto too_large = [&] {
        up.abandon();
        return gateway_failure(Outcome::malformed, Errc::upstream_protocol,
                               "provider \"" + pname + "\" response body is larger than " +
                                   std::to_string(limit >> 20) + " MiB");
    };
    if (success && cl && *cl > limit) {
        co_return too_large();
    }
    std::string resp;
    size_t off = 0;
    boost::system::error_code rec;
    for (;;) {
        // exact size when framed by Content-Length, else growing in relay-sized steps
        size_t want = cl ? static_cast<size_t>(std::min<uint64_t>(*cl, limit)) - off
                         : std::min<size_t>(kRelayPiece, limit - off);
        if (want == 0) break;
        if (resp.size() < off + want) resp.resize(off + want);
        auto piece_now = up.read_body_now(resp.data() + off, want);
        if (!piece_now) {
            piece_now = co_await up.read_body(resp.data() + off, want, min_left(idle, deadline));
        }
        auto [ec, n] = *piece_now;
        if (ec || n == 0) {
            rec = ec;
            break;
        }
        off += n;
    }
    resp.resize(off);
    ctx.upstream_end = Clock::now();
    if (rec || (cl && off < std::min<uint64_t>(*cl, limit))) {
        up.abandon();
        auto f = read_failure(rec);
        co_return gateway_failure(f.outcome, f.code,
                                  "provider \"" + pname + "\" response body incomplete: " +
                                      (rec ? rec.message() : "connection closed"));
    }
    if (success && !up.done()) {  // chunked and past the limit
        co_return too_large();
    }
    up.finish();
    if (wire) {  // the provider's format → OpenAI's
        std::string why;
        if (!wire->translate_body(status, resp, why)) {
            co_return gateway_failure(Outcome::malformed, Errc::upstream_protocol,
                                      "provider \"" + pname + "\" answered 200 with " + why);
        }
        content_type = "application/json";
    }
    if (status >= 400) {
        Attempt a;
        a.outcome = classify_status(status, resp);
        a.anthropic_shape = ctx.passthrough;
        a.status = status;
        a.body = std::move(resp);
        a.content_type = content_type.empty() ? "application/json" : content_type;
        if (const auto* ra = http1::find(up.headers(), "retry-after")) {
            a.retry_after = parse_retry_after(ra->value);
        }
        co_return a;
    }
    if (wrong_shape || (status == 200 && malformed_success(content_type, resp))) {
        // A 200 that is not an answer in the shape asked for (an error object, an HTML page
        // from a proxy, a stream nobody asked for) is not passed off as one: retried or
        // fallen back like a malformed response.
        std::string what;
        if (wrong_shape && sse) {
            what = "an event stream to a non-streaming request";
        } else if (content_type.find("json") == std::string::npos) {
            what = "content type \"" + content_type + "\"";
        } else if (wrong_shape) {
            what = "a JSON body to a streaming request";
        } else {
            what = "an error body";
        }
        co_return gateway_failure(Outcome::malformed, Errc::upstream_protocol,
                                  "provider \"" + pname + "\" answered 200 with " + what);
    }
    ctx.status = status;
    if (ctx.pii_mapping) {  // put redacted values back (JSON-escaped)
        pii::Restorer restorer(*ctx.pii_mapping);
        std::string restored;
        restorer.feed(resp, restored);
        restorer.finish(restored);
        resp = std::move(restored);
    }
    ctx.have_usage = scan_answer_usage(resp, ctx.prompt_tokens, ctx.completion_tokens);
    h.header("x-request-id", ctx.request_id);
    h.raw(ctx.decision_headers);
    if (ctx.have_usage && status == 200) {
        ctx.cost_usd = request_cost(*ctx.model, ctx.prompt_tokens, ctx.completion_tokens);
        char cbuf[48];
        auto cr =
            std::to_chars(cbuf, cbuf + sizeof cbuf, ctx.cost_usd, std::chars_format::fixed, 9);
        h.header("x-baton-cost-usd", std::string_view(cbuf, static_cast<size_t>(cr.ptr - cbuf)));
    }
    if (ctx.anthropic_client && !ctx.passthrough) {  // OpenAI's completion → Anthropic's
        AnthropicClientWire cw(ctx.client_model);
        resp = cw.body(status, resp);
    }
    h.content_length(resp.size());
    auto hs = h.finish(ctx.out.keep_alive);
    if (!ctx.out.write_now(hs, resp)) co_await ctx.out.flush();
    if (ctx.out.client_gone()) ctx.status = 499;
    Attempt a;
    a.committed = true;
    co_return a;
}

// A stream: relayed event by event (see the comment below on the head and hold-back).
awaitable<Attempt> Pipeline::relay_stream(RequestContext& ctx, UpstreamResponse& up, RelayHead head,
                                          Clock::time_point deadline, Duration idle,
                                          UpstreamWire* wire) {
    const std::string& pname = ctx.provider->name;
    unsigned status = up.status();  // (a translated answer may change it)
    const bool sse = head.sse;
    server::ResponseHead& h = head.h;

    // Streamed relay. The head goes out together with the first piece (or, with a hold-back
    // window, with everything held), so a failure before that is still invisible to the client:
    // retried or fallen back by the caller.
    std::unique_ptr<char[]> piece(new char[kRelayPiece]);
    UsageFilter usage(ctx.inject_usage);
    std::optional<StreamRestorer> restorer;
    if (sse && ctx.pii_mapping) restorer.emplace(*ctx.pii_mapping);
    std::string restored;  // restorer output for the current piece
    auto restore = [&](std::string_view events) -> std::string_view {
        if (!restorer) return events;
        restored = restorer->process(events);
        return restored;
    };
    const config::RouteResilience* hb =
        ctx.route_resilience && ctx.route_resilience->holds_back() ? ctx.route_resilience : nullptr;
    std::string held;  // the hold-back window's bytes
    Clock::time_point held_since{};
    bool ended = false;  // the whole stream arrived within the hold-back window
    // Upstream bytes → (provider format → OpenAI) → usage filter → restorer.
    auto canonical = [&](std::string_view bytes) -> std::string_view {
        return restore(usage.feed(wire ? wire->feed(bytes) : bytes));
    };
    // OpenAI SSE → what the client speaks.
    std::optional<AnthropicClientWire> cw;
    if (ctx.anthropic_client && sse && !ctx.passthrough) cw.emplace(ctx.client_model);
    // The event that ends a failed stream, in the shape the client reads.
    auto stream_error = [&](const Error& e) {
        if (ctx.passthrough) return translate::anthropic_error_sse_event(e);
        return openai::error_sse_event(e) + std::string(openai::kSseDone);
    };
    auto to_client = [&](std::string_view bytes) -> std::string_view {
        return cw ? cw->stream(bytes) : bytes;
    };
    std::string_view first;
    for (;;) {
        auto piece_now = up.read_body_now(piece.get(), kRelayPiece);
        if (!piece_now) {
            piece_now = co_await up.read_body(piece.get(), kRelayPiece, min_left(idle, deadline));
        }
        auto [ec, n] = *piece_now;
        if (ec || n == 0) {
            ctx.upstream_end = Clock::now();
            if (!ec && up.done() && !held.empty()) {
                // The whole stream arrived within the hold-back window. Without its terminator
                // it is a failure the client has not seen yet: retried or fallen back.
                if (wire) held += restore(usage.feed(wire->finish()));
                if (!usage.saw_done()) {
                    up.abandon();
                    co_return gateway_failure(
                        Outcome::stream_cut, Errc::upstream_protocol,
                        "provider \"" + pname + "\" stream ended without its terminator");
                }
                ended = true;
                first = held;
                break;
            }
            up.abandon();
            if (!ec && up.done()) {
                // An empty stream is not an answer.
                co_return gateway_failure(Outcome::malformed, Errc::upstream_protocol,
                                          "provider \"" + pname + "\" sent an empty stream");
            }
            auto f = read_failure(ec);
            co_return gateway_failure(
                f.outcome, f.code,
                "provider \"" + pname + "\" stream failed before the first byte" +
                    (hb ? std::string(" reached the client") : std::string()) + ": " +
                    (ec ? ec.message() : "connection closed"));
        }
        std::string_view data(piece.get(), n);
        if (sse) {
            data = canonical(data);
            if (usage.malformed()) {
                up.abandon();
                co_return gateway_failure(
                    Outcome::malformed, Errc::upstream_protocol,
                    "provider \"" + pname + "\" sent a malformed stream event");
            }
        }
        if (!hb) {
            if (data.empty()) continue;
            first = data;
            break;
        }
        if (data.empty()) continue;  // (no complete event yet)
        if (held_since == Clock::time_point{}) held_since = Clock::now();
        held.append(data);
        if ((hb->hold_back_bytes > 0 && held.size() >= hb->hold_back_bytes) ||
            (hb->hold_back_time.count() > 0 && Clock::now() - held_since >= hb->hold_back_time)) {
            first = held;
            break;
        }
    }
    ctx.status = status;
    // time to first token is when the upstream produced it, not when a hold-back released it
    ctx.first_byte = held_since != Clock::time_point{} ? held_since : Clock::now();
    h.header("x-request-id", ctx.request_id);
    h.raw(ctx.decision_headers);
    h.chunked();
    auto hs = h.finish(ctx.out.keep_alive);
    Attempt committed;
    committed.committed = true;
    std::string_view first_out = to_client(first);  // (valid until the next to_client)
    if (!co_await ctx.out.write_head(hs) || !co_await ctx.out.write_chunk(first_out)) {
        up.abandon();
        ctx.status = 499;
        ctx.error_code = "client_closed";
        co_return committed;
    }
    ctx.out.watch_disconnect([&up] { up.cancel(); });
    bool clean_end = false;
    std::optional<StreamFailure> failure;
    for (;;) {
        boost::system::error_code ec;
        size_t n = 0;
        if (!ended) {
            auto [rec, rn] =
                co_await up.read_body(piece.get(), kRelayPiece, min_left(idle, deadline));
            ec = rec;
            n = rn;
        }
        if (ctx.out.client_gone()) break;
        if (ec) {
            failure = read_failure(ec);
            break;
        }
        if (n == 0) {
            ctx.upstream_end = Clock::now();
            if (sse) {
                std::string rest;
                if (wire && !ended) rest = restore(usage.feed(wire->finish()));  // OpenAI's
                // a last event without its blank line is completed (and checked) at EOF
                if (usage.pending()) rest += restore(usage.feed("\n\n"));
                if (restorer) rest += restorer->flush();
                if (!usage.saw_done()) {
                    // The upstream ended without its terminator: a truncated stream is never
                    // passed off as a clean end.
                    ctx.stream_cut = true;
                    ctx.error_code = "stream_cut";
                    spdlog::warn("request {}: stream from provider \"{}\" ended without [DONE]",
                                 ctx.request_id, pname);
                    if (wire && wire->failed()) {  // (a translator reported it already)
                        rest.append(openai::kSseDone);
                    } else {
                        rest += stream_error(make_error(Errc::upstream_protocol,
                                                        "upstream stream from provider \"" + pname +
                                                            "\" ended without its terminator"));
                    }
                }
                std::string out(to_client(rest));
                if (cw) out += cw->finish();
                co_await ctx.out.write_chunk(out);
            }
            clean_end = true;
            break;
        }
        std::string_view data(piece.get(), n);
        if (sse) {
            data = to_client(canonical(data));
            if (usage.malformed()) {
                // The valid events before the broken one still go out; then the error event.
                if (!data.empty()) co_await ctx.out.write_chunk(data);
                failure = StreamFailure{Outcome::malformed, Errc::upstream_protocol,
                                        "stream_malformed", "sent a malformed event"};
                break;
            }
        }
        if (!co_await ctx.out.write_chunk(data)) break;
    }
    if (failure && !ctx.out.client_gone()) {
        ctx.upstream_end = Clock::now();
        ctx.stream_cut = true;
        ctx.error_code = failure->log_code;
        spdlog::warn("request {}: stream from provider \"{}\" cut after {} bytes: {}",
                     ctx.request_id, pname, ctx.out.bytes_out(), failure->what);
        if (sse) {
            std::string ev;
            // the unfinished event (if any) is dropped, never glued to the error event
            if (failure->outcome != Outcome::malformed && restorer) ev = restorer->flush();
            if (!ev.empty() && !ev.ends_with("\n\n")) ev += "\n\n";
            ev += stream_error(make_error(
                failure->code, "upstream stream from provider \"" + pname + "\" " + failure->what));
            std::string out(to_client(ev));
            if (cw) out += cw->finish();
            co_await ctx.out.write_chunk(out);
            co_await ctx.out.write_last_chunk();
        } else {
            ctx.out.keep_alive = false;  // truncated body: the client must see the close
        }
    }
    if (usage.have_usage()) {
        ctx.have_usage = true;
        ctx.prompt_tokens = usage.prompt_tokens();
        ctx.completion_tokens = usage.completion_tokens();
        ctx.cost_usd = request_cost(*ctx.model, ctx.prompt_tokens, ctx.completion_tokens);
    }
    ctx.out.unwatch();
    if (ctx.out.client_gone()) {
        ctx.status = 499;
        ctx.error_code = "client_closed";
        up.abandon();
        co_return committed;
    }
    if (clean_end) {
        up.finish();
        co_await ctx.out.write_last_chunk();
        if (ctx.stream_cut) committed.outcome = Outcome::stream_cut;  // ended without [DONE]
    } else {
        committed.outcome = failure ? failure->outcome : Outcome::stream_cut;
        up.abandon();
    }
    co_return committed;
}

}  // namespace baton::proxy
