#pragma once
// Active health checks of providers (config: providers[].health_check). A checker on the main
// thread's io_context GETs each checked provider's endpoint every interval; after
// `unhealthy_after` failures in a row the provider's deployments are skipped by the attempt loop
// (like an open breaker) until `healthy_after` successes in a row. Passive breakers keep working
// alongside. State lives per provider name and survives reloads.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "baton/core/asio.hpp"
#include "baton/core/clock.hpp"

namespace boost::asio {
class io_context;
}

namespace baton::proxy {

class SnapshotHolder;
struct Runtime;

struct ProviderHealth {
    std::atomic<bool> healthy{true};   // false: deployments skipped
    std::atomic<bool> checked{false};  // an active check is configured and running

    struct Report {
        bool checked = false;
        bool healthy = true;
        uint32_t consecutive_failures = 0;
        uint32_t consecutive_successes = 0;
        uint64_t checks = 0;
        std::string last_error;          // empty after a success
        int64_t last_check_ms_ago = -1;  // -1: never
    };
    Report report() const;
    // Records one probe result; returns true when `healthy` flipped.
    bool record(bool ok, std::string error, uint32_t unhealthy_after, uint32_t healthy_after);
    void reset();  // check removed: healthy, unchecked

  private:
    mutable std::mutex mu_;
    uint32_t fails_ = 0, oks_ = 0;
    uint64_t checks_ = 0;
    std::string last_error_;
    Clock::time_point last_{};
};

// The health object of provider `name`, shared by every snapshot that has the provider.
std::shared_ptr<ProviderHealth> provider_health(const std::string& name);

class HealthChecker {
  public:
    HealthChecker(asio::io_context& ioc, SnapshotHolder& holder);
    // Starts a check loop for every provider of the current snapshot that has health_check
    // enabled and no loop yet (call at startup and after each reload). Loops of providers that
    // were removed or lost their check end by themselves.
    void sync();

  private:
    awaitable<void> loop(std::string provider);
    awaitable<std::string> probe(std::shared_ptr<const Runtime> rt, size_t provider_index);

    asio::io_context& ioc_;
    SnapshotHolder& holder_;
    std::mutex mu_;
    std::set<std::string> running_;
};

}  // namespace baton::proxy
