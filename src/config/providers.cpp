// The providers section: kinds, base_url, secrets (env:/file:), pools, TLS, headers, mock.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "config/internal.hpp"
#include "config/text.hpp"
#include "config/yaml_cursor.hpp"

namespace baton::config::detail {
namespace {

const std::vector<std::string> kProviderKeys{
    "name",       "kind",         "base_url",    "api_key",           "max_connections",
    "pool_idle",  "timeouts",     "tls",         "headers",           "mock",
    "resilience", "health_check", "api_version", "anthropic_version", "quirks"};
const std::vector<std::string> kKinds{"openai", "azure", "anthropic", "gemini", "mock"};

std::string resolve_path(const std::string& base_dir, const std::string& path) {
    if (base_dir.empty() || std::filesystem::path(path).is_absolute()) return path;
    return (std::filesystem::path(base_dir) / path).string();
}

bool is_env_name(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
    for (char ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') return false;
    }
    return true;
}

// Resolves api_key. The secret value itself never reaches a diagnostic: messages name only the
// variable or the file.
bool read_api_key(const Cursor& v, const Draft& draft, Provider& p) {
    if (!v.is_scalar() || v.scalar().empty()) {
        return v.expected("env:NAME, file:PATH or a literal key");
    }
    const std::string& text = v.scalar();
    const std::string who = p.name.empty() ? "this provider" : "provider " + p.name;
    auto missing = [&](std::string reason) {
        p.api_key_missing = true;
        p.api_key_missing_reason = reason;
        v.warning(reason + "; models of " + who + " will answer 401");
    };
    if (text.rfind("env:", 0) == 0) {
        const std::string name = text.substr(4);
        if (!is_env_name(name)) {
            v.error("expected env:NAME with NAME made of letters, digits and _, got " +
                    quote(text));
            return false;
        }
        p.api_key_ref = text;
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) {
            missing("environment variable " + name + " is not set");
        } else if (*value == '\0') {
            missing("environment variable " + name + " is empty");
        } else {
            p.api_key = value;
        }
        return true;
    }
    if (text.rfind("file:", 0) == 0) {
        const std::string path = text.substr(5);
        if (path.empty()) {
            v.error("expected file:PATH with a path after \"file:\"");
            return false;
        }
        p.api_key_ref = text;
        const std::string full = resolve_path(draft.base_dir, path);
        errno = 0;
        std::ifstream in(full, std::ios::binary);
        std::string secret;
        std::error_code ec;
        if (std::filesystem::is_directory(full, ec)) {
            missing("cannot read api key file " + path + ": it is a directory");
            return true;
        }
        if (!in) {
            missing("cannot read api key file " + path + ": " +
                    (errno ? std::strerror(errno) : "cannot open"));
            return true;
        }
        secret.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
            secret.pop_back();
        }
        if (secret.empty()) {
            missing("api key file " + path + " is empty");
        } else {
            p.api_key = std::move(secret);
        }
        return true;
    }
    p.api_key = text;
    v.warning("the api key is written in the config file; use env:NAME or file:PATH instead");
    return true;
}

bool read_timeouts(const Cursor& c, ProviderTimeouts& out) {
    MapCursor m(c, {"connect", "first_byte", "idle", "total"});
    const Millis one{1};
    bool good = m.ok();
    good &= m.field("connect", [&](const Cursor& v) { return read_duration(v, one, out.connect); });
    good &= m.field("first_byte",
                    [&](const Cursor& v) { return read_duration(v, one, out.first_byte); });
    good &= m.field("idle", [&](const Cursor& v) { return read_duration(v, one, out.idle); });
    good &= m.field("total", [&](const Cursor& v) { return read_duration(v, one, out.total); });
    return good;
}

