#include "mock_response.hpp"

#include <algorithm>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <cstring>

#include "baton/openai/sse.hpp"

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
}  // namespace

MockResponse::MockResponse(asio::any_io_executor ex, const Spec& spec) : spec_(spec), timer_(ex) {
    const auto* f = spec_.fault;
    int status = spec_.plan.status;
    if (f && !f->status.empty()) {
        size_t i = std::min<size_t>(spec_.attempt_on_target - 1, f->status.size() - 1);
        status = f->status[i];
    }
    head_.version(11);
    head_.result(static_cast<unsigned>(status));
    if (status >= 400) {
        body_ = providers::mock_error_body(status);
        head_.set(http::field::content_type, "application/json");
        if (f && f->retry_after.count() >= 0 && (status == 429 || status == 503)) {
            head_.set(http::field::retry_after,
                      std::to_string((f->retry_after.count() + 999) / 1000));
        }
    } else if (f && f->error_body) {
        body_ = providers::mock_error_body(500);
        head_.set(http::field::content_type, "application/json");
    } else if (spec_.stream && (!f || f->content_type.empty())) {
        head_.set(http::field::content_type, "text/event-stream");
        head_.set(http::field::cache_control, "no-cache");
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
        head_.set(http::field::content_type, type);
    }
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
        pending_ = providers::mock_chunk(spec_.plan, spec_.model, spec_.id, spec_.created, chunk_,
                                         spec_.include_usage);
        ++chunk_;
        return true;
    }
    if (!sent_done_) {
        sent_done_ = true;
        pending_ = openai::kSseDone;
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
