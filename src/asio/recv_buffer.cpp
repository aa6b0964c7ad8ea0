#include "baton/core/recv_buffer.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "baton/core/peer_closed.hpp"

namespace baton::detail {
namespace {

// One byte per descriptor number the process may open (the hard RLIMIT_NOFILE, at most 1M),
// from calloc: the pages of descriptor numbers never used are never touched.
struct PeerClosedTable {
    size_t size = 0;
    uint8_t* flags = nullptr;

    PeerClosedTable() {
        rlimit rl{};
        size_t n = 65536;
        if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY) {
            n = static_cast<size_t>(rl.rlim_max);
        }
        n = std::clamp<size_t>(n, 1024, size_t{1} << 20);
        flags = static_cast<uint8_t*>(std::calloc(n, 1));
        if (flags != nullptr) size = n;
    }
    ~PeerClosedTable() { std::free(flags); }
    PeerClosedTable(const PeerClosedTable&) = delete;
    PeerClosedTable& operator=(const PeerClosedTable&) = delete;
};

PeerClosedTable& table() {
    static PeerClosedTable t;
    return t;
}

}  // namespace

void note_peer_closed(int fd) noexcept {
    auto& t = table();
    if (fd >= 0 && static_cast<size_t>(fd) < t.size) {
        std::atomic_ref<uint8_t>(t.flags[fd]).store(1, std::memory_order_relaxed);
    }
}

void clear_peer_closed(int fd) noexcept {
    auto& t = table();
    if (fd >= 0 && static_cast<size_t>(fd) < t.size) {
        std::atomic_ref<uint8_t>(t.flags[fd]).store(0, std::memory_order_relaxed);
    }
}

bool peer_closed(int fd) noexcept {
    auto& t = table();
    if (fd < 0 || static_cast<size_t>(fd) >= t.size) return true;
    return std::atomic_ref<uint8_t>(t.flags[fd]).load(std::memory_order_relaxed) != 0;
}

}  // namespace baton::detail
