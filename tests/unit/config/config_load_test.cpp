// load_string / load_file: defaults, parsed values, secrets, cross references, diagnostics.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "baton/config/load.hpp"

namespace fs = std::filesystem;
using namespace baton::config;

namespace {

const fs::path kValidDir = fs::path(BATON_SOURCE_DIR) / "tests" / "fixtures" / "config" / "valid";

constexpr const char* kBase = R"(
providers:
  - {name: demo, kind: mock}
models:
  - {name: m, provider: demo}
)";

std::vector<std::string> lines(const LoadResult& r) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics) out.push_back(d.format());
    return out;
}

std::string all_text(const LoadResult& r) {
    std::string out;
    for (const auto& d : r.diagnostics) out += d.format() + "\n";
    return out;
}

size_t count(const LoadResult& r, Diagnostic::Severity s) {
    return static_cast<size_t>(std::count_if(r.diagnostics.begin(), r.diagnostics.end(),
                                             [&](const Diagnostic& d) { return d.severity == s; }));
}

// A scratch directory removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        path =
            fs::temp_directory_path() / ("baton-config-test-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(reinterpret_cast<uintptr_t>(this)));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return path / name;
    }
};

TEST(ConfigLoad, MinimalConfigGetsTheStructDefaults) {
    const auto r = load_string(kBase, "t.yaml");
    ASSERT_TRUE(r.ok()) << all_text(r);
    EXPECT_TRUE(r.diagnostics.empty()) << all_text(r);
    const Config& c = r.config;
    EXPECT_EQ(c.source_path, "t.yaml");
    const Server defaults;
    EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
    EXPECT_EQ(c.server.host, "127.0.0.1");
    EXPECT_EQ(c.server.port, 8080);
    EXPECT_EQ(c.server.threads, defaults.threads);
    EXPECT_EQ(c.server.max_body_bytes, defaults.max_body_bytes);
    EXPECT_EQ(c.server.max_header_bytes, defaults.max_header_bytes);
    EXPECT_EQ(c.server.max_connections, defaults.max_connections);
    EXPECT_EQ(c.server.timeouts.header_read, defaults.timeouts.header_read);
    EXPECT_EQ(c.server.timeouts.idle, defaults.timeouts.idle);
    EXPECT_EQ(c.server.timeouts.drain, defaults.timeouts.drain);
    EXPECT_EQ(c.logging.level, "info");
    EXPECT_EQ(c.logging.access_log, "stdout");
    ASSERT_EQ(c.providers.size(), 1u);
    EXPECT_EQ(c.providers[0].kind, ProviderKind::mock);
    EXPECT_EQ(c.providers[0].mock.tokens, MockSettings{}.tokens);
    EXPECT_EQ(c.providers[0].mock.error_statuses, std::vector<int>{500});
    ASSERT_EQ(c.models.size(), 1u);
    EXPECT_EQ(c.models[0].upstream_model, "m");  // defaults to name
    EXPECT_EQ(c.models[0].provider_index, 0u);
    EXPECT_DOUBLE_EQ(c.models[0].quality, 0.5);
    EXPECT_FALSE(c.models[0].deprecated.has_value());
    EXPECT_TRUE(c.routes.empty());
    EXPECT_TRUE(c.rules.empty());
}

