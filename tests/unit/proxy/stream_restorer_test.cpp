#include "proxy/stream_restorer.hpp"

#include <gtest/gtest.h>

#include "baton/pii/redact.hpp"

namespace baton::proxy {
namespace {

std::string chunk(std::string_view content) {
    return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
           "\"delta\":{\"content\":\"" +
           std::string(content) + "\"},\"finish_reason\":null}]}\n\n";
}
const std::string kFinish =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

// Concatenated delta contents of a stream.
std::string contents(const std::string& s) {
    std::string out;
    for (size_t k = s.find("\"content\":\""); k != std::string::npos;
         k = s.find("\"content\":\"", k + 1)) {
        size_t b = k + 11, e = s.find('"', b);
        out += s.substr(b, e - b);
    }
    return out;
}

TEST(StreamRestorer, RestoresPlaceholdersSplitAcrossEvents) {
    pii::Redactor redactor;
    auto redacted = redactor.redact("write to jane.doe@example.com today");
    ASSERT_NE(redacted.find("<EMAIL_1>"), std::string::npos) << redacted;
    auto mapping = redactor.take_mapping();
    // the model answers "Sent to <EMAIL_1>." with the placeholder split at every position
    const std::string answer = "Sent to <EMAIL_1>.";
    for (size_t cut = 0; cut <= answer.size(); ++cut) {
        StreamRestorer r(mapping);
        std::string out = r.process(chunk(answer.substr(0, cut)));
        out += r.process(chunk(answer.substr(cut)));
        out += r.process(kFinish);
        EXPECT_EQ(contents(out), "Sent to jane.doe@example.com.") << "cut at " << cut;
        EXPECT_NE(out.find("data: [DONE]"), std::string::npos);
        EXPECT_EQ(r.restored(), 1u);
    }
}

TEST(StreamRestorer, HeldBytesAreFlushedBeforeTheEnd) {
    pii::Redactor redactor;
    redactor.redact("jane.doe@example.com");
    auto mapping = redactor.take_mapping();
    StreamRestorer r(mapping);
    std::string out = r.process(chunk("price <EM"));  // looks like the start of a placeholder
    out += r.process(kFinish);                        // ...but the stream ends
    EXPECT_EQ(contents(out), "price <EM");
    EXPECT_LT(out.find("<EM"), out.find("[DONE]"));
}

}  // namespace
}  // namespace baton::proxy
