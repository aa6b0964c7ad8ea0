// Redactor placeholders and streaming restoration across arbitrary chunk splits.
#include "baton/pii/redact.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "baton/pii/validators.hpp"

namespace baton::pii {
namespace {

TEST(PiiRedactor, StablePlaceholdersPerValue) {
    Redactor r(ClassSet::all(), Encoding::plain);
    ClassCounts counts;
    std::string a = r.redact("mail a@x.com and b@y.org then A@X.com again", &counts);
    EXPECT_EQ(a, "mail <EMAIL_1> and <EMAIL_2> then <EMAIL_1> again");
    EXPECT_EQ(counts[Class::email], 3u);
    // Same Redactor, next message of the same request: numbering continues, values stay.
    std::string b = r.redact("card 4111 1111 1111 1111 / 4111111111111111, b@y.org");
    EXPECT_EQ(b, "card <CARD_1> / <CARD_1>, <EMAIL_2>");
    ASSERT_EQ(r.mapping().size(), 3u);
    EXPECT_EQ(*r.mapping().find("<EMAIL_1>"), "a@x.com");
    EXPECT_EQ(*r.mapping().find("<CARD_1>"), "4111 1111 1111 1111");  // first form seen
    EXPECT_EQ(r.mapping().find("<EMAIL_9>"), nullptr);
    // describe() is for logs: placeholders only.
    EXPECT_EQ(r.mapping().describe(), "<EMAIL_1>,<EMAIL_2>,<CARD_1>");
}

TEST(PiiRedactor, OnlyConfiguredClasses) {
    Redactor r(ClassSet::none().add(Class::card), Encoding::plain);
    EXPECT_EQ(r.redact("a@x.com 4111111111111111 10.0.0.1"), "a@x.com <CARD_1> 10.0.0.1");
}

TEST(PiiRedactor, JsonStringValuesAreDecoded) {
    Redactor r;  // json_string
    std::string out = r.redact("to \\\"john\\u0040example.com\\\"\\nthanks");
    EXPECT_EQ(out, "to \\\"<EMAIL_1>\\\"\\nthanks");
    EXPECT_EQ(*r.mapping().find("<EMAIL_1>"), "john@example.com");
}

// Redacts, then restores the redacted text fed in every possible two-way split and in
// single bytes; the restored text must equal the original every time.
void round_trip(const std::string& original, Encoding enc) {
    Redactor r(ClassSet::all(), enc);
    const std::string redacted = r.redact(original);
    ASSERT_NE(redacted, original);
    for (std::size_t cut = 0; cut <= redacted.size(); ++cut) {
        Restorer rs(r.mapping(), enc);
        std::string out = rs.feed(std::string_view(redacted).substr(0, cut));
        out += rs.feed(std::string_view(redacted).substr(cut));
        out += rs.finish();
        ASSERT_EQ(out, original) << "cut at " << cut;
    }
    Restorer rs(r.mapping(), enc);
    std::string out;
    for (char c : redacted) {
        rs.feed(std::string_view(&c, 1), out);
        ASSERT_LE(rs.held(), 12u);  // at most "<SECRET_12" of a partial placeholder
    }
    rs.finish(out);
    EXPECT_EQ(out, original);
    EXPECT_GT(rs.restored(), 0u);
}

TEST(PiiRestorer, EverySplitPoint) {
    round_trip("Hi <b> a@x.com, card 4111 1111 1111 1111; a@x.com < 3 > 2 <EMAIL_>",
               Encoding::plain);
    round_trip("json \\\"a@x.com\\\" \\\\ <i>\\n 10.0.0.1 \\u003c done", Encoding::json_string);
}

TEST(PiiRestorer, RandomChunking) {
    std::string original;
    for (int k = 0; k < 30; ++k) {
        original += "user" + std::to_string(k % 7) + "@example.com said <hi> at 10.0.0." +
                    std::to_string(k % 5 + 1) + ". ";
    }
    Redactor r(ClassSet::all(), Encoding::plain);
    const std::string redacted = r.redact(original);
    EXPECT_EQ(r.mapping().size(), 12u);
    std::mt19937 rng(3);
    std::uniform_int_distribution<std::size_t> len(1, 17);
    for (int round = 0; round < 50; ++round) {
        Restorer rs(r.mapping(), Encoding::plain);
        std::string out;
        for (std::size_t k = 0; k < redacted.size();) {
            std::size_t n = std::min(len(rng), redacted.size() - k);
            rs.feed(std::string_view(redacted).substr(k, n), out);
            k += n;
        }
        rs.finish(out);
        ASSERT_EQ(out, original);
    }
}

TEST(PiiRestorer, HoldsBackOnlyPossiblePlaceholders) {
    Redactor r(ClassSet::all(), Encoding::plain);
    r.redact("a@x.com");
    Restorer rs(r.mapping(), Encoding::plain);
    EXPECT_EQ(rs.feed("x <EM"), "x ");
    EXPECT_EQ(rs.held(), 3u);
    EXPECT_EQ(rs.feed("AIL_1> and <CARD"), "a@x.com and <CARD");  // <CARD_ is not mapped
    EXPECT_EQ(rs.held(), 0u);
    EXPECT_EQ(rs.feed("<EMAIL_2> <EMAIL_1"), "<EMAIL_2> ");
    EXPECT_EQ(rs.finish(), "<EMAIL_1");  // never closed: emitted as is
    EXPECT_EQ(rs.restored(), 1u);
}

TEST(PiiRestorer, JsonModeEscapesValuesAndReadsEscapedBrackets) {
    Redactor r;  // json_string
    const std::string pem = "-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\\"x\\n-----END PRIVATE KEY-----";
    std::string red = r.redact("key " + pem + " mail a@x.com");
    EXPECT_EQ(red, "key <SECRET_1> mail <EMAIL_1>");
    Restorer rs(r.mapping());
    // Values come back JSON-escaped; Go-style \u003c...\u003e placeholders are recognised.
    std::string out = rs.feed("k=\\u003cSECRET_1\\u003E m=\\u003cEMA");
    out += rs.feed("IL_1> \\\\u003cEMAIL_1>");
    out += rs.finish();
    EXPECT_EQ(out, "k=" + pem + " m=a@x.com \\\\u003cEMAIL_1>");
    EXPECT_EQ(rs.restored(), 2u);
}

TEST(PiiRestorer, EscapedBackslashNeverStartsAPlaceholder) {
    Redactor r;
    r.redact("a@x.com");
    Restorer rs(r.mapping());
    // "\\" then "u003cEMAIL_1>" is a literal backslash followed by text, split after it.
    std::string out = rs.feed("x \\");
    out += rs.feed("\\u003cEMAIL_1> <EMAIL_1>");
    out += rs.finish();
    EXPECT_EQ(out, "x \\\\u003cEMAIL_1> a@x.com");
}

TEST(PiiRestorer, EmptyMappingPassesThrough) {
    Mapping empty;
    Restorer rs(empty);
    EXPECT_EQ(rs.feed("<EMAIL_1> \\"), "<EMAIL_1> \\");
    EXPECT_EQ(rs.finish(), "");
}

}  // namespace
}  // namespace baton::pii
