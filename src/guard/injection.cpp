// The scan loop over normalised text, the code-level detectors, scoring and the public API.
#include "baton/guard/injection.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "baton/core/error.hpp"
#include "guard/detail.hpp"

namespace baton::guard {
namespace detail {
namespace {

// ---- per-thread scratch ---------------------------------------------------------------------

inline constexpr std::size_t kSlack = 32;  // zeroed bytes after the text (word loads, sentinels)

struct Buffer {
    std::unique_ptr<char[]> data;
    std::size_t cap = 0;
    char* get(std::size_t n) {
        if (cap < n + kSlack) {
            cap = std::max<std::size_t>(n + kSlack, 4096);
            data = std::make_unique<char[]>(cap);
        }
        return data.get();
    }
};

struct Scratch {
    Buffer text;     // normalised message
    Buffer decoded;  // base64-decoded run
    Buffer inner;    // its normalisation
};
thread_local Scratch t_scratch;

using Counts = std::array<uint32_t, kMaxRules>;

// ---- token classes of normalised text -------------------------------------------------------

constexpr uint8_t kW = 1;       // word byte: [a-z0-9_@$] or >= 0x80 ("new_task" is one word)
constexpr uint8_t kLet = 2;     // [a-z]
constexpr uint8_t kLeet = 4;    // [013457@$]
constexpr uint8_t kHigh = 8;    // >= 0x80
constexpr uint8_t kName = 16;   // special-token name byte: word bytes, '_', '-', '.'
constexpr uint8_t kPunct = 32;  // a byte the scan loop must look at: \n ! . ? ; < [ {

constexpr std::array<uint8_t, 256> make_tok() {
    std::array<uint8_t, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[c] = kW | kLet | kName;
    for (int c = '0'; c <= '9'; ++c) t[c] = kW | kName;
    for (char c : std::string_view("013457@$")) t[static_cast<uint8_t>(c)] |= kW | kLeet;
    for (int c = 0x80; c < 0x100; ++c) t[c] = kW | kHigh | kName;
    t['_'] = kW | kName;
    t['-'] = t['.'] = kName;
    for (char c : std::string_view("\n!.?;<[{")) t[static_cast<uint8_t>(c)] |= kPunct;
    return t;
}
constexpr std::array<uint8_t, 256> kTok = make_tok();

constexpr std::array<char, 256> make_leet(char one) {
    std::array<char, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = static_cast<char>(c);
    t['0'] = 'o';
    t['1'] = one;
    t['3'] = 'e';
    t['4'] = 'a';
    t['5'] = 's';
    t['7'] = 't';
    t['@'] = 'a';
    t['$'] = 's';
    return t;
}
constexpr std::array<char, 256> kLeetI = make_leet('i');
constexpr std::array<char, 256> kLeetL = make_leet('l');

// Token flags.
constexpr uint8_t kLineStart = 1;
constexpr uint8_t kClauseStart = 2;
constexpr uint8_t kColon = 4;

struct Tok {
    uint16_t id = 0;
    uint8_t flags = 0;
};

// Names of well-known chat-template special tokens (<|name|>).
// clang-format off
constexpr std::string_view kKnownTokens[] = {
    "im_start", "im_end", "im_sep", "system", "user", "assistant", "endoftext", "eot_id",
    "eom_id", "start_header_id", "end_header_id", "begin_of_text", "end_of_text", "start", "end",
    "message", "channel", "return", "call", "constrain", "python_tag", "fim_prefix", "fim_middle",
    "fim_suffix", "endofprompt", "pad", "tool_call", "tool_calls", "begin_of_sentence"};
// clang-format on
constexpr std::string_view kTurnOpeners[] = {"im_start", "start_header_id", "start"};

bool starts(const char* p, std::size_t left, std::string_view lit) {
    return left >= lit.size() && std::memcmp(p, lit.data(), lit.size()) == 0;
}

bool is_role_start(const char* p, std::size_t left) {
    return starts(p, left, "system") || starts(p, left, "developer");
}

// ---- the scan over one normalised text ------------------------------------------------------

class Scan {
  public:
    Scan(const Impl& im, const char* s, std::size_t n, Counts& counts)
        : im_(im), s_(s), n_(n), counts_(counts) {}

