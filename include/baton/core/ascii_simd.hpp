#pragma once
// SSE2 classification of 16 ASCII bytes at a time, shared by the scans that need it (field
// names in core/http, letter runs in policy/features). Signed byte compares: bytes >= 0x80 are
// negative and fall outside every range, so non-ASCII bytes never match.
#ifdef __SSE2__
#include <emmintrin.h>

namespace baton::ascii {

// 0xff in the lanes where lo <= x <= hi (lo and hi ASCII).
inline __m128i in_range(__m128i x, char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmplt_epi8(x, _mm_set1_epi8(static_cast<char>(hi + 1))));
}

// 0xff in the lanes that hold an ASCII letter (A-Z, a-z): setting the case bit maps exactly the
// letters onto a-z.
inline __m128i letters(__m128i x) {
    return in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z');
}

}  // namespace baton::ascii
#endif
