// Error mapping tables (status ⇄ Anthropic error type) and envelope conversions.
#include "baton/translate/anthropic_errors.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/translate/translate_support.hpp"

namespace baton::translate {
namespace {

using test::json;
using test::Unordered;

TEST(AnthropicErrors, StatusToTypeTable) {
    const std::vector<std::pair<unsigned, std::string>> table = {
        {400, "invalid_request_error"},
        {401, "authentication_error"},
        {402, "billing_error"},
        {403, "permission_error"},
        {404, "not_found_error"},
        {413, "request_too_large"},
        {429, "rate_limit_error"},
        {500, "api_error"},
        {529, "overloaded_error"},
        {503, "overloaded_error"},
        {504, "timeout_error"},
        {409, "invalid_request_error"},
        {422, "invalid_request_error"},
        {502, "api_error"},
        {200, "api_error"},
    };
    for (const auto& [status, type] : table) {
        EXPECT_EQ(anthropic_error_type_for_status(status), type) << status;
    }
}

TEST(AnthropicErrors, TypeToStatusTable) {
    const std::vector<std::pair<std::string, unsigned>> table = {
        {"invalid_request_error", 400}, {"authentication_error", 401},
        {"billing_error", 402},         {"permission_error", 403},
        {"not_found_error", 404},       {"request_too_large", 413},
        {"rate_limit_error", 429},      {"api_error", 500},
        {"timeout_error", 504},         {"overloaded_error", 529},
        {"brand_new_error", 500},
    };
    for (const auto& [type, status] : table) {
        EXPECT_EQ(status_for_anthropic_error_type(type), status) << type;
    }
}

TEST(AnthropicErrors, AnthropicToOpenAIObject) {
    struct Row {
        const char* type;
        const char* message;
        const char* openai_type;
        const char* code;  // nullptr → null
    };
    const std::vector<Row> rows = {
        {"invalid_request_error", "bad", "invalid_request_error", nullptr},
        {"invalid_request_error", "Prompt is too long: 250000 tokens", "invalid_request_error",
         "context_length_exceeded"},
        {"authentication_error", "x", "authentication_error", "invalid_api_key"},
        {"permission_error", "x", "permission_error", nullptr},
        {"not_found_error", "x", "invalid_request_error", "not_found"},
        {"request_too_large", "x", "invalid_request_error", "request_too_large"},
        {"rate_limit_error", "x", "rate_limit_error", "rate_limit_exceeded"},
        {"billing_error", "x", "insufficient_quota", "insufficient_quota"},
        {"api_error", "x", "api_error", nullptr},
        {"overloaded_error", "x", "api_error", "overloaded"},
        {"timeout_error", "x", "api_error", "timeout"},
    };
    for (const auto& r : rows) {
        const json o = openai_error_object({{"type", r.type}, {"message", r.message}});
        EXPECT_EQ(o["type"], r.openai_type) << r.type;
        EXPECT_EQ(o["code"], r.code ? json(r.code) : json()) << r.type;
        EXPECT_EQ(o["message"], r.message);
        EXPECT_TRUE(o["param"].is_null());
    }
}

TEST(AnthropicErrors, AnthropicBodiesOfAnyShape) {
    // Non-JSON, JSON without an error object, and an error object without a type.
    EXPECT_EQ(anthropic_error_to_openai(502, "").body["error"]["message"],
              "upstream returned HTTP 502");
    EXPECT_EQ(anthropic_error_to_openai(500, R"({"oops":1})").body["error"]["type"], "api_error");
    auto e = anthropic_error_to_openai(429, R"({"error":{"message":"slow"}})");
    EXPECT_EQ(e.status, 429u);
    EXPECT_EQ(e.body["error"]["code"], "rate_limit_exceeded");
    EXPECT_EQ(anthropic_error_to_openai(200, "{}").status, 502u);  // not an error status
    const std::string long_body(5000, 'x');
    EXPECT_LT(anthropic_error_to_openai(500, long_body)
                  .body["error"]["message"]
                  .get<std::string>()
                  .size(),
              400u);
}

TEST(AnthropicErrors, OpenAIToAnthropicByStatus) {
    const std::vector<std::pair<unsigned, std::string>> table = {
        {400, "invalid_request_error"},
        {401, "authentication_error"},
        {403, "permission_error"},
        {404, "not_found_error"},
        {413, "request_too_large"},
        {429, "rate_limit_error"},
        {500, "api_error"},
        {503, "overloaded_error"},
        {529, "overloaded_error"},
    };
    for (const auto& [status, type] : table) {
        auto e = openai_error_to_anthropic(
            status, R"({"error":{"message":"m","type":"t","param":null,"code":null}})");
        EXPECT_EQ(e.status, status);
        EXPECT_EQ(Unordered(e.body),
                  Unordered(json{{"type", "error"}, {"error", {{"type", type}, {"message", "m"}}}}))
            << status;
    }
    EXPECT_EQ(openai_error_to_anthropic(500, "<html>").body["error"]["message"],
              "upstream returned HTTP 500: <html>");
}

TEST(AnthropicErrors, StreamErrorObjectsGoByType) {
    auto type = [](const char* body) {
        return anthropic_error_object(json::parse(body), 0)["type"].get<std::string>();
    };
    EXPECT_EQ(type(R"({"message":"m","type":"invalid_request_error"})"), "invalid_request_error");
    EXPECT_EQ(type(R"({"message":"m","type":"invalid_request_error","code":"model_not_found"})"),
              "not_found_error");
    EXPECT_EQ(type(R"({"message":"m","type":"tokens","code":"rate_limit_exceeded"})"),
              "rate_limit_error");
    EXPECT_EQ(type(R"({"message":"m","type":"server_error"})"), "api_error");
    EXPECT_EQ(type(R"({"message":"m","type":"authentication_error"})"), "authentication_error");
    EXPECT_EQ(anthropic_error_object(json::object(), 0)["message"], "upstream error");
}

TEST(AnthropicErrors, BatonErrorsInAnthropicShape) {
    struct Row {
        baton::Errc code;
        unsigned status;
        const char* type;
    };
    const std::vector<Row> rows = {
        {baton::Errc::invalid_json, 400, "invalid_request_error"},
        {baton::Errc::invalid_request, 400, "invalid_request_error"},
        {baton::Errc::unauthenticated, 401, "authentication_error"},
        {baton::Errc::forbidden, 403, "permission_error"},
        {baton::Errc::model_not_found, 404, "not_found_error"},
        {baton::Errc::payload_too_large, 413, "request_too_large"},
        {baton::Errc::unprocessable, 422, "invalid_request_error"},
        {baton::Errc::rate_limited, 429, "rate_limit_error"},
        {baton::Errc::upstream_connect, 502, "api_error"},
        {baton::Errc::unavailable, 503, "overloaded_error"},
        {baton::Errc::upstream_timeout, 504, "timeout_error"},
        {baton::Errc::internal, 500, "api_error"},
    };
    for (const auto& r : rows) {
        const HttpError e = anthropic_error(baton::make_error(r.code, "msg"));
        EXPECT_EQ(e.status, r.status);
        EXPECT_EQ(
            Unordered(e.body),
            Unordered(json{{"type", "error"}, {"error", {{"type", r.type}, {"message", "msg"}}}}));
    }
    EXPECT_EQ(anthropic_error_body(baton::make_error(baton::Errc::rate_limited, "slow")),
              R"({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})");
    EXPECT_EQ(anthropic_error_sse_event(baton::make_error(baton::Errc::internal, "boom")),
              "event: error\ndata: "
              "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}\n\n");
    // Invalid UTF-8 from a peer never throws.
    EXPECT_NO_THROW(
        anthropic_error_body(baton::make_error(baton::Errc::internal, "bad \xff byte")));
}

}  // namespace
}  // namespace baton::translate
