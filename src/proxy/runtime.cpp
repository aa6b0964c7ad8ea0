#include "baton/proxy/runtime.hpp"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "baton/core/error.hpp"

namespace baton::proxy {

metrics::Counter& ModelMetrics::requests(std::string_view route, unsigned status) {
    size_t idx = status < by_status_.size() ? status : 0;
    metrics::Counter* c = by_status_[idx].load(std::memory_order_acquire);
    if (c) return *c;
    c = &metrics::global().counter(
        "baton_requests_total", "Requests answered, by route, configured model and HTTP status.",
        {{"route", std::string(route)}, {"model", model}, {"status", std::to_string(status)}});
    by_status_[idx].store(c, std::memory_order_release);
    return *c;
}

namespace {
std::shared_ptr<asio::ssl::context> make_ssl_context(const config::Provider& p) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (!p.tls_settings.ca_file.empty()) {
        ctx->load_verify_file(p.tls_settings.ca_file, ec);
        if (ec) {
            throw ConfigError("providers." + p.name + ".tls.ca_file: cannot load \"" +
                              p.tls_settings.ca_file + "\": " + ec.message());
        }
    }
    return ctx;
}

// Host, credentials, user agent and the provider's extra headers (each line CRLF-terminated).
void append_common_headers(std::string& s, const config::Provider& p) {
    s.append("Host: ").append(p.host);
    if ((p.tls && p.port != 443) || (!p.tls && p.port != 80)) {
        s.append(":").append(std::to_string(p.port));
    }
    s.append("\r\n");
    if (!p.api_key.empty()) {
        switch (p.kind) {
            case config::ProviderKind::azure:
                s.append("api-key: ").append(p.api_key).append("\r\n");
                break;
            case config::ProviderKind::anthropic:
                s.append("x-api-key: ").append(p.api_key).append("\r\n");
                break;
            case config::ProviderKind::gemini:
                s.append("x-goog-api-key: ").append(p.api_key).append("\r\n");
                break;
            default:
                s.append("Authorization: Bearer ").append(p.api_key).append("\r\n");
        }
    }
    if (p.kind == config::ProviderKind::anthropic) {
        s.append("anthropic-version: ").append(p.anthropic_version).append("\r\n");
    }
    s.append("User-Agent: baton/" BATON_VERSION "\r\n");
    for (const auto& [k, v] : p.headers) s.append(k).append(": ").append(v).append("\r\n");
}

}  // namespace