bool read_resilience(const Cursor& c, Resilience& out) {
    MapCursor m(c, {"max_retries", "backoff_base", "backoff_cap", "retry_after_cap", "breaker"});
    bool good = m.ok();
    const Millis zero{0};
    good &= m.field("max_retries",
                    [&](const Cursor& v) { return read_uint_as(v, 0, 10, out.max_retries); });
    good &= m.field("backoff_base",
                    [&](const Cursor& v) { return read_duration(v, zero, out.backoff_base); });
    good &= m.field("backoff_cap",
                    [&](const Cursor& v) { return read_duration(v, zero, out.backoff_cap); });
    good &= m.field("retry_after_cap",
                    [&](const Cursor& v) { return read_duration(v, zero, out.retry_after_cap); });
    good &= m.field("breaker", [&](const Cursor& b) {
        MapCursor bm(
            b, {"consecutive_failures", "failure_ratio", "min_requests", "window", "cool_down"});
        bool ok = bm.ok();
        ok &= bm.field("consecutive_failures", [&](const Cursor& v) {
            return read_uint_as(v, 1, 1'000'000, out.breaker_consecutive);
        });
        ok &= bm.field("failure_ratio", [&](const Cursor& v) {
            return read_double(v, 0.01, 1.0, out.breaker_ratio);
        });
        ok &= bm.field("min_requests", [&](const Cursor& v) {
            return read_uint_as(v, 1, 1'000'000, out.breaker_min_requests);
        });
        ok &= bm.field("window", [&](const Cursor& v) {
            return read_duration(v, Millis{1}, out.breaker_window);
        });
        ok &= bm.field("cool_down", [&](const Cursor& v) {
            return read_duration(v, Millis{1}, out.breaker_cool_down);
        });
        return ok;
    });
    return good;
}

bool read_tls(const Cursor& c, const Draft& draft, Tls& out) {
    MapCursor m(c, {"ca_file", "verify"});
    bool good = m.ok();
    good &= m.field("ca_file", [&](const Cursor& v) {
        std::string path;
        if (!read_string(v, path)) return false;
        const std::string full = resolve_path(draft.base_dir, path);
        std::error_code ec;
        errno = 0;
        std::ifstream in(full, std::ios::binary);
        if (!in || std::filesystem::is_directory(full, ec)) {
            const int err = errno;
            v.error("cannot read CA file " + quote(path) +
                    (err ? std::string(": ") + std::strerror(err) : std::string()));
            return false;
        }
        out.ca_file = full;
        return true;
    });
    good &= m.field("verify", [&](const Cursor& v) { return read_bool(v, out.verify); });
    return good;
}

bool read_headers(const Cursor& c, std::map<std::string, std::string>& out) {
    MapCursor m(c);
    bool good = m.ok();
    for (const auto& e : m.entries()) {
        if (!is_token(e.key)) {
            e.value.error("invalid header name " + quote(e.key));
            good = false;
            continue;
        }
        // Values may be credentials: never echo them.
        if (!e.value.is_scalar() || e.value.scalar().empty()) {
            e.value.error("expected a header value (a non-empty string)");
            good = false;
            continue;
        }
        const std::string& value = e.value.scalar();
        if (value.find_first_of("\r\n") != std::string::npos) {
            e.value.error("header values must not contain line breaks");
            good = false;
            continue;
        }
        out[e.key] = value;
    }
    return good;
}

bool read_statuses(const Cursor& v, uint64_t min, std::vector<int>& out) {
    auto items = sequence_items(v);
    if (!items) return false;
    if (items->empty()) {
        v.error("expected at least one status");
        return false;
    }
    std::vector<int> statuses;
    bool ok = true;
    for (const auto& item : *items) {
        int status = 0;
        if (read_uint_as(item, min, 599, status)) {
            statuses.push_back(status);
        } else {
            ok = false;
        }
    }
    if (ok) out = std::move(statuses);
    return ok;
}

bool read_fault(const Cursor& c, MockFault& f) {
    MapCursor m(
        c, {"status", "retry_after", "stall_before_headers", "stall_after_chunks", "stall_for",
            "cut_after_chunks", "malformed_after_chunks", "trickle", "content_type", "error_body"});
    bool good = m.ok();
    const Millis zero{0};
    good &= m.field("status", [&](const Cursor& v) { return read_statuses(v, 200, f.status); });
    good &= m.field("retry_after",
                    [&](const Cursor& v) { return read_duration(v, zero, f.retry_after); });
    good &= m.field("stall_before_headers", [&](const Cursor& v) {
        return read_duration(v, zero, f.stall_before_headers);
    });
    good &= m.field("stall_after_chunks", [&](const Cursor& v) {
        return read_uint_as(v, 0, 1'000'000, f.stall_after_chunks);
    });
    good &=
        m.field("stall_for", [&](const Cursor& v) { return read_duration(v, zero, f.stall_for); });
    good &= m.field("cut_after_chunks", [&](const Cursor& v) {
        uint32_t n = 0;
        if (!read_uint_as(v, 0, 1'000'000, n)) return false;
        f.cut_after_chunks = n;
        return true;
    });
    good &= m.field("malformed_after_chunks", [&](const Cursor& v) {
        uint32_t n = 0;
        if (!read_uint_as(v, 0, 1'000'000, n)) return false;
        f.malformed_after_chunks = n;
        return true;
    });
    good &= m.field("trickle", [&](const Cursor& t) {
        MapCursor tm(t, {"bytes", "interval"});
        bool ok = tm.ok();
        if (auto v = tm.require("bytes")) ok &= read_uint_as(*v, 1, 1u << 20, f.trickle_bytes);
        ok &= tm.field("interval",
                       [&](const Cursor& v) { return read_duration(v, zero, f.trickle_interval); });
        return ok;
    });
    good &=
        m.field("content_type", [&](const Cursor& v) { return read_string(v, f.content_type); });
    good &= m.field("error_body", [&](const Cursor& v) { return read_bool(v, f.error_body); });
    return good;
}

