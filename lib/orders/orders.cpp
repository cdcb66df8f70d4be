#include "orders/orders.hpp"

#include <openssl/rand.h>

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

namespace depositd::orders {
namespace {

auto logger() {
    static auto l = log::get("orders");
    return l;
}

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
        throw std::runtime_error("RAND_bytes failed: no randomness for an id");
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (auto b : buf) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xf]);
    }
    return out;
}

json::value opt_time(const std::optional<std::int64_t>& ms) {
    return ms ? json::value(format_rfc3339_ms(*ms)) : json::value(nullptr);
}

json::value opt_text(const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); }

std::string human(const std::string& raw, unsigned decimals) {
    auto a = Amount::from_raw_decimal(raw, decimals);
    return a ? a->to_string() : raw;
}

Result<U256> raw_of(const std::string& text) {
    auto v = u256_from_decimal(text);
    if (!v) return make_error(Errc::io, "corrupt amount in the orders table");
    return v;
}

std::optional<std::int64_t> cooldown_ms(const config::Config& cfg) {
    if (!cfg.orders.cooldown) return std::nullopt;
    return cfg.orders.cooldown->count();
}

const config::ChainConfig* chain_of(const config::Config& cfg, const std::string& id) { return cfg.chain(id); }

bool printable(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
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

std::string new_order_id() { return "ord_" + random_hex(16); }
std::string new_link_id() { return "plink_" + random_hex(12); }
std::string new_slug() { return random_hex(8); }
std::string new_visitor_id() { return random_hex(16); }

std::string base_url(const config::Config& cfg) {
    if (!cfg.api.public_url.empty()) return cfg.api.public_url;
    return "http://" + cfg.api.listen;
}

std::string payment_url(const config::Config& cfg, const std::string& id) { return base_url(cfg) + "/pay/" + id; }

json::object order_to_json(const store::Order& o, const std::vector<store::Deposit>& deposits,
                           const config::Config& cfg, const std::vector<store::Deposit>& late) {
    json::object j;
    j["id"] = o.id;
    j["orderId"] = o.order_id;
    j["status"] = o.status;
    j["mode"] = o.mode;
    j["chainId"] = o.chain_id;
    j["currency"] = o.currency;
    j["contract"] = opt_text(o.contract);
    j["amount"] = o.amount;
    j["payAmount"] = human(o.pay_raw, o.decimals);
    j["fiatAmount"] = opt_text(o.fiat_amount);
    j["fiatCurrency"] = opt_text(o.fiat_currency);
    j["rate"] = opt_text(o.rate);
    j["address"] = o.address;
    j["paidAmount"] = human(o.paid_raw, o.decimals);
    json::array deps;
    for (const auto& d : deposits) deps.push_back(store::deposit_to_json(d));
    j["deposits"] = std::move(deps);
    // Payments that came after the order had ended: recorded, never counted
    // in paidAmount, for the shop to settle (order.late_payment).
    json::array late_deps;
    for (const auto& d : late) late_deps.push_back(store::deposit_to_json(d));
    j["latePayments"] = std::move(late_deps);
    j["createdAt"] = format_rfc3339_ms(o.created_at);
    j["expiresAt"] = format_rfc3339_ms(o.expires_at);
    j["paidAt"] = opt_time(o.paid_at);
    j["completedAt"] = opt_time(o.completed_at);
    j["expiredAt"] = opt_time(o.expired_at);
    j["paymentUrl"] = payment_url(cfg, o.id);
    if (const auto* chain = chain_of(cfg, o.chain_id)) j["paymentUri"] = payment_uri(o, chain->kind);
    j["redirectUrl"] = opt_text(o.redirect_url);
    json::value meta = json::object();
    if (o.metadata)
        if (auto v = json::parse_bounded(*o.metadata)) meta = std::move(*v);
    j["metadata"] = std::move(meta);
    j["source"] = o.source;
    j["manual"] = o.manual;  // settled by hand (POST /api/v1/orders/{id}/mark-paid)
    return j;
}

Result<json::object> load_order_json(store::Database& db, const store::Order& o, const config::Config& cfg) {
    auto deposits = store::deposits_of_order(db, o.id);
    if (!deposits) return deposits.error();
    auto late = store::late_deposits_of_order(db, o.id);
    if (!late) return late.error();
    return order_to_json(o, *deposits, cfg, *late);
}

CreateOutcome create_order(store::Database& db, const config::Config& cfg, const RateCache* rates,
                           const OrderRequest& req, std::int64_t now_ms) {
    CreateOutcome out;
    auto fail = [&](Failure kind, std::string message) {
        out.failure = kind;
        out.message = std::move(message);
        return out;
    };
    auto internal = [&](const Error& e, const char* what) {
        logger()->error("create order: {}: {}", what, e.describe());
        return fail(Failure::internal, "Internal error");
    };

    if (req.order_id.size() > kMaxOrderId || !printable(req.order_id))
        return fail(Failure::invalid, "orderId must be 1-64 printable characters");
    const std::string pay_text = req.pay ? *req.pay : cfg.orders.default_pay;
    if (pay_text.empty()) return fail(Failure::invalid, "pay is required (no [orders].default is configured)");
    auto currency = resolve_pay(cfg, pay_text);
    if (!currency) return fail(Failure::invalid, currency.error().message);
    auto amount = Decimal::parse(req.amount);
    if (!amount || amount->is_zero())
        return fail(Failure::invalid, "amount must be a decimal string greater than zero, e.g. \"70.5\"");
    std::int64_t lifetime_ms = cfg.orders.expiry.count();
    if (req.expires_in_s) {
        if (*req.expires_in_s < 1 || *req.expires_in_s > 86400)
            return fail(Failure::invalid, "expiresIn must be 1 to 86400 seconds");
        lifetime_ms = *req.expires_in_s * 1000;
    }
    const bool amount_mode = cfg.orders.mode == config::OrdersConfig::Mode::amount;
    std::string receive_canonical;
    if (amount_mode) {
        auto it = cfg.orders.receive.find(currency->chain_id);
        if (it == cfg.orders.receive.end())
            return fail(Failure::invalid, "no [orders].receive address for chain " + currency->chain_id);
        auto parsed = codec::parse_address(currency->protocol, it->second);
        if (!parsed) return internal(parsed.error(), "receive address");
        receive_canonical = parsed->canonical;
    }

    store::Transaction tx(db);
    if (!tx.begun()) return internal(tx.begun().error(), "begin");

    // Checkout (SPEC §8): the visitor's open order back; then the caps, in
    // this transaction so concurrent visitors cannot slip past them.
    if (req.checkout && req.link_id) {
        auto mine = store::open_order_of_visitor(db, *req.link_id, req.checkout->visitor);
        if (!mine) return internal(mine.error(), "visitor's order");
        if (*mine) {
            out.order = std::move(**mine);
            out.created = false;
            return out;
        }
        if (req.checkout->inventory_total) {
            auto reserved = store::reserved_orders_of_link(db, *req.link_id);
            if (!reserved) return internal(reserved.error(), "link stock");
            if (*reserved >= static_cast<std::uint64_t>(*req.checkout->inventory_total))
                return fail(Failure::sold_out, "sold out");
        }
        auto held = store::open_checkout_orders_of_client(db, req.checkout->client);
        if (!held) return internal(held.error(), "client's orders");
        if (*held >= cfg.orders.open_per_client)
            return fail(Failure::too_many, "this network address already has " + std::to_string(*held) +
                                               " open checkout orders; pay or let one expire first");
    }

    if (!req.order_id.empty()) {
        auto existing = store::latest_order_by_order_id(db, req.order_id);
        if (!existing) return internal(existing.error(), "find order");
        if (*existing && (req.reuse_any || (*existing)->status != "expired")) {
            const store::Order& e = **existing;
            if (!req.reuse_any) {
                auto submitted = Decimal::parse(e.fiat_amount.value_or(e.amount));
                const bool same = submitted && *submitted == *amount && e.chain_id == currency->chain_id &&
                                  e.currency == currency->symbol && e.fiat_amount.has_value() == req.in_fiat;
                if (!same)
                    return fail(Failure::conflict, "order " + req.order_id + " already exists with another amount or currency");
            }
            out.order = e;
            out.created = false;
            return out;
        }
    }

    std::optional<Decimal> base;
    if (req.in_fiat) {
        if (cfg.orders.fiat.empty())
            return fail(Failure::invalid, "amounts in fiat need [orders].fiat and [orders].rate");
        auto rule = parse_rate_rule(cfg.orders.rate);
        if (!rule) return fail(Failure::invalid, rule.error().message);
        if (rule->needs_base()) {
            if (!rates) return fail(Failure::rate_unavailable, "No exchange rate: [orders].rate_source is not fetched");
            auto b = rates->get(now_ms, cfg.orders.rate_max_age);
            if (!b) return fail(Failure::rate_unavailable, "No current exchange rate (" + b.error().message + ")");
            base = *b;
        }
    }
    auto p = price(cfg.orders, *currency, *amount, req.in_fiat, base);
    if (!p) {
        if (p.error().code == Errc::unavailable) return fail(Failure::rate_unavailable, p.error().message);
        return fail(Failure::invalid, p.error().message);
    }
    auto wanted = p->amount.to_raw(currency->decimals);
    if (!wanted) return fail(Failure::invalid, wanted.error().message);

    store::Order o;
    o.id = new_order_id();
    o.order_id = req.order_id.empty() ? o.id : req.order_id;
    o.source = req.source;
    o.mode = amount_mode ? "amount" : "address";
    o.status = "waiting";
    o.chain_id = currency->chain_id;
    o.currency = currency->symbol;
    o.contract = currency->contract;
    o.decimals = currency->decimals;
    o.amount = p->amount.to_string();
    if (p->fiat_amount) o.fiat_amount = p->fiat_amount->to_string();
    o.fiat_currency = p->fiat_currency;
    if (p->rate) o.rate = p->rate->to_string();
    o.redirect_url = req.redirect_url;
    o.notify_url = req.notify_url;
    o.merchant = req.merchant;
    o.metadata = req.metadata;
    o.link_id = req.link_id;
    o.created_at = now_ms;
    o.expires_at = now_ms + lifetime_ms;
    if (req.checkout) {
        o.client = req.checkout->client;
        o.visitor = req.checkout->visitor;
    }

    const std::string protocol = to_string(currency->protocol);
    if (amount_mode) {
        auto id = store::receive_address_id(db, protocol, receive_canonical);
        if (!id) return internal(id.error(), "receive address");
        if (!*id) return internal(make_error(Errc::internal, "receive address " + receive_canonical + " is not in the pool"),
                                  "receive address");
        o.address_id = **id;
        o.address = receive_canonical;
        // Open orders hold their amounts, and ended ones for amount_hold
        // more: a late payer's amount is never handed to the next order.
        auto open = store::held_orders_at(db, o.address_id, o.chain_id, o.currency, now_ms,
                                          cfg.orders.amount_hold.count());
        if (!open) return internal(open.error(), "open orders");
        std::set<U256> taken;
        int checkout_near = 0;  // amounts near this price held by checkout orders
        const U256 step = amount_step(o.decimals);
        for (const auto& other : *open) {
            auto raw = raw_of(other.pay_raw);
            if (!raw) return internal(raw.error(), "open orders");
            taken.insert(*raw);
            if (other.source == "link" && (other.status == "waiting" || other.status == "paid") && *raw >= *wanted &&
                (*raw - *wanted) / step < kMaxAmountSteps)
                ++checkout_near;
        }
        if (req.checkout && checkout_near >= kMaxAmountSteps / 2)
            return fail(Failure::busy, "checkout orders hold half of the amounts near " + o.amount + " " + o.currency +
                                           "; try again later");
        auto chosen = unique_amount(*wanted, o.decimals, taken);
        if (!chosen)
            return fail(Failure::no_amount_slot, "No free amount near " + o.amount + " " + o.currency + ": " +
                                                     std::to_string(kMaxAmountSteps) +
                                                     " open orders already expect the next amounts; try again later");
        o.pay_raw = u256_to_decimal(*chosen);
    } else {
        if (req.checkout) {
            // Checkout orders may hold at most half of what is free: the rest
            // stays for API orders and bindings whatever strangers do.
            auto stats = store::pool_stats(db, now_ms);
            if (!stats) return internal(stats.error(), "pool stats");
            std::uint64_t free = 0;
            for (const auto& st : *stats)
                if (st.protocol == protocol) free = st.free;
            auto held = store::open_checkout_orders_on_protocol(db, protocol);
            if (!held) return internal(held.error(), "checkout orders");
            if (free > 0 && *held >= free)
                return fail(Failure::busy, "checkout orders hold half of the free " + protocol +
                                               " addresses; try again later");
        }
        auto a = store::take_order_address(db, protocol, o.id, now_ms);
        if (!a) return internal(a.error(), "take address");
        if (!*a) return fail(Failure::insufficient_addresses, "No free " + protocol + " addresses left in the pool");
        o.address_id = (*a)->id;
        o.address = (*a)->address;
        o.pay_raw = u256_to_decimal(*wanted);
    }

    if (auto s = store::insert_order(db, o); !s) {
        if (s.error().code == Errc::conflict)
            return fail(Failure::conflict, "order " + o.order_id + " was created concurrently; retry");
        return internal(s.error(), "insert");
    }
    if (auto s = tx.commit(); !s) return internal(s.error(), "commit");
    logger()->info("order {} ({}) created: {} {} on {} to {}, expires {}", o.id, o.order_id, human(o.pay_raw, o.decimals),
                   o.currency, o.chain_id, o.address, format_rfc3339_ms(o.expires_at));
    out.order = std::move(o);
    out.created = true;
    return out;
}

Status on_deposit_change(store::Database& db, const config::Config& cfg, const store::Deposit& d,
                         const std::string& event_type, std::int64_t now_ms) {
    // A deposit that already pays an order moves that order, whatever happens to it.
    auto linked = store::order_of_deposit(db, d.id);
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

namespace {

std::string receive_key(const config::Config& cfg, const std::string& chain_id) {
    auto it = cfg.orders.receive_source.find(chain_id);
    return (it == cfg.orders.receive_source.end() ? cfg.path : it->second) + ":orders.receive." + chain_id;
}

Result<codec::ParsedAddress> parse_receive(const config::Config& cfg, const std::string& chain_id, const std::string& text) {
    const auto* chain = cfg.chain(chain_id);
    if (!chain) return make_error(Errc::invalid_input, receive_key(cfg, chain_id) + ": not a configured chain");
    auto parsed = codec::parse_address(chain->kind, text);
    if (!parsed)
        return make_error(Errc::invalid_input, receive_key(cfg, chain_id) + ": \"" + text + "\": " + parsed.error().message);
    return parsed;
}

}  // namespace

Status check_receive_addresses(const config::Config& cfg) {
    for (const auto& [chain_id, text] : cfg.orders.receive)
        if (auto p = parse_receive(cfg, chain_id, text); !p) return p.error();
    return {};
}

Status prepare_receive_addresses(store::Database& db, const config::Config& cfg, std::int64_t now_ms) {
    for (const auto& entry : cfg.orders.receive) {
        const std::string& chain_id = entry.first;  // a named reference: lambdas may capture it (C++20 bindings not)
        const auto& text = entry.second;
        const auto* chain = cfg.chain(chain_id);
        auto parsed = parse_receive(cfg, chain_id, text);
        if (!parsed) return parsed.error();
        auto where = [&] { return receive_key(cfg, chain_id); };
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun();
        auto id = store::ensure_receive_address(db, to_string(chain->kind), parsed->canonical, parsed->watch_key, now_ms);
        if (!id) {
            if (id.error().code == Errc::conflict) return make_error(Errc::invalid_input, where() + ": " + id.error().message);
            return id.error();
        }
        if (auto s = tx.commit(); !s) return s;
    }
    return {};
}

}  // namespace depositd::orders
