// Text normalisation for the injection scanner: one pass, ASCII fast path, bounded UTF-8 decode.
#include <cstring>

#include "guard/detail.hpp"

namespace baton::guard {
namespace detail {
namespace {

// ---- ASCII classes --------------------------------------------------------------------------

constexpr uint8_t kSp = 1;                 // space, tab
constexpr uint8_t kNl = 2;                 // \n \r \v \f
constexpr uint8_t kCtl = 4;                // other control characters (replaced by a space)
constexpr uint8_t kB64 = 8;                // [A-Za-z0-9+/_-]
constexpr uint8_t kUp = 16;                // [A-Z]
constexpr uint8_t kLo = 32;                // [a-z]
constexpr uint8_t kBs = 64;                // backslash
constexpr uint8_t kWs = kSp | kNl | kCtl;  // separators (control characters count as a space)

constexpr std::array<uint8_t, 128> make_cls() {
    std::array<uint8_t, 128> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = kCtl;
    t[0x7F] = kCtl;
    t[' '] = kSp;
    t['\t'] = kSp;
    t['\n'] = kNl;
    t['\r'] = kNl;
    t['\v'] = kNl;
    t['\f'] = kNl;
    t['\\'] = kBs;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = kB64 | kUp;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = kB64 | kLo;
    for (int c = '0'; c <= '9'; ++c) t[c] = kB64;
    t['+'] = t['/'] = t['-'] = t['_'] = kB64;
    return t;
}
constexpr std::array<uint8_t, 128> kCls = make_cls();

constexpr std::array<char, 128> make_fold() {
    std::array<char, 128> t{};
    for (int c = 0; c < 128; ++c) t[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return t;
}
constexpr std::array<char, 128> kFold = make_fold();

// Classes of output bytes.
constexpr uint8_t kAlnum = 1;
constexpr uint8_t kLetter = 2;
constexpr std::array<uint8_t, 256> make_out() {
    std::array<uint8_t, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[c] = kAlnum | kLetter;
    for (int c = '0'; c <= '9'; ++c) t[c] = kAlnum;
    return t;
}
constexpr std::array<uint8_t, 256> kOut = make_out();

// ---- U+00C0..U+05FF fold table --------------------------------------------------------------
// 0: copy; 'a'..'z': Latin letter with diacritic; 0x80 | letter: look-alike from another script
// (or IPA); 1..5: two-letter folds.
constexpr uint8_t kConf = 0x80;
constexpr uint32_t kTableBase = 0xC0;
constexpr uint32_t kTableEnd = 0x600;
constexpr const char* kMulti[] = {"", "ae", "oe", "ss", "th", "ij"};

constexpr std::array<uint8_t, kTableEnd - kTableBase> make_fold2() {
    std::array<uint8_t, kTableEnd - kTableBase> t{};
    // Latin-1 Supplement U+00C0..U+00FF (0 for the multiplication and division signs).
    constexpr char latin1[] =
        "aaaaaa\1ceeeeiiiidnooooo\0ouuuuy\4\3"
        "aaaaaa\1ceeeeiiiidnooooo\0ouuuuy\4y";
    static_assert(sizeof(latin1) == 64 + 1);
    for (uint32_t i = 0; i < 64; ++i) t[i] = static_cast<uint8_t>(latin1[i]);
    // Latin Extended-A U+0100..U+017F.
    constexpr char ext_a[] =
        "aaaaaa"
        "cccccccc"
        "dddd"
        "eeeeeeeeee"
        "gggggggg"
        "hhhh"
        "iiiiiiiiii"
        "\5\5"
        "jj"
        "kkk"
        "llllllllll"
        "nnnnnnnnn"
        "oooooo"
        "\2\2"
        "rrrrrr"
        "ssssssss"
        "tttttt"
        "uuuuuuuuuuuu"
        "ww"
        "yyy"
        "zzzzzz"
        "s";
    static_assert(sizeof(ext_a) == 128 + 1);
    for (uint32_t i = 0; i < 128; ++i) t[0x40 + i] = static_cast<uint8_t>(ext_a[i]);
    struct Pair {
        uint32_t cp;
        char ch;
    };
    // Look-alikes (the Unicode confusables that render like a Latin letter in common fonts).
    constexpr Pair conf[] = {
        // IPA / small capitals
        {0x251, 'a'},
        {0x261, 'g'},
        {0x269, 'i'},
        {0x26A, 'i'},
        {0x274, 'n'},
        {0x280, 'r'},
        {0x28F, 'y'},
        {0x299, 'b'},
        {0x29C, 'h'},
        // Greek capitals and small letters
        {0x391, 'a'},
        {0x392, 'b'},
        {0x395, 'e'},
        {0x396, 'z'},
        {0x397, 'h'},
        {0x399, 'i'},
        {0x39A, 'k'},
        {0x39C, 'm'},
        {0x39D, 'n'},
        {0x39F, 'o'},
        {0x3A1, 'p'},
        {0x3A4, 't'},
        {0x3A5, 'y'},
        {0x3A7, 'x'},
        {0x3B1, 'a'},
        {0x3B3, 'y'},
        {0x3B5, 'e'},
        {0x3B9, 'i'},
        {0x3BA, 'k'},
        {0x3BD, 'v'},
        {0x3BF, 'o'},
        {0x3C1, 'p'},
        {0x3C4, 't'},
        {0x3C5, 'u'},
        {0x3C7, 'x'},
        {0x3C9, 'w'},
        {0x3DC, 'f'},
        {0x3F2, 'c'},
        {0x3F3, 'j'},
        // Cyrillic
        {0x400, 'e'},
        {0x401, 'e'},
        {0x405, 's'},
        {0x406, 'i'},
        {0x407, 'i'},
        {0x408, 'j'},
        {0x410, 'a'},
        {0x412, 'b'},
        {0x415, 'e'},
        {0x41A, 'k'},
        {0x41C, 'm'},
        {0x41D, 'h'},
        {0x41E, 'o'},
        {0x420, 'p'},
        {0x421, 'c'},
        {0x422, 't'},
        {0x423, 'y'},
        {0x425, 'x'},
        {0x430, 'a'},
        {0x435, 'e'},
        {0x43A, 'k'},
        {0x43E, 'o'},
        {0x440, 'p'},
        {0x441, 'c'},
        {0x443, 'y'},
        {0x445, 'x'},
        {0x450, 'e'},
        {0x451, 'e'},
        {0x455, 's'},
        {0x456, 'i'},
        {0x457, 'i'},
        {0x458, 'j'},
        {0x4AE, 'y'},
        {0x4AF, 'y'},
        {0x4BA, 'h'},
        {0x4BB, 'h'},
        {0x4C0, 'l'},
        {0x4CF, 'l'},
        {0x501, 'd'},
        {0x51A, 'q'},
        {0x51B, 'q'},
        {0x51C, 'w'},
        {0x51D, 'w'},
        // Armenian
        {0x570, 'h'},
        {0x578, 'n'},
        {0x57D, 'u'},
        {0x585, 'o'},
    };
    for (const Pair& p : conf) t[p.cp - kTableBase] = static_cast<uint8_t>(kConf | p.ch);
    return t;
}
constexpr std::array<uint8_t, kTableEnd - kTableBase> kFold2 = make_fold2();

// Letterlike symbols U+2100..U+214F that are styled Latin letters.
char letterlike(uint32_t cp) {
    switch (cp) {
        case 0x2102:
        case 0x212D:
            return 'c';
        case 0x210A:
            return 'g';
        case 0x210B:
        case 0x210C:
        case 0x210D:
        case 0x210E:
        case 0x210F:
            return 'h';
        case 0x2110:
        case 0x2111:
        case 0x2139:
        case 0x2148:
            return 'i';
        case 0x2112:
        case 0x2113:
            return 'l';
        case 0x2115:
            return 'n';
        case 0x2119:
            return 'p';
        case 0x211A:
            return 'q';
        case 0x211B:
        case 0x211C:
        case 0x211D:
            return 'r';
        case 0x2124:
        case 0x2128:
            return 'z';
        case 0x212A:
            return 'k';
        case 0x212B:
            return 'a';
        case 0x212C:
            return 'b';
        case 0x212F:
        case 0x2130:
        case 0x2147:
            return 'e';
        case 0x2131:
            return 'f';
        case 0x2133:
            return 'm';
        case 0x2134:
            return 'o';
        case 0x2145:
        case 0x2146:
            return 'd';
        case 0x2149:
            return 'j';
        default:
            return 0;
    }
}

bool hex4(const uint8_t* p, uint32_t& v) {
    v = 0;
    for (int i = 0; i < 4; ++i) {
        const uint8_t c = p[i];
        uint32_t d = 0;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return false;
        }
        v = v << 4 | d;
    }
    return true;
}

class Normalizer {
  public:
    Normalizer(std::string_view in, Encoding enc, char* out, NormStats& st, Base64Spans* b64)
        : beg_(reinterpret_cast<const uint8_t*>(in.data())),
          p_(beg_),
          end_(beg_ + in.size()),
          base_(out),
          o_(out),
          st_(st),
          b64_(b64),
          json_(enc == Encoding::json_string) {}

