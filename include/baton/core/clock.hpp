#pragma once
#include <chrono>
#include <cstdint>

namespace baton {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::nanoseconds;
using Millis = std::chrono::milliseconds;

// Microseconds between two steady time points, as a double (for logs and metrics).
inline double micros_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

}  // namespace baton