bool read_health_check(const Cursor& c, HealthCheck& out) {
    MapCursor m(c, {"path", "interval", "timeout", "unhealthy_after", "healthy_after"});
    bool good = m.ok();
    out.enabled = true;
    good &= m.field("path", [&](const Cursor& v) {
        if (!read_string(v, out.path)) return false;
        if (out.path.front() != '/') {
            v.error("expected a path starting with \"/\", got \"" + out.path + "\"");
            return false;
        }
        return true;
    });
    good &= m.field("interval",
                    [&](const Cursor& v) { return read_duration(v, Millis{100}, out.interval); });
    good &= m.field("timeout",
                    [&](const Cursor& v) { return read_duration(v, Millis{1}, out.timeout); });
    good &= m.field("unhealthy_after",
                    [&](const Cursor& v) { return read_uint_as(v, 1, 100, out.unhealthy_after); });
    good &= m.field("healthy_after",
                    [&](const Cursor& v) { return read_uint_as(v, 1, 100, out.healthy_after); });
    return good;
}

bool read_mock(const Cursor& c, MockSettings& out) {
    MapCursor m(c, {"latency", "tokens", "chunk_delay", "error_rate", "error_statuses", "faults",
                    "fault_header", "format"});
    bool good = m.ok();
    good &= m.field("latency",
                    [&](const Cursor& v) { return read_duration(v, Millis{0}, out.latency); });
    good &= m.field("tokens",
                    [&](const Cursor& v) { return read_uint_as(v, 0, 1'000'000, out.tokens); });
    good &= m.field("chunk_delay",
                    [&](const Cursor& v) { return read_duration(v, Millis{0}, out.chunk_delay); });
    good &= m.field("error_rate",
                    [&](const Cursor& v) { return read_double(v, 0.0, 1.0, out.error_rate); });
    good &= m.field("error_statuses",
                    [&](const Cursor& v) { return read_statuses(v, 400, out.error_statuses); });
    good &=
        m.field("fault_header", [&](const Cursor& v) { return read_bool(v, out.fault_header); });
    good &= m.field("format", [&](const Cursor& v) {
        std::string f;
        if (!read_enum(v, "format", {"openai", "anthropic", "gemini"}, f)) return false;
        out.format = f == "anthropic" ? ProviderKind::anthropic
                     : f == "gemini"  ? ProviderKind::gemini
                                      : ProviderKind::openai;
        return true;
    });
    good &= m.field("faults", [&](const Cursor& v) {
        MapCursor fm(v);
        bool ok = fm.ok();
        for (const auto& e : fm.entries()) {
            MockFault f;
            if (read_fault(e.value, f)) {
                out.faults[e.key] = std::move(f);
            } else {
                ok = false;
            }
        }
        return ok;
    });
    return good;
}

