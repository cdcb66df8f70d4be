#pragma once
// The webhook outbox. Events are inserted by the scanner in the same
// transaction as the deposit change that caused them; lib/webhook drains them.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

// What kind of request delivers an event (schema/004_orders.sql):
//   webhook  signed POST of the payload to [webhook].url; success = any 2xx
//   epay     GET of `target` (notify URL + signed query); success = body contains "success"
//   epusdt   POST of the payload (JSON) to `target`; success = body is "ok"
//   telegram POST of the message to the Bot API ([notify.telegram]); success = {"ok":true}
inline constexpr const char* kKindWebhook = "webhook";
inline constexpr const char* kKindEpay = "epay";
inline constexpr const char* kKindEpusdt = "epusdt";

struct NewEvent {
    std::string id;              // evt_... (core/ids.hpp event_id)
    std::string deposit_id;
    std::string type;            // deposit.* | order.* | epay.notify | epusdt.callback
    std::string payload;         // exact JSON body
    std::int64_t created_at = 0; // unix ms; also the first next_attempt_at
    std::string kind = kKindWebhook;
    std::string target;          // URL of an epay / epusdt delivery; empty for webhooks
    std::string stream;          // delivery order key; empty = the deposit id (or none)
    std::string order_id;        // the order an event is about, if any
};

// INSERT OR IGNORE on the event id and on (deposit_id, type): a rescan never
// makes a second event. Returns true when inserted.
Result<bool> insert_event(Database& db, const NewEvent& e);
// The same in the caller's transaction, whether or not it was new,
// pipelined on PostgreSQL (Statement::run_pipelined).
Status add_event(Database& db, const NewEvent& e);
// add_event for many, in their order, in multi-row statements.
Status add_events(Database& db, std::span<const NewEvent> events);

}  // namespace depositd::store

// --- Implemented with lib/webhook (delivery side) ---------------------------
namespace depositd::store {

struct EventRow {
    std::int64_t seq = 0;
    std::string id;
    std::string deposit_id;
    std::string type;
    std::string payload;
    std::string status;          // pending | delivered | failed
    int attempts = 0;
    std::int64_t next_attempt_at = 0;
    std::optional<std::string> last_error;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> delivered_at;
    std::string kind = kKindWebhook;
    std::string target;          // epay / epusdt URL
    std::string stream;
    std::string order_id;
    // Taken by a dispatcher until then (claim_due_events); nullopt: not
    // claimed. Apart from next_attempt_at, in a column no index covers
    // (schema 012), so a claim writes the row alone.
    std::optional<std::int64_t> claimed_until;
};

struct EventFilter {
    std::optional<std::string> status;
    std::optional<std::string> type;
    std::uint32_t page = 1;
    std::uint32_t limit = 20;    // <= 100
};
struct EventPage {
    std::vector<EventRow> events;
    std::uint64_t total = 0;
};
Result<EventPage> list_events(Database& db, const EventFilter& f);
// The event as the API and `depositctl events list --json` show it.
json::object event_to_json(const EventRow& e);
Result<std::optional<EventRow>> get_event(Database& db, const std::string& id);
// The events whose ids `ids_query` selects (its first column), in its order.
Result<std::vector<EventRow>> events_selected(Database& db, Statement& ids_query);
// Marks the event pending with next_attempt_at = now (deliver again now,
// same id). false when no such event.
Result<bool> resend_event(Database& db, const std::string& id, std::int64_t now_ms);

}  // namespace depositd::store

// --- Delivery side (lib/webhook/dispatcher) ----------------------------------
//
// Ordering rule. Events of one stream are delivered in seq order: an event
// is deliverable only when every earlier event (lower seq) of the same
// stream is `delivered`. A deposit's events form one stream (keyed by the
// deposit id), an order's webhooks another, its merchant notify a third. So `deposit.confirmed` is never sent before its
// `deposit.pending` succeeded, and while an earlier event is retrying or
// `failed`, the later ones of that deposit wait (they stay `pending`, their
// own schedule does not advance). Resending the failed event (which also
// re-queues any earlier failed event of the same deposit) releases them.
// Events of other streams, and events without a stream, are independent.

