// One-pass text scanner (token estimate inputs + complexity signals), the token estimate and
// the complexity score.
#include "baton/policy/features.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>

#include "baton/core/ascii_simd.hpp"

namespace baton::policy {
namespace {

// ---- keyword table ------------------------------------------------------------------------
// Lower-case words the complexity score reacts to, looked up in a constexpr open-addressing
// table (immutable; no global mutable state).

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
    {"prove", Kw::strong_reasoning},
    {"proves", Kw::strong_reasoning},
    {"proving", Kw::strong_reasoning},
    {"proof", Kw::strong_reasoning},
    {"proofs", Kw::strong_reasoning},
    {"derive", Kw::strong_reasoning},
    {"derives", Kw::strong_reasoning},
    {"deriving", Kw::strong_reasoning},
    {"derivation", Kw::strong_reasoning},
    {"rigorous", Kw::strong_reasoning},
    {"rigorously", Kw::strong_reasoning},
    {"formally", Kw::strong_reasoning},
    {"induction", Kw::strong_reasoning},
    {"contradiction", Kw::strong_reasoning},
    // reasoning
    {"analyze", Kw::reasoning},
    {"analyse", Kw::reasoning},
    {"analysis", Kw::reasoning},
    {"analyzing", Kw::reasoning},
    {"compare", Kw::reasoning},
    {"comparing", Kw::reasoning},
    {"comparison", Kw::reasoning},
    {"contrast", Kw::reasoning},
    {"evaluate", Kw::reasoning},
    {"evaluation", Kw::reasoning},
    {"justify", Kw::reasoning},
    {"justification", Kw::reasoning},
    {"critique", Kw::reasoning},
    {"assess", Kw::reasoning},
    {"tradeoff", Kw::reasoning},
    {"tradeoffs", Kw::reasoning},
    {"implications", Kw::reasoning},
    {"architecture", Kw::reasoning},
    {"design", Kw::reasoning},
    {"optimize", Kw::reasoning},
    {"optimise", Kw::reasoning},
    {"optimization", Kw::reasoning},
    {"reasoning", Kw::reasoning},
    {"pros", Kw::reasoning},
    {"rationale", Kw::reasoning},
    {"hypothesis", Kw::reasoning},
    // maths
    {"theorem", Kw::math_word},
    {"lemma", Kw::math_word},
    {"integral", Kw::math_word},
    {"integrals", Kw::math_word},
    {"derivative", Kw::math_word},
    {"equation", Kw::math_word},
    {"equations", Kw::math_word},
    {"matrix", Kw::math_word},
    {"matrices", Kw::math_word},
    {"eigenvalue", Kw::math_word},
    {"eigenvalues", Kw::math_word},
    {"polynomial", Kw::math_word},
    {"probability", Kw::math_word},
    {"asymptotic", Kw::math_word},
    {"prime", Kw::math_word},
    {"primes", Kw::math_word},
    {"convergence", Kw::math_word},
    {"converges", Kw::math_word},
    {"inequality", Kw::math_word},
    {"modulo", Kw::math_word},
    {"logarithm", Kw::math_word},
    {"infinitely", Kw::math_word},
    {"bound", Kw::math_word},
    {"bounds", Kw::math_word},
    // code
    {"function", Kw::code_word},
    {"functions", Kw::code_word},
    {"class", Kw::code_word},
    {"implement", Kw::code_word},
    {"implementation", Kw::code_word},
    {"code", Kw::code_word},
    {"compile", Kw::code_word},
    {"compiler", Kw::code_word},
    {"algorithm", Kw::code_word},
    {"algorithms", Kw::code_word},
    {"sql", Kw::code_word},
    {"regex", Kw::code_word},
    {"api", Kw::code_word},
    {"refactor", Kw::code_word},
    {"debug", Kw::code_word},
    {"bug", Kw::code_word},
    {"python", Kw::code_word},
    {"javascript", Kw::code_word},
    {"typescript", Kw::code_word},
    {"rust", Kw::code_word},
    {"golang", Kw::code_word},
    {"recursion", Kw::code_word},
    {"recursive", Kw::code_word},
    {"concurrency", Kw::code_word},
    {"concurrent", Kw::code_word},
    {"thread", Kw::code_word},
    {"database", Kw::code_word},
    {"query", Kw::code_word},
    {"pointer", Kw::code_word},
    {"lock", Kw::code_word},
    {"latency", Kw::code_word},
    {"throughput", Kw::code_word},
    {"scalable", Kw::code_word},
    {"distributed", Kw::code_word},
    // constraints
    {"must", Kw::constraint},
    {"without", Kw::constraint},
    {"exactly", Kw::constraint},
    {"never", Kw::constraint},
    {"ensure", Kw::constraint},
    {"required", Kw::constraint},
    {"requirement", Kw::constraint},
    {"requirements", Kw::constraint},
    {"cannot", Kw::constraint},
    {"strictly", Kw::constraint},
    {"mandatory", Kw::constraint},
    {"avoid", Kw::constraint},
    {"within", Kw::constraint},
    {"guarantee", Kw::constraint},
    {"constraint", Kw::constraint},
    {"constraints", Kw::constraint},
    // sequencing
    {"finally", Kw::step_word},
    {"next", Kw::step_word},
    {"secondly", Kw::step_word},
    {"afterwards", Kw::step_word},
    {"subsequently", Kw::step_word},
    {"lastly", Kw::step_word},
    {"steps", Kw::step_word},
    {"second", Kw::step_word},
    {"third", Kw::step_word},
    // phrase parts
    {"explain", Kw::explain},
    {"why", Kw::why},
    {"how", Kw::how},
    {"trade", Kw::trade},
    {"off", Kw::off},
    {"offs", Kw::off},
    {"step", Kw::step},
    {"by", Kw::by},
    {"at", Kw::at},
    {"least", Kw::least},
    {"most", Kw::most},
    {"no", Kw::no},
    {"more", Kw::more},
    {"first", Kw::first},
    {"then", Kw::then},
};

// Keyword hash from the length and three letters (first, second, last), lower-cased: words are
// hashed once, at their end, from the raw bytes (no per-letter work, no copy).
constexpr uint32_t kw_hash(uint32_t len, uint32_t c0, uint32_t c1, uint32_t cl) {
    uint32_t h = (len * 0x9E3779B1u) ^ (c0 * 0x85EBCA6Bu) ^ (c1 * 0xC2B2AE35u) ^ (cl * 0x27D4EB2Fu);
    return h ^ (h >> 15);
}

constexpr size_t kMaxKeywordLen = 15;
constexpr size_t kTableSize = 512;  // power of two, > 2x the keyword count

struct Slot {
    uint32_t hash = 0;
    int16_t entry = -1;
};

// A word whose filter bit is clear is no keyword: the 512-byte filter stays in cache where the
// 4 KB table would not (between two requests the table's lines are gone, and a probe was the
// scanner's most expensive load).
constexpr size_t kFilterBits = 4096;
constexpr size_t filter_bit(uint32_t h) { return (h >> 9) & (kFilterBits - 1); }

struct KeywordTable {
    std::array<Slot, kTableSize> slots{};
    std::array<uint32_t, kMaxKeywordLen + 1> first_letters{};  // per length: bit (c - 'a')
    std::array<uint32_t, kMaxKeywordLen + 1> last_letters{};   // per length: bit (c - 'a')
    std::array<uint64_t, kFilterBits / 64> filter{};           // bit filter_bit(hash)
};

constexpr KeywordTable build_table() {
    KeywordTable t{};
    for (size_t i = 0; i < std::size(kKeywords); ++i) {
        std::string_view w = kKeywords[i].word;
        auto len = static_cast<uint32_t>(w.size());
        uint32_t h = kw_hash(len, static_cast<uint8_t>(w[0]), static_cast<uint8_t>(w[1]),
                             static_cast<uint8_t>(w[len - 1]));
        size_t pos = h & (kTableSize - 1);
        while (t.slots[pos].entry >= 0) pos = (pos + 1) & (kTableSize - 1);
        t.slots[pos] = Slot{h, static_cast<int16_t>(i)};
        t.filter[filter_bit(h) / 64] |= uint64_t{1} << (filter_bit(h) % 64);
        t.first_letters[len] |= 1u << (w[0] - 'a');
        t.last_letters[len] |= 1u << (w[len - 1] - 'a');
    }
    return t;
}

constexpr KeywordTable kTable = build_table();

// `w` is a run of ASCII letters (any case).
Kw lookup(const unsigned char* w, size_t len) {
    if (len < 2 || len > kMaxKeywordLen) return Kw::none;
    uint32_t c0 = w[0] | 0x20u;
    uint32_t cl = w[len - 1] | 0x20u;
    if (!((kTable.first_letters[len] >> (c0 - 'a')) & (kTable.last_letters[len] >> (cl - 'a')) &
          1u)) {
        return Kw::none;
    }
    uint32_t h = kw_hash(static_cast<uint32_t>(len), c0, w[1] | 0x20u, cl);
    if (!((kTable.filter[filter_bit(h) / 64] >> (filter_bit(h) % 64)) & 1u)) return Kw::none;
    size_t pos = h & (kTableSize - 1);
    while (kTable.slots[pos].entry >= 0) {
        if (kTable.slots[pos].hash == h) {
            std::string_view k = kKeywords[kTable.slots[pos].entry].word;
            if (k.size() == len) {
                size_t i = 0;
                while (i < len && static_cast<char>(w[i] | 0x20) == k[i]) ++i;
                if (i == len) return kKeywords[kTable.slots[pos].entry].kind;
            }
        }
        pos = (pos + 1) & (kTableSize - 1);
    }
    return Kw::none;
}

// ---- scanner ------------------------------------------------------------------------------

enum class Cls : uint8_t { letter, digit, blank, newline, punct, backslash, high };

constexpr std::array<Cls, 256> make_classes() {
    std::array<Cls, 256> t{};
    for (int c = 0; c < 256; ++c) {
        Cls k = Cls::punct;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            k = Cls::letter;
        else if (c >= '0' && c <= '9')
            k = Cls::digit;
        else if (c == '\n' || c == '\r')
            k = Cls::newline;
        else if (c == '\\')
            k = Cls::backslash;
        else if (c >= 0x80)
            k = Cls::high;
        else if (c <= ' ' || c == 127)
            k = Cls::blank;
        t[static_cast<size_t>(c)] = k;
    }
    return t;
}
constexpr std::array<Cls, 256> kClass = make_classes();

// The number of set bits of a 16-bit mask, in registers (no POPCNT in the x86-64 baseline, and a
// lookup table's line is often cold by the next request).
constexpr uint32_t popcount16(uint32_t x) {
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0F0Fu;
    return (x + (x >> 8)) & 0x1Fu;
}

int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes "\uXXXX" at p (p[0] == '\\', p[1] == 'u'); -1 when malformed.
int64_t unicode_escape(const unsigned char* p, const unsigned char* end) {
    if (end - p < 6) return -1;
    int64_t cp = 0;
    for (int i = 2; i < 6; ++i) {
        int v = hex_value(p[i]);
        if (v < 0) return -1;
        cp = (cp << 4) | v;
    }
    return cp;
}

// One pass over raw JSON string content. Each class of character is consumed by its own tight
// loop (letters, digits, blanks, punctuation, non-ASCII); state that spans runs (line position,
// phrase words) lives in the members. Counts go to a local TextStats (no aliasing with the text).
class Scanner {
  public:
    TextStats s;

