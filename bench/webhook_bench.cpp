// Webhook benchmarks: signing cost, outbox insert rate, and signed
// deliveries per second from the Dispatcher to a local keep-alive receiver
// (bench/raw_sink.hpp, and tests/unit/webhook_receiver.hpp's Beast server;
// both on 127.0.0.1, every signature verified after the timed part).
//
// The store is SQLite by default; DEPOSITD_BENCH_STORE=postgresql gives each
// benchmark a fresh database of a throwaway PostgreSQL 15 cluster
// (tests/unit/test_store.hpp, started at the first use, removed at exit).
// Every store benchmark labels its result with the backend.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#ifndef DEPOSITD_SOURCE_DIR  // bench/CMakeLists.txt defines it; the fixtures' grandparent otherwise
#define DEPOSITD_SOURCE_DIR DEPOSITD_FIXTURES "/../.."
#endif
#include "../tests/unit/test_store.hpp"
#include "../tests/unit/webhook_receiver.hpp"
#include "raw_sink.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "net/http_client.hpp"
#include "store/database.hpp"
#include "store/store.hpp"
#include "store/events.hpp"
#include "webhook/dispatcher.hpp"
#include "webhook/signing.hpp"

using namespace depositd;

namespace {

const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// A deposit.confirmed body of a realistic size (~700 bytes).
std::string payload(const std::string& id, const std::string& dep) {
    return R"({"id":")" + id + R"(","type":"deposit.confirmed","createdAt":"2026-11-22T00:17:16.123Z","data":{"id":")" +
           dep +
           R"(","depositReference":"player_42","address":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","chainId":"ethereum","currency":"USDT","contract":"0xdAC17F958D2ee523a2206206994597C13D831ec7","amount":"125.5","rawAmount":"125500000","decimals":6,"txHash":"0x6f2a6d0c2b6b7f8e3c9f4d1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e","index":7,"from":"0x742d35Cc6634C0532925a3b844Bc454e4438f44e","blockNumber":19000000,"blockHash":"0x88e96d4537bea4d9c05d12549907b32561d3bf31f45aae734cdc119f13406cb6","confirmations":12,"requiredConfirmations":12,"status":"confirmed","detectedAt":"2026-11-22T00:15:01.000Z","confirmedAt":"2026-11-22T00:17:16.123Z"}})";
}