std::string request_prefix(const config::Provider& p, const config::Model& m,
                           std::string_view endpoint, bool stream) {
    std::string s;
    s.reserve(256);
    s.append("POST ").append(p.base_path);
    switch (p.kind) {
        case config::ProviderKind::azure:
            s.append("/openai/deployments/")
                .append(m.upstream_model)
                .append("/")
                .append(endpoint)
                .append("?api-version=")
                .append(p.api_version);
            break;
        case config::ProviderKind::anthropic:
            s.append("/messages");
            break;
        case config::ProviderKind::gemini:
            s.append("/models/")
                .append(m.upstream_model)
                .append(stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
            break;
        default:
            s.append("/").append(endpoint);
    }
    s.append(" HTTP/1.1\r\n");
    append_common_headers(s, p);
    s.append("Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n");
    return s;
}

namespace {

// The request line and headers of a chat call to model `m` (stream: the streaming endpoint,
// which differs only for gemini).
std::string chat_prefix(const config::Provider& p, const config::Model& m, bool stream) {
    return request_prefix(p, m, "chat/completions", stream);
}

std::string health_request(const config::Provider& p) {
    std::string s;
    s.append("GET ").append(p.base_path).append(p.health_check.path).append(" HTTP/1.1\r\n");
    append_common_headers(s, p);
    s.append("Accept: application/json\r\nConnection: close\r\n\r\n");
    return s;
}
}  // namespace

metrics::Counter* Runtime::cost_counter(std::string_view route, size_t model_index) const {
    auto it = cost_counters.find(std::pair<std::string, size_t>(std::string(route), model_index));
    if (it != cost_counters.end()) return it->second;
    // A deprecation replacement outside the route's candidates: created on first use.
    return &metrics::global().scaled_counter(
        "baton_cost_usd_total",
        "Estimated spend in USD (tokens x catalogue prices), by model and route.",
        {{"model", config->models[model_index].name}, {"route", std::string(route)}}, 1e-9);
}

std::shared_ptr<const Runtime> build_runtime(std::shared_ptr<const config::Config> cfg,
                                             uint64_t generation, const Runtime* previous) {
    auto rt = std::make_shared<Runtime>();
    rt->config = cfg;
    rt->generation = generation;
    {
        auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
        std::tm tm{};
        gmtime_r(&now, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        rt->loaded_at = buf;
    }
    rt->policy = policy::compile(*cfg);
    if (!rt->policy.ok()) {
        std::string msg;
        for (const auto& e : rt->policy.errors()) {
            if (!msg.empty()) msg += "\n";
            msg += cfg->source_path + ":" + std::to_string(e.line) + ": " + e.message;
        }
        throw ConfigError(msg);
    }
    if (!cfg->keys.empty()) {
        std::vector<auth::KeyConfig> keys;
        for (const auto& k : cfg->keys) {
            auth::KeyConfig kc;
            kc.name = k.name;
            kc.hash = k.hash;
            kc.models = k.models;
            kc.required_tags = k.require_tags;
            kc.rpm = k.rpm;
            kc.tpm = k.tpm;
            kc.max_concurrent = k.max_concurrent;
            kc.budget_day_usd = k.budget_day_usd;
            kc.budget_week_usd = k.budget_week_usd;
            kc.budget_month_usd = k.budget_month_usd;
            kc.metadata = k.metadata;
            kc.admin = k.admin;
            keys.push_back(std::move(kc));
        }
        rt->keys = auth::KeyStore(std::move(keys), cfg->auth.secret);
    }
    if (!cfg->audit.path.empty()) {
        // One writer per file for the process lifetime: two writers would fork the chain.
        static std::mutex mu;
        static std::map<std::string, std::shared_ptr<audit::AuditWriter>> writers;
        std::lock_guard lk(mu);
        auto& w = writers[cfg->audit.path];
        if (!w) w = audit::AuditWriter::open({cfg->audit.path, cfg->audit.fsync, {}});
        rt->audit = w;
    }
    if (cfg->injection.enabled) {
        guard::GuardConfig gc;
        gc.threshold = cfg->injection.threshold;
        if (!cfg->injection.categories.empty()) {
            gc.enabled.clear();
            for (const auto& name : cfg->injection.categories) {
                guard::Category c{};
                if (guard::parse_category(name, c)) gc.enabled.push_back(c);
            }
        }
        rt->injection = guard::InjectionScanner::compile(gc);
    }
    rt->stats = std::make_shared<policy::LatencyStats>(cfg->models.size());
    if (previous && previous->stats) {
        rt->stats->import_from(*previous->stats, *previous->config, *cfg);
    }
    {
        // Breakers live as long as their deployment (provider/model) stays configured.
        static std::mutex mu;
        static std::map<std::string, std::weak_ptr<CircuitBreaker>> live;
        std::lock_guard lk(mu);
        for (const auto& m : cfg->models) {
            const auto& r = cfg->providers[m.provider_index].resilience;
            BreakerSettings bs{r.breaker_consecutive, r.breaker_ratio, r.breaker_min_requests,
                               r.breaker_window, r.breaker_cool_down};
            auto key = m.provider + "/" + m.name;
            auto b = live[key].lock();
            if (!b || !(b->settings() == bs)) {  // new deployment, or its settings changed
                b = std::make_shared<CircuitBreaker>(bs);
                live[key] = b;
            }
            rt->breakers.push_back(std::move(b));
        }
    }
    auto& reg = metrics::global();
    const char* cost_help =
        "Estimated spend in USD (tokens x catalogue prices), by model and route.";
    for (size_t i = 0; i < cfg->models.size(); ++i) {
        rt->cost_counters[{cfg->models[i].name, i}] = &reg.scaled_counter(
            "baton_cost_usd_total", cost_help,
            {{"model", cfg->models[i].name}, {"route", cfg->models[i].name}}, 1e-9);
    }
    for (const auto& route : cfg->routes) {
        for (size_t i : route.candidate_models) {
            rt->cost_counters[{route.name, i}] =
                &reg.scaled_counter("baton_cost_usd_total", cost_help,
                                    {{"model", cfg->models[i].name}, {"route", route.name}}, 1e-9);
        }
    }
    for (const auto& p : cfg->providers) {
        ProviderRuntime pr;
        pr.upstream_duration =
            &reg.histogram("baton_upstream_duration_seconds",
                           "Time from sending a request upstream to its last response byte.",
                           {{"provider", p.name}}, metrics::latency_buckets());
        if (p.kind != config::ProviderKind::mock) {
            pr.origin.tls = p.tls;
            pr.origin.host = p.host;
            pr.origin.port = p.port;
            pr.origin.verify = p.tls_settings.verify;
            if (p.tls) pr.origin.ssl = make_ssl_context(p);
            pr.pool_key = pr.origin.key() + "|" + std::to_string(p.max_connections) + "|" +
                          p.tls_settings.ca_file + "|" + (p.tls_settings.verify ? "v" : "nv") +
                          "|" + std::to_string(p.pool_idle.count()) + "|" + p.name;
            if (p.health_check.enabled) pr.health_request = health_request(p);
        }
        rt->providers.push_back(std::move(pr));
        rt->health.push_back(provider_health(p.name));
    }
    nlohmann::json data = nlohmann::json::array();
    for (const auto& m : cfg->models) {
        auto mm = std::make_unique<ModelMetrics>();
        mm->model = m.name;
        mm->provider = m.provider;
        mm->duration = &reg.histogram("baton_request_duration_seconds",
                                      "Total request latency seen by the client, by model.",
                                      {{"model", m.name}}, metrics::latency_buckets());
        mm->ttft = &reg.histogram("baton_ttft_seconds",
                                  "Time to first token (first body byte of a stream), by model.",
                                  {{"model", m.name}}, metrics::latency_buckets());
        mm->prompt_tokens = &reg.counter("baton_tokens_total", "Tokens reported by upstreams.",
                                         {{"model", m.name}, {"kind", "prompt"}});
        mm->completion_tokens = &reg.counter("baton_tokens_total", "Tokens reported by upstreams.",
                                             {{"model", m.name}, {"kind", "completion"}});
        rt->model_metrics.push_back(std::move(mm));
        rt->upstream_model_json.push_back(nlohmann::json(m.upstream_model).dump());
        const auto& prov = cfg->providers[m.provider_index];
        if (prov.kind != config::ProviderKind::mock) {
            rt->chat_prefix.push_back(chat_prefix(prov, m, false));
            rt->stream_prefix.push_back(prov.kind == config::ProviderKind::gemini
                                            ? chat_prefix(prov, m, true)
                                            : rt->chat_prefix.back());
        } else {
            rt->chat_prefix.emplace_back();
            rt->stream_prefix.emplace_back();
        }
        // OpenAI's model object, plus what Baton knows (clients ignore unknown fields)
        nlohmann::json entry{
            {"id", m.name},
            {"object", "model"},
            {"created", 0},
            {"owned_by", m.provider},
            {"kind", m.kind == config::ModelKind::embedding ? "embedding" : "chat"},
            {"provider_kind", std::string(config::to_string(prov.kind))},
            {"capabilities", m.capabilities},
            {"tags", m.tags}};
        if (m.context_window > 0) entry["context_window"] = m.context_window;
        if (m.max_output_tokens > 0) entry["max_output_tokens"] = m.max_output_tokens;
        entry["price_usd_per_mtok"] = {{"input", m.price.input}, {"output", m.price.output}};
        if (m.deprecated) entry["deprecated_after"] = m.deprecated->after;
        data.push_back(std::move(entry));
        if (!rt->known_models_list.empty()) rt->known_models_list += ", ";
        rt->known_models_list += m.name;
    }
    for (const auto& r : cfg->routes) {  // routes are addressable like models
        nlohmann::json candidates = nlohmann::json::array();
        for (size_t i : r.candidate_models) candidates.push_back(cfg->models[i].name);
        data.push_back({{"id", r.name},
                        {"object", "model"},
                        {"created", 0},
                        {"owned_by", "baton"},
                        {"kind", "route"},
                        {"candidates", candidates}});
    }
    rt->unknown_model_metrics = std::make_unique<ModelMetrics>();
    rt->unknown_model_metrics->model = "-";
    rt->models_json = nlohmann::json{{"object", "list"}, {"data", data}}.dump();
    return rt;
}

void SnapshotHolder::publish(std::shared_ptr<const Runtime> rt) {
    std::lock_guard lk(mu_);
    rt_ = std::move(rt);
    gen_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const Runtime> SnapshotHolder::current() const {
    std::lock_guard lk(mu_);
    return rt_;
}

}  // namespace baton::proxy
