#include "support/test_helpers.hpp"

namespace baton::test {

std::string chat_body(std::string_view model, std::string_view prompt, bool stream) {
    json j = {{"model", model},
              {"messages", json::array({{{"role", "user"}, {"content", prompt}}})}};
    if (stream) j["stream"] = true;
    return j.dump();
}

std::optional<json> parse_json(std::string_view text) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

std::vector<std::string> sse_data(std::string_view body) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t end = body.find("\n\n", pos);
        std::string_view event =
            body.substr(pos, end == std::string_view::npos ? body.size() - pos : end - pos);
        pos = end == std::string_view::npos ? body.size() : end + 2;
        std::string data;
        bool have = false;
        size_t lp = 0;
        while (lp <= event.size()) {
            size_t le = event.find('\n', lp);
            std::string_view line =
                event.substr(lp, le == std::string_view::npos ? event.size() - lp : le - lp);
            lp = le == std::string_view::npos ? event.size() + 1 : le + 1;
            if (line.substr(0, 5) == "data:") {
                std::string_view v = line.substr(5);
                if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
                if (have) data += '\n';
                data += v;
                have = true;
            }
        }
        if (have) out.push_back(std::move(data));
    }
    return out;
}

::testing::AssertionResult is_openai_error(const HttpResponse& r, unsigned status, json* out) {
    if (!r.ok) return ::testing::AssertionFailure() << "no complete response: " << r.describe();
    if (r.status != status) {
        return ::testing::AssertionFailure()
               << "expected status " << status << ", got " << r.describe();
    }
    auto j = parse_json(r.body);
    if (!j || !j->is_object() || !j->contains("error") || !(*j)["error"].is_object()) {
        return ::testing::AssertionFailure() << "body is not an OpenAI error: " << r.body;
    }
    const json& e = (*j)["error"];
    for (const char* k : {"message", "type", "param", "code"}) {
        if (!e.contains(k)) {
            return ::testing::AssertionFailure() << "error lacks \"" << k << "\": " << r.body;
        }
    }
    if (!e["message"].is_string() || e["message"].get<std::string>().empty()) {
        return ::testing::AssertionFailure() << "error.message not a non-empty string: " << r.body;
    }
    if (!e["type"].is_string()) {
        return ::testing::AssertionFailure() << "error.type not a string: " << r.body;
    }
    if (!e["param"].is_null() && !e["param"].is_string()) {
        return ::testing::AssertionFailure() << "error.param neither null nor string: " << r.body;
    }
    if (!e["code"].is_null() && !e["code"].is_string()) {
        return ::testing::AssertionFailure() << "error.code neither null nor string: " << r.body;
    }
    if (out) *out = e;
    return ::testing::AssertionSuccess();
}

EnvChanges test_key_env() { return {{"TEST_KEY", std::string(kTestApiKey)}}; }

std::unique_ptr<GatewayProcess> make_gateway(const GatewayConfig& cfg, EnvChanges env) {
    return std::make_unique<GatewayProcess>(cfg.to_yaml(), std::move(env));
}

}  // namespace baton::test
