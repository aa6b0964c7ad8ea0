// Token estimator, complexity score and extract_features().
#include "baton/policy/features.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "unit/policy/policy_fixture.hpp"

namespace baton::policy {
namespace {

using testing::make_request;
using testing::Msg;

// JSON string contents as they appear in a request body (what text spans point at).
std::string escaped(const std::string& text) {
    std::string q = nlohmann::json(text).dump();
    return q.substr(1, q.size() - 2);
}

// Reference counts: js-tiktoken 1.0.21 (the npm port of OpenAI's tiktoken) with the
// cl100k_base and o200k_base encodings, over exactly these texts. See docs/routing.md.
struct Sample {
    const char* name;
    const char* text;
    int cl100k;
    int o200k;
};

constexpr const char* kGettysburg =
    "Four score and seven years ago our fathers brought forth on this continent, a new nation, "
    "conceived in Liberty, and dedicated to the proposition that all men are created equal.\n\n"
    "Now we are engaged in a great civil war, testing whether that nation, or any nation so "
    "conceived and so dedicated, can long endure. We are met on a great battle-field of that "
    "war. We have come to dedicate a portion of that field, as a final resting place for those "
    "who here gave their lives that that nation might live. It is altogether fitting and "
    "proper that we should do this.\n\n"
    "But, in a larger sense, we can not dedicate -- we can not consecrate -- we can not hallow "
    "-- this ground. The brave men, living and dead, who struggled here, have consecrated it, "
    "far above our poor power to add or detract. The world will little note, nor long remember "
    "what we say here, but it can never forget what they did here. It is for us the living, "
    "rather, to be dedicated here to the unfinished work which they who fought here have thus "
    "far so nobly advanced. It is rather for us to be here dedicated to the great task "
    "remaining before us -- that from these honored dead we take increased devotion to that "
    "cause for which they gave the last full measure of devotion -- that we here highly "
    "resolve that these dead shall not have died in vain -- that this nation, under God, shall "
    "have a new birth of freedom -- and that government of the people, by the people, for the "
    "people, shall not perish from the earth.";

constexpr const char* kDeclaration =
    "When in the Course of human events, it becomes necessary for one people to dissolve the "
    "political bands which have connected them with another, and to assume among the powers of "
    "the earth, the separate and equal station to which the Laws of Nature and of Nature's God "
    "entitle them, a decent respect to the opinions of mankind requires that they should "
    "declare the causes which impel them to the separation.\n\n"
    "We hold these truths to be self-evident, that all men are created equal, that they are "
    "endowed by their Creator with certain unalienable Rights, that among these are Life, "
    "Liberty and the pursuit of Happiness.";

constexpr const char* kPython =
    "def quicksort(items: list[int]) -> list[int]:\n"
    "    \"\"\"Return a sorted copy of items (not in place).\"\"\"\n"
    "    if len(items) <= 1:\n"
    "        return list(items)\n"
    "    pivot = items[len(items) // 2]\n"
    "    less = [x for x in items if x < pivot]\n"
    "    equal = [x for x in items if x == pivot]\n"
    "    greater = [x for x in items if x > pivot]\n"
    "    return quicksort(less) + equal + quicksort(greater)\n"
    "\n"
    "\n"
    "if __name__ == \"__main__\":\n"
    "    data = [38, 27, 43, 3, 9, 82, 10]\n"
    "    print(f\"sorted: {quicksort(data)}\")\n";

constexpr const char* kCpp =
    "#include <iostream>\n"
    "#include <string>\n"
    "#include <unordered_map>\n"
    "\n"
    "// Counts how often each word occurs on standard input.\n"
    "int main() {\n"
    "    std::unordered_map<std::string, int> counts;\n"
    "    std::string word;\n"
    "    while (std::cin >> word) {\n"
    "        ++counts[word];\n"
    "    }\n"
    "    for (const auto& [w, n] : counts) {\n"
    "        std::cout << w << \": \" << n << \"\\n\";\n"
    "    }\n"
    "    return 0;\n"
    "}\n";

const Sample kSamples[] = {
    {"gettysburg", kGettysburg, 316, 317},
    {"declaration", kDeclaration, 124, 124},
    {"python", kPython, 153, 153},
    {"cpp", kCpp, 102, 101},
};

TEST(TokenEstimate, WithinTenPercentOfRealTokenizers) {
    for (const auto& s : kSamples) {
        double est = estimate_tokens(escaped(s.text));
        EXPECT_NEAR(est, s.cl100k, 0.10 * s.cl100k) << s.name << " vs cl100k";
        EXPECT_NEAR(est, s.o200k, 0.10 * s.o200k) << s.name << " vs o200k";
    }
}

TEST(TokenEstimate, ShortTexts) {
    EXPECT_EQ(estimate_tokens(std::string_view{}), 0u);
    EXPECT_EQ(estimate_tokens("hi"), 1u);
    // "What is the capital of France?" is 7 tokens in cl100k/o200k.
    EXPECT_NEAR(estimate_tokens("What is the capital of France?"), 7.0, 1.0);
    // Numbers are split in groups of three digits: "1234567" -> 123|456|7.
    TextStats s;
    scan_text("1234567", s);
    EXPECT_EQ(s.digit_groups, 3u);
}

TEST(TokenEstimate, DecodesJsonEscapes) {
    TextStats a, b;
    scan_text("line one\\nline two\\t\\\"quoted\\\"", a);
    scan_text(escaped("line one\nline two\t\"quoted\""), b);
    EXPECT_EQ(a.words, 5u);
    EXPECT_EQ(a.newline_runs, 1u);
    EXPECT_EQ(a.punct, 2u);  // the two quotes
    EXPECT_EQ(estimate_tokens(a), estimate_tokens(b));
    // \u00e9 is one 2-byte character; a surrogate pair is one 4-byte character.
    TextStats u;
    scan_text("caf\\u00e9 \\ud83d\\ude00", u);
    EXPECT_EQ(u.nonascii2, 1u);
    EXPECT_EQ(u.nonascii4, 1u);
    // Escaped ASCII blanks/controls, malformed escapes and a trailing backslash all advance.
    TextStats odd;
    scan_text("a\\u0020b\\u0009\\uZZZZ\\x\\u00\\", odd);
    EXPECT_EQ(odd.words, 6u);  // a, b, u|ZZZZ (camel hump), x, u
    // Raw UTF-8 is decoded the same way.
    TextStats r;
    scan_text("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe5\x8c\x97", r);
    EXPECT_EQ(r.nonascii2, 1u);
    EXPECT_EQ(r.nonascii3, 1u);
    EXPECT_EQ(r.nonascii4, 1u);
}

TEST(TokenEstimate, SplitsCamelCase) {
    TextStats s;
    scan_text("getElementById", s);
    EXPECT_EQ(s.words, 4u);  // get|Element|By|Id
}

// Letter runs are scanned 16 bytes at a time: words of every length up to 40 with capitals
// anywhere (across the 16-byte steps too) are counted as the word rule says, checked against a
// plain reference of that rule (all lower, all capitals or Title: one piece; otherwise a
// capital after a lower-case letter starts a new piece).
TEST(TokenEstimate, WordsOfAnyLengthMatchTheReferenceRule) {
    struct Ref {
        uint32_t words = 0, over4 = 0, over8 = 0, caps = 0;
        void piece(uint32_t len, bool all_caps) {
            ++words;
            over4 += len > 4 ? len - 4 : 0;
            over8 += len > 8 ? len - 8 : 0;
            caps += all_caps && len >= 2 ? 1 : 0;
        }
        void word(const std::string& w) {
            auto up = [](char c) { return c >= 'A' && c <= 'Z'; };
            uint32_t upper = 0;
            for (char c : w) upper += up(c) ? 1 : 0;
            const auto len = static_cast<uint32_t>(w.size());
            if (upper == 0 || upper == len || (upper == 1 && up(w[0]))) {
                piece(len, upper == len);
                return;
            }
            uint32_t n = 0;
            bool caps_so_far = true, prev_up = false;
            for (char c : w) {
                if (up(c) && !prev_up && n > 0) {
                    piece(n, caps_so_far);
                    n = 0;
                    caps_so_far = true;
                }
                caps_so_far = caps_so_far && up(c);
                prev_up = up(c);
                ++n;
            }
            piece(n, caps_so_far);
        }
    };
    uint32_t seed = 4242;
    auto next = [&] {
        seed = seed * 1664525u + 1013904223u;
        return seed >> 8;
    };
    const std::string letters = "xqzvXQZV";  // (no keyword can be spelt with these)
    for (int round = 0; round < 300; ++round) {
        Ref ref;
        std::string text;
        const int n = 1 + static_cast<int>(next() % 12);
        for (int i = 0; i < n; ++i) {
            std::string w(1 + next() % 40, 'x');
            const uint32_t caps_odds = next() % 4;  // none, few, half, most
            for (auto& c : w) {
                c = letters[next() % 4];
                if (caps_odds > 0 && next() % 4 < caps_odds) c = static_cast<char>(c - 32);
            }
            ref.word(w);
            if (!text.empty()) text += ' ';
            text += w;
        }
        TextStats s;
        scan_text(text, s);
        ASSERT_EQ(s.words, ref.words) << text;
        ASSERT_EQ(s.word_chars_over4, ref.over4) << text;
        ASSERT_EQ(s.word_chars_over8, ref.over8) << text;
        ASSERT_EQ(s.caps_words, ref.caps) << text;
        ASSERT_EQ(s.bytes, text.size()) << text;
    }
}

// ---- complexity ---------------------------------------------------------------------------

constexpr const char* kProof =
    "Prove that there are infinitely many primes of the form 4k+3. Then derive an upper bound "
    "for the gap between consecutive such primes, and explain why Dirichlet's theorem is "
    "needed for the general case. Step by step:\n1. State the lemma you use.\n2. Give the "
    "proof by contradiction.\n3. Compare it with the analytic approach and discuss the "
    "trade-offs. Which approach generalises? Why? You must not assume the prime number "
    "theorem, and the argument must be rigorous.";

TEST(Complexity, GreetingIsNearZero) {
    EXPECT_LT(complexity_score("hi"), 0.1);
    EXPECT_LT(complexity_score("Hello! How are you?"), 0.1);
}

TEST(Complexity, MultiPartProofIsHigh) { EXPECT_GT(complexity_score(kProof), 0.7); }

TEST(Complexity, Ordering) {
    double hi = complexity_score("hi");
    double fact = complexity_score("What is the capital of France?");
    double task = complexity_score(
        "Write a Python function that parses an ISO 8601 date string and returns a datetime. "
        "It must handle time zones.");
    double design = complexity_score(
        "Design a rate limiter for a distributed API gateway. Compare token bucket and sliding "
        "window approaches, analyze the trade-offs in memory and accuracy, and explain why "
        "one is better under bursty traffic. Give the implementation in Go with tests.");
    double proof = complexity_score(kProof);
    EXPECT_LT(hi, fact);
    EXPECT_LT(fact, task);
    EXPECT_LT(task, design);
    EXPECT_LT(design, proof);
    EXPECT_GT(design, 0.5);
}

TEST(Complexity, SignalsAreCounted) {
    TextStats s;
    scan_text(escaped("```cpp\nint f() { return 1; }\n```\nSolve $\\frac{a}{b}$ with α ≤ β. "
                      "At least 3 ways? Step by step.\n- one\n- two\n"),
              s);
    EXPECT_EQ(s.code_fences, 2u);
    EXPECT_GE(s.code_punct, 4u);
    EXPECT_GE(s.math, 3u);          // \frac, α, ≤, β
    EXPECT_EQ(s.constraints, 1u);   // at least
    EXPECT_EQ(s.step_phrases, 2u);  // step by step
    EXPECT_EQ(s.list_items, 2u);
    EXPECT_EQ(s.questions, 1u);
}

TEST(Complexity, AlwaysInUnitInterval) {
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) % 256);
    double c = complexity_score(junk);
    EXPECT_GE(c, 0.0);
    EXPECT_LE(c, 1.0);
    std::string huge;
    for (int i = 0; i < 200; ++i) huge += kProof;
    EXPECT_LE(complexity_score(huge), 1.0);
}

