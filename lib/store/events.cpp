#include "store/events.hpp"

#include <algorithm>
#include <optional>

#include "core/clock.hpp"
#include "store/in_list.hpp"

namespace depositd::store {
namespace {

constexpr const char* kEventColumns =
    "seq, id, deposit_id, type, payload, status, attempts, next_attempt_at, last_error, created_at, delivered_at, "
    "kind, target, stream, order_id, claimed_until";

EventRow read_event(const Statement& q) {
    EventRow r;
    r.seq = q.int64(0);
    r.id = q.text(1);
    r.deposit_id = q.text(2);
    r.type = q.text(3);
    r.payload = q.text(4);
    r.status = q.text(5);
    r.attempts = static_cast<int>(q.int64(6));
    r.next_attempt_at = q.int64(7);
    r.last_error = q.opt_text(8);
    r.created_at = q.int64(9);
    r.delivered_at = q.opt_int64(10);
    r.kind = q.text(11);
    r.target = q.text(12);
    r.stream = q.text(13);
    r.order_id = q.text(14);
    r.claimed_until = q.opt_int64(15);
    return r;
}

// An event is deliverable when no earlier event of its stream is still
// undelivered (see the ordering rule in events.hpp).
constexpr const char* kDeliverable =
    "NOT EXISTS (SELECT 1 FROM events p WHERE e.stream IS NOT NULL AND p.stream = e.stream "
    "AND p.seq < e.seq AND p.status <> 'delivered')";

// Webhooks wait while [webhook].url is not set (?9 = 0), Telegram messages
// while [notify.telegram] is not (?10 = 0); merchant deliveries do not.
// Without webhooks the condition is spelled as the partial index
// events_due_without_webhooks (schema 011) says, so the walk in due order
// never meets the waiting webhooks (both planners match the literal term).
std::string kinds_allowed(bool webhooks) {
    return std::string(webhooks ? "?9 <> 0" : "?9 = 0 AND e.kind <> 'webhook'") +
           " AND (?10 <> 0 OR e.kind <> 'telegram')";
}

// Not claimed by a dispatcher at ?1 (schema 012): never, or the claim ran out.
constexpr const char* kUnclaimed = "(e.claimed_until IS NULL OR e.claimed_until <= ?1)";

std::optional<std::string> non_empty(const std::string& s) {
    if (s.empty()) return std::nullopt;
    return s;
}

}  // namespace

namespace {
// Nine parameters per event; status, attempts and next_attempt_at are
// 'pending', 0 and created_at.
constexpr int kEventColumns9 = 9;
const detail::RowStatements& insert_events() {
    static const detail::RowStatements statements(
        "INSERT INTO events (id, deposit_id, type, payload, created_at, kind, target, stream, order_id, status, "
        "attempts, next_attempt_at) SELECT v.*, 'pending', 0, v.column5 FROM (VALUES ",
        // WHERE TRUE: SQLite would read the ON of an upsert after a bare FROM as a join's.
        kEventColumns9, ") AS v WHERE TRUE ON CONFLICT DO NOTHING", 32);
    return statements;
}

void bind_event(Statement& q, int at, const NewEvent& e) {
    q.bind(at + 1, e.id);
    if (e.deposit_id.empty()) q.bind_null(at + 2, Statement::NullType::text);
    else q.bind(at + 2, e.deposit_id);
    q.bind(at + 3, e.type).bind(at + 4, e.payload).bind(at + 5, e.created_at);
    q.bind(at + 6, e.kind.empty() ? std::string(kKindWebhook) : e.kind).bind(at + 7, non_empty(e.target));
    q.bind(at + 8, non_empty(e.stream.empty() ? e.deposit_id : e.stream)).bind(at + 9, non_empty(e.order_id));
}

Statement prepare_insert(Database& db, const NewEvent& e) {
    auto q = db.prepare(
        "INSERT INTO events (id, deposit_id, type, payload, status, attempts, next_attempt_at, created_at, "
        "kind, target, stream, order_id) VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT DO NOTHING");
    bind_event(q, 0, e);
    return q;
}
}  // namespace

Result<bool> insert_event(Database& db, const NewEvent& e) {
    auto q = prepare_insert(db, e);
    if (auto s = q.run(); !s) return s.error();
    return db.changes() > 0;
}

Status add_event(Database& db, const NewEvent& e) { return prepare_insert(db, e).run_pipelined(); }

Status add_events(Database& db, std::span<const NewEvent> events) {
    return detail::write_rows(db, insert_events(), events, bind_event,
                              [](Statement& q, std::span<const NewEvent>) { return q.run_pipelined(); });
}

Result<EventPage> list_events(Database& db, const EventFilter& f) {
    std::uint32_t limit = std::clamp<std::uint32_t>(f.limit, 1, 100);
    std::uint32_t page = std::max<std::uint32_t>(f.page, 1);
    EventPage out;
    {
        auto c = db.prepare("SELECT count(*) FROM events WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR type = ?2)");
        c.bind(1, f.status).bind(2, f.type);
        auto r = c.step();
        if (!r) return r.error();
        out.total = *r ? static_cast<std::uint64_t>(c.int64(0)) : 0;
    }
    auto q = db.prepare(std::string("SELECT ") + kEventColumns +
                        " FROM events WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR type = ?2) "
                        "ORDER BY seq DESC LIMIT ?3 OFFSET ?4");
    q.bind(1, f.status).bind(2, f.type).bind(3, static_cast<std::int64_t>(limit))
        .bind(4, static_cast<std::int64_t>(page - 1) * limit);
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        out.events.push_back(read_event(q));
    }
    return out;
}