    uint32_t leet_words() const { return leet_words_; }
    bool any() const { return hits_ != 0; }

    void run() {
        std::size_t i = 0;
        line_begin(0);
        while (i < n_) {
            const auto c = static_cast<uint8_t>(s_[i]);
            const uint8_t k = kTok[c];
            if (k & kW) {
                i = word(i);
                continue;
            }
            if (!(k & kPunct)) {
                ++i;
                continue;
            }
            switch (c) {
                case '\n':
                    line_start_ = clause_start_ = true;
                    ++i;
                    line_begin(i);
                    continue;
                case '!':
                    if (i + 1 < n_ && s_[i + 1] == '[') image(i);
                    [[fallthrough]];
                case '.':
                case '?':
                case ';':
                    if (i + 1 >= n_ || s_[i + 1] == ' ' || s_[i + 1] == '\n') clause_start_ = true;
                    break;
                case '<':
                    angle(i);
                    break;
                case '[':
                    bracket(i);
                    break;
                case '{':
                    brace(i);
                    break;
                default:
                    break;
            }
            ++i;
        }
    }

    void hit(CodeRule r) {
        const int16_t idx = im_.code(r);
        if (idx >= 0) {
            ++counts_[static_cast<std::size_t>(idx)];
            ++hits_;
        }
    }

  private:
    const Tok& tok(uint32_t back) const { return ring_[(ntok_ - 1 - back) & (kWindow - 1)]; }

    std::size_t word(std::size_t i) {
        const std::size_t b = i;
        uint8_t bits = 0;
        while (true) {
            uint8_t k = 0;
            while ((k = kTok[static_cast<uint8_t>(s_[i])]) & kW) {  // s_[n_] is a 0 sentinel
                bits |= k;
                ++i;
            }
            if (s_[i] == '\'' && (kTok[static_cast<uint8_t>(s_[i + 1])] & kLet)) {
                ++i;  // "don't", "you're"
                continue;
            }
            break;
        }
        const std::size_t len = i - b;
        uint8_t flags = 0;
        if (line_start_) flags |= kLineStart;
        if (clause_start_) flags |= kClauseStart;
        line_start_ = clause_start_ = false;
        if (s_[i] == ':' || (s_[i] == ' ' && s_[i + 1] == ':')) flags |= kColon;

        uint16_t id = 0;
        if (len <= kMaxWordLen && !(bits & kHigh)) {
            id = im_.lookup(s_ + b, len);
            if (id == 0 && im_.cfg.leetspeak && (bits & kLeet) && (bits & kLet) && len >= 3) {
                id = leet(s_ + b, len);
            }
        }
        ring_[ntok_ & (kWindow - 1)] = Tok{id, flags};
        ++ntok_;
        if (id != 0) {
            const VocabEntry& e = im_.vocab[id];
            if (e.last_begin != e.last_end) patterns(e.last_begin, e.last_end, flags);
            if (e.role != RoleWord::none && (flags & kLineStart) && (flags & kColon) &&
                !in_fence_) {
                role_line(e.role, i);
            }
        }
        return i;
    }