    void run(const unsigned char* p, const unsigned char* end) {
        while (p < end) {
            switch (kClass[*p]) {
                case Cls::letter:
                    p = letters(p, end);
                    break;
                case Cls::digit:
                    p = digits(p, end);
                    break;
                case Cls::blank:
                case Cls::newline:
                    p = blanks(p, end);
                    break;
                case Cls::punct:
                    p = puncts(p, end);
                    break;
                case Cls::high:
                    p = utf8(p, end);
                    break;
                case Cls::backslash:
                    p = escape(p, end);
                    break;
            }
        }
        if (line_ == Line::marker) ++s.list_items;
    }

  private:
    enum class Line : uint8_t { start, digits, marker, body };

    // Words, the punctuation right after them and single spaces before the next word are
    // consumed here without going back to run() (fewer unpredictable dispatches): a single space
    // before a word costs no token.
    const unsigned char* letters(const unsigned char* p, const unsigned char* end) {
        for (;;) {
            p = word(p, end);
            if (p < end && kClass[*p] == Cls::punct) p = puncts(p, end);
            if (p < end && kClass[*p] == Cls::letter) continue;
            if (end - p < 2 || *p != ' ' || kClass[p[1]] != Cls::letter) return p;
            ++s.bytes;
            if (line_ == Line::marker) {
                ++s.list_items;
                line_ = Line::body;
            } else if (line_ != Line::start) {
                line_ = Line::body;
            }
            ++p;
        }
    }

