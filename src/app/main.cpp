// baton: the daemon's entry point. Parses the command line, loads the config, starts one worker
// per thread, and handles signals (SIGHUP reload, SIGTERM/SIGINT drain).
#ifdef BATON_WITH_MIMALLOC
#include <mimalloc.h>
#endif
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "baton/audit/log.hpp"
#include "baton/auth/keys.hpp"
#include "baton/config/load.hpp"
#include "baton/core/error.hpp"
#include "baton/core/log.hpp"
#include "baton/openai/chat_request.hpp"
#include "baton/openai/error_envelope.hpp"
#include "baton/policy/engine.hpp"
#include "baton/proxy/pipeline.hpp"
#include "baton/server/worker.hpp"
#include "baton/state/spend_store.hpp"

namespace {

using namespace baton;

// Exit codes (documented in README and --help).
constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;   // invalid config (or --check found problems)
constexpr int kExitUsage = 2;    // bad command line
constexpr int kExitRuntime = 3;  // could not start (bind failed, ...)

const char* kHelp = R"(baton - a fast LLM routing gateway

usage:
  baton --config FILE        run the gateway with FILE (YAML)
  baton --check FILE         validate FILE, print every problem, exit 0 (valid) or 1
  baton explain --config FILE REQUEST.json [--header NAME:VALUE ...]
                             print the routing decision for a chat request (no upstream call)
  baton keys new --name NAME [--secret env:VAR|file:PATH]
                             print a fresh virtual key (once) and the YAML entry with its hash
                             (secret defaults to env:BATON_KEY_SECRET)
  baton audit verify FILE    check an audit log's hash chain; exit 0 intact, 1 broken
  baton --probe URL          GET URL (http://host:port/path); exit 0 on 2xx, 1 otherwise
                             (container health checks without curl)
  baton --version            print the version
  baton --help               this text

options (with --config):
  --listen HOST:PORT         override server.listen (also BATON_LISTEN)

signals:
  SIGHUP                     reload the config; an invalid file is rejected, the old one kept
  SIGTERM, SIGINT            stop accepting, finish in-flight requests (server.timeouts.drain),
                             exit 0

exit codes: 0 ok, 1 invalid config, 2 bad usage, 3 runtime failure (e.g. cannot listen)
)";

void print_diagnostics(const config::LoadResult& r, std::FILE* f) {
    for (const auto& d : r.diagnostics) std::fprintf(f, "%s\n", d.format().c_str());
}

config::LoadResult load(const std::string& path, const std::string& listen_override) {
    auto r = config::load_file(path);
    if (r.ok() && !listen_override.empty()) {
        // Re-validate through the loader so the override gets the same checks.
        auto colon = listen_override.rfind(':');
        if (colon == std::string::npos) {
            config::Diagnostic d;
            d.file = "--listen";
            d.path = "server.listen";
            d.message = "expected HOST:PORT, got \"" + listen_override + "\"";
            r.diagnostics.push_back(d);
        } else {
            std::string host = listen_override.substr(0, colon);
            if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
                host = host.substr(1, host.size() - 2);
            }
            r.config.server.listen = listen_override;
            r.config.server.host = host;
            r.config.server.port = static_cast<uint16_t>(
                std::strtoul(listen_override.c_str() + colon + 1, nullptr, 10));
        }
    }
    return r;
}

bool has_budgets(const config::Config& cfg) {
    return std::any_of(cfg.keys.begin(), cfg.keys.end(), [](const auto& k) {
        return k.budget_day_usd || k.budget_week_usd || k.budget_month_usd;
    });
}

struct Daemon {
    std::string config_path;
    std::string listen_override;
    proxy::SnapshotHolder holder;
    proxy::ProcessState process;
    std::atomic<int64_t> open_connections{0};
    std::vector<std::unique_ptr<server::Worker>> workers;
    std::vector<proxy::Pipeline*> pipelines;
    uint64_t generation = 1;
    bool listener_tls = false;  // the workers speak HTTPS (fixed until restart)
    metrics::Counter* reload_ok = nullptr;
    metrics::Counter* reload_rejected = nullptr;
    proxy::HealthChecker* health = nullptr;  // active provider checks (main thread)
    std::string state_path;                  // the spend store in use ("" = none)

