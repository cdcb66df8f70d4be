// Two daemons (two Stores, each with its own writer session) binding and
// unbinding on one database at once: no address is ever handed out twice, a
// reference bound from both sides gets one address, and nothing a client
// sees fails on a serialization conflict. On SQLite the file lock serialises
// the writers; on PostgreSQL (DEPOSITD_TEST_STORE=postgresql) SERIALIZABLE
// transactions conflict and the store runs them again.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"
#include "store/pool.hpp"
#include "store/store.hpp"
#include "test_store.hpp"

namespace fs = std::filesystem;
using namespace depositd;

namespace {

constexpr int kAddresses = 120;

class StoreConcurrency : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test_store::test_folder("store_concurrency_test");
        location_ = test_store::location(dir_ / "t.sqlite");
        auto db = store::Database::open_location(location_);
        ASSERT_TRUE(db) << db.error().message;
        ASSERT_TRUE((*db)->migrate());
        for (int i = 0; i < kAddresses; ++i) {
            auto q = (*db)->prepare(
                "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) "
                "VALUES ('evm', ?1, ?2, 'test', 'free', 0)");
            const std::string a = "0xaddr" + std::to_string(i);
            q.bind(1, a).bind_blob(2, std::vector<std::uint8_t>(a.begin(), a.end()));
            ASSERT_TRUE(q.run());
        }
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path dir_;
    std::string location_;
};

TEST_F(StoreConcurrency, TwoStoresNeverHandOutOneAddressTwice) {
    auto a = store::Store::open(location_);
    auto b = store::Store::open(location_);
    ASSERT_TRUE(a && b);
    std::vector<store::Store*> stores{a->get(), b->get()};

    std::mutex mu;
    std::map<std::string, std::set<std::string>> addresses_of;  // reference -> addresses answered
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            store::Store& s = *stores[static_cast<std::size_t>(t % 2)];
            for (int i = 0; i < 25; ++i) {
                // Every reference twice, from both stores (threads t and t^1).
                const std::string ref = "player_" + std::to_string((t / 2) * 25 + i);
                auto r = s.write([&](store::Database& db) { return store::bind_reference(db, ref, "evm", {}, 1000); });
                if (!r) {
                    ++failures;
                    ADD_FAILURE() << ref << ": " << r.error().message;
                    continue;
                }
                std::lock_guard lock(mu);
                addresses_of[ref].insert(r->address);
                if (i % 5 == 4) {  // some unbind and bind again: a new address each time
                    auto u = s.write([&](store::Database& db) {
                        return store::unbind_reference(db, ref, std::string("evm"), std::nullopt, 1000);
                    });
                    if (!u) ADD_FAILURE() << "unbind " << ref << ": " << u.error().message;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);

    // Every address answered belongs to one reference only, and the database
    // agrees: one active binding per address, one per reference.
    std::map<std::string, std::string> owner;
    for (const auto& [ref, addrs] : addresses_of)
        for (const auto& addr : addrs) {
            auto [it, fresh] = owner.emplace(addr, ref);
            EXPECT_TRUE(fresh) << addr << " handed to " << it->second << " and " << ref;
        }
    auto check = store::Database::open_location(location_);
    ASSERT_TRUE(check);
    auto q = (*check)->prepare(
        "SELECT (SELECT count(*) FROM bindings WHERE unbound_at IS NULL), "
        "(SELECT count(DISTINCT address_id) FROM bindings), (SELECT count(*) FROM bindings)");
    ASSERT_TRUE(q.step().value());
    EXPECT_EQ(q.int64(1), q.int64(2)) << "an address was bound twice";
    EXPECT_LE(q.int64(0), 50);
    EXPECT_EQ(static_cast<std::size_t>(q.int64(2)), owner.size());
}

}  // namespace
