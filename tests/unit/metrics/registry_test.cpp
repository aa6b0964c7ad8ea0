#include "baton/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <vector>

namespace baton::metrics {
namespace {

TEST(MetricsRegistry, CounterAndGaugeRenderExactly) {
    Registry r;
    r.counter("baton_requests_total", "Requests handled.",
              {{"route", "default"}, {"status", "200"}})
        .inc(3);
    r.counter("baton_requests_total", "Requests handled.", {{"route", "cheap"}, {"status", "500"}})
        .inc();
    Gauge& g = r.gauge("baton_inflight", "In-flight requests.");
    g.add(5);
    g.sub(7);
    EXPECT_EQ(r.render(),
              "# HELP baton_inflight In-flight requests.\n"
              "# TYPE baton_inflight gauge\n"
              "baton_inflight -2\n"
              "# HELP baton_requests_total Requests handled.\n"
              "# TYPE baton_requests_total counter\n"
              "baton_requests_total{route=\"default\",status=\"200\"} 3\n"
              "baton_requests_total{route=\"cheap\",status=\"500\"} 1\n");
}

TEST(MetricsRegistry, ScaledCounterRendersFractions) {
    Registry r;
    Counter& c = r.scaled_counter("baton_cost_usd_total", "Spend.", {{"model", "m"}}, 1e-9);
    c.add(0.000125);
    c.add(0.5);
    EXPECT_EQ(c.value(), 500125000u);
    EXPECT_EQ(&c, &r.scaled_counter("baton_cost_usd_total", "Spend.", {{"model", "m"}}, 1e-9));
    EXPECT_THROW(r.scaled_counter("baton_cost_usd_total", "Spend.", {{"model", "m"}}, 1e-6),
                 std::logic_error);
    EXPECT_EQ(r.render(),
              "# HELP baton_cost_usd_total Spend.\n"
              "# TYPE baton_cost_usd_total counter\n"
              "baton_cost_usd_total{model=\"m\"} 0.500125\n");
}

TEST(MetricsRegistry, HistogramRendersCumulativeBuckets) {
    Registry r;
    Histogram& h =
        r.histogram("baton_latency_seconds", "Latency.", {{"model", "gpt"}}, {0.005, 0.1, 2.5});
    h.observe_seconds(0.001);
    h.observe_seconds(0.005);  // equal to a bound: in that bucket
    h.observe_seconds(0.05);
    h.observe_seconds(3);
    EXPECT_EQ(r.render(),
              "# HELP baton_latency_seconds Latency.\n"
              "# TYPE baton_latency_seconds histogram\n"
              "baton_latency_seconds_bucket{model=\"gpt\",le=\"0.005\"} 2\n"
              "baton_latency_seconds_bucket{model=\"gpt\",le=\"0.1\"} 3\n"
              "baton_latency_seconds_bucket{model=\"gpt\",le=\"2.5\"} 3\n"
              "baton_latency_seconds_bucket{model=\"gpt\",le=\"+Inf\"} 4\n"
              "baton_latency_seconds_sum{model=\"gpt\"} 3.056\n"
              "baton_latency_seconds_count{model=\"gpt\"} 4\n");
}

TEST(MetricsRegistry, HistogramWithoutLabels) {
    Registry r;
    Histogram& h = r.histogram("x_seconds", "X.", {}, {1, 2});
    h.observe_micros(1'500'000);
    EXPECT_EQ(r.render(),
              "# HELP x_seconds X.\n"
              "# TYPE x_seconds histogram\n"
              "x_seconds_bucket{le=\"1\"} 0\n"
              "x_seconds_bucket{le=\"2\"} 1\n"
              "x_seconds_bucket{le=\"+Inf\"} 1\n"
              "x_seconds_sum 1.5\n"
              "x_seconds_count 1\n");
}

TEST(MetricsRegistry, EmptyFamilyStillPrintsHelpAndType) {
    Registry r;
    r.histogram("a_seconds", "A.", {}, latency_buckets());
    r.counter("b_total", "B.");
    std::string out = r.render();
    EXPECT_NE(out.find("# HELP a_seconds A.\n# TYPE a_seconds histogram\n"), std::string::npos);
    EXPECT_NE(out.find("# HELP b_total B.\n# TYPE b_total counter\nb_total 0\n"),
              std::string::npos);

    Registry r2;
    EXPECT_THROW(r2.counter("bad-name", "x"), std::invalid_argument);
    EXPECT_EQ(r2.render(), "");
    EXPECT_THROW(r2.counter("c_total", "C.", {{"bad label", "x"}}), std::invalid_argument);
    EXPECT_EQ(r2.render(), "");
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
    Registry r;
    r.counter("esc_total", "Help with \\ backslash\nand newline \"quotes\" kept.",
              {{"v", "a\\b\"c\nd"}})
        .inc(2);
    EXPECT_EQ(r.render(),
              "# HELP esc_total Help with \\\\ backslash\\nand newline \"quotes\" kept.\n"
              "# TYPE esc_total counter\n"
              "esc_total{v=\"a\\\\b\\\"c\\nd\"} 2\n");
}

TEST(MetricsRegistry, GetOrCreateReturnsSameCell) {
    Registry r;
    Counter& a = r.counter("c_total", "C.", {{"x", "1"}, {"y", "2"}});
    Counter& b = r.counter("c_total", "C.", {{"x", "1"}, {"y", "2"}});
    Counter& reordered = r.counter("c_total", "C.", {{"y", "2"}, {"x", "1"}});
    Counter& other = r.counter("c_total", "C.", {{"x", "1"}, {"y", "3"}});
    EXPECT_EQ(&a, &b);
    EXPECT_EQ(&a, &reordered);
    EXPECT_NE(&a, &other);
    Gauge& g1 = r.gauge("g", "G.");
    EXPECT_EQ(&g1, &r.gauge("g", "G."));
    Histogram& h1 = r.histogram("h_seconds", "H.", {{"m", "a"}}, overhead_buckets());
    EXPECT_EQ(&h1, &r.histogram("h_seconds", "H.", {{"m", "a"}}, overhead_buckets()));
    EXPECT_NE(&h1, &r.histogram("h_seconds", "H.", {{"m", "b"}}, overhead_buckets()));
    EXPECT_EQ(&global(), &global());
}

TEST(MetricsRegistry, TypeConflictThrowsLogicError) {
    Registry r;
    r.counter("m", "M.");
    EXPECT_THROW(r.gauge("m", "M."), std::logic_error);
    EXPECT_THROW(r.histogram("m", "M.", {}, latency_buckets()), std::logic_error);
    r.histogram("h_seconds", "H.", {}, {1, 2});
    EXPECT_THROW(r.counter("h_seconds", "H."), std::logic_error);
    EXPECT_THROW(r.histogram("h_seconds", "H.", {}, {1, 3}), std::logic_error);
    EXPECT_THROW(r.histogram("h2_seconds", "H.", {{"le", "1"}}, {1}), std::invalid_argument);
}

TEST(MetricsRegistry, ConcurrentIncrementsSum) {
    Registry r;
    Counter& c = r.counter("conc_total", "C.");
    Gauge& g = r.gauge("conc_gauge", "G.");
    Histogram& h = r.histogram("conc_seconds", "H.", {}, latency_buckets());
    constexpr int kThreads = 4;
    constexpr int kIters = 100'000;
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t) {
        ts.emplace_back([&] {
            for (int i = 0; i < kIters; ++i) {
                // Re-lookup occasionally to exercise get-or-create under contention.
                Counter& cc = (i % 1000 == 0) ? r.counter("conc_total", "C.") : c;
                cc.inc();
                g.add(1);
                h.observe_seconds(0.001);
            }
        });
    }
    std::thread renderer([&] {
        for (int i = 0; i < 20; ++i) (void)r.render();
    });
    for (auto& t : ts) t.join();
    renderer.join();
    EXPECT_EQ(c.value(), uint64_t{kThreads} * kIters);
    EXPECT_EQ(g.value(), int64_t{kThreads} * kIters);
    EXPECT_EQ(h.count(), uint64_t{kThreads} * kIters);
    EXPECT_EQ(h.bucket_count(3), uint64_t{kThreads} * kIters);  // le=0.001
    EXPECT_DOUBLE_EQ(h.sum_seconds(), 0.001 * kThreads * kIters);
}

// Threads take shards in turn, so kShards threads update kShards different copies (no cache
// line shared between workers); more threads than shards share them, and every sum stays exact.
TEST(MetricsRegistry, ThreadsUpdateTheirOwnShardAndSumsStayExact) {
    std::vector<unsigned> seen;
    for (unsigned t = 0; t < kShards; ++t) {
        std::thread([&] { seen.push_back(detail::shard()); }).join();
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << "two threads, one shard";

    Registry r;
    Counter& c = r.counter("sharded_total", "C.");
    Histogram& h = r.histogram("sharded_seconds", "H.", {}, {0.001, 0.01});
    constexpr int kThreads = 2 * kShards + 1;
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t) {
        ts.emplace_back([&, t] {
            for (int i = 0; i < 1000; ++i) {
                c.inc(static_cast<uint64_t>(t + 1));
                h.observe_seconds(t % 2 ? 0.005 : 0.0005);
            }
        });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(c.value(), 1000u * kThreads * (kThreads + 1) / 2);
    EXPECT_EQ(h.count(), 1000u * kThreads);
    EXPECT_EQ(h.bucket_count(0), 1000u * ((kThreads + 1) / 2));  // even t: 0.5 ms
    EXPECT_EQ(h.bucket_count(1), 1000u * (kThreads / 2));        // odd t: 5 ms
    EXPECT_EQ(h.bucket_count(2), 0u);
    EXPECT_NEAR(h.sum_seconds(), 1000 * (0.0005 * ((kThreads + 1) / 2) + 0.005 * (kThreads / 2)),
                1e-9);
    const std::string text = r.render();
    EXPECT_NE(text.find("sharded_total " + std::to_string(c.value())), std::string::npos) << text;
}

TEST(MetricsHistogram, BucketBoundariesFollowLeSemantics) {
    Histogram h({0.001, 0.01, 0.1});
    h.observe_seconds(0.0);        // bucket 0
    h.observe_seconds(0.001);      // equal → bucket 0
    h.observe_seconds(0.0010001);  // bucket 1
    h.observe_seconds(0.01);       // bucket 1
    h.observe_seconds(0.1);        // bucket 2
    h.observe_seconds(0.1000001);  // +Inf
    h.observe_seconds(1e9);        // +Inf
    h.observe_seconds(-1);         // below everything: bucket 0, adds nothing to sum
    EXPECT_EQ(h.bucket_count(0), 3u);
    EXPECT_EQ(h.bucket_count(1), 2u);
    EXPECT_EQ(h.bucket_count(2), 1u);
    EXPECT_EQ(h.bucket_count(3), 2u);
    EXPECT_EQ(h.bucket_count(4), 0u);  // out of range
    EXPECT_EQ(h.count(), 8u);
}

TEST(MetricsHistogram, SumInNanoseconds) {
    Histogram h({1});
    h.observe_micros(250);
    h.observe_micros(750);
    EXPECT_DOUBLE_EQ(h.sum_seconds(), 0.001);
    h.observe_seconds(2.5);
    EXPECT_DOUBLE_EQ(h.sum_seconds(), 2.501);
}

TEST(MetricsHistogram, RejectsUnsortedBounds) {
    EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
    EXPECT_THROW(Histogram({2, 1}), std::invalid_argument);
    Histogram none({});
    none.observe_seconds(1);
    EXPECT_EQ(none.bucket_count(0), 1u);
}

TEST(MetricsHistogram, DefaultBucketsAreSortedAndRenderCompactly) {
    for (const auto* b : {&latency_buckets(), &overhead_buckets()}) {
        ASSERT_FALSE(b->empty());
        for (size_t i = 1; i < b->size(); ++i) EXPECT_LT((*b)[i - 1], (*b)[i]);
    }
    EXPECT_DOUBLE_EQ(latency_buckets().front(), 0.0001);
    EXPECT_DOUBLE_EQ(latency_buckets().back(), 120);
    EXPECT_DOUBLE_EQ(overhead_buckets().front(), 5e-6);
    EXPECT_DOUBLE_EQ(overhead_buckets().back(), 0.1);

    Registry r;
    r.histogram("o_seconds", "O.", {}, overhead_buckets());
    r.histogram("l_seconds", "L.", {}, latency_buckets());
    std::string out = r.render();
    for (const char* le : {"le=\"5e-06\"", "le=\"2.5e-05\"", "le=\"0.0001\"", "le=\"0.00025\"",
                           "le=\"0.025\"", "le=\"1\"", "le=\"2.5\"", "le=\"120\""}) {
        EXPECT_NE(out.find(le), std::string::npos) << le;
    }
    EXPECT_NE(out.find("l_seconds_sum 0\n"), std::string::npos);
}

}  // namespace
}  // namespace baton::metrics