Result<std::optional<EventRow>> get_event(Database& db, const std::string& id) {
    auto q = db.prepare(std::string("SELECT ") + kEventColumns + " FROM events WHERE id = ?1");
    q.bind(1, id);
    auto r = q.step();
    if (!r) return r.error();
    if (!*r) return std::optional<EventRow>{};
    return std::optional<EventRow>(read_event(q));
}

Result<std::vector<EventRow>> events_selected(Database& db, Statement& ids_query) {
    std::vector<std::string> ids;
    for (;;) {
        auto r = ids_query.step();
        if (!r) return r.error();
        if (!*r) break;
        ids.push_back(ids_query.text(0));
    }
    std::vector<EventRow> out;
    out.reserve(ids.size());
    for (const auto& id : ids) {
        auto e = get_event(db, id);
        if (!e) return e.error();
        if (*e) out.push_back(std::move(**e));
    }
    return out;
}

Result<bool> resend_event(Database& db, const std::string& id, std::int64_t now_ms) {
    Transaction tx(db);
    if (!tx.begun()) return tx.begun().error();
    std::optional<std::string> stream;
    std::int64_t seq = 0;
    {
        auto q = db.prepare("SELECT seq, stream FROM events WHERE id = ?1");
        q.bind(1, id);
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) return false;
        seq = q.int64(0);
        stream = q.opt_text(1);
    }
    // A fresh schedule for this event (the history stays in delivery_attempts).
    {
        auto u = db.prepare(
            "UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = ?2, delivered_at = NULL, "
            "claimed_until = NULL WHERE id = ?1");
        u.bind(1, id).bind(2, now_ms);
        if (auto s = u.run(); !s) return s.error();
    }
    // Earlier failed events of the same stream would hold this one back for
    // ever: they are re-queued too, so the resend happens and order is kept.
    if (stream) {
        auto u = db.prepare(
            "UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = ?3 "
            "WHERE stream = ?1 AND seq < ?2 AND status = 'failed'");
        u.bind(1, *stream).bind(2, seq).bind(3, now_ms);
        if (auto s = u.run(); !s) return s.error();
    }
    if (auto s = tx.commit(); !s) return s.error();
    return true;
}