    // The ASCII fast path keeps its state in locals (stores through char* would otherwise force
    // member reloads); anything rare goes through the member functions below.
    std::size_t run() {
        const uint8_t* p = p_;
        const uint8_t* const end = end_;
        char* o = o_;
        uint8_t pend = 0;
        bool rare = false;
        const uint8_t* b64_start = nullptr;
        std::size_t b64_len = 0;
        uint8_t b64_bits = 0;
        auto sync = [&] {
            p_ = p;
            o_ = o;
            pend_ = pend;
        };
        auto load = [&] {
            p = p_;
            o = o_;
            pend = pend_;
            rare = inv_pend_ != 0 || in_tag_ || flag_;
        };
        while (p < end) {
            const uint8_t c = *p;
            if (c >= 0x80) {
                if (b64_len != 0) {
                    close_b64(b64_start, b64_len, b64_bits);
                    b64_len = 0;
                    b64_bits = 0;
                }
                sync();
                multibyte();
                load();
                continue;
            }
            const uint8_t f = kCls[c];
            if (f & kB64) {
                if (b64_len++ == 0) b64_start = p;
                b64_bits |= f;
            } else if (b64_len != 0) {
                close_b64(b64_start, b64_len, b64_bits);
                b64_len = 0;
                b64_bits = 0;
            }
            ++p;
            if (rare || ((f & kBs) && json_)) {
                sync();
                if (flag_) end_flag();
                raw_ascii(c, f);
                load();
                continue;
            }
            if (f & kWs) {
                pend |= (f & kNl) ? 2 : 1;
                continue;
            }
            if (pend) {
                if (o != base_) *o++ = (pend & 2) ? '\n' : ' ';
                pend = 0;
            }
            *o++ = kFold[c];
        }
        if (b64_len != 0) close_b64(b64_start, b64_len, b64_bits);
        sync();
        if (flag_) end_flag();
        finish_conf();
        return static_cast<std::size_t>(o_ - base_);
    }