    void reload() {
        auto r = load(config_path, listen_override);
        if (!r.ok()) {
            reload_rejected->inc();
            spdlog::error("reload rejected: {} has errors; still serving the previous config",
                          config_path);
            for (const auto& d : r.diagnostics) spdlog::error("{}", d.format());
            return;
        }
        for (const auto& d : r.diagnostics) spdlog::warn("{}", d.format());
        try {
            auto cfg = std::make_shared<const config::Config>(std::move(r.config));
            auto previous = holder.current();
            const auto& old_sv = previous->config->server;
            const auto& new_sv = cfg->server;
            if (old_sv.listen != new_sv.listen || old_sv.threads != new_sv.threads ||
                old_sv.max_body_bytes != new_sv.max_body_bytes ||
                old_sv.max_header_bytes != new_sv.max_header_bytes ||
                old_sv.max_connections != new_sv.max_connections ||
                old_sv.timeouts.header_read != new_sv.timeouts.header_read ||
                old_sv.timeouts.idle != new_sv.timeouts.idle) {
                spdlog::warn(
                    "reload: changes to server.* (listen, threads, limits, timeouts "
                    "except drain) take effect at the next restart");
            }
            if (listener_tls != new_sv.tls.has_value()) {
                spdlog::warn("reload: turning server.tls {} takes effect at the next restart",
                             new_sv.tls ? "on" : "off");
            }
            holder.publish(proxy::build_runtime(cfg, generation + 1, previous.get()));
            ++generation;  // only once the new snapshot is built and published
            if (health) health->sync();
            if (cfg->state.persist && has_budgets(*cfg) && cfg->state.path != state_path) {
                spdlog::warn(state_path.empty()
                                 ? "reload: spend is kept in memory until the next restart "
                                   "(no state file was opened at startup)"
                                 : "reload: state.path changes take effect at the next restart");
            }
            if (listener_tls && new_sv.tls) {
                // Certificate rotation: the loader re-read the files into a new context; new
                // connections use it, established ones keep theirs.
                for (auto& w : workers) w->set_tls(new_sv.tls->ssl_ctx);
                spdlog::info("reload: listener TLS certificate loaded from {}",
                             new_sv.tls->cert_file);
            }
            log::setup(cfg->logging.level, cfg->logging.access_log);
            reload_ok->inc();
            spdlog::info("config reloaded from {} (generation {})", config_path, generation);
        } catch (const std::exception& e) {
            reload_rejected->inc();
            spdlog::error("reload rejected: {}; still serving the previous config", e.what());
        }
    }
};

awaitable<void> sweep_loop(server::Worker& w, proxy::Pipeline& p) {
    asio::steady_timer t(w.ioc());
    while (!w.draining()) {
        t.expires_after(std::chrono::seconds(5));
        co_await t.async_wait(use_nothrow);
        p.sweep_pools();
    }
}

