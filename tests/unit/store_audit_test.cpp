// store/audit (the audit log), nested transactions (savepoints), the
// console's searches (store/console) and the Telegram notifier's state
// (store/notify), on a real SQLite file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <unistd.h>

#include "core/ids.hpp"
#include "store/audit.hpp"
#include "store/console.hpp"
#include "store/database.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/notify.hpp"
#include "test_store.hpp"

namespace fs = std::filesystem;
using namespace depositd;
using namespace depositd::store;

namespace {

class StoreAudit : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test_store::test_folder("store_audit_test");
        auto db = Database::open_location(test_store::location(dir_ / "t.sqlite"));
        ASSERT_TRUE(db) << db.error().message;
        db_ = std::move(*db);
        ASSERT_TRUE(db_->migrate());
    }
    void TearDown() override {
        db_.reset();
        fs::remove_all(dir_);
    }
    Database& db() { return *db_; }
    std::int64_t count(const std::string& table) {
        auto q = db().prepare("SELECT count(*) FROM " + table);
        EXPECT_TRUE(*q.step());
        return q.int64(0);
    }
    AuditEntry entry(int i, const std::string& action = "event.resend") {
        AuditEntry e;
        e.at = 1'000 + i;
        e.actor_kind = i % 2 ? "api" : "console";
        e.actor = i % 2 ? "shop" : "alice";
        e.action = action;
        e.target = "evt_" + std::to_string(i % 3);
        e.reason = i == 1 ? std::optional<std::string>("why \"quoted\" 中文") : std::nullopt;
        e.detail = R"({"from":"failed"})";
        e.client = "127.0.0.1";
        return e;
    }
    Deposit deposit(int i, const std::string& ref, const std::string& address, std::int64_t at) {
        Deposit d;
        d.chain_id = "ethereum";
        d.tx_hash = "0xabcdef" + std::to_string(i);
        d.block_hash = "0xb" + std::to_string(i);
        d.block_number = 100 + static_cast<std::uint64_t>(i);
        d.id = deposit_id(d.chain_id, d.tx_hash, 0, d.block_hash);
        d.address = address;
        d.reference = ref;
        d.currency = "USDT";
        d.raw_amount = "1000000";
        d.decimals = 6;
        d.from = "0xfrom";
        d.required_confirmations = 12;
        d.status = i % 2 ? "confirmed" : "pending";
        d.detected_at = at;
        auto ins = insert_deposit(db(), d);
        EXPECT_TRUE(ins) << (ins ? "" : ins.error().message);
        return d;
    }

    fs::path dir_;
    std::unique_ptr<Database> db_;
};

}  // namespace

TEST_F(StoreAudit, AppendsAndPagesNewestFirst) {
    for (int i = 1; i <= 7; ++i) {
        auto r = insert_audit(db(), entry(i, i == 4 ? "order.mark_paid" : "event.resend"));
        ASSERT_TRUE(r) << r.error().message;
    }
    AuditFilter f;
    f.limit = 3;
    auto p1 = list_audit(db(), f);
    ASSERT_TRUE(p1);
    ASSERT_EQ(p1->entries.size(), 3u);
    EXPECT_EQ(p1->entries[0].at, 1007);
    EXPECT_EQ(p1->entries[2].at, 1005);
    ASSERT_TRUE(p1->next);
    f.before = p1->next;
    auto p2 = list_audit(db(), f);
    ASSERT_EQ(p2->entries.size(), 3u);
    EXPECT_EQ(p2->entries[0].at, 1004);
    f.before = p2->next;
    auto p3 = list_audit(db(), f);
    ASSERT_EQ(p3->entries.size(), 1u);
    EXPECT_FALSE(p3->next);

    AuditFilter by_action;
    by_action.action = "order.mark_paid";
    auto a = list_audit(db(), by_action);
    ASSERT_EQ(a->entries.size(), 1u);
    EXPECT_EQ(a->entries[0].at, 1004);
    AuditFilter by_target;
    by_target.target = "evt_1";
    EXPECT_EQ(list_audit(db(), by_target)->entries.size(), 3u);  // entries 1, 4 and 7
    AuditFilter by_actor;
    by_actor.actor = "alice";
    EXPECT_EQ(list_audit(db(), by_actor)->entries.size(), 3u);

    auto j = audit_to_json(p3->entries[0]);
    EXPECT_EQ(j["actor"].as_object()["kind"], "api");
    EXPECT_EQ(j["actor"].as_object()["name"], "shop");
    EXPECT_EQ(j["reason"], "why \"quoted\" 中文");
    EXPECT_EQ(j["detail"].as_object()["from"], "failed");
    EXPECT_EQ(j["at"], "1970-01-01T00:00:01.001Z");
}

