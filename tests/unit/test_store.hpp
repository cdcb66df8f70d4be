#pragma once
// Where a test's database lives. By default a SQLite file in the test's own
// folder; with DEPOSITD_TEST_STORE=postgresql (ctest's unit.pg.* entries) a
// fresh database of a throwaway PostgreSQL cluster, one cluster per test
// binary, started at the first use (pg_test_cluster.hpp) and stopped at exit.
// Tests written against store::Database / store::Store then run unchanged on
// both backends.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "pg_test_cluster.hpp"

namespace test_store {

inline bool postgres() {
    const char* e = std::getenv("DEPOSITD_TEST_STORE");
    return e && std::string(e) == "postgresql";
}

inline pg_test::Cluster& cluster() {
    static std::unique_ptr<pg_test::Cluster> c = std::make_unique<pg_test::Cluster>();
    if (!c->available()) throw std::runtime_error("DEPOSITD_TEST_STORE=postgresql: " + c->skip_reason());
    return *c;
}

// A fresh, empty folder for the running test: <tmp>/<prefix>_<pid>_<test name>.
// The test removes it (std::filesystem::remove_all) when it ends.
inline std::filesystem::path test_folder(const std::string& prefix) {
    const auto dir = std::filesystem::temp_directory_path() /
                     (prefix + "_" + std::to_string(::getpid()) + "_" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// The store location for a test: `sqlite_file`, or a new PostgreSQL database's URL.
inline std::string location(const std::filesystem::path& sqlite_file) {
    if (!postgres()) return sqlite_file.string();
    auto& c = cluster();
    return c.url(c.create_database());
}

}  // namespace test_store
