#include "baton/openai/error_envelope.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "baton/openai/sse.hpp"

namespace baton::openai {
namespace {

using nlohmann::json;

struct Row {
    Errc code;
    unsigned status;
    const char* type;
    const char* code_str;  // nullptr → null
};

const std::vector<Row> kTable = {
    {Errc::invalid_json, 400, "invalid_request_error", "invalid_json"},
    {Errc::invalid_request, 400, "invalid_request_error", nullptr},
    {Errc::unauthenticated, 401, "authentication_error", "invalid_api_key"},
    {Errc::provider_credentials_missing, 401, "authentication_error",
     "provider_credentials_missing"},
    {Errc::forbidden, 403, "permission_error", "forbidden"},
    {Errc::not_found, 404, "invalid_request_error", "not_found"},
    {Errc::model_not_found, 404, "invalid_request_error", "model_not_found"},
    {Errc::method_not_allowed, 405, "invalid_request_error", "method_not_allowed"},
    {Errc::request_timeout, 408, "invalid_request_error", "request_timeout"},
    {Errc::payload_too_large, 413, "invalid_request_error", "request_too_large"},
    {Errc::unprocessable, 422, "invalid_request_error", "no_candidate"},
    {Errc::rate_limited, 429, "rate_limit_error", "rate_limit_exceeded"},
    {Errc::header_too_large, 431, "invalid_request_error", "request_header_fields_too_large"},
    {Errc::upstream_connect, 502, "api_error", "upstream_unreachable"},
    {Errc::upstream_protocol, 502, "api_error", "upstream_protocol_error"},
    {Errc::upstream_timeout, 504, "api_error", "upstream_timeout"},
    {Errc::unavailable, 503, "api_error", "unavailable"},
    {Errc::internal, 500, "api_error", "internal_error"},
};

TEST(ErrorEnvelope, TableCoversEveryCode) {
    EXPECT_EQ(kTable.size(), size_t(Errc::internal) + 1);
    for (const Row& row : kTable) {
        const ErrorInfo info = error_info(row.code);
        EXPECT_EQ(info.status, row.status) << row.type;
        EXPECT_STREQ(info.type, row.type);
        if (row.code_str) {
            ASSERT_NE(info.code, nullptr);
            EXPECT_STREQ(info.code, row.code_str);
        } else {
            EXPECT_EQ(info.code, nullptr);
        }
    }
}

TEST(ErrorEnvelope, BodyShape) {
    for (const Row& row : kTable) {
        const std::string body = error_body(make_error(row.code, "boom", "messages[0].role"));
        const json j = json::parse(body);
        ASSERT_TRUE(j.is_object());
        ASSERT_EQ(j.size(), 1u);
        const json& e = j.at("error");
        ASSERT_EQ(e.size(), 4u);
        EXPECT_EQ(e.at("message"), "boom");
        EXPECT_EQ(e.at("type"), row.type);
        EXPECT_EQ(e.at("param"), "messages[0].role");
        if (row.code_str) {
            EXPECT_EQ(e.at("code"), row.code_str);
        } else {
            EXPECT_TRUE(e.at("code").is_null());
        }
    }
}

TEST(ErrorEnvelope, ExactBytesAndNullParam) {
    EXPECT_EQ(error_body(make_error(Errc::model_not_found, "no such model")),
              R"({"error":{"message":"no such model","type":"invalid_request_error",)"
              R"("param":null,"code":"model_not_found"}})");
    EXPECT_EQ(error_body(make_error(Errc::invalid_request, "bad", "stream")),
              R"({"error":{"message":"bad","type":"invalid_request_error",)"
              R"("param":"stream","code":null}})");
}

TEST(ErrorEnvelope, EscapesMessageAndParam) {
    const std::string nasty = std::string("quote \" backslash \\ nl \n tab \t cr \r nul ") +
                              std::string(1, '\0') + " ctl \x1f caf\xC3\xA9 </script>";
    const std::string body = error_body(make_error(Errc::invalid_request, nasty, "a\"b"));
    const json j = json::parse(body);
    EXPECT_EQ(j["error"]["message"], nasty);
    EXPECT_EQ(j["error"]["param"], "a\"b");
    EXPECT_EQ(body.find('\n'), std::string::npos);  // one line: safe inside an SSE data field
}

TEST(ErrorEnvelope, InvalidUtf8DoesNotThrow) {
    std::string body;
    EXPECT_NO_THROW(body = error_body(make_error(Errc::upstream_protocol, "bad \xFF\xC3 byte")));
    const json j = json::parse(body);
    EXPECT_EQ(j["error"]["type"], "api_error");
}

TEST(ErrorEnvelope, SseEvent) {
    const Error e = make_error(Errc::upstream_timeout, "upstream timed out\nafter 30s");
    const std::string ev = error_sse_event(e);
    EXPECT_EQ(ev, "data: " + error_body(e) + "\n\n");
    SseDecoder d;
    std::vector<std::string> got;
    d.feed(ev, [&](const SseEvent& x) { got.emplace_back(x.data); });
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(json::parse(got[0])["error"]["message"], e.message);
}

}  // namespace
}  // namespace baton::openai
