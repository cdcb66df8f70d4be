// The payer's pages (SPEC §8, §9): GET /pay/{id}, GET /pay/{id}/status and
// /checkout/{slug}. No API key: an order id is 128 random bits, a slug 64.
#include <algorithm>

#include "api/handler.hpp"
#include "api/pay_html.hpp"
#include "api/qr_svg.hpp"
#include "api/route_util.hpp"
#include "core/amount.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "orders/links.hpp"
#include "orders/merchant.hpp"
#include "orders/orders.hpp"
#include "orders/payment_uri.hpp"
#include "orders/pricing.hpp"
#include "store/orders.hpp"

namespace depositd::api {
namespace {

using namespace util;

std::string language(const Request& req, const Params& query) {
    if (const std::string* l = param(query, "lang")) {
        if (*l == "zh" || *l == "zh-CN") return "zh";
        if (*l == "en") return "en";
    }
    return pick_language(req.accept_language);
}

std::string pay_amount(const store::Order& o) {
    auto a = Amount::from_raw_decimal(o.pay_raw, o.decimals);
    return a ? a->to_string() : o.amount;
}

std::string paid_amount(const store::Order& o) {
    auto a = Amount::from_raw_decimal(o.paid_raw, o.decimals);
    return a ? a->to_string() : o.paid_raw;
}

std::string attr(const char* name, std::string_view value) {
    return std::string(name) + "=\"" + html_escape(value) + "\"";
}

const char* status_text(const html::Strings& t, const std::string& status) {
    if (status == "paid") return t.paid;
    if (status == "completed") return t.completed;
    if (status == "expired") return t.expired;
    return t.waiting;
}

std::string payer_location(const config::Config& cfg, const std::string& id) {
    return cfg.api.public_url.empty() ? "/pay/" + id : orders::payment_url(cfg, id);
}

Response redirect_to(std::string location) {
    Response r;
    r.status = 302;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "See " + location + "\n";
    r.headers.emplace_back("Location", std::move(location));
    return r;
}

// 303: the browser follows with a GET (the form was a POST).
Response see_other(std::string location) {
    Response r = redirect_to(std::move(location));
    r.status = 303;
    return r;
}

// The checkout visitor cookie: 32 hex characters, or "" when absent or not ours.
constexpr std::string_view kVisitorCookie = "depositd_visitor";

std::string visitor_cookie(std::string_view header) {
    while (!header.empty()) {
        const auto semi = header.find(';');
        std::string_view pair = header.substr(0, semi);
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
        if (pair.size() != kVisitorCookie.size() + 1 + 32 || pair.substr(0, kVisitorCookie.size()) != kVisitorCookie ||
            pair[kVisitorCookie.size()] != '=')
            continue;
        const std::string_view v = pair.substr(kVisitorCookie.size() + 1);
        if (std::all_of(v.begin(), v.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
            return std::string(v);
    }
    return {};
}

std::string visitor_set_cookie(const std::string& id, bool secure) {
    return std::string(kVisitorCookie) + "=" + id + "; Path=/checkout; Max-Age=86400; HttpOnly; SameSite=Lax" +
           (secure ? "; Secure" : "");
}

bool plausible_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

}  // namespace

Response Handler::pay_page(const Request& req, const std::string& id, const Query& query) {
    const std::string lang = language(req, query);
    const html::Strings& t = html::strings(lang);
    if (!plausible_id(id)) return html::message_page(404, lang, html::Message::order_not_found);
    return with_db(store_access::read, [&](store::Database& db) -> Response {
        auto found = store::get_order(db, id);
        if (!found) return internal(found.error(), "payment page");
        if (!*found) return html::message_page(404, lang, html::Message::order_not_found);
        const store::Order& o = **found;
        const auto* chain = config_.chain(o.chain_id);
        const std::string amount = pay_amount(o);
        const std::string uri = chain ? orders::payment_uri(o, chain->kind) : o.address;
        const auto redirect = o.status == "completed" ? orders::completion_redirect(o, config_) : std::nullopt;

        std::string main_attrs = "id=\"pay\" class=\"st-" + o.status + "\" " + attr("data-status", o.status) + " " +
                                 attr("data-status-url", "/pay/" + o.id + "/status") + " " +
                                 attr("data-now", std::to_string(clock_.now_ms())) + " " +
                                 attr("data-expires", std::to_string(o.expires_at)) + " " +
                                 attr("data-redirect", redirect.value_or("")) + " " + attr("data-t-waiting", t.waiting) +
                                 " " + attr("data-t-paid", t.paid) + " " + attr("data-t-completed", t.completed) + " " +
                                 attr("data-t-expired", t.expired) + " " + attr("data-t-copy", t.copy) + " " +
                                 attr("data-t-copied", t.copied) + " " + attr("data-t-returning", t.returning);

        std::string b;
        b += "<h1>" + html_escape(std::string(t.pay_title) + " " + amount + " " + o.currency) + "</h1>\n";
        b += "<p class=\"status\" id=\"status\" role=\"status\" aria-live=\"polite\">" + html_escape(status_text(t, o.status)) +
             "</p>\n";
        b += "<div class=\"payto\">\n";
        b += "<div class=\"row\"><div class=\"label\">" + html_escape(t.amount) +
             "</div><div class=\"value\"><span class=\"amount\"><span id=\"amount\">" + html_escape(amount) +
             "</span> <span id=\"currency\">" + html_escape(o.currency) + "</span></span><button type=\"button\" " +
             attr("data-copy", amount) + " id=\"copy-amount\">" + html_escape(t.copy) + "</button></div></div>\n";
        b += "<div class=\"row\"><div class=\"label\">" + html_escape(t.network) + "</div><div class=\"value\" id=\"network\">" +
             html_escape(o.chain_id) + "</div></div>\n";
        const std::string svg = qr_svg(uri, t.scan);
        if (!svg.empty()) b += "<div id=\"qr\">" + svg + "</div>\n";
        b += "<div class=\"row\"><div class=\"label\">" + html_escape(t.address) +
             "</div><div class=\"value\"><code id=\"address\">" + html_escape(o.address) + "</code><button type=\"button\" " +
             attr("data-copy", o.address) + " id=\"copy-address\">" + html_escape(t.copy) + "</button></div></div>\n";
        b += "<p class=\"hint\">" + html_escape(t.exact_hint) + "</p>\n";
        b += "<div class=\"row\"><div class=\"label\">" + html_escape(t.time_left) +
             "</div><div class=\"value\" id=\"countdown\"></div></div>\n";
        b += "</div>\n";
        b += "<div class=\"row\"><div class=\"label\">" + html_escape(t.paid_so_far) + "</div><div class=\"value\"><span id=\"paid\">" +
             html_escape(paid_amount(o)) + "</span></div></div>\n";
        b += "<div class=\"row\"><div class=\"label\">" + html_escape(t.order) + "</div><div class=\"value\"><code>" +
             html_escape(o.order_id) + "</code></div></div>\n";
        if (redirect) b += "<p><a class=\"button\" id=\"back\" href=\"" + html_escape(*redirect) + "\">" + html_escape(t.back_to_shop) + "</a></p>\n";
        return html::page(200, lang, std::string(t.pay_title) + " " + amount + " " + o.currency, b, true, main_attrs);
    });
}

Response Handler::pay_status(const std::string& id) {
    if (!plausible_id(id)) return not_found("Order not found");
    return with_db(store_access::read, [&](store::Database& db) -> Response {
        auto found = store::get_order(db, id);
        if (!found) return internal(found.error(), "payment status");
        if (!*found) return not_found("Order " + id + " not found");
        const store::Order& o = **found;
        json::object j;
        j["status"] = o.status;
        j["paidAmount"] = paid_amount(o);
        j["payAmount"] = pay_amount(o);
        j["currency"] = o.currency;
        j["expiresAt"] = format_rfc3339_ms(o.expires_at);
        auto redirect = o.status == "completed" ? orders::completion_redirect(o, config_) : std::nullopt;
        j["redirectUrl"] = redirect ? json::value(*redirect) : json::value(nullptr);
        return json_response(200, j);
    });
}

Response Handler::checkout(const Request& req, const std::string& slug, const Query& query) {
    const std::string lang = language(req, query);
    const html::Strings& t = html::strings(lang);
    if (!plausible_id(slug)) return html::message_page(404, lang, html::Message::link_not_found);
    // A GET (crawlers, link previews, <img> tags fetch it) only reads: it
    // runs on a read-only connection. The form's POST makes the order.
    const bool post = req.method == "POST";
    const std::string known_visitor = visitor_cookie(req.cookie);
    return with_db(post ? store_access::write : store_access::read, [&](store::Database& db) -> Response {
        auto found = store::get_link_by_slug(db, slug);
        if (!found) return internal(found.error(), "checkout");
        if (!*found) return html::message_page(404, lang, html::Message::link_not_found);
        const store::PaymentLink& link = **found;
        const std::int64_t now = clock_.now_ms();
        auto state = orders::link_state(db, link, now);
        if (!state) return internal(state.error(), "checkout");
        if (state->availability == orders::LinkAvailability::not_found)
            return html::message_page(404, lang, html::Message::link_not_found);
        // The same visitor gets its open order back, posting or opening the
        // link again (also once the link sold out: that order holds its stock).
        if (!known_visitor.empty()) {
            auto mine = store::open_order_of_visitor(db, link.id, known_visitor);
            if (!mine) return internal(mine.error(), "checkout");
            const bool usable = state->availability == orders::LinkAvailability::open || state->reason == "sold out";
            if (*mine && usable) return see_other(payer_location(config_, (*mine)->id));
        }
        if (state->availability == orders::LinkAvailability::gone) {
            auto m = state->reason == "expired"  ? html::Message::link_expired
                     : state->reason == "sold out" ? html::Message::link_sold_out
                                                   : html::Message::link_archived;
            return html::message_page(410, lang, m);
        }
        auto currencies = orders::link_currencies(link);
        if (!currencies) return internal(currencies.error(), "checkout");
        const bool payer_amount = link.amount == "0";

        // The payer's choice: the form (POST; the query counts too, the form
        // wins); a GET's ?pay=&amount= only preselect it.
        Params choice = query;
        if (post) {
            auto form = parse_form(req.body);
            if (!form) return html::message_page(400, lang, html::Message::request_refused, "the form is malformed");
            for (auto& kv : *form) choice.push_back(std::move(kv));
        }
        std::string pay, amount, problem;
        if (const std::string* p = param(choice, "pay")) pay = *p;
        if (const std::string* a = param(choice, "amount")) amount = *a;
        if (currencies->size() == 1 && pay.empty()) pay = currencies->front().code();
        bool known = false;
        if (auto resolved = orders::resolve_pay(config_, pay))
            for (const auto& c : *currencies) known = known || resolved->code() == c.code();
        if (post) {
            if (pay.empty() || !known) problem = pay.empty() ? "choose a currency" : "unknown currency";
            else if (payer_amount && amount.empty()) problem = "enter an amount";
        }
        if (post && problem.empty()) {
            const std::string client = client_of(req);
            const std::string visitor = known_visitor.empty() ? orders::new_visitor_id() : known_visitor;
            auto c = orders::checkout_order(db, config_, rates_, link, pay, amount, client, visitor, now);
            if (c.ok()) {
                if (c.created)
                    log::get("api")->info("checkout {}: order {} for payment link {} (client {})", slug, c.order->id,
                                          link.id, client);
                auto r = see_other(payer_location(config_, c.order->id));
                if (known_visitor.empty()) r.headers.emplace_back("Set-Cookie", visitor_set_cookie(visitor, config_.api.public_url.rfind("https://", 0) == 0));
                return r;
            }
            switch (c.failure) {
                case orders::Failure::too_many: {
                    log::get("api")->debug("checkout {}: client {} refused: {}", slug, client, c.message);
                    auto r = html::message_page(429, lang, html::Message::too_many);
                    r.headers.emplace_back("Retry-After", "60");
                    return r;
                }
                case orders::Failure::sold_out: return html::message_page(410, lang, html::Message::link_sold_out);
                case orders::Failure::invalid: problem = c.message; break;
                case orders::Failure::internal: return html::message_page(500, lang, html::Message::request_refused);
                case orders::Failure::busy:
                case orders::Failure::insufficient_addresses:
                case orders::Failure::no_amount_slot: {
                    auto r = html::message_page(503, lang, html::Message::busy);
                    r.headers.emplace_back("Retry-After", "60");
                    return r;
                }
                default: return html::message_page(503, lang, html::Message::request_refused, c.message);
            }
        }

        // The form: one choice per currency, and the amount when the payer sets it.
        std::string b = "<h1>" + html_escape(link.title) + "</h1>\n";
        if (link.description) b += "<p>" + html_escape(*link.description) + "</p>\n";
        if (!payer_amount) {
            std::string price = link.amount + (link.fiat ? " " + *link.fiat : "");
            b += "<p class=\"amount\" id=\"price\">" + html_escape(price) + "</p>\n";
        }
        if (!problem.empty()) b += "<p class=\"error\" id=\"problem\">" + html_escape(problem) + "</p>\n";
        b += "<form method=\"post\" action=\"/checkout/" + html_escape(slug) + "\">\n";
        b += "<div class=\"label\">" + html_escape(t.choose_currency) + "</div>\n";
        bool first = true;
        for (const auto& c : *currencies) {
            const bool checked = known ? c.code() == orders::resolve_pay(config_, pay)->code() : first;
            b += "<label class=\"choice\"><input type=\"radio\" name=\"pay\" " + attr("value", c.code()) +
                 (checked ? " checked" : "") + "> " + html_escape(c.currency) + " · " + html_escape(c.chain_id) + "</label>\n";
            first = false;
        }
        if (payer_amount) {
            b += "<div class=\"row\"><label class=\"label\" for=\"amount-input\">" + html_escape(t.enter_amount) +
                 (link.fiat ? " (" + html_escape(*link.fiat) + ")" : std::string()) + "</label>" +
                 "<input type=\"text\" id=\"amount-input\" name=\"amount\" inputmode=\"decimal\" required " +
                 "pattern=\"[0-9]+([.][0-9]+)?\" " + attr("value", amount) + "></div>\n";
        }
        b += "<p><button class=\"primary\" type=\"submit\">" + html_escape(t.continue_) + "</button></p>\n</form>\n";
        auto r = html::page(problem.empty() ? 200 : 400, lang, link.title, b, false);
        r.headers.emplace_back("X-Robots-Tag", "noindex");
        return r;
    });
}

}  // namespace depositd::api
