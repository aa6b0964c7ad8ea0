// Virtual keys: generation (RAND_bytes), HMAC-SHA256 hashing, constant-time verification.
#include "baton/auth/keys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace baton::auth {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::size_t kMaxKeyLength = 256;

std::string to_hex(const unsigned char* p, std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (std::size_t k = 0; k < n; ++k) {
        out[2 * k] = kHex[p[k] >> 4];
        out[2 * k + 1] = kHex[p[k] & 15];
    }
    return out;
}

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!ok) return false;
    }
    return true;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k) {
        char x = a[k], y = b[k];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

// Printable ASCII without blanks: anything else cannot be one of our keys.
bool plausible_key(std::string_view key) {
    if (key.empty() || key.size() > kMaxKeyLength) return false;
    for (char c : key) {
        if (c <= ' ' || c > '~') return false;
    }
    return true;
}

Error unauthenticated(std::string message) {
    return make_error(Errc::unauthenticated, std::move(message));
}

}  // namespace

std::string generate_key() {
    std::string key(kKeyPrefix);
    std::array<unsigned char, 64> buf{};
    while (key.size() < kKeyPrefix.size() + kKeyRandomChars) {
        if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
            throw std::runtime_error("RAND_bytes failed");
        }
        for (unsigned char b : buf) {
            if (b >= 248) continue;  // 248 = 4 * 62: reject to keep the distribution uniform
            key.push_back(kBase62[b % 62]);
            if (key.size() == kKeyPrefix.size() + kKeyRandomChars) break;
        }
    }
    OPENSSL_cleanse(buf.data(), buf.size());
    return key;
}

std::string hash_key(std::string_view secret, std::string_view key) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(key.data()), key.size(), md.data(),
             &len) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return to_hex(md.data(), len);
}

KeyStore::KeyStore(std::vector<KeyConfig> keys, std::string secret) : secret_(std::move(secret)) {
    if (!keys.empty() && secret_.empty()) {
        throw ConfigError("auth: keys are configured but the key-hashing secret is empty");
    }
    std::unordered_map<std::string, std::size_t> names;
    for (KeyConfig& k : keys) {
        if (k.name.empty()) throw ConfigError("auth: a key has an empty name");
        if (!names.emplace(k.name, keys_.size()).second) {
            throw ConfigError("auth: duplicate key name '" + k.name + "'");
        }
        if (!is_hex64(k.hash)) {
            throw ConfigError("auth: key '" + k.name +
                              "': hash must be 64 hex characters (HMAC-SHA256, see "
                              "`baton keys new`)");
        }
        k.hash = lower(k.hash);
        if (!by_hash_.emplace(k.hash, keys_.size()).second) {
            throw ConfigError("auth: key '" + k.name + "' has the same hash as another key");
        }
        keys_.push_back(std::make_shared<const KeyConfig>(std::move(k)));
    }
}

boost::system::result<Principal, Error> KeyStore::authenticate(std::string_view presented) const {
    if (presented.empty()) return unauthenticated("missing API key");
    if (!plausible_key(presented) || keys_.empty()) return unauthenticated("invalid API key");
    const std::string computed = hash_key(secret_, presented);
    // The map is keyed by the HMAC of the presented key, which an attacker cannot steer towards
    // a stored hash; the final comparison is constant-time anyway.
    auto it = by_hash_.find(computed);
    const std::string& stored = it != by_hash_.end() ? keys_[it->second]->hash : computed;
    const bool equal = CRYPTO_memcmp(stored.data(), computed.data(), computed.size()) == 0;
    if (it == by_hash_.end() || !equal) return unauthenticated("invalid API key");
    return Principal{keys_[it->second]};
}

bool KeyStore::allowed(const Principal& principal, std::string_view model_or_route) {
    const auto& models = principal.key->models;
    if (models.empty()) return true;
    for (const std::string& m : models) {
        if (m == "*" || m == model_or_route) return true;
        if (m.size() > 1 && m.back() == '*' &&
            model_or_route.starts_with(std::string_view(m).substr(0, m.size() - 1))) {
            return true;
        }
    }
    return false;
}

boost::system::result<void, Error> KeyStore::authorize(const Principal& principal,
                                                       std::string_view model_or_route) {
    if (allowed(principal, model_or_route)) return {};
    return make_error(
        Errc::forbidden,
        "key '" + principal.name() + "' may not use model '" + std::string(model_or_route) + "'",
        "model");
}

boost::system::result<PresentedKey, Error> extract_key(std::string_view authorization,
                                                       std::string_view x_api_key) {
    PresentedKey bearer;
    authorization = trim(authorization);
    if (!authorization.empty()) {
        std::size_t sp = authorization.find_first_of(" \t");
        std::string_view scheme = authorization.substr(0, sp);
        if (!iequals(scheme, "bearer")) {
            return unauthenticated("Authorization header must use the Bearer scheme");
        }
        std::string_view value =
            sp == std::string_view::npos ? std::string_view{} : trim(authorization.substr(sp));
        if (value.empty()) return unauthenticated("empty Bearer token");
        bearer = PresentedKey{value, KeySource::bearer};
    }
    x_api_key = trim(x_api_key);
    if (!x_api_key.empty()) {
        if (bearer.source != KeySource::none && bearer.key != x_api_key) {
            return unauthenticated("Authorization and x-api-key carry different keys");
        }
        if (bearer.source == KeySource::none) return PresentedKey{x_api_key, KeySource::x_api_key};
    }
    return bearer;
}

std::string describe_key(std::string_view key) {
    std::string out;
    if (key.starts_with(kKeyPrefix)) out = std::string(kKeyPrefix) + "\xE2\x80\xA6";
    out += "(" + std::to_string(key.size()) + " chars)";
    return out;
}

}  // namespace baton::auth
