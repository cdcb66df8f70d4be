// The console (/admin) and the manual-action API through api::Handler::handle
// (no socket): login with argon2id and TOTP, sessions (fixation, logout,
// timeouts), CSRF, rate limits, the CSP of the pages, that GETs change
// nothing, and the audit log of mark-paid, resend and link actions.
#include <gtest/gtest.h>

#include <sodium.h>

#include <cstring>

#include "api/admin/auth.hpp"
#include "api/admin/console.hpp"
#include "api/handler.hpp"
#include "api_test_util.hpp"
#include "codec/otp.hpp"
#include "codec/password.hpp"
#include "core/text.hpp"
#include "orders/orders.hpp"

using namespace depositd;
using namespace depositd::api;
using namespace depositd::api::testing;

namespace {

const char* kPassword = "correct horse battery staple";
const char* kTotpSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";  // base32 of "12345678901234567890"

// An argon2id hash with libsodium's smallest limits: verified the same way
// as the daemon's (codec::verify_password), in microseconds instead of the
// tens of milliseconds of depositctl's interactive limits.
const std::string& password_hash() {
    static const std::string h = [] {
        char out[crypto_pwhash_STRBYTES];
        EXPECT_EQ(sodium_init() >= 0, true);
        EXPECT_EQ(crypto_pwhash_str_alg(out, kPassword, std::strlen(kPassword), crypto_pwhash_OPSLIMIT_MIN,
                                        crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13),
                  0);
        return std::string(out);
    }();
    return h;
}

std::vector<std::string> set_cookies(const Response& r) {
    std::vector<std::string> out;
    for (const auto& [k, v] : r.headers)
        if (k == "Set-Cookie") out.push_back(v);
    return out;
}

// name=value of a Set-Cookie answer, "" when not set.
std::string cookie_set(const Response& r, const std::string& name) {
    for (const auto& c : set_cookies(r))
        if (c.rfind(name + "=", 0) == 0) return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
    return {};
}

std::string form_escape(const std::string& s) { return percent_encode(s); }

// A browser's cookie jar, just enough for one host.
struct Browser {
    std::map<std::string, std::string> jar;
    std::string lang = "en-US,en;q=0.9";
    std::string peer = "203.0.113.7";  // the TCP peer
    std::string forwarded_for;         // X-Forwarded-For, when it comes through a proxy
    std::string cookie_header() const {
        std::string h;
        for (const auto& [k, v] : jar) h += (h.empty() ? "" : "; ") + k + "=" + v;
        return h;
    }
    void take(const Response& r) {
        for (const auto& c : set_cookies(r)) {
            const auto eq = c.find('=');
            const auto semi = c.find(';');
            const std::string name = c.substr(0, eq), value = c.substr(eq + 1, semi - eq - 1);
            if (c.find("Max-Age=0") != std::string::npos) jar.erase(name);
            else jar[name] = value;
        }
    }
};

class ApiAdmin : public ::testing::Test {
protected:
    ApiAdmin() : config_(make_config()), clock_(1'767'225'600'000) {
        auto& eth = config_.chains[0];
        eth.native = {"ETH", "", 18};
        eth.tokens = {{"USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec7", 6}};
        config_.api.host = "127.0.0.1";
        config_.api.listen = "127.0.0.1:8080";
        config_.api.key_labels = {"shop", "key#2"};
        config_.orders.default_pay = "usdt.ethereum";
        config_.admin.enabled = true;
        config_.admin.users = {{"alice", password_hash(), "", "t:1"}, {"bob", password_hash(), kTotpSecret, "t:2"}};
        add_addresses(tmp_.db(), "evm", 4);
    }

    Handler& handler() {
        if (!handler_) handler_ = std::make_unique<Handler>(tmp_.store(), config_, clock_);
        return *handler_;
    }
    store::Database& db() { return tmp_.db(); }

