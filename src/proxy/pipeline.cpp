#include "baton/proxy/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <random>
#include <thread>

#include "baton/core/log.hpp"
#include "baton/openai/error_envelope.hpp"
#include "baton/openai/sse.hpp"
#include "baton/providers/mock.hpp"
#include "baton/upstream/response_reader.hpp"
#include "baton/policy/engine.hpp"
#include "context.hpp"
#include "usage_filter.hpp"
#include <nlohmann/json.hpp>

namespace baton::proxy {

namespace {

constexpr uint64_t kMaxUpstreamBody = 64ull << 20;  // non-stream response bodies read whole
constexpr size_t kRelayPiece = 16 * 1024;

struct GlobalMetrics {
    metrics::Histogram& overhead = metrics::global().histogram(
        "baton_gateway_overhead_seconds",
        "Time spent in the gateway itself: total latency minus upstream time.", {},
        metrics::overhead_buckets());
    metrics::Counter& bytes_in = metrics::global().counter(
        "baton_bytes_received_total", "Request bytes received from clients.");
    metrics::Counter& bytes_out =
        metrics::global().counter("baton_bytes_sent_total", "Response bytes sent to clients.");
    metrics::Counter& stream_cuts = metrics::global().counter(
        "baton_stream_cuts_total", "Streams that failed after the first byte was sent.");
    metrics::Counter& client_aborts = metrics::global().counter(
        "baton_client_aborts_total", "Requests whose client disconnected before the end.");
};

GlobalMetrics& gm() {
    static GlobalMetrics m;
    return m;
}

uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// A client-supplied request id is used when it is short and printable.
bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

// Upstream response headers not copied to the client (hop-by-hop or set by us).
bool skip_upstream_header(std::string_view name) {
    static constexpr std::string_view kSkip[] = {
        "connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection",
        "te", "trailer", "upgrade", "x-request-id", "set-cookie", "alt-svc", "server", "date"};
    for (auto s : kSkip) {
        if (iequals(name, s)) return true;
    }
    return false;
}

const char* errc_name(Errc c) {
    switch (c) {
        case Errc::invalid_json: return "invalid_json";
        case Errc::invalid_request: return "invalid_request";
        case Errc::unauthenticated: return "unauthenticated";
        case Errc::forbidden: return "forbidden";
        case Errc::not_found: return "not_found";
        case Errc::model_not_found: return "model_not_found";
        case Errc::method_not_allowed: return "method_not_allowed";
        case Errc::request_timeout: return "request_timeout";
        case Errc::payload_too_large: return "payload_too_large";
        case Errc::unprocessable: return "unprocessable";
        case Errc::rate_limited: return "rate_limited";
        case Errc::header_too_large: return "header_too_large";
        case Errc::upstream_connect: return "upstream_connect";
        case Errc::upstream_protocol: return "upstream_protocol";
        case Errc::upstream_timeout: return "upstream_timeout";
        case Errc::unavailable: return "unavailable";
        case Errc::provider_credentials_missing: return "provider_credentials_missing";
        case Errc::internal: return "internal";
    }
    return "internal";
}

Duration min_left(Duration a, Clock::time_point deadline) {
    auto left = deadline - Clock::now();
    if (left < Duration(1'000'000)) left = Duration(1'000'000);  // at least 1 ms
    return std::min(a, left);
}

// The policy engine's view of the request headers.
class BeastHeaders final : public policy::HeaderLookup {
public:
    explicit BeastHeaders(const http::request<http::string_body>& m) : m_(m) {}
    std::optional<std::string_view> get(std::string_view lower_name) const override {
        auto it = m_.find(lower_name);
        if (it == m_.end()) return std::nullopt;
        return it->value();
    }

private:
    const http::request<http::string_body>& m_;
};

int64_t today_days() {
    return std::chrono::duration_cast<std::chrono::days>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double request_cost(const config::Model& m, uint64_t prompt, uint64_t completion) {
    return (static_cast<double>(prompt) * m.price.input +
            static_cast<double>(completion) * m.price.output) /
           1e6;
}

}  // namespace

Pipeline::Pipeline(asio::any_io_executor ex, SnapshotHolder& holder, ProcessState& process)
    : ex_(std::move(ex)), holder_(holder), process_(process) {
    std::random_device rd;
    rng_state_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    gm();
}

Pipeline::~Pipeline() = default;

const Runtime& Pipeline::pin() {
    auto g = holder_.generation();
    if (g != rt_gen_) {
        rt_ = holder_.current();
        rt_gen_ = g;
    }
    return *rt_;
}

void Pipeline::sweep_pools() {
    auto now = Clock::now();
    for (auto& [k, p] : pools_) p->sweep(now);
}

upstream::Pool& Pipeline::pool_for(const Runtime& rt, size_t provider_index) {
    const auto& pr = rt.providers[provider_index];
    auto it = pools_.find(pr.pool_key);
    if (it != pools_.end()) return *it->second;
    const auto& p = rt.config->providers[provider_index];
    auto& reg = metrics::global();
    upstream::PoolMetrics m;
    const char* help = "Upstream connections by provider and state.";
    m.active = &reg.gauge("baton_upstream_connections", help, {{"provider", p.name}, {"state", "active"}});
    m.idle = &reg.gauge("baton_upstream_connections", help, {{"provider", p.name}, {"state", "idle"}});
    m.opened = &reg.counter("baton_upstream_connections_opened_total",
                            "Upstream connections opened.", {{"provider", p.name}});
    m.reused = &reg.counter("baton_upstream_connections_reused_total",
                            "Requests sent on a pooled keep-alive connection.", {{"provider", p.name}});
    m.discarded = &reg.counter("baton_upstream_connections_discarded_total",
                               "Upstream connections closed instead of pooled.",
                               {{"provider", p.name}});
    unsigned threads = rt.config->server.threads == 0 ? std::max(1u, std::thread::hardware_concurrency())
                                                      : rt.config->server.threads;
    uint32_t cap = (p.max_connections + threads - 1) / threads;
    auto pool = std::make_unique<upstream::Pool>(ex_, pr.origin, cap, p.pool_idle, m);
    auto& ref = *pool;
    pools_.emplace(pr.pool_key, std::move(pool));
    return ref;
}

awaitable<void> Pipeline::reject(unsigned status, std::string_view message,
                                 server::Downstream& out) {
    Errc code = status == 431   ? Errc::header_too_large
                : status == 413 ? Errc::payload_too_large
                : status == 408 ? Errc::request_timeout
                                : Errc::invalid_request;
    auto body = openai::error_body(make_error(code, std::string(message)));
    out.keep_alive = false;
    co_await out.send(status, "application/json", {}, body);
}

awaitable<void> Pipeline::send_error(RequestContext& ctx, const Error& e) {
    auto info = openai::error_info(e.code);
    ctx.status = info.status;
    ctx.error_code = errc_name(e.code);
    if (ctx.out.committed()) co_return;
    std::string extra = "x-request-id: " + ctx.request_id + "\r\n";
    if (e.code == Errc::method_not_allowed) extra += "Allow: POST\r\n";
    co_await ctx.out.send(info.status, "application/json", extra, openai::error_body(e));
}

awaitable<void> Pipeline::handle(server::Request& req, server::Downstream& out) {
    RequestContext ctx{req, out};
    ctx.rt = (pin(), rt_);
    req.bytes_in = req.msg.body().size();
    auto target = req.msg.target();
    auto q = target.find('?');
    ctx.path = target.substr(0, q);
    ctx.method = req.msg.method_string();

    auto rid = req.msg["x-request-id"];
    if (acceptable_request_id(rid)) {
        ctx.request_id.assign(rid.data(), rid.size());
    } else {
        char buf[40];
        std::snprintf(buf, sizeof buf, "req_%016llx%08llx",
                      static_cast<unsigned long long>(splitmix64(rng_state_)),
                      static_cast<unsigned long long>(splitmix64(rng_state_) & 0xffffffffull));
        ctx.request_id = buf;
    }

    if (ctx.path == "/v1/chat/completions" || ctx.path == "/chat/completions") {
        ctx.api = true;
        if (req.msg.method() != http::verb::post) {
            co_await send_error(ctx, make_error(Errc::method_not_allowed,
                                                "method " + std::string(ctx.method) +
                                                    " not allowed on " + std::string(ctx.path) +
                                                    "; use POST"));
        } else {
            co_await chat(ctx);
        }
    } else if (ctx.path == "/v1/route/explain") {
        ctx.api = true;
        if (req.msg.method() != http::verb::post) {
            co_await send_error(ctx, make_error(Errc::method_not_allowed,
                                                "method " + std::string(ctx.method) +
                                                    " not allowed on /v1/route/explain; use POST"));
        } else {
            co_await explain(ctx);
        }
    } else {
        co_await admin(ctx);
    }
    finish(ctx);
}

awaitable<void> Pipeline::admin(RequestContext& ctx) {
    const auto& rt = *ctx.rt;
    auto path = ctx.path;
    bool get = ctx.req.msg.method() == http::verb::get || ctx.req.msg.method() == http::verb::head;
    auto only_get = [&]() -> Error {
        return make_error(Errc::method_not_allowed, "method " + std::string(ctx.method) +
                                                        " not allowed on " + std::string(path) +
                                                        "; use GET");
    };
    std::string extra = "x-request-id: " + ctx.request_id + "\r\n";
    if (path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/v1/models" ||
        path == "/models") {
        if (!get) {
            ctx.status = 405;
            std::string e = "x-request-id: " + ctx.request_id + "\r\nAllow: GET\r\n";
            auto body = openai::error_body(only_get());
            co_await ctx.out.send(405, "application/json", e, body);
            co_return;
        }
        if (path == "/healthz") {
            ctx.status = 200;
            co_await ctx.out.send(200, "application/json", extra, "{\"status\":\"ok\"}");
        } else if (path == "/readyz") {
            bool draining = process_.draining.load(std::memory_order_relaxed);
            ctx.status = draining ? 503 : 200;
            co_await ctx.out.send(ctx.status, "application/json", extra,
                                  draining ? "{\"status\":\"draining\"}" : "{\"status\":\"ready\"}");
        } else if (path == "/metrics") {
            ctx.status = 200;
            auto text = metrics::global().render();
            co_await ctx.out.send(200, "text/plain; version=0.0.4; charset=utf-8", extra, text);
        } else {
            ctx.api = true;
            ctx.status = 200;
            co_await ctx.out.send(200, "application/json", extra, rt.models_json);
        }
        co_return;
    }
    co_await send_error(ctx, make_error(Errc::not_found,
                                        "unknown path " + std::string(path) +
                                            " (this gateway serves POST /v1/chat/completions, "
                                            "GET /v1/models, /healthz, /readyz, /metrics)"));
}

awaitable<void> Pipeline::chat(RequestContext& ctx) {
    auto body = std::string_view(ctx.req.msg.body());
    auto scanned = openai::scan_chat_request(body);
    if (!scanned) {
        co_await send_error(ctx, scanned.error());
        co_return;
    }
    ctx.chat = std::move(*scanned);
    ctx.model_asked = ctx.chat.model;
    ctx.stream = ctx.chat.stream;
    const auto& cfg = *ctx.rt->config;
    auto plan = make_plan(ctx);
    if (!plan.ok()) {
        co_await send_error(ctx, *plan.error);
        co_return;
    }
    const auto& chosen = *plan.chosen();
    ctx.model_index = chosen.model_index;
    const config::Model* m = &cfg.models[chosen.model_index];
    ctx.route = plan.route;
    ctx.variant = plan.variant;
    ctx.decisive = plan.decisive;
    for (const auto& [k, v] : policy::decision_headers(plan, cfg)) {
        ctx.decision_headers.append(k).append(": ").append(v).append("\r\n");
    }
    for (const auto& d : plan.deprecations) {
        const auto& dm = cfg.models[d.model_index];
        log::warn_once("deprecated:" + dm.name,
                       "model \"" + dm.name + "\" is deprecated since " + d.after +
                           (d.replacement ? "; requests go to \"" + cfg.models[*d.replacement].name + "\""
                                          : std::string("")));
    }
    ctx.model = m;
    ctx.provider = &cfg.providers[m->provider_index];
    decision_counter(ctx).inc();
    if (ctx.provider->api_key_missing) {
        co_await send_error(
            ctx, make_error(Errc::provider_credentials_missing,
                            "provider \"" + ctx.provider->name + "\" has no API key: " +
                                ctx.provider->api_key_missing_reason +
                                ". Set it and reload or restart baton."));
        co_return;
    }
    if (ctx.provider->kind == config::ProviderKind::mock) {
        co_await mock(ctx);
    } else {
        co_await forward(ctx);
    }
}

awaitable<void> Pipeline::forward(RequestContext& ctx) {
    const auto& prov = *ctx.provider;
    const auto& pr = ctx.rt->providers[ctx.model->provider_index];
    auto& pool = pool_for(*ctx.rt, ctx.model->provider_index);
    const auto& to = prov.timeouts;
    auto deadline = Clock::now() + to.total;

    // The forwarded body is the client's bytes with only the model value replaced (and, for a
    // stream whose client did not ask for usage, stream_options.include_usage added before the
    // closing brace so that tokens and cost can be accounted; that chunk is stripped again).
    std::string_view body = ctx.req.msg.body();
    auto mv = ctx.chat.model_value;
    std::string_view pre = body.substr(0, mv.begin);
    std::string_view post = body.substr(mv.end);
    std::string_view tail;
    static constexpr std::string_view kInject = ",\"stream_options\":{\"include_usage\":true}";
    std::string_view inject;
    if (ctx.chat.stream && !ctx.chat.has_stream_options) {
        auto close = post.find_last_of('}');
        if (close != std::string_view::npos) {
            ctx.inject_usage = true;
            tail = post.substr(close);
            post = post.substr(0, close);
            inject = kInject;
        }
    }
    const std::string& model_json = ctx.rt->upstream_model_json[ctx.model_index];
    size_t clen = pre.size() + model_json.size() + post.size() + inject.size() + tail.size();
    std::string head;
    head.reserve(pr.chat_head_prefix.size() + 96);
    head.append(pr.chat_head_prefix);
    head.append("Content-Length: ").append(std::to_string(clen)).append("\r\n");
    head.append("x-request-id: ").append(ctx.request_id).append("\r\n\r\n");
    std::array<asio::const_buffer, 6> bufs{asio::buffer(head),       asio::buffer(pre),
                                           asio::buffer(model_json), asio::buffer(post),
                                           asio::buffer(inject),     asio::buffer(tail)};

    upstream::Lease lease;
    std::optional<upstream::ResponseReader> reader;
    for (int attempt = 0;; ++attempt) {
        auto [aec, l] = co_await pool.acquire(deadline, to.connect, attempt > 0);
        if (aec) {
            if (aec == asio::error::timed_out || aec == beast::error::timeout) {
                co_await send_error(ctx, make_error(Errc::upstream_timeout,
                                                    "timed out connecting to provider \"" +
                                                        prov.name + "\" (" + pr.origin.key() + ")"));
            } else {
                co_await send_error(ctx, make_error(Errc::upstream_connect,
                                                    "cannot connect to provider \"" + prov.name +
                                                        "\" (" + pr.origin.key() +
                                                        "): " + aec.message()));
            }
            co_return;
        }
        lease = std::move(l);
        ctx.upstream_start = Clock::now();
        auto wec = co_await lease->write(bufs, min_left(to.first_byte, deadline));
        if (!wec) {
            reader.emplace(*lease, kMaxUpstreamBody);
            wec = co_await reader->read_head(min_left(to.first_byte, deadline));
            if (!wec) break;
        }
        bool stale_reuse = lease.reused() && attempt == 0 && (!reader || !reader->received_any()) &&
                           wec != beast::error::timeout;
        lease.discard();
        reader.reset();
        if (stale_reuse) continue;  // the server closed an idle keep-alive connection
        if (wec == beast::error::timeout) {
            co_await send_error(ctx, make_error(Errc::upstream_timeout,
                                                "provider \"" + prov.name +
                                                    "\" sent no response within the first_byte "
                                                    "timeout"));
        } else {
            co_await send_error(ctx, make_error(Errc::upstream_protocol,
                                                "provider \"" + prov.name +
                                                    "\" failed: " + wec.message()));
        }
        co_return;
    }

    auto& rd = *reader;
    ctx.status = rd.status();
    const auto& uh = rd.head();
    bool sse = false;
    server::ResponseHead h(ctx.status);
    for (const auto& f : uh) {
        auto name = f.name_string();
        if (skip_upstream_header(name)) continue;
        if (iequals(name, "content-type") && f.value().starts_with("text/event-stream")) sse = true;
        h.header(name, f.value());
    }
    h.header("x-request-id", ctx.request_id);
    h.raw(ctx.decision_headers);
    if (ctx.status >= 400) ctx.error_code = "upstream_status_" + std::to_string(ctx.status);

    auto cl = rd.content_length();
    if (!sse && !rd.chunked() && cl && *cl <= kMaxUpstreamBody) {
        // Complete body, sent with the head in one write.
        std::string resp;
        resp.resize(*cl);
        size_t off = 0;
        while (off < *cl) {
            auto [ec, n] = co_await rd.read_body(resp.data() + off, *cl - off,
                                                 min_left(to.idle, deadline));
            if (ec || n == 0) {
                lease.discard();
                ctx.upstream_end = Clock::now();
                co_await send_error(ctx, make_error(ec == beast::error::timeout
                                                        ? Errc::upstream_timeout
                                                        : Errc::upstream_protocol,
                                                    "provider \"" + prov.name +
                                                        "\" response body incomplete: " +
                                                        (ec ? ec.message() : "connection closed")));
                co_return;
            }
            off += n;
        }
        ctx.upstream_end = Clock::now();
        if (rd.done() && rd.keep_alive()) {
            lease.release_clean();
        } else {
            lease.discard();
        }
        ctx.have_usage = scan_usage(resp, ctx.prompt_tokens, ctx.completion_tokens);
        if (ctx.have_usage && ctx.status == 200) {
            ctx.cost_usd = request_cost(*ctx.model, ctx.prompt_tokens, ctx.completion_tokens);
            char cbuf[32];
            std::snprintf(cbuf, sizeof cbuf, "%.9f", ctx.cost_usd);
            h.header("x-baton-cost-usd", cbuf);
        }
        h.content_length(resp.size());
        auto hs = h.finish(ctx.out.keep_alive);
        co_await ctx.out.write_head_and_body(hs, resp);
        if (ctx.out.client_gone()) ctx.status = 499;
        co_return;
    }

    // Streamed relay: one downstream chunk per upstream piece, in arrival order.
    h.chunked();
    auto hs = h.finish(ctx.out.keep_alive);
    if (!co_await ctx.out.write_head(hs)) {
        lease.discard();
        ctx.status = 499;
        co_return;
    }
    auto* conn = &*lease;
    ctx.out.watch_disconnect([conn] { conn->close(); });
    std::unique_ptr<char[]> piece(new char[kRelayPiece]);
    UsageFilter usage(ctx.inject_usage);
    bool clean_end = false;
    for (;;) {
        auto [ec, n] = co_await rd.read_body(piece.get(), kRelayPiece, min_left(to.idle, deadline));
        if (ctx.out.client_gone()) break;
        if (ec) {
            ctx.upstream_end = Clock::now();
            ctx.stream_cut = true;
            ctx.error_code = ec == beast::error::timeout ? "stream_idle_timeout" : "stream_cut";
            spdlog::warn("request {}: stream from provider \"{}\" cut after {} bytes: {}",
                         ctx.request_id, prov.name, ctx.out.bytes_out(), ec.message());
            if (sse) {
                std::string ev(usage.flush());
                ev += openai::error_sse_event(make_error(
                    ec == beast::error::timeout ? Errc::upstream_timeout : Errc::upstream_protocol,
                    "upstream stream from provider \"" + prov.name + "\" " +
                        (ec == beast::error::timeout ? "stalled past the idle timeout"
                                                     : "failed: " + ec.message())));
                ev.append(openai::kSseDone);
                co_await ctx.out.write_chunk(ev);
                co_await ctx.out.write_last_chunk();
            } else {
                ctx.out.keep_alive = false;  // truncated body: the client must see the close
            }
            break;
        }
        if (n == 0) {
            ctx.upstream_end = Clock::now();
            clean_end = true;
            if (sse) co_await ctx.out.write_chunk(usage.flush());
            break;
        }
        if (ctx.first_byte == Clock::time_point{}) ctx.first_byte = Clock::now();
        std::string_view data(piece.get(), n);
        if (sse) data = usage.feed(data);
        if (!co_await ctx.out.write_chunk(data)) break;
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
        lease.discard();
        co_return;
    }
    if (clean_end) {
        if (rd.keep_alive()) {
            lease.release_clean();
        } else {
            lease.discard();
        }
        co_await ctx.out.write_last_chunk();
    } else {
        lease.discard();
    }
}

awaitable<void> Pipeline::mock(RequestContext& ctx) {
    const auto& ms = ctx.provider->mock;
    double draw = static_cast<double>(splitmix64(rng_state_) >> 11) * 0x1.0p-53;
    auto plan = providers::mock_plan(ms, ctx.chat, ctx.req.msg.body(), draw, splitmix64(rng_state_));
    ctx.upstream_start = Clock::now();
    asio::steady_timer timer(ex_);
    if (ms.latency.count() > 0) {
        timer.expires_after(ms.latency);
        co_await timer.async_wait(use_nothrow);
    }
    if (plan.status != 200) {
        ctx.upstream_end = Clock::now();
        ctx.status = static_cast<unsigned>(plan.status);
        ctx.error_code = "upstream_status_" + std::to_string(plan.status);
        std::string extra = "x-request-id: " + ctx.request_id + "\r\n" + ctx.decision_headers;
        co_await ctx.out.send(ctx.status, "application/json", extra,
                              providers::mock_error_body(plan.status));
        co_return;
    }
    auto id = ctx.request_id;
    int64_t created = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    const std::string& model_name = ctx.model->upstream_model;
    ctx.status = 200;
    ctx.have_usage = true;
    ctx.prompt_tokens = plan.prompt_tokens;
    ctx.completion_tokens = plan.completion_tokens;
    ctx.cost_usd = request_cost(*ctx.model, ctx.prompt_tokens, ctx.completion_tokens);
    server::ResponseHead h(200);
    h.header("x-request-id", ctx.request_id);
    h.raw(ctx.decision_headers);
    if (!ctx.chat.stream) {
        char cbuf[32];
        std::snprintf(cbuf, sizeof cbuf, "%.9f", ctx.cost_usd);
        h.header("x-baton-cost-usd", cbuf);
        auto body = providers::mock_completion(plan, model_name, id, created);
        ctx.upstream_end = Clock::now();
        h.header("Content-Type", "application/json").content_length(body.size());
        auto hs = h.finish(ctx.out.keep_alive);
        co_await ctx.out.write_head_and_body(hs, body);
        if (ctx.out.client_gone()) ctx.status = 499;
        co_return;
    }
    h.header("Content-Type", "text/event-stream").header("Cache-Control", "no-cache").chunked();
    auto hs = h.finish(ctx.out.keep_alive);
    if (!co_await ctx.out.write_head(hs)) {
        ctx.status = 499;
        co_return;
    }
    uint32_t n = providers::mock_chunk_count(plan, ctx.chat.include_usage);
    for (uint32_t i = 0; i < n; ++i) {
        if (i > 0 && ms.chunk_delay.count() > 0) {
            timer.expires_after(ms.chunk_delay);
            co_await timer.async_wait(use_nothrow);
        }
        auto chunk = providers::mock_chunk(plan, model_name, id, created, i, ctx.chat.include_usage);
        if (i == 0) ctx.first_byte = Clock::now();
        if (!co_await ctx.out.write_chunk(chunk)) {
            ctx.status = 499;
            ctx.error_code = "client_closed";
            co_return;
        }
    }
    ctx.upstream_end = Clock::now();
    co_await ctx.out.write_chunk(openai::kSseDone);
    co_await ctx.out.write_last_chunk();
    if (ctx.out.client_gone()) ctx.status = 499;
}

void Pipeline::finish(RequestContext& ctx) {
    auto end = Clock::now();
    auto& g = gm();
    g.bytes_in.inc(ctx.req.bytes_in);
    g.bytes_out.inc(ctx.out.bytes_out());
    if (ctx.stream_cut) g.stream_cuts.inc();
    if (ctx.status == 499) g.client_aborts.inc();
    if (ctx.api) {
        auto& mm = ctx.model ? *ctx.rt->model_metrics[ctx.model_index] : *ctx.rt->unknown_model_metrics;
        std::string_view route = ctx.model ? std::string_view(ctx.model->name) : std::string_view("-");
        mm.requests(route, ctx.status).inc();
        if (ctx.model) {
            mm.duration->observe_seconds(std::chrono::duration<double>(end - ctx.req.received).count());
            if (ctx.first_byte != Clock::time_point{}) {
                mm.ttft->observe_seconds(
                    std::chrono::duration<double>(ctx.first_byte - ctx.req.received).count());
            }
            if (ctx.have_usage) {
                mm.prompt_tokens->inc(ctx.prompt_tokens);
                mm.completion_tokens->inc(ctx.completion_tokens);
            }
            if (ctx.cost_usd > 0 && ctx.status == 200) {
                ctx.rt->cost_counter(ctx.route, ctx.model_index)->add(ctx.cost_usd);
            }
            record_latency(ctx);
            if (ctx.upstream_start != Clock::time_point{}) {
                auto uend = ctx.upstream_end != Clock::time_point{} ? ctx.upstream_end : end;
                auto up = uend - ctx.upstream_start;
                if (ctx.provider->kind != config::ProviderKind::mock) {
                    ctx.rt->providers[ctx.model->provider_index].upstream_duration->observe_seconds(
                        std::chrono::duration<double>(up).count());
                }
                g.overhead.observe_seconds(
                    std::chrono::duration<double>((end - ctx.req.received) - up).count());
            }
        }
    }
    if (log::access_enabled() && (ctx.api || ctx.status >= 400)) {
        log::access(access_log_line(ctx, end));
    }
}

}  // namespace baton::proxy

namespace baton::proxy {

policy::Plan Pipeline::make_plan(RequestContext& ctx) {
    const auto& rt = *ctx.rt;
    auto body = std::string_view(ctx.req.msg.body());
    auto features = policy::extract_features(ctx.chat, body);
    BeastHeaders headers(ctx.req.msg);
    policy::PlanInput in(*rt.config, rt.policy, ctx.chat.model, features);
    in.headers = &headers;
    in.request = &ctx.chat;
    in.body = body;
    in.sticky.user = ctx.chat.user;
    in.today_days = today_days();
    in.stats = rt.stats.get();
    return policy::plan(in);
}

metrics::Counter& Pipeline::decision_counter(const RequestContext& ctx) {
    std::string key;
    key.reserve(ctx.route.size() + ctx.model->name.size() + ctx.decisive.size() + ctx.variant.size() + 3);
    key.append(ctx.route).push_back('\x1f');
    key.append(ctx.model->name).push_back('\x1f');
    key.append(ctx.decisive).push_back('\x1f');
    key.append(ctx.variant);
    auto it = decision_counters_.find(key);
    if (it != decision_counters_.end()) return *it->second;
    auto& c = metrics::global().counter(
        "baton_routing_decisions_total",
        "Routing decisions by route, chosen model, deciding factor and experiment variant.",
        {{"route", ctx.route},
         {"model", ctx.model->name},
         {"reason", ctx.decisive},
         {"variant", ctx.variant}});
    decision_counters_.emplace(std::move(key), &c);
    return c;
}

void Pipeline::record_latency(const RequestContext& ctx) {
    if (ctx.status != 200 || ctx.upstream_start == Clock::time_point{} ||
        ctx.upstream_end == Clock::time_point{}) {
        return;
    }
    auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
    double ttft_ms;
    double tps = -1;
    if (ctx.first_byte != Clock::time_point{}) {
        // streams: first body byte; generation speed over the rest of the stream
        ttft_ms = ms(ctx.first_byte - ctx.upstream_start);
        double gen_s = std::chrono::duration<double>(ctx.upstream_end - ctx.first_byte).count();
        if (ctx.have_usage && ctx.completion_tokens > 1 && gen_s > 0) {
            tps = static_cast<double>(ctx.completion_tokens - 1) / gen_s;
        }
    } else {
        // non-streamed: the whole answer is the first byte (an upper bound of TTFT)
        ttft_ms = ms(ctx.upstream_end - ctx.upstream_start);
    }
    ctx.rt->stats->record(ctx.model_index, ttft_ms, tps);
}

awaitable<void> Pipeline::explain(RequestContext& ctx) {
    auto body = std::string_view(ctx.req.msg.body());
    auto scanned = openai::scan_chat_request(body);
    if (!scanned) {
        co_await send_error(ctx, scanned.error());
        co_return;
    }
    ctx.chat = std::move(*scanned);
    ctx.model_asked = ctx.chat.model;
    auto plan = make_plan(ctx);
    if (!plan.ok() && plan.error->code == Errc::model_not_found) {
        co_await send_error(ctx, *plan.error);
        co_return;
    }
    auto j = policy::explain(plan, plan.features, *ctx.rt->config);
    ctx.status = 200;
    ctx.route = plan.route;
    std::string extra = "x-request-id: " + ctx.request_id + "\r\n";
    co_await ctx.out.send(200, "application/json", extra, j.dump(2));
}

}  // namespace baton::proxy
