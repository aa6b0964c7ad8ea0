// Request features: one-pass text scanner (token estimate inputs + complexity signals),
// the token estimate, the complexity score and extract_features().
#include "baton/policy/features.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace baton::policy {
namespace {

// ---- keyword table ------------------------------------------------------------------------
// Lower-case words the complexity score reacts to. Looked up by FNV-1a hash in a constexpr
// open-addressing table (immutable; no global mutable state).

enum class Kw : uint8_t {
    none,
    // categories
    strong_reasoning,
    reasoning,
    math_word,
    code_word,
    constraint,
    step_word,
    // phrase parts (handled by the phrase state machine)
    explain,
    why,
    how,
    trade,
    off,
    step,
    by,
    at,
    least,
    most,
    no,
    more,
    first,
    then,
};

struct KwEntry {
    std::string_view word;
    Kw kind;
};

constexpr KwEntry kKeywords[] = {
    // strong reasoning
    {"prove", Kw::strong_reasoning}, {"proves", Kw::strong_reasoning},
    {"proving", Kw::strong_reasoning}, {"proof", Kw::strong_reasoning},
    {"proofs", Kw::strong_reasoning}, {"derive", Kw::strong_reasoning},
    {"derives", Kw::strong_reasoning}, {"deriving", Kw::strong_reasoning},
    {"derivation", Kw::strong_reasoning}, {"rigorous", Kw::strong_reasoning},
    {"rigorously", Kw::strong_reasoning}, {"formally", Kw::strong_reasoning},
    {"induction", Kw::strong_reasoning}, {"contradiction", Kw::strong_reasoning},
    // reasoning
    {"analyze", Kw::reasoning}, {"analyse", Kw::reasoning}, {"analysis", Kw::reasoning},
    {"analyzing", Kw::reasoning}, {"compare", Kw::reasoning}, {"comparing", Kw::reasoning},
    {"comparison", Kw::reasoning}, {"contrast", Kw::reasoning}, {"evaluate", Kw::reasoning},
    {"evaluation", Kw::reasoning}, {"justify", Kw::reasoning},
    {"justification", Kw::reasoning}, {"critique", Kw::reasoning}, {"assess", Kw::reasoning},
    {"tradeoff", Kw::reasoning}, {"tradeoffs", Kw::reasoning},
    {"implications", Kw::reasoning}, {"architecture", Kw::reasoning},
    {"design", Kw::reasoning}, {"optimize", Kw::reasoning}, {"optimise", Kw::reasoning},
    {"optimization", Kw::reasoning}, {"reasoning", Kw::reasoning}, {"pros", Kw::reasoning},
    {"rationale", Kw::reasoning}, {"hypothesis", Kw::reasoning},
    // maths
    {"theorem", Kw::math_word}, {"lemma", Kw::math_word}, {"integral", Kw::math_word},
    {"integrals", Kw::math_word}, {"derivative", Kw::math_word}, {"equation", Kw::math_word},
    {"equations", Kw::math_word}, {"matrix", Kw::math_word}, {"matrices", Kw::math_word},
    {"eigenvalue", Kw::math_word}, {"eigenvalues", Kw::math_word},
    {"polynomial", Kw::math_word}, {"probability", Kw::math_word},
    {"asymptotic", Kw::math_word}, {"prime", Kw::math_word}, {"primes", Kw::math_word},
    {"convergence", Kw::math_word}, {"converges", Kw::math_word},
    {"inequality", Kw::math_word}, {"modulo", Kw::math_word}, {"logarithm", Kw::math_word},
    {"infinitely", Kw::math_word}, {"bound", Kw::math_word}, {"bounds", Kw::math_word},
    // code
    {"function", Kw::code_word}, {"functions", Kw::code_word}, {"class", Kw::code_word},
    {"implement", Kw::code_word}, {"implementation", Kw::code_word}, {"code", Kw::code_word},
    {"compile", Kw::code_word}, {"compiler", Kw::code_word}, {"algorithm", Kw::code_word},
    {"algorithms", Kw::code_word}, {"sql", Kw::code_word}, {"regex", Kw::code_word},
    {"api", Kw::code_word}, {"refactor", Kw::code_word}, {"debug", Kw::code_word},
    {"bug", Kw::code_word}, {"python", Kw::code_word}, {"javascript", Kw::code_word},
    {"typescript", Kw::code_word}, {"rust", Kw::code_word}, {"golang", Kw::code_word},
    {"recursion", Kw::code_word}, {"recursive", Kw::code_word},
    {"concurrency", Kw::code_word}, {"concurrent", Kw::code_word},
    {"thread", Kw::code_word}, {"database", Kw::code_word}, {"query", Kw::code_word},
    {"pointer", Kw::code_word}, {"lock", Kw::code_word}, {"latency", Kw::code_word},
    {"throughput", Kw::code_word}, {"scalable", Kw::code_word}, {"distributed", Kw::code_word},
    // constraints
    {"must", Kw::constraint}, {"without", Kw::constraint}, {"exactly", Kw::constraint},
    {"never", Kw::constraint}, {"ensure", Kw::constraint}, {"required", Kw::constraint},
    {"requirement", Kw::constraint}, {"requirements", Kw::constraint},
    {"cannot", Kw::constraint}, {"strictly", Kw::constraint}, {"mandatory", Kw::constraint},
    {"avoid", Kw::constraint}, {"within", Kw::constraint}, {"guarantee", Kw::constraint},
    {"constraint", Kw::constraint}, {"constraints", Kw::constraint},
    // sequencing
    {"finally", Kw::step_word}, {"next", Kw::step_word}, {"secondly", Kw::step_word},
    {"afterwards", Kw::step_word}, {"subsequently", Kw::step_word}, {"lastly", Kw::step_word},
    {"steps", Kw::step_word}, {"second", Kw::step_word}, {"third", Kw::step_word},
    // phrase parts
    {"explain", Kw::explain}, {"why", Kw::why}, {"how", Kw::how}, {"trade", Kw::trade},
    {"off", Kw::off}, {"offs", Kw::off}, {"step", Kw::step}, {"by", Kw::by}, {"at", Kw::at},
    {"least", Kw::least}, {"most", Kw::most}, {"no", Kw::no}, {"more", Kw::more},
    {"first", Kw::first}, {"then", Kw::then},
};

constexpr uint32_t kFnvOffset = 2166136261u;
constexpr uint32_t kFnvPrime = 16777619u;
constexpr size_t kMaxKeywordLen = 15;
constexpr size_t kTableSize = 512;  // power of two, > 2x the keyword count

constexpr uint32_t fnv1a(std::string_view s) {
    uint32_t h = kFnvOffset;
    for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * kFnvPrime;
    return h;
}

struct Slot {
    uint32_t hash = 0;
    int16_t entry = -1;
};

constexpr std::array<Slot, kTableSize> build_table() {
    std::array<Slot, kTableSize> t{};
    for (size_t i = 0; i < std::size(kKeywords); ++i) {
        uint32_t h = fnv1a(kKeywords[i].word);
        size_t pos = h & (kTableSize - 1);
        while (t[pos].entry >= 0) pos = (pos + 1) & (kTableSize - 1);
        t[pos] = Slot{h, static_cast<int16_t>(i)};
    }
    return t;
}

constexpr std::array<Slot, kTableSize> kTable = build_table();

Kw lookup(uint32_t hash, const char* word, size_t len) {
    size_t pos = hash & (kTableSize - 1);
    while (kTable[pos].entry >= 0) {
        if (kTable[pos].hash == hash) {
            const KwEntry& e = kKeywords[kTable[pos].entry];
            if (e.word.size() == len && std::memcmp(e.word.data(), word, len) == 0) return e.kind;
        }
        pos = (pos + 1) & (kTableSize - 1);
    }
    return Kw::none;
}

// ---- scanner ------------------------------------------------------------------------------

enum class Cls : uint8_t { letter, digit, blank, newline, punct, other };

constexpr std::array<Cls, 128> make_classes() {
    std::array<Cls, 128> t{};
    for (int c = 0; c < 128; ++c) {
        Cls k = Cls::punct;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k = Cls::letter;
        else if (c >= '0' && c <= '9') k = Cls::digit;
        else if (c == ' ' || c == '\t' || c == '\f' || c == '\b' || c == '\v') k = Cls::blank;
        else if (c == '\n' || c == '\r') k = Cls::newline;
        else if (c < 32 || c == 127) k = Cls::blank;
        t[static_cast<size_t>(c)] = k;
    }
    return t;
}
constexpr std::array<Cls, 128> kClass = make_classes();

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Scanner {
public:
    explicit Scanner(TextStats& s) : s_(s) {}

    void run(std::string_view raw) {
        const char* p = raw.data();
        const char* end = p + raw.size();
        while (p < end) {
            auto c = static_cast<unsigned char>(*p);
            if (c < 0x80) {
                if (c == '\\' && p + 1 < end) {
                    p = escape(p, end);
                    continue;
                }
                ascii(static_cast<char>(c));
                ++p;
                continue;
            }
            // Raw UTF-8: decode the code point (malformed bytes count as 1-byte characters).
            uint32_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if (p + len > end) len = static_cast<uint32_t>(end - p);
            uint32_t cp = c;
            if (len == 2) cp = ((c & 0x1Fu) << 6) | (static_cast<uint8_t>(p[1]) & 0x3Fu);
            if (len == 3) {
                cp = ((c & 0x0Fu) << 12) | ((static_cast<uint8_t>(p[1]) & 0x3Fu) << 6) |
                     (static_cast<uint8_t>(p[2]) & 0x3Fu);
            }
            non_ascii(cp, len);
            p += len;
        }
        finish();
    }

private:
    // Decodes one JSON escape at p ('\\'), feeds it, returns the position after it.
    const char* escape(const char* p, const char* end) {
        char e = p[1];
        switch (e) {
            case 'n':
            case 'r': ascii('\n'); return p + 2;
            case 't': ascii('\t'); return p + 2;
            case 'b':
            case 'f': ascii(' '); return p + 2;
            case 'u': break;
            default: ascii(e); return p + 2;  // \" \\ \/ and anything unexpected
        }
        if (end - p < 6) {
            ascii('u');
            return p + 2;
        }
        uint32_t cp = 0;
        for (int i = 2; i < 6; ++i) {
            int v = hex_value(p[i]);
            if (v < 0) {
                ascii('u');
                return p + 2;
            }
            cp = (cp << 4) | static_cast<uint32_t>(v);
        }
        if (cp < 0x80) {
            ascii(static_cast<char>(cp));
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            // low surrogate: counted with its high surrogate
        } else if (cp >= 0xD800 && cp <= 0xDBFF) {
            non_ascii(cp, 4);
        } else {
            non_ascii(cp, cp < 0x800 ? 2 : 3);
        }
        return p + 6;
    }

    void ascii(char ch) {
        auto c = static_cast<unsigned char>(ch);
        ++s_.bytes;
        Cls k = kClass[c];
        if (k != Cls::letter) end_word();
        if (k != Cls::digit) end_digits();
        if (k != Cls::punct) end_punct();
        if (k != Cls::blank && k != Cls::newline) end_blanks();
        if (c != '`') end_backticks();
        switch (k) {
            case Cls::letter: letter(ch); break;
            case Cls::digit:
                ++digit_run_;
                if (line_state_ == Line::start) line_state_ = Line::digits;
                else if (line_state_ != Line::digits) line_state_ = Line::body;
                break;
            case Cls::blank:
                ++blank_run_;
                if (line_state_ == Line::marker) {
                    ++s_.list_items;
                    line_state_ = Line::body;
                } else if (line_state_ != Line::start) {
                    line_state_ = Line::body;
                }
                break;
            case Cls::newline:
                blank_newline_ = true;
                if (line_state_ == Line::marker) ++s_.list_items;
                line_state_ = Line::start;
                break;
            case Cls::punct: punct(ch); break;
            case Cls::other: break;
        }
        prev_backslash_ = c == '\\';
    }

    void letter(char ch) {
        bool upper = ch >= 'A' && ch <= 'Z';
        if (line_state_ != Line::body) line_state_ = Line::body;
        // camelCase hump: a capital after a lower-case letter starts a new word.
        if (word_len_ > 0 && upper && !prev_upper_) {
            end_piece();
            run_split_ = true;
        }
        if (word_len_ == 0) {
            piece_caps_ = true;
            if (run_len_ == 0) latex_ = prev_backslash_;
        }
        if (!upper) piece_caps_ = false;
        ++word_len_;
        char lower = static_cast<char>(ch | 0x20);
        if (run_len_ < kMaxKeywordLen) buf_[run_len_] = lower;
        hash_ = (hash_ ^ static_cast<uint8_t>(lower)) * kFnvPrime;
        ++run_len_;
        prev_upper_ = upper;
    }

    void punct(char ch) {
        ++s_.punct;
        if (!in_punct_) {
            ++s_.punct_runs;
            in_punct_ = true;
        }
        switch (ch) {
            case '{': case '}': case ';': case '<': case '>': case '=':
            case '(': case ')': case '[': case ']':
                ++s_.code_punct;
                break;
            case '^': ++s_.math; break;
            case '?': ++s_.questions; break;
            case '`': ++backtick_run_; break;
            default: break;
        }
        if (line_state_ == Line::digits && (ch == '.' || ch == ')')) {
            line_state_ = Line::marker;
        } else if (line_state_ == Line::start && (ch == '-' || ch == '*')) {
            line_state_ = Line::marker;
        } else {
            line_state_ = Line::body;
        }
        // "trade-off": a single hyphen between two words keeps the phrase state.
        if (ch != '-') {
            prev1_ = Kw::none;
            prev2_ = Kw::none;
        }
    }

    void non_ascii(uint32_t cp, uint32_t len) {
        end_word();
        end_digits();
        end_punct();
        end_blanks();
        end_backticks();
        s_.bytes += len;
        if (len == 2) ++s_.nonascii2;
        else if (len == 3) ++s_.nonascii3;
        else if (len >= 4) ++s_.nonascii4;
        // Greek letters, arrows and mathematical operators.
        if ((cp >= 0x391 && cp <= 0x3C9) || (cp >= 0x2190 && cp <= 0x22FF)) ++s_.math;
        line_state_ = Line::body;
        prev_backslash_ = false;
    }

    void end_piece() {
        if (word_len_ == 0) return;
        ++s_.words;
        if (word_len_ > 4) s_.word_chars_over4 += word_len_ - 4;
        if (word_len_ > 8) s_.word_chars_over8 += word_len_ - 8;
        if (piece_caps_ && word_len_ >= 2) ++s_.caps_words;
        word_len_ = 0;
        prev_upper_ = false;
    }

    void end_word() {
        if (run_len_ == 0) return;
        end_piece();
        if (latex_) {
            if (run_len_ >= 2) ++s_.math;
        } else if (!run_split_ && run_len_ <= kMaxKeywordLen) {
            keyword(lookup(hash_, buf_, run_len_));
        } else {
            keyword(Kw::none);
        }
        run_len_ = 0;
        run_split_ = false;
        latex_ = false;
        hash_ = kFnvOffset;
    }

    void keyword(Kw k) {
        switch (k) {
            case Kw::strong_reasoning: ++s_.strong_reasoning; break;
            case Kw::reasoning: ++s_.reasoning; break;
            case Kw::math_word: ++s_.math_words; break;
            case Kw::code_word: ++s_.code_words; break;
            case Kw::constraint: ++s_.constraints; break;
            case Kw::step_word: ++s_.step_phrases; break;
            case Kw::why:
            case Kw::how:
                if (prev1_ == Kw::explain) ++s_.reasoning;
                break;
            case Kw::off:
                if (prev1_ == Kw::trade) ++s_.reasoning;
                break;
            case Kw::step:
                if (prev2_ == Kw::step && prev1_ == Kw::by) s_.step_phrases += 2;
                break;
            case Kw::least:
            case Kw::most:
                if (prev1_ == Kw::at) ++s_.constraints;
                break;
            case Kw::more:
                if (prev1_ == Kw::no) ++s_.constraints;
                break;
            case Kw::first: seen_first_ = true; break;
            case Kw::then:
                if (seen_first_) {
                    ++s_.step_phrases;
                    seen_first_ = false;
                }
                break;
            default: break;
        }
        prev2_ = prev1_;
        prev1_ = k;
    }

    void end_digits() {
        if (digit_run_ == 0) return;
        s_.digit_groups += (digit_run_ + 2) / 3;
        digit_run_ = 0;
    }

    void end_punct() { in_punct_ = false; }

    void end_blanks() {
        if (blank_newline_) {
            ++s_.newline_runs;
            // Indentation after the last newline is a separate token when 2+ blanks long; we
            // cannot tell where the newline was inside the run, so count runs of 3+ as one more.
            if (blank_run_ >= 3) ++s_.blank_runs;
        } else if (blank_run_ >= 2) {
            ++s_.blank_runs;
        }
        blank_run_ = 0;
        blank_newline_ = false;
    }

    void end_backticks() {
        if (backtick_run_ == 0) return;
        if (backtick_run_ >= 3) ++s_.code_fences;
        else s_.backticks += backtick_run_;
        backtick_run_ = 0;
    }

    void finish() {
        end_word();
        end_digits();
        end_punct();
        end_blanks();
        end_backticks();
        if (line_state_ == Line::marker) ++s_.list_items;
    }

    enum class Line : uint8_t { start, digits, marker, body };

    TextStats& s_;
    // current letter run (a "run" may contain several camelCase "pieces")
    uint32_t run_len_ = 0;
    uint32_t word_len_ = 0;  // current piece
    uint32_t hash_ = kFnvOffset;
    char buf_[kMaxKeywordLen] = {};
    bool run_split_ = false;
    bool piece_caps_ = false;
    bool prev_upper_ = false;
    bool latex_ = false;
    bool prev_backslash_ = false;
    uint32_t digit_run_ = 0;
    bool in_punct_ = false;
    uint32_t blank_run_ = 0;
    bool blank_newline_ = false;
    uint32_t backtick_run_ = 0;
    Line line_state_ = Line::start;
    Kw prev1_ = Kw::none;
    Kw prev2_ = Kw::none;
    bool seen_first_ = false;
};

// ---- token estimate weights (see docs/routing.md, "Token estimator") ------------------------
struct Weights {
    double word = 0.92;
    double over4 = 0.073;
    double over8 = 0.216;
    double caps = 0.18;
    double digit_group = 1.48;
    double punct = 0.09;
    double punct_run = 0.66;
    double newline_run = 0.53;
    double blank_run = 0.80;
    double nonascii2 = 0.5;   // cl100k ~0.6-1.1, o200k ~0.25-0.4 per character
    double nonascii3 = 0.95;  // CJK: cl100k ~1.1, o200k ~0.75 per character
    double nonascii4 = 2.5;   // emoji: cl100k ~3, o200k ~2.2
};
constexpr Weights kW{};

double clamp01(double x) { return x < 0 ? 0 : (x > 1 ? 1 : x); }

}  // namespace

