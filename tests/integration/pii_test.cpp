// Sensitive data policy behind the real binary: the fake upstream asserts what it received.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>

#include "support/fake_upstream.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_helpers.hpp"

namespace baton::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kChat = "/v1/chat/completions";

std::string yaml(const std::string& url) {
    return R"(server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: info, access_log: stdout}
pii:
  classes: {email: redact, phone: redact, card: block, ssn: route, secret: block}
  route_tag: pii_ok
providers:
  - {name: up, kind: openai, base_url: )" +
           url + R"(}
  - {name: local, kind: mock}
models:
  - {name: cloud, provider: up, price: {input: 0.1, output: 0.1}}
  - {name: onprem, provider: local, price: {input: 5, output: 5}, tags: [pii_ok]}
routes:
  - {name: auto, candidates: [cloud, onprem], objective: {cost: 1}}
)";
}

TEST(PiiTest, RedactsBeforeForwardingAndNeverLogsValues) {
    FakeUpstream up;
    GatewayProcess gw(yaml(up.base_url()));
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat,
                       chat_body("auto",
                                 "Mail jane.doe@example.com or ring +1 415 555 0134, "
                                 "and jane.doe@example.com again"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    ASSERT_EQ(up.request_count(), 1u);
    const auto& sent = up.exchange(0).request.body;
    EXPECT_THAT(sent, Not(HasSubstr("jane.doe@example.com")));
    EXPECT_THAT(sent, Not(HasSubstr("555 0134")));
    EXPECT_THAT(sent, HasSubstr("<EMAIL_1>"));
    EXPECT_NE(sent.find("<EMAIL_1>"), sent.rfind("<EMAIL_1>"));  // same value, same placeholder
    EXPECT_THAT(sent, Not(HasSubstr("<EMAIL_2>")));
    EXPECT_THAT(sent, HasSubstr("<PHONE_1>"));
    auto j = parse_json(sent);
    ASSERT_TRUE(j.has_value()) << sent;  // still valid JSON, model rewritten
    EXPECT_EQ((*j)["model"], "cloud");
    ASSERT_TRUE(gw.wait_for_stdout("\"pii\":\"email=2:redact,phone=1:redact\"", Millis(2000)))
        << gw.stdout_text();
    EXPECT_THAT(gw.stdout_text(), Not(HasSubstr("jane.doe")));
    auto m = http_get(gw.port(), "/metrics");
    EXPECT_THAT(m.body, HasSubstr("baton_pii_findings_total{class=\"email\",action=\"redact\"} 2"));
}

TEST(PiiTest, BlockedClassesAreRefusedAndNothingIsForwarded) {
    FakeUpstream up;
    GatewayProcess gw(yaml(up.base_url()));
    ASSERT_TRUE(gw.start());
    json err;
    auto r = http_post(gw.port(), kChat, chat_body("auto", "my card is 4111 1111 1111 1111"));
    ASSERT_TRUE(is_openai_error(r, 400, &err)) << r.describe();
    EXPECT_THAT(err["message"].get<std::string>(), HasSubstr("card"));
    EXPECT_THAT(r.body, Not(HasSubstr("4111")));
    EXPECT_EQ(up.request_count(), 0u);
}

TEST(PiiTest, RoutedClassesOnlyReachModelsTaggedForThem) {
    FakeUpstream up;
    GatewayProcess gw(yaml(up.base_url()));
    ASSERT_TRUE(gw.start());
    auto plain = http_post(gw.port(), kChat, chat_body("auto", "hello"));
    EXPECT_EQ(plain.header("x-baton-model"), "cloud");
    auto r = http_post(gw.port(), kChat, chat_body("auto", "my SSN is 123-45-6789"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_EQ(r.header("x-baton-model"), "onprem");
    EXPECT_EQ(up.request_count(), 1u);  // only the plain request reached the cloud model
}

}  // namespace
}  // namespace baton::test

namespace baton::test {
namespace {

TEST(PiiTest, ADirectlyNamedModelStillNeedsTheRequiredTag) {
    FakeUpstream up;
    GatewayProcess gw(yaml(up.base_url()));
    ASSERT_TRUE(gw.start());
    json err;
    auto r = http_post(gw.port(), kChat, chat_body("cloud", "my SSN is 123-45-6789"));
    ASSERT_TRUE(is_openai_error(r, 422, &err)) << r.describe();
    EXPECT_THAT(err["message"].get<std::string>(), HasSubstr("pii_ok"));
    EXPECT_EQ(up.request_count(), 0u);
    EXPECT_EQ(http_post(gw.port(), kChat, chat_body("onprem", "my SSN is 123-45-6789")).status,
              200u);
}

}  // namespace
}  // namespace baton::test

namespace baton::test {
namespace {

TEST(AuditTest, EveryRequestIsChainedAndVerifyCatchesAnEdit) {
    FakeUpstream up;
    TempDir dir;
    std::string log = dir.file("audit.jsonl");
    GatewayProcess gw(yaml(up.base_url()) + "audit: {path: " + log + "}\n");
    ASSERT_TRUE(gw.start());
    EXPECT_EQ(http_post(gw.port(), kChat, chat_body("auto", "hello")).status, 200u);
    EXPECT_EQ(http_post(gw.port(), kChat, chat_body("auto", "mail a@example.com")).status, 200u);
    EXPECT_EQ(http_post(gw.port(), kChat, chat_body("auto", "card 4111 1111 1111 1111")).status,
              400u);
    ASSERT_TRUE(gw.send_signal(SIGTERM));
    ASSERT_EQ(gw.wait_exit(Millis(10000)), 0);
    std::string text;
    {
        std::ifstream in(log);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
    EXPECT_THAT(text, HasSubstr("\"email\":1"));
    EXPECT_THAT(text, HasSubstr("\"block\""));
    EXPECT_THAT(text, Not(HasSubstr("a@example.com")));
    EXPECT_THAT(text, Not(HasSubstr("4111")));
    auto ok = run_baton({"audit", "verify", log});
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    // change one byte of the middle record: verify names the line
    auto pos = text.find("\"redact\"");
    ASSERT_NE(pos, std::string::npos) << text;
    text.replace(pos, 8, "\"allow\" ");
    {
        std::ofstream out(log, std::ios::trunc);
        out << text;
    }
    auto bad = run_baton({"audit", "verify", log});
    EXPECT_EQ(bad.exit_code, 1) << bad.out;
    EXPECT_THAT(bad.out, HasSubstr("2"));
}

}  // namespace
}  // namespace baton::test

namespace baton::test {
namespace {

TEST(PiiTest, RestoresRedactedValuesInResponsesPlainAndStreamed) {
    FakeUpstream up;
    // the fake echoes the placeholder the gateway sent, split across two stream events
    up.set_handler([](const RecordedRequest& req) {
        auto j = parse_json(req.body);
        bool stream = j && j->value("stream", false);
        if (!stream) return Reply::json(200, chat_completion_body("x", "Mailed <EMAIL_1> ok"));
        return Reply::sse(sse_chunks({"Mailed <EMA", "IL_1> ok"}, Millis(0)));
    });
    std::string cfg = yaml(up.base_url());
    cfg.replace(cfg.find("route_tag: pii_ok"), 17, "route_tag: pii_ok\n  restore: true");
    GatewayProcess gw(cfg);
    ASSERT_TRUE(gw.start());
    auto r = http_post(gw.port(), kChat, chat_body("cloud", "write to jane@example.com"));
    ASSERT_EQ(r.status, 200u) << r.describe();
    EXPECT_THAT(up.exchange(0).request.body, Not(HasSubstr("jane@example.com")));
    EXPECT_THAT(r.body, HasSubstr("Mailed jane@example.com ok"));
    auto s = http_stream(gw.port(), kChat, chat_body("cloud", "write to jane@example.com", true));
    ASSERT_EQ(s.status, 200u) << s.describe();
    std::string text;
    for (const auto& d : sse_data(s.body)) {
        auto j = parse_json(d);
        if (j && j->contains("choices") && !(*j)["choices"].empty() &&
            (*j)["choices"][0]["delta"].contains("content")) {
            text += (*j)["choices"][0]["delta"]["content"].get<std::string>();
        }
    }
    EXPECT_EQ(text, "Mailed jane@example.com ok") << s.body;
}

}  // namespace
}  // namespace baton::test