Result<std::vector<EventRow>> due_events(Database& db, std::int64_t now_ms, std::size_t limit,
                                         const EventSeqs& exclude, bool webhooks,
                                         bool telegram) {
    std::vector<EventRow> out;
    if (limit == 0) return out;
    auto q = db.prepare(std::string("SELECT ") + kEventColumns +
                        " FROM events e WHERE e.status = 'pending' AND e.next_attempt_at <= ?1 AND " + kUnclaimed +
                        " AND " + kinds_allowed(webhooks) + " AND " + kDeliverable +
                        " ORDER BY e.next_attempt_at, e.seq LIMIT ?2");
    q.bind(1, now_ms).bind(2, static_cast<std::int64_t>(limit + exclude.size())).bind(9, webhooks ? 1 : 0);
    q.bind(10, telegram ? 1 : 0);
    while (out.size() < limit) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        if (exclude.contains(q.int64(0))) continue;
        out.push_back(read_event(q));
    }
    return out;
}

Result<std::vector<EventRow>> claim_due_events(Database& db, std::int64_t now_ms, std::int64_t claim_until,
                                               std::size_t limit, const EventSeqs& exclude,
                                               bool webhooks, bool telegram) {
    std::vector<EventRow> out;
    if (limit == 0) return out;
    // The chosen rows in a materialized CTE: evaluated once, so LIMIT bounds
    // the claim (a subquery under IN may be re-run per outer row).
    // A claim costs the events it takes, not the backlog: the due events are
    // walked in events_due's order until `limit` deliverable ones are found,
    // and the UPDATE finds those by seq.
    //  - SQLite would rather walk events_due again for the UPDATE, testing
    //    every due event against the chosen few: unary + keeps it out.
    //  - PostgreSQL's rows are locked by the choice, so the UPDATE takes
    //    them by primary key (= ANY of their array). FOR NO KEY UPDATE is
    //    the lock that UPDATE takes itself (no key column changes); FOR
    //    UPDATE would also make an attempt's foreign-key check on the event
    //    (FOR KEY SHARE) wait for the claim's commit. Its
    //    statistics may say pending events are rare (most are delivered, or
    //    the table was empty when last analysed), and then it plans the
    //    choice as a bitmap scan of every due event, each tested for
    //    deliverability, then sorted: for a receiver back after a long pause,
    //    the whole backlog per claim. Without sorts and bitmap scans for this
    //    transaction's plans, the ordered index scan that stops at `limit` is
    //    what is left.
    const bool pg = db.backend() == Backend::postgresql;
    std::optional<Transaction> own;
    if (pg) {
        if (!db.in_transaction()) {
            own.emplace(db);
            if (!own->begun()) return own->begun().error();
        }
        auto plan = db.prepare(
            "SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)");
        if (auto s = plan.run_pipelined(); !s) return s.error();
    }
    const std::string choose = std::string("SELECT e.seq FROM events e WHERE e.status = 'pending' AND ") +
                               "e.next_attempt_at <= ?1 AND " + kUnclaimed + " AND " + kinds_allowed(webhooks) +
                               " AND " + kDeliverable + " ORDER BY e.next_attempt_at, e.seq LIMIT ?2";
    auto q = db.prepare(
        pg ? "UPDATE events SET claimed_until = ?3 WHERE seq = ANY (ARRAY (" + choose +
                 " FOR NO KEY UPDATE OF e SKIP LOCKED)) RETURNING " + kEventColumns
           : "WITH chosen AS MATERIALIZED (" + choose +
                 ") UPDATE events AS e SET claimed_until = ?3 WHERE e.seq IN (SELECT seq FROM chosen) AND "
                 "+e.status = 'pending' AND +e.next_attempt_at <= ?1 AND " + kUnclaimed + " RETURNING " + kEventColumns);
    q.bind(1, now_ms).bind(2, static_cast<std::int64_t>(limit)).bind(3, claim_until).bind(9, webhooks ? 1 : 0);
    q.bind(10, telegram ? 1 : 0);
    std::vector<std::int64_t> in_flight;
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        if (exclude.contains(q.int64(0))) {
            in_flight.push_back(q.int64(0));
            continue;
        }
        out.push_back(read_event(q));
    }
    // Still in flight here, yet due: its attempt was just recorded (a retry)
    // and the delivery has not returned. It was due, so it stays due: the
    // claim just made is undone, or it would wait for the claim to run out.
    for (const std::int64_t seq : in_flight) {
        auto undo = db.prepare("UPDATE events SET claimed_until = NULL WHERE seq = ?1 AND claimed_until = ?2");
        undo.bind(1, seq).bind(2, claim_until);
        if (auto s = undo.run(); !s) return s.error();
    }
    if (own)
        if (auto s = own->commit(); !s) return s.error();
    std::sort(out.begin(), out.end(), [](const EventRow& a, const EventRow& b) { return a.seq < b.seq; });
    return out;
}

