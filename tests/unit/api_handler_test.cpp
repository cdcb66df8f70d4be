// Contract tests of SPEC §4 through api::Handler::handle (no socket).
#include <gtest/gtest.h>

#include <set>

#include "api/handler.hpp"
#include "api_test_util.hpp"
#include "core/metrics.hpp"
#include "store/chain_state.hpp"
#include "store/pool.hpp"

using namespace depositd;
using namespace depositd::api;
using namespace depositd::api::testing;

namespace {

class ApiHandler : public ::testing::Test {
protected:
    ApiHandler() : config_(make_config()), clock_(1'767'225'600'000) /* 2026-01-01 */ {}

    Handler& handler() {
        if (!handler_) handler_ = std::make_unique<Handler>(tmp_.store(), config_, clock_, &board_);
        return *handler_;
    }
    store::Database& db() { return tmp_.db(); }

    Response call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& auth = std::string("Bearer ") + kKey) {
        Request r;
        r.method = method;
        r.target = target;
        r.authorization = auth;
        r.content_type = body.empty() ? "" : "application/json";
        r.body = body;
        return handler().handle(r);
    }
    json::object ok_data(const Response& r) {
        auto v = parse(r.body).as_object();
        EXPECT_TRUE(v.at("success").as_bool()) << r.body;
        EXPECT_TRUE(v.contains("message")) << r.body;
        return v.at("data").as_object();
    }
    json::object bind(const std::string& ref, const std::string& protocol = "evm", int expect = 201) {
        auto r = call("POST", "/api/v1/deposits/bind",
                      R"({"depositReference":")" + ref + R"(","protocol":")" + protocol + R"("})");
        EXPECT_EQ(r.status, expect) << r.body;
        if (r.status >= 300) return {};
        return ok_data(r);
    }
    void expect_error(const Response& r, int status, const std::string& error,
                      const std::string& message_part = "") {
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_EQ(r.content_type, "application/json");
        auto v = parse(r.body).as_object();
        EXPECT_FALSE(v.at("success").as_bool()) << r.body;
        EXPECT_EQ(v.at("error").as_string(), error) << r.body;
        if (!message_part.empty()) {
            EXPECT_NE(std::string(v.at("message").as_string()).find(message_part), std::string::npos) << r.body;
        }
    }

    // What the chain loops would report.
    void chain_state(const std::string& chain, std::uint64_t scanned, std::uint64_t head,
                     const std::string& status = "ok") {
        ChainHealth h;
        h.status = status;
        h.scanned = scanned;
        h.head = head;
        h.updated_at = clock_.now_ms();
        board_.put(chain, h);
    }

    config::Config config_;
    ManualClock clock_;
    TempDb tmp_;
    HealthBoard board_;
    std::unique_ptr<Handler> handler_;
};

// --- bind --------------------------------------------------------------------

