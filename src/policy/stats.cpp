// Live latency statistics (lock-free EWMA per model) and the hint/live blend.
#include "baton/policy/stats.hpp"

#include <algorithm>

namespace baton::policy {
namespace {

// EWMA update with a CAS loop; the first sample initialises the average.
void update(std::atomic<double>& avg, std::atomic<uint64_t>& count, double sample) {
    uint64_t n = count.fetch_add(1, std::memory_order_relaxed);
    double old = avg.load(std::memory_order_relaxed);
    for (;;) {
        double next = n == 0 ? sample : old + kEwmaAlpha * (sample - old);
        if (avg.compare_exchange_weak(old, next, std::memory_order_relaxed)) return;
    }
}

}  // namespace

LatencyStats::LatencyStats(size_t model_count)
    : slots_(std::make_unique<Slot[]>(model_count)), size_(model_count) {}

void LatencyStats::record(size_t model_index, double ttft_ms, double tokens_per_s) {
    if (model_index >= size_) return;
    Slot& s = slots_[model_index];
    if (ttft_ms >= 0) update(s.ttft, s.ttft_n, ttft_ms);
    if (tokens_per_s > 0) update(s.tps, s.tps_n, tokens_per_s);
}

ModelLatency LatencyStats::read(size_t model_index) const {
    if (model_index >= size_) return {};
    const Slot& s = slots_[model_index];
    ModelLatency m;
    m.ttft_samples = s.ttft_n.load(std::memory_order_relaxed);
    m.tps_samples = s.tps_n.load(std::memory_order_relaxed);
    m.ttft_ms = s.ttft.load(std::memory_order_relaxed);
    m.tokens_per_s = s.tps.load(std::memory_order_relaxed);
    return m;
}

void LatencyStats::import_from(const LatencyStats& old, const config::Config& old_config,
                               const config::Config& new_config) {
    for (size_t i = 0; i < new_config.models.size() && i < size_; ++i) {
        for (size_t j = 0; j < old_config.models.size() && j < old.size(); ++j) {
            if (old_config.models[j].name != new_config.models[i].name) continue;
            const Slot& from = old.slots_[j];
            Slot& to = slots_[i];
            to.ttft.store(from.ttft.load(std::memory_order_relaxed), std::memory_order_relaxed);
            to.tps.store(from.tps.load(std::memory_order_relaxed), std::memory_order_relaxed);
            to.ttft_n.store(from.ttft_n.load(std::memory_order_relaxed), std::memory_order_relaxed);
            to.tps_n.store(from.tps_n.load(std::memory_order_relaxed), std::memory_order_relaxed);
            break;
        }
    }
}

LatencyPrediction predict(const config::Model& model, size_t model_index,
                          const LatencyStats* stats) {
    LatencyPrediction p;
    double hint_ttft = static_cast<double>(model.latency_hint.ttft.count());
    double hint_tps = model.latency_hint.tokens_per_s > 0 ? model.latency_hint.tokens_per_s : 50;
    p.ttft_ms = hint_ttft;
    p.tokens_per_s = hint_tps;
    if (!stats) return p;
    ModelLatency m = stats->read(model_index);
    auto blend = [](double hint, double live, uint64_t n) {
        if (n == 0) return hint;
        double w = static_cast<double>(std::min<uint64_t>(n, kWarmupSamples)) / kWarmupSamples;
        return (1 - w) * hint + w * live;
    };
    p.ttft_ms = blend(hint_ttft, m.ttft_ms, m.ttft_samples);
    p.tokens_per_s = blend(hint_tps, m.tokens_per_s, m.tps_samples);
    p.samples = m.ttft_samples;
    p.live = m.ttft_samples >= kWarmupSamples;
    return p;
}

}  // namespace baton::policy
