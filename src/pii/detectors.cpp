// Anchored detectors: each parses a candidate at a position chosen by the scan loop and confirms
// it with a validator. No allocation; bounded look-ahead except for PEM blocks.
#include "pii/detectors.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "baton/pii/validators.hpp"

namespace baton::pii::detail {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
bool is_b64url(char c) { return is_alnum(c) || c == '-' || c == '_'; }
bool is_upper_or_digit(char c) { return flags(c) & (kUpper | kDigit); }
bool is_email_local(char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

template <class Pred>
std::size_t run(const Text& s, std::size_t from, Pred pred) {
    std::size_t j = from;
    while (j < s.size() && pred(s.t[j])) ++j;
    return j;
}

bool starts_with(const Text& s, std::size_t i, std::string_view p) {
    return s.t.substr(std::min(i, s.size())).starts_with(p);
}

// ---- phone --------------------------------------------------------------------------------

constexpr int kMaxPhoneGroups = 8;

struct PGroup {
    uint32_t begin = 0;  // first digit
    uint32_t end = 0;    // one past the last digit
    bool paren = false;
    char sep = 0;  // separator before this group (0: first group, or glued after ')')
    uint32_t len() const { return end - begin; }
};

bool phone_context(const Text& s, std::size_t i) {
    return context_has(
        s, i, 40,
        {"phone", "tel", "mobile", "cell", "fax", "call", "contact", "whatsapp", "sms", "dial"});
}

// Validates the first k groups of a phone candidate (grammar in docs/security.md).
bool phone_valid(const Text& s, const PGroup* g, int k, bool plus, std::size_t start) {
    int digits = 0;
    int trunk = 0;  // "(0)" trunk prefixes in international numbers
    for (int m = 0; m < k; ++m) {
        digits += static_cast<int>(g[m].len());
        if (g[m].paren && g[m].len() == 1 && s.t[g[m].begin] == '0') ++trunk;
    }
    if (plus) return digits - trunk >= 8 && digits - trunk <= 15;
    const std::string_view first = s.t.substr(g[0].begin, g[0].len());
    // International dial prefix: 00 + country code ...
    if (k >= 2 && !g[0].paren && first.size() <= 4 && first.starts_with("00")) {
        return digits - 2 >= 8 && digits - 2 <= 15;
    }
    // North American Numbering Plan: [1] NPA NXX XXXX, NPA and NXX starting with 2-9.
    int o = (k == 4 && first == "1") ? 1 : 0;
    if (k - o == 3 && g[o].len() == 3 && g[o + 1].len() == 3 && g[o + 2].len() == 4 &&
        s.t[g[o].begin] >= '2' && s.t[g[o + 1].begin] >= '2') {
        if (g[o].paren || (g[o + 1].sep != 0 && g[o + 1].sep == g[o + 2].sep)) return true;
    }
    if (digits < 7 || digits > 12) return false;
    if (k == 1) return !g[0].paren && phone_context(s, start);
    // National formats: one separator kind (ignoring the ones next to parentheses), no
    // one-digit group, no date shape, no thousands-separated amount.
    char sep = 0;
    bool all_two = true;
    bool thousands = !g[0].paren && g[0].len() <= 3;
    bool zero_group = false;
    for (int m = 0; m < k; ++m) {
        if (g[m].paren) continue;
        if (g[m].len() < 2) return false;
        if (g[m].len() != 2) all_two = false;
        if (m > 0 && g[m].len() != 3) thousands = false;
        if (s.t.substr(g[m].begin, g[m].len()) == "000") zero_group = true;
        if (m == 0 || g[m - 1].paren) continue;
        if (sep == 0) sep = g[m].sep;
        if (g[m].sep != sep) return false;
    }
    const bool ctx_free_sep = sep == '-' || sep == '.';
    if (k == 3 && ctx_free_sep && !g[0].paren) {
        uint32_t a = g[0].len(), b = g[1].len(), c = g[2].len();
        if ((a == 4 && b <= 2 && c <= 2) || (a <= 2 && b <= 2 && c == 4)) return false;  // date
        if (a == 3 && b == 2 && c == 4 && sep == '-') return false;  // SSN shape, invalid SSN
    }
    if (k == 2 && !g[0].paren) {  // "467 3395": as often a house number + street number
        if (sep == '-' && g[0].len() <= 4 && g[1].len() >= 6) return true;
        return phone_context(s, start);
    }
    if (thousands && (sep == ' ' || sep == '.') && (digits < 9 || zero_group)) return false;
    if (all_two && !g[0].paren && (sep == ' ' || k < 4)) return phone_context(s, start);
    return true;
}

// Extension after a phone number: "x123", " x123", "ext 12", " ext. 12" (1-6 digits).
std::size_t phone_extension(const Text& s, std::size_t e) {
    std::size_t j = e;
    if (s.at(j) == ' ') ++j;
    if (lower(s.at(j)) == 'x') {
        ++j;
    } else if (lower(s.at(j)) == 'e' && lower(s.at(j + 1)) == 'x' && lower(s.at(j + 2)) == 't') {
        j += 3;
        if (s.at(j) == '.') ++j;
        if (s.at(j) == ' ') ++j;
    } else {
        return e;
    }
    std::size_t d = run(s, j, is_digit);
    if (d == j || d - j > 6 || is_word(s.at(d))) return e;
    return d;
}

}  // namespace

bool arithmetic(const Text& s, std::size_t b, std::size_t e) {
    std::size_t j = e;
    if (s.at(j) == ' ') ++j;
    if (s.at(j) == '=') return true;
    if (b == 0) return false;
    std::size_t k = b - 1;
    if (s.t[k] == ' ' && k > 0) --k;
    return s.t[k] == '=';
}

bool context_has(const Text& s, std::size_t i, std::size_t window,
                 std::initializer_list<std::string_view> words) {
    std::array<char, 64> buf{};
    std::size_t from = i > window ? i - window : 0;
    std::size_t len = std::min(i - from, buf.size());
    from = i - len;
    for (std::size_t k = 0; k < len; ++k) buf[k] = lower(s.t[from + k]);
    std::string_view hay(buf.data(), len);
    return std::any_of(words.begin(), words.end(),
                       [&](std::string_view w) { return hay.find(w) != std::string_view::npos; });
}

std::size_t detect_card(const Text& s, std::size_t i) {
    if (glued_to_number(s, i)) return 0;
    std::array<char, 40> digits{};
    std::array<uint32_t, 20> group_end{};
    std::array<uint8_t, 20> group_len{};
    int nd = 0;
    int ng = 0;
    int cur = 0;
    char sep = 0;
    std::size_t j = i;
    while (true) {
        char c = s.at(j);
        if (is_digit(c)) {
            if (nd == static_cast<int>(digits.size())) return 0;
            digits[nd++] = c;
            ++cur;
            ++j;
            continue;
        }
        if ((c == ' ' || c == '-') && (sep == 0 || sep == c) && is_digit(s.at(j + 1)) &&
            ng + 1 < static_cast<int>(group_len.size()) && nd <= 19) {
            sep = c;
            group_len[ng] = static_cast<uint8_t>(cur);
            group_end[ng++] = static_cast<uint32_t>(j);
            cur = 0;
            ++j;
            continue;
        }
        break;
    }
    group_len[ng] = static_cast<uint8_t>(cur);
    group_end[ng++] = static_cast<uint32_t>(j);
    if (group_len[0] > 19) return 0;
    if (is_alpha(s.at(j)) || s.at(j) == '_') return 0;
    int total = nd;
    for (int k = ng; k >= 1; --k) {
        if (k < ng) total -= group_len[k];
        if (total < 12) break;
        // 12-digit (Maestro) numbers only next to a card keyword.
        if (total == 12 &&
            !context_has(s, i, 32,
                         {"card", "visa", "maestro", "mastercard", "amex", "cc ", "cc#", "cc:"})) {
            break;
        }
        if (total > 19) continue;
        // Shorter than the digit run only when a space follows (not "1234-5678-...-99").
        if (k < ng && s.at(group_end[k - 1]) != ' ') continue;
        // Grouped as printed on cards: 4-4-4-4(-3), 4-6-5, 4-6-4.
        bool grouped = k == 1 || group_len[0] == 4;
        for (int m = 1; m < k && grouped; ++m) grouped = group_len[m] >= 3 && group_len[m] <= 6;
        if (grouped && arithmetic(s, i, group_end[k - 1])) return 0;
        std::string_view d(digits.data(), static_cast<std::size_t>(total));
        if (grouped && card_prefix_plausible(d) && luhn_valid(d)) return group_end[k - 1];
    }
    return 0;
}

std::size_t detect_ssn(const Text& s, std::size_t i) {
    if (glued_to_number(s, i)) return 0;
    auto num = [&](std::size_t from, std::size_t len) {
        int v = 0;
        for (std::size_t k = 0; k < len; ++k) {
            char c = s.at(from + k);
            if (!is_digit(c)) return -1;
            v = v * 10 + (c - '0');
        }
        return v;
    };
    char sep = s.at(i + 3);
    std::size_t end = 0;
    int area = num(i, 3);
    int group = -1;
    int serial = -1;
    if ((sep == '-' || sep == ' ') && s.at(i + 6) == sep) {
        group = num(i + 4, 2);
        serial = num(i + 7, 4);
        end = i + 11;
    } else if (is_digit(sep)) {  // nine plain digits only next to an SSN keyword
        group = num(i + 3, 2);
        serial = num(i + 5, 4);
        end = i + 9;
        if (serial >= 0 && !context_has(s, i, 32, {"ssn", "social security", "social sec"})) {
            return 0;
        }
    }
    if (area < 0 || group < 0 || serial < 0) return 0;
    char after = s.at(end);
    if (is_word(after)) return 0;
    if ((after == '-' || after == '.' || after == '/') && is_digit(s.at(end + 1))) return 0;
    return ssn_valid(area, group, serial) ? end : 0;
}

std::size_t detect_ipv4(const Text& s, std::size_t i) {
    if (glued_to_number(s, i)) return 0;
    std::size_t j = i;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (s.at(j) != '.') return 0;
            ++j;
        }
        std::size_t d = run(s, j, is_digit);
        if (d == j || d - j > 3) return 0;
        j = d;
    }
    if (is_word(s.at(j)) || (s.at(j) == '.' && is_digit(s.at(j + 1)))) return 0;
    return ipv4_valid(s.t.substr(i, j - i)) ? j : 0;
}

