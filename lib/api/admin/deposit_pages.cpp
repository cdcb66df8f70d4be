// The console's deposit and event pages (lists and details).
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

// --- Deposits ---------------------------------------------------------------------------

Response Console::deposits(Ctx& c) {
    const std::string& lang = c.lang;
    const ListRequest l = list_request(c.query, {"pending", "confirmed", "reverted"});
    const std::string &q = l.q, &status = l.status;
    const auto& after = l.after;
    std::string chain = trimmed(util::param(c.query, "chain"));
    if (!config_.chain(chain)) chain.clear();

    std::vector<store::Deposit> list;
    std::optional<store::PageKey> next;
    auto s = store_.read([&](store::Database& db) -> Status {
        if (!q.empty()) {
            store::ConsoleQuery f = l.query();
            if (!chain.empty()) f.chain_id = chain;
            auto page = store::search_deposits(db, f);
            if (!page) return page.error();
            next = page->next;
            return rows_of(page->ids, list, [&](const std::string& id) { return store::get_deposit(db, id); });
        }
        store::DepositFilter f;
        if (!status.empty()) f.status = status;
        if (!chain.empty()) f.chain_id = chain;
        if (after) f.after = store::DepositKey{after->t, after->seq};
        f.limit = kPageSize;
        auto page = store::list_deposits(db, f);
        if (!page) return page.error();
        list = std::move(page->deposits);
        if (page->next) next = store::PageKey{page->next->detected_at, page->next->seq};
        return {};
    });
    if (!s) return db_error(c.frame, s.error(), "deposits");

    std::vector<std::string> chains;
    for (const auto& ch : config_.chains) chains.push_back(ch.id);
    std::string b = "<h1>" + std::string(tr(lang, txt::deposits)) + "</h1>\n<section class=\"card\">" +
                    search_form(lang, "/admin/deposits", q, txt::deposits_hint,
                                "<label>" + std::string(tr(lang, txt::status)) +
                                    select_html(lang, "status", {"pending", "confirmed", "reverted"}, status, true) +
                                    "</label><label>" + tr(lang, txt::chain) +
                                    select_html(lang, "chain", chains, chain, false) + "</label>") +
                    deposit_rows(lang, list) +
                    pager(lang, "/admin/deposits", {{"q", q}, {"status", status}, {"chain", chain}}, next,
                          after.has_value()) +
                    "</section>\n";
    return page(200, c.frame, tr(lang, txt::deposits), b);
}

Response Console::deposit(Ctx& c, const std::string& id) {
    const std::string& lang = c.lang;
    if (id.size() > 128) return message_page(404, c.frame, tr(lang, txt::not_found), "No such deposit");
    std::optional<store::Deposit> d;
    std::optional<std::string> order;
    std::vector<store::EventRow> events;
    std::vector<std::vector<store::AttemptRecord>> attempts;
    auto s = store_.read([&](store::Database& db) -> Status {
        auto got = store::get_deposit(db, id);
        if (!got) return got.error();
        d = std::move(*got);
        if (!d) return {};
        auto o = store::order_of_deposit(db, id);
        if (!o) return o.error();
        order = *o;
        auto ev = store::events_of_deposit(db, id);
        if (!ev) return ev.error();
        events = std::move(*ev);
        for (const auto& e : events) {
            auto a = store::list_attempts(db, e.id);
            if (!a) return a.error();
            attempts.push_back(std::move(*a));
        }
        return {};
    });
    if (!s) return db_error(c.frame, s.error(), "deposit");
    if (!d) return message_page(404, c.frame, tr(lang, txt::not_found), "Deposit " + id + " not found", "/admin/deposits");

    const std::string here = "/admin/deposits/" + url_escape(id);
    std::string b = "<h1>" + std::string(tr(lang, txt::deposit)) + " <code>" + esc(d->id) + "</code> " +
                    badge(lang, d->status) + "</h1>\n" + flash(c) + "<section class=\"card\"><dl class=\"kv\" id=\"deposit\">";
    auto row = [&](const Text& k, const std::string& v) { b += "<dt>" + std::string(tr(lang, k)) + "</dt><dd>" + v + "</dd>"; };
    row(txt::amount, "<span id=\"amount\">" + deposit_amount(*d) + "</span>" +
                         (d->contract ? " <span class=\"muted\">" + short_code(*d->contract) + "</span>" : std::string()));
    row(txt::chain, esc(d->chain_id));
    row(txt::address, "<code>" + esc(d->address) + "</code>");
    row(txt::reference, opt_text(d->reference));
    row(txt::transaction, "<code>" + esc(d->tx_hash) + "</code> #" + std::to_string(d->index));
    row(txt::block, std::to_string(d->block_number) + " <code>" + esc(d->block_hash) + "</code>");
    row(txt::from, d->from.empty() ? std::string("—") : "<code>" + esc(d->from) + "</code>");
    row(txt::confirmations, confirmations_text(*d));
    row(txt::detected, time_html(d->detected_at));
    row(txt::confirmed_at, time_html(d->confirmed_at));
    row(txt::pays_order, order ? "<a href=\"/admin/orders/" + url_escape(*order) + "\"><code>" + esc(*order) + "</code></a>"
                               : std::string(tr(lang, txt::no_order)));
    b += "</dl></section>\n" + events_with_deliveries(lang, events, attempts, c.frame.csrf, here);
    return page(200, c.frame, tr(lang, txt::deposit), b);
}


