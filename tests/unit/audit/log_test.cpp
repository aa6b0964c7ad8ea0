// Audit chain: writer, reopen, and verify() against edits, removal, reorder, insertion, truncation.
#include "baton/audit/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace baton::audit {
namespace {

namespace fs = std::filesystem;

class AuditLogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        static std::atomic<int> counter{0};
        path_ = (fs::temp_directory_path() / ("baton-audit-" + std::to_string(::getpid()) + "-" +
                                              std::to_string(counter++) + ".jsonl"))
                    .string();
        fs::remove(path_);
    }
    void TearDown() override { fs::remove(path_); }

    static Record record(int k) {
        Record r;
        r.request_id = "req-" + std::to_string(k);
        r.key = "team-a";
        r.route = "chat";
        r.model = "gpt-4o-mini";
        r.required_tags = {"eu"};
        r.data_classes = {{"email", 1}};
        r.action = "redact";
        r.cost_usd = 0.001 * k;
        r.outcome = "ok";
        return r;
    }

    AuditWriter::Options options() {
        AuditWriter::Options o;
        o.path = path_;
        o.clock = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(0)); };
        return o;
    }

    Anchor write(int n) {
        auto w = AuditWriter::open(options());
        for (int k = 1; k <= n; ++k) EXPECT_EQ(*w->append(record(k)), static_cast<uint64_t>(k));
        return w->head();
    }

    std::vector<std::string> lines() {
        std::ifstream in(path_);
        std::vector<std::string> out;
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    }

    void put(const std::vector<std::string>& ls, bool final_newline = true) {
        std::ofstream out(path_, std::ios::trunc | std::ios::binary);
        for (std::size_t k = 0; k < ls.size(); ++k) {
            out << ls[k];
            if (k + 1 < ls.size() || final_newline) out << '\n';
        }
    }

    std::string path_;
};

TEST_F(AuditLogTest, FormatIsFixed) {
    EXPECT_EQ(format_time(
                  std::chrono::system_clock::time_point(std::chrono::milliseconds(1795791845123))),
              "2026-11-27T15:04:05.123Z");
    EXPECT_EQ(format_line(record(2), 7, "T", kGenesis),
              "{\"seq\":7,\"time\":\"T\",\"request_id\":\"req-2\",\"key\":\"team-a\","
              "\"route\":\"chat\",\"model\":\"gpt-4o-mini\",\"required_tags\":[\"eu\"],"
              "\"data_classes\":{\"email\":1},\"action\":\"redact\",\"cost_usd\":0.002,"
              "\"outcome\":\"ok\",\"prev\":\"" +
                  std::string(kGenesis) + "\"}");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(AuditLogTest, ChainVerifiesAndContinuesAfterReopen) {
    Anchor a = write(3);
    EXPECT_EQ(a.seq, 3u);
    auto ls = lines();
    ASSERT_EQ(ls.size(), 3u);
    EXPECT_NE(ls[0].find("\"prev\":\"" + std::string(kGenesis) + "\""), std::string::npos);
    EXPECT_NE(ls[1].find(sha256_hex(ls[0])), std::string::npos);
    {
        auto w = AuditWriter::open(options());
        EXPECT_EQ(w->head(), a);
        EXPECT_EQ(*w->append(record(4)), 4u);
        a = w->head();
    }
    VerifyResult v = verify(path_, &a);
    EXPECT_TRUE(v.ok) << v.to_string();
    EXPECT_EQ(v.records, 4u);
    EXPECT_EQ(v.head, a);
    EXPECT_EQ(v.to_string().rfind("ok: 4 records", 0), 0u);
}

TEST_F(AuditLogTest, EmptyLogVerifies) {
    write(0);
    VerifyResult v = verify(path_);
    EXPECT_TRUE(v.ok);
    EXPECT_EQ(v.records, 0u);
    EXPECT_EQ(verify(path_ + ".missing").problem, Problem::io);
}

TEST_F(AuditLogTest, DetectsEdit) {
    write(5);
    auto ls = lines();
    ls[2].replace(ls[2].find("0.003"), 5, "0.000");
    put(ls);
    VerifyResult v = verify(path_);
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.problem, Problem::edited);
    EXPECT_EQ(v.line, 3u);
    EXPECT_EQ(v.to_string().rfind("line 3: edited", 0), 0u) << v.to_string();
}

TEST_F(AuditLogTest, DetectsEditOfFirstRecordsPrev) {
    write(2);
    auto ls = lines();
    ls[0].replace(ls[0].find(kGenesis), 1, "1");
    put(ls);
    VerifyResult v = verify(path_);
    EXPECT_EQ(v.problem, Problem::edited);
    EXPECT_EQ(v.line, 1u);
}

TEST_F(AuditLogTest, DetectsRemoval) {
    write(5);
    auto ls = lines();
    ls.erase(ls.begin() + 2);  // seq 3
    put(ls);
    VerifyResult v = verify(path_);
    EXPECT_EQ(v.problem, Problem::removed) << v.to_string();
    EXPECT_EQ(v.line, 3u);
    EXPECT_NE(v.reason.find("seq 3 to seq 3"), std::string::npos) << v.reason;
}

