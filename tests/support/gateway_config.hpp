#pragma once
// The YAML configs the integration tests start the gateway with. One shape, every knob a test
// needs to turn: an OpenAI-kind provider "up" (model m1 → real-model-1) and a mock provider
// "demo" (model demo-small).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace baton::test {

// The provider key the tests hand to the gateway through TEST_KEY; recognisable so the tests can
// assert it never shows up in any log.
inline constexpr const char* kTestApiKey = "sk-test-KEYVALUE-7f3a9c1e-do-not-log";

struct GatewayConfig {
    // server
    std::string listen = "127.0.0.1:0";
    unsigned threads = 1;
    std::optional<uint64_t> max_body_bytes;
    std::optional<uint32_t> max_header_bytes;
    std::optional<uint32_t> max_connections;
    std::string header_read = "10s";
    std::string idle = "60s";
    std::string drain = "30s";
    // logging
    std::string log_level = "info";
    std::string access_log = "stdout";
    // provider "up" (kind openai) and its model m1
    std::string upstream_base_url = "http://127.0.0.1:9/v1";
    std::string upstream_api_key = "env:TEST_KEY";
    unsigned upstream_max_connections = 8;
    std::string connect_timeout = "1s";
    std::string first_byte_timeout = "2s";
    std::string upstream_idle_timeout = "1s";
    std::string total_timeout = "10s";
    std::string ca_file;                  // tls.ca_file when non-empty
    std::optional<unsigned> max_retries;  // resilience.max_retries (gateway default: 2)
    // provider "demo" (kind mock) and its model demo-small
    std::string mock_latency = "0ms";
    unsigned mock_tokens = 8;
    std::string mock_chunk_delay = "0ms";

    std::string to_yaml() const;
};

}  // namespace baton::test
