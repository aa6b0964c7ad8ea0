// Durations, name suggestions, diagnostic formatting and the small parsers behind listen,
// base_url and dates.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "baton/config/load.hpp"
#include "config/text.hpp"

namespace {

using baton::config::Diagnostic;
using baton::config::Millis;
using baton::config::nearest_name;
using baton::config::parse_duration;
namespace detail = baton::config::detail;

TEST(ConfigDuration, ParsesUnits) {
    struct Case {
        const char* text;
        int64_t ms;
    };
    const Case cases[] = {
        {"250ms", 250},      {"0ms", 0},      {"0s", 0},         {"10s", 10'000},
        {"1.5s", 1'500},     {"0.25s", 250},  {"2m", 120'000},   {"1h", 3'600'000},
        {"1.5h", 5'400'000}, {"90s", 90'000}, {"600s", 600'000}, {"007s", 7'000},
        {"1.0006s", 1'001},  // rounded to the nearest millisecond
    };
    for (const auto& c : cases) {
        Millis out{-1};
        EXPECT_TRUE(parse_duration(c.text, out)) << c.text;
        EXPECT_EQ(out.count(), c.ms) << c.text;
    }
}

TEST(ConfigDuration, RejectsEverythingElse) {
    for (const char* text : {"",    "30",    "1.5", "s",     "ms",
                             "-5s", "+5s",   "5 s", " 5s",   "5s ",
                             "5S",  "5sec",  "5d",  "1m30s", ".5s",
                             "5.s", "1e3ms", "abc", "5us",   "99999999999999999999h"}) {
        Millis out{42};
        EXPECT_FALSE(parse_duration(text, out)) << '"' << text << '"';
        EXPECT_EQ(out.count(), 42) << "out must be untouched on failure: " << text;
    }
}

TEST(ConfigDuration, FormatsWithTheLargestExactUnit) {
    EXPECT_EQ(detail::format_duration(Millis{1}), "1ms");
    EXPECT_EQ(detail::format_duration(Millis{0}), "0ms");
    EXPECT_EQ(detail::format_duration(Millis{1500}), "1500ms");
    EXPECT_EQ(detail::format_duration(Millis{30'000}), "30s");
    EXPECT_EQ(detail::format_duration(Millis{120'000}), "2m");
    EXPECT_EQ(detail::format_duration(Millis{7'200'000}), "2h");
}

TEST(ConfigNearestName, SuggestsCloseNames) {
    const std::vector<std::string> kinds{"openai", "mock"};
    EXPECT_EQ(nearest_name("opnai", kinds), "openai");
    EXPECT_EQ(nearest_name("OpenAI", kinds), "openai");  // case-insensitive
    EXPECT_EQ(nearest_name("mokc", kinds), "mock");      // transposition = one edit
    EXPECT_EQ(nearest_name("anthropic", kinds), "");

    const std::vector<std::string> keys{"listen", "threads", "max_body_bytes", "timeouts"};
    EXPECT_EQ(nearest_name("thread", keys), "threads");
    EXPECT_EQ(nearest_name("max_body_byte", keys), "max_body_bytes");
    EXPECT_EQ(nearest_name("lisen", keys), "listen");
    EXPECT_EQ(nearest_name("frobnicate", keys), "");
}

TEST(ConfigNearestName, ThresholdIsAThirdOfTheLength) {
    // "abcdef": up to 2 edits.
    EXPECT_EQ(nearest_name("abcdef", {"abcdxy"}), "abcdxy");
    EXPECT_EQ(nearest_name("abcdef", {"abcxyz"}), "");
    // Short words still allow one edit.
    EXPECT_EQ(nearest_name("ky", {"key"}), "key");
    EXPECT_EQ(nearest_name("xy", {"key"}), "");
    EXPECT_EQ(nearest_name("x", {}), "");
}

TEST(ConfigNearestName, PrefersTheClosestThenTheFirst) {
    EXPECT_EQ(nearest_name("cost", {"costs", "cost1", "cost"}), "cost");
    EXPECT_EQ(nearest_name("abcd", {"abce", "abcf"}), "abce");
}

TEST(ConfigDiagnostic, Formats) {
    Diagnostic d;
    d.file = "baton.yaml";
    d.line = 12;
    d.column = 5;
    d.path = "providers[0].kind";
    d.message = "unknown kind \"opnai\" (did you mean \"openai\"?)";
    EXPECT_EQ(d.format(),
              "baton.yaml:12:5: providers[0].kind: unknown kind \"opnai\" (did you mean "
              "\"openai\"?)");
    d.severity = Diagnostic::Severity::warning;
    EXPECT_EQ(d.format(),
              "baton.yaml:12:5: warning: providers[0].kind: unknown kind \"opnai\" (did you "
              "mean \"openai\"?)");
    Diagnostic io;
    io.file = "missing.yaml";
    io.message = "cannot read file: No such file or directory";
    EXPECT_EQ(io.format(), "missing.yaml: cannot read file: No such file or directory");
    Diagnostic nopath;
    nopath.file = "x.yaml";
    nopath.line = 3;
    nopath.column = 1;
    nopath.message = "invalid YAML: boom";
    EXPECT_EQ(nopath.format(), "x.yaml:3:1: invalid YAML: boom");
}

TEST(ConfigListen, AcceptsIpv4Ipv6AndLocalhost) {
    struct Case {
        const char* text;
        const char* host;
        uint16_t port;
    };
    const Case cases[] = {
        {"127.0.0.1:8080", "127.0.0.1", 8080},
        {"0.0.0.0:80", "0.0.0.0", 80},
        {"10.1.2.3:0", "10.1.2.3", 0},
        {"[::1]:8080", "::1", 8080},
        {"[::]:443", "::", 443},
        {"[fe80::1]:65535", "fe80::1", 65535},
        {"localhost:9000", "127.0.0.1", 9000},
    };
    for (const auto& c : cases) {
        std::string host, error;
        uint16_t port = 1;
        EXPECT_TRUE(detail::parse_listen(c.text, host, port, error)) << c.text << ": " << error;
        EXPECT_EQ(host, c.host) << c.text;
        EXPECT_EQ(port, c.port) << c.text;
    }
}

TEST(ConfigListen, RejectsBadAddresses) {
    for (const char* text :
         {"", "8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
          "256.0.0.1:80", "1.2.3:80", "example.com:80", "::1:8080", "[::1]", "[::1]8080",
          "[zz::]:80", "[::1:80", "localhost"}) {
        std::string host, error;
        uint16_t port = 0;
        EXPECT_FALSE(detail::parse_listen(text, host, port, error)) << text;
        EXPECT_FALSE(error.empty()) << text;
    }
}

TEST(ConfigBaseUrl, SplitsSchemeHostPortAndPath) {
    struct Case {
        const char* text;
        bool tls;
        const char* host;
        uint16_t port;
        const char* path;
        const char* normalized;
    };
    const Case cases[] = {
        {"https://api.openai.com/v1", true, "api.openai.com", 443, "/v1",
         "https://api.openai.com/v1"},
        {"https://api.openai.com/v1/", true, "api.openai.com", 443, "/v1",
         "https://api.openai.com/v1"},
        {"http://localhost:8000", false, "localhost", 8000, "", "http://localhost:8000"},
        {"http://localhost:8000/", false, "localhost", 8000, "", "http://localhost:8000"},
        {"HTTP://10.0.0.5", false, "10.0.0.5", 80, "", "HTTP://10.0.0.5"},
        {"https://gw.example.com:8443/openai/v1//", true, "gw.example.com", 8443, "/openai/v1",
         "https://gw.example.com:8443/openai/v1"},
        {"http://[::1]:8080/v1", false, "::1", 8080, "/v1", "http://[::1]:8080/v1"},
        {"https://[2001:db8::1]/v1", true, "2001:db8::1", 443, "/v1", "https://[2001:db8::1]/v1"},
    };
    for (const auto& c : cases) {
        detail::ParsedUrl url;
        std::string error;
        ASSERT_TRUE(detail::parse_base_url(c.text, url, error)) << c.text << ": " << error;
        EXPECT_EQ(url.tls, c.tls) << c.text;
        EXPECT_EQ(url.host, c.host) << c.text;
        EXPECT_EQ(url.port, c.port) << c.text;
        EXPECT_EQ(url.base_path, c.path) << c.text;
        EXPECT_EQ(url.normalized, c.normalized) << c.text;
    }
}

TEST(ConfigBaseUrl, RejectsOtherSchemesAndOddParts) {
    for (const char* text :
         {"", "api.openai.com/v1", "ftp://x.com", "ws://x.com", "https://", "https:///v1",
          "https://x.com:0", "https://x.com:99999", "https://x.com:abc", "https://u:p@x.com",
          "https://x.com/v1?a=b", "https://x.com/#frag", "http://[::1/v1", "http://[zz]/",
          "http://::1/v1", "https://bad host/v1", "https://x.com/a b"}) {
        detail::ParsedUrl url;
        std::string error;
        EXPECT_FALSE(detail::parse_base_url(text, url, error)) << text;
        EXPECT_FALSE(error.empty()) << text;
    }
}

TEST(ConfigBaseUrl, NeverEchoesCredentials) {
    detail::ParsedUrl url;
    std::string error;
    ASSERT_FALSE(detail::parse_base_url("https://user:hunter2@x.com/v1", url, error));
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

TEST(ConfigDate, DaysSinceEpoch) {
    using namespace std::chrono;
    int64_t days = -1;
    ASSERT_TRUE(detail::parse_date("1970-01-01", days));
    EXPECT_EQ(days, 0);
    ASSERT_TRUE(detail::parse_date("2027-01-31", days));
    EXPECT_EQ(days, sys_days{year{2027} / January / 31}.time_since_epoch().count());
    ASSERT_TRUE(detail::parse_date("2024-02-29", days));  // leap day
    EXPECT_EQ(days, sys_days{year{2024} / February / 29}.time_since_epoch().count());
    for (const char* text : {"2027-02-30", "2023-02-29", "2027-13-01", "2027-00-10", "2027-1-31",
                             "27-01-31", "2027/01/31", "2027-01-31T00:00", "next year", ""}) {
        EXPECT_FALSE(detail::parse_date(text, days)) << text;
    }
}

}  // namespace
