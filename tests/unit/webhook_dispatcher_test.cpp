// The dispatcher against a real HTTP receiver on 127.0.0.1 (webhook_receiver.hpp):
// signatures checked independently, arrival order, retries, failures,
// timeouts, huge bodies, refused connections, ordering, restart, stop.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "net/http_client.hpp"
#include "webhook/dispatcher.hpp"
#include "webhook_receiver.hpp"
#include "webhook_test_util.hpp"

using namespace depositd;
using namespace std::chrono_literals;
using webhook_test::add_event;
using webhook_test::Arrival;
using webhook_test::Receiver;
using webhook_test::Reply;

namespace {

const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string kSecond = "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24=";

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct Harness {
    webhook_test::TempDb t;
    boost::asio::io_context ctx;
    net::HttpClient http{ctx.get_executor()};
    SystemClock system_clock;
    const Clock* clock = &system_clock;  // a test may give a ManualClock before start()
    config::WebhookConfig cfg;
    std::unique_ptr<webhook::Dispatcher> d;
    bool done = true;

    explicit Harness(const std::string& url) {
        cfg.url = url;
        cfg.secrets = {kSecret};
        cfg.timeout = 3s;
        cfg.schedule = {20ms, 20ms};
        cfg.concurrency = 4;
    }
    ~Harness() { stop(); }

    void start(std::chrono::milliseconds poll = 20ms) {
        d = std::make_unique<webhook::Dispatcher>(ctx.get_executor(), t.store(), http, cfg, *clock);
        d->set_poll_interval(poll);
        done = false;
        boost::asio::co_spawn(ctx, d->run(), [this](std::exception_ptr e) {
            done = true;
            if (e) ADD_FAILURE() << "Dispatcher::run threw";
        });
    }
    void stop() {
        if (!d) return;
        d->stop();
        EXPECT_TRUE(run_until([&] { return done; }, 10s)) << "run() did not end after stop()";
        d.reset();
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = 15s) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            ctx.run_for(5ms);
            if (ctx.stopped()) ctx.restart();
        }
        return true;
    }
    void run_for(std::chrono::milliseconds d) {
        run_until([] { return false; }, d);
    }
    store::EventRow ev(const std::string& id) { return webhook_test::event(t.db(), id); }
    std::string status(const std::string& id) { return ev(id).status; }
    std::vector<store::AttemptRecord> attempts(const std::string& id) {
        auto r = store::list_attempts(t.db(), id);
        EXPECT_TRUE(r.ok());
        return r ? *r : std::vector<store::AttemptRecord>{};
    }
};

// A receiver that answers 200 to every request after `delay`.
Receiver::Handler answer_after(std::chrono::milliseconds delay) {
    return [delay](const Arrival&) {
        Reply r;
        r.delay = delay;
        return r;
    };
}

std::vector<std::string> arrival_ids(const Receiver& r) {
    std::vector<std::string> out;
    for (const auto& a : r.arrivals()) out.push_back(a.id);
    return out;
}

std::ptrdiff_t position(const std::vector<std::string>& v, const std::string& id) {
    auto it = std::find(v.begin(), v.end(), id);
    return it == v.end() ? -1 : it - v.begin();
}

}  // namespace