// --- Events -----------------------------------------------------------------------------------

Response Console::events_page(Ctx& c) {
    const std::string& lang = c.lang;
    const ListRequest l = list_request(c.query, {"pending", "delivered", "failed"});
    const std::string &q = l.q, &status = l.status;
    std::string type = trimmed(util::param(c.query, "type"));
    static const std::vector<std::string> types = {"deposit.pending",  "deposit.confirmed", "deposit.reverted",
                                                   "order.paid",       "order.completed",   "order.expired",
                                                   "order.late_payment", "epay.notify",     "epusdt.callback",
                                                   "notify.telegram"};
    if (std::find(types.begin(), types.end(), type) == types.end()) type.clear();
    std::vector<store::EventRow> list;
    std::optional<store::PageKey> next;
    auto s = store_.read([&](store::Database& db) -> Status {
        store::ConsoleQuery f = l.query();
        if (!type.empty()) f.type = type;
        auto page = store::search_events(db, f);
        if (!page) return page.error();
        next = page->next;
        return rows_of(page->ids, list, [&](const std::string& id) { return store::get_event(db, id); });
    });
    if (!s) return db_error(c.frame, s.error(), "events");
    std::string b = "<h1>" + std::string(tr(lang, txt::events)) + "</h1>\n" + flash(c) + "<section class=\"card\">" +
                    search_form(lang, "/admin/events", q, txt::events_hint,
                                "<label>" + std::string(tr(lang, txt::status)) +
                                    select_html(lang, "status", {"pending", "delivered", "failed"}, status, true) +
                                    "</label><label>" + tr(lang, txt::type) + select_html(lang, "type", types, type, false) +
                                    "</label>") +
                    events_table_head(lang);
    for (const auto& e : list) b += event_row(lang, e, c.frame.csrf, c.frame.here);
    if (list.empty()) b += "<tr><td colspan=\"9\" class=\"muted\">" + std::string(tr(lang, txt::nothing)) + "</td></tr>";
    b += "</tbody></table>" +
         pager(lang, "/admin/events", {{"q", q}, {"status", status}, {"type", type}}, next, l.after.has_value()) +
         "</section>\n";
    return page(200, c.frame, tr(lang, txt::events), b);
}

Response Console::event(Ctx& c, const std::string& id) {
    const std::string& lang = c.lang;
    if (id.size() > 128) return message_page(404, c.frame, tr(lang, txt::not_found), "No such event");
    std::optional<store::EventRow> e;
    std::vector<store::AttemptRecord> attempts;
    auto s = store_.read([&](store::Database& db) -> Status {
        auto got = store::get_event(db, id);
        if (!got) return got.error();
        e = std::move(*got);
        if (!e) return {};
        auto a = store::list_attempts(db, id);
        if (!a) return a.error();
        attempts = std::move(*a);
        return {};
    });
    if (!s) return db_error(c.frame, s.error(), "event");
    if (!e) return message_page(404, c.frame, tr(lang, txt::not_found), "Event " + id + " not found", "/admin/events");
    const std::string here = "/admin/events/" + url_escape(id);
    std::string payload = e->payload;
    if (auto v = json::parse_bounded(payload)) payload = json::serialize(*v);
    std::string b = "<h1>" + std::string(tr(lang, txt::event)) + " <code>" + esc(e->id) + "</code> " + badge(lang, e->status) +
                    "</h1>\n" + flash(c) + "<section class=\"card\">" + events_table_head(lang) +
                    event_row(lang, *e, c.frame.csrf, here) + "</tbody></table><h2>" + tr(lang, txt::payload) +
                    "</h2><pre id=\"payload\">" + esc(payload) + "</pre><h2>" + tr(lang, txt::deliveries) + "</h2>" +
                    attempts_html(lang, attempts) + "</section>\n";
    return page(200, c.frame, tr(lang, txt::event), b);
}

}  // namespace depositd::api::admin