    Response send(Browser& b, const std::string& method, const std::string& target, const std::string& form = "",
                  const std::string& fetch_site = "same-origin") {
        Request r;
        r.method = method;
        r.target = target;
        r.cookie = b.cookie_header();
        r.accept_language = b.lang;
        r.peer = b.peer;
        r.forwarded_for = b.forwarded_for;
        r.sec_fetch_site = fetch_site;
        if (method == "POST") {
            r.content_type = "application/x-www-form-urlencoded";
            r.body = form;
        }
        Response res = handler().handle(r);
        b.take(res);
        return res;
    }
    Response api(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::string& key = kKey) {
        Request r;
        r.method = method;
        r.target = target;
        r.authorization = "Bearer " + key;
        r.content_type = body.empty() ? "" : "application/json";
        r.body = body;
        r.peer = "198.51.100.1";
        return handler().handle(r);
    }
    // The CSRF token of the page's forms.
    static std::string csrf_of(const Response& page) { return between(page.body, "name=\"csrf\" value=\"", "\""); }

    Response login(Browser& b, const std::string& user, const std::string& password, const std::string& code = "") {
        auto page = send(b, "GET", "/admin/login");
        EXPECT_EQ(page.status, 200);
        return send(b, "POST", "/admin/login",
                    "csrf=" + form_escape(csrf_of(page)) + "&user=" + form_escape(user) + "&password=" +
                        form_escape(password) + "&code=" + code + "&next=%2Fadmin");
    }
    Browser logged_in(const std::string& user = "alice") {
        Browser b;
        auto r = login(b, user, kPassword);
        EXPECT_EQ(r.status, 303) << r.body;
        EXPECT_FALSE(b.jar[admin::kSessionCookie].empty());
        return b;
    }
    std::string csrf(Browser& b) { return csrf_of(send(b, "GET", "/admin")); }
    std::int64_t audit_count(const std::string& action) {
        return scalar(db(), "SELECT count(*) FROM audit_log WHERE action = '" + action + "'");
    }
    std::string make_order() {
        auto r = api("POST", "/api/v1/orders", R"({"orderId":"SHOP-9","amount":"10"})");
        EXPECT_EQ(r.status, 201) << r.body;
        return std::string(parse(r.body).as_object().at("data").as_object().at("id").as_string());
    }

    TempDb tmp_;
    config::Config config_;
    ManualClock clock_;
    std::unique_ptr<Handler> handler_;
};

}  // namespace

TEST_F(ApiAdmin, AbsentWithoutAdminSection) {
    config_.admin = {};
    Browser b;
    EXPECT_EQ(send(b, "GET", "/admin").status, 404);
    EXPECT_EQ(send(b, "GET", "/admin/login").status, 404);
}

TEST_F(ApiAdmin, PagesNeedALoginAndCarryAStrictCspWithTheirHashes) {
    Browser b;
    auto r = send(b, "GET", "/admin/deposits?q=x");
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(header(r, "Location"), "/admin/login?next=%2Fadmin%2Fdeposits%3Fq%3Dx");
    auto page = send(b, "GET", "/admin/login");
    ASSERT_EQ(page.status, 200);
    const std::string csp = header(page, "Content-Security-Policy");
    EXPECT_EQ(csp.rfind("default-src 'none'; script-src 'sha256-", 0), 0u) << csp;
    const std::string style = between(page.body, "<style>", "</style>");
    const std::string script = between(page.body, "<script>", "</script>");
    ASSERT_FALSE(style.empty());
    ASSERT_FALSE(script.empty());
    EXPECT_NE(csp.find("script-src 'sha256-" + sha256_b64(script) + "'"), std::string::npos);
    EXPECT_NE(csp.find("style-src 'sha256-" + sha256_b64(style) + "'"), std::string::npos);
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_NE(csp.find("form-action 'self'"), std::string::npos);
    EXPECT_EQ(header(page, "X-Frame-Options"), "DENY");
    EXPECT_EQ(page.body.find("style=\""), std::string::npos);  // no inline style attribute
    // Only one script and one stylesheet, both inline.
    EXPECT_EQ(page.body.find("<script", page.body.find("<script") + 1), std::string::npos);
    EXPECT_EQ(page.body.find("src="), std::string::npos);
    // The login form's cookie: HttpOnly, SameSite=Strict, on /admin; no Secure on 127.0.0.1.
    const auto cookies = set_cookies(page);
    ASSERT_EQ(cookies.size(), 1u);
    EXPECT_NE(cookies[0].find("; Path=/admin; HttpOnly; SameSite=Strict"), std::string::npos) << cookies[0];
    EXPECT_EQ(cookies[0].find("Secure"), std::string::npos) << cookies[0];
}

