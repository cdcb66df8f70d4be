// The payer's pages (SPEC §8, §9): GET /pay/{id}, GET /pay/{id}/status and
// /checkout/{slug}. No API key: an order id is 128 random bits, a slug 64.
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
    return with_db(store_access::write, [&](store::Database& db) -> Response {
        auto found = store::get_link_by_slug(db, slug);
        if (!found) return internal(found.error(), "checkout");
        if (!*found) return html::message_page(404, lang, html::Message::link_not_found);
        const store::PaymentLink& link = **found;
        const std::int64_t now = clock_.now_ms();
        auto state = orders::link_state(db, link, now);
        if (!state) return internal(state.error(), "checkout");
        if (state->availability == orders::LinkAvailability::not_found)
            return html::message_page(404, lang, html::Message::link_not_found);
        if (state->availability == orders::LinkAvailability::gone) {
            auto m = state->reason == "expired"  ? html::Message::link_expired
                     : state->reason == "sold out" ? html::Message::link_sold_out
                                                   : html::Message::link_archived;
            return html::message_page(410, lang, m);
        }
        auto currencies = orders::link_currencies(link);
        if (!currencies) return internal(currencies.error(), "checkout");
        const bool payer_amount = link.amount == "0";

        // The payer's choice: from the form (POST) or the query (GET ?pay=&amount=).
        Params choice = query;
        if (req.method == "POST") {
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
        const bool chosen = !pay.empty() && (!payer_amount || !amount.empty());
        if (chosen && !known) problem = "unknown currency";
        if (chosen && known) {
            auto c = orders::checkout_order(db, config_, rates_, link, pay, amount, now);
            if (c.ok()) {
                log::get("api")->info("checkout {}: order {} for payment link {}", slug, c.order->id, link.id);
                return redirect_to(payer_location(config_, c.order->id));
            }
            if (c.failure == orders::Failure::internal) return html::message_page(500, lang, html::Message::request_refused);
            if (c.failure != orders::Failure::invalid) return html::message_page(503, lang, html::Message::request_refused, c.message);
            problem = c.message;
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
            b += "<label class=\"choice\"><input type=\"radio\" name=\"pay\" " + attr("value", c.code()) +
                 (first ? " checked" : "") + "> " + html_escape(c.currency) + " · " + html_escape(c.chain_id) + "</label>\n";
            first = false;
        }
        if (payer_amount) {
            b += "<div class=\"row\"><label class=\"label\" for=\"amount-input\">" + html_escape(t.enter_amount) +
                 (link.fiat ? " (" + html_escape(*link.fiat) + ")" : std::string()) + "</label>" +
                 "<input type=\"text\" id=\"amount-input\" name=\"amount\" inputmode=\"decimal\" required " +
                 "pattern=\"[0-9]+([.][0-9]+)?\" " + attr("value", amount) + "></div>\n";
        }
        b += "<p><button class=\"primary\" type=\"submit\">" + html_escape(t.continue_) + "</button></p>\n</form>\n";
        return html::page(problem.empty() ? 200 : 400, lang, link.title, b, false);
    });
}

}  // namespace depositd::api
