// The webhook outbox (store/events): idempotent insert, listing, per-deposit
// ordering, the retry schedule with an injected clock, failed, resend.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <chrono>
#include <set>
#include <span>
#include <tuple>

#include "core/clock.hpp"
#include "store/events.hpp"
#include "webhook/dispatcher.hpp"
#include "sqlite_plan.hpp"
#include "webhook_test_util.hpp"

using namespace depositd;
using namespace std::chrono_literals;
using webhook_test::add_event;
using webhook_test::event;
using webhook_test::TempDb;

namespace {

std::vector<std::string> ids(const std::vector<store::EventRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
}

// The events `ids` as a dispatcher names those it has in flight: by seq.
store::EventSeqs seqs_of(store::Database& db, const std::unordered_set<std::string>& ids) {
    std::vector<std::int64_t> out;
    for (const auto& id : ids) {
        auto ev = store::get_event(db, id);
        EXPECT_TRUE(ev && *ev) << id;
        if (ev && *ev) out.push_back((*ev)->seq);
    }
    return store::EventSeqs(std::move(out));
}

std::vector<std::string> due(store::Database& db, std::int64_t now, std::size_t limit = 100,
                             const std::unordered_set<std::string>& exclude = {}) {
    auto r = store::due_events(db, now, limit, seqs_of(db, exclude));
    EXPECT_TRUE(r.ok());
    return r ? ids(*r) : std::vector<std::string>{};
}

// An attempt at event `id`, which must be in `db` (attempts are written by
// the event's seq).
store::AttemptRecord attempt(store::Database& db, const std::string& id, std::int64_t at, std::optional<int> status) {
    store::AttemptRecord a;
    auto ev = store::get_event(db, id);
    EXPECT_TRUE(ev && *ev) << id;
    if (ev && *ev) a.event_seq = (*ev)->seq;
    a.event_id = id;
    a.attempted_at = at;
    a.status_code = status;
    a.latency_ms = 5;
    if (!status) a.error = "connection refused";
    return a;
}

}  // namespace

TEST(WebhookEvents, InsertIsIdempotentPerEventId) {
    TempDb t;
    webhook_test::add_deposit(t.db(), "dep_1");
    store::NewEvent e{"evt_a", "dep_1", "deposit.pending", R"({"x":1})", 1000};
    auto r1 = store::insert_event(t.db(), e);
    ASSERT_TRUE(r1.ok());
    EXPECT_TRUE(*r1);
    e.payload = R"({"x":2})";  // a rescan computing the same change's id makes no second event
    auto r2 = store::insert_event(t.db(), e);
    ASSERT_TRUE(r2.ok());
    EXPECT_FALSE(*r2);
    auto row = event(t.db(), "evt_a");
    EXPECT_EQ(row.status, "pending");
    EXPECT_EQ(row.attempts, 0);
    EXPECT_EQ(row.next_attempt_at, 1000);
    EXPECT_EQ(row.created_at, 1000);
    EXPECT_EQ(row.payload, R"({"x":1})");  // the first bytes stay
    // Another change of the same deposit and type (pending again after a
    // revert) is another event with its own id.
    e.id = "evt_b";
    auto r3 = store::insert_event(t.db(), e);
    ASSERT_TRUE(r3.ok());
    EXPECT_TRUE(*r3);
    auto again = store::get_event(t.db(), "evt_b");
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->has_value());
}

TEST(WebhookEvents, ListFiltersAndPages) {
    TempDb t;
    for (int i = 0; i < 5; ++i) add_event(t.db(), "dep_" + std::to_string(i), "deposit.pending", 100 + i);
    add_event(t.db(), "dep_0", "deposit.confirmed", 200);
    ASSERT_TRUE(store::mark_delivered(t.db(), "evt_dep_0_deposit.pending", 300).ok());

    auto all = store::list_events(t.db(), {});
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->total, 6u);
    EXPECT_EQ(all->events.front().id, "evt_dep_0_deposit.confirmed");  // newest first

    store::EventFilter f;
    f.status = "pending";
    f.type = "deposit.pending";
    f.limit = 2;
    f.page = 2;
    auto page = store::list_events(t.db(), f);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 4u);
    ASSERT_EQ(page->events.size(), 2u);
    EXPECT_EQ(page->events[0].id, "evt_dep_2_deposit.pending");

    f = {};
    f.status = "delivered";
    auto delivered = store::list_events(t.db(), f);
    ASSERT_TRUE(delivered.ok());
    ASSERT_EQ(delivered->events.size(), 1u);
    EXPECT_EQ(delivered->events[0].attempts, 1);
    EXPECT_EQ(delivered->events[0].delivered_at, 300);
}

