#pragma once
// [admin] and [notify.telegram] (SPEC §12) as typed structs, included by
// config/config.hpp. Parsed in section_admin.cpp and section_notify.cpp.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace depositd::config {

// One console user. Secrets: never logged, never echoed in a message.
struct AdminUser {
    std::string name;                 // 1-64 of [A-Za-z0-9_.@-]
    std::string password_hash;        // argon2id PHC string (depositctl admin hash-password)
    std::string totp_secret;          // base32 (RFC 4648) as written; empty = no second factor
    std::string source;               // "file:line" of the entry
};

// [admin]: the operator's console at /admin. Absent: /admin answers 404.
struct AdminConfig {
    bool enabled = false;
    std::vector<AdminUser> users;
    std::chrono::milliseconds session_idle = std::chrono::minutes(30);  // no request for this long: logged out
    std::chrono::milliseconds session_max = std::chrono::hours(12);     // after login, whatever happens
    // Secure attribute on the console's cookies. nullopt (default): Secure
    // unless [api].listen is a loopback address and [api].public_url is not
    // https:// (a plain-HTTP test or SSH-tunnel set-up).
    std::optional<bool> secure_cookies;
    const AdminUser* user(std::string_view name) const {
        for (const auto& u : users)
            if (u.name == name) return &u;
        return nullptr;
    }
};

// [notify.telegram]: operator messages through the Telegram Bot API.
struct TelegramConfig {
    bool enabled = false;
    std::string bot_token;            // "123456:ABC-..."; a secret: never logged, never stored
    std::string chat_id;              // "-1001234567890" or "@channel"
    std::vector<std::string> events;  // which of kTelegramEvents; default all
    std::string api_base = "https://api.telegram.org";  // no trailing slash
    // One message per alert (chain, pool, webhook state) per this interval at
    // most: a flapping state cannot flood the chat.
    std::chrono::milliseconds alert_interval = std::chrono::minutes(15);
    std::string source;               // "file:line" of [notify.telegram]
    bool wants(std::string_view event) const {
        for (const auto& e : events)
            if (e == event) return true;
        return false;
    }
};

struct NotifyConfig {
    TelegramConfig telegram;
};

// The events [notify.telegram].events may name.
inline constexpr const char* kTelegramEvents[] = {"deposit.confirmed", "order.paid",     "order.late_payment",
                                                  "chain.halted",      "chain.lagging",  "pool.low",
                                                  "webhook.failing"};

}  // namespace depositd::config