    const unsigned char* word(const unsigned char* p, const unsigned char* end) {
        const unsigned char* w = p;
        uint32_t upper = 0;
        p = letter_run(p, end, upper);
        auto len = static_cast<uint32_t>(p - w);
        bool split = false;
        if (upper == 0 || upper == len || (upper == 1 && *w <= 'Z')) {
            end_piece(len, upper == len);  // lower, CAPS or Title: one piece
        } else {
            // camelCase humps: a capital after a lower-case letter starts a new piece.
            uint32_t piece = 0;
            bool caps = true, prev_upper = false;
            for (const unsigned char* q = w; q < p; ++q) {
                bool up = *q <= 'Z';
                if (up && !prev_upper && piece > 0) {
                    end_piece(piece, caps);
                    split = true;
                    piece = 0;
                    caps = true;
                }
                caps = caps && up;
                prev_upper = up;
                ++piece;
            }
            end_piece(piece, caps);
        }
        s.bytes += len;
        if (prev_backslash_) {
            if (len >= 2) ++s.math;  // \frac, \sum, ...
            keyword(Kw::none);
        } else {
            keyword(split ? Kw::none : lookup(w, len));
        }
        prev_backslash_ = false;
        line_ = Line::body;
        return p;
    }

    // The end of the run of ASCII letters starting at p, adding its capitals to `upper`.
    // SSE2: 16 bytes per step (most of a prompt is words); the tail byte by byte.
    static const unsigned char* letter_run(const unsigned char* p, const unsigned char* end,
                                           uint32_t& upper) {
#ifdef __SSE2__
        while (end - p >= 16) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            const auto letters = static_cast<unsigned>(_mm_movemask_epi8(ascii::letters(x)));
            const auto capitals =
                static_cast<unsigned>(_mm_movemask_epi8(ascii::in_range(x, 'A', 'Z')));
            if (letters == 0xffff) {
                upper += popcount16(capitals);
                p += 16;
                continue;
            }
            const unsigned run = static_cast<unsigned>(__builtin_ctz(~letters));  // < 16
            const unsigned in_run = capitals & ((1u << run) - 1);
            upper += popcount16(in_run);
            return p + run;
        }
#endif
        for (; p < end && kClass[*p] == Cls::letter; ++p) upper += *p <= 'Z';
        return p;
    }