TEST(WebhookDispatcher, DeliversSignedEventsInOrderPerDeposit) {
    Receiver rcv({kSecret, kSecond});
    Harness h(rcv.url());
    h.cfg.secrets = {kSecret, kSecond};  // a rotation: two signatures
    std::vector<std::string> deps = {"dep_a", "dep_b", "dep_c"};
    std::vector<std::string> types = {"deposit.pending", "deposit.confirmed", "deposit.reverted"};
    std::map<std::string, std::string> payloads;
    for (const auto& type : types)
        for (const auto& dep : deps) {
            std::string payload = R"({"id":"evt_)" + dep + "_" + type + R"(","type":")" + type +
                                  R"(","createdAt":"2026-11-22T00:00:00.000Z","data":{"id":")" + dep +
                                  R"(","amount":"125.5","note":"ünïcode"}})";
            auto id = add_event(h.t.db(), dep, type, now_ms(), payload);
            payloads[id] = payload;
        }
    h.start();
    ASSERT_TRUE(h.run_until([&] {
        for (auto& [id, _] : payloads)
            if (h.status(id) != "delivered") return false;
        return true;
    }));
    auto arrivals = rcv.arrivals();
    ASSERT_EQ(arrivals.size(), payloads.size());  // each exactly once
    auto ids = arrival_ids(rcv);
    for (const auto& a : arrivals) {
        SCOPED_TRACE(a.id);
        EXPECT_TRUE(a.signature_ok) << a.signature;
        EXPECT_TRUE(a.payin_ok) << a.payin;
        EXPECT_EQ(std::count(a.signature.begin(), a.signature.end(), ' '), 1);  // two signatures
        EXPECT_EQ(a.body, payloads[a.id]);                                      // exact stored bytes
        EXPECT_EQ(a.content_type, "application/json");
        EXPECT_EQ(a.user_agent, std::string("depositd/") + DEPOSITD_VERSION);
        EXPECT_EQ(a.target, "/hook");
        EXPECT_NEAR(std::stoll(a.timestamp), now_ms() / 1000, 60);
    }
    for (const auto& dep : deps) {
        auto p = position(ids, "evt_" + dep + "_deposit.pending");
        auto c = position(ids, "evt_" + dep + "_deposit.confirmed");
        auto r = position(ids, "evt_" + dep + "_deposit.reverted");
        EXPECT_TRUE(p >= 0 && p < c && c < r) << dep;
    }
    for (auto& [id, _] : payloads) {
        auto at = h.attempts(id);
        ASSERT_EQ(at.size(), 1u);
        EXPECT_EQ(at[0].status_code, 200);
        EXPECT_EQ(at[0].response_excerpt, "ok");
        EXPECT_EQ(h.ev(id).attempts, 1);
    }
    // Keep-alive: far fewer connections than requests.
    EXPECT_LE(rcv.connections(), static_cast<int>(h.cfg.concurrency));
    EXPECT_NE(metrics::Registry::global().render().find("depositd_webhook_attempts_total{outcome=\"delivered\"}"),
              std::string::npos);
}

TEST(WebhookDispatcher, ReceiverDownThenUpDeliversWithTheSameId) {
    Receiver rcv({kSecret});
    rcv.down();
    Harness h(rcv.url());
    h.cfg.schedule = std::vector<std::chrono::milliseconds>(20, 30ms);
    auto id = add_event(h.t.db(), "dep_down", "deposit.pending", now_ms());
    h.start();
    ASSERT_TRUE(h.run_until([&] { return h.attempts(id).size() >= 3; }));
    EXPECT_EQ(rcv.count(), 0u);
    for (const auto& a : h.attempts(id)) {
        EXPECT_FALSE(a.status_code.has_value());
        EXPECT_TRUE(a.error.has_value());
    }
    EXPECT_EQ(h.status(id), "pending");
    rcv.up();
    ASSERT_TRUE(h.run_until([&] { return h.status(id) == "delivered"; }));
    ASSERT_EQ(rcv.count(), 1u);
    EXPECT_EQ(rcv.arrivals()[0].id, id);
    EXPECT_TRUE(rcv.arrivals()[0].signature_ok);
    auto at = h.attempts(id);
    EXPECT_EQ(at.back().status_code, 200);
    EXPECT_EQ(h.ev(id).attempts, static_cast<int>(at.size()));
}