  private:
    static bool alnum(char ch) { return (kOut[static_cast<uint8_t>(ch)] & kAlnum) != 0; }
    static bool word_byte(char ch) {
        const auto b = static_cast<uint8_t>(ch);
        return b >= 0x80 || (kOut[b] & kAlnum) != 0;
    }

    // ---- output ----

    void emit(char ch) {
        if (pend_ | inv_pend_ | in_tag_) prefix(false, alnum(ch));
        *o_++ = ch;
    }

    // Separator, tag-run boundary and invisible-in-word bookkeeping before an output character.
    void prefix(bool tag, bool alnum_next) {
        if (in_tag_ != tag) {
            pend_ |= 1;
            in_tag_ = tag;
        }
        if (pend_) {
            if (o_ != base_) *o_++ = (pend_ & 2) ? '\n' : ' ';
            pend_ = 0;
        }
        if (inv_pend_) {
            if (alnum_next && o_ != base_ && alnum(o_[-1])) st_.invisible_in_word += inv_pend_;
            inv_pend_ = 0;
        }
    }

    // A look-alike letter: recorded so that its word can be checked for mixed scripts.
    void emit_conf(char ch) {
        if (pend_ | inv_pend_ | in_tag_) prefix(false, true);
        const char* ws = o_;
        while (ws > base_ && word_byte(ws[-1]) && o_ - ws < 64) --ws;
        const auto word = static_cast<std::size_t>(ws - base_);
        if (conf_n_ == 0 || word != conf_word_) {
            finish_conf();
            conf_word_ = word;
        }
        if (conf_n_ < kMaxConf) conf_pos_[conf_n_] = static_cast<std::size_t>(o_ - base_);
        ++conf_n_;
        *o_++ = ch;
    }