struct TempDir {
    std::filesystem::path dir;
    TempDir() {
        static int n = 0;
        dir = std::filesystem::temp_directory_path() /
              ("depositd-webhook-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        std::filesystem::create_directories(dir);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

// CPU seconds per thread name (/proc/self/task/*/comm and stat's utime +
// stime): where a benchmark's time goes, the timed part alone by difference.
std::map<std::string, double> thread_cpu() {
    std::map<std::string, double> out;
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream comm(task.path() / "comm"), stat(task.path() / "stat");
        std::string name, line;
        if (!std::getline(comm, name) || !std::getline(stat, line)) continue;
        // Fields after the ")" that closes the name: state is field 3, utime 14, stime 15.
        std::istringstream rest(line.substr(line.rfind(')') + 2));
        std::string field;
        double utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stod(field);
            if (i == 15) stime = std::stod(field);
        }
        out[name] += (utime + stime) / tick;
    }
    return out;
}

// The whole machine's CPU time in seconds from /proc/stat: busy (user,
// system, interrupts, softirqs: the loopback's TCP work too) and waiting for
// the disk. Whether a run was CPU-bound: busy cores = busy / wall time.
struct MachineCpu {
    double busy = 0, iowait = 0;
};
MachineCpu machine_cpu() {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return {(user + nice + system + irq + softirq + steal) / tick, iowait / tick};
}

// perf record -D -1 --control=fifo:CTL,ACK with DEPOSITD_BENCH_PERF_CTL=CTL
// and DEPOSITD_BENCH_PERF_ACK=ACK: samples are taken in timed parts only
// (BM_SignedDeliveries), not while the next round's events are inserted.
class PerfControl {
public:
    PerfControl() {
        const char* ctl = std::getenv("DEPOSITD_BENCH_PERF_CTL");
        const char* ack = std::getenv("DEPOSITD_BENCH_PERF_ACK");
        if (!ctl || !ack) return;
        ctl_ = std::fopen(ctl, "w");
        ack_ = std::fopen(ack, "r");
    }
    ~PerfControl() {
        if (ctl_) std::fclose(ctl_);
        if (ack_) std::fclose(ack_);
    }
    void enable() { send("enable"); }
    void disable() { send("disable"); }

private:
    void send(const char* what) {
        if (!ctl_ || !ack_) return;
        std::fprintf(ctl_, "%s\n", what);
        std::fflush(ctl_);
        char line[16];
        (void)std::fgets(line, sizeof line, ack_);  // "ack": perf has done it
    }
    std::FILE* ctl_ = nullptr;
    std::FILE* ack_ = nullptr;
};

PerfControl& perf_control() {
    static PerfControl p;
    return p;
}

bool postgres() {
    const char* e = std::getenv("DEPOSITD_BENCH_STORE");
    return e && std::string(e) == "postgresql";
}

const char* backend() { return postgres() ? "postgresql" : "sqlite"; }

// Where a benchmark's store lives: a SQLite file in `t`, or (with
// DEPOSITD_BENCH_STORE=postgresql) a fresh PostgreSQL database's URL.
std::string location(const TempDir& t) {
    if (!postgres()) return (t.dir / "bench.sqlite").string();
    auto& c = test_store::cluster();  // throws (ends the bench) without PostgreSQL
    return c.url(c.create_database());
}

std::unique_ptr<store::Database> open_db(const std::string& where) {
    auto db = store::Database::open_location(where);
    if (!db || !(*db)->migrate()) std::abort();
    return std::move(*db);
}

void add_deposit(store::Database& db, const std::string& id) {
    auto q = db.prepare(
        "INSERT INTO deposits (id, chain_id, tx_hash, idx, block_hash, block_number, address, currency, "
        "raw_amount, decimals, confirmations, required_confirmations, status, detected_at) "
        "VALUES (?1, 'ethereum', ?1, 0, '0xb', 1, '0xaddr', 'USDT', '125500000', 6, 12, 12, 'confirmed', 0)");
    q.bind(1, id);
    if (!q.run()) std::abort();
}

// DEPOSITD_BENCH_PG_STATS=1 on a cluster that loads pg_stat_statements
// (bench/pg_stats_bin.sh): the statements the server spent its time on.
bool pg_stats() {
    const char* e = std::getenv("DEPOSITD_BENCH_PG_STATS");
    return postgres() && e && std::string(e) == "1";
}

// The superuser's session on a benchmark's database (the tests' role may not
// create the extension nor read other roles' statements).
std::unique_ptr<store::Database> pg_stats_session(const std::string& url) {
    auto db = store::Database::open_location(test_store::cluster().admin_url_of(url.substr(url.rfind('/') + 1)));
    if (!db) std::abort();
    Status s = (*db)->exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    if (s) s = (*db)->exec("SELECT pg_stat_statements_reset()");
    if (!s)
        std::fprintf(stderr, "pg_stat_statements: %s (DEPOSITD_PG_BIN=$(bench/pg_stats_bin.sh) loads it)\n",
                     s.error().describe().c_str());
    return std::move(*db);
}

void pg_stats_print(store::Database& db, const std::string& what, double items) {
    auto q = db.prepare(
        "SELECT calls, (total_exec_time * 1000)::bigint, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) "
        "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "ORDER BY total_exec_time DESC LIMIT 10");
    std::fprintf(stderr, "%s: server time by statement (µs per delivery, calls, rows)\n", what.c_str());
    for (;;) {
        auto r = q.step();
        if (!r || !*r) break;
        const double ms = static_cast<double>(q.int64(1)) / 1000;
        std::fprintf(stderr, "  %7.1f µs %7lld calls %7lld rows  %s\n", ms * 1000 / items,
                     static_cast<long long>(q.int64(0)), static_cast<long long>(q.int64(2)), q.text(3).c_str());
    }
}

void BM_SignEvent(benchmark::State& state) {
    auto signer = webhook::Signer::create({kSecret});
    std::string body = payload("evt_0123456789abcdef01234567", "dep_0123456789abcdef01234567");
    for (auto _ : state) {
        benchmark::DoNotOptimize(signer->signature("evt_0123456789abcdef01234567", 1795306636, body));
        benchmark::DoNotOptimize(signer->payin(body));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignEvent);

// Outbox inserts, `batch` events (with their deposit rows) per transaction,
// as the scanner commits a block.
void BM_OutboxInsert(benchmark::State& state) {
    const int batch = static_cast<int>(state.range(0));
    TempDir t;
    auto db = open_db(location(t));
    state.SetLabel(backend());
    std::int64_t n = 0;
    for (auto _ : state) {
        store::Transaction tx(*db);
        for (int i = 0; i < batch; ++i, ++n) {
            std::string dep = "dep_" + std::to_string(n);
            add_deposit(*db, dep);
            std::string id = event_id(dep, "deposit.confirmed");
            store::NewEvent e{id, dep, "deposit.confirmed", payload(id, dep), 1'700'000'000'000 + n};
            if (!store::insert_event(*db, e)) std::abort();
        }
        if (!tx.commit()) std::abort();
    }
    state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_OutboxInsert)->Arg(1)->Arg(100);

// One claim of 32 due events (and their release, so every round finds the
// same outbox) with `backlog` events due: a claim must cost the events it
// takes, not the backlog (a receiver back after a long pause). PostgreSQL's
// statistics are taken while the events are delivered (as they mostly are
// in a running shop) and the backlog appears after that.
void BM_ClaimWithBacklog(benchmark::State& state) {
    const auto backlog = static_cast<int>(state.range(0));
    TempDir t;
    auto db = open_db(location(t));
    state.SetLabel(backend());
    // In transactions of 500 events, as the scanner commits its batches (one
    // transaction for all would make PostgreSQL walk the counter rows' ever
    // longer version chains).
    for (int i = 0; i < backlog;) {
        store::Transaction tx(*db);
        for (int end = std::min(backlog, i + 500); i < end; ++i) {
            std::string dep = "dep_" + std::to_string(i);
            add_deposit(*db, dep);
            std::string id = event_id(dep, "deposit.confirmed");
            if (!store::insert_event(*db, store::NewEvent{id, dep, "deposit.confirmed", payload(id, dep), 1'000 + i}))
                std::abort();
        }
        if (!tx.commit()) std::abort();
    }
    auto set_status = [&](const char* status) {
        for (int from = 0; from < backlog; from += 500) {
            auto q = db->prepare("UPDATE events SET status = ?1 WHERE seq > ?2 AND seq <= ?3");
            q.bind(1, status).bind(2, from).bind(3, from + 500);
            if (!q.run()) std::abort();
        }
    };
    if (postgres()) {
        set_status("delivered");
        if (!db->exec("ANALYZE events")) std::abort();
        set_status("pending");
    }
    std::int64_t now = 10'000'000;
    for (auto _ : state) {
        ++now;
        auto claimed = store::claim_due_events(*db, now, now + 60'000, 32);
        if (!claimed || claimed->size() != 32) std::abort();
        state.PauseTiming();
        if (!store::release_claims(*db, *claimed)) std::abort();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_ClaimWithBacklog)->Arg(100)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);

// The receivers deliveries go to. Both check every signature after the
// clock stops (bad_signatures): a merchant's receiver runs elsewhere, not on
// the cores measured here.
// - bench_sink::RawSink (bench/raw_sink.hpp): answers at once, parses and
//   verifies afterwards; the receiver's share of the two cores is least.
// - webhook_test::Receiver: the tests' Beast server, every request parsed into
//   its fields and answered through Beast in the timed part (as much CPU as
//   the dispatcher): the figures of docs/performance.md before 2026-12-07.
struct SinkReceiver {
    bench_sink::RawSink sink;
    std::string url() const { return sink.url(); }
    std::size_t count() const { return sink.count(); }
    int connections() const { return sink.connections(); }
    std::size_t bad_signatures() { return sink.count() - sink.verified({kSecret}); }
};
struct BeastReceiver {
    webhook_test::Receiver rcv{{kSecret}, [](const webhook_test::Arrival&) { return webhook_test::Reply{}; }};
    BeastReceiver() { rcv.verify_later(); }
    std::string url() const { return rcv.url(); }
    std::size_t count() const { return rcv.count(); }
    int connections() const { return rcv.connections(); }
    std::size_t bad_signatures() const {
        std::size_t bad = 0;
        for (const auto& a : rcv.arrivals()) bad += !a.signature_ok;
        return bad;
    }
};

// Signed deliveries per second: `per_round` events inserted (untimed), then
// the dispatcher delivers them all to the keep-alive receiver (timed).
template <class Receiver>
void BM_SignedDeliveries(benchmark::State& state) {
    log::set_level("warn");
    const int per_round = 2000;
    TempDir t;
    const std::string where = location(t);
    auto db = open_db(where);
    state.SetLabel(backend());
    Receiver rcv;
    boost::asio::io_context ctx;
    SystemClock clock;
    config::WebhookConfig cfg;
    cfg.url = rcv.url();
    cfg.secrets = {kSecret};
    cfg.concurrency = static_cast<unsigned>(state.range(0));
    net::HttpClientOptions http_options;  // as the daemon sets it
    http_options.max_idle_per_host = webhook::keep_alive_per_host(cfg);
    net::HttpClient http(ctx.get_executor(), http_options);
    auto st = store::Store::open(where);
    if (!st) std::abort();
    webhook::Dispatcher d(ctx.get_executor(), **st, http, cfg, clock);
    bool done = false;
    boost::asio::co_spawn(ctx, d.run(), [&](std::exception_ptr) { done = true; });
    // From the count the store's triggers keep (schema 007): a count(*) over
    // the delivered events would cost the server more as rounds go by, in
    // the timed part.
    auto delivered = [&] {
        auto q = db->prepare("SELECT n FROM event_counts WHERE status = 'delivered'");
        auto r = q.step();
        return r && *r ? q.int64(0) : 0;
    };
    auto stats = pg_stats() ? pg_stats_session(where) : nullptr;
    std::int64_t n = 0, target = 0;
    std::map<std::string, double> cpu;  // seconds per thread name, timed parts only
    double machine_busy = 0, machine_iowait = 0, wall = 0;  // seconds, timed parts only
    for (auto _ : state) {
        state.PauseTiming();
        {
            store::Transaction tx(*db);
            for (int i = 0; i < per_round; ++i, ++n) {
                std::string dep = "dep_" + std::to_string(n);
                add_deposit(*db, dep);
                std::string id = event_id(dep, "deposit.confirmed");
                store::NewEvent e{id, dep, "deposit.confirmed", payload(id, dep), clock.now_ms()};
                if (!store::insert_event(*db, e)) std::abort();
            }
            if (!tx.commit()) std::abort();
        }
        target += per_round;
        const auto cpu_before = thread_cpu();
        const auto machine_before = machine_cpu();
        const auto wall_before = std::chrono::steady_clock::now();
        perf_control().enable();
        state.ResumeTiming();
        d.wake();
        // The receiver's count first (in memory): a count(*) every 2 ms in
        // this thread would hold up the dispatcher for a round trip each on
        // PostgreSQL. Then the store, until the last results are written.
        while (rcv.count() < static_cast<std::size_t>(target)) ctx.run_for(std::chrono::milliseconds(2));
        while (delivered() < target) ctx.run_for(std::chrono::milliseconds(2));
        state.PauseTiming();
        perf_control().disable();
        for (const auto& [name, seconds] : thread_cpu()) cpu[name] += seconds - cpu_before.at(name);
        const auto machine_after = machine_cpu();
        machine_busy += machine_after.busy - machine_before.busy;
        machine_iowait += machine_after.iowait - machine_before.iowait;
        wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * per_round);
    state.counters["bad_signatures"] = static_cast<double>(rcv.bad_signatures());
    state.counters["connections"] = rcv.connections();
    // CPU µs per delivery: the dispatcher, HTTP client and signing (the
    // benchmark's main thread), the store's writer, the receiver. Clock ticks
    // of 10 ms: meaningful over a few rounds.
    const double items = static_cast<double>(state.iterations() * per_round);
    state.counters["us_dispatcher"] = cpu["webhook_bench"] * 1e6 / items;
    state.counters["us_writer"] = cpu["store-writer"] * 1e6 / items;
    state.counters["us_receiver"] = cpu["receiver"] * 1e6 / items;
    // The machine's cores busy (of nproc) and waiting for the disk meanwhile:
    // below nproc, the run was not CPU-bound.
    state.counters["cores_busy"] = wall > 0 ? machine_busy / wall : 0;
    state.counters["cores_iowait"] = wall > 0 ? machine_iowait / wall : 0;
    if (stats) pg_stats_print(*stats, "SignedDeliveries/" + std::to_string(state.range(0)), items);
    d.stop();
    while (!done) ctx.run_for(std::chrono::milliseconds(5));
}
BENCHMARK(BM_SignedDeliveries<SinkReceiver>)
    ->Name("BM_SignedDeliveries")
    ->Arg(8)
    ->Arg(32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SignedDeliveries<BeastReceiver>)
    ->Name("BM_SignedDeliveriesToBeastReceiver")
    ->Arg(8)
    ->Arg(32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
