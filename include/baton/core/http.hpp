#pragma once
// HTTP/1.1 pieces shared by the server's request parser and the upstream response parser: the
// header field view, token/field-value character classes, and the chunked transfer coding
// decoder. No I/O, no allocation on the common path.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace baton::http1 {

struct HeaderField {
    std::string_view name;   // as sent
    std::string_view value;  // without leading/trailing whitespace
};

// RFC 9110 tchar: a character of a token (method, field name).
bool is_tchar(char c);

namespace detail {
// The 8 bytes of x with ASCII 'A'..'Z' turned lower case (bytes >= 0x80 unchanged).
inline uint64_t fold_ascii8(uint64_t x) {
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHigh = 0x8080808080808080ull;
    const uint64_t low7 = x & ~kHigh;
    const uint64_t ge_a = low7 + (0x80 - 'A') * kOnes;      // bit 7 set where byte >= 'A'
    const uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * kOnes;  // bit 7 set where byte > 'Z'
    const uint64_t upper = ge_a & ~gt_z & ~x & kHigh;
    return x | (upper >> 2);  // 0x80 >> 2 == 0x20
}
inline uint64_t load8(const char* p) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
}
inline char fold_ascii(char c) {
    return static_cast<char>(c + (static_cast<unsigned char>(c - 'A') < 26u ? 32 : 0));
}
}  // namespace detail

// ASCII case-insensitive equality; 8 bytes per step (header names are compared on every
// request).
[[gnu::always_inline]] inline bool iequals(std::string_view a, std::string_view b) {
    const size_t n = a.size();
    if (n != b.size()) return false;
    const char* x = a.data();
    const char* y = b.data();
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8) {
            const uint64_t u = detail::load8(x + i), v = detail::load8(y + i);
            if (u != v && detail::fold_ascii8(u) != detail::fold_ascii8(v)) return false;
        }
        if (n % 8 == 0) return true;
        const uint64_t u = detail::load8(x + n - 8), v = detail::load8(y + n - 8);
        return u == v || detail::fold_ascii8(u) == detail::fold_ascii8(v);
    }
    for (size_t i = 0; i < n; ++i) {
        if (detail::fold_ascii(x[i]) != detail::fold_ascii(y[i])) return false;
    }
    return true;
}
// The first field named `name` (ASCII case-insensitive), or nullptr.
const HeaderField* find(std::span<const HeaderField> fields, std::string_view name);
// Whether a comma-separated list (Connection, Transfer-Encoding) contains `token`.
bool has_token(std::string_view list, std::string_view token);
// The last element of a comma-separated list, trimmed.
std::string_view last_token(std::string_view list);

// Parses the field lines of a head, from p (the first field line) to end, which must be the
// end of the head ("\r\n\r\n" included). Appends the fields to `out` (views into the head).
// Returns nullptr on success, else why the head is malformed. RFC 9112: token names, no
// obs-fold, no control characters other than HTAB in values, CRLF line endings.
template <class Vec>
const char* parse_fields(const char* p, const char* end, Vec& out);
// Non-template core of parse_fields: one field line starting at p. Returns the position after
// its CRLF, or nullptr (and sets `why`) when malformed.
const char* parse_field_line(const char* p, const char* end, HeaderField& f, const char*& why);

template <class Vec>
const char* parse_fields(const char* p, const char* end, Vec& out) {
    const char* why = nullptr;
    while (end - p >= 2 && !(p[0] == '\r' && p[1] == '\n')) {
        HeaderField f;
        p = parse_field_line(p, end, f, why);
        if (p == nullptr) return why;
        out.push_back(f);
    }
    if (p + 2 != end) return "malformed head";
    return nullptr;
}

// Offset just past the first "\r\n\r\n" of `in`, or npos.
size_t find_blank_line(std::string_view in);
// How many bytes at the start of `in` complete a blank line begun at the end of `head`, or 0.
size_t blank_line_across(std::string_view head, std::string_view in);

// 1*DIGIT without overflow (at most 18 digits).
bool parse_decimal(std::string_view s, uint64_t& out);

// Decoder of the chunked transfer coding (RFC 9112 7.1): chunk-size [ext] CRLF data CRLF ...
// "0" [ext] CRLF *(trailer CRLF) CRLF. Extensions and trailers are read and dropped.
class ChunkedDecoder {
  public:
    enum class Status { need_more, done, error };
    void reset();
    // Decodes bytes of `in` into dst[0..cap). Returns how many bytes of `in` were used and
    // sets `produced`. Stops when dst is full, `in` is used up, or the body ended (done: the
    // rest of `in` belongs to whatever follows).
    size_t decode(std::string_view in, char* dst, size_t cap, size_t& produced, Status& status);
    bool done() const { return state_ == State::done; }
    const char* error() const { return error_; }

  private:
    enum class State { size, data, data_end, trailers, done };
    Status fail(const char* why) {
        error_ = why;
        return Status::error;
    }
    State state_ = State::size;
    uint64_t remaining_ = 0;
    std::string line_;  // a line split across calls
    uint64_t trailer_bytes_ = 0;
    const char* error_ = nullptr;
};

}  // namespace baton::http1
