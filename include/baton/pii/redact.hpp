#pragma once
// Reversible redaction with stable placeholders, and streaming restoration.
//
// One Redactor per request: every message text of the request goes through the same Redactor,
// so the same value gets the same placeholder everywhere in the request (`<EMAIL_1>`,
// `<CARD_2>`, ...). Values are compared after light normalisation (emails case-insensitively,
// cards/phones/IBANs/SSNs on their letters and digits only), so "4111 1111 1111 1111" and
// "4111111111111111" share a placeholder. The Mapping holds the original values: it must never be
// logged (it has no stream operator; describe() prints placeholders only).
//
// The Restorer turns placeholders in a response back into values. Feed it the response text in
// whatever chunks arrive (e.g. the concatenated delta.content strings of SSE events): it returns
// what is safe to emit now and holds back only a suffix that could still become a placeholder of
// the mapping, so a placeholder split across chunks is restored whole.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "baton/pii/scanner.hpp"

namespace baton::pii {

class Mapping {
  public:
    struct Entry {
        std::string placeholder;  // "<EMAIL_1>"
        Class cls = Class::email;
        std::string value;  // decoded original (UTF-8), as first seen
    };

    std::size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    const std::vector<Entry>& entries() const { return entries_; }
    // Value for a placeholder, nullptr when unknown.
    const std::string* find(std::string_view placeholder) const;
    // "<EMAIL_1>,<CARD_1>": safe for logs.
    std::string describe() const;

  private:
    friend class Redactor;
    std::vector<Entry> entries_;
    std::unordered_map<std::string, std::size_t> by_placeholder_;
};

class Redactor {
  public:
    // Only findings of `classes` are replaced. `encoding` is the encoding of the texts given to
    // redact() (placeholders are plain ASCII, valid in both encodings).
    explicit Redactor(ClassSet classes = ClassSet::all(),
                      Encoding encoding = Encoding::json_string);

    // Returns `text` with every finding of the configured classes replaced by its placeholder.
    // `findings` must come from scan(text) with the same encoding (sorted, non-overlapping).
    // `redacted`, when given, receives the per-class counts of replaced findings.
    std::string redact(std::string_view text, std::span<const Finding> findings,
                       ClassCounts* redacted = nullptr);
    // Scans (for the configured classes) and redacts.
    std::string redact(std::string_view text, ClassCounts* redacted = nullptr);

    const Mapping& mapping() const { return mapping_; }
    Mapping take_mapping() { return std::move(mapping_); }

  private:
    const std::string& placeholder_for(Class cls, std::string value);

    ClassSet classes_;
    Encoding encoding_;
    Mapping mapping_;
    std::unordered_map<std::string, std::size_t> by_key_;  // normalised value -> entry
    std::array<uint32_t, kClassCount> next_{};
};

class Restorer {
  public:
    // `encoding` is the encoding of the response text: for json_string, values are emitted
    // JSON-escaped and placeholders written with escaped brackets ("\u003cEMAIL_1\u003e", as Go
    // encoders do) are recognised too; an escaped backslash never starts a placeholder.
    explicit Restorer(const Mapping& mapping, Encoding encoding = Encoding::json_string);

    // Appends to `out` the restored text that can be emitted now.
    void feed(std::string_view chunk, std::string& out);
    std::string feed(std::string_view chunk);
    // End of the response: appends the held-back bytes (not a placeholder after all).
    void finish(std::string& out);
    std::string finish();

    std::size_t held() const { return held_.size(); }
    uint64_t restored() const { return restored_; }  // placeholders replaced so far

  private:
    enum class Match { none, partial, full };
    Match match_at(std::string_view buf, std::size_t i, std::size_t& len, std::string& token) const;
    bool is_prefix(std::string_view canon) const;

    Encoding encoding_;
    std::unordered_map<std::string, std::string> values_;  // placeholder -> emitted replacement
    std::vector<std::string> sorted_;                      // placeholders, sorted
    std::size_t max_len_ = 0;
    std::string held_;
    uint64_t restored_ = 0;
};

}  // namespace baton::pii
