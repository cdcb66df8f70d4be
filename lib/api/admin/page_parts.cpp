// The pieces the console's pages share.
#include "api/admin/page_parts.hpp"

#include <algorithm>

#include "core/amount.hpp"
#include "core/json.hpp"
#include "core/log.hpp"

namespace depositd::api::admin::parts {

namespace {

auto logger() {
    static auto l = log::get("admin");
    return l;
}

}  // namespace

std::string amount_text(const std::string& raw, unsigned decimals) {
    auto a = Amount::from_raw_decimal(raw, decimals);
    return a ? a->to_string() : raw;
}

// A long hash or address, shortened for a table cell; the whole in a title.
std::string short_code(std::string_view s, std::size_t keep) {
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

Response db_error(const Frame& f, const Error& e, const char* what) {
    logger()->error("console {}: {}", what, e.describe());
    return message_page(500, f, "Internal error", "The database could not be read; the log says why.");
}

}  // namespace depositd::api::admin::parts
