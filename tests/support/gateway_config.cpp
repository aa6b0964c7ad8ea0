#include "support/gateway_config.hpp"

#include <sstream>

namespace baton::test {

namespace {

// A YAML double-quoted scalar.
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace

std::string GatewayConfig::to_yaml() const {
    std::ostringstream y;
    y << "server:\n"
      << "  listen: " << listen << "\n"
      << "  threads: " << threads << "\n";
    if (max_body_bytes) y << "  max_body_bytes: " << *max_body_bytes << "\n";
    if (max_header_bytes) y << "  max_header_bytes: " << *max_header_bytes << "\n";
    if (max_connections) y << "  max_connections: " << *max_connections << "\n";
    y << "  timeouts: {header_read: " << header_read << ", idle: " << idle << ", drain: " << drain
      << "}\n"
      << "logging:\n"
      << "  level: " << log_level << "\n"
      << "  access_log: " << access_log << "\n"
      << "providers:\n"
      << "  - name: up\n"
      << "    kind: openai\n"
      << "    base_url: " << quoted(upstream_base_url) << "\n"
      << "    api_key: " << quoted(upstream_api_key) << "\n"
      << "    max_connections: " << upstream_max_connections << "\n"
      << "    timeouts: {connect: " << connect_timeout << ", first_byte: " << first_byte_timeout
      << ", idle: " << upstream_idle_timeout << ", total: " << total_timeout << "}\n";
    if (!ca_file.empty()) y << "    tls: {ca_file: " << quoted(ca_file) << "}\n";
    if (max_retries) y << "    resilience: {max_retries: " << *max_retries << "}\n";
    y << "  - name: demo\n"
      << "    kind: mock\n"
      << "    mock: {latency: " << mock_latency << ", tokens: " << mock_tokens
      << ", chunk_delay: " << mock_chunk_delay << "}\n"
      << "models:\n"
      << "  - {name: m1, provider: up, upstream_model: real-model-1}\n"
      << "  - {name: demo-small, provider: demo}\n";
    return y.str();
}

}  // namespace baton::test
