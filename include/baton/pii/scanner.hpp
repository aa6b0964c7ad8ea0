#pragma once
// Sensitive-data scanner: one hand-written pass over message text, no regex engine.
//
// The main loop skips bytes that cannot start a candidate using a 256-entry class table, and at
// each word start dispatches on the first character to anchored detectors (card, SSN, IPv4/IPv6,
// phone, IBAN, secret prefixes, JWT, PEM, generic high-entropy token); an '@' triggers the email
// detector. Every candidate is confirmed by a validator (Luhn, mod-97, SSN ranges, octet ranges,
// phone grammar, base64url JSON header, entropy floor) before it becomes a Finding.
// docs/security.md describes every class, its rules and the measured precision/recall and speed.
//
// Findings carry offsets only, never the matched value: anything derived from them for logs
// (ClassCounts::to_string) cannot leak the data.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace baton::pii {

// Policy-level classes (what YAML per-class policy and logs talk about).
enum class Class : uint8_t { email, phone, card, iban, ssn, ip, secret };
inline constexpr std::size_t kClassCount = 7;

// Detector-level kinds (finer than Class; each maps to exactly one Class).
enum class Kind : uint8_t {
    email,
    phone,
    card,
    iban,
    ssn,
    ipv4,
    ipv6,
    aws_access_key,  // AKIA/ASIA/... + 16 [A-Z0-9]
    github_token,    // ghp_/gho_/ghu_/ghs_/ghr_ + 36, github_pat_...
    api_key,         // sk-... (OpenAI/Anthropic style), sk_live_/rk_live_ (Stripe style)
    slack_token,     // xox[abposr]-..., xapp-...
    google_api_key,  // AIza + 35
    private_key,     // -----BEGIN ... PRIVATE KEY----- block
    jwt,             // header.payload.signature, header decodes to JSON with "alg"
    high_entropy,    // generic token above the entropy floor
};
inline constexpr std::size_t kKindCount = 15;

Class class_of(Kind k);
// Lower-case names used in config and logs: "email", "phone", "card", "iban", "ssn", "ip",
// "secret".
std::string_view class_name(Class c);
// Inverse of class_name(); false when unknown.
bool parse_class(std::string_view name, Class& out);
// Placeholder stem: "EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "SECRET".
std::string_view placeholder_stem(Class c);
// "email", "phone", ..., "aws_access_key", "jwt", "high_entropy".
std::string_view kind_name(Kind k);

struct Finding {
    Class cls = Class::email;
    Kind kind = Kind::email;
    uint32_t begin = 0;  // byte offsets into the scanned text (raw, escapes included)
    uint32_t end = 0;    // one past the last byte
    bool operator==(const Finding&) const = default;
};

// Set of classes as a bit mask.
class ClassSet {
  public:
    constexpr ClassSet() = default;
    static constexpr ClassSet all() { return ClassSet((1u << kClassCount) - 1); }
    static constexpr ClassSet none() { return ClassSet(0); }
    constexpr ClassSet& add(Class c) {
        bits_ |= 1u << static_cast<unsigned>(c);
        return *this;
    }
    constexpr ClassSet& remove(Class c) {
        bits_ &= ~(1u << static_cast<unsigned>(c));
        return *this;
    }
    constexpr bool has(Class c) const { return (bits_ >> static_cast<unsigned>(c)) & 1u; }
    constexpr bool empty() const { return bits_ == 0; }
    constexpr uint32_t bits() const { return bits_; }
    constexpr bool operator==(const ClassSet&) const = default;

  private:
    constexpr explicit ClassSet(uint32_t bits) : bits_(bits) {}
    uint32_t bits_ = 0;
};

// Per-class counts: the only thing about findings that may reach logs.
struct ClassCounts {
    std::array<uint32_t, kClassCount> n{};

    void add(Class c, uint32_t k = 1) { n[static_cast<std::size_t>(c)] += k; }
    void add(const std::vector<Finding>& findings);
    void merge(const ClassCounts& o);
    uint32_t operator[](Class c) const { return n[static_cast<std::size_t>(c)]; }
    uint32_t total() const;
    bool any() const { return total() != 0; }
    ClassSet classes() const;  // classes with a non-zero count
    // "card=1,email=2" (class order, zero counts omitted; "" when empty).
    std::string to_string() const;
    bool operator==(const ClassCounts&) const = default;
};

// How the scanned bytes are encoded.
enum class Encoding : uint8_t {
    json_string,  // raw contents of a JSON string literal (without quotes), escapes as written
    plain,        // already-decoded UTF-8 text
};

struct ScanOptions {
    Encoding encoding = Encoding::json_string;
    ClassSet classes = ClassSet::all();  // classes to report (others are not looked for)
};

// Scans `text` and returns the findings in ascending `begin` order, non-overlapping.
// For Encoding::json_string, escapes are decoded before detection (\n separates words, \" is a
// quote, \u00e9 is é, surrogate pairs are joined) and offsets are mapped back to the raw text: a
// finding always covers whole escape sequences. Malformed escapes are kept literally.
std::vector<Finding> scan(std::string_view text, const ScanOptions& opts = {});
// Same, appending to `out` (reuses its capacity; `out` is not cleared).
void scan(std::string_view text, const ScanOptions& opts, std::vector<Finding>& out);

// Convenience: counts of scan(text, opts) by class.
ClassCounts count_classes(std::string_view text, const ScanOptions& opts = {});

}  // namespace baton::pii
