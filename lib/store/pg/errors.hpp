#pragma once
// What a PostgreSQL failure means to the caller, from its SQLSTATE
// (https://www.postgresql.org/docs/15/errcodes-appendix.html), and keeping
// the password of a connection URL out of every text we log or return.
#include <string>
#include <string_view>

namespace depositd::store::pg {

enum class Failure {
    none,
    retry,      // 40001 serialization_failure, 40P01 deadlock_detected: roll back and run the unit again
    conflict,   // 23xxx integrity constraint (23505 unique_violation): an answer, not a fault (Errc::conflict)
    reconnect,  // the session is gone: 08xxx connection exceptions, 57P01..57P03 (terminated, server
                // shutting down / starting), a socket error or an answer that did not come in time
    other,      // anything else: a bug in our SQL (42xxx), bad data (22xxx), disk full, ...
};
const char* to_string(Failure f);

// The failure class of a SQLSTATE ("" = no SQLSTATE: the client lost the
// connection itself, which is Failure::reconnect).
Failure classify_sqlstate(std::string_view sqlstate);

// A connection string for logs and error texts: "postgresql://user@host:port/db",
// never the password (also not a password=... of a key=value string). A
// string libpq cannot parse is shown as "(an unparsable connection string)".
std::string redact(std::string_view url);

// The password of a connection string ("" if none or unparsable), so texts
// that might echo it can be scrubbed.
std::string password_of(std::string_view url);
// text with every occurrence of secret replaced by "***" (secrets shorter
// than 3 characters are left alone: replacing them would garble the text
// without hiding anything worth hiding).
std::string scrub(std::string text, std::string_view secret);

}  // namespace depositd::store::pg