// Issue 22: a receiver that refuses connections is paused as a whole. Without
// the pause every due event would be tried (and its attempt written) in
// turn, 40 writes in a few milliseconds competing with the scanner's commits.
TEST(WebhookDispatcher, ARefusingReceiverIsPausedAsAWhole) {
    Receiver rcv({kSecret});
    rcv.down();
    Harness h(rcv.url());
    h.cfg.schedule = std::vector<std::chrono::milliseconds>(10, 400ms);
    h.cfg.concurrency = 4;
    std::vector<std::string> ids;
    for (int i = 0; i < 40; ++i) ids.push_back(add_event(h.t.db(), "dep_p" + std::to_string(i), "deposit.pending", now_ms()));
    auto total_attempts = [&] {
        std::size_t n = 0;
        for (const auto& id : ids) n += h.attempts(id).size();
        return n;
    };
    h.start();
    ASSERT_TRUE(h.run_until([&] { return total_attempts() >= 1; }));
    h.run_for(150ms);
    EXPECT_LE(total_attempts(), 4u);  // the first round only (those in flight when the pause began)
    for (const auto& id : ids) EXPECT_EQ(h.status(id), "pending");
    // Events claimed ahead of the free slots and not tried were handed back:
    // due with the others when the pause ends, not when their claim (36 s
    // here) runs out.
    for (const auto& id : ids)
        if (h.attempts(id).empty()) {
            EXPECT_LE(h.ev(id).next_attempt_at, now_ms() + 1000) << id;
            EXPECT_FALSE(h.ev(id).claimed_until.has_value()) << id << ": still claimed";
        }
    rcv.up();
    ASSERT_TRUE(h.run_until([&] {
        for (const auto& id : ids)
            if (h.status(id) != "delivered") return false;
        return true;
    }));
    EXPECT_EQ(rcv.count(), ids.size());
}

TEST(WebhookDispatcher, RefusedForeverFailsAfterTheSchedule) {
    Receiver rcv({kSecret});
    rcv.down();
    Harness h(rcv.url());
    h.cfg.schedule = {10ms, 20ms, 30ms};
    auto id = add_event(h.t.db(), "dep_never", "deposit.pending", now_ms());
    h.start();
    ASSERT_TRUE(h.run_until([&] { return h.status(id) == "failed"; }));
    auto row = h.ev(id);
    EXPECT_EQ(row.attempts, 4);
    ASSERT_TRUE(row.last_error.has_value());
    EXPECT_FALSE(row.last_error->empty());
    auto at = h.attempts(id);
    ASSERT_EQ(at.size(), 4u);
    EXPECT_GE(at[3].attempted_at - at[0].attempted_at, 54);  // 60 ms of schedule, -10% jitter
    h.run_for(100ms);
    EXPECT_EQ(h.attempts(id).size(), 4u);  // nothing after failed
    EXPECT_NE(metrics::Registry::global().render().find("depositd_webhook_attempts_total{outcome=\"failed\"}"),
              std::string::npos);
}

TEST(WebhookDispatcher, Http500And410And301AreRetriedThenFailed) {
    Receiver rcv({kSecret});
    std::map<std::string, int> codes = {{"evt_d500_deposit.pending", 500},
                                        {"evt_d410_deposit.pending", 410},
                                        {"evt_d301_deposit.pending", 301}};
    rcv.set_handler([&](const Arrival& a) {
        Reply r;
        r.status = codes.at(a.id);
        r.body = "nope " + std::to_string(r.status);
        if (r.status == 301) r.headers = {{"Location", "/elsewhere"}};
        return r;
    });
    Harness h(rcv.url());
    h.cfg.schedule = {10ms};
    for (const char* dep : {"d500", "d410", "d301"}) add_event(h.t.db(), dep, "deposit.pending", now_ms());
    h.start();
    ASSERT_TRUE(h.run_until([&] {
        for (auto& [id, _] : codes)
            if (h.status(id) != "failed") return false;
        return true;
    }));
    for (auto& [id, code] : codes) {
        auto at = h.attempts(id);
        ASSERT_EQ(at.size(), 2u) << id;
        for (const auto& a : at) {
            EXPECT_EQ(a.status_code, code);
            EXPECT_EQ(a.response_excerpt, "nope " + std::to_string(code));
            ASSERT_TRUE(a.error.has_value());
            EXPECT_NE(a.error->find(std::to_string(code)), std::string::npos);
        }
    }
    for (const auto& a : rcv.arrivals()) EXPECT_EQ(a.target, "/hook");  // the redirect was not followed
    EXPECT_EQ(rcv.count(), 6u);
}

