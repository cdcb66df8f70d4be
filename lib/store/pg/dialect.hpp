#pragma once
// SQL text shared by the SQLite and PostgreSQL backends.
//
// The repositories write placeholders as ?1, ?2, ... (SQLite's numbered
// form, bound by number however often and in whatever order they appear).
// PostgreSQL spells them $1, $2, .... (SQLite's own $1 would not do for both:
// SQLite takes "$1" as a *named* parameter and numbers named parameters by
// first appearance, so "SELECT $2, $1" binds its first argument to $2.)
// The PostgreSQL backend rewrites ?N to $N once, when it prepares a
// statement; string literals, quoted identifiers, comments and
// dollar-quoted bodies are left alone.
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace depositd::store::pg {

// "... WHERE a = ?1 AND b = ?2 OR ?1 IS NULL" -> "... WHERE a = $1 AND b = $2 OR $1 IS NULL".
// A bare "?" (SQLite's anonymous parameter) is refused (Errc::internal):
// our SQL always numbers its parameters.
Result<std::string> numbered_placeholders(std::string_view sqlite_sql);

}  // namespace depositd::store::pg