int run(const std::string& path, const std::string& listen_override) {
    auto r = load(path, listen_override);
    if (!r.ok()) {
        print_diagnostics(r, stderr);
        std::fprintf(stderr, "baton: %s is invalid; not starting\n", path.c_str());
        return kExitConfig;
    }
    Daemon d;
    d.config_path = path;
    d.listen_override = listen_override;
    std::shared_ptr<const config::Config> cfg;
    try {
        log::setup(r.config.logging.level, r.config.logging.access_log);
        for (const auto& diag : r.diagnostics) spdlog::warn("{}", diag.format());
        cfg = std::make_shared<const config::Config>(std::move(r.config));
        d.holder.publish(proxy::build_runtime(cfg, d.generation));
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "baton: %s\n", e.what());
        return kExitConfig;
    }
    // Spend survives restarts: restored from the state file before any request, then every
    // charge is written by the store's own thread (never on an event loop).
    std::unique_ptr<state::SpendStore> spend_store;
    if (cfg->state.persist && has_budgets(*cfg)) {
        state::SpendStore::Options so;
        so.path = cfg->state.path;
        so.flush_interval = cfg->state.flush_interval;
        auto opened = state::SpendStore::open(so);
        if (!opened) {
            spdlog::error("state: {}", opened.error().message);
            return kExitRuntime;
        }
        auto entries = opened.value()->load();
        if (!entries) {
            spdlog::error("state: {}", entries.error().message);
            return kExitRuntime;
        }
        proxy::budget_ledger().restore(entries.value());
        opened.value()->attach(proxy::budget_ledger());
        spend_store = std::move(opened.value());
        d.state_path = cfg->state.path;
        spdlog::info("state: spend kept in {} ({} period totals restored)", cfg->state.path,
                     entries.value().size());
    }
    auto& reg = metrics::global();
    d.reload_ok =
        &reg.counter("baton_config_reloads_total", "Config reloads by result.", {{"result", "ok"}});
    d.reload_rejected = &reg.counter("baton_config_reloads_total", "Config reloads by result.",
                                     {{"result", "rejected"}});

    const auto& sv = cfg->server;
    unsigned threads =
        sv.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : sv.threads;
    server::Limits limits;
    limits.max_header_bytes = sv.max_header_bytes;
    limits.max_body_bytes = sv.max_body_bytes;
    limits.header_read = sv.timeouts.header_read;
    limits.idle = sv.timeouts.idle;
    limits.max_connections = sv.max_connections;

    uint16_t port = sv.port;
    d.listener_tls = sv.tls.has_value();
    try {
        for (unsigned i = 0; i < threads; ++i) {
            auto w = std::make_unique<server::Worker>(limits, d.open_connections);
            auto p =
                std::make_unique<proxy::Pipeline>(w->ioc().get_executor(), d.holder, d.process);
            d.pipelines.push_back(p.get());
            w->set_handler(std::move(p));
            if (sv.tls) w->set_tls(sv.tls->ssl_ctx);  // built and checked by the loader
            port = w->listen(sv.host, port);          // the first bind fixes an ephemeral port
            d.workers.push_back(std::move(w));
        }
    } catch (const ConfigError& e) {
        spdlog::error("{}", e.what());
        return kExitRuntime;
    }
    // Signals are handled on the main thread's own io_context. The handlers are installed
    // before any worker runs and before the ready line, so an early SIGTERM/SIGHUP is never
    // fatal.
    asio::io_context main_ioc;
    asio::signal_set signals(main_ioc, SIGINT, SIGTERM, SIGHUP);
    proxy::HealthChecker health(main_ioc, d.holder);
    d.health = &health;
    health.sync();
    for (size_t i = 0; i < d.workers.size(); ++i) {
        d.workers[i]->start();
        asio::co_spawn(d.workers[i]->ioc(), sweep_loop(*d.workers[i], *d.pipelines[i]),
                       asio::detached);
    }
    std::vector<std::thread> threads_v;
    for (auto& w : d.workers) {
        threads_v.emplace_back([&w] {
            auto guard = asio::make_work_guard(w->ioc());
            w->run();
        });
    }
    std::string host = sv.host.find(':') != std::string::npos ? "[" + sv.host + "]" : sv.host;
    // The ready line is printed whatever the log level: supervisors and tests wait for it.
    auto ready = fmt::format("baton {} listening on {}://{}:{} ({} worker thread{}, {} models)",
                             BATON_VERSION, sv.tls ? "https" : "http", host, port, threads,
                             threads == 1 ? "" : "s", cfg->models.size());
    if (spdlog::should_log(spdlog::level::info)) {
        spdlog::info("{}", ready);
    } else {
        std::fprintf(stderr, "%s\n", ready.c_str());
    }

    bool stopping = false;
    Clock::time_point drain_deadline{};
    asio::steady_timer poll(main_ioc);
    std::function<void()> wait_drained = [&] {
        int64_t active = 0;
        for (auto& w : d.workers) active += w->active_sessions();
        if (active == 0 || Clock::now() >= drain_deadline) {
            if (active > 0) spdlog::warn("drain timeout: closing {} connection(s)", active);
            for (auto& w : d.workers) w->stop();
            return;
        }
        poll.expires_after(std::chrono::milliseconds(20));
        poll.async_wait([&](boost::system::error_code) { wait_drained(); });
    };
    std::function<void(boost::system::error_code, int)> on_signal =
        [&](boost::system::error_code ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                spdlog::info("SIGHUP: reloading {}", d.config_path);
                d.reload();
                signals.async_wait(on_signal);
                return;
            }
            if (stopping) {
                spdlog::warn("second signal: exiting now");
                for (auto& w : d.workers) w->stop();
                return;
            }
            stopping = true;
            d.process.draining.store(true);
            auto drain = d.holder.current()->config->server.timeouts.drain;
            spdlog::info("{}: draining (up to {} ms)", sig == SIGINT ? "SIGINT" : "SIGTERM",
                         drain.count());
            drain_deadline = Clock::now() + drain;
            for (auto& w : d.workers) w->drain();
            wait_drained();
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);
    std::thread main_thread([&] { main_ioc.run(); });
    for (auto& t : threads_v) t.join();
    main_ioc.stop();
    main_thread.join();
    // Requests a drain timeout cut short are torn down with their workers: their budget holds
    // are charged then, before the store's last write.
    d.pipelines.clear();
    d.workers.clear();
    proxy::finish_background_work();  // pending audit records reach the file before exit
    spend_store.reset();              // the last charges reach the state file
    spdlog::info("baton stopped");
    return kExitOk;
}

}  // namespace

