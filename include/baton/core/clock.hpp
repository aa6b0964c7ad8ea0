#pragma once
#include <time.h>

#include <chrono>
#include <cstdint>

namespace baton {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::nanoseconds;
using Millis = std::chrono::milliseconds;

// Clock's time read from CLOCK_MONOTONIC_COARSE: the same clock (libstdc++'s steady_clock is
// CLOCK_MONOTONIC), read without the TSC (5 ns against 23 ns per call on the benchmark VM) and
// up to one scheduler tick (1-4 ms) behind. For bookkeeping counted in seconds on the request
// path (idle pooled connections, circuit breaker windows), never for latencies or deadlines.
inline Clock::time_point coarse_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

// Microseconds between two steady time points, as a double (for logs and metrics).
inline double micros_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

}  // namespace baton