    // The word holding the recorded look-alikes counts as mixed-script when it also has ASCII
    // letters of its own (from ASCII or folded Latin forms) and no other non-ASCII letters.
    void finish_conf() {
        if (conf_n_ == 0) return;
        bool latin = false;
        bool other = false;
        std::size_t k = 0;
        const std::size_t known = conf_n_ < kMaxConf ? conf_n_ : kMaxConf;
        for (const char* q = base_ + conf_word_; q < o_ && word_byte(*q); ++q) {
            const auto b = static_cast<uint8_t>(*q);
            if (b >= 0x80) {
                other = true;
                break;
            }
            if (!(kOut[b] & kLetter)) continue;
            if (k < known && base_ + conf_pos_[k] == q) {
                ++k;
            } else if (k >= known && conf_n_ > kMaxConf) {
                continue;  // positions not recorded: do not guess
            } else {
                latin = true;
            }
        }
        if (latin && !other) {
            ++st_.mixed_script_words;
            st_.homoglyphs += conf_n_;
        }
        conf_n_ = 0;
    }

    // Copies a character we do not fold (its UTF-8 bytes).
    void copy(uint32_t cp, const uint8_t* src, int len) {
        if (pend_ | inv_pend_ | in_tag_) prefix(false, false);
        if (src != nullptr) {
            std::memcpy(o_, src, static_cast<std::size_t>(len));
            o_ += len;
        } else if (cp < 0x800) {
            *o_++ = static_cast<char>(0xC0 | (cp >> 6));
            *o_++ = static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            *o_++ = static_cast<char>(0xE0 | (cp >> 12));
            *o_++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            *o_++ = static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            *o_++ = static_cast<char>(0xF0 | (cp >> 18));
            *o_++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            *o_++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            *o_++ = static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    void invisible() {
        ++st_.invisible;
        ++inv_pend_;
    }

    void invalid() {
        ++st_.invalid_utf8;
        pend_ |= 1;
    }

    // ---- ASCII ----

    // c was consumed from the raw input (so a backslash may start a JSON escape).
    void raw_ascii(uint8_t c, uint8_t f) {
        if (f & kWs) {
            pend_ |= (f & kNl) ? 2 : 1;
        } else if ((f & kBs) && json_) {
            escape();
        } else {
            emit(kFold[c]);
        }
    }

    // An ASCII character that did not come from the raw input (escape, fullwidth form).
    void ascii(uint8_t c) {
        const uint8_t f = kCls[c];
        if (f & kWs) {
            pend_ |= (f & kNl) ? 2 : 1;
        } else {
            emit(kFold[c]);
        }
    }

    void escape() {  // p_ is just past the backslash
        if (p_ >= end_) {
            emit('\\');
            return;
        }
        const uint8_t e = *p_;
        switch (e) {
            case 'n':
            case 'r':
            case 'f':
                ++p_;
                pend_ |= 2;
                return;
            case 't':
            case 'b':
                ++p_;
                pend_ |= 1;
                return;
            case '"':
            case '\\':
            case '/':
                ++p_;
                emit(static_cast<char>(e));
                return;
            case 'u':
                break;
            default:
                emit('\\');  // malformed escape: kept literally, the next byte is read as text
                return;
        }
        uint32_t u = 0;
        if (end_ - p_ < 5 || !hex4(p_ + 1, u)) {
            emit('\\');
            return;
        }
        p_ += 5;
        if (u >= 0xD800 && u <= 0xDBFF) {
            uint32_t lo = 0;
            if (end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u' && hex4(p_ + 2, lo) &&
                lo >= 0xDC00 && lo <= 0xDFFF) {
                p_ += 6;
                codepoint(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00), nullptr, 0);
                return;
            }
            invalid();
            return;
        }
        if (u >= 0xDC00 && u <= 0xDFFF) {
            invalid();
            return;
        }
        codepoint(u, nullptr, 0);
    }

    // ---- multi-byte UTF-8 ----

    void multibyte() {
        const uint8_t c0 = *p_;
        const std::size_t left = static_cast<std::size_t>(end_ - p_);
        auto cont = [&](std::size_t i) { return i < left && (p_[i] & 0xC0) == 0x80; };
        uint32_t cp = 0;
        int len = 0;
        if (c0 >= 0xC2 && c0 < 0xE0) {
            if (cont(1)) {
                cp = (uint32_t{c0} & 0x1F) << 6 | (p_[1] & 0x3F);
                len = 2;
            }
        } else if (c0 >= 0xE0 && c0 < 0xF0) {
            if (cont(1) && cont(2) && !(c0 == 0xE0 && p_[1] < 0xA0) &&
                !(c0 == 0xED && p_[1] >= 0xA0)) {
                cp = (uint32_t{c0} & 0x0F) << 12 | (uint32_t{p_[1]} & 0x3F) << 6 | (p_[2] & 0x3F);
                len = 3;
            }
        } else if (c0 >= 0xF0 && c0 < 0xF5) {
            if (cont(1) && cont(2) && cont(3) && !(c0 == 0xF0 && p_[1] < 0x90) &&
                !(c0 == 0xF4 && p_[1] >= 0x90)) {
                cp = (uint32_t{c0} & 0x07) << 18 | (uint32_t{p_[1]} & 0x3F) << 12 |
                     (uint32_t{p_[2]} & 0x3F) << 6 | (p_[3] & 0x3F);
                len = 4;
            }
        }
        if (len == 0) {  // stray continuation, overlong, surrogate, > U+10FFFF or truncated
            if (flag_) end_flag();
            ++p_;
            invalid();
            return;
        }
        const uint8_t* src = p_;
        p_ += len;
        codepoint(cp, src, len);
    }

    void codepoint(uint32_t cp, const uint8_t* src, int len) {
        if (flag_ && !(cp >= 0xE0000 && cp <= 0xE007F)) end_flag();
        if (cp < 0x80) {
            ascii(static_cast<uint8_t>(cp));
        } else if (cp < 0x800) {
            two_byte(cp, src, len);
        } else if (cp < 0x10000) {
            three_byte(cp, src, len);
        } else {
            four_byte(cp, src, len);
        }
    }

    void two_byte(uint32_t cp, const uint8_t* src, int len) {
        if (cp < 0xC0) {
            if (cp == 0x85) {
                pend_ |= 2;  // NEL
            } else if (cp <= 0xA0) {
                pend_ |= 1;  // C1 controls, no-break space
            } else if (cp == 0xAD) {
                ++st_.invisible;  // soft hyphen: legitimate inside words, not an in-word signal
            } else {
                copy(cp, src, len);
            }
            return;
        }
        if (cp >= 0x300 && cp <= 0x36F) {
            if (cp == 0x34F) {  // combining grapheme joiner
                invisible();
                return;
            }
            ++st_.combining_marks;
            if (last_mark_ == o_) ++st_.stacked_marks;  // no output since the previous mark
            last_mark_ = o_;
            return;
        }
        if (cp == 0x61C) {  // Arabic letter mark
            invisible();
            return;
        }
        if (cp < kTableEnd) {
            const uint8_t v = kFold2[cp - kTableBase];
            if (v == 0) {
                copy(cp, src, len);
            } else if (v & kConf) {
                emit_conf(static_cast<char>(v & 0x7F));
            } else {
                ++st_.diacritics;
                if (v >= 'a') {
                    emit(static_cast<char>(v));
                } else {
                    emit(kMulti[v][0]);
                    emit(kMulti[v][1]);
                }
            }
            return;
        }
        copy(cp, src, len);
    }

    void three_byte(uint32_t cp, const uint8_t* src, int len) {
        if (cp < 0x2000) {
            if (cp == 0x115F || cp == 0x1160 || cp == 0x180E) {
                invisible();
            } else if (cp == 0x1680) {
                pend_ |= 1;
            } else {
                copy(cp, src, len);
            }
            return;
        }
        if (cp < 0x2070) {
            if (cp <= 0x200A || cp == 0x202F || cp == 0x205F) {
                pend_ |= 1;  // typographic spaces
            } else if (cp <= 0x200F || (cp >= 0x2060 && cp <= 0x2064)) {
                invisible();  // zero-width space/joiners, LRM/RLM, word joiner, invisible ops
            } else if (cp <= 0x2015) {
                emit('-');
            } else if (cp >= 0x2018 && cp <= 0x201B) {
                emit('\'');
            } else if (cp >= 0x201C && cp <= 0x201F) {
                emit('"');
            } else if (cp == 0x2028 || cp == 0x2029) {
                pend_ |= 2;
            } else if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
                ++st_.bidi;
                ++inv_pend_;
            } else {
                copy(cp, src, len);
            }
            return;
        }
        if (cp >= 0x2100 && cp < 0x2150) {
            if (const char ch = letterlike(cp)) {
                ++st_.styled;
                emit(ch);
            } else {
                copy(cp, src, len);
            }
            return;
        }
        if (cp >= 0x24B6 && cp <= 0x24E9) {  // circled letters
            ++st_.styled;
            emit(static_cast<char>('a' + (cp - 0x24B6) % 26));
            return;
        }
        if (cp < 0xFE00) {
            if (cp == 0x3000) {
                pend_ |= 1;
            } else if (cp == 0x3164) {
                invisible();  // Hangul filler
            } else {
                copy(cp, src, len);
            }
            return;
        }
        if (cp <= 0xFE0F) {
            ++st_.variation_selectors;
            ++inv_pend_;
            return;
        }
        if (cp == 0xFEFF || cp == 0xFFA0) {
            invisible();
            return;
        }
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            ++st_.fullwidth;
            ascii(static_cast<uint8_t>(cp - 0xFEE0));
            return;
        }
        copy(cp, src, len);
    }