TEST_F(AuditLogTest, DetectsRemovalOfFirstRecord) {
    write(3);
    auto ls = lines();
    ls.erase(ls.begin());
    put(ls);
    VerifyResult v = verify(path_);
    EXPECT_EQ(v.problem, Problem::removed);
    EXPECT_EQ(v.line, 1u);
}

TEST_F(AuditLogTest, DetectsReorder) {
    write(5);
    auto ls = lines();
    std::swap(ls[1], ls[2]);
    put(ls);
    VerifyResult v = verify(path_);
    EXPECT_EQ(v.problem, Problem::reordered) << v.to_string();
    EXPECT_EQ(v.line, 2u);
    // Moving a record later: seq goes backwards.
    write(0);
    fs::remove(path_);
    write(5);
    ls = lines();
    std::string moved = ls[0];
    ls.erase(ls.begin());
    ls.insert(ls.begin() + 3, moved);
    put(ls);
    v = verify(path_);
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.line, 1u) << v.to_string();  // line 1 no longer starts the chain
}

TEST_F(AuditLogTest, DetectsInsertion) {
    write(4);
    auto ls = lines();
    // A forged record that chains correctly to line 2 and takes seq 3.
    std::string forged = format_line(record(99), 3, "T", sha256_hex(ls[1]));
    ls.insert(ls.begin() + 2, forged);
    put(ls);
    VerifyResult v = verify(path_);
    EXPECT_EQ(v.problem, Problem::inserted) << v.to_string();
    EXPECT_EQ(v.line, 3u);
    // Same, with a seq that does not even follow.
    ls = lines();
    ls[2] = format_line(record(99), 42, "T", sha256_hex(ls[1]));
    put(ls);
    v = verify(path_);
    EXPECT_EQ(v.problem, Problem::inserted) << v.to_string();
    EXPECT_EQ(v.line, 3u);
    // A copy of an existing record appended again (replay).
    write(0);
    fs::remove(path_);
    write(3);
    ls = lines();
    ls.insert(ls.begin() + 2, ls[1]);
    put(ls);
    v = verify(path_);
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.line, 3u) << v.to_string();
}

TEST_F(AuditLogTest, DetectsTruncationAndTailEditsWithAnchor) {
    Anchor a = write(4);
    auto ls = lines();
    put(ls, false);  // last newline missing: interrupted write
    EXPECT_EQ(verify(path_).problem, Problem::truncated);
    ls.pop_back();
    put(ls);
    EXPECT_TRUE(verify(path_).ok);  // without an anchor a clean cut is invisible
    VerifyResult v = verify(path_, &a);
    EXPECT_EQ(v.problem, Problem::truncated) << v.to_string();
    EXPECT_EQ(v.line, 4u);
    fs::remove(path_);
    a = write(4);
    ls = lines();
    ls[3].replace(ls[3].find("\"ok\""), 4, "\"no\"");
    put(ls);
    EXPECT_TRUE(verify(path_).ok);
    v = verify(path_, &a);
    EXPECT_EQ(v.problem, Problem::edited);
    EXPECT_EQ(v.line, 4u);
}

TEST_F(AuditLogTest, DetectsGarbage) {
    write(3);
    auto ls = lines();
    ls[1] = "{not json";
    put(ls);
    VerifyResult v = verify(path_);
    EXPECT_EQ(v.problem, Problem::malformed);
    EXPECT_EQ(v.line, 2u);
}

TEST_F(AuditLogTest, OpenRepairsPartialLastLine) {
    write(2);
    {
        std::ofstream out(path_, std::ios::app | std::ios::binary);
        out << "{\"seq\":3,\"ti";
    }
    auto w = AuditWriter::open(options());
    EXPECT_EQ(w->repaired_bytes(), 12u);
    EXPECT_EQ(w->head().seq, 2u);
    EXPECT_EQ(*w->append(record(3)), 3u);
    w.reset();
    EXPECT_TRUE(verify(path_).ok);
}

TEST_F(AuditLogTest, OpenRejectsForeignLastLine) {
    put({"hello"});
    EXPECT_THROW(AuditWriter::open(options()), ConfigError);
    AuditWriter::Options o;
    o.path = "/nonexistent-dir/audit.jsonl";
    EXPECT_THROW(AuditWriter::open(o), ConfigError);
}

TEST_F(AuditLogTest, ConcurrentAppendsFormOneChain) {
    auto w = AuditWriter::open(options());
    constexpr int kThreads = 8;
    constexpr int kEach = 150;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int k = 0; k < kEach; ++k) ASSERT_TRUE(w->append(record(t * 1000 + k)));
        });
    }
    for (auto& t : threads) t.join();
    Anchor a = w->head();
    EXPECT_EQ(a.seq, static_cast<uint64_t>(kThreads * kEach));
    VerifyResult v = verify(path_, &a);
    EXPECT_TRUE(v.ok) << v.to_string();
    EXPECT_EQ(v.records, static_cast<uint64_t>(kThreads * kEach));
}

}  // namespace
}  // namespace baton::audit
