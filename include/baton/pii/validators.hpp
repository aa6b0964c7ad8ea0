#pragma once
// Validators behind the scanner's detectors, exposed for reuse and unit tests. All are pure,
// allocation-free and take already-decoded text.
#include <cstdint>
#include <string>
#include <string_view>

namespace baton::pii {

// Luhn checksum over the digits of `s` (other characters are ignored). False when no digits.
bool luhn_valid(std::string_view s);

// Issuer prefix plausible for a payment card (2131/2221-2720 for 2, 3-6 any, 1800 for 1).
bool card_prefix_plausible(std::string_view digits);

// IBAN: country code known, length equal to that country's IBAN length, check digits valid
// (ISO 13616 mod-97 == 1). Spaces are ignored, letters may be either case.
bool iban_valid(std::string_view s);
// Registered IBAN length for a two-letter country code (upper-case), 0 when unknown.
int iban_length(char c0, char c1);

// US SSN ranges: area not 000, 666 or 900-999; group not 00; serial not 0000.
bool ssn_valid(int area, int group, int serial);

// Shannon entropy of the byte distribution of `s`, in bits per character.
double shannon_entropy(std::string_view s);

// Base64url decode (no padding required, '=' padding tolerated). False on invalid input.
bool base64url_decode(std::string_view in, std::string& out);

// True when `s` is a syntactically valid IPv4 dotted quad (no leading zeros, octets <= 255).
bool ipv4_valid(std::string_view s);
// True when `s` is a syntactically valid IPv6 address (RFC 4291 text forms, including "::" and
// an embedded IPv4 tail).
bool ipv6_valid(std::string_view s);

// Generic-token rule: length 32..256 over [A-Za-z0-9+/=_-], at least 1 digit, 2 upper-case
// and 2 lower-case letters, no '/'-separated segment that is a lower-case word of 3+ letters,
// under 80% of the bytes in word-like runs ([a-z]{3,}, [A-Z][a-z]{2,} or [A-Z]{4,}), and Shannon
// entropy >= kEntropyFloor bits/char (trailing '=' padding ignored).
inline constexpr double kEntropyFloor = 4.0;
bool high_entropy_token(std::string_view s);

// Emits `value` (UTF-8) escaped for the inside of a JSON string literal.
void json_escape_append(std::string_view value, std::string& out);
// Decodes the contents of a JSON string literal (escapes as written) to UTF-8; malformed escapes
// are kept literally, lone surrogates become U+FFFD.
std::string json_unescape(std::string_view raw);

}  // namespace baton::pii