    // Looks a word up with leetspeak folded, unless its digits/symbols are only a suffix
    // ("mode1", "a11", "command$" are identifiers, not leetspeak).
    uint16_t leet(const char* w, std::size_t len) {
        std::size_t end = len;
        while (end > 0 && (kTok[static_cast<uint8_t>(w[end - 1])] & kLeet)) --end;
        bool inner = false;
        for (std::size_t k = 0; k < end; ++k) {
            inner |= (kTok[static_cast<uint8_t>(w[k])] & kLeet) != 0;
        }
        if (!inner) return 0;
        char buf[kMaxWordLen + 8] = {};
        bool has_one = false;
        for (std::size_t k = 0; k < len; ++k) {
            buf[k] = kLeetI[static_cast<uint8_t>(w[k])];
            has_one |= w[k] == '1';
        }
        uint16_t id = im_.lookup(buf, len);
        if (id == 0 && has_one) {
            for (std::size_t k = 0; k < len; ++k) buf[k] = kLeetL[static_cast<uint8_t>(w[k])];
            id = im_.lookup(buf, len);
        }
        if (id != 0) ++leet_words_;
        return id;
    }

    void patterns(uint32_t pb, uint32_t pe, uint8_t flags) {
        uint16_t done[8];
        std::size_t ndone = 0;
        for (uint32_t k = pb; k < pe; ++k) {
            const Pattern& p = im_.patterns[im_.last_patterns[k]];
            const Term& last = p.terms.back();
            if ((last.need_colon && !(flags & kColon)) ||
                (last.line_start && !(flags & kLineStart))) {
                continue;
            }
            if (std::find(done, done + ndone, p.rule) != done + ndone) continue;
            if (back(p, p.terms.size() - 1, 0)) {
                ++counts_[p.rule];
                ++hits_;
                if (ndone < std::size(done)) done[ndone++] = p.rule;
            }
        }
    }

    // terms[ti] matched the token `pos` words back; match the earlier terms further back.
    bool back(const Pattern& p, std::size_t ti, uint32_t pos) const {
        if (ti == 0) return true;
        const Gap& g = p.gaps[ti];
        const Term& prev = p.terms[ti - 1];
        const uint32_t avail = static_cast<uint32_t>(std::min<uint64_t>(ntok_, kWindow));
        uint32_t cur = pos;
        for (uint32_t skipped = 0;; ++skipped) {
            if (tok(cur).flags & kClauseStart) return false;  // never across a sentence end
            const uint32_t q = cur + 1;
            if (q >= avail) return false;
            const Tok& t = tok(q);
            if (im_.accepts(prev.m, t.id) && (!prev.need_colon || (t.flags & kColon)) &&
                (!prev.line_start || (t.flags & kLineStart)) && back(p, ti - 1, q)) {
                return true;
            }
            if (skipped == g.max || !im_.accepts(g.m, t.id)) return false;
            cur = q;
        }
    }

    // ---- code-level detectors ----

    // A line starts at i: code fences and markdown role headings.
    void line_begin(std::size_t i) {
        const std::size_t left = n_ - i;
        if (starts(s_ + i, left, "```") || starts(s_ + i, left, "~~~")) {
            in_fence_ = !in_fence_;
            return;
        }
        if (!in_fence_ && left > 0 && s_[i] == '#') heading(i);
    }

    // "### Instruction:", "## System:", "### Response" (Alpaca / markdown chat templates): two
    // to six '#', a role word, then a colon (or, for instruction/response/input, a line end).
    void heading(std::size_t i) {
        std::size_t j = i;
        while (j < n_ && s_[j] == '#' && j - i < 6) ++j;
        if (j - i < 2 || j >= n_ || s_[j] != ' ') return;
        ++j;
        const std::size_t b = j;
        while (j < n_ && (kTok[static_cast<uint8_t>(s_[j])] & kLet)) ++j;
        if (j == b || j - b > kMaxWordLen) return;
        const uint16_t id = im_.lookup(s_ + b, j - b);
        if (id == 0 || im_.vocab[id].role == RoleWord::none) return;
        const std::string_view word(s_ + b, j - b);
        if (starts(s_ + j, n_ - j, " prompt")) j += 7;
        if (starts(s_ + j, n_ - j, " message")) j += 8;
        const bool colon = j < n_ && (s_[j] == ':' || starts(s_ + j, n_ - j, " :"));
        const bool alpaca = word == "instruction" || word == "response" || word == "input";
        if (colon || (alpaca && (j == n_ || s_[j] == '\n'))) hit(CodeRule::markdown_role);
    }

