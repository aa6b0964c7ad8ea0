#pragma once
// Internal: character table and the anchored detectors the scan loop dispatches to. Each
// detector looks at decoded text `t` from position `i` (a candidate start chosen by the loop) and
// returns the end of a confirmed match, or 0.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "baton/pii/scanner.hpp"

namespace baton::pii::detail {

enum : uint8_t {
    kDigit = 1,
    kUpper = 2,
    kLower = 4,
    kWord = 8,    // [A-Za-z0-9_]
    kToken = 16,  // kWord plus + / = -  (generic token alphabet)
    kHex = 32,
    kStart = 64,  // bytes the scan loop stops at: kWord, '@', '+', '(', '-', ':'
};

constexpr std::array<uint8_t, 256> make_table() {
    std::array<uint8_t, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = kDigit | kWord | kToken | kHex | kStart;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = kUpper | kWord | kToken | kStart;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = kLower | kWord | kToken | kStart;
    for (int c = 'A'; c <= 'F'; ++c) t[c] |= kHex;
    for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHex;
    t['_'] = kWord | kToken | kStart;
    t['+'] = kToken | kStart;
    t['-'] = kToken | kStart;
    t['/'] = kToken;
    t['='] = kToken;
    t['@'] = kStart;
    t['('] = kStart;
    t[':'] = kStart;
    return t;
}
inline constexpr std::array<uint8_t, 256> kTable = make_table();

inline uint8_t flags(char c) { return kTable[static_cast<unsigned char>(c)]; }
inline bool is_digit(char c) { return flags(c) & kDigit; }
inline bool is_alpha(char c) { return flags(c) & (kUpper | kLower); }
inline bool is_alnum(char c) { return flags(c) & (kDigit | kUpper | kLower); }
inline bool is_word(char c) { return flags(c) & kWord; }
inline bool is_hex(char c) { return flags(c) & kHex; }

// Text with bounds-checked access (0 past the end).
struct Text {
    std::string_view t;
    char at(std::size_t k) const { return k < t.size() ? t[k] : '\0'; }
    std::size_t size() const { return t.size(); }
};

// Numeric detectors; `i` is a word start with a digit (phone also accepts '+' and '(').
std::size_t detect_card(const Text& s, std::size_t i);
std::size_t detect_ssn(const Text& s, std::size_t i);
std::size_t detect_ipv4(const Text& s, std::size_t i);
std::size_t detect_ipv6(const Text& s, std::size_t i);  // also at a letter or "::"
std::size_t detect_phone(const Text& s, std::size_t i);
// Letter-start detectors.
std::size_t detect_iban(const Text& s, std::size_t i);
std::size_t detect_secret(const Text& s, std::size_t i, Kind& kind);  // prefix-anchored
std::size_t detect_private_key(const Text& s, std::size_t i);         // at "-----BEGIN "
// Email around the '@' at `at`; `floor` is the lowest allowed begin. Returns end, sets begin.
std::size_t detect_email(const Text& s, std::size_t at, std::size_t floor, std::size_t& begin);

// True when a digit-start candidate at `i` continues a numeric token ("1.2" / "3-4" / "5/6").
inline bool glued_to_number(const Text& s, std::size_t i) {
    if (i < 2) return false;
    char p = s.t[i - 1];
    return (p == '.' || p == '-' || p == '/' || p == ':' || p == ',') && is_digit(s.t[i - 2]);
}

// True when the candidate [b, e) is part of arithmetic: "=" before or after it (one space
// allowed), as in "600-198-209 = 193".
bool arithmetic(const Text& s, std::size_t b, std::size_t e);

// True when one of the given lower-case keywords occurs in the `window` bytes before `i`.
bool context_has(const Text& s, std::size_t i, std::size_t window,
                 std::initializer_list<std::string_view> words);

}  // namespace baton::pii::detail