// ---- extract_features ---------------------------------------------------------------------

TEST(ExtractFeatures, BasicCounts) {
    auto t = make_request("auto", {{"system", "You are terse."}, {"user", "hi"}},
                          R"("max_tokens":300,"stream":true)");
    t.req.max_tokens = 300;
    t.req.stream = true;
    Features f = extract_features(t.req, t.body);
    EXPECT_EQ(f.message_count, 2u);
    EXPECT_EQ(f.overhead_tokens, 2 * kTokensPerMessage + kTokensReplyPriming);
    EXPECT_EQ(f.last_user_tokens, 1u);
    EXPECT_EQ(f.text_tokens, 5u);  // You|are|terse|.| + hi (the estimate rounds)
    EXPECT_EQ(f.prompt_tokens, f.text_tokens + f.overhead_tokens);
    ASSERT_TRUE(f.max_tokens);
    EXPECT_EQ(*f.max_tokens, 300u);
    EXPECT_TRUE(f.stream);
    EXPECT_LT(f.complexity, 0.1);
}

TEST(ExtractFeatures, LastUserMessageDominatesComplexity) {
    // A long, complex system prompt and history do not make "hi" complex...
    auto easy = make_request("auto", {{"system", kProof}, {"assistant", kProof}, {"user", "hi"}});
    Features fe = extract_features(easy.req, easy.body);
    // ...while the same text as the last user message does.
    auto hard = make_request("auto", {{"system", "Be helpful."}, {"user", kProof}});
    Features fh = extract_features(hard.req, hard.body);
    EXPECT_LT(fe.complexity, 0.35);
    EXPECT_GT(fh.complexity, 0.7);
    EXPECT_EQ(fe.last_user_tokens, 1u);
    // An assistant reply after the user message: the user message still counts.
    auto reply = make_request("auto", {{"user", kProof}, {"assistant", "ok"}});
    EXPECT_GT(extract_features(reply.req, reply.body).complexity, 0.7);
}