TEST_F(ApiAdmin, LoginWithPasswordMakesASessionAndLogsIt) {
    Browser b;
    auto wrong = login(b, "alice", "wrong password");
    EXPECT_EQ(wrong.status, 401);
    EXPECT_NE(wrong.body.find("Wrong name, password or code."), std::string::npos);
    EXPECT_TRUE(b.jar[admin::kSessionCookie].empty());
    auto nobody = login(b, "mallory", kPassword);
    EXPECT_EQ(nobody.status, 401);

    auto ok = login(b, "alice", kPassword);
    ASSERT_EQ(ok.status, 303) << ok.body;
    EXPECT_EQ(header(ok, "Location"), "/admin");
    const std::string session = cookie_set(ok, admin::kSessionCookie);
    EXPECT_EQ(session.size(), 43u);
    bool http_only = false;
    for (const auto& c : set_cookies(ok))
        if (c.rfind(std::string(admin::kSessionCookie) + "=", 0) == 0)
            http_only = c.find("HttpOnly") != std::string::npos && c.find("SameSite=Strict") != std::string::npos;
    EXPECT_TRUE(http_only);
    auto home = send(b, "GET", "/admin");
    EXPECT_EQ(home.status, 200);
    EXPECT_NE(home.body.find("<span id=\"me\">alice</span>"), std::string::npos);
    EXPECT_EQ(audit_count("console.login"), 1);
    EXPECT_EQ(text_scalar(db(), "SELECT actor FROM audit_log WHERE action = 'console.login'"), "alice");
    EXPECT_EQ(text_scalar(db(), "SELECT client FROM audit_log WHERE action = 'console.login'"), "203.0.113.7");
}

TEST_F(ApiAdmin, LoginWithoutTheFormTokenIsRefused) {
    Browser b;
    send(b, "GET", "/admin/login");
    auto r = send(b, "POST", "/admin/login", std::string("user=alice&password=") + form_escape(kPassword));
    EXPECT_EQ(r.status, 403);
    EXPECT_TRUE(b.jar[admin::kSessionCookie].empty());
    // A token of another browser (another pre-login cookie) does not fit.
    Browser other;
    auto page = send(other, "GET", "/admin/login");
    auto r2 = send(b, "POST", "/admin/login",
                   "csrf=" + form_escape(csrf_of(page)) + "&user=alice&password=" + form_escape(kPassword));
    EXPECT_EQ(r2.status, 403);
}

TEST_F(ApiAdmin, TotpIsRequiredCheckedAndNeverAcceptedTwice) {
    const auto key = *codec::base32_decode(kTotpSecret);
    Browser b;
    EXPECT_EQ(login(b, "bob", kPassword).status, 401);  // no code
    EXPECT_EQ(login(b, "bob", kPassword, "000000").status, 401);
    const std::string code = codec::totp(key, clock_.now_ms() / 1000);
    auto ok = login(b, "bob", kPassword, code);
    ASSERT_EQ(ok.status, 303) << ok.body;
    Browser again;
    EXPECT_EQ(login(again, "bob", kPassword, code).status, 401);  // replayed
    // The previous step's code (30 s ago) is within the window, but older than the one used.
    EXPECT_EQ(login(again, "bob", kPassword, codec::totp(key, clock_.now_ms() / 1000 - 30)).status, 401);
    clock_.advance(std::chrono::seconds(30));
    EXPECT_EQ(login(again, "bob", kPassword, codec::totp(key, clock_.now_ms() / 1000)).status, 303);
}

TEST_F(ApiAdmin, SessionFixationIsImpossible) {
    // An attacker plants a session id of their choosing in the victim's browser.
    Browser victim;
    victim.jar[admin::kSessionCookie] = "attacker-chosen-session-id-0123456789abcdefghij";
    EXPECT_EQ(send(victim, "GET", "/admin").status, 303);  // unknown: not a session
    ASSERT_EQ(login(victim, "alice", kPassword).status, 303);
    const std::string minted = victim.jar[admin::kSessionCookie];
    EXPECT_NE(minted, "attacker-chosen-session-id-0123456789abcdefghij");
    Browser attacker;
    attacker.jar[admin::kSessionCookie] = "attacker-chosen-session-id-0123456789abcdefghij";
    EXPECT_EQ(send(attacker, "GET", "/admin").status, 303);
    // Logging in again replaces the session: the old id is dead.
    ASSERT_EQ(login(victim, "alice", kPassword).status, 303);
    EXPECT_NE(victim.jar[admin::kSessionCookie], minted);
    Browser stale;
    stale.jar[admin::kSessionCookie] = minted;
    EXPECT_EQ(send(stale, "GET", "/admin").status, 303);
}