    void four_byte(uint32_t cp, const uint8_t* src, int len) {
        if (cp >= 0x1D400 && cp <= 0x1D7FF) {  // Mathematical Alphanumeric Symbols
            char ch = 0;
            if (cp <= 0x1D6A3) {
                const uint32_t r = (cp - 0x1D400) % 52;
                ch = static_cast<char>('a' + (r < 26 ? r : r - 26));
            } else if (cp == 0x1D6A4) {
                ch = 'i';
            } else if (cp == 0x1D6A5) {
                ch = 'j';
            } else if (cp >= 0x1D7CE) {
                ch = static_cast<char>('0' + (cp - 0x1D7CE) % 10);
            }
            if (ch != 0) {
                ++st_.styled;
                emit(ch);
            } else {
                copy(cp, src, len);  // math Greek
            }
            return;
        }
        if (cp >= 0x1F130 && cp <= 0x1F189) {  // squared / negative circled / negative squared
            const uint32_t off = (cp - 0x1F130) % 32;
            if (off < 26) {
                ++st_.styled;
                emit(static_cast<char>('a' + off));
            } else {
                copy(cp, src, len);
            }
            return;
        }
        if (cp >= 0xE0000 && cp <= 0xE007F) {
            tag(cp);
            return;
        }
        if (cp >= 0xE0100 && cp <= 0xE01EF) {
            ++st_.vs_supplement;
            ++inv_pend_;
            return;
        }
        copy(cp, src, len);
        if (cp == 0x1F3F4) {  // waving black flag: may start an emoji tag sequence
            flag_ = true;
            nstash_ = 0;
        }
    }