TEST(WebhookDispatcher, SlowReceiverTimesOut) {
    Receiver rcv({kSecret}, [](const Arrival&) {
        Reply r;
        r.delay = 2s;
        return r;
    });
    Harness h(rcv.url());
    h.cfg.timeout = 150ms;
    h.cfg.schedule = {10ms};
    auto id = add_event(h.t.db(), "dep_slow", "deposit.pending", now_ms());
    h.start();
    ASSERT_TRUE(h.run_until([&] { return h.status(id) == "failed"; }));
    auto at = h.attempts(id);
    ASSERT_EQ(at.size(), 2u);
    for (const auto& a : at) {
        EXPECT_FALSE(a.status_code.has_value());
        ASSERT_TRUE(a.error.has_value());
        EXPECT_NE(a.error->find("timed out"), std::string::npos) << *a.error;
        EXPECT_GE(a.latency_ms, 140);
        EXPECT_LT(a.latency_ms, 1500);
    }
}

TEST(WebhookDispatcher, HugeResponseBodiesAreCappedAndOnlyAKibStored) {
    const std::string big200 = "evt_big200_deposit.pending", big500 = "evt_big500_deposit.pending",
                      mid500 = "evt_mid500_deposit.pending";
    Receiver rcv({kSecret}, [&](const Arrival& a) {
        Reply r;
        if (a.id == big200) r.big_body = 10u << 20;                // 10 MiB with a 200
        if (a.id == big500) r.status = 500, r.big_body = 10u << 20;  // 10 MiB with a 500
        if (a.id == mid500) r.status = 500, r.big_body = 40u << 10;  // 40 KiB: under the cap
        return r;
    });
    Harness h(rcv.url());
    h.cfg.schedule = {10ms};
    for (const char* dep : {"big200", "big500", "mid500"}) add_event(h.t.db(), dep, "deposit.pending", now_ms());
    h.start();
    ASSERT_TRUE(h.run_until([&] {
        return h.status(big200) != "pending" && h.status(big500) == "failed" && h.status(mid500) == "failed";
    }));
    // Whatever the size, the status is what counts and the first KiB is kept.
    const std::string first_kib(1024, 'a');
    for (const auto& id : {big200, big500, mid500})
        for (const auto& a : h.attempts(id)) {
            ASSERT_TRUE(a.status_code.has_value()) << id << ": " << a.error.value_or("");
            ASSERT_TRUE(a.response_excerpt.has_value());
            EXPECT_EQ(*a.response_excerpt, first_kib);
        }
    EXPECT_EQ(h.ev(big200).status, "delivered");
    EXPECT_EQ(h.attempts(big200).size(), 1u);
    for (const auto& a : h.attempts(big500)) EXPECT_EQ(a.status_code, 500);
    for (const auto& a : h.attempts(mid500)) EXPECT_EQ(a.status_code, 500);
}

TEST(WebhookDispatcher, TwoHundredWithAOneMebibyteBodyIsDeliveredAtOnce) {
    const std::string id = "evt_mib_deposit.pending";
    Receiver rcv({kSecret}, [&](const Arrival&) {
        Reply r;
        r.big_body = 1u << 20;  // 1 MiB with a 200
        return r;
    });
    Harness h(rcv.url());
    h.cfg.schedule = {10ms, 10ms};
    add_event(h.t.db(), "mib", "deposit.pending", now_ms());
    h.start();
    ASSERT_TRUE(h.run_until([&] { return h.status(id) != "pending"; }));
    EXPECT_EQ(h.ev(id).status, "delivered");
    auto attempts = h.attempts(id);
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].status_code, 200);
    ASSERT_TRUE(attempts[0].response_excerpt.has_value());
    EXPECT_EQ(*attempts[0].response_excerpt, webhook_test::big_body(1u << 20).substr(0, 1024));
    EXPECT_FALSE(attempts[0].error.has_value());
}