TEST_F(ApiAdmin, LogoutEndsTheSessionOnTheServer) {
    Browser b = logged_in();
    const std::string token = csrf(b);
    const std::string session = b.jar[admin::kSessionCookie];
    auto out = send(b, "POST", "/admin/logout", "csrf=" + form_escape(token));
    EXPECT_EQ(out.status, 303);
    EXPECT_EQ(header(out, "Location"), "/admin/login?done=logout");
    EXPECT_TRUE(b.jar[admin::kSessionCookie].empty());
    EXPECT_EQ(audit_count("console.logout"), 1);
    // The same cookie, replayed: refused, for pages and for actions.
    Browser replay;
    replay.jar[admin::kSessionCookie] = session;
    EXPECT_EQ(send(replay, "GET", "/admin").status, 303);
    auto post = send(replay, "POST", "/admin/logout", "csrf=" + form_escape(token));
    EXPECT_EQ(post.status, 403);
}

TEST_F(ApiAdmin, IdleAndAbsoluteTimeouts) {
    config_.admin.session_idle = std::chrono::minutes(30);
    config_.admin.session_max = std::chrono::hours(2);
    Browser b = logged_in();
    clock_.advance(std::chrono::minutes(29));
    EXPECT_EQ(send(b, "GET", "/admin").status, 200);
    clock_.advance(std::chrono::minutes(29));
    EXPECT_EQ(send(b, "GET", "/admin").status, 200);  // used: the idle clock restarted
    clock_.advance(std::chrono::minutes(31));
    EXPECT_EQ(send(b, "GET", "/admin").status, 303);  // idle too long
    Browser c = logged_in();
    for (int i = 0; i < 4; ++i) {  // used every 25 min: never idle
        clock_.advance(std::chrono::minutes(25));
        EXPECT_EQ(send(c, "GET", "/admin").status, 200) << i;
    }
    clock_.advance(std::chrono::minutes(25));  // 125 min since login: past session_max
    EXPECT_EQ(send(c, "GET", "/admin").status, 303);
}

TEST_F(ApiAdmin, CsrfTokenIsRequiredOnEveryPost) {
    const std::string order = make_order();
    Browser b = logged_in();
    const std::string token = csrf(b);
    const std::string before = snapshot(db());
    const std::int64_t audits = scalar(db(), "SELECT count(*) FROM audit_log");
    // Missing, wrong, and a right token from another site's form.
    EXPECT_EQ(send(b, "POST", "/admin/orders/" + order + "/mark-paid", "reason=x").status, 403);
    EXPECT_EQ(send(b, "POST", "/admin/orders/" + order + "/mark-paid", "reason=x&csrf=nope").status, 403);
    EXPECT_EQ(send(b, "POST", "/admin/orders/" + order + "/mark-paid", "reason=x&csrf=" + form_escape(token),
                   "cross-site")
                  .status,
              403);
    // Another session's token does not fit this session.
    Browser other = logged_in();
    EXPECT_EQ(send(b, "POST", "/admin/orders/" + order + "/mark-paid", "reason=x&csrf=" + form_escape(csrf(other)))
                  .status,
              403);
    EXPECT_EQ(snapshot(db()), before);
    EXPECT_EQ(scalar(db(), "SELECT count(*) FROM audit_log"), audits + 1);  // other's login only
    EXPECT_EQ(text_scalar(db(), "SELECT status FROM orders"), "waiting");
    // With its token: done.
    auto done = send(b, "POST", "/admin/orders/" + order + "/mark-paid",
                     "reason=paid+by+bank+transfer&csrf=" + form_escape(token));
    EXPECT_EQ(done.status, 303) << done.body;
    EXPECT_EQ(header(done, "Location"), "/admin/orders/" + order + "?done=mark_paid");
    EXPECT_EQ(text_scalar(db(), "SELECT status FROM orders"), "completed");
}

