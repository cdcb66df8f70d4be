// The outbox's three delivery kinds (schema/004_orders.sql): how one attempt
// is built and judged (webhook any 2xx, EPay a 2xx saying "success", epusdt
// "is ok"), and the dispatcher delivering merchant notifies even without a
// [webhook].url, retried on the schedule until the receiver's rule is met,
// and only to public addresses unless told otherwise.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

#include "core/clock.hpp"
#include "net/http_client.hpp"
#include "webhook/dispatcher.hpp"
#include "webhook_receiver.hpp"
#include "webhook_test_util.hpp"

using namespace depositd;
using namespace std::chrono_literals;

namespace {

store::EventRow row(const std::string& kind, const std::string& target, const std::string& payload) {
    store::EventRow e;
    e.id = "evt_1";
    e.type = kind == "epay" ? "epay.notify" : kind == "epusdt" ? "epusdt.callback" : "order.paid";
    e.kind = kind;
    e.target = target;
    e.payload = payload;
    return e;
}

std::string header(const net::HttpRequest& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

void insert(store::Database& db, const std::string& id, const std::string& kind, const std::string& target,
            const std::string& payload, const std::string& stream) {
    store::NewEvent e;
    e.id = id;
    e.type = kind == "epay" ? "epay.notify" : kind == "epusdt" ? "epusdt.callback" : "order.paid";
    e.payload = payload;
    e.created_at = 1;
    e.kind = kind;
    e.target = target;
    e.stream = stream;
    ASSERT_TRUE(store::insert_event(db, e).ok());
}

}  // namespace

TEST(WebhookKinds, RequestsByKind) {
    config::WebhookConfig cfg;
    cfg.url = "http://127.0.0.1:1/hook";
    cfg.timeout = 2s;
    auto signer = webhook::Signer::create({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"});
    ASSERT_TRUE(signer.ok());

    auto epay = webhook::build_delivery(row("epay", "http://shop/n?pid=1&sign=x", "{}"), cfg, nullptr, 1000);
    EXPECT_EQ(epay.method, "GET");
    EXPECT_EQ(epay.url, "http://shop/n?pid=1&sign=x");
    EXPECT_TRUE(epay.body.empty());
    EXPECT_TRUE(header(epay, "webhook-signature").empty());

    auto epusdt = webhook::build_delivery(row("epusdt", "http://shop/cb", R"({"status":2})"), cfg, nullptr, 1000);
    EXPECT_EQ(epusdt.method, "POST");
    EXPECT_EQ(epusdt.url, "http://shop/cb");
    EXPECT_EQ(epusdt.body, R"({"status":2})");
    EXPECT_EQ(header(epusdt, "content-type"), "application/json");

    auto hook = webhook::build_delivery(row("webhook", "", R"({"a":1})"), cfg, &*signer, 1'700'000'000'000);
    EXPECT_EQ(hook.method, "POST");
    EXPECT_EQ(hook.url, cfg.url);
    EXPECT_EQ(header(hook, "webhook-timestamp"), "1700000000");
    EXPECT_TRUE(webhook::verify(header(hook, "webhook-signature"), {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "evt_1",
                                1'700'000'000, R"({"a":1})"));
}

TEST(WebhookKinds, EachKindHasItsSuccessRule) {
    std::string why;
    EXPECT_TRUE(webhook::judge("webhook", 204, "", why));
    EXPECT_FALSE(webhook::judge("webhook", 500, "success", why));
    EXPECT_TRUE(webhook::judge("epay", 200, "success", why));
    EXPECT_TRUE(webhook::judge("epay", 200, R"({"state":"SUCCESS","msg":"ok"})", why));  // SSPanel
    EXPECT_FALSE(webhook::judge("epay", 200, "fail", why));
    EXPECT_NE(why.find("success"), std::string::npos);
    EXPECT_FALSE(webhook::judge("epay", 200, "ok", why));
    // Trimmed and any case, but the whole answer: "unsuccessful" contains
    // "success" and is no success; nor is a 500 that says it.
    EXPECT_TRUE(webhook::judge("epay", 200, " Success\r\n", why));
    EXPECT_TRUE(webhook::judge("epay", 204, "SUCCESS", why));
    EXPECT_FALSE(webhook::judge("epay", 200, "unsuccessful", why));
    EXPECT_FALSE(webhook::judge("epay", 200, "success: no, order not found", why));
    EXPECT_FALSE(webhook::judge("epay", 200, "<html>success</html>", why));
    EXPECT_FALSE(webhook::judge("epay", 200, R"({"state":"fail","msg":"success"})", why));
    EXPECT_FALSE(webhook::judge("epay", 500, "success", why));
    EXPECT_NE(why.find("500"), std::string::npos);
    EXPECT_TRUE(webhook::judge("epusdt", 200, "ok", why));
    EXPECT_TRUE(webhook::judge("epusdt", 200, "ok\n", why));
    EXPECT_FALSE(webhook::judge("epusdt", 200, "success", why));
    EXPECT_FALSE(webhook::judge("epusdt", 200, "okay", why));
    EXPECT_FALSE(webhook::judge("epusdt", 200, "", why));

    // A 200 that is not accepted is retried like any failure.
    webhook::AttemptResult r;
    r.status = 200;
    r.accepted = false;
    r.error = "the answer is not \"ok\"";
    auto o = webhook::decide(r, 0, {15s, 60s}, 1000, 0);
    EXPECT_EQ(o.kind, store::AttemptOutcome::Kind::retry);
    EXPECT_EQ(o.next_attempt_at, 16'000);
    EXPECT_NE(o.error.find("ok"), std::string::npos);
    r.accepted = true;  // the kind's rule (judge) decides, whatever the status
    r.status = 500;
    EXPECT_EQ(webhook::decide(r, 0, {15s}, 1000, 0).kind, store::AttemptOutcome::Kind::delivered);
}

TEST(WebhookKinds, MerchantNotifiesAreDeliveredWithoutAWebhookUrl) {
    int epay_calls = 0;
    webhook_test::Receiver shop({}, [&](const webhook_test::Arrival& a) {
        webhook_test::Reply r;
        if (a.target.rfind("/epay", 0) == 0) r.body = ++epay_calls < 3 ? "fail" : "success";
        else r.body = "ok";
        return r;
    });
    webhook_test::TempDb t;
    insert(t.db(), "evt_epay", "epay", shop.url("/epay?pid=1001&sign=abc"), "{}", "ord_1/notify");
    insert(t.db(), "evt_epusdt", "epusdt", shop.url("/epusdt"), R"({"status":2})", "ord_2/notify");
    insert(t.db(), "evt_hook", "webhook", "", R"({"type":"order.paid"})", "ord_1");

    boost::asio::io_context ctx;
    net::HttpClient http{ctx.get_executor()};
    SystemClock clock;
    config::WebhookConfig cfg;  // no url: webhooks disabled
    cfg.timeout = 3s;
    cfg.schedule = {20ms, 20ms, 20ms};
    webhook::Dispatcher d(ctx.get_executor(), t.store(), http, cfg, clock);
    d.set_poll_interval(20ms);
    d.allow_private_targets(true);  // the test shop listens on 127.0.0.1
    bool done = false;
    boost::asio::co_spawn(ctx, d.run(), [&](std::exception_ptr) { done = true; });
    auto status_of = [&](const std::string& id) { return (*store::get_event(t.db(), id))->status; };
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while ((status_of("evt_epay") != "delivered" || status_of("evt_epusdt") != "delivered") &&
           std::chrono::steady_clock::now() < deadline)
        ctx.run_for(10ms);
    d.stop();
    while (!done && std::chrono::steady_clock::now() < deadline + 5s) ctx.run_for(10ms);

    EXPECT_EQ(status_of("evt_epay"), "delivered");
    EXPECT_EQ(status_of("evt_epusdt"), "delivered");
    EXPECT_EQ(status_of("evt_hook"), "pending");
    EXPECT_EQ(epay_calls, 3);
    auto attempts = store::list_attempts(t.db(), "evt_epay");
    ASSERT_TRUE(attempts.ok());
    ASSERT_EQ(attempts->size(), 3u);
    EXPECT_EQ((*attempts)[0].status_code, 200);
    EXPECT_NE((*attempts)[0].error.value_or("").find("success"), std::string::npos);
    for (const auto& a : shop.arrivals()) {
        if (a.target.rfind("/epay", 0) == 0) {
            EXPECT_EQ(a.target, "/epay?pid=1001&sign=abc");
            EXPECT_TRUE(a.body.empty());
        } else {
            EXPECT_EQ(a.body, R"({"status":2})");
            EXPECT_EQ(a.content_type, "application/json");
        }
    }
}

// Without [merchant].allow_private_notify a notify to a loopback (private,
// link-local, metadata) address is never sent: the attempt fails before a
// connection is made, and is retried, then failed, like any other failure.
TEST(WebhookKinds, NotifiesToPrivateAddressesAreRefusedByDefault) {
    int calls = 0;
    webhook_test::Receiver shop({}, [&](const webhook_test::Arrival&) {
        ++calls;
        webhook_test::Reply r;
        r.body = "success";
        return r;
    });
    webhook_test::TempDb t;
    insert(t.db(), "evt_epay", "epay", shop.url("/epay?pid=1001&sign=abc"), "{}", "ord_1/notify");

    boost::asio::io_context ctx;
    net::HttpClient http{ctx.get_executor()};
    SystemClock clock;
    config::WebhookConfig cfg;
    cfg.timeout = 3s;
    cfg.schedule = {20ms};
    webhook::Dispatcher d(ctx.get_executor(), t.store(), http, cfg, clock);
    d.set_poll_interval(20ms);
    bool done = false;
    boost::asio::co_spawn(ctx, d.run(), [&](std::exception_ptr) { done = true; });
    auto status_of = [&](const std::string& id) { return (*store::get_event(t.db(), id))->status; };
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (status_of("evt_epay") != "failed" && std::chrono::steady_clock::now() < deadline) ctx.run_for(10ms);
    d.stop();
    while (!done && std::chrono::steady_clock::now() < deadline + 5s) ctx.run_for(10ms);
    EXPECT_EQ(status_of("evt_epay"), "failed");
    EXPECT_EQ(calls, 0);
    auto attempts = store::list_attempts(t.db(), "evt_epay");
    ASSERT_TRUE(attempts.ok());
    ASSERT_EQ(attempts->size(), 2u);
    EXPECT_NE((*attempts)[0].error.value_or("").find("loopback"), std::string::npos) << (*attempts)[0].error.value_or("");
}
