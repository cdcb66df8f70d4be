#include "store/pg/errors.hpp"

#include <libpq-fe.h>

#include <memory>

namespace depositd::store::pg {

const char* to_string(Failure f) {
    switch (f) {
        case Failure::none: return "none";
        case Failure::retry: return "retry";
        case Failure::conflict: return "conflict";
        case Failure::reconnect: return "reconnect";
        case Failure::other: return "other";
    }
    return "other";
}

Failure classify_sqlstate(std::string_view s) {
    if (s.empty()) return Failure::reconnect;
    if (s == "40001" || s == "40P01") return Failure::retry;
    if (s.starts_with("23")) return Failure::conflict;
    // 08: connection exception; 57P01 admin_shutdown (pg_terminate_backend,
    // fast shutdown), 57P02 crash_shutdown (another backend crashed: the
    // postmaster resets every session), 57P03 cannot_connect_now (starting
    // up, recovery), 57P04 database_dropped.
    if (s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03") return Failure::reconnect;
    return Failure::other;
}

namespace {

struct OptionsDeleter {
    void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using Options = std::unique_ptr<PQconninfoOption, OptionsDeleter>;

Options parse(std::string_view url) {
    char* err = nullptr;
    Options o(PQconninfoParse(std::string(url).c_str(), &err));
    PQfreemem(err);  // may echo the string: never shown
    return o;
}

std::string value(const Options& o, std::string_view key) {
    for (auto* p = o.get(); p && p->keyword; ++p)
        if (key == p->keyword && p->val) return p->val;
    return {};
}

}  // namespace

std::string redact(std::string_view url) {
    auto o = parse(url);
    if (!o) return "(an unparsable connection string)";
    std::string host = value(o, "host");
    if (host.empty()) host = value(o, "hostaddr");
    std::string out = "postgresql://";
    if (auto user = value(o, "user"); !user.empty()) out += user + "@";
    out += host.empty() ? "localhost" : host;
    if (auto port = value(o, "port"); !port.empty()) out += ":" + port;
    if (auto db = value(o, "dbname"); !db.empty()) out += "/" + db;
    return out;
}

std::string password_of(std::string_view url) {
    auto o = parse(url);
    return o ? value(o, "password") : std::string();
}

std::string scrub(std::string text, std::string_view secret) {
    if (secret.size() < 3) return text;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3))
        text.replace(pos, secret.size(), "***");
    return text;
}

}  // namespace depositd::store::pg