TEST_F(ApiAdmin, LoginsAreRateLimitedPerUserAndPerClient) {
    handler();  // the console exists
    Browser b;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(login(b, "alice", "wrong").status, 401) << i;
    // The right password now: refused without being checked.
    auto limited = login(b, "alice", kPassword);
    EXPECT_EQ(limited.status, 429);
    EXPECT_FALSE(header(limited, "Retry-After").empty());
    EXPECT_TRUE(b.jar[admin::kSessionCookie].empty());
    // Another user from the same client still may (the client has 5 of 10).
    EXPECT_EQ(login(b, "bob", "wrong").status, 401);
    // After the window, alice may again.
    clock_.advance(std::chrono::minutes(16));
    EXPECT_EQ(login(b, "alice", kPassword).status, 303);

    // Per client: ten failures over any names block the client.
    Browser c;
    for (int i = 0; i < 10; ++i) login(c, "user" + std::to_string(i), "wrong");
    EXPECT_EQ(login(c, "alice", kPassword).status, 429);
}

// Behind [api].trusted_proxies the client is the address X-Forwarded-For
// names (as for the public pages' caps): one blocked buyer behind the proxy
// does not lock every operator out, and the audit log names the real client.
// From anyone else the header is ignored: it cannot dodge the limit.
TEST_F(ApiAdmin, LoginLimitsCountTheForwardedClientOnlyBehindATrustedProxy) {
    config_.api.trusted_proxies = {"127.0.0.1"};
    handler();
    Browser a;
    a.peer = "127.0.0.1";
    a.forwarded_for = "198.51.100.20";
    for (int i = 0; i < 10; ++i) login(a, "user" + std::to_string(i), "wrong");
    EXPECT_EQ(login(a, "alice", kPassword).status, 429);
    Browser b;
    b.peer = "127.0.0.1";
    b.forwarded_for = "198.51.100.21";
    EXPECT_EQ(login(b, "alice", kPassword).status, 303);
    EXPECT_EQ(text_scalar(db(), "SELECT client FROM audit_log WHERE action = 'console.login' ORDER BY seq DESC LIMIT 1"),
              "198.51.100.21");

    Browser c;
    c.peer = "203.0.113.50";  // not a proxy: its X-Forwarded-For means nothing
    for (int i = 0; i < 10; ++i) {
        c.forwarded_for = "192.0.2." + std::to_string(i);
        login(c, "user" + std::to_string(i), "wrong");
    }
    c.forwarded_for = "192.0.2.99";
    EXPECT_EQ(login(c, "alice", kPassword).status, 429);
}

TEST_F(ApiAdmin, GetsChangeNothing) {
    const std::string order = make_order();
    Browser b = logged_in();
    const std::string before = snapshot(db());
    const std::int64_t audits = scalar(db(), "SELECT count(*) FROM audit_log");
    for (const char* path : {"/admin", "/admin/deposits", "/admin/deposits?q=nobody&status=pending", "/admin/orders",
                             "/admin/events", "/admin/links", "/admin/audit", "/admin/recheck", "/admin/nope",
                             "/admin/events/evt_missing", "/admin/deposits/dep_missing"}) {
        auto r = send(b, "GET", path);
        EXPECT_TRUE(r.status == 200 || r.status == 404) << path << " " << r.status;
    }
    auto o = send(b, "GET", "/admin/orders/" + order);
    EXPECT_EQ(o.status, 200);
    EXPECT_NE(o.body.find("id=\"mark-paid\""), std::string::npos);
    // Actions refuse GET.
    EXPECT_EQ(send(b, "GET", "/admin/orders/" + order + "/mark-paid").status, 405);
    EXPECT_EQ(send(b, "GET", "/admin/logout").status, 405);
    EXPECT_EQ(snapshot(db()), before);
    EXPECT_EQ(text_scalar(db(), "SELECT status FROM orders"), "waiting");
    EXPECT_EQ(scalar(db(), "SELECT count(*) FROM audit_log"), audits);
}