TEST(ExtractFeatures, RoleAfterContentAndMultipartContent) {
    std::string body =
        R"({"model":"auto","messages":[{"content":"PROOF","role":"user"},)"
        R"({"content":"ok","role":"assistant"},)"
        R"({"role":"user","content":[{"type":"image_url","image_url":{"url":"data:x"}},)"
        R"({"type":"text","text":"hi"},{"type":"text","text":"there"}]}]})";
    openai::ChatRequest req;
    auto add = [&](std::string_view needle) {
        auto pos = static_cast<uint32_t>(body.find(needle));
        req.text_spans.push_back({pos, pos + static_cast<uint32_t>(needle.size())});
    };
    add("PROOF");
    add("ok");
    add("hi");
    add("there");
    req.message_count = 3;
    req.has_images = true;
    Features f = extract_features(req, body);
    EXPECT_EQ(f.last_user_tokens, 2u);  // "hi" + "there": both parts of the last user message
    EXPECT_EQ(f.image_count, 1u);
    EXPECT_EQ(f.image_tokens, kTokensPerImage);
}

TEST(ExtractFeatures, ToolsAreEstimated) {
    std::string tools =
        R"([{"type":"function","function":{"name":"get_weather","description":"Get the )"
        R"(current weather for a city","parameters":{"type":"object","properties":{"city":)"
        R"({"type":"string"}},"required":["city"]}}}])";
    auto t = make_request("auto", {{"user", "Weather in Paris?"}}, "\"tools\":" + tools);
    t.req.has_tools = true;
    Features f = extract_features(t.req, t.body);
    EXPECT_TRUE(f.tools);
    EXPECT_EQ(f.tools_tokens, estimate_tokens(tools));
    EXPECT_GT(f.tools_tokens, 30u);
    EXPECT_EQ(f.prompt_tokens, f.text_tokens + f.tools_tokens + f.overhead_tokens);
}