    // "system: ..." / "assistant: ..." as the first word of a line with >= 3 words after it.
    void role_line(RoleWord role, std::size_t i) {
        if (role == RoleWord::heading) return;
        std::size_t j = i;
        while (j < n_ && s_[j] != ':') ++j;
        int words = 0;
        bool in_word = false;
        for (++j; j < n_ && s_[j] != '\n' && words < 3; ++j) {
            const bool w = (kTok[static_cast<uint8_t>(s_[j])] & kW) != 0;
            if (w && !in_word) ++words;
            in_word = w;
        }
        if (words < 3) return;
        hit(role == RoleWord::system ? CodeRule::fake_system_line : CodeRule::fake_assistant_line);
    }

    void angle(std::size_t i) {
        const char* p = s_ + i;
        const std::size_t left = n_ - i;
        if (starts(p, left, "<|")) {
            std::size_t j = i + 2;
            while (j < n_ && j - i < 48 && (kTok[static_cast<uint8_t>(s_[j])] & kName)) ++j;
            if (j == i + 2 || j + 1 >= n_ || s_[j] != '|' || s_[j + 1] != '>') return;
            const std::string_view name(s_ + i + 2, j - i - 2);
            const bool known =
                std::find(std::begin(kKnownTokens), std::end(kKnownTokens), name) !=
                    std::end(kKnownTokens) ||
                name.substr(0, 5) == "begin";  // DeepSeek <|begin_of_sentence|> variants
            hit(known ? CodeRule::chat_token : CodeRule::special_token);
            if (name == "system" || name == "developer") {
                hit(CodeRule::system_turn);
            } else if (std::find(std::begin(kTurnOpeners), std::end(kTurnOpeners), name) !=
                       std::end(kTurnOpeners)) {
                std::size_t k = j + 2;
                if (k < n_ && (s_[k] == ' ' || s_[k] == '\n')) ++k;
                if (is_role_start(s_ + k, n_ - k)) hit(CodeRule::system_turn);
            }
            return;
        }
        if (starts(p, left, "<<sys>>")) {
            hit(CodeRule::system_turn);
        } else if (starts(p, left, "<</sys>>")) {
            hit(CodeRule::chat_token);
        } else if (starts(p, left, "</s>")) {
            hit(CodeRule::eos_token);
        } else if (starts(p, left, "<start_of_turn>")) {
            hit(CodeRule::chat_token);
            std::size_t k = i + 15;
            if (k < n_ && (s_[k] == ' ' || s_[k] == '\n')) ++k;
            if (is_role_start(s_ + k, n_ - k)) hit(CodeRule::system_turn);
        } else if (starts(p, left, "<end_of_turn>")) {
            hit(CodeRule::chat_token);
        } else if (starts(p, left, "<system>") || starts(p, left, "</system>") ||
                   starts(p, left, "<system_prompt>") || starts(p, left, "<system-prompt>")) {
            hit(CodeRule::system_tag);
        } else if (starts(p, left, "<img")) {
            const std::size_t lim = std::min(n_, i + 256);
            for (std::size_t k = i + 4; k + 4 < lim && s_[k] != '>'; ++k) {
                if (starts(s_ + k, n_ - k, "src=")) {
                    k += 4;
                    if (k < n_ && (s_[k] == '"' || s_[k] == '\'')) ++k;
                    url(k);
                    break;
                }
            }
        }
    }

    void bracket(std::size_t i) {
        const char* p = s_ + i;
        const std::size_t left = n_ - i;
        if (starts(p, left, "[/inst]") ||
            (starts(p, left, "[inst]") &&
             (left == 6 || p[6] == ' ' || p[6] == '\n' || p[6] == '<'))) {
            hit(CodeRule::chat_token);
        } else if (starts(p, left, "[system]") || starts(p, left, "[system message]") ||
                   starts(p, left, "[system prompt]")) {
            hit(CodeRule::system_tag);
        }
    }

