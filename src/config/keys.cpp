// The `auth:` and `keys:` sections: who may call the gateway, and within which limits.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "config/internal.hpp"
#include "config/text.hpp"

namespace baton::config::detail {

namespace {

std::string relative_to(const std::string& base_dir, const std::string& path) {
    if (base_dir.empty() || std::filesystem::path(path).is_absolute()) return path;
    return (std::filesystem::path(base_dir) / path).string();
}

// env:NAME or file:PATH (a literal is accepted with a warning). The value never reaches a
// diagnostic.
bool read_secret(const Cursor& v, const Draft& draft, std::string& value, std::string& ref) {
    if (!v.is_scalar() || v.scalar().empty()) return v.expected("env:NAME or file:PATH");
    const std::string text = v.scalar();
    if (text.rfind("env:", 0) == 0) {
        ref = text;
        const char* e = std::getenv(text.substr(4).c_str());
        if (!e || !*e) {
            v.error("environment variable " + text.substr(4) +
                    " is not set (needed to check keys)");
            return false;
        }
        value = e;
        return true;
    }
    if (text.rfind("file:", 0) == 0) {
        ref = text;
        std::ifstream in(relative_to(draft.base_dir, text.substr(5)), std::ios::binary);
        std::string s{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
        if (!in.good() && s.empty()) {
            v.error("cannot read secret file " + quote(text.substr(5)));
            return false;
        }
        value = s;
        return true;
    }
    value = text;
    v.warning("the key secret is written in the config file; use env:NAME or file:PATH instead");
    return true;
}

bool is_hex64(const std::string& h) {
    if (h.size() != 64) return false;
    for (char c : h) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

void parse_key(const Cursor& item, KeyEntry& k) {
    MapCursor m(item, {"name", "hash", "models", "require_tags", "rpm", "tpm", "max_concurrent",
                       "budget", "metadata", "admin"});
    if (!m.ok() && !item.is_map()) return;
    if (auto v = m.require("name")) read_name(*v, k.name);
    if (auto v = m.require("hash", "the HMAC of the key, as printed by `baton keys new`")) {
        if (read_string(*v, k.hash)) {
            for (auto& c : k.hash)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (!is_hex64(k.hash)) {
                v->error(
                    "expected 64 hex characters (HMAC-SHA256 of the key, from `baton keys "
                    "new`), never the key itself");
            }
        }
    }
    m.field("models", [&](const Cursor& v) { return read_string_list(v, k.models); });
    m.field("require_tags", [&](const Cursor& v) { return read_string_list(v, k.require_tags); });
    m.field("rpm", [&](const Cursor& v) { return read_uint_as(v, 0, 10'000'000, k.rpm); });
    m.field("tpm", [&](const Cursor& v) { return read_uint_as(v, 0, 4'000'000'000u, k.tpm); });
    m.field("max_concurrent",
            [&](const Cursor& v) { return read_uint_as(v, 0, 1'000'000, k.max_concurrent); });
    m.field("admin", [&](const Cursor& v) { return read_bool(v, k.admin); });
    m.field("budget", [&](const Cursor& v) {
        MapCursor b(v, {"day", "week", "month"});
        bool ok = b.ok();
        auto usd = [&](const char* key, std::optional<double>& out) {
            return b.field(key, [&](const Cursor& x) {
                double d = 0;
                if (!read_double(x, 0.0, 1e12, d)) return false;
                out = d;
                return true;
            });
        };
        ok &= usd("day", k.budget_day_usd);
        ok &= usd("week", k.budget_week_usd);
        ok &= usd("month", k.budget_month_usd);
        return ok;
    });
    m.field("metadata", [&](const Cursor& v) {
        MapCursor md(v);
        bool ok = md.ok();
        for (const auto& e : md.entries()) {
            std::string val;
            if (read_string(e.value, val)) {
                k.metadata[e.key] = val;
            } else {
                ok = false;
            }
        }
        return ok;
    });
}

}  // namespace

void parse_auth(const Cursor& c, Draft& draft) {
    MapCursor m(c, {"required", "secret"});
    m.field("required", [&](const Cursor& v) { return read_bool(v, draft.config.auth.required); });
    m.field("secret", [&](const Cursor& v) {
        return read_secret(v, draft, draft.config.auth.secret, draft.config.auth.secret_ref);
    });
}

void parse_pii(const Cursor& c, Draft& draft) {
    static const std::vector<std::string> kClasses{"email", "phone", "card",  "iban",
                                                   "ssn",   "ip",    "secret"};
    static const std::vector<std::string> kActions{"allow", "route", "redact", "block"};
    MapCursor m(c, {"classes", "route_tag", "restore"});
    m.field("restore", [&](const Cursor& v) { return read_bool(v, draft.config.pii.restore); });
    m.field("route_tag", [&](const Cursor& v) { return read_name(v, draft.config.pii.route_tag); });
    m.field("classes", [&](const Cursor& v) {
        MapCursor cm(v, kClasses);
        bool ok = cm.ok();
        for (size_t i = 0; i < kClasses.size(); ++i) {
            ok &= cm.field(kClasses[i], [&](const Cursor& a) {
                std::string action;
                if (!read_enum(a, "action", kActions, action)) return false;
                auto idx = static_cast<size_t>(std::find(kActions.begin(), kActions.end(), action) -
                                               kActions.begin());
                draft.config.pii.actions[i] = static_cast<PiiAction>(idx);
                if (idx != 0) draft.config.pii.enabled = true;
                return true;
            });
        }
        return ok;
    });
}

void parse_audit(const Cursor& c, Draft& draft) {
    MapCursor m(c, {"path", "fsync"});
    m.field("path", [&](const Cursor& v) {
        std::string path;
        if (!read_string(v, path)) return false;
        draft.config.audit.path = relative_to(draft.base_dir, path);
        return true;
    });
    m.field("fsync", [&](const Cursor& v) { return read_bool(v, draft.config.audit.fsync); });
}

void parse_injection(const Cursor& c, Draft& draft) {
    static const std::vector<std::string> kActions{"flag", "route", "strip_tools", "block"};
    static const std::vector<std::string> kCategories{"instruction_override", "prompt_leak",
                                                      "roleplay_jailbreak",   "delimiter_injection",
                                                      "obfuscation",          "exfiltration"};
    auto& inj = draft.config.injection;
    inj.enabled = true;
    MapCursor m(c, {"action", "threshold", "route_tag", "categories"});
    m.field("action", [&](const Cursor& v) {
        std::string a;
        if (!read_enum(v, "action", kActions, a)) return false;
        inj.action = a == "route"         ? InjectionAction::route
                     : a == "strip_tools" ? InjectionAction::strip_tools
                     : a == "block"       ? InjectionAction::block
                                          : InjectionAction::flag;
        return true;
    });
    m.field("threshold", [&](const Cursor& v) { return read_double(v, 0.01, 100, inj.threshold); });
    m.field("route_tag", [&](const Cursor& v) { return read_name(v, inj.route_tag); });
    m.field("categories", [&](const Cursor& v) {
        auto items = sequence_items(v);
        if (!items) return false;
        bool ok = true;
        for (const auto& item : *items) {
            std::string cat;
            if (read_enum(item, "category", kCategories, cat)) {
                inj.categories.push_back(cat);
            } else {
                ok = false;
            }
        }
        return ok;
    });
}

void parse_state(const Cursor& c, Draft& draft) {
    MapCursor m(c, {"path", "flush_interval"});
    auto& st = draft.config.state;
    m.field("path", [&](const Cursor& v) {
        if (v.is_scalar() && (v.scalar() == "none" || v.scalar() == "memory")) {
            st.path.clear();
            st.persist = false;
            return true;
        }
        std::string path;
        if (!read_string(v, path)) return false;
        st.path = relative_to(draft.base_dir, path);
        st.persist = true;
        st.path_written = true;
        return true;
    });
    m.field("flush_interval",
            [&](const Cursor& v) { return read_duration(v, Millis{1}, st.flush_interval); });
}

void parse_keys(const Cursor& c, Draft& draft) {
    auto items = sequence_items(c);
    if (!items) return;
    std::set<std::string> names, hashes;
    for (const auto& item : *items) {
        KeyEntry k;
        parse_key(item, k);
        if (!k.name.empty() && !names.insert(k.name).second) {
            item.error("duplicate key name " + quote(k.name));
        }
        if (!k.hash.empty() && !hashes.insert(k.hash).second) {
            item.error("duplicate key hash (the same key listed twice)");
        }
        draft.config.keys.push_back(std::move(k));
    }
}

}  // namespace baton::config::detail
