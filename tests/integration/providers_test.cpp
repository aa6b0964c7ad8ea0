// Provider kinds and inbound APIs behind the real binary, each against a fake upstream speaking
// that provider's wire format: anthropic (Messages API), gemini (generateContent), azure
// (deployments), and POST /v1/messages (Anthropic clients) served by OpenAI- and Anthropic-format
// upstreams. The fakes assert what they received (path, credentials header, translated body).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_upstream.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/test_helpers.hpp"
#include "support/wait.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kChat = "/v1/chat/completions";
constexpr const char* kMessages = "/v1/messages";

std::string config(const std::string& kind, const std::string& url, const std::string& extra = "",
                   const std::string& fallback_url = "http://127.0.0.1:9/v1") {
    return R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: stdout}
providers:
  - {name: p, kind: )" +
           kind + ", base_url: \"" + url + "\", api_key: env:TEST_KEY" + extra + R"(,
     timeouts: {connect: 1s, first_byte: 2s, idle: 2s, total: 10s}, resilience: {backoff_base: 5ms, backoff_cap: 10ms}}
  - {name: oa, kind: openai, base_url: ")" +
           fallback_url + R"(", api_key: env:TEST_KEY}
models:
  - {name: m, provider: p, upstream_model: up-model, max_output_tokens: 1000, price: {input: 1, output: 2}}
  - {name: o, provider: oa, upstream_model: real-o, price: {input: 5, output: 5}}
routes:
  - {name: auto, candidates: [m, o], objective: {cost: 1}}
)";
}

const std::string kAnthropicMessage = R"({"id":"msg_01","type":"message","role":"assistant",
 "model":"up-model","content":[{"type":"text","text":"Bonjour"}],"stop_reason":"end_turn",
 "stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":3}})";

std::vector<SseChunk> anthropic_stream(bool with_stop = true) {
    std::vector<std::string> events = {
        R"(event: message_start
data: {"type":"message_start","message":{"id":"msg_02","type":"message","role":"assistant","model":"up-model","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}}

)",
        R"(event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type":"ping"}

)",
        R"(event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}

)",
        R"(event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

)",
        R"(event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}

)",
        R"(event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":7}}

)"};
    if (with_stop) events.push_back("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    std::vector<SseChunk> out;
    for (auto& e : events) out.push_back({e, Millis{0}});
    return out;
}

Reply with_type(Reply r, const std::string& type) {
    r.headers.push_back({"Content-Type", type});
    return r;
}

