// Checksums and syntax validators used by the scanner's detectors.
#include "baton/pii/validators.hpp"

#include <array>
#include <cmath>

namespace baton::pii {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

struct IbanCountry {
    char code[3];
    int length;
};

// ISO 13616 IBAN registry lengths (SWIFT registry, release 2024).
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HN", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
    {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20},
    {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20},
    {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25},
    {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
    {"YE", 30},
};

int b64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
}

// Parses one IPv6 hex group (1-4 hex digits) at s[i]; returns its length or 0.
std::size_t hex_group(std::string_view s, std::size_t i) {
    std::size_t k = 0;
    while (i + k < s.size() && k < 5 && is_hex(s[i + k])) ++k;
    return (k >= 1 && k <= 4) ? k : 0;
}

}  // namespace

bool luhn_valid(std::string_view s) {
    int sum = 0;
    int count = 0;
    bool dbl = false;
    for (std::size_t k = s.size(); k-- > 0;) {
        char c = s[k];
        if (!is_digit(c)) continue;
        int d = c - '0';
        if (dbl) {
            d *= 2;
            if (d > 9) d -= 9;
        }
        sum += d;
        dbl = !dbl;
        ++count;
    }
    return count > 0 && sum % 10 == 0;
}

bool card_prefix_plausible(std::string_view digits) {
    if (digits.size() < 4) return false;
    int p4 = 0;
    for (int k = 0; k < 4; ++k) {
        if (!is_digit(digits[k])) return false;
        p4 = p4 * 10 + (digits[k] - '0');
    }
    switch (digits[0]) {
        case '3':
        case '4':
        case '5':
        case '6':
            return true;
        case '2':
            return p4 == 2131 || (p4 >= 2221 && p4 <= 2720);
        case '1':
            return p4 == 1800;
        default:
            return false;
    }
}

int iban_length(char c0, char c1) {
    for (const auto& c : kIbanCountries) {
        if (c.code[0] == c0 && c.code[1] == c1) return c.length;
    }
    return 0;
}

bool iban_valid(std::string_view s) {
    std::array<char, 40> buf{};
    std::size_t n = 0;
    for (char c : s) {
        if (c == ' ') continue;
        if (!is_digit(c) && !is_alpha(c)) return false;
        if (n == buf.size()) return false;
        buf[n++] = upper(c);
    }
    if (n < 15 || !is_alpha(buf[0]) || !is_alpha(buf[1]) || !is_digit(buf[2]) ||
        !is_digit(buf[3])) {
        return false;
    }
    if (iban_length(buf[0], buf[1]) != static_cast<int>(n)) return false;
    // Move the first four characters to the end, letters become 10..35, then mod 97.
    int rem = 0;
    for (std::size_t k = 0; k < n; ++k) {
        char c = buf[(k + 4) % n];
        if (is_digit(c)) {
            rem = (rem * 10 + (c - '0')) % 97;
        } else {
            rem = (rem * 100 + (c - 'A' + 10)) % 97;
        }
    }
    return rem == 1;
}

bool ssn_valid(int area, int group, int serial) {
    if (area <= 0 || area == 666 || area >= 900 || area > 999) return false;
    if (group <= 0 || group > 99) return false;
    return serial > 0 && serial <= 9999;
}

double shannon_entropy(std::string_view s) {
    if (s.empty()) return 0.0;
    std::array<uint32_t, 256> counts{};
    for (unsigned char c : s) ++counts[c];
    double h = 0.0;
    const double n = static_cast<double>(s.size());
    for (uint32_t c : counts) {
        if (c == 0) continue;
        double p = c / n;
        h -= p * std::log2(p);
    }
    return h;
}

bool base64url_decode(std::string_view in, std::string& out) {
    while (!in.empty() && in.back() == '=') in.remove_suffix(1);
    if (in.size() % 4 == 1) return false;
    out.clear();
    out.reserve(in.size() * 3 / 4);
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = b64url_value(c);
        if (v < 0) return false;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    return true;
}