Status release_claims(Database& db, std::span<const EventRow> events) {
    Transaction tx(db);
    if (!tx.begun()) return tx.begun();
    for (const auto& e : events) {
        if (!e.claimed_until) continue;  // not taken by claim_due_events
        auto q = db.prepare("UPDATE events SET claimed_until = NULL WHERE id = ?1 AND claimed_until = ?2");
        q.bind(1, e.id).bind(2, *e.claimed_until);
        if (auto s = q.run_pipelined(); !s) return s;
    }
    return tx.commit();
}

Result<std::optional<std::int64_t>> next_due_at(Database& db, const EventSeqs& exclude,
                                                 bool webhooks, bool telegram) {
    // An event is due at its next_attempt_at, or when another process's claim
    // on it runs out if that is later. The walk in next_attempt_at order ends
    // at the first event that cannot be due earlier than the earliest found;
    // other processes' claims (a few windows of events) are stepped over, up
    // to a bound: past it the answer may be later than the truth, and the
    // dispatcher's poll interval bounds the wait anyway.
    constexpr std::int64_t kOthersClaims = 256;
    auto q = db.prepare(std::string("SELECT e.seq, e.next_attempt_at, e.claimed_until FROM events e WHERE ") +
                        "e.status = 'pending' AND " + kinds_allowed(webhooks) + " AND " + kDeliverable +
                        " ORDER BY e.next_attempt_at, e.seq LIMIT ?1");
    q.bind(1, static_cast<std::int64_t>(exclude.size()) + kOthersClaims).bind(9, webhooks ? 1 : 0);
    q.bind(10, telegram ? 1 : 0);
    std::optional<std::int64_t> earliest;
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) return earliest;
        if (earliest && q.int64(1) >= *earliest) return earliest;
        if (exclude.contains(q.int64(0))) continue;
        const std::int64_t at = std::max(q.int64(1), q.opt_int64(2).value_or(0));
        if (!earliest || at < *earliest) earliest = at;
    }
}

Status record_attempt(Database& db, const AttemptRecord& a) {
    auto q = db.prepare(
        "INSERT INTO delivery_attempts (event_seq, attempted_at, status_code, latency_ms, error, response_excerpt) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    q.bind(1, a.event_seq).bind(2, a.attempted_at).bind(4, a.latency_ms).bind(5, a.error).bind(6, a.response_excerpt);
    if (a.status_code) q.bind(3, *a.status_code);
    else q.bind_null(3);
    return q.run_pipelined();
}

Result<std::vector<AttemptRecord>> list_attempts(Database& db, const std::string& event_id) {
    auto q = db.prepare(
        "SELECT e.seq, e.id, a.attempted_at, a.status_code, a.latency_ms, a.error, a.response_excerpt "
        "FROM events e JOIN delivery_attempts a ON a.event_seq = e.seq WHERE e.id = ?1 ORDER BY a.id");
    q.bind(1, event_id);
    std::vector<AttemptRecord> out;
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        AttemptRecord a;
        a.event_seq = q.int64(0);
        a.event_id = q.text(1);
        a.attempted_at = q.int64(2);
        if (!q.is_null(3)) a.status_code = static_cast<int>(q.int64(3));
        a.latency_ms = q.int64(4);
        a.error = q.opt_text(5);
        a.response_excerpt = q.opt_text(6);
        out.push_back(std::move(a));
    }
    return out;
}

