#include "baton/proxy/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "baton/core/log.hpp"
#include "baton/openai/error_envelope.hpp"
#include "baton/openai/sse.hpp"
#include "baton/pii/redact.hpp"
#include "baton/pii/scanner.hpp"
#include "baton/policy/engine.hpp"
#include "baton/providers/mock.hpp"
#include "baton/translate/anthropic.hpp"
#include "baton/translate/anthropic_errors.hpp"
#include "baton/upstream/response_reader.hpp"
#include "context.hpp"
#include "mock_response.hpp"
#include "upstream_response.hpp"
#include "wire.hpp"

namespace baton::proxy {

namespace {

asio::thread_pool& background_pool() {
    static asio::thread_pool pool(1);
    return pool;
}

ratelimit::RateLimiter& rate_limiter() {
    static ratelimit::RateLimiter limiter;
    return limiter;
}

RetryBudget& retry_budget() {
    static RetryBudget b;
    return b;
}  // chunked upstream error bodies read up to this

struct GlobalMetrics {
    metrics::Histogram& overhead = metrics::global().histogram(
        "baton_gateway_overhead_seconds",
        "Time spent in the gateway itself: total latency minus upstream time.", {},
        metrics::overhead_buckets());
    metrics::Counter& bytes_in = metrics::global().counter("baton_bytes_received_total",
                                                           "Request bytes received from clients.");
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

const char* errc_name(Errc c) {
    switch (c) {
        case Errc::invalid_json:
            return "invalid_json";
        case Errc::invalid_request:
            return "invalid_request";
        case Errc::unauthenticated:
            return "unauthenticated";
        case Errc::forbidden:
            return "forbidden";
        case Errc::not_found:
            return "not_found";
        case Errc::model_not_found:
            return "model_not_found";
        case Errc::method_not_allowed:
            return "method_not_allowed";
        case Errc::request_timeout:
            return "request_timeout";
        case Errc::payload_too_large:
            return "payload_too_large";
        case Errc::unprocessable:
            return "unprocessable";
        case Errc::rate_limited:
            return "rate_limited";
        case Errc::header_too_large:
            return "header_too_large";
        case Errc::upstream_connect:
            return "upstream_connect";
        case Errc::upstream_protocol:
            return "upstream_protocol";
        case Errc::upstream_timeout:
            return "upstream_timeout";
        case Errc::unavailable:
            return "unavailable";
        case Errc::provider_credentials_missing:
            return "provider_credentials_missing";
        case Errc::internal:
            return "internal";
    }
    return "internal";
}

// The policy engine's view of the request headers.
class RequestHeaders final : public policy::HeaderLookup {
  public:
    explicit RequestHeaders(const server::HttpRequest& m) : m_(m) {}
    std::optional<std::string_view> get(std::string_view lower_name) const override {
        const auto* f = m_.find(lower_name);
        if (f == nullptr) return std::nullopt;
        return f->value;
    }

  private:
    const server::HttpRequest& m_;
};

int64_t today_days() {
    return std::chrono::duration_cast<std::chrono::days>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Outcome classify_io(const boost::system::error_code& ec, bool connecting) {
    if (ec == beast::error::timeout || ec == asio::error::timed_out) {
        return connecting ? Outcome::timeout_connect : Outcome::timeout_headers;
    }
    if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again ||
        ec == asio::error::no_data) {
        return Outcome::dns;
    }
    if (ec.category() == asio::error::get_ssl_category() ||
        ec.category() == asio::ssl::error::get_stream_category()) {
        return Outcome::tls;
    }
    if (connecting) return Outcome::connect_refused;
    if (ec == http::error::partial_message || ec == asio::error::eof ||
        ec == asio::error::connection_reset) {
        return Outcome::stream_cut;
    }
    return Outcome::malformed;
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
    m.active =
        &reg.gauge("baton_upstream_connections", help, {{"provider", p.name}, {"state", "active"}});
    m.idle =
        &reg.gauge("baton_upstream_connections", help, {{"provider", p.name}, {"state", "idle"}});
    m.opened = &reg.counter("baton_upstream_connections_opened_total",
                            "Upstream connections opened.", {{"provider", p.name}});
    m.reused =
        &reg.counter("baton_upstream_connections_reused_total",
                     "Requests sent on a pooled keep-alive connection.", {{"provider", p.name}});
    m.discarded =
        &reg.counter("baton_upstream_connections_discarded_total",
                     "Upstream connections closed instead of pooled.", {{"provider", p.name}});
    unsigned threads = rt.config->server.threads == 0
                           ? std::max(1u, std::thread::hardware_concurrency())
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

// A gateway-made error in the shape of the API the client called (OpenAI's, or Anthropic's for
// /v1/messages); sets `status`.
static std::string error_body_for(const RequestContext& ctx, const Error& e, unsigned& status) {
    if (ctx.anthropic_client) {
        auto a = translate::anthropic_error(e);
        status = a.status;
        return a.body.dump();
    }
    status = openai::error_info(e.code).status;
    return openai::error_body(e);
}

awaitable<void> Pipeline::send_error(RequestContext& ctx, const Error& e) {
    unsigned status = 0;
    std::string body = error_body_for(ctx, e, status);
    ctx.status = status;
    ctx.error_code = errc_name(e.code);
    if (ctx.out.committed()) co_return;
    std::string extra = "x-request-id: " + ctx.request_id + "\r\n";
    if (e.code == Errc::method_not_allowed) extra += "Allow: POST\r\n";
    co_await ctx.out.send(status, "application/json", extra, body);
}

// POST /v1/messages (Anthropic Messages API): the request becomes an OpenAI chat request and
// goes through the same pipeline (any provider can answer); the answer, stream events and errors
// are turned back into Anthropic's shapes (AnthropicClientWire, error_body_for).
awaitable<void> Pipeline::messages(RequestContext& ctx) {
    auto& body = ctx.req.msg.body();
    translate::Json j = translate::Json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        co_await send_error(
            ctx, make_error(Errc::invalid_json, "request body is not a valid JSON object"));
        co_return;
    }
    auto model = j.find("model");
    if (model == j.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) {
        co_await send_error(ctx,
                            make_error(Errc::invalid_request, "model: field required", "model"));
        co_return;
    }
    ctx.client_model = model->get<std::string>();
    auto r = translate::anthropic_to_openai_request(j, ctx.client_model);
    if (!r) {
        co_await send_error(ctx, r.error());
        co_return;
    }
    ctx.anthropic_body = std::move(body);  // kept for an Anthropic upstream (no translation)
    body = r->body.dump();
    co_await chat(ctx);
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
        // "req_" + 24 hex digits (96 random bits), formatted without printf
        static constexpr char kHex[] = "0123456789abcdef";
        char buf[28] = {'r', 'e', 'q', '_'};
        uint64_t a = splitmix64(rng_state_), b = splitmix64(rng_state_);
        for (int i = 0; i < 16; ++i) buf[4 + i] = kHex[(a >> (60 - 4 * i)) & 0xf];
        for (int i = 0; i < 8; ++i) buf[20 + i] = kHex[(b >> (28 - 4 * i)) & 0xf];
        ctx.request_id.assign(buf, sizeof buf);
    }

