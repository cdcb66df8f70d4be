// GET /api/v1/deposits at 1,000,000 deposits (issue 10): latency of
// api::Handler::handle (routing, auth, validation, SQL, JSON) per filter
// combination, offset pages and keyset cursors; p50/p99/max in counters.
//
// The database is built once (a minute or so) and kept for later runs:
//   $TMPDIR/depositd-bench-deposits-1m.sqlite (DEPOSITD_BENCH_DEPOSITS_DB overrides)
// Usage: build-release/bench/deposits_list_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "api/handler.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "store/store.hpp"
#include "store/database.hpp"

using namespace depositd;

namespace {

constexpr int kDeposits = 1'000'000;
constexpr int kReferences = 200'000;
const char* const kKey = "bench-key-0123456789abcdef";

std::string db_path() {
    if (const char* p = std::getenv("DEPOSITD_BENCH_DEPOSITS_DB")) return p;
    return (std::filesystem::temp_directory_path() / "depositd-bench-deposits-1m.sqlite").string();
}

std::int64_t scalar(store::Database& db, const std::string& sql) {
    auto q = db.prepare(sql);
    auto r = q.step();
    if (!r || !*r) std::abort();
    return q.int64(0);
}

// 1 M deposits over ~3 chains, 3 currencies a chain, 95% confirmed / 4%
// pending / 1% reverted, 200k references (10% of deposits without one),
// blocks of 1-5 deposits sharing detected_at (ties).
void build(store::Database& db) {
    std::fprintf(stderr, "building %s with %d deposits...\n", db_path().c_str(), kDeposits);
    const auto t0 = std::chrono::steady_clock::now();
    struct Chain {
        const char* id;
        const char* currencies[3];
    };
    const Chain chains[] = {{"ethereum", {"ETH", "USDT", "USDC"}}, {"bsc", {"BNB", "USDT", "USDC"}},
                            {"tron", {"TRX", "USDT", "USDC"}}};
    std::mt19937_64 rng(42);
    std::int64_t detected = 1'700'000'000'000;
    int in_block = 0;
    for (int i = 0; i < kDeposits;) {
        store::Transaction tx(db);
        if (!tx.begun()) std::abort();
        for (int k = 0; k < 50'000 && i < kDeposits; ++k, ++i) {
            if (in_block == 0) {
                detected += 1000 + static_cast<std::int64_t>(rng() % 5000);
                in_block = 1 + static_cast<int>(rng() % 5);
            }
            --in_block;
            const Chain& c = chains[rng() % 3];
            const char* currency = c.currencies[rng() % 3];
            const unsigned s = static_cast<unsigned>(rng() % 100);
            const char* status = s < 95 ? "confirmed" : s < 99 ? "pending" : "reverted";
            const std::string tx_hash = "0x" + std::to_string(i);
            const std::string block_hash = "0xb" + std::to_string(detected);
            auto q = db.prepare(
                "INSERT INTO deposits (id, chain_id, tx_hash, idx, block_hash, block_number, address, reference, "
                "currency, raw_amount, decimals, from_address, confirmations, required_confirmations, status, "
                "detected_at, confirmed_at) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, '1000000', 6, '0xfrom', 12, "
                "12, ?9, ?10, ?11)");
            q.bind(1, deposit_id(c.id, tx_hash, 0, block_hash)).bind(2, c.id).bind(3, tx_hash).bind(4, block_hash);
            q.bind(5, static_cast<std::int64_t>(i / 3)).bind(6, "0xaddr" + std::to_string(rng() % 500'000));
            if (rng() % 10) q.bind(7, "ref_" + std::to_string(rng() % kReferences));
            else q.bind_null(7);
            q.bind(8, currency).bind(9, status).bind(10, detected);
            if (s < 95) q.bind(11, detected + 60'000);
            else q.bind_null(11);
            if (!q.run()) std::abort();
        }
        if (!tx.commit()) std::abort();
    }
    if (!db.exec("PRAGMA wal_checkpoint(TRUNCATE)")) std::abort();
    std::fprintf(stderr, "built in %.1f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

struct Fixture {
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::Store> st;  // what the daemon's handler reads through
    config::Config cfg;
    SystemClock clock;
    std::unique_ptr<api::Handler> handler;

    Fixture() {
        log::set_level("warn");
        auto opened = store::Database::open(db_path());
        if (!opened || !(*opened)->migrate()) std::abort();
        db = std::move(*opened);
        if (scalar(*db, "SELECT count(*) FROM deposits") != kDeposits) {
            if (!db->exec("DELETE FROM deposits")) std::abort();
            build(*db);
        }
        cfg.api.keys = {kKey};
        config::ChainConfig c;
        c.id = "ethereum";
        cfg.chains.push_back(c);
        auto opened_store = store::Store::open(db_path());
        if (!opened_store) std::abort();
        st = std::move(*opened_store);
        handler = std::make_unique<api::Handler>(*st, cfg, clock);
    }

    api::Response get(const std::string& target) {
        api::Request r;
        r.method = "GET";
        r.target = target;
        r.authorization = std::string("Bearer ") + kKey;
        return handler->handle(r);
    }
};

double thread_cpu_us() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

Fixture& fixture() {
    static Fixture f;
    return f;
}

// Runs targets[i % n] per iteration; latency percentiles in microseconds.
void measure(benchmark::State& state, const std::vector<std::string>& targets) {
    auto& f = fixture();
    for (const auto& t : targets) {
        auto r = f.get(t);  // warm the page cache the way a running daemon has it
        if (r.status != 200) {
            state.SkipWithError(("status " + std::to_string(r.status) + " for " + t + ": " + r.body).c_str());
            return;
        }
    }
    // Wall time per request, and this thread's CPU time per request (what the
    // request costs, without the waits a loaded machine adds).
    std::vector<double> us, cpu_us;
    us.reserve(static_cast<std::size_t>(state.max_iterations));
    cpu_us.reserve(static_cast<std::size_t>(state.max_iterations));
    std::size_t i = 0, bytes = 0;
    for (auto _ : state) {
        const double c0 = thread_cpu_us();
        const auto t0 = std::chrono::steady_clock::now();
        auto r = f.get(targets[i++ % targets.size()]);
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        cpu_us.push_back(thread_cpu_us() - c0);
        bytes += r.body.size();
        benchmark::DoNotOptimize(r);
    }
    std::sort(us.begin(), us.end());
    std::sort(cpu_us.begin(), cpu_us.end());
    auto pct = [](const std::vector<double>& v, double p) {
        return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
    };
    state.counters["p50_us"] = pct(us, 0.50);
    state.counters["p99_us"] = pct(us, 0.99);
    state.counters["max_us"] = us.back();
    state.counters["cpu_p50_us"] = pct(cpu_us, 0.50);
    state.counters["cpu_p99_us"] = pct(cpu_us, 0.99);
    state.counters["body_bytes"] = static_cast<double>(bytes) / static_cast<double>(us.size());
}

std::vector<std::string> with_references(const std::string& base, int n) {
    std::vector<std::string> out;
    std::mt19937 rng(7);
    for (int i = 0; i < n; ++i)
        out.push_back(base + (base.find('?') == std::string::npos ? "?" : "&") + "depositReference=ref_" +
                      std::to_string(rng() % kReferences));
    return out;
}

// nextCursor values found by walking `base` `pages` pages deep, every `step`th kept.
std::vector<std::string> deep_cursors(const std::string& base, int pages, int step) {
    auto& f = fixture();
    std::vector<std::string> out;
    std::string cursor;
    for (int p = 1; p <= pages; ++p) {
        auto r = f.get(base + (cursor.empty() ? "" : "&cursor=" + cursor));
        auto v = json::parse(r.body);
        const auto& next = v.at("data").at("pagination").at("nextCursor");
        if (next.is_null()) break;
        cursor = std::string(next.as_string());
        if (p % step == 0) out.push_back(base + "&cursor=" + cursor);
    }
    return out;
}

#define DEPOSITS_BENCH(name, ...)                                                       \
    void name(benchmark::State& state) { measure(state, __VA_ARGS__); }                  \
    BENCHMARK(name)->Iterations(2000)->Unit(benchmark::kMicrosecond)

DEPOSITS_BENCH(BM_List_NoFilter, {"/api/v1/deposits"});
DEPOSITS_BENCH(BM_List_NoFilter_Limit100, {"/api/v1/deposits?limit=100"});
DEPOSITS_BENCH(BM_List_StatusPending, {"/api/v1/deposits?status=pending"});
DEPOSITS_BENCH(BM_List_StatusReverted, {"/api/v1/deposits?status=reverted"});
DEPOSITS_BENCH(BM_List_ChainStatus, {"/api/v1/deposits?chainId=tron&status=pending"});
DEPOSITS_BENCH(BM_List_ChainCurrencyStatus, {"/api/v1/deposits?chainId=bsc&currency=USDC&status=reverted"});
DEPOSITS_BENCH(BM_List_CurrencyStatus_Limit100, {"/api/v1/deposits?currency=USDT&status=confirmed&limit=100"});
DEPOSITS_BENCH(BM_List_Reference, with_references("/api/v1/deposits", 500));
DEPOSITS_BENCH(BM_List_ReferenceStatus, with_references("/api/v1/deposits?status=confirmed", 500));
DEPOSITS_BENCH(BM_List_KeysetDeep_Limit100, deep_cursors("/api/v1/deposits?status=confirmed&limit=100", 2000, 10));
DEPOSITS_BENCH(BM_List_Page100_Limit100, {"/api/v1/deposits?page=100&limit=100"});

// Offset pages cost the offset: shown for comparison with the cursor.
void BM_List_Page1000_Limit100(benchmark::State& state) { measure(state, {"/api/v1/deposits?page=1000&limit=100"}); }
BENCHMARK(BM_List_Page1000_Limit100)->Iterations(100)->Unit(benchmark::kMicrosecond);

// Round 1's statement, (?N IS NULL OR col = ?N) with a count(*), for comparison.
void BM_Round1Statement_StatusPending(benchmark::State& state) {
    auto& f = fixture();
    const char* where =
        "WHERE (?1 IS NULL OR reference = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR chain_id = ?3) "
        "AND (?4 IS NULL OR currency = ?4) AND (?5 IS NULL OR address_id = ?5) ";
    std::vector<double> us;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        {
            auto c = f.db->prepare(std::string("SELECT count(*) FROM deposits NOT INDEXED ") + where);
            c.bind(2, "pending");
            benchmark::DoNotOptimize(c.step());
        }
        {
            auto s = f.db->prepare(std::string("SELECT id, detected_at FROM deposits NOT INDEXED ") + where +
                                   "ORDER BY detected_at DESC, id LIMIT 20 OFFSET 0");
            s.bind(2, "pending");
            while (true) {
                auto r = s.step();
                if (!r || !*r) break;
            }
        }
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    state.counters["p50_us"] = us[us.size() / 2];
    state.counters["max_us"] = us.back();
}
BENCHMARK(BM_Round1Statement_StatusPending)->Iterations(5)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
