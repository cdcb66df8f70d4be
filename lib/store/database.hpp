#pragma once
// The store's one database interface, with two backends (SQLite, the
// embedded default; PostgreSQL with `[store] url`): one connection, prepared
// (and cached) statements only, RAII transactions and migrations tracked by
// name. Repositories (pool, deposits, events, cursors) are built on this and
// do not know which backend they talk to: their SQL is written once, in the
// subset both dialects read the same way (?N placeholders, ON CONFLICT,
// RETURNING, WHERE TRUE; docs/architecture.md, "Two backends").
//
// SQLite: one file, WAL, busy timeout; BEGIN IMMEDIATE takes the one write
// lock, so write transactions are serial.
// PostgreSQL (store/pg_backend.cpp over store/pg/): write transactions are
// SERIALIZABLE, which gives the same ordering where several processes write;
// a serialization failure or a lost session marks the unit of work for
// another run (begin_unit/retry_unit: Store runs every job that way), a COMMIT
// whose answer was lost is settled by its transaction id first.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace depositd::store {

class Database;
namespace pg {
class Health;
}
namespace pg_backend {
class Session;
class Query;
}  // namespace pg_backend

enum class Backend { sqlite, postgresql };
const char* to_string(Backend b);  // "sqlite" | "postgresql"

// A store location is a PostgreSQL connection URL ("postgresql://..." or
// "postgres://...") or else a SQLite file path.
bool is_postgres_url(std::string_view location);

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
    // What a NULL stands for. PostgreSQL must know each parameter's type:
    // "unknown" takes the type of the NULL's place (a column it is written
    // to, a value it is compared with) but a lone "?3 IS NULL" has none, so
    // an optional binds a NULL of its own type.
    enum class NullType { unknown, integer, text };
    Statement& bind_null(int i, NullType t = NullType::unknown);
    template <class T>
    Statement& bind(int i, const std::optional<T>& v) {
        if (v) return bind(i, *v);
        return bind_null(i, std::is_integral_v<T> ? NullType::integer : NullType::text);
    }

    // true: a row is ready; false: done. Errors (constraint, busy) are values.
    Result<bool> step();
    // Runs to completion (for INSERT/UPDATE/DELETE).
    Status run();
    // For a write whose answer the caller does not need now: on PostgreSQL,
    // inside a transaction, the statement is only sent (pipelined; see
    // pg::Connection::send) and a failure comes out of the next statement
    // that waits for an answer, at the latest the COMMIT, which it stops. A
    // unit's writes then cost one round trip together. `expect_rows` >= 0:
    // the rows it must change, else the unit fails with `code` and
    // `message` (SQLite: at once). Only for callers that propagate every
    // failure: none of them is a value to decide on.
    Status run_pipelined(std::int64_t expect_rows = -1, Errc code = Errc::not_found, std::string message = {});
    // The same for a write whose changed-row count the caller needs only by
    // the end of the unit: `changed(rows)` is called when its answer is read
    // (PostgreSQL: at the latest by the COMMIT, and not if it failed; SQLite:
    // at once).
    Status run_pipelined(std::function<void(std::int64_t)> changed);
    // Rows the last run of this statement inserted, changed or deleted.
    std::int64_t changes() const;

    bool is_null(int col) const;
    std::int64_t int64(int col) const;
    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    std::optional<std::int64_t> opt_int64(int col) const;
    std::vector<std::uint8_t> blob(int col) const;

private:
    friend class Database;
    Statement(Database* db, sqlite3_stmt* s);
    Statement(Database* db, std::unique_ptr<pg_backend::Query> q);
    Database* db_;
    sqlite3_stmt* stmt_ = nullptr;
    std::unique_ptr<pg_backend::Query> pg_;  // set on PostgreSQL, stmt_ on SQLite
};

struct PgOptions {
    std::string application_name = "depositd";
    // Shared by every connection of one store, for /health ("degraded").
    std::shared_ptr<pg::Health> health;
    // A lost session: wait for the database with backoff (the writer, whose
    // units must get done), or try one new session and fail at once (API
    // readers: a request answers 503 rather than holding a worker).
    bool wait_for_database = true;
};

class Database {
public:
    // Opens (creating) the database file, WAL mode, foreign keys on,
    // busy timeout so depositctl and the daemon can share it.
    static Result<std::unique_ptr<Database>> open(const std::string& path, int busy_timeout_ms = 5000);
    // A connection that only reads (PRAGMA query_only): API reads beside the
    // writer under WAL. The database must exist.
    static Result<std::unique_ptr<Database>> open_reader(const std::string& path, int busy_timeout_ms = 5000);
    // A PostgreSQL session (libpq URI). Fails at once, with the URL's
    // password left out of the message, when the server cannot be reached.
    static Result<std::unique_ptr<Database>> connect(const std::string& url, PgOptions options = {});
    // open() for a path, connect() for a PostgreSQL URL.
    static Result<std::unique_ptr<Database>> open_location(const std::string& location, int busy_timeout_ms = 5000);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Applies the embedded schema/NNN_name.sql files (schema/pg/ on
    // PostgreSQL) not applied yet, in file order, each in its own transaction together with its row in
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

    // Rows the last INSERT/UPDATE/DELETE on this connection changed.
    int changes() const;
    std::string last_error() const;

    Backend backend() const { return pg_ ? Backend::postgresql : Backend::sqlite; }
    // The SQLite connection; nullptr on PostgreSQL.
    sqlite3* handle() { return db_; }
    // Where it is: the file, or the URL without its password.
    const std::string& location() const { return location_; }
    // Inside BEGIN ... COMMIT.
    bool in_transaction() const;

    // Units of work. A unit is a function of Database& (a Store job); on
    // PostgreSQL it may have to run again: its transaction met a
    // serialization failure or deadlock, or the session was lost before its
    // COMMIT (or during it, and the COMMIT did not happen). begin_unit()
    // starts one; after it ran, retry_unit() says whether to run it again
    // (after a pause, with a fresh session when the old one was lost). So a
    // unit computes everything from the database and keeps side effects
    // (memory, network) until it has returned. Never true on SQLite.
    void begin_unit();
    bool retry_unit();
    // Ends every wait of this connection (reconnect backoff) for shutdown.
    void interrupt();

private:
    friend class Statement;
    friend class Transaction;
    Database(sqlite3* db, std::string location);
    explicit Database(std::unique_ptr<pg_backend::Session> pg);
    sqlite3* db_ = nullptr;
    std::unique_ptr<pg_backend::Session> pg_;  // set on PostgreSQL, db_ on SQLite
    std::string location_;
    // Looked up by the caller's string_view: no copy of the SQL per statement.
    struct SqlHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view sql) const noexcept { return std::hash<std::string_view>{}(sql); }
    };
    std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> cache_;
    // Our SQL -> PostgreSQL's spelling and its highest parameter number.
    std::unordered_map<std::string, std::pair<std::string, int>, SqlHash, std::equal_to<>> pg_sql_;
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
    std::string xid_;        // PostgreSQL: the transaction's id, to settle a lost COMMIT
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
std::span<const Migration> embedded_migrations();     // schema/NNN_name.sql (SQLite)
std::span<const Migration> embedded_pg_migrations();  // schema/pg/NNN_name.sql (PostgreSQL)

// Migrations from an explicit list (tests use this for crash/partial cases).
Status migrate_with(Database& db, std::span<const Migration> migrations);

}  // namespace depositd::store
