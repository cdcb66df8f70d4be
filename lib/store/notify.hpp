#pragma once
// What the Telegram notifier remembers (schema/008 notify_state): how far
// it has relayed the outbox, and the state each alert last reported.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"
#include "store/events.hpp"

namespace depositd::store {

inline constexpr const char* kKindTelegram = "telegram";

struct NotifyState {
    std::string value;
    std::int64_t changed_at = 0;
};
Result<std::optional<NotifyState>> get_notify_state(Database& db, const std::string& key);
Status put_notify_state(Database& db, const std::string& key, const NotifyState& s);

// The highest event seq (0 when the outbox is empty).
Result<std::int64_t> max_event_seq(Database& db);
// Webhook-kind events with seq > after, oldest first, at most `limit`.
Result<std::vector<EventRow>> webhook_events_after(Database& db, std::int64_t after, std::size_t limit);

// Merchant deliveries (every kind but telegram) that have failed for good,
// and those still retrying after `min_attempts` attempts, with the newest
// error among them.
struct DeliveryTrouble {
    std::uint64_t failed = 0;
    std::uint64_t retrying = 0;
    std::optional<std::string> last_error;
};
Result<DeliveryTrouble> delivery_trouble(Database& db, int min_attempts);

}  // namespace depositd::store
