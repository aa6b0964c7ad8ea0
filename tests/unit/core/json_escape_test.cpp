#include "baton/core/json_escape.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace baton {
namespace {

std::string as_json_string(std::string_view s) {
    std::string out = "\"";
    json_escape_append(out, s);
    out += '"';
    return out;
}

TEST(JsonEscape, EscapesAndRoundTrips) {
    for (std::string_view s :
         {"plain", "q\"uote\\back", "line\nbreak\ttab\x01", "caf\xc3\xa9 \xe2\x82\xac"}) {
        EXPECT_EQ(nlohmann::json::parse(as_json_string(s)).get<std::string>(), s);
    }
}

TEST(JsonEscape, InvalidUtf8BecomesReplacementCharacter) {
    std::string bad = "/v1/\xff\xc3(path";
    auto j = nlohmann::json::parse(as_json_string(bad));  // must be valid JSON
    EXPECT_EQ(j.get<std::string>(), "/v1/\xef\xbf\xbd\xef\xbf\xbd(path");
}

}  // namespace
}  // namespace baton
