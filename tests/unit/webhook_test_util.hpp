#pragma once
// Shared by the webhook tests: a temporary migrated database and helpers to
// put deposits and their outbox events in it.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "store/database.hpp"
#include "store/store.hpp"
#include "store/events.hpp"
#include "test_store.hpp"

namespace webhook_test {

class TempDb {
public:
    TempDb() {
        static std::atomic<int> counter{0};
        dir_ = std::filesystem::temp_directory_path() /
               ("depositd-webhook-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(dir_);
        path_ = test_store::location(dir_ / "test.sqlite");
        reopen();
    }
    ~TempDb() {
        store_.reset();
        db_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    // Closes and opens the same file again (a "restart").
    void reopen() {
        store_.reset();
        db_.reset();
        auto db = depositd::store::Database::open_location(path_);
        if (!db) throw std::runtime_error(db.error().describe());
        db_ = std::move(*db);
        auto m = db_->migrate();
        if (!m) throw std::runtime_error(m.error().describe());
    }
    depositd::store::Database& db() { return *db_; }
    // The daemon's view: a writer thread and readers on the same file.
    depositd::store::Store& store() {
        if (!store_) {
            auto s = depositd::store::Store::open(path_);
            if (!s) throw std::runtime_error(s.error().describe());
            store_ = std::move(*s);
        }
        return *store_;
    }
    const std::string& path() const { return path_; }

private:
    std::filesystem::path dir_;
    std::string path_;
    std::unique_ptr<depositd::store::Database> db_;
    std::unique_ptr<depositd::store::Store> store_;
};

inline void add_deposit(depositd::store::Database& db, const std::string& id) {
    auto q = db.prepare(
        "INSERT INTO deposits (id, chain_id, tx_hash, idx, block_hash, block_number, address, currency, "
        "raw_amount, decimals, confirmations, required_confirmations, status, detected_at) "
        "VALUES (?1, 'ethereum', ?1, 0, '0xb', 1, '0xaddr', 'USDT', '1000000', 6, 1, 12, 'pending', 0) "
        "ON CONFLICT DO NOTHING");
    q.bind(1, id);
    auto s = q.run();
    ASSERT_TRUE(s.ok()) << s.error().describe();
}

// Inserts deposit `dep` (if needed) and its event of `type`; returns the event id.
inline std::string add_event(depositd::store::Database& db, const std::string& dep, const std::string& type,
                             std::int64_t created_at, std::string payload = {}) {
    add_deposit(db, dep);
    depositd::store::NewEvent e;
    e.id = "evt_" + dep + "_" + type;
    e.deposit_id = dep;
    e.type = type;
    e.payload = payload.empty() ? R"({"id":")" + e.id + R"(","type":")" + type + R"(","data":{"id":")" + dep + "\"}}"
                                : payload;
    e.created_at = created_at;
    auto r = depositd::store::insert_event(db, e);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
    return e.id;
}

inline depositd::store::EventRow event(depositd::store::Database& db, const std::string& id) {
    auto r = depositd::store::get_event(db, id);
    if (!r || !*r) throw std::runtime_error("no event " + id);
    return **r;
}

}  // namespace webhook_test