    void brace(std::size_t i) {
        const char* p = s_ + i;
        const std::size_t left = n_ - i;
        if (starts(p, left, "{{#system") || starts(p, left, "{{/system")) {
            hit(CodeRule::system_turn);
        } else if (starts(p, left, "{{#user") || starts(p, left, "{{#assistant")) {
            hit(CodeRule::chat_token);
        }
    }

    // "![alt](url)" at i.
    void image(std::size_t i) {
        const std::size_t lim = std::min(n_, i + 2 + 256);
        std::size_t j = i + 2;
        while (j < lim && s_[j] != ']' && s_[j] != '\n') ++j;
        if (j >= lim || s_[j] != ']' || j + 1 >= n_ || s_[j + 1] != '(') return;
        std::size_t k = j + 2;
        if (k < n_ && s_[k] == ' ') ++k;
        url(k);
    }

    // An image URL starting at k: a query string is weak, a templated one strong.
    void url(std::size_t k) {
        const std::size_t left = n_ - k;
        if (!starts(s_ + k, left, "http://") && !starts(s_ + k, left, "https://")) return;
        const std::size_t lim = std::min(n_, k + 4096);
        std::size_t e = k;
        bool query = false;
        bool templ = false;
        for (; e < lim; ++e) {
            const char c = s_[e];
            if (c == ')' || c == ' ' || c == '\n' || c == '"' || c == '\'' || c == '>') break;
            if (c == '?') query = true;
            if (c == '{' || c == '<' || c == '[' || c == '$') templ = true;
            if (c == '%' && e + 2 < n_ &&
                (starts(s_ + e, n_ - e, "%7b") || starts(s_ + e, n_ - e, "%3c") ||
                 starts(s_ + e, n_ - e, "%24"))) {
                templ = true;
            }
            if (query && c == '=' &&
                (e + 1 == lim || s_[e + 1] == '&' || s_[e + 1] == ')' || s_[e + 1] == ' ' ||
                 s_[e + 1] == '"' || s_[e + 1] == '\'')) {
                templ = true;  // empty parameter value, for the model to fill in
            }
        }
        if (templ) {
            hit(CodeRule::image_url_template);
        } else if (query) {
            hit(CodeRule::image_url_query);
        }
    }

    const Impl& im_;
    const char* s_;
    std::size_t n_;
    Counts& counts_;
    uint32_t hits_ = 0;
    uint32_t leet_words_ = 0;
    Tok ring_[kWindow] = {};
    uint64_t ntok_ = 0;
    bool line_start_ = true;
    bool clause_start_ = true;
    bool in_fence_ = false;
};

// ---- base64 ---------------------------------------------------------------------------------

constexpr std::array<int8_t, 256> make_b64() {
    std::array<int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 26; ++i) {
        t['A' + i] = static_cast<int8_t>(i);
        t['a' + i] = static_cast<int8_t>(26 + i);
    }
    for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(52 + i);
    t['+'] = t['-'] = 62;
    t['/'] = t['_'] = 63;
    return t;
}
constexpr std::array<int8_t, 256> kB64Dec = make_b64();

// Decodes base64/base64url (no padding in `in`) into out; returns the length.
std::size_t b64_decode(std::string_view in, char* out) {
    uint32_t acc = 0;
    int bits = 0;
    std::size_t n = 0;
    for (char c : in) {
        const int8_t v = kB64Dec[static_cast<uint8_t>(c)];
        if (v < 0) break;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return n;
}

bool printable_text(const char* s, std::size_t n) {
    if (n < 12) return false;
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<uint8_t>(s[i]);
        if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7F) ++bad;
    }
    return bad * 20 <= n;  // >= 95% printable ASCII
}

inline constexpr std::size_t kMaxDecoded = 16 * 1024;

// ---- scoring --------------------------------------------------------------------------------

void rescore(const Impl& im, Signals& s) {
    std::array<double, kCategoryCount> sum{};
    for (const RuleHit& h : s.rules) sum[static_cast<std::size_t>(h.category)] += h.strength;
    s.score = 0;
    s.categories = CategorySet::none();
    for (std::size_t c = 0; c < kCategoryCount; ++c) {
        const auto cat = static_cast<Category>(c);
        s.category_score[c] = im.enabled.has(cat) ? im.cfg.weights[c] * std::min(1.0, sum[c]) : 0;
        if (s.hits[c] != 0) s.categories.add(cat);
        s.score += s.category_score[c];
    }
}

}  // namespace
}  // namespace detail

