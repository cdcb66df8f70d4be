// [admin]: the console's users and session limits (SPEC §12).
//
//   [admin]
//   users = [ { name = "alice", password_hash = "$argon2id$v=19$m=65536,t=2,p=1$...", totp_secret = "JBSW..." } ]
//   session_idle = "30m"
//   session_max  = "12h"
//   # secure_cookies = true
//
// Password hashes and TOTP secrets are secrets: a problem names the key,
// never the value.
#include <algorithm>
#include <set>

#include "config/print.hpp"
#include "config/sections.hpp"

namespace depositd::config {
namespace {

using A = AdminConfig;
using U = AdminUser;

// The keys of one { name, password_hash, totp_secret } table of users.
constexpr Key<AdminUser> kUserKeys[] = {
    {"name", {}, [](Printer& p, const U& u) { p.string(u.name); }},
    {"password_hash", {Secret::value}, [](Printer& p, const U& u) { p.secret(u.password_hash); }},
    {"totp_secret", {Secret::value}, [](Printer& p, const U& u) { if (!u.totp_secret.empty()) p.secret(u.totp_secret); }},
};

constexpr Key<AdminConfig> kKeys[] = {
    {"users", {},
     [](Printer& p, const A& a) {
         std::vector<std::string> items;
         for (std::size_t i = 0; i < a.users.size(); ++i)
             items.push_back(p.inline_table<AdminUser>(kUserKeys, a.users[i], i));
         p.lines(items);
     }},
    {"session_idle", {}, [](Printer& p, const A& a) { p.duration(a.session_idle); }},
    {"session_max", {}, [](Printer& p, const A& a) { p.duration(a.session_max); }},
    {"secure_cookies", {}, [](Printer& p, const A& a) { if (a.secure_cookies) p.raw(*a.secure_cookies ? "true" : "false"); }},
};

bool valid_user_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '@' || c == '-';
    });
}

bool b64_no_pad(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    });
}