std::size_t detect_ipv6(const Text& s, std::size_t i) {
    if (i > 0) {
        char p = s.t[i - 1];
        if (is_word(p) || p == ':' || p == '.') return 0;
    }
    if (s.at(i) != ':') {  // cheap pre-filter: 1-4 hex digits then ':'
        std::size_t k = 0;
        while (k < 5 && is_hex(s.at(i + k))) ++k;
        if (k == 0 || k > 4 || s.at(i + k) != ':') return 0;
    }
    std::size_t j = run(s, i, [](char c) { return is_hex(c) || c == ':' || c == '.'; });
    if (j - i > 45) return 0;
    std::size_t end = j;
    while (end > i && s.t[end - 1] == '.') --end;
    if (end - i >= 2 && s.t[end - 1] == ':' && s.t[end - 2] != ':') --end;
    if (is_word(s.at(j))) return 0;
    std::string_view v = s.t.substr(i, end - i);
    if (v.size() < 3 || v.find_first_of("0123456789") == std::string_view::npos) return 0;
    if (!ipv6_valid(v)) return 0;
    // Short compressed forms ("1::2", "::2") are more often Python slices than addresses: with
    // at most two groups, one group needs 3+ hex digits ("fe80::1"); "::1" is kept.
    if (v.find("::") != std::string_view::npos && v != "::1" && v.find('.') == v.npos) {
        int groups = 0;
        std::size_t longest = 0;
        for (std::size_t k = 0; k < v.size();) {
            std::size_t l = k;
            while (l < v.size() && v[l] != ':') ++l;
            if (l > k) ++groups;
            longest = std::max(longest, l - k);
            k = l + 1;
        }
        if (groups <= 2 && longest < 3) return 0;
    }
    return end;
}

