#pragma once
// The console's login machinery, free of HTTP: sessions with idle and
// absolute timeouts, CSRF tokens, the login form's token, login rate limits
// and TOTP replay protection. Thread-safe (API worker threads share it).
//
// Session ids and CSRF tokens are 256 random bits (OpenSSL RAND_bytes) in
// base64url. The server keeps only the SHA-256 of a session id: a session
// exists because the server minted it at a login, never because a browser
// presented a value (no fixation), and logout forgets it at once.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace depositd::api::admin {

// 32 random bytes as base64url (43 characters).
std::string random_token();
// Constant-time equality of two tokens (lengths may differ).
bool tokens_equal(std::string_view a, std::string_view b);
// The value of cookie `name` in a Cookie header ("a=1; b=2"); nullopt if absent.
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

struct Session {
    std::string user;
    std::string csrf;                // the token every form of this session carries
    std::int64_t created_ms = 0;
    std::int64_t last_seen_ms = 0;
};

class Sessions {
public:
    Sessions(std::chrono::milliseconds idle, std::chrono::milliseconds max_age,
             std::size_t max_per_user = 20, std::size_t max_total = 2000);

    // A new session; returns its id (the cookie value). Beyond max_per_user
    // sessions of one user, that user's oldest session ends.
    std::string create(const std::string& user, std::int64_t now_ms);
    // The session of a cookie value, if it is alive; its idle clock restarts.
    // An expired session is forgotten.
    std::optional<Session> find(std::string_view id, std::int64_t now_ms);
    // Ends a session (logout, or the session a login replaces).
    void revoke(std::string_view id);
    std::size_t size() const;

private:
    void sweep(std::int64_t now_ms);  // caller holds mu_
    bool expired(const Session& s, std::int64_t now_ms) const;

    std::int64_t idle_ms_, max_ms_;
    std::size_t max_per_user_, max_total_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, Session> by_digest_;  // SHA-256(id) -> session
    std::int64_t swept_at_ = 0;
};

// The login form's CSRF token: bound to a random pre-login cookie with an
// HMAC under a key that lives as long as the process. A page on another
// site can neither read the cookie nor compute the token.
class LoginTokens {
public:
    LoginTokens();
    std::string token_for(std::string_view pre_cookie) const;
    bool valid(std::string_view pre_cookie, std::string_view token) const;

private:
    std::string key_;
};

// Failed logins in a sliding window, per client address and per user name.
// When either has reached its limit, further attempts are refused without
// checking the password until the oldest failure leaves the window.
class LoginLimiter {
public:
    struct Limits {
        std::size_t per_client = 10;
        std::size_t per_user = 5;
        std::int64_t window_ms = 15 * 60 * 1000;
        std::size_t max_tracked = 10'000;  // keys remembered per map (oldest forgotten first)
    };
    LoginLimiter() : LoginLimiter(Limits{}) {}
    explicit LoginLimiter(Limits limits) : limits_(limits) {}

    // nullopt: an attempt may be made; else the ms until one may.
    std::optional<std::int64_t> blocked(const std::string& client, const std::string& user, std::int64_t now_ms);
    void failure(const std::string& client, const std::string& user, std::int64_t now_ms);
    // A successful login clears the user's failures (the client's stay).
    void success(const std::string& user);

private:
    using Map = std::map<std::string, std::deque<std::int64_t>>;
    void add(Map& m, const std::string& key, std::size_t limit, std::int64_t now_ms);
    std::optional<std::int64_t> wait(Map& m, const std::string& key, std::size_t limit, std::int64_t now_ms);

    Limits limits_;
    std::mutex mu_;
    Map clients_, users_;
};

// The last TOTP step accepted per user: a code is good once (RFC 6238 §5.2).
class TotpReplay {
public:
    // True (and remembered) when `step` is newer than the last accepted one.
    bool accept(const std::string& user, std::uint64_t step);

private:
    std::mutex mu_;
    std::map<std::string, std::uint64_t> last_;
};

}  // namespace depositd::api::admin
