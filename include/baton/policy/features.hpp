#pragma once
// Request features for routing: a fast token estimate and a complexity score, computed once per
// request from the hot-path scan (openai::ChatRequest) and the original body.
//
// Everything here is pure and allocation-free on the hot path: one pass over the message text
// spans (raw JSON string contents, escapes decoded on the fly), no regex, no DOM.
// docs/routing.md documents the estimator (method, calibration, measured error) and the
// complexity formula.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "baton/openai/chat_request.hpp"

namespace baton::policy {

// Raw counts from one pass over a text (the inputs of the token estimate and of the complexity
// score). Counts are per decoded character: JSON escapes (\n, \", \uXXXX) are decoded first.
struct TextStats {
    uint32_t bytes = 0;  // decoded bytes (UTF-8)
    // Token-estimator inputs.
    uint32_t words = 0;             // ASCII letter runs (camelCase humps split)
    uint32_t word_chars_over4 = 0;  // sum over words of max(0, len - 4)
    uint32_t word_chars_over8 = 0;  // sum over words of max(0, len - 8)
    uint32_t caps_words = 0;        // all-capitals words of 2+ letters
    uint32_t digit_groups = 0;      // digit runs split in groups of 3 (as cl100k/o200k do)
    uint32_t punct = 0;             // ASCII punctuation characters
    uint32_t punct_runs = 0;        // maximal runs of punctuation
    uint32_t newline_runs = 0;      // runs of blank/newline characters containing a newline
    uint32_t blank_runs = 0;        // runs of 2+ spaces/tabs (indentation), single spaces are free
    uint32_t nonascii2 = 0;         // 2-byte UTF-8 characters (Latin-1 sup., Greek, Cyrillic, ...)
    uint32_t nonascii3 = 0;         // 3-byte characters (CJK, symbols)
    uint32_t nonascii4 = 0;         // 4-byte characters (emoji, rare CJK)
    // Complexity signals.
    uint32_t code_fences = 0;       // ``` markers
    uint32_t backticks = 0;         // single ` characters (inline code)
    uint32_t code_punct = 0;        // { } ; < > = ( ) [ ] characters
    uint32_t code_words = 0;        // function, class, implement, compile, sql, regex, ...
    uint32_t math = 0;              // ^, Greek letters, U+2190..U+22FF symbols, LaTeX commands
    uint32_t math_words = 0;        // theorem, lemma, integral, equation, matrix, ...
    uint32_t list_items = 0;        // lines starting with "1." / "2)" / "- " / "* "
    uint32_t step_phrases = 0;      // "step by step", "first ... then", "finally", "next", ...
    uint32_t strong_reasoning = 0;  // prove, proof, derive, derivation, rigorous, ...
    uint32_t reasoning = 0;         // analyze, compare, explain why, trade-offs, justify, ...
    uint32_t questions = 0;         // '?' characters
    uint32_t constraints = 0;       // must, at least, at most, without, exactly, never, ...
};

// One pass over a raw JSON string content (as in openai::ChatRequest::text_spans). `into` is
// accumulated, so several spans of one message can be scanned into the same TextStats.
void scan_text(std::string_view raw_json_text, TextStats& into);

TextStats& operator+=(TextStats& a, const TextStats& b);

// The stats of texts seen before, by content. A system prompt comes back with every request of
// an application, and a chat resends its whole history with every turn: each such text is
// scanned once, then costs a hash and a comparison of its bytes (a hit is exact: the bytes are
// kept and compared, no hash collision can hand one text another's stats). Direct-mapped,
// kSlots entries of texts of kMinBytes..kMaxBytes (at most kSlots * kMaxBytes = 1 MiB of
// copies); an entry is replaced by the next text that maps to its slot. Not thread-safe: one
// per worker (proxy::Pipeline).
class ScanCache {
  public:
    static constexpr size_t kSlots = 64;
    static constexpr size_t kMinBytes = 64;  // shorter texts: scanning is as cheap as a lookup
    static constexpr size_t kMaxBytes = 16 * 1024;

    // into += the stats of `raw_json_text` (as scan_text).
    void scan(std::string_view raw_json_text, TextStats& into);
    uint64_t hits() const { return hits_; }
    uint64_t misses() const { return misses_; }

  private:
    struct Entry {
        size_t hash = 0;
        std::string text;
        TextStats stats;
    };
    std::array<Entry, kSlots> entries_{};
    uint64_t hits_ = 0;
    uint64_t misses_ = 0;
};

// Token estimate of a text from its stats (calibrated against cl100k_base/o200k_base; see
// docs/routing.md for the weights and the measured error). No per-message overhead.
double estimate_tokens(const TextStats& s);
// Convenience: scan + estimate, rounded to the nearest integer (at least 1 for non-empty text).
uint32_t estimate_tokens(std::string_view raw_json_text);

// Per-signal terms of the complexity score, each in [0,1] (kept for explain output).
struct ComplexityTerms {
    double length = 0;
    double code = 0;
    double math = 0;
    double steps = 0;
    double reasoning = 0;
    double questions = 0;
    double constraints = 0;
};

// Complexity in [0,1]. Each text's score is a noisy-OR of its terms,
//   c = 1 - prod_i (1 - w_i * term_i)
// and the conversation counts for a quarter of what the last user message leaves:
//   complexity = c(last) + 0.25 * c(rest) * (1 - c(last))
// (weights and term formulas in docs/routing.md). `terms` receives the last message's terms.
double complexity_from(const TextStats& last, const TextStats& rest, ComplexityTerms* terms);
// Convenience: complexity of one text treated as the last user message.
double complexity_score(std::string_view raw_json_text);

// Default output reserve for the context filter when the request has no max_tokens.
inline constexpr uint32_t kDefaultOutputReserve = 1024;
// Tokens added per image part (gpt-4o high detail 1024x1024: 85 + 4 * 170).
inline constexpr uint32_t kTokensPerImage = 765;
// Per-message overhead (OpenAI's accounting: <|start|>role ... <|end|> = 4 per message) and the
// reply priming (3).
inline constexpr uint32_t kTokensPerMessage = 4;
inline constexpr uint32_t kTokensReplyPriming = 3;

struct Features {
    // Estimated prompt tokens: text + tools + images + message overhead.
    uint32_t prompt_tokens = 0;
    uint32_t text_tokens = 0;            // message texts only
    uint32_t tools_tokens = 0;           // the "tools"/"functions" JSON value, estimated as text
    uint32_t image_tokens = 0;           // images * kTokensPerImage
    uint32_t overhead_tokens = 0;        // messages * kTokensPerMessage + kTokensReplyPriming
    uint32_t last_user_tokens = 0;       // text tokens of the last user message
    std::optional<uint32_t> max_tokens;  // requested max_tokens / max_completion_tokens
    bool tools = false;
    bool images = false;
    uint32_t image_count = 0;
    bool json_schema = false;  // response_format json_schema
    bool json_object = false;  // response_format json_object
    bool stream = false;
    uint32_t message_count = 0;
    double complexity = 0;  // [0,1]
    ComplexityTerms complexity_terms;
};

// Computes the features of a scanned request. `body` is the body `req`'s spans point into.
// The last user message is located from the "role" member preceding each text span; when roles
// cannot be found the last text span stands for it. With a `cache`, the texts before the last
// user message (system prompt, history) are looked up there; the last user message, the new
// part of a request, is always scanned.
Features extract_features(const openai::ChatRequest& req, std::string_view body,
                          ScanCache* cache = nullptr);

}  // namespace baton::policy