    ctx.anthropic_client = ctx.path == "/v1/messages";
    // Who is calling (virtual keys). Public paths need no key; /admin/* and explain need an
    // admin key once keys are configured.
    bool is_public = ctx.path == "/healthz" || ctx.path == "/readyz" || ctx.path == "/metrics";
    // (authenticate is a coroutine; a gateway without keys skips the call and its frame)
    if (!is_public && !ctx.rt->keys.empty() && !co_await authenticate(ctx)) {
        finish(ctx);
        co_return;
    }
    if (ctx.path == "/v1/messages") {
        ctx.api = true;
        if (req.msg.method() != http::verb::post) {
            co_await send_error(ctx, make_error(Errc::method_not_allowed,
                                                "method " + std::string(ctx.method) +
                                                    " not allowed on /v1/messages; use POST"));
        } else {
            co_await messages(ctx);
        }
    } else if (ctx.path == "/v1/completions" || ctx.path == "/v1/embeddings") {
        ctx.api = true;
        ctx.api_kind =
            ctx.path == "/v1/embeddings" ? openai::Api::embeddings : openai::Api::completions;
        if (req.msg.method() != http::verb::post) {
            co_await send_error(
                ctx, make_error(Errc::method_not_allowed,
                                "method " + std::string(ctx.method) + " not allowed on " +
                                    std::string(ctx.path) + "; use POST"));
        } else {
            co_await chat(ctx);
        }
    } else if (ctx.path == "/v1/chat/completions" || ctx.path == "/chat/completions") {
        ctx.api = true;
        if (req.msg.method() != http::verb::post) {
            co_await send_error(
                ctx, make_error(Errc::method_not_allowed,
                                "method " + std::string(ctx.method) + " not allowed on " +
                                    std::string(ctx.path) + "; use POST"));
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

// Sensitive data: scans every message text once; `block` refuses the request, `route` narrows
// the candidates to models tagged for it, `redact` replaces values with stable placeholders
// before anything is forwarded. Only classes and counts are kept, never values.
std::optional<Error> Pipeline::apply_pii(RequestContext& ctx) {
    const auto& pcfg = ctx.rt->config->pii;
    std::string_view body = ctx.req.msg.body();
    pii::ClassCounts found;
    std::vector<pii::Finding> findings;
    pii::ScanOptions opts;
    for (const auto& span : ctx.chat.text_spans) {
        findings.clear();
        pii::scan(body.substr(span.begin, span.size()), opts, findings);
        for (const auto& f : findings) found.add(f.cls);
    }
    if (!found.any()) return std::nullopt;
    std::string blocked, summary;
    size_t strongest = 0;
    pii::ClassSet redact;
    bool route = false;
    for (size_t i = 0; i < pcfg.actions.size(); ++i) {
        auto cls = static_cast<pii::Class>(i);
        if (found[cls] == 0) continue;
        auto action = pcfg.actions[i];
        static constexpr const char* kAction[] = {"allow", "route", "redact", "block"};
        if (!summary.empty()) summary += ",";
        summary += std::string(pii::class_name(cls)) + "=" + std::to_string(found[cls]) + ":" +
                   kAction[static_cast<size_t>(action)];
        pii_counter(cls, kAction[static_cast<size_t>(action)]).inc(found[cls]);
        ctx.pii_counts[std::string(pii::class_name(cls))] = found[cls];
        if (ctx.pii_action.empty() || static_cast<size_t>(action) > strongest) {
            strongest = static_cast<size_t>(action);
            ctx.pii_action = kAction[strongest];
        }
        if (action == config::PiiAction::block) {
            if (!blocked.empty()) blocked += ", ";
            blocked += pii::class_name(cls);
        } else if (action == config::PiiAction::route) {
            route = true;
        } else if (action == config::PiiAction::redact) {
            redact.add(cls);
        }
    }
    ctx.pii = summary;
    if (!blocked.empty()) {
        return make_error(Errc::invalid_request,
                          "the request contains data this gateway may not forward (" + blocked +
                              "); remove it and retry",
                          "messages");
    }
    if (route) ctx.required_tags.push_back(pcfg.route_tag);
    if (!redact.empty()) {
        // Rebuild the body with placeholders in the message texts, then re-scan it so that every
        // span (and the model splice) refers to the new bytes.
        pii::Redactor redactor(redact);
        std::string out;
        out.reserve(body.size());
        size_t prev = 0;
        for (const auto& span : ctx.chat.text_spans) {
            out.append(body.substr(prev, span.begin - prev));
            out.append(redactor.redact(body.substr(span.begin, span.size())));
            prev = span.end;
        }
        out.append(body.substr(prev));
        ctx.req.msg.body() = std::move(out);
        ctx.body_rewritten = true;
        if (pcfg.restore) ctx.pii_mapping = redactor.take_mapping();
        auto rescanned = openai::scan_request(ctx.req.msg.body(), ctx.api_kind);
        if (!rescanned) return rescanned.error();
        ctx.chat = std::move(*rescanned);
        ctx.model_asked = ctx.chat.model;
    }
    return std::nullopt;
}

// Candidates that cannot serve the API called are dropped from the plan: chat and completions
// need a chat model, embeddings an embedding model, and the legacy APIs an OpenAI-format
// provider (openai, azure). Nothing left → 400 naming what would fit.
std::optional<Error> Pipeline::keep_candidates_for_api(const RequestContext& ctx,
                                                       policy::Plan& plan) const {
    const auto& cfg = *ctx.rt->config;
    auto fits = [&](size_t i) {
        const auto& m = cfg.models[i];
        const auto kind = cfg.providers[m.provider_index].kind;
        const bool openai_format =
            kind == config::ProviderKind::openai || kind == config::ProviderKind::azure;
        switch (ctx.api_kind) {
            case openai::Api::chat:
                return m.kind == config::ModelKind::chat;
            case openai::Api::completions:
                return m.kind == config::ModelKind::chat && openai_format;
            case openai::Api::embeddings:
                return m.kind == config::ModelKind::embedding && openai_format;
        }
        return false;
    };
    std::erase_if(plan.ranked, [&](const policy::Candidate& c) { return !fits(c.model_index); });
    if (!plan.ranked.empty()) return std::nullopt;
    std::string usable;
    for (size_t i = 0; i < cfg.models.size(); ++i) {
        if (!fits(i)) continue;
        if (!usable.empty()) usable += ", ";
        usable += cfg.models[i].name;
    }
    const char* api = ctx.api_kind == openai::Api::embeddings    ? "/v1/embeddings"
                      : ctx.api_kind == openai::Api::completions ? "/v1/completions"
                                                                 : "/v1/chat/completions";
    return make_error(Errc::invalid_request,
                      "model '" + std::string(ctx.model_asked) + "' cannot serve " + api +
                          (usable.empty() ? std::string(" (no configured model can)")
                                          : " (models that can: " + usable + ")"),
                      "model");
}

// Prompt-injection signals over every message text (guard/): flag (header + log), route (only
// candidates tagged injection.route_tag), strip_tools (tools removed from the request), block.
std::optional<Error> Pipeline::apply_injection(RequestContext& ctx) {
    const auto& scanner = *ctx.rt->injection;
    const auto& icfg = ctx.rt->config->injection;
    std::string_view body = ctx.req.msg.body();
    guard::Signals total, one;
    for (const auto& span : ctx.chat.text_spans) {
        scanner.scan(body.substr(span.begin, span.size()), guard::Encoding::json_string, one);
        if (one.any()) scanner.merge(total, one);
    }
    if (!scanner.suspicious(total)) return std::nullopt;
    static constexpr const char* kAction[] = {"flag", "route", "strip_tools", "block"};
    const char* action = kAction[static_cast<size_t>(icfg.action)];
    ctx.injection = total.to_string() + " action=" + action;
    counter("baton_injection_signals_total",
            "Requests whose prompt-injection signals crossed the threshold, by action.",
            {{"action", action}})
        .inc();
    std::string categories;
    for (size_t i = 0; i < guard::kCategoryCount; ++i) {
        if (total.category_score[i] <= 0) continue;
        if (!categories.empty()) categories += ",";
        categories += guard::category_name(static_cast<guard::Category>(i));
    }
    char score[32];
    std::snprintf(score, sizeof score, "%.2f", total.score);
    std::string header = "x-baton-injection: score=" + std::string(score) +
                         "; categories=" + categories + "; action=" + action + "\r\n";
    switch (icfg.action) {
        case config::InjectionAction::block:
            return make_error(Errc::invalid_request,
                              "the request was blocked: its messages look like a prompt-injection "
                              "or jailbreak attempt (" +
                                  categories + ")",
                              "messages");
        case config::InjectionAction::route:
            ctx.required_tags.push_back(icfg.route_tag);
            break;
        case config::InjectionAction::strip_tools: {
            nlohmann::ordered_json j = nlohmann::ordered_json::parse(body, nullptr, false);
            if (j.is_object() &&
                (j.contains("tools") || j.contains("tool_choice") || j.contains("functions"))) {
                for (const char* k : {"tools", "tool_choice", "parallel_tool_calls", "functions",
                                      "function_call"}) {
                    j.erase(k);
                }
                ctx.req.msg.body() = j.dump();
                ctx.body_rewritten = true;
                auto rescanned = openai::scan_request(ctx.req.msg.body(), ctx.api_kind);
                if (!rescanned) return rescanned.error();
                ctx.chat = std::move(*rescanned);
                ctx.model_asked = ctx.chat.model;
            }
            break;
        }
        case config::InjectionAction::flag:
            break;
    }
    ctx.injection_header = std::move(header);
    return std::nullopt;
}

awaitable<bool> Pipeline::authenticate(RequestContext& ctx) {
    const auto& rt = *ctx.rt;
    bool admin_path = ctx.path.starts_with("/admin/") || ctx.path == "/v1/route/explain";
    if (rt.keys.empty()) co_return true;  // no keys configured: open gateway
    auto presented = auth::extract_key(ctx.req.msg["authorization"], ctx.req.msg["x-api-key"]);
    if (!presented) {
        co_await send_error(ctx, presented.error());
        co_return false;
    }
    if (presented->source == auth::KeySource::none) {
        if (rt.config->auth.required || admin_path) {
            Error e = make_error(Errc::unauthenticated,
                                 "missing API key: send it as \"Authorization: Bearer bt-...\" "
                                 "or \"x-api-key\"");
            co_await send_error(ctx, e);
            co_return false;
        }
        co_return true;
    }
    auto p = rt.keys.authenticate(presented->key);
    if (!p) {
        co_await send_error(ctx, p.error());
        co_return false;
    }
    ctx.principal = *p;
    if (admin_path && !ctx.principal->key->admin) {
        Error e =
            make_error(Errc::forbidden, "key \"" + ctx.principal->name() + "\" may not use " +
                                            std::string(ctx.path) + " (an admin key is needed)");
        co_await send_error(ctx, e);
        co_return false;
    }
    co_return true;
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
    if (path == "/admin/health") {
        co_await admin_health(ctx);
        co_return;
    }
    if (path == "/admin/config") {
        co_await admin_config(ctx);
        co_return;
    }
    if (path == "/admin/keys") {
        co_await admin_keys(ctx);
        co_return;
    }
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
            co_await ctx.out.send(
                ctx.status, "application/json", extra,
                draining ? "{\"status\":\"draining\"}" : "{\"status\":\"ready\"}");
        } else if (path == "/metrics") {
            ctx.status = 200;
            auto now = Clock::now();
            for (size_t i = 0; i < rt.config->models.size(); ++i) {
                metrics::global()
                    .gauge("baton_circuit_state",
                           "Circuit breaker per deployment: 0 closed, 1 open, 2 half-open.",
                           {{"model", rt.config->models[i].name},
                            {"provider", rt.config->models[i].provider}})
                    .set(static_cast<int64_t>(rt.breakers[i]->state(now)));
            }
            auto text = metrics::global().render();
            co_await ctx.out.send(200, "text/plain; version=0.0.4; charset=utf-8", extra, text);
        } else {
            ctx.api = true;
            ctx.status = 200;
            co_await ctx.out.send(200, "application/json", extra, rt.models_json);
        }
        co_return;
    }
    co_await send_error(
        ctx, make_error(Errc::not_found, "unknown path " + std::string(path) +
                                             " (this gateway serves POST /v1/chat/completions, "
                                             "GET /v1/models, /healthz, /readyz, /metrics)"));
}

awaitable<void> Pipeline::chat(RequestContext& ctx) {
    auto body = std::string_view(ctx.req.msg.body());
    auto scanned = openai::scan_request(body, ctx.api_kind);
    if (!scanned) {
        co_await send_error(ctx, scanned.error());
        co_return;
    }
    ctx.chat = std::move(*scanned);
    ctx.model_asked = ctx.chat.model;
    ctx.stream = ctx.chat.stream;
    const auto& cfg = *ctx.rt->config;
    if (ctx.principal) {
        if (auto ok = auth::KeyStore::authorize(*ctx.principal, ctx.chat.model); !ok) {
            co_await send_error(ctx, ok.error());
            co_return;
        }
        const auto& k = *ctx.principal->key;
        if (k.rpm || k.tpm || k.max_concurrent) {
            // tokens are estimated at admission (prompt + max_tokens) and corrected at the end
            uint32_t estimate = static_cast<uint32_t>(ctx.chat.text_bytes / 4) + 16 +
                                static_cast<uint32_t>(std::clamp<int64_t>(
                                    ctx.chat.max_tokens.value_or(256), 0, 1'000'000));
            auto adm = rate_limiter().admit(k.name, {k.rpm, k.tpm, k.max_concurrent}, estimate);
            for (const auto& [hk, hv] : adm.headers.http()) {
                ctx.rate_headers.append(hk).append(": ").append(hv).append("\r\n");
            }
            if (!adm.ok()) {
                ctx.status = 429;
                ctx.error_code = "rate_limited";
                std::string extra = "x-request-id: " + ctx.request_id + "\r\n" + ctx.rate_headers;
                if (adm.retry_after_s > 0) {  // 0: too large for the limit, waiting won't help
                    extra += "Retry-After: " + std::to_string(adm.retry_after_s) + "\r\n";
                }
                Error e = make_error(Errc::rate_limited, adm.message);
                unsigned st = 429;
                std::string eb = error_body_for(ctx, e, st);
                co_await ctx.out.send(429, "application/json", extra, eb);
                co_return;
            }
            ctx.ticket = std::move(adm.ticket);
        }
    }
    if (ctx.principal) {
        ctx.required_tags = ctx.principal->key->required_tags;
    }
    if (cfg.pii.enabled) {
        if (auto e = apply_pii(ctx)) {
            co_await send_error(ctx, *e);
            co_return;
        }
    }
    if (ctx.rt->injection) {
        if (auto e = apply_injection(ctx)) {
            co_await send_error(ctx, *e);
            co_return;
        }
    }
    auto plan = make_plan(ctx);
    if (!plan.ok()) {
        co_await send_error(ctx, *plan.error);
        co_return;
    }
    if (auto e = keep_candidates_for_api(ctx, plan)) {
        co_await send_error(ctx, *e);
        co_return;
    }
    if (plan.direct && !ctx.required_tags.empty()) {
        // A directly named model skips the plan's filters, but never the tags the caller's key
        // or a PII finding require: those are compliance, not preference.
        const auto& m = cfg.models[plan.ranked.front().model_index];
        std::string missing;
        for (const auto& t : ctx.required_tags) {
            if (!m.has_tag(t)) missing += (missing.empty() ? "" : ", ") + t;
        }
        if (!missing.empty()) {
            Error e = make_error(Errc::unprocessable,
                                 "model \"" + m.name + "\" lacks the tag(s) " + missing +
                                     " that this request requires (from the API key or the data "
                                     "it contains); use a route or a model carrying them",
                                 "model");
            co_await send_error(ctx, e);
            co_return;
        }
    }
    if (ctx.principal) {
        const auto& k = *ctx.principal->key;
        if (k.budget_day_usd || k.budget_week_usd || k.budget_month_usd) {
            // Reserve the most this request can cost on any candidate it may fall back to:
            // estimated prompt tokens x input price + max_tokens x output price.
            double in_price = 0, out_price = 0;
            for (const auto& c : plan.ranked) {
                in_price = std::max(in_price, cfg.models[c.model_index].price.input);
                out_price = std::max(out_price, cfg.models[c.model_index].price.output);
            }
            uint64_t max_out = static_cast<uint64_t>(ctx.chat.max_tokens.value_or(
                plan.expected_output_tokens > 0 ? plan.expected_output_tokens : 1024));
            double amount = ratelimit::reservation_usd(plan.features.prompt_tokens > 0
                                                           ? plan.features.prompt_tokens
                                                           : ctx.chat.text_bytes / 4,
                                                       max_out, in_price, out_price);
            ratelimit::BudgetLimits lim{k.budget_day_usd, k.budget_week_usd, k.budget_month_usd};
            auto hold = budget_ledger().reserve(k.name, lim, amount);
            if (!hold) {
                co_await send_error(ctx, hold.error());
                co_return;
            }
            ctx.budget_hold = std::move(*hold);
            auto st = budget_ledger().status(k.name, lim);
            char buf[48];
            auto br =
                std::to_chars(buf, buf + sizeof buf, st.remaining_usd, std::chars_format::fixed, 6);
            ctx.rate_headers.append("x-baton-budget-remaining: ")
                .append(buf, static_cast<size_t>(br.ptr - buf))
                .append("\r\n");
        }
    }
    ctx.route = plan.route;
    ctx.variant = plan.variant;
    ctx.decisive = plan.decisive;
    for (const auto& d : plan.deprecations) {
        const auto& dm = cfg.models[d.model_index];
        log::warn_once(
            "deprecated:" + dm.name,
            "model \"" + dm.name + "\" is deprecated since " + d.after +
                (d.replacement ? "; requests go to \"" + cfg.models[*d.replacement].name + "\""
                               : std::string("")));
    }
    co_await serve(ctx, plan);
}

void Pipeline::use_candidate(RequestContext& ctx, const policy::Plan& plan, size_t model_index,
                             unsigned attempts, const std::string& fallback_from) {
    const auto& cfg = *ctx.rt->config;
    ctx.model_index = model_index;
    ctx.model = &cfg.models[model_index];
    ctx.provider = &cfg.providers[ctx.model->provider_index];
    using namespace std::string_view_literals;  // (no strlen per piece)
    auto& h = ctx.decision_headers;
    h.clear();
    h.reserve(512);  // one allocation for the usual set
    policy::append_decision_headers(h, plan, cfg);
    h.append("x-baton-model: "sv).append(ctx.model->name).append("\r\n"sv);
    h.append("x-baton-provider: "sv).append(ctx.provider->name).append("\r\n"sv);
    char num[12];
    auto nr = std::to_chars(num, num + sizeof num, attempts);
    h.append("x-baton-attempts: "sv)
        .append(num, static_cast<size_t>(nr.ptr - num))
        .append("\r\n"sv);
    h.append(ctx.rate_headers);
    h.append(ctx.injection_header);
    if (!fallback_from.empty()) {
        h.append("x-baton-fallback-from: "sv).append(fallback_from).append("\r\n"sv);
    }
}

// The attempt loop: walks the plan's ranked candidates (a fallback never widens the request's
// constraints: the plan holds only candidates that passed every filter), retrying a target per
// the decision table within the request deadline and the retry budget; skips deployments whose
// circuit breaker is open. Before the first byte reaches the client every failure stays
// invisible; after it, the relay reports failures in the stream itself.
awaitable<void> Pipeline::serve(RequestContext& ctx, const policy::Plan& plan) {
    auto& rb = retry_budget();
    rb.request_started();
    struct Done {
        RetryBudget& rb;
        ~Done() { rb.request_finished(); }
    } done{rb};

    const auto& cfg = *ctx.rt->config;
    auto deadline = Clock::time_point::max();
    if (const auto* t = ctx.req.msg.find("x-baton-timeout-ms")) {
        char* endp = nullptr;
        std::string v(t->value);
        long ms = std::strtol(v.c_str(), &endp, 10);
        if (endp == v.c_str() || *endp != '\0' || ms <= 0) {
            co_await send_error(ctx, make_error(Errc::invalid_request,
                                                "x-baton-timeout-ms must be a positive integer "
                                                "(milliseconds), got \"" +
                                                    v + "\"",
                                                "x-baton-timeout-ms"));
            co_return;
        }
        deadline = ctx.req.received + std::chrono::milliseconds(ms);
    }

    // A route's own resilience settings override its providers' (and its timeout is a default
    // deadline the client may only shorten).
    ctx.route_resilience = nullptr;
    if (!plan.direct) {
        if (const auto* r = cfg.find_route(plan.route)) ctx.route_resilience = &r->resilience;
    }
    const config::RouteResilience* rr = ctx.route_resilience;
    if (rr && rr->timeout) deadline = std::min(deadline, ctx.req.received + *rr->timeout);

    unsigned attempts = 0;
    // The plan's first choice: a response from any other candidate says it fell back from it.
    const std::string& planned = cfg.models[plan.ranked.front().model_index].name;
    std::optional<Attempt> last;  // the last failure, returned if nothing succeeds
    std::string skipped;          // candidates skipped for an open breaker / no key
    struct RetrySlot {            // a retry in flight counts against the budget
        RetryBudget& rb;
        bool held = false;
        void release() {
            if (held) rb.retry_finished();
            held = false;
        }
        ~RetrySlot() { release(); }
    } slot{rb};
    for (const auto& cand : plan.ranked) {
        const auto& m = cfg.models[cand.model_index];
        const auto& prov = cfg.providers[m.provider_index];
        auto& breaker = *ctx.rt->breakers[cand.model_index];
        if (prov.api_key_missing) {
            if (!last) {
                last = gateway_failure(Outcome::credentials, Errc::provider_credentials_missing,
                                       "provider \"" + prov.name +
                                           "\" has no API key: " + prov.api_key_missing_reason +
                                           ". Set it and reload or restart baton.");
            }
            if (!skipped.empty()) skipped += ", ";
            skipped += m.name + " (no key)";
            continue;
        }
        if (!ctx.rt->health[m.provider_index]->healthy.load(std::memory_order_relaxed)) {
            if (!skipped.empty()) skipped += ", ";
            skipped += m.name + " (health check failing)";
            breaker_skips(m.name).inc();
            continue;
        }
        // (the breaker counts in seconds: the coarse clock will do, core/clock.hpp)
        if (!breaker.allow(coarse_now())) {
            if (!skipped.empty()) skipped += ", ";
            skipped += m.name + " (circuit open)";
            breaker_skips(m.name).inc();
            continue;
        }
        for (unsigned try_n = 1;; ++try_n) {
            ++attempts;
            std::string from = planned == m.name ? std::string() : planned;
            use_candidate(ctx, plan, cand.model_index, attempts, from);
            if (attempts == 1) decision_counter(ctx).inc();
            ctx.upstream_start = {};
            ctx.upstream_end = {};
            ctx.first_byte = {};
            // (no co_await inside ?: — GCC 12 miscompiles temporaries there)
            Attempt a;
            if (prov.kind == config::ProviderKind::mock) {
                a = co_await mock(ctx, try_n, deadline);
            } else {
                a = co_await forward(ctx, deadline);
            }
            slot.release();
            bool healthy = a.outcome == Outcome::ok || a.outcome == Outcome::client_error ||
                           a.outcome == Outcome::content_policy ||
                           a.outcome == Outcome::context_length;
            breaker.record(healthy, coarse_now());
            attempt_counter(prov.name, m.name, a.outcome).inc();
            ctx.attempt_outcome = std::string(to_string(a.outcome));
            if (a.committed) co_return;  // answered (or failed visibly mid-stream)
            const auto& res = prov.resilience;
            const uint32_t max_retries = rr && rr->max_retries ? *rr->max_retries : res.max_retries;
            const Millis backoff_base =
                rr && rr->backoff_base ? *rr->backoff_base : res.backoff_base;
            const Millis backoff_cap = rr && rr->backoff_cap ? *rr->backoff_cap : res.backoff_cap;
            const Millis retry_after_cap =
                rr && rr->retry_after_cap ? *rr->retry_after_cap : res.retry_after_cap;
            Action act = decide(a.outcome, try_n, max_retries);
            std::string_view why = to_string(act);
            Duration wait{};
            if (act == Action::retry_same) {
                // back off (or follow the upstream's Retry-After, capped), but never past the
                // request's deadline or the provider's total timeout, never into an open
                // breaker, and only within the retry budget
                wait = backoff(try_n, backoff_base, backoff_cap,
                               static_cast<double>(splitmix64(rng_state_) >> 11) * 0x1.0p-53);
                if (a.retry_after >= 0) {
                    wait = std::min<Duration>(std::chrono::duration_cast<Duration>(
                                                  std::chrono::duration<double>(a.retry_after)),
                                              Duration(retry_after_cap));
                }
                auto limit = std::min(deadline, ctx.req.received + prov.timeouts.total);
                if (Clock::now() + wait >= limit) {
                    act = Action::fall_back;
                    why = "no_time_to_retry";
                } else if (!breaker.allow(coarse_now())) {
                    act = Action::fall_back;
                    why = "circuit_opened";
                } else if (!rb.try_retry()) {
                    act = Action::fall_back;
                    why = "budget_exhausted";
                } else {
                    slot.held = true;
                }
            }
            retry_decision(why).inc();
            last = std::move(a);
            if (act != Action::retry_same) break;
            asio::steady_timer t(ex_, wait);
            co_await t.async_wait(use_nothrow);
        }
        if (last && decide(last->outcome, 1, 0) == Action::give_up) break;
        if (Clock::now() >= deadline) break;
    }

    // Nothing succeeded: return the last failure (an upstream's own error response as it was).
    if (!last) {
        // (message built before co_await: GCC 12 miscompiles ?: temporaries in co_await args)
        std::string msg = "no upstream is available for this request: ";
        msg += skipped.empty() ? std::string("all candidates failed") : skipped;
        Error e = make_error(Errc::unavailable, std::move(msg));
        co_await send_error(ctx, e);
        co_return;
    }
    ctx.error_code = std::string(to_string(last->outcome));
    if (last->error) {
        if (last->outcome == Outcome::credentials && attempts == 0) {
            co_await send_error(ctx, *last->error);
            co_return;
        }
        auto e = *last->error;
        if (attempts > 1 || !skipped.empty()) {
            e.message += " (after " + std::to_string(attempts) + " attempt" +
                         (attempts == 1 ? "" : "s") +
                         (skipped.empty() ? std::string() : "; skipped: " + skipped) + ")";
        }
        unsigned st = 0;
        std::string eb = error_body_for(ctx, e, st);
        ctx.status = st;
        std::string extra = "x-request-id: " + ctx.request_id + "\r\n" + ctx.decision_headers;
        co_await ctx.out.send(st, "application/json", extra, eb);
        co_return;
    }
    if (ctx.anthropic_client && !last->anthropic_shape) {  // OpenAI's shape by now
        auto a = translate::openai_error_to_anthropic(last->status, last->body);
        last->status = a.status;
        last->body = a.body.dump();
        last->content_type = "application/json";
    }
    ctx.status = last->status;
    std::string extra = "x-request-id: " + ctx.request_id + "\r\n" + ctx.decision_headers;
    if (last->retry_after >= 0) {
        extra += "Retry-After: " + std::to_string(static_cast<long>(std::ceil(last->retry_after))) +
                 "\r\n";
    }
    co_await ctx.out.send(last->status, last->content_type, extra, last->body);
}

awaitable<Attempt> Pipeline::forward(RequestContext& ctx, Clock::time_point deadline) {
    const auto& prov = *ctx.provider;
    const auto& pr = ctx.rt->providers[ctx.model->provider_index];
    auto& pool = pool_for(*ctx.rt, ctx.model->provider_index);
    const auto& to = prov.timeouts;
    deadline = std::min(deadline, Clock::now() + to.total);

    // OpenAI-format providers: the forwarded body is the client's bytes with only the model
    // value replaced (and, for a stream whose client did not ask for usage,
    // stream_options.include_usage added before the closing brace so that tokens and cost can be
    // accounted; that chunk is stripped again). Other formats: the body is translated (DOM).
    std::string_view body = ctx.req.msg.body();
    std::string_view pre, post, tail, inject, model_json;
    std::string translated;
    std::unique_ptr<UpstreamWire> wire;
    ctx.inject_usage = false;
    const bool openai_format =
        prov.kind == config::ProviderKind::openai || prov.kind == config::ProviderKind::azure;
    // An Anthropic client and an Anthropic upstream: the client's own body goes as it is (only
    // the model replaced), and the answer comes back untranslated, so nothing is lost (thinking
    // signatures, cache control, server tools). Not when the gateway rewrote the request (PII
    // redaction, stripped tools): then the rewritten canonical body is translated.
    ctx.passthrough = ctx.anthropic_client && prov.kind == config::ProviderKind::anthropic &&
                      !ctx.body_rewritten && !ctx.anthropic_body.empty();
    if (ctx.passthrough) {
        nlohmann::ordered_json j =
            nlohmann::ordered_json::parse(ctx.anthropic_body, nullptr, false);
        j["model"] = ctx.model->upstream_model;
        translated = j.dump();
        pre = translated;
    } else if (openai_format && prov.quirks.any() && ctx.api_kind == openai::Api::chat) {
        // A server with quirks: the body is rewritten (renamed/dropped fields), not spliced.
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(body, nullptr, false);
        const auto& q = prov.quirks;
        j["model"] = ctx.model->upstream_model;
        if (!q.max_tokens_field.empty()) {
            const char* other =
                q.max_tokens_field == "max_tokens" ? "max_completion_tokens" : "max_tokens";
            if (auto it = j.find(other); it != j.end()) {
                if (!j.contains(q.max_tokens_field)) j[q.max_tokens_field] = *it;
                j.erase(other);
            }
        }
        for (const auto& f : q.drop_fields) {
            if (j.erase(f) > 0) {
                spdlog::debug("request {}: field \"{}\" dropped for provider \"{}\" (quirks)",
                              ctx.request_id, f, prov.name);
            }
        }
        if (ctx.chat.stream && !ctx.chat.has_stream_options) {
            j["stream_options"] = {{"include_usage", true}};
            ctx.inject_usage = true;
        }
        translated = j.dump();
        pre = translated;
    } else if (openai_format) {
        auto mv = ctx.chat.model_value;
        pre = body.substr(0, mv.begin);
        post = body.substr(mv.end);
        static constexpr std::string_view kInject = ",\"stream_options\":{\"include_usage\":true}";
        if (ctx.chat.stream && !ctx.chat.has_stream_options) {
            auto close = post.find_last_of('}');
            if (close != std::string_view::npos) {
                ctx.inject_usage = true;
                tail = post.substr(close);
                post = post.substr(0, close);
                inject = kInject;
            }
        }
        model_json = ctx.rt->upstream_model_json[ctx.model_index];
    } else {
        auto t = translate_chat_request(prov, *ctx.model, body);
        if (!t) {
            // the request has no equivalent at this provider: another candidate may take it
            Attempt a;
            a.outcome = Outcome::client_error;
            a.error = t.error();
            co_return a;
        }
        translated = std::move(*t);
        pre = translated;
        // the translator always asks for usage; the relay strips it unless the client asked
        ctx.inject_usage = ctx.chat.stream && !ctx.chat.include_usage;
        wire = make_upstream_wire(prov.kind, true,
                                  std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    }
    std::string other_api_prefix;  // (legacy completions and embeddings: built per request)
    if (ctx.api_kind != openai::Api::chat) {
        other_api_prefix =
            request_prefix(prov, *ctx.model,
                           ctx.api_kind == openai::Api::embeddings ? "embeddings" : "completions");
    }
    const std::string& prefix = ctx.api_kind != openai::Api::chat ? other_api_prefix
                                : ctx.chat.stream ? ctx.rt->stream_prefix[ctx.model_index]
                                                  : ctx.rt->chat_prefix[ctx.model_index];
    size_t clen = pre.size() + model_json.size() + post.size() + inject.size() + tail.size();
    std::string head;
    head.reserve(prefix.size() + 96);
    head.append(prefix);
    char clen_text[24];
    const auto clen_end = std::to_chars(clen_text, clen_text + sizeof clen_text, clen).ptr;
    using namespace std::string_view_literals;
    head.append("Content-Length: "sv)
        .append(clen_text, static_cast<size_t>(clen_end - clen_text))
        .append("\r\n"sv);
    head.append("x-request-id: "sv).append(ctx.request_id).append("\r\n\r\n"sv);
    std::array<asio::const_buffer, 6> bufs{asio::buffer(head),       asio::buffer(pre),
                                           asio::buffer(model_json), asio::buffer(post),
                                           asio::buffer(inject),     asio::buffer(tail)};

    upstream::Lease lease;
    std::optional<upstream::ResponseReader> reader;
    for (int attempt = 0;; ++attempt) {
        // An idle keep-alive connection is taken without suspending (no coroutine frame).
        boost::system::error_code aec;
        upstream::Lease l = attempt == 0 ? pool.take_idle() : upstream::Lease{};
        if (!l) std::tie(aec, l) = co_await pool.acquire(deadline, to.connect, attempt > 0);
        if (aec) {
            if (aec == asio::error::timed_out || aec == beast::error::timeout) {
                co_return gateway_failure(classify_io(aec, true), Errc::upstream_timeout,
                                          "timed out connecting to provider \"" + prov.name +
                                              "\" (" + pr.origin.key() + ")");
            }
            co_return gateway_failure(classify_io(aec, true), Errc::upstream_connect,
                                      "cannot connect to provider \"" + prov.name + "\" (" +
                                          pr.origin.key() + "): " + aec.message());
        }
        lease = std::move(l);
        ctx.upstream_start = Clock::now();
        // the head is due within first_byte, and within the request's deadline (at least 1 ms)
        const auto head_by =
            std::min(ctx.upstream_start + to.first_byte,
                     std::max(deadline, ctx.upstream_start + std::chrono::milliseconds(1)));
        boost::system::error_code wec;
        if (!lease->write_now(bufs, wec)) wec = co_await lease->write_rest(head_by - Clock::now());
        if (!wec) {
            reader.emplace(*lease, kMaxUpstreamBody);
            wec = co_await reader->read_head(head_by);
            if (!wec) break;
        }
        bool stale_reuse = lease.reused() && attempt == 0 && (!reader || !reader->received_any()) &&
                           wec != beast::error::timeout;
        lease.discard();
        reader.reset();
        if (stale_reuse) continue;  // the server closed an idle keep-alive connection
        if (wec == beast::error::timeout) {
            co_return gateway_failure(
                Outcome::timeout_headers, Errc::upstream_timeout,
                "provider \"" + prov.name + "\" sent no response within the first_byte timeout");
        }
        co_return gateway_failure(classify_io(wec, false), Errc::upstream_protocol,
                                  "provider \"" + prov.name + "\" failed: " + wec.message());
    }

    PooledResponse response(lease, *reader);
    Attempt a = co_await relay(ctx, response, deadline, to.idle, wire.get());
    co_return a;
}

awaitable<Attempt> Pipeline::mock(RequestContext& ctx, unsigned attempt_on_target,
                                  Clock::time_point deadline) {
    const auto& prov = *ctx.provider;
    const auto& ms = prov.mock;
    const config::MockFault* fault = nullptr;
    std::string_view fault_name = ctx.model->mock_fault;
    if (ms.fault_header) {
        if (const auto* h = ctx.req.msg.find("x-baton-mock-fault")) fault_name = h->value;
    }
    if (!fault_name.empty()) {
        auto it = ms.faults.find(std::string(fault_name));
        if (it == ms.faults.end()) {
            std::string names;
            for (const auto& [n, f] : ms.faults) names += (names.empty() ? "" : ", ") + n;
            Attempt a;
            a.outcome = Outcome::client_error;
            a.error = make_error(Errc::invalid_request,
                                 "unknown mock fault \"" + std::string(fault_name) +
                                     "\" for provider \"" + prov.name + "\" (defined: " +
                                     (names.empty() ? std::string("none") : names) + ")",
                                 "x-baton-mock-fault");
            co_return a;
        }
        fault = &it->second;
    }
    double draw = static_cast<double>(splitmix64(rng_state_) >> 11) * 0x1.0p-53;
    MockResponse::Spec spec;
    spec.settings = &ms;
    spec.fault = fault;
    spec.attempt_on_target = attempt_on_target;
    spec.plan =
        providers::mock_plan(ms, ctx.chat, ctx.req.msg.body(), draw, splitmix64(rng_state_));
    spec.model = ctx.model->upstream_model;
    spec.id = ctx.request_id;
    spec.created = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    spec.stream = ctx.chat.stream;
    spec.format = ms.format;
    ctx.passthrough = false;
    std::unique_ptr<UpstreamWire> wire;
    if (ms.format == config::ProviderKind::openai) {
        // like a real upstream asked for usage by Baton (see forward): the chunk is stripped
        ctx.inject_usage = ctx.chat.stream && !ctx.chat.has_stream_options;
        spec.include_usage = ctx.chat.include_usage || ctx.inject_usage;
    } else {  // another wire format, translated back exactly like a real provider's
        ctx.inject_usage = ctx.chat.stream && !ctx.chat.include_usage;
        spec.include_usage = true;
        wire = make_upstream_wire(ms.format, true, spec.created);
    }
    deadline = std::min(deadline, Clock::now() + prov.timeouts.total);

    MockResponse response(ex_, spec);
    ctx.upstream_start = Clock::now();
    auto ec = co_await response.start(min_left(prov.timeouts.first_byte, deadline));
    if (ec) {
        ctx.upstream_end = Clock::now();
        co_return gateway_failure(
            Outcome::timeout_headers, Errc::upstream_timeout,
            "provider \"" + prov.name + "\" sent no response within the first_byte timeout");
    }
    Attempt a = co_await relay(ctx, response, deadline, prov.timeouts.idle, wire.get());
    co_return a;
}

void Pipeline::finish(RequestContext& ctx) {
    if (ctx.budget_hold && ctx.budget_hold->open()) {
        // settle to the real cost (streams and client aborts included); refund when nothing
        // was generated
        if (ctx.cost_usd >= 0 && ctx.have_usage) {
            ctx.budget_hold->settle(ctx.cost_usd);
        } else {
            ctx.budget_hold->refund();
        }
    }
    if (ctx.ticket.valid()) {
        if (ctx.have_usage) {
            ctx.ticket.settle(static_cast<uint32_t>(ctx.prompt_tokens + ctx.completion_tokens));
        } else if (ctx.status != 200) {
            ctx.ticket.settle(0);  // nothing was generated: refund the estimate
        }
        ctx.ticket.release();
    }
    auto end = Clock::now();
    auto& g = gm();
    g.bytes_in.inc(ctx.req.bytes_in);
    g.bytes_out.inc(ctx.out.bytes_out());
    if (ctx.stream_cut) g.stream_cuts.inc();
    if (ctx.status == 499) g.client_aborts.inc();
    if (ctx.api) {
        auto& mm =
            ctx.model ? *ctx.rt->model_metrics[ctx.model_index] : *ctx.rt->unknown_model_metrics;
        std::string_view route = !ctx.route.empty() ? std::string_view(ctx.route)
                                 : ctx.model        ? std::string_view(ctx.model->name)
                                                    : std::string_view("-");
        mm.requests(route, ctx.status).inc();
        if (ctx.model) {
            mm.duration->observe_seconds(
                std::chrono::duration<double>(end - ctx.req.received).count());
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
    if (ctx.rt->audit && ctx.api && ctx.path != "/v1/models" && ctx.path != "/models") {
        audit::Record r;
        r.request_id = ctx.request_id;
        if (ctx.principal) r.key = ctx.principal->name();
        r.route = ctx.route;
        if (ctx.model) r.model = ctx.model->name;
        r.required_tags = ctx.required_tags;
        r.data_classes = ctx.pii_counts;
        r.action = ctx.pii_action.empty() ? "allow" : ctx.pii_action;
        r.cost_usd = ctx.cost_usd > 0 ? ctx.cost_usd : 0;
        r.outcome =
            ctx.status == 200 && !ctx.stream_cut
                ? "ok"
                : "error:" + (ctx.error_code.empty() ? std::to_string(ctx.status) : ctx.error_code);
        // appended on the background thread: file I/O never blocks the event loop
        asio::post(background_pool(), [w = ctx.rt->audit, rec = std::move(r)] {
            if (auto res = w->append(rec); !res) {
                spdlog::error("audit log {}: {}", w->path(), res.error().message);
            }
        });
    }
    if (log::access_enabled() && (ctx.api || ctx.status >= 400)) {
        log::access(access_log_line(ctx, end));
    }
}

}  // namespace baton::proxy

namespace baton::proxy {

void finish_background_work() { background_pool().join(); }

ratelimit::BudgetLedger& budget_ledger() {
    static ratelimit::BudgetLedger ledger;
    return ledger;
}

policy::Plan Pipeline::make_plan(RequestContext& ctx, bool for_explain) {
    const auto& rt = *ctx.rt;
    auto body = std::string_view(ctx.req.msg.body());
    // A model named directly, with no rules configured, is served without filters or scoring:
    // the text scan for token and complexity estimates would be wasted work on the hot path.
    policy::Features features;
    if (!for_explain && rt.config->rules.empty() && rt.config->find_model(ctx.chat.model)) {
        features.stream = ctx.chat.stream;
        features.tools = ctx.chat.has_tools;
        features.images = ctx.chat.has_images;
        features.message_count = ctx.chat.message_count;
        features.prompt_tokens = static_cast<uint32_t>(ctx.chat.text_bytes / 4);
    } else {
        features = policy::extract_features(ctx.chat, body, &scan_cache_);
    }
    RequestHeaders headers(ctx.req.msg);
    policy::PlanInput in(*rt.config, rt.policy, ctx.chat.model, features);
    in.headers = &headers;
    in.request = &ctx.chat;
    in.body = body;
    in.sticky.user = ctx.chat.user;
    if (ctx.principal) in.sticky.key = ctx.principal->name();
    if (!ctx.required_tags.empty()) in.extra_required_tags = &ctx.required_tags;
    in.today_days = today_days();
    in.stats = rt.stats.get();
    return policy::plan(in);
}

// Labelled counters created on first use and cached per worker, so the hot path does one hash
// lookup instead of taking the registry's lock.
metrics::Counter& Pipeline::counter(std::string_view name, std::string_view help,
                                    std::initializer_list<LabelView> labels) {
    key_buf_.assign(name);
    for (const auto& [k, v] : labels) key_buf_.append("\x1f").append(v);
    auto it = counters_.find(key_buf_);
    if (it != counters_.end()) return *it->second;
    metrics::Labels owned;
    for (const auto& [k, v] : labels) owned.emplace_back(std::string(k), std::string(v));
    auto& c = metrics::global().counter(name, help, owned);
    counters_.emplace(key_buf_, &c);
    return c;
}

// The two counters every request touches remember their last labels: a steady workload asks
// for the same cell again and again, and comparing a few short strings is cheaper than building
// and hashing the cache key.
metrics::Counter& Pipeline::decision_counter(const RequestContext& ctx) {
    auto& m = decision_memo_;
    if (m.cell && m.labels[0] == ctx.route && m.labels[1] == ctx.model->name &&
        m.labels[2] == ctx.decisive && m.labels[3] == ctx.variant) {
        return *m.cell;
    }
    m.cell = &counter(
        "baton_routing_decisions_total",
        "Routing decisions by route, chosen model, deciding factor and experiment variant.",
        {{"route", ctx.route},
         {"model", ctx.model->name},
         {"reason", ctx.decisive},
         {"variant", ctx.variant}});
    m.labels[0] = ctx.route;
    m.labels[1] = ctx.model->name;
    m.labels[2] = ctx.decisive;
    m.labels[3] = ctx.variant;
    return *m.cell;
}

metrics::Counter& Pipeline::attempt_counter(const std::string& provider, const std::string& model,
                                            Outcome o) {
    auto& m = attempt_memo_;
    if (m.cell && m.outcome == o && m.labels[0] == provider && m.labels[1] == model) {
        return *m.cell;
    }
    m.cell = &counter("baton_upstream_attempts_total",
                      "Upstream attempts by provider, model and outcome class.",
                      {{"provider", provider}, {"model", model}, {"outcome", to_string(o)}});
    m.labels[0] = provider;
    m.labels[1] = model;
    m.outcome = o;
    return *m.cell;
}

metrics::Counter& Pipeline::retry_decision(std::string_view action) {
    return counter("baton_retry_decisions_total",
                   "What the attempt loop did after a failed attempt.", {{"decision", action}});
}

metrics::Counter& Pipeline::breaker_skips(const std::string& model) {
    return counter("baton_circuit_skips_total",
                   "Candidates skipped because their circuit breaker was open or their provider "
                   "failed its health check.",
                   {{"model", model}});
}

metrics::Counter& Pipeline::pii_counter(pii::Class cls, const char* action) {
    return counter("baton_pii_findings_total",
                   "Sensitive-data findings in requests, by class and action.",
                   {{"class", pii::class_name(cls)}, {"action", action}});
}

awaitable<void> Pipeline::admin_health(RequestContext& ctx) {
    const auto& rt = *ctx.rt;
    auto now = Clock::now();
    nlohmann::json models = nlohmann::json::array();
    for (size_t i = 0; i < rt.config->models.size(); ++i) {
        const auto& m = rt.config->models[i];
        auto lat = rt.stats->read(i);
        auto& b = *rt.breakers[i];
        models.push_back({{"model", m.name},
                          {"provider", m.provider},
                          {"circuit", CircuitBreaker::to_string(b.state(now))},
                          {"consecutive_failures", b.consecutive_failures()},
                          {"ttft_ms_ewma", lat.ttft_ms},
                          {"tokens_per_s_ewma", lat.tokens_per_s},
                          {"latency_samples", lat.ttft_samples}});
    }
    nlohmann::json providers = nlohmann::json::array();
    for (size_t i = 0; i < rt.config->providers.size(); ++i) {
        auto h = rt.health[i]->report();
        nlohmann::json p{{"provider", rt.config->providers[i].name},
                         {"health_check", h.checked},
                         {"healthy", h.healthy}};
        if (h.checked) {
            p["checks"] = h.checks;
            p["consecutive_failures"] = h.consecutive_failures;
            p["last_check_ms_ago"] = h.last_check_ms_ago;
            if (!h.last_error.empty()) p["last_error"] = h.last_error;
        }
        providers.push_back(std::move(p));
    }
    nlohmann::json j{{"status", process_.draining.load() ? "draining" : "ok"},
                     {"config_generation", rt.generation},
                     {"providers", providers},
                     {"models", models}};
    ctx.status = 200;
    co_await ctx.out.send(200, "application/json", "x-request-id: " + ctx.request_id + "\r\n",
                          j.dump(2));
}

// The loaded config, summarised: what is running, never a secret (keys appear only as their
// env:/file: reference, or "<inline>").
// Usage per virtual key: limits, what is left of them now, requests in flight and spend per
// budget period. Names and metadata only: no hashes, no keys.
awaitable<void> Pipeline::admin_keys(RequestContext& ctx) {
    const auto& rt = *ctx.rt;
    auto as_json = [](double v) -> nlohmann::json {
        if (!std::isfinite(v)) return nullptr;
        return std::round(v * 1e9) / 1e9;
    };
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : rt.keys.keys()) {
        nlohmann::json j{{"name", k->name},
                         {"admin", k->admin},
                         {"models", k->models},
                         {"require_tags", k->required_tags},
                         {"metadata", k->metadata}};
        ratelimit::Limits lim{k->rpm, k->tpm, k->max_concurrent};
        auto rh = rate_limiter().peek(k->name, lim);
        nlohmann::json limits{{"rpm", k->rpm},
                              {"tpm", k->tpm},
                              {"max_concurrent", k->max_concurrent},
                              {"in_flight", rate_limiter().in_flight(k->name)}};
        if (rh.has_requests) limits["remaining_requests"] = rh.remaining_requests;
        if (rh.has_tokens) limits["remaining_tokens"] = rh.remaining_tokens;
        j["limits"] = std::move(limits);
        ratelimit::BudgetLimits bl{k->budget_day_usd, k->budget_week_usd, k->budget_month_usd};
        if (bl.any()) {
            auto st = budget_ledger().status(k->name, bl);
            nlohmann::json periods = nlohmann::json::object();
            for (const auto& p : st.periods) {
                if (!p.limit_usd) continue;
                auto reset =
                    std::chrono::duration_cast<std::chrono::seconds>(p.resets_at.time_since_epoch())
                        .count();
                periods[std::string(ratelimit::period_name(p.period))] = {
                    {"limit_usd", *p.limit_usd},
                    {"spent_usd", as_json(p.spent_usd)},
                    {"resets_at_unix", reset}};
            }
            j["budget"] = {{"periods", periods},
                           {"in_flight_usd", as_json(st.reserved_usd)},
                           {"remaining_usd", as_json(st.remaining_usd)}};
        }
        keys.push_back(std::move(j));
    }
    nlohmann::json body{{"auth_required", rt.config->auth.required}, {"keys", keys}};
    ctx.status = 200;
    co_await ctx.out.send(200, "application/json", "x-request-id: " + ctx.request_id + "\r\n",
                          body.dump(2));
}

awaitable<void> Pipeline::admin_config(RequestContext& ctx) {
    const auto& rt = *ctx.rt;
    const auto& c = *rt.config;
    nlohmann::json providers = nlohmann::json::array();
    for (const auto& p : c.providers) {
        std::string key = p.api_key_ref;
        if (key.empty() && !p.api_key.empty()) key = "<inline, redacted>";
        providers.push_back({{"name", p.name},
                             {"kind", std::string(config::to_string(p.kind))},
                             {"base_url", p.base_url},
                             {"api_key", key},
                             {"api_key_missing", p.api_key_missing},
                             {"max_connections", p.max_connections}});
    }
    nlohmann::json models = nlohmann::json::array();
    for (const auto& m : c.models) {
        models.push_back({{"name", m.name},
                          {"provider", m.provider},
                          {"upstream_model", m.upstream_model},
                          {"tags", m.tags},
                          {"capabilities", m.capabilities}});
    }
    nlohmann::json routes = nlohmann::json::array();
    for (const auto& r : c.routes)
        routes.push_back({{"name", r.name}, {"candidates", r.candidates}});
    nlohmann::json j{{"source", c.source_path},   {"sha256", c.source_sha256},
                     {"loaded_at", rt.loaded_at}, {"generation", rt.generation},
                     {"providers", providers},    {"models", models},
                     {"routes", routes},          {"rules", c.rules.size()}};
    ctx.status = 200;
    co_await ctx.out.send(200, "application/json", "x-request-id: " + ctx.request_id + "\r\n",
                          j.dump(2));
}

void Pipeline::record_latency(const RequestContext& ctx) {
    if (ctx.status != 200 || ctx.upstream_start == Clock::time_point{} ||
        ctx.upstream_end == Clock::time_point{}) {
        return;
    }
    auto ms = [](Clock::duration d) {
        return std::chrono::duration<double, std::milli>(d).count();
    };
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
    auto plan = make_plan(ctx, true);
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
