// Orders, payment links, the merchant endpoints and the payment page through
// api::Handler::handle (no socket): validation that changes nothing, the
// envelopes, redirects, the HTML and its Content-Security-Policy.
#include <gtest/gtest.h>

#include "api/handler.hpp"
#include "api_test_util.hpp"
#include "orders/merchant.hpp"
#include "orders/signing.hpp"

using namespace depositd;
using namespace depositd::api;
using namespace depositd::api::testing;

namespace {

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

class ApiOrders : public ::testing::Test {
protected:
    ApiOrders() : config_(make_config()), clock_(1'767'225'600'000) {
        auto& eth = config_.chains[0];
        eth.native = {"ETH", "", 18};
        eth.tokens = {{"USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec7", 6}};
        config_.api.listen = "127.0.0.1:8080";
        config_.orders.default_pay = "usdt.ethereum";
        config_.orders.fiat = "CNY";
        config_.orders.rate = "7";
        add_addresses(tmp_.db(), "evm", 4);
    }

    Handler& handler() {
        if (!handler_) handler_ = std::make_unique<Handler>(tmp_.store(), config_, clock_);
        return *handler_;
    }
    store::Database& db() { return tmp_.db(); }

    Response call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& auth = std::string("Bearer ") + kKey, const std::string& lang = "",
                  const std::string& content_type = "application/json") {
        Request r;
        r.method = method;
        r.target = target;
        r.authorization = auth;
        r.content_type = body.empty() ? "" : content_type;
        r.body = body;
        r.accept_language = lang;
        return handler().handle(r);
    }
    // A payer's browser at /checkout: `peer` its address, `cookie` what it kept.
    Response visit(const std::string& method, const std::string& target, const std::string& form = "",
                   const std::string& peer = "198.51.100.7", const std::string& cookie = "",
                   const std::string& xff = "") {
        Request r;
        r.method = method;
        r.target = target;
        r.content_type = form.empty() ? "" : "application/x-www-form-urlencoded";
        r.body = form;
        r.peer = peer;
        r.cookie = cookie;
        r.forwarded_for = xff;
        return handler().handle(r);
    }
    // "depositd_visitor=<id>" from a Set-Cookie header, "" when none.
    static std::string cookie_of(const Response& r) {
        const std::string set = header(r, "Set-Cookie");
        return set.substr(0, set.find(';'));
    }
    std::string make_link(const std::string& body) {
        auto r = call("POST", "/api/v1/payment-links", body);
        EXPECT_EQ(r.status, 201) << r.body;
        const std::string id(data(r).at("id").as_string());
        call("POST", "/api/v1/payment-links/" + id + "/publish");
        return std::string(data(r).at("slug").as_string());
    }
    json::object data(const Response& r) { return parse(r.body).as_object().at("data").as_object(); }
    std::int64_t orders() { return scalar(db(), "SELECT count(*) FROM orders"); }
    void expect_error(const Response& r, int status, const std::string& error, const std::string& part = "") {
        EXPECT_EQ(r.status, status) << r.body;
        auto v = parse(r.body).as_object();
        EXPECT_EQ(v.at("error").as_string(), error) << r.body;
        EXPECT_NE(std::string(v.at("message").as_string()).find(part), std::string::npos) << r.body;
    }

    TempDb tmp_;
    config::Config config_;
    ManualClock clock_;
    std::unique_ptr<Handler> handler_;
};

