#include "openai/json_text.hpp"

#if defined(BATON_JSON_AVX2)
#include <immintrin.h>

namespace baton::openai::detail {

const bool kHaveAvx2 = __builtin_cpu_supports("avx2");

__attribute__((target("avx2"))) size_t find_string_special_avx2(const char* p, size_t i, size_t n) {
    const __m256i quote = _mm256_set1_epi8('"');
    const __m256i bslash = _mm256_set1_epi8('\\');
    const __m256i space = _mm256_set1_epi8(0x20);
    while (i + 32 <= n) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
        // Signed compare: bytes >= 0x80 are negative, so "< 0x20" also catches non-ASCII.
        const __m256i special = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, bslash)),
            _mm256_cmpgt_epi8(space, v));
        const auto mask = static_cast<unsigned>(_mm256_movemask_epi8(special));
        if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
        i += 32;
    }
    return find_string_special(p, i, n);
}

}  // namespace baton::openai::detail
#endif