bool ipv4_valid(std::string_view s) {
    std::size_t i = 0;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
        std::size_t start = i;
        int v = 0;
        while (i < s.size() && is_digit(s[i]) && i - start < 4) v = v * 10 + (s[i++] - '0');
        std::size_t len = i - start;
        if (len == 0 || len > 3 || v > 255) return false;
        if (len > 1 && s[start] == '0') return false;
    }
    return i == s.size();
}

bool ipv6_valid(std::string_view s) {
    if (s.size() < 2 || s.size() > 45) return false;
    int groups = 0;
    bool compressed = false;
    std::size_t i = 0;
    if (s[0] == ':') {
        if (s[1] != ':') return false;
        compressed = true;
        i = 2;
        if (i == s.size()) return true;
    }
    while (i < s.size()) {
        // An embedded IPv4 tail counts as two groups and must end the address.
        std::size_t dot = s.find('.', i);
        std::size_t colon = s.find(':', i);
        if (dot != std::string_view::npos && (colon == std::string_view::npos || dot < colon)) {
            if (!ipv4_valid(s.substr(i))) return false;
            groups += 2;
            i = s.size();
            break;
        }
        std::size_t g = hex_group(s, i);
        if (g == 0) return false;
        ++groups;
        i += g;
        if (i == s.size()) break;
        if (s[i] != ':') return false;
        ++i;
        if (i < s.size() && s[i] == ':') {
            if (compressed) return false;
            compressed = true;
            ++i;
            if (i == s.size()) break;
        } else if (i == s.size()) {
            return false;  // trailing single ':'
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

bool high_entropy_token(std::string_view s) {
    if (s.size() < 32 || s.size() > 256) return false;
    std::string_view body = s;
    while (!body.empty() && body.back() == '=') body.remove_suffix(1);
    int digits = 0;
    int up = 0;
    int low = 0;
    std::size_t seg_start = 0;
    for (std::size_t k = 0; k <= body.size(); ++k) {
        char c = k < body.size() ? body[k] : '/';
        if (c == '/') {
            // A path-like segment made of a lower-case word is not random.
            std::size_t len = k - seg_start;
            if (len >= 3) {
                bool word = true;
                for (std::size_t m = seg_start; m < k && word; ++m) {
                    word = body[m] >= 'a' && body[m] <= 'z';
                }
                if (word) return false;
            }
            seg_start = k + 1;
            if (k == body.size()) break;
        }
        if (is_digit(c)) {
            ++digits;
        } else if (c >= 'A' && c <= 'Z') {
            ++up;
        } else if (c >= 'a' && c <= 'z') {
            ++low;
        } else if (c != '+' && c != '/' && c != '_' && c != '-') {
            return false;
        }
    }
    if (digits < 1 || up < 2 || low < 2) return false;
    // Word-likeness: bytes in runs [a-z]{3,}, [A-Z][a-z]{2,} or [A-Z]{4,}. Random base62/base64
    // strings of 32+ characters stay below 0.8 in 99.9% of cases; CamelCase identifiers and
    // hyphenated phrases are above 0.8.
    std::size_t wordy = 0;
    auto is_low = [](char c) { return c >= 'a' && c <= 'z'; };
    auto is_up = [](char c) { return c >= 'A' && c <= 'Z'; };
    for (std::size_t k = 0; k < body.size();) {
        std::size_t l = k;
        if (is_low(body[k])) {
            while (l < body.size() && is_low(body[l])) ++l;
            const std::size_t cap = (k > 0 && is_up(body[k - 1])) ? 1 : 0;
            if (l - k >= 3 || (cap && l - k >= 2)) wordy += l - k + cap;
        } else if (is_up(body[k])) {
            while (l < body.size() && is_up(body[l])) ++l;
            std::size_t run = l - k;
            if (l < body.size() && is_low(body[l])) --run;  // that capital starts the next word
            if (run >= 4) wordy += run;
        } else {
            ++l;
        }
        k = l;
    }
    if (wordy * 10 >= body.size() * 8) return false;
    return shannon_entropy(body) >= kEntropyFloor;
}

void json_escape_append(std::string_view value, std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (char ch : value) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out.push_back(kHex[c >> 4]);
                    out.push_back(kHex[c & 15]);
                } else {
                    out.push_back(ch);
                }
        }
    }
}

}  // namespace baton::pii