TEST_F(ApiOrders, CreateGetListAndRepeat) {
    auto r = call("POST", "/api/v1/orders",
                  R"({"orderId":"SHOP-123","amount":"70","fiat":"CNY","redirectUrl":"https://shop.example/thanks",)"
                  R"("metadata":{"cart":7}})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto o = data(r);
    EXPECT_EQ(o.at("orderId"), "SHOP-123");
    EXPECT_EQ(o.at("status"), "waiting");
    EXPECT_EQ(o.at("chainId"), "ethereum");
    EXPECT_EQ(o.at("currency"), "USDT");
    EXPECT_EQ(o.at("amount"), "10");
    EXPECT_EQ(o.at("payAmount"), "10");
    EXPECT_EQ(o.at("fiatAmount"), "70");
    EXPECT_EQ(o.at("fiatCurrency"), "CNY");
    EXPECT_EQ(o.at("rate"), "7");
    EXPECT_EQ(o.at("paidAmount"), "0");
    EXPECT_TRUE(o.at("deposits").as_array().empty());
    EXPECT_TRUE(o.at("paidAt").is_null());
    EXPECT_EQ(o.at("metadata").as_object().at("cart").as_int64(), 7);
    const std::string id(o.at("id").as_string());
    EXPECT_EQ(str(o.at("paymentUrl")), "http://127.0.0.1:8080/pay/" + id);
    EXPECT_EQ(str(o.at("expiresAt")), format_rfc3339_ms(clock_.now_ms() + 30 * 60 * 1000));

    auto again = call("POST", "/api/v1/orders", R"({"orderId":"SHOP-123","amount":"5"})");
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(str(data(again).at("id")), id);
    EXPECT_EQ(orders(), 1);

    auto got = call("GET", "/api/v1/orders/" + id);
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(str(data(got).at("id")), id);
    auto list = call("GET", "/api/v1/orders?orderId=SHOP-123&status=waiting");
    EXPECT_EQ(data(list).at("orders").as_array().size(), 1u);
    EXPECT_EQ(data(list).at("pagination").as_object().at("total").as_int64(), 1);
    expect_error(call("GET", "/api/v1/orders/ord_nope"), 404, "NotFound");
    expect_error(call("GET", "/api/v1/orders?status=done"), 400, "ValidationError", "status");
    expect_error(call("GET", "/api/v1/orders", "", ""), 401, "Unauthorized");
}

TEST_F(ApiOrders, BadRequestsChangeNothing) {
    const std::string before = snapshot(db());
    const char* bodies[] = {
        R"({"amount":"1"})",
        R"({"orderId":"A","amount":70})",
        R"({"orderId":"A","amount":"-1"})",
        R"({"orderId":"A","amount":"1","fiat":"USD"})",
        R"({"orderId":"A","amount":"1","pay":"doge.ethereum"})",
        R"({"orderId":"A","amount":"1","expiresIn":0})",
        R"({"orderId":"A","amount":"1","expiresIn":86401})",
        R"x({"orderId":"A","amount":"1","redirectUrl":"javascript:alert(1)"})x",
        R"({"orderId":"A","amount":"1","metadata":[1]})",
        R"({"orderId":"","amount":"1"})",
        "[1]",
        "{",
    };
    for (const char* b : bodies) {
        auto r = call("POST", "/api/v1/orders", b);
        EXPECT_EQ(r.status, 400) << b << " -> " << r.body;
    }
    EXPECT_EQ(orders(), 0);
    EXPECT_EQ(snapshot(db()), before);
}

TEST_F(ApiOrders, PoolExhaustedIsInsufficientAddresses) {
    for (int i = 0; i < 4; ++i)
        ASSERT_EQ(call("POST", "/api/v1/orders", R"({"orderId":"P)" + std::to_string(i) + R"(","amount":"1"})").status, 201);
    expect_error(call("POST", "/api/v1/orders", R"({"orderId":"P9","amount":"1"})"), 409, "InsufficientAddresses");
}

TEST_F(ApiOrders, PaymentLinksLifecycleAndCheckout) {
    auto r = call("POST", "/api/v1/payment-links",
                  R"({"title":"Tip jar","amount":"5","currencies":[{"currency":"usdt","chainId":"ethereum"}],)"
                  R"("inventoryTotal":2})");
    ASSERT_EQ(r.status, 201) << r.body;
    auto l = data(r);
    EXPECT_EQ(l.at("status"), "draft");
    EXPECT_EQ(l.at("currencies").as_array()[0].as_object().at("currency"), "USDT");
    const std::string id(l.at("id").as_string()), slug(l.at("slug").as_string());
    EXPECT_EQ(str(l.at("checkoutUrl")), "http://127.0.0.1:8080/checkout/" + slug);

    EXPECT_EQ(call("GET", "/checkout/" + slug, "", "").status, 404);  // a draft is not there yet
    EXPECT_EQ(data(call("POST", "/api/v1/payment-links/" + id + "/publish")).at("status"), "active");
    // A GET shows the form and creates nothing, whatever it asks for.
    const std::string before = snapshot(db());
    for (int i = 0; i < 30; ++i) {
        auto page = visit("GET", "/checkout/" + slug + (i % 2 ? "?pay=usdt.ethereum" : ""));
        ASSERT_EQ(page.status, 200) << page.body;
        EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos);
        EXPECT_TRUE(header(page, "Set-Cookie").empty());
    }
    EXPECT_EQ(orders(), 0);
    EXPECT_EQ(snapshot(db()), before);
    // The form's POST makes the visitor's order, sets its cookie and sends it on (303).
    auto made = visit("POST", "/checkout/" + slug, "pay=usdt.ethereum");
    ASSERT_EQ(made.status, 303) << made.body;
    const std::string first = header(made, "Location");
    EXPECT_EQ(first.rfind("/pay/ord_", 0), 0u) << first;
    const std::string cookie = cookie_of(made);
    EXPECT_EQ(cookie.rfind("depositd_visitor=", 0), 0u) << header(made, "Set-Cookie");
    EXPECT_NE(header(made, "Set-Cookie").find("HttpOnly"), std::string::npos);
    // The same visitor posting again, or opening the link again, gets that order back.
    EXPECT_EQ(header(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "198.51.100.7", cookie), "Location"), first);
    auto again = visit("GET", "/checkout/" + slug, "", "198.51.100.7", "theme=dark; " + cookie);
    EXPECT_EQ(again.status, 303);
    EXPECT_EQ(header(again, "Location"), first);
    EXPECT_EQ(orders(), 1);
    // Another visitor gets its own.
    auto second = header(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "203.0.113.9"), "Location");
    EXPECT_NE(first, second);
    EXPECT_EQ(orders(), 2);
    // inventoryTotal 2 with 2 waiting: sold out for a third visitor; the first still gets its order.
    auto third = visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "192.0.2.1");
    EXPECT_EQ(third.status, 410) << third.body;
    EXPECT_NE(third.body.find("sold out"), std::string::npos);
    EXPECT_EQ(visit("GET", "/checkout/" + slug, "", "192.0.2.1").status, 410);
    EXPECT_EQ(header(visit("GET", "/checkout/" + slug, "", "198.51.100.7", cookie), "Location"), first);
    EXPECT_EQ(orders(), 2);
    auto o = data(call("GET", "/api/v1/orders/" + first.substr(5)));
    EXPECT_EQ(o.at("payAmount"), "5");
    EXPECT_EQ(str(o.at("metadata").as_object().at("paymentLink")), id);
    EXPECT_EQ(data(call("GET", "/api/v1/payment-links/" + id)).at("ordersCompleted").as_int64(), 0);
    EXPECT_EQ(data(call("GET", "/api/v1/payment-links")).at("paymentLinks").as_array().size(), 1u);

    EXPECT_EQ(data(call("POST", "/api/v1/payment-links/" + id + "/archive")).at("status"), "archived");
    auto gone = call("GET", "/checkout/" + slug, "", "");
    EXPECT_EQ(gone.status, 410);
    EXPECT_EQ(visit("GET", "/checkout/" + slug, "", "198.51.100.7", cookie).status, 410);
    EXPECT_NE(gone.body.find("no longer available"), std::string::npos);
    expect_error(call("POST", "/api/v1/payment-links/" + id + "/publish"), 409, "Conflict");
    EXPECT_EQ(call("GET", "/checkout/nope", "", "").status, 404);
}

