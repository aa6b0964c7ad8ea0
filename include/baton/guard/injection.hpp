#pragma once
// Prompt-injection and jailbreak *signals*: cheap heuristics run on every chat request.
//
// Two steps, both single passes with no regex engine:
//   1. normalize(): folds the text an attacker can disguise (zero-width and bidi characters,
//      Unicode tag characters, fullwidth and mathematical letters, Cyrillic/Greek look-alikes,
//      diacritics, case, whitespace runs) and counts what it folded or removed: obfuscation is
//      itself a signal.
//   2. InjectionScanner::scan(): a word-level matcher over the normalised text (a vocabulary
//      hash lookup per word, phrase rules matched backwards from their last word over a
//      32-word window) plus a few punctuation-triggered detectors (chat-template tokens, role
//      lines, markdown image links) and the normaliser's counts.
//
// The result is a set of per-category signals with a weighted score, documented as signals and
// never as a guarantee: paraphrases, other languages and novel encodings are not caught, and text
// that discusses prompt injection can be flagged. docs/security.md lists every rule.
//
// Findings never carry prompt content: Signals holds counts, scores and rule ids (fixed strings
// from the rule table or the configuration), so Signals::to_string() is safe for logs.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace baton::guard {

// How the scanned bytes are encoded.
enum class Encoding : uint8_t {
    plain,        // UTF-8 text
    json_string,  // raw contents of a JSON string literal (escapes as written, \n, \u200b, ...)
};

// ---- normalisation --------------------------------------------------------------------------

// What normalize() folded or removed. Counts of characters unless said otherwise.
struct NormStats {
    uint32_t invisible = 0;            // zero-width/format characters removed (U+200B-U+200F,
                                       // U+2060-U+2064, U+FEFF, U+00AD, U+034F, U+061C, U+180E,
                                       // Hangul fillers)
    uint32_t invisible_in_word = 0;    // invisible, bidi or variation-selector characters found
                                       // between two ASCII letters/digits ("ig<U+200B>nore")
    uint32_t bidi = 0;                 // bidi embedding/override/isolate controls (U+202A-U+202E,
                                       // U+2066-U+2069) removed
    uint32_t variation_selectors = 0;  // U+FE00-U+FE0F removed (normal after emoji)
    uint32_t vs_supplement = 0;        // U+E0100-U+E01EF removed (a byte-smuggling channel)
    uint32_t tag_chars = 0;        // U+E0000-U+E007F outside emoji flag sequences; U+E0020-U+E007E
                                   // are decoded to ASCII so their text is scanned
    uint32_t combining_marks = 0;  // U+0300-U+036F removed
    uint32_t stacked_marks = 0;    // of those, marks beyond the first on one character (Zalgo)
    uint32_t homoglyphs = 0;       // Cyrillic/Greek/IPA look-alikes folded inside words that also
                                   // contain ASCII letters ("ignоre" with a Cyrillic o)
    uint32_t mixed_script_words = 0;  // words counted in `homoglyphs`
    uint32_t fullwidth = 0;           // U+FF01-U+FF5E folded to ASCII
    uint32_t styled = 0;  // mathematical alphanumerics, letterlike symbols, circled/squared letters
    uint32_t diacritics = 0;    // Latin letters with diacritics folded (é -> e): not a signal
    uint32_t invalid_utf8 = 0;  // invalid UTF-8 bytes (or lone \u surrogates) replaced by a space
    uint32_t base64_runs = 0;   // runs of >= 24 base64 characters with both letter cases
    uint32_t base64_text = 0;   // of those, runs that decode to printable ASCII (set by scan())
    uint32_t leet_words = 0;    // words that matched the rule vocabulary only after leetspeak
                                // folding (set by scan())

    void merge(const NormStats& o);
    bool operator==(const NormStats&) const = default;
};

