#include "baton/upstream/response_reader.hpp"

#include <algorithm>
#include <cstring>

namespace baton::upstream {

namespace {
constexpr size_t kMaxHead = 64 * 1024;
}

boost::system::error_code ResponseReader::parse_head() {
    const char* p = head_.data();
    const char* const end = p + head_.size();  // ends with "\r\n\r\n"
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
    if (end - p < 14 || std::memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '1' && p[7] != '0') ||
        p[8] != ' ') {
        return http::error::bad_version;
    }
    const bool http11 = p[7] == '1';
    p += 9;
    unsigned st = 0;
    for (int i = 0; i < 3; ++i, ++p) {
        if (*p < '0' || *p > '9') return http::error::bad_status;
        st = st * 10 + static_cast<unsigned>(*p - '0');
    }
    if (st < 100 || (*p != ' ' && *p != '\r')) return http::error::bad_status;
    const void* eol = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (eol == nullptr || static_cast<const char*>(eol)[-1] != '\r') {
        return http::error::bad_reason;
    }
    p = static_cast<const char*>(eol) + 1;
    fields_.clear();
    if (http1::parse_fields(p, end, fields_) != nullptr) return http::error::bad_field;
    status_ = st;

    bool have_length = false, te = false, chunked = false, close = false, keep = false;
    uint64_t length = 0;
    for (const auto& f : fields_) {
        if (http1::iequals(f.name, "content-length")) {
            uint64_t n = 0;
            if (!http1::parse_decimal(f.value, n) || (have_length && n != length)) {
                return http::error::bad_content_length;
            }
            have_length = true;
            length = n;
        } else if (http1::iequals(f.name, "transfer-encoding")) {
            te = true;
            chunked = http1::iequals(http1::last_token(f.value), "chunked");
        } else if (http1::iequals(f.name, "connection")) {
            close = close || http1::has_token(f.value, "close");
            keep = keep || http1::has_token(f.value, "keep-alive");
        }
    }
    keep_alive_ = http11 ? !close : (keep && !close);
    done_ = false;
    chunks_.reset();
    body_bytes_ = 0;
    if (st < 200 || st == 204 || st == 304) {
        kind_ = Body::none;
        done_ = true;
    } else if (te) {  // RFC 9112 6.3: Transfer-Encoding wins; not chunked: read until close
        kind_ = chunked ? Body::chunked : Body::until_close;
    } else if (have_length) {
        if (length > body_limit_) return http::error::body_limit;
        kind_ = Body::length;
        length_ = remaining_ = length;
        done_ = length == 0;
    } else {
        kind_ = Body::until_close;
    }
    return {};
}

awaitable<boost::system::error_code> ResponseReader::read_head(Duration timeout) {
    return read_head(Clock::now() + timeout);
}

awaitable<boost::system::error_code> ResponseReader::read_head(Clock::time_point until) {
    auto& buf = conn_.buffer();
    for (;;) {
        while (buf.size() > 0) {
            received_any_ = true;
            const auto data = buf.data();
            std::string_view in(static_cast<const char*>(data.data()), data.size());
            size_t end = head_.empty() ? 0 : http1::blank_line_across(head_, in);
            if (end == 0) end = http1::find_blank_line(in);
            if (end == std::string_view::npos) {
                if (head_.size() + in.size() > kMaxHead) co_return http::error::header_limit;
                head_.append(in);
                buf.consume(in.size());
                break;
            }
            if (head_.size() + end > kMaxHead) co_return http::error::header_limit;
            head_.append(in.data(), end);
            buf.consume(end);
            if (auto ec = parse_head()) co_return ec;
            if (status_ >= 100 && status_ < 200 && status_ != 101) {
                head_.clear();  // an interim response: the real one follows
                continue;
            }
            co_return boost::system::error_code{};
        }
        // (a time already past ends the read at once with a timeout)
        auto [ec, n] = conn_.end_read(co_await conn_.start_read(until));
        if (ec) {
            if (ec == asio::error::eof && received_any_) co_return http::error::partial_message;
            co_return ec;
        }
    }
}

std::optional<std::pair<boost::system::error_code, size_t>> ResponseReader::read_body_now(
    char* dst, size_t cap) {
    using Result = std::pair<boost::system::error_code, size_t>;
    auto& buf = conn_.buffer();
    for (;;) {
        if (done_) return Result{};
        if (buf.size() == 0) return std::nullopt;
        const auto data = buf.data();
        std::string_view in(static_cast<const char*>(data.data()), data.size());
        size_t n = 0;
        if (kind_ == Body::chunked) {
            http1::ChunkedDecoder::Status st{};
            size_t used = chunks_.decode(in, dst, cap, n, st);
            buf.consume(used);
            if (st == http1::ChunkedDecoder::Status::error) {
                return Result{http::error::bad_chunk, 0};
            }
            if (st == http1::ChunkedDecoder::Status::done) done_ = true;
            body_bytes_ += n;
            if (body_bytes_ > body_limit_) return Result{http::error::body_limit, 0};
            if (n == 0 && !done_) continue;  // framing only: more is buffered or needed
        } else {
            uint64_t want = kind_ == Body::length ? remaining_ : UINT64_MAX;
            n = static_cast<size_t>(std::min<uint64_t>({want, in.size(), cap}));
            std::memcpy(dst, in.data(), n);
            buf.consume(n);
            body_bytes_ += n;
            if (kind_ == Body::length) {
                remaining_ -= n;
                if (remaining_ == 0) done_ = true;
            } else if (body_bytes_ > body_limit_) {
                return Result{http::error::body_limit, 0};
            }
        }
        return Result{boost::system::error_code{}, n};
    }
}

awaitable<std::pair<boost::system::error_code, size_t>> ResponseReader::read_body(
    char* dst, size_t cap, Duration timeout) {
    for (;;) {
        if (auto now = read_body_now(dst, cap)) co_return *now;
        auto [rec, rn] = conn_.end_read(co_await conn_.start_read(timeout));
        if (rec == asio::error::eof) {
            if (kind_ == Body::until_close) {  // the body is delimited by the close
                done_ = true;
                co_return std::pair{boost::system::error_code{}, size_t{0}};
            }
            co_return std::pair{boost::system::error_code(http::error::partial_message), size_t{0}};
        }
        if (rec) co_return std::pair{rec, size_t{0}};
    }
}

}  // namespace baton::upstream
