// Virtual keys: generation, hashing, store, authorisation, header parsing.
#include "baton/auth/keys.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

namespace baton::auth {
namespace {

constexpr std::string_view kSecret = "server-secret-for-tests";

TEST(AuthKeys, GenerateKeyShapeAndUniqueness) {
    std::set<std::string> seen;
    for (int k = 0; k < 200; ++k) {
        std::string key = generate_key();
        ASSERT_EQ(key.size(), 35u);
        ASSERT_TRUE(key.starts_with("bt-"));
        for (char c : key.substr(3)) {
            ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
                << key;
        }
        seen.insert(key);
    }
    EXPECT_EQ(seen.size(), 200u);
}

TEST(AuthKeys, HashKeyIsHmacSha256) {
    // RFC 4231 test case 2.
    EXPECT_EQ(hash_key("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_NE(hash_key("a", "bt-x"), hash_key("b", "bt-x"));
    EXPECT_EQ(hash_key(kSecret, "bt-x").size(), 64u);
}

KeyStore make_store(std::string* team_a_key = nullptr) {
    std::string a = generate_key();
    std::string b = generate_key();
    if (team_a_key != nullptr) *team_a_key = a;
    KeyConfig ka;
    ka.name = "team-a";
    ka.hash = hash_key(kSecret, a);
    ka.models = {"gpt-4o-mini", "claude-*"};
    ka.required_tags = {"eu"};
    ka.rpm = 60;
    KeyConfig kb;
    kb.name = "team-b";
    kb.hash = hash_key(kSecret, b);
    for (char& c : kb.hash) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return KeyStore({ka, kb}, std::string(kSecret));
}

TEST(AuthKeys, AuthenticateKnownUnknownMalformed) {
    std::string key;
    KeyStore store = make_store(&key);
    auto p = store.authenticate(key);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->name(), "team-a");
    EXPECT_EQ(p->key->required_tags, std::vector<std::string>{"eu"});

    for (std::string_view bad : {std::string_view("bt-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                                 std::string_view("has space"), std::string_view("\x01")}) {
        auto r = store.authenticate(bad);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, Errc::unauthenticated);
        EXPECT_EQ(r.error().message, "invalid API key");  // never echoes the key
    }
    auto wrong = store.authenticate(key.substr(0, key.size() - 1) + "!");
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(store.authenticate("").error().message, "missing API key");
    EXPECT_FALSE(store.authenticate(std::string(300, 'a')).has_value());
}

TEST(AuthKeys, UpperCaseHashIsNormalised) {
    std::string b = generate_key();
    KeyConfig k;
    k.name = "x";
    k.hash = hash_key(kSecret, b);
    for (char& c : k.hash) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    KeyStore s2({k}, std::string(kSecret));
    EXPECT_TRUE(s2.authenticate(b).has_value());
}

TEST(AuthKeys, StoreValidation) {
    KeyConfig k;
    k.name = "a";
    k.hash = std::string(64, 'a');
    EXPECT_THROW(KeyStore({k, k}, "s"), ConfigError);  // duplicate name
    KeyConfig k2 = k;
    k2.name = "b";
    EXPECT_THROW(KeyStore({k, k2}, "s"), ConfigError);  // duplicate hash
    k.hash = "abc";
    EXPECT_THROW(KeyStore({k}, "s"), ConfigError);
    k.hash = std::string(64, 'a');
    k.name = "";
    EXPECT_THROW(KeyStore({k}, "s"), ConfigError);
    k.name = "a";
    EXPECT_THROW(KeyStore({k}, ""), ConfigError);  // no secret
    EXPECT_NO_THROW(KeyStore({}, ""));
    try {
        k.hash = "zz";
        KeyStore store({k}, "s");
        ADD_FAILURE() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("'a'"), std::string::npos);
    }
}

TEST(AuthKeys, Authorize) {
    std::string key;
    KeyStore store = make_store(&key);
    Principal p = *store.authenticate(key);
    EXPECT_TRUE(KeyStore::allowed(p, "gpt-4o-mini"));
    EXPECT_TRUE(KeyStore::allowed(p, "claude-3-5-sonnet"));
    EXPECT_FALSE(KeyStore::allowed(p, "gpt-4o"));
    auto r = KeyStore::authorize(p, "gpt-4o");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::forbidden);
    EXPECT_EQ(r.error().message, "key 'team-a' may not use model 'gpt-4o'");
    EXPECT_TRUE(KeyStore::authorize(p, "claude-x").has_value());
    KeyConfig open;
    open.name = "open";
    Principal any{std::make_shared<const KeyConfig>(open)};
    EXPECT_TRUE(KeyStore::allowed(any, "anything"));  // empty list = all models
}

TEST(AuthKeys, ExtractKey) {
    auto r = extract_key("Bearer bt-abc", "");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->key, "bt-abc");
    EXPECT_EQ(r->source, KeySource::bearer);
    r = extract_key("  bearer \t bt-abc  ", "");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->key, "bt-abc");
    r = extract_key("", " bt-xyz ");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->key, "bt-xyz");
    EXPECT_EQ(r->source, KeySource::x_api_key);
    r = extract_key("Bearer bt-same", "bt-same");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->source, KeySource::bearer);
    r = extract_key("", "");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->source, KeySource::none);
    EXPECT_TRUE(r->key.empty());
    for (auto [auth, xkey] : {std::pair{"Basic dXNlcjpwYXNz", ""}, std::pair{"Bearer", ""},
                              std::pair{"Bearer   ", ""}, std::pair{"Bearer a", "b"}}) {
        auto e = extract_key(auth, xkey);
        ASSERT_FALSE(e.has_value()) << auth;
        EXPECT_EQ(e.error().code, Errc::unauthenticated);
        EXPECT_EQ(e.error().message.find("dXNlcjpwYXNz"), std::string::npos);
    }
}

TEST(AuthKeys, DescribeKeyHidesTheSecret) {
    std::string key = generate_key();
    std::string d = describe_key(key);
    EXPECT_EQ(d.find(key.substr(3)), std::string::npos);
    EXPECT_NE(d.find("35 chars"), std::string::npos);
}

}  // namespace
}  // namespace baton::auth