TEST(WebhookDispatcher, OneFailingDepositDoesNotHoldBackOthers) {
    std::atomic<bool> healthy{false};
    const std::string a1 = "evt_depA_deposit.pending", a2 = "evt_depA_deposit.confirmed";
    const std::string b1 = "evt_depB_deposit.pending", b2 = "evt_depB_deposit.confirmed";
    Receiver rcv({kSecret}, [&](const Arrival& a) {
        Reply r;
        if (a.id == a1 && !healthy) r.status = 500;
        return r;
    });
    Harness h(rcv.url());
    h.cfg.schedule = {30ms, 30ms};
    add_event(h.t.db(), "depA", "deposit.pending", now_ms());
    add_event(h.t.db(), "depB", "deposit.pending", now_ms());
    add_event(h.t.db(), "depA", "deposit.confirmed", now_ms());
    add_event(h.t.db(), "depB", "deposit.confirmed", now_ms());
    h.start();
    ASSERT_TRUE(h.run_until([&] { return h.status(a1) == "failed"; }));
    h.run_for(100ms);
    EXPECT_EQ(h.status(b1), "delivered");
    EXPECT_EQ(h.status(b2), "delivered");
    EXPECT_EQ(h.status(a2), "pending");  // blocked behind the failed a1
    EXPECT_EQ(h.ev(a2).attempts, 0);
    auto ids = arrival_ids(rcv);
    EXPECT_EQ(position(ids, a2), -1);  // never sent before a1 succeeded
    EXPECT_LT(position(ids, b1), position(ids, b2));

    // The receiver is fixed; the operator resends the later event: both go, in order.
    healthy = true;
    auto r = store::resend_event(h.t.db(), a2, now_ms());
    ASSERT_TRUE(r.ok() && *r);
    h.d->wake();
    ASSERT_TRUE(h.run_until([&] { return h.status(a2) == "delivered"; }));
    EXPECT_EQ(h.status(a1), "delivered");
    ids = arrival_ids(rcv);
    EXPECT_LT(ids.size() - 2, ids.size());
    EXPECT_EQ(ids[ids.size() - 2], a1);
    EXPECT_EQ(ids.back(), a2);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), a2), 1);
}

TEST(WebhookDispatcher, RestartResumesTheStoredSchedule) {
    std::atomic<bool> healthy{false};
    Receiver rcv({kSecret}, [&](const Arrival&) {
        Reply r;
        if (!healthy) r.status = 503;
        return r;
    });
    auto h = std::make_unique<Harness>(rcv.url());
    h->cfg.schedule = {600ms, 600ms};
    auto id = add_event(h->t.db(), "dep_restart", "deposit.pending", now_ms());
    h->start();
    ASSERT_TRUE(h->run_until([&] { return h->attempts(id).size() == 1; }));
    auto first = h->attempts(id)[0];
    auto stored = h->ev(id).next_attempt_at;
    EXPECT_GE(stored - first.attempted_at, 540);
    EXPECT_LE(stored - first.attempted_at, 660 + first.latency_ms + 50);

    // "Kill": the dispatcher goes away, the database is closed and opened again.
    h->stop();
    h->t.reopen();
    EXPECT_EQ(h->ev(id).next_attempt_at, stored);
    healthy = true;
    h->start();
    h->run_for(100ms);
    if (now_ms() < stored - 50) {
        EXPECT_EQ(rcv.count(), 1u);  // not before the stored time
    }
    ASSERT_TRUE(h->run_until([&] { return h->status(id) == "delivered"; }));
    auto arrivals = rcv.arrivals();
    ASSERT_EQ(arrivals.size(), 2u);
    EXPECT_EQ(arrivals[0].id, id);
    EXPECT_EQ(arrivals[1].id, id);
    EXPECT_GE(arrivals[1].at_unix_ms, stored - 5);
    EXPECT_EQ(h->ev(id).attempts, 2);
}

