#pragma once
// Small things most integration tests share: request bodies, JSON / SSE inspection, the OpenAI
// error-envelope assertion, starting a gateway with the test key.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/gateway_config.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"

namespace baton::test {

using nlohmann::json;

// {"model":M,"messages":[{"role":"user","content":P}]} (+ "stream":true).
std::string chat_body(std::string_view model, std::string_view prompt = "Say hello",
                      bool stream = false);

std::optional<json> parse_json(std::string_view text);

// The "data:" payloads of an SSE body, in order ("[DONE]" included).
std::vector<std::string> sse_data(std::string_view body);

// Status matches and the body is {"error":{"message":string,"type":string,"param":..,
// "code":..}}; on success `out` (optional) receives the "error" object.
::testing::AssertionResult is_openai_error(const HttpResponse& r, unsigned status,
                                           json* out = nullptr);

// TEST_KEY=kTestApiKey, for the child's environment.
EnvChanges test_key_env();

// A gateway for `cfg` with TEST_KEY set (or `env`); start() it with ASSERT_TRUE.
std::unique_ptr<GatewayProcess> make_gateway(const GatewayConfig& cfg,
                                             EnvChanges env = test_key_env());

}  // namespace baton::test
