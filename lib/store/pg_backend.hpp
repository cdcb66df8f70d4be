#pragma once
// The PostgreSQL backend of store::Database and store::Statement (private to
// lib/store; database.hpp is the interface). It maps the interface onto one
// pg::Connection:
//  - prepare(sql): the SQL's ?N placeholders become $N once (pg/dialect);
//    the statement is prepared on the session at its first run, with the
//    types of the values bound (bigint, text, bytea; NULL as "unknown", so the
//    server takes the column's type);
//  - step(): the first call runs it and keeps the answer, the next ones walk
//    its rows; getters convert like SQLite's (an integer read as text is its
//    decimal form, a boolean is 0/1), anything else is our bug and throws
//    std::logic_error (as a SQL typo does on SQLite);
//  - a failure that asks for another run of the unit of work (serialization
//    failure, deadlock, session lost) is remembered for retry_unit().
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/pg/connection.hpp"

namespace depositd::store::pg_backend {

class Session {
public:
    explicit Session(std::unique_ptr<pg::Connection> conn) : conn_(std::move(conn)) {}
    pg::Connection& conn() { return *conn_; }

    // Notes what a failed statement or COMMIT means for the unit.
    void note_failure();
    // A COMMIT whose answer was lost and which did not happen: run the unit again.
    void note_lost_commit() { retry_ = true; }
    // A COMMIT went through: what the unit did is done, whatever failed
    // inside it (in a savepoint it rolled back) must not make it run again.
    void committed() { retry_ = false; }
    void begin_unit();
    bool retry_unit();

    // The last INSERT/UPDATE/DELETE's row count (Database::changes()).
    std::int64_t changes = 0;

private:
    std::unique_ptr<pg::Connection> conn_;
    bool retry_ = false;
    int retries_ = 0;
    int redos_ = 0;
};

class Query {
public:
    // `parameters`: the highest $N of sql; each is a text NULL until bound
    // (PostgreSQL accepts an unused text NULL, not an unused "unknown").
    Query(Session& session, std::string sql, int parameters);

    void bind(int i, pg::Param p);
    Result<bool> step();
    // Joins the connection's pipeline inside a transaction (runs at once
    // outside one); see pg::Connection::send.
    Status send(pg::Connection::Expect expect);
    // Settles a statement sent ahead first.
    std::int64_t changes();
    void reset();

    bool is_null(int col) const;
    std::int64_t int64(int col) const;
    std::string text(int col) const;
    std::vector<std::uint8_t> blob(int col) const;

private:
    pg::Row row(int col) const;
    [[noreturn]] void bad(const Error& e) const;

    Session& session_;
    std::string sql_;
    std::vector<pg::Param> params_;
    std::optional<pg::Rows> rows_;
    int next_ = 0;
    std::int64_t changes_ = 0;
    bool sent_ = false;  // in the pipeline, not settled by us yet
};

// Converts the connection's failure of status s into the unit's error: a
// conflict stays Errc::conflict, the rest keeps its code and message.
Error unit_error(Session& s, const Error& e);

}  // namespace depositd::store::pg_backend