void parse_provider(const Cursor& item, Draft& draft, Provider& p, ProviderInfo& info) {
    MapCursor m(item, kProviderKeys);
    if (!m.ok() && !item.is_map()) return;
    if (auto v = m.require("name"); v && read_name(*v, p.name)) {
        info.has_name = true;
        info.name_pos = v->pos();
    }
    std::string kind;
    if (auto v = m.require("kind"); v && read_enum(*v, "kind", kKinds, kind)) {
        p.kind = kind == "mock"        ? ProviderKind::mock
                 : kind == "azure"     ? ProviderKind::azure
                 : kind == "anthropic" ? ProviderKind::anthropic
                 : kind == "gemini"    ? ProviderKind::gemini
                                       : ProviderKind::openai;
    }
    auto url = kind == "openai"  ? m.require("base_url", "needed for kind openai")
               : kind == "azure" ? m.require("base_url",
                                             "needed for kind azure, e.g. "
                                             "https://RESOURCE.openai.azure.com")
                                 : m.get("base_url");
    // The written base_url, else the official endpoint where there is one.
    std::string text = kind == "anthropic" ? "https://api.anthropic.com/v1"
                       : kind == "gemini"  ? "https://generativelanguage.googleapis.com/v1beta"
                                           : "";
    if (url && !read_string(*url, text)) text.clear();
    if (!text.empty()) {
        ParsedUrl parsed;
        std::string error;
        if (parse_base_url(text, parsed, error)) {
            p.base_url = parsed.normalized;
            p.tls = parsed.tls;
            p.host = parsed.host;
            p.port = parsed.port;
            p.base_path = parsed.base_path;
        } else if (url) {
            url->error(error);
        }
    }
    if (p.kind != ProviderKind::mock) {
        m.field("api_key", [&](const Cursor& v) { return read_api_key(v, draft, p); });
    }
    m.field("max_connections",
            [&](const Cursor& v) { return read_uint_as(v, 1, 100'000, p.max_connections); });
    m.field("pool_idle", [&](const Cursor& v) { return read_duration(v, Millis{0}, p.pool_idle); });
    m.field("timeouts", [&](const Cursor& v) { return read_timeouts(v, p.timeouts); });
    m.field("tls", [&](const Cursor& v) { return read_tls(v, draft, p.tls_settings); });
    m.field("headers", [&](const Cursor& v) { return read_headers(v, p.headers); });
    m.field("resilience", [&](const Cursor& v) { return read_resilience(v, p.resilience); });
    m.field("health_check", [&](const Cursor& v) {
        if (!read_health_check(v, p.health_check)) return false;
        if (kind == "mock") {
            v.warning("ignored: the mock provider has no endpoint to check");
            p.health_check.enabled = false;
        }
        return true;
    });
    m.field("mock", [&](const Cursor& v) {
        if (!read_mock(v, p.mock)) return false;
        if (kind != "mock") v.warning("ignored: mock settings apply only to kind mock");
        return true;
    });
    m.field("api_version", [&](const Cursor& v) {
        if (!read_string(v, p.api_version)) return false;
        if (kind != "azure") v.warning("ignored: api_version applies only to kind azure");
        return true;
    });
    m.field("quirks", [&](const Cursor& q) {
        MapCursor qm(q, {"max_tokens_field", "drop_fields"});
        bool ok = qm.ok();
        ok &= qm.field("max_tokens_field", [&](const Cursor& v) {
            return read_enum(v, "max_tokens_field", {"max_tokens", "max_completion_tokens"},
                             p.quirks.max_tokens_field);
        });
        ok &= qm.field("drop_fields",
                       [&](const Cursor& v) { return read_string_list(v, p.quirks.drop_fields); });
        if (ok && kind != "openai" && kind != "azure") {
            q.warning("ignored: quirks apply only to kinds openai and azure");
            p.quirks = {};
        }
        return ok;
    });
    m.field("anthropic_version", [&](const Cursor& v) {
        if (!read_string(v, p.anthropic_version)) return false;
        if (kind != "anthropic") {
            v.warning("ignored: anthropic_version applies only to kind anthropic");
        }
        return true;
    });
}

}  // namespace

void parse_providers(const Cursor& c, Draft& draft) {
    auto items = sequence_items(c);
    if (!items) return;
    for (const auto& item : *items) {
        const size_t errors_before = c.reporter().error_count();
        Provider p;
        ProviderInfo info;
        parse_provider(item, draft, p, info);
        info.ok = c.reporter().error_count() == errors_before;
        draft.config.providers.push_back(std::move(p));
        draft.providers.push_back(info);
    }
}

}  // namespace baton::config::detail

namespace baton::config {

std::string_view to_string(ProviderKind k) {
    switch (k) {
        case ProviderKind::openai:
            return "openai";
        case ProviderKind::azure:
            return "azure";
        case ProviderKind::anthropic:
            return "anthropic";
        case ProviderKind::gemini:
            return "gemini";
        case ProviderKind::mock:
            return "mock";
    }
    return "openai";
}

}  // namespace baton::config