// ---- names ----------------------------------------------------------------------------------

namespace {
constexpr std::string_view kCategoryNames[kCategoryCount] = {
    "instruction_override", "prompt_leak", "roleplay_jailbreak",
    "delimiter_injection",  "obfuscation", "exfiltration"};
}  // namespace

std::string_view category_name(Category c) {
    const auto i = static_cast<std::size_t>(c);
    return i < kCategoryCount ? kCategoryNames[i] : std::string_view("unknown");
}

bool parse_category(std::string_view name, Category& out) {
    for (std::size_t i = 0; i < kCategoryCount; ++i) {
        if (kCategoryNames[i] == name) {
            out = static_cast<Category>(i);
            return true;
        }
    }
    return false;
}

// ---- Signals --------------------------------------------------------------------------------

bool Signals::has_rule(std::string_view id) const {
    return std::any_of(rules.begin(), rules.end(), [&](const RuleHit& h) { return h.id == id; });
}

std::string Signals::to_string() const {
    char num[32];
    std::snprintf(num, sizeof(num), "%.2f", score);
    std::string out = "score=";
    out += num;
    for (std::size_t c = 0; c < kCategoryCount; ++c) {
        if (hits[c] == 0) continue;
        out += ' ';
        out += kCategoryNames[c];
        out += '=';
        out += std::to_string(hits[c]);
    }
    if (!rules.empty()) {
        out += " rules=";
        for (std::size_t i = 0; i < rules.size(); ++i) {
            if (i != 0) out += ',';
            out += rules[i].id;
        }
    }
    return out;
}

// ---- InjectionScanner -----------------------------------------------------------------------

InjectionScanner::InjectionScanner(std::shared_ptr<const detail::Impl> impl)
    : impl_(std::move(impl)) {}

InjectionScanner InjectionScanner::compile(const GuardConfig& cfg) {
    auto impl = std::make_shared<detail::Impl>();
    impl->cfg = cfg;
    detail::build_rules(*impl);
    return InjectionScanner(std::move(impl));
}

double InjectionScanner::threshold() const { return impl_->cfg.threshold; }

Signals InjectionScanner::scan(std::string_view text, Encoding enc) const {
    Signals s;
    scan(text, enc, s);
    return s;
}

