#include "store/database.hpp"

#include <atomic>

#include <sqlite3.h>

#include <stdexcept>

#include "store/files.hpp"

namespace depositd::store {

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

Statement::~Statement() {
    if (stmt_) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
}

Statement& Statement::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind_blob(int i, std::span<const std::uint8_t> v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
}

Result<bool> Statement::step() {
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

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
std::string Statement::text(int col) const {
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
    std::unique_ptr<Database> db(new Database(raw));
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    // synchronous=FULL: a commit is on disk when COMMIT returns. With NORMAL a
    // power loss could undo a bind already answered or a deposit whose
    // webhook was already delivered (docs/performance.md has the cost).
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
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
    std::unique_ptr<Database> db(new Database(raw));
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    if (auto s = db->exec("PRAGMA query_only=ON"); !s)
        return make_error(Errc::io, "cannot set up database " + path + ": " + s.error().message);
    return db;
}

Database::~Database() {
    for (auto& [_, s] : cache_) sqlite3_finalize(s);
    sqlite3_close(db_);
}

Statement Database::prepare(std::string_view sql) {
    std::string key(sql);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT, &s,
                               nullptr) != SQLITE_OK)
            throw std::logic_error("SQL does not prepare: " + std::string(sqlite3_errmsg(db_)) + " in: " + key);
        it = cache_.emplace(std::move(key), s).first;
    }
    return Statement(this, it->second);
}

Status Database::exec(std::string_view sql) {
    char* err = nullptr;
    std::string s(sql);
    if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(db_);
        sqlite3_free(err);
        return make_error(Errc::io, "sqlite: " + msg);
    }
    return {};
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }
std::string Database::last_error() const { return sqlite3_errmsg(db_); }

Transaction::Transaction(Database& db) : db_(db) {
    // Inside a transaction already (an action that also writes the audit log
    // around a function that groups its own writes): a savepoint, so the
    // inner unit rolls back alone and commits only with the outer one.
    if (sqlite3_get_autocommit(db_.handle()) == 0) {
        static std::atomic<std::uint64_t> next{0};
        savepoint_ = "depositd_sp_" + std::to_string(++next);
        begun_ = db_.exec("SAVEPOINT " + savepoint_);
    } else {
        begun_ = db_.exec("BEGIN IMMEDIATE");
    }
    if (!begun_) done_ = true;
}

Transaction::~Transaction() {
    if (done_) return;
    if (savepoint_.empty()) {
        (void)db_.exec("ROLLBACK");
    } else {
        (void)db_.exec("ROLLBACK TO " + savepoint_);
        (void)db_.exec("RELEASE " + savepoint_);
    }
}

Status Transaction::commit() {
    if (done_) return make_error(Errc::internal, "transaction already finished");
    auto s = db_.exec(savepoint_.empty() ? std::string("COMMIT") : "RELEASE " + savepoint_);
    if (s) done_ = true;
    return s;
}

}  // namespace depositd::store
