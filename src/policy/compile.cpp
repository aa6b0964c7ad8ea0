// compile(): rule regexes and lookup tables built once per config load; small helpers
// (headers, tiers, experiment hashing, civil dates).
#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "baton/policy/engine.hpp"

namespace baton::policy {

// ---- MapHeaders ---------------------------------------------------------------------------

namespace {
std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
}  // namespace

MapHeaders::MapHeaders(std::initializer_list<std::pair<std::string, std::string>> headers) {
    for (const auto& [name, value] : headers) set(name, value);
}

void MapHeaders::set(std::string_view name, std::string value) {
    std::string key = lower(name);
    for (auto& [n, v] : headers_) {
        if (n == key) {
            v = std::move(value);
            return;
        }
    }
    headers_.emplace_back(std::move(key), std::move(value));
}

std::optional<std::string_view> MapHeaders::get(std::string_view lower_name) const {
    for (const auto& [n, v] : headers_) {
        if (n == lower_name) return std::string_view(v);
    }
    return std::nullopt;
}

// ---- CompiledPolicy -----------------------------------------------------------------------

CompiledPolicy::CompiledPolicy() = default;
CompiledPolicy::~CompiledPolicy() = default;
CompiledPolicy::CompiledPolicy(CompiledPolicy&&) noexcept = default;
CompiledPolicy& CompiledPolicy::operator=(CompiledPolicy&&) noexcept = default;

uint32_t capability_bit(std::string_view name) {
    const auto& names = config::capability_names();
    for (size_t i = 0; i < names.size() && i < 32; ++i) {
        if (names[i] == name) return 1u << i;
    }
    return 0;
}

CompiledPolicy compile(const config::Config& config) {
    CompiledPolicy p;
    p.rule_regex_.resize(config.rules.size());
    for (size_t i = 0; i < config.rules.size(); ++i) {
        const auto& pattern = config.rules[i].match.content_regex;
        if (pattern.empty()) continue;
        RE2::Options opt;
        opt.set_log_errors(false);
        auto re = std::make_unique<re2::RE2>(pattern, opt);
        if (!re->ok()) {
            p.errors_.push_back(CompileError{i, config.rules[i].line,
                                             "rules[" + std::to_string(i) +
                                                 "].match.content_regex: " + re->error() + ": " +
                                                 pattern});
            continue;
        }
        p.rule_regex_[i] = std::move(re);
    }

    for (size_t i = 0; i < config.routes.size(); ++i) {
        p.route_index_.emplace(config.routes[i].name, i);
    }
    for (size_t i = 0; i < config.models.size(); ++i) {
        p.model_index_.emplace(config.models[i].name, i);
    }

    for (const auto& m : config.models) {
        for (const auto& t : m.tags) {
            p.tag_ids_.emplace(t, static_cast<uint32_t>(p.tag_ids_.size()));
        }
    }
    p.tag_words_ = std::max<size_t>(1, (p.tag_ids_.size() + 63) / 64);
    p.model_caps_.assign(config.models.size(), 0);
    p.model_tags_.assign(config.models.size() * p.tag_words_, 0);
    for (size_t i = 0; i < config.models.size(); ++i) {
        const auto& m = config.models[i];
        for (const auto& c : m.capabilities) p.model_caps_[i] |= capability_bit(c);
        for (const auto& t : m.tags) {
            uint32_t id = p.tag_ids_.find(t)->second;
            p.model_tags_[i * p.tag_words_ + id / 64] |= uint64_t{1} << (id % 64);
        }
    }

    // Route candidates: the loader's resolved indices, or resolved here from the names and
    // "tag:x" selectors as written (in order, without duplicates).
    p.route_candidates_.resize(config.routes.size());
    for (size_t r = 0; r < config.routes.size(); ++r) {
        const auto& route = config.routes[r];
        auto& out = p.route_candidates_[r];
        auto add = [&out](size_t mi) {
            if (std::find(out.begin(), out.end(), mi) == out.end()) out.push_back(mi);
        };
        if (!route.candidate_models.empty()) {
            for (size_t mi : route.candidate_models) {
                if (mi < config.models.size()) add(mi);
            }
            continue;
        }
        for (const auto& c : route.candidates) {
            if (c.rfind("tag:", 0) == 0) {
                std::string_view tag = std::string_view(c).substr(4);
                for (size_t mi = 0; mi < config.models.size(); ++mi) {
                    if (config.models[mi].has_tag(tag)) add(mi);
                }
            } else if (auto it = p.model_index_.find(c); it != p.model_index_.end()) {
                add(it->second);
            }
        }
    }

    std::string names = "routes: ";
    for (size_t i = 0; i < config.routes.size(); ++i) {
        names += (i ? ", " : "") + config.routes[i].name;
    }
    if (config.routes.empty()) names += "(none)";
    names += "; models: ";
    for (size_t i = 0; i < config.models.size(); ++i) {
        names += (i ? ", " : "") + config.models[i].name;
    }
    if (config.models.empty()) names += "(none)";
    p.known_names_ = std::move(names);
    return p;
}

// ---- helpers ------------------------------------------------------------------------------

std::string_view to_string(Tier t) {
    switch (t) {
        case Tier::simple:
            return "simple";
        case Tier::medium:
            return "medium";
        case Tier::complex:
            return "complex";
    }
    return "medium";
}

Tier tier_for(double complexity, const config::ComplexityTiers& tiers) {
    if (complexity < tiers.simple_below) return Tier::simple;
    if (complexity > tiers.complex_above) return Tier::complex;
    return Tier::medium;
}

uint64_t sticky_hash(std::string_view experiment, std::string_view key) {
    uint64_t h = 14695981039346656037ull;
    auto mix = [&h](unsigned char c) { h = (h ^ c) * 1099511628211ull; };
    for (char c : experiment) mix(static_cast<unsigned char>(c));
    mix(0);  // separator: ("ab", "c") and ("a", "bc") differ
    for (char c : key) mix(static_cast<unsigned char>(c));
    // SplitMix64 finaliser: FNV's low bits are weak for short keys.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

std::optional<size_t> pick_variant(const config::Experiment& e, std::string_view key) {
    uint64_t total = 0;
    for (const auto& v : e.variants) total += v.weight;
    if (total == 0) return std::nullopt;
    // Uniform point in [0, total) from the top 53 bits.
    double u = static_cast<double>(sticky_hash(e.name, key) >> 11) * 0x1.0p-53;
    auto point = static_cast<uint64_t>(u * static_cast<double>(total));
    uint64_t acc = 0;
    for (size_t i = 0; i < e.variants.size(); ++i) {
        acc += e.variants[i].weight;
        if (point < acc) return i;
    }
    return e.variants.size() - 1;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    // Howard Hinnant's algorithm.
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace baton::policy