TEST_F(ApiOrders, CheckoutFormForChoicesAndPayerAmounts) {
    auto r = call("POST", "/api/v1/payment-links",
                  R"({"title":"Donate","amount":"0","currencies":[{"currency":"USDT","chainId":"ethereum"},)"
                  R"({"currency":"ETH","chainId":"ethereum"}]})");
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string id(data(r).at("id").as_string()), slug(data(r).at("slug").as_string());
    call("POST", "/api/v1/payment-links/" + id + "/publish");
    auto form = call("GET", "/checkout/" + slug, "", "");
    EXPECT_EQ(form.status, 200);
    EXPECT_NE(form.body.find("name=\"pay\" value=\"usdt.ethereum\""), std::string::npos);
    EXPECT_NE(form.body.find("name=\"amount\""), std::string::npos);
    EXPECT_EQ(orders(), 0);
    auto bad = call("POST", "/checkout/" + slug, "pay=usdt.ethereum&amount=abc", "", "",
                    "application/x-www-form-urlencoded");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum").status, 400);  // no amount
    EXPECT_EQ(visit("GET", "/checkout/" + slug + "?pay=eth.ethereum&amount=0.25").status, 200);  // prefilled only
    EXPECT_EQ(orders(), 0);
    auto made = call("POST", "/checkout/" + slug, "pay=eth.ethereum&amount=0.25", "", "",
                     "application/x-www-form-urlencoded");
    ASSERT_EQ(made.status, 303) << made.body;
    auto o = data(call("GET", "/api/v1/orders/" + header(made, "Location").substr(5)));
    EXPECT_EQ(o.at("currency"), "ETH");
    EXPECT_EQ(o.at("payAmount"), "0.25");
}