void InjectionScanner::scan(std::string_view text, Encoding enc, Signals& out) const {
    using namespace detail;
    const Impl& im = *impl_;
    Scratch& sc = t_scratch;

    out.hits.fill(0);
    out.category_score.fill(0);
    out.categories = CategorySet::none();
    out.score = 0;
    out.rules.clear();
    out.norm = NormStats{};

    char* buf = sc.text.get(text.size());
    Base64Spans spans;
    const std::size_t n = normalize_raw(text, enc, buf, out.norm, &spans);
    std::memset(buf + n, 0, kSlack);

    Counts counts{};
    Scan main_scan(im, buf, n, counts);
    main_scan.run();
    out.norm.leet_words = main_scan.leet_words();

    // Base64 runs that decode to ASCII text: scan the decoded text too.
    if (im.cfg.decode_base64) {
        for (uint32_t k = 0; k < spans.n; ++k) {
            const std::string_view run =
                text.substr(spans.span[k].begin, spans.span[k].end - spans.span[k].begin);
            const std::string_view part = run.substr(0, kMaxDecoded * 4 / 3);
            char* dec = sc.decoded.get(part.size());
            const std::size_t dn = b64_decode(part, dec);
            if (!printable_text(dec, dn)) continue;
            ++out.norm.base64_text;
            char* inner = sc.inner.get(dn);
            NormStats ist;
            const std::size_t in =
                normalize_raw(std::string_view(dec, dn), Encoding::plain, inner, ist, nullptr);
            std::memset(inner + in, 0, kSlack);
            Counts ic{};
            Scan iscan(im, inner, in, ic);
            iscan.run();
            if (!iscan.any()) continue;
            for (std::size_t r = 0; r < kMaxRules; ++r) counts[r] += ic[r];
            main_scan.hit(CodeRule::base64_payload);
        }
    }

    // Obfuscation from the normaliser's counts.
    const NormStats& ns = out.norm;
    const GuardConfig& cfg = im.cfg;
    if (ns.tag_chars > 0) main_scan.hit(CodeRule::tag_chars);
    if (ns.invisible_in_word >= cfg.min_invisible_in_word && ns.invisible_in_word > 0) {
        main_scan.hit(CodeRule::invisible_in_word);
    }
    if (ns.bidi >= cfg.min_bidi && ns.bidi > 0) main_scan.hit(CodeRule::bidi_control);
    if (ns.mixed_script_words >= cfg.min_mixed_script_words && ns.mixed_script_words > 0) {
        main_scan.hit(CodeRule::mixed_script);
    }
    if (ns.leet_words >= cfg.min_leet_words && ns.leet_words > 0)
        main_scan.hit(CodeRule::leetspeak);
    if (ns.vs_supplement >= cfg.min_vs_supplement && ns.vs_supplement > 0) {
        main_scan.hit(CodeRule::variation_selectors);
    }
    if (ns.stacked_marks >= cfg.min_stacked_marks && ns.stacked_marks > 0) {
        main_scan.hit(CodeRule::stacked_marks);
    }
    const uint32_t styled = ns.fullwidth + ns.styled;
    if (styled >= cfg.min_styled && styled > 0) main_scan.hit(CodeRule::styled_text);

    if (!main_scan.any()) return;
    for (std::size_t r = 0; r < im.rules.size(); ++r) {
        if (counts[r] == 0 || !im.rules[r].enabled) continue;
        const Rule& rule = im.rules[r];
        out.rules.push_back(RuleHit{rule.id, rule.category, rule.strength, counts[r]});
        out.hits[static_cast<std::size_t>(rule.category)] += counts[r];
    }
    rescore(im, out);
}

void InjectionScanner::merge(Signals& into, const Signals& from) const {
    for (std::size_t c = 0; c < kCategoryCount; ++c) into.hits[c] += from.hits[c];
    into.norm.merge(from.norm);
    for (const RuleHit& h : from.rules) {
        auto it = std::find_if(into.rules.begin(), into.rules.end(),
                               [&](const RuleHit& x) { return x.id == h.id; });
        if (it != into.rules.end()) {
            it->count += h.count;
        } else {
            into.rules.push_back(h);
        }
    }
    // Keep rule-table order.
    std::vector<std::string_view> order;
    for (const detail::Rule& r : impl_->rules) order.push_back(r.id);
    std::sort(into.rules.begin(), into.rules.end(), [&](const RuleHit& a, const RuleHit& b) {
        return std::find(order.begin(), order.end(), a.id) <
               std::find(order.begin(), order.end(), b.id);
    });
    detail::rescore(*impl_, into);
}

std::vector<InjectionScanner::RuleInfo> InjectionScanner::rules() const {
    std::vector<RuleInfo> out;
    for (const detail::Rule& r : impl_->rules) {
        out.push_back(RuleInfo{r.id, r.category, r.strength, r.enabled});
    }
    return out;
}

}  // namespace baton::guard