TEST(ConfigLoad, FullFixtureValues) {
    ::setenv("BATON_TEST_FULL_KEY", "sk-from-env", 1);
    const auto r = load_file((kValidDir / "full.yaml").string());
    ASSERT_TRUE(r.ok()) << all_text(r);
    EXPECT_TRUE(r.diagnostics.empty()) << all_text(r);
    const Config& c = r.config;

    EXPECT_EQ(c.server.listen, "[::1]:9090");
    EXPECT_EQ(c.server.host, "::1");
    EXPECT_EQ(c.server.port, 9090);
    EXPECT_EQ(c.server.threads, 4u);
    EXPECT_EQ(c.server.max_body_bytes, 1048576u);
    EXPECT_EQ(c.server.max_header_bytes, 8192u);
    EXPECT_EQ(c.server.max_connections, 500u);
    EXPECT_EQ(c.server.timeouts.header_read, Millis{5'000});
    EXPECT_EQ(c.server.timeouts.idle, Millis{120'000});
    EXPECT_EQ(c.server.timeouts.drain, Millis{1'500});
    EXPECT_EQ(c.logging.level, "debug");
    EXPECT_EQ(c.logging.access_log, "off");

    ASSERT_EQ(c.providers.size(), 3u);
    const Provider& openai = c.providers[0];
    EXPECT_EQ(openai.kind, ProviderKind::openai);
    EXPECT_EQ(openai.base_url, "https://api.openai.com/v1");
    EXPECT_TRUE(openai.tls);
    EXPECT_EQ(openai.host, "api.openai.com");
    EXPECT_EQ(openai.port, 443);
    EXPECT_EQ(openai.base_path, "/v1");
    EXPECT_EQ(openai.api_key, "sk-from-env");
    EXPECT_EQ(openai.api_key_ref, "env:BATON_TEST_FULL_KEY");
    EXPECT_FALSE(openai.api_key_missing);
    EXPECT_EQ(openai.max_connections, 64u);
    EXPECT_EQ(openai.pool_idle, Millis{45'000});
    EXPECT_EQ(openai.timeouts.connect, Millis{2'000});
    EXPECT_EQ(openai.timeouts.first_byte, Millis{30'000});
    EXPECT_EQ(openai.timeouts.idle, Millis{20'000});
    EXPECT_EQ(openai.timeouts.total, Millis{300'000});
    EXPECT_EQ(fs::path(openai.tls_settings.ca_file), kValidDir / "ca.pem");  // relative to file
    EXPECT_FALSE(openai.tls_settings.verify);
    EXPECT_EQ(openai.headers.size(), 2u);
    EXPECT_EQ(openai.headers.at("X-Extra"), "value");
    EXPECT_EQ(openai.headers.at("OpenAI-Organization"), "org-123");

    const Provider& onprem = c.providers[1];
    EXPECT_FALSE(onprem.tls);
    EXPECT_EQ(onprem.host, "10.0.0.5");
    EXPECT_EQ(onprem.port, 8000);
    EXPECT_EQ(onprem.base_path, "");
    EXPECT_EQ(onprem.api_key, "sk-from-file-0000");  // trailing newlines trimmed
    EXPECT_EQ(onprem.api_key_ref, "file:openai.key");

    const Provider& demo = c.providers[2];
    EXPECT_EQ(demo.kind, ProviderKind::mock);
    EXPECT_EQ(demo.mock.latency, Millis{50});
    EXPECT_EQ(demo.mock.tokens, 16u);
    EXPECT_EQ(demo.mock.chunk_delay, Millis{20});
    EXPECT_DOUBLE_EQ(demo.mock.error_rate, 0.25);
    EXPECT_EQ(demo.mock.error_statuses, (std::vector<int>{500, 503}));

    ASSERT_EQ(c.models.size(), 5u);
    const Model& mini = c.models[0];
    EXPECT_EQ(mini.upstream_model, "gpt-4o-mini");
    EXPECT_EQ(mini.provider_index, 0u);
    EXPECT_EQ(mini.context_window, 128000u);
    EXPECT_EQ(mini.max_output_tokens, 16384u);
    EXPECT_EQ(mini.capabilities,
              (std::vector<std::string>{"tools", "vision", "json_schema", "streaming"}));
    EXPECT_DOUBLE_EQ(mini.price.input, 0.15);
    EXPECT_DOUBLE_EQ(mini.price.output, 0.60);
    EXPECT_DOUBLE_EQ(mini.price.cached_input, 0.075);
    EXPECT_DOUBLE_EQ(mini.quality, 0.62);
    EXPECT_EQ(mini.tags, (std::vector<std::string>{"us", "zero_retention"}));
    EXPECT_EQ(mini.latency_hint.ttft, Millis{400});
    EXPECT_DOUBLE_EQ(mini.latency_hint.tokens_per_s, 80);
    ASSERT_TRUE(mini.deprecated.has_value());
    EXPECT_EQ(mini.deprecated->after, "2027-01-31");
    using namespace std::chrono;
    EXPECT_EQ(mini.deprecated->after_days,
              sys_days{year{2027} / January / 31}.time_since_epoch().count());
    EXPECT_EQ(mini.deprecated->replacement, "claude-sonnet");
    EXPECT_EQ(c.models[1].upstream_model, "claude-sonnet-4");
    EXPECT_EQ(c.models[2].provider_index, 1u);
    EXPECT_EQ(c.models[4].provider_index, 2u);

    ASSERT_EQ(c.routes.size(), 3u);
    const Route& automatic = c.routes[0];
    EXPECT_EQ(automatic.candidates.size(), 4u);  // as written
    // gpt-4o-mini, claude-sonnet, tag:on_prem -> llama-local, qwen-local; llama-local deduped.
    EXPECT_EQ(automatic.candidate_models, (std::vector<size_t>{0, 1, 2, 3}));
    EXPECT_DOUBLE_EQ(automatic.objective.cost, 0.25);
    EXPECT_DOUBLE_EQ(automatic.objective.latency, 0.25);
    EXPECT_DOUBLE_EQ(automatic.objective.quality, 0.5);
    EXPECT_EQ(automatic.constraints.max_price_input, 5.0);
    EXPECT_EQ(automatic.constraints.max_price_output, 20.0);
    EXPECT_EQ(automatic.constraints.max_ttft, Millis{2'000});
    EXPECT_TRUE(automatic.constraints.require_tags.empty());
    EXPECT_EQ(automatic.constraints.require_capabilities, std::vector<std::string>{"streaming"});
    EXPECT_DOUBLE_EQ(automatic.complexity.simple_below, 0.3);
    EXPECT_DOUBLE_EQ(automatic.complexity.complex_above, 0.7);
    ASSERT_TRUE(automatic.experiment.has_value());
    EXPECT_EQ(automatic.experiment->name, "cheap-vs-balanced");
    EXPECT_EQ(automatic.experiment->sticky_by, "header:x-user-id");  // lower-cased
    ASSERT_EQ(automatic.experiment->variants.size(), 2u);
    EXPECT_EQ(automatic.experiment->variants[0].name, "a");
    EXPECT_EQ(automatic.experiment->variants[0].weight, 90u);
    EXPECT_FALSE(automatic.experiment->variants[0].objective.has_value());
    ASSERT_TRUE(automatic.experiment->variants[1].objective.has_value());
    EXPECT_DOUBLE_EQ(automatic.experiment->variants[1].objective->cost, 0.9);
    EXPECT_DOUBLE_EQ(automatic.experiment->variants[1].objective->latency, 0.0);
    EXPECT_DOUBLE_EQ(automatic.experiment->variants[1].objective->quality, 0.1);
    // tag:zero_retention -> gpt-4o-mini, qwen-local (config order).
    EXPECT_EQ(c.routes[1].candidate_models, (std::vector<size_t>{0, 3}));
    EXPECT_EQ(c.routes[2].candidate_models, (std::vector<size_t>{4}));

    ASSERT_EQ(c.rules.size(), 4u);
    EXPECT_EQ(c.rules[0].line, 69);
    EXPECT_EQ(c.rules[0].match.headers.size(), 1u);
    EXPECT_EQ(c.rules[0].match.headers.at("x-persona"), "legal");  // name lower-cased
    EXPECT_EQ(c.rules[0].then.route, "premium");
    EXPECT_EQ(c.rules[1].match.prompt_tokens_over, 100000u);
    EXPECT_EQ(c.rules[1].then.require_capabilities, std::vector<std::string>{"long_context"});
    EXPECT_EQ(c.rules[2].match.content_regex, "(?i)\\bconfidential\\b");
    EXPECT_EQ(c.rules[2].match.models, std::vector<std::string>{"auto"});
    EXPECT_EQ(c.rules[2].then.require_tags, std::vector<std::string>{"on_prem"});
    ASSERT_TRUE(c.rules[2].then.objective.has_value());
    EXPECT_DOUBLE_EQ(c.rules[2].then.objective->quality, 0.75);
    EXPECT_DOUBLE_EQ(c.rules[2].then.objective->cost, 0.25);
    EXPECT_EQ(c.rules[3].match.models, std::vector<std::string>{"demo-small"});  // one string
    EXPECT_FALSE(c.rules[3].then.objective.has_value());
}

TEST(ConfigLoad, ListenForms) {
    struct Case {
        const char* listen;
        const char* host;
        uint16_t port;
    };
    for (const Case& c : {Case{"0.0.0.0:80", "0.0.0.0", 80}, Case{"\"[::1]:8080\"", "::1", 8080},
                          Case{"localhost:9000", "127.0.0.1", 9000}}) {
        const auto r =
            load_string(std::string("server: {listen: ") + c.listen + "}\n" + kBase, "t.yaml");
        ASSERT_TRUE(r.ok()) << all_text(r);
        EXPECT_EQ(r.config.server.host, c.host);
        EXPECT_EQ(r.config.server.port, c.port);
    }
    const auto bad = load_string(std::string("server:\n  listen: nowhere:80\n") + kBase, "t.yaml");
    ASSERT_EQ(bad.diagnostics.size(), 1u);
    EXPECT_EQ(bad.diagnostics[0].format(),
              "t.yaml:2:3: server.listen: expected host:port with an IPv4 address, [IPv6] "
              "address or localhost, e.g. 127.0.0.1:8080 or [::1]:8080, got \"nowhere:80\"");
}

TEST(ConfigLoad, ThreadsRange) {
    auto with_threads = [](const std::string& n) {
        return load_string("server:\n  threads: " + n + "\n" + kBase, "t.yaml");
    };
    EXPECT_TRUE(with_threads("0").ok());
    EXPECT_EQ(with_threads("1024").config.server.threads, 1024u);
    EXPECT_EQ(lines(with_threads("1025")),
              std::vector<std::string>{
                  "t.yaml:2:3: server.threads: must be between 0 and 1024, got 1025"});
    EXPECT_EQ(lines(with_threads("abc")),
              std::vector<std::string>{
                  "t.yaml:2:3: server.threads: expected a non-negative integer, got \"abc\""});
}

TEST(ConfigLoad, BareIntegerDurationGetsAHint) {
    const auto r =
        load_string(std::string("server:\n  timeouts:\n    idle: 30\n") + kBase, "baton.yaml");
    EXPECT_EQ(lines(r), std::vector<std::string>{
                            "baton.yaml:3:5: server.timeouts.idle: expected a duration with a "
                            "unit, got 30 (write 30s or 30ms)"});
}

TEST(ConfigLoad, SuggestionsMatchTheIssueExamples) {
    const auto r = load_string(R"(server:
  listen: 127.0.0.1:8080
  thread: 4
providers:
  - name: demo
    kind: mock
  - name: openai
    kind: opnai
    base_url: https://api.openai.com/v1
models:
  - {name: m, provider: demo}
)",
                               "baton.yaml");
    EXPECT_EQ(lines(r),
              (std::vector<std::string>{
                  "baton.yaml:3:3: server: unknown key \"thread\" (did you mean \"threads\"?)",
                  "baton.yaml:8:5: providers[1].kind: unknown kind \"opnai\" (did you mean "
                  "\"openai\"?)"}));
}

TEST(ConfigLoad, CollectsAllErrorsInFileOrder) {
    const auto r = load_string(R"(server:
  threads: many
  timeouts: {idle: 5}
logging: {level: loud}
providers:
  - {name: demo, kind: mock, mock: {error_rate: 2}}
models:
  - {name: m, provider: demo, quality: 7}
  - {name: n, provider: nobody}
routes:
  - {name: auto, candidates: [m, ghost]}
rules:
  - then: {route: nowhere}
)",
                               "t.yaml");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(count(r, Diagnostic::Severity::error), 8u) << all_text(r);
    for (size_t i = 1; i < r.diagnostics.size(); ++i) {
        const auto& a = r.diagnostics[i - 1];
        const auto& b = r.diagnostics[i];
        EXPECT_TRUE(a.line < b.line || (a.line == b.line && a.column <= b.column)) << all_text(r);
    }
    EXPECT_NE(all_text(r).find("models[1].provider: unknown provider \"nobody\""),
              std::string::npos);
    EXPECT_NE(all_text(r).find("routes[0].candidates[1]: unknown model \"ghost\""),
              std::string::npos);
    EXPECT_NE(all_text(r).find("rules[0].then.route: unknown route \"nowhere\""),
              std::string::npos);
}

TEST(ConfigLoad, CrossReferencesOnlyForEntriesThatParsed) {
    // The model has a shape error, so its unknown provider is not reported on top of it.
    const auto r = load_string(R"(providers:
  - {name: demo, kind: mock}
models:
  - {name: m, provider: nobody, quality: high}
)",
                               "t.yaml");
    EXPECT_EQ(lines(r), std::vector<std::string>{
                            "t.yaml:4:33: models[0].quality: expected a number, got \"high\""});
}

TEST(ConfigLoad, BrokenEntriesStillDefineTheirNames) {
    // "demo" has a bad kind, but models referring to it get no "unknown provider" follow-up.
    const auto r = load_string(R"(providers:
  - {name: demo, kind: mokc}
models:
  - {name: m, provider: demo}
)",
                               "t.yaml");
    EXPECT_EQ(lines(r), std::vector<std::string>{
                            "t.yaml:2:18: providers[0].kind: unknown kind \"mokc\" (did you mean "
                            "\"mock\"?)"});
}

TEST(ConfigLoad, TagSelectorsExpandInConfigOrderAndDedupe) {
    const auto r = load_string(R"(providers: [{name: p, kind: mock}]
models:
  - {name: a, provider: p, tags: [eu]}
  - {name: b, provider: p, tags: [us]}
  - {name: c, provider: p, tags: [eu, on_prem]}
  - {name: d, provider: p, tags: [on_prem]}
routes:
  - {name: r1, candidates: [d, "tag:eu", c, "tag:on_prem", d]}
  - {name: r2, candidates: ["tag:us"]}
)",
                               "t.yaml");
    ASSERT_TRUE(r.ok()) << all_text(r);
    EXPECT_EQ(r.config.routes[0].candidate_models, (std::vector<size_t>{3, 0, 2}));
    EXPECT_EQ(r.config.routes[0].candidates.size(), 5u);
    EXPECT_EQ(r.config.routes[1].candidate_models, (std::vector<size_t>{1}));
}

TEST(ConfigLoad, ObjectiveIsNormalised) {
    const auto r = load_string(std::string(kBase) + R"(routes:
  - {name: r1, candidates: [m], objective: {cost: 2, latency: 1, quality: 1}}
  - {name: r2, candidates: [m], objective: {quality: 5}}
  - {name: r3, candidates: [m]}
)",
                               "t.yaml");
    ASSERT_TRUE(r.ok()) << all_text(r);
    const auto& o1 = r.config.routes[0].objective;
    EXPECT_DOUBLE_EQ(o1.cost, 0.5);
    EXPECT_DOUBLE_EQ(o1.latency, 0.25);
    EXPECT_DOUBLE_EQ(o1.quality, 0.25);
    const auto& o2 = r.config.routes[1].objective;  // unspecified weights are 0
    EXPECT_DOUBLE_EQ(o2.cost, 0.0);
    EXPECT_DOUBLE_EQ(o2.latency, 0.0);
    EXPECT_DOUBLE_EQ(o2.quality, 1.0);
    const auto& o3 = r.config.routes[2].objective;  // struct default
    EXPECT_DOUBLE_EQ(o3.cost + o3.latency + o3.quality, 1.0);
    EXPECT_DOUBLE_EQ(o3.cost, Objective{}.cost);
}

TEST(ConfigSecrets, EnvVariableSet) {
    ::setenv("BATON_TEST_KEY_SET", "sk-env-value", 1);
    const auto r = load_string(R"(providers:
  - {name: o, kind: openai, base_url: "http://127.0.0.1:1", api_key: "env:BATON_TEST_KEY_SET"}
models: [{name: m, provider: o}]
)",
                               "t.yaml");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.diagnostics.empty()) << all_text(r);
    EXPECT_EQ(r.config.providers[0].api_key, "sk-env-value");
    EXPECT_EQ(r.config.providers[0].api_key_ref, "env:BATON_TEST_KEY_SET");
    EXPECT_FALSE(r.config.providers[0].api_key_missing);
}

TEST(ConfigSecrets, EnvVariableUnsetIsAWarning) {
    ::unsetenv("BATON_TEST_KEY_UNSET");
    const auto r = load_string(R"(providers:
  - name: openai
    kind: openai
    base_url: https://api.openai.com/v1
    api_key: env:BATON_TEST_KEY_UNSET
models: [{name: m, provider: openai}]
)",
                               "baton.yaml");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(lines(r), std::vector<std::string>{
                            "baton.yaml:5:5: warning: providers[0].api_key: environment variable "
                            "BATON_TEST_KEY_UNSET is not set; models of provider openai will "
                            "answer 401"});
    const auto& p = r.config.providers[0];
    EXPECT_TRUE(p.api_key.empty());
    EXPECT_TRUE(p.api_key_missing);
    EXPECT_EQ(p.api_key_missing_reason, "environment variable BATON_TEST_KEY_UNSET is not set");
}

TEST(ConfigSecrets, EnvVariableEmptyIsAWarning) {
    ::setenv("BATON_TEST_KEY_EMPTY", "", 1);
    const auto r = load_string(R"(providers:
  - {name: o, kind: openai, base_url: "http://h", api_key: "env:BATON_TEST_KEY_EMPTY"}
models: [{name: m, provider: o}]
)",
                               "t.yaml");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(count(r, Diagnostic::Severity::warning), 1u);
    EXPECT_TRUE(r.config.providers[0].api_key_missing);
    EXPECT_EQ(r.config.providers[0].api_key_missing_reason,
              "environment variable BATON_TEST_KEY_EMPTY is empty");
}

TEST(ConfigSecrets, FileIsReadAndTrimmed) {
    TempDir dir;
    const auto key = dir.write("key.txt", "sk-file-secret \r\n\n");
    const auto r = load_string(
        "providers:\n  - {name: o, kind: openai, base_url: \"http://h\", "
        "api_key: \"file:" +
            key.string() + "\"}\n" + "models: [{name: m, provider: o}]\n",
        "t.yaml");
    ASSERT_TRUE(r.ok()) << all_text(r);
    EXPECT_TRUE(r.diagnostics.empty()) << all_text(r);
    EXPECT_EQ(r.config.providers[0].api_key, "sk-file-secret");
    EXPECT_EQ(r.config.providers[0].api_key_ref, "file:" + key.string());
}

TEST(ConfigSecrets, FileRelativeToTheConfigFile) {
    TempDir dir;
    dir.write("key.txt", "sk-relative\n");
    const auto cfg = dir.write("baton.yaml", R"(providers:
  - {name: o, kind: openai, base_url: "http://h", api_key: "file:key.txt"}
models: [{name: m, provider: o}]
)");
    const auto r = load_file(cfg.string());
    ASSERT_TRUE(r.ok()) << all_text(r);
    EXPECT_EQ(r.config.providers[0].api_key, "sk-relative");
}

TEST(ConfigSecrets, UnreadableOrEmptyFileIsAWarning) {
    TempDir dir;
    const auto empty = dir.write("empty.txt", " \n");
    const std::string missing = (dir.path / "nope.txt").string();
    const auto r = load_string(
        "providers:\n"
        "  - {name: a, kind: openai, base_url: \"http://h\", api_key: "
        "\"file:" +
            missing +
            "\"}\n"
            "  - {name: b, kind: openai, base_url: \"http://h\", api_key: "
            "\"file:" +
            empty.string() +
            "\"}\n"
            "models: [{name: m, provider: a}]\n",
        "t.yaml");
    EXPECT_TRUE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 2u) << all_text(r);
    EXPECT_EQ(r.diagnostics[0].message,
              "cannot read api key file " + missing +
                  ": No such file or directory; models of provider a will answer 401");
    EXPECT_EQ(r.diagnostics[1].message,
              "api key file " + empty.string() + " is empty; models of provider b will answer 401");
    EXPECT_TRUE(r.config.providers[0].api_key_missing);
    EXPECT_TRUE(r.config.providers[1].api_key_missing);
}

TEST(ConfigSecrets, LiteralKeyIsAcceptedWithAWarning) {
    const auto r = load_string(R"(providers:
  - {name: o, kind: openai, base_url: "http://h", api_key: sk-literal-123}
models: [{name: m, provider: o}]
)",
                               "t.yaml");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.config.providers[0].api_key, "sk-literal-123");
    EXPECT_EQ(lines(r), std::vector<std::string>{
                            "t.yaml:2:51: warning: providers[0].api_key: the api key is written "
                            "in the config file; use env:NAME or file:PATH instead"});
}

TEST(ConfigSecrets, OptionalForOpenaiAndIgnoredForMock) {
    ::unsetenv("BATON_TEST_KEY_UNSET");
    const auto r = load_string(R"(providers:
  - {name: vllm, kind: openai, base_url: "http://127.0.0.1:8000/v1"}
  - {name: demo, kind: mock, api_key: "env:BATON_TEST_KEY_UNSET"}
models: [{name: m, provider: vllm}]
)",
                               "t.yaml");
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.diagnostics.empty()) << all_text(r);
    EXPECT_TRUE(r.config.providers[0].api_key.empty());
    EXPECT_FALSE(r.config.providers[0].api_key_missing);
    EXPECT_FALSE(r.config.providers[1].api_key_missing);
}

TEST(ConfigSecrets, ValuesNeverAppearInDiagnostics) {
    const std::string secret = "sk-TOP-SECRET-4242";
    ::setenv("BATON_TEST_SECRET_ENV", secret.c_str(), 1);
    TempDir dir;
    const auto key = dir.write("key.txt", secret + "\n");
    // Lots of errors and warnings around secrets: none of them may echo the values.
    const std::string yaml =
        "providers:\n"
        "  - name: literal\n"
        "    kind: openai\n"
        "    base_url: \"https://user:" +
        secret +
        "@api.example.com/v1\"\n"
        "    api_key: " +
        secret +
        "\n"
        "    headers: {Authorization: \"Bearer " +
        secret +
        "\", "
        "\"Bad Name\": x, X-Key: [\"" +
        secret +
        "\"]}\n"
        "    tls: {verify: \"" +
        secret +
        "-no\"}\n"
        "  - name: env\n"
        "    kind: openai\n"
        "    base_url: http://h\n"
        "    api_key: env:BATON_TEST_SECRET_ENV\n"
        "    max_connections: -1\n"
        "  - name: file\n"
        "    kind: openai\n"
        "    base_url: http://h\n"
        "    api_key: \"file:" +
        key.string() +
        "\"\n"
        "    pool_idle: 5\n"
        "  - name: weird\n"
        "    kind: openai\n"
        "    base_url: http://h\n"
        "    api_key: {value: " +
        secret +
        "}\n"
        "models: [{name: m, provider: literal}]\n";
    const auto r = load_string(yaml, "t.yaml");
    EXPECT_FALSE(r.ok());
    EXPECT_GE(r.diagnostics.size(), 5u) << all_text(r);
    // The tls.verify value is not a secret field, so it is the one place the text may appear;
    // everything else must not mention it.
    for (const auto& d : r.diagnostics) {
        if (d.path == "providers[0].tls.verify") continue;
        EXPECT_EQ(d.format().find(secret), std::string::npos) << d.format();
    }
    EXPECT_EQ(r.config.providers[1].api_key, secret);
    EXPECT_EQ(r.config.providers[2].api_key, secret);
}

TEST(ConfigLoad, MissingFileIsOneDiagnostic) {
    const auto r = load_file("/nonexistent/dir/baton.yaml");
    EXPECT_EQ(lines(r), std::vector<std::string>{
                            "/nonexistent/dir/baton.yaml: cannot read file: No such file or "
                            "directory"});
    EXPECT_FALSE(r.ok());
}

TEST(ConfigLoad, YamlSyntaxErrorIsOneDiagnostic) {
    const auto r = load_string("server:\n  listen: [1, 2\nproviders: []\n", "t.yaml");
    ASSERT_EQ(r.diagnostics.size(), 1u) << all_text(r);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.diagnostics[0].line, 3);
    EXPECT_GE(r.diagnostics[0].column, 1);
    EXPECT_EQ(r.diagnostics[0].message.rfind("invalid YAML: ", 0), 0u);
}

TEST(ConfigLoad, ProvidersAndModelsAreRequired) {
    const auto r = load_string("server: {threads: 2}\n", "t.yaml");
    EXPECT_EQ(lines(r),
              (std::vector<std::string>{
                  "t.yaml:1:1: missing required key \"providers\" (at least one provider is "
                  "needed)",
                  "t.yaml:1:1: missing required key \"models\" (at least one model is needed)"}));
}

TEST(ConfigLoad, WarningsAloneAreOk) {
    const auto r = load_string(std::string(kBase) + "rules:\n  - match: {model: m}\n", "t.yaml");
    EXPECT_TRUE(r.ok());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].severity, Diagnostic::Severity::warning);
}

TEST(ConfigLoad, DeprecationReplacementMustExist) {
    const auto r = load_string(R"(providers: [{name: p, kind: mock}]
models:
  - {name: old, provider: p, deprecated: {after: 2026-06-30, replacement: new}}
  - {name: new, provider: p}
  - {name: gone, provider: p, deprecated: {after: 2020-01-01}}
)",
                               "t.yaml");
    ASSERT_TRUE(r.ok()) << all_text(r);
    ASSERT_TRUE(r.config.models[2].deprecated.has_value());
    EXPECT_TRUE(r.config.models[2].deprecated->replacement.empty());
    using namespace std::chrono;
    EXPECT_EQ(r.config.models[2].deprecated->after_days,
              sys_days{year{2020} / January / 1}.time_since_epoch().count());
}

}  // namespace
