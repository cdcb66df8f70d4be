#pragma once
// SQLite's query plans, for tests that check a statement is served by an index.
#include <string>

#include <gtest/gtest.h>

#include "store/database.hpp"

namespace test_store {

// EXPLAIN QUERY PLAN of `sql`, one line per step (a failed step fails the
// test and ends the text).
inline std::string sqlite_query_plan(depositd::store::Database& db, const std::string& sql) {
    auto plan = db.prepare("EXPLAIN QUERY PLAN " + sql);
    std::string all;
    for (;;) {
        auto r = plan.step();
        if (!r || !*r) {
            EXPECT_TRUE(r) << r.error().describe();
            return all;
        }
        all += plan.text(3) + "\n";
    }
}

}  // namespace test_store
