// Hash-chained JSON-lines audit log: writer (append, continue chain on open) and verifier.
#include "baton/audit/log.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

namespace baton::audit {
namespace {

using ojson = nlohmann::ordered_json;

std::string os_error(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// pread the byte range [from, from + n) of fd.
bool read_at(int fd, std::size_t from, std::size_t n, std::string& out) {
    out.resize(n);
    std::size_t done = 0;
    while (done < n) {
        ssize_t r = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(from + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        done += static_cast<std::size_t>(r);
    }
    return true;
}

// The parts of a line the verifier needs.
struct Parsed {
    bool ok = false;
    uint64_t seq = 0;
    std::string prev;
};

Parsed parse_line(const std::string& line) {
    Parsed p;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return p;
    auto seq = j.find("seq");
    auto prev = j.find("prev");
    if (seq == j.end() || !seq->is_number_unsigned() || prev == j.end() || !prev->is_string()) {
        return p;
    }
    p.seq = seq->get<uint64_t>();
    p.prev = prev->get<std::string>();
    p.ok = p.prev.size() == 64;
    return p;
}

VerifyResult fail(VerifyResult r, Problem p, uint64_t line, std::string reason) {
    r.ok = false;
    r.problem = p;
    r.line = line;
    r.reason = std::move(reason);
    return r;
}

std::string seq_str(uint64_t s) { return "seq " + std::to_string(s); }

}  // namespace

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(len * 2, '0');
    for (unsigned int k = 0; k < len; ++k) {
        out[2 * k] = kHex[md[k] >> 4];
        out[2 * k + 1] = kHex[md[k] & 15];
    }
    return out;
}

std::string format_time(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    int frac = static_cast<int>(ms % 1000);
    if (frac < 0) {
        frac += 1000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::array<char, 96> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf.data();
}

std::string format_line(const Record& r, uint64_t seq, std::string_view time,
                        std::string_view prev) {
    ojson j;
    j["seq"] = seq;
    j["time"] = time;
    j["request_id"] = r.request_id;
    j["key"] = r.key;
    j["route"] = r.route;
    j["model"] = r.model;
    j["required_tags"] = r.required_tags;
    ojson classes = ojson::object();
    for (const auto& [name, count] : r.data_classes) classes[name] = count;
    j["data_classes"] = std::move(classes);
    j["action"] = r.action;
    j["cost_usd"] = r.cost_usd;
    j["outcome"] = r.outcome;
    j["prev"] = prev;
    return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

// ---- writer -----------------------------------------------------------------------------------

AuditWriter::AuditWriter(Options options) : options_(std::move(options)) {
    if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
}

AuditWriter::~AuditWriter() {
    if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<AuditWriter> AuditWriter::open(Options options) {
    std::unique_ptr<AuditWriter> w(new AuditWriter(std::move(options)));
    const std::string& path = w->options_.path;
    w->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (w->fd_ < 0) throw ConfigError(os_error("audit log " + path, errno));
    struct stat st {};
    if (::fstat(w->fd_, &st) != 0) throw ConfigError(os_error("audit log " + path, errno));
    std::size_t size = static_cast<std::size_t>(st.st_size);
    if (size == 0) return w;
    // Read a growing tail until it holds the last complete line.
    std::string tail;
    std::size_t chunk = std::min<std::size_t>(size, 64 * 1024);
    std::size_t body = 0;   // bytes of the tail up to and including the last '\n'
    std::size_t start = 0;  // offset of the last complete line in the tail
    while (true) {
        if (!read_at(w->fd_, size - chunk, chunk, tail)) {
            throw ConfigError(os_error("audit log " + path + ": read", errno));
        }
        const std::size_t nl = tail.rfind('\n');
        const bool whole = chunk == size;
        if (nl == std::string::npos && !whole) {
            chunk = std::min(size, chunk * 2);
            continue;
        }
        body = nl == std::string::npos ? 0 : nl + 1;
        if (body >= 2) {
            const std::size_t before = tail.rfind('\n', body - 2);
            if (before == std::string::npos && !whole) {
                chunk = std::min(size, chunk * 2);
                continue;
            }
            start = before == std::string::npos ? 0 : before + 1;
        }
        break;
    }
    if (body < tail.size()) {  // a partial last line: cut it off
        w->repaired_ = tail.size() - body;
        size -= w->repaired_;
        if (::ftruncate(w->fd_, static_cast<off_t>(size)) != 0) {
            throw ConfigError(os_error("audit log " + path + ": truncate partial line", errno));
        }
    }
    if (body == 0) return w;  // nothing but a partial line: the chain starts at genesis
    const std::string last = tail.substr(start, body - 1 - start);
    Parsed p = parse_line(last);
    if (!p.ok) {
        throw ConfigError("audit log " + path +
                          ": last line is not an audit record; run `baton audit verify`");
    }
    w->head_ = Anchor{p.seq, sha256_hex(last)};
    return w;
}

boost::system::result<uint64_t, Error> AuditWriter::append(const Record& r) {
    std::lock_guard lock(mu_);
    const uint64_t seq = head_.seq + 1;
    std::string line = format_line(r, seq, format_time(options_.clock()), head_.hash);
    std::string hash = sha256_hex(line);
    line.push_back('\n');
    struct stat st {};
    const bool have_size = ::fstat(fd_, &st) == 0;
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = errno;
            if (have_size && done > 0) {
                (void)!::ftruncate(fd_, st.st_size);  // don't leave a partial line behind
            }
            return make_error(Errc::internal, os_error("audit log write", err));
        }
        done += static_cast<std::size_t>(n);
    }
    if (options_.fsync_each && ::fdatasync(fd_) != 0) {
        return make_error(Errc::internal, os_error("audit log fsync", errno));
    }
    head_ = Anchor{seq, std::move(hash)};
    return seq;
}

Anchor AuditWriter::head() const {
    std::lock_guard lock(mu_);
    return head_;
}

// ---- verifier ---------------------------------------------------------------------------------

std::string_view problem_name(Problem p) {
    switch (p) {
        case Problem::none:
            return "none";
        case Problem::io:
            return "io";
        case Problem::malformed:
            return "malformed";
        case Problem::edited:
            return "edited";
        case Problem::removed:
            return "removed";
        case Problem::inserted:
            return "inserted";
        case Problem::reordered:
            return "reordered";
        case Problem::truncated:
            return "truncated";
    }
    return "unknown";
}

std::string VerifyResult::to_string() const {
    if (ok) {
        return "ok: " + std::to_string(records) + " records, head " + seq_str(head.seq) + " " +
               head.hash;
    }
    return "line " + std::to_string(line) + ": " + std::string(problem_name(problem)) + ": " +
           reason;
}

VerifyResult verify(const std::string& path, const Anchor* expected) {
    VerifyResult r;
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(r, Problem::io, 0, os_error("cannot open " + path, errno));
    std::string line;
    uint64_t k = 0;
    Parsed prev_rec;                         // previous line (seq, prev)
    std::string prev_hash(kGenesis);         // hash of the previous line
    std::optional<uint64_t> suspect;         // line whose seq was wrong but chain was intact
    std::optional<std::string> anchor_hash;  // hash of the line with seq == expected->seq
    uint64_t anchor_line = 0;
    while (std::getline(in, line)) {
        ++k;
        const bool partial = in.eof();
        if (partial) {
            return fail(r, Problem::truncated, k, "incomplete last record (no newline)");
        }
        Parsed p = parse_line(line);
        if (!p.ok) return fail(r, Problem::malformed, k, "not an audit record");
        const uint64_t want_seq = prev_rec.seq + 1;
        const std::string hash = sha256_hex(line);
        if (suspect) {  // line k-1 chained correctly but carried the wrong seq
            if (p.prev == prev_rec.prev && k > 1) {
                return fail(r, Problem::inserted, *suspect,
                            "record not in the chain (the next line chains to the one before)");
            }
            return fail(r, Problem::edited, *suspect, "seq does not follow the previous record");
        }
        if (p.prev == prev_hash) {
            if (p.seq != want_seq) {
                suspect = k;  // decide with the next line: inserted or edited
            }
        } else if (k > 1 && hash == prev_hash) {
            return fail(r, Problem::inserted, k, "duplicate of the previous record (replayed)");
        } else if (k > 1 && p.prev == prev_rec.prev) {
            return fail(r, Problem::inserted, k - 1,
                        "record not in the chain (line " + std::to_string(k) +
                            " chains to the record before it)");
        } else if (p.seq == want_seq) {
            if (k == 1) return fail(r, Problem::edited, 1, "first record does not start the chain");
            return fail(r, Problem::edited, k - 1,
                        "record changed: its hash is not the prev of line " + std::to_string(k));
        } else if (p.seq > want_seq) {
            // Removed, unless the missing seqs show up later (then moved = reordered).
            std::string rest;
            while (std::getline(in, rest)) {
                Parsed q = parse_line(rest);
                if (q.ok && q.seq >= want_seq && q.seq < p.seq) {
                    return fail(r, Problem::reordered, k,
                                seq_str(p.seq) + " where " + seq_str(want_seq) + " was expected; " +
                                    seq_str(q.seq) + " comes later");
                }
            }
            return fail(r, Problem::removed, k,
                        "records " + seq_str(want_seq) + " to " + seq_str(p.seq - 1) +
                            " are missing before this line");
        } else {
            return fail(r, Problem::reordered, k,
                        seq_str(p.seq) + " after " + seq_str(prev_rec.seq));
        }
        if (expected != nullptr && p.seq == expected->seq) {
            anchor_hash = hash;
            anchor_line = k;
        }
        prev_rec = p;
        prev_hash = hash;
        r.records = k;
        r.head = Anchor{p.seq, hash};
    }
    if (suspect)
        return fail(r, Problem::edited, *suspect, "seq does not follow the previous record");
    if (expected != nullptr && expected->seq > 0) {
        if (r.head.seq < expected->seq) {
            return fail(r, Problem::truncated, k + 1,
                        "log ends at " + seq_str(r.head.seq) + " but the anchor is at " +
                            seq_str(expected->seq));
        }
        if (!anchor_hash || *anchor_hash != expected->hash) {
            return fail(r, Problem::edited, anchor_line,
                        "record " + seq_str(expected->seq) + " does not match the anchor hash");
        }
    }
    r.ok = true;
    return r;
}

}  // namespace baton::audit
