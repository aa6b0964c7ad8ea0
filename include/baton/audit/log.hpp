#pragma once
// Tamper-evident audit log: JSON lines, one record per request, each carrying the SHA-256 (hex)
// of the previous line's exact bytes in "prev" (the first record: 64 zeros). Editing, removing,
// inserting or reordering a record breaks the chain at the next line; verify() reports the first
// bad line and why. Editing or removing the *last* records is only detectable against an anchor
// (AuditWriter::head(), exported elsewhere), and anyone able to rewrite the whole file can
// recompute the chain: see docs/security.md.
//
// Line format (keys always in this order):
//   {"seq":1,"time":"2026-11-27T15:04:05.123Z","request_id":"...","key":"team-a","route":"chat",
//    "model":"gpt-4o-mini","required_tags":["eu"],"data_classes":{"email":2},"action":"redact",
//    "cost_usd":0.00042,"outcome":"ok","prev":"000...000"}
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "baton/core/error.hpp"

namespace baton::audit {

inline constexpr std::string_view kGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct Record {
    std::string request_id;
    std::string key;  // key name, never the key itself
    std::string route;
    std::string model;
    std::vector<std::string> required_tags;
    std::map<std::string, uint32_t> data_classes;  // class -> count ("email" -> 2)
    std::string action;                            // allow | redact | route | block | ...
    double cost_usd = 0;
    std::string outcome;  // ok | error:<type> | blocked | ...
};

// Last record of a chain: what a verifier needs to detect truncation or an edited tail.
struct Anchor {
    uint64_t seq = 0;            // 0: empty log
    std::string hash{kGenesis};  // SHA-256 hex of the last line
    bool operator==(const Anchor&) const = default;
};

// SHA-256 of `data` as 64 lower-case hex characters.
std::string sha256_hex(std::string_view data);

// One record as its JSON line (without the newline).
std::string format_line(const Record& r, uint64_t seq, std::string_view time,
                        std::string_view prev);

// RFC 3339 UTC with milliseconds: "2026-11-27T15:04:05.123Z".
std::string format_time(std::chrono::system_clock::time_point t);

class AuditWriter {
  public:
    struct Options {
        std::string path;
        bool fsync_each = false;  // fsync after every record (durable, slower)
        std::function<std::chrono::system_clock::time_point()> clock;  // default: system_clock
    };

    // Opens (creating with mode 0640 if needed) and continues an existing chain from its last
    // line. A partial last line (crash mid-write) is cut off; repaired_bytes() tells how much.
    // Throws baton::ConfigError when the file can't be opened or its last line is not a record.
    static std::unique_ptr<AuditWriter> open(Options options);
    ~AuditWriter();
    AuditWriter(const AuditWriter&) = delete;
    AuditWriter& operator=(const AuditWriter&) = delete;

    // Appends one record (seq, time and prev filled in) with a single write(2); thread-safe.
    // Returns the record's seq, or Errc::internal with the OS error. Blocking file I/O: call it
    // off the event loop.
    boost::system::result<uint64_t, Error> append(const Record& r);

    Anchor head() const;
    std::size_t repaired_bytes() const { return repaired_; }
    const std::string& path() const { return options_.path; }

  private:
    explicit AuditWriter(Options options);

    Options options_;
    int fd_ = -1;
    mutable std::mutex mu_;
    Anchor head_;
    std::size_t repaired_ = 0;
};

enum class Problem : uint8_t {
    none,
    io,         // can't read the file
    malformed,  // not a JSON record with the expected fields (edited by hand, or garbage)
    edited,     // a record's bytes changed
    removed,    // records missing (seq jumps forward)
    inserted,   // a record that does not belong (duplicate seq)
    reordered,  // records out of order
    truncated,  // partial last line, or fewer records than the anchor says
};

struct VerifyResult {
    bool ok = false;
    Problem problem = Problem::none;
    uint64_t line = 0;              // first bad line (1-based); 0 when ok
    std::string reason;             // human-readable, names lines and seqs (no record contents)
    uint64_t records = 0;           // lines read
    Anchor head;                    // last line's seq and hash (as read)
    std::string to_string() const;  // "ok: 12 records, head seq 12 <hash>" / "line 7: ..."
};

// Verifies the chain of the file at `path`. With `expected`, also checks that the log ends at
// that anchor (detects truncation and edits of the last record).
VerifyResult verify(const std::string& path, const Anchor* expected = nullptr);

std::string_view problem_name(Problem p);

}  // namespace baton::audit