// Normalises `in` into `out` (replacing its contents, reusing its capacity):
//   - removes the invisible characters above and decodes tag characters to ASCII;
//   - folds fullwidth ASCII, mathematical alphanumerics, letterlike symbols, circled/squared
//     letters, common Cyrillic/Greek/Armenian/IPA look-alikes and Latin letters with diacritics
//     (Latin-1 Supplement, Latin Extended-A) to ASCII; typographic quotes and dashes to ' " -;
//   - lower-cases ASCII; collapses each whitespace run to one separator ('\n' when the run
//     contained a line break, else ' '), drops leading and trailing whitespace;
//   - replaces invalid UTF-8 and control characters with a space;
//   - with Encoding::json_string, decodes JSON escapes first (\n, \", \u200b, surrogate pairs).
// Other characters are copied unchanged, so the output is valid UTF-8 and never longer than the
// input. Leetspeak is not folded here: the scanner folds it only when looking words up.
void normalize(std::string_view in, std::string& out, NormStats* stats = nullptr,
               Encoding enc = Encoding::plain);
std::string normalize(std::string_view utf8, NormStats* stats = nullptr,
                      Encoding enc = Encoding::plain);

// ---- categories -----------------------------------------------------------------------------

enum class Category : uint8_t {
    instruction_override,  // "ignore all previous instructions", "new instructions:"
    prompt_leak,           // "print your system prompt", "what were you told"
    roleplay_jailbreak,    // DAN, "developer mode", "you are no longer bound by"
    delimiter_injection,   // <|im_start|>system, [INST], <<SYS>>, fake "system:" lines
    obfuscation,           // tag characters, zero-width inside words, mixed scripts, base64
    exfiltration,          // markdown images with templated query strings, "send the chat to"
};
inline constexpr std::size_t kCategoryCount = 6;

// "instruction_override", "prompt_leak", "roleplay_jailbreak", "delimiter_injection",
// "obfuscation", "exfiltration".
std::string_view category_name(Category c);
// Inverse of category_name(); false when unknown.
bool parse_category(std::string_view name, Category& out);

class CategorySet {
  public:
    constexpr CategorySet() = default;
    static constexpr CategorySet all() { return CategorySet((1u << kCategoryCount) - 1); }
    static constexpr CategorySet none() { return CategorySet(0); }
    constexpr CategorySet& add(Category c) {
        bits_ |= 1u << static_cast<unsigned>(c);
        return *this;
    }
    constexpr bool has(Category c) const { return (bits_ >> static_cast<unsigned>(c)) & 1u; }
    constexpr bool empty() const { return bits_ == 0; }
    constexpr uint32_t bits() const { return bits_; }
    constexpr bool operator==(const CategorySet&) const = default;

  private:
    constexpr explicit CategorySet(uint32_t bits) : bits_(bits) {}
    uint32_t bits_ = 0;
};

// ---- configuration --------------------------------------------------------------------------

// An extra phrase rule from configuration. Pattern syntax (over normalised, lower-case words;
// punctuation is ignored except that a rule never spans a sentence end . ! ? ; or a line break):
//   word            a literal word ("ignore", "don't")
//   @class          a built-in word class: ignore prior own instr fill limits leakverb leakmod
//                   sysadj leaknoun promptnoun send exfilobj exfilmod dest conceal persona
//                   unrestricted
//   a|b|@class      any of the alternatives
//   ^term           the word must be the first on its line
//   term:           the word must be followed by ':'
//   {N:alts}        up to N (<= 8) words in between, each matching one of the alternatives
//   *N              up to N (<= 8) arbitrary words in between
// Terms are adjacent unless a gap is written between them; a rule spans at most 32 words.
// Example: "@ignore {3:@fill} @prior {3:@fill|@prior} @instr".
struct CustomRule {
    std::string id;  // [a-z0-9_.-]{1,64}; reported as is
    Category category = Category::instruction_override;
    double strength = 1.0;  // (0, 1]
    std::string pattern;
};

