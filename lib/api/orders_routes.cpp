// /api/v1/orders and /api/v1/payment-links (SPEC §4, §8), behind the API key.
#include <algorithm>
#include <set>

#include "api/handler.hpp"
#include "api/route_util.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "orders/decimal.hpp"
#include "orders/links.hpp"
#include "orders/orders.hpp"
#include "orders/pricing.hpp"
#include "store/audit.hpp"
#include "store/orders.hpp"

namespace depositd::api {
namespace {

using namespace util;

constexpr std::size_t kMaxTitle = 200;
constexpr std::size_t kMaxDescription = 2000;
constexpr std::size_t kMaxLinkCurrencies = 10;

auto logger() {
    static auto l = log::get("api");
    return l;
}

// An order that could not be made, as an API answer.
Response creation_failure(const orders::CreateOutcome& c) {
    switch (c.failure) {
        case orders::Failure::invalid: return validation(c.message);
        case orders::Failure::insufficient_addresses: return error(409, "InsufficientAddresses", c.message);
        case orders::Failure::no_amount_slot: return error(409, "Conflict", c.message);
        case orders::Failure::conflict: return error(409, "Conflict", c.message);
        case orders::Failure::rate_unavailable: return error(503, "RateUnavailable", c.message);
        case orders::Failure::too_many:  // checkout orders only
        case orders::Failure::sold_out:
        case orders::Failure::busy:
        case orders::Failure::internal: break;
    }
    return error(500, "InternalError", "Internal error");
}

// metadata: a JSON object of at most kMaxMetadata bytes.
std::optional<std::string> read_metadata(const json::object& body, std::optional<std::string>& out) {
    if (const json::value* meta = field(body, "metadata")) {
        if (!meta->is_object()) return "metadata must be a JSON object";
        out = json::serialize(*meta);
        if (out->size() > kMaxMetadata) return "metadata must be at most " + std::to_string(kMaxMetadata) + " bytes of JSON";
    }
    return std::nullopt;
}

std::optional<std::string> string_field(const json::object& body, std::string_view key, std::optional<std::string>& out) {
    if (const json::value* v = field(body, key)) {
        if (!v->is_string()) return std::string(key) + " must be a string";
        out = std::string(v->get_string());
    }
    return std::nullopt;
}

}  // namespace

Response Handler::dispatch_orders(const Request& req, const std::vector<std::string>& seg, const Query& query,
                                  const orders::Actor& who, std::string& route) {
    const std::string& m = req.method;
    const std::size_t n = seg.size();
    if (seg[2] == "orders") {
        if (n == 3) {
            route = m == "POST" ? "orders.create" : "orders.list";
            if (m == "POST") return create_order(req);
            if (m == "GET") return list_orders(query);
            return method_not_allowed(m, "GET, POST");
        }
        if (n == 4 && !seg[3].empty()) {
            route = "orders.get";
            return m == "GET" ? get_order(seg[3]) : method_not_allowed(m, "GET");
        }
        if (n == 5 && !seg[3].empty() && seg[4] == "mark-paid") {
            route = "orders.mark_paid";
            return m == "POST" ? mark_paid_route(req, seg[3], who) : method_not_allowed(m, "POST");
        }
    } else {  // payment-links
        if (n == 3) {
            route = m == "POST" ? "links.create" : "links.list";
            if (m == "POST") return create_link(req);
            if (m == "GET") return list_links(query);
            return method_not_allowed(m, "GET, POST");
        }
        if (n == 4 && !seg[3].empty()) {
            route = "links.get";
            return m == "GET" ? get_link(seg[3]) : method_not_allowed(m, "GET");
        }
        if (n == 5 && !seg[3].empty() && (seg[4] == "publish" || seg[4] == "archive")) {
            route = "links." + seg[4];
            return m == "POST" ? change_link(seg[3], seg[4], who) : method_not_allowed(m, "POST");
        }
    }
    return not_found("No such endpoint");
}

Response Handler::create_order(const Request& req) {
    auto body = body_object(req, config_.api.max_body_bytes);
    if (!body) return validation(body.error().message);
    const json::value* id_v = field(*body, "orderId");
    const json::value* amount_v = field(*body, "amount");
    if (!id_v || !amount_v) return validation("Required fields: orderId, amount");
    if (!id_v->is_string() || id_v->get_string().empty() || id_v->get_string().size() > orders::kMaxOrderId)
        return validation("orderId must be a string of 1-64 characters");
    if (!amount_v->is_string())
        return validation("amount must be a decimal string, e.g. \"70.5\" (numbers are not exact enough for money)");

    orders::OrderRequest r;
    r.source = "api";
    r.order_id = std::string(id_v->get_string());
    r.amount = std::string(amount_v->get_string());
    std::optional<std::string> fiat, pay, redirect;
    for (auto e : {string_field(*body, "fiat", fiat), string_field(*body, "pay", pay),
                   string_field(*body, "redirectUrl", redirect)})
        if (e) return validation(*e);
    if (fiat) {
        if (config_.orders.fiat.empty()) return validation("fiat amounts need [orders].fiat and [orders].rate in the configuration");
        if (*fiat != config_.orders.fiat)
            return validation("fiat must be " + config_.orders.fiat + " (the configured [orders].fiat)");
        r.in_fiat = true;
    }
    if (pay) r.pay = *pay;
    if (redirect) {
        if (!is_http_url(*redirect)) return validation("redirectUrl must be an http:// or https:// URL");
        r.redirect_url = *redirect;
    }
    if (const json::value* e = field(*body, "expiresIn")) {
        if (!e->is_int64() && !e->is_uint64()) return validation("expiresIn must be an integer number of seconds (1-86400)");
        const auto v = e->to_number<std::int64_t>();
        if (v < 1 || v > 86400) return validation("expiresIn must be 1 to 86400 seconds");
        r.expires_in_s = v;
    }
    if (auto e = read_metadata(*body, r.metadata)) return validation(*e);

    return with_db(store_access::write, [&](store::Database& db) -> Response {
        auto c = orders::create_order(db, config_, rates_, r, clock_.now_ms());
        if (!c.ok()) return creation_failure(c);
        auto j = orders::load_order_json(db, *c.order, config_);
        if (!j) return internal(j.error(), "create order");
        return ok(c.created ? 201 : 200, std::move(*j), c.created ? "Order created" : "orderId already exists; same order");
    });
}

Response Handler::get_order(const std::string& id) {
    if (id.size() > 128) return not_found("Order not found");
    return with_db(store_access::read, [&](store::Database& db) -> Response {
        auto o = store::get_order(db, id);
        if (!o) return internal(o.error(), "get order");
        if (!*o) return not_found("Order " + id + " not found");
        auto j = orders::load_order_json(db, **o, config_);
        if (!j) return internal(j.error(), "get order");
        return ok(200, std::move(*j), "OK");
    });
}

Response Handler::list_orders(const Query& query) {
    store::OrderFilter f;
    if (auto e = parse_paging(query, f.page, f.limit)) return validation(*e);
    if (auto* v = param(query, "orderId")) {
        if (v->empty() || v->size() > orders::kMaxOrderId) return validation("orderId must be 1-64 characters");
        f.order_id = *v;
    }
    if (auto* v = param(query, "status")) {
        static const std::set<std::string> statuses = {"waiting", "paid", "completed", "expired"};
        if (!statuses.count(*v)) return validation("status must be one of waiting, paid, completed, expired");
        f.status = *v;
    }
    return with_db(store_access::read, [&](store::Database& db) -> Response {
        auto page = store::list_orders(db, f);
        if (!page) return internal(page.error(), "list orders");
        json::array list;
        for (const auto& o : page->orders) {
            auto j = orders::load_order_json(db, o, config_);
            if (!j) return internal(j.error(), "list orders");
            list.push_back(std::move(*j));
        }
        json::object d;
        d["orders"] = std::move(list);
        d["pagination"] = pagination(f.page, f.limit, page->total);
        return ok(200, std::move(d), "OK");
    });
}

// --- Payment links -----------------------------------------------------------

Response Handler::create_link(const Request& req) {
    auto body = body_object(req, config_.api.max_body_bytes);
    if (!body) return validation(body.error().message);
    const json::value* title_v = field(*body, "title");
    const json::value* amount_v = field(*body, "amount");
    const json::value* currencies_v = field(*body, "currencies");
    if (!title_v || !amount_v || !currencies_v) return validation("Required fields: title, amount, currencies");
    if (!title_v->is_string() || title_v->get_string().empty() || title_v->get_string().size() > kMaxTitle)
        return validation("title must be a string of 1-200 characters");
    if (!amount_v->is_string()) return validation("amount must be a decimal string (\"0\" = the payer enters it)");
    auto amount = orders::Decimal::parse(std::string_view(amount_v->get_string()));
    if (!amount) return validation("amount must be a decimal string >= 0, e.g. \"25\" (\"0\" = the payer enters it)");

    store::PaymentLink l;
    l.title = std::string(title_v->get_string());
    l.amount = amount->is_zero() ? "0" : amount->to_string();
    std::optional<std::string> description, fiat;
    if (auto e = string_field(*body, "description", description)) return validation(*e);
    if (description && description->size() > kMaxDescription) return validation("description must be at most 2000 characters");
    l.description = description;
    if (auto e = string_field(*body, "fiat", fiat)) return validation(*e);
    if (fiat) {
        if (config_.orders.fiat.empty() || *fiat != config_.orders.fiat)
            return validation(config_.orders.fiat.empty() ? "fiat amounts need [orders].fiat and [orders].rate"
                                                          : "fiat must be " + config_.orders.fiat);
        l.fiat = *fiat;
    }

    if (!currencies_v->is_array() || currencies_v->get_array().empty() ||
        currencies_v->get_array().size() > kMaxLinkCurrencies)
        return validation("currencies must be a list of 1-10 {currency, chainId}");
    json::array currencies;
    std::set<std::string> seen;
    for (const auto& item : currencies_v->get_array()) {
        const auto* o = item.if_object();
        const json::value* c = o ? field(*o, "currency") : nullptr;
        const json::value* ch = o ? field(*o, "chainId") : nullptr;
        if (!c || !ch || !c->is_string() || !ch->is_string())
            return validation("each currency must be {\"currency\": \"USDT\", \"chainId\": \"tron\"}");
        auto resolved = orders::resolve_currency(config_, std::string_view(c->get_string()), std::string_view(ch->get_string()));
        if (!resolved) return validation(resolved.error().message);
        if (!seen.insert(resolved->code()).second) return validation("currency " + resolved->code() + " is listed twice");
        if (!l.fiat && !amount->is_zero())
            if (auto raw = amount->to_raw(resolved->decimals); !raw)
                return validation("amount has more decimals than " + resolved->symbol + " on " + resolved->chain_id);
        json::object one;
        one["currency"] = resolved->symbol;
        one["chainId"] = resolved->chain_id;
        currencies.push_back(std::move(one));
    }
    l.currencies = json::serialize(currencies);

    if (const json::value* inv = field(*body, "inventoryTotal")) {
        if (!inv->is_int64() && !inv->is_uint64()) return validation("inventoryTotal must be a positive integer");
        const auto v = inv->to_number<std::int64_t>();
        if (v < 1) return validation("inventoryTotal must be a positive integer");
        l.inventory_total = v;
    }
    const std::int64_t now = clock_.now_ms();
    if (const json::value* exp = field(*body, "expiresAt")) {
        std::optional<std::int64_t> at;
        if (exp->is_string()) at = parse_rfc3339(std::string_view(exp->get_string()));
        else if (exp->is_int64() && exp->get_int64() > 0) at = exp->get_int64() * 1000;
        if (!at) return validation("expiresAt must be an RFC 3339 time (\"2026-12-31T23:59:59Z\") or unix seconds");
        if (*at <= now) return validation("expiresAt must be in the future");
        l.expires_at = *at;
    }
    if (auto e = read_metadata(*body, l.metadata)) return validation(*e);

    l.id = orders::new_link_id();
    l.slug = orders::new_slug();
    l.status = "draft";
    l.created_at = l.updated_at = now;
    return with_db(store_access::write, [&](store::Database& db) -> Response {
        if (auto s = store::insert_link(db, l); !s) return internal(s.error(), "create payment link");
        logger()->info("payment link {} created ({})", l.id, l.title);
        return ok(201, orders::link_to_json(l, 0, config_), "Payment link created as a draft; publish it to open it");
    });
}

Response Handler::change_link(const std::string& id, const std::string& action, const orders::Actor& who) {
    if (id.size() > 128) return not_found("Payment link not found");
    if (action != "publish" && action != "archive") return validation("action must be publish or archive");
    return with_db(store_access::write, [&](store::Database& db) -> Response {
        auto l = store::get_link(db, id);
        if (!l) return internal(l.error(), "payment link");
        if (!*l) return not_found("Payment link " + id + " not found");
        const std::string to = action == "publish" ? "active" : "archived";
        if (action == "publish" && (*l)->status == "archived")
            return error(409, "Conflict", "Payment link " + id + " is archived; an archived link cannot be published again");
        if ((*l)->status != to) {
            // The change and its audit entry: one transaction.
            const std::int64_t now = clock_.now_ms();
            store::Transaction tx(db);
            if (!tx.begun()) return internal(tx.begun().error(), "payment link");
            if (auto s = store::set_link_status(db, id, to, now); !s) return internal(s.error(), "payment link");
            json::object detail;
            detail["from"] = (*l)->status;
            detail["to"] = to;
            detail["title"] = (*l)->title;
            store::AuditEntry a;
            a.at = now;
            a.actor_kind = who.kind;
            a.actor = who.name;
            a.action = "link." + action;
            a.target = id;
            a.detail = json::serialize(detail);
            a.client = who.client;
            if (auto s = store::insert_audit(db, a); !s) return internal(s.error(), "payment link");
            if (auto s = tx.commit(); !s) return internal(s.error(), "payment link");
            logger()->info("payment link {} {} by {} {}", id, to, who.kind, who.name);
        }
        return get_link(id);
    });
}

// POST /api/v1/orders/{id}/mark-paid {reason}: the order was settled by hand.
Response Handler::mark_paid_route(const Request& req, const std::string& id, const orders::Actor& who) {
    auto body = body_object(req, config_.api.max_body_bytes);
    if (!body) return validation(body.error().message);
    const json::value* reason = field(*body, "reason");
    if (!reason) return validation("Required fields: reason (why the order is settled by hand)");
    if (!reason->is_string()) return validation("reason must be a string");
    for (const auto& kv : *body)
        if (kv.key() != "reason") return validation("Unknown field " + std::string(kv.key()) + "; only reason is accepted");
    return mark_order_paid(id, std::string(reason->get_string()), who);
}

Response Handler::mark_order_paid(const std::string& id, const std::string& reason, const orders::Actor& who) {
    if (id.size() > 128) return not_found("Order not found");
    if (auto why = orders::check_reason(reason)) return validation(*why);
    Response answer = with_db(store_access::write, [&](store::Database& db) -> Response {
        auto r = orders::mark_paid(db, config_, id, reason, who, clock_.now_ms());
        switch (r.kind) {
            case orders::MarkPaidOutcome::Kind::done: break;
            case orders::MarkPaidOutcome::Kind::invalid: return validation(r.message);
            case orders::MarkPaidOutcome::Kind::not_found: return not_found(r.message);
            case orders::MarkPaidOutcome::Kind::conflict: return error(409, "Conflict", r.message);
            case orders::MarkPaidOutcome::Kind::internal: return error(500, "InternalError", "Internal error");
        }
        auto j = orders::load_order_json(db, *r.order, config_);
        if (!j) return internal(j.error(), "mark paid");
        return ok(200, std::move(*j), "Order " + id + " settled by hand (was " + r.from + "); order.completed sent");
    });
    // order.completed (and the merchant's notify) are in the outbox.
    if (answer.status == 200 && on_events_queued_) on_events_queued_();
    return answer;
}

Response Handler::get_link(const std::string& id) {
    if (id.size() > 128) return not_found("Payment link not found");
    return with_db(store_access::read, [&](store::Database& db) -> Response {
        auto l = store::get_link(db, id);
        if (!l) return internal(l.error(), "payment link");
        if (!*l) return not_found("Payment link " + id + " not found");
        auto completed = store::completed_orders_of_link(db, id);
        if (!completed) return internal(completed.error(), "payment link");
        return ok(200, orders::link_to_json(**l, *completed, config_), "OK");
    });
}

Response Handler::list_links(const Query& query) {
    std::uint32_t page = 1, limit = 20;
    if (auto e = parse_paging(query, page, limit)) return validation(*e);
    std::optional<std::string> status;
    if (auto* v = param(query, "status")) {
        if (*v != "draft" && *v != "active" && *v != "archived")
            return validation("status must be one of draft, active, archived");
        status = *v;
    }
    return with_db(store_access::read, [&](store::Database& db) -> Response {
        auto links = store::list_links(db, status, page, limit);
        if (!links) return internal(links.error(), "list payment links");
        json::array list;
        for (const auto& l : links->links) {
            auto completed = store::completed_orders_of_link(db, l.id);
            if (!completed) return internal(completed.error(), "list payment links");
            list.push_back(orders::link_to_json(l, *completed, config_));
        }
        json::object d;
        d["paymentLinks"] = std::move(list);
        d["pagination"] = pagination(page, limit, links->total);
        return ok(200, std::move(d), "OK");
    });
}

}  // namespace depositd::api
