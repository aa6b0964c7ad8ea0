// Small string formats: durations, names, listen addresses, URLs, dates, diagnostics.
#include "config/text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "baton/config/load.hpp"

namespace baton::config {

std::string Diagnostic::format() const {
    std::string out = file;
    if (line > 0) {
        out += ':' + std::to_string(line);
        if (column > 0) out += ':' + std::to_string(column);
    }
    out += ": ";
    if (severity == Severity::warning) out += "warning: ";
    if (!path.empty()) out += path + ": ";
    out += message;
    return out;
}

bool parse_duration(std::string_view text, Millis& out) {
    // <digits>[.<digits>]<unit>, unit one of ms, s, m, h.
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    const size_t int_end = i;
    size_t frac_end = i;
    if (i < text.size() && text[i] == '.') {
        ++i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
        frac_end = i;
        if (frac_end == int_end + 1) return false;  // "1.s"
    }
    if (int_end == 0) return false;  // ".5s", "s", ""
    const std::string_view number = text.substr(0, frac_end);
    const std::string_view unit = text.substr(frac_end);
    double scale = 0;
    if (unit == "ms") {
        scale = 1;
    } else if (unit == "s") {
        scale = 1'000;
    } else if (unit == "m") {
        scale = 60'000;
    } else if (unit == "h") {
        scale = 3'600'000;
    } else {
        return false;
    }
    if (number.size() > 15) return false;  // keeps the double exact enough and far from overflow
    const double value = std::stod(std::string(number)) * scale;
    if (!std::isfinite(value) || value > 1e15) return false;
    out = Millis{static_cast<int64_t>(std::llround(value))};
    return true;
}

namespace {

// Levenshtein distance where swapping two adjacent letters also counts as one edit
// (optimal string alignment), so "idel" is one edit away from "idle".
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

}  // namespace

std::string nearest_name(std::string_view word, const std::vector<std::string>& candidates) {
    const std::string w = detail::to_lower(word);
    const size_t limit = std::max<size_t>(1, w.size() / 3);
    const std::string* best = nullptr;
    size_t best_distance = limit + 1;
    for (const auto& c : candidates) {
        const size_t d = edit_distance(w, detail::to_lower(c));
        if (d < best_distance) {
            best_distance = d;
            best = &c;
        }
    }
    return best ? *best : std::string();
}

namespace detail {

std::string to_lower(std::string_view text) {
    std::string out(text);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

std::string format_duration(Millis d) {
    const int64_t ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
    if (ms != 0 && ms % 1'000 == 0) return std::to_string(ms / 1'000) + "s";
    return std::to_string(ms) + "ms";
}

bool is_token(std::string_view text) {
    static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
    if (text.empty()) return false;
    return std::all_of(text.begin(), text.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) ||
               kExtra.find(ch) != std::string_view::npos;
    });
}

namespace {

bool parse_port(std::string_view text, uint16_t& port) {
    if (text.empty() || text.size() > 5) return false;
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || v > 65535) return false;
    port = static_cast<uint16_t>(v);
    return true;
}

bool is_ipv4(const std::string& host) {
    std::array<unsigned char, 4> buf{};
    return inet_pton(AF_INET, host.c_str(), buf.data()) == 1;
}

bool is_ipv6(const std::string& host) {
    std::array<unsigned char, 16> buf{};
    return inet_pton(AF_INET6, host.c_str(), buf.data()) == 1;
}

bool is_hostname(std::string_view host) {
    if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-')
        return false;
    return std::all_of(host.begin(), host.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_';
    });
}

// Splits "host:port" / "[v6]:port" / "host" into host (brackets removed) and port text.
bool split_host_port(std::string_view text, std::string& host, std::string_view& port_text,
                     bool& bracketed, std::string& error) {
    bracketed = false;
    port_text = {};
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos) {
            error = "unterminated IPv6 address (missing \"]\")";
            return false;
        }
        host = std::string(text.substr(1, close - 1));
        bracketed = true;
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                error = "expected \":port\" after \"]\"";
                return false;
            }
            port_text = rest.substr(1);
            if (port_text.empty()) {
                error = "missing port after \":\"";
                return false;
            }
        }
        if (!is_ipv6(host)) {
            error = "invalid IPv6 address \"" + host + "\"";
            return false;
        }
        return true;
    }
    const size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
        if (text.find(':') != colon) {
            error = "IPv6 addresses must be written in brackets, e.g. [::1]:8080";
            return false;
        }
        host = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
        if (port_text.empty()) {
            error = "missing port after \":\"";
            return false;
        }
    } else {
        host = std::string(text);
    }
    return true;
}

}  // namespace

