// The console's pages: read-only views over the store (GETs change nothing).
// Here the overview, the audit log and the re-check form; deposit_pages.cpp
// and order_pages.cpp hold the rest.
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

std::string Console::flash(const Ctx& c) const {
    const std::string* d = util::param(c.query, "done");
    if (!d) return "";
    const Text* t = nullptr;
    if (*d == "mark_paid") t = &txt::done_mark_paid;
    else if (*d == "resend") t = &txt::done_resend;
    else if (*d == "publish") t = &txt::done_publish;
    else if (*d == "archive") t = &txt::done_archive;
    if (!t) return "";
    return "<p class=\"flash\" id=\"flash\">" + std::string(tr(c.lang, *t)) + "</p>\n";
}

// --- Overview -------------------------------------------------------------------------

Response Console::overview(Ctx& c) {
    const std::string& lang = c.lang;
    const std::int64_t now = clock_.now_ms();
    struct Data {
        std::vector<store::PoolStats> pool;
        std::vector<store::OutboxCount> outbox;
        std::vector<store::Deposit> latest;
        std::vector<store::AuditEntry> actions;
    } data;
    auto s = store_.read([&](store::Database& db) -> Status {
        auto pool = store::pool_stats(db, now);
        if (!pool) return pool.error();
        data.pool = std::move(*pool);
        auto outbox = store::outbox_counts(db);
        if (!outbox) return outbox.error();
        data.outbox = std::move(*outbox);
        store::DepositFilter f;
        f.limit = 10;
        auto latest = store::list_deposits(db, f);
        if (!latest) return latest.error();
        data.latest = std::move(latest->deposits);
        store::AuditFilter af;
        af.limit = 5;
        auto actions = store::list_audit(db, af);
        if (!actions) return actions.error();
        data.actions = std::move(actions->entries);
        return {};
    });
    if (!s) return db_error(c.frame, s.error(), "overview");

    std::string b = "<h1>" + std::string(tr(lang, txt::overview)) + "</h1>\n" + flash(c) +
                    "<div id=\"live\" data-refresh=\"3000\">\n";
    // Chains.
    b += "<section class=\"card\"><h2>" + std::string(tr(lang, txt::chains)) + "</h2><table id=\"chains\"><thead><tr><th>" +
         tr(lang, txt::chain) + "</th><th>" + tr(lang, txt::status) + "</th><th class=\"num\">" + tr(lang, txt::head) +
         "</th><th class=\"num\">" + tr(lang, txt::scanned) + "</th><th class=\"num\">" + tr(lang, txt::lag) + "</th><th>" +
         tr(lang, txt::lag_trend) + "</th><th>" + tr(lang, txt::finality) + "</th><th>" + tr(lang, txt::role) +
         "</th><th>" + tr(lang, txt::last_error) + "</th></tr></thead><tbody>";
    for (const auto& ch : config_.chains) {
        ChainHealth h;
        if (health_)
            if (auto got = health_->get(ch.id)) h = *got;
        auto num = [](const std::optional<std::uint64_t>& v) { return v ? std::to_string(*v) : std::string("—"); };
        std::string finality = ch.finalized ? std::string(tr(lang, txt::finalized))
                                            : std::to_string(ch.confirmations) + " " + tr(lang, txt::confirmations_n);
        if (h.finalized) finality += " <span class=\"muted\">(" + std::string(tr(lang, txt::finalized)) + " " +
                                     std::to_string(*h.finalized) + ")</span>";
        std::string error = h.last_error ? esc(*h.last_error) + " <span class=\"muted\">" + time_html(h.last_error_at) + "</span>"
                                         : std::string();
        if (h.halted) error = esc(*h.halted);
        b += "<tr data-chain=\"" + esc(ch.id) + "\"><td>" + esc(ch.id) + " <span class=\"muted\">" +
             to_string(ch.kind) + "</span></td><td>" + badge(lang, h.status) + "</td><td class=\"num\">" + num(h.head) +
             "</td><td class=\"num\">" + num(h.scanned) + "</td><td class=\"num\">" + num(h.lag()) + "</td><td>" +
             sparkline_svg(lags_.series(ch.id)) + "</td><td>" + finality + "</td><td>" + tr(lang, txt::leader) +
             "</td><td class=\"wrap\">" + error + "</td></tr>";
    }
    b += "</tbody></table></section>\n<div class=\"grid2\">";
    // Outbox.
    b += "<section class=\"card\"><h2>" + std::string(tr(lang, txt::outbox)) + "</h2><table id=\"outbox\"><thead><tr><th>" +
         tr(lang, txt::kind) + "</th><th class=\"num\">" + tr(lang, txt::pending) + "</th><th class=\"num\">" +
         tr(lang, txt::failed) + "</th></tr></thead><tbody>";
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> by_kind = {{"webhook", {0, 0}}};
    for (const auto& o : data.outbox) (o.status == "failed" ? by_kind[o.kind].second : by_kind[o.kind].first) += o.n;
    for (const auto& [kind, counts] : by_kind)
        b += "<tr data-kind=\"" + esc(kind) + "\"><td>" + esc(kind) + "</td><td class=\"num\"><a href=\"/admin/events?status=pending\">" +
             std::to_string(counts.first) + "</a></td><td class=\"num\"><a href=\"/admin/events?status=failed\">" +
             std::to_string(counts.second) + (counts.second ? " " + badge(lang, "failed") : std::string()) +
             "</a></td></tr>";
    b += "</tbody></table></section>";
    // Pool.
    std::set<std::string> protocols;
    for (const auto& p : data.pool) protocols.insert(p.protocol);
    for (const auto& ch : config_.chains)
        if (!protocols.count(to_string(ch.kind))) data.pool.push_back(store::PoolStats{to_string(ch.kind), 0, 0, 0});
    std::sort(data.pool.begin(), data.pool.end(), [](const auto& a, const auto& x) { return a.protocol < x.protocol; });
    b += "<section class=\"card\"><h2>" + std::string(tr(lang, txt::pool)) + "</h2><table id=\"pool\"><thead><tr><th>" +
         tr(lang, txt::protocol) + "</th><th class=\"num\">" + tr(lang, txt::free) + "</th><th class=\"num\">" +
         tr(lang, txt::bound) + "</th><th class=\"num\">" + tr(lang, txt::cooling) + "</th><th></th></tr></thead><tbody>";
    for (const auto& p : data.pool) {
        const bool low = config_.pool.low_water > 0 && p.free < config_.pool.low_water;
        b += "<tr data-protocol=\"" + esc(p.protocol) + "\"><td>" + esc(p.protocol) + "</td><td class=\"num\">" +
             std::to_string(p.free) + "</td><td class=\"num\">" + std::to_string(p.bound) + "</td><td class=\"num\">" +
             std::to_string(p.cooling) + "</td><td>" + (low ? badge(lang, "low") : std::string()) + "</td></tr>";
    }
    b += "</tbody></table></section></div>\n";
    // Latest deposits and manual actions.
    b += "<section class=\"card\"><h2>" + std::string(tr(lang, txt::latest_deposits)) + "</h2>" +
         deposit_rows(lang, data.latest) + "<p><a href=\"/admin/deposits\">" + tr(lang, txt::deposits) + " »</a></p></section>\n";
    b += "<section class=\"card\"><h2>" + std::string(tr(lang, txt::latest_actions)) + "</h2>" +
         audit_rows(lang, data.actions) + "<p><a href=\"/admin/audit\">" + tr(lang, txt::audit) + " »</a></p></section>\n";
    b += "</div>\n";
    return page(200, c.frame, tr(lang, txt::overview), b);
}