std::size_t detect_phone(const Text& s, std::size_t i) {
    if (i > 0 && (is_word(s.t[i - 1]) || s.t[i - 1] == '+')) return 0;
    std::size_t j = i;
    bool plus = false;
    if (s.at(j) == '+') {
        plus = true;
        ++j;
        if (!is_digit(s.at(j)) || s.at(j) == '0') return 0;
    } else if (is_digit(s.at(j)) && glued_to_number(s, i)) {
        return 0;
    }
    std::array<PGroup, kMaxPhoneGroups> g{};
    int ng = 0;
    char sep = 0;
    while (ng < kMaxPhoneGroups) {
        if (s.at(j) == '(') {
            std::size_t d = run(s, j + 1, is_digit);
            if (d == j + 1 || d - j - 1 > 4 || s.at(d) != ')') break;
            g[ng++] = PGroup{static_cast<uint32_t>(j + 1), static_cast<uint32_t>(d), true, sep};
            j = d + 1;
        } else if (is_digit(s.at(j))) {
            std::size_t d = run(s, j, is_digit);
            if (d - j > 15) return 0;
            g[ng++] = PGroup{static_cast<uint32_t>(j), static_cast<uint32_t>(d), false, sep};
            j = d;
        } else {
            break;
        }
        char c = s.at(j);
        if ((c == ' ' || c == '-' || c == '.') &&
            (is_digit(s.at(j + 1)) || (c == ' ' && s.at(j + 1) == '('))) {
            sep = c;
            ++j;
            continue;
        }
        if (g[ng - 1].paren && is_digit(c)) {
            sep = 0;
            continue;
        }
        break;
    }
    if (ng == 0) return 0;
    for (int k = ng; k >= 1; --k) {
        std::size_t end = g[k - 1].end + (g[k - 1].paren ? 1 : 0);
        if (k == ng) end = phone_extension(s, end);
        char after = s.at(end);
        if (is_word(after) || after == '@') continue;
        if (k < ng && after != ' ') continue;  // "555-123-4567-8" is not a phone number
        if (phone_valid(s, g.data(), k, plus, i)) return arithmetic(s, i, end) ? 0 : end;
    }
    return 0;
}

