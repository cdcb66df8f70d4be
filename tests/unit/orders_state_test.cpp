// lib/orders over a real SQLite database: creating orders (address and
// amount mode), following deposits (pending -> reverted -> pending ->
// confirmed), expiry, repeated merchant ids, and the events each change puts
// into the outbox (deterministic ids, merchant notifies signed).
#include <gtest/gtest.h>

#include <unordered_set>

#include <atomic>
#include <filesystem>
#include <map>
#include <unistd.h>

#include "core/ids.hpp"
#include "core/json.hpp"
#include "orders/merchant.hpp"
#include "orders/orders.hpp"
#include "orders/signing.hpp"
#include "store/database.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/orders.hpp"
#include "test_store.hpp"

using namespace depositd;

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;
const char* kToken = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const char* kReceive = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

class OrdersState : public ::testing::Test {
protected:
    void SetUp() override {
        static std::atomic<int> n{0};
        dir_ = std::filesystem::temp_directory_path() /
               ("depositd_orders_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
        std::filesystem::create_directories(dir_);
        auto opened = store::Database::open_location(test_store::location(dir_ / "t.sqlite"));
        ASSERT_TRUE(opened.ok());
        db_ = std::move(*opened);
        ASSERT_TRUE(db_->migrate().ok());

        cfg_.path = "test.toml";
        cfg_.api.listen = "127.0.0.1:8080";
        config::ChainConfig ch;
        ch.id = "local";
        ch.kind = Protocol::evm;
        ch.native = {"ETH", "", 18};
        ch.tokens = {{"USDT", kToken, 6}};
        cfg_.chains = {ch};
        cfg_.orders.default_pay = "usdt.local";
        cfg_.orders.cooldown = std::chrono::hours(1);
        cfg_.merchant.enabled = true;
        cfg_.merchant.pid = 1001;
        cfg_.merchant.key = "merchant-key-0123456789abcdef0123";
        for (int i = 0; i < 3; ++i) {
            auto q = db().prepare(
                "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) "
                "VALUES ('evm', ?1, ?2, 'test', 'free', 0)");
            std::string a = "0x00000000000000000000000000000000000000a" + std::to_string(i);
            std::vector<std::uint8_t> key(a.begin(), a.end());
            q.bind(1, a).bind_blob(2, key);
            ASSERT_TRUE(q.run().ok());
        }
    }
    void TearDown() override {
        db_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    store::Database& db() { return *db_; }

    store::Order create(orders::OrderRequest r, std::int64_t now = kNow) {
        auto c = orders::create_order(db(), cfg_, nullptr, r, now);
        EXPECT_TRUE(c.ok()) << c.message;
        return c.ok() ? *c.order : store::Order{};
    }

    orders::OrderRequest request(const std::string& id, const std::string& amount) {
        orders::OrderRequest r;
        r.order_id = id;
        r.amount = amount;
        return r;
    }

    // A deposit as the scanner would record it, and its observer call inside a transaction.
    // `mined`: the block's time; the scanner sees it at `seen` (default: then).
    store::Deposit deposit(const store::Order& o, const std::string& raw, const std::string& tx,
                           std::int64_t mined = kNow, std::optional<std::int64_t> seen = std::nullopt) {
        store::Deposit d;
        d.chain_id = "local";
        d.tx_hash = tx;
        d.index = 0;
        d.block_hash = "0xblock" + tx;
        d.block_number = 100;
        d.id = deposit_id(d.chain_id, d.tx_hash, d.index, d.block_hash);
        d.address_id = o.address_id;
        d.address = o.address;
        d.currency = "USDT";
        d.contract = kToken;
        d.raw_amount = raw;
        d.decimals = 6;
        d.from = "0xfrom";
        d.confirmations = 1;
        d.required_confirmations = 3;
        d.status = "pending";
        d.detected_at = seen.value_or(mined);
        d.block_time = mined;
        d.changes = 1;  // as the scanner reports it: change 1 is the insert
        store::Transaction tx_(db());
        EXPECT_TRUE(store::insert_deposit(db(), d).ok());
        EXPECT_TRUE(orders::on_deposit_change(db(), cfg_, d, "deposit.pending", d.detected_at).ok());
        EXPECT_TRUE(tx_.commit().ok());
        return d;
    }

    void change(store::Deposit& d, const std::string& status, std::int64_t now = kNow + 1000) {
        d.status = status;
        if (status == "confirmed") d.confirmed_at = now;
        if (status == "reverted") d.reverted_at = now;
        ++d.changes;
        store::Transaction tx(db());
        ASSERT_TRUE(store::update_deposit_state(db(), d).ok());
        ASSERT_TRUE(orders::on_deposit_change(db(), cfg_, d, "deposit." + status, now).ok());
        ASSERT_TRUE(tx.commit().ok());
    }

    store::Order reload(const store::Order& o) { return **store::get_order(db(), o.id); }

    std::vector<store::EventRow> events_of(const store::Order& o) {
        store::EventFilter f;
        f.limit = 100;
        auto page = store::list_events(db(), f);
        std::vector<store::EventRow> out;
        for (auto& e : page->events)
            if (e.order_id == o.id) out.insert(out.begin(), e);  // oldest first
        return out;
    }

    std::string address_state(std::int64_t id) {
        auto q = db().prepare("SELECT state FROM addresses WHERE id = ?1");
        q.bind(1, id);
        EXPECT_TRUE(*q.step());
        return q.text(0);
    }

    config::Config cfg_;
    std::filesystem::path dir_;
    std::unique_ptr<store::Database> db_;
};

TEST_F(OrdersState, AddressModePaymentsAddUpThenConfirm) {
    auto o = create(request("SHOP-1", "10"));
    EXPECT_EQ(o.status, "waiting");
    EXPECT_EQ(o.pay_raw, "10000000");
    EXPECT_EQ(o.id.size(), 4u + 32u);
    EXPECT_EQ(address_state(o.address_id), "bound");

    auto d1 = deposit(o, "4000000", "0x01");
    EXPECT_EQ(reload(o).status, "waiting");
    EXPECT_EQ(reload(o).paid_raw, "4000000");
    auto d2 = deposit(o, "6000000", "0x02");
    EXPECT_EQ(reload(o).status, "paid");
    change(d1, "confirmed");
    EXPECT_EQ(reload(o).status, "paid");
    change(d2, "confirmed");
    auto done = reload(o);
    EXPECT_EQ(done.status, "completed");
    EXPECT_TRUE(done.completed_at.has_value());
    EXPECT_EQ(address_state(o.address_id), "cooling");

    auto ev = events_of(o);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].type, "order.paid");
    EXPECT_EQ(ev[0].id, event_id(o.id, "order.paid"));
    EXPECT_EQ(ev[1].type, "order.completed");
    EXPECT_EQ(ev[0].stream, o.id);
    auto body = json::parse(ev[1].payload).as_object();
    EXPECT_EQ(body["type"], "order.completed");
    EXPECT_EQ(body["data"].as_object()["status"], "completed");
    EXPECT_EQ(body["data"].as_object()["paidAmount"], "10");
    EXPECT_EQ(body["data"].as_object()["deposits"].as_array().size(), 2u);
    // Deposits to the order's address carry the order as their reference.
    EXPECT_EQ(*store::order_of_deposit(db(), d1.id), std::optional<std::string>(o.id));
}