TEST(WebhookDispatcher, RetryAfterOn429IsHonoured) {
    Receiver rcv({kSecret}, [](const Arrival&) {
        Reply r;
        r.status = 429;
        r.headers = {{"Retry-After", "3"}};
        return r;
    });
    Harness h(rcv.url());
    h.cfg.schedule = {10ms, 10ms};
    auto id = add_event(h.t.db(), "dep_429", "deposit.pending", now_ms());
    h.start();
    ASSERT_TRUE(h.run_until([&] { return h.attempts(id).size() == 1; }));
    auto a = h.attempts(id)[0];
    EXPECT_GE(h.ev(id).next_attempt_at - a.attempted_at, 2900);
    h.run_for(100ms);
    EXPECT_EQ(rcv.count(), 1u);
}

TEST(WebhookDispatcher, ConcurrencyIsBoundedAndConnectionsReused) {
    Receiver rcv({kSecret}, answer_after(40ms));
    Harness h(rcv.url());
    h.cfg.concurrency = 3;
    std::vector<std::string> ids;
    for (int i = 0; i < 15; ++i) ids.push_back(add_event(h.t.db(), "dep_c" + std::to_string(i), "deposit.pending", now_ms()));
    h.start();
    ASSERT_TRUE(h.run_until([&] {
        for (auto& id : ids)
            if (h.status(id) != "delivered") return false;
        return true;
    }));
    EXPECT_LE(rcv.max_concurrent(), 3);
    EXPECT_GE(rcv.max_concurrent(), 2);
    EXPECT_LE(rcv.connections(), 3);
    EXPECT_EQ(rcv.count(), ids.size());
}

TEST(WebhookDispatcher, WakeDeliversNewEventsAtOnce) {
    Receiver rcv({kSecret});
    Harness h(rcv.url());
    h.start(10s);  // a long poll: only wake() can explain a quick delivery
    h.run_for(100ms);
    auto id = add_event(h.t.db(), "dep_wake", "deposit.pending", now_ms());
    auto t0 = std::chrono::steady_clock::now();
    h.d->wake();
    ASSERT_TRUE(h.run_until([&] { return h.status(id) == "delivered"; }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

// Attempts that finish together are written in one transaction (pipelined
// on PostgreSQL). One whose event went meanwhile must not sink the others:
// they are written again one by one, and none is delivered twice.
TEST(WebhookDispatcher, AnAttemptWhoseEventWentDoesNotSinkTheOthers) {
    Receiver rcv({kSecret}, answer_after(400ms));
    Harness h(rcv.url());
    h.cfg.concurrency = 8;
    std::vector<std::string> ids;
    for (int i = 0; i < 8; ++i) ids.push_back(add_event(h.t.db(), "dep_gone_" + std::to_string(i), "deposit.pending", now_ms()));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return rcv.count() == 8; }));
    // All eight are in flight: one of them goes.
    ASSERT_TRUE(h.t.db().prepare("DELETE FROM events WHERE id = ?1").bind(1, ids[3]).run());
    ASSERT_TRUE(h.run_until([&] {
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (i != 3 && h.status(ids[i]) != "delivered") return false;
        return true;
    }, 10s));
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i == 3) continue;
        EXPECT_EQ(h.attempts(ids[i]).size(), 1u) << ids[i];
    }
    h.run_for(200ms);
    EXPECT_EQ(rcv.count(), 8u);  // nothing sent again
}