std::size_t detect_iban(const Text& s, std::size_t i) {
    auto up = [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; };
    const int len = iban_length(up(s.at(i)), up(s.at(i + 1)));
    if (len == 0) return 0;
    std::array<char, 40> buf{};
    int count = 0;
    std::size_t j = i;
    while (count < len) {
        char c = s.at(j);
        if (is_alnum(c)) {
            buf[count++] = c;
            ++j;
        } else if (c == ' ' && count % 4 == 0 && is_alnum(s.at(j + 1))) {
            ++j;  // grouped form "GB82 WEST 1234 ..."
        } else {
            return 0;
        }
    }
    if (is_word(s.at(j))) return 0;
    return iban_valid(std::string_view(buf.data(), static_cast<std::size_t>(count))) ? j : 0;
}

std::size_t detect_private_key(const Text& s, std::size_t i) {
    constexpr std::string_view kBegin = "-----BEGIN ";
    if (!starts_with(s, i, kBegin)) return 0;
    std::size_t label_end = s.t.find("-----", i + kBegin.size());
    if (label_end == std::string_view::npos || label_end - i > 80) return 0;
    std::string_view label = s.t.substr(i + kBegin.size(), label_end - i - kBegin.size());
    if (!label.ends_with("PRIVATE KEY") && !label.ends_with("PRIVATE KEY BLOCK")) return 0;
    for (char c : label) {
        if (!(flags(c) & (kUpper | kDigit)) && c != ' ') return 0;
    }
    std::size_t end_marker = s.t.find("-----END ", label_end + 5);
    if (end_marker == std::string_view::npos) return s.size();  // unterminated: redact the rest
    std::size_t close = s.t.find("-----", end_marker + 9);
    return close == std::string_view::npos ? s.size() : close + 5;
}

