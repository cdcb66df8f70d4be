// The routes served without the API key (SPEC §9): EPay (/submit.php,
// /mapi.php, /api.php?act=order), epusdt (/api/v1/order/create-transaction),
// and the dispatch to the payment page and checkout links (pay_page.cpp).
//
// Signatures are checked before anything else is looked at, in constant
// time; a request that fails any check creates nothing.
#include <algorithm>
#include <set>

#include "api/handler.hpp"
#include "api/pay_html.hpp"
#include "api/route_util.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/netaddr.hpp"
#include "core/text.hpp"
#include "orders/decimal.hpp"
#include "orders/merchant.hpp"
#include "orders/orders.hpp"
#include "orders/pricing.hpp"
#include "orders/signing.hpp"
#include "store/orders.hpp"

namespace depositd::api {
namespace {

using namespace util;

auto logger() {
    static auto l = log::get("api");
    return l;
}

Response json_text(std::string body) {
    Response r;
    r.status = 200;
    r.content_type = "application/json";
    r.body = std::move(body);
    return r;
}

// EPay answers: {"code":-1,"msg":"..."} (always HTTP 200, as EPay does).
Response epay_json_error(const std::string& msg, int code = -1) {
    json::object o;
    o["code"] = code;
    o["msg"] = msg;
    return json_response(200, o);
}

// epusdt answers: {"status_code":N,"message":"...","data":null,"request_id":""} with HTTP 200.
Response epusdt_error(int status_code, const std::string& message) {
    json::object o;
    o["status_code"] = status_code;
    o["message"] = message;
    o["data"] = nullptr;
    o["request_id"] = "";
    return json_response(200, o);
}

std::string payer_location(const config::Config& cfg, const std::string& id) {
    // Path-absolute unless a public URL is configured, so the browser stays
    // on whatever host and scheme it reached us by.
    return cfg.api.public_url.empty() ? "/pay/" + id : orders::payment_url(cfg, id);
}

// The parameters of EPay's submit.php / mapi.php (SPEC §9). Anything else
// is refused: the signature joins values unescaped, so an extra or
// repeated parameter, or a value carrying "&<name>=", could move what the
// shop meant to sign.
constexpr std::string_view kEpayParams[] = {"pid",  "type",  "out_trade_no", "notify_url", "return_url",
                                            "name", "money", "sitename",     "param",      "clientip",
                                            "device", "sign", "sign_type"};

std::optional<std::string> epay_params_problem(const Params& params) {
    std::set<std::string> seen;
    for (const auto& [k, v] : params) {
        if (std::find(std::begin(kEpayParams), std::end(kEpayParams), k) == std::end(kEpayParams))
            return "parameter \"" + quote_untrusted(k, 40) + "\" is not part of the EPay protocol";
        if (!seen.insert(k).second) return "parameter " + k + " is given twice";
        for (std::string_view name : kEpayParams)
            if (v.find("&" + std::string(name) + "=") != std::string::npos)
                return "parameter " + k + " carries \"&" + std::string(name) + "=\", which would shift what was signed";
    }
    return std::nullopt;
}

// A notify / callback destination on loopback, private, link-local or
// metadata addresses is refused unless [merchant].allow_private_notify:
// otherwise anyone holding the key (or a leaked one) points depositd at the
// operator's own network. Names are checked again when resolved.
std::optional<std::string> notify_url_problem(const config::Config& cfg, const std::string& field,
                                              const std::string& url) {
    if (cfg.merchant.allow_private_notify) return std::nullopt;
    if (auto why = netaddr::non_public_host(netaddr::url_host(url)))
        return field + " points at a " + *why +
               " address; set [merchant].allow_private_notify = true for a shop on a private network";
    return std::nullopt;
}

std::string format_plain_time(std::int64_t ms) {
    std::string t = format_rfc3339_ms(ms);  // 2026-11-22T00:17:16.123Z
    return t.substr(0, 10) + " " + t.substr(11, 8);
}

}  // namespace

std::optional<Response> Handler::dispatch_public(const Request& req, const std::vector<std::string>& seg,
                                                 const Query& query, std::string& route) {
    const std::string& m = req.method;
    const std::size_t n = seg.size();
    if (n == 0) return std::nullopt;
    if (seg[0] == "pay" && (n == 2 || (n == 3 && seg[2] == "status")) && !seg[1].empty()) {
        route = n == 2 ? "pay.page" : "pay.status";
        if (m != "GET" && m != "HEAD") return method_not_allowed(m, "GET");
        return n == 2 ? pay_page(req, seg[1], query) : pay_status(seg[1]);
    }
    if (seg[0] == "checkout" && n == 2 && !seg[1].empty()) {
        route = "checkout";
        if (m != "GET" && m != "POST") return method_not_allowed(m, "GET, POST");
        return checkout(req, seg[1], query);
    }
    const bool epay_path = n == 1 && (seg[0] == "submit.php" || seg[0] == "mapi.php" || seg[0] == "api.php");
    const bool epusdt_path = n == 4 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "order" &&
                             seg[3] == "create-transaction";
    if (!epay_path && !epusdt_path) return std::nullopt;
    route = epusdt_path ? "epusdt.create" : "epay." + seg[0].substr(0, seg[0].size() - 4);
    if (!config_.merchant.enabled) return not_found("No such endpoint ([merchant] is not configured)");
    if (epusdt_path) return m == "POST" ? epusdt_create(req) : method_not_allowed(m, "POST");
    if (seg[0] == "api.php") return m == "GET" || m == "POST" ? epay_query(query) : method_not_allowed(m, "GET, POST");
    if (m != "GET" && m != "POST") return method_not_allowed(m, "GET, POST");
    return epay_submit(req, seg[0] == "mapi.php");
}

// --- EPay ----------------------------------------------------------------------

Response Handler::epay_submit(const Request& req, bool json_answer) {
    const std::string lang = pick_language(req.accept_language);
    auto reject = [&](int status, const std::string& msg) {
        logger()->info("EPay {} refused: {}", json_answer ? "mapi.php" : "submit.php", msg);
        return json_answer ? epay_json_error(msg) : html::message_page(status, lang, html::Message::request_refused, msg);
    };
    auto params = request_params(req);
    if (!params) return reject(400, "the parameters are malformed");
    if (auto problem = epay_params_problem(*params)) return reject(400, *problem);
    auto get = [&](std::string_view k) {
        const std::string* v = param(*params, k);
        return v ? *v : std::string();
    };

    if (get("pid") != std::to_string(config_.merchant.pid)) return reject(400, "pid is wrong");
    const std::string sign = get("sign");
    if (sign.empty()) return reject(400, "sign is missing");
    const std::string sign_type = get("sign_type");
    if (!sign_type.empty() && sign_type != "MD5" && sign_type != "md5") return reject(400, "sign_type must be MD5");
    if (!orders::signature_equal(sign, orders::epay_sign(*params, config_.merchant.key)))
        return reject(400, "sign is wrong");

    const std::string out_trade_no = get("out_trade_no");
    const std::string notify_url = get("notify_url");
    const std::string return_url = get("return_url");
    const std::string money = get("money");
    if (out_trade_no.empty() || out_trade_no.size() > orders::kMaxOrderId)
        return reject(400, "out_trade_no must be 1-64 characters");
    if (!is_http_url(notify_url)) return reject(400, "notify_url must be an http:// or https:// URL");
    if (auto problem = notify_url_problem(config_, "notify_url", notify_url)) return reject(400, *problem);
    if (!return_url.empty() && !is_http_url(return_url)) return reject(400, "return_url must be an http:// or https:// URL");
    auto amount = orders::Decimal::parse(money);
    if (!amount || amount->is_zero()) return reject(400, "money must be an amount greater than zero, e.g. 70.00");

    // type = <symbol>.<chainId>; absent (V2Board) or unknown (alipay) -> [orders].default.
    const std::string type = get("type");
    std::optional<std::string> pay;
    if (!type.empty() && orders::resolve_pay(config_, type)) pay = type;
    const std::string pay_code = pay ? *pay : config_.orders.default_pay;
    if (pay_code.empty()) return reject(400, "type must be <symbol>.<chainId> (no [orders].default is configured)");

    json::object merchant;
    merchant["type"] = type.empty() ? pay_code : type;  // echoed in the notify; never empty
    merchant["name"] = get("name");
    merchant["money"] = money;
    merchant["param"] = get("param");
    merchant["sitename"] = get("sitename");

    orders::OrderRequest r;
    r.source = "epay";
    r.order_id = out_trade_no;
    r.amount = money;
    r.in_fiat = !config_.orders.fiat.empty();
    r.pay = pay_code;
    if (!return_url.empty()) r.redirect_url = return_url;
    r.notify_url = notify_url;
    r.merchant = json::serialize(merchant);
    r.reuse_any = false;
    return with_db(store_access::write, [&](store::Database& db) -> Response {
        auto c = orders::create_order(db, config_, rates_, r, clock_.now_ms());
        if (!c.ok()) {
            switch (c.failure) {
                case orders::Failure::rate_unavailable: return reject(503, c.message);
                case orders::Failure::internal: return reject(500, "internal error");
                case orders::Failure::insufficient_addresses:
                case orders::Failure::no_amount_slot: return reject(503, c.message);
                default: return reject(400, c.message);
            }
        }
        const store::Order& o = *c.order;
        if (json_answer)
            return json_text(orders::json_object_text({{"code", "1", true},
                                                       {"msg", "ok"},
                                                       {"trade_no", o.id},
                                                       {"payurl", orders::payment_url(config_, o.id)}}));
        Response res;
        res.status = 302;
        res.content_type = "text/plain; charset=utf-8";
        res.headers.emplace_back("Location", payer_location(config_, o.id));
        res.body = "See " + payer_location(config_, o.id) + "\n";
        return res;
    });
}

Response Handler::epay_query(const Query& query) {
    auto get = [&](std::string_view k) {
        const std::string* v = param(query, k);
        return v ? *v : std::string();
    };
    if (get("act") != "order") return epay_json_error("act must be order");
    const bool pid_ok = get("pid") == std::to_string(config_.merchant.pid);
    const bool key_ok = orders::signature_equal(orders::md5_hex(get("key")), orders::md5_hex(config_.merchant.key));
    if (!pid_ok || !key_ok) return epay_json_error("pid or key is wrong", -3);
    const std::string trade_no = get("trade_no"), out_trade_no = get("out_trade_no");
    if (trade_no.empty() && out_trade_no.empty()) return epay_json_error("out_trade_no or trade_no is required", -4);
    Result<std::optional<store::Order>> found = std::optional<store::Order>{};
    return with_db(store_access::read, [&](store::Database& db) -> Response {
        if (!trade_no.empty()) found = store::get_order(db, trade_no);
        else found = store::latest_order_by_order_id(db, out_trade_no, std::string("epay"));
        if (!found) return internal(found.error(), "EPay order query");
        if (!*found || (*found)->source != "epay") return epay_json_error("order not found");
        const store::Order& o = **found;
        json::object j;
        j["code"] = 1;
        j["msg"] = "succ";
        j["trade_no"] = o.id;
        j["out_trade_no"] = o.order_id;
        j["type"] = orders::merchant_field(o, "type");
        j["pid"] = config_.merchant.pid;
        j["addtime"] = format_plain_time(o.created_at);
        j["endtime"] = o.completed_at ? json::value(format_plain_time(*o.completed_at)) : json::value(nullptr);
        j["name"] = orders::merchant_field(o, "name");
        j["money"] = orders::merchant_field(o, "money");
        j["param"] = orders::merchant_field(o, "param");
        j["status"] = o.status == "completed" ? 1 : 0;
        j["payurl"] = orders::payment_url(config_, o.id);
        return json_response(200, j);
    });
}

// --- epusdt ----------------------------------------------------------------------

Response Handler::epusdt_create(const Request& req) {
    auto body = body_object(req, config_.api.max_body_bytes);
    if (!body) return epusdt_error(400, body.error().message);
    const json::value* sig = field(*body, "signature");
    if (!sig || !sig->is_string()) return epusdt_error(401, "signature is missing");
    // The epusdt signature joins "k=v" strings with '&' too: a string value
    // that carries "&<field>=" could move what the shop signed.
    for (const auto& kv : *body) {
        const auto* v = kv.value().if_string();
        if (!v) continue;
        for (const auto& other : *body)
            if (std::string_view(*v).find("&" + std::string(other.key()) + "=") != std::string_view::npos)
                return epusdt_error(400, "field " + std::string(kv.key()) + " carries \"&" + std::string(other.key()) +
                                             "=\", which would shift what was signed");
    }
    auto expected = orders::epusdt_sign(*body, config_.merchant.key);
    if (!expected || !orders::signature_equal(std::string_view(sig->get_string()), *expected))
        return epusdt_error(401, "signature is wrong");

    const json::value* id_v = field(*body, "order_id");
    const json::value* amount_v = field(*body, "amount");
    const json::value* notify_v = field(*body, "notify_url");
    if (!id_v || !amount_v || !notify_v) return epusdt_error(400, "Required fields: order_id, amount, notify_url");
    if (!id_v->is_string() || id_v->get_string().empty() || id_v->get_string().size() > orders::kMaxOrderId)
        return epusdt_error(400, "order_id must be a string of 1-64 characters");
    // The amount is signed in its shortest form; it is priced from exactly that text.
    Result<orders::Decimal> amount = make_error(Errc::invalid_input, "");
    if (const auto* i = amount_v->if_int64()) amount = *i > 0 ? Result<orders::Decimal>(orders::Decimal::from_int(*i)) : amount;
    else if (const auto* u = amount_v->if_uint64()) amount = orders::Decimal::parse(std::to_string(*u));
    else if (const auto* d = amount_v->if_double()) amount = orders::Decimal::from_double(*d);
    else if (const auto* s = amount_v->if_string()) amount = orders::Decimal::parse(std::string_view(*s));
    if (!amount || amount->is_zero()) return epusdt_error(400, "amount must be a number greater than zero");
    if (!notify_v->is_string() || !is_http_url(std::string_view(notify_v->get_string())))
        return epusdt_error(400, "notify_url must be an http:// or https:// URL");
    if (auto problem = notify_url_problem(config_, "notify_url", std::string(notify_v->get_string())))
        return epusdt_error(400, *problem);
    std::optional<std::string> redirect;
    if (const json::value* rv = field(*body, "redirect_url"); rv && !(rv->is_string() && rv->get_string().empty())) {
        if (!rv->is_string() || !is_http_url(std::string_view(rv->get_string())))
            return epusdt_error(400, "redirect_url must be an http:// or https:// URL");
        redirect = std::string(rv->get_string());
    }

    json::object merchant;
    merchant["amount"] = amount->to_string();
    orders::OrderRequest r;
    r.source = "epusdt";
    r.order_id = std::string(id_v->get_string());
    r.amount = amount->to_string();
    r.in_fiat = !config_.orders.fiat.empty();
    r.redirect_url = redirect;
    r.notify_url = std::string(notify_v->get_string());
    r.merchant = json::serialize(merchant);
    r.reuse_any = false;
    return with_db(store_access::write, [&](store::Database& db) -> Response {
        auto c = orders::create_order(db, config_, rates_, r, clock_.now_ms());
        if (!c.ok()) {
            switch (c.failure) {
                case orders::Failure::invalid: return epusdt_error(400, c.message);
                case orders::Failure::conflict: return epusdt_error(10002, c.message);
                case orders::Failure::insufficient_addresses: return epusdt_error(10003, c.message);
                case orders::Failure::no_amount_slot: return epusdt_error(10005, c.message);
                case orders::Failure::rate_unavailable: return epusdt_error(10006, c.message);
                case orders::Failure::too_many:  // checkout orders only
                case orders::Failure::sold_out:
                case orders::Failure::busy:
                case orders::Failure::internal: break;
            }
            return epusdt_error(400, "internal error");
        }
        const store::Order& o = *c.order;
        auto pay = Amount::from_raw_decimal(o.pay_raw, o.decimals);
        const std::string data = orders::json_object_text({
            {"trade_id", o.id},
            {"order_id", o.order_id},
            {"amount", orders::merchant_field(o, "amount").empty() ? amount->to_string() : orders::merchant_field(o, "amount"), true},
            {"actual_amount", pay ? pay->to_string() : o.amount, true},
            {"token", o.address},
            {"expiration_time", std::to_string(o.expires_at / 1000), true},
            {"payment_url", orders::payment_url(config_, o.id)},
    });
    return json_text(orders::json_object_text(
        {{"status_code", "200", true}, {"message", "success"}, {"data", data, true}, {"request_id", ""}}));
    });
}

}  // namespace depositd::api
