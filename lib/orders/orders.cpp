// Orders: ids, creation (prices, unique amounts or addresses, caps), the JSON
// form, and the fixed receive addresses. What a payment does to an order is
// in settlement.cpp.
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

#include "orders/detail.hpp"

namespace depositd::orders {

using namespace detail;

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

const config::ChainConfig* chain_of(const config::Config& cfg, const std::string& id) { return cfg.chain(id); }

bool printable(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
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
