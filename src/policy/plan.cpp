// plan(): resolve, rules, requirements, filters, scoring, experiments, reason.
#include <re2/re2.h>

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <charconv>
#include <cmath>
#include <span>

#include "baton/policy/engine.hpp"

namespace baton::policy {
namespace {

constexpr double kSimpleQualityCap = 0.5;     // simple tier: quality above this counts the same
constexpr double kComplexQualityBoost = 3.0;  // complex tier: quality weight x3, renormalised
constexpr double kSimpleQualityDamp = 0.5;    // simple tier: quality weight x0.5, renormalised
constexpr double kDominantWeight = 0.8;       // x-baton-objective: this term's weight
constexpr double kQualitySpreadFloor = 0.1;   // min quality spread used for normalisation
constexpr double kRelativeSpreadFloor = 0.1;  // min cost/latency spread, share of the maximum
constexpr size_t kMaxReplacementHops = 8;

uint32_t expected_output_for(Tier t) {
    switch (t) {
        case Tier::simple:
            return 256;
        case Tier::medium:
            return 512;
        case Tier::complex:
            return 1024;
    }
    return 512;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

void add_unique(std::vector<std::string>& v, std::string_view s) {
    if (s.empty()) return;
    for (const auto& x : v) {
        if (x == s) return;
    }
    v.emplace_back(s);
}

// Appends the UTF-8 encoding of a code point.
void put_utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool hex4(std::string_view s, size_t at, uint32_t& cp) {
    if (at + 4 > s.size()) return false;
    cp = 0;
    for (size_t i = at; i < at + 4; ++i) {
        char c = s[i];
        uint32_t v = 0;
        if (c >= '0' && c <= '9')
            v = static_cast<uint32_t>(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = static_cast<uint32_t>(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v = static_cast<uint32_t>(c - 'A' + 10);
        else
            return false;
        cp = (cp << 4) | v;
    }
    return true;
}

// Decodes JSON string escapes (the text spans keep them as written).
void json_unescape(std::string_view raw, std::string& out) {
    out.clear();
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c != '\\' || i + 1 >= raw.size()) {
            out += c;
            continue;
        }
        char e = raw[++i];
        switch (e) {
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            case 'r':
                out += '\r';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'u': {
                uint32_t cp = 0;
                if (!hex4(raw, i + 1, cp)) {
                    out += 'u';
                    break;
                }
                i += 4;
                uint32_t lo = 0;
                if (cp >= 0xD800 && cp <= 0xDBFF && raw.substr(i + 1, 2) == "\\u" &&
                    hex4(raw, i + 3, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
                put_utf8(cp, out);
                break;
            }
            default:
                out += e;
                break;  // \" \\ \/
        }
    }
}

// Per-candidate scratch used by filters and scoring.
struct Scratch {
    size_t model = 0;
    size_t position = 0;
    std::optional<size_t> replaces;
    LatencyPrediction latency;
};

}  // namespace

// Friend of CompiledPolicy: reads its tables.
// The capability bits the planner tests on every request (the vocabulary is fixed at build).
const struct {
    uint32_t tools = capability_bit("tools");
    uint32_t vision = capability_bit("vision");
    uint32_t json_schema = capability_bit("json_schema");
    uint32_t json_mode = capability_bit("json_mode");
    uint32_t streaming = capability_bit("streaming");
} kCapBits;

struct Planner {
    const PlanInput& in;
    const config::Config& cfg;
    const CompiledPolicy& pol;
    const Features& f;
    Plan& out;

    const config::Rule* rule = nullptr;
    uint32_t required_caps = 0;
    bool unknown_capability = false;          // a required capability outside the vocabulary
    std::vector<uint32_t> required_cap_bits;  // per Plan::required_capabilities (0: unknown)
    std::vector<int64_t> required_tag_ids;    // per Plan::required_tags (-1: no model has it)
    const uint32_t cap_tools = kCapBits.tools;
    const uint32_t cap_vision = kCapBits.vision;
    const uint32_t cap_json_schema = kCapBits.json_schema;
    const uint32_t cap_json_mode = kCapBits.json_mode;
    const uint32_t cap_streaming = kCapBits.streaming;
    std::optional<std::string_view> objective_header;
    std::optional<double> header_max_price;

    std::optional<std::string_view> header(std::string_view name) const {
        return in.headers ? in.headers->get(name) : std::nullopt;
    }

    void fail(Errc code, std::string message, std::string param = {}) {
        out.error = make_error(code, std::move(message), std::move(param));
        out.ranked.clear();
    }

    // ---- headers --------------------------------------------------------------------------
    bool read_headers() {
        if (auto v = header(kHeaderObjective)) {
            std::string_view w = trim(*v);
            if (w != "cost" && w != "latency" && w != "quality") {
                fail(Errc::invalid_request,
                     "header x-baton-objective must be cost, latency or quality (got \"" +
                         std::string(w) + "\")",
                     std::string(kHeaderObjective));
                return false;
            }
            objective_header = w;
        }
        if (auto v = header(kHeaderMaxPrice)) {
            std::string_view s = trim(*v);
            double price = 0;
            auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), price);
            if (ec != std::errc() || ptr != s.data() + s.size() || !(price >= 0) ||
                !std::isfinite(price)) {
                fail(Errc::invalid_request,
                     "header x-baton-max-price must be a number of USD per 1M output tokens "
                     "(got \"" +
                         std::string(s) + "\")",
                     std::string(kHeaderMaxPrice));
                return false;
            }
            header_max_price = price;
        }
        return true;
    }

    // ---- rules ----------------------------------------------------------------------------
    bool content_matches(const re2::RE2& re) const {
        if (!in.request) return false;
        std::string buf;
        for (const auto& span : in.request->text_spans) {
            if (span.end > in.body.size() || span.begin > span.end) continue;
            std::string_view text = in.body.substr(span.begin, span.size());
            if (text.find('\\') != std::string_view::npos) {
                json_unescape(text, buf);
                if (re2::RE2::PartialMatch(buf, re)) return true;
            } else if (re2::RE2::PartialMatch(text, re)) {
                return true;
            }
        }
        return false;
    }

    bool rule_matches(size_t i) const {
        const auto& m = cfg.rules[i].match;
        for (const auto& [name, value] : m.headers) {
            auto v = header(name);
            if (!v || *v != value) return false;
        }
        if (m.prompt_tokens_over && f.prompt_tokens <= *m.prompt_tokens_over) return false;
        if (!m.models.empty()) {
            bool any = false;
            for (const auto& name : m.models) any = any || name == in.requested;
            if (!any) return false;
        }
        if (!m.content_regex.empty()) {
            const auto* re = i < pol.rule_regex_.size() ? pol.rule_regex_[i].get() : nullptr;
            if (!re || !content_matches(*re)) return false;
        }
        return true;
    }

    // ---- filters --------------------------------------------------------------------------
    uint32_t output_reserve(const config::Model& m) const {
        if (f.max_tokens) return *f.max_tokens;
        return m.max_output_tokens > 0 ? std::min(kDefaultOutputReserve, m.max_output_tokens)
                                       : kDefaultOutputReserve;
    }

    bool has_tag(size_t model, int64_t id) const {
        if (id < 0) return false;
        auto u = static_cast<uint64_t>(id);
        return (pol.model_tags_[model * pol.tag_words_ + u / 64] >> (u % 64)) & 1u;
    }

    // Every hard filter except deprecation. Bit operations and comparisons only.
    FilterResult check(size_t mi, const LatencyPrediction& lat) const {
        const config::Model& m = cfg.models[mi];
        const uint32_t caps = pol.model_caps_[mi];
        FilterResult r;
        auto fail_if = [&r](bool cond, Filter flt) {
            if (cond) r.failed |= 1u << static_cast<unsigned>(flt);
        };
        fail_if(m.context_window > 0 &&
                    uint64_t{f.prompt_tokens} + output_reserve(m) > uint64_t{m.context_window},
                Filter::context);
        fail_if(f.max_tokens && m.max_output_tokens > 0 && *f.max_tokens > m.max_output_tokens,
                Filter::max_output);
        fail_if(f.tools && !(caps & cap_tools), Filter::tools);
        fail_if(f.images && !(caps & cap_vision), Filter::vision);
        fail_if(f.json_schema && !(caps & cap_json_schema), Filter::json_schema);
        fail_if(f.json_object && !(caps & (cap_json_mode | cap_json_schema)), Filter::json_mode);
        // Every chat model streams unless its catalogue entry lists capabilities without
        // `streaming`; a model with no capabilities declared is not excluded from streams.
        fail_if(f.stream && caps != 0 && !(caps & cap_streaming), Filter::streaming);
        if ((required_caps & caps) != required_caps || unknown_capability) {
            for (size_t i = 0; i < required_cap_bits.size(); ++i) {
                uint32_t bit = required_cap_bits[i];
                if (bit == 0 || !(caps & bit)) r.missing_capabilities |= uint64_t{1} << i;
            }
            fail_if(r.missing_capabilities != 0, Filter::capability);
        }
        for (size_t t = 0; t < required_tag_ids.size(); ++t) {
            if (!has_tag(mi, required_tag_ids[t])) r.missing_tags |= uint64_t{1} << t;
        }
        fail_if(r.missing_tags != 0, Filter::tag);
        fail_if((out.max_price_output && m.price.output > *out.max_price_output) ||
                    (out.max_price_input && m.price.input > *out.max_price_input),
                Filter::price);
        r.ttft_ms = lat.ttft_ms;
        fail_if(out.max_ttft && lat.ttft_ms > static_cast<double>(out.max_ttft->count()),
                Filter::ttft);
        return r;
    }

    bool deprecated(const config::Model& m) const {
        return m.deprecated && in.today_days > m.deprecated->after_days;
    }

    // Follows replacement links past deprecated models; nullopt when none usable.
    std::optional<size_t> replacement_of(size_t mi) const {
        size_t cur = mi;
        for (size_t hop = 0; hop < kMaxReplacementHops; ++hop) {
            const auto& dep = cfg.models[cur].deprecated;
            if (!dep || dep->replacement.empty()) return std::nullopt;
            auto it = pol.model_index_.find(dep->replacement);
            if (it == pol.model_index_.end()) return std::nullopt;
            cur = it->second;
            if (!deprecated(cfg.models[cur])) return cur;
        }
        return std::nullopt;
    }

    // ---- steps ----------------------------------------------------------------------------
    void plan_direct(size_t mi) {
        out.direct = true;
        out.route = cfg.models[mi].name;
        out.tier = tier_for(f.complexity, config::ComplexityTiers{});
        out.objective_source = "none";
        out.expected_output_tokens = expected_output_for(out.tier);
        Scratch s{mi, 0, std::nullopt, {}};
        std::string label = "requested-model";
        if (deprecated(cfg.models[mi])) {
            auto r = replacement_of(mi);
            out.deprecations.push_back({mi, r, cfg.models[mi].deprecated->after});
            if (r) {
                s.model = *r;
                s.replaces = mi;
                label += "; deprecated " + cfg.models[mi].name + "->" + cfg.models[*r].name;
            } else {
                label += "; deprecated, no replacement";
            }
        }
        s.latency = predict(cfg.models[s.model], s.model, in.stats);
        score(std::span<const Scratch>(&s, 1));
        out.decisive = "requested";
        out.reason = std::move(label);
    }

    void choose_variant(const config::Route& r) {
        if (!r.experiment || r.experiment->variants.empty()) return;
        const auto& e = *r.experiment;
        std::string_view key;
        std::string source;
        if (e.sticky_by == "user") {
            key = in.sticky.user;
            source = "user";
        } else if (e.sticky_by == "key") {
            key = in.sticky.key;
            source = "key";
        } else if (e.sticky_by.rfind("header:", 0) == 0) {
            std::string name = e.sticky_by.substr(7);
            for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
            if (auto v = header(name)) key = *v;
            source = "header:" + name;
        }
        if (key.empty() && !in.sticky.user.empty()) {
            key = in.sticky.user;
            source = "user";
        }
        if (key.empty() && !in.sticky.key.empty()) {
            key = in.sticky.key;
            source = "key";
        }
        if (key.empty()) source = "none";
        auto v = pick_variant(e, key);
        if (!v) return;
        out.experiment = e.name;
        out.variant = e.variants[*v].name;
        out.sticky_source = std::move(source);
    }

    void choose_objective(const config::Route& r) {
        config::Objective w = r.objective;
        out.objective_source = "route";
        if (r.experiment && !out.variant.empty()) {
            for (const auto& v : r.experiment->variants) {
                if (v.name == out.variant && v.objective) {
                    w = *v.objective;
                    out.objective_source = "variant:" + v.name;
                }
            }
        }
        if (rule && out.rule_applied && rule->then.objective) {
            w = *rule->then.objective;
            out.objective_source = "rule:" + std::to_string(rule->line);
        }
        auto normalise = [](config::Objective& o) {
            o.cost = std::max(0.0, o.cost);
            o.latency = std::max(0.0, o.latency);
            o.quality = std::max(0.0, o.quality);
            double sum = o.cost + o.latency + o.quality;
            if (sum <= 0) {
                o = config::Objective{};
                sum = o.cost + o.latency + o.quality;
            }
            o.cost /= sum;
            o.latency /= sum;
            o.quality /= sum;
        };
        normalise(w);
        if (objective_header) {
            // The named term becomes dominant; the others share the rest in proportion.
            double* dom = *objective_header == "cost"      ? &w.cost
                          : *objective_header == "latency" ? &w.latency
                                                           : &w.quality;
            double others = 1.0 - *dom;
            double scale = others > 0 ? (1.0 - kDominantWeight) / others : 0.0;
            w.cost *= scale;
            w.latency *= scale;
            w.quality *= scale;
            *dom = kDominantWeight;
            if (others <= 0) {  // nothing to share in proportion: split evenly
                double rest = (1.0 - kDominantWeight) / 2;
                if (dom != &w.cost) w.cost = rest;
                if (dom != &w.latency) w.latency = rest;
                if (dom != &w.quality) w.quality = rest;
            }
            out.objective_source = "header:" + std::string(*objective_header);
        } else if (out.tier == Tier::complex) {
            w.quality *= kComplexQualityBoost;
            normalise(w);
        } else if (out.tier == Tier::simple) {
            w.quality *= kSimpleQualityDamp;
            normalise(w);
        }
        out.objective = w;
    }

    void score(std::span<const Scratch> survivors) {
        const config::Objective& w = out.objective;
        const bool saturate = out.tier == Tier::simple && !objective_header;
        const size_t n = survivors.size();
        double cmin = INFINITY, cmax = -INFINITY, lmin = INFINITY, lmax = -INFINITY;
        double qmin = INFINITY, qmax = -INFINITY;
        // Inline storage for up to 16 candidates: no allocation per request. default_init: the
        // candidates get their members' initialisers and qeff/order nothing (all written below)
        // instead of value-initialisation, which GCC emits as a `rep stos` per element.
        boost::container::small_vector<Candidate, 16> scored(n, boost::container::default_init);
        boost::container::small_vector<double, 16> qeff(n, boost::container::default_init);
        for (size_t i = 0; i < n; ++i) {
            const Scratch& sv = survivors[i];
            const config::Model& m = cfg.models[sv.model];
            Candidate& c = scored[i];
            c.model_index = sv.model;
            c.position = sv.position;
            c.replaces = sv.replaces;
            uint32_t out_tokens = out.expected_output_tokens;
            if (m.max_output_tokens > 0) out_tokens = std::min(out_tokens, m.max_output_tokens);
            Score& sc = c.score;
            sc.cost_usd = (f.prompt_tokens * m.price.input + out_tokens * m.price.output) / 1e6;
            sc.ttft_ms = sv.latency.ttft_ms;
            sc.tokens_per_s = sv.latency.tokens_per_s;
            sc.latency_samples = sv.latency.samples;
            sc.live_latency = sv.latency.live;
            double tps = sc.tokens_per_s > 0 ? sc.tokens_per_s : 1.0;
            sc.latency_ms = sc.ttft_ms + out_tokens / tps * 1000.0;
            sc.quality = m.quality;
            qeff[i] = saturate ? std::min(m.quality, kSimpleQualityCap) : m.quality;
            cmin = std::min(cmin, sc.cost_usd);
            cmax = std::max(cmax, sc.cost_usd);
            lmin = std::min(lmin, sc.latency_ms);
            lmax = std::max(lmax, sc.latency_ms);
            qmin = std::min(qmin, qeff[i]);
            qmax = std::max(qmax, qeff[i]);
        }
        // 1 for the best survivor, falling linearly with the distance from it; spreads have a
        // floor so that near-equal values do not look like extremes.
        auto term = [](double v, double best, double spread) {
            return spread > 0 ? std::clamp(1.0 - std::fabs(v - best) / spread, 0.0, 1.0) : 1.0;
        };
        // (log(hi / lo) is the same for every survivor: computed once)
        const bool linear_cost = !(cmin > 0) || cmax <= cmin * (1.0 + kRelativeSpreadFloor);
        const double log_span = linear_cost ? 0.0 : std::log(cmax / cmin);
        auto log_term = [&](double v, double lo, double hi) {
            if (linear_cost) {
                // free models or near-equal prices: fall back to the linear distance
                double spread = std::max(hi - lo, kRelativeSpreadFloor * hi);
                return spread > 0 ? std::clamp(1.0 - (v - lo) / spread, 0.0, 1.0) : 1.0;
            }
            return std::clamp(1.0 - std::log(v / lo) / log_span, 0.0, 1.0);
        };
        const double lspread = std::max(lmax - lmin, kRelativeSpreadFloor * lmax);
        const double qspread = std::max(qmax - qmin, kQualitySpreadFloor);
        boost::container::small_vector<uint32_t, 16> order(n, boost::container::default_init);
        for (size_t i = 0; i < n; ++i) {
            Score& sc = scored[i].score;
            // Cost on a log scale: prices span orders of magnitude, and a model 10x the price
            // of the cheapest is not "90% as cheap" because a third one costs 50x.
            sc.cost_term = log_term(sc.cost_usd, cmin, cmax);
            sc.latency_term = term(sc.latency_ms, lmin, lspread);
            sc.quality_term = term(qeff[i], qmax, qspread);
            sc.total =
                w.cost * sc.cost_term + w.latency * sc.latency_term + w.quality * sc.quality_term;
            order[i] = static_cast<uint32_t>(i);
        }
        const auto& models = cfg.models;
        std::sort(order.begin(), order.end(), [&](uint32_t ia, uint32_t ib) {
            const Candidate& a = scored[ia];
            const Candidate& b = scored[ib];
            if (std::fabs(a.score.total - b.score.total) > 1e-9) {
                return a.score.total > b.score.total;
            }
            if (a.position != b.position) return a.position < b.position;
            return models[a.model_index].name < models[b.model_index].name;
        });
        out.ranked.clear();
        out.ranked.reserve(n);
        for (uint32_t i : order) out.ranked.push_back(scored[i]);
    }

    void explain_decision() {
        std::string label;
        if (out.ranked.size() == 1) {
            out.decisive = "only";
            label = out.excluded.empty() ? "single-candidate" : "only-capable";
        } else {
            const Score& a = out.ranked[0].score;
            const Score& b = out.ranked[1].score;
            const config::Objective& w = out.objective;
            double dc = w.cost * (a.cost_term - b.cost_term);
            double dl = w.latency * (a.latency_term - b.latency_term);
            double dq = w.quality * (a.quality_term - b.quality_term);
            double best = std::max({dc, dl, dq});
            if (best <= 1e-12) {
                out.decisive = "tie";
                label = "tie-by-order";
            } else if (best == dc) {
                out.decisive = "cost";
                label = a.cost_term >= 1.0 ? "cheapest-capable" : "cost";
            } else if (best == dl) {
                out.decisive = "latency";
                label = a.latency_term >= 1.0 ? "fastest-capable" : "latency";
            } else {
                out.decisive = "quality";
                label = a.quality_term >= 1.0 ? "best-quality" : "quality";
            }
        }
        label += "; tier=";
        label += to_string(out.tier);
        if (objective_header) label += "; objective=" + std::string(*objective_header);
        if (out.rule_index) label += "; rule:" + std::to_string(out.rule_line);
        for (const auto& d : out.deprecations) {
            if (d.replacement && out.ranked[0].model_index == *d.replacement) {
                label += "; deprecated " + cfg.models[d.model_index].name + "->" +
                         cfg.models[*d.replacement].name;
            }
        }
        if (!out.excluded.empty()) {
            // Each exclusion's first reason, without duplicates.
            std::vector<std::pair<uint32_t, uint64_t>> seen;  // (filter bit, tag/cap bit)
            std::vector<std::string> firsts;
            for (const auto& e : out.excluded) {
                const FilterResult& r = e.why;
                if (r.failed == 0) continue;
                uint32_t bit = r.failed & (~r.failed + 1);
                uint64_t sub = bit == 1u << static_cast<unsigned>(Filter::capability)
                                   ? r.missing_capabilities & (~r.missing_capabilities + 1)
                               : bit == 1u << static_cast<unsigned>(Filter::tag)
                                   ? r.missing_tags & (~r.missing_tags + 1)
                                   : 0;
                if (std::find(seen.begin(), seen.end(), std::pair{bit, sub}) != seen.end()) {
                    continue;
                }
                seen.emplace_back(bit, sub);
                FilterResult one;
                one.failed = bit;
                one.missing_capabilities = sub;
                one.missing_tags = sub;
                firsts.push_back(reasons(out, one).front());
            }
            label += "; " + std::to_string(out.excluded.size()) + " excluded: ";
            for (size_t i = 0; i < firsts.size(); ++i) label += (i ? ", " : "") + firsts[i];
        }
        out.reason = std::move(label);
    }

    void run();
};

void Planner::run() {
    out.requested = std::string(in.requested);
    out.features = f;

    // 1. Resolve.
    std::optional<size_t> route_idx, model_idx;
    if (auto it = pol.route_index_.find(in.requested); it != pol.route_index_.end()) {
        route_idx = it->second;
    } else if (auto jt = pol.model_index_.find(in.requested); jt != pol.model_index_.end()) {
        model_idx = jt->second;
    } else {
        fail(Errc::model_not_found,
             "model \"" + std::string(in.requested) + "\" does not exist; " + pol.known_names_,
             "model");
        return;
    }
    if (!read_headers()) return;

    // 2. Rules: first match wins.
    for (size_t i = 0; i < cfg.rules.size(); ++i) {
        if (!rule_matches(i)) continue;
        rule = &cfg.rules[i];
        out.rule_index = i;
        out.rule_line = rule->line;
        break;
    }
    if (rule && rule->then.route) {
        auto it = pol.route_index_.find(*rule->then.route);
        if (it == pol.route_index_.end()) {
            fail(Errc::internal, "rule at line " + std::to_string(rule->line) +
                                     " switches to unknown route \"" + *rule->then.route + "\"");
            return;
        }
        route_idx = it->second;
        model_idx.reset();
    }
    if (model_idx) {
        out.rule_applied = rule == nullptr;
        plan_direct(*model_idx);
        return;
    }

    // 3. Requirements.
    const config::Route& r = cfg.routes[*route_idx];
    out.route = r.name;
    for (const auto& t : r.constraints.require_tags) add_unique(out.required_tags, t);
    for (const auto& c : r.constraints.require_capabilities) {
        add_unique(out.required_capabilities, c);
    }
    if (rule) {
        for (const auto& t : rule->then.require_tags) add_unique(out.required_tags, t);
        for (const auto& c : rule->then.require_capabilities) {
            add_unique(out.required_capabilities, c);
        }
    }
    if (in.extra_required_tags) {
        for (const auto& t : *in.extra_required_tags) add_unique(out.required_tags, t);
    }
    if (auto v = header(kHeaderRequireTags)) {
        std::string_view rest = *v;
        while (!rest.empty()) {
            size_t comma = rest.find(',');
            add_unique(out.required_tags, trim(rest.substr(0, comma)));
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    if (out.required_tags.size() > 64 || out.required_capabilities.size() > 64) {
        fail(Errc::invalid_request, "too many required tags or capabilities (at most 64 each)",
             std::string(kHeaderRequireTags));
        return;
    }
    for (const auto& c : out.required_capabilities) {
        uint32_t bit = capability_bit(c);
        required_cap_bits.push_back(bit);
        required_caps |= bit;
        unknown_capability = unknown_capability || bit == 0;
    }
    for (const auto& t : out.required_tags) {
        auto it = pol.tag_ids_.find(t);
        required_tag_ids.push_back(it == pol.tag_ids_.end() ? -1 : int64_t{it->second});
    }
    out.max_price_output = r.constraints.max_price_output;
    if (header_max_price) {
        out.max_price_output = out.max_price_output
                                   ? std::min(*out.max_price_output, *header_max_price)
                                   : *header_max_price;
    }
    out.max_price_input = r.constraints.max_price_input;
    out.max_ttft = r.constraints.max_ttft;

    // 4. Tier, experiment, objective.
    out.tier = tier_for(f.complexity, r.complexity);
    out.expected_output_tokens = expected_output_for(out.tier);
    if (f.max_tokens) {
        out.expected_output_tokens = std::min(out.expected_output_tokens, *f.max_tokens);
    }
    choose_variant(r);
    choose_objective(r);

    // 5. Filters.
    const std::vector<size_t>& cands = pol.route_candidates_[*route_idx];
    // Inline storage for up to 16 candidates / 64 models: no allocation per request.
    boost::container::small_vector<Scratch, 16> survivors;
    survivors.reserve(cands.size());
    boost::container::small_vector<uint8_t, 64> taken(cfg.models.size(), 0);
    for (size_t pos = 0; pos < cands.size(); ++pos) {
        size_t mi = cands[pos];
        const config::Model& m = cfg.models[mi];
        if (deprecated(m)) {
            Exclusion ex;
            ex.model_index = mi;
            ex.why.failed = 1u << static_cast<unsigned>(Filter::deprecated);
            ex.replacement = replacement_of(mi);
            if (ex.replacement) {
                size_t rep = *ex.replacement;
                if (taken[rep] || std::find(cands.begin(), cands.end(), rep) != cands.end()) {
                    ex.replacement_is_candidate = true;
                } else {
                    LatencyPrediction lat = predict(cfg.models[rep], rep, in.stats);
                    ex.replacement_why = check(rep, lat);
                    if (ex.replacement_why.ok()) {
                        taken[rep] = 1;
                        survivors.push_back({rep, pos, mi, lat});
                        out.deprecations.push_back({mi, rep, m.deprecated->after});
                        continue;
                    }
                }
            }
            out.deprecations.push_back({mi,
                                        ex.replacement_is_candidate ? ex.replacement : std::nullopt,
                                        m.deprecated->after});
            out.excluded.push_back(std::move(ex));
            continue;
        }
        if (taken[mi]) continue;  // already in as a replacement
        LatencyPrediction lat = predict(m, mi, in.stats);
        FilterResult res = check(mi, lat);
        if (res.ok()) {
            taken[mi] = 1;
            survivors.push_back({mi, pos, std::nullopt, lat});
            continue;
        }
        Exclusion ex;
        ex.model_index = mi;
        ex.why = res;
        out.excluded.push_back(ex);
    }

    if (survivors.empty()) {
        std::string msg = "no model of route \"" + r.name + "\" can serve this request";
        if (cands.empty()) msg += ": the route has no candidates";
        for (size_t i = 0; i < out.excluded.size(); ++i) {
            const auto& e = out.excluded[i];
            msg += (i ? "; " : ": ") + cfg.models[e.model_index].name + " excluded by " +
                   describe(out, e, cfg);
        }
        fail(Errc::unprocessable, std::move(msg), "model");
        return;
    }

    // 6. Score, rank, explain.
    score(std::span<const Scratch>(survivors.data(), survivors.size()));
    explain_decision();
}

Plan plan(const PlanInput& input) {
    Plan out;
    Planner p{input, input.config, input.policy, input.features, out};
    p.run();
    return out;
}

}  // namespace baton::policy
