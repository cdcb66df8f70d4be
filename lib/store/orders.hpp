#pragma once
// Orders, the deposits matched to them, their addresses, and payment links
// (SPEC §8): rows and prepared queries only. What an order means (pricing,
// matching, state changes, events) lives in lib/orders.
//
// None of these functions opens a transaction: callers (lib/orders) group
// them, e.g. inside the scanner's commit for a deposit change.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"
#include "store/deposits.hpp"
#include "store/pool.hpp"

namespace depositd::store {

struct Order {
    std::string id;                          // ord_...
    std::string order_id;                    // the merchant's
    std::string source;                      // api | epay | epusdt | link
    std::string mode;                        // address | amount
    std::string status;                      // waiting | paid | completed | expired
    std::string chain_id;
    std::string currency;                    // symbol as configured
    std::optional<std::string> contract;
    unsigned decimals = 0;
    std::string amount;                      // decimal, pay currency, before the unique-amount step
    std::string pay_raw;                     // base units that must arrive
    std::string paid_raw = "0";              // base units of non-reverted matched deposits
    std::optional<std::string> fiat_amount;
    std::optional<std::string> fiat_currency;
    std::optional<std::string> rate;
    std::int64_t address_id = 0;
    std::string address;
    std::optional<std::string> redirect_url;
    std::optional<std::string> notify_url;
    std::optional<std::string> merchant;     // JSON text
    std::optional<std::string> metadata;     // JSON text
    std::optional<std::string> link_id;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::optional<std::int64_t> paid_at;
    std::optional<std::int64_t> completed_at;
    std::optional<std::int64_t> expired_at;
    std::optional<std::string> client;       // checkout orders: the client address key (per-client cap)
    std::optional<std::string> visitor;      // checkout orders: the visitor cookie's id
    bool manual = false;                     // settled by hand (mark-paid), not by a payment seen on chain
};

// Errc::conflict when a unique index refuses it (a live order with that
// merchant id, or an open order with that amount on that address).
Status insert_order(Database& db, const Order& o);
// status, paid_raw, paid_at, completed_at, expired_at, manual.
Status update_order_state(Database& db, const Order& o);
// Moves a waiting order to expired; false when it was not waiting any more.
Result<bool> expire_order(Database& db, const std::string& id, std::int64_t now_ms);

Result<std::optional<Order>> get_order(Database& db, const std::string& id);
// The newest order with that merchant id (any status), optionally of one source.
Result<std::optional<Order>> latest_order_by_order_id(Database& db, const std::string& order_id,
                                                      const std::optional<std::string>& source = std::nullopt);

struct OrderFilter {
    std::optional<std::string> order_id;
    std::optional<std::string> status;
    std::optional<std::string> link_id;
    std::uint32_t page = 1;
    std::uint32_t limit = 20;                // <= 100
};
struct OrderPage {
    std::vector<Order> orders;
    std::uint64_t total = 0;
};
Result<OrderPage> list_orders(Database& db, const OrderFilter& f);

// Open orders (waiting or paid) that pay in `currency` on `chain_id` to
// the address `address_id`, oldest first.
Result<std::vector<Order>> open_orders_at(Database& db, std::int64_t address_id, const std::string& chain_id,
                                          const std::string& currency);
// The orders whose amount is taken at `now_ms` (mode amount): the open ones
// and those that ended (completed or expired) less than `hold_ms` ago.
Result<std::vector<Order>> held_orders_at(Database& db, std::int64_t address_id, const std::string& chain_id,
                                          const std::string& currency, std::int64_t now_ms, std::int64_t hold_ms);
// Mode amount: the newest order holding `pay_raw` on that address at
// `paid_ms` that no longer takes a payment (paid, completed, expired, or
// past its expiresAt), created no later than paid_ms + skew_ms and ended
// (completed / expired) no earlier than paid_ms - hold_ms.
Result<std::optional<Order>> ended_order_holding(Database& db, std::int64_t address_id, const std::string& chain_id,
                                                 const std::string& currency, const std::string& pay_raw,
                                                 std::int64_t paid_ms, std::int64_t skew_ms, std::int64_t hold_ms);
// The orders a payment mined at `paid_ms` to `address_id` in `currency` on
// `chain_id` may belong to: waiting, paid or expired, with
// created_at - skew_ms <= paid_ms <= expires_at. Newest first.
Result<std::vector<Order>> orders_in_window(Database& db, std::int64_t address_id, const std::string& chain_id,
                                            const std::string& currency, std::int64_t paid_ms, std::int64_t skew_ms);
// Waiting orders whose expires_at has passed, oldest deadline first.
Result<std::vector<Order>> due_orders(Database& db, std::int64_t now_ms, std::size_t limit);
// The earliest expires_at of a waiting order.
Result<std::optional<std::int64_t>> next_expiry(Database& db);

// Events about an order of one type so far (order.paid can happen twice:
// paid, reverted back to waiting, paid again; each gets its own id).
Result<std::uint64_t> order_event_count(Database& db, const std::string& order_id, const std::string& type);

// --- Matched deposits --------------------------------------------------------

// INSERT OR IGNORE; true when new. A deposit already linked to another order
// is Errc::conflict. `late`: a payment to an order that had ended (shown on
// it, never counted in its paidAmount).
Result<bool> link_deposit(Database& db, const std::string& order_id, const std::string& deposit_id,
                          std::int64_t now_ms, bool late = false);
// Those of these addresses that any order ever used (held, or took payments
// to): an address no order used has no order a payment to it could pay, be
// late for or move.
Result<std::unordered_set<std::int64_t>> addresses_with_orders(Database& db, const std::vector<std::int64_t>& address_ids);
// The order a deposit pays (late payments are not paying it).
Result<std::optional<std::string>> order_of_deposit(Database& db, const std::string& deposit_id);
// The deposits that pay an order, in detection order.
Result<std::vector<Deposit>> deposits_of_order(Database& db, const std::string& order_id);
// The late payments linked to an order, in detection order.
Result<std::vector<Deposit>> late_deposits_of_order(Database& db, const std::string& order_id);

// --- Checkout (payment links) ---------------------------------------------------

// Open (waiting or paid) checkout orders of one client address.
Result<std::uint64_t> open_checkout_orders_of_client(Database& db, const std::string& client);
// Open checkout orders of mode address holding a pool address of `protocol`.
Result<std::uint64_t> open_checkout_orders_on_protocol(Database& db, const std::string& protocol);
// The newest open order of a link made for this visitor, if any.
Result<std::optional<Order>> open_order_of_visitor(Database& db, const std::string& link_id, const std::string& visitor);
// Orders of a link that hold stock: completed, paid or waiting.
Result<std::uint64_t> reserved_orders_of_link(Database& db, const std::string& link_id);

// --- Addresses ---------------------------------------------------------------

// Takes the lowest free pool address of `protocol` for an order of mode
// address: state 'bound' plus an active binding whose reference is the
// order id (so its deposits carry depositReference = ord_...). nullopt when
// the pool has none.
Result<std::optional<FreeAddress>> take_order_address(Database& db, const std::string& protocol,
                                                      const std::string& order_ref, std::int64_t now_ms);
// Ends the order's binding; the address cools down until now + cooldown
// (nullopt: never handed out again). No binding: nothing happens.
Status release_order_address(Database& db, const std::string& order_ref, std::optional<std::int64_t> cooldown_ms,
                             std::int64_t now_ms);
// A shared receive address ([orders].receive) in the pool with state
// 'receive' (watched, never handed out). An existing free or cooled pool
// row becomes 'receive'; one bound to a depositReference is Errc::conflict.
Result<std::int64_t> ensure_receive_address(Database& db, const std::string& protocol, const std::string& address,
                                            const std::vector<std::uint8_t>& watch_key, std::int64_t now_ms);
// The pool row of a canonical address with state 'receive'.
Result<std::optional<std::int64_t>> receive_address_id(Database& db, const std::string& protocol,
                                                       const std::string& address);

// --- Payment links -----------------------------------------------------------

struct PaymentLink {
    std::string id;                          // plink_...
    std::string slug;
    std::string title;
    std::optional<std::string> description;
    std::string amount;                      // "0" = the payer enters it
    std::optional<std::string> fiat;
    std::string currencies;                  // JSON [{"currency","chainId"}]
    std::optional<std::int64_t> inventory_total;
    std::optional<std::int64_t> expires_at;
    std::optional<std::string> metadata;
    std::string status;                      // draft | active | archived
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

Status insert_link(Database& db, const PaymentLink& l);
Result<std::optional<PaymentLink>> get_link(Database& db, const std::string& id);
Result<std::optional<PaymentLink>> get_link_by_slug(Database& db, const std::string& slug);
struct LinkPage {
    std::vector<PaymentLink> links;
    std::uint64_t total = 0;
};
Result<LinkPage> list_links(Database& db, const std::optional<std::string>& status, std::uint32_t page,
                            std::uint32_t limit);
Status set_link_status(Database& db, const std::string& id, const std::string& status, std::int64_t now_ms);
// Orders of a link that completed.
Result<std::uint64_t> completed_orders_of_link(Database& db, const std::string& link_id);

}  // namespace depositd::store
