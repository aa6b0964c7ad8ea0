#include "mock_response.hpp"

#include <algorithm>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <cstring>
#include <nlohmann/json.hpp>

#include "baton/openai/sse.hpp"
#include "baton/translate/anthropic.hpp"
#include "baton/translate/anthropic_errors.hpp"

namespace baton::proxy {

namespace {
// What a proxy in front of a provider answers when the provider is down.
constexpr std::string_view kHtmlPage =
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
    "Gateway</h1></center></body></html>\n";
// One event whose data is cut off in the middle of the JSON.
constexpr std::string_view kBrokenEvent =
    "data: "
    "{\"id\":\"chatcmpl-broken\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":"
    "{\"content\":\"tru\n\n";
using Json = nlohmann::ordered_json;

// google.rpc status name for an HTTP status, as Gemini's error bodies carry it.
const char* grpc_status(unsigned status) {
    switch (status) {
        case 400:
            return "INVALID_ARGUMENT";
        case 401:
            return "UNAUTHENTICATED";
        case 403:
            return "PERMISSION_DENIED";
        case 404:
            return "NOT_FOUND";
        case 429:
            return "RESOURCE_EXHAUSTED";
        case 503:
            return "UNAVAILABLE";
        case 504:
            return "DEADLINE_EXCEEDED";
        default:
            return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
    }
}

const char* gemini_finish(std::string_view openai_finish) {
    return openai_finish == "length" ? "MAX_TOKENS" : "STOP";
}

Json gemini_usage(const Json& usage) {
    const auto p = usage.value("prompt_tokens", 0);
    const auto c = usage.value("completion_tokens", 0);
    return {{"promptTokenCount", p}, {"candidatesTokenCount", c}, {"totalTokenCount", p + c}};
}
}  // namespace

std::string MockResponse::in_format(unsigned status, std::string body) const {
    using config::ProviderKind;
    if (spec_.format == ProviderKind::openai) return body;
    Json j = Json::parse(body, nullptr, false);
    if (j.is_discarded()) return body;  // (an HTML page stays one)
    const bool error = status >= 400 || j.contains("error");
    if (spec_.format == ProviderKind::anthropic) {
        if (error) return translate::openai_error_to_anthropic(status, body).body.dump();
        auto r = translate::openai_to_anthropic_response(j, {{}, std::string(spec_.model), 0});
        return r ? r->dump() : body;
    }
    // gemini
    if (error) {
        return Json{{"error",
                     {{"code", status},
                      {"message", j["error"].value("message", "mock failure")},
                      {"status", grpc_status(status)}}}}
            .dump();
    }
    const auto& choice = j["choices"][0];
    return Json{
        {"candidates",
         Json::array({{{"content",
                        {{"role", "model"},
                         {"parts", Json::array({{{"text", choice["message"]["content"]}}})}}},
                       {"finishReason", gemini_finish(choice.value("finish_reason", ""))},
                       {"index", 0}}})},
        {"usageMetadata", gemini_usage(j["usage"])},
        {"modelVersion", spec_.model},
        {"responseId", spec_.id}}
        .dump();
}

std::string MockResponse::event_in_format(std::string_view openai_event) {
    using config::ProviderKind;
    if (spec_.format == ProviderKind::openai) return std::string(openai_event);
    std::string_view data = openai_event;
    if (data.starts_with("data: ")) data.remove_prefix(6);
    while (!data.empty() && data.back() == '\n') data.remove_suffix(1);
    if (spec_.format == ProviderKind::anthropic) {
        if (!to_anthropic_) {
            to_anthropic_ = std::make_unique<translate::OpenAIStreamToAnthropic>(
                translate::ResponseMeta{{}, std::string(spec_.model), 0});
        }
        return to_anthropic_->feed(data);
    }
    // gemini: one whole response per event; no terminator (the stream just ends)
    if (data == "[DONE]") return {};
    Json j = Json::parse(data, nullptr, false);
    if (j.is_discarded()) return std::string(openai_event);
    Json ev{{"responseId", spec_.id}, {"modelVersion", spec_.model}};
    if (!j["choices"].empty()) {
        const auto& c = j["choices"][0];
        Json cand{{"content",
                   {{"role", "model"},
                    {"parts", Json::array({{{"text", c["delta"].value("content", "")}}})}}},
                  {"index", 0}};
        if (c["finish_reason"].is_string()) {
            cand["finishReason"] = gemini_finish(c["finish_reason"].get<std::string>());
        }
        ev["candidates"] = Json::array({cand});
    }
    if (j["usage"].is_object()) ev["usageMetadata"] = gemini_usage(j["usage"]);
    return openai::sse_data(ev.dump());
}

MockResponse::MockResponse(asio::any_io_executor ex, const Spec& spec) : spec_(spec), timer_(ex) {
    const auto* f = spec_.fault;
    int status = spec_.plan.status;
    if (f && !f->status.empty()) {
        size_t i = std::min<size_t>(spec_.attempt_on_target - 1, f->status.size() - 1);
        status = f->status[i];
    }
    status_ = static_cast<unsigned>(status);
    if (status >= 400) {
        body_ = providers::mock_error_body(status);
        fields_.push_back({"Content-Type", "application/json"});
        if (f && f->retry_after.count() >= 0 && (status == 429 || status == 503)) {
            retry_after_ = std::to_string((f->retry_after.count() + 999) / 1000);
            fields_.push_back({"Retry-After", retry_after_});
        }
    } else if (f && f->error_body) {
        body_ = providers::mock_error_body(500);
        fields_.push_back({"Content-Type", "application/json"});
    } else if (spec_.stream && (!f || f->content_type.empty())) {
        fields_.push_back({"Content-Type", "text/event-stream"});
        fields_.push_back({"Cache-Control", "no-cache"});
        chunk_count_ = providers::mock_chunk_count(spec_.plan, spec_.include_usage);
        return;  // chunked
    } else {
        std::string_view type =
            f && !f->content_type.empty() ? std::string_view(f->content_type) : "application/json";
        if (type.find("html") != std::string_view::npos) {
            body_ = kHtmlPage;
        } else {
            body_ = providers::mock_completion(spec_.plan, spec_.model, spec_.id, spec_.created);
        }
        fields_.push_back({"Content-Type", type});
    }
    body_ = in_format(static_cast<unsigned>(status), std::move(body_));
    content_length_ = body_.size();
}

awaitable<bool> MockResponse::sleep(Duration d, Duration timeout) {
    if (d.count() <= 0) co_return true;
    timer_.expires_after(std::min(d, timeout));
    auto [ec] = co_await timer_.async_wait(use_nothrow);
    if (ec || cancelled_) {
        cancelled_ = true;
        co_return false;
    }
    co_return d <= timeout;
}

awaitable<boost::system::error_code> MockResponse::start(Duration timeout) {
    Duration wait = spec_.settings->latency;
    if (spec_.fault) wait += spec_.fault->stall_before_headers;
    bool ok = co_await sleep(wait, timeout);
    if (!ok) {
        co_return cancelled_ ? boost::system::error_code(asio::error::operation_aborted)
                             : boost::system::error_code(beast::error::timeout);
    }
    co_return boost::system::error_code{};
}

bool MockResponse::next_chunk() {
    pending_off_ = 0;
    if (content_length_) {  // a plain body is one chunk
        if (chunk_ > 0) return false;
        ++chunk_;
        pending_ = body_;
        return true;
    }
    if (chunk_ < chunk_count_) {
        pending_ = event_in_format(providers::mock_chunk(
            spec_.plan, spec_.model, spec_.id, spec_.created, chunk_, spec_.include_usage));
        ++chunk_;
        return true;
    }
    if (!sent_done_) {
        sent_done_ = true;
        pending_ = event_in_format(openai::kSseDone);
        return true;
    }
    return false;
}

awaitable<std::pair<boost::system::error_code, size_t>> MockResponse::read_body(char* dst,
                                                                                size_t cap,
                                                                                Duration timeout) {
    using Result = std::pair<boost::system::error_code, size_t>;
    const auto* f = spec_.fault;
    auto failed_wait = [this] {
        return Result{cancelled_ ? boost::system::error_code(asio::error::operation_aborted)
                                 : boost::system::error_code(beast::error::timeout),
                      0};
    };
    if (cancelled_) co_return failed_wait();
    for (;;) {
        if (pending_off_ < pending_.size()) {
            size_t n = std::min(cap, pending_.size() - pending_off_);
            if (f && f->trickle_bytes > 0) {
                n = std::min<size_t>(n, f->trickle_bytes);
                if (!first_piece_) {
                    bool ok = co_await sleep(f->trickle_interval, timeout);
                    if (!ok) co_return failed_wait();
                }
            }
            if (f && f->cut_after_chunks && content_length_ && *f->cut_after_chunks > 0) {
                // a plain body drops halfway through
                size_t half = pending_.size() / 2;
                if (pending_off_ >= half) {
                    co_return Result{http::error::partial_message, 0};
                }
                n = std::min(n, half - pending_off_);
            }
            first_piece_ = false;
            std::memcpy(dst, pending_.data() + pending_off_, n);
            pending_off_ += n;
            // a Content-Length body is done with its last byte (as an HTTP parser says)
            if (content_length_ && pending_off_ == pending_.size()) done_ = true;
            co_return Result{boost::system::error_code{}, n};
        }
        if (f && !content_length_) {  // stream faults, at chunk boundaries
            if (f->cut_after_chunks && chunk_ == *f->cut_after_chunks) {
                co_return Result{http::error::partial_message, 0};
            }
            if (f->stall_for.count() > 0 && !stalled_ && chunk_ == f->stall_after_chunks) {
                stalled_ = true;
                bool ok = co_await sleep(f->stall_for, timeout);
                if (!ok) co_return failed_wait();
            }
            if (f->malformed_after_chunks && !malformed_sent_ &&
                chunk_ == *f->malformed_after_chunks) {
                malformed_sent_ = true;
                pending_ = kBrokenEvent;
                pending_off_ = 0;
                continue;
            }
        }
        if (f && content_length_ && f->cut_after_chunks && *f->cut_after_chunks == 0) {
            co_return Result{http::error::partial_message, 0};
        }
        if (!content_length_ && chunk_ > 0 && chunk_ < chunk_count_) {
            bool ok = co_await sleep(spec_.settings->chunk_delay, timeout);
            if (!ok) co_return failed_wait();
        }
        if (!next_chunk()) {
            done_ = true;
            co_return Result{boost::system::error_code{}, 0};
        }
    }
}

}  // namespace baton::proxy