// Claims wait for half the slots to be free (one claim for many deliveries),
// but not a new event announced by wake(): with three of four slots held by
// a slow receiver it still goes at once.
TEST(WebhookDispatcher, WakeClaimsAtOnceWithMostSlotsBusy) {
    Receiver rcv({kSecret}, [](const Arrival& a) {
        Reply r;
        if (a.id.find("slow") != std::string::npos) r.delay = 2500ms;
        return r;
    });
    Harness h(rcv.url());
    h.cfg.concurrency = 4;
    for (int i = 0; i < 3; ++i) add_event(h.t.db(), "dep_slow_" + std::to_string(i), "deposit.pending", now_ms());
    h.start(10s);
    ASSERT_TRUE(h.run_until([&] { return rcv.count() == 3; }));
    auto id = add_event(h.t.db(), "dep_quick", "deposit.pending", now_ms());
    auto t0 = std::chrono::steady_clock::now();
    h.d->wake();
    ASSERT_TRUE(h.run_until([&] { return h.status(id) == "delivered"; }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);  // before any slow one is back
}

TEST(WebhookDispatcher, StopLetsTheRequestInFlightFinish) {
    Receiver rcv({kSecret}, answer_after(300ms));
    Harness h(rcv.url());
    auto id = add_event(h.t.db(), "dep_stop", "deposit.pending", now_ms());
    h.start(10s);
    ASSERT_TRUE(h.run_until([&] { return rcv.count() == 1; }));
    auto t0 = std::chrono::steady_clock::now();
    h.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    EXPECT_EQ(h.status(id), "delivered");
}

// The dispatcher claims up to twice `concurrency` events, so that a slot
// that frees goes to the next at once. Those it did not start when it stops
// are handed back: due at once for the next start, not when the claim runs
// out.
TEST(WebhookDispatcher, StopHandsBackClaimedEventsThatDidNotStart) {
    Receiver rcv({kSecret}, answer_after(300ms));
    Harness h(rcv.url());
    h.cfg.concurrency = 1;
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(add_event(h.t.db(), "dep_hand_" + std::to_string(i), "deposit.pending", now_ms()));
    h.start(10s);
    ASSERT_TRUE(h.run_until([&] { return rcv.count() == 1; }));
    EXPECT_EQ(h.d->in_flight(), 2u);  // one delivery, one claimed ahead
    h.stop();
    EXPECT_EQ(rcv.count(), 1u);
    EXPECT_EQ(rcv.max_concurrent(), 1);
    std::size_t delivered = 0;
    for (const auto& id : ids) {
        auto row = h.ev(id);
        if (row.status == "delivered") {
            ++delivered;
            continue;
        }
        EXPECT_EQ(row.attempts, 0) << id;
        EXPECT_LE(row.next_attempt_at, now_ms()) << id;
        EXPECT_FALSE(row.claimed_until.has_value()) << id << ": still claimed";
    }
    EXPECT_EQ(delivered, 1u);
    // The next start takes them at once.
    h.start(10s);
    ASSERT_TRUE(h.run_until([&] {
        for (const auto& id : ids)
            if (h.status(id) != "delivered") return false;
        return true;
    }, 5s));
    EXPECT_EQ(rcv.count(), ids.size());
}

// A receiver that answers at once gets more events claimed ahead of the
// slots than twice `concurrency` (fewer, larger group commits), never more
// than kMaxAhead untried; until a latency is known, `concurrency` ahead.
TEST(WebhookDispatcher, AFastReceiverGetsALongerClaimAhead) {
    Receiver rcv({kSecret});
    Harness h(rcv.url());
    h.cfg.concurrency = 2;
    std::vector<std::string> ids;
    for (int i = 0; i < 400; ++i) ids.push_back(add_event(h.t.db(), "dep_ahead_" + std::to_string(i), "deposit.pending", now_ms()));
    h.start();
    // Claimed, as the store says: the untried ones and the attempts waiting
    // for their group commit.
    auto claimed = [&] {
        auto q = h.t.db().prepare("SELECT count(*) FROM events WHERE claimed_until IS NOT NULL");
        EXPECT_TRUE(q.step().ok());
        return static_cast<std::size_t>(q.int64(0));
    };
    std::size_t most = 0, most_untried = 0;
    ASSERT_TRUE(h.run_until([&] {
        most = std::max(most, claimed());
        most_untried = std::max(most_untried, h.d->untried());
        return rcv.count() == ids.size() && h.status(ids.back()) == "delivered";
    }));
    EXPECT_GT(most, 2u * h.cfg.concurrency);
    EXPECT_LE(most_untried, h.cfg.concurrency + webhook::Dispatcher::kMaxAhead);
    for (const auto& id : ids) EXPECT_EQ(h.attempts(id).size(), 1u) << id;
}

// An event claimed ahead waits for a slot under its claim. When the claim
// would run out before the event could be tried and recorded, the event is
// handed back, not delivered: once the claim has run out another process may
// have taken it (here one does), and both would deliver it.
TEST(WebhookDispatcher, AnEventWhoseClaimRunsOutWhileItWaitsIsNotDelivered) {
    Receiver rcv({kSecret}, answer_after(400ms));
    Harness h(rcv.url());
    ManualClock clock(now_ms());
    h.clock = &clock;
    h.cfg.concurrency = 1;  // one request at a time, one event claimed ahead
    const auto first = add_event(h.t.db(), "dep_wait_0", "deposit.pending", clock.now_ms());
    const auto second = add_event(h.t.db(), "dep_wait_1", "deposit.pending", clock.now_ms());
    h.start(10s);
    ASSERT_TRUE(h.run_until([&] { return rcv.count() == 1; }));
    ASSERT_EQ(h.d->in_flight(), 2u);
    ASSERT_TRUE(h.ev(second).claimed_until.has_value());
    // While the first request is under way the claims run out, and another
    // process sharing the store claims the event waiting here.
    clock.set_ms(*h.ev(second).claimed_until + 1);
    auto other = store::claim_due_events(h.t.db(), clock.now_ms(), clock.now_ms() + 60'000, 10);
    ASSERT_TRUE(other.ok());
    ASSERT_FALSE(std::none_of(other->begin(), other->end(), [&](const store::EventRow& e) { return e.id == second; }));
    ASSERT_TRUE(h.run_until([&] { return h.attempts(first).size() == 1; }));
    h.run_for(600ms);
    EXPECT_EQ(arrival_ids(rcv), std::vector<std::string>{first}) << "the event the other process holds was sent here too";
    EXPECT_EQ(h.ev(second).attempts, 0);
    EXPECT_EQ(h.ev(second).claimed_until, std::optional<std::int64_t>(clock.now_ms() + 60'000)) << "the other's claim";
}

// An operator resends an event while its delivery is in flight (the
// console's "resend" a moment after "mark paid"). The resend wins: the
// answer to the request under way is recorded in the history but does not
// mark the event delivered over the resend, and the event is sent again.
TEST(WebhookDispatcher, AResendDuringTheDeliveryIsNotLost) {
    Receiver rcv({kSecret}, answer_after(400ms));
    Harness h(rcv.url());
    auto id = add_event(h.t.db(), "dep_resend", "deposit.pending", now_ms());
    h.start(10s);  // a long poll: the wake after the resend starts the second delivery
    ASSERT_TRUE(h.run_until([&] { return rcv.count() == 1; }));
    auto r = store::resend_event(h.t.db(), id, now_ms());
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(*r);
    h.d->wake();
    ASSERT_TRUE(h.run_until([&] { return rcv.count() == 2 && h.status(id) == "delivered"; }, 5s))
        << "arrivals " << rcv.count() << ", status " << h.status(id);
    EXPECT_EQ(h.attempts(id).size(), 2u);
    EXPECT_EQ(h.ev(id).attempts, 1);  // the resend's fresh schedule, one attempt in it
    h.run_for(200ms);
    EXPECT_EQ(rcv.count(), 2u);
}

TEST(WebhookDispatcher, EmptyUrlIdlesAndKeepsEventsPending) {
    Harness h("");
    auto id = add_event(h.t.db(), "dep_idle", "deposit.pending", now_ms());
    h.start();
    h.run_for(100ms);
    EXPECT_EQ(h.status(id), "pending");
    EXPECT_EQ(h.ev(id).attempts, 0);
    auto t0 = std::chrono::steady_clock::now();
    h.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(WebhookDispatcher, BadSecretIdlesWithoutDelivering) {
    Receiver rcv({kSecret});
    Harness h(rcv.url());
    h.cfg.secrets = {"whsec_***not base64***"};
    auto id = add_event(h.t.db(), "dep_badkey", "deposit.pending", now_ms());
    h.start();
    h.run_for(100ms);
    EXPECT_EQ(h.status(id), "pending");
    EXPECT_EQ(rcv.count(), 0u);
}