// --probe: a tiny blocking HTTP GET for container health checks (no curl in the image).
int probe(const std::string& url) {
    std::string rest = url;
    if (rest.rfind("http://", 0) != 0) {
        std::fprintf(stderr, "baton: --probe needs an http:// URL, got \"%s\"\n", url.c_str());
        return kExitUsage;
    }
    rest = rest.substr(7);
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = hostport.rfind(':');
    std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
    std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
    try {
        asio::io_context ioc;
        asio::ip::tcp::resolver resolver(ioc);
        beast::tcp_stream stream(ioc);
        stream.expires_after(std::chrono::seconds(5));
        stream.connect(resolver.resolve(host, port));
        http::request<http::empty_body> req(http::verb::get, target, 11);
        req.set(http::field::host, hostport);
        req.set(http::field::user_agent, "baton-probe");
        http::write(stream, req);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(stream, buf, res);
        std::printf("%u %s\n", res.result_int(), res.body().c_str());
        return res.result_int() >= 200 && res.result_int() < 300 ? kExitOk : 1;
    } catch (const std::exception& e) {
        std::string what = e.what();
        if (auto p = what.find(" ["); p != std::string::npos) what.resize(p);
        std::fprintf(stderr, "baton: probe %s failed: %s\n", url.c_str(), what.c_str());
        return 1;
    }
}

// `baton explain`: the same plan as POST /v1/route/explain, offline.
int explain_cli(int argc, char** argv) {
    std::string cfg_path, req_path;
    policy::MapHeaders headers;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if ((a == "--config" || a == "-c") && i + 1 < argc) {
            cfg_path = argv[++i];
        } else if (a == "--header" && i + 1 < argc) {
            std::string h = argv[++i];
            auto colon = h.find(':');
            if (colon == std::string::npos) {
                std::fprintf(stderr, "baton explain: --header needs NAME:VALUE, got \"%s\"\n",
                             h.c_str());
                return kExitUsage;
            }
            std::string v = h.substr(colon + 1);
            while (!v.empty() && v.front() == ' ') v.erase(0, 1);
            headers.set(h.substr(0, colon), v);
        } else if (req_path.empty() && a.rfind("--", 0) != 0) {
            req_path = a;
        } else {
            std::fprintf(stderr, "baton explain: unexpected argument \"%s\"\n%s", a.c_str(), kHelp);
            return kExitUsage;
        }
    }
    if (cfg_path.empty() || req_path.empty()) {
        std::fprintf(stderr, "baton explain: needs --config FILE and a request file\n%s", kHelp);
        return kExitUsage;
    }
    auto r = config::load_file(cfg_path);
    if (!r.ok()) {
        print_diagnostics(r, stderr);
        return kExitConfig;
    }
    std::string body;
    {
        std::FILE* f = req_path == "-" ? stdin : std::fopen(req_path.c_str(), "rb");
        if (!f) {
            std::fprintf(stderr, "baton explain: cannot read %s: %s\n", req_path.c_str(),
                         std::strerror(errno));
            return kExitUsage;
        }
        char buf[65536];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) body.append(buf, n);
        if (f != stdin) std::fclose(f);
    }
    auto scanned = openai::scan_chat_request(body);
    if (!scanned) {
        std::printf("%s\n", openai::error_body(scanned.error()).c_str());
        return 1;
    }
    auto compiled = policy::compile(r.config);
    auto features = policy::extract_features(*scanned, body);
    policy::PlanInput in(r.config, compiled, scanned->model, features);
    in.headers = &headers;
    in.request = &*scanned;
    in.body = body;
    in.sticky.user = scanned->user;
    in.today_days = std::chrono::duration_cast<std::chrono::days>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    auto plan = policy::plan(in);
    std::printf("%s\n", policy::explain(plan, plan.features, r.config).dump(2).c_str());
    return plan.ok() ? kExitOk : 1;
}

