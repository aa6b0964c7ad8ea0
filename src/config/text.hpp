#pragma once
// Private to the config part: parsers for the small string formats of baton.yaml. Each returns
// false and sets `error` (a message that never repeats credentials) on bad input.
#include <cstdint>
#include <string>
#include <string_view>

#include "baton/config/model.hpp"

namespace baton::config::detail {

// "250ms" style rendering of a duration (the largest unit that divides it exactly).
std::string format_duration(Millis d);

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080" (localhost becomes 127.0.0.1). Port 0 is
// allowed (the OS picks a free port). IPv6 hosts are stored without brackets.
bool parse_listen(std::string_view text, std::string& host, uint16_t& port, std::string& error);

struct ParsedUrl {
    bool tls = false;
    std::string host;        // IPv6 literals without brackets
    uint16_t port = 0;       // 80/443 when not written
    std::string base_path;   // "" or "/v1" (no trailing slash)
    std::string normalized;  // the URL with trailing slashes removed
};
// http:// or https:// URL with an optional path; no credentials, query or fragment.
bool parse_base_url(std::string_view text, ParsedUrl& out, std::string& error);

// YYYY-MM-DD (a real calendar date) to days since 1970-01-01.
bool parse_date(std::string_view text, int64_t& days);

// RFC 9110 token (header field name).
bool is_token(std::string_view text);

std::string to_lower(std::string_view text);

}  // namespace baton::config::detail
