// The scan loop, JSON-escape decoding with offset mapping, names and counts.
#include "baton/pii/scanner.hpp"

#include <algorithm>

#include "baton/pii/validators.hpp"
#include "pii/detectors.hpp"

namespace baton::pii {
namespace {

using namespace detail;

constexpr Class kKindClass[kKindCount] = {
    Class::email,  Class::phone,  Class::card,   Class::iban,   Class::ssn,
    Class::ip,     Class::ip,     Class::secret, Class::secret, Class::secret,
    Class::secret, Class::secret, Class::secret, Class::secret, Class::secret,
};
constexpr std::string_view kKindNames[kKindCount] = {
    "email",       "phone",          "card",           "iban",         "ssn",
    "ipv4",        "ipv6",           "aws_access_key", "github_token", "api_key",
    "slack_token", "google_api_key", "private_key",    "jwt",          "high_entropy",
};
constexpr std::string_view kClassNames[kClassCount] = {"email", "phone", "card",  "iban",
                                                       "ssn",   "ip",    "secret"};
constexpr std::string_view kStems[kClassCount] = {"EMAIL", "PHONE", "CARD",  "IBAN",
                                                  "SSN",   "IP",    "SECRET"};

// ---- the scan loop --------------------------------------------------------------------------

// First letters of prefix-anchored secrets: AKIA/AIza, gh*_/github_pat_, sk-/sk_/rk_, xox/xapp,
// eyJ.
constexpr uint8_t kSecretStart = 1;
constexpr std::array<uint8_t, 256> make_table2() {
    std::array<uint8_t, 256> t{};
    for (char c : std::string_view("Agsrxe")) t[static_cast<unsigned char>(c)] = kSecretStart;
    return t;
}
constexpr std::array<uint8_t, 256> kTable2 = make_table2();
uint8_t flags2(char c) { return kTable2[static_cast<unsigned char>(c)]; }

class Scan {
  public:
    Scan(std::string_view text, ClassSet classes, std::vector<Finding>& out)
        : s_{text}, classes_(classes), out_(out) {}

    void run() {
        const std::size_t n = s_.size();
        const char* p = s_.t.data();
        std::size_t i = 0;
        while (i < n) {
            const uint8_t f = flags(p[i]);
            if (!(f & kStart)) {
                ++i;
                continue;
            }
            if (f & kWord) {
                i = word(i);
                continue;
            }
            std::size_t e = 0;
            std::size_t b = i;
            Kind kind = Kind::email;
            switch (p[i]) {
                case '@':
                    if (want(Class::email)) e = detect_email(s_, i, last_end_, b);
                    break;
                case '+':
                case '(':
                    if (want(Class::phone)) e = detect_phone(s_, i);
                    kind = Kind::phone;
                    break;
                case '-':
                    if (want(Class::secret) && s_.at(i + 1) == '-') e = detect_private_key(s_, i);
                    kind = Kind::private_key;
                    break;
                case ':':
                    if (want(Class::ip) && s_.at(i + 1) == ':') e = detect_ipv6(s_, i);
                    kind = Kind::ipv6;
                    break;
                default:
                    break;
            }
            i = e != 0 ? emit(kind, b, e) : i + 1;
        }
    }

  private:
    bool want(Class c) const { return classes_.has(c); }