TEST(ProvidersTest, OpenAIClientServedByAnAnthropicUpstream) {
    FakeUpstream a;
    a.enqueue(Reply::json(200, kAnthropicMessage));
    GatewayProcess gw(config("anthropic", a.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    const std::string body =
        R"({"model":"m","messages":[{"role":"system","content":"Be brief."},)"
        R"({"role":"user","content":"Say hello in French"}],"temperature":0.2})";
    auto r = http_post(gw.port(), kChat, body);
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto j = parse_json(r.body);
    ASSERT_TRUE(j.has_value()) << r.body;
    EXPECT_EQ((*j)["object"], "chat.completion");
    EXPECT_EQ((*j)["choices"][0]["message"]["content"], "Bonjour");
    EXPECT_EQ((*j)["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ((*j)["usage"]["prompt_tokens"], 12);
    EXPECT_EQ((*j)["usage"]["completion_tokens"], 3);
    // cost from the translated usage: 12 x $1 + 3 x $2 per 1M tokens
    EXPECT_EQ(r.header("x-baton-cost-usd"), "0.000018000");

    ASSERT_EQ(a.request_count(), 1u);
    auto req = a.exchange(0).request;
    EXPECT_EQ(req.target, "/v1/messages");
    EXPECT_EQ(req.header("x-api-key"), kTestApiKey);
    EXPECT_EQ(req.header("anthropic-version"), "2023-06-01");
    EXPECT_FALSE(req.has_header("authorization"));
    auto sent = parse_json(req.body);
    ASSERT_TRUE(sent.has_value()) << req.body;
    EXPECT_EQ((*sent)["model"], "up-model");
    EXPECT_EQ((*sent)["system"][0]["text"], "Be brief.");
    EXPECT_EQ((*sent)["max_tokens"], 1000);  // the catalogue's max_output_tokens
    EXPECT_EQ((*sent)["messages"].size(), 1u);
}

TEST(ProvidersTest, AnthropicStreamWithAToolCallBecomesChatCompletionChunks) {
    FakeUpstream a;
    a.enqueue(with_type(Reply::sse(anthropic_stream()), "text/event-stream"));
    GatewayProcess gw(config("anthropic", a.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    auto r = http_stream(gw.port(), kChat, chat_body("m", "weather?", true));
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), "[DONE]");
    std::string text, args, finish, tool_name;
    for (const auto& e : events) {
        if (e == "[DONE]") continue;
        auto j = parse_json(e);
        ASSERT_TRUE(j.has_value()) << e;
        EXPECT_EQ((*j)["object"], "chat.completion.chunk") << e;
        EXPECT_FALSE(j->contains("usage") && (*j)["choices"].empty())
            << "the usage chunk is stripped when the client did not ask: " << e;
        const auto& d = (*j)["choices"][0]["delta"];
        if (d.contains("content") && d["content"].is_string()) text += d["content"];
        if (d.contains("tool_calls")) {
            const auto& tc = d["tool_calls"][0];
            if (tc.contains("function") && tc["function"].contains("name")) {
                tool_name = tc["function"]["name"];
            }
            if (tc.contains("function") && tc["function"].contains("arguments")) {
                args += tc["function"]["arguments"].get<std::string>();
            }
        }
        if ((*j)["choices"][0]["finish_reason"].is_string()) {
            finish = (*j)["choices"][0]["finish_reason"];
        }
    }
    EXPECT_EQ(text, "Hello");
    EXPECT_EQ(tool_name, "get_weather");
    EXPECT_EQ(args, R"({"city":"Paris"})");
    EXPECT_EQ(finish, "tool_calls");
    // usage from message_start / message_delta reached the accounting
    EXPECT_TRUE(gw.wait_for_stdout("\"completion_tokens\":7", Millis(2000)) ||
                http_get(gw.port(), "/metrics")
                        .body.find("baton_tokens_total{model=\"m\",kind=\"completion\"} 7") !=
                    std::string::npos)
        << http_get(gw.port(), "/metrics").body.substr(0, 200);
}

TEST(ProvidersTest, AnthropicStreamCutBeforeMessageStopIsReportedNotPassedOffAsClean) {
    FakeUpstream a;
    a.enqueue(with_type(Reply::sse(anthropic_stream(false)), "text/event-stream"));
    GatewayProcess gw(config("anthropic", a.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    auto r = http_stream(gw.port(), kChat, chat_body("m", "weather?", true));
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto events = sse_data(r.body);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events.back(), "[DONE]");
    auto err = parse_json(events[events.size() - 2]);
    ASSERT_TRUE(err.has_value() && err->contains("error")) << r.body;
    EXPECT_TRUE(gw.wait_for_stdout("\"stream_cut\":true", Millis(2000))) << gw.stdout_text();
}

TEST(ProvidersTest, AnthropicOverloadedIsRetriedThenFallsBackAndErrorsAreTranslated) {
    FakeUpstream a, o;
    const std::string overloaded =
        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
    for (int i = 0; i < 3; ++i) a.enqueue(Reply::json(529, overloaded));
    GatewayProcess gw(config("anthropic", a.base_url(), "", o.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("auto", "hi"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "o");
    EXPECT_EQ(r.header("x-baton-attempts"), "4");
    EXPECT_EQ(a.request_count(), 3u);
    EXPECT_THAT(http_get(gw.port(), "/metrics").body,
                HasSubstr("baton_upstream_attempts_total{provider=\"p\",model=\"m\","
                          "outcome=\"server_error\"} 3"));
    // a direct request: the client sees the error in OpenAI's shape (529 → 503)
    for (int i = 0; i < 3; ++i) a.enqueue(Reply::json(529, overloaded));
    auto d = http_post(gw.port(), kChat, chat_body("m", "hi"));
    json err;
    ASSERT_TRUE(is_openai_error(d, 503, &err)) << d.describe();
    EXPECT_THAT(err["message"].get<std::string>(), HasSubstr("Overloaded"));
}

TEST(ProvidersTest, GeminiPlainAndStreamedWithCredentialsInTheRightHeader) {
    FakeUpstream g;
    g.enqueue(Reply::json(
        200, R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hi there"}]},
      "finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,
      "candidatesTokenCount":2,"totalTokenCount":7},"modelVersion":"up-model","responseId":"r1"})"));
    std::vector<SseChunk> chunks = {
        {"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi \"}]},"
         "\"index\":0}],\"responseId\":\"r2\",\"modelVersion\":\"up-model\"}\r\n\r\n",
         Millis{0}},
        {"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"you\"}]},"
         "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,"
         "\"candidatesTokenCount\":2,\"totalTokenCount\":7},\"responseId\":\"r2\"}\r\n\r\n",
         Millis{0}}};
    g.enqueue(with_type(Reply::sse(chunks), "text/event-stream"));
    std::string url = "http://127.0.0.1:" + std::to_string(g.port()) + "/v1beta";
    GatewayProcess gw(config("gemini", url), test_key_env());
    ASSERT_TRUE(gw.start());

    auto r = http_post(gw.port(), kChat, chat_body("m", "hello"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto j = parse_json(r.body);
    ASSERT_TRUE(j.has_value()) << r.body;
    EXPECT_EQ((*j)["choices"][0]["message"]["content"], "Hi there");
    EXPECT_EQ((*j)["usage"]["total_tokens"], 7);
    auto req = g.exchange(0).request;
    EXPECT_EQ(req.target, "/v1beta/models/up-model:generateContent");
    EXPECT_EQ(req.header("x-goog-api-key"), kTestApiKey);
    auto sent = parse_json(req.body);
    ASSERT_TRUE(sent.has_value()) << req.body;
    EXPECT_EQ((*sent)["contents"][0]["parts"][0]["text"], "hello");

    auto s = http_stream(gw.port(), kChat, chat_body("m", "hello", true));
    ASSERT_EQ(s.status, 200u) << s.describe();
    std::string text;
    auto events = sse_data(s.body);
    for (const auto& e : events) {
        if (e == "[DONE]") continue;
        auto c = parse_json(e);
        ASSERT_TRUE(c.has_value()) << e;
        const auto& d = (*c)["choices"][0]["delta"];
        if (d.contains("content") && d["content"].is_string()) text += d["content"];
    }
    EXPECT_EQ(text, "Hi you");
    EXPECT_EQ(events.back(), "[DONE]");
    EXPECT_EQ(g.exchange(1).request.target,
              "/v1beta/models/up-model:streamGenerateContent?alt=sse");
}

TEST(ProvidersTest, AzureUsesTheDeploymentUrlAndApiKeyHeader) {
    FakeUpstream z;
    z.enqueue(Reply::json(200, chat_completion_body("up-model")));
    std::string url = "http://127.0.0.1:" + std::to_string(z.port());
    GatewayProcess gw(config("azure", url, ", api_version: 2024-06-01"), test_key_env());
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("m", "hi"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto req = z.exchange(0).request;
    EXPECT_EQ(req.target, "/openai/deployments/up-model/chat/completions?api-version=2024-06-01");
    EXPECT_EQ(req.header("api-key"), kTestApiKey);
    EXPECT_FALSE(req.has_header("authorization"));
}

const std::string kMessagesBody = R"({"model":"m","max_tokens":100,"system":"Be brief.",)"
                                  R"("messages":[{"role":"user","content":"Say hello"}]})";

TEST(MessagesApiTest, AnthropicClientServedByAnOpenAIUpstream) {
    FakeUpstream o;
    o.enqueue(Reply::json(200, chat_completion_body("up-model", "Hello!")));
    GatewayProcess gw(config("openai", o.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kMessages, kMessagesBody, {{"anthropic-version", "2023-06-01"}});
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto j = parse_json(r.body);
    ASSERT_TRUE(j.has_value()) << r.body;
    EXPECT_EQ((*j)["type"], "message");
    EXPECT_EQ((*j)["role"], "assistant");
    EXPECT_EQ((*j)["model"], "m");
    EXPECT_EQ((*j)["content"][0]["type"], "text");
    EXPECT_EQ((*j)["content"][0]["text"], "Hello!");
    EXPECT_EQ((*j)["stop_reason"], "end_turn");
    EXPECT_TRUE((*j)["usage"]["input_tokens"].is_number());
    auto sent = parse_json(o.exchange(0).request.body);
    ASSERT_TRUE(sent.has_value());
    EXPECT_EQ((*sent)["model"], "up-model");
    EXPECT_EQ((*sent)["messages"][0]["role"], "system");
    EXPECT_EQ((*sent)["messages"][0]["content"], "Be brief.");
}

TEST(MessagesApiTest, AnthropicClientStreamFromAnOpenAIUpstream) {
    FakeUpstream o;
    o.enqueue(with_type(Reply::sse(sse_chunks({"Hel", "lo"}, Millis(0))), "text/event-stream"));
    GatewayProcess gw(config("openai", o.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    std::string body = kMessagesBody;
    body.insert(body.size() - 1, R"(,"stream":true)");
    auto r = http_stream(gw.port(), kMessages, body);
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_THAT(r.body, HasSubstr("event: message_start"));
    EXPECT_THAT(r.body, HasSubstr("event: content_block_delta"));
    EXPECT_THAT(r.body, HasSubstr("event: message_stop"));
    EXPECT_THAT(r.body, Not(HasSubstr("[DONE]")));
    std::string text;
    for (const auto& e : sse_data(r.body)) {
        auto j = parse_json(e);
        ASSERT_TRUE(j.has_value()) << e;
        if ((*j)["type"] == "content_block_delta") text += (*j)["delta"]["text"];
    }
    EXPECT_EQ(text, "Hello");
}

TEST(MessagesApiTest, AnthropicClientToAnthropicUpstreamPassesThroughUntranslated) {
    FakeUpstream a;
    // an answer with a signed thinking block: it must reach the client byte for byte
    const std::string answer =
        R"({"id":"msg_t","type":"message","role":"assistant","model":"up-model","content":[)"
        R"({"type":"thinking","thinking":"Let me see.","signature":"sig-ABC=="},)"
        R"({"type":"text","text":"Bonjour"}],"stop_reason":"end_turn","stop_sequence":null,)"
        R"("usage":{"input_tokens":12,"output_tokens":3}})";
    a.enqueue(Reply::json(200, answer));
    GatewayProcess gw(config("anthropic", a.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    // the client's history carries a signed thinking block and cache_control: kept as sent
    const std::string request =
        R"({"model":"m","max_tokens":100,"system":[{"type":"text","text":"Be brief.",)"
        R"("cache_control":{"type":"ephemeral"}}],"thinking":{"type":"enabled","budget_tokens":64},)"
        R"("messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[)"
        R"({"type":"thinking","thinking":"t","signature":"sig-OLD=="},{"type":"text","text":"Hey"}]},)"
        R"({"role":"user","content":"Again"}]})";
    auto r = http_post(gw.port(), kMessages, request);
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.body, answer);
    EXPECT_EQ(r.header("x-baton-cost-usd"), "0.000018000");  // 12 x $1 + 3 x $2 per 1M
    auto sent = parse_json(a.exchange(0).request.body);
    auto expected = parse_json(request);
    ASSERT_TRUE(sent.has_value() && expected.has_value());
    (*expected)["model"] = "up-model";
    EXPECT_EQ(*sent, *expected) << a.exchange(0).request.body;
}

TEST(MessagesApiTest, PassedThroughAnthropicStreamIsRelayedAndACutIsAnAnthropicError) {
    FakeUpstream a;
    a.enqueue(with_type(Reply::sse(anthropic_stream()), "text/event-stream"));
    a.enqueue(with_type(Reply::sse(anthropic_stream(false)), "text/event-stream"));
    GatewayProcess gw(config("anthropic", a.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    std::string body = kMessagesBody;
    body.insert(body.size() - 1, R"(,"stream":true)");
    auto r = http_stream(gw.port(), kMessages, body);
    ASSERT_EQ(r.status, 200u) << r.describe();
    std::string upstream;
    for (const auto& c : anthropic_stream()) upstream += c.bytes;
    EXPECT_EQ(r.body, upstream);  // every event as the upstream sent it
    EXPECT_TRUE(wait_until(
        [&] {
            return http_get(gw.port(), "/metrics")
                       .body.find("baton_tokens_total{model=\"m\",kind=\"completion\"} 7") !=
                   std::string::npos;
        },
        Millis(2000)));
    EXPECT_THAT(http_get(gw.port(), "/metrics").body,
                HasSubstr("baton_tokens_total{model=\"m\",kind=\"prompt\"} 10"));
    // without message_stop: Anthropic's error event, never a clean end, no [DONE]
    auto cut = http_stream(gw.port(), kMessages, body);
    ASSERT_EQ(cut.status, 200u) << cut.describe();
    EXPECT_THAT(cut.body, HasSubstr("event: error"));
    EXPECT_THAT(cut.body, Not(HasSubstr("[DONE]")));
    EXPECT_TRUE(gw.wait_for_stdout("\"stream_cut\":true", Millis(2000))) << gw.stdout_text();
}

TEST(MessagesApiTest, ErrorsComeInAnthropicShape) {
    FakeUpstream o;
    for (int i = 0; i < 3; ++i) {  // the first try and 2 retries
        o.enqueue(Reply::json(429, R"({"error":{"message":"slow down","type":"rate_limit_error",)"
                                   R"("param":null,"code":null}})"));
    }
    GatewayProcess gw(config("openai", o.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    // unknown model: Baton's own 404
    auto nf =
        http_post(gw.port(), kMessages,
                  R"({"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"x"}]})");
    EXPECT_EQ(nf.status, 404u) << nf.describe();
    auto j = parse_json(nf.body);
    ASSERT_TRUE(j.has_value()) << nf.body;
    EXPECT_EQ((*j)["type"], "error");
    EXPECT_EQ((*j)["error"]["type"], "not_found_error");
    // a malformed request
    auto bad = http_post(gw.port(), kMessages, R"({"max_tokens":5})");
    EXPECT_EQ(bad.status, 400u) << bad.describe();
    auto b = parse_json(bad.body);
    ASSERT_TRUE(b.has_value()) << bad.body;
    EXPECT_EQ((*b)["error"]["type"], "invalid_request_error");
    // an upstream's error, translated
    auto up = http_post(gw.port(), kMessages, kMessagesBody);
    EXPECT_EQ(up.status, 429u) << up.describe();
    auto u = parse_json(up.body);
    ASSERT_TRUE(u.has_value()) << up.body;
    EXPECT_EQ((*u)["type"], "error");
    EXPECT_EQ((*u)["error"]["type"], "rate_limit_error");
    EXPECT_THAT((*u)["error"]["message"].get<std::string>(), HasSubstr("slow down"));
}

}  // namespace
}  // namespace baton::test

namespace baton::test {
namespace {

// Legacy completions, embeddings and the model list, against an OpenAI-format fake.
std::string legacy_config(const std::string& url, const std::string& kind = "openai") {
    return R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: stdout}
providers:
  - {name: oa, kind: )" +
           kind + ", base_url: \"" + url + R"(", api_key: env:TEST_KEY}
  - {name: demo, kind: mock}
models:
  - {name: chat-m, provider: oa, upstream_model: up-chat, capabilities: [tools], context_window: 128000}
  - {name: emb, provider: oa, kind: embedding, upstream_model: up-embed, price: {input: 100, output: 0}}
  - {name: mocky, provider: demo}
routes:
  - {name: auto, candidates: [chat-m, mocky]}
)";
}

const std::string kEmbeddingAnswer =
    R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]},)"
    R"({"object":"embedding","index":1,"embedding":[0.3,0.4]}],"model":"up-embed",)"
    R"("usage":{"prompt_tokens":4,"total_tokens":4}})";

TEST(LegacyApisTest, EmbeddingsGoToEmbeddingModelsOnly) {
    FakeUpstream o;
    o.enqueue(Reply::json(200, kEmbeddingAnswer));
    GatewayProcess gw(legacy_config(o.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), "/v1/embeddings", R"({"model":"emb","input":["a b","c"]})");
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.body, kEmbeddingAnswer);                     // relayed as it came
    EXPECT_EQ(r.header("x-baton-cost-usd"), "0.000400000");  // 4 tokens x $100 per 1M
    ASSERT_EQ(o.request_count(), 1u);
    EXPECT_EQ(o.exchange(0).request.target, "/v1/embeddings");
    EXPECT_EQ(o.exchange(0).request.body, R"({"model":"up-embed","input":["a b","c"]})");
    // a chat model cannot embed, an embedding model cannot chat
    auto wrong = http_post(gw.port(), "/v1/embeddings", R"({"model":"chat-m","input":"x"})");
    json err;
    ASSERT_TRUE(is_openai_error(wrong, 400, &err)) << wrong.describe();
    EXPECT_THAT(err["message"].get<std::string>(), HasSubstr("models that can: emb"));
    auto chat = http_post(gw.port(), kChat, chat_body("emb", "hi"));
    ASSERT_TRUE(is_openai_error(chat, 400, &err)) << chat.describe();
    EXPECT_THAT(err["message"].get<std::string>(), HasSubstr("cannot serve /v1/chat/completions"));
    auto missing = http_post(gw.port(), "/v1/embeddings", R"({"model":"emb"})");
    ASSERT_TRUE(is_openai_error(missing, 400, &err)) << missing.describe();
    EXPECT_EQ(err["param"], "input");
    EXPECT_EQ(o.request_count(), 1u);
}

TEST(LegacyApisTest, AzureEmbeddingsUseTheDeploymentUrl) {
    FakeUpstream z;
    z.enqueue(Reply::json(200, kEmbeddingAnswer));
    GatewayProcess gw(legacy_config("http://127.0.0.1:" + std::to_string(z.port()), "azure"),
                      test_key_env());
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), "/v1/embeddings", R"({"model":"emb","input":"x"})");
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(z.exchange(0).request.target,
              "/openai/deployments/up-embed/embeddings?api-version=2024-10-21");
    EXPECT_EQ(z.exchange(0).request.header("api-key"), kTestApiKey);
}

TEST(LegacyApisTest, CompletionsPlainAndStreamedToOpenAIFormatProviders) {
    FakeUpstream o;
    o.enqueue(
        Reply::json(200, R"({"id":"cmpl-1","object":"text_completion","created":1,)"
                         R"("model":"up-chat","choices":[{"text":" there","index":0,)"
                         R"("logprobs":null,"finish_reason":"stop"}],)"
                         R"("usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}})"));
    std::vector<SseChunk> chunks = {
        {"data: {\"id\":\"cmpl-2\",\"object\":\"text_completion\",\"choices\":[{\"text\":\"Hel\","
         "\"index\":0,\"finish_reason\":null}]}\n\n",
         Millis{0}},
        {"data: {\"id\":\"cmpl-2\",\"object\":\"text_completion\",\"choices\":[{\"text\":\"lo\","
         "\"index\":0,\"finish_reason\":\"stop\"}]}\n\n",
         Millis{0}},
        {"data: {\"id\":\"cmpl-2\",\"object\":\"text_completion\",\"choices\":[],"
         "\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":2,\"total_tokens\":4}}\n\n",
         Millis{0}},
        {"data: [DONE]\n\n", Millis{0}}};
    o.enqueue(with_type(Reply::sse(chunks), "text/event-stream"));
    GatewayProcess gw(legacy_config(o.base_url()), test_key_env());
    ASSERT_TRUE(gw.start());

    // route auto has a mock candidate, which cannot serve legacy completions: only chat-m stays
    auto r = http_post(gw.port(), "/v1/completions", R"({"model":"auto","prompt":"Hi"})");
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "chat-m");
    auto j = parse_json(r.body);
    ASSERT_TRUE(j.has_value()) << r.body;
    EXPECT_EQ((*j)["choices"][0]["text"], " there");
    EXPECT_EQ(o.exchange(0).request.target, "/v1/completions");

    auto s = http_stream(gw.port(), "/v1/completions",
                         R"({"model":"chat-m","prompt":["Hi"],"stream":true})");
    ASSERT_EQ(s.status, 200u) << s.describe();
    auto events = sse_data(s.body);
    ASSERT_EQ(events.size(), 3u) << s.body;  // the usage chunk Baton asked for is stripped
    EXPECT_EQ(events.back(), "[DONE]");
    auto sent = parse_json(o.exchange(1).request.body);
    ASSERT_TRUE(sent.has_value());
    EXPECT_EQ((*sent)["model"], "up-chat");
    EXPECT_EQ((*sent)["stream_options"]["include_usage"], true);
    EXPECT_THAT(http_get(gw.port(), "/metrics").body,
                HasSubstr("baton_tokens_total{model=\"chat-m\",kind=\"completion\"} 3"));
}

TEST(LegacyApisTest, ModelListShowsKindsCapabilitiesAndRoutes) {
    GatewayProcess gw(legacy_config("http://127.0.0.1:9/v1"), test_key_env());
    ASSERT_TRUE(gw.start());
    auto r = http_get(gw.port(), "/v1/models");
    auto j = parse_json(r.body);
    ASSERT_TRUE(j.has_value()) << r.body;
    std::map<std::string, json> by_id;
    for (const auto& m : (*j)["data"]) by_id[m["id"].get<std::string>()] = m;
    ASSERT_EQ(by_id.size(), 4u) << r.body;
    EXPECT_EQ(by_id["chat-m"]["kind"], "chat");
    EXPECT_EQ(by_id["chat-m"]["capabilities"], json::array({"tools"}));
    EXPECT_EQ(by_id["chat-m"]["context_window"], 128000);
    EXPECT_EQ(by_id["emb"]["kind"], "embedding");
    EXPECT_EQ(by_id["mocky"]["provider_kind"], "mock");
    EXPECT_EQ(by_id["auto"]["kind"], "route");
    EXPECT_EQ(by_id["auto"]["candidates"], json::array({"chat-m", "mocky"}));
    EXPECT_EQ(by_id["auto"]["object"], "model");
}

TEST(LegacyApisTest, OpenAICompatibleQuirksRenameAndDropFields) {
    FakeUpstream o;
    GatewayProcess gw(
        config("openai", o.base_url(),
               ", quirks: {max_tokens_field: max_tokens, drop_fields: [seed, logprobs]}"),
        test_key_env());
    ASSERT_TRUE(gw.start());
    auto r =
        http_post(gw.port(), kChat,
                  R"({"model":"m","messages":[{"role":"user","content":"hi"}],)"
                  R"("max_completion_tokens":50,"seed":7,"logprobs":false,"temperature":0.5})");
    ASSERT_EQ(r.status, 200u) << r.describe();
    auto sent = parse_json(o.exchange(0).request.body);
    ASSERT_TRUE(sent.has_value()) << o.exchange(0).request.body;
    EXPECT_EQ((*sent)["model"], "up-model");
    EXPECT_EQ((*sent)["max_tokens"], 50);
    EXPECT_FALSE(sent->contains("max_completion_tokens"));
    EXPECT_FALSE(sent->contains("seed"));
    EXPECT_FALSE(sent->contains("logprobs"));
    EXPECT_EQ((*sent)["temperature"], 0.5);
}

std::string mock_formats_config() {
    return R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: stdout}
providers:
  - name: fake-anthropic
    kind: mock
    resilience: {max_retries: 0}
    mock: {tokens: 5, format: anthropic, fault_header: true, faults: {limited: {status: [429]}}}
  - {name: fake-gemini, kind: mock, mock: {tokens: 4, format: gemini}}
models:
  - {name: ma, provider: fake-anthropic}
  - {name: mg, provider: fake-gemini}
)";
}

// The text and completion tokens of a chat.completion, or of a stream of chunks.
std::pair<std::string, int> completion_text(const HttpResponse& r, bool stream) {
    std::string text;
    int completion = -1;
    if (!stream) {
        auto j = parse_json(r.body);
        if (!j) return {"<not json>", -1};
        return {(*j)["choices"][0]["message"]["content"].get<std::string>(),
                (*j)["usage"]["completion_tokens"].get<int>()};
    }
    for (const auto& e : sse_data(r.body)) {
        if (e == "[DONE]") continue;
        auto j = parse_json(e);
        if (!j) return {"<bad event>", -1};
        if (j->contains("usage") && (*j)["usage"].is_object()) {
            completion = (*j)["usage"]["completion_tokens"];
        }
        if ((*j)["choices"].empty()) continue;
        const auto& d = (*j)["choices"][0]["delta"];
        if (d.contains("content") && d["content"].is_string()) text += d["content"];
    }
    return {text, completion};
}

TEST(MockFormatsTest, TheMockSpeaksAnthropicAndGeminiAndBatonTranslatesBack) {
    GatewayProcess gw(mock_formats_config(), test_key_env());
    ASSERT_TRUE(gw.start());
    for (const std::string model : {"ma", "mg"}) {
        SCOPED_TRACE(model);
        const int tokens = model == "ma" ? 5 : 4;
        auto plain = http_post(gw.port(), kChat, chat_body(model, "hi"));
        ASSERT_EQ(plain.status, 200u) << plain.describe();
        auto [text, completion] = completion_text(plain, false);
        EXPECT_THAT(text, HasSubstr("Hello from the Baton"));
        EXPECT_EQ(completion, tokens);
        const std::string body = R"({"model":")" + model +
                                 R"(","messages":[{"role":"user","content":"hi"}],)"
                                 R"("stream":true,"stream_options":{"include_usage":true}})";
        auto s = http_stream(gw.port(), kChat, body);
        ASSERT_EQ(s.status, 200u) << s.describe();
        auto [stext, scompletion] = completion_text(s, true);
        EXPECT_EQ(stext, text) << s.body;
        EXPECT_EQ(scompletion, tokens) << s.body;
        EXPECT_EQ(sse_data(s.body).back(), "[DONE]");
        EXPECT_FALSE(s.body.find("\"error\"") != std::string::npos) << s.body;
    }
    // an Anthropic client served by the Gemini-format mock
    auto m =
        http_post(gw.port(), kMessages,
                  R"({"model":"mg","max_tokens":50,"messages":[{"role":"user","content":"x"}]})");
    ASSERT_EQ(m.status, 200u) << m.describe();
    auto j = parse_json(m.body);
    ASSERT_TRUE(j.has_value()) << m.body;
    EXPECT_EQ((*j)["type"], "message");
    EXPECT_THAT((*j)["content"][0]["text"].get<std::string>(), HasSubstr("Hello"));
    // a 429 in Anthropic's error shape reaches an OpenAI client as OpenAI's 429
    auto e =
        http_post(gw.port(), kChat, chat_body("ma", "hi"), {{"x-baton-mock-fault", "limited"}});
    json err;
    ASSERT_TRUE(is_openai_error(e, 429, &err)) << e.describe();
    EXPECT_EQ(err["type"], "rate_limit_error");
}

}  // namespace
}  // namespace baton::test