bool digits(std::string_view s) {
    return !s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "$argon2id$v=19$m=<n>,t=<n>,p=<n>$<salt>$<hash>" (the PHC string of
// libsodium, libargon2 and PHP). Shape only: libsodium reads it at start.
bool argon2id_shape(std::string_view h, std::string& why) {
    const std::string_view prefix = "$argon2id$v=19$";
    if (h.rfind("$argon2", 0) == 0 && h.rfind("$argon2id$", 0) != 0) {
        why = "must be an argon2id hash (argon2i and argon2d are not accepted); make one with `depositctl admin hash-password`";
        return false;
    }
    if (h.rfind(prefix, 0) != 0) {
        why = "must be an argon2id hash \"$argon2id$v=19$m=...,t=...,p=...$salt$hash\"; make one with `depositctl admin "
              "hash-password`";
        return false;
    }
    std::string_view rest = h.substr(prefix.size());
    std::vector<std::string_view> parts;
    while (true) {
        const auto d = rest.find('$');
        parts.push_back(rest.substr(0, d));
        if (d == std::string_view::npos) break;
        rest = rest.substr(d + 1);
    }
    if (parts.size() != 3 || !b64_no_pad(parts[1]) || !b64_no_pad(parts[2]) || parts[1].size() < 11 ||
        parts[2].size() < 22) {
        why = "is not a complete argon2id hash (parameters, salt and hash separated by $)";
        return false;
    }
    std::string_view params = parts[0];
    const char* names[] = {"m=", "t=", "p="};
    for (int i = 0; i < 3; ++i) {
        const auto comma = params.find(',');
        std::string_view p = params.substr(0, comma);
        if (p.rfind(names[i], 0) != 0 || !digits(p.substr(2))) {
            why = "has malformed parameters (expected m=<KiB>,t=<passes>,p=<lanes>)";
            return false;
        }
        params = comma == std::string_view::npos ? std::string_view{} : params.substr(comma + 1);
    }
    return true;
}

// A base32 TOTP secret of at least 128 bits (RFC 4226 §4 R6).
bool totp_shape(std::string_view s, std::string& why) {
    std::size_t symbols = 0;
    for (char c : s) {
        if (c == ' ' || c == '-' || c == '=') continue;
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
        if (!ok) {
            why = "must be base32 (letters A-Z and digits 2-7), as `depositctl admin totp-secret` prints it";
            return false;
        }
        ++symbols;
    }
    if (symbols * 5 < 128) {
        why = "is too short: at least 26 base32 characters (128 bits); `depositctl admin totp-secret` makes one of 160 bits";
        return false;
    }
    return true;
}

void load_user(Loader& l, const toml::table& t, const std::string& key, AdminConfig& out,
               std::set<std::string>& names) {
    const Fields<AdminUser> f(l, t, key, kUserKeys);
    AdminUser u;
    u.source = l.at(line_of(t), key).file_line();
    bool ok = true;
    if (const auto* n = f.get("name")) {
        if (auto s = l.string(*n, join(key, "name"))) {
            if (!valid_user_name(*s)) {
                l.problem(line_of(*n), join(key, "name"), "must be 1-64 characters of [A-Za-z0-9_.@-]");
                ok = false;
            } else if (!names.insert(*s).second) {
                l.problem(line_of(*n), join(key, "name"), "user \"" + *s + "\" is listed twice");
                ok = false;
            } else {
                u.name = *s;
            }
        } else {
            ok = false;
        }
    } else {
        l.problem(line_of(t), join(key, "name"), "required: the user's login name");
        ok = false;
    }
    if (const auto* n = f.get("password_hash")) {
        if (auto s = l.string(*n, join(key, "password_hash"))) {
            std::string why;
            if (l.masked(*s)) {  // --check-config of --print-config's output
                u.password_hash = *s;
            } else if (!argon2id_shape(*s, why)) {
                l.problem(line_of(*n), join(key, "password_hash"), why);
                ok = false;
            } else {
                u.password_hash = *s;
            }
        } else {
            ok = false;
        }
    } else {
        l.problem(line_of(t), join(key, "password_hash"),
                    "required: an argon2id hash made with `depositctl admin hash-password`");
        ok = false;
    }
    if (const auto* n = f.get("totp_secret")) {
        if (auto s = l.string(*n, join(key, "totp_secret"))) {
            std::string why;
            if (l.masked(*s)) {
                u.totp_secret = *s;
            } else if (!totp_shape(*s, why)) {
                l.problem(line_of(*n), join(key, "totp_secret"), why);
                ok = false;
            } else {
                u.totp_secret = *s;
            }
        } else {
            ok = false;
        }
    }
    if (ok) out.users.push_back(std::move(u));
}

void load_table(Loader& l, const toml::table& t, AdminConfig& out) {
    const Fields<AdminConfig> f(l, t, "admin", kKeys);
    out.enabled = true;
    const toml::node* users = f.get("users");
    if (!users) {
        l.problem(line_of(t), "admin.users",
                    "at least one user is required, e.g. users = [{ name = \"admin\", password_hash = \"...\" }]");
    } else if (const auto* a = l.array_of(*users, "admin.users", "an array of tables")) {
        if (a->empty()) l.problem(line_of(*users), "admin.users", "at least one user is required");
        std::set<std::string> names;
        for (std::size_t i = 0; i < a->size(); ++i) {
            const std::string key = item("admin.users", i);
            if (const auto* u = l.table_of(*a->get(i), key, "a table { name, password_hash, totp_secret? }"))
                load_user(l, *u, key, out, names);
        }
    }
    if (const auto* n = f.get("session_idle")) {
        if (auto d = l.duration(*n, "admin.session_idle", false)) {
            if (*d < std::chrono::minutes(1) || *d > std::chrono::hours(24))
                l.problem(line_of(*n), "admin.session_idle", "must be from 1m to 24h");
            else out.session_idle = *d;
        }
    }
    if (const auto* n = f.get("session_max")) {
        if (auto d = l.duration(*n, "admin.session_max", false)) {
            if (*d < std::chrono::minutes(5) || *d > std::chrono::hours(24 * 7))
                l.problem(line_of(*n), "admin.session_max", "must be from 5m to 168h (a week)");
            else out.session_max = *d;
        }
    }
    if (out.session_idle > out.session_max)
        l.problem(line_of(t), "admin.session_idle", "must not be longer than admin.session_max");
    if (const auto* n = f.get("secure_cookies")) {
        if (const auto* b = n->as_boolean()) out.secure_cookies = b->get();
        else l.problem(line_of(*n), "admin.secure_cookies", "must be true or false");
    }
}

}  // namespace

std::optional<Flags> admin_key(std::string_view name) {
    if (name.starts_with("users.")) return find_key<AdminUser>(kUserKeys, name.substr(6));
    return find_key<AdminConfig>(kKeys, name);
}

void print_admin(Printer& p, const Config& cfg) {
    if (!cfg.admin.enabled) return;  // absent: /admin answers 404
    p.header("[admin]", "admin");
    p.keys<AdminConfig>(kKeys, cfg.admin);
}

void load_admin(Loader& l, const toml::table& root, Config& cfg) {
    if (auto* t = l.section(root, "admin")) load_table(l, *t, cfg.admin);
}

}  // namespace depositd::config