namespace {
// " AND <the event still holds claim ?n>" when the outcome is tied to a claim.
std::string under_claim(bool claimed, int n) {
    if (!claimed) return {};
    const std::string p = "?" + std::to_string(n);
    return " AND status = 'pending' AND claimed_until = " + p;
}
// One row, or none when the claim is gone (a resend won); without a claim
// the event must be there.
std::int64_t rows_expected(const std::optional<std::int64_t>& claim) { return claim ? -1 : 1; }
}  // namespace

Status mark_delivered(Database& db, const std::string& id, std::int64_t now_ms, std::optional<std::int64_t> claim) {
    auto q = db.prepare(
        "UPDATE events SET status = 'delivered', attempts = attempts + 1, delivered_at = ?2, last_error = NULL, "
        "claimed_until = NULL WHERE id = ?1" + under_claim(claim.has_value(), 3));
    q.bind(1, id).bind(2, now_ms);
    if (claim) q.bind(3, *claim);
    return q.run_pipelined(rows_expected(claim), Errc::not_found, "no event " + id);
}

Status schedule_retry(Database& db, const std::string& id, std::int64_t next_attempt_at, const std::string& error,
                      std::optional<std::int64_t> claim) {
    auto q = db.prepare(
        "UPDATE events SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3, "
        "claimed_until = NULL WHERE id = ?1" + under_claim(claim.has_value(), 4));
    q.bind(1, id).bind(2, next_attempt_at).bind(3, error);
    if (claim) q.bind(4, *claim);
    return q.run_pipelined(rows_expected(claim), Errc::not_found, "no event " + id);
}

Status mark_failed(Database& db, const std::string& id, const std::string& error, std::optional<std::int64_t> claim) {
    auto q = db.prepare(
        "UPDATE events SET status = 'failed', attempts = attempts + 1, last_error = ?2, claimed_until = NULL "
        "WHERE id = ?1" + under_claim(claim.has_value(), 3));
    q.bind(1, id).bind(2, error);
    if (claim) q.bind(3, *claim);
    return q.run_pipelined(rows_expected(claim), Errc::not_found, "no event " + id);
}

Status write_attempt(Database& db, const AttemptRecord& a, const AttemptOutcome& o) {
    // The attempt row goes in whatever the claim says: the history keeps every
    // request made (its foreign key fails it when the event is gone).
    if (auto s = record_attempt(db, a); !s) return s;
    switch (o.kind) {
        case AttemptOutcome::Kind::delivered:
            return mark_delivered(db, a.event_id, a.attempted_at + a.latency_ms, o.claim);
        case AttemptOutcome::Kind::retry: return schedule_retry(db, a.event_id, o.next_attempt_at, o.error, o.claim);
        case AttemptOutcome::Kind::failed: return mark_failed(db, a.event_id, o.error, o.claim);
    }
    return {};
}

