// Single-pass scanner for OpenAI chat-completions bodies: full RFC 8259 syntax validation plus
// extraction and shape validation of the fields routing needs, with no DOM and no allocation
// except ChatRequest::text_spans (and the error message on failure).
//
// Error precedence: a syntax error anywhere in the body wins over a shape error (so the answer
// does not depend on field order); among shape errors the first one found (document order, with
// "required"/cross-field checks made when the enclosing object closes) is reported.
#include "baton/openai/chat_request.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "openai/json_text.hpp"

namespace baton::openai {
namespace {

constexpr int kMaxDepth = 128;
constexpr size_t kMaxShown = 64;  // longest raw value quoted back in an error message

enum class Kind : uint8_t { object, array, string, number, boolean, null, invalid };

inline Kind kind_of(char c) {
    switch (c) {
        case '{':
            return Kind::object;
        case '[':
            return Kind::array;
        case '"':
            return Kind::string;
        case 't':
        case 'f':
            return Kind::boolean;
        case 'n':
            return Kind::null;
        default:
            return (c == '-' || (c >= '0' && c <= '9')) ? Kind::number : Kind::invalid;
    }
}

inline const char* kind_name(Kind k) {
    switch (k) {
        case Kind::object:
            return "an object";
        case Kind::array:
            return "an array";
        case Kind::string:
            return "a string";
        case Kind::number:
            return "a number";
        case Kind::boolean:
            return "a boolean";
        case Kind::null:
            return "null";
        case Kind::invalid:
            break;
    }
    return "an invalid value";
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

enum class Role : uint8_t { none, system, developer, user, assistant, tool, function };

Role role_of(std::string_view r) {
    if (r == "user") return Role::user;
    if (r == "assistant") return Role::assistant;
    if (r == "system") return Role::system;
    if (r == "tool") return Role::tool;
    if (r == "developer") return Role::developer;
    if (r == "function") return Role::function;
    return Role::none;
}

const char* role_name(Role r) {
    switch (r) {
        case Role::system:
            return "system";
        case Role::developer:
            return "developer";
        case Role::user:
            return "user";
        case Role::assistant:
            return "assistant";
        case Role::tool:
            return "tool";
        case Role::function:
            return "function";
        case Role::none:
            break;
    }
    return "";
}

// Top-level fields we extract; a bit each for duplicate detection.
constexpr uint32_t f_model = 1u << 0;
constexpr uint32_t f_messages = 1u << 1;
constexpr uint32_t f_stream = 1u << 2;
constexpr uint32_t f_stream_options = 1u << 3;
constexpr uint32_t f_max_tokens = 1u << 4;
constexpr uint32_t f_max_completion_tokens = 1u << 5;
constexpr uint32_t f_temperature = 1u << 6;
constexpr uint32_t f_n = 1u << 7;
constexpr uint32_t f_tools = 1u << 8;
constexpr uint32_t f_functions = 1u << 9;
constexpr uint32_t f_user = 1u << 10;
constexpr uint32_t f_response_format = 1u << 11;
constexpr uint32_t f_prompt = 1u << 12;  // completions
constexpr uint32_t f_input = 1u << 13;   // embeddings

uint32_t top_field_of(std::string_view k) {
    switch (k.size()) {
        case 1:
            return k == "n" ? f_n : 0;
        case 4:
            return k == "user" ? f_user : 0;
        case 5:
            return k == "model" ? f_model : k == "tools" ? f_tools : k == "input" ? f_input : 0;
        case 6:
            return k == "stream" ? f_stream : k == "prompt" ? f_prompt : 0;
        case 8:
            return k == "messages" ? f_messages : 0;
        case 9:
            return k == "functions" ? f_functions : 0;
        case 10:
            return k == "max_tokens" ? f_max_tokens : 0;
        case 11:
            return k == "temperature" ? f_temperature : 0;
        case 14:
            return k == "stream_options" ? f_stream_options : 0;
        case 15:
            return k == "response_format" ? f_response_format : 0;
        case 21:
            return k == "max_completion_tokens" ? f_max_completion_tokens : 0;
        default:
            return 0;
    }
}

struct Str {
    uint32_t begin = 0;  // first content byte (after the opening quote)
    uint32_t end = 0;    // position of the closing quote
    bool escaped = false;
};

struct Num {
    bool integer = true;  // no fraction, no exponent
    bool negative = false;
    bool overflow = false;  // magnitude exceeds int64
    uint64_t value = 0;
};

// Comparison buffer for escaped keys/values; longer strings can't equal any name we look for.
struct SmallBuf {
    char data[32];
};

class Scanner {
  public:
    Scanner(std::string_view body, ChatRequest& out, Api api)
        : p_(body.data()), n_(body.size()), out_(out), api_(api) {}

    ScanResult run();

  private:
    // ---- syntax ---------------------------------------------------------------------------
    bool fail(size_t pos, const char* what) {
        err_pos_ = pos;
        err_what_ = what;
        return false;
    }

    void ws() {
        // Compact JSON has no whitespace between tokens: one compare in the common case.
        if (i_<n_&& static_cast<unsigned char>(p_[i_])> ' ') [[likely]]
            return;
        while (i_ < n_) {
            const char c = p_[i_];
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                ++i_;
            } else {
                break;
            }
        }
    }

    bool scan_string(Str& s);
    bool scan_escape(size_t& j);
    bool scan_utf8(size_t& j);
    bool scan_number(Num* num);
    bool scan_literal(const char* lit, size_t len, const char* what);
    bool skip_value();

    // Object/array iteration. On entry p_[i_] is '{' / '['. The callback is entered with i_ at
    // the start of a value (i_ < n_) and must consume exactly that value.
    template <class F>
    bool object(F&& member);
    template <class F>
    bool array(F&& element);

    std::string_view view(const Str& s) const { return {p_ + s.begin, size_t(s.end - s.begin)}; }
    // The decoded string if it has escapes (short strings only), else the raw bytes.
    std::string_view text(const Str& s, SmallBuf& buf) const {
        if (!s.escaped) [[likely]]
            return view(s);
        return detail::decode_small(view(s), buf.data, sizeof buf.data);
    }
    Kind kind() const { return kind_of(p_[i_]); }

    // ---- shape ----------------------------------------------------------------------------
    void shape(std::string message, std::string param) {
        if (!shape_)
            shape_ = make_error(Errc::invalid_request, std::move(message), std::move(param));
    }
    // Records a type mismatch for the value at i_ and skips it.
    bool wrong_kind(std::string_view param, std::string_view expected) {
        const Kind k = kind();
        if (!shape_) {
            std::string msg = "'";
            msg += param;
            msg += "' must be ";
            msg += expected;
            msg += ", got ";
            msg += kind_name(k);
            shape(std::move(msg), std::string(param));
        }
        return skip_value();
    }
    std::string shown(size_t begin, size_t end) const {
        std::string s(p_ + begin, std::min(end - begin, kMaxShown));
        if (end - begin > kMaxShown) s += "...";
        return s;
    }

    bool top_member(const Str& key);
    bool on_model();
    bool on_bool(std::string_view param, bool& dst);
    bool on_positive_int(std::string_view param, std::optional<int64_t>& dst);
    bool on_messages();
    bool on_message(uint32_t idx);
    bool on_content_parts(uint32_t msg);
    bool on_part(uint32_t msg, uint32_t part);
    bool on_stream_options();
    bool on_response_format();
    bool on_tools(std::string_view param);
    bool on_texts(std::string_view param);

    std::string msg_path(uint32_t idx) const { return "messages[" + std::to_string(idx) + "]"; }
    std::string part_path(uint32_t msg, uint32_t part) const {
        return msg_path(msg) + ".content[" + std::to_string(part) + "]";
    }

    void push_text(const Str& s) {
        out_.text_spans.push_back(Span{s.begin, s.end});
        out_.text_bytes += s.end - s.begin;
    }

    const char* p_;
    size_t n_;
    size_t i_ = 0;
    int depth_ = 0;
    ChatRequest& out_;
    Api api_ = Api::chat;
    size_t err_pos_ = 0;
    const char* err_what_ = nullptr;
    std::optional<Error> shape_;
    uint32_t seen_ = 0;
    std::optional<int64_t> max_tokens_;
    std::optional<int64_t> max_completion_tokens_;
};

// ---- syntax -------------------------------------------------------------------------------

bool Scanner::scan_string(Str& s) {
    size_t j = i_ + 1;
    s.begin = uint32_t(j);
    s.escaped = false;
    for (;;) {
        // Long strings (documents in a prompt): simple escapes are stepped over without
        // leaving the vector loop, 32 bytes a step where the CPU has AVX2.
        j = n_ - j >= 128 ? detail::skip_string_run(p_, j, n_, s.escaped)
                          : detail::find_string_special(p_, j, n_);
        if (j >= n_) [[unlikely]]
            return fail(n_, "expected '\"' to close the string");
        const auto c = static_cast<unsigned char>(p_[j]);
        if (c == '"') {
            s.end = uint32_t(j);
            i_ = j + 1;
            return true;
        }
        if (c == '\\') {
            s.escaped = true;
            if (!scan_escape(j)) return false;
        } else if (c < 0x20) {
            return fail(j, "control character in string (must be escaped)");
        } else {
            // A run of non-ASCII text: validate sequences back to back rather than restarting
            // the block scan after each one.
            do {
                if (!scan_utf8(j)) return false;
            } while (j < n_ && static_cast<unsigned char>(p_[j]) >= 0x80);
        }
    }
}

bool Scanner::scan_escape(size_t& j) {
    // p_[j] == '\\'
    if (j + 1 >= n_) return fail(n_, "expected an escape character after '\\'");
    if (detail::simple_escape(p_[j + 1])) {
        j += 2;
        return true;
    }
    if (p_[j + 1] != 'u') return fail(j + 1, "invalid escape sequence in string");
    const size_t start = j;
    auto hex4 = [&](size_t at, int& cp) -> bool {
        for (size_t k = 0; k < 4; ++k) {
            if (at + k >= n_ || detail::hex_value(p_[at + k]) < 0)
                return fail(std::min(at + k, n_), "expected 4 hex digits after '\\u'");
        }
        cp = detail::hex4(p_ + at);
        return true;
    };
    int cp = 0;
    if (!hex4(j + 2, cp)) return false;
    j += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(start, "unpaired UTF-16 low surrogate in '\\u' escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (j + 1 >= n_ || p_[j] != '\\' || p_[j + 1] != 'u')
            return fail(start, "UTF-16 high surrogate in '\\u' escape not followed by a low one");
        int lo = 0;
        if (!hex4(j + 2, lo)) return false;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(start, "UTF-16 high surrogate in '\\u' escape not followed by a low one");
        j += 6;
    }
    return true;
}

bool Scanner::scan_utf8(size_t& j) {
    // p_[j] >= 0x80. Well-formed sequences per Unicode Table 3-7 (no overlongs, no surrogates,
    // nothing above U+10FFFF).
    const auto* u = reinterpret_cast<const unsigned char*>(p_);
    const unsigned b0 = u[j];
    auto is_cont = [](unsigned b) { return (b & 0xC0) == 0x80; };
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (j + 1 < n_ && is_cont(u[j + 1])) {
            j += 2;
            return true;
        }
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (j + 2 < n_) {
            const unsigned b1 = u[j + 1];
            const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
            const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
            if (b1 >= lo && b1 <= hi && is_cont(u[j + 2])) {
                j += 3;
                return true;
            }
        }
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (j + 3 < n_) {
            const unsigned b1 = u[j + 1];
            const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
            const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
            if (b1 >= lo && b1 <= hi && is_cont(u[j + 2]) && is_cont(u[j + 3])) {
                j += 4;
                return true;
            }
        }
    }
    return fail(j, "invalid UTF-8 in string");
}

bool Scanner::scan_number(Num* num) {
    size_t j = i_;
    bool negative = false;
    if (p_[j] == '-') {
        negative = true;
        ++j;
    }
    if (j >= n_ || !is_digit(p_[j])) return fail(j, "expected a digit");
    uint64_t v = 0;
    bool overflow = false;
    if (p_[j] == '0') {
        ++j;
        if (j < n_ && is_digit(p_[j])) return fail(j, "leading zeros are not allowed in numbers");
    } else {
        constexpr auto kMax = uint64_t(std::numeric_limits<int64_t>::max());
        do {
            const auto d = uint64_t(p_[j] - '0');
            if (v > (kMax - d) / 10) {
                overflow = true;
            } else {
                v = v * 10 + d;
            }
            ++j;
        } while (j < n_ && is_digit(p_[j]));
    }
    bool integer = true;
    if (j < n_ && p_[j] == '.') {
        integer = false;
        ++j;
        if (j >= n_ || !is_digit(p_[j])) return fail(j, "expected a digit after the decimal point");
        while (j < n_ && is_digit(p_[j])) ++j;
    }
    if (j < n_ && (p_[j] == 'e' || p_[j] == 'E')) {
        integer = false;
        ++j;
        if (j < n_ && (p_[j] == '+' || p_[j] == '-')) ++j;
        if (j >= n_ || !is_digit(p_[j])) return fail(j, "expected a digit in the exponent");
        while (j < n_ && is_digit(p_[j])) ++j;
    }
    i_ = j;
    if (num) *num = Num{integer, negative, overflow, v};
    return true;
}

bool Scanner::scan_literal(const char* lit, size_t len, const char* what) {
    for (size_t k = 0; k < len; ++k) {
        if (i_ + k >= n_ || p_[i_ + k] != lit[k]) return fail(i_ + k, what);
    }
    i_ += len;
    return true;
}

bool Scanner::skip_value() {
    if (i_ >= n_) return fail(n_, "expected a JSON value");
    switch (p_[i_]) {
        case '{':
            return object([this](const Str&) { return skip_value(); });
        case '[':
            return array([this](uint32_t) { return skip_value(); });
        case '"': {
            Str s;
            return scan_string(s);
        }
        case 't':
            return scan_literal("true", 4, "invalid literal, expected 'true'");
        case 'f':
            return scan_literal("false", 5, "invalid literal, expected 'false'");
        case 'n':
            return scan_literal("null", 4, "invalid literal, expected 'null'");
        default:
            if (kind() == Kind::number) return scan_number(nullptr);
            return fail(i_, "expected a JSON value");
    }
}

template <class F>
bool Scanner::object(F&& member) {
    if (++depth_ > kMaxDepth) return fail(i_, "nesting depth exceeds the limit of 128");
    ++i_;
    ws();
    if (i_ < n_ && p_[i_] == '}') {
        ++i_;
        --depth_;
        return true;
    }
    bool first = true;
    for (;;) {
        if (i_ >= n_ || p_[i_] != '"')
            return fail(i_, first ? "expected a string key or '}'" : "expected a string key");
        first = false;
        Str key;
        if (!scan_string(key)) return false;
        ws();
        if (i_ >= n_ || p_[i_] != ':') return fail(i_, "expected ':' after the object key");
        ++i_;
        ws();
        if (i_ >= n_) return fail(n_, "expected a JSON value");
        if (!member(key)) return false;
        ws();
        if (i_ < n_) {
            if (p_[i_] == ',') {
                ++i_;
                ws();
                continue;
            }
            if (p_[i_] == '}') {
                ++i_;
                --depth_;
                return true;
            }
        }
        return fail(i_, "expected ',' or '}'");
    }
}

template <class F>
bool Scanner::array(F&& element) {
    if (++depth_ > kMaxDepth) return fail(i_, "nesting depth exceeds the limit of 128");
    ++i_;
    ws();
    if (i_ < n_ && p_[i_] == ']') {
        ++i_;
        --depth_;
        return true;
    }
    for (uint32_t idx = 0;; ++idx) {
        if (i_ >= n_) return fail(n_, "expected a JSON value");
        if (!element(idx)) return false;
        ws();
        if (i_ < n_) {
            if (p_[i_] == ',') {
                ++i_;
                ws();
                continue;
            }
            if (p_[i_] == ']') {
                ++i_;
                --depth_;
                return true;
            }
        }
        return fail(i_, "expected ',' or ']'");
    }
}

// ---- shape --------------------------------------------------------------------------------

// "prompt" / "input": a string, or an array of strings (their spans are texts); arrays of tokens
// (numbers, or arrays of numbers) are accepted and skipped.
bool Scanner::on_texts(std::string_view param) {
    const Kind k = kind();
    if (k == Kind::string) {
        Str s;
        if (!scan_string(s)) return false;
        push_text(s);
        return true;
    }
    if (k != Kind::array) return wrong_kind(param, "a string or an array");
    return array([&](uint32_t idx) {
        const Kind ek = kind();
        if (ek == Kind::string) {
            Str s;
            if (!scan_string(s)) return false;
            push_text(s);
            return true;
        }
        if (ek == Kind::number || ek == Kind::array) return skip_value();
        return wrong_kind(std::string(param) + "[" + std::to_string(idx) + "]",
                          "a string or tokens");
    });
}

bool Scanner::on_model() {
    if (kind() != Kind::string) return wrong_kind("model", "a string");
    Str s;
    if (!scan_string(s)) return false;
    if (s.escaped) {
        shape("'model' must not contain escape sequences (model names cannot contain escapes)",
              "model");
    } else if (s.begin == s.end) {
        shape("'model' must be a non-empty string", "model");
    }
    out_.model = view(s);
    out_.model_value = Span{s.begin - 1, s.end + 1};
    return true;
}

bool Scanner::on_bool(std::string_view param, bool& dst) {
    switch (p_[i_]) {
        case 't':
            dst = true;
            return scan_literal("true", 4, "invalid literal, expected 'true'");
        case 'f':
            dst = false;
            return scan_literal("false", 5, "invalid literal, expected 'false'");
        case 'n':
            return scan_literal("null", 4, "invalid literal, expected 'null'");
        default:
            return wrong_kind(param, "a boolean");
    }
}

bool Scanner::on_positive_int(std::string_view param, std::optional<int64_t>& dst) {
    const Kind k = kind();
    if (k == Kind::null) return scan_literal("null", 4, "invalid literal, expected 'null'");
    if (k != Kind::number) return wrong_kind(param, "a positive integer");
    const size_t start = i_;
    Num num;
    if (!scan_number(&num)) return false;
    if (!num.integer || num.negative || num.overflow || num.value == 0) {
        shape("'" + std::string(param) + "' must be a positive integer, got " + shown(start, i_),
              std::string(param));
    } else {
        dst = int64_t(num.value);
    }
    return true;
}

bool Scanner::on_tools(std::string_view param) {
    const Kind k = kind();
    if (k == Kind::null) return scan_literal("null", 4, "invalid literal, expected 'null'");
    if (k != Kind::array) return wrong_kind(param, "an array");
    uint32_t count = 0;
    if (!array([&](uint32_t) {
            ++count;
            return skip_value();
        }))
        return false;
    if (count > 0) out_.has_tools = true;
    return true;
}

bool Scanner::on_stream_options() {
    const Kind k = kind();
    if (k != Kind::object && k != Kind::null) return wrong_kind("stream_options", "an object");
    out_.has_stream_options = true;
    const size_t start = i_;
    if (k == Kind::null) {
        if (!scan_literal("null", 4, "invalid literal, expected 'null'")) return false;
    } else if (!object([&](const Str& key) {
                   SmallBuf buf;
                   if (text(key, buf) == "include_usage") {
                       return on_bool("stream_options.include_usage", out_.include_usage);
                   }
                   return skip_value();
               })) {
        return false;
    }
    out_.stream_options_value = Span{uint32_t(start), uint32_t(i_)};
    return true;
}

bool Scanner::on_response_format() {
    const Kind k = kind();
    if (k == Kind::null) return scan_literal("null", 4, "invalid literal, expected 'null'");
    if (k != Kind::object) return wrong_kind("response_format", "an object");
    out_.has_response_format = true;
    bool have_type = false;
    if (!object([&](const Str& key) {
            SmallBuf buf;
            if (text(key, buf) != "type") return skip_value();
            if (kind() != Kind::string) return wrong_kind("response_format.type", "a string");
            have_type = true;
            Str s;
            if (!scan_string(s)) return false;
            const std::string_view t = text(s, buf);
            out_.json_schema = t == "json_schema";
            out_.json_object = t == "json_object";
            return true;
        }))
        return false;
    if (!have_type) shape("'response_format.type' is a required property", "response_format.type");
    return true;
}

bool Scanner::on_messages() {
    const Kind k = kind();
    if (k != Kind::array) return wrong_kind("messages", "an array");
    uint32_t count = 0;
    if (!array([&](uint32_t idx) {
            ++count;
            return on_message(idx);
        }))
        return false;
    if (count == 0) shape("'messages' must be a non-empty array", "messages");
    out_.message_count += count;
    return true;
}

bool Scanner::on_message(uint32_t idx) {
    if (kind() != Kind::object) {
        if (!shape_) {
            shape(msg_path(idx) + ": expected a message object, got " + kind_name(kind()),
                  msg_path(idx));
        }
        return skip_value();
    }
    Role role = Role::none;
    bool role_seen = false;
    bool content_present = false;  // non-null content (or a wrongly typed one, reported already)
    bool has_tool_calls = false;
    bool has_tool_call_id = false;
    const bool ok = object([&](const Str& key) {
        SmallBuf kbuf;
        const std::string_view k = text(key, kbuf);
        if (k == "role") {
            role_seen = true;
            if (kind() != Kind::string) {
                role = Role::none;
                if (!shape_) {
                    shape(msg_path(idx) + ".role must be a string, got " + kind_name(kind()),
                          msg_path(idx) + ".role");
                }
                return skip_value();
            }
            Str s;
            if (!scan_string(s)) return false;
            SmallBuf vbuf;
            role = role_of(text(s, vbuf));
            if (role == Role::none && !shape_) {
                shape(msg_path(idx) +
                          ".role: expected one of system, developer, user, assistant, tool, "
                          "function, got \"" +
                          shown(s.begin, s.end) + "\"",
                      msg_path(idx) + ".role");
            }
            return true;
        }
        if (k == "content") {
            switch (kind()) {
                case Kind::string: {
                    content_present = true;
                    Str s;
                    if (!scan_string(s)) return false;
                    push_text(s);
                    return true;
                }
                case Kind::array:
                    content_present = true;
                    return on_content_parts(idx);
                case Kind::null:
                    content_present = false;
                    return scan_literal("null", 4, "invalid literal, expected 'null'");
                default:
                    content_present = true;
                    if (!shape_) {
                        shape(msg_path(idx) +
                                  ".content must be a string, an array of content parts, or "
                                  "null, got " +
                                  kind_name(kind()),
                              msg_path(idx) + ".content");
                    }
                    return skip_value();
            }
        }
        if (k == "tool_calls" || k == "function_call") {
            if (kind() == Kind::null)
                return scan_literal("null", 4, "invalid literal, expected 'null'");
            has_tool_calls = true;
            return skip_value();
        }
        if (k == "tool_call_id") {
            if (kind() != Kind::string) {
                if (!shape_) {
                    shape(
                        msg_path(idx) + ".tool_call_id must be a string, got " + kind_name(kind()),
                        msg_path(idx) + ".tool_call_id");
                }
                return skip_value();
            }
            has_tool_call_id = true;
            Str s;
            return scan_string(s);
        }
        return skip_value();
    });
    if (!ok) return false;
    if (shape_) return true;
    if (!role_seen) {
        shape(msg_path(idx) + ": 'role' is a required property", msg_path(idx) + ".role");
    } else if (role != Role::none) {
        if (!content_present && !(role == Role::assistant && has_tool_calls)) {
            if (role == Role::assistant) {
                shape(msg_path(idx) +
                          ".content must be a string or an array of content parts unless the "
                          "assistant message has tool_calls or function_call",
                      msg_path(idx) + ".content");
            } else {
                shape(msg_path(idx) +
                          ".content is required (a string or an array of content "
                          "parts) for role '" +
                          role_name(role) + "'",
                      msg_path(idx) + ".content");
            }
        } else if (role == Role::tool && !has_tool_call_id) {
            shape(msg_path(idx) + ": 'tool_call_id' is required for role 'tool'",
                  msg_path(idx) + ".tool_call_id");
        }
    }
    return true;
}

bool Scanner::on_content_parts(uint32_t msg) {
    return array([&](uint32_t part) { return on_part(msg, part); });
}

bool Scanner::on_part(uint32_t msg, uint32_t part) {
    if (kind() != Kind::object) {
        if (!shape_) {
            shape(
                part_path(msg, part) + ": expected a content part object, got " + kind_name(kind()),
                part_path(msg, part));
        }
        return skip_value();
    }
    enum class Type : uint8_t { none, text, image, other } type = Type::none;
    bool type_seen = false;
    bool have_text = false;
    Str text_str;
    const bool ok = object([&](const Str& key) {
        SmallBuf kbuf;
        const std::string_view k = text(key, kbuf);
        if (k == "type") {
            type_seen = true;
            if (kind() != Kind::string) {
                if (!shape_) {
                    shape(part_path(msg, part) + ".type must be a string, got " + kind_name(kind()),
                          part_path(msg, part) + ".type");
                }
                return skip_value();
            }
            Str s;
            if (!scan_string(s)) return false;
            SmallBuf vbuf;
            const std::string_view t = text(s, vbuf);
            if (t == "text") {
                type = Type::text;
            } else if (t == "image_url" || t == "input_image") {
                type = Type::image;
            } else {
                type = Type::other;
            }
            return true;
        }
        if (k == "text" && kind() == Kind::string) {
            have_text = true;
            return scan_string(text_str);
        }
        return skip_value();
    });
    if (!ok) return false;
    if (!type_seen) {
        shape(part_path(msg, part) + ": 'type' is a required property",
              part_path(msg, part) + ".type");
    } else if (type == Type::text) {
        if (have_text) {
            push_text(text_str);
        } else {
            shape(part_path(msg, part) + ".text must be a string for a part of type 'text'",
                  part_path(msg, part) + ".text");
        }
    } else if (type == Type::image) {
        out_.has_images = true;
    }
    return true;
}

bool Scanner::top_member(const Str& key) {
    SmallBuf buf;
    const std::string_view k = text(key, buf);
    uint32_t field = top_field_of(k);
    if ((field == f_prompt && api_ != Api::completions) ||
        (field == f_input && api_ != Api::embeddings) ||
        (field == f_messages && api_ != Api::chat)) {
        field = 0;  // another API's field: not ours to check
    }
    if (field == 0) return skip_value();
    if ((seen_ & field) != 0 && !shape_) {
        shape("duplicate top-level '" + std::string(k) + "'", std::string(k));
    }
    seen_ |= field;
    switch (field) {
        case f_model:
            return on_model();
        case f_messages:
            return on_messages();
        case f_stream:
            return on_bool("stream", out_.stream);
        case f_stream_options:
            return on_stream_options();
        case f_max_tokens:
            return on_positive_int("max_tokens", max_tokens_);
        case f_max_completion_tokens:
            return on_positive_int("max_completion_tokens", max_completion_tokens_);
        case f_temperature: {
            const Kind vk = kind();
            if (vk == Kind::null)
                return scan_literal("null", 4, "invalid literal, expected 'null'");
            if (vk != Kind::number) return wrong_kind("temperature", "a number");
            return scan_number(nullptr);
        }
        case f_n: {
            std::optional<int64_t> ignored;
            return on_positive_int("n", ignored);
        }
        case f_tools:
            return on_tools("tools");
        case f_functions:
            return on_tools("functions");
        case f_user: {
            const Kind vk = kind();
            if (vk == Kind::null)
                return scan_literal("null", 4, "invalid literal, expected 'null'");
            if (vk != Kind::string) return wrong_kind("user", "a string");
            Str s;
            if (!scan_string(s)) return false;
            out_.user = view(s);
            return true;
        }
        case f_response_format:
            return on_response_format();
        case f_prompt:
            return on_texts("prompt");
        case f_input:
            return on_texts("input");
        default:
            return skip_value();
    }
}

std::string syntax_message(std::string_view body, size_t pos, const char* what) {
    uint64_t line = 1;
    uint64_t col = 1;
    for (size_t k = 0; k < pos && k < body.size(); ++k) {
        const auto c = static_cast<unsigned char>(body[k]);
        if (c == '\n') {
            ++line;
            col = 1;
        } else if ((c & 0xC0) != 0x80) {  // count characters, not UTF-8 continuation bytes
            ++col;
        }
    }
    std::string msg = "malformed JSON at line " + std::to_string(line) + " column " +
                      std::to_string(col) + " (byte " + std::to_string(pos) + "): ";
    if (pos >= body.size()) msg += "unexpected end of input, ";
    msg += what;
    return msg;
}

ScanResult Scanner::run() {
    ws();
    if (i_ >= n_) {
        return ScanResult{
            boost::system::in_place_error,
            make_error(Errc::invalid_json, "request body is empty; expected a JSON object")};
    }
    bool ok = false;
    if (p_[i_] != '{') {
        fail(i_, "expected a JSON object ('{')");
    } else if (object([this](const Str& key) { return top_member(key); })) {
        ws();
        ok = i_ == n_ || fail(i_, "unexpected data after the JSON object");
    }
    if (!ok) {
        return ScanResult{boost::system::in_place_error,
                          make_error(Errc::invalid_json, syntax_message(std::string_view(p_, n_),
                                                                        err_pos_, err_what_))};
    }
    if (!shape_) {
        if ((seen_ & f_model) == 0) {
            shape("'model' is a required property", "model");
        } else if (api_ == Api::chat && (seen_ & f_messages) == 0) {
            shape("'messages' is a required property", "messages");
        } else if (api_ == Api::completions && (seen_ & f_prompt) == 0) {
            shape("'prompt' is a required property", "prompt");
        } else if (api_ == Api::embeddings && (seen_ & f_input) == 0) {
            shape("'input' is a required property", "input");
        }
    }
    if (shape_) return ScanResult{boost::system::in_place_error, std::move(*shape_)};
    out_.max_tokens = max_completion_tokens_ ? max_completion_tokens_ : max_tokens_;
    return std::move(out_);
}

}  // namespace

ScanResult scan_request(std::string_view body, Api api) {
    if (body.size() > std::numeric_limits<uint32_t>::max()) {
        return ScanResult{boost::system::in_place_error,
                          make_error(Errc::payload_too_large, "request body is too large")};
    }
    ChatRequest out;
    Scanner scanner(body, out, api);
    return scanner.run();
}

ScanResult scan_chat_request(std::string_view body) { return scan_request(body, Api::chat); }

}  // namespace baton::openai