    // Records a finding and returns where scanning resumes (past the rest of a word the match
    // may end inside, so that the loop keeps landing on word starts).
    std::size_t emit(Kind kind, std::size_t b, std::size_t e) {
        out_.push_back(
            Finding{class_of(kind), kind, static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
        last_end_ = e;
        generic_until_ = std::max(generic_until_, e);
        if (e > 0 && is_word(s_.t[e - 1])) {
            while (e < s_.size() && is_word(s_.t[e])) ++e;
        }
        return e;
    }

    // At a word start (t[i] in [A-Za-z0-9_], t[i-1] not): anchored detectors chosen by the
    // first character and the shape of the word, then the generic token check once per token;
    // returns where scanning resumes.
    std::size_t word(std::size_t i) {
        const std::size_t n = s_.size();
        const char* p = s_.t.data();
        const char c = p[i];
        std::size_t we = i + 1;
        while (we < n && is_word(p[we])) ++we;
        std::size_t te = tok_end_;
        if (i >= te) {  // a new token: [A-Za-z0-9_+/-]+ and '=' padding at its very end
            te = we;
            while (te < n && (flags(p[te]) & kToken) && p[te] != '=') ++te;
            std::size_t pad = te;
            while (pad < n && p[pad] == '=') ++pad;
            if (pad > te && !(pad < n && (flags(p[pad]) & kToken))) te = pad;  // "key=value"
            tok_end_ = te;
        }
        const char next = s_.at(we);
        std::size_t e = 0;
        if (is_digit(c)) {
            std::size_t r = i + 1;
            while (r < n && is_digit(p[r])) ++r;
            const std::size_t digits = r - i;
            const char nx = s_.at(r);
            const bool sep = (nx == ' ' || nx == '-' || nx == '.') && is_digit(s_.at(r + 1));
            if (want(Class::card) && (digits >= 12 || (digits == 4 && sep)) &&
                (e = detect_card(s_, i))) {
                return emit(Kind::card, i, e);
            }
            if (want(Class::ssn) && ((digits == 3 && sep) || digits == 9) &&
                (e = detect_ssn(s_, i))) {
                return emit(Kind::ssn, i, e);
            }
            if (want(Class::ip)) {
                if (digits <= 3 && nx == '.' && (e = detect_ipv4(s_, i))) {
                    return emit(Kind::ipv4, i, e);
                }
                if (we - i <= 4 && next == ':' && (e = detect_ipv6(s_, i))) {
                    return emit(Kind::ipv6, i, e);
                }
            }
            if (want(Class::phone) &&
                (sep || (nx == ' ' && s_.at(r + 1) == '(') || (digits >= 7 && digits <= 15)) &&
                (e = detect_phone(s_, i))) {
                return emit(Kind::phone, i, e);
            }
        } else if (c != '_') {
            if (want(Class::iban) && we - i >= 4 && is_alpha(p[i + 1]) && is_digit(p[i + 2]) &&
                is_digit(p[i + 3]) && (e = detect_iban(s_, i))) {
                return emit(Kind::iban, i, e);
            }
            Kind kind = Kind::high_entropy;
            if (want(Class::secret) && te - i >= 10 && (flags2(c) & kSecretStart) &&
                (e = detect_secret(s_, i, kind))) {
                return emit(kind, i, e);
            }
            if (want(Class::ip) && is_hex(c) && we - i <= 4 && next == ':' &&
                (e = detect_ipv6(s_, i))) {
                return emit(Kind::ipv6, i, e);
            }
        }
        if (want(Class::secret) && i >= generic_until_) {
            generic_until_ = te;
            if (te - i >= 32 && te - i <= 256 && high_entropy_token(s_.t.substr(i, te - i))) {
                return emit(Kind::high_entropy, i, te);
            }
        }
        return we;
    }

    Text s_;
    ClassSet classes_;
    std::vector<Finding>& out_;
    std::size_t last_end_ = 0;
    std::size_t generic_until_ = 0;
    std::size_t tok_end_ = 0;
};

// ---- JSON string decoding with an offset map --------------------------------------------------

struct Escape {
    uint32_t dec;      // offset of the decoded bytes
    uint32_t raw;      // offset of the escape in the raw text
    uint32_t dec_len;  // decoded bytes (1..4)
    uint32_t raw_len;  // raw bytes (2, 6 or 12)
};

int hex4(std::string_view s, std::size_t i) {
    if (i + 4 > s.size()) return -1;
    int v = 0;
    for (std::size_t k = i; k < i + 4; ++k) {
        char c = s[k];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

void put_utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Decodes raw JSON string contents; malformed escapes are kept literally (not recorded, since
// they map one to one).
void decode(std::string_view raw, std::string& out, std::vector<Escape>& esc) {
    out.clear();
    esc.clear();
    std::size_t i = 0;
    while (i < raw.size()) {
        std::size_t k = raw.find('\\', i);
        if (k == std::string_view::npos) {
            out.append(raw.substr(i));
            break;
        }
        out.append(raw.substr(i, k - i));
        const std::size_t dec = out.size();
        std::size_t raw_len = 2;
        const char c = k + 1 < raw.size() ? raw[k + 1] : '\0';
        switch (c) {
            case 'n':
                out.push_back('\n');
                break;
            case 't':
                out.push_back('\t');
                break;
            case 'r':
                out.push_back('\r');
                break;
            case 'b':
                out.push_back('\b');
                break;
            case 'f':
                out.push_back('\f');
                break;
            case '"':
            case '\\':
            case '/':
                out.push_back(c);
                break;
            case 'u': {
                int cp = hex4(raw, k + 2);
                if (cp < 0) {
                    raw_len = 0;
                    break;
                }
                raw_len = 6;
                uint32_t code = static_cast<uint32_t>(cp);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    int lo = (k + 7 < raw.size() && raw[k + 6] == '\\' && raw[k + 7] == 'u')
                                 ? hex4(raw, k + 8)
                                 : -1;
                    if (lo >= 0xDC00 && lo <= 0xDFFF) {
                        code = 0x10000 + ((static_cast<uint32_t>(cp) - 0xD800) << 10) +
                               (static_cast<uint32_t>(lo) - 0xDC00);
                        raw_len = 12;
                    } else {
                        code = 0xFFFD;
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    code = 0xFFFD;
                }
                put_utf8(code, out);
                break;
            }
            default:
                raw_len = 0;
                break;
        }
        if (raw_len == 0) {  // malformed: keep the backslash literally
            out.push_back('\\');
            i = k + 1;
            continue;
        }
        esc.push_back(Escape{static_cast<uint32_t>(dec), static_cast<uint32_t>(k),
                             static_cast<uint32_t>(out.size() - dec),
                             static_cast<uint32_t>(raw_len)});
        i = k + raw_len;
    }
}

// Index of the last escape whose decoded start is <= d, or -1.
std::ptrdiff_t escape_at(const std::vector<Escape>& esc, std::size_t d) {
    auto it = std::upper_bound(esc.begin(), esc.end(), d,
                               [](std::size_t v, const Escape& e) { return v < e.dec; });
    return (it - esc.begin()) - 1;
}

std::size_t map_begin(const std::vector<Escape>& esc, std::size_t d) {
    std::ptrdiff_t k = escape_at(esc, d);
    if (k < 0) return d;
    const Escape& e = esc[static_cast<std::size_t>(k)];
    if (d < e.dec + e.dec_len) return e.raw;
    return e.raw + e.raw_len + (d - e.dec - e.dec_len);
}

std::size_t map_end(const std::vector<Escape>& esc, std::size_t d) {
    if (d == 0) return 0;
    const std::size_t last = d - 1;
    std::ptrdiff_t k = escape_at(esc, last);
    if (k < 0) return d;
    const Escape& e = esc[static_cast<std::size_t>(k)];
    if (last < e.dec + e.dec_len) return e.raw + e.raw_len;
    return e.raw + e.raw_len + (last - e.dec - e.dec_len) + 1;
}

}  // namespace

Class class_of(Kind k) { return kKindClass[static_cast<std::size_t>(k)]; }
std::string_view class_name(Class c) { return kClassNames[static_cast<std::size_t>(c)]; }
std::string_view placeholder_stem(Class c) { return kStems[static_cast<std::size_t>(c)]; }
std::string_view kind_name(Kind k) { return kKindNames[static_cast<std::size_t>(k)]; }

bool parse_class(std::string_view name, Class& out) {
    for (std::size_t k = 0; k < kClassCount; ++k) {
        if (kClassNames[k] == name) {
            out = static_cast<Class>(k);
            return true;
        }
    }
    return false;
}

void ClassCounts::add(const std::vector<Finding>& findings) {
    for (const Finding& f : findings) add(f.cls);
}

void ClassCounts::merge(const ClassCounts& o) {
    for (std::size_t k = 0; k < kClassCount; ++k) n[k] += o.n[k];
}

uint32_t ClassCounts::total() const {
    uint32_t t = 0;
    for (uint32_t v : n) t += v;
    return t;
}

ClassSet ClassCounts::classes() const {
    ClassSet s;
    for (std::size_t k = 0; k < kClassCount; ++k) {
        if (n[k] != 0) s.add(static_cast<Class>(k));
    }
    return s;
}

std::string ClassCounts::to_string() const {
    std::string out;
    for (std::size_t k = 0; k < kClassCount; ++k) {
        if (n[k] == 0) continue;
        if (!out.empty()) out.push_back(',');
        out += kClassNames[k];
        out.push_back('=');
        out += std::to_string(n[k]);
    }
    return out;
}

void scan(std::string_view text, const ScanOptions& opts, std::vector<Finding>& out) {
    if (opts.classes.empty() || text.empty()) return;
    if (opts.encoding == Encoding::plain || text.find('\\') == std::string_view::npos) {
        Scan(text, opts.classes, out).run();
        return;
    }
    thread_local std::string decoded;
    thread_local std::vector<Escape> esc;
    decode(text, decoded, esc);
    const std::size_t first = out.size();
    Scan(decoded, opts.classes, out).run();
    for (std::size_t k = first; k < out.size(); ++k) {
        out[k].begin = static_cast<uint32_t>(map_begin(esc, out[k].begin));
        out[k].end = static_cast<uint32_t>(map_end(esc, out[k].end));
    }
    if (decoded.capacity() > (4u << 20)) {  // don't pin a huge buffer per thread
        std::string().swap(decoded);
        std::vector<Escape>().swap(esc);
    }
}

std::vector<Finding> scan(std::string_view text, const ScanOptions& opts) {
    std::vector<Finding> out;
    scan(text, opts, out);
    return out;
}

std::string json_unescape(std::string_view raw) {
    std::string out;
    std::vector<Escape> esc;
    decode(raw, out, esc);
    return out;
}

ClassCounts count_classes(std::string_view text, const ScanOptions& opts) {
    ClassCounts c;
    c.add(scan(text, opts));
    return c;
}

}  // namespace baton::pii