void scan_text(std::string_view raw_json_text, TextStats& into) {
    Scanner(into).run(raw_json_text);
}

double estimate_tokens(const TextStats& s) {
    return kW.word * s.words + kW.over4 * s.word_chars_over4 + kW.over8 * s.word_chars_over8 +
           kW.caps * s.caps_words + kW.digit_group * s.digit_groups + kW.punct * s.punct +
           kW.punct_run * s.punct_runs + kW.newline_run * s.newline_runs +
           kW.blank_run * s.blank_runs + kW.nonascii2 * s.nonascii2 +
           kW.nonascii3 * s.nonascii3 + kW.nonascii4 * s.nonascii4;
}

uint32_t estimate_tokens(std::string_view raw_json_text) {
    if (raw_json_text.empty()) return 0;
    TextStats s;
    scan_text(raw_json_text, s);
    double t = std::round(estimate_tokens(s));
    return t < 1 ? 1u : static_cast<uint32_t>(t);
}

namespace {

// Complexity of one text from its stats (the formula in docs/routing.md).
double complexity_of(const TextStats& s, ComplexityTerms& t) {
    double tokens = estimate_tokens(s);
    t.length = clamp01(std::log2(1.0 + tokens / 20.0) / std::log2(101.0));  // 2000 tokens -> 1
    double bytes = std::max(1.0, static_cast<double>(s.bytes));
    double density = s.code_punct / bytes;
    t.code = clamp01(0.3 * s.code_fences + 0.05 * s.backticks + 0.15 * s.code_words +
                     12.0 * std::max(0.0, density - 0.02));
    t.math = clamp01(0.12 * s.math + 0.3 * s.math_words);
    t.steps = clamp01(0.2 * s.list_items + 0.25 * s.step_phrases);
    t.reasoning = clamp01(0.6 * s.strong_reasoning + 0.3 * s.reasoning);
    t.questions = clamp01(0.35 * std::max(0.0, s.questions - 1.0));
    t.constraints = clamp01(0.25 * s.constraints);
    double keep = (1 - 0.40 * t.length) * (1 - 0.45 * t.code) * (1 - 0.45 * t.math) *
                  (1 - 0.40 * t.steps) * (1 - 0.55 * t.reasoning) * (1 - 0.30 * t.questions) *
                  (1 - 0.30 * t.constraints);
    return clamp01(1 - keep);
}

}  // namespace

