// Every detector: positives with exact bounds, negatives, JSON-escape handling, invariants.
#include "baton/pii/scanner.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "baton/pii/validators.hpp"

namespace baton::pii {
namespace {

// "kind:value" for every finding of a plain-text scan.
std::vector<std::string> found(std::string_view text, Encoding enc = Encoding::plain) {
    std::vector<std::string> out;
    for (const Finding& f : scan(text, ScanOptions{enc, ClassSet::all()})) {
        out.push_back(std::string(kind_name(f.kind)) + ":" +
                      std::string(text.substr(f.begin, f.end - f.begin)));
    }
    return out;
}

using V = std::vector<std::string>;

void expect_one(std::string_view text, std::string_view kind, std::string_view value) {
    EXPECT_EQ(found(text), V{std::string(kind) + ":" + std::string(value)}) << text;
}

void expect_none(std::string_view text) { EXPECT_EQ(found(text), V{}) << text; }

TEST(PiiScanner, Email) {
    expect_one("mail john.doe+tag@mail.example.co.uk now", "email",
               "john.doe+tag@mail.example.co.uk");
    expect_one("<UtaKortig@jourrapide.com>.", "email", "UtaKortig@jourrapide.com");
    expect_one("end.john@x.io.", "email", "end.john@x.io");
    expect_none("user@localhost and @handle and a@b.c1 and foo@-bar.com");
    expect_none("x@y");
}

TEST(PiiScanner, PhoneFormats) {
    expect_one("call (415) 555-2671 today", "phone", "(415) 555-2671");
    expect_one("at 415-555-2671.", "phone", "415-555-2671");
    expect_one("at 415.555.2671", "phone", "415.555.2671");
    expect_one("at 1-800-555-0199", "phone", "1-800-555-0199");
    expect_one("at 345-899-3560x4587 ok", "phone", "345-899-3560x4587");
    expect_one("at 415-555-2671 ext. 12", "phone", "415-555-2671 ext. 12");
    expect_one("at +1 415 555 2671", "phone", "+1 415 555 2671");
    expect_one("at +44 20 7946 0958", "phone", "+44 20 7946 0958");
    expect_one("at +46 (0)8 928 571 38", "phone", "+46 (0)8 928 571 38");
    expect_one("at +447700677662", "phone", "+447700677662");
    expect_one("at 001-518-640-0854", "phone", "001-518-640-0854");
    expect_one("at 03.93.92.16.85", "phone", "03.93.92.16.85");
    expect_one("at 0688 872 49 99", "phone", "0688 872 49 99");
    expect_one("at (08) 8747 6301", "phone", "(08) 8747 6301");
    expect_one("Phone: 9498777106", "phone", "9498777106");  // plain digits need context
    expect_one("Phone:\n467 3395", "phone", "467 3395");
}

TEST(PiiScanner, PhoneNegatives) {
    expect_none("released 2024-03-15 and 15.03.2024 and 2024.03.15");
    expect_none("order 9498777106 shipped");  // plain number without phone context
    expect_none("raised 10 000 000 euros");   // thousands separators
    expect_none("version 1.2.3 and pi 3.14159");
    expect_none("600-198-209 = 193 newspapers");
    expect_none("zip 75534-030 and years 1978-2004");
    expect_none("370 3911 Fourth Avenue");  // house + street number
    expect_none("scores 85 90 78 92");
    expect_none("x+15551234567");  // glued to a word
    expect_none("555-123-4567-8");
}

TEST(PiiScanner, Card) {
    expect_one("card 4111 1111 1111 1111 exp", "card", "4111 1111 1111 1111");
    expect_one("card 4111-1111-1111-1111", "card", "4111-1111-1111-1111");
    expect_one("card 4111111111111111.", "card", "4111111111111111");
    expect_one("amex 3782 822463 10005", "card", "3782 822463 10005");
    expect_one("19 digits 4131034282458809939", "card", "4131034282458809939");
    expect_one("card number 630427373398 is lost", "card", "630427373398");  // 12 + keyword
    expect_one("card 4111 1111 1111 1111 2 times", "card", "4111 1111 1111 1111");
}

TEST(PiiScanner, CardNegatives) {
    expect_none("4111111111111112");      // Luhn
    expect_none("41111111111111111111");  // 20 digits
    expect_none("9111111111111119");      // no issuer starts with 9
    expect_none("ts 1700000000005");      // epoch milliseconds
    expect_none("id 630427373398");       // 12 digits without a card keyword
    expect_none("50000-8000-4000 = 38000");
    expect_none("4111-1111-1111-1111-22");
}

TEST(PiiScanner, Iban) {
    expect_one("to GB82WEST12345698765432 pls", "iban", "GB82WEST12345698765432");
    expect_one("to GB82 WEST 1234 5698 7654 32 pls", "iban", "GB82 WEST 1234 5698 7654 32");
    expect_one("to gb82west12345698765432", "iban", "gb82west12345698765432");
    expect_one("DE89370400440532013000", "iban", "DE89370400440532013000");
    expect_none("GB83WEST12345698765432");
    expect_none("GB82WEST123456987654321");
    expect_none("AB12 is a code");
}

TEST(PiiScanner, Ssn) {
    expect_one("SSN 123-45-6789.", "ssn", "123-45-6789");
    expect_one("SSN 123 45 6789", "ssn", "123 45 6789");
    expect_one("my ssn is 123456789", "ssn", "123456789");
    expect_none("000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000");
    expect_none("id 123456789");
    expect_none("123-45-6789-1");
}

TEST(PiiScanner, IpAddresses) {
    expect_one("host 192.168.1.20:8080", "ipv4", "192.168.1.20");
    expect_one("ip 10.0.0.1.", "ipv4", "10.0.0.1");
    expect_one("v6 2001:db8:85a3::8a2e:370:7334 ok", "ipv6", "2001:db8:85a3::8a2e:370:7334");
    expect_one("v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ipv6",
               "2001:0db8:85a3:0000:0000:8a2e:0370:7334");
    expect_one("loopback ::1.", "ipv6", "::1");
    expect_one("link fe80::1 up", "ipv6", "fe80::1");
    expect_one("[::ffff:192.0.2.1]", "ipv6", "::ffff:192.0.2.1");
    expect_one("6e40:4041:c617:e898:c11:40d2:c669:2eb4", "ipv6",
               "6e40:4041:c617:e898:c11:40d2:c669:2eb4");
    expect_none("256.1.1.1 1.2.3.4.5 01.2.3.4 v1.2.3.4");
    expect_none("std::vector<int> a::b ab::cd Foo::Bar");
    expect_none("print(b[::2]) x[1::2] at 12:30:45 mac 00:1A:2B:3C:4D:5E");
}

TEST(PiiScanner, PrefixedSecrets) {
    expect_one("key AKIAIOSFODNN7EXAMPLE x", "aws_access_key", "AKIAIOSFODNN7EXAMPLE");
    expect_one("ASIAY34FZKBOKMUTVV7A", "aws_access_key", "ASIAY34FZKBOKMUTVV7A");
    expect_none("AKIAIOSFODNN7EXAMPL");  // 15 after the prefix
    expect_one("t=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", "github_token",
               "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");
    expect_one("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCD", "github_token",
               "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCD");
    expect_one("OPENAI_API_KEY=sk-proj-4fJ2kP9xQm7Lr3TzVb8NcWd1Ye6HgUa5", "api_key",
               "sk-proj-4fJ2kP9xQm7Lr3TzVb8NcWd1Ye6HgUa5");
    expect_one("sk-ant-api03-Zx8Qw2Lp0Rt7Yk5Nm3Vb9Hc1Jd6Fg4Sa-AA", "api_key",
               "sk-ant-api03-Zx8Qw2Lp0Rt7Yk5Nm3Vb9Hc1Jd6Fg4Sa-AA");
    expect_one("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "api_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc");
    expect_one("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack_token",
               "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx");
    expect_one("AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "google_api_key",
               "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe");
    expect_none("sk-this-is-not-a-key and sk-short1 and xoxb-nodigits-here");
    expect_none("ghp_tooshort123");
}

TEST(PiiScanner, JwtAndPem) {
    const std::string jwt =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    expect_one("Bearer " + jwt + " end", "jwt", jwt);
    // Header that is not JSON with "alg": not a JWT (and too regular for a generic token).
    expect_none("eyJub3RhbGciOjF9.eyJzdWIiOiIxIn0.abc");
    const std::string pem =
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----";
    expect_one("key:\n" + pem + "\nthanks", "private_key", pem);
    const std::string open = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk";
    expect_one("x " + open, "private_key", open);
    expect_none("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
}

TEST(PiiScanner, GenericHighEntropyToken) {
    expect_one("token: Zx8Qw2Lp0Rt7Yk5Nm3Vb9Hc1Jd6Fg4Sa0Pq end", "high_entropy",
               "Zx8Qw2Lp0Rt7Yk5Nm3Vb9Hc1Jd6Fg4Sa0Pq");
    expect_one("aws_secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "high_entropy",
               "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    expect_none("commit da39a3ee5e6b4b0d3255bfef95601890afd80709 fixed it");
    expect_none("TEST(Suite, MalformedJsonIs400WithLineAndColumn2)");
}

TEST(PiiScanner, JsonEscapesAreDecoded) {
    // "\n" separates words: the email is john@x.com, not "njohn@x.com".
    auto f = scan("line\\njohn@x.com");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].begin, 6u);
    EXPECT_EQ(f[0].end, 16u);
    // An escaped character inside a value: the finding covers the whole escape.
    std::string_view raw = "a \\\"john\\u0040example.com\\\" b";
    f = scan(raw);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(raw.substr(f[0].begin, f[0].end - f[0].begin), "john\\u0040example.com");
    EXPECT_EQ(json_unescape(raw.substr(f[0].begin, f[0].end - f[0].begin)), "john@example.com");
    // Non-ASCII before a value shifts decoded offsets; mapping brings them back.
    raw = "caf\\u00e9 \\ud83d\\ude00 ip 10.1.2.3";
    f = scan(raw);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(raw.substr(f[0].begin, f[0].end - f[0].begin), "10.1.2.3");
    // The same text scanned plain does not decode.
    EXPECT_EQ(found("x\\njohn@x.com", Encoding::plain), V{"email:njohn@x.com"});
    // A PEM block written with \n escapes is found whole.
    raw = "k: -----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n";
    f = scan(raw);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(raw.substr(f[0].begin, f[0].end - f[0].begin),
              "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----");
}

TEST(PiiScanner, ClassFilterAndCounts) {
    const std::string text =
        "a@b.com 4111111111111111 10.0.0.1 c@d.org AKIAIOSFODNN7EXAMPLE 123-45-6789";
    ScanOptions only_email{Encoding::plain, ClassSet::none().add(Class::email)};
    EXPECT_EQ(scan(text, only_email).size(), 2u);
    ClassCounts c = count_classes(text, ScanOptions{Encoding::plain, ClassSet::all()});
    EXPECT_EQ(c[Class::email], 2u);
    EXPECT_EQ(c.total(), 6u);
    EXPECT_EQ(c.to_string(), "email=2,card=1,ssn=1,ip=1,secret=1");
    EXPECT_TRUE(c.classes().has(Class::secret));
    EXPECT_FALSE(c.classes().has(Class::iban));
    EXPECT_EQ(ClassCounts{}.to_string(), "");
    Class parsed;
    EXPECT_TRUE(parse_class("iban", parsed));
    EXPECT_EQ(parsed, Class::iban);
    EXPECT_FALSE(parse_class("nope", parsed));
}

// Findings are sorted, non-overlapping, inside the text, for any input (ASan checks reads).
TEST(PiiScanner, InvariantsOnRandomInput) {
    std::mt19937 rng(7);
    const std::string alphabet = "0123456789 -.()+@:\\/\"_=abcdefxyzABCDEFKIASgh\nu0e\xc3\xa9";
    const std::vector<std::string> seeds = {"4111 1111 1111 1111",
                                            "a@b.co",
                                            "::1",
                                            "\\u0040",
                                            "-----BEGIN PRIVATE KEY-----",
                                            "+1 415 555 2671",
                                            "eyJhbGciOiJub25lIn0.e30.",
                                            "GB82WEST12345698765432"};
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<int> coin(0, 9);
    for (int round = 0; round < 3000; ++round) {
        std::string s;
        const int len = 1 + round % 97;
        for (int k = 0; k < len; ++k) {
            if (coin(rng) == 0) {
                s += seeds[static_cast<std::size_t>(coin(rng)) % seeds.size()];
            } else {
                s.push_back(alphabet[pick(rng)]);
            }
        }
        for (Encoding enc : {Encoding::plain, Encoding::json_string}) {
            auto f = scan(s, ScanOptions{enc, ClassSet::all()});
            uint32_t prev = 0;
            for (const Finding& x : f) {
                ASSERT_LT(x.begin, x.end) << s;
                ASSERT_LE(x.end, s.size()) << s;
                ASSERT_GE(x.begin, prev) << s;
                ASSERT_EQ(class_of(x.kind), x.cls);
                prev = x.end;
            }
        }
    }
}

}  // namespace
}  // namespace baton::pii
