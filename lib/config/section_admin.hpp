#pragma once
// [admin] (SPEC §12): the operator's console at /admin.
// Parsed by section_admin.cpp; include config/config.hpp.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/units.hpp"

namespace depositd::config {

// One console user. Secrets: never logged, never echoed in a message.
struct AdminUser {
    std::string name;                 // 1-64 of [A-Za-z0-9_.@-]
    std::string password_hash;        // argon2id PHC string (depositctl admin hash-password)
    std::string totp_secret;          // base32 (RFC 4648) as written; empty = no second factor
    std::string source;               // "file:line" of the entry
};

// Absent: /admin answers 404.
struct AdminConfig {
    bool enabled = false;
    std::vector<AdminUser> users;
    Duration session_idle = std::chrono::minutes(30);  // no request for this long: logged out
    Duration session_max = std::chrono::hours(12);     // after login, whatever happens
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

}  // namespace depositd::config
