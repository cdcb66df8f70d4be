#include "store/database.hpp"

#include <algorithm>
#include <atomic>

#include "core/log.hpp"
#include "store/pg/transaction.hpp"

#include <sqlite3.h>

#include <stdexcept>

#include "store/files.hpp"
#include "store/pg/dialect.hpp"
#include "store/pg/errors.hpp"
#include "store/pg_backend.hpp"

namespace depositd::store {

const char* to_string(Backend b) { return b == Backend::postgresql ? "postgresql" : "sqlite"; }

bool is_postgres_url(std::string_view location) {
    return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

Statement::Statement(Database* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}

Statement::Statement(Database* db, std::unique_ptr<pg_backend::Query> q) : db_(db), pg_(std::move(q)) {}

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_), pg_(std::move(o.pg_)) { o.stmt_ = nullptr; }

Statement::~Statement() {
    if (stmt_) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
}

Statement& Statement::bind(int i, std::int64_t v) {
    if (pg_) pg_->bind(i, pg::Param(v));
    else sqlite3_bind_int64(stmt_, i, v);
    return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
    if (pg_) pg_->bind(i, pg::Param(v));
    else sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind_blob(int i, std::span<const std::uint8_t> v) {
    if (pg_) pg_->bind(i, pg::Param::bytea(v));
    else sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind_null(int i, NullType t) {
    if (pg_)
        pg_->bind(i, pg::Param::null(t == NullType::integer ? pg::Type::int8
                                     : t == NullType::text  ? pg::Type::text
                                                            : pg::Type::unknown));
    else sqlite3_bind_null(stmt_, i);
    return *this;
}

std::int64_t Statement::changes() const {
    if (pg_) return pg_->changes();
    return sqlite3_changes(sqlite3_db_handle(stmt_));
}

Result<bool> Statement::step() {
    if (pg_) return pg_->step();
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Errc code = (rc & 0xff) == SQLITE_CONSTRAINT ? Errc::conflict : Errc::io;
    return make_error(code, std::string("sqlite: ") + sqlite3_errmsg(sqlite3_db_handle(stmt_)));
}

Status Statement::run() {
    for (;;) {
        auto r = step();
        if (!r) return r.error();
        if (!*r) return {};
    }
}

Status Statement::run_pipelined(std::int64_t expect_rows, Errc code, std::string message) {
    if (pg_) return pg_->send({expect_rows, code, std::move(message)});
    if (auto s = run(); !s) return s;
    if (expect_rows >= 0 && sqlite3_changes(sqlite3_db_handle(stmt_)) != expect_rows)
        return make_error(code, std::move(message));
    return {};
}

Status Statement::run_pipelined(std::function<void(std::int64_t)> changed) {
    if (pg_) {
        pg::Connection::Expect expect;
        expect.changed = std::move(changed);
        return pg_->send(std::move(expect));
    }
    if (auto s = run(); !s) return s;
    changed(changes());
    return {};
}

bool Statement::is_null(int col) const {
    if (pg_) return pg_->is_null(col);
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
std::int64_t Statement::int64(int col) const {
    if (pg_) return pg_->int64(col);
    return sqlite3_column_int64(stmt_, col);
}
std::string Statement::text(int col) const {
    if (pg_) return pg_->text(col);
    auto p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
}
std::optional<std::string> Statement::opt_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
}
std::optional<std::int64_t> Statement::opt_int64(int col) const {
    if (is_null(col)) return std::nullopt;
    return int64(col);
}
std::vector<std::uint8_t> Statement::blob(int col) const {
    if (pg_) return pg_->blob(col);
    auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::vector<std::uint8_t>(p, p + n) : std::vector<std::uint8_t>{};
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path, int busy_timeout_ms) {
    if (auto s = prepare_database_file(path); !s) return s.error();  // 0600 (store/files.hpp)
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
        sqlite3_close(raw);
        return make_error(Errc::io, "cannot open database " + path + ": " + msg);
    }
    std::unique_ptr<Database> db(new Database(raw, path));
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    // synchronous=FULL: a commit is on disk when COMMIT returns. With NORMAL a
    // power loss could undo a bind already answered or a deposit whose
    // webhook was already delivered (docs/performance.md has the cost).
    // temp_store=MEMORY: statement and savepoint journals stay in memory. On
    // disk, every INSERT into an indexed table inside a batch's transaction
    // wrote each page it touched to a temporary file first: two write(2)s per
    // page, ~110,000 per 2,000 deposits, most of a catch-up's writer time.
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                               "PRAGMA temp_store=MEMORY"}) {
        // journal_mode returns a row; exec handles that.
        if (auto s = db->exec(pragma); !s) return make_error(Errc::io, "cannot set up database " + path + ": " + s.error().message);
    }
    return db;
}

