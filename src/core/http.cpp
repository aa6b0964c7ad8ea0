#include "baton/core/http.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "baton/core/ascii_simd.hpp"

namespace baton::http1 {

namespace {

// RFC 9110 tchar: the characters of a token (method, field name).
constexpr auto kTchar = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The first byte at or after p that cannot be in a field value (a control character other
// than HTAB, or DEL), at most `end`. SSE2: 16 bytes per step (values are most of a head).
const char* skip_value_chars(const char* p, const char* end) {
#ifdef __SSE2__
    const __m128i k1f = _mm_set1_epi8(0x1f);
    const __m128i k7f = _mm_set1_epi8(0x7f);
    while (end - p >= 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i ctl = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(x, k1f), k1f),  // <= 0x1f
                                         _mm_cmpeq_epi8(x, k7f));
        const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(ctl));
        if (mask == 0) {
            p += 16;
            continue;
        }
        p += __builtin_ctz(mask);
        if (*p != '\t') return p;
        ++p;
    }
#endif
    for (; p < end; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if ((c < 0x20 && c != '\t') || c == 0x7f) return p;
    }
    return end;
}

// The first byte at or after p that is not a letter, digit or '-' (what nearly every field
// name is made of), at most `end`. SSE2: 16 bytes per step; the caller checks the rest of the
// name, if any, against the full tchar set.
const char* skip_common_name_chars(const char* p, const char* end) {
#ifdef __SSE2__
    const __m128i dash = _mm_set1_epi8('-');
    while (end - p >= 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const auto ok = static_cast<unsigned>(_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(ascii::letters(x), ascii::in_range(x, '0', '9')),
                         _mm_cmpeq_epi8(x, dash))));
        if (ok != 0xffff) return p + __builtin_ctz(~ok);
        p += 16;
    }
#endif
    return p;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// A chunk-size or trailer line longer than this is rejected; trailers may total 16 KiB.
constexpr size_t kMaxChunkLine = 4 * 1024;
constexpr uint64_t kMaxTrailerBytes = 16 * 1024;

}  // namespace

bool is_tchar(char c) { return kTchar[static_cast<unsigned char>(c)]; }

const HeaderField* find(std::span<const HeaderField> fields, std::string_view name) {
    for (const auto& f : fields) {
        if (iequals(f.name, name)) return &f;
    }
    return nullptr;
}

bool has_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        size_t comma = list.find(',');
        if (iequals(trim(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

std::string_view last_token(std::string_view list) {
    size_t comma = list.rfind(',');
    return trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
}

const char* parse_field_line(const char* p, const char* end, HeaderField& f, const char*& why) {
    const char* n = p;
    p = skip_common_name_chars(p, end);
    while (p < end && is_tchar(*p)) ++p;
    // an empty name also rejects obs-fold (a line starting with whitespace)
    if (p == n || p == end || *p != ':') {
        why = "malformed header field";
        return nullptr;
    }
    f.name = std::string_view(n, static_cast<size_t>(p - n));
    ++p;
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    const char* v = p;
    p = skip_value_chars(p, end);
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
        why = "invalid character in a header value";
        return nullptr;
    }
    const char* ve = p;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) --ve;
    f.value = std::string_view(v, static_cast<size_t>(ve - v));
    return p + 2;
}

size_t find_blank_line(std::string_view in) {
    const char* const base = in.data();
    const size_t n = in.size();
    size_t i = 0;
#ifdef __SSE2__
    // 16 positions per step: bit k is set when in[i+k+1] == '\n' and in[i+k+2] == '\r', a pair
    // that inside a head only occurs at the blank line (every line ends with CRLF).
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    for (; i + 19 <= n; i += 16) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i + 1));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i + 2));
        unsigned mask = static_cast<unsigned>(
            _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, lf), _mm_cmpeq_epi8(b, cr))));
        while (mask != 0) {
            const size_t k = i + static_cast<size_t>(__builtin_ctz(mask));
            if (base[k] == '\r' && base[k + 3] == '\n') return k + 4;
            mask &= mask - 1;
        }
    }