TEST_F(ApiHandler, BindCreatesThenReturnsSameAddress) {
    add_addresses(db(), "evm", 3);
    auto r = call("POST", "/api/v1/deposits/bind", R"({"depositReference":"player_42","protocol":"evm"})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto d = ok_data(r);
    EXPECT_EQ(d.at("depositReference").as_string(), "player_42");
    EXPECT_EQ(d.at("address").as_string(), "evm_addr_0");
    EXPECT_EQ(d.at("protocol").as_string(), "evm");
    EXPECT_EQ(d.at("createdAt").as_string(), "2026-01-01T00:00:00.000Z");
    ASSERT_EQ(d.at("monitoredChains").as_array().size(), 2u);
    EXPECT_EQ(d.at("monitoredChains").as_array()[0].as_string(), "ethereum");
    EXPECT_EQ(d.at("monitoredChains").as_array()[1].as_string(), "bsc");

    clock_.advance(std::chrono::seconds(5));
    auto again = call("POST", "/api/v1/deposits/bind", R"({"depositReference":"player_42","protocol":"evm"})");
    ASSERT_EQ(again.status, 200) << again.body;
    auto d2 = ok_data(again);
    EXPECT_EQ(d2.at("address").as_string(), "evm_addr_0");
    EXPECT_EQ(d2.at("createdAt").as_string(), "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(scalar(db(), "SELECT count(*) FROM bindings"), 1);
    EXPECT_EQ(scalar(db(), "SELECT count(*) FROM addresses WHERE state = 'bound'"), 1);
}

TEST_F(ApiHandler, BindSameReferenceOtherProtocolIsAnotherBinding) {
    add_addresses(db(), "evm", 2);
    add_addresses(db(), "tron", 2);
    auto a = bind("player_1", "evm");
    auto b = bind("player_1", "tron");
    EXPECT_EQ(a.at("address").as_string(), "evm_addr_0");
    EXPECT_EQ(b.at("address").as_string(), "tron_addr_0");
    ASSERT_EQ(b.at("monitoredChains").as_array().size(), 1u);
    EXPECT_EQ(b.at("monitoredChains").as_array()[0].as_string(), "tron");
}

TEST_F(ApiHandler, BindKeepsMetadata) {
    add_addresses(db(), "evm", 1);
    auto r = call("POST", "/api/v1/deposits/bind",
                  R"({"depositReference":"u1","protocol":"evm","metadata":{"userId":7,"tier":"gold"}})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto d = ok_data(r);
    EXPECT_EQ(d.at("metadata").at("userId").as_int64(), 7);
    EXPECT_EQ(text_scalar(db(), "SELECT metadata FROM bindings"), R"({"userId":7,"tier":"gold"})");
}

TEST_F(ApiHandler, TwoHundredSequentialBindsGetDistinctAddresses) {
    add_addresses(db(), "evm", 200);
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        auto d = bind("ref_" + std::to_string(i));
        seen.insert(std::string(d.at("address").as_string()));
    }
    EXPECT_EQ(seen.size(), 200u);
    auto r = call("POST", "/api/v1/deposits/bind", R"({"depositReference":"ref_200","protocol":"evm"})");
    expect_error(r, 409, "InsufficientAddresses");
}

TEST_F(ApiHandler, BindWithEmptyPoolIs409InsufficientAddresses) {
    auto before = snapshot(db());
    auto r = call("POST", "/api/v1/deposits/bind", R"({"depositReference":"a","protocol":"solana"})");
    expect_error(r, 409, "InsufficientAddresses", "solana");
    EXPECT_EQ(snapshot(db()), before);
}

// --- unbind and cooldown -----------------------------------------------------

TEST_F(ApiHandler, UnbindThenBindGivesNewAddressAndOldOneNeverAgain) {
    add_addresses(db(), "evm", 3);
    auto first = bind("player_9");
    ASSERT_EQ(first.at("address").as_string(), "evm_addr_0");

    auto u = call("POST", "/api/v1/deposits/unbind", R"({"depositReference":"player_9"})");
    ASSERT_EQ(u.status, 200) << u.body;
    auto ud = ok_data(u);
    ASSERT_EQ(ud.at("unbound").as_array().size(), 1u);
    EXPECT_EQ(ud.at("unbound").as_array()[0].at("address").as_string(), "evm_addr_0");
    EXPECT_TRUE(ud.at("reusableAfter").is_null());
    EXPECT_EQ(text_scalar(db(), "SELECT state FROM addresses WHERE address = 'evm_addr_0'"), "cooling");
    EXPECT_EQ(scalar(db(), "SELECT cooldown_until IS NULL FROM addresses WHERE address = 'evm_addr_0'"), 1);

    // The reference is no longer bound.
    expect_error(call("GET", "/api/v1/deposits/references/player_9"), 404, "NotFound");

    auto second = bind("player_9");
    EXPECT_EQ(second.at("address").as_string(), "evm_addr_1");
    auto third = bind("other");
    EXPECT_EQ(third.at("address").as_string(), "evm_addr_2");
    // Pool exhausted: the cooled-for-ever address is not handed out, even years later.
    clock_.advance(std::chrono::hours(24 * 365 * 10));
    expect_error(call("POST", "/api/v1/deposits/bind", R"({"depositReference":"x","protocol":"evm"})"), 409,
                 "InsufficientAddresses");
}

TEST_F(ApiHandler, CooldownReleasesTheAddressAfterTheConfiguredTime) {
    config_.pool.cooldown = std::chrono::hours(1);
    add_addresses(db(), "evm", 1);
    EXPECT_EQ(bind("a").at("address").as_string(), "evm_addr_0");
    auto u = call("POST", "/api/v1/deposits/unbind", R"({"depositReference":"a","protocol":"evm"})");
    ASSERT_EQ(u.status, 200) << u.body;
    EXPECT_EQ(ok_data(u).at("reusableAfter").as_string(), "2026-01-01T01:00:00.000Z");

    bind("b", "evm", 409);
    clock_.advance(std::chrono::minutes(59));
    bind("b", "evm", 409);
    clock_.advance(std::chrono::minutes(1));
    EXPECT_EQ(bind("b").at("address").as_string(), "evm_addr_0");
    EXPECT_EQ(text_scalar(db(), "SELECT state FROM addresses"), "bound");
}

TEST_F(ApiHandler, BindPicksLowestIdAmongFreeAndCooled) {
    config_.pool.cooldown = std::chrono::minutes(1);
    add_addresses(db(), "evm", 3);
    bind("a");  // 0
    bind("b");  // 1
    ASSERT_EQ(call("POST", "/api/v1/deposits/unbind", R"({"depositReference":"a"})").status, 200);
    clock_.advance(std::chrono::minutes(2));
    EXPECT_EQ(bind("c").at("address").as_string(), "evm_addr_0");  // cooled id 1 < free id 3
    EXPECT_EQ(bind("d").at("address").as_string(), "evm_addr_2");
}

TEST_F(ApiHandler, UnbindOnlyTheGivenProtocol) {
    add_addresses(db(), "evm", 2);
    add_addresses(db(), "tron", 2);
    bind("p", "evm");
    bind("p", "tron");
    auto u = call("POST", "/api/v1/deposits/unbind", R"({"depositReference":"p","protocol":"tron"})");
    ASSERT_EQ(u.status, 200) << u.body;
    auto left = call("GET", "/api/v1/deposits/references/p");
    ASSERT_EQ(left.status, 200) << left.body;
    EXPECT_EQ(ok_data(left).at("protocol").as_string(), "evm");
    EXPECT_EQ(ok_data(left).at("bindings").as_array().size(), 1u);
}

TEST_F(ApiHandler, UnbindUnknownReferenceIs404AndChangesNothing) {
    add_addresses(db(), "evm", 2);
    bind("known");
    auto before = snapshot(db());
    expect_error(call("POST", "/api/v1/deposits/unbind", R"({"depositReference":"unknown"})"), 404, "NotFound");
    expect_error(call("POST", "/api/v1/deposits/unbind", R"({"depositReference":"known","protocol":"tron"})"), 404,
                 "NotFound");
    EXPECT_EQ(snapshot(db()), before);
}

// --- reference totals ----------------------------------------------------------

TEST_F(ApiHandler, ReferenceReportsExactTotals) {
    auto first = add_addresses(db(), "evm", 2);
    bind("player_42");
    auto d1 = make_deposit(first, "evm_addr_0", "player_42", "ethereum", "0x01", "125500000", 6, "confirmed", 1);
    auto d2 = make_deposit(first, "evm_addr_0", "player_42", "ethereum", "0x02", "1", 6, "pending", 2);
    auto d3 = make_deposit(first, "evm_addr_0", "player_42", "bsc", "0x03", "1000000000000000000000001", 18,
                           "confirmed", 3, "USDT");
    auto d4 = make_deposit(first, "evm_addr_0", "player_42", "ethereum", "0x04", "999", 6, "reverted", 4);
    for (auto* d : {&d1, &d2, &d3, &d4}) ASSERT_TRUE(store::insert_deposit(db(), *d).ok());

    auto r = call("GET", "/api/v1/deposits/references/player_42");
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = ok_data(r);
    EXPECT_EQ(d.at("depositReference").as_string(), "player_42");
    EXPECT_EQ(d.at("address").as_string(), "evm_addr_0");
    EXPECT_EQ(d.at("protocol").as_string(), "evm");
    EXPECT_EQ(d.at("totalDeposits").as_int64(), 3);
    EXPECT_EQ(d.at("boundAt").as_string(), "2026-01-01T00:00:00.000Z");
    const auto& totals = d.at("totals").as_array();
    ASSERT_EQ(totals.size(), 2u) << r.body;
    EXPECT_EQ(totals[0].at("chainId").as_string(), "bsc");
    EXPECT_EQ(totals[0].at("amount").as_string(), "1000000.000000000000000001");
    EXPECT_EQ(totals[1].at("chainId").as_string(), "ethereum");
    EXPECT_EQ(totals[1].at("currency").as_string(), "USDT");
    EXPECT_EQ(totals[1].at("amount").as_string(), "125.500001");
}

TEST_F(ApiHandler, ReferenceNeverBoundIs404) {
    expect_error(call("GET", "/api/v1/deposits/references/nobody"), 404, "NotFound", "nobody");
}

TEST_F(ApiHandler, PathSegmentsArePercentDecoded) {
    add_addresses(db(), "evm", 1);
    bind("player:42@eu");
    auto r = call("GET", "/api/v1/deposits/references/player%3A42%40eu");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(ok_data(r).at("depositReference").as_string(), "player:42@eu");
}

// --- deposits --------------------------------------------------------------------

TEST_F(ApiHandler, ListDepositsWithFiltersAndPagination) {
    auto first = add_addresses(db(), "evm", 2);
    bind("alice");
    for (int i = 0; i < 25; ++i) {
        auto d = make_deposit(first, "evm_addr_0", "alice", i % 2 ? "bsc" : "ethereum", "0xa" + std::to_string(i),
                              "1000000", 6, i < 5 ? "pending" : "confirmed", 1000 + i);
        ASSERT_TRUE(store::insert_deposit(db(), d).ok());
    }
    auto nobody = make_deposit(first + 1, "evm_addr_1", std::nullopt, "ethereum", "0xb", "5", 0, "pending", 5000,
                               "ETH");
    ASSERT_TRUE(store::insert_deposit(db(), nobody).ok());

    auto all = call("GET", "/api/v1/deposits");
    ASSERT_EQ(all.status, 200) << all.body;
    auto d = ok_data(all);
    EXPECT_EQ(d.at("deposits").as_array().size(), 20u);
    EXPECT_EQ(d.at("pagination").at("total").as_int64(), 26);
    EXPECT_EQ(d.at("pagination").at("page").as_int64(), 1);
    EXPECT_EQ(d.at("pagination").at("limit").as_int64(), 20);
    EXPECT_EQ(d.at("pagination").at("totalPages").as_int64(), 2);
    // Newest first; the unbound address's deposit has depositReference null.
    EXPECT_TRUE(d.at("deposits").as_array()[0].at("depositReference").is_null());
    EXPECT_EQ(d.at("deposits").as_array()[0].at("amount").as_string(), "5");

    auto p2 = ok_data(call("GET", "/api/v1/deposits?depositReference=alice&limit=10&page=3"));
    EXPECT_EQ(p2.at("deposits").as_array().size(), 5u);
    EXPECT_EQ(p2.at("pagination").at("total").as_int64(), 25);
    EXPECT_EQ(p2.at("pagination").at("totalPages").as_int64(), 3);

    auto pending = ok_data(call("GET", "/api/v1/deposits?status=pending&chainId=ethereum&currency=USDT"));
    EXPECT_EQ(pending.at("pagination").at("total").as_int64(), 3);  // i = 0, 2, 4
    for (const auto& x : pending.at("deposits").as_array()) {
        EXPECT_EQ(x.at("status").as_string(), "pending");
        EXPECT_EQ(x.at("chainId").as_string(), "ethereum");
        EXPECT_EQ(x.at("amount").as_string(), "1");
        EXPECT_EQ(x.at("rawAmount").as_string(), "1000000");
    }

    auto beyond = ok_data(call("GET", "/api/v1/deposits?page=99"));
    EXPECT_EQ(beyond.at("deposits").as_array().size(), 0u);

    auto one = call("GET", "/api/v1/deposits/" + nobody.id);
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(ok_data(one).at("id").as_string(), nobody.id);
    EXPECT_EQ(ok_data(one).at("currency").as_string(), "ETH");
    expect_error(call("GET", "/api/v1/deposits/dep_000000000000000000000000"), 404, "NotFound");
}

TEST_F(ApiHandler, ListDepositsWithKeysetCursor) {
    auto first = add_addresses(db(), "evm", 1);
    bind("carol");
    // 45 deposits, detected in bursts of 3 at the same millisecond (ties).
    std::vector<std::string> expected;  // list order: newest first, the later insert first among ties
    for (int i = 0; i < 45; ++i) {
        auto d = make_deposit(first, "evm_addr_0", "carol", i % 3 ? "bsc" : "ethereum", "0xc" + std::to_string(i),
                              "7", 0, i < 9 ? "pending" : "confirmed", 2000 + i / 3);
        ASSERT_TRUE(store::insert_deposit(db(), d).ok());
        expected.insert(expected.begin(), d.id);
    }

    // Walk every page with the cursor; page numbers count on; limit may change.
    std::vector<std::string> seen;
    auto d = ok_data(call("GET", "/api/v1/deposits?limit=10"));
    int page = 1;
    for (;;) {
        const auto& pg = d.at("pagination").as_object();
        EXPECT_EQ(pg.at("page").as_int64(), page);
        EXPECT_EQ(pg.at("total").as_int64(), 45);
        EXPECT_TRUE(pg.contains("totalPages"));
        for (const auto& x : d.at("deposits").as_array()) seen.push_back(std::string(x.at("id").as_string()));
        if (pg.at("nextCursor").is_null()) break;
        const std::string cursor(pg.at("nextCursor").as_string());
        EXPECT_LT(cursor.size(), 200u);
        ++page;
        d = ok_data(call("GET", "/api/v1/deposits?limit=" + std::string(page == 3 ? "7" : "10") + "&cursor=" + cursor));
        ASSERT_LT(page, 20);
    }
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(page, 5);  // 10 + 10 + 7 + 10 + 8

    // The same walk through offset pages gives the same order, and page 1's
    // nextCursor leads to what page 2 shows.
    auto p1 = ok_data(call("GET", "/api/v1/deposits?status=confirmed&limit=5"));
    auto p2 = ok_data(call("GET", "/api/v1/deposits?status=confirmed&limit=5&page=2"));
    const std::string c1(p1.at("pagination").at("nextCursor").as_string());
    auto via_cursor = ok_data(call("GET", "/api/v1/deposits?status=confirmed&limit=5&cursor=" + c1));
    EXPECT_EQ(json::serialize(via_cursor.at("deposits")), json::serialize(p2.at("deposits")));
    EXPECT_EQ(via_cursor.at("pagination").at("page").as_int64(), 2);
    EXPECT_EQ(via_cursor.at("pagination").at("total").as_int64(), 36);

    // The last page has no next cursor, also when it is exactly full.
    auto last = ok_data(call("GET", "/api/v1/deposits?status=pending&limit=9"));
    EXPECT_EQ(last.at("deposits").as_array().size(), 9u);
    EXPECT_TRUE(last.at("pagination").at("nextCursor").is_null());
    auto empty = ok_data(call("GET", "/api/v1/deposits?status=reverted"));
    EXPECT_TRUE(empty.at("pagination").at("nextCursor").is_null());
    EXPECT_EQ(empty.at("pagination").at("total").as_int64(), 0);

    // Bad cursors are 400 ValidationError and change nothing.
    const std::string before = snapshot(db());
    expect_error(call("GET", "/api/v1/deposits?cursor=" + c1 + "&page=2"), 400, "ValidationError", "either page or cursor");
    expect_error(call("GET", "/api/v1/deposits?cursor=" + c1), 400, "ValidationError", "other filters");
    expect_error(call("GET", "/api/v1/deposits?status=pending&cursor=" + c1), 400, "ValidationError", "other filters");
    for (const std::string& bad : std::vector<std::string>{"", "zz", "abc", "not-a-cursor", std::string(600, 'a'), c1.substr(0, 12),
                                  c1 + "00", "313a323a313a6465705f783a30" /* 1:2:1:dep_x:0 */})
        expect_error(call("GET", "/api/v1/deposits?status=confirmed&cursor=" + bad), 400, "ValidationError",
                     "cursor is not valid");
    EXPECT_EQ(snapshot(db()), before);
}

// --- events ------------------------------------------------------------------------

TEST_F(ApiHandler, EventsListGetAndResend) {
    auto first = add_addresses(db(), "evm", 1);
    auto dep = make_deposit(first, "evm_addr_0", std::nullopt, "ethereum", "0xe1", "7", 0, "pending", 10);
    ASSERT_TRUE(store::insert_deposit(db(), dep).ok());
    for (const char* type : {"deposit.pending", "deposit.confirmed"}) {
        store::NewEvent e;
        e.deposit_id = dep.id;
        e.type = type;
        e.id = event_id(dep.id, type);
        e.payload = store::event_payload(e.id, type, 10, dep);
        e.created_at = 10;
        ASSERT_TRUE(store::insert_event(db(), e).ok());
    }
    std::string failed = event_id(dep.id, "deposit.pending");
    ASSERT_TRUE(db().exec("UPDATE events SET status = 'failed', attempts = 7, last_error = 'HTTP 500' WHERE id = '" +
                          failed + "'")
                    .ok());

    auto all = ok_data(call("GET", "/api/v1/events"));
    EXPECT_EQ(all.at("events").as_array().size(), 2u);
    EXPECT_EQ(all.at("pagination").at("total").as_int64(), 2);
    auto f = ok_data(call("GET", "/api/v1/events?status=failed"));
    ASSERT_EQ(f.at("events").as_array().size(), 1u);
    const auto& ev = f.at("events").as_array()[0].as_object();
    EXPECT_EQ(ev.at("id").as_string(), failed);
    EXPECT_EQ(ev.at("type").as_string(), "deposit.pending");
    EXPECT_EQ(ev.at("attempts").as_int64(), 7);
    EXPECT_EQ(ev.at("lastError").as_string(), "HTTP 500");
    EXPECT_EQ(ev.at("payload").at("data").at("id").as_string(), dep.id);
    auto t = ok_data(call("GET", "/api/v1/events?type=deposit.confirmed&limit=1"));
    EXPECT_EQ(t.at("events").as_array().size(), 1u);

    auto one = call("GET", "/api/v1/events/" + failed);
    ASSERT_EQ(one.status, 200) << one.body;

    int woken = 0;  // the daemon wakes its dispatcher: delivery now, not at the next poll
    handler().on_events_queued([&] { ++woken; });
    EXPECT_EQ(call("POST", "/api/v1/events/evt_nope/resend").status, 404);
    EXPECT_EQ(woken, 0);
    clock_.advance(std::chrono::seconds(30));
    auto rs = call("POST", "/api/v1/events/" + failed + "/resend");
    ASSERT_EQ(rs.status, 200) << rs.body;
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(ok_data(rs).at("status").as_string(), "pending");
    EXPECT_EQ(text_scalar(db(), "SELECT status FROM events WHERE id = '" + failed + "'"), "pending");
    EXPECT_EQ(scalar(db(), "SELECT next_attempt_at FROM events WHERE id = '" + failed + "'"), clock_.now_ms());

    auto before = snapshot(db());
    expect_error(call("POST", "/api/v1/events/evt_nope/resend"), 404, "NotFound");
    expect_error(call("GET", "/api/v1/events/evt_nope"), 404, "NotFound");
    EXPECT_EQ(snapshot(db()), before);
}

// --- health and metrics --------------------------------------------------------------

TEST_F(ApiHandler, HealthNeedsNoAuthAndReportsChains) {
    add_addresses(db(), "evm", 10);
    auto r = call("GET", "/health", "", "");
    ASSERT_EQ(r.status, 200) << r.body;
    auto h = parse(r.body).as_object();
    EXPECT_EQ(h.at("status").as_string(), "degraded");  // chains still starting
    EXPECT_EQ(h.at("version").as_string(), DEPOSITD_VERSION);
    ASSERT_EQ(h.at("chains").as_array().size(), 3u);
    EXPECT_TRUE(h.at("chains").as_array()[0].at("scanned").is_null());
    EXPECT_EQ(h.at("chains").as_array()[0].at("status").as_string(), "starting");
    EXPECT_TRUE(h.at("chains").as_array()[0].at("updatedAt").is_null());
    EXPECT_TRUE(h.at("chains").as_array()[0].at("lastError").is_null());

    for (const char* c : {"ethereum", "bsc", "tron"}) chain_state(c, 100, 112);
    h = parse(call("GET", "/health", "", "").body).as_object();
    EXPECT_EQ(h.at("status").as_string(), "ok") << json::serialize(h);
    const auto& eth = h.at("chains").as_array()[0];
    EXPECT_EQ(eth.at("chainId").as_string(), "ethereum");
    EXPECT_EQ(eth.at("status").as_string(), "ok");
    EXPECT_EQ(eth.at("head").to_number<std::int64_t>(), 112);
    EXPECT_EQ(eth.at("scanned").to_number<std::int64_t>(), 100);
    EXPECT_EQ(eth.at("lag").to_number<std::int64_t>(), 12);
    EXPECT_EQ(eth.at("updatedAt").as_string(), "2026-01-01T00:00:00.000Z");
    // Pool: evm has 10 free (>= low_water 5), tron has none -> low.
    bool saw_tron = false;
    for (const auto& p : h.at("pool").as_array()) {
        if (p.at("protocol").as_string() == "evm") {
            EXPECT_EQ(p.at("free").as_int64(), 10);
            EXPECT_FALSE(p.at("low").as_bool());
        }
        if (p.at("protocol").as_string() == "tron") {
            saw_tron = true;
            EXPECT_TRUE(p.at("low").as_bool());
        }
    }
    EXPECT_TRUE(saw_tron);

    ChainHealth halted;
    halted.status = "halted";
    halted.halted = "reorg deeper than 64 blocks";
    halted.last_error = "transport: connection refused";
    halted.last_error_at = clock_.now_ms();
    board_.put("bsc", halted);
    h = parse(call("GET", "/health", "", "").body).as_object();
    EXPECT_EQ(h.at("status").as_string(), "degraded");
    EXPECT_EQ(h.at("chains").as_array()[1].at("status").as_string(), "halted");
    EXPECT_EQ(h.at("chains").as_array()[1].at("halted").as_string(), "reorg deeper than 64 blocks");
    EXPECT_EQ(h.at("chains").as_array()[1].at("lastError").as_string(), "transport: connection refused");
}

TEST_F(ApiHandler, MetricsArePrometheusText) {
    add_addresses(db(), "evm", 3);
    bind("m1");
    chain_state("ethereum", 50, 60);
    auto first = scalar(db(), "SELECT min(id) FROM addresses");
    ASSERT_TRUE(
        store::insert_deposit(db(), make_deposit(first, "evm_addr_0", "m1", "ethereum", "0x9", "1", 0, "confirmed", 1))
            .ok());

    auto r = call("GET", "/metrics", "", "");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type.rfind("text/plain", 0), 0u);
    const auto& t = r.body;
    for (const char* want : {
             "# TYPE depositd_deposits gauge",
             "depositd_deposits{chain=\"ethereum\",status=\"confirmed\"} 1\n",
             "depositd_deposits{chain=\"bsc\",status=\"pending\"} 0\n",
             "depositd_events{status=\"failed\"} 0\n",
             "depositd_pool_addresses{protocol=\"evm\",state=\"free\"} 2\n",
             "depositd_pool_addresses{protocol=\"evm\",state=\"bound\"} 1\n",
             "depositd_pool_low{protocol=\"evm\"} 1\n",
             "depositd_pool_low{protocol=\"tron\"} 1\n",
             "depositd_chain_scanned_height{chain=\"ethereum\"} 50\n",
             "depositd_chain_head_height{chain=\"ethereum\"} 60\n",
             "depositd_chain_lag_blocks{chain=\"ethereum\"} 10\n",
             "depositd_api_requests_total{route=\"deposits.bind\",code=\"201\"}",
         })
        EXPECT_NE(t.find(want), std::string::npos) << want << "\n" << t;
}

// --- auth ----------------------------------------------------------------------------

TEST_F(ApiHandler, AuthCatalogue) {
    add_addresses(db(), "evm", 2);
    const std::string body = R"({"depositReference":"r","protocol":"evm"})";
    auto before = snapshot(db());
    for (const std::string& auth : {std::string(""), std::string("Bearer"), std::string("Bearer "),
                                    std::string("Bearer wrong-key-of-other-length"),
                                    std::string("Bearer sk_test_0123456789abcdeX"),  // same length, one char off
                                    std::string("Bearer ") + kKey + "x", std::string("Basic ") + kKey,
                                    std::string(kKey)}) {
        auto r = call("POST", "/api/v1/deposits/bind", body, auth);
        expect_error(r, 401, "Unauthorized");
        bool has_challenge = false;
        for (const auto& [k, v] : r.headers) has_challenge |= k == "WWW-Authenticate";
        EXPECT_TRUE(has_challenge);
        expect_error(call("GET", "/api/v1/deposits", "", auth), 401, "Unauthorized");
        expect_error(call("GET", "/api/v1/no/such/thing", "", auth), 401, "Unauthorized");
    }
    EXPECT_EQ(snapshot(db()), before);
    // Every configured key works; the scheme is case-insensitive.
    EXPECT_EQ(call("GET", "/api/v1/deposits", "", "Bearer second-key").status, 200);
    EXPECT_EQ(call("GET", "/api/v1/deposits", "", std::string("bearer ") + kKey).status, 200);
}

TEST_F(ApiHandler, NoConfiguredKeysMeansNoAccess) {
    config_.api.keys = {""};  // e.g. an unset ${VAR}
    expect_error(call("GET", "/api/v1/deposits", "", "Bearer "), 401, "Unauthorized");
    expect_error(call("GET", "/api/v1/deposits", "", "Bearer x"), 401, "Unauthorized");
}

// --- bad input catalogue: right status, right error, nothing changed -----------------------

TEST_F(ApiHandler, BadInputCatalogueChangesNothing) {
    add_addresses(db(), "evm", 5);
    bind("existing");
    const std::string big_ref(10 * 1024, 'a');
    const std::string big_meta = R"({"depositReference":"m","protocol":"evm","metadata":{"x":")" +
                                 std::string(5000, 'y') + R"("}})";
    struct Case {
        std::string method, target, body;
        int status;
        std::string error, message;
    };
    std::vector<Case> cases = {
        {"POST", "/api/v1/deposits/bind", "{not json", 400, "ValidationError", "Malformed JSON"},
        {"POST", "/api/v1/deposits/bind", "", 400, "ValidationError", "JSON object"},
        {"POST", "/api/v1/deposits/bind", "[1,2]", 400, "ValidationError", "JSON object"},
        {"POST", "/api/v1/deposits/bind", "\"str\"", 400, "ValidationError", "JSON object"},
        {"POST", "/api/v1/deposits/bind", "{}", 400, "ValidationError", "Required fields: depositReference, protocol"},
        {"POST", "/api/v1/deposits/bind", R"({"protocol":"evm"})", 400, "ValidationError",
         "Required fields: depositReference, protocol"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":"a"})", 400, "ValidationError",
         "Required fields: depositReference, protocol"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":null,"protocol":"evm"})", 400, "ValidationError",
         "Required fields"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":42,"protocol":"evm"})", 400, "ValidationError",
         "depositReference must be a string"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":"a","protocol":1})", 400, "ValidationError",
         "protocol must be a string"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":"a","protocol":"doge"})", 400, "ValidationError",
         "protocol must be one of evm, tron, bitcoin, solana"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":"a","protocol":"EVM"})", 400, "ValidationError",
         "protocol must be one of"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":"","protocol":"evm"})", 400, "ValidationError",
         "depositReference must be 1-128 characters"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":")" + big_ref + R"(","protocol":"evm"})", 400,
         "ValidationError", "depositReference must be 1-128 characters"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":"a b","protocol":"evm"})", 400, "ValidationError",
         "depositReference"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":"a/b","protocol":"evm"})", 400, "ValidationError",
         "depositReference"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":"a","protocol":"evm","metadata":"x"})", 400,
         "ValidationError", "metadata must be a JSON object"},
        {"POST", "/api/v1/deposits/bind", R"({"depositReference":"a","protocol":"evm","metadata":[1]})", 400,
         "ValidationError", "metadata"},
        {"POST", "/api/v1/deposits/bind", big_meta, 400, "ValidationError", "metadata must be at most 4096 bytes"},
        {"POST", "/api/v1/deposits/bind", std::string(70 * 1024, ' '), 413, "PayloadTooLarge", ""},
        {"POST", "/api/v1/deposits/unbind", "{}", 400, "ValidationError", "Required fields: depositReference"},
        {"POST", "/api/v1/deposits/unbind", R"({"depositReference":"existing","protocol":"ltc"})", 400,
         "ValidationError", "protocol must be one of"},
        {"POST", "/api/v1/deposits/unbind", R"({"depositReference":["existing"]})", 400, "ValidationError",
         "depositReference must be a string"},
        {"POST", "/api/v1/deposits/unbind", "nope", 400, "ValidationError", "Malformed JSON"},
        {"GET", "/api/v1/deposits?limit=0", "", 400, "ValidationError", "limit must be"},
        {"GET", "/api/v1/deposits?limit=101", "", 400, "ValidationError", "limit must be"},
        {"GET", "/api/v1/deposits?limit=abc", "", 400, "ValidationError", "limit must be"},
        {"GET", "/api/v1/deposits?limit=-5", "", 400, "ValidationError", "limit must be"},
        {"GET", "/api/v1/deposits?page=0", "", 400, "ValidationError", "page must be"},
        {"GET", "/api/v1/deposits?page=1.5", "", 400, "ValidationError", "page must be"},
        {"GET", "/api/v1/deposits?page=99999999999999999999", "", 400, "ValidationError", "page must be"},
        {"GET", "/api/v1/deposits?status=lost", "", 400, "ValidationError", "status must be one of"},
        {"GET", "/api/v1/deposits?depositReference=" + big_ref, "", 400, "ValidationError", "depositReference"},
        {"GET", "/api/v1/events?status=pending2", "", 400, "ValidationError", "status must be one of"},
        {"GET", "/api/v1/events?type=foo", "", 400, "ValidationError", "type must be one of"},
        {"GET", "/api/v1/events?limit=1000", "", 400, "ValidationError", "limit must be"},
        {"GET", "/api/v1/deposits/references/bad%20ref", "", 400, "ValidationError", "depositReference"},
        {"GET", "/api/v1/deposits/references/existing?protocol=x", "", 400, "ValidationError", "protocol"},
        {"GET", "/api/v1/deposits/%zz", "", 400, "ValidationError", "target"},
        {"GET", "/nope", "", 404, "NotFound", ""},
        {"GET", "/", "", 404, "NotFound", ""},
        {"GET", "/api/v1/nope", "", 404, "NotFound", ""},
        {"GET", "/api/v2/deposits", "", 404, "NotFound", ""},
        {"GET", "/api/v1/deposits/", "", 404, "NotFound", ""},
        {"GET", "/api/v1/events/x/y", "", 404, "NotFound", ""},
        {"GET", "/api/v1/deposits/bind", "", 405, "MethodNotAllowed", ""},
        {"PUT", "/api/v1/deposits/bind", "{}", 405, "MethodNotAllowed", ""},
        {"DELETE", "/api/v1/deposits", "", 405, "MethodNotAllowed", ""},
        {"POST", "/api/v1/deposits", "{}", 405, "MethodNotAllowed", ""},
        {"GET", "/api/v1/events/evt_x/resend", "", 405, "MethodNotAllowed", ""},
        {"POST", "/health", "", 405, "MethodNotAllowed", ""},
        {"DELETE", "/metrics", "", 405, "MethodNotAllowed", ""},
        {"POST", "/api/v1/events/evt_missing/resend", "", 404, "NotFound", ""},
    };
    auto before = snapshot(db());
    for (const auto& c : cases) {
        SCOPED_TRACE(c.method + " " + c.target.substr(0, 80) + " " + c.body.substr(0, 80));
        auto r = call(c.method, c.target, c.body);
        expect_error(r, c.status, c.error, c.message);
        if (c.status == 405) {
            bool has_allow = false;
            for (const auto& [k, v] : r.headers) has_allow |= k == "Allow" && !v.empty();
            EXPECT_TRUE(has_allow);
        }
        EXPECT_EQ(snapshot(db()), before);
    }
}

