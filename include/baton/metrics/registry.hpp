#pragma once
// Lock-free metric cells and a registry that renders Prometheus text exposition format 0.0.4.
//
// Cells are created (get-or-create, under a mutex) off the hot path, typically when a config is
// loaded; the returned references stay valid for the registry's lifetime, and updating a cell is
// a relaxed atomic operation. Families are rendered in name order, children in creation order.
//
// Counters and histograms are sharded by thread: each keeps kShards copies of its numbers, one
// cache line (or more) apiece, and a thread updates the copy of its shard (threads take shards
// in turn as they first update a metric), so worker threads never pull each other's lines
// back and forth on every request; reading sums the shards. Gauges stay single cells.
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace baton::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Copies of each counter and histogram (threads past kShards share shards: still exact).
inline constexpr unsigned kShards = 4;

namespace detail {
unsigned next_shard() noexcept;
// This thread's shard, in [0, kShards).
inline unsigned shard() noexcept {
    thread_local const unsigned s = next_shard();
    return s;
}
// One cache line of eight 64-bit cells.
struct alignas(64) Line {
    std::atomic<uint64_t> cell[8] = {};
};
}  // namespace detail

class Counter {
  public:
    Counter() = default;
    // A counter of fractional amounts kept as integer multiples of `unit` (e.g. 1e-9 USD):
    // inc() takes units, rendering shows value() * unit.
    explicit Counter(double unit) : unit_(unit) {}
    void inc(uint64_t n = 1) {
        shards_[detail::shard()].cell[0].fetch_add(n, std::memory_order_relaxed);
    }
    // Adds an amount in the rendered scale (rounded to whole units).
    void add(double amount) { inc(static_cast<uint64_t>(amount / unit_ + 0.5)); }
    uint64_t value() const {
        uint64_t v = 0;
        for (const auto& l : shards_) v += l.cell[0].load(std::memory_order_relaxed);
        return v;
    }
    double unit() const { return unit_; }

  private:
    detail::Line shards_[kShards];
    double unit_ = 1.0;
};

class Gauge {
  public:
    void add(int64_t n) { v_.fetch_add(n, std::memory_order_relaxed); }
    void sub(int64_t n) { v_.fetch_sub(n, std::memory_order_relaxed); }
    void set(int64_t n) { v_.store(n, std::memory_order_relaxed); }
    int64_t value() const { return v_.load(std::memory_order_relaxed); }

  private:
    std::atomic<int64_t> v_{0};
};

// Cumulative histogram of seconds. Bucket upper bounds are fixed at creation.
class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds_seconds);
    void observe_seconds(double s);
    void observe_micros(double us) { observe_seconds(us * 1e-6); }
    const std::vector<double>& bounds() const { return bounds_; }
    uint64_t bucket_count(
        size_t i) const;  // non-cumulative count of bucket i (i == bounds.size() → +Inf)
    uint64_t count() const { return total(bounds_.size() + 1); }
    double sum_seconds() const;

  private:
    // Per shard: the bucket counts (bounds_.size() + 1), then the count, then the sum in ns.
    std::atomic<uint64_t>& cell(unsigned shard, size_t i) const {
        return lines_[shard * lines_per_shard_ + i / 8].cell[i % 8];
    }
    uint64_t total(size_t i) const;

    std::vector<double> bounds_;
    size_t lines_per_shard_ = 0;
    std::unique_ptr<detail::Line[]> lines_;  // kShards * lines_per_shard_
};

// Default buckets for request-level latencies (seconds): 100µs .. 120s.
const std::vector<double>& latency_buckets();
// Fine buckets for gateway overhead (seconds): 5µs .. 100ms.
const std::vector<double>& overhead_buckets();

class Registry {
  public:
    Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
    // A fractional counter (see Counter(double unit)); the unit must match on every call.
    Counter& scaled_counter(std::string_view name, std::string_view help, const Labels& labels,
                            double unit);
    Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels,
                         const std::vector<double>& bounds);
    // Prometheus text format (# HELP, # TYPE, samples; label values escaped).
    std::string render() const;

  private:
    enum class Type { counter, gauge, histogram };
    struct Child {
        Labels labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
    };
    struct Family {
        std::string help;
        Type type;
        std::deque<Child> children;
    };
    Family& family(std::string_view name, std::string_view help, Type type);
    Child* find(Family& f, const Labels& labels);
    mutable std::mutex mu_;
    std::map<std::string, Family, std::less<>> families_;
};

// Process-wide registry used by the daemon.
Registry& global();

}  // namespace baton::metrics