#endif
    for (; i + 4 <= n; ++i) {
        if (base[i] == '\r' && base[i + 1] == '\n' && base[i + 2] == '\r' && base[i + 3] == '\n') {
            return i + 4;
        }
    }
    return std::string_view::npos;
}

size_t blank_line_across(std::string_view head, std::string_view in) {
    static constexpr std::string_view kBlank = "\r\n\r\n";
    for (size_t have = 3; have >= 1; --have) {
        if (head.size() < have || head.substr(head.size() - have) != kBlank.substr(0, have)) {
            continue;
        }
        std::string_view rest = kBlank.substr(have);
        if (in.substr(0, rest.size()) == rest) return rest.size();
    }
    return 0;
}

bool parse_decimal(std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 18) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    out = v;
    return true;
}

void ChunkedDecoder::reset() {
    state_ = State::size;
    remaining_ = 0;
    line_.clear();
    trailer_bytes_ = 0;
    error_ = nullptr;
}

size_t ChunkedDecoder::decode(std::string_view in, char* dst, size_t cap, size_t& produced,
                              Status& status) {
    size_t used = 0;
    produced = 0;
    // One CRLF-terminated line, possibly split across calls; false when more is needed (or on
    // an error, with status set).
    auto take_line = [&](std::string_view& line) -> bool {
        const void* nl = std::memchr(in.data() + used, '\n', in.size() - used);
        size_t stop =
            nl ? static_cast<size_t>(static_cast<const char*>(nl) - in.data()) + 1 : in.size();
        if (line_.size() + (stop - used) > kMaxChunkLine) {
            status = fail("chunk line too long");
            return false;
        }
        if (nl == nullptr) {
            line_.append(in.data() + used, stop - used);
            used = stop;
            status = Status::need_more;
            return false;
        }
        if (line_.empty()) {
            line = in.substr(used, stop - used);
        } else {
            line_.append(in.data() + used, stop - used);
            line = line_;
        }
        used = stop;
        if (line.size() < 2 || line[line.size() - 2] != '\r') {
            status = fail("malformed chunk framing");
            return false;
        }
        line.remove_suffix(2);
        return true;
    };
    for (;;) {
        switch (state_) {
            case State::size: {
                std::string_view line;
                if (!take_line(line)) return used;
                uint64_t size = 0;
                size_t i = 0;
                for (; i < line.size() && hex_digit(line[i]) >= 0; ++i) {
                    if (i >= 15) {
                        status = fail("chunk size too large");
                        return used;
                    }
                    size = size * 16 + static_cast<uint64_t>(hex_digit(line[i]));
                }
                line_.clear();
                if (i == 0 ||
                    (i < line.size() && line[i] != ';' && line[i] != ' ' && line[i] != '\t')) {
                    status = fail("malformed chunk size");
                    return used;
                }
                remaining_ = size;
                state_ = size == 0 ? State::trailers : State::data;
                break;
            }
            case State::data: {
                size_t take = static_cast<size_t>(
                    std::min<uint64_t>(remaining_, std::min(in.size() - used, cap - produced)));
                std::memcpy(dst + produced, in.data() + used, take);
                used += take;
                produced += take;
                remaining_ -= take;
                if (remaining_ > 0) {  // out of input or of room
                    status = Status::need_more;
                    return used;
                }
                state_ = State::data_end;
                break;
            }
            case State::data_end: {
                std::string_view line;
                if (!take_line(line)) return used;
                line_.clear();
                if (!line.empty()) {
                    status = fail("malformed chunk framing");
                    return used;
                }
                state_ = State::size;
                break;
            }
            case State::trailers: {
                std::string_view line;
                if (!take_line(line)) return used;
                trailer_bytes_ += line.size() + 2;
                line_.clear();
                if (trailer_bytes_ > kMaxTrailerBytes) {
                    status = fail("trailers too large");
                    return used;
                }
                if (line.empty()) {
                    state_ = State::done;
                    status = Status::done;
                    return used;
                }
                break;
            }
            case State::done:
                status = Status::done;
                return used;
        }
    }
}

}  // namespace baton::http1
