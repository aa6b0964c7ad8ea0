#include "openai/json_text.hpp"

#if defined(BATON_JSON_AVX2)
#include <immintrin.h>
#endif

namespace baton::openai::detail {

size_t skip_string_run(const char* p, size_t i, size_t n, bool& escaped) {
#if defined(BATON_JSON_AVX2)
    if (kHaveAvx2) return skip_string_run_avx2(p, i, n, escaped);
#endif
    for (;;) {
        i = find_string_special(p, i, n);
        if (i + 1 < n && p[i] == '\\' && simple_escape(p[i + 1])) {
            escaped = true;
            i += 2;
            continue;
        }
        return i;
    }
}

#if defined(BATON_JSON_AVX2)

const bool kHaveAvx2 = __builtin_cpu_supports("avx2");

namespace {
// Bit k set when p[k] (k < 32) needs the scanner: '"', '\\', a control character or a
// non-ASCII byte (signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too).
__attribute__((target("avx2"), always_inline)) inline unsigned special_mask_avx2(const char* p) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i special =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')),
                                        _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))),
                        _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v));
    return static_cast<unsigned>(_mm256_movemask_epi8(special));
}
}  // namespace

__attribute__((target("avx2"))) size_t find_string_special_avx2(const char* p, size_t i, size_t n) {
    while (i + 32 <= n) {
        const unsigned mask = special_mask_avx2(p + i);
        if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
        i += 32;
    }
    return find_string_special(p, i, n);
}

__attribute__((target("avx2"))) size_t skip_string_run_avx2(const char* p, size_t i, size_t n,
                                                            bool& escaped) {
    while (i + 32 <= n) {
        unsigned mask = special_mask_avx2(p + i);
        size_t next = i + 32;
        while (mask != 0) {
            const auto k = static_cast<unsigned>(__builtin_ctz(mask));
            const size_t at = i + k;
            if (p[at] != '\\' || at + 1 >= n || !simple_escape(p[at + 1])) return at;
            escaped = true;
            if (k == 31) {  // the escaped byte opens the next block: start that block after it
                next = at + 2;
                break;
            }
            mask &= ~(3u << k);  // the backslash and the byte it escapes (maybe '"' or '\\')
        }
        i = next;
    }
    for (; i < n; ++i) {  // the last < 32 bytes
        if (p[i] == '\\' && i + 1 < n && simple_escape(p[i + 1])) {
            escaped = true;
            ++i;
            continue;
        }
        const auto c = static_cast<unsigned char>(p[i]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return i;
    }
    return n;
}
#endif

}  // namespace baton::openai::detail