// The scanner reports a deposit's changes only for addresses an order used
// (orders::followed_addresses): every address an order held stays followed,
// also after the order ended (its late payments), and no other is.
TEST_F(OrdersState, FollowedAddressesAreThoseAnOrderEverUsed) {
    auto o = create(request("SHOP-F", "10"));
    std::int64_t unused = 0;  // an address no order used
    {
        auto q = db().prepare("INSERT INTO addresses (protocol, address, watch_key, source, created_at) "
                              "VALUES ('evm', '0x00000000000000000000000000000000000000aa', ?1, 'test', 0) "
                              "RETURNING id");
        const std::vector<std::uint8_t> key(20, 0xaa);
        q.bind_blob(1, key);
        ASSERT_TRUE(*q.step());
        unused = q.int64(0);
        ASSERT_FALSE(*q.step());
    }
    auto followed = [&] {
        auto f = orders::followed_addresses(db(), {o.address_id, unused, 987'654});
        EXPECT_TRUE(f.ok());
        return f.ok() ? *f : std::unordered_set<std::int64_t>{};
    };
    EXPECT_EQ(followed(), std::unordered_set<std::int64_t>{o.address_id});
    auto d = deposit(o, "10000000", "0x0f");
    change(d, "confirmed");
    ASSERT_EQ(reload(o).status, "completed");
    EXPECT_EQ(address_state(o.address_id), "cooling");
    EXPECT_EQ(followed(), std::unordered_set<std::int64_t>{o.address_id});
}

TEST_F(OrdersState, RevertedPaymentReopensAndAReturnIsANewEvent) {
    auto o = create(request("SHOP-2", "10"));
    auto d = deposit(o, "10000000", "0x03");
    EXPECT_EQ(reload(o).status, "paid");
    change(d, "reverted");
    EXPECT_EQ(reload(o).status, "waiting");
    EXPECT_EQ(reload(o).paid_raw, "0");
    EXPECT_FALSE(reload(o).paid_at.has_value());
    change(d, "pending");  // its block came back
    EXPECT_EQ(reload(o).status, "paid");
    change(d, "confirmed");
    EXPECT_EQ(reload(o).status, "completed");
    auto ev = events_of(o);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(ev[0].id, event_id(o.id, "order.paid"));
    EXPECT_EQ(ev[1].id, event_id(o.id, "order.paid#2"));
    EXPECT_EQ(ev[2].type, "order.completed");
    // The same observer call again (a rescan) changes nothing and mints nothing.
    change(d, "confirmed");
    EXPECT_EQ(events_of(o).size(), 3u);
}

TEST_F(OrdersState, AmountModeGivesUniqueAmountsAndMatchesExactly) {
    cfg_.orders.mode = config::OrdersConfig::Mode::amount;
    cfg_.orders.receive["local"] = kReceive;
    ASSERT_TRUE(orders::prepare_receive_addresses(db(), cfg_, kNow).ok());
    auto a = create(request("A", "10"));
    auto b = create(request("B", "10"));
    auto c = create(request("C", "10.01"));
    EXPECT_EQ(a.pay_raw, "10000000");
    EXPECT_EQ(b.pay_raw, "10010000");
    EXPECT_EQ(c.pay_raw, "10020000");
    EXPECT_EQ(a.address, kReceive);
    EXPECT_EQ(a.address_id, b.address_id);
    EXPECT_EQ(address_state(a.address_id), "receive");

    deposit(b, "10010000", "0x10");
    EXPECT_EQ(reload(b).status, "paid");
    EXPECT_EQ(reload(a).status, "waiting");
    deposit(a, "10005000", "0x11");  // not an exact amount: nobody's
    EXPECT_EQ(reload(a).status, "waiting");
    EXPECT_EQ(reload(a).paid_raw, "0");
    deposit(a, "10000000", "0x12");
    EXPECT_EQ(reload(a).status, "paid");
    // A paid order's amount stays taken; an expired one frees it.
    auto d = create(request("D", "10"));
    EXPECT_EQ(d.pay_raw, "10030000");
}

TEST_F(OrdersState, ExpiryReleasesTheAddressAndLatePaymentsChangeNothing) {
    auto r = request("SHOP-3", "10");
    r.expires_in_s = 60;
    auto o = create(r);
    EXPECT_EQ(*orders::expire_due(db(), cfg_, kNow + 59'000), 0);
    EXPECT_EQ(*orders::expire_due(db(), cfg_, kNow + 60'000), 1);
    auto e = reload(o);
    EXPECT_EQ(e.status, "expired");
    EXPECT_EQ(address_state(o.address_id), "cooling");
    ASSERT_EQ(events_of(o).size(), 1u);
    EXPECT_EQ(events_of(o)[0].id, event_id(o.id, "order.expired"));
    auto late = deposit(o, "10000000", "0x20", kNow + 61'000);
    EXPECT_EQ(reload(o).status, "expired");
    EXPECT_EQ(reload(o).paid_raw, "0");
    EXPECT_FALSE(store::order_of_deposit(db(), late.id)->has_value());
    // ... but it is the order's late payment: shown on it, announced once.
    ASSERT_EQ(store::late_deposits_of_order(db(), o.id)->size(), 1u);
    ASSERT_EQ(events_of(o).size(), 2u);
    EXPECT_EQ(events_of(o)[1].type, "order.late_payment");
    EXPECT_EQ(events_of(o)[1].id, event_id(o.id, "order.late_payment/" + late.id));
    EXPECT_EQ(*orders::expire_due(db(), cfg_, kNow + 120'000), 0);
    // Even a payment the scanner sees while the order still waits does not
    // count when its block is younger than expiresAt.
    auto r2 = request("SHOP-3b", "10");
    r2.expires_in_s = 60;
    auto o2 = create(r2);
    auto after = deposit(o2, "10000000", "0x21", kNow + 60'001);
    EXPECT_EQ(reload(o2).status, "waiting");
    EXPECT_FALSE(store::order_of_deposit(db(), after.id)->has_value());
}

TEST_F(OrdersState, PaymentMinedInTimeButSeenAfterExpiryStillPays) {
    // The daemon was down: the order expired at start, then the catch-up
    // finds a payment mined before expiresAt.
    auto r = request("SHOP-6", "10");
    r.expires_in_s = 60;
    auto o = create(r);
    ASSERT_EQ(*orders::expire_due(db(), cfg_, kNow + 600'000), 1);
    auto d = deposit(o, "10000000", "0x50", kNow + 30'000, kNow + 600'500);
    auto paid = reload(o);
    EXPECT_EQ(paid.status, "paid");
    EXPECT_FALSE(paid.expired_at.has_value());
    change(d, "confirmed", kNow + 601'000);
    EXPECT_EQ(reload(o).status, "completed");
    auto ev = events_of(o);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(ev[0].type, "order.expired");
    EXPECT_EQ(ev[1].type, "order.paid");
    EXPECT_EQ(ev[2].type, "order.completed");
    // A payment mined before the order existed is not its payment.
    auto o2 = create(request("SHOP-7", "10"), kNow + 700'000);
    auto old = deposit(o2, "10000000", "0x51", kNow + 500'000, kNow + 700'001);
    EXPECT_EQ(reload(o2).status, "waiting");
    EXPECT_FALSE(store::order_of_deposit(db(), old.id)->has_value());
}

// SPEC §8 / §10: block clocks run behind. A payment whose block is dated
// before the order began counts for it within the chain's attribution_skew
// (2m by default), and not beyond.
TEST_F(OrdersState, APaymentDatedWithinTheSkewBeforeTheOrderPaysIt) {
    auto o = create(request("SKEW-1", "10"), kNow);
    deposit(o, "10000000", "0x60", kNow - 40'000, kNow + 1'000);
    EXPECT_EQ(reload(o).status, "paid");

    cfg_.chains[0].attribution_skew = std::chrono::seconds(5);
    auto p = create(request("SKEW-2", "10"), kNow);
    auto early = deposit(p, "10000000", "0x61", kNow - 40'000, kNow + 1'000);
    EXPECT_EQ(reload(p).status, "waiting");
    EXPECT_FALSE(store::order_of_deposit(db(), early.id)->has_value());
    EXPECT_TRUE(store::late_deposits_of_order(db(), p.id)->empty());
    deposit(p, "10000000", "0x62", kNow - 4'000, kNow + 1'000);  // within 5 s
    EXPECT_EQ(reload(p).status, "paid");
}

// Mode amount: an ended order keeps its amount for [orders].amount_hold, so
// the next order at that price gets another one; the first buyer paying
// late pays nobody else, and the ended order reports order.late_payment.
TEST_F(OrdersState, AmountModeHoldsEndedAmountsAndReportsLatePayments) {
    cfg_.orders.mode = config::OrdersConfig::Mode::amount;
    cfg_.orders.receive["local"] = kReceive;
    ASSERT_TRUE(orders::prepare_receive_addresses(db(), cfg_, kNow).ok());
    auto ra = request("A", "10");
    ra.expires_in_s = 60;
    auto a = create(ra, kNow);
    ASSERT_EQ(*orders::expire_due(db(), cfg_, kNow + 60'000), 1);
    auto b = create(request("B", "10"), kNow + 61'000);
    EXPECT_EQ(a.pay_raw, "10000000");
    EXPECT_EQ(b.pay_raw, "10010000");  // A's amount is held
    auto late = deposit(a, "10000000", "0x70", kNow + 70'000);
    EXPECT_EQ(reload(b).status, "waiting");
    EXPECT_EQ(reload(b).paid_raw, "0");
    EXPECT_EQ(reload(a).status, "expired");
    EXPECT_EQ(reload(a).paid_raw, "0");
    auto ev = events_of(a);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[1].type, "order.late_payment");
    auto body = json::parse(ev[1].payload).as_object();
    auto data = body["data"].as_object();
    EXPECT_EQ(std::string(data["id"].as_string()), a.id);
    EXPECT_EQ(data["status"], "expired");
    EXPECT_EQ(data["paidAmount"], "0");
    ASSERT_EQ(data["latePayments"].as_array().size(), 1u);
    EXPECT_EQ(std::string(data["deposit"].as_object()["id"].as_string()), late.id);
    EXPECT_TRUE(events_of(b).empty());
    // The JSON of the order shows it.
    auto j = orders::load_order_json(db(), reload(a), cfg_);
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(j->at("latePayments").as_array().size(), 1u);
    EXPECT_TRUE(j->at("deposits").as_array().empty());
    // Once the hold is over the amount is free again.
    auto c = create(request("C", "10"), kNow + 60'000 + 3'600'000 + 1);
    EXPECT_EQ(c.pay_raw, "10000000");
}

// An order that began after the block takes the payment only when nobody
// held that amount then: a payment dated in A's hold, before B began
// (within the skew), is A's late payment, not B's.
TEST_F(OrdersState, AnEarlyPaymentIsNotCreditedOverAnEndedHolder) {
    cfg_.orders.mode = config::OrdersConfig::Mode::amount;
    cfg_.orders.receive["local"] = kReceive;
    cfg_.orders.amount_hold = std::chrono::seconds(8);  // A holds its amount until +68 s
    ASSERT_TRUE(orders::prepare_receive_addresses(db(), cfg_, kNow).ok());
    auto ra = request("A", "10");
    ra.expires_in_s = 60;
    auto a = create(ra, kNow);
    ASSERT_EQ(*orders::expire_due(db(), cfg_, kNow + 60'000), 1);
    auto b = create(request("B", "10"), kNow + 70'000);
    ASSERT_EQ(b.pay_raw, a.pay_raw);  // the hold is over: the same amount
    deposit(a, "10000000", "0x80", kNow + 65'000, kNow + 71'000);
    EXPECT_EQ(reload(b).status, "waiting");
    EXPECT_EQ(store::late_deposits_of_order(db(), a.id)->size(), 1u);
    // Dated after A's hold (and within the skew before B): B's.
    deposit(b, "10000000", "0x81", kNow + 69'000, kNow + 71'500);
    EXPECT_EQ(reload(b).status, "paid");
}

// Address mode: a payment after the order completed is its late payment.
TEST_F(OrdersState, APaymentAfterCompletionIsALatePayment) {
    auto o = create(request("DONE-1", "10"));
    auto d = deposit(o, "10000000", "0x90");
    change(d, "confirmed");
    ASSERT_EQ(reload(o).status, "completed");
    auto again = deposit(o, "10000000", "0x91", kNow + 5'000);
    EXPECT_EQ(reload(o).paid_raw, "10000000");
    EXPECT_EQ(store::late_deposits_of_order(db(), o.id)->size(), 1u);
    EXPECT_FALSE(store::order_of_deposit(db(), again.id)->has_value());
    // Its later changes move nothing.
    change(again, "confirmed", kNow + 9'000);
    EXPECT_EQ(reload(o).status, "completed");
    EXPECT_EQ(reload(o).paid_raw, "10000000");
}

TEST_F(OrdersState, RepeatedMerchantIds) {
    auto first = create(request("SHOP-4", "10"));
    auto again = orders::create_order(db(), cfg_, nullptr, request("SHOP-4", "99"), kNow);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.order->id, first.id);  // the API: the same order, whatever was sent

    auto epay = request("SHOP-5", "10");
    epay.reuse_any = false;
    auto e1 = create(epay);
    auto e2 = orders::create_order(db(), cfg_, nullptr, epay, kNow);
    ASSERT_TRUE(e2.ok());
    EXPECT_EQ(e2.order->id, e1.id);
    auto other = epay;
    other.amount = "11";
    auto e3 = orders::create_order(db(), cfg_, nullptr, other, kNow);
    ASSERT_FALSE(e3.ok());
    EXPECT_EQ(e3.failure, orders::Failure::conflict);
    // After expiry the same out_trade_no starts a new order.
    ASSERT_GE(*orders::expire_due(db(), cfg_, kNow + cfg_.orders.expiry.count()), 1);
    auto e4 = orders::create_order(db(), cfg_, nullptr, epay, kNow + cfg_.orders.expiry.count() + 1);
    ASSERT_TRUE(e4.ok()) << e4.message;
    EXPECT_TRUE(e4.created);
    EXPECT_NE(e4.order->id, e1.id);
}

TEST_F(OrdersState, PoolExhaustionAndBadRequests) {
    create(request("P1", "1"));
    create(request("P2", "1"));
    create(request("P3", "1"));
    auto none = orders::create_order(db(), cfg_, nullptr, request("P4", "1"), kNow);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.failure, orders::Failure::insufficient_addresses);
    for (const char* amount : {"0", "-1", "1e3", "abc", "0.0000001"}) {
        auto bad = orders::create_order(db(), cfg_, nullptr, request("P5", amount), kNow);
        EXPECT_FALSE(bad.ok()) << amount;
        EXPECT_EQ(bad.failure, orders::Failure::invalid) << amount;
    }
    auto r = request("P6", "1");
    r.pay = "doge.local";
    EXPECT_EQ(orders::create_order(db(), cfg_, nullptr, r, kNow).failure, orders::Failure::invalid);
    r.pay = std::nullopt;
    r.in_fiat = true;  // no [orders].fiat
    EXPECT_EQ(orders::create_order(db(), cfg_, nullptr, r, kNow).failure, orders::Failure::invalid);
    // Nothing was written by the refusals.
    EXPECT_EQ(store::list_orders(db(), {})->total, 3u);
}

TEST_F(OrdersState, EpayNotifyIsSignedAndDurable) {
    json::object merchant;
    merchant["type"] = "usdt.local";
    merchant["name"] = "VIP 会员";
    merchant["money"] = "70.00";
    merchant["param"] = "";
    auto r = request("EP-1", "10");
    r.source = "epay";
    r.notify_url = "https://shop.example/epay/notify";
    r.redirect_url = "https://shop.example/return";
    r.merchant = json::serialize(merchant);
    r.reuse_any = false;
    auto o = create(r);
    auto d = deposit(o, "10000000", "0x30");
    change(d, "confirmed");
    auto ev = events_of(o);
    ASSERT_EQ(ev.size(), 3u);
    const auto& n = ev[2];
    EXPECT_EQ(n.type, "epay.notify");
    EXPECT_EQ(n.kind, "epay");
    EXPECT_EQ(n.stream, o.id + "/notify");
    EXPECT_EQ(n.id, event_id(o.id, "epay.notify"));
    // Parameters: no empty `param`; signed over the rest.
    auto shown = json::parse(n.payload).as_object();
    EXPECT_FALSE(shown.contains("param"));
    orders::Params p;
    for (const auto& kv : shown) p.emplace_back(std::string(kv.key()), std::string(kv.value().as_string()));
    const std::string sign(shown["sign"].as_string());
    EXPECT_EQ(sign, orders::md5_hex("money=70.00&name=VIP 会员&out_trade_no=EP-1&pid=1001&trade_no=" + o.id +
                                    "&trade_status=TRADE_SUCCESS&type=usdt.localmerchant-key-0123456789abcdef0123"));
    EXPECT_EQ(shown["sign_type"], "MD5");
    EXPECT_EQ(n.target.rfind("https://shop.example/epay/notify?pid=1001&trade_no=" + o.id, 0), 0u) << n.target;
    EXPECT_NE(n.target.find("name=VIP%20%E4%BC%9A%E5%91%98"), std::string::npos);
    // The payer goes back with the same signed parameters.
    auto back = orders::completion_redirect(reload(o), cfg_);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->rfind("https://shop.example/return?pid=1001&", 0), 0u);
    EXPECT_NE(back->find("sign=" + sign), std::string::npos);
}

TEST_F(OrdersState, EpusdtCallbackIsStatusTwoAndSigned) {
    json::object merchant;
    merchant["amount"] = "70.5";
    auto r = request("EU-1", "10");
    r.source = "epusdt";
    r.notify_url = "https://shop.example/epusdt/notify";
    r.merchant = json::serialize(merchant);
    r.reuse_any = false;
    auto o = create(r);
    auto d = deposit(o, "10000000", "0x40");
    change(d, "confirmed");
    auto ev = events_of(o);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(ev[2].type, "epusdt.callback");
    EXPECT_EQ(ev[2].kind, "epusdt");
    EXPECT_EQ(ev[2].target, "https://shop.example/epusdt/notify");
    auto body = json::parse(ev[2].payload).as_object();
    EXPECT_EQ(body["status"].as_int64(), 2);
    EXPECT_EQ(body["amount"].as_double(), 70.5);
    EXPECT_EQ(body["actual_amount"].as_int64(), 10);
    EXPECT_EQ(body["block_transaction_id"], "0x40");
    EXPECT_NE(ev[2].payload.find("\"amount\":70.5"), std::string::npos) << ev[2].payload;
    const std::string expected = orders::md5_hex("actual_amount=10&amount=70.5&block_transaction_id=0x40&order_id=EU-1&"
                                                 "status=2&token=" + o.address + "&trade_id=" + o.id +
                                                 "merchant-key-0123456789abcdef0123");
    EXPECT_EQ(std::string(body["signature"].as_string()), expected);
}

}  // namespace

// --- Settling an order by hand (POST /api/v1/orders/{id}/mark-paid) ------------------

TEST_F(OrdersState, MarkPaidRunsTheCompletionFlowAndWritesTheAuditLog) {
    auto r = request("SHOP-M1", "10");
    r.source = "epay";
    r.notify_url = "https://shop.example/notify";
    r.merchant = R"({"type":"usdt.local","name":"VIP","money":"10"})";
    auto o = create(r);
    const orders::Actor who{"api", "shop", std::string("127.0.0.1")};
    auto done = orders::mark_paid(db(), cfg_, o.id, "paid by bank transfer, ticket #42", who, kNow + 5000);
    ASSERT_EQ(done.kind, orders::MarkPaidOutcome::Kind::done) << done.message;
    EXPECT_EQ(done.from, "waiting");
    auto now = reload(o);
    EXPECT_EQ(now.status, "completed");
    EXPECT_TRUE(now.manual);
    EXPECT_EQ(now.paid_raw, "0");  // nothing arrived on chain: paidAmount says so
    EXPECT_EQ(*now.paid_at, kNow + 5000);
    EXPECT_EQ(*now.completed_at, kNow + 5000);
    EXPECT_EQ(address_state(o.address_id), "cooling");

    // order.paid and order.completed, both "manual": true, then the EPay notify.
    auto ev = events_of(o);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(ev[0].type, "order.paid");
    EXPECT_EQ(ev[1].type, "order.completed");
    EXPECT_EQ(ev[2].type, "epay.notify");
    for (int i = 0; i < 2; ++i) {
        auto data = json::parse(ev[static_cast<std::size_t>(i)].payload).as_object()["data"].as_object();
        EXPECT_EQ(data["manual"], true);
        EXPECT_EQ(data["paidAmount"], "0");
    }
    EXPECT_NE(ev[2].target.find("trade_status=TRADE_SUCCESS"), std::string::npos);

    auto q = db().prepare("SELECT actor_kind, actor, action, target, reason, client, detail FROM audit_log");
    ASSERT_TRUE(*q.step());
    EXPECT_EQ(q.text(0), "api");
    EXPECT_EQ(q.text(1), "shop");
    EXPECT_EQ(q.text(2), "order.mark_paid");
    EXPECT_EQ(q.text(3), o.id);
    EXPECT_EQ(q.text(4), "paid by bank transfer, ticket #42");
    EXPECT_EQ(q.text(5), "127.0.0.1");
    auto detail = json::parse(q.text(6)).as_object();
    EXPECT_EQ(detail["from"], "waiting");
    EXPECT_EQ(detail["to"], "completed");
    EXPECT_FALSE(*q.step());

    // Twice: a conflict, nothing new.
    auto again = orders::mark_paid(db(), cfg_, o.id, "again", who, kNow + 6000);
    EXPECT_EQ(again.kind, orders::MarkPaidOutcome::Kind::conflict);
    EXPECT_EQ(events_of(o).size(), 3u);
    auto n = db().prepare("SELECT count(*) FROM audit_log");
    ASSERT_TRUE(*n.step());
    EXPECT_EQ(n.int64(0), 1);
}

TEST_F(OrdersState, MarkPaidOfAPaidOrderCompletesItOnlyAndLateConfirmationsChangeNothing) {
    auto o = create(request("SHOP-M2", "10"));
    auto d = deposit(o, "10000000", "0x0m2");
    EXPECT_EQ(reload(o).status, "paid");
    const orders::Actor who{"console", "alice", std::nullopt};
    auto done = orders::mark_paid(db(), cfg_, o.id, "chain halted, checked on the explorer", who, kNow + 2000);
    ASSERT_EQ(done.kind, orders::MarkPaidOutcome::Kind::done) << done.message;
    EXPECT_EQ(done.from, "paid");
    auto ev = events_of(o);
    ASSERT_EQ(ev.size(), 2u);  // no second order.paid
    EXPECT_EQ(ev[0].type, "order.paid");
    EXPECT_EQ(json::parse(ev[0].payload).as_object()["data"].as_object()["manual"], false);
    EXPECT_EQ(ev[1].type, "order.completed");
    EXPECT_EQ(json::parse(ev[1].payload).as_object()["data"].as_object()["manual"], true);
    // Its deposit confirms later, or is reverted: the order stays completed, no new event.
    change(d, "confirmed", kNow + 9000);
    EXPECT_EQ(reload(o).status, "completed");
    EXPECT_EQ(events_of(o).size(), 2u);
}

TEST_F(OrdersState, MarkPaidRefusesBadReasonsAndUnknownOrdersAndChangesNothing) {
    auto o = create(request("SHOP-M3", "10"));
    const orders::Actor who{"api", "key#1", std::nullopt};
    for (std::string bad : {std::string(""), std::string("   "), std::string("two\nlines"), std::string(501, 'x')}) {
        auto r = orders::mark_paid(db(), cfg_, o.id, bad, who, kNow);
        EXPECT_EQ(r.kind, orders::MarkPaidOutcome::Kind::invalid) << bad.size();
    }
    // 500 characters of Chinese (1500 bytes) is fine.
    std::string long_ok;
    for (int i = 0; i < 500; ++i) long_ok += "付";
    EXPECT_FALSE(orders::check_reason(long_ok));
    EXPECT_TRUE(orders::check_reason(long_ok + "付"));
    auto missing = orders::mark_paid(db(), cfg_, "ord_missing", "x", who, kNow);
    EXPECT_EQ(missing.kind, orders::MarkPaidOutcome::Kind::not_found);
    EXPECT_EQ(reload(o).status, "waiting");
    EXPECT_TRUE(events_of(o).empty());
    auto n = db().prepare("SELECT count(*) FROM audit_log");
    ASSERT_TRUE(*n.step());
    EXPECT_EQ(n.int64(0), 0);
}

TEST_F(OrdersState, MarkPaidOfAnExpiredOrder) {
    auto o = create(request("SHOP-M4", "10"), kNow);
    ASSERT_EQ(*orders::expire_due(db(), cfg_, kNow + 31 * 60 * 1000), 1);
    EXPECT_EQ(reload(o).status, "expired");
    auto done = orders::mark_paid(db(), cfg_, o.id, "buyer paid late, shop accepted", {"api", "shop", std::nullopt},
                                  kNow + 40 * 60 * 1000);
    ASSERT_EQ(done.kind, orders::MarkPaidOutcome::Kind::done) << done.message;
    EXPECT_EQ(done.from, "expired");
    auto now = reload(o);
    EXPECT_EQ(now.status, "completed");
    EXPECT_FALSE(now.expired_at.has_value());
    auto ev = events_of(o);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(ev[0].type, "order.expired");
    EXPECT_EQ(ev[1].type, "order.paid");
    EXPECT_EQ(ev[2].type, "order.completed");
}