// One client address holds at most [orders].open_per_client open checkout
// orders (IPv6: per /56; behind [api].trusted_proxies the forwarded
// address), and checkout orders never take more than half of the free
// addresses: API orders and bindings always find one.
TEST_F(ApiOrders, CheckoutCapsPerClientAndLeavesAddressesForTheApi) {
    add_addresses(db(), "evm", 12, 4);  // 16 in all
    const std::string slug =
        make_link(R"({"title":"Sticker","amount":"1","currencies":[{"currency":"USDT","chainId":"ethereum"}]})");
    int made = 0, refused = 0;
    for (int i = 0; i < 10; ++i) {
        auto r = visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "198.51.100.7");
        if (r.status == 303) ++made;
        if (r.status == 429) {
            ++refused;
            EXPECT_EQ(header(r, "Retry-After"), "60");
        }
    }
    EXPECT_EQ(made, 3);
    EXPECT_EQ(refused, 7);
    // The same /56 is the same client; the next /56 is another.
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "2001:db8:1:100::1").status, 303);
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "2001:db8:1:1ff::2").status, 303);
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "2001:db8:1:1aa:5::3").status, 303);
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "2001:db8:1:180::9").status, 429);
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "2001:db8:1:200::1").status, 303);
    EXPECT_EQ(orders(), 7);
    // X-Forwarded-For is a claim of the client unless it came through a trusted proxy.
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "198.51.100.7", "", "192.0.2.50").status, 429);
    // Checkout orders hold 7 of 16; the 8th would leave fewer free than they hold.
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "192.0.2.60").status, 303);
    auto busy = visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "192.0.2.61");
    EXPECT_EQ(busy.status, 503) << busy.body;
    EXPECT_EQ(orders(), 8);
    // API orders and bindings are not starved by checkout traffic.
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(call("POST", "/api/v1/orders", R"({"orderId":"API-)" + std::to_string(i) + R"(","amount":"1"})").status,
                  201);
    EXPECT_EQ(call("POST", "/api/v1/deposits/bind", R"({"depositReference":"player_1","protocol":"evm"})").status, 201);
}

TEST_F(ApiOrders, CheckoutBehindATrustedProxyCountsTheForwardedClient) {
    add_addresses(db(), "evm", 12, 4);
    config_.api.trusted_proxies = {"127.0.0.1"};
    const std::string slug =
        make_link(R"({"title":"Sticker","amount":"1","currencies":[{"currency":"USDT","chainId":"ethereum"}]})");
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "127.0.0.1", "", "6.6.6.6, 203.0.113.5").status,
                  303);
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "127.0.0.1", "", "203.0.113.5").status, 429);
    EXPECT_EQ(visit("POST", "/checkout/" + slug, "pay=usdt.ethereum", "127.0.0.1", "", "203.0.113.6").status, 303);
    EXPECT_EQ(scalar(db(), "SELECT count(*) FROM orders WHERE client = '203.0.113.5'"), 3);
}