TEST(WebhookEvents, PerDepositOrder) {
    TempDb t;
    auto a1 = add_event(t.db(), "dep_a", "deposit.pending", 10);
    auto a2 = add_event(t.db(), "dep_a", "deposit.confirmed", 20);
    auto b1 = add_event(t.db(), "dep_b", "deposit.pending", 15);

    // Only the head of each deposit is deliverable.
    EXPECT_EQ(due(t.db(), 100), (std::vector<std::string>{a1, b1}));
    EXPECT_EQ(due(t.db(), 12), (std::vector<std::string>{a1}));  // not due yet: b1
    EXPECT_EQ(due(t.db(), 100, 1), (std::vector<std::string>{a1}));
    // In flight events are skipped, the limit still applies to the rest.
    EXPECT_EQ(due(t.db(), 100, 1, {a1}), (std::vector<std::string>{b1}));

    // a1 retrying: a2 still waits, although a2 is due.
    ASSERT_TRUE(store::schedule_retry(t.db(), a1, 1000, "HTTP 500").ok());
    EXPECT_EQ(due(t.db(), 100), (std::vector<std::string>{b1}));
    auto next = store::next_due_at(t.db());
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, 15);
    EXPECT_EQ(*store::next_due_at(t.db(), seqs_of(t.db(), {b1})), 1000);  // not a2's 20: a2 is blocked

    // a1 delivered: a2 goes next.
    ASSERT_TRUE(store::mark_delivered(t.db(), a1, 1000).ok());
    EXPECT_EQ(due(t.db(), 1000), (std::vector<std::string>{b1, a2}));

    // A failed head blocks its deposit, not the others.
    auto c1 = add_event(t.db(), "dep_c", "deposit.pending", 30);
    auto c2 = add_event(t.db(), "dep_c", "deposit.reverted", 40);
    ASSERT_TRUE(store::mark_failed(t.db(), c1, "HTTP 410").ok());
    auto d = due(t.db(), 2000);
    EXPECT_EQ(std::count(d.begin(), d.end(), c2), 0);
    EXPECT_EQ(std::count(d.begin(), d.end(), b1), 1);
    EXPECT_EQ(event(t.db(), c2).status, "pending");

    // Resending the later event re-queues the earlier failed one too, in order.
    auto r = store::resend_event(t.db(), c2, 3000);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(*r);
    d = due(t.db(), 3000);
    EXPECT_EQ(std::count(d.begin(), d.end(), c1), 1);
    EXPECT_EQ(std::count(d.begin(), d.end(), c2), 0);
    EXPECT_EQ(event(t.db(), c1).attempts, 0);
}

TEST(WebhookEvents, EventsWithoutDepositAreIndependent) {
    TempDb t;
    for (const char* id : {"evt_o1", "evt_o2"}) {
        store::NewEvent e{id, "", std::string("order.") + id, "{}", 5};
        ASSERT_TRUE(store::insert_event(t.db(), e).ok());
    }
    EXPECT_EQ(due(t.db(), 5), (std::vector<std::string>{"evt_o1", "evt_o2"}));
}

