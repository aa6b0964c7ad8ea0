// Entry points (load_file / load_string), the top level and the server/logging sections.
#include "baton/config/load.hpp"

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
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

namespace {

// server.tls: the files are checked by building the listener's SSL_CTX from them, which the
// config then keeps (docs/security.md, "TLS on the listener").
std::string openssl_reason() {
    unsigned long e = ERR_peek_last_error();
    const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr;
    ERR_clear_error();
    return r != nullptr ? r : "unknown OpenSSL error";
}

// A readable regular file (named as written, in messages).
bool check_readable(const Cursor& v, const std::string& what, const std::string& written,
                    const std::string& full) {
    std::error_code ec;
    errno = 0;
    std::ifstream in(full, std::ios::binary);
    if (!in || std::filesystem::is_directory(full, ec)) {
        const int err = errno;
        v.error("cannot read " + what + " " + quote(written) +
                (err ? std::string(": ") + std::strerror(err) : std::string(": not a file")));
        return false;
    }
    return true;
}

// Never prompts for a pass phrase: an encrypted key is reported as unreadable.
int no_passphrase(char*, int, int, void*) { return 0; }

bool read_server_tls(const Cursor& c, const std::string& base_dir, ServerTls& out) {
    MapCursor m(c, {"cert_file", "key_file", "min_version"});
    if (!m.ok()) return false;
    auto resolve = [&](const std::string& path) {
        if (base_dir.empty() || std::filesystem::path(path).is_absolute()) return path;
        return (std::filesystem::path(base_dir) / path).string();
    };
    bool good = true;
    std::string cert_written, key_written;
    auto cert = m.require("cert_file", "the PEM certificate chain to serve");
    auto key = m.require("key_file", "the PEM private key of the certificate");
    good &= cert && read_string(*cert, cert_written);
    good &= key && read_string(*key, key_written);
    good &= m.field("min_version", [&](const Cursor& v) {
        if (v.is_scalar() && (v.scalar() == "1.0" || v.scalar() == "1.1")) {
            v.error("TLS " + v.scalar() + " is not allowed; use \"1.2\" or \"1.3\"");
            return false;
        }
        return read_enum(v, "TLS version", {"1.2", "1.3"}, out.min_version);
    });
    if (!good) return false;
    out.cert_file = resolve(cert_written);
    out.key_file = resolve(key_written);
    good &= check_readable(*cert, "certificate file", cert_written, out.cert_file);
    good &= check_readable(*key, "key file", key_written, out.key_file);
    if (!good) return false;

    ERR_clear_error();
    std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!ctx) {
        c.error("cannot create a TLS context: " + openssl_reason());
        return false;
    }
    SSL_CTX_set_min_proto_version(ctx.get(),
                                  out.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // TLS 1.2: forward secrecy and AEAD only (Mozilla "intermediate" without DHE). TLS 1.3 keeps
    // OpenSSL's default suites, all of which qualify.
    SSL_CTX_set_cipher_list(ctx.get(),
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    // Resumption by stateless tickets only: no server-side cache shared by the workers.
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), out.cert_file.c_str()) != 1) {
        cert->error("cannot load the certificate chain from " + quote(cert_written) + ": " +
                    openssl_reason() + " (expected PEM, leaf certificate first)");
        return false;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), out.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        const unsigned long e = ERR_peek_last_error();
        const bool mismatch =
            ERR_GET_LIB(e) == ERR_LIB_X509 && (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
                                               ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH);
        key->error(mismatch ? "the private key in " + quote(key_written) +
                                  " does not match the certificate in " + quote(cert_written)
                            : "cannot load the private key from " + quote(key_written) + ": " +
                                  openssl_reason() + " (expected an unencrypted PEM key)");
        ERR_clear_error();
        return false;
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
        ERR_clear_error();
        key->error("the private key in " + quote(key_written) +
                   " does not match the certificate in " + quote(cert_written));
        return false;
    }
    if (X509* leaf = SSL_CTX_get0_certificate(ctx.get())) {
        if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
            cert->warning("the certificate in " + quote(cert_written) +
                          " has expired; clients will refuse it");
        } else if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
            cert->warning("the certificate in " + quote(cert_written) + " is not valid yet");
        }
    }
    out.ssl_ctx = std::move(ctx);
    return true;
}

}  // namespace

void parse_server(const Cursor& c, Server& out, const std::string& base_dir) {
    MapCursor m(c, {"listen", "threads", "max_body_bytes", "max_header_bytes", "max_connections",
                    "timeouts", "tls"});
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
    m.field("tls", [&](const Cursor& v) {
        ServerTls tls;
        if (!read_server_tls(v, base_dir, tls)) return false;
        out.tls = std::move(tls);
        return true;
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
                      "pii", "audit", "state", "injection"});
    m.field("server", [&](const Cursor& v) {
        parse_server(v, draft.config.server, draft.base_dir);
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
    m.field("state", [&](const Cursor& v) {
        parse_state(v, draft);
        return true;
    });
    m.field("injection", [&](const Cursor& v) {
        parse_injection(v, draft);
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
