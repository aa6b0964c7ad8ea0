#include <algorithm>
#include <boost/beast/http/verb.hpp>
#include <cstring>

#include "baton/server/request.hpp"

namespace baton::server {

namespace {

// Whether `in` (which follows `head`) has a '\n' not preceded by '\r'. Only checked while the
// head is incomplete: a complete head is validated line by line.
bool has_bare_lf(std::string_view head, std::string_view in) {
    for (size_t i = 0;; ++i) {
        const void* nl = std::memchr(in.data() + i, '\n', in.size() - i);
        if (nl == nullptr) return false;
        i = static_cast<size_t>(static_cast<const char*>(nl) - in.data());
        char prev = i > 0 ? in[i - 1] : (head.empty() ? '\0' : head.back());
        if (prev != '\r') return true;
    }
}

// Bodies larger than this are not kept between the requests of a connection.
constexpr size_t kKeepBodyCapacity = 16 * 1024;

}  // namespace

void RequestParser::reset(HttpRequest& req) {
    req_ = &req;
    req.head_.clear();
    req.fields_.clear();
    if (req.body_.capacity() > kKeepBodyCapacity) {
        std::string().swap(req.body_);
    } else {
        req.body_.clear();
    }
    req.method_ = {};
    req.target_ = {};
    req.verb_ = http::verb::unknown;
    req.version_ = 11;
    req.keep_alive_ = true;
    state_ = State::head;
    remaining_ = 0;
    chunks_.reset();
    error_ = {};
}

size_t RequestParser::put(std::string_view in, Status& status) {
    size_t used = 0;
    if (state_ == State::head) {
        std::string& head = req_->head_;
        size_t end = head.empty() ? 0 : http1::blank_line_across(head, in);
        if (end == 0) end = http1::find_blank_line(in);
        if (end == std::string_view::npos) {
            if (has_bare_lf(head, in)) {
                status = fail(Status::bad_request, "request head with a bare LF line ending");
                return 0;
            }
            if (head.size() + in.size() >= max_header_) {
                status = fail(Status::header_too_large, "request head too large");
                return 0;
            }
            head.append(in);
            status = Status::need_more;
            return in.size();
        }
        if (head.size() + end > max_header_) {
            status = fail(Status::header_too_large, "request head too large");
            return 0;
        }
        head.append(in.data(), end);
        used = end;
        status = parse_head();
        if (status != Status::need_more) return used;
        in.remove_prefix(used);
    }
    std::string& body = req_->body_;
    if (state_ == State::body_length) {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        std::memcpy(body.data() + (body.size() - remaining_), in.data(), take);
        used += take;
        body_received(take);
    } else if (state_ == State::chunked && !in.empty()) {
        // Decode into the body's tail; room for one byte past the limit detects an excess.
        const size_t old = body.size();
        const size_t room = static_cast<size_t>(
            std::min<uint64_t>(in.size(), max_body_ - std::min<uint64_t>(max_body_, old) + 1));
        body.resize(old + room);
        size_t produced = 0;
        http1::ChunkedDecoder::Status st{};
        size_t n = chunks_.decode(in, body.data() + old, room, produced, st);
        body.resize(old + produced);
        used += n;
        if (st == http1::ChunkedDecoder::Status::error) {
            status = fail(Status::bad_request, chunks_.error());
            return used;
        }
        if (body.size() > max_body_) {
            status = fail(Status::body_too_large, "request body too large");
            return used;
        }
        if (st == http1::ChunkedDecoder::Status::done) state_ = State::done;
    }
    status = state_ == State::done ? Status::done : Status::need_more;
    return used;
}

std::span<char> RequestParser::body_space() {
    if (state_ != State::body_length) return {};
    std::string& body = req_->body_;
    return {body.data() + (body.size() - remaining_), static_cast<size_t>(remaining_)};
}

void RequestParser::body_received(size_t n) {
    remaining_ -= n;
    if (remaining_ == 0) state_ = State::done;
}

RequestParser::Status RequestParser::parse_head() {
    HttpRequest& r = *req_;
    const char* p = r.head_.data();
    const char* const end = p + r.head_.size();  // ends with "\r\n\r\n"

    // request-line = method SP request-target SP HTTP-version CRLF
    const char* m = p;
    while (http1::is_tchar(*p)) ++p;
    if (p == m || *p != ' ') return fail(Status::bad_request, "malformed request line");
    r.method_ = std::string_view(m, static_cast<size_t>(p - m));
    const char* t = ++p;
    while (static_cast<unsigned char>(*p) > 0x20 && *p != 0x7f) ++p;
    if (p == t || *p != ' ') return fail(Status::bad_request, "malformed request target");
    r.target_ = std::string_view(t, static_cast<size_t>(p - t));
    ++p;
    if (end - p < 10 || std::memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '1' && p[7] != '0') ||
        p[8] != '\r' || p[9] != '\n') {
        return fail(Status::bad_request, "unsupported HTTP version");
    }
    r.version_ = p[7] == '1' ? 11 : 10;
    p += 10;
    if (const char* why = http1::parse_fields(p, end, r.fields_)) {
        return fail(Status::bad_request, why);
    }

    bool have_length = false, chunked = false, close = false, keep = false;
    uint64_t length = 0;
    for (const auto& f : r.fields_) {
        switch (f.name[0] | 0x20) {  // ASCII lower case of the first letter
            case 'c':
                if (http1::iequals(f.name, "content-length")) {
                    uint64_t n = 0;
                    if (!http1::parse_decimal(f.value, n) || (have_length && n != length)) {
                        return fail(Status::bad_request, "invalid Content-Length");
                    }
                    have_length = true;
                    length = n;
                } else if (http1::iequals(f.name, "connection")) {
                    close = close || http1::has_token(f.value, "close");
                    keep = keep || http1::has_token(f.value, "keep-alive");
                }
                break;
            case 't':
                if (http1::iequals(f.name, "transfer-encoding")) {
                    if (chunked || !http1::iequals(f.value, "chunked")) {
                        return fail(Status::bad_request,
                                    "unsupported Transfer-Encoding (only chunked is accepted)");
                    }
                    chunked = true;
                }
                break;
            default:
                break;
        }
    }
    r.verb_ = http::string_to_verb(r.method_);
    r.keep_alive_ = r.version_ == 11 ? !close : (keep && !close);

    if (chunked && have_length) {
        return fail(Status::bad_request, "both Content-Length and Transfer-Encoding");
    }
    if (chunked) {
        state_ = State::chunked;
    } else if (have_length && length > 0) {
        if (length > max_body_) return fail(Status::body_too_large, "request body too large");
        // Sized now: the bytes are copied (or read, see body_space) straight into place.
        r.body_.resize(static_cast<size_t>(length));
        remaining_ = length;
        state_ = State::body_length;
    } else {
        state_ = State::done;
    }
    return Status::need_more;
}

}  // namespace baton::server