namespace {

// write_attempts' chunks: 32, 16, ..., 1 rows, one statement text each
// (built once, prepared once per connection).
constexpr std::size_t kWidestChunk = 32;

const detail::RowStatements& insert_attempts() {
    static const detail::RowStatements statements(
        "INSERT INTO delivery_attempts (event_seq, attempted_at, status_code, latency_ms, error, response_excerpt) VALUES ",
        6, "", kWidestChunk);
    return statements;
}

// The three outcomes as one: delivered sets delivered_at and clears the
// error, a retry moves next_attempt_at, a failure only records why; each
// counts the attempt (mark_delivered, schedule_retry, mark_failed), and one
// tied to a claim only while the event still holds it (AttemptOutcome::claim).
// Events are found by seq, as their attempts are written (schema 014): the
// rows of a group sit together, where their ids are spread over a hash
// index.
const detail::RowStatements& update_events() {
    static const detail::RowStatements statements(
        "WITH v (seq, status, next_at, delivered_at, err, claim) AS (VALUES ", 6,
        ") UPDATE events SET status = v.status, attempts = events.attempts + 1, "
        "next_attempt_at = COALESCE(v.next_at, events.next_attempt_at), "
        "delivered_at = COALESCE(v.delivered_at, events.delivered_at), last_error = v.err, claimed_until = NULL "
        "FROM v WHERE events.seq = v.seq AND (v.claim IS NULL OR (events.status = 'pending' AND "
        "events.claimed_until = v.claim))",
        kWidestChunk);
    return statements;
}

// Both statements of write_attempts for `rows` attempts.
Status write_attempt_rows(Database& db, std::span<const FinishedAttempt> rows) {
    const auto n = static_cast<std::int64_t>(rows.size());
    {
        auto q = db.prepare(insert_attempts().text(rows.size()));
        int p = 0;
        for (const auto& f : rows) {
            const auto& a = f.record;
            q.bind(p + 1, a.event_seq).bind(p + 2, a.attempted_at).bind(p + 4, a.latency_ms);
            q.bind(p + 5, a.error).bind(p + 6, a.response_excerpt);
            if (a.status_code) q.bind(p + 3, *a.status_code);
            else q.bind_null(p + 3, Statement::NullType::integer);
            p += 6;
        }
        if (auto s = q.run_pipelined(n, Errc::conflict, "an attempt's event is gone"); !s) return s;
    }
    // Events whose claim is gone (a resend won) are left alone: then fewer
    // rows change, which is no error (a missing event failed the INSERT).
    std::int64_t expect = n;
    auto q = db.prepare(update_events().text(rows.size()));
    int p = 0;
    for (const auto& f : rows) {
        const auto& o = f.outcome;
        q.bind(p + 1, f.record.event_seq);
        q.bind_null(p + 3, Statement::NullType::integer).bind_null(p + 4, Statement::NullType::integer);
        q.bind_null(p + 5, Statement::NullType::text);
        if (o.claim) {
            q.bind(p + 6, *o.claim);
            expect = -1;
        } else {
            q.bind_null(p + 6, Statement::NullType::integer);
        }
        switch (o.kind) {
            case AttemptOutcome::Kind::delivered:
                q.bind(p + 2, "delivered").bind(p + 4, f.record.attempted_at + f.record.latency_ms);
                break;
            case AttemptOutcome::Kind::retry:
                q.bind(p + 2, "pending").bind(p + 3, o.next_attempt_at).bind(p + 5, o.error);
                break;
            case AttemptOutcome::Kind::failed: q.bind(p + 2, "failed").bind(p + 5, o.error); break;
        }
        p += 6;
    }
    return q.run_pipelined(expect, Errc::not_found, "an attempt's event is gone");
}

}  // namespace

Status write_attempts(Database& db, std::span<const FinishedAttempt> attempts) {
    while (!attempts.empty()) {
        const std::size_t n = insert_attempts().width_for(attempts.size());
        if (auto s = write_attempt_rows(db, attempts.first(n)); !s) return s;
        attempts = attempts.subspan(n);
    }
    return {};
}

Status finish_attempt(Database& db, const AttemptRecord& a, const AttemptOutcome& o) {
    Transaction tx(db);
    if (!tx.begun()) return tx.begun();
    if (auto s = write_attempt(db, a, o); !s) return s;
    return tx.commit();
}

json::object event_to_json(const EventRow& e) {
    auto time_or_null = [](const std::optional<std::int64_t>& ms) {
        return ms ? json::value(format_rfc3339_ms(*ms)) : json::value(nullptr);
    };
    json::object o;
    o["id"] = e.id;
    o["type"] = e.type;
    o["depositId"] = e.deposit_id.empty() ? json::value(nullptr) : json::value(e.deposit_id);
    o["order"] = e.order_id.empty() ? json::value(nullptr) : json::value(e.order_id);  // ord_..., when about an order
    o["kind"] = e.kind;
    if (!e.target.empty()) o["url"] = e.target;
    o["status"] = e.status;
    o["attempts"] = e.attempts;
    o["nextAttemptAt"] = e.status == "pending" ? time_or_null(e.next_attempt_at) : json::value(nullptr);
    o["lastError"] = e.last_error ? json::value(*e.last_error) : json::value(nullptr);
    o["createdAt"] = format_rfc3339_ms(e.created_at);
    o["deliveredAt"] = time_or_null(e.delivered_at);
    auto payload = json::parse_bounded(e.payload);
    o["payload"] = payload ? std::move(*payload) : json::value(e.payload);
    return o;
}

}  // namespace depositd::store
