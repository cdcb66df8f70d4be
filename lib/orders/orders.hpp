#pragma once
// Orders (SPEC §8): making one (price, address or unique amount, atomically),
// following its deposits (waiting -> paid -> completed, back to waiting when
// they are reverted), expiring it, and the events each change sends through
// the outbox (order.paid, order.completed, order.expired, and the EPay notify
// or epusdt callback of an order made by those protocols).
//
// Every function works on the caller's store::Database; on_deposit_change
// runs inside the scanner's commit, so an order moves exactly when its
// deposit does.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/json.hpp"
#include "core/result.hpp"
#include "orders/rates.hpp"
#include "store/database.hpp"
#include "store/deposits.hpp"
#include "store/orders.hpp"

namespace depositd::orders {

inline constexpr std::size_t kMaxOrderId = 64;

// How payers reach the payment page: [api].public_url, else http://<listen>.
std::string base_url(const config::Config& cfg);
std::string payment_url(const config::Config& cfg, const std::string& id);

struct OrderRequest {
    std::string source = "api";               // api | epay | epusdt | link
    std::string order_id;                     // the merchant's id; empty (links) = the new order's own id
    std::string amount;                       // decimal text > 0
    bool in_fiat = false;                     // amount is in [orders].fiat
    std::optional<std::string> pay;           // "<symbol>.<chainId>"; nullopt = [orders].default
    std::optional<std::int64_t> expires_in_s; // nullopt = [orders].expiry
    std::optional<std::string> redirect_url;
    std::optional<std::string> notify_url;
    std::optional<std::string> merchant;      // JSON text: protocol fields to echo back
    std::optional<std::string> metadata;      // JSON text
    std::optional<std::string> link_id;
    // A repeated order_id: the API answers with its newest order, whatever
    // its state (reuse_any). The merchant protocols reopen a live order when
    // the amount is the same (anything else is a conflict) and start a new
    // order after an expired one.
    bool reuse_any = true;
    // A checkout order (a payment link's public page, SPEC §8): who asked,
    // and the caps checked inside the creating transaction. The visitor's
    // open order of the same link is given back instead of a new one.
    struct Checkout {
        std::string client;                        // netaddr::client_key of the client
        std::string visitor;                       // the visitor cookie's id
        std::optional<std::int64_t> inventory_total;
    };
    std::optional<Checkout> checkout;
};

// too_many: the client holds [orders].open_per_client open checkout orders;
// sold_out: the link's stock is taken by completed, paid and waiting orders;
// busy: checkout orders already hold half of what is free (addresses, or
// the amounts near a price), kept for API orders and bindings.
enum class Failure { invalid, insufficient_addresses, no_amount_slot, rate_unavailable, conflict, internal,
                     too_many, sold_out, busy };

struct CreateOutcome {
    std::optional<store::Order> order;
    bool created = false;                     // false: an existing order was given back
    Failure failure = Failure::internal;
    std::string message;
    bool ok() const { return order.has_value(); }
};

// `rates` may be null when no rate_source is configured.
CreateOutcome create_order(store::Database& db, const config::Config& cfg, const RateCache* rates,
                           const OrderRequest& req, std::int64_t now_ms);

// SPEC §8 order object; `late` are its late payments (latePayments).
json::object order_to_json(const store::Order& o, const std::vector<store::Deposit>& deposits,
                           const config::Config& cfg, const std::vector<store::Deposit>& late = {});
Result<json::object> load_order_json(store::Database& db, const store::Order& o, const config::Config& cfg);

// The scanner's deposit observer (scanner::Scanner::on_deposit_change).
// A new payment goes to the order that held its address (or, in mode
// amount, its exact amount) at its block time, widened by the chain's
// attribution_skew before the order began; one that matches an order that
// had ended is that order's late payment (order.late_payment), never
// another order's money.
// `d.changes` numbers the change as the scanner does: 1 is the deposit's
// insert, in the caller's transaction.
Status on_deposit_change(store::Database& db, const config::Config& cfg, const store::Deposit& d,
                         const std::string& event_type, std::int64_t now_ms);
using DepositObserver =
    std::function<Status(store::Database&, const store::Deposit&, const std::string&, std::int64_t)>;
DepositObserver deposit_observer(const config::Config& cfg);
// Those of these addresses whose deposits on_deposit_change has anything to
// do with: the ones an order ever used (every order it links, matches or
// reports late for is on the deposit's address). The scanner asks once per
// transaction and reports only those deposits' changes.
Result<std::unordered_set<std::int64_t>> followed_addresses(store::Database& db,
                                                            const std::vector<std::int64_t>& address_ids);

// --- Settling an order by hand ------------------------------------------------
//
// POST /api/v1/orders/{id}/mark-paid and the console's "mark paid": the shop
// was paid another way (or checked a payment depositd could not match). The
// order goes through the same steps as a payment seen on chain: order.paid
// (unless it is paid already), then order.completed and the EPay notify /
// epusdt callback of an order made by those protocols, so the shop's normal
// completion flow runs; the events and the order say "manual": true. The
// order's address cools down as after any completion. paidAmount stays what
// really arrived on chain. One transaction with the audit log entry.

// Who acts, for the audit log (store/audit.hpp).
struct Actor {
    std::string kind;                  // "api" | "console"
    std::string name;                  // API key label | console user name
    std::optional<std::string> client; // the request's client address
};

inline constexpr std::size_t kMaxReason = 500;  // characters of a reason (bytes of UTF-8 at most 4x)

struct MarkPaidOutcome {
    enum class Kind { done, invalid, not_found, conflict, internal } kind = Kind::internal;
    std::string message;
    std::optional<store::Order> order;  // done: the order as it is now
    std::string from;                   // done: its status before
};
// `reason`: 1..kMaxReason characters, no control characters (checked here).
// Conflict: the order is completed already.
MarkPaidOutcome mark_paid(store::Database& db, const config::Config& cfg, const std::string& id,
                          const std::string& reason, const Actor& actor, std::int64_t now_ms);
// Whether `reason` is acceptable; the message says why not.
std::optional<std::string> check_reason(std::string_view reason);

// Expires the waiting orders whose expiresAt has passed (order.expired, the
// address cools down), each in its own transaction. Returns how many.
Result<int> expire_due(store::Database& db, const config::Config& cfg, std::int64_t now_ms);

// Checks every [orders].receive address (format and checksum of its chain's
// protocol); the error names the config file, line and key.
Status check_receive_addresses(const config::Config& cfg);
// Puts every [orders].receive address into the pool (state 'receive') so the
// scanners watch it. The error names the config file, line and key.
Status prepare_receive_addresses(store::Database& db, const config::Config& cfg, std::int64_t now_ms);

// Random ids: ord_ + 32 hex (128 bits), plink_ + 24 hex, and 16-character slugs.
std::string new_order_id();
std::string new_link_id();
std::string new_slug();
// The id of a checkout visitor's cookie: 32 hex (128 bits).
std::string new_visitor_id();

}  // namespace depositd::orders
