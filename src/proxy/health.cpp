#include "baton/proxy/health.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "baton/metrics/registry.hpp"
#include "baton/proxy/runtime.hpp"
#include "baton/upstream/connection.hpp"
#include "baton/upstream/response_reader.hpp"

namespace baton::proxy {

ProviderHealth::Report ProviderHealth::report() const {
    std::lock_guard lk(mu_);
    Report r;
    r.checked = checked.load();
    r.healthy = healthy.load();
    r.consecutive_failures = fails_;
    r.consecutive_successes = oks_;
    r.checks = checks_;
    r.last_error = last_error_;
    if (last_ != Clock::time_point{}) {
        r.last_check_ms_ago =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_).count();
    }
    return r;
}

bool ProviderHealth::record(bool ok, std::string error, uint32_t unhealthy_after,
                            uint32_t healthy_after) {
    std::lock_guard lk(mu_);
    ++checks_;
    last_ = Clock::now();
    last_error_ = std::move(error);
    bool was = healthy.load();
    if (ok) {
        ++oks_;
        fails_ = 0;
        if (!was && oks_ >= healthy_after) healthy.store(true);
    } else {
        ++fails_;
        oks_ = 0;
        if (was && fails_ >= unhealthy_after) healthy.store(false);
    }
    return healthy.load() != was;
}

void ProviderHealth::reset() {
    std::lock_guard lk(mu_);
    fails_ = oks_ = 0;
    last_error_.clear();
    checked.store(false);
    healthy.store(true);
}

std::shared_ptr<ProviderHealth> provider_health(const std::string& name) {
    static std::mutex mu;
    static std::map<std::string, std::shared_ptr<ProviderHealth>> all;
    std::lock_guard lk(mu);
    auto& h = all[name];
    if (!h) h = std::make_shared<ProviderHealth>();
    return h;
}

HealthChecker::HealthChecker(asio::io_context& ioc, SnapshotHolder& holder)
    : ioc_(ioc), holder_(holder) {}

void HealthChecker::sync() {
    auto rt = holder_.current();
    for (const auto& p : rt->config->providers) {
        if (!p.health_check.enabled) continue;
        std::lock_guard lk(mu_);
        if (!running_.insert(p.name).second) continue;
        asio::co_spawn(ioc_, loop(p.name), asio::detached);
    }
}

awaitable<std::string> HealthChecker::probe(std::shared_ptr<const Runtime> rt, size_t pi) {
    const auto& p = rt->config->providers[pi];
    const auto& pr = rt->providers[pi];
    const auto timeout = Duration(p.health_check.timeout);
    std::unique_ptr<upstream::Connection> conn;
    if (pr.origin.tls && pr.origin.ssl) {
        conn = std::make_unique<upstream::Connection>(ioc_.get_executor(), *pr.origin.ssl);
    } else {
        conn = std::make_unique<upstream::Connection>(ioc_.get_executor());
    }
    auto ec = co_await conn->connect(pr.origin, timeout);
    if (ec) co_return "connect to " + pr.origin.key() + " failed: " + ec.message();
    std::array<asio::const_buffer, 1> bufs{asio::buffer(pr.health_request)};
    ec = co_await conn->write(bufs, timeout);
    if (ec) co_return "sending the check failed: " + ec.message();
    upstream::ResponseReader reader(*conn, 1 << 20);
    ec = co_await reader.read_head(timeout);
    conn->close();
    if (ec) {
        co_return ec == beast::error::timeout ? std::string("no answer within the timeout")
                                              : "reading the answer failed: " + ec.message();
    }
    unsigned status = reader.status();
    if (status < 200 || status >= 300)
        co_return "GET " + p.health_check.path + " answered " + std::to_string(status);
    co_return std::string();
}

awaitable<void> HealthChecker::loop(std::string name) {
    asio::steady_timer timer(ioc_);
    auto health = provider_health(name);
    auto& gauge = metrics::global().gauge(
        "baton_provider_healthy",
        "1 while a provider passes its active health check (or has none), 0 while it fails.",
        {{"provider", name}});
    gauge.set(1);
    for (;;) {
        auto rt = holder_.current();
        const auto& providers = rt->config->providers;
        size_t pi = providers.size();
        for (size_t i = 0; i < providers.size(); ++i) {
            if (providers[i].name == name) pi = i;
        }
        if (pi == providers.size() || !providers[pi].health_check.enabled) {
            health->reset();  // removed, or its check was: back to passive breakers only
            gauge.set(1);
            std::lock_guard lk(mu_);
            running_.erase(name);
            co_return;
        }
        health->checked.store(true);
        const auto hc = providers[pi].health_check;
        std::string error = co_await probe(rt, pi);
        const bool ok = error.empty();
        if (health->record(ok, error, hc.unhealthy_after, hc.healthy_after)) {
            if (ok) {
                spdlog::info("health check: provider \"{}\" is healthy again", name);
            } else {
                spdlog::warn(
                    "health check: provider \"{}\" is unhealthy ({}); its models are "
                    "skipped until it recovers",
                    name, error);
            }
        }
        gauge.set(health->healthy.load() ? 1 : 0);
        timer.expires_after(hc.interval);
        co_await timer.async_wait(use_nothrow);
    }
}

}  // namespace baton::proxy
