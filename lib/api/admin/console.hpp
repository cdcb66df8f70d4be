#pragma once
// /admin: the operator's console (SPEC §12). Server-rendered HTML on the API
// server, served by Handler on its worker threads (argon2id verification
// and database reads never run on the thread that serves sockets).
//
// Every action (mark an order paid, resend an event, publish or archive a
// payment link, re-check a transaction) goes through the Handler function
// the API route uses, with the console user as the actor of the audit log.
// GET requests never change anything; every form POSTs a CSRF token.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/admin/auth.hpp"
#include "api/admin/html.hpp"
#include "api/admin/lag_history.hpp"
#include "api/handler.hpp"
#include "api/route_util.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/health.hpp"
#include "store/store.hpp"

namespace depositd::api::admin {

inline constexpr const char* kSessionCookie = "depositd_session";
inline constexpr const char* kLoginCookie = "depositd_login";  // the login form's CSRF binding
inline constexpr const char* kLangCookie = "depositd_lang";

class Console {
public:
    Console(Handler& handler, store::Store& store, const config::Config& config, const Clock& clock,
            const HealthBoard* health);

    // seg[0] == "admin". Never throws for bad input.
    Response handle(const Request& req, const std::vector<std::string>& seg, const util::Params& query,
                    std::string& route);

    // Records each chain's lag for the sparklines (the daemon calls it every 10 s).
    void sample_lag();

    // For tests: the login limits and the session store.
    void set_login_limits(LoginLimiter::Limits l) { limiter_ = std::make_unique<LoginLimiter>(l); }
    Sessions& sessions() { return sessions_; }

private:
    struct Ctx {
        const Request& req;
        const util::Params& query;
        std::string client;              // the client's address (X-Forwarded-For behind a trusted proxy); "" unknown
        std::string lang;
        std::optional<std::string> session_id;
        std::optional<Session> session;
        util::Params form;               // POST body
        Frame frame;
    };

    // --- console.cpp: routing, login, actions ------------------------------
    Response route(Ctx& c, const std::vector<std::string>& seg, std::string& route_name);
    Response login_page(Ctx& c, int status, const std::string& error, const std::string& next);
    Response login(Ctx& c);
    Response logout(Ctx& c);
    Response switch_language(Ctx& c);
    Response action_result(Ctx& c, const Response& api, const std::string& done, const std::string& back);
    Response mark_paid(Ctx& c, const std::string& id);
    Response resend(Ctx& c, const std::string& id);
    Response link_action(Ctx& c, const std::string& id, const std::string& action);
    Response recheck(Ctx& c);
    // Which form token a POST must carry: the session's (every action), the
    // login form's (the login), or either (the language switch).
    enum class Token { session, login, either };
    bool csrf_ok(const Ctx& c, Token which) const;
    orders::Actor actor(const Ctx& c) const;
    std::string cookie_attributes() const;  // "; Path=/admin; HttpOnly; SameSite=Strict[; Secure]"
    void audit_session(const std::string& action, const std::string& user, const Request& req);

    // --- pages.cpp: what the console shows ---------------------------------
    Response overview(Ctx& c);
    Response deposits(Ctx& c);
    Response deposit(Ctx& c, const std::string& id);
    Response orders_page(Ctx& c);
    Response order(Ctx& c, const std::string& id);
    Response events_page(Ctx& c);
    Response event(Ctx& c, const std::string& id);
    Response links_page(Ctx& c);
    Response audit_page(Ctx& c);
    Response recheck_page(Ctx& c, int status, const std::string& message);
    std::string flash(const Ctx& c) const;

    Handler& handler_;
    store::Store& store_;
    const config::Config& config_;
    const Clock& clock_;
    const HealthBoard* health_;
    Sessions sessions_;
    LoginTokens login_tokens_;
    std::unique_ptr<LoginLimiter> limiter_;
    TotpReplay totp_replay_;
    LagHistory lags_;
    bool secure_cookies_ = true;
    std::mutex verifying_;               // one argon2id verification at a time (64 MiB each)
    std::once_flag dummy_once_;
    std::string dummy_hash_;             // verified for unknown users: the same time as a wrong password
};

}  // namespace depositd::api::admin