TEST_F(ApiOrders, PaymentPageHtmlStatusAndLanguage) {
    auto r = call("POST", "/api/v1/orders", R"({"orderId":"PAGE-1","amount":"12.5"})");
    ASSERT_EQ(r.status, 201);
    auto o = data(r);
    const std::string id(o.at("id").as_string()), address(o.at("address").as_string());

    auto page = call("GET", "/pay/" + id, "", "", "en-US,en;q=0.9");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
    EXPECT_NE(page.body.find(address), std::string::npos);
    EXPECT_NE(page.body.find(">12.5<"), std::string::npos);
    EXPECT_NE(page.body.find("<svg"), std::string::npos);
    EXPECT_NE(page.body.find("Waiting for your payment"), std::string::npos);
    EXPECT_NE(page.body.find("ethereum:0xdAC17F958D2ee523a2206206994597C13D831ec7@1/transfer?address=" + address +
                             "&amp;uint256=12500000"),
              std::string::npos);
    // The CSP admits exactly the inline style and script of the page.
    const std::string csp = header(page, "Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
    EXPECT_NE(csp.find("'sha256-" + sha256_b64(between(page.body, "<script>", "</script>")) + "'"), std::string::npos);
    EXPECT_NE(csp.find("'sha256-" + sha256_b64(between(page.body, "<style>", "</style>")) + "'"), std::string::npos);
    EXPECT_EQ(page.body.find("style=\""), std::string::npos);
    EXPECT_EQ(page.body.find("http://"), page.body.find("http://www.w3.org/2000/svg"));  // no external asset

    auto zh = call("GET", "/pay/" + id, "", "", "zh-CN,zh;q=0.9,en;q=0.8");
    EXPECT_NE(zh.body.find("收款地址"), std::string::npos);
    EXPECT_NE(zh.body.find("lang=\"zh-CN\""), std::string::npos);
    EXPECT_EQ(header(zh, "Content-Language"), "zh-CN");
    EXPECT_NE(call("GET", "/pay/" + id + "?lang=zh", "", "").body.find("等待支付"), std::string::npos);

    auto st = call("GET", "/pay/" + id + "/status", "", "");
    ASSERT_EQ(st.status, 200);
    auto s = parse(st.body).as_object();
    EXPECT_EQ(s.at("status"), "waiting");
    EXPECT_EQ(s.at("payAmount"), "12.5");
    EXPECT_EQ(s.at("paidAmount"), "0");
    EXPECT_TRUE(s.at("redirectUrl").is_null());
    EXPECT_EQ(call("GET", "/pay/ord_unknown", "", "").status, 404);
    EXPECT_EQ(call("GET", "/pay/%3Cscript%3E", "", "").status, 404);
    EXPECT_EQ(call("POST", "/pay/" + id, "x", "").status, 405);
}

TEST_F(ApiOrders, MerchantEndpointsAre404WithoutMerchantConfig) {
    EXPECT_EQ(call("GET", "/submit.php?pid=1", "", "").status, 404);
    EXPECT_EQ(call("POST", "/mapi.php", "pid=1", "").status, 404);
    EXPECT_EQ(call("GET", "/api.php?act=order", "", "").status, 404);
    EXPECT_EQ(call("POST", "/api/v1/order/create-transaction", "{}", "").status, 404);
}

TEST_F(ApiOrders, EpaySubmitChecksTheSignBeforeAnything) {
    config_.merchant.enabled = true;
    config_.merchant.pid = 1001;
    config_.merchant.key = "merchant-key-0123456789abcdef0123";
    orders::Params p = {{"pid", "1001"}, {"type", "usdt.ethereum"}, {"out_trade_no", "E-1"},
                        {"notify_url", "https://shop.example/n"}, {"return_url", "https://shop.example/r"},
                        {"name", "Book"}, {"money", "70.00"}};
    const std::string sign = orders::epay_sign(p, config_.merchant.key);
    const std::string base = "pid=1001&type=usdt.ethereum&out_trade_no=E-1&notify_url=https%3A%2F%2Fshop.example%2Fn&"
                             "return_url=https%3A%2F%2Fshop.example%2Fr&name=Book&money=70.00&sign_type=MD5";
    const std::string before = snapshot(db());
    auto bad = call("GET", "/submit.php?" + base + "&sign=" + std::string(32, '0'), "", "");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("sign is wrong"), std::string::npos);
    EXPECT_EQ(snapshot(db()), before);
    EXPECT_EQ(orders(), 0);
    auto good = call("GET", "/submit.php?" + base + "&sign=" + sign, "", "");
    ASSERT_EQ(good.status, 302) << good.body;
    EXPECT_EQ(header(good, "Location").rfind("/pay/ord_", 0), 0u);
    auto mapi = call("POST", "/mapi.php", base + "&sign=" + sign, "", "", "application/x-www-form-urlencoded");
    auto m = parse(mapi.body).as_object();
    EXPECT_EQ(m.at("code").as_int64(), 1);
    EXPECT_EQ("/pay/" + std::string(m.at("trade_no").as_string()), header(good, "Location"));
    EXPECT_EQ(orders(), 1);
    auto q = parse(call("GET", "/api.php?act=order&pid=1001&key=merchant-key-0123456789abcdef0123&out_trade_no=E-1", "", "").body)
                 .as_object();
    EXPECT_EQ(q.at("code").as_int64(), 1);
    EXPECT_EQ(q.at("status").as_int64(), 0);
    EXPECT_EQ(q.at("money"), "70.00");

    auto eu = call("POST", "/api/v1/order/create-transaction",
                   R"({"order_id":"X","amount":7,"notify_url":"https://shop.example/n","signature":"00"})", "");
    EXPECT_EQ(eu.status, 200);
    EXPECT_EQ(parse(eu.body).as_object().at("status_code").as_int64(), 401);
    EXPECT_EQ(orders(), 1);
}

// EPay's parameters are a closed list: an unknown or repeated one, or a
// value that carries "&<name>=" (the signature joins values unescaped), is
// refused with a 400 naming it, even under a valid signature, and creates
// nothing. A notify_url on a private address is refused too.
TEST_F(ApiOrders, EpaySmuggledParametersAndPrivateNotifyUrlsCreateNothing) {
    config_.merchant.enabled = true;
    config_.merchant.pid = 1001;
    config_.merchant.key = "merchant-key-0123456789abcdef0123";
    auto signed_query = [&](orders::Params p) {
        p.emplace_back("sign", orders::epay_sign(p, config_.merchant.key));
        p.emplace_back("sign_type", "MD5");
        std::string q;
        for (const auto& [k, v] : p) {
            if (!q.empty()) q += "&";
            q += k + "=" + orders::url_encode(v);
        }
        return q;
    };
    const orders::Params base = {{"pid", "1001"}, {"type", "usdt.ethereum"}, {"out_trade_no", "E-1"},
                                 {"notify_url", "https://shop.example/n"}, {"return_url", "https://shop.example/r"},
                                 {"name", "Book"}, {"money", "70.00"}};
    auto with = [&](const std::string& k, const std::string& v) {
        orders::Params p = base;
        bool replaced = false;
        for (auto& kv : p)
            if (kv.first == k) kv.second = v, replaced = true;
        if (!replaced) p.emplace_back(k, v);
        return p;
    };
    const std::string before = snapshot(db());
    struct Case {
        std::string query, word;
    };
    const Case cases[] = {
        {signed_query(with("name", "Book&out_trade_no=VIP-9")), "parameter name carries &quot;&amp;out_trade_no="},
        {signed_query(with("param", "x&money=0.01")), "parameter param carries &quot;&amp;money="},
        {signed_query(with("foo", "bar")), "foo"},
        {signed_query(with("notify_url", "http://127.0.0.1:9/n")), "allow_private_notify"},
        {signed_query(with("notify_url", "http://169.254.169.254/latest")), "metadata"},
        {signed_query(with("notify_url", "http://localhost/n")), "loopback"},
        {signed_query(base) + "&out_trade_no=E-2", "twice"},
    };
    for (const auto& c : cases) {
        auto r = call("GET", "/submit.php?" + c.query, "", "");
        EXPECT_EQ(r.status, 400) << c.query << " -> " << r.body;
        EXPECT_NE(r.body.find(c.word), std::string::npos) << c.query << " -> " << r.body;
        auto m = parse(call("POST", "/mapi.php", c.query, "", "", "application/x-www-form-urlencoded").body).as_object();
        EXPECT_EQ(m.at("code").as_int64(), -1) << c.query;
        EXPECT_FALSE(std::string(m.at("msg").as_string()).empty());
    }
    EXPECT_EQ(orders(), 0);
    EXPECT_EQ(snapshot(db()), before);
    // sitename, clientip and device are EPay's own: accepted.
    auto ok = call("GET", "/submit.php?" + signed_query(with("sitename", "Shop")) + "&clientip=1.2.3.4", "", "");
    EXPECT_EQ(ok.status, 400);  // clientip was not signed
    ok = call("GET", "/submit.php?" + signed_query([&] {
                  auto p = with("sitename", "Shop");
                  p.emplace_back("clientip", "1.2.3.4");
                  p.emplace_back("device", "pc");
                  return p;
              }()), "", "");
    EXPECT_EQ(ok.status, 302) << ok.body;
    // With allow_private_notify a shop on the LAN may be notified.
    config_.merchant.allow_private_notify = true;
    EXPECT_EQ(call("GET", "/submit.php?" + signed_query(with("notify_url", "http://10.0.0.5/n")), "", "").status, 302);
    EXPECT_EQ(orders(), 1);  // E-1 again: the same order
}

}  // namespace