Result<std::unique_ptr<Database>> Database::open_reader(const std::string& path, int busy_timeout_ms) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
        sqlite3_close(raw);
        return make_error(Errc::io, "cannot open database " + path + " for reading: " + msg);
    }
    std::unique_ptr<Database> db(new Database(raw, path));
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    if (auto s = db->exec("PRAGMA query_only=ON"); !s)
        return make_error(Errc::io, "cannot set up database " + path + ": " + s.error().message);
    return db;
}

Database::Database(sqlite3* db, std::string location) : db_(db), location_(std::move(location)) {}

Database::Database(std::unique_ptr<pg_backend::Session> pg)
    : pg_(std::move(pg)), location_(pg_->conn().target()) {}

Result<std::unique_ptr<Database>> Database::connect(const std::string& url, PgOptions options) {
    pg::ConnectOptions o;
    o.url = url;
    o.application_name = options.application_name;
    o.health = options.health;
    if (!options.wait_for_database) {
        o.retry.reconnect_deadline = std::chrono::milliseconds(0);  // one attempt
        o.retry.max_redos = 1;
    }
    auto conn = pg::Connection::connect(std::move(o));
    if (!conn) return conn.error();
    return std::unique_ptr<Database>(new Database(std::make_unique<pg_backend::Session>(std::move(*conn))));
}

Result<std::unique_ptr<Database>> Database::open_location(const std::string& location, int busy_timeout_ms) {
    if (is_postgres_url(location)) return connect(location);
    return open(location, busy_timeout_ms);
}

Database::~Database() {
    for (auto& [_, s] : cache_) sqlite3_finalize(s);
    if (db_) sqlite3_close(db_);
}

bool Database::in_transaction() const {
    if (pg_) return pg_->conn().in_transaction();
    return sqlite3_get_autocommit(db_) == 0;
}

void Database::begin_unit() {
    if (pg_) pg_->begin_unit();
}

bool Database::retry_unit() { return pg_ && pg_->retry_unit(); }

void Database::interrupt() {
    if (pg_) pg_->conn().interrupt();
    else sqlite3_interrupt(db_);
}

Statement Database::prepare(std::string_view sql) {
    if (pg_) {
        // ?N -> $N once per SQL text (the session prepares it at its first run).
        auto it = pg_sql_.find(sql);
        if (it == pg_sql_.end()) {
            it = pg_sql_.try_emplace(std::string(sql)).first;
            auto text = pg::numbered_placeholders(sql);
            if (!text) {
                pg_sql_.erase(it);
                throw std::logic_error(text.error().message + " in: " + std::string(sql));
            }
            // The highest ?N: every parameter up to it is sent (NULL unless
            // bound, as SQLite reads an unbound one).
            int highest = 0;
            for (std::size_t i = 0; i < sql.size(); ++i) {
                if (sql[i] != '?') continue;
                int n = 0;
                while (i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') n = n * 10 + (sql[++i] - '0');
                highest = std::max(highest, n);
            }
            it->second = {std::move(*text), highest};
        }
        return Statement(this, std::make_unique<pg_backend::Query>(*pg_, it->second.first, it->second.second));
    }
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        std::string key(sql);
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT, &s,
                               nullptr) != SQLITE_OK)
            throw std::logic_error("SQL does not prepare: " + std::string(sqlite3_errmsg(db_)) + " in: " + key);
        it = cache_.emplace(std::move(key), s).first;
    }
    return Statement(this, it->second);
}

Status Database::exec(std::string_view sql) {
    if (pg_) {
        auto r = pg_->conn().exec(sql);
        if (!r) return pg_backend::unit_error(*pg_, r.error());
        return {};
    }
    char* err = nullptr;
    std::string s(sql);
    if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(db_);
        sqlite3_free(err);
        return make_error(Errc::io, "sqlite: " + msg);
    }
    return {};
}

