// The console's order and payment-link pages.
#include <algorithm>
#include <map>
#include <set>

#include "api/admin/console.hpp"
#include "core/amount.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "orders/links.hpp"
#include "orders/orders.hpp"
#include "store/audit.hpp"
#include "store/console.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/orders.hpp"
#include "store/pool.hpp"

#include "api/admin/page_parts.hpp"

namespace depositd::api::admin {

using namespace parts;

// --- Orders -------------------------------------------------------------------------------

Response Console::orders_page(Ctx& c) {
    const std::string& lang = c.lang;
    const ListRequest l = list_request(c.query, {"waiting", "paid", "completed", "expired"});
    const std::string &q = l.q, &status = l.status;
    std::vector<store::Order> list;
    std::optional<store::PageKey> next;
    auto s = store_.read([&](store::Database& db) -> Status {
        auto page = store::search_orders(db, l.query());
        if (!page) return page.error();
        next = page->next;
        return rows_of(page->ids, list, [&](const std::string& id) { return store::get_order(db, id); });
    });
    if (!s) return db_error(c.frame, s.error(), "orders");

    std::string b = "<h1>" + std::string(tr(lang, txt::orders)) + "</h1>\n<section class=\"card\">" +
                    search_form(lang, "/admin/orders", q, txt::orders_hint,
                                "<label>" + std::string(tr(lang, txt::status)) +
                                    select_html(lang, "status", {"waiting", "paid", "completed", "expired"}, status, true) +
                                    "</label>");
    b += "<table id=\"orders\"><thead><tr><th>" + std::string(tr(lang, txt::created)) + "</th><th>" +
         tr(lang, txt::merchant_order) + "</th><th>" + tr(lang, txt::order) + "</th><th class=\"num\">" +
         tr(lang, txt::to_pay) + "</th><th class=\"num\">" + tr(lang, txt::paid_amount) + "</th><th>" +
         tr(lang, txt::chain) + "</th><th>" + tr(lang, txt::address) + "</th><th>" + tr(lang, txt::status) +
         "</th></tr></thead><tbody>";
    for (const auto& o : list)
        b += "<tr data-id=\"" + esc(o.id) + "\"><td>" + time_html(o.created_at) + "</td><td>" + esc(o.order_id) +
             "</td><td><a href=\"/admin/orders/" + url_escape(o.id) + "\"><code>" + esc(o.id) + "</code></a></td><td class=\"num\">" +
             esc(amount_text(o.pay_raw, o.decimals)) + " " + esc(o.currency) + "</td><td class=\"num\">" +
             esc(amount_text(o.paid_raw, o.decimals)) + "</td><td>" + esc(o.chain_id) + "</td><td>" + short_code(o.address) +
             "</td><td>" + badge(lang, o.status) + (o.manual ? " " + badge(lang, "manual") : std::string()) + "</td></tr>";
    if (list.empty()) b += "<tr><td colspan=\"8\" class=\"muted\">" + std::string(tr(lang, txt::nothing)) + "</td></tr>";
    b += "</tbody></table>" + pager(lang, "/admin/orders", {{"q", q}, {"status", status}}, next, l.after.has_value()) +
         "</section>\n";
    return page(200, c.frame, tr(lang, txt::orders), b);
}

Response Console::order(Ctx& c, const std::string& id) {
    const std::string& lang = c.lang;
    if (id.size() > 128) return message_page(404, c.frame, tr(lang, txt::not_found), "No such order");
    std::optional<store::Order> o;
    std::vector<store::Deposit> deposits;
    std::vector<store::EventRow> events;
    std::vector<std::vector<store::AttemptRecord>> attempts;
    std::vector<store::AuditEntry> actions;
    auto s = store_.read([&](store::Database& db) -> Status {
        auto got = store::get_order(db, id);
        if (!got) return got.error();
        o = std::move(*got);
        if (!o) return {};
        auto d = store::deposits_of_order(db, id);
        if (!d) return d.error();
        deposits = std::move(*d);
        auto ev = store::events_of_order(db, id);
        if (!ev) return ev.error();
        events = std::move(*ev);
        for (const auto& e : events) {
            auto a = store::list_attempts(db, e.id);
            if (!a) return a.error();
            attempts.push_back(std::move(*a));
        }
        store::AuditFilter af;
        af.target = id;
        af.limit = 50;
        auto au = store::list_audit(db, af);
        if (!au) return au.error();
        actions = std::move(au->entries);
        return {};
    });
    if (!s) return db_error(c.frame, s.error(), "order");
    if (!o) return message_page(404, c.frame, tr(lang, txt::not_found), "Order " + id + " not found", "/admin/orders");

    const std::string here = "/admin/orders/" + url_escape(id);
    std::string b = "<h1>" + std::string(tr(lang, txt::order)) + " <code>" + esc(o->id) + "</code> <span id=\"order-status\">" +
                    badge(lang, o->status) + (o->manual ? " " + badge(lang, "manual") : std::string()) + "</span></h1>\n" +
                    flash(c) + "<section class=\"card\"><dl class=\"kv\" id=\"order\">";
    auto row = [&](const Text& k, const std::string& v) { b += "<dt>" + std::string(tr(lang, k)) + "</dt><dd>" + v + "</dd>"; };
    row(txt::merchant_order, esc(o->order_id));
    row(txt::source, esc(o->source) + " · " + esc(o->mode));
    row(txt::to_pay, esc(amount_text(o->pay_raw, o->decimals)) + " " + esc(o->currency) + " (" + esc(o->chain_id) + ")" +
                         (o->fiat_amount ? " = " + esc(*o->fiat_amount) + " " + esc(o->fiat_currency.value_or("")) : ""));
    row(txt::paid_amount, esc(amount_text(o->paid_raw, o->decimals)) + " " + esc(o->currency) +
                              (o->manual ? " · " + std::string(tr(lang, txt::by_hand)) : std::string()));
    row(txt::address, "<code>" + esc(o->address) + "</code>");
    row(txt::created, time_html(o->created_at));
    row(txt::expires, time_html(o->expires_at));
    row(txt::paid_at, time_html(o->paid_at));
    row(txt::completed_at, time_html(o->completed_at));
    b += "</dl></section>\n";
    b += "<section class=\"card\"><h2>" + std::string(tr(lang, txt::deposits)) + "</h2>" + deposit_rows(lang, deposits) +
         "</section>\n";
    b += events_with_deliveries(lang, events, attempts, c.frame.csrf, here);
    if (o->status != "completed") {
        b += "<section class=\"card\" id=\"mark-paid\"><h2>" + std::string(tr(lang, txt::mark_paid)) + "</h2><p class=\"muted\">" +
             tr(lang, txt::mark_paid_help) + "</p><form method=\"post\" action=\"" + here + "/mark-paid\" data-confirm=\"" +
             esc(tr(lang, txt::mark_paid_confirm)) + "\">" + csrf_field(c.frame.csrf) + "<label>" + tr(lang, txt::reason) +
             "<textarea name=\"reason\" id=\"reason\" required maxlength=\"" + std::to_string(orders::kMaxReason) +
             "\"></textarea></label><p><button type=\"submit\" class=\"danger\" id=\"mark-paid-button\">" +
             tr(lang, txt::mark_paid) + "</button></p></form></section>\n";
    }
    b += "<section class=\"card\"><h2>" + std::string(tr(lang, txt::order_actions)) + "</h2>" + audit_rows(lang, actions) +
         "</section>\n";
    return page(200, c.frame, tr(lang, txt::order), b);
}


// --- Payment links -------------------------------------------------------------------------------

Response Console::links_page(Ctx& c) {
    const std::string& lang = c.lang;
    const ListRequest wanted = list_request(c.query, {"draft", "active", "archived"});
    const std::string &q = wanted.q, &status = wanted.status;
    std::vector<std::pair<store::PaymentLink, std::uint64_t>> list;
    std::optional<store::PageKey> next;
    auto s = store_.read([&](store::Database& db) -> Status {
        auto page = store::search_links(db, wanted.query());
        if (!page) return page.error();
        for (const auto& id : page->ids) {
            auto l = store::get_link(db, id);
            if (!l) return l.error();
            if (!*l) continue;
            auto done = store::completed_orders_of_link(db, id);
            if (!done) return done.error();
            list.emplace_back(std::move(**l), *done);
        }
        next = page->next;
        return {};
    });
    if (!s) return db_error(c.frame, s.error(), "links");
    std::string b = "<h1>" + std::string(tr(lang, txt::links)) + "</h1>\n" + flash(c) + "<section class=\"card\">" +
                    search_form(lang, "/admin/links", q, txt::links_hint,
                                "<label>" + std::string(tr(lang, txt::status)) +
                                    select_html(lang, "status", {"draft", "active", "archived"}, status, true) + "</label>");
    b += "<table id=\"links\"><thead><tr><th>" + std::string(tr(lang, txt::created)) + "</th><th>" + tr(lang, txt::title) +
         "</th><th class=\"num\">" + tr(lang, txt::amount) + "</th><th>" + tr(lang, txt::currencies) + "</th><th class=\"num\">" +
         tr(lang, txt::completed_orders) + "</th><th>" + tr(lang, txt::status) + "</th><th>" + tr(lang, txt::checkout) +
         "</th><th>" + tr(lang, txt::actions) + "</th></tr></thead><tbody>";
    for (const auto& [l, done] : list) {
        std::string currencies;
        if (auto v = json::parse_bounded(l.currencies); v && v->is_array())
            for (const auto& item : v->get_array())
                if (const auto* o = item.if_object()) {
                    auto get = [&](const char* k) {
                        auto it = o->find(k);
                        return it != o->end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
                    };
                    currencies += (currencies.empty() ? "" : ", ") + esc(get("currency")) + " <span class=\"muted\">" +
                                  esc(get("chainId")) + "</span>";
                }
        std::string actions;
        // By name, not the structured binding: clang before 16 cannot capture one (the fuzz build).
        const std::string& link_id = l.id;
        auto button = [&](const char* action, const Text& label, const char* cls, const Text* confirm) {
            return "<form method=\"post\" class=\"inline\" action=\"/admin/links/" + url_escape(link_id) + "/" + action + "\"" +
                   (confirm ? " data-confirm=\"" + esc(tr(lang, *confirm)) + "\"" : std::string()) + ">" +
                   csrf_field(c.frame.csrf) + "<input type=\"hidden\" name=\"back\" value=\"" + esc(c.frame.here) +
                   "\"><button type=\"submit\" class=\"" + cls + "\" data-link=\"" + esc(link_id) + "\">" + tr(lang, label) +
                   "</button></form> ";
        };
        if (l.status == "draft") actions += button("publish", txt::publish, "primary publish", nullptr);
        if (l.status != "archived") actions += button("archive", txt::archive, "archive", &txt::archive_confirm);
        const std::string url = orders::checkout_url(config_, l.slug);
        b += "<tr data-id=\"" + esc(l.id) + "\"><td>" + time_html(l.created_at) + "</td><td class=\"wrap\">" + esc(l.title) +
             " <span class=\"muted\"><code>" + esc(l.id) + "</code></span></td><td class=\"num\">" +
             (l.amount == "0" ? std::string("—") : esc(l.amount) + (l.fiat ? " " + esc(*l.fiat) : std::string())) +
             "</td><td>" + currencies + "</td><td class=\"num\">" + std::to_string(done) +
             (l.inventory_total ? " / " + std::to_string(*l.inventory_total) : std::string()) + "</td><td>" +
             badge(lang, l.status) + "</td><td>" +
             (l.status == "active" ? "<a href=\"" + esc(url) + "\" rel=\"noopener\">" + esc(l.slug) + "</a>"
                                   : "<code>" + esc(l.slug) + "</code>") +
             "</td><td>" + actions + "</td></tr>";
    }
    if (list.empty()) b += "<tr><td colspan=\"8\" class=\"muted\">" + std::string(tr(lang, txt::nothing)) + "</td></tr>";
    b += "</tbody></table>" + pager(lang, "/admin/links", {{"q", q}, {"status", status}}, next, wanted.after.has_value()) +
         "</section>\n";
    return page(200, c.frame, tr(lang, txt::links), b);
}

}  // namespace depositd::api::admin