TEST(ExtractFeatures, ResponseFormatFlags) {
    auto t = make_request("auto", {{"user", "json please"}});
    t.req.json_schema = true;
    t.req.has_response_format = true;
    Features f = extract_features(t.req, t.body);
    EXPECT_TRUE(f.json_schema);
    EXPECT_FALSE(f.json_object);
    EXPECT_FALSE(f.max_tokens);
}

TEST(ExtractFeatures, SurvivesArbitraryBodies) {
    // Out-of-range spans, unbalanced JSON and random bytes: no crash, sane numbers (ASan/UBSan).
    uint64_t x = 88172645463325252ull;
    auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    const std::string alphabet = "{}[]\":,\\u0041role user tools image_url \n\xc3\xa9\xe2\x88\x91";
    for (int round = 0; round < 300; ++round) {
        std::string body;
        size_t len = next() % 300;
        for (size_t i = 0; i < len; ++i) body += alphabet[next() % alphabet.size()];
        openai::ChatRequest req;
        for (int k = 0; k < 4; ++k) {
            auto a = static_cast<uint32_t>(next() % (len + 10));
            auto b = static_cast<uint32_t>(next() % (len + 10));
            req.text_spans.push_back({std::min(a, b), std::max(a, b)});
        }
        req.has_tools = true;
        req.has_images = true;
        req.message_count = 4;
        Features f = extract_features(req, body);
        EXPECT_GE(f.complexity, 0.0);
        EXPECT_LE(f.complexity, 1.0);
        EXPECT_GE(f.prompt_tokens, f.overhead_tokens);
    }
}

