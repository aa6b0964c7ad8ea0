#include "wire.hpp"

#include "baton/translate/anthropic.hpp"
#include "baton/translate/anthropic_errors.hpp"
#include "baton/translate/gemini.hpp"

namespace baton::proxy {

namespace {

using translate::Json;

std::optional<Json> parse(std::string_view text) {
    Json j = Json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

// One provider format's response translation: Traits names its stream translator and its
// response / error / stream-event functions (below).
template <class Traits>
class TranslatingWire final : public UpstreamWire {
  public:
    TranslatingWire(bool include_usage, int64_t created)
        : tr_({translate::ResponseMeta{{}, {}, created}, include_usage, true}), created_(created) {}

    bool translate_body(unsigned& status, std::string& body, std::string& why) override {
        if (status >= 400) {
            auto e = Traits::error(status, body);
            status = e.status;
            body = e.body.dump();
            return true;
        }
        auto j = parse(body);
        if (!j) {
            why = "a body that is not JSON";
            return false;
        }
        auto r = Traits::response(*j, {{}, {}, created_});
        if (!r) {
            why = "a response Baton cannot read: " + r.error().message;
            return false;
        }
        body = r->dump();
        return true;
    }
    std::string_view feed(std::string_view bytes) override {
        out_.clear();
        decoder_.feed(bytes, [&](const openai::SseEvent& ev) { out_ += Traits::event(tr_, ev); });
        return out_;
    }
    std::string finish() override { return tr_.finish(); }
    bool failed() const override { return tr_.failed(); }

  private:
    openai::SseDecoder decoder_;
    typename Traits::Stream tr_;
    int64_t created_;
    std::string out_;
};

struct AnthropicTraits {
    using Stream = translate::AnthropicStreamToOpenAI;
    static translate::HttpError error(unsigned status, std::string_view body) {
        return translate::anthropic_error_to_openai(status, body);
    }
    static translate::Result<Json> response(const Json& j, const translate::ResponseMeta& m) {
        return translate::anthropic_to_openai_response(j, m);
    }
    static std::string event(Stream& tr, const openai::SseEvent& ev) {
        return tr.feed(ev.event, ev.data);
    }
};

struct GeminiTraits {
    using Stream = translate::GeminiStreamToOpenAI;
    static translate::HttpError error(unsigned status, std::string_view body) {
        return translate::gemini_error_to_openai(status, body);
    }
    static translate::Result<Json> response(const Json& j, const translate::ResponseMeta& m) {
        return translate::gemini_to_openai_response(j, m);
    }
    static std::string event(Stream& tr, const openai::SseEvent& ev) { return tr.feed(ev.data); }
};

}  // namespace

translate::Result<std::string> translate_chat_request(const config::Provider& p,
                                                      const config::Model& m,
                                                      std::string_view openai_body) {
    auto j = parse(openai_body);
    if (!j) return make_error(Errc::invalid_json, "request body is not valid JSON");
    if (p.kind == config::ProviderKind::anthropic) {
        translate::AnthropicRequestOptions o;
        if (m.max_output_tokens > 0) o.default_max_tokens = m.max_output_tokens;
        o.clamp_temperature = true;
        auto r = translate::openai_to_anthropic_request(*j, m.upstream_model, o);
        if (!r) return r.error();
        return r->body.dump();
    }
    auto r = translate::openai_to_gemini_request(*j);
    if (!r) return r.error();
    return r->body.dump();
}

std::unique_ptr<UpstreamWire> make_upstream_wire(config::ProviderKind kind, bool include_usage,
                                                 int64_t created) {
    switch (kind) {
        case config::ProviderKind::anthropic:
            return std::make_unique<TranslatingWire<AnthropicTraits>>(include_usage, created);
        case config::ProviderKind::gemini:
            return std::make_unique<TranslatingWire<GeminiTraits>>(include_usage, created);
        default:
            return nullptr;
    }
}

std::string AnthropicClientWire::body(unsigned& status, std::string_view openai_body) const {
    if (status >= 400) {
        auto e = translate::openai_error_to_anthropic(status, openai_body);
        status = e.status;
        return e.body.dump();
    }
    auto j = parse(openai_body);
    if (j) {
        auto r = translate::openai_to_anthropic_response(*j, {{}, model_, 0});
        if (r) return r->dump();
    }
    status = 502;
    return translate::anthropic_error_body(
        make_error(Errc::upstream_protocol, "the upstream answer could not be translated"));
}

std::string_view AnthropicClientWire::stream(std::string_view openai_sse) {
    if (!tr_) tr_.emplace(translate::ResponseMeta{{}, model_, 0});
    out_.clear();
    decoder_.feed(openai_sse, [&](const openai::SseEvent& ev) { out_ += tr_->feed(ev.data); });
    return out_;
}

std::string AnthropicClientWire::finish() {
    if (!tr_) tr_.emplace(translate::ResponseMeta{{}, model_, 0});
    return tr_->finish();
}

}  // namespace baton::proxy
