// The console's routes, login and actions. The pages themselves are in pages.cpp.
#include "api/admin/console.hpp"

#include <algorithm>

#include "codec/otp.hpp"
#include "codec/password.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "store/audit.hpp"

namespace depositd::api::admin {
namespace {

auto logger() {
    static auto l = log::get("admin");
    return l;
}

bool loopback(const std::string& host) {
    return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

// A path under /admin to come back to (forms' "back", the login's "next"):
// nothing that could leave the console or break a header.
bool safe_path(std::string_view p) {
    if (p.size() > 512 || p.rfind("/admin", 0) != 0) return false;
    if (p.size() > 6 && p[6] != '/' && p[6] != '?') return false;
    return std::none_of(p.begin(), p.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\' || c == '"' || c == '<' || c == '>';
    });
}

std::string with_done(const std::string& path, const std::string& done) {
    std::string p = path;
    // Drop an earlier done= so messages do not pile up.
    if (auto at = p.find("done="); at != std::string::npos && (p[at - 1] == '?' || p[at - 1] == '&')) {
        auto end = p.find('&', at);
        p.erase(at - 1, end == std::string::npos ? std::string::npos : end - at + 1);
    }
    return p + (p.find('?') == std::string::npos ? "?" : "&") + "done=" + done;
}

const std::string* form_value(const util::Params& form, std::string_view key) { return util::param(form, key); }

std::string api_message(const Response& r) {
    if (auto v = json::parse_bounded(r.body, 1 << 20); v && v->is_object()) {
        const auto& o = v->get_object();
        if (auto it = o.find("message"); it != o.end() && it->value().is_string())
            return std::string(it->value().get_string());
    }
    return "HTTP " + std::to_string(r.status);
}

}  // namespace

Console::Console(Handler& handler, store::Store& store, const config::Config& config, const Clock& clock,
                 const HealthBoard* health)
    : handler_(handler),
      store_(store),
      config_(config),
      clock_(clock),
      health_(health),
      sessions_(config.admin.session_idle, config.admin.session_max),
      limiter_(std::make_unique<LoginLimiter>()) {
    if (config.admin.secure_cookies) {
        secure_cookies_ = *config.admin.secure_cookies;
    } else {
        // Plain HTTP on a loopback address (tests, an SSH tunnel) cannot use
        // Secure cookies; anything reachable otherwise must be behind TLS.
        const bool https_public = config.api.public_url.rfind("https://", 0) == 0;
        secure_cookies_ = !loopback(config.api.host) || https_public;
    }
    logger()->info("console at /admin: {} user(s), sessions idle {} s / max {} s, cookies {}",
                   config.admin.users.size(), config.admin.session_idle.count() / 1000,
                   config.admin.session_max.count() / 1000, secure_cookies_ ? "Secure" : "without Secure (loopback)");
}

void Console::sample_lag() {
    if (health_) lags_.sample(*health_);
}

std::string Console::cookie_attributes() const {
    return std::string("; Path=/admin; HttpOnly; SameSite=Strict") + (secure_cookies_ ? "; Secure" : "");
}

orders::Actor Console::actor(const Ctx& c) const {
    return orders::Actor{"console", c.session ? c.session->user : std::string(), c.client};
}

bool Console::csrf_ok(const Ctx& c, Token which) const {
    // A browser says where a request comes from; a form of another site is
    // refused before its token is even looked at.
    if (!c.req.sec_fetch_site.empty() && c.req.sec_fetch_site != "same-origin" && c.req.sec_fetch_site != "none")
        return false;
    const std::string* token = form_value(c.form, "csrf");
    if (!token) return false;
    if (which != Token::login && c.session && tokens_equal(*token, c.session->csrf)) return true;
    if (which == Token::session) return false;
    auto pre = cookie_value(c.req.cookie, kLoginCookie);
    return pre && login_tokens_.valid(*pre, *token);
}

void Console::audit_session(const std::string& action, const std::string& user, const Request& req) {
    store::AuditEntry a;
    a.at = clock_.now_ms();
    a.actor_kind = "console";
    a.actor = user;
    a.action = action;
    const std::string client = handler_.client_address(req);
    a.client = client.empty() ? std::nullopt : std::optional<std::string>(client);
    auto r = store_.write([&](store::Database& db) { return store::insert_audit(db, a); });
    if (!r) logger()->error("cannot write the audit log ({} of {}): {}", action, user, r.error().describe());
}

Response Console::handle(const Request& req, const std::vector<std::string>& seg, const util::Params& query,
                         std::string& route_name) {
    Ctx c{req, query, handler_.client_address(req), "en", std::nullopt, std::nullopt, {}, {}};
    if (auto l = cookie_value(req.cookie, kLangCookie); l && (*l == "en" || *l == "zh")) c.lang = *l;
    else c.lang = util::pick_language(req.accept_language);
    c.frame.lang = c.lang;
    c.frame.here = req.target.size() <= 512 && safe_path(req.target) ? req.target : "/admin";

    const bool post = req.method == "POST";
    if (post) {
        auto form = util::parse_form(req.body);
        if (!form) {
            route_name = "admin.bad_form";
            return message_page(400, c.frame, tr(c.lang, txt::refused), "Malformed form data");
        }
        c.form = std::move(*form);
    }
    c.session_id = cookie_value(req.cookie, kSessionCookie);
    if (c.session_id) c.session = sessions_.find(*c.session_id, clock_.now_ms());
    if (c.session) {
        c.frame.user = c.session->user;
        c.frame.csrf = c.session->csrf;
    }
    return route(c, seg, route_name);
}

Response Console::route(Ctx& c, const std::vector<std::string>& seg, std::string& route_name) {
    const std::string& m = c.req.method;
    const bool get = m == "GET" || m == "HEAD";
    const bool post = m == "POST";
    const std::size_t n = seg.size();
    auto not_allowed = [&](const char* allow) {
        Response r = message_page(405, c.frame, tr(c.lang, txt::refused), "Method " + m + " is not allowed here");
        r.headers.emplace_back("Allow", allow);
        return r;
    };

    if (n == 2 && seg[1].empty()) {  // "/admin/"
        route_name = "admin.overview";
        return redirect("/admin");
    }
    // --- Without a session: the login page, the login, the language -------
    if (n == 2 && seg[1] == "login") {
        route_name = "admin.login";
        if (get) {
            const std::string* next = util::param(c.query, "next");
            return login_page(c, 200, "", next && safe_path(*next) ? *next : "/admin");
        }
        if (post) return login(c);
        return not_allowed("GET, POST");
    }
    if (n == 2 && seg[1] == "lang") {
        route_name = "admin.lang";
        if (!post) return not_allowed("POST");
        if (!csrf_ok(c, Token::either))
            return message_page(403, c.frame, tr(c.lang, txt::refused), tr(c.lang, txt::csrf_refused));
        return switch_language(c);
    }

    // --- Everything else needs a live session --------------------------------
    if (!c.session) {
        route_name = "admin.unauthenticated";
        if (c.session_id)
            logger()->info("console: {} {} with an unknown or expired session from {}", m, c.req.target.substr(0, 64),
                           c.client);
        if (get) {
            const std::string next = safe_path(c.req.target) ? c.req.target : "/admin";
            return redirect("/admin/login?next=" + url_escape(next));
        }
        Response r = message_page(403, c.frame, tr(c.lang, txt::refused), tr(c.lang, txt::session_ended),
                                  "/admin/login");
        return r;
    }
    if (post && !csrf_ok(c, Token::session)) {
        route_name = "admin.csrf_refused";
        logger()->warn("console: {} {} by {} from {} refused: missing or wrong CSRF token", m,
                       c.req.target.substr(0, 64), c.session->user, c.client);
        return message_page(403, c.frame, tr(c.lang, txt::refused), tr(c.lang, txt::csrf_refused));
    }

    if (n == 1) {
        route_name = "admin.overview";
        c.frame.active = "overview";
        return get ? overview(c) : not_allowed("GET");
    }
    const std::string& what = seg[1];
    if (what == "logout" && n == 2) {
        route_name = "admin.logout";
        return post ? logout(c) : not_allowed("POST");
    }
    if (what == "deposits") {
        c.frame.active = "deposits";
        if (n == 2) {
            route_name = "admin.deposits";
            return get ? deposits(c) : not_allowed("GET");
        }
        if (n == 3 && !seg[2].empty()) {
            route_name = "admin.deposit";
            return get ? deposit(c, seg[2]) : not_allowed("GET");
        }
    } else if (what == "orders") {
        c.frame.active = "orders";
        if (n == 2) {
            route_name = "admin.orders";
            return get ? orders_page(c) : not_allowed("GET");
        }
        if (n == 3 && !seg[2].empty()) {
            route_name = "admin.order";
            return get ? order(c, seg[2]) : not_allowed("GET");
        }
        if (n == 4 && !seg[2].empty() && seg[3] == "mark-paid") {
            route_name = "admin.order.mark_paid";
            return post ? mark_paid(c, seg[2]) : not_allowed("POST");
        }
    } else if (what == "events") {
        c.frame.active = "events";
        if (n == 2) {
            route_name = "admin.events";
            return get ? events_page(c) : not_allowed("GET");
        }
        if (n == 3 && !seg[2].empty()) {
            route_name = "admin.event";
            return get ? event(c, seg[2]) : not_allowed("GET");
        }
        if (n == 4 && !seg[2].empty() && seg[3] == "resend") {
            route_name = "admin.event.resend";
            return post ? resend(c, seg[2]) : not_allowed("POST");
        }
    } else if (what == "links") {
        c.frame.active = "links";
        if (n == 2) {
            route_name = "admin.links";
            return get ? links_page(c) : not_allowed("GET");
        }
        if (n == 4 && !seg[2].empty() && (seg[3] == "publish" || seg[3] == "archive")) {
            route_name = "admin.link." + seg[3];
            return post ? link_action(c, seg[2], seg[3]) : not_allowed("POST");
        }
    } else if (what == "audit" && n == 2) {
        c.frame.active = "audit";
        route_name = "admin.audit";
        return get ? audit_page(c) : not_allowed("GET");
    } else if (what == "recheck" && n == 2) {
        c.frame.active = "recheck";
        route_name = "admin.recheck";
        if (get) return recheck_page(c, 200, "");
        if (post) return recheck(c);
        return not_allowed("GET, POST");
    }
    route_name = "admin.not_found";
    return message_page(404, c.frame, tr(c.lang, txt::not_found), "No such page");
}

// --- Login and logout -------------------------------------------------------------

Response Console::login_page(Ctx& c, int status, const std::string& error, const std::string& next) {
    // The form's token is bound to a random cookie of this browser. A GET
    // sets the cookie only (no server state).
    auto pre = cookie_value(c.req.cookie, kLoginCookie);
    std::string set_cookie;
    if (!pre || pre->size() < 32 || pre->size() > 128) {
        pre = random_token();
        set_cookie = std::string(kLoginCookie) + "=" + *pre + cookie_attributes() + "; Max-Age=3600";
    }
    c.frame.user.clear();
    c.frame.csrf = login_tokens_.token_for(*pre);
    const std::string& lang = c.lang;
    std::string b = "<div class=\"login\"><h1>" + std::string(tr(lang, txt::console)) + "</h1>\n";
    if (!error.empty()) b += "<p class=\"flash err\" id=\"login-error\">" + esc(error) + "</p>\n";
    if (auto d = util::param(c.query, "done"); d && *d == "logout")
        b += "<p class=\"flash\" id=\"flash\">" + std::string(tr(lang, txt::logged_out)) + "</p>\n";
    b += "<form method=\"post\" action=\"/admin/login\">" + csrf_field(c.frame.csrf) +
         "<input type=\"hidden\" name=\"next\" value=\"" + esc(next) + "\">"
         "<label>" + tr(lang, txt::user) +
         "<input type=\"text\" name=\"user\" id=\"user\" autocomplete=\"username\" required maxlength=\"64\" "
         "autofocus></label><label>" + tr(lang, txt::password) +
         "<input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\" required "
         "maxlength=\"4096\"></label><label>" + tr(lang, txt::code) +
         "<input type=\"text\" name=\"code\" id=\"code\" autocomplete=\"one-time-code\" inputmode=\"numeric\" "
         "pattern=\"[0-9]{6}\" maxlength=\"6\"></label><button type=\"submit\" class=\"primary\" id=\"login\">" +
         tr(lang, txt::login) + "</button></form><div class=\"lang\">" + language_form(c.frame) + "</div></div>\n";
    Response r = page(status, c.frame, tr(lang, txt::login), b);
    if (!set_cookie.empty()) r.headers.emplace_back("Set-Cookie", set_cookie);
    return r;
}

Response Console::login(Ctx& c) {
    const std::string user = form_value(c.form, "user") ? *form_value(c.form, "user") : std::string();
    const std::string password = form_value(c.form, "password") ? *form_value(c.form, "password") : std::string();
    const std::string code = form_value(c.form, "code") ? *form_value(c.form, "code") : std::string();
    const std::string* next_v = form_value(c.form, "next");
    const std::string next = next_v && safe_path(*next_v) ? *next_v : "/admin";
    const std::string client = handler_.client_of(c.req);
    const std::string who = quote_untrusted(user, 64);
    const std::int64_t now = clock_.now_ms();

    if (!csrf_ok(c, Token::login)) {
        logger()->warn("console login of {} from {} refused: missing or wrong login form token", who,
                       c.client);
        return login_page(c, 403, tr(c.lang, txt::login_cookies), next);
    }
    if (user.empty() || user.size() > 64 || password.empty() || password.size() > 4096) {
        logger()->warn("console login from {} refused: name or password missing or too long", c.client);
        limiter_->failure(client, user.substr(0, 64), now);
        return login_page(c, 401, tr(c.lang, txt::login_failed), next);
    }
    if (auto wait = limiter_->blocked(client, user, now)) {
        logger()->warn("console login of {} from {} refused: too many failed attempts (rate limit, {} s left)", who,
                       c.client, *wait / 1000 + 1);
        Response r = login_page(c, 429, std::string(tr(c.lang, txt::login_limited)) + " " +
                                            std::to_string(*wait / 60000 + 1), next);
        r.headers.emplace_back("Retry-After", std::to_string(*wait / 1000 + 1));
        return r;
    }

    // argon2id takes ~64 MiB and tens of ms: one at a time, and a login that
    // finds another being checked is answered 503 at once rather than
    // waiting, so a flood of logins never holds more than one API worker
    // (the other keeps serving the API) nor more than one hash's memory.
    std::unique_lock lock(verifying_, std::defer_lock);
    if (!lock.try_lock()) {
        logger()->warn("console login of {} from {} refused: another verification is running", who,
                       c.client);
        Response r = login_page(c, 503, tr(c.lang, txt::login_busy), next);
        r.headers.emplace_back("Retry-After", "2");
        return r;
    }
    const config::AdminUser* u = config_.admin.user(user);
    bool ok = false;
    std::string why = "wrong password";
    if (u) {
        ok = codec::verify_password(u->password_hash, password);
    } else {
        // The same work for a name that does not exist (a hash of the same
        // cost as the users'): timing does not tell which names exist.
        std::call_once(dummy_once_, [this] {
            auto h = codec::hash_password_like(random_token(), config_.admin.users.empty()
                                                                   ? std::string_view()
                                                                   : std::string_view(config_.admin.users[0].password_hash));
            dummy_hash_ = h ? *h : std::string();
        });
        (void)codec::verify_password(dummy_hash_, password);
        why = "unknown user";
    }
    lock.unlock();
    if (ok && !u->totp_secret.empty()) {
        auto key = codec::base32_decode(u->totp_secret);
        auto step = key ? codec::totp_match(*key, code, now / 1000) : std::nullopt;
        if (!key) {
            ok = false;
            why = "its totp_secret is not base32";
        } else if (code.empty()) {
            ok = false;
            why = "authenticator code missing";
        } else if (!step) {
            ok = false;
            why = "wrong authenticator code";
        } else if (!totp_replay_.accept(u->name, *step)) {
            ok = false;
            why = "authenticator code already used";
        }
    }
    if (!ok) {
        limiter_->failure(client, user, now);
        logger()->warn("console login of {} from {} failed: {}", who, c.client, why);
        return login_page(c, 401, tr(c.lang, txt::login_failed), next);
    }

    limiter_->success(user);
    // A new session id at every login; whatever session the browser had ends.
    if (c.session_id) sessions_.revoke(*c.session_id);
    const std::string id = sessions_.create(u->name, now);
    logger()->info("console login of {} from {}", u->name, c.client);
    audit_session("console.login", u->name, c.req);
    Response r = redirect(next);
    r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + id + cookie_attributes());
    r.headers.emplace_back("Set-Cookie", std::string(kLoginCookie) + "=" + cookie_attributes() + "; Max-Age=0");
    return r;
}

