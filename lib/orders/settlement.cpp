// Settlement: what a deposit does to an order (matching by address or amount,
// paid and completed, late payments), mark-paid, and the expiry sweep; with
// the order events they raise, in the caller's transaction.
#include "orders/orders.hpp"


#include <set>
#include <stdexcept>

#include "codec/address.hpp"
#include "core/amount.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "orders/merchant.hpp"
#include "orders/payment_uri.hpp"
#include "orders/pricing.hpp"
#include "core/text.hpp"
#include "store/audit.hpp"
#include "store/events.hpp"
#include "store/pool.hpp"

#include "orders/detail.hpp"

namespace depositd::orders {

using namespace detail;

namespace {

auto logger() {
    static auto l = log::get("orders");
    return l;
}

// --- Events -------------------------------------------------------------------

// One order.* webhook into the outbox, delivered in the order's stream.
Status insert_order_webhook(store::Database& db, const store::Order& o, std::string id, const std::string& type,
                            json::object data, std::int64_t now_ms) {
    store::NewEvent e;
    e.id = std::move(id);
    e.type = type;
    e.created_at = now_ms;
    json::object body;
    body["id"] = e.id;
    body["type"] = type;
    body["createdAt"] = format_rfc3339_ms(now_ms);
    body["data"] = std::move(data);
    e.payload = json::serialize(body);
    e.kind = store::kKindWebhook;
    e.stream = o.id;
    e.order_id = o.id;
    auto r = store::insert_event(db, e);
    if (!r) return r.error();
    return {};
}

Status emit_order_event(store::Database& db, const config::Config& cfg, const store::Order& o,
                        const std::vector<store::Deposit>& deposits, const std::string& type, std::int64_t now_ms) {
    // A second occurrence (paid, reverted to waiting, paid again) is a new
    // event with its own id; a restart cannot repeat a change already stored.
    auto n = store::order_event_count(db, o.id, type);
    if (!n) return n.error();
    auto late = store::late_deposits_of_order(db, o.id);
    if (!late) return late.error();
    return insert_order_webhook(db, o,
                                *n == 0 ? event_id(o.id, type) : event_id(o.id, type + "#" + std::to_string(*n + 1)),
                                type, order_to_json(o, deposits, cfg, *late), now_ms);
}

// The EPay notify or epusdt callback of a completed order made by those protocols.
Status emit_merchant_notify(store::Database& db, const config::Config& cfg, const store::Order& o,
                            const std::vector<store::Deposit>& deposits, std::int64_t now_ms) {
    if ((o.source != "epay" && o.source != "epusdt") || !o.notify_url || o.notify_url->empty()) return {};
    if (!cfg.merchant.enabled) {
        logger()->warn("order {} ({}) completed but [merchant] is not configured: no {} is sent", o.id, o.order_id,
                       o.source == "epay" ? "EPay notify" : "epusdt callback");
        return {};
    }
    store::NewEvent e;
    e.created_at = now_ms;
    e.stream = o.id + "/notify";
    e.order_id = o.id;
    e.target = *o.notify_url;
    if (o.source == "epay") {
        e.type = "epay.notify";
        e.kind = store::kKindEpay;
        const Params params = epay_result_params(o, cfg);
        e.target = append_query(*o.notify_url, params);
        json::object shown;  // what the API lists; the request itself is the GET of target
        for (const auto& [k, v] : params) shown[k] = v;
        e.payload = json::serialize(shown);
    } else {
        e.type = "epusdt.callback";
        e.kind = store::kKindEpusdt;
        e.payload = epusdt_callback_body(o, deposits, cfg);
    }
    e.id = event_id(o.id, e.type);
    auto r = store::insert_event(db, e);
    if (!r) return r.error();
    return {};
}

// --- State --------------------------------------------------------------------

// The two forward steps of an order, shared by payments seen on chain
// (settle) and by an operator settling an order by hand (mark_paid): the
// same state change, the same events, the same merchant notify.
Status enter_paid(store::Database& db, const config::Config& cfg, store::Order& o,
                  const std::vector<store::Deposit>& deposits, std::int64_t now_ms) {
    o.status = "paid";
    o.paid_at = now_ms;
    o.expired_at.reset();
    if (auto s = emit_order_event(db, cfg, o, deposits, "order.paid", now_ms); !s) return s;
    logger()->info("order {} ({}) paid{}: {} {}", o.id, o.order_id, o.manual ? " by hand" : "",
                   human(o.paid_raw, o.decimals), o.currency);
    return {};
}

Status enter_completed(store::Database& db, const config::Config& cfg, store::Order& o,
                       const std::vector<store::Deposit>& deposits, std::int64_t now_ms) {
    o.status = "completed";
    o.completed_at = now_ms;
    if (auto s = emit_order_event(db, cfg, o, deposits, "order.completed", now_ms); !s) return s;
    if (auto s = emit_merchant_notify(db, cfg, o, deposits, now_ms); !s) return s;
    if (o.mode == "address")
        if (auto s = store::release_order_address(db, o.id, cooldown_ms(cfg), now_ms); !s) return s;
    logger()->info("order {} ({}) completed{}", o.id, o.order_id, o.manual ? " by hand" : "");
    return {};
}

// Recomputes paidAmount from the order's deposits as they are now and moves
// the order: waiting -> paid -> completed, or paid -> waiting when its
// deposits were reverted. An expired order whose payment, mined before
// expiresAt, is seen only now (the daemon was down or behind) is paid after
// all. A completed order stays completed.
Status settle(store::Database& db, const config::Config& cfg, store::Order o, std::int64_t now_ms) {
    auto deposits = store::deposits_of_order(db, o.id);
    if (!deposits) return deposits.error();
    U256 seen = 0, confirmed = 0;
    try {
        for (const auto& d : *deposits) {
            if (d.status == "reverted") continue;
            auto raw = raw_of(d.raw_amount);
            if (!raw) return raw.error();
            seen += *raw;
            if (d.status == "confirmed") confirmed += *raw;
        }
    } catch (const std::overflow_error&) {
        return make_error(Errc::internal, "order " + o.id + ": payments exceed 2^256");
    }
    auto pay = raw_of(o.pay_raw);
    if (!pay) return pay.error();
    o.paid_raw = u256_to_decimal(seen);

    if (o.status == "waiting" || o.status == "paid" || o.status == "expired") {
        if (seen >= *pay) {
            if (o.status != "paid") {
                if (o.status == "expired")
                    logger()->info("order {} ({}): a payment mined before it expired arrived late; paid after all", o.id,
                                   o.order_id);
                if (auto s = enter_paid(db, cfg, o, *deposits, now_ms); !s) return s;
            }
            if (confirmed >= *pay)
                if (auto s = enter_completed(db, cfg, o, *deposits, now_ms); !s) return s;
        } else if (o.status == "paid") {
            o.status = "waiting";
            o.paid_at.reset();
            logger()->warn("order {} ({}): its payment was reverted by a reorg; waiting again", o.id, o.order_id);
        }
    } else if (o.status == "completed" && seen < *pay && !o.manual) {
        logger()->error("order {} ({}) completed, but its confirmed payment was reverted by a reorg deeper than the "
                        "confirmations",
                        o.id, o.order_id);
    }
    return store::update_order_state(db, o);
}

// The chain's attribution_skew (SPEC §10): how far its block clocks may run
// behind the moment a payment was made.
std::int64_t skew_ms(const config::Config& cfg, const std::string& chain_id) {
    const auto* chain = cfg.chain(chain_id);
    return chain ? chain->attribution_skew.count() : 0;
}

// The order a new payment belongs to, if any: one whose life (created_at ..
// expires_at) contains the payment's block time (the newest such), else one
// created within the chain's skew after it (the oldest such; `early` set).
// `candidates` (orders_in_window) are newest first. Mode amount: the exact
// amount only, and not an order already paid.
struct PaymentMatch {
    std::optional<store::Order> order;
    bool early = false;  // the order began after the block's time (within the skew)
};
PaymentMatch order_for_payment(std::vector<store::Order> candidates, const store::Deposit& d, std::int64_t paid_ms) {
    PaymentMatch during, early;
    for (auto& o : candidates) {
        if (o.mode == "amount" && (o.status == "paid" || o.pay_raw != d.raw_amount)) continue;
        if (o.created_at <= paid_ms) {
            if (!during.order) during.order = o;
        } else {
            early.order = o;
            early.early = true;
        }
    }
    return during.order ? during : early;
}

// The ended order a payment is late for, if any. Address mode: the last
// holder of the address before the block was an order that had completed
// or expired (or was past its expiresAt), and nobody holds the address at
// block time. Mode amount: the newest order holding that exact amount on
// that address that no longer takes a payment ([orders].amount_hold).
Result<std::optional<store::Order>> late_target(store::Database& db, const config::Config& cfg,
                                                const store::Deposit& d, std::int64_t paid_ms) {
    const std::int64_t skew = skew_ms(cfg, d.chain_id);
    auto ended = [&](const store::Order& o) {
        return o.status == "completed" || o.status == "expired" || paid_ms > o.expires_at;
    };
    if (!d.reference || d.reference->rfind("ord_", 0) == 0) {
        auto holder = store::last_holder_before(db, d.address_id, paid_ms);
        if (!holder) return holder.error();
        if (*holder && (!d.reference || *d.reference == **holder) && (*holder)->rfind("ord_", 0) == 0) {
            auto o = store::get_order(db, **holder);
            if (!o) return o.error();
            if (*o && (*o)->mode == "address" && (*o)->address_id == d.address_id && (*o)->chain_id == d.chain_id &&
                (*o)->currency == d.currency && ended(**o))
                return o;
        }
    }
    if (d.reference) return std::optional<store::Order>{};
    auto held = store::ended_order_holding(db, d.address_id, d.chain_id, d.currency, d.raw_amount, paid_ms, skew,
                                           cfg.orders.amount_hold.count());
    if (!held) return held.error();
    if (*held && (*held)->mode == "amount") return held;
    return std::optional<store::Order>{};
}

// order.late_payment: the order as it is (its late payments included) and
// the deposit that came late. One event per late deposit.
Status emit_late_payment(store::Database& db, const config::Config& cfg, const store::Order& o,
                         const store::Deposit& d, std::int64_t now_ms) {
    auto deposits = store::deposits_of_order(db, o.id);
    if (!deposits) return deposits.error();
    auto late = store::late_deposits_of_order(db, o.id);
    if (!late) return late.error();
    json::object data = order_to_json(o, *deposits, cfg, *late);
    data["deposit"] = store::deposit_to_json(d);
    const std::string type = "order.late_payment";
    return insert_order_webhook(db, o, event_id(o.id, type + "/" + d.id), type, std::move(data), now_ms);
}

}  // namespace

Status on_deposit_change(store::Database& db, const config::Config& cfg, const store::Deposit& d,
                         const std::string& event_type, std::int64_t now_ms) {
    // A deposit that already pays an order moves that order, whatever happens
    // to it. Its first change is its insert, in this transaction: nothing
    // links it yet (a read fewer per payment found).
    Result<std::optional<std::string>> linked = std::optional<std::string>{};
    if (d.changes > 1 || event_type != "deposit.pending") linked = store::order_of_deposit(db, d.id);
    if (!linked) return linked.error();
    if (*linked) {
        auto o = store::get_order(db, **linked);
        if (!o) return o.error();
        if (!*o) return {};
        return settle(db, cfg, std::move(**o), now_ms);
    }
    // Only a payment seen for the first time can start paying an order. It is
    // dated by its block when the chain says when that was, else by now.
    if (event_type != "deposit.pending" || d.status != "pending" || d.address_id == 0) return {};
    const std::int64_t paid_ms = d.block_time.value_or(d.detected_at);
    auto candidates =
        store::orders_in_window(db, d.address_id, d.chain_id, d.currency, paid_ms, skew_ms(cfg, d.chain_id));
    if (!candidates) return candidates.error();
    auto match = order_for_payment(std::move(*candidates), d, paid_ms);
    Result<std::optional<store::Order>> late = std::optional<store::Order>{};
    if (!match.order || match.early) {
        late = late_target(db, cfg, d, paid_ms);
        if (!late) return late.error();
    }
    // An order that began after the block takes it only when nobody held the
    // address (or, in mode amount, that amount) at the block's time.
    if (match.order && match.early) {
        const bool other_holder = d.reference && *d.reference != match.order->id;
        if (other_holder || (*late && (*late)->id != match.order->id)) match.order.reset();
    }
    if (match.order) {
        auto l = store::link_deposit(db, match.order->id, d.id, now_ms);
        if (!l) return l.error();
        logger()->info("deposit {} pays order {} ({})", d.id, match.order->id, match.order->order_id);
        return settle(db, cfg, std::move(*match.order), now_ms);
    }
    if (!*late) return {};
    const store::Order& o = **late;
    auto l = store::link_deposit(db, o.id, d.id, now_ms, true);
    if (!l) return l.error();
    logger()->warn("deposit {} ({} {}) came after order {} ({}) had ended ({}): reported as order.late_payment, not "
                   "credited",
                   d.id, human(d.raw_amount, d.decimals), d.currency, o.id, o.order_id,
                   o.status == "completed" || o.status == "expired" ? o.status : "past its expiresAt");
    return emit_late_payment(db, cfg, o, d, now_ms);
}

std::optional<std::string> check_reason(std::string_view reason) {
    std::size_t chars = 0;
    bool visible = false;
    for (std::size_t i = 0; i < reason.size(); ++i) {
        const auto c = static_cast<unsigned char>(reason[i]);
        if (c < 0x20 || c == 0x7f) return "reason must not contain control characters (one line of text)";
        if ((c & 0xc0) != 0x80) ++chars;  // a UTF-8 lead byte (or ASCII)
        if (c != ' ') visible = true;
    }
    if (!visible) return "reason is required: say why the order is settled by hand";
    if (chars > kMaxReason) return "reason must be at most " + std::to_string(kMaxReason) + " characters";
    return std::nullopt;
}

MarkPaidOutcome mark_paid(store::Database& db, const config::Config& cfg, const std::string& id,
                          const std::string& reason, const Actor& actor, std::int64_t now_ms) {
    MarkPaidOutcome out;
    auto fail = [&](MarkPaidOutcome::Kind k, std::string message) {
        out.kind = k;
        out.message = std::move(message);
        return out;
    };
    if (auto why = check_reason(reason)) return fail(MarkPaidOutcome::Kind::invalid, *why);
    store::Transaction tx(db);
    if (!tx.begun()) {
        logger()->error("mark paid {}: {}", id, tx.begun().error().describe());
        return fail(MarkPaidOutcome::Kind::internal, "Internal error");
    }
    auto internal = [&](const Error& e) {
        logger()->error("mark paid {}: {}", id, e.describe());
        return fail(MarkPaidOutcome::Kind::internal, "Internal error");
    };
    auto found = store::get_order(db, id);
    if (!found) return internal(found.error());
    if (!*found) return fail(MarkPaidOutcome::Kind::not_found, "Order " + id + " not found");
    store::Order o = std::move(**found);
    if (o.status == "completed")
        return fail(MarkPaidOutcome::Kind::conflict,
                    "Order " + id + " is completed already" + (o.manual ? " (settled by hand)" : "") +
                        "; nothing to mark");
    auto deposits = store::deposits_of_order(db, o.id);
    if (!deposits) return internal(deposits.error());
    out.from = o.status;
    o.manual = true;
    if (o.status != "paid")
        if (auto s = enter_paid(db, cfg, o, *deposits, now_ms); !s) return internal(s.error());
    if (auto s = enter_completed(db, cfg, o, *deposits, now_ms); !s) return internal(s.error());
    if (auto s = store::update_order_state(db, o); !s) return internal(s.error());

    json::object detail;
    detail["from"] = out.from;
    detail["to"] = o.status;
    detail["orderId"] = o.order_id;
    detail["paidAmount"] = human(o.paid_raw, o.decimals);
    detail["payAmount"] = human(o.pay_raw, o.decimals);
    detail["currency"] = o.currency;
    store::AuditEntry a;
    a.at = now_ms;
    a.actor_kind = actor.kind;
    a.actor = actor.name;
    a.action = "order.mark_paid";
    a.target = o.id;
    a.reason = reason;
    a.detail = json::serialize(detail);
    a.client = actor.client;
    if (auto s = store::insert_audit(db, a); !s) return internal(s.error());
    if (auto s = tx.commit(); !s) return internal(s.error());
    logger()->warn("order {} ({}) marked paid by hand by {} {} (was {}): {}", o.id, o.order_id, actor.kind, actor.name,
                   out.from, quote_untrusted(reason));
    out.kind = MarkPaidOutcome::Kind::done;
    out.order = std::move(o);
    return out;
}

DepositObserver deposit_observer(const config::Config& cfg) {
    return [&cfg](store::Database& db, const store::Deposit& d, const std::string& type, std::int64_t now_ms) {
        return on_deposit_change(db, cfg, d, type, now_ms);
    };
}

Result<std::unordered_set<std::int64_t>> followed_addresses(store::Database& db,
                                                            const std::vector<std::int64_t>& address_ids) {
    return store::addresses_with_orders(db, address_ids);
}

Result<int> expire_due(store::Database& db, const config::Config& cfg, std::int64_t now_ms) {
    auto due = store::due_orders(db, now_ms, 100);
    if (!due) return due.error();
    int expired = 0;
    for (auto& o : *due) {
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun().error();
        auto done = store::expire_order(db, o.id, now_ms);
        if (!done) return done.error();
        if (!*done) continue;  // paid meanwhile
        o.status = "expired";
        o.expired_at = now_ms;
        auto deposits = store::deposits_of_order(db, o.id);
        if (!deposits) return deposits.error();
        if (auto s = emit_order_event(db, cfg, o, *deposits, "order.expired", now_ms); !s) return s.error();
        if (o.mode == "address")
            if (auto s = store::release_order_address(db, o.id, cooldown_ms(cfg), now_ms); !s) return s.error();
        if (auto s = tx.commit(); !s) return s.error();
        logger()->info("order {} ({}) expired", o.id, o.order_id);
        ++expired;
    }
    return expired;
}

}  // namespace depositd::orders