// `baton keys new --name NAME`: a fresh key, printed once, and the line for `keys:`.
int keys_cli(int argc, char** argv) {
    if (argc < 3 || std::string(argv[2]) != "new") {
        std::fprintf(stderr, "baton keys: usage: baton keys new --name NAME [--secret REF]\n");
        return kExitUsage;
    }
    std::string name, secret_ref = "env:BATON_KEY_SECRET";
    for (int i = 3; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--name" && i + 1 < argc) {
            name = argv[++i];
        } else if (a == "--secret" && i + 1 < argc) {
            secret_ref = argv[++i];
        } else {
            std::fprintf(stderr, "baton keys new: unexpected argument \"%s\"\n", a.c_str());
            return kExitUsage;
        }
    }
    if (name.empty()) {
        std::fprintf(stderr, "baton keys new: --name NAME is required\n");
        return kExitUsage;
    }
    std::string secret;
    if (secret_ref.rfind("env:", 0) == 0) {
        const char* v = std::getenv(secret_ref.substr(4).c_str());
        if (v) secret = v;
    } else if (secret_ref.rfind("file:", 0) == 0) {
        std::FILE* f = std::fopen(secret_ref.substr(5).c_str(), "rb");
        if (f) {
            char buf[4096];
            size_t n = std::fread(buf, 1, sizeof buf, f);
            std::fclose(f);
            secret.assign(buf, n);
            while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
                secret.pop_back();
            }
        }
    }
    if (secret.empty()) {
        std::fprintf(stderr,
                     "baton keys new: the HMAC secret %s is not set; it must be the same one the "
                     "gateway reads in auth.secret\n",
                     secret_ref.c_str());
        return kExitUsage;
    }
    auto key = auth::generate_key();
    std::printf("key (shown once; give it to %s): %s\n", name.c_str(), key.c_str());
    std::printf("add under keys: in the config:\n  - {name: %s, hash: %s}\n", name.c_str(),
                auth::hash_key(secret, key).c_str());
    return kExitOk;
}

// `baton audit verify FILE`
int audit_cli(int argc, char** argv) {
    if (argc != 4 || std::string(argv[2]) != "verify") {
        std::fprintf(stderr, "baton audit: usage: baton audit verify FILE\n");
        return kExitUsage;
    }
    auto r = audit::verify(argv[3]);
    std::printf("%s: %s\n", argv[3], r.to_string().c_str());
    return r.ok ? kExitOk : 1;
}

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "explain") return explain_cli(argc, argv);
    if (argc > 1 && std::string(argv[1]) == "keys") return keys_cli(argc, argv);
    if (argc > 1 && std::string(argv[1]) == "audit") return audit_cli(argc, argv);
    std::string config_path, check_path, listen_override;
    if (const char* l = std::getenv("BATON_LISTEN"); l && *l) listen_override = l;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto need = [&](const char* what) -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "baton: %s needs %s\n%s", a.c_str(), what, kHelp);
                std::exit(kExitUsage);
            }
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fputs(kHelp, stdout);
            return kExitOk;
        } else if (a == "--version" || a == "-v") {
            std::printf("baton %s\n", BATON_VERSION);
#ifdef BATON_WITH_MIMALLOC
            std::printf("allocator: mimalloc %d.%d.%d\n", mi_version() / 100,
                        mi_version() / 10 % 10, mi_version() % 10);
#else
            std::printf("allocator: system\n");
#endif
            return kExitOk;
        } else if (a == "--config" || a == "-c") {
            config_path = need("a file");
        } else if (a == "--probe") {
            return probe(need("a URL"));
        } else if (a == "--check") {
            check_path = need("a file");
        } else if (a == "--listen") {
            listen_override = need("HOST:PORT");
        } else {
            std::fprintf(stderr, "baton: unknown argument \"%s\"\n%s", a.c_str(), kHelp);
            return kExitUsage;
        }
    }
    if (!check_path.empty()) {
        auto r = config::load_file(check_path);
        print_diagnostics(r, stdout);
        if (r.ok()) {
            std::printf("%s: OK (%zu providers, %zu models, %zu routes)\n", check_path.c_str(),
                        r.config.providers.size(), r.config.models.size(), r.config.routes.size());
            return kExitOk;
        }
        return kExitConfig;
    }
    if (config_path.empty()) {
        std::fprintf(stderr, "baton: --config FILE is required\n%s", kHelp);
        return kExitUsage;
    }
    try {
        return run(config_path, listen_override);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "baton: fatal: %s\n", e.what());
        return kExitRuntime;
    }
}
