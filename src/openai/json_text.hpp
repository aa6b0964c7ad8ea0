#pragma once
// Private helpers of the chat-request scanner: fast string-content scanning and small decoding.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__) && !defined(BATON_JSON_NO_SIMD)
#include <emmintrin.h>
#define BATON_JSON_SSE2 1
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(BATON_JSON_NO_SIMD)
#define BATON_JSON_AVX2 1
#endif

namespace baton::openai::detail {

#if defined(BATON_JSON_AVX2)
// True when the CPU has AVX2 (checked once at start-up).
extern const bool kHaveAvx2;
// find_string_special with AVX2, 32 bytes per step (json_text.cpp). Only when kHaveAvx2.
size_t find_string_special_avx2(const char* p, size_t i, size_t n);
size_t skip_string_run_avx2(const char* p, size_t i, size_t n, bool& escaped);
#endif

// Like find_string_special, but simple two-byte escapes (\" \\ \/ \b \f \n \r \t) are
// stepped over instead of returned (prose in a prompt has one every line; with AVX2 this
// happens inside the vector loop); sets `escaped` when it steps over one. Returns the first
// byte that needs the scanner: the closing '"', a backslash starting any other escape, a
// control character, a non-ASCII byte, or n. (json_text.cpp)
size_t skip_string_run(const char* p, size_t i, size_t n, bool& escaped);

// Whether `c` completes a two-byte JSON escape after a backslash.
inline bool simple_escape(char c) {
    switch (c) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            return true;
        default:
            return false;
    }
}

// Index of the first byte in [i, n) that needs attention inside a JSON string: '"', '\\', a
// control character (< 0x20) or a non-ASCII byte (>= 0x80, to validate UTF-8). n if none.
[[gnu::always_inline]] inline size_t find_string_special(const char* p, size_t i, size_t n) {
#if defined(BATON_JSON_SSE2)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    // Signed compare: bytes >= 0x80 are negative, so "< 0x20" also catches non-ASCII.
    auto special = [&](const char* at) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
        return _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                            _mm_cmplt_epi8(v, space));
    };
    while (i + 16 <= n) {
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(special(p + i)));
        if (mask != 0) return i + static_cast<size_t>(std::countr_zero(mask));
        i += 16;
    }
#else
    if constexpr (std::endian::native == std::endian::little) {
        constexpr uint64_t ones = 0x0101010101010101ull;
        constexpr uint64_t highs = 0x8080808080808080ull;
        while (i + 8 <= n) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            const uint64_t q = w ^ (ones * '"');
            const uint64_t b = w ^ (ones * '\\');
            // Each term flags (at least) the lowest matching byte exactly; borrows only
            // propagate upwards, so countr_zero finds the first special byte.
            const uint64_t m =
                (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w) & highs;
            if (m != 0) return i + static_cast<size_t>(std::countr_zero(m)) / 8;
            i += 8;
        }
    }
#endif
    for (; i < n; ++i) {
        const auto c = static_cast<unsigned char>(p[i]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return i;
    }
    return n;
}

inline int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Four validated hex digits.
inline int hex4(const char* p) {
    return (hex_value(p[0]) << 12) | (hex_value(p[1]) << 8) | (hex_value(p[2]) << 4) |
           hex_value(p[3]);
}

// Decodes the contents of an already validated JSON string into buf (for comparisons against
// short names). Returns a value that equals no name of interest if the result exceeds `cap`.
inline std::string_view decode_small(std::string_view raw, char* buf, size_t cap) {
    static constexpr std::string_view kNoMatch{"\0\0", 2};
    size_t o = 0;
    auto put = [&](char c) {
        if (o >= cap) return false;
        buf[o++] = c;
        return true;
    };
    for (size_t k = 0; k < raw.size();) {
        char c = raw[k];
        if (c != '\\') {
            if (!put(c)) return kNoMatch;
            ++k;
            continue;
        }
        const char e = raw[k + 1];
        k += 2;
        switch (e) {
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                uint32_t cp = uint32_t(hex4(raw.data() + k));
                k += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    const auto lo = uint32_t(hex4(raw.data() + k + 2));
                    k += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                bool ok = true;
                if (cp < 0x80) {
                    ok = put(char(cp));
                } else if (cp < 0x800) {
                    ok = put(char(0xC0 | (cp >> 6))) && put(char(0x80 | (cp & 0x3F)));
                } else if (cp < 0x10000) {
                    ok = put(char(0xE0 | (cp >> 12))) && put(char(0x80 | ((cp >> 6) & 0x3F))) &&
                         put(char(0x80 | (cp & 0x3F)));
                } else {
                    ok = put(char(0xF0 | (cp >> 18))) && put(char(0x80 | ((cp >> 12) & 0x3F))) &&
                         put(char(0x80 | ((cp >> 6) & 0x3F))) && put(char(0x80 | (cp & 0x3F)));
                }
                if (!ok) return kNoMatch;
                continue;
            }
            default:
                c = e;
                break;  // '"', '\\', '/'
        }
        if (!put(c)) return kNoMatch;
    }
    return {buf, o};
}

}  // namespace baton::openai::detail
