// Leases (store/lease.hpp) and shared outbox claims (store::claim_due_events)
// between processes sharing one store: two Stores stand for two daemons.
// On SQLite by default, on PostgreSQL with DEPOSITD_TEST_STORE=postgresql
// (ctest unit.pg.store_lease_test).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"
#include "store/events.hpp"
#include "store/lease.hpp"
#include "store/store.hpp"
#include "test_store.hpp"

namespace fs = std::filesystem;
using namespace depositd;

namespace {

store::InstanceInfo instance(const std::string& host, std::int64_t pid) {
    store::InstanceInfo me = store::this_instance("test", "127.0.0.1:1");
    me.host = host;
    me.pid = pid;
    me.id = host + ":" + std::to_string(pid);
    return me;
}

// A pid that belonged to a process of ours and is gone now.
std::int64_t dead_pid() {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
}

class StoreLease : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test_store::test_folder("store_lease_test");
        location_ = test_store::location(dir_ / "t.sqlite");
        auto a = store::Database::open_location(location_);
        ASSERT_TRUE(a) << a.error().message;
        ASSERT_TRUE((*a)->migrate());
        a_ = std::move(*a);
        auto b = store::Database::open_location(location_);
        ASSERT_TRUE(b) << b.error().message;
        b_ = std::move(*b);
    }
    void TearDown() override {
        a_.reset();
        b_.reset();
        fs::remove_all(dir_);
    }

    fs::path dir_;
    std::string location_;
    std::unique_ptr<store::Database> a_, b_;  // two processes' sessions
};

