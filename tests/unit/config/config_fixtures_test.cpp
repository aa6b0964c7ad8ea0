// Table-driven diagnostics tests: every tests/fixtures/config/invalid/<name>.yaml is loaded and
// its formatted diagnostics must equal <name>.expected line for line (file names relative to
// the fixture directory). Also: the shipped configs and the valid fixtures load cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "baton/config/load.hpp"

namespace fs = std::filesystem;
using baton::config::Diagnostic;
using baton::config::load_file;

namespace {

const fs::path kSourceDir{BATON_SOURCE_DIR};
const fs::path kInvalidDir = kSourceDir / "tests" / "fixtures" / "config" / "invalid";
const fs::path kValidDir = kSourceDir / "tests" / "fixtures" / "config" / "valid";

std::vector<std::string> fixture_stems(const fs::path& dir, const std::string& ext) {
    std::vector<std::string> stems;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ext) stems.push_back(entry.path().stem().string());
    }
    std::sort(stems.begin(), stems.end());
    return stems;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Non-empty lines, joined back with '\n' so a mismatch shows as a readable diff.
std::string normalise_lines(const std::string& text) {
    std::string out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) out += line + "\n";
        start = end + 1;
    }
    return out;
}

class ConfigInvalidFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ConfigInvalidFixture, ReportsExactlyTheExpectedDiagnostics) {
    // secrets.yaml relies on this variable being unset.
    ::unsetenv("BATON_TEST_SURELY_UNSET_VARIABLE");
    const fs::path yaml = kInvalidDir / (GetParam() + ".yaml");
    const fs::path expected = kInvalidDir / (GetParam() + ".expected");
    ASSERT_TRUE(fs::exists(expected)) << "missing " << expected;

    const auto result = load_file(yaml.string());
    EXPECT_FALSE(result.ok());

    const std::string prefix = kInvalidDir.string() + "/";
    std::string actual;
    for (const auto& d : result.diagnostics) {
        // Every diagnostic carries a file, a 1-based position and a message.
        EXPECT_EQ(d.file, yaml.string());
        EXPECT_GE(d.line, 1) << d.format();
        EXPECT_GE(d.column, 1) << d.format();
        EXPECT_FALSE(d.message.empty());
        std::string line = d.format();
        if (line.rfind(prefix, 0) == 0) line.erase(0, prefix.size());
        actual += line + "\n";
    }
    EXPECT_EQ(actual, normalise_lines(read_text(expected)));
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    for (auto& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ConfigInvalidFixture,
                         ::testing::ValuesIn(fixture_stems(kInvalidDir, ".yaml")), test_name);

TEST(ConfigFixtures, EveryInvalidFixtureHasAnExpectationAndViceVersa) {
    const auto yamls = fixture_stems(kInvalidDir, ".yaml");
    const auto expectations = fixture_stems(kInvalidDir, ".expected");
    EXPECT_GE(yamls.size(), 15u);
    EXPECT_EQ(yamls, expectations);
}

TEST(ConfigFixtures, ValidFixturesLoadWithoutDiagnostics) {
    ::setenv("BATON_TEST_FULL_KEY", "sk-from-env", 1);
    const auto stems = fixture_stems(kValidDir, ".yaml");
    ASSERT_FALSE(stems.empty());
    for (const auto& stem : stems) {
        const auto result = load_file((kValidDir / (stem + ".yaml")).string());
        EXPECT_TRUE(result.ok()) << stem;
        for (const auto& d : result.diagnostics) ADD_FAILURE() << d.format();
    }
}

// The shipped configs: no errors; the only acceptable warnings are unset API-key variables
// (e.g. OPENAI_API_KEY on a machine without one).
void expect_loads_cleanly(const fs::path& path) {
    const auto result = load_file(path.string());
    EXPECT_TRUE(result.ok()) << path;
    for (const auto& d : result.diagnostics) {
        EXPECT_EQ(d.severity, Diagnostic::Severity::warning) << d.format();
        EXPECT_NE(d.message.find("environment variable"), std::string::npos) << d.format();
    }
}

TEST(ConfigFixtures, ShippedBatonYamlLoads) {
    const fs::path path = kSourceDir / "config" / "baton.yaml";
    expect_loads_cleanly(path);
    const auto result = load_file(path.string());
    const auto& cfg = result.config;
    EXPECT_EQ(cfg.server.host, "127.0.0.1");
    EXPECT_EQ(cfg.server.port, 8080);
    ASSERT_NE(cfg.find_model("demo-small"), nullptr);
    ASSERT_NE(cfg.find_model("demo-large"), nullptr);
    ASSERT_NE(cfg.find_model("gpt-4o-mini"), nullptr);
    const auto* small = cfg.find_model("demo-small");
    const auto* large = cfg.find_model("demo-large");
    EXPECT_LT(small->price.input, large->price.input);
    EXPECT_LT(small->quality, large->quality);
    for (const auto* m : {small, large}) {
        EXPECT_TRUE(m->has_capability("tools"));
        EXPECT_TRUE(m->has_capability("streaming"));
        EXPECT_EQ(cfg.providers[m->provider_index].kind, baton::config::ProviderKind::mock);
    }
    const auto* route = cfg.find_route("auto");
    ASSERT_NE(route, nullptr);
    EXPECT_EQ(route->candidate_models.size(), 2u);
}

TEST(ConfigFixtures, ShippedExampleYamlLoads) {
    expect_loads_cleanly(kSourceDir / "config" / "baton.example.yaml");
}

}  // namespace
