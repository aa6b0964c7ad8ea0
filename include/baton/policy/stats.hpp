#pragma once
// Live latency statistics per model, learned from the traffic Baton forwards.
//
// Per model index (into config::Config::models) an exponentially weighted moving average of the
// time to first token (ms) and of the generation speed (tokens/s), with sample counts. Writers
// (the proxy, one call per completed upstream response) and readers (the planner) never block:
// every field is an atomic, updated with a compare-and-swap loop. A reader may see the TTFT of
// one update and the tokens/s of the next; both are averages anyway.
//
// Until a model has kWarmupSamples samples its prediction blends the catalogue's latency_hint
// with the observed average, linearly by sample count (see predict()).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "baton/config/model.hpp"

namespace baton::policy {

// Samples after which the live average fully replaces the catalogue hint.
inline constexpr uint32_t kWarmupSamples = 5;
// EWMA smoothing factor: new = old + kEwmaAlpha * (sample - old).
inline constexpr double kEwmaAlpha = 0.2;

struct ModelLatency {
    double ttft_ms = 0;       // EWMA (0 when no sample yet)
    double tokens_per_s = 0;  // EWMA (0 when no sample yet)
    uint64_t ttft_samples = 0;
    uint64_t tps_samples = 0;
};

// What the planner uses for one model: hint and live average blended.
struct LatencyPrediction {
    double ttft_ms = 0;
    double tokens_per_s = 0;
    uint64_t samples = 0;  // TTFT samples behind the prediction
    bool live = false;     // true once samples >= kWarmupSamples (hint no longer used)
};

class LatencyStats {
  public:
    explicit LatencyStats(size_t model_count);
    LatencyStats(const LatencyStats&) = delete;
    LatencyStats& operator=(const LatencyStats&) = delete;

    size_t size() const { return size_; }

    // Records one upstream response. ttft_ms < 0 or tokens_per_s <= 0 (unknown, e.g. a
    // non-streamed reply with too few tokens) skip that field. Out-of-range index: ignored.
    void record(size_t model_index, double ttft_ms, double tokens_per_s);

    // Current averages of one model (zeros for an out-of-range index).
    ModelLatency read(size_t model_index) const;

    // Copies the averages of models that keep their name across a config reload.
    void import_from(const LatencyStats& old, const config::Config& old_config,
                     const config::Config& new_config);

  private:
    struct Slot {
        std::atomic<double> ttft{0};
        std::atomic<double> tps{0};
        std::atomic<uint64_t> ttft_n{0};
        std::atomic<uint64_t> tps_n{0};
    };
    std::unique_ptr<Slot[]> slots_;
    size_t size_ = 0;
};

// Blends the model's latency_hint with its live averages (stats may be null: hint only).
//   w = min(samples, kWarmupSamples) / kWarmupSamples
//   ttft = (1 - w) * hint.ttft + w * ewma.ttft  (likewise tokens/s, with its own sample count)
LatencyPrediction predict(const config::Model& model, size_t model_index,
                          const LatencyStats* stats);

}  // namespace baton::policy
