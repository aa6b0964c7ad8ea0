#pragma once
// Bounded polling: the only way the integration tests wait for something that has no
// notification of its own (a file growing, a process exiting, a port closing).
#include <chrono>
#include <thread>

namespace baton::test {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using namespace std::chrono_literals;

// Calls pred() until it returns true or `timeout` has passed; returns pred()'s last value.
template <class Pred>
bool wait_until(Pred&& pred, Millis timeout, Millis interval = Millis{10}) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (pred()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(interval);
    }
}

inline double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

}  // namespace baton::test