std::size_t detect_secret(const Text& s, std::size_t i, Kind& kind) {
    const char c = s.t[i];
    if (c == 'A') {
        if (starts_with(s, i, "AIza")) {
            std::size_t j = run(s, i + 4, is_b64url);
            if (j - i - 4 == 35) {
                kind = Kind::google_api_key;
                return j;
            }
            return 0;
        }
        static constexpr std::string_view kAws[] = {"AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA",
                                                    "AIPA", "ANPA", "ANVA", "APKA", "AROA"};
        std::string_view p = s.t.substr(i, 4);
        if (std::find(std::begin(kAws), std::end(kAws), p) != std::end(kAws)) {
            std::size_t j = run(s, i + 4, is_upper_or_digit);
            if (j - i - 4 == 16 && !is_word(s.at(j))) {
                kind = Kind::aws_access_key;
                return j;
            }
        }
        return 0;
    }
    if (c == 'g') {
        constexpr std::string_view kKinds = "pousr";
        if (s.at(i + 1) == 'h' && kKinds.find(s.at(i + 2)) != std::string_view::npos &&
            s.at(i + 3) == '_') {
            std::size_t j = run(s, i + 4, is_alnum);
            if (j - i - 4 >= 30 && j - i - 4 <= 251 && !is_word(s.at(j))) {
                kind = Kind::github_token;
                return j;
            }
        } else if (starts_with(s, i, "github_pat_")) {
            std::size_t j = run(s, i + 11, is_word);
            if (j - i - 11 >= 22) {
                kind = Kind::github_token;
                return j;
            }
        }
        return 0;
    }
    if (c == 's' || c == 'r') {
        if (c == 's' && starts_with(s, i, "sk-")) {
            std::size_t j = run(s, i + 3, is_b64url);
            std::string_view rest = s.t.substr(i + 3, j - i - 3);
            if (rest.size() >= 20 && rest.find_first_of("0123456789") != std::string_view::npos &&
                std::any_of(rest.begin(), rest.end(), is_alpha) && shannon_entropy(rest) >= 3.0) {
                kind = Kind::api_key;
                return j;
            }
            return 0;
        }
        std::string_view p = s.t.substr(i, 8);
        if (p == "sk_live_" || p == "sk_test_" || p == "rk_live_" || p == "rk_test_") {
            std::size_t j = run(s, i + 8, is_alnum);
            if (j - i - 8 >= 16 && !is_word(s.at(j))) {
                kind = Kind::api_key;
                return j;
            }
        }
        return 0;
    }
    if (c == 'x') {
        std::size_t from = 0;
        constexpr std::string_view kKinds = "abposr";
        if (starts_with(s, i, "xox") && kKinds.find(s.at(i + 3)) != std::string_view::npos &&
            s.at(i + 4) == '-') {
            from = i + 5;
        } else if (starts_with(s, i, "xapp-")) {
            from = i + 5;
        } else {
            return 0;
        }
        std::size_t j = run(s, from, [](char ch) { return is_alnum(ch) || ch == '-'; });
        std::string_view rest = s.t.substr(from, j - from);
        if (rest.size() >= 10 && rest.find_first_of("0123456789") != std::string_view::npos) {
            kind = Kind::slack_token;
            return j;
        }
        return 0;
    }
    if (c == 'e' && starts_with(s, i, "eyJ")) {
        std::size_t h = run(s, i, is_b64url);
        if (h - i < 10 || h - i > 2048 || s.at(h) != '.') return 0;
        std::size_t p = run(s, h + 1, is_b64url);
        if (p - h - 1 < 2 || s.at(p) != '.') return 0;
        std::size_t sig = run(s, p + 1, is_b64url);
        if (s.at(sig) == '.') return 0;
        std::string header;
        if (!base64url_decode(s.t.substr(i, h - i), header)) return 0;
        std::size_t brace = header.find_first_not_of(" \t\r\n");
        if (brace == std::string::npos || header[brace] != '{' ||
            header.find("\"alg\"") == std::string::npos) {
            return 0;
        }
        kind = Kind::jwt;
        return sig;
    }
    return 0;
}

std::size_t detect_email(const Text& s, std::size_t at, std::size_t floor, std::size_t& begin) {
    std::size_t b = at;
    while (b > floor && at - b < 64 && is_email_local(s.t[b - 1])) --b;
    if (b > 0 && is_email_local(s.t[b - 1])) return 0;  // too long, or claimed by a finding
    while (b < at && s.t[b] == '.') ++b;
    if (b == at || s.t[at - 1] == '.') return 0;
    std::size_t j = at + 1;
    int labels = 0;
    std::size_t last_begin = j;
    while (true) {
        std::size_t k = run(s, j, [](char c) { return is_alnum(c) || c == '-'; });
        if (k == j || k - j > 63 || s.t[j] == '-' || s.t[k - 1] == '-') return 0;
        ++labels;
        last_begin = j;
        j = k;
        if (s.at(j) == '.' && is_alnum(s.at(j + 1))) {
            ++j;
            continue;
        }
        break;
    }
    if (labels < 2 || j - at > 255) return 0;
    std::string_view tld = s.t.substr(last_begin, j - last_begin);
    if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), is_alpha)) return 0;
    if (is_word(s.at(j)) || s.at(j) == '@') return 0;
    begin = b;
    return j;
}

}  // namespace baton::pii::detail