TEST_F(ApiAdmin, MarkPaidOverTheApiWithTheKeysLabel) {
    const std::string order = make_order();
    auto missing = api("POST", "/api/v1/orders/" + order + "/mark-paid", "{}");
    EXPECT_EQ(missing.status, 400);
    auto blank = api("POST", "/api/v1/orders/" + order + "/mark-paid", R"({"reason":"   "})");
    EXPECT_EQ(blank.status, 400);
    auto extra = api("POST", "/api/v1/orders/" + order + "/mark-paid", R"({"reason":"x","paid":true})");
    EXPECT_EQ(extra.status, 400);
    auto unknown = api("POST", "/api/v1/orders/ord_nope/mark-paid", R"({"reason":"x"})");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(api("GET", "/api/v1/orders/" + order + "/mark-paid").status, 405);
    EXPECT_EQ(scalar(db(), "SELECT count(*) FROM audit_log"), 0);
    int woken = 0;  // order.completed is in the outbox: the daemon wakes its dispatcher
    handler().on_events_queued([&] { ++woken; });
    EXPECT_EQ(api("POST", "/api/v1/orders/ord_nope/mark-paid", R"({"reason":"x"})").status, 404);
    EXPECT_EQ(woken, 0);

    auto ok = api("POST", "/api/v1/orders/" + order + "/mark-paid", R"({"reason":"paid in cash at the counter"})");
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(woken, 1);
    auto data = parse(ok.body).as_object().at("data").as_object();
    EXPECT_EQ(data.at("status"), "completed");
    EXPECT_EQ(data.at("manual"), true);
    EXPECT_EQ(data.at("paidAmount"), "0");
    auto twice = api("POST", "/api/v1/orders/" + order + "/mark-paid", R"({"reason":"again"})");
    EXPECT_EQ(twice.status, 409);
    EXPECT_EQ(woken, 1);

    auto audit = api("GET", "/api/v1/audit");
    ASSERT_EQ(audit.status, 200) << audit.body;
    auto entries = parse(audit.body).as_object().at("data").as_object().at("entries").as_array();
    ASSERT_EQ(entries.size(), 1u);
    auto e = entries[0].as_object();
    EXPECT_EQ(e.at("action"), "order.mark_paid");
    EXPECT_EQ(std::string(e.at("target").as_string()), order);
    EXPECT_EQ(e.at("reason"), "paid in cash at the counter");
    EXPECT_EQ(e.at("actor").as_object().at("kind"), "api");
    EXPECT_EQ(e.at("actor").as_object().at("name"), "shop");  // the key's label, never the key
    EXPECT_EQ(e.at("client"), "198.51.100.1");
    EXPECT_EQ(audit.body.find(kKey), std::string::npos);
    // The second key has no label: key#2.
    auto link = api("POST", "/api/v1/payment-links",
                    R"({"title":"T","amount":"5","currencies":[{"currency":"USDT","chainId":"ethereum"}]})", "second-key");
    ASSERT_EQ(link.status, 201) << link.body;
    const std::string link_id(parse(link.body).as_object().at("data").as_object().at("id").as_string());
    EXPECT_EQ(api("POST", "/api/v1/payment-links/" + link_id + "/publish", "", "second-key").status, 200);
    EXPECT_EQ(api("POST", "/api/v1/payment-links/" + link_id + "/publish", "", "second-key").status, 200);  // no change
    EXPECT_EQ(audit_count("link.publish"), 1);
    EXPECT_EQ(text_scalar(db(), "SELECT actor FROM audit_log WHERE action = 'link.publish'"), "key#2");
}

TEST_F(ApiAdmin, AuditListPagesAndFilters) {
    for (int i = 0; i < 5; ++i) {
        auto link = api("POST", "/api/v1/payment-links",
                        R"({"title":"T","amount":"5","currencies":[{"currency":"USDT","chainId":"ethereum"}]})");
        const std::string id(parse(link.body).as_object().at("data").as_object().at("id").as_string());
        api("POST", "/api/v1/payment-links/" + id + "/publish");
        api("POST", "/api/v1/payment-links/" + id + "/archive");
    }
    auto p1 = api("GET", "/api/v1/audit?limit=4");
    ASSERT_EQ(p1.status, 200);
    auto d1 = parse(p1.body).as_object().at("data").as_object();
    EXPECT_EQ(d1.at("entries").as_array().size(), 4u);
    const std::string cursor(d1.at("pagination").as_object().at("nextCursor").as_string());
    auto p2 = api("GET", "/api/v1/audit?limit=4&cursor=" + cursor);
    auto d2 = parse(p2.body).as_object().at("data").as_object();
    EXPECT_EQ(d2.at("entries").as_array().size(), 4u);
    auto archived = api("GET", "/api/v1/audit?action=link.archive&limit=100");
    EXPECT_EQ(parse(archived.body).as_object().at("data").as_object().at("entries").as_array().size(), 5u);
    EXPECT_EQ(api("GET", "/api/v1/audit?action=nope").status, 400);
    EXPECT_EQ(api("GET", "/api/v1/audit?cursor=abc").status, 400);
    EXPECT_EQ(api("GET", "/api/v1/audit?limit=1000").status, 400);
    EXPECT_EQ(api("POST", "/api/v1/audit").status, 405);
    Request anon;
    anon.method = "GET";
    anon.target = "/api/v1/audit";
    EXPECT_EQ(handler().handle(anon).status, 401);
}

