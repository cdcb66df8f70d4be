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