TEST(WebhookEvents, ScheduleWithManualClockThenFailed) {
    // The default 15s..60m schedule walked through with a manual clock: no real waiting.
    config::WebhookConfig cfg;
    ManualClock clock;
    TempDb t;
    auto id = add_event(t.db(), "dep_s", "deposit.pending", clock.now_ms());

    webhook::AttemptResult refused;
    refused.error = "connection refused";
    std::int64_t total = 0;
    for (std::size_t n = 0; n <= cfg.schedule.size(); ++n) {
        auto due_now = due(t.db(), clock.now_ms());
        ASSERT_EQ(due_now, std::vector<std::string>{id}) << "attempt " << n + 1;
        auto row = event(t.db(), id);
        ASSERT_EQ(row.attempts, static_cast<int>(n));
        auto o = webhook::decide(refused, row.attempts, cfg.schedule, clock.now_ms(), n % 2 ? 1.0 : -1.0);
        ASSERT_TRUE(store::finish_attempt(t.db(), attempt(t.db(), id, clock.now_ms(), std::nullopt), o).ok());
        if (n == cfg.schedule.size()) {
            EXPECT_EQ(o.kind, store::AttemptOutcome::Kind::failed);
            break;
        }
        ASSERT_EQ(o.kind, store::AttemptOutcome::Kind::retry);
        auto delay = o.next_attempt_at - clock.now_ms();
        auto base = cfg.schedule[n].count();
        EXPECT_EQ(delay, n % 2 ? base + base / 10 : base - base / 10);  // ±10% jitter at its bounds
        total += delay;
        // Not due a millisecond early, due exactly on time.
        clock.advance(std::chrono::milliseconds(delay - 1));
        EXPECT_TRUE(due(t.db(), clock.now_ms()).empty());
        EXPECT_EQ(*store::next_due_at(t.db()), o.next_attempt_at);
        clock.advance(1ms);
    }
    auto row = event(t.db(), id);
    EXPECT_EQ(row.status, "failed");
    EXPECT_EQ(row.attempts, 7);
    EXPECT_EQ(row.last_error, "connection refused");
    EXPECT_TRUE(due(t.db(), clock.now_ms() + 3600'000).empty());
    EXPECT_GT(total, 100 * 60 * 1000);  // about two hours of schedule, walked in no time
    auto attempts = store::list_attempts(t.db(), id);
    ASSERT_TRUE(attempts.ok());
    ASSERT_EQ(attempts->size(), 7u);
    EXPECT_FALSE((*attempts)[0].status_code.has_value());
    EXPECT_EQ((*attempts)[0].error, "connection refused");

    // Resend: pending now, fresh schedule, same id; history kept.
    clock.advance(1h);
    auto r = store::resend_event(t.db(), id, clock.now_ms());
    ASSERT_TRUE(r.ok() && *r);
    row = event(t.db(), id);
    EXPECT_EQ(row.status, "pending");
    EXPECT_EQ(row.attempts, 0);
    EXPECT_EQ(row.next_attempt_at, clock.now_ms());
    EXPECT_EQ(due(t.db(), clock.now_ms()), std::vector<std::string>{id});
    webhook::AttemptResult ok;
    ok.status = 204;
    auto o = webhook::decide(ok, row.attempts, cfg.schedule, clock.now_ms(), 0);
    EXPECT_EQ(o.kind, store::AttemptOutcome::Kind::delivered);
    ASSERT_TRUE(store::finish_attempt(t.db(), attempt(t.db(), id, clock.now_ms(), 204), o).ok());
    row = event(t.db(), id);
    EXPECT_EQ(row.status, "delivered");
    EXPECT_EQ(row.delivered_at, clock.now_ms() + 5);
    EXPECT_EQ(store::list_attempts(t.db(), id)->size(), 8u);

    auto missing = store::resend_event(t.db(), "evt_nope", 0);
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(*missing);
}

TEST(WebhookEvents, ResendDeliveredEventAgain) {
    TempDb t;
    auto id = add_event(t.db(), "dep_r", "deposit.pending", 1);
    ASSERT_TRUE(store::mark_delivered(t.db(), id, 2).ok());
    EXPECT_TRUE(due(t.db(), 10).empty());
    ASSERT_TRUE(*store::resend_event(t.db(), id, 10));
    EXPECT_EQ(due(t.db(), 10), std::vector<std::string>{id});
    EXPECT_FALSE(event(t.db(), id).delivered_at.has_value());
}

TEST(WebhookEvents, ScheduleSurvivesReopen) {
    TempDb t;
    auto id = add_event(t.db(), "dep_x", "deposit.pending", 1);
    ASSERT_TRUE(store::schedule_retry(t.db(), id, 5000, "HTTP 503").ok());
    t.reopen();
    auto row = event(t.db(), id);
    EXPECT_EQ(row.next_attempt_at, 5000);
    EXPECT_EQ(row.attempts, 1);
    EXPECT_TRUE(due(t.db(), 4999).empty());
    EXPECT_EQ(due(t.db(), 5000), std::vector<std::string>{id});
}

TEST(WebhookDecide, Outcomes) {
    std::vector<std::chrono::milliseconds> sched = {10ms, 20ms, 30ms};
    webhook::AttemptResult r;
    for (int s : {200, 201, 202, 204, 299}) {
        r.status = s;
        EXPECT_EQ(webhook::decide(r, 0, sched, 0, 0).kind, store::AttemptOutcome::Kind::delivered) << s;
    }
    for (int s : {301, 302, 400, 404, 410, 429, 500, 503}) {
        r.status = s;
        auto o = webhook::decide(r, 0, sched, 1000, 0);
        EXPECT_EQ(o.kind, store::AttemptOutcome::Kind::retry) << s;
        EXPECT_EQ(o.next_attempt_at, 1010);
        EXPECT_NE(o.error.find(std::to_string(s)), std::string::npos);
        EXPECT_EQ(webhook::decide(r, 3, sched, 1000, 0).kind, store::AttemptOutcome::Kind::failed);
    }
    r.status = 301;
    EXPECT_NE(webhook::decide(r, 0, sched, 0, 0).error.find("redirect"), std::string::npos);
    // Retry-After on 429/503: the longer of the two; ignored on other statuses; capped.
    r.status = 429;
    r.retry_after_ms = 5000;
    EXPECT_EQ(webhook::decide(r, 0, sched, 0, 0).next_attempt_at, 5000);
    r.status = 503;
    r.retry_after_ms = 1;
    EXPECT_EQ(webhook::decide(r, 1, sched, 0, 0).next_attempt_at, 20);
    r.status = 500;
    r.retry_after_ms = 5000;
    EXPECT_EQ(webhook::decide(r, 0, sched, 0, 0).next_attempt_at, 10);
    r.status = 503;
    r.retry_after_ms = 1LL << 50;
    EXPECT_EQ(webhook::decide(r, 0, sched, 0, 0).next_attempt_at, webhook::kMaxRetryAfterMs);
    // No answer at all.
    webhook::AttemptResult t;
    t.error = "timed out";
    auto o = webhook::decide(t, 2, sched, 0, 0);
    EXPECT_EQ(o.kind, store::AttemptOutcome::Kind::retry);
    EXPECT_EQ(o.next_attempt_at, 30);
    EXPECT_EQ(o.error, "timed out");
    // An empty schedule: one attempt, then failed.
    EXPECT_EQ(webhook::decide(t, 0, {}, 0, 0).kind, store::AttemptOutcome::Kind::failed);
}

TEST(WebhookDecide, ResponseExcerpt) {
    EXPECT_EQ(webhook::response_excerpt("ok"), "ok");
    std::string big(5000, 'x');
    EXPECT_EQ(webhook::response_excerpt(big).size(), 1024u);
    // Never cut inside a UTF-8 sequence; invalid bytes become '?'.
    std::string s(1023, 'a');
    s += "\xc3\xa9";  // é straddles the limit
    EXPECT_EQ(webhook::response_excerpt(s), std::string(1023, 'a'));
    EXPECT_EQ(webhook::response_excerpt("a\xff" "b\xc3"), "a?b?");
    EXPECT_EQ(webhook::response_excerpt("\xe2\x82\xac"), "\xe2\x82\xac");
}

// write_attempts (the dispatcher's group commit: a few multi-row statements)
// leaves exactly what write_attempt one by one leaves: the same event rows
// and attempt rows, over chunks of 32, 4 and 1.
TEST(WebhookEvents, AttemptsWrittenTogetherMatchOneByOne) {
    TempDb t;
    const int n = 37;
    std::vector<store::FinishedAttempt> one, together;
    for (int i = 0; i < n; ++i) {
        for (auto* side : {&one, &together}) {
            const std::string prefix = side == &one ? "dep_one_" : "dep_all_";
            store::FinishedAttempt f;
            const std::optional<int> code = i % 5 == 0 ? std::nullopt : std::optional<int>(i % 3 == 0 ? 200 : 500);
            f.record = attempt(t.db(), add_event(t.db(), prefix + std::to_string(i), "deposit.pending", 1), 100 + i, code);
            f.record.response_excerpt = code ? std::optional<std::string>("answer " + std::to_string(i)) : std::nullopt;
            if (i % 3 == 0) f.outcome.kind = store::AttemptOutcome::Kind::delivered;
            if (i % 3 == 1) f.outcome = {store::AttemptOutcome::Kind::retry, 5000 + i, "HTTP 500"};
            if (i % 3 == 2) f.outcome = {store::AttemptOutcome::Kind::failed, 0, "HTTP 410"};
            side->push_back(f);
        }
    }
    {
        store::Transaction tx(t.db());
        for (const auto& f : one) ASSERT_TRUE(store::write_attempt(t.db(), f.record, f.outcome).ok());
        ASSERT_TRUE(tx.commit().ok());
    }
    {
        store::Transaction tx(t.db());
        ASSERT_TRUE(store::write_attempts(t.db(), together).ok());
        ASSERT_TRUE(tx.commit().ok());
    }
    for (int i = 0; i < n; ++i) {
        const auto a = event(t.db(), one[i].record.event_id), b = event(t.db(), together[i].record.event_id);
        EXPECT_EQ(a.status, b.status) << i;
        EXPECT_EQ(a.attempts, 1) << i;
        EXPECT_EQ(b.attempts, 1) << i;
        EXPECT_EQ(a.next_attempt_at, b.next_attempt_at) << i;
        EXPECT_EQ(a.delivered_at, b.delivered_at) << i;
        EXPECT_EQ(a.last_error, b.last_error) << i;
        const auto la = *store::list_attempts(t.db(), a.id), lb = *store::list_attempts(t.db(), b.id);
        ASSERT_EQ(la.size(), 1u);
        ASSERT_EQ(lb.size(), 1u);
        EXPECT_EQ(la[0].attempted_at, lb[0].attempted_at);
        EXPECT_EQ(la[0].status_code, lb[0].status_code);
        EXPECT_EQ(la[0].latency_ms, lb[0].latency_ms);
        EXPECT_EQ(la[0].error, lb[0].error);
        EXPECT_EQ(la[0].response_excerpt, lb[0].response_excerpt);
    }
    EXPECT_EQ(event(t.db(), together[3].record.event_id).status, "delivered");
    EXPECT_EQ(event(t.db(), together[3].record.event_id).delivered_at, 103 + 5);
    EXPECT_EQ(event(t.db(), together[4].record.event_id).next_attempt_at, 5004);
    EXPECT_EQ(event(t.db(), together[5].record.event_id).status, "failed");
}

// One event of the group gone: the whole write fails (the dispatcher then
// writes them one by one) and the transaction leaves nothing behind.
TEST(WebhookEvents, AttemptsWrittenTogetherFailWholeWhenAnEventIsGone) {
    TempDb t;
    std::vector<store::FinishedAttempt> group;
    for (int i = 0; i < 5; ++i) {
        store::FinishedAttempt f;
        f.record = attempt(t.db(), add_event(t.db(), "dep_g" + std::to_string(i), "deposit.pending", 1), 100, 200);
        group.push_back(f);
    }
    ASSERT_TRUE(t.db().prepare("DELETE FROM events WHERE id = ?1").bind(1, group[2].record.event_id).run().ok());
    Status s;
    {
        store::Transaction tx(t.db());
        s = store::write_attempts(t.db(), group);
        if (s) s = tx.commit();
    }
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(s.error().code == Errc::not_found || s.error().code == Errc::conflict) << s.error().describe();
    for (int i : {0, 1, 3, 4}) {
        EXPECT_EQ(event(t.db(), group[i].record.event_id).status, "pending");
        EXPECT_TRUE(store::list_attempts(t.db(), group[i].record.event_id)->empty());
    }
}

// Claimed events handed back are due at once, unless something else
// happened to them since the claim (delivered, claimed again).
TEST(WebhookEvents, ReleasedClaimsAreDueAgainAtOnce) {
    TempDb t;
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(add_event(t.db(), "dep_rel" + std::to_string(i), "deposit.pending", 1));
    auto claimed = store::claim_due_events(t.db(), 10, 50'000, 10);
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 3u);
    for (const auto& e : *claimed) {
        EXPECT_EQ(e.claimed_until, std::optional<std::int64_t>(50'000));
        EXPECT_EQ(e.next_attempt_at, 1);  // the claim leaves the delivery order alone
    }
    EXPECT_TRUE(due(t.db(), 20).empty());
    ASSERT_TRUE(store::mark_delivered(t.db(), ids[0], 15).ok());
    // Claimed again (by another process, after ours ran out).
    ASSERT_TRUE(t.db().prepare("UPDATE events SET claimed_until = 70000 WHERE id = ?1").bind(1, ids[1]).run().ok());
    ASSERT_TRUE(store::release_claims(t.db(), *claimed).ok());
    EXPECT_EQ(due(t.db(), 20), std::vector<std::string>{ids[2]});
    EXPECT_EQ(event(t.db(), ids[0]).status, "delivered");
    EXPECT_EQ(event(t.db(), ids[1]).claimed_until, std::optional<std::int64_t>(70'000));
    EXPECT_FALSE(event(t.db(), ids[2]).claimed_until.has_value());
    EXPECT_EQ(event(t.db(), ids[2]).attempts, 0);
}

// Another process's claim holds an event back until it runs out, also for
// how long the dispatcher sleeps: the next due time is the later of the
// event's next_attempt_at and the claim's end.
TEST(WebhookEvents, TheNextDueTimeWaitsForAnotherProcesssClaim) {
    TempDb t;
    const auto held = add_event(t.db(), "dep_held", "deposit.pending", 100);
    auto claimed = store::claim_due_events(t.db(), 200, 5'000, 1);  // the other process
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(ids(*claimed), std::vector<std::string>{held});
    EXPECT_EQ(*store::next_due_at(t.db()), std::optional<std::int64_t>(5'000));
    const auto later = add_event(t.db(), "dep_later", "deposit.pending", 300);
    EXPECT_EQ(*store::next_due_at(t.db()), std::optional<std::int64_t>(300));
    EXPECT_EQ(due(t.db(), 4'999), std::vector<std::string>{later});
    EXPECT_EQ(due(t.db(), 5'000), (std::vector<std::string>{held, later}));
    // Its own in-flight events are left out, the others' claims are not.
    EXPECT_EQ(*store::next_due_at(t.db(), seqs_of(t.db(), {later})), std::optional<std::int64_t>(5'000));
}

// This transaction's updates of events on PostgreSQL, and how many of them
// were heap-only (pg_stat_xact_*: no wait for the statistics to be reported).
std::pair<std::int64_t, std::int64_t> event_updates(store::Database& db) {
    auto q = db.prepare("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'events'");
    auto r = q.step();
    EXPECT_TRUE(r.ok() && *r);
    return {q.int64(0), q.int64(1)};
}

// On PostgreSQL a claim, its release and the check of an attempt against its
// claim write the row alone: heap-only updates, no index entry (schema 012).
// The attempt's own update changes the status (indexed) and is not one.
TEST(WebhookEvents, AClaimWritesNoIndexOnPostgresql) {
    TempDb t;
    auto& db = t.db();
    if (db.backend() != store::Backend::postgresql) GTEST_SKIP() << "PostgreSQL only (heap-only updates)";
    // Few rows, so that their new versions (claim and release in one
    // transaction: none can be pruned) fit in the room their page keeps.
    for (int i = 0; i < 4; ++i) add_event(db, "dep_hot" + std::to_string(i), "deposit.pending", 1 + i);
    store::Transaction tx(db);
    const auto [upd0, hot0] = event_updates(db);
    auto claimed = store::claim_due_events(db, 1'000, 50'000, 4);
    ASSERT_TRUE(claimed.ok()) << claimed.error().describe();
    ASSERT_EQ(claimed->size(), 4u);
    auto [upd, hot] = event_updates(db);
    EXPECT_EQ(upd - upd0, 4);
    EXPECT_EQ(hot - hot0, 4) << "every claim a heap-only update";
    ASSERT_TRUE(store::release_claims(db, std::span(*claimed).first(2)).ok());
    std::tie(upd, hot) = event_updates(db);
    EXPECT_EQ(upd - upd0, 6);
    EXPECT_EQ(hot - hot0, 6) << "every release a heap-only update";
    ASSERT_TRUE(tx.commit().ok());
}

// A dispatcher claims the due events in order, so one claim takes every
// event of a page at once. With events of a real deposit webhook's size
// (~800 bytes) on several pages, each page must have room for the new
// versions of all of its rows (schema 013 leaves half of it free; with 012's
// 20 % a third of them were heap-only).
TEST(WebhookEvents, AClaimOfWholePagesIsHeapOnlyOnPostgresql) {
    TempDb t;
    auto& db = t.db();
    if (db.backend() != store::Backend::postgresql) GTEST_SKIP() << "PostgreSQL only (heap-only updates)";
    constexpr int kEvents = 24;  // about 6 pages of 4 rows
    for (int i = 0; i < kEvents; ++i) {
        const std::string dep = "dep_page" + std::to_string(i);
        add_event(db, dep, "deposit.pending", 1 + i,
                  R"({"id":"evt_)" + dep + R"(","type":"deposit.pending","data":{"note":")" + std::string(760, 'x') +
                      R"("}})");
    }
    store::Transaction tx(db);
    const auto [upd0, hot0] = event_updates(db);
    auto claimed = store::claim_due_events(db, 1'000, 50'000, kEvents);
    ASSERT_TRUE(claimed.ok()) << claimed.error().describe();
    ASSERT_EQ(claimed->size(), static_cast<std::size_t>(kEvents));
    const auto [upd, hot] = event_updates(db);
    EXPECT_EQ(upd - upd0, kEvents);
    EXPECT_EQ(hot - hot0, kEvents) << "every claim a heap-only update";
    ASSERT_TRUE(tx.commit().ok());
}

// Without [webhook].url the deposits' webhook events wait. A dispatcher then
// claims the merchant callbacks among them, and its walk in due order must
// not step over every waiting webhook (schema 011): on SQLite the plans
// name the partial index; on both stores the callbacks are claimed, in
// order, and the webhooks stay as they were until webhooks are on.
TEST(WebhookEvents, WithoutWebhooksTheWaitingWebhooksAreNotWalked) {
    TempDb t;
    auto& db = t.db();
    for (int i = 0; i < 200; ++i) add_event(db, "dep_w" + std::to_string(i), "deposit.pending", 1 + i);
    std::vector<std::string> callbacks;
    for (int i = 0; i < 3; ++i) {
        store::NewEvent e;
        e.id = "evt_epay_" + std::to_string(i);
        e.type = "epay.notify";
        e.kind = store::kKindEpay;
        e.target = "http://127.0.0.1:9/notify";
        e.stream = "order_" + std::to_string(i);
        e.payload = "{}";
        e.created_at = 500 + i;
        ASSERT_TRUE(store::insert_event(db, e).ok());
        callbacks.push_back(e.id);
    }
    if (db.backend() == store::Backend::sqlite) {
        std::set<std::string> statements;
        sqlite3_trace_v2(
            db.handle(), SQLITE_TRACE_STMT,
            [](unsigned, void* ctx, void* stmt, void*) {
                static_cast<std::set<std::string>*>(ctx)->insert(sqlite3_sql(static_cast<sqlite3_stmt*>(stmt)));
                return 0;
            },
            &statements);
        ASSERT_TRUE(store::due_events(db, 1'000, 10, {}, false).ok());
        ASSERT_TRUE(store::next_due_at(db, {}, false).ok());
        sqlite3_trace_v2(db.handle(), 0, nullptr, nullptr);
        std::size_t checked = 0;
        for (const auto& sql : statements) {
            if (sql.find("e.kind <> 'webhook'") == std::string::npos) continue;
            SCOPED_TRACE(sql);
            const std::string all = test_store::sqlite_query_plan(db, sql);
            EXPECT_NE(all.find("SEARCH e USING INDEX events_due_without_webhooks"), std::string::npos) << all;
            ++checked;
        }
        EXPECT_EQ(checked, 2u);
    }
    auto first = store::next_due_at(db, {}, false);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(*first, std::optional<std::int64_t>(500));
    auto claimed = store::claim_due_events(db, 1'000, 50'000, 10, {}, false);
    ASSERT_TRUE(claimed.ok()) << claimed.error().describe();
    EXPECT_EQ(ids(*claimed), callbacks);
    EXPECT_EQ(due(db, 1'000, 300).size(), 200u);  // webhooks on: the waiting ones are due
    auto with_webhooks = store::claim_due_events(db, 1'000, 50'000, 300);
    ASSERT_TRUE(with_webhooks.ok());
    EXPECT_EQ(with_webhooks->size(), 200u);
}

// An operator resends an event while its delivery is under way (claimed, the
// request not answered yet). The attempt's record must not undo the resend:
// the attempt goes into the history, the event stays pending, due at the
// resend's time with a fresh schedule, and is delivered again. The same
// whether the attempt is written alone (write_attempt) or with others
// (write_attempts), and whatever its outcome. An event still under its claim
// takes the outcome as before.
TEST(WebhookEvents, AnAttemptRecordedAfterAResendLeavesTheResendAlone) {
    using Kind = store::AttemptOutcome::Kind;
    for (bool together : {false, true}) {
        for (Kind kind : {Kind::delivered, Kind::retry, Kind::failed}) {
            SCOPED_TRACE(std::string(together ? "write_attempts " : "write_attempt ") +
                         std::to_string(static_cast<int>(kind)));
            TempDb t;
            const auto resent = add_event(t.db(), "dep_rs", "deposit.pending", 1);
            const auto kept = add_event(t.db(), "dep_kp", "deposit.pending", 1);
            auto claimed = store::claim_due_events(t.db(), 10, 50'000, 10);
            ASSERT_TRUE(claimed.ok());
            ASSERT_EQ(claimed->size(), 2u);
            auto resend = store::resend_event(t.db(), resent, 400);
            ASSERT_TRUE(resend.ok());
            ASSERT_TRUE(*resend);

            std::vector<store::FinishedAttempt> group;
            for (const auto& e : *claimed) {
                store::FinishedAttempt f;
                f.record = attempt(t.db(), e.id, 300, kind == Kind::delivered ? 200 : 500);
                f.outcome = {kind, kind == Kind::retry ? 9'000 : 0, kind == Kind::delivered ? "" : "HTTP 500"};
                f.outcome.claim = e.claimed_until;
                group.push_back(f);
            }
            {
                store::Transaction tx(t.db());
                if (together) {
                    ASSERT_TRUE(store::write_attempts(t.db(), group).ok());
                } else {
                    for (const auto& f : group) ASSERT_TRUE(store::write_attempt(t.db(), f.record, f.outcome).ok());
                }
                ASSERT_TRUE(tx.commit().ok());
            }
            const auto r = event(t.db(), resent);
            EXPECT_EQ(r.status, "pending");
            EXPECT_EQ(r.attempts, 0);
            EXPECT_EQ(r.next_attempt_at, 400);
            EXPECT_FALSE(r.delivered_at.has_value());
            EXPECT_EQ(store::list_attempts(t.db(), resent)->size(), 1u);  // the request made is in the history
            EXPECT_EQ(due(t.db(), 400), std::vector<std::string>{resent});

            const auto k = event(t.db(), kept);
            EXPECT_EQ(k.attempts, 1);
            EXPECT_EQ(k.status, kind == Kind::delivered ? "delivered" : kind == Kind::retry ? "pending" : "failed");
            if (kind == Kind::retry) {
                EXPECT_EQ(k.next_attempt_at, 9'000);
            }
        }
    }
}