TEST_F(ApiAdmin, ConsoleActionsAreAuditedWithTheUser) {
    const std::string order = make_order();
    auto link = api("POST", "/api/v1/payment-links",
                    R"({"title":"Gift card","amount":"5","currencies":[{"currency":"USDT","chainId":"ethereum"}]})");
    const std::string link_id(parse(link.body).as_object().at("data").as_object().at("id").as_string());
    Browser b = logged_in();
    std::string token = csrf(b);
    EXPECT_EQ(send(b, "POST", "/admin/links/" + link_id + "/publish", "csrf=" + form_escape(token) + "&back=%2Fadmin%2Flinks")
                  .status,
              303);
    EXPECT_EQ(text_scalar(db(), "SELECT status FROM payment_links"), "active");
    auto archive = send(b, "POST", "/admin/links/" + link_id + "/archive",
                        "csrf=" + form_escape(token) + "&back=https%3A%2F%2Fevil.example");
    EXPECT_EQ(archive.status, 303);
    EXPECT_EQ(header(archive, "Location"), "/admin/links?done=archive");  // never off the console
    auto republish = send(b, "POST", "/admin/links/" + link_id + "/publish", "csrf=" + form_escape(token));
    EXPECT_EQ(republish.status, 409);
    EXPECT_NE(republish.body.find("cannot be published again"), std::string::npos);

    // Resend: the order's events after mark-paid.
    auto bad = send(b, "POST", "/admin/orders/" + order + "/mark-paid", "reason=&csrf=" + form_escape(token));
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("reason is required"), std::string::npos);
    EXPECT_EQ(send(b, "POST", "/admin/orders/" + order + "/mark-paid", "reason=checked+by+phone&csrf=" + form_escape(token))
                  .status,
              303);
    const std::string evt = text_scalar(db(), "SELECT id FROM events WHERE type = 'order.completed'");
    EXPECT_EQ(send(b, "POST", "/admin/events/" + evt + "/resend", "csrf=" + form_escape(token) + "&back=%2Fadmin%2Fevents")
                  .status,
              303);
    EXPECT_EQ(send(b, "POST", "/admin/events/evt_nope/resend", "csrf=" + form_escape(token)).status, 404);

    auto audit = send(b, "GET", "/admin/audit");
    ASSERT_EQ(audit.status, 200);
    for (const char* action : {"link.publish", "link.archive", "order.mark_paid", "event.resend"})
        EXPECT_NE(audit.body.find(std::string("data-action=\"") + action + "\""), std::string::npos) << action;
    EXPECT_NE(audit.body.find("checked by phone"), std::string::npos);
    EXPECT_EQ(text_scalar(db(), "SELECT actor_kind || ':' || actor FROM audit_log WHERE action = 'event.resend'"),
              "console:alice");
    auto order_page = send(b, "GET", "/admin/orders/" + order);
    EXPECT_EQ(order_page.body.find("id=\"mark-paid\""), std::string::npos);  // completed: no form any more
    EXPECT_NE(order_page.body.find("data-action=\"order.mark_paid\""), std::string::npos);
}

