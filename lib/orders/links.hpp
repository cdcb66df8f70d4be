#pragma once
// Payment links (PayIn's shape, SPEC §8): reusable links with a title, a
// fixed or payer-chosen amount and several currencies; each checkout visitor
// gets its own order (a GET shows the form, the form's POST makes the order).
// draft -> active -> archived; a link is closed once it expired, and sold
// out for new visitors while its completed, paid and waiting orders reach
// inventoryTotal.
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "orders/orders.hpp"
#include "store/orders.hpp"

namespace depositd::orders {

struct LinkCurrency {
    std::string currency;   // symbol
    std::string chain_id;
    std::string code() const;  // "usdt.tron"
};
Result<std::vector<LinkCurrency>> link_currencies(const store::PaymentLink& link);

enum class LinkAvailability {
    open,        // active, not expired, not sold out
    not_found,   // a draft (not published yet)
    gone,        // archived, expired or sold out
};
struct LinkState {
    LinkAvailability availability = LinkAvailability::not_found;
    std::string reason;         // "archived", "expired", "sold out", "draft"
    std::uint64_t completed = 0;
    std::uint64_t reserved = 0; // completed + paid + waiting
};
Result<LinkState> link_state(store::Database& db, const store::PaymentLink& link, std::int64_t now_ms);

std::string checkout_url(const config::Config& cfg, const std::string& slug);
json::object link_to_json(const store::PaymentLink& link, std::uint64_t completed, const config::Config& cfg);

// The order of one checkout visitor: `pay` is one of the link's currencies
// ("usdt.tron"), `amount` the payer's amount when the link's is "0";
// `client` the client address key, `visitor` the visitor cookie's id. The
// visitor's open order of this link comes back (created = false); the caps
// of SPEC §8 give Failure::too_many, sold_out or busy.
CreateOutcome checkout_order(store::Database& db, const config::Config& cfg, const RateCache* rates,
                             const store::PaymentLink& link, const std::string& pay, const std::string& amount,
                             const std::string& client, const std::string& visitor, std::int64_t now_ms);

}  // namespace depositd::orders