bool parse_listen(std::string_view text, std::string& host, uint16_t& port, std::string& error) {
    static const std::string kForm =
        "expected host:port with an IPv4 address, [IPv6] address or localhost, e.g. "
        "127.0.0.1:8080 or [::1]:8080";
    std::string h;
    std::string_view port_text;
    bool bracketed = false;
    if (!split_host_port(text, h, port_text, bracketed, error)) return false;
    if (port_text.empty()) {
        error = "missing port; " + kForm;
        return false;
    }
    uint16_t p = 0;
    if (!parse_port(port_text, p)) {
        error = "invalid port \"" + std::string(port_text) + "\" (must be between 0 and 65535)";
        return false;
    }
    if (!bracketed) {
        if (h == "localhost") {
            h = "127.0.0.1";
        } else if (!is_ipv4(h)) {
            error = kForm;
            return false;
        }
    }
    host = std::move(h);
    port = p;
    return true;
}

bool parse_base_url(std::string_view text, ParsedUrl& out, std::string& error) {
    const size_t sep = text.find("://");
    if (sep == std::string_view::npos) {
        error = "expected an http:// or https:// URL, e.g. https://api.openai.com/v1";
        return false;
    }
    const std::string scheme = to_lower(text.substr(0, sep));
    ParsedUrl url;
    if (scheme == "https") {
        url.tls = true;
        url.port = 443;
    } else if (scheme == "http") {
        url.port = 80;
    } else {
        error = "unsupported scheme \"" + scheme + "\" (use http or https)";
        return false;
    }
    const std::string_view rest = text.substr(sep + 3);
    const size_t slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    std::string_view path =
        slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    // Never echo the URL here: a user:password@ part would be a credential.
    if (authority.find('@') != std::string_view::npos) {
        error = "credentials in base_url are not supported; use api_key";
        return false;
    }
    if (rest.find_first_of("?#") != std::string_view::npos) {
        error = "query strings and fragments are not allowed in base_url";
        return false;
    }
    if (std::any_of(path.begin(), path.end(), [](char ch) {
            return std::isspace(static_cast<unsigned char>(ch)) || std::iscntrl(ch);
        })) {
        error = "base_url path must not contain whitespace";
        return false;
    }
    std::string_view port_text;
    bool bracketed = false;
    if (!split_host_port(authority, url.host, port_text, bracketed, error)) return false;
    if (!bracketed && !is_hostname(url.host)) {
        error = url.host.empty() ? "missing host" : "invalid host \"" + url.host + "\"";
        return false;
    }
    if (!port_text.empty() && (!parse_port(port_text, url.port) || url.port == 0)) {
        error = "invalid port \"" + std::string(port_text) + "\" (must be between 1 and 65535)";
        return false;
    }
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    url.base_path = std::string(path);
    std::string_view normalized = text;
    while (!normalized.empty() && normalized.back() == '/') normalized.remove_suffix(1);
    url.normalized = std::string(normalized);
    out = std::move(url);
    return true;
}

bool parse_date(std::string_view text, int64_t& days) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    auto number = [&](size_t pos, size_t len, int& v) {
        auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, v);
        return ec == std::errc() && ptr == text.data() + pos + len &&
               std::isdigit(static_cast<unsigned char>(text[pos]));
    };
    int y = 0, m = 0, d = 0;
    if (!number(0, 4, y) || !number(5, 2, m) || !number(8, 2, d)) return false;
    using namespace std::chrono;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(m)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return false;
    days = sys_days{ymd}.time_since_epoch().count();
    return true;
}

}  // namespace detail
}  // namespace baton::config