// The console's form runs the same re-check as POST /api/v1/deposits/recheck
// (Handler::recheck_transaction). Without the scanner behind it (a process
// with no re-check): 503 and nothing changes; an unknown chain is a 400; a
// re-check that found the transaction is written to the audit log as the
// console user's.
TEST_F(ApiAdmin, RecheckGoesThroughTheApiPathAndIsAudited) {
    Browser b = logged_in();
    const std::string token = csrf(b);
    const std::string before = snapshot(db());
    auto r = send(b, "POST", "/admin/recheck", "csrf=" + form_escape(token) + "&chain=ethereum&tx=0xabc");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(snapshot(db()), before);
    EXPECT_EQ(send(b, "POST", "/admin/recheck", "csrf=" + form_escape(token) + "&chain=nope&tx=0xabc").status, 400);
    EXPECT_EQ(snapshot(db()), before);

    std::string asked;
    handler().set_rechecker([&](const std::string& chain, const std::string& tx, const std::optional<std::string>&)
                                -> Result<RecheckAnswer> {
        asked = chain + " " + tx;
        return RecheckAnswer{};
    });
    const std::string tx = "0x" + std::string(64, 'a');
    r = send(b, "POST", "/admin/recheck", "csrf=" + form_escape(token) + "&chain=ethereum&tx=" + tx);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(asked, "ethereum " + tx);
    EXPECT_EQ(text_scalar(db(), "SELECT actor_kind || ':' || actor || ':' || target FROM audit_log WHERE action = "
                                "'deposit.recheck'"),
              "console:alice:" + tx);
}

TEST_F(ApiAdmin, LanguageFollowsTheBrowserAndTheSwitch) {
    Browser b = logged_in();
    b.lang = "zh-CN,zh;q=0.9";
    auto zh = send(b, "GET", "/admin");
    EXPECT_NE(zh.body.find("<html lang=\"zh-CN\">"), std::string::npos);
    EXPECT_NE(zh.body.find("概览"), std::string::npos);
    EXPECT_EQ(header(zh, "Content-Language"), "zh-CN");
    auto sw = send(b, "POST", "/admin/lang", "csrf=" + form_escape(csrf_of(zh)) + "&lang=en&back=%2Fadmin%2Forders");
    EXPECT_EQ(sw.status, 303);
    EXPECT_EQ(header(sw, "Location"), "/admin/orders");
    auto en = send(b, "GET", "/admin");
    EXPECT_NE(en.body.find("<html lang=\"en\">"), std::string::npos);
    EXPECT_NE(en.body.find("Overview"), std::string::npos);
    EXPECT_EQ(send(b, "POST", "/admin/lang", "lang=zh").status, 403);  // no token
}

TEST_F(ApiAdmin, SecureCookiesOffLoopback) {
    config_.api.host = "0.0.0.0";
    Browser b;
    auto page = send(b, "GET", "/admin/login");
    ASSERT_EQ(set_cookies(page).size(), 1u);
    EXPECT_NE(set_cookies(page)[0].find("; Secure"), std::string::npos);
}

TEST_F(ApiAdmin, EscapesWhatItShows) {
    auto r = api("POST", "/api/v1/orders", R"({"orderId":"<script>alert(1)</script>","amount":"10"})");
    ASSERT_EQ(r.status, 201) << r.body;
    Browser b = logged_in();
    auto list = send(b, "GET", "/admin/orders?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.body.find("<script>alert(1)"), std::string::npos);
    EXPECT_NE(list.body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

// --- The login machinery on its own ----------------------------------------------------

TEST(AdminAuth, CookieParsing) {
    using admin::cookie_value;
    EXPECT_EQ(cookie_value("a=1; depositd_session=abc; b=2", "depositd_session"), std::optional<std::string>("abc"));
    EXPECT_EQ(cookie_value("depositd_session_x=1", "depositd_session"), std::nullopt);
    EXPECT_EQ(cookie_value("x=\"q\"", "x"), std::optional<std::string>("q"));
    EXPECT_EQ(cookie_value("", "x"), std::nullopt);
}

TEST(AdminAuth, SessionsAreBoundedPerUser) {
    admin::Sessions s(std::chrono::minutes(30), std::chrono::hours(12), 3, 100);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(s.create("alice", 1000 + i));
    EXPECT_EQ(s.size(), 3u);
    EXPECT_FALSE(s.find(ids[0], 2000));
    EXPECT_FALSE(s.find(ids[1], 2000));
    EXPECT_TRUE(s.find(ids[4], 2000));
    s.revoke(ids[4]);
    EXPECT_FALSE(s.find(ids[4], 2000));
    EXPECT_NE(s.find(ids[3], 2000)->csrf, s.find(ids[2], 2000)->csrf);
}