// --- Audit log ----------------------------------------------------------------------------------------

Response Console::audit_page(Ctx& c) {
    const std::string& lang = c.lang;
    std::string action = trimmed(util::param(c.query, "action"));
    static const std::vector<std::string> actions = {"order.mark_paid", "event.resend",  "link.publish",
                                                     "link.archive",    "deposit.recheck", "console.login",
                                                     "console.logout"};
    if (std::find(actions.begin(), actions.end(), action) == actions.end()) action.clear();
    const auto after = parse_after(c.query);
    store::AuditPage page_data;
    auto s = store_.read([&](store::Database& db) -> Status {
        store::AuditFilter f;
        if (!action.empty()) f.action = action;
        if (after) f.before = after->seq;
        f.limit = kPageSize;
        auto p = store::list_audit(db, f);
        if (!p) return p.error();
        page_data = std::move(*p);
        return {};
    });
    if (!s) return db_error(c.frame, s.error(), "audit");
    std::optional<store::PageKey> next;
    if (page_data.next) next = store::PageKey{0, *page_data.next};
    std::string b = "<h1>" + std::string(tr(lang, txt::audit)) + "</h1>\n<section class=\"card\">"
                    "<form class=\"search\" method=\"get\" action=\"/admin/audit\"><label>" +
                    tr(lang, txt::action) + select_html(lang, "action", actions, action, false) +
                    "</label><button type=\"submit\" id=\"search\">" + tr(lang, txt::filter) + "</button></form>" +
                    audit_rows(lang, page_data.entries) +
                    pager(lang, "/admin/audit", {{"action", action}}, next, after.has_value()) + "</section>\n";
    return page(200, c.frame, tr(lang, txt::audit), b);
}

// --- Re-check -------------------------------------------------------------------------------------------

Response Console::recheck_page(Ctx& c, int status, const std::string& message) {
    const std::string& lang = c.lang;
    const std::string* chain_v = util::param(c.form, "chain");
    const std::string* tx_v = util::param(c.form, "tx");
    std::string b = "<h1>" + std::string(tr(lang, txt::recheck)) + "</h1>\n";
    if (!message.empty())
        b += "<p class=\"flash" + std::string(status >= 300 ? " err" : "") + "\" id=\"recheck-result\" data-status=\"" +
             std::to_string(status) + "\">" + esc(message) + "</p>\n";
    b += "<section class=\"card\"><p class=\"muted\">" + std::string(tr(lang, txt::recheck_help)) +
         "</p><form method=\"post\" action=\"/admin/recheck\">" + csrf_field(c.frame.csrf) + "<p><label>" +
         tr(lang, txt::chain) + "<select name=\"chain\" id=\"f-chain\" required>";
    for (const auto& ch : config_.chains)
        b += "<option value=\"" + esc(ch.id) + "\"" + (chain_v && *chain_v == ch.id ? " selected" : "") + ">" + esc(ch.id) +
             "</option>";
    b += "</select></label></p><p><label>" + std::string(tr(lang, txt::tx_hash)) +
         "<input type=\"text\" class=\"wide\" name=\"tx\" id=\"f-tx\" required maxlength=\"200\" value=\"" +
         (tx_v ? esc(*tx_v) : std::string()) + "\"></label></p><p><label>" + tr(lang, txt::block_hash) +
         "<input type=\"text\" class=\"wide\" name=\"block\" id=\"f-block\" maxlength=\"200\"></label></p>"
         "<p><button type=\"submit\" class=\"primary\" id=\"recheck-button\">" +
         tr(lang, txt::recheck_short) + "</button></p></form></section>\n";
    return page(status, c.frame, tr(lang, txt::recheck), b);
}

}  // namespace depositd::api::admin