TEST_F(StoreAudit, NestedTransactionsAreSavepoints) {
    {
        Transaction outer(db());
        ASSERT_TRUE(outer.begun());
        ASSERT_TRUE(insert_audit(db(), entry(1)));
        {
            Transaction inner(db());
            ASSERT_TRUE(inner.begun());
            ASSERT_TRUE(insert_audit(db(), entry(2)));
            // no commit: only the inner write goes
        }
        EXPECT_EQ(count("audit_log"), 1);
        {
            Transaction inner(db());
            ASSERT_TRUE(insert_audit(db(), entry(3)));
            ASSERT_TRUE(inner.commit());
        }
        EXPECT_EQ(count("audit_log"), 2);
        // the outer one rolls back: everything goes, the committed savepoint too
    }
    EXPECT_EQ(count("audit_log"), 0);
    {
        Transaction outer(db());
        {
            Transaction inner(db());
            ASSERT_TRUE(insert_audit(db(), entry(4)));
            ASSERT_TRUE(inner.commit());
        }
        ASSERT_TRUE(outer.commit());
    }
    EXPECT_EQ(count("audit_log"), 1);
    EXPECT_FALSE(db().in_transaction());
}

TEST_F(StoreAudit, ConsoleSearchesDepositsByAnyIdentifier) {
    for (int i = 0; i < 6; ++i)
        deposit(i, i < 4 ? "player_1" : "player_2", i == 5 ? "0xAbCdEf0000000000000000000000000000000001" : "0xaddr",
                10'000 + i);
    ConsoleQuery f;
    f.limit = 2;
    f.q = "player_1";
    auto p = search_deposits(db(), f);
    ASSERT_TRUE(p);
    ASSERT_EQ(p->ids.size(), 2u);
    EXPECT_EQ(p->ids[0], deposit_id("ethereum", "0xabcdef3", 0, "0xb3"));
    ASSERT_TRUE(p->next);
    f.after = p->next;
    auto p2 = search_deposits(db(), f);
    ASSERT_EQ(p2->ids.size(), 2u);
    EXPECT_EQ(p2->ids[1], deposit_id("ethereum", "0xabcdef0", 0, "0xb0"));
    EXPECT_FALSE(p2->next);

    ConsoleQuery tx;
    tx.q = "0xABCDEF2";  // upper case: found on the lower-case hash
    ASSERT_EQ(search_deposits(db(), tx)->ids.size(), 1u);
    tx.q = "abcdef2";    // without 0x
    ASSERT_EQ(search_deposits(db(), tx)->ids.size(), 1u);
    ConsoleQuery addr;
    addr.q = "0xabcdef0000000000000000000000000000000001";  // any letter case
    ASSERT_EQ(search_deposits(db(), addr)->ids.size(), 1u);
    addr.status = "pending";
    EXPECT_EQ(search_deposits(db(), addr)->ids.size(), 0u);  // it is confirmed
    ConsoleQuery id;
    id.q = deposit_id("ethereum", "0xabcdef4", 0, "0xb4");
    ASSERT_EQ(search_deposits(db(), id)->ids.size(), 1u);
    ConsoleQuery none;
    none.q = "nobody";
    EXPECT_TRUE(search_deposits(db(), none)->ids.empty());
    EXPECT_FALSE(search_deposits(db(), ConsoleQuery{}));  // a search needs a text
}

TEST_F(StoreAudit, ConsoleEventsAndOutboxCounts) {
    auto d = deposit(1, "r", "0xaddr", 5000);
    for (int i = 0; i < 3; ++i) {
        NewEvent e;
        e.id = "evt_" + std::to_string(i);
        e.deposit_id = d.id;
        e.type = "deposit.pending";
        e.payload = "{}";
        e.created_at = 5000 + i;
        ASSERT_TRUE(insert_event(db(), e));
    }
    NewEvent t;
    t.id = "evt_tg";
    t.type = "notify.telegram";
    t.kind = kKindTelegram;
    t.payload = R"({"text":"x","plain":"x"})";
    t.created_at = 6000;
    ASSERT_TRUE(insert_event(db(), t));
    ASSERT_TRUE(mark_failed(db(), "evt_0", "HTTP 500"));

    auto evs = events_of_deposit(db(), d.id);
    ASSERT_TRUE(evs);
    ASSERT_EQ(evs->size(), 3u);
    EXPECT_EQ((*evs)[0].id, "evt_0");
    ConsoleQuery f;
    f.status = "pending";
    auto p = search_events(db(), f);
    ASSERT_TRUE(p) << p.error().message;
    ASSERT_EQ(p->ids.size(), 3u);
    EXPECT_EQ(p->ids[0], "evt_tg");
    f.q = d.id;
    auto by_deposit = search_events(db(), f);
    ASSERT_TRUE(by_deposit) << by_deposit.error().message;
    EXPECT_EQ(by_deposit->ids.size(), 2u);
    auto counts = outbox_counts(db());
    ASSERT_TRUE(counts);
    std::map<std::pair<std::string, std::string>, std::uint64_t> m;
    for (const auto& c : *counts) m[{c.kind, c.status}] = c.n;
    EXPECT_EQ((m[{"webhook", "pending"}]), 2u);
    EXPECT_EQ((m[{"webhook", "failed"}]), 1u);
    EXPECT_EQ((m[{"telegram", "pending"}]), 1u);

    auto trouble = delivery_trouble(db(), 3);
    ASSERT_TRUE(trouble);
    EXPECT_EQ(trouble->failed, 1u);  // the telegram row does not count
    EXPECT_EQ(trouble->retrying, 0u);
    EXPECT_EQ(trouble->last_error, std::optional<std::string>("HTTP 500"));

    // Telegram rows are delivered only when [notify.telegram] is configured.
    auto without = due_events(db(), 10'000, 10, {}, true, false);
    ASSERT_TRUE(without) << without.error().message;
    for (const auto& e : *without) EXPECT_NE(e.kind, "telegram");
    auto with = due_events(db(), 10'000, 10, {}, true, true);
    ASSERT_TRUE(with) << with.error().message;
    bool seen = false;
    for (const auto& e : *with) seen = seen || e.id == "evt_tg";
    EXPECT_TRUE(seen);

    auto after = webhook_events_after(db(), 1, 10);
    ASSERT_TRUE(after);
    ASSERT_EQ(after->size(), 2u);  // seq 2 and 3; the telegram row is no webhook
    EXPECT_EQ(*max_event_seq(db()), 4);
}

TEST_F(StoreAudit, NotifyState) {
    EXPECT_FALSE(*get_notify_state(db(), "relay_seq"));
    ASSERT_TRUE(put_notify_state(db(), "relay_seq", {"12", 100}));
    ASSERT_TRUE(put_notify_state(db(), "relay_seq", {"15", 200}));
    auto s = get_notify_state(db(), "relay_seq");
    ASSERT_TRUE(*s);
    EXPECT_EQ((*s)->value, "15");
    EXPECT_EQ((*s)->changed_at, 200);
}