    void end_piece(uint32_t len, bool caps) {
        ++s.words;
        if (len > 4) s.word_chars_over4 += len - 4;
        if (len > 8) s.word_chars_over8 += len - 8;
        if (caps && len >= 2) ++s.caps_words;
    }

    const unsigned char* digits(const unsigned char* p, const unsigned char* end) {
        const unsigned char* d = p;
        while (p < end && kClass[*p] == Cls::digit) ++p;
        auto n = static_cast<uint32_t>(p - d);
        s.bytes += n;
        s.digit_groups += (n + 2) / 3;
        if (line_ == Line::start)
            line_ = Line::digits;
        else if (line_ != Line::digits)
            line_ = Line::body;
        prev_backslash_ = false;
        return p;
    }

    // Spaces, tabs, newlines and the escapes \n \r \t \b \f.
    const unsigned char* blanks(const unsigned char* p, const unsigned char* end) {
        uint32_t blank = 0;
        bool newline = false;
        while (p < end) {
            Cls k = kClass[*p];
            bool nl;
            if (k == Cls::blank || k == Cls::newline) {
                nl = k == Cls::newline;
                ++p;
            } else if (k == Cls::backslash && p + 1 < end &&
                       (p[1] == 'n' || p[1] == 'r' || p[1] == 't' || p[1] == 'b' || p[1] == 'f')) {
                nl = p[1] == 'n' || p[1] == 'r';
                p += 2;
            } else {
                break;
            }
            ++s.bytes;
            if (nl) {
                newline = true;
                if (line_ == Line::marker) ++s.list_items;
                line_ = Line::start;
            } else {
                ++blank;
                if (line_ == Line::marker) {
                    ++s.list_items;
                    line_ = Line::body;
                } else if (line_ != Line::start) {
                    line_ = Line::body;
                }
            }
        }
        if (newline) {
            ++s.newline_runs;
            // Indentation after the last newline is its own token when 2+ blanks long; where the
            // newline fell inside the run is not tracked, so runs of 3+ blanks count one more.
            if (blank >= 3) ++s.blank_runs;
        } else if (blank >= 2) {
            ++s.blank_runs;
        }
        prev_backslash_ = false;
        return p;
    }

