#pragma once
// A thin SQLite layer: one connection, WAL, busy timeout, prepared (and
// cached) statements only, RAII transactions and file-based migrations.
// Repositories (pool, deposits, events, cursors) are built on this.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace depositd::store {

class Database;

// A prepared statement borrowed from the connection's cache. Bind
// parameters are 1-based, columns 0-based. It is reset when it goes away.
class Statement {
public:
    Statement(Statement&&) noexcept;
    Statement& operator=(Statement&&) = delete;
    ~Statement();

    Statement& bind(int i, std::int64_t v);
    Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, std::string_view v);
    Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Statement& bind_blob(int i, std::span<const std::uint8_t> v);
    Statement& bind_null(int i);
    template <class T>
    Statement& bind(int i, const std::optional<T>& v) {
        return v ? bind(i, *v) : bind_null(i);
    }

    // true: a row is ready; false: done. Errors (constraint, busy) are values.
    Result<bool> step();
    // Runs to completion (for INSERT/UPDATE/DELETE).
    Status run();

    bool is_null(int col) const;
    std::int64_t int64(int col) const;
    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    std::optional<std::int64_t> opt_int64(int col) const;
    std::vector<std::uint8_t> blob(int col) const;

private:
    friend class Database;
    Statement(Database* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}
    Database* db_;
    sqlite3_stmt* stmt_;
};

class Database {
public:
    // Opens (creating) the database file, WAL mode, foreign keys on,
    // busy timeout so depositctl and the daemon can share it.
    static Result<std::unique_ptr<Database>> open(const std::string& path, int busy_timeout_ms = 5000);
    // A connection that only reads (PRAGMA query_only): API reads beside the
    // writer under WAL. The database must exist.
    static Result<std::unique_ptr<Database>> open_reader(const std::string& path, int busy_timeout_ms = 5000);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Applies the embedded schema/NNN_name.sql files not applied yet, in
    // file order, each in its own transaction together with its row in
    // schema_migrations (store/migrate.cpp).
    Status migrate();
    // The number of the highest migration applied (0: none), for logs.
    int schema_version();
    // The migrations applied, by name ("003_deposit_indexes"), in name order.
    Result<std::vector<std::string>> applied_migrations();

    // Cached prepared statement. Throws std::logic_error on a SQL typo: that
    // is a programming error, never input.
    Statement prepare(std::string_view sql);
    // For DDL and PRAGMAs without parameters only.
    Status exec(std::string_view sql);

    std::int64_t last_insert_rowid() const;
    int changes() const;
    std::string last_error() const;
    sqlite3* handle() { return db_; }

private:
    explicit Database(sqlite3* db) : db_(db) {}
    sqlite3* db_;
    std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back unless commit() succeeded. Opened
// inside another transaction it is a SAVEPOINT instead: commit() releases it
// (its writes become part of the outer transaction), without commit() only
// its own writes are rolled back.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    // False if BEGIN failed (e.g. busy beyond the timeout).
    const Status& begun() const { return begun_; }
    Status commit();

private:
    Database& db_;
    Status begun_;
    bool done_ = false;
    std::string savepoint_;  // empty: the outermost transaction
};

// The migrations compiled into the binary (schema/NNN_name.sql), in file
// order. A migration is recorded as applied by its name ("007_counts_per_table"),
// not by its number: migrations written in parallel may share a number, and
// one numbered below the highest applied one is still applied when missing.
struct Migration {
    int version;
    std::string name;
    std::string_view sql;
    std::string id() const;  // "007_counts_per_table"
};
std::span<const Migration> embedded_migrations();

// Migrations from an explicit list (tests use this for crash/partial cases).
Status migrate_with(Database& db, std::span<const Migration> migrations);

}  // namespace depositd::store
