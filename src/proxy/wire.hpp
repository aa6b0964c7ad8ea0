#pragma once
// Wire formats at the edges of the pipeline. Inside, every chat request and response is OpenAI
// Chat Completions (the canonical format). Providers that speak another format get their request
// translated on the way out and their response translated back by an UpstreamWire before the
// relay sees it; clients that called /v1/messages (Anthropic) get the canonical response turned
// into Anthropic's by a ClientWire just before it is written. OpenAI-format providers take the
// fast path: no DOM, only the `model` value spliced (Pipeline::forward).
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "baton/config/model.hpp"
#include "baton/core/error.hpp"
#include "baton/openai/sse.hpp"
#include "baton/translate/anthropic_stream.hpp"
#include "baton/translate/common.hpp"

namespace baton::proxy {

// A provider's response → OpenAI's.
class UpstreamWire {
  public:
    virtual ~UpstreamWire() = default;
    // A complete body (a success or an error) becomes OpenAI's; `status` may change (Anthropic's
    // 529 becomes 503). A success that cannot be translated returns false with `why`: the relay
    // classifies it as malformed.
    virtual bool translate_body(unsigned& status, std::string& body, std::string& why) = 0;
    // Stream bytes → OpenAI SSE events (a view valid until the next call).
    virtual std::string_view feed(std::string_view bytes) = 0;
    // The upstream stream ended: the rest, then [DONE] when the answer was complete or an error
    // event when it was not (failed() is then true).
    virtual std::string finish() = 0;
    virtual bool failed() const = 0;
};

// The request body for a provider of `kind` (anthropic, gemini) from the client's OpenAI chat
// body, or an invalid_request error naming the field that has no equivalent.
translate::Result<std::string> translate_chat_request(const config::Provider& p,
                                                      const config::Model& m,
                                                      std::string_view openai_body);

// Null for providers that speak OpenAI (openai, azure, mock). `include_usage`: emit the usage
// chunk in streams (Baton asks for it; the relay strips it when the client did not).
std::unique_ptr<UpstreamWire> make_upstream_wire(config::ProviderKind kind, bool include_usage,
                                                 int64_t created);

// OpenAI's response → Anthropic's, for clients of POST /v1/messages.
class AnthropicClientWire {
  public:
    explicit AnthropicClientWire(std::string model) : model_(std::move(model)) {}
    // A complete body with its status (success: a message; error: Anthropic's error shape).
    std::string body(unsigned& status, std::string_view openai_body) const;
    // OpenAI SSE bytes → Anthropic SSE events.
    std::string_view stream(std::string_view openai_sse);
    std::string finish();

  private:
    std::string model_;
    openai::SseDecoder decoder_;
    std::optional<translate::OpenAIStreamToAnthropic> tr_;
    std::string out_;
};

}  // namespace baton::proxy