// ---- ScanCache ----------------------------------------------------------------------------

bool same_stats(const TextStats& a, const TextStats& b) {
    return std::memcmp(&a, &b, sizeof a) == 0;  // all uint32_t members, no padding
}

// Through the cache a text's stats are exactly scan_text's, first time (miss) or later (hit),
// also after its entry was taken by other texts (200 texts over 64 slots, three passes).
TEST(ScanCache, SameStatsAsTheScanHitOrMiss) {
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i) {
        texts.push_back("Message " + std::to_string(i) + ": " +
                        std::string(kProof).substr(0, 60 + i * 7 % 200) +
                        (i % 3 ? "\\n```js\\nlet x = 1;\\n```" : " finally, step by step."));
    }
    ScanCache cache;
    for (int pass = 0; pass < 3; ++pass) {
        for (const auto& t : texts) {
            TextStats want, got;
            scan_text(t, want);
            cache.scan(t, got);
            ASSERT_TRUE(same_stats(want, got)) << t;
        }
    }
    EXPECT_GT(cache.hits(), 0u);
    EXPECT_GT(cache.misses(), 200u);  // entries were replaced and rescanned
    EXPECT_EQ(cache.hits() + cache.misses(), 600u);
}

// A text seen again is a hit, a text that differs in one byte is not; short texts bypass it.
TEST(ScanCache, HitsOnlyTheSameBytes) {
    ScanCache cache;
    std::string a(kProof);
    std::string b = a;
    b[b.size() / 2] = b[b.size() / 2] == 'x' ? 'y' : 'x';
    TextStats s;
    cache.scan(a, s);
    cache.scan(a, s);
    EXPECT_EQ(cache.hits(), 1u);
    cache.scan(b, s);
    EXPECT_EQ(cache.hits(), 1u);
    EXPECT_EQ(cache.misses(), 2u);
    cache.scan("hi there", s);  // under kMinBytes
    EXPECT_EQ(cache.hits() + cache.misses(), 3u);
}

// extract_features with a cache gives the same features as without; a repeated system prompt
// is a hit, the last user message is always scanned (a new question gets its own estimate).
TEST(ScanCache, ExtractFeaturesLooksUpAllButTheLastUserMessage) {
    const std::string system =
        "You are a precise assistant for a site reliability engineering team. Answer in short "
        "paragraphs and cite the relevant section numbers.";
    ScanCache cache;
    const char* questions[] = {"hi", kProof,
                               "Summarize the incident report in five sentences, please."};
    for (int round = 0; round < 2; ++round) {
        for (const char* q : questions) {
            auto t = make_request("auto", {{"system", system}, {"user", q}}, "");
            Features plain = extract_features(t.req, t.body);
            Features cached = extract_features(t.req, t.body, &cache);
            EXPECT_EQ(plain.prompt_tokens, cached.prompt_tokens);
            EXPECT_EQ(plain.last_user_tokens, cached.last_user_tokens);
            EXPECT_DOUBLE_EQ(plain.complexity, cached.complexity);
        }
    }
    EXPECT_EQ(cache.misses(), 1u);  // the system prompt, once
    EXPECT_EQ(cache.hits(), 5u);    // ... then from the cache; no user message went in
}

}  // namespace
}  // namespace baton::policy