    // ---- tag characters ----

    void tag(uint32_t cp) {
        if (flag_) {
            const bool flag_char =
                (cp >= 0xE0030 && cp <= 0xE0039) || (cp >= 0xE0061 && cp <= 0xE007A);
            if (flag_char && nstash_ < sizeof(stash_)) {
                stash_[nstash_++] = static_cast<char>(cp - 0xE0000);
                return;
            }
            if (cp == 0xE007F && nstash_ > 0) {  // a complete flag (England, Scotland, ...)
                flag_ = false;
                nstash_ = 0;
                return;
            }
            end_flag();
        }
        ++st_.tag_chars;
        if (cp >= 0xE0020 && cp <= 0xE007E) tag_ascii(static_cast<uint8_t>(cp - 0xE0000));
    }

    void tag_ascii(uint8_t c) {
        if (c == ' ') {
            in_tag_ = true;
            pend_ |= 1;
            return;
        }
        const char ch = kFold[c];
        if (pend_ | inv_pend_ | !in_tag_) prefix(true, alnum(ch));
        *o_++ = ch;
    }

    // Not a flag after all: the stashed tag characters are smuggled text.
    void end_flag() {
        flag_ = false;
        const uint8_t n = nstash_;
        nstash_ = 0;
        for (uint8_t i = 0; i < n; ++i) {
            ++st_.tag_chars;
            tag_ascii(static_cast<uint8_t>(stash_[i]));
        }
    }