    // A run of ASCII punctuation, including the escapes \" \\ \/ and \u00XX.
    const unsigned char* puncts(const unsigned char* p, const unsigned char* end) {
        ++s.punct_runs;
        uint32_t ticks = 0;
        while (p < end) {
            unsigned char ch = *p;
            Cls k = kClass[ch];
            size_t adv = 1;
            if (k == Cls::backslash) {
                if (p + 1 >= end) {
                    ch = '\\';
                } else if (p[1] == '"' || p[1] == '\\' || p[1] == '/') {
                    ch = p[1];
                    adv = 2;
                } else if (p[1] == 'u') {
                    int64_t cp = unicode_escape(p, end);
                    if (cp < 0 || cp >= 0x80 || kClass[static_cast<size_t>(cp)] != Cls::punct) {
                        break;
                    }
                    ch = static_cast<unsigned char>(cp);
                    adv = 6;
                } else {
                    break;  // \n \t ...: blanks
                }
            } else if (k != Cls::punct) {
                break;
            }
            p += adv;
            ++s.bytes;
            ++s.punct;
            if (ch == '`') {
                ++ticks;
            } else {
                flush_ticks(ticks);
                punct(ch);
            }
            prev_backslash_ = ch == '\\';
        }
        flush_ticks(ticks);
        return p;
    }

    void flush_ticks(uint32_t& ticks) {
        if (ticks == 0) return;
        if (ticks >= 3)
            ++s.code_fences;
        else
            s.backticks += ticks;
        ticks = 0;
        line_ = Line::body;
        prev1_ = prev2_ = Kw::none;
    }

    void punct(unsigned char ch) {
        switch (ch) {
            case '{':
            case '}':
            case ';':
            case '<':
            case '>':
            case '=':
            case '(':
            case ')':
            case '[':
            case ']':
                ++s.code_punct;
                break;
            case '^':
                ++s.math;
                break;
            case '?':
                ++s.questions;
                break;
            default:
                break;
        }
        if (line_ == Line::digits && (ch == '.' || ch == ')'))
            line_ = Line::marker;
        else if (line_ == Line::start && (ch == '-' || ch == '*'))
            line_ = Line::marker;
        else
            line_ = Line::body;
        // "trade-off": a hyphen between two words keeps the phrase state.
        if (ch != '-') prev1_ = prev2_ = Kw::none;
    }

    void high(uint32_t cp, uint32_t len) {
        s.bytes += len;
        if (len == 2)
            ++s.nonascii2;
        else if (len == 3)
            ++s.nonascii3;
        else
            ++s.nonascii4;
        // Greek letters, arrows and mathematical operators.
        if ((cp >= 0x391 && cp <= 0x3C9) || (cp >= 0x2190 && cp <= 0x22FF)) ++s.math;
        line_ = Line::body;
        prev_backslash_ = false;
    }