int Database::changes() const {
    if (pg_) {
        auto& conn = pg_->conn();
        if (conn.unsettled() > 0) {
            if (auto s = conn.settle(); !s) (void)pg_backend::unit_error(*pg_, s.error());
            pg_->changes = conn.last_affected();
        }
        return static_cast<int>(pg_->changes);
    }
    return sqlite3_changes(db_);
}
std::string Database::last_error() const {
    if (pg_) return pg_->conn().ok() ? std::string(pg::to_string(pg_->conn().failure().kind)) : "no session";
    return sqlite3_errmsg(db_);
}

Transaction::Transaction(Database& db) : db_(db) {
    // Inside a transaction already (an action that also writes the audit log
    // around a function that groups its own writes): a savepoint, so the
    // inner unit rolls back alone and commits only with the outer one.
    if (db_.in_transaction()) {
        static std::atomic<std::uint64_t> next{0};
        savepoint_ = "depositd_sp_" + std::to_string(++next);
        begun_ = db_.exec("SAVEPOINT " + savepoint_);
    } else if (db_.pg_) {
        // SERIALIZABLE: several processes may write (depositctl, standbys);
        // the id settles a COMMIT whose answer is lost.
        auto& conn = db_.pg_->conn();
        auto r = conn.exec("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT pg_current_xact_id()::text");
        if (!r) {
            begun_ = pg_backend::unit_error(*db_.pg_, r.error());
            if (conn.ok() && conn.in_transaction()) (void)conn.exec("ROLLBACK");
        } else if (!r->empty()) {
            if (auto x = (*r)[0].text(0)) xid_ = std::move(*x);
        }
    } else {
        begun_ = db_.exec("BEGIN IMMEDIATE");
    }
    if (!begun_) done_ = true;
}

Transaction::~Transaction() {
    if (done_) return;
    if (db_.pg_) {
        auto& conn = db_.pg_->conn();
        (void)conn.settle();  // the writes sent ahead: their answers first
        if (!conn.ok()) return;  // the server rolled it back with the session
    }
    if (savepoint_.empty()) {
        (void)db_.exec("ROLLBACK");
    } else {
        (void)db_.exec("ROLLBACK TO " + savepoint_);
        (void)db_.exec("RELEASE " + savepoint_);
        // What failed inside the savepoint is undone with it.
        if (db_.pg_) db_.pg_->conn().forget_pipeline_error();
    }
}

Status Transaction::commit() {
    if (done_) return make_error(Errc::internal, "transaction already finished");
    if (db_.pg_) {
        // Writes sent ahead must all have done what they expected before
        // COMMIT (the server does not know what they expected); on failure
        // the destructor rolls back.
        if (auto s = db_.pg_->conn().settle(); !s) return pg_backend::unit_error(*db_.pg_, s.error());
    }
    if (!db_.pg_ || !savepoint_.empty()) {
        auto s = db_.exec(savepoint_.empty() ? std::string("COMMIT") : "RELEASE " + savepoint_);
        if (s) done_ = true;
        return s;
    }
    done_ = true;  // whatever COMMIT answers, the transaction block is over
    auto& session = *db_.pg_;
    auto& conn = session.conn();
    auto r = conn.exec("COMMIT");
    if (r) {
        // COMMIT of a transaction in which a statement failed answers
        // ROLLBACK: the unit went on after a failure (a serialization failure
        // noted for retry_unit, or our bug).
        if (r->command() != "ROLLBACK") {
            session.committed();
            return {};
        }
        session.note_failure();
        return make_error(Errc::internal, "the transaction was rolled back: a statement in it failed (" +
                                              std::string(pg::to_string(conn.failure().kind)) + " " +
                                              conn.failure().sqlstate + ")");
    }
    const pg::Failure kind = conn.ok() ? conn.failure().kind : pg::Failure::reconnect;
    if (kind != pg::Failure::reconnect || xid_.empty()) return pg_backend::unit_error(session, r.error());
    // The session went during COMMIT: whether it committed is known only to
    // the server. Ask it on a new session, by the transaction's id.
    conn.drop(r.error().message);
    if (auto s = conn.recover(); !s) return s;
    auto c = pg::committed(conn, xid_);
    if (!c) return make_error(Errc::unavailable, "the outcome of a COMMIT is unknown: " + c.error().message);
    if (*c) {
        log::get("store")->info("postgresql {}: the COMMIT whose answer was lost did commit (transaction {})",
                                conn.target(), xid_);
        session.committed();
        return {};
    }
    session.note_lost_commit();
    return make_error(Errc::unavailable, "the session was lost during COMMIT, which did not happen; the unit runs again");
}

}  // namespace depositd::store