TEST_F(ApiHandler, ValidReferenceRule) {
    EXPECT_TRUE(valid_reference("player_42"));
    EXPECT_TRUE(valid_reference("user@example.com"));
    EXPECT_TRUE(valid_reference("a:b-c.d"));
    EXPECT_TRUE(valid_reference(std::string(128, 'x')));
    EXPECT_FALSE(valid_reference(std::string(129, 'x')));
    EXPECT_FALSE(valid_reference(""));
    EXPECT_FALSE(valid_reference("a b"));
    EXPECT_FALSE(valid_reference("a/b"));
    EXPECT_FALSE(valid_reference("ü"));
    EXPECT_FALSE(valid_reference(std::string("a\0b", 3)));
}

TEST_F(ApiHandler, DatabaseErrorIs500WithoutLeakingSql) {
    add_addresses(db(), "evm", 1);
    ASSERT_TRUE(db().exec("DROP TABLE delivery_attempts").ok());
    ASSERT_TRUE(db().exec("DROP TABLE events").ok());
    auto r = call("GET", "/api/v1/events");
    expect_error(r, 500, "InternalError");
    EXPECT_EQ(r.body.find("SELECT"), std::string::npos);
    EXPECT_EQ(r.body.find("sqlite"), std::string::npos);
    EXPECT_EQ(r.body.find("events"), std::string::npos);
}

}  // namespace
