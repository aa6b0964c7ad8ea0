// coarse_now() reads the same clock as Clock::now(), only at a coarser grain: never ahead of it,
// at most a few scheduler ticks behind (pool idle times and breaker windows mix the two).
#include "baton/core/clock.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace baton {
namespace {

TEST(Clock, CoarseNowIsTheSameClockAtMostAFewTicksBehind) {
    for (int i = 0; i < 200; ++i) {
        const auto coarse = coarse_now();
        const auto fine = Clock::now();
        EXPECT_LE(coarse, fine);
        EXPECT_LT(fine - coarse, std::chrono::milliseconds(50));
        if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    // and it moves: 30 ms later it has moved by about that much
    const auto a = coarse_now();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    const auto moved = coarse_now() - a;
    EXPECT_GE(moved, std::chrono::milliseconds(20));
    EXPECT_LT(moved, std::chrono::milliseconds(1000));
}

}  // namespace
}  // namespace baton
