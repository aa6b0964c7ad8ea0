// Precision/recall of the PII scanner on a presidio-research style span-labelled dataset, and
// findings per MB on unlabelled text files (false-positive rate on text without PII).
//
//   pii_eval DATASET.json [--json] [--show-errors] [--negatives FILE...]
//
// Scoring (per class): a finding is a true positive when it overlaps a gold span of the same
// class; a gold span is found when some finding of its class overlaps it. Findings overlapping
// nothing or a span of another type count as false positives. "exact" counts findings whose
// bounds equal the gold span's. Gold types outside our classes are not scored for recall.
// Texts are scanned both as plain UTF-8 and JSON-escaped (as they sit in a request body); the
// two must agree (checked, reported as "json mismatches").
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "baton/pii/scanner.hpp"
#include "baton/pii/validators.hpp"

namespace {

using namespace baton::pii;

// Presidio entity type -> our class.
const std::map<std::string, Class> kTypeMap = {
    {"EMAIL_ADDRESS", Class::email}, {"PHONE_NUMBER", Class::phone}, {"CREDIT_CARD", Class::card},
    {"IBAN_CODE", Class::iban},      {"US_SSN", Class::ssn},         {"IP_ADDRESS", Class::ip},
};

struct Gold {
    std::string type;
    bool mapped = false;
    Class cls = Class::email;
    std::size_t begin = 0;  // bytes
    std::size_t end = 0;
};

struct Stats {
    uint32_t gold = 0;
    uint32_t found = 0;  // gold spans found
    uint32_t pred = 0;
    uint32_t tp = 0;  // predictions overlapping gold of the same class
    uint32_t exact = 0;
};

// Byte offset of each code point index (plus the end).
std::vector<std::size_t> cp_offsets(const std::string& s) {
    std::vector<std::size_t> off;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) off.push_back(i);
    }
    off.push_back(s.size());
    return off;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string pct(uint32_t a, uint32_t b) {
    if (b == 0) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * a / b);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: %s DATASET.json [--json] [--show-errors] "
                     "[--negatives FILE...]\n",
                     argv[0]);
        return 2;
    }
    bool as_json = false;
    bool show = false;
    std::vector<std::string> negatives;
    for (int a = 2; a < argc; ++a) {
        std::string arg = argv[a];
        if (arg == "--json") {
            as_json = true;
        } else if (arg == "--show-errors") {
            show = true;
        } else if (arg == "--negatives") {
            for (++a; a < argc; ++a) negatives.emplace_back(argv[a]);
        }
    }
    const nlohmann::json data = nlohmann::json::parse(read_file(argv[1]));
    std::array<Stats, kClassCount> st{};
    std::map<std::string, uint32_t> fp_on_type;  // predicted class -> gold type it overlapped
    uint32_t json_mismatch = 0;
    std::size_t bytes = 0;
    double secs = 0;
    for (const auto& rec : data) {
        const std::string text = rec.at("full_text").get<std::string>();
        bytes += text.size();
        const auto off = cp_offsets(text);
        std::vector<Gold> gold;
        for (const auto& sp : rec.at("spans")) {
            Gold g;
            g.type = sp.at("entity_type").get<std::string>();
            auto it = kTypeMap.find(g.type);
            g.mapped = it != kTypeMap.end();
            if (g.mapped) g.cls = it->second;
            g.begin = off.at(sp.at("start_position").get<std::size_t>());
            g.end = off.at(sp.at("end_position").get<std::size_t>());
            gold.push_back(g);
            if (g.mapped) ++st[static_cast<std::size_t>(g.cls)].gold;
        }
        auto t0 = std::chrono::steady_clock::now();
        const auto found = scan(text, ScanOptions{Encoding::plain, ClassSet::all()});
        secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        // The same text JSON-escaped must give the same findings (mapped back by decoding).
        std::string esc;
        json_escape_append(text, esc);
        auto jf = scan(esc);
        bool same = jf.size() == found.size();
        for (std::size_t k = 0; same && k < jf.size(); ++k) {
            same =
                jf[k].kind == found[k].kind &&
                json_unescape(std::string_view(esc).substr(jf[k].begin, jf[k].end - jf[k].begin)) ==
                    text.substr(found[k].begin, found[k].end - found[k].begin);
        }
        if (!same) ++json_mismatch;
        std::vector<bool> hit(gold.size(), false);
        for (const Finding& f : found) {
            Stats& s = st[static_cast<std::size_t>(f.cls)];
            ++s.pred;
            bool tp = false;
            std::string other;
            for (std::size_t g = 0; g < gold.size(); ++g) {
                bool overlap = f.begin < gold[g].end && gold[g].begin < f.end;
                if (!overlap) continue;
                if (gold[g].mapped && gold[g].cls == f.cls) {
                    tp = true;
                    if (!hit[g] && f.begin == gold[g].begin && f.end == gold[g].end) ++s.exact;
                    hit[g] = true;
                } else {
                    other = gold[g].type;
                }
            }
            if (tp) {
                ++s.tp;
            } else {
                ++fp_on_type[std::string(class_name(f.cls)) + " on " +
                             (other.empty() ? "no entity" : other)];
                if (show) {
                    std::printf("FP %-6s %-14s '%s'  in: %s\n",
                                std::string(class_name(f.cls)).c_str(),
                                std::string(kind_name(f.kind)).c_str(),
                                text.substr(f.begin, f.end - f.begin).c_str(),
                                other.empty() ? "-" : other.c_str());
                }
            }
        }
        for (std::size_t g = 0; g < gold.size(); ++g) {
            if (!gold[g].mapped) continue;
            if (hit[g]) {
                ++st[static_cast<std::size_t>(gold[g].cls)].found;
            } else if (show) {
                std::printf("FN %-6s '%s'\n", std::string(class_name(gold[g].cls)).c_str(),
                            text.substr(gold[g].begin, gold[g].end - gold[g].begin).c_str());
            }
        }
    }
    // Unlabelled negatives: findings per MB.
    std::map<std::string, uint32_t> neg_counts;
    std::size_t neg_bytes = 0;
    for (const auto& path : negatives) {
        const std::string text = read_file(path);
        neg_bytes += text.size();
        for (const Finding& f : scan(text, ScanOptions{Encoding::plain, ClassSet::all()})) {
            ++neg_counts[std::string(kind_name(f.kind))];
            if (show) {
                std::printf(
                    "NEG %-14s '%s'\n", std::string(kind_name(f.kind)).c_str(),
                    text.substr(f.begin, std::min<std::size_t>(f.end - f.begin, 80)).c_str());
            }
        }
    }
    if (as_json) {
        nlohmann::json out;
        for (std::size_t c = 0; c < kClassCount; ++c) {
            const Stats& s = st[c];
            out["classes"][std::string(class_name(static_cast<Class>(c)))] = {{"gold", s.gold},
                                                                              {"found", s.found},
                                                                              {"predicted", s.pred},
                                                                              {"tp", s.tp},
                                                                              {"exact", s.exact}};
        }
        out["false_positives"] = fp_on_type;
        out["json_mismatches"] = json_mismatch;
        out["negatives"] = {{"bytes", neg_bytes}, {"findings", neg_counts}};
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    std::printf("| class | gold | predicted | TP | precision | recall | exact bounds |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    Stats all{};
    for (std::size_t c = 0; c < kClassCount; ++c) {
        const Stats& s = st[c];
        all.gold += s.gold;
        all.found += s.found;
        all.pred += s.pred;
        all.tp += s.tp;
        all.exact += s.exact;
        std::printf("| %s | %u | %u | %u | %s | %s | %u |\n",
                    std::string(class_name(static_cast<Class>(c))).c_str(), s.gold, s.pred, s.tp,
                    pct(s.tp, s.pred).c_str(), pct(s.found, s.gold).c_str(), s.exact);
    }
    std::printf("| **all** | %u | %u | %u | %s | %s | %u |\n", all.gold, all.pred, all.tp,
                pct(all.tp, all.pred).c_str(), pct(all.found, all.gold).c_str(), all.exact);
    std::printf("\nfalse positives by (class on gold type):\n");
    for (const auto& [k, v] : fp_on_type) std::printf("  %s: %u\n", k.c_str(), v);
    std::printf("json-escaped scan mismatches: %u of %zu records\n", json_mismatch, data.size());
    std::printf("dataset: %zu records, %zu bytes, scanned in %.2f ms\n", data.size(), bytes,
                secs * 1e3);
    if (!negatives.empty()) {
        std::printf("negatives: %zu bytes in %zu files, findings:", neg_bytes, negatives.size());
        uint32_t total = 0;
        for (const auto& [k, v] : neg_counts) {
            std::printf(" %s=%u", k.c_str(), v);
            total += v;
        }
        std::printf(" (%.2f per MB)\n", neg_bytes ? total / (neg_bytes / 1048576.0) : 0.0);
    }
    return 0;
}
