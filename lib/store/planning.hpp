#pragma once
// Query planning hints a unit of work can give the store.
#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

// For the rest of the open transaction, statements are planned for their
// parameters at each execution instead of reusing a generic plan. For a
// transaction that reads tables which may have grown far past what their
// statistics say: a catch-up into a fresh PostgreSQL database, whose cached
// generic plans were made while the tables were empty, scanned the whole
// deposits table for each 64-key lookup (1.3 s of the server's 3 s in a
// 6,000-deposit catch-up) until autovacuum's next ANALYZE. Per transaction
// only: for the webhook dispatcher's many small statements, planning each
// time costs more than it saves (SET LOCAL ends with the transaction).
// SQLite plans each statement when prepared: nothing to do.
Status plan_for_each_execution(Database& db);

}  // namespace depositd::store