    // Raw UTF-8 (malformed bytes count as 2-byte characters).
    const unsigned char* utf8(const unsigned char* p, const unsigned char* end) {
        unsigned char c = *p;
        uint32_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c < 0xC0 || p + len > end) {
            high(0, 2);
            return p + 1;
        }
        uint32_t cp = 0;
        if (len == 2)
            cp = ((c & 0x1Fu) << 6) | (p[1] & 0x3Fu);
        else if (len == 3)
            cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        high(cp, len);
        return p + len;
    }

    // A backslash not handled by a run loop. Always consumes at least one byte.
    const unsigned char* escape(const unsigned char* p, const unsigned char* end) {
        if (p + 1 < end && p[1] == 'u') {
            int64_t cp = unicode_escape(p, end);
            if (cp >= 0x80) {
                if (cp >= 0xDC00 && cp <= 0xDFFF) return p + 6;  // low surrogate: counted
                high(static_cast<uint32_t>(cp),
                     cp >= 0xD800 && cp <= 0xDBFF ? 4 : (cp < 0x800 ? 2 : 3));
                return p + 6;
            }
            if (cp >= 0) {
                if (kClass[static_cast<size_t>(cp)] == Cls::punct) return puncts(p, end);
                // Rare: an escaped ASCII letter, digit, blank or control. One character.
                ++s.bytes;
                ++s.punct;
                ++s.punct_runs;
                prev_backslash_ = false;
                return p + 6;
            }
            // malformed \u: a stray backslash (below)
        } else if (p + 1 < end) {
            unsigned char e = p[1];
            if (e == 'n' || e == 'r' || e == 't' || e == 'b' || e == 'f') return blanks(p, end);
            if (e == '"' || e == '\\' || e == '/') return puncts(p, end);
        }
        // Stray backslash (or a malformed escape): one punctuation character.
        ++s.bytes;
        ++s.punct;
        ++s.punct_runs;
        prev_backslash_ = true;
        return p + 1;
    }

    void keyword(Kw k) {
        switch (k) {
            case Kw::strong_reasoning:
                ++s.strong_reasoning;
                break;
            case Kw::reasoning:
                ++s.reasoning;
                break;
            case Kw::math_word:
                ++s.math_words;
                break;
            case Kw::code_word:
                ++s.code_words;
                break;
            case Kw::constraint:
                ++s.constraints;
                break;
            case Kw::step_word:
                ++s.step_phrases;
                break;
            case Kw::why:
            case Kw::how:
                if (prev1_ == Kw::explain) ++s.reasoning;
                break;
            case Kw::off:
                if (prev1_ == Kw::trade) ++s.reasoning;
                break;
            case Kw::step:
                if (prev2_ == Kw::step && prev1_ == Kw::by) s.step_phrases += 2;
                break;
            case Kw::least:
            case Kw::most:
                if (prev1_ == Kw::at) ++s.constraints;
                break;
            case Kw::more:
                if (prev1_ == Kw::no) ++s.constraints;
                break;
            case Kw::first:
                seen_first_ = true;
                break;
            case Kw::then:
                if (seen_first_) {
                    ++s.step_phrases;
                    seen_first_ = false;
                }
                break;
            default:
                break;
        }
        prev2_ = prev1_;
        prev1_ = k;
    }

    Line line_ = Line::start;
    Kw prev1_ = Kw::none;
    Kw prev2_ = Kw::none;
    bool seen_first_ = false;
    bool prev_backslash_ = false;
};

}  // namespace

TextStats& operator+=(TextStats& a, const TextStats& b) {
    a.bytes += b.bytes;
    a.words += b.words;
    a.word_chars_over4 += b.word_chars_over4;
    a.word_chars_over8 += b.word_chars_over8;
    a.caps_words += b.caps_words;
    a.digit_groups += b.digit_groups;
    a.punct += b.punct;
    a.punct_runs += b.punct_runs;
    a.newline_runs += b.newline_runs;
    a.blank_runs += b.blank_runs;
    a.nonascii2 += b.nonascii2;
    a.nonascii3 += b.nonascii3;
    a.nonascii4 += b.nonascii4;
    a.code_fences += b.code_fences;
    a.backticks += b.backticks;
    a.code_punct += b.code_punct;
    a.code_words += b.code_words;
    a.math += b.math;
    a.math_words += b.math_words;
    a.list_items += b.list_items;
    a.step_phrases += b.step_phrases;
    a.strong_reasoning += b.strong_reasoning;
    a.reasoning += b.reasoning;
    a.questions += b.questions;
    a.constraints += b.constraints;
    return a;
}

namespace {

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
    Scanner sc;
    const auto* p = reinterpret_cast<const unsigned char*>(raw_json_text.data());
    sc.run(p, p + raw_json_text.size());
    into += sc.s;
}

void ScanCache::scan(std::string_view text, TextStats& into) {
    if (text.size() < kMinBytes || text.size() > kMaxBytes) {
        scan_text(text, into);
        return;
    }
    const size_t h = std::hash<std::string_view>{}(text);
    Entry& e = entries_[(h >> 7) % kSlots];
    if (e.hash == h && e.text == text) {
        ++hits_;
        into += e.stats;
        return;
    }
    ++misses_;
    e.stats = TextStats{};
    scan_text(text, e.stats);
    e.hash = h;
    e.text.assign(text);
    into += e.stats;
}

double estimate_tokens(const TextStats& s) {
    return kW.word * s.words + kW.over4 * s.word_chars_over4 + kW.over8 * s.word_chars_over8 +
           kW.caps * s.caps_words + kW.digit_group * s.digit_groups + kW.punct * s.punct +
           kW.punct_run * s.punct_runs + kW.newline_run * s.newline_runs +
           kW.blank_run * s.blank_runs + kW.nonascii2 * s.nonascii2 + kW.nonascii3 * s.nonascii3 +
           kW.nonascii4 * s.nonascii4;
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

}  // namespace baton::policy
