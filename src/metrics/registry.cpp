#include "baton/metrics/registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace baton::metrics {

namespace {

// Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view n) {
    if (n.empty()) return false;
    for (size_t i = 0; i < n.size(); ++i) {
        const char c = n[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        const bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0)) return false;
    }
    return true;
}

// Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*, "__" prefix reserved.
bool valid_label_name(std::string_view n) {
    if (n.empty() || n.starts_with("__")) return false;
    for (size_t i = 0; i < n.size(); ++i) {
        const char c = n[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0)) return false;
    }
    return true;
}

void validate_labels(std::string_view metric, const Labels& labels, bool histogram) {
    for (size_t i = 0; i < labels.size(); ++i) {
        const auto& name = labels[i].first;
        if (!valid_label_name(name)) {
            throw std::invalid_argument("metric " + std::string(metric) + ": invalid label name '" +
                                        name + "'");
        }
        if (histogram && name == "le") {
            throw std::invalid_argument("metric " + std::string(metric) +
                                        ": label 'le' is reserved for histograms");
        }
        for (size_t j = 0; j < i; ++j) {
            if (labels[j].first == name) {
                throw std::invalid_argument("metric " + std::string(metric) +
                                            ": duplicate label '" + name + "'");
            }
        }
    }
}

// Same label set regardless of order (names are unique within a set).
bool same_labels(const Labels& a, const Labels& b) {
    if (a.size() != b.size()) return false;
    for (const auto& kv : a) {
        auto it =
            std::find_if(b.begin(), b.end(), [&](const auto& x) { return x.first == kv.first; });
        if (it == b.end() || it->second != kv.second) return false;
    }
    return true;
}

const char* type_name(int t) {
    switch (t) {
        case 0:
            return "counter";
        case 1:
            return "gauge";
        default:
            return "histogram";
    }
}

void append_escaped_label_value(std::string& out, std::string_view v) {
    for (char c : v) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

void append_escaped_help(std::string& out, std::string_view v) {
    for (char c : v) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

// Shortest representation that parses back to the same double; integral values without
// decimals; +Inf/-Inf/NaN as Prometheus spells them.
void append_double(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    if (v == std::trunc(v) && std::fabs(v) < 1e15) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
        out += buf;
        return;
    }
    char buf[40];
    for (int prec = 1; prec <= 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    out += buf;
}

// `{k="v",...` without the closing brace (so histograms can append le); nothing if empty and
// no extra label follows.
void append_labels(std::string& out, const Labels& labels) {
    bool first = true;
    for (const auto& [k, v] : labels) {
        out += first ? '{' : ',';
        first = false;
        out += k;
        out += "=\"";
        append_escaped_label_value(out, v);
        out += '"';
    }
}

void append_sample_labels(std::string& out, const Labels& labels) {
    if (labels.empty()) return;
    append_labels(out, labels);
    out += '}';
}

}  // namespace

// ---- Histogram ----------------------------------------------------------------------------

namespace detail {
unsigned next_shard() noexcept {
    static std::atomic<unsigned> next{0};
    return next.fetch_add(1, std::memory_order_relaxed) % kShards;
}
}  // namespace detail

Histogram::Histogram(std::vector<double> bounds_seconds)
    : bounds_(std::move(bounds_seconds)),
      lines_per_shard_((bounds_.size() + 3 + 7) / 8),  // buckets, +Inf, count, sum
      lines_(std::make_unique<detail::Line[]>(kShards * lines_per_shard_)) {
    for (size_t i = 0; i < bounds_.size(); ++i) {
        if (!std::isfinite(bounds_[i])) {
            throw std::invalid_argument("histogram bounds must be finite (+Inf is implicit)");
        }
        if (i > 0 && !(bounds_[i - 1] < bounds_[i])) {
            throw std::invalid_argument("histogram bounds must be strictly increasing");
        }
    }
}

void Histogram::observe_seconds(double s) {
    // First bound >= s: a value equal to a bound belongs to that bucket (le semantics).
    // NaN compares false everywhere and lands in +Inf.
    size_t idx = bounds_.size();
    if (!std::isnan(s)) {
        idx = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), s) -
                                  bounds_.begin());
    }
    const unsigned sh = detail::shard();
    cell(sh, idx).fetch_add(1, std::memory_order_relaxed);
    cell(sh, bounds_.size() + 1).fetch_add(1, std::memory_order_relaxed);
    // Sum in integer nanoseconds; negative / NaN contribute 0, huge values saturate.
    constexpr double max_ns = 9.2e18;
    double ns = s * 1e9;
    if (!(ns > 0)) return;
    // (ns > 0 here: adding 0.5 and truncating rounds half up, without a libm call)
    const uint64_t add =
        ns >= max_ns ? static_cast<uint64_t>(max_ns) : static_cast<uint64_t>(ns + 0.5);
    cell(sh, bounds_.size() + 2).fetch_add(add, std::memory_order_relaxed);
}

uint64_t Histogram::total(size_t i) const {
    uint64_t v = 0;
    for (unsigned sh = 0; sh < kShards; ++sh) v += cell(sh, i).load(std::memory_order_relaxed);
    return v;
}

uint64_t Histogram::bucket_count(size_t i) const {
    if (i > bounds_.size()) return 0;
    return total(i);
}

double Histogram::sum_seconds() const {
    return static_cast<double>(total(bounds_.size() + 2)) / 1e9;
}