    // ---- base64 runs ----

    void close_b64(const uint8_t* start, std::size_t len, uint8_t bits) {
        if (len >= kMinBase64Run && (bits & kUp) && (bits & kLo)) {
            ++st_.base64_runs;
            const auto b = static_cast<std::size_t>(start - beg_);
            if (b64_ != nullptr && b64_->n < kMaxBase64Spans && b + len <= UINT32_MAX) {
                b64_->span[b64_->n++] =
                    Base64Span{static_cast<uint32_t>(b), static_cast<uint32_t>(b + len)};
            }
        }
    }

    static constexpr std::size_t kMaxConf = 32;

    const uint8_t* beg_;
    const uint8_t* p_;
    const uint8_t* end_;
    char* base_;
    char* o_;
    NormStats& st_;
    Base64Spans* b64_;
    bool json_;

    uint8_t pend_ = 0;  // pending separator: 1 space, 2 (or 3) newline
    uint32_t inv_pend_ = 0;
    bool in_tag_ = false;
    const char* last_mark_ = nullptr;  // output position at the last combining mark
    // look-alikes in the current candidate word (output offsets)
    std::size_t conf_word_ = 0;
    std::size_t conf_n_ = 0;
    std::array<std::size_t, kMaxConf> conf_pos_{};
    // emoji tag sequence after U+1F3F4
    bool flag_ = false;
    uint8_t nstash_ = 0;
    char stash_[7] = {};
};

}  // namespace

std::size_t normalize_raw(std::string_view in, Encoding enc, char* out, NormStats& st,
                          Base64Spans* b64) {
    return Normalizer(in, enc, out, st, b64).run();
}

}  // namespace detail

void NormStats::merge(const NormStats& o) {
    invisible += o.invisible;
    invisible_in_word += o.invisible_in_word;
    bidi += o.bidi;
    variation_selectors += o.variation_selectors;
    vs_supplement += o.vs_supplement;
    tag_chars += o.tag_chars;
    combining_marks += o.combining_marks;
    stacked_marks += o.stacked_marks;
    homoglyphs += o.homoglyphs;
    mixed_script_words += o.mixed_script_words;
    fullwidth += o.fullwidth;
    styled += o.styled;
    diacritics += o.diacritics;
    invalid_utf8 += o.invalid_utf8;
    base64_runs += o.base64_runs;
    base64_text += o.base64_text;
    leet_words += o.leet_words;
}

void normalize(std::string_view in, std::string& out, NormStats* stats, Encoding enc) {
    NormStats local;
    out.resize(in.size() + 1);
    const std::size_t n =
        detail::normalize_raw(in, enc, out.data(), stats != nullptr ? *stats : local, nullptr);
    out.resize(n);
}

std::string normalize(std::string_view utf8, NormStats* stats, Encoding enc) {
    std::string out;
    normalize(utf8, out, stats, enc);
    return out;
}

}  // namespace baton::guard