Response Console::logout(Ctx& c) {
    sessions_.revoke(*c.session_id);
    logger()->info("console logout of {} from {}", c.session->user, c.client);
    audit_session("console.logout", c.session->user, c.req);
    Response r = redirect("/admin/login?done=logout");
    r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + cookie_attributes() + "; Max-Age=0");
    return r;
}

Response Console::switch_language(Ctx& c) {
    const std::string* lang = form_value(c.form, "lang");
    const std::string* back = form_value(c.form, "back");
    const std::string to = lang && *lang == "zh" ? "zh" : "en";
    Response r = redirect(back && safe_path(*back) ? *back : "/admin");
    r.headers.emplace_back("Set-Cookie",
                           std::string(kLangCookie) + "=" + to + cookie_attributes() + "; Max-Age=31536000");
    return r;
}

// --- Actions -----------------------------------------------------------------------

Response Console::action_result(Ctx& c, const Response& api, const std::string& done, const std::string& back) {
    if (api.status >= 200 && api.status < 300) return redirect(with_done(back, done));
    return message_page(api.status, c.frame, tr(c.lang, txt::action_failed), api_message(api), back);
}

Response Console::mark_paid(Ctx& c, const std::string& id) {
    const std::string* reason = form_value(c.form, "reason");
    Response api = handler_.mark_order_paid(id, reason ? *reason : std::string(), actor(c));
    return action_result(c, api, "mark_paid", "/admin/orders/" + url_escape(id));
}

Response Console::resend(Ctx& c, const std::string& id) {
    const std::string* back = form_value(c.form, "back");
    Response api = handler_.resend_event(id, actor(c));
    return action_result(c, api, "resend", back && safe_path(*back) ? *back : "/admin/events");
}

Response Console::link_action(Ctx& c, const std::string& id, const std::string& action) {
    const std::string* back = form_value(c.form, "back");
    Response api = handler_.change_link(id, action, actor(c));
    return action_result(c, api, action, back && safe_path(*back) ? *back : "/admin/links");
}

Response Console::recheck(Ctx& c) {
    RecheckRequest r;
    if (auto* v = form_value(c.form, "chain")) r.chain_id = *v;
    if (auto* v = form_value(c.form, "tx")) r.tx_hash = *v;
    if (auto* v = form_value(c.form, "block"); v && !v->empty()) r.block_hash = *v;
    Response api = handler_.recheck_transaction(r, actor(c));
    if (api.status >= 200 && api.status < 300) return recheck_page(c, 200, api_message(api));
    return recheck_page(c, api.status, api_message(api));
}

}  // namespace depositd::api::admin
