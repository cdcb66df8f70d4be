#include "orders/links.hpp"

#include "core/clock.hpp"
#include "orders/decimal.hpp"

namespace depositd::orders {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::string LinkCurrency::code() const { return lower(currency) + "." + chain_id; }

Result<std::vector<LinkCurrency>> link_currencies(const store::PaymentLink& link) {
    auto v = json::parse_bounded(link.currencies);
    if (!v || !v->is_array()) return make_error(Errc::io, "corrupt currencies of payment link " + link.id);
    std::vector<LinkCurrency> out;
    for (const auto& item : v->get_array()) {
        const auto* o = item.if_object();
        const auto* c = o ? o->if_contains("currency") : nullptr;
        const auto* ch = o ? o->if_contains("chainId") : nullptr;
        if (!c || !ch || !c->is_string() || !ch->is_string())
            return make_error(Errc::io, "corrupt currencies of payment link " + link.id);
        out.push_back({std::string(c->get_string()), std::string(ch->get_string())});
    }
    return out;
}

Result<LinkState> link_state(store::Database& db, const store::PaymentLink& link, std::int64_t now_ms) {
    LinkState s;
    auto completed = store::completed_orders_of_link(db, link.id);
    if (!completed) return completed.error();
    s.completed = *completed;
    auto reserved = store::reserved_orders_of_link(db, link.id);
    if (!reserved) return reserved.error();
    s.reserved = *reserved;
    if (link.status == "draft") {
        s.availability = LinkAvailability::not_found;
        s.reason = "draft";
    } else if (link.status == "archived") {
        s.availability = LinkAvailability::gone;
        s.reason = "archived";
    } else if (link.expires_at && *link.expires_at <= now_ms) {
        s.availability = LinkAvailability::gone;
        s.reason = "expired";
    } else if (link.inventory_total && s.reserved >= static_cast<std::uint64_t>(*link.inventory_total)) {
        s.availability = LinkAvailability::gone;
        s.reason = "sold out";
    } else {
        s.availability = LinkAvailability::open;
    }
    return s;
}

std::string checkout_url(const config::Config& cfg, const std::string& slug) { return base_url(cfg) + "/checkout/" + slug; }

json::object link_to_json(const store::PaymentLink& link, std::uint64_t completed, const config::Config& cfg) {
    json::object j;
    j["id"] = link.id;
    j["slug"] = link.slug;
    j["title"] = link.title;
    j["description"] = link.description ? json::value(*link.description) : json::value(nullptr);
    j["amount"] = link.amount;
    j["fiat"] = link.fiat ? json::value(*link.fiat) : json::value(nullptr);
    auto currencies = json::parse_bounded(link.currencies);
    j["currencies"] = currencies ? *currencies : json::value(json::array());
    j["inventoryTotal"] = link.inventory_total ? json::value(*link.inventory_total) : json::value(nullptr);
    j["ordersCompleted"] = completed;
    j["expiresAt"] = link.expires_at ? json::value(format_rfc3339_ms(*link.expires_at)) : json::value(nullptr);
    json::value meta = json::object();
    if (link.metadata)
        if (auto v = json::parse_bounded(*link.metadata)) meta = std::move(*v);
    j["metadata"] = std::move(meta);
    j["status"] = link.status;
    j["checkoutUrl"] = checkout_url(cfg, link.slug);
    j["createdAt"] = format_rfc3339_ms(link.created_at);
    j["updatedAt"] = format_rfc3339_ms(link.updated_at);
    return j;
}

CreateOutcome checkout_order(store::Database& db, const config::Config& cfg, const RateCache* rates,
                             const store::PaymentLink& link, const std::string& pay, const std::string& amount,
                             const std::string& client, const std::string& visitor, std::int64_t now_ms) {
    OrderRequest req;
    req.source = "link";
    req.pay = pay;
    const bool payer_amount = link.amount == "0";
    req.amount = payer_amount ? amount : link.amount;
    req.in_fiat = link.fiat.has_value();
    req.link_id = link.id;
    json::object meta;
    if (link.metadata)
        if (auto v = json::parse_bounded(*link.metadata); v && v->is_object()) meta = v->get_object();
    meta["paymentLink"] = link.id;
    req.metadata = json::serialize(meta);
    req.checkout = OrderRequest::Checkout{client, visitor, link.inventory_total};
    return create_order(db, cfg, rates, req, now_ms);
}

}  // namespace depositd::orders
