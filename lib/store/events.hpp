#pragma once
// The webhook outbox. Events are inserted by the scanner in the same
// transaction as the deposit change that caused them; lib/webhook drains them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

struct NewEvent {
    std::string id;              // evt_... (core/ids.hpp event_id)
    std::string deposit_id;
    std::string type;            // deposit.pending | deposit.confirmed | deposit.reverted
    std::string payload;         // exact JSON body
    std::int64_t created_at = 0; // unix ms; also the first next_attempt_at
};

// INSERT OR IGNORE on (deposit_id, type): a rescan never makes a second event.
// Returns true when inserted.
Result<bool> insert_event(Database& db, const NewEvent& e);

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
Result<std::optional<EventRow>> get_event(Database& db, const std::string& id);
// Marks the event pending with next_attempt_at = now (deliver again now,
// same id). false when no such event.
Result<bool> resend_event(Database& db, const std::string& id, std::int64_t now_ms);

}  // namespace depositd::store
