#pragma once
// The console's searches and lists (SPEC §12): keyset pages, newest first,
// over the indexes of schema/003 and schema/008. Each returns the ids of a
// page and where the next one starts; the caller reads the rows by id
// (get_deposit, get_order, get_event, get_link: primary-key lookups).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"
#include "store/events.hpp"

namespace depositd::store {

// A position in a list ordered by (t DESC, seq DESC): t is the time column
// (0 for lists ordered by seq alone), seq the rowid.
struct PageKey {
    std::int64_t t = 0;
    std::int64_t seq = 0;
};

struct ConsoleQuery {
    std::optional<std::string> q;         // search text (exact match on the fields each list names)
    std::optional<std::string> status;
    std::optional<std::string> chain_id;  // deposits
    std::optional<std::string> type;      // events
    std::optional<PageKey> after;         // the last row of the previous page
    std::uint32_t limit = 25;             // 1..100
};

struct IdPage {
    std::vector<std::string> ids;
    std::optional<PageKey> next;          // the last row of this page when more follow
};

// Deposits whose reference, address (any letter case), transaction hash (as
// given, lower case, with or without 0x), deposit id, or order (ord_ id or
// the merchant's order id) is q; newest detection first. q is required.
Result<IdPage> search_deposits(Database& db, const ConsoleQuery& f);
// Orders by ord_ id, merchant order id, address, or the transaction hash /
// reference of a deposit that pays them; optional status. Newest first.
Result<IdPage> search_orders(Database& db, const ConsoleQuery& f);
// Outbox rows by event id, deposit id or order id; optional status and type.
Result<IdPage> search_events(Database& db, const ConsoleQuery& f);
// Payment links by id, slug or a part of the title; optional status.
Result<IdPage> search_links(Database& db, const ConsoleQuery& f);

// Every event of a deposit / an order (its webhooks and merchant notifies),
// oldest first.
Result<std::vector<EventRow>> events_of_deposit(Database& db, const std::string& deposit_id);
Result<std::vector<EventRow>> events_of_order(Database& db, const std::string& order_id);

// Outbox rows by status and kind ("webhook", "epay", "epusdt", "telegram").
struct OutboxCount {
    std::string kind;
    std::string status;
    std::uint64_t n = 0;
};
Result<std::vector<OutboxCount>> outbox_counts(Database& db);

}  // namespace depositd::store