double complexity_from(const TextStats& last, const TextStats& rest, ComplexityTerms* out) {
    constexpr double kRest = 0.25;  // weight of the rest of the conversation
    ComplexityTerms t_last, t_rest;
    double c_last = complexity_of(last, t_last);
    double c_rest = rest.bytes > 0 ? complexity_of(rest, t_rest) : 0.0;
    if (out) *out = t_last;
    return clamp01(c_last + kRest * c_rest * (1 - c_last));
}

double complexity_score(std::string_view raw_json_text) {
    TextStats s;
    scan_text(raw_json_text, s);
    return complexity_from(s, TextStats{}, nullptr);
}


// ---- extract_features ---------------------------------------------------------------------
namespace {

// Skips a JSON string starting at body[i] == '"'; returns the index after its closing quote.
size_t skip_string(std::string_view body, size_t i) {
    size_t n = body.size();
    ++i;
    while (i < n) {
        const void* q = std::memchr(body.data() + i, '"', n - i);
        if (!q) return n;
        size_t j = static_cast<size_t>(static_cast<const char*>(q) - body.data());
        size_t bs = 0;
        while (j - bs > i && body[j - bs - 1] == '\\') ++bs;
        if (bs % 2 == 0) return j + 1;
        i = j + 1;
    }
    return n;
}

// Skips one JSON value starting at body[i] (no validation: the body was already scanned).
size_t skip_value(std::string_view body, size_t i) {
    size_t n = body.size();
    if (i >= n) return n;
    if (body[i] == '"') return skip_string(body, i);
    if (body[i] != '{' && body[i] != '[') {
        while (i < n && body[i] != ',' && body[i] != '}' && body[i] != ']') ++i;
        return i;
    }
    int depth = 0;
    while (i < n) {
        char c = body[i];
        if (c == '"') {
            i = skip_string(body, i);
            continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') {
            if (--depth == 0) return i + 1;
        }
        ++i;
    }
    return n;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Raw text of the value of a top-level member `key` (first found), or empty.
std::string_view top_level_value(std::string_view body, std::string_view key) {
    size_t i = 0, n = body.size();
    while (i < n && is_ws(body[i])) ++i;
    if (i >= n || body[i] != '{') return {};
    ++i;
    while (i < n) {
        while (i < n && (is_ws(body[i]) || body[i] == ',')) ++i;
        if (i >= n || body[i] != '"') return {};
        size_t key_end = skip_string(body, i);
        std::string_view k = body.substr(i + 1, key_end - i - 2 < n ? key_end - i - 2 : 0);
        i = key_end;
        while (i < n && (is_ws(body[i]) || body[i] == ':')) ++i;
        size_t v_end = skip_value(body, i);
        if (k == key) return body.substr(i, v_end - i);
        i = v_end;
    }
    return {};
}

// Counts "image_url" members (one per image part, chat and responses styles).
uint32_t count_images(std::string_view body) {
    uint32_t count = 0;
    constexpr std::string_view kKey = "\"image_url\"";
    size_t pos = 0;
    while ((pos = body.find(kKey, pos)) != std::string_view::npos) {
        pos += kKey.size();
        size_t j = pos;
        while (j < body.size() && is_ws(body[j])) ++j;
        if (j < body.size() && body[j] == ':') ++count;
    }
    return count;
}

enum class Role { unknown, user, other };

// Role of the message whose text starts at `text_begin`, from the last "role" member in
// body[gap_begin, text_begin) that belongs to a still-open object. unknown when there is none
// (a continuation part of the same message).
Role role_before(std::string_view body, size_t gap_begin, size_t text_begin) {
    if (text_begin == 0 || text_begin > body.size() || gap_begin >= text_begin) {
        return Role::unknown;
    }
    std::string_view gap = body.substr(gap_begin, text_begin - 1 - gap_begin);
    constexpr std::string_view kRole = "\"role\"";
    size_t at = gap.rfind(kRole);
    if (at == std::string_view::npos) return Role::unknown;
    size_t i = gap_begin + at + kRole.size();
    size_t stop = text_begin - 1;  // the text's opening quote
    while (i < stop && (is_ws(body[i]) || body[i] == ':')) ++i;
    if (i >= stop || body[i] != '"') return Role::unknown;
    size_t v_end = skip_string(body, i);
    std::string_view value = body.substr(i + 1, v_end > i + 1 ? v_end - i - 2 : 0);
    // The role must belong to an object that is still open at the text.
    int depth = 0;
    i = v_end;
    while (i < stop) {
        char c = body[i];
        if (c == '"') {
            i = skip_string(body, i);
            continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') {
            if (--depth < 0) return Role::unknown;
        }
        ++i;
    }
    return value == "user" ? Role::user : Role::other;
}

uint32_t round_tokens(double t) { return t <= 0 ? 0u : static_cast<uint32_t>(std::lround(t)); }

}  // namespace

Features extract_features(const openai::ChatRequest& req, std::string_view body) {
    Features f;
    f.max_tokens = req.max_tokens && *req.max_tokens > 0
                       ? std::optional<uint32_t>(static_cast<uint32_t>(
                             std::min<int64_t>(*req.max_tokens, UINT32_MAX)))
                       : std::nullopt;
    f.tools = req.has_tools;
    f.images = req.has_images;
    f.json_schema = req.json_schema;
    f.json_object = req.json_object;
    f.stream = req.stream;
    f.message_count = req.message_count;

    const auto& spans = req.text_spans;
    size_t n = spans.size();
    auto in_body = [&](const openai::Span& s) { return s.end <= body.size() && s.begin <= s.end; };

    // Find the spans of the last user message: walk back message by message.
    size_t last_begin = n, last_end = n;
    {
        size_t group_end = n;
        for (size_t k = n; k-- > 0;) {
            if (!in_body(spans[k])) continue;
            size_t gap_begin = k > 0 && in_body(spans[k - 1]) ? spans[k - 1].end : 0;
            Role r = role_before(body, gap_begin, spans[k].begin);
            if (r == Role::unknown) continue;
            if (r == Role::user) {
                last_begin = k;
                last_end = group_end;
                break;
            }
            group_end = k;
        }
        if (last_begin == n && n > 0) {  // no roles found: the last text stands for it
            last_begin = n - 1;
            last_end = n;
        }
    }

    TextStats last, rest;
    for (size_t k = 0; k < n; ++k) {
        if (!in_body(spans[k])) continue;
        std::string_view text = body.substr(spans[k].begin, spans[k].size());
        scan_text(text, k >= last_begin && k < last_end ? last : rest);
    }
    double last_tokens = estimate_tokens(last);
    f.last_user_tokens = round_tokens(last_tokens);
    f.text_tokens = round_tokens(last_tokens + estimate_tokens(rest));
    if (req.has_tools) {
        std::string_view tools = top_level_value(body, "tools");
        if (tools.empty()) tools = top_level_value(body, "functions");
        f.tools_tokens = estimate_tokens(tools);
    }
    if (req.has_images) {
        f.image_count = std::max<uint32_t>(1, count_images(body));
        f.image_tokens = f.image_count * kTokensPerImage;
    }
    f.overhead_tokens = req.message_count * kTokensPerMessage + kTokensReplyPriming;
    f.prompt_tokens = f.text_tokens + f.tools_tokens + f.image_tokens + f.overhead_tokens;
    f.complexity = complexity_from(last, rest, &f.complexity_terms);
    return f;
}

}  // namespace baton::policy
