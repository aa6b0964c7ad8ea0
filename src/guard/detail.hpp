#pragma once
// Internals shared by normalize.cpp, rules.cpp and injection.cpp (not a public header).
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "baton/guard/injection.hpp"

namespace baton::guard::detail {

// ---- normaliser -----------------------------------------------------------------------------

inline constexpr uint32_t kMinBase64Run = 24;
inline constexpr uint32_t kMaxBase64Spans = 4;

struct Base64Span {
    uint32_t begin = 0;  // byte offsets into the raw input
    uint32_t end = 0;
};
struct Base64Spans {
    std::array<Base64Span, kMaxBase64Spans> span{};
    uint32_t n = 0;
};

// Normalises `in` into `out`, which must have room for in.size() + 1 bytes. Returns the length
// written (<= in.size()). Counts go to `st` (added); base64 candidate runs to `b64` if non-null.
std::size_t normalize_raw(std::string_view in, Encoding enc, char* out, NormStats& st,
                          Base64Spans* b64);

// ---- compiled rules -------------------------------------------------------------------------

inline constexpr std::size_t kMaxRules = 128;
inline constexpr std::size_t kWindow = 32;  // words kept for backward matching (power of two)
inline constexpr std::size_t kMaxWordLen = 24;
inline constexpr uint8_t kMaxGap = 8;

// Rules implemented in code (not by a phrase pattern); their slots in Impl::code_rule.
enum class CodeRule : uint8_t {
    system_turn,
    chat_token,
    special_token,
    eos_token,
    system_tag,
    fake_system_line,
    fake_assistant_line,
    markdown_role,
    tag_chars,
    invisible_in_word,
    bidi_control,
    mixed_script,
    leetspeak,
    variation_selectors,
    stacked_marks,
    styled_text,
    base64_payload,
    image_url_template,
    image_url_query,
    count_
};
inline constexpr std::size_t kCodeRuleCount = static_cast<std::size_t>(CodeRule::count_);

struct Rule {
    std::string id;
    Category category = Category::instruction_override;
    double strength = 1.0;
    bool enabled = true;
};

// A set of accepted words: a term id whose bit is set in each accepted word's vocabulary entry,
// or "any word".
struct Matcher {
    uint32_t term = 0;
    bool any = false;
};

struct Term {
    Matcher m;
    bool need_colon = false;
    bool line_start = false;
};

struct Gap {
    Matcher m;
    uint8_t max = 0;
};

struct Pattern {
    uint16_t rule = 0;
    std::vector<Term> terms;  // in text order
    std::vector<Gap> gaps;    // gaps[i]: between terms[i-1] and terms[i]; gaps[0] unused
};

// Vocabulary hash-table slot: (hash & kSlotTagMask) | id; 0 is empty.
inline constexpr uint32_t kSlotIdBits = 12;
inline constexpr uint32_t kMaxVocab = (1u << kSlotIdBits) - 1;
inline constexpr uint32_t kSlotTagMask = ~kMaxVocab;

// A word of up to kMaxWordLen bytes as three masked 8-byte loads (bytes past the end are 0).
struct WordKey {
    uint64_t a = 0;
    uint64_t b = 0;
    uint64_t c = 0;
    bool operator==(const WordKey&) const = default;
};

// Reads 24 bytes from w: callers guarantee they are readable (the scan buffer has zeroed slack).
inline WordKey word_key(const char* w, std::size_t len) {
    auto mask = [](std::size_t n) -> uint64_t {
        if (n >= 8) return ~uint64_t{0};
        if (n == 0) return 0;
        if constexpr (std::endian::native == std::endian::little) {
            return (uint64_t{1} << (8 * n)) - 1;
        } else {
            return ~((uint64_t{1} << (8 * (8 - n))) - 1);
        }
    };
    WordKey k;
    std::memcpy(&k.a, w, 8);
    std::memcpy(&k.b, w + 8, 8);
    std::memcpy(&k.c, w + 16, 8);
    k.a &= mask(len);
    k.b &= mask(len > 8 ? len - 8 : 0);
    k.c &= mask(len > 16 ? len - 16 : 0);
    return k;
}

// Multiply-shift hash (the top 32 bits of one product).
inline uint32_t key_hash(const WordKey& k, std::size_t len) {
    const uint64_t x = k.a ^ std::rotl(k.b, 21) ^ std::rotl(k.c, 42) ^ (uint64_t{len} << 59);
    return static_cast<uint32_t>((x * 0x9E3779B97F4A7C15ull) >> 32);
}

// Word ids with a special meaning in code-level detectors.
enum class RoleWord : uint8_t { none, system, assistant, heading };

// Everything the scan loop needs about a vocabulary word, in one place.
struct VocabEntry {
    WordKey key;
    uint32_t last_begin = 0;  // patterns whose last term accepts the word:
    uint32_t last_end = 0;    // Impl::last_patterns[last_begin, last_end)
    uint8_t len = 0;
    RoleWord role = RoleWord::none;
};

struct Impl {
    GuardConfig cfg;
    CategorySet enabled;
    std::vector<Rule> rules;
    std::vector<Pattern> patterns;
    std::array<int16_t, kCodeRuleCount> code_rule{};  // rule index, -1 when disabled

    // Vocabulary: id 0 is "unknown word".
    std::vector<std::string> words;
    std::vector<VocabEntry> vocab;  // per id
    std::vector<uint32_t> table;    // open addressing (slots above), size is a power of two
    uint32_t table_mask = 0;
    uint32_t term_words = 1;              // uint64 words of term bits per vocabulary entry
    std::vector<uint64_t> term_bits;      // [id * term_words + t / 64] bit t % 64
    std::vector<uint16_t> last_patterns;  // see VocabEntry

    bool accepts(const Matcher& m, uint16_t id) const {
        return m.any ||
               ((term_bits[std::size_t{id} * term_words + m.term / 64] >> (m.term % 64)) & 1u) != 0;
    }
    // Vocabulary id of the word at w (reads 24 bytes), 0 when unknown. len <= kMaxWordLen.
    uint16_t lookup(const char* w, std::size_t len) const {
        const WordKey k = word_key(w, len);
        const uint32_t h = key_hash(k, len);
        for (uint32_t slot = h & table_mask;; slot = (slot + 1) & table_mask) {
            const uint32_t v = table[slot];
            if (v == 0) return 0;
            const auto id = static_cast<uint16_t>(v & kMaxVocab);
            if (((v ^ h) & kSlotTagMask) == 0 && vocab[id].len == len && vocab[id].key == k) {
                return id;
            }
        }
    }

    int16_t code(CodeRule r) const { return code_rule[static_cast<std::size_t>(r)]; }
};

// Builds the rule tables (built-in rules + cfg.extra_rules). Throws ConfigError.
void build_rules(Impl& impl);

}  // namespace baton::guard::detail
