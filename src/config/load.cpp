// Entry points (load_file / load_string), the top level and the server/logging sections.
#include "baton/config/load.hpp"

#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "config/internal.hpp"
#include "config/text.hpp"
#include "config/yaml_cursor.hpp"

namespace baton::config {
namespace detail {

void parse_server(const Cursor& c, Server& out) {
    MapCursor m(c, {"listen", "threads", "max_body_bytes", "max_header_bytes", "max_connections",
                    "timeouts"});
    m.field("listen", [&](const Cursor& v) {
        std::string text;
        if (!read_string(v, text)) return false;
        std::string error;
        if (!parse_listen(text, out.host, out.port, error)) {
            v.error(error + ", got " + quote(text));
            return false;
        }
        out.listen = text;
        return true;
    });
    m.field("threads", [&](const Cursor& v) { return read_uint_as(v, 0, 1024, out.threads); });
    m.field("max_body_bytes",
            [&](const Cursor& v) { return read_uint_as(v, 1, 1ull << 32, out.max_body_bytes); });
    m.field("max_header_bytes",
            [&](const Cursor& v) { return read_uint_as(v, 1024, 1u << 20, out.max_header_bytes); });
    m.field("max_connections",
            [&](const Cursor& v) { return read_uint_as(v, 1, 1'000'000, out.max_connections); });
    m.field("timeouts", [&](const Cursor& v) {
        MapCursor t(v, {"header_read", "idle", "drain"});
        const Millis one{1};
        bool good = t.ok();
        good &= t.field("header_read", [&](const Cursor& d) {
            return read_duration(d, one, out.timeouts.header_read);
        });
        good &= t.field("idle",
                        [&](const Cursor& d) { return read_duration(d, one, out.timeouts.idle); });
        good &= t.field("drain", [&](const Cursor& d) {
            return read_duration(d, Millis{0}, out.timeouts.drain);
        });
        return good;
    });
}

void parse_logging(const Cursor& c, Logging& out) {
    static const std::vector<std::string> kLevels{"trace", "debug", "info", "warn", "error", "off"};
    MapCursor m(c, {"level", "access_log"});
    m.field("level", [&](const Cursor& v) { return read_enum(v, "level", kLevels, out.level); });
    m.field("access_log", [&](const Cursor& v) { return read_string(v, out.access_log); });
}

namespace {

void parse_root(const YAML::Node& root, Draft& draft, Reporter& reporter) {
    const Position root_pos = position_of(root);
    if (root_pos.line > 0) draft.root_pos = root_pos;
    Cursor top(root, "", draft.root_pos, reporter);
    if (top.is_scalar() || top.is_sequence()) {
        top.expected("a mapping with server, logging, providers, models, routes and rules");
        return;
    }
    MapCursor m(top, {"server", "logging", "providers", "models", "routes", "rules", "auth", "keys",
                      "pii", "audit"});
    m.field("server", [&](const Cursor& v) {
        parse_server(v, draft.config.server);
        return true;
    });
    m.field("logging", [&](const Cursor& v) {
        parse_logging(v, draft.config.logging);
        return true;
    });
    if (auto v = m.require("providers", "at least one provider is needed")) {
        parse_providers(*v, draft);
        if (draft.providers.empty() && (v->is_null() || v->is_sequence())) {
            v->error("at least one provider is needed");
        }
    }
    if (auto v = m.require("models", "at least one model is needed")) {
        parse_models(*v, draft);
        if (draft.models.empty() && (v->is_null() || v->is_sequence())) {
            v->error("at least one model is needed");
        }
    }
    m.field("routes", [&](const Cursor& v) {
        parse_routes(v, draft);
        return true;
    });
    m.field("rules", [&](const Cursor& v) {
        parse_rules(v, draft);
        return true;
    });
    m.field("auth", [&](const Cursor& v) {
        parse_auth(v, draft);
        return true;
    });
    m.field("keys", [&](const Cursor& v) {
        parse_keys(v, draft);
        return true;
    });
    m.field("pii", [&](const Cursor& v) {
        parse_pii(v, draft);
        return true;
    });
    m.field("audit", [&](const Cursor& v) {
        parse_audit(v, draft);
        return true;
    });
    if (!draft.config.keys.empty() && draft.config.auth.secret.empty()) {
        top.error(
            "keys are configured but auth.secret is not set (the HMAC secret that `baton "
            "keys new` used; give it as env:NAME or file:PATH)");
    }
    if (draft.config.auth.required && draft.config.keys.empty()) {
        top.error(
            "auth.required is true but no keys are configured: every request would be "
            "refused");
    }
}

LoadResult load_text(std::string_view yaml, const std::string& file_name, std::string base_dir) {
    LoadResult result;
    Reporter reporter(file_name);
    Draft draft;
    draft.base_dir = std::move(base_dir);
    draft.config.source_path = file_name;
    try {
        YAML::Node root;
        try {
            root = YAML::Load(std::string(yaml));
        } catch (const YAML::ParserException& e) {
            reporter.error(position_of(e.mark), "", "invalid YAML: " + e.msg);
            result.diagnostics = reporter.take();
            return result;
        }
        parse_root(root, draft, reporter);
        validate(draft, reporter);
    } catch (const std::exception& e) {
        reporter.error({}, "", std::string("internal error while loading: ") + e.what());
    }
    result.diagnostics = reporter.take();
    result.config = std::move(draft.config);
    return result;
}

}  // namespace
}  // namespace detail

namespace {
// SHA-256 of the loaded text, hex: which config version is running (GET /admin/config).
std::string sha256_hex(std::string_view s) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
    std::string out;
    out.reserve(2 * sizeof md);
    char buf[3];
    for (unsigned char b : md) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        out += buf;
    }
    return out;
}
}  // namespace

LoadResult load_file(const std::string& path) {
    auto unreadable = [&](const std::string& reason) {
        LoadResult result;
        Diagnostic d;
        d.file = path;
        d.message = "cannot read file: " + reason;
        result.diagnostics.push_back(std::move(d));
        return result;
    };
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return unreadable("it is a directory");
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) return unreadable(errno ? std::strerror(errno) : "cannot open");
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return unreadable("I/O error");
    const auto dir = std::filesystem::path(path).parent_path().string();
    auto result = detail::load_text(text, path, dir);
    result.config.source_sha256 = sha256_hex(text);
    return result;
}

LoadResult load_string(std::string_view yaml, const std::string& file_name) {
    return detail::load_text(yaml, file_name, "");
}

}  // namespace baton::config
