#include "baton/core/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <mutex>
#include <set>

#include "baton/core/error.hpp"

namespace baton::log {
namespace {
std::shared_ptr<spdlog::logger> g_access;  // set once at startup / reload, read under g_mu
std::mutex g_mu;
std::atomic<bool> g_access_on{false};
std::mutex g_once_mu;
std::set<std::string> g_once;
}  // namespace

void setup(const std::string& level, const std::string& access_log) {
    static std::once_flag once;
    std::call_once(once, [] {
        auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        auto logger = std::make_shared<spdlog::logger>("baton", err);
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
        logger->flush_on(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    });
    spdlog::set_level(spdlog::level::from_str(level));

    std::shared_ptr<spdlog::logger> access;
    if (access_log == "stdout") {
        access = std::make_shared<spdlog::logger>(
            "access", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    } else if (access_log != "off") {
        try {
            access = std::make_shared<spdlog::logger>(
                "access", std::make_shared<spdlog::sinks::basic_file_sink_mt>(access_log));
        } catch (const spdlog::spdlog_ex& e) {
            throw ConfigError("cannot open access log " + access_log + ": " + e.what());
        }
    }
    if (access) {
        access->set_pattern("%v");
        access->set_level(spdlog::level::info);
        access->flush_on(spdlog::level::info);
    }
    std::lock_guard lk(g_mu);
    g_access = std::move(access);
    g_access_on.store(g_access != nullptr, std::memory_order_relaxed);
}

bool access_enabled() { return g_access_on.load(std::memory_order_relaxed); }

void access(std::string_view json_line) {
    if (!access_enabled()) return;
    std::shared_ptr<spdlog::logger> l;
    {
        std::lock_guard lk(g_mu);
        l = g_access;
    }
    if (l) l->info(json_line);
}

void warn_once(const std::string& key, const std::string& message) {
    {
        std::lock_guard lk(g_once_mu);
        if (!g_once.insert(key).second) return;
    }
    spdlog::warn("{}", message);
}

}  // namespace baton::log