struct GuardConfig {
    // Signals::suspicious() threshold used by InjectionScanner::suspicious(). With the default
    // weights, 1.0 means "one clear signal"; 0.5 flags weak single signals, 2.0 wants two.
    double threshold = 1.0;
    // Categories to look for (others are neither scanned nor scored).
    std::vector<Category> enabled = {Category::instruction_override, Category::prompt_leak,
                                     Category::roleplay_jailbreak,   Category::delimiter_injection,
                                     Category::obfuscation,          Category::exfiltration};
    // Per-category weight, indexed by Category. A category contributes
    // weight * min(1, sum of the strengths of the distinct rules it matched).
    std::array<double, kCategoryCount> weights = {1.0, 1.0, 1.0, 1.0, 0.5, 1.0};
    bool leetspeak = true;  // look words up again with 0->o 1->i|l 3->e 4->a 5->s 7->t @->a $->s
    bool decode_base64 = true;  // decode base64 runs that decode to ASCII text and scan them
    // Obfuscation thresholds (NormStats counts at which the rule fires).
    uint32_t min_invisible_in_word = 1;
    uint32_t min_mixed_script_words = 1;
    uint32_t min_bidi = 1;
    uint32_t min_vs_supplement = 4;
    uint32_t min_stacked_marks = 8;
    uint32_t min_styled = 8;  // fullwidth + styled
    uint32_t min_leet_words = 2;
    // Rule ids to switch off (unknown ids are a configuration error).
    std::vector<std::string> disabled_rules;
    // Additional phrase rules.
    std::vector<CustomRule> extra_rules;
};

// ---- results --------------------------------------------------------------------------------

struct RuleHit {
    std::string_view id;  // points into the scanner's rule table: valid while the scanner lives
    Category category = Category::instruction_override;
    double strength = 0;
    uint32_t count = 0;  // occurrences
};

struct Signals {
    std::array<uint32_t, kCategoryCount> hits{};          // rule occurrences per category
    std::array<double, kCategoryCount> category_score{};  // weighted contribution per category
    CategorySet categories;                               // categories with a hit
    double score = 0;                                     // sum of category_score
    std::vector<RuleHit> rules;  // distinct rules that matched, in rule-table order
    NormStats norm;              // what normalisation folded or removed

    // score >= threshold (and something matched).
    bool suspicious(double threshold) const { return score > 0 && score >= threshold; }
    bool any() const { return !rules.empty(); }
    uint32_t operator[](Category c) const { return hits[static_cast<std::size_t>(c)]; }
    bool has_rule(std::string_view id) const;
    // "score=1.50 instruction_override=1 obfuscation=2 rules=override.ignore_prior,..."
    // ("score=0.00" when nothing matched). Never contains scanned text.
    std::string to_string() const;
};

namespace detail {
struct Impl;
}

// Immutable once compiled: share one instance across threads without locks (scratch buffers are
// thread_local). Copies share the compiled tables.
class InjectionScanner {
  public:
    // Validates the configuration and builds the tables. Throws ConfigError (control plane
    // only) on a bad threshold/weight, an unknown disabled rule, or a malformed custom rule.
    static InjectionScanner compile(const GuardConfig& cfg = {});

    // Normalises and scans one text (one message). No allocation unless something matched.
    Signals scan(std::string_view text, Encoding enc = Encoding::plain) const;
    // Same, into `out` (reuses out.rules' capacity).
    void scan(std::string_view text, Encoding enc, Signals& out) const;

    double threshold() const;
    bool suspicious(const Signals& s) const { return s.suspicious(threshold()); }
    // Adds `from` (e.g. another message of the same request) into `into` and re-scores.
    void merge(Signals& into, const Signals& from) const;

    struct RuleInfo {
        std::string_view id;
        Category category;
        double strength;
        bool enabled;
    };
    // Every rule (built-in, then custom), enabled or not.
    std::vector<RuleInfo> rules() const;

  private:
    explicit InjectionScanner(std::shared_ptr<const detail::Impl> impl);
    std::shared_ptr<const detail::Impl> impl_;
};

inline InjectionScanner compile(const GuardConfig& cfg = {}) {
    return InjectionScanner::compile(cfg);
}

}  // namespace baton::guard