namespace depositd::store {

// Events a dispatcher has in flight, by seq: the reads and claims of due
// events below skip them. A sorted array: the dispatcher copies it for each
// claim (which runs on the store's thread), one allocation for any number.
class EventSeqs {
public:
    EventSeqs() = default;
    EventSeqs(std::initializer_list<std::int64_t> seqs) : seqs_(seqs) { std::sort(seqs_.begin(), seqs_.end()); }
    explicit EventSeqs(std::vector<std::int64_t> seqs) : seqs_(std::move(seqs)) {
        std::sort(seqs_.begin(), seqs_.end());
    }
    bool contains(std::int64_t seq) const { return std::binary_search(seqs_.begin(), seqs_.end(), seq); }
    std::size_t size() const { return seqs_.size(); }

private:
    std::vector<std::int64_t> seqs_;
};

// Up to `limit` pending events that are due (next_attempt_at <= now_ms) and
// deliverable under the ordering rule, earliest due first. Events whose seq
// is in `exclude` (in flight) are skipped. A read only: a single dispatcher
// per database owns delivery. Without `webhooks` (no [webhook].url) only the
// merchant deliveries (epay, epusdt) are taken; webhooks stay pending.
// Telegram messages (kind "telegram") are taken only with `telegram`
// ([notify.telegram] configured).
Result<std::vector<EventRow>> due_events(Database& db, std::int64_t now_ms, std::size_t limit,
                                         const EventSeqs& exclude = {}, bool webhooks = true,
                                         bool telegram = false);

// What the dispatcher takes, with several processes sharing the store (SPEC
// §11): up to `limit` events due_events() would return, claimed for this
// process until `claim_until` (their claimed_until is set to it, so no
// other process takes them meanwhile, and one that dies with them leaves
// them due again then: at least once, at most twice around a crash). On
// PostgreSQL rows another process is claiming are skipped (FOR UPDATE SKIP
// LOCKED); SQLite's one writer serializes claims. In seq order.
Result<std::vector<EventRow>> claim_due_events(Database& db, std::int64_t now_ms, std::int64_t claim_until,
                                               std::size_t limit, const EventSeqs& exclude = {},
                                               bool webhooks = true, bool telegram = false);

// Gives claimed events back before their claim runs out (the dispatcher
// stops, or the receiver was paused before they were tried): each is due
// again at once (at its next_attempt_at) if it still holds the claim it was
// taken with (its claimed_until as claim_due_events returned it). One
// transaction.
Status release_claims(Database& db, std::span<const EventRow> events);

// When the earliest deliverable pending event not in `exclude` is due: its
// next_attempt_at, or the end of another process's claim on it if later;
// nullopt when there is none. The dispatcher sleeps until then.
Result<std::optional<std::int64_t>> next_due_at(Database& db,
                                                 const EventSeqs& exclude = {},
                                                 bool webhooks = true, bool telegram = false);

// One row of delivery_attempts. It is written by the event's seq (schema
// 014); list_attempts fills both.
struct AttemptRecord {
    std::int64_t event_seq = 0;  // EventRow::seq
    std::string event_id;
    std::int64_t attempted_at = 0;             // unix ms
    std::optional<int> status_code;            // nullopt: no HTTP answer
    std::int64_t latency_ms = 0;
    std::optional<std::string> error;
    std::optional<std::string> response_excerpt;  // first KiB of the body
};
Status record_attempt(Database& db, const AttemptRecord& a);
Result<std::vector<AttemptRecord>> list_attempts(Database& db, const std::string& event_id);

// Event state after an attempt (each counts the attempt: attempts + 1, and
// ends any claim). With `claim`, only while the event is still pending under
// that claim (its claimed_until as claim_due_events returned it); otherwise
// the event is left as it is, which is no error (see AttemptOutcome::claim).
Status mark_delivered(Database& db, const std::string& id, std::int64_t now_ms,
                      std::optional<std::int64_t> claim = {});
Status schedule_retry(Database& db, const std::string& id, std::int64_t next_attempt_at,
                      const std::string& error, std::optional<std::int64_t> claim = {});
Status mark_failed(Database& db, const std::string& id, const std::string& error,
                   std::optional<std::int64_t> claim = {});

// What to do with the event after an attempt.
struct AttemptOutcome {
    enum class Kind { delivered, retry, failed } kind = Kind::delivered;
    std::int64_t next_attempt_at = 0;  // retry only
    std::string error;                 // retry / failed
    // The claim the attempt was made under (the event's claimed_until as
    // claimed). The outcome applies only while the event still holds it: an
    // operator's resend during the delivery (pending, due now, attempts 0)
    // or another process's claim after ours ran out wins, and the attempt is
    // only recorded in the history. nullopt: applies whatever the event's state.
    std::optional<std::int64_t> claim;
};
// record_attempt + the matching mark_*, in the caller's transaction
// (pipelined on PostgreSQL): the event gone fails it with not_found or
// conflict.
Status write_attempt(Database& db, const AttemptRecord& a, const AttemptOutcome& o);
// write_attempt in a transaction of its own (a savepoint inside one).
Status finish_attempt(Database& db, const AttemptRecord& a, const AttemptOutcome& o);

// An attempt and what it made of its event.
struct FinishedAttempt {
    AttemptRecord record;
    AttemptOutcome outcome;
};
// write_attempt for many events (each at most once) in the caller's
// transaction, with a few multi-row statements instead of two per attempt:
// one INSERT of up to 32 attempt rows and one UPDATE of as many events. Same
// rows, same effect; any event gone fails it all with not_found or conflict
// (the caller then writes them one by one).
Status write_attempts(Database& db, std::span<const FinishedAttempt> attempts);

}  // namespace depositd::store