const std::vector<double>& latency_buckets() {
    static const std::vector<double> b{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                       0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                       5,      10,      30,     60,    120};
    return b;
}

const std::vector<double>& overhead_buckets() {
    static const std::vector<double> b{5e-6, 1e-5,   2.5e-5, 5e-5, 1e-4,   2.5e-4, 5e-4,
                                       1e-3, 2.5e-3, 5e-3,   1e-2, 2.5e-2, 0.1};
    return b;
}

// ---- Registry -----------------------------------------------------------------------------

Registry::Family& Registry::family(std::string_view name, std::string_view help, Type type) {
    auto it = families_.find(name);
    if (it != families_.end()) {
        if (it->second.type != type) {
            throw std::logic_error("metric " + std::string(name) + " already registered as " +
                                   type_name(static_cast<int>(it->second.type)) + ", not " +
                                   type_name(static_cast<int>(type)));
        }
        return it->second;
    }
    if (!valid_metric_name(name)) {
        throw std::invalid_argument("invalid metric name '" + std::string(name) + "'");
    }
    Family f;
    f.help = std::string(help);
    f.type = type;
    return families_.emplace(std::string(name), std::move(f)).first->second;
}

Registry::Child* Registry::find(Family& f, const Labels& labels) {
    for (auto& c : f.children) {
        if (same_labels(c.labels, labels)) return &c;
    }
    return nullptr;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
    validate_labels(name, labels, false);
    std::lock_guard lock(mu_);
    Family& f = family(name, help, Type::counter);
    if (Child* c = find(f, labels)) return *c->counter;
    Child& c = f.children.emplace_back();
    c.labels = labels;
    c.counter = std::make_unique<Counter>();
    return *c.counter;
}

Counter& Registry::scaled_counter(std::string_view name, std::string_view help,
                                  const Labels& labels, double unit) {
    validate_labels(name, labels, false);
    std::lock_guard lock(mu_);
    Family& f = family(name, help, Type::counter);
    if (Child* c = find(f, labels)) {
        if (c->counter->unit() != unit) {
            throw std::logic_error("counter " + std::string(name) +
                                   " already registered with a different unit");
        }
        return *c->counter;
    }
    Child& c = f.children.emplace_back();
    c.labels = labels;
    c.counter = std::make_unique<Counter>(unit);
    return *c.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
    validate_labels(name, labels, false);
    std::lock_guard lock(mu_);
    Family& f = family(name, help, Type::gauge);
    if (Child* c = find(f, labels)) return *c->gauge;
    Child& c = f.children.emplace_back();
    c.labels = labels;
    c.gauge = std::make_unique<Gauge>();
    return *c.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               const std::vector<double>& bounds) {
    validate_labels(name, labels, true);
    std::lock_guard lock(mu_);
    Family& f = family(name, help, Type::histogram);
    if (Child* c = find(f, labels)) {
        if (c->histogram->bounds() != bounds) {
            throw std::logic_error("histogram " + std::string(name) +
                                   " already registered with different buckets");
        }
        return *c->histogram;
    }
    auto h = std::make_unique<Histogram>(bounds);  // validates bounds before inserting
    Child& c = f.children.emplace_back();
    c.labels = labels;
    c.histogram = std::move(h);
    return *c.histogram;
}

std::string Registry::render() const {
    std::lock_guard lock(mu_);
    std::string out;
    out.reserve(4096);
    for (const auto& [name, f] : families_) {
        out += "# HELP ";
        out += name;
        out += ' ';
        append_escaped_help(out, f.help);
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type_name(static_cast<int>(f.type));
        out += '\n';
        for (const auto& c : f.children) {
            switch (f.type) {
                case Type::counter:
                    out += name;
                    append_sample_labels(out, c.labels);
                    out += ' ';
                    if (c.counter->unit() == 1.0) {
                        out += std::to_string(c.counter->value());
                    } else {
                        append_double(out,
                                      static_cast<double>(c.counter->value()) * c.counter->unit());
                    }
                    out += '\n';
                    break;
                case Type::gauge:
                    out += name;
                    append_sample_labels(out, c.labels);
                    out += ' ';
                    out += std::to_string(c.gauge->value());
                    out += '\n';
                    break;
                case Type::histogram: {
                    const Histogram& h = *c.histogram;
                    const auto& bounds = h.bounds();
                    // +Inf and _count use the bucket total so the sample set stays consistent
                    // even while observations race with rendering.
                    uint64_t cumulative = 0;
                    for (size_t i = 0; i <= bounds.size(); ++i) {
                        cumulative += h.bucket_count(i);
                        out += name;
                        out += "_bucket";
                        append_labels(out, c.labels);
                        out += c.labels.empty() ? "{le=\"" : ",le=\"";
                        if (i < bounds.size()) {
                            append_double(out, bounds[i]);
                        } else {
                            out += "+Inf";
                        }
                        out += "\"} ";
                        out += std::to_string(cumulative);
                        out += '\n';
                    }
                    out += name;
                    out += "_sum";
                    append_sample_labels(out, c.labels);
                    out += ' ';
                    append_double(out, h.sum_seconds());
                    out += '\n';
                    out += name;
                    out += "_count";
                    append_sample_labels(out, c.labels);
                    out += ' ';
                    out += std::to_string(cumulative);
                    out += '\n';
                    break;
                }
            }
        }
    }
    return out;
}

Registry& global() {
    static Registry r;
    return r;
}

}  // namespace baton::metrics
