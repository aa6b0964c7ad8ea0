#pragma once
// Virtual keys: generation, HMAC hashing, the key store (authenticate + authorize) and the
// parsing of the two headers clients put keys in.
//
// Keys are never stored: the configuration holds HMAC-SHA256(server secret, key) in hex. A
// presented key is hashed with the same secret, looked up by that hash, and confirmed with a
// constant-time comparison (CRYPTO_memcmp). Error messages never contain the presented key.
#include <boost/system/result.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "baton/core/error.hpp"

namespace baton::auth {

inline constexpr std::string_view kKeyPrefix = "bt-";
inline constexpr std::size_t kKeyRandomChars = 32;  // base62: ~190 bits

// "bt-" + 32 random base62 characters (OpenSSL RAND_bytes, rejection sampling: no modulo bias).
// Throws std::runtime_error if the RNG fails.
std::string generate_key();

// HMAC-SHA256(secret, key) as 64 lower-case hex characters.
std::string hash_key(std::string_view secret, std::string_view key);

struct KeyConfig {
    std::string name;                        // shown in logs, audit, /admin/keys
    std::string hash;                        // hash_key(secret, key), 64 hex chars
    std::vector<std::string> models;         // allowed models/routes; empty = all; "*" = all;
                                             // "prefix*" matches by prefix
    std::vector<std::string> required_tags;  // e.g. {"eu"}: every candidate must carry them
    uint32_t rpm = 0;                        // requests per minute, 0 = unlimited
    uint32_t tpm = 0;                        // tokens per minute, 0 = unlimited
    uint32_t max_concurrent = 0;             // 0 = unlimited
    std::optional<double> budget_day_usd;
    std::optional<double> budget_week_usd;
    std::optional<double> budget_month_usd;
    std::map<std::string, std::string> metadata;  // free-form, for logs
    bool admin = false;                           // may call /admin/* and /v1/route/explain
};

// An authenticated caller. Cheap to copy; keeps its KeyConfig alive across config reloads.
struct Principal {
    std::shared_ptr<const KeyConfig> key;
    const std::string& name() const { return key->name; }
};

class KeyStore {
  public:
    KeyStore() = default;
    // Validates the list (non-empty unique names, unique 64-hex hashes; upper-case hex is
    // accepted and normalised) and keeps the secret. Throws baton::ConfigError naming the key.
    KeyStore(std::vector<KeyConfig> keys, std::string secret);

    // 401 (Errc::unauthenticated) "invalid API key" for unknown, empty or malformed keys.
    boost::system::result<Principal, Error> authenticate(std::string_view presented) const;

    // True when `principal` may use the model or route (see KeyConfig::models).
    static bool allowed(const Principal& principal, std::string_view model_or_route);
    // Same, as an error for the API: 403 (Errc::forbidden) naming the key and the model.
    static boost::system::result<void, Error> authorize(const Principal& principal,
                                                        std::string_view model_or_route);

    std::size_t size() const { return keys_.size(); }
    bool empty() const { return keys_.empty(); }
    // For /admin/keys (the hashes stay inside).
    std::vector<std::shared_ptr<const KeyConfig>> keys() const { return keys_; }

  private:
    std::vector<std::shared_ptr<const KeyConfig>> keys_;
    std::unordered_map<std::string, std::size_t> by_hash_;
    std::string secret_;
};

enum class KeySource : uint8_t { none, bearer, x_api_key };

struct PresentedKey {
    std::string_view key;  // points into the header value; empty when source == none
    KeySource source = KeySource::none;
};

// Reads the key from the `Authorization` and `x-api-key` header values (empty = absent).
// "Bearer" is matched case-insensitively; surrounding blanks are trimmed. Both present with
// different keys, a non-Bearer Authorization scheme, or an empty Bearer value is a 401 error.
// Neither present: PresentedKey{} (the caller decides whether a key is required).
boost::system::result<PresentedKey, Error> extract_key(std::string_view authorization,
                                                       std::string_view x_api_key);

// Redacted form of a key for diagnostics: prefix and length only ("bt-…(35 chars)").
std::string describe_key(std::string_view key);

}  // namespace baton::auth
