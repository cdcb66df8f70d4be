// The console's pages: read-only views over the store (GETs change nothing).
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

namespace depositd::api::admin {
namespace {

constexpr std::uint32_t kPageSize = 25;
constexpr std::size_t kMaxQuery = 200;

auto logger() {
    static auto l = log::get("admin");
    return l;
}

std::string amount_text(const std::string& raw, unsigned decimals) {
    auto a = Amount::from_raw_decimal(raw, decimals);
    return a ? a->to_string() : raw;
}

// A long hash or address, shortened for a table cell; the whole in a title.
std::string short_code(std::string_view s, std::size_t keep = 10) {
    if (s.size() <= keep * 2 + 2) return "<code>" + esc(s) + "</code>";
    return "<code title=\"" + esc(s) + "\">" + esc(s.substr(0, keep)) + "…" + esc(s.substr(s.size() - 6)) + "</code>";
}

std::string opt_text(const std::optional<std::string>& s) {
    return s ? esc(*s) : std::string("<span class=\"muted\">—</span>");
}

std::string trimmed(const std::string* s) {
    if (!s) return {};
    std::string_view v = *s;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return std::string(v.substr(0, kMaxQuery));
}

// "after=<t>.<seq>": where a keyset page starts.
std::optional<store::PageKey> parse_after(const util::Params& q) {
    const std::string* v = util::param(q, "after");
    if (!v || v->size() > 40) return std::nullopt;
    const auto dot = v->find('.');
    if (dot == std::string::npos) return std::nullopt;
    try {
        std::size_t used = 0;
        store::PageKey k;
        k.t = std::stoll(v->substr(0, dot), &used);
        if (used != dot) return std::nullopt;
        const std::string rest = v->substr(dot + 1);
        k.seq = std::stoll(rest, &used);
        if (used != rest.size() || rest.empty()) return std::nullopt;
        return k;
    } catch (...) {
        return std::nullopt;
    }
}

// What a list page was asked for: the search text, a status among the
// page's own (anything else counts as none), and where the page starts.
struct ListRequest {
    std::string q;
    std::string status;
    std::optional<store::PageKey> after;
    store::ConsoleQuery query() const {
        store::ConsoleQuery f;
        if (!q.empty()) f.q = q;
        if (!status.empty()) f.status = status;
        f.after = after;
        f.limit = kPageSize;
        return f;
    }
};

ListRequest list_request(const util::Params& query, std::initializer_list<std::string_view> statuses) {
    ListRequest l;
    l.q = trimmed(util::param(query, "q"));
    l.status = trimmed(util::param(query, "status"));
    if (std::find(statuses.begin(), statuses.end(), l.status) == statuses.end()) l.status.clear();
    l.after = parse_after(query);
    return l;
}

std::string key_text(const store::PageKey& k) { return std::to_string(k.t) + "." + std::to_string(k.seq); }

// The link to the next page: this page's filters plus after=.
std::string pager(std::string_view lang, const std::string& path, const std::vector<std::pair<std::string, std::string>>& filters,
                  const std::optional<store::PageKey>& next, bool paged) {
    std::string qs;
    for (const auto& [k, v] : filters)
        if (!v.empty()) qs += (qs.empty() ? "?" : "&") + k + "=" + url_escape(v);
    std::string out = "<div class=\"pager\">";
    if (paged) out += "<a href=\"" + esc(path + qs) + "\" id=\"first-page\">« " + tr(lang, txt::first_page) + "</a>";
    if (next)
        out += "<a href=\"" + esc(path + qs + (qs.empty() ? "?" : "&") + "after=" + key_text(*next)) +
               "\" id=\"next-page\">" + tr(lang, txt::next_page) + " »</a>";
    out += "</div>";
    return out;
}

std::string select_html(std::string_view lang, const char* name, const std::vector<std::string>& values,
                        const std::string& chosen, bool translate) {
    std::string out = "<select name=\"" + std::string(name) + "\" id=\"f-" + name + "\"><option value=\"\">" +
                      tr(lang, txt::any) + "</option>";
    for (const auto& v : values) {
        const char* shown = translate ? status_text(lang, v) : nullptr;
        out += "<option value=\"" + esc(v) + "\"" + (v == chosen ? " selected" : "") + ">" + esc(shown ? shown : v) +
               "</option>";
    }
    return out + "</select>";
}

std::string search_form(std::string_view lang, const std::string& action, const std::string& q, const Text& hint,
                        const std::string& extra) {
    return "<form class=\"search\" method=\"get\" action=\"" + action + "\"><label>" + tr(lang, txt::search) +
           "<input type=\"text\" class=\"wide\" name=\"q\" id=\"q\" value=\"" + esc(q) + "\" placeholder=\"" +
           tr(lang, hint) + "\" maxlength=\"200\"></label>" + extra +
           "<button type=\"submit\" id=\"search\">" + tr(lang, txt::filter) + "</button></form>";
}

std::string deposit_amount(const store::Deposit& d) {
    return esc(amount_text(d.raw_amount, d.decimals)) + " " + esc(d.currency);
}

std::string confirmations_text(const store::Deposit& d) {
    if (d.finality) return d.status == "confirmed" ? "finalized" : "—";
    return std::to_string(d.confirmations) + "/" + std::to_string(d.required_confirmations);
}

std::string deposit_rows(std::string_view lang, const std::vector<store::Deposit>& list) {
    std::string h = "<table id=\"deposits\"><thead><tr><th>" + std::string(tr(lang, txt::detected)) + "</th><th>" +
                    tr(lang, txt::chain) + "</th><th class=\"num\">" + tr(lang, txt::amount) + "</th><th>" +
                    tr(lang, txt::address) + "</th><th>" + tr(lang, txt::reference) + "</th><th>" +
                    tr(lang, txt::transaction) + "</th><th class=\"num\">" + tr(lang, txt::confirmations) + "</th><th>" +
                    tr(lang, txt::status) + "</th></tr></thead><tbody>";
    for (const auto& d : list) {
        h += "<tr data-id=\"" + esc(d.id) + "\"><td><a href=\"/admin/deposits/" + url_escape(d.id) + "\">" +
             time_html(d.detected_at) + "</a></td><td>" + esc(d.chain_id) + "</td><td class=\"num\">" +
             deposit_amount(d) + "</td><td>" + short_code(d.address) + "</td><td>" + opt_text(d.reference) +
             "</td><td>" + short_code(d.tx_hash) + "</td><td class=\"num\">" + confirmations_text(d) + "</td><td>" +
             badge(lang, d.status) + "</td></tr>";
    }
    if (list.empty()) h += "<tr><td colspan=\"8\" class=\"muted\">" + std::string(tr(lang, txt::nothing)) + "</td></tr>";
    return h + "</tbody></table>";
}

std::string resend_form(std::string_view lang, const std::string& csrf, const std::string& id, const std::string& back) {
    return "<form method=\"post\" class=\"inline\" action=\"/admin/events/" + url_escape(id) +
           "/resend\" data-confirm=\"" + esc(tr(lang, txt::resend_confirm)) + "\">" + csrf_field(csrf) +
           "<input type=\"hidden\" name=\"back\" value=\"" + esc(back) + "\"><button type=\"submit\" class=\"resend\" "
           "data-event=\"" + esc(id) + "\">" + tr(lang, txt::resend) + "</button></form>";
}

std::string event_row(std::string_view lang, const store::EventRow& e, const std::string& csrf, const std::string& back) {
    std::string target = e.order_id.empty() ? (e.deposit_id.empty() ? std::string("—")
                                                                   : "<a href=\"/admin/deposits/" + url_escape(e.deposit_id) +
                                                                         "\">" + short_code(e.deposit_id, 12) + "</a>")
                                            : "<a href=\"/admin/orders/" + url_escape(e.order_id) + "\">" +
                                                  short_code(e.order_id, 12) + "</a>";
    return "<tr data-id=\"" + esc(e.id) + "\"><td><a href=\"/admin/events/" + url_escape(e.id) + "\">" +
           short_code(e.id, 12) + "</a></td><td>" + esc(e.type) + " <span class=\"muted\">" + esc(e.kind) +
           "</span></td><td>" + target + "</td><td>" + badge(lang, e.status) + "</td><td class=\"num\">" +
           std::to_string(e.attempts) + "</td><td>" + time_html(e.created_at) + "</td><td>" + time_html(e.delivered_at) +
           "</td><td class=\"text\">" + (e.last_error ? esc(*e.last_error) : std::string()) + "</td><td>" +
           resend_form(lang, csrf, e.id, back) + "</td></tr>";
}

std::string events_table_head(std::string_view lang) {
    return "<table class=\"events\"><thead><tr><th>" + std::string(tr(lang, txt::event)) + "</th><th>" +
           tr(lang, txt::type) + "</th><th>" + tr(lang, txt::target) + "</th><th>" +
           tr(lang, txt::status) + "</th><th class=\"num\">" + tr(lang, txt::attempts) + "</th><th>" +
           tr(lang, txt::created) + "</th><th>" + tr(lang, txt::delivered_at) + "</th><th>" + tr(lang, txt::error) +
           "</th><th>" + tr(lang, txt::actions) + "</th></tr></thead><tbody>";
}

std::string attempts_html(std::string_view lang, const std::vector<store::AttemptRecord>& attempts) {
    if (attempts.empty()) return "<p class=\"muted\">" + std::string(tr(lang, txt::no_deliveries)) + "</p>";
    std::string h = "<table class=\"attempts\"><thead><tr><th>" + std::string(tr(lang, txt::time)) +
                    "</th><th class=\"num\">HTTP</th><th class=\"num\">" + tr(lang, txt::latency) + "</th><th>" +
                    tr(lang, txt::error) + "</th><th>" + tr(lang, txt::answer) + "</th></tr></thead><tbody>";
    for (const auto& a : attempts)
        h += "<tr><td>" + time_html(a.attempted_at) + "</td><td class=\"num\">" +
             (a.status_code ? std::to_string(*a.status_code) : std::string("—")) + "</td><td class=\"num\">" +
             std::to_string(a.latency_ms) + " ms</td><td class=\"wrap\">" + (a.error ? esc(*a.error) : std::string()) +
             "</td><td class=\"wrap\"><code>" + (a.response_excerpt ? esc(a.response_excerpt->substr(0, 200)) : "") +
             "</code></td></tr>";
    return h + "</tbody></table>";
}

// The events of a deposit or an order, each with its delivery attempts.
std::string events_with_deliveries(std::string_view lang, const std::vector<store::EventRow>& events,
                                   const std::vector<std::vector<store::AttemptRecord>>& attempts,
                                   const std::string& csrf, const std::string& back) {
    std::string h = "<section class=\"card\" id=\"events\"><h2>" + std::string(tr(lang, txt::webhooks_and_notifies)) +
                    "</h2>" + events_table_head(lang);
    for (const auto& e : events) h += event_row(lang, e, csrf, back);
    if (events.empty()) h += "<tr><td colspan=\"9\" class=\"muted\">" + std::string(tr(lang, txt::none)) + "</td></tr>";
    h += "</tbody></table>";
    for (std::size_t i = 0; i < events.size(); ++i)
        h += "<details><summary>" + std::string(tr(lang, txt::deliveries)) + ": <code>" + esc(events[i].id) + "</code> (" +
             esc(events[i].type) + ")</summary>" + attempts_html(lang, attempts[i]) + "</details>";
    return h + "</section>";
}

// An audit entry's detail as words: "from: waiting · to: completed · …".
std::string detail_text(const std::optional<std::string>& detail) {
    if (!detail) return "";
    auto v = json::parse_bounded(*detail);
    if (!v || !v->is_object()) return esc(*detail);
    std::string out;
    for (const auto& kv : v->get_object()) {
        if (!out.empty()) out += " · ";
        out += "<span class=\"muted\">" + esc(kv.key()) + ":</span> ";
        out += esc(kv.value().is_string() ? std::string(kv.value().get_string()) : json::serialize(kv.value()));
    }
    return out;
}

std::string audit_rows(std::string_view lang, const std::vector<store::AuditEntry>& entries) {
    std::string h = "<table id=\"audit\"><thead><tr><th>" + std::string(tr(lang, txt::time)) + "</th><th>" +
                    tr(lang, txt::who) + "</th><th>" + tr(lang, txt::action) + "</th><th>" + tr(lang, txt::target) +
                    "</th><th>" + tr(lang, txt::reason) + "</th><th>" + tr(lang, txt::detail) + "</th><th>" +
                    tr(lang, txt::client) + "</th></tr></thead><tbody>";
    for (const auto& e : entries) {
        std::string target = "—";
        if (e.target) {
            const std::string& t = *e.target;
            if (t.rfind("ord_", 0) == 0) target = "<a href=\"/admin/orders/" + url_escape(t) + "\"><code>" + esc(t) + "</code></a>";
            else if (t.rfind("evt_", 0) == 0) target = "<a href=\"/admin/events/" + url_escape(t) + "\"><code>" + esc(t) + "</code></a>";
            else if (t.rfind("plink_", 0) == 0) target = "<a href=\"/admin/links?q=" + url_escape(t) + "\"><code>" + esc(t) + "</code></a>";
            else target = "<code>" + esc(t) + "</code>";
        }
        h += "<tr data-action=\"" + esc(e.action) + "\"><td>" + time_html(e.at) + "</td><td>" + esc(e.actor) +
             " <span class=\"muted\">(" + esc(e.actor_kind) + ")</span></td><td><code>" + esc(e.action) + "</code></td><td>" +
             target + "</td><td class=\"text reason\">" + (e.reason ? esc(*e.reason) : std::string()) +
             "</td><td class=\"text\">" + detail_text(e.detail) + "</td><td>" +
             (e.client ? esc(*e.client) : std::string()) + "</td></tr>";
    }
    if (entries.empty()) h += "<tr><td colspan=\"7\" class=\"muted\">" + std::string(tr(lang, txt::nothing)) + "</td></tr>";
    return h + "</tbody></table>";
}

// The rows of a page of ids, read one by one (primary-key lookups); a row
// gone meanwhile is skipped.
template <class Row, class Get>
Status rows_of(const std::vector<std::string>& ids, std::vector<Row>& out, Get get) {
    for (const auto& id : ids) {
        auto r = get(id);
        if (!r) return r.error();
        if (*r) out.push_back(std::move(**r));
    }
    return {};
}

Response db_error(const Frame& f, const Error& e, const char* what) {
    logger()->error("console {}: {}", what, e.describe());
    return message_page(500, f, "Internal error", "The database could not be read; the log says why.");
}

}  // namespace

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