TEST_F(StoreLease, OneHolderAtATimeAndEveryChangeOfHandsBumpsTheEpoch) {
    const auto one = instance("host-a", 101), two = instance("host-b", 202);
    ASSERT_TRUE(store::heartbeat_instance(*a_, one, 1));
    ASSERT_TRUE(store::heartbeat_instance(*b_, two, 1));

    auto first = store::try_acquire(*a_, "chain:x", one, 60'000);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_TRUE(*first);
    EXPECT_EQ((*first)->epoch, 1);
    EXPECT_EQ((*first)->holder, one.id);

    auto refused = store::try_acquire(*b_, "chain:x", two, 60'000);
    ASSERT_TRUE(refused);
    EXPECT_FALSE(*refused) << "a live lease of another host is only freed by its expiry";
    auto proved = store::prove_lease(*a_, **first);
    ASSERT_TRUE(proved);
    EXPECT_TRUE(*proved);

    // Released: free at once, and the next holder's epoch is higher.
    ASSERT_TRUE(store::release_lease(*a_, **first));
    auto second = store::try_acquire(*b_, "chain:x", two, 60'000);
    ASSERT_TRUE(second);
    ASSERT_TRUE(*second);
    EXPECT_EQ((*second)->epoch, 2);
    auto stale = store::prove_lease(*a_, **first);
    ASSERT_TRUE(stale);
    EXPECT_FALSE(*stale) << "the old holder's proof must fail";

    auto leases = store::list_leases(*a_);
    ASSERT_TRUE(leases);
    ASSERT_EQ(leases->size(), 1u);
    EXPECT_EQ((*leases)[0].holder, two.id);
}

TEST_F(StoreLease, AnExpiredLeaseIsTakenAndTheOldLeadersCommitWritesNothing) {
    const auto one = instance("host-a", 101), two = instance("host-b", 202);
    auto first = store::try_acquire(*a_, "chain:x", one, 200);
    ASSERT_TRUE(first && *first);
    auto early = store::try_acquire(*b_, "chain:x", two, 200);
    ASSERT_TRUE(early);
    EXPECT_FALSE(*early);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto taken = store::try_acquire(*b_, "chain:x", two, 60'000);
    ASSERT_TRUE(taken);
    ASSERT_TRUE(*taken) << "expired by the database's clock";
    EXPECT_EQ((*taken)->epoch, (*first)->epoch + 1);

    // The old leader's transaction: proves its lease, fails, rolls back.
    {
        store::Transaction tx(*a_);
        ASSERT_TRUE(tx.begun());
        auto q = a_->prepare("INSERT INTO notify_state (key, value, changed_at) VALUES ('fenced', 'x', 0)");
        ASSERT_TRUE(q.run());
        auto held = store::prove_lease(*a_, **first);
        ASSERT_TRUE(held);
        EXPECT_FALSE(*held);
        // (not committed: the transaction goes out of scope and rolls back)
    }
    auto q = b_->prepare("SELECT count(*) FROM notify_state WHERE key = 'fenced'");
    auto r = q.step();
    ASSERT_TRUE(r && *r);
    EXPECT_EQ(q.int64(0), 0);
}

TEST_F(StoreLease, ACrashedHolderOnThisHostIsReplacedAtOnceAnotherHostsOnlyAfterExpiry) {
    const auto me = store::this_instance("test", "127.0.0.1:2");
    auto crashed = me;
    crashed.pid = dead_pid();
    crashed.id = crashed.host + ":" + std::to_string(crashed.pid);
    ASSERT_TRUE(store::heartbeat_instance(*a_, crashed, 1));
    auto held = store::try_acquire(*a_, "chain:x", crashed, 600'000);
    ASSERT_TRUE(held && *held);

    auto mine = store::try_acquire(*b_, "chain:x", me, 60'000);
    ASSERT_TRUE(mine) << mine.error().message;
    ASSERT_TRUE(*mine) << "the holder's process is gone on this very host";

    // The same for a holder elsewhere would wait for its expiry.
    auto elsewhere = instance("another-host", crashed.pid);
    elsewhere.boot_id = me.boot_id;
    ASSERT_TRUE(store::heartbeat_instance(*a_, elsewhere, 1));
    auto other = store::try_acquire(*a_, "chain:y", elsewhere, 600'000);
    ASSERT_TRUE(other && *other);
    auto refused = store::try_acquire(*b_, "chain:y", me, 60'000);
    ASSERT_TRUE(refused);
    EXPECT_FALSE(*refused);
}

TEST_F(StoreLease, ProcessesRacingForOneLeaseElectExactlyOne) {
    a_.reset();
    b_.reset();
    constexpr int kProcs = 4, kRounds = 25;
    std::vector<std::unique_ptr<store::Database>> dbs;
    for (int i = 0; i < kProcs; ++i) {
        auto db = store::Database::open_location(location_);
        ASSERT_TRUE(db);
        dbs.push_back(std::move(*db));
    }
    for (int round = 0; round < kRounds; ++round) {
        const std::string name = "chain:race" + std::to_string(round);
        std::atomic<int> winners{0}, errors{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < kProcs; ++i)
            threads.emplace_back([&, i] {
                auto got = store::try_acquire(*dbs[i], name, instance("h" + std::to_string(i), 1000 + i), 60'000);
                if (!got) ++errors;
                else if (*got) ++winners;
            });
        for (auto& t : threads) t.join();
        // A process may lose its round to a conflict (it polls again), never win twice.
        EXPECT_EQ(winners.load(), 1) << name << " (" << errors.load() << " errors)";
    }
}

TEST_F(StoreLease, InstancesAreSeenWhileTheyBeat) {
    const auto one = instance("host-a", 1), two = instance("host-b", 2);
    ASSERT_TRUE(store::heartbeat_instance(*a_, one, 5));
    ASSERT_TRUE(store::heartbeat_instance(*b_, two, 6));
    auto live = store::live_instances(*a_, 60'000);
    ASSERT_TRUE(live);
    ASSERT_EQ(live->size(), 2u);
    EXPECT_EQ((*live)[0].info.id, one.id);
    EXPECT_EQ((*live)[0].started_at, 5);
    ASSERT_TRUE(store::forget_instance(*a_, one.id));
    live = store::live_instances(*a_, 60'000);
    ASSERT_TRUE(live);
    ASSERT_EQ(live->size(), 1u);
    EXPECT_EQ((*live)[0].info.id, two.id);
    auto now = store::database_now_ms(*b_);
    ASSERT_TRUE(now);
    const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_LT(std::llabs(*now - wall), 5'000) << "the database's clock, in unix ms";
}

// Two dispatchers claiming from one outbox: every due event is claimed by
// exactly one of them, and a claim keeps it from the other until it expires.
TEST_F(StoreLease, TwoProcessesClaimEachDueEventOnce) {
    constexpr int kEvents = 300;
    for (int i = 0; i < kEvents; ++i) {
        store::NewEvent e;
        e.id = "evt_" + std::to_string(i);
        e.type = "order.paid";
        e.stream = "stream_" + std::to_string(i % 50);  // delivered in seq order within a stream
        e.payload = "{}";
        e.created_at = 1000;
        ASSERT_TRUE(store::insert_event(*a_, e));
    }
    std::mutex mu;
    std::map<std::string, int> claimed;
    std::atomic<int> errors{0};
    auto worker = [&](store::Database& db) {
        for (int round = 0; round < 200; ++round) {
            auto got = store::claim_due_events(db, 2000, 1'000'000, 7);
            if (!got) {
                ++errors;  // a conflict on PostgreSQL: the next round claims again
                continue;
            }
            EXPECT_LE(got->size(), 7u) << "a claim takes at most its limit";
            std::lock_guard lock(mu);
            for (const auto& ev : *got) {
                ++claimed[ev.id];
                EXPECT_EQ(ev.claimed_until, std::optional<std::int64_t>(1'000'000));
                // Delivered: the next event of its stream becomes deliverable.
                auto q = db.prepare("UPDATE events SET status = 'delivered' WHERE id = ?1");
                q.bind(1, ev.id);
                EXPECT_TRUE(q.run());
            }
        }
    };
    std::thread ta(worker, std::ref(*a_)), tb(worker, std::ref(*b_));
    ta.join();
    tb.join();
    EXPECT_EQ(static_cast<int>(claimed.size()), kEvents) << errors.load() << " errors";
    for (const auto& [id, n] : claimed) EXPECT_EQ(n, 1) << id << " claimed " << n << " times";

    // An expired claim is due again (its process died with it).
    store::NewEvent e;
    e.id = "evt_orphan";
    e.type = "order.paid";
    e.payload = "{}";
    e.created_at = 1000;
    ASSERT_TRUE(store::insert_event(*a_, e));
    auto first = store::claim_due_events(*a_, 2000, 5000, 10);
    ASSERT_TRUE(first);
    ASSERT_EQ(first->size(), 1u);
    auto meanwhile = store::claim_due_events(*b_, 4999, 9000, 10);
    ASSERT_TRUE(meanwhile);
    EXPECT_TRUE(meanwhile->empty());
    auto after = store::claim_due_events(*b_, 5000, 9000, 10);
    ASSERT_TRUE(after);
    ASSERT_EQ(after->size(), 1u);
    EXPECT_EQ((*after)[0].id, "evt_orphan");

    // Due while still in flight here (its retry was just recorded): not
    // taken, and still due at once afterwards, not held for a claim's length.
    auto retry = store::schedule_retry(*a_, "evt_orphan", 9500, "HTTP 500");
    ASSERT_TRUE(retry);
    auto skipped = store::claim_due_events(*a_, 9600, 60'000, 10, {(*after)[0].seq});
    ASSERT_TRUE(skipped);
    EXPECT_TRUE(skipped->empty());
    auto again = store::claim_due_events(*b_, 9600, 70'000, 10);
    ASSERT_TRUE(again);
    ASSERT_EQ(again->size(), 1u) << "an in-flight exclusion must not leave the event claimed";
}

}  // namespace
