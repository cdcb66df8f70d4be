// depositctl migrate-store: copies the SQLite database of the configuration
// into an empty PostgreSQL database (SPEC: "the daemon stopped"), checking
// the copy before it commits.
//
//  - The source must not be in use: another process that has the file open
//    (the daemon, another depositctl) holds a shared lock on its -shm file,
//    which is checked first; then the copy holds SQLite's write lock (BEGIN
//    IMMEDIATE) from start to end, so nothing can change the source
//    meanwhile, and reads it through a read-only connection (one snapshot).
//  - The target is migrated (schema/pg/) and must be empty.
//  - Every table of the schema is copied, parents before children (foreign
//    keys), all columns by name: the column lists of both sides must match,
//    except PostgreSQL's rowid column, which takes SQLite's implicit rowid.
//    Not copied: schema_migrations (each side has its own) and the count
//    tables that triggers keep (inserting the rows fills them on PostgreSQL
//    as on SQLite).
//  - Identity sequences are moved past the copied ids.
//  - Before COMMIT, in the same transaction: the rows of every copied table,
//    the max of every identity column and the non-zero rows of every count
//    table are compared with the source; any difference rolls everything back.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <span>

#include "ctl.hpp"
#include "store/database.hpp"
#include "store/files.hpp"

namespace depositd::ctl {

namespace {

// Kept by triggers on the base tables (schema 003, 007): not copied, compared.
// A new table of that kind must be named here.
const std::set<std::string> kCountTables = {"deposit_counts", "pool_counts", "event_counts"};
// The store's own bookkeeping: each side records its own migrations.
const std::set<std::string> kNotCopied = {"schema_migrations", "schema_version"};

// Parameters of one INSERT (PostgreSQL allows 65535).
constexpr std::size_t kMaxParams = 20000;
constexpr std::size_t kMaxRows = 500;

std::string quoted(const std::string& ident) {
    std::string out = "\"";
    for (char c : ident) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

// A statement on the raw SQLite source connection; errors end the command.
class Src {
public:
    Src(sqlite3* db, const std::string& sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr) != SQLITE_OK)
            fail_runtime("source database: " + std::string(sqlite3_errmsg(db)) + " in: " + sql);
    }
    ~Src() { sqlite3_finalize(st_); }
    Src(const Src&) = delete;
    Src& operator=(const Src&) = delete;
    Src& bind(int i, const std::string& v) {
        sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    bool step() {
        int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        fail_runtime("source database: " + std::string(sqlite3_errmsg(db_)));
    }
    int type(int c) const { return sqlite3_column_type(st_, c); }
    std::int64_t int64(int c) const { return sqlite3_column_int64(st_, c); }
    std::string text(int c) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, c))) : std::string();
    }
    std::span<const std::uint8_t> blob(int c) const {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st_, c));
        return {p, static_cast<std::size_t>(sqlite3_column_bytes(st_, c))};
    }

private:
    sqlite3* db_;
    sqlite3_stmt* st_ = nullptr;
};

bool src_prepares(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    const bool ok = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK;
    sqlite3_finalize(st);
    return ok;
}

enum class Kind { integer, text, bytea };

struct Column {
    std::string name;
    Kind kind = Kind::text;
    bool nullable = true;
    bool identity = false;
    bool implicit_rowid = false;  // PostgreSQL's rowid column: SQLite's implicit rowid
};

struct Table {
    std::string name;
    std::vector<Column> columns;  // PostgreSQL's order
    std::vector<std::string> parents;
    bool has_rowid = false;  // SQLite: not WITHOUT ROWID
    bool counts = false;
};

std::optional<Kind> kind_of(const std::string& pg_type) {
    if (pg_type == "bigint" || pg_type == "integer" || pg_type == "smallint") return Kind::integer;
    if (pg_type == "text" || pg_type == "character varying") return Kind::text;
    if (pg_type == "bytea") return Kind::bytea;
    return std::nullopt;
}

const char* sqlite_type_name(int t) {
    switch (t) {
        case SQLITE_INTEGER: return "integer";
        case SQLITE_FLOAT: return "real";
        case SQLITE_TEXT: return "text";
        case SQLITE_BLOB: return "blob";
        default: return "null";
    }
}

// The table as both sides have it; a column on one side only is an error.
Table describe(sqlite3* src, store::Database& pg, const std::string& name) {
    Table t;
    t.name = name;
    t.counts = kCountTables.count(name) > 0;
    t.has_rowid = src_prepares(src, "SELECT rowid FROM " + quoted(name) + " LIMIT 0");

    std::set<std::string> sqlite_cols;
    {
        Src q(src, "SELECT name FROM pragma_table_info(?1)");
        q.bind(1, name);
        while (q.step()) sqlite_cols.insert(q.text(0));
    }
    {
        Src q(src, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)");
        q.bind(1, name);
        while (q.step())
            if (q.text(0) != name) t.parents.push_back(q.text(0));
    }
    auto st = pg.prepare(
        "SELECT column_name::text, data_type::text, is_nullable::text, is_identity::text "
        "FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?1 "
        "ORDER BY ordinal_position");
    st.bind(1, name);
    std::set<std::string> pg_cols;
    for (;;) {
        auto r = st.step();
        if (!r) fail_runtime("target database: " + r.error().message);
        if (!*r) break;
        Column c;
        c.name = st.text(0);
        const std::string type = st.text(1);
        auto k = kind_of(type);
        if (!k) fail_runtime("table " + name + ": column " + c.name + " has type " + type + " on PostgreSQL, which migrate-store does not copy");
        c.kind = *k;
        c.nullable = st.text(2) == "YES";
        c.identity = st.text(3) == "YES";
        pg_cols.insert(c.name);
        if (!sqlite_cols.count(c.name)) {
            if (c.name != "rowid" || !t.has_rowid)
                fail_runtime("table " + name + ": column " + c.name + " is on PostgreSQL but not in the SQLite database");
            c.implicit_rowid = true;
        }
        t.columns.push_back(std::move(c));
    }
    for (const auto& c : sqlite_cols)
        if (!pg_cols.count(c))
            fail_runtime("table " + name + ": column " + c + " is in the SQLite database but not on PostgreSQL");
    return t;
}

// Parents first; the schema has no cycles (one would be an error here).
std::vector<Table> in_key_order(std::vector<Table> tables) {
    std::vector<Table> out;
    std::set<std::string> done;
    std::set<std::string> names;
    for (const auto& t : tables) names.insert(t.name);
    while (!tables.empty()) {
        auto it = std::find_if(tables.begin(), tables.end(), [&](const Table& t) {
            return std::all_of(t.parents.begin(), t.parents.end(),
                               [&](const std::string& p) { return done.count(p) || !names.count(p); });
        });
        if (it == tables.end()) fail_runtime("the tables' foreign keys form a cycle (" + tables.front().name + ")");
        done.insert(it->name);
        out.push_back(std::move(*it));
        tables.erase(it);
    }
    return out;
}

std::string select_list(const Table& t) {
    std::string s;
    for (const auto& c : t.columns) {
        if (!s.empty()) s += ", ";
        s += c.implicit_rowid ? std::string("rowid") : quoted(c.name);
    }
    return s;
}

// INSERT of n rows. A nullable column takes two parameters, the value and a
// flag, so the parameters' types never change with NULLs (PostgreSQL
// prepares one statement per SQL text and parameter types).
std::string insert_sql(const Table& t, std::size_t rows, std::size_t params_per_row) {
    std::string sql = "INSERT INTO " + quoted(t.name) + " (";
    for (std::size_t i = 0; i < t.columns.size(); ++i) sql += (i ? ", " : "") + quoted(t.columns[i].name);
    sql += ") VALUES ";
    for (std::size_t r = 0; r < rows; ++r) {
        std::size_t p = r * params_per_row;
        sql += r ? ", (" : "(";
        for (std::size_t i = 0; i < t.columns.size(); ++i) {
            if (i) sql += ", ";
            if (t.columns[i].nullable) {
                sql += "CASE WHEN ?" + std::to_string(p + 2) + " <> 0 THEN NULL ELSE ?" + std::to_string(p + 1) + " END";
                p += 2;
            } else {
                sql += "?" + std::to_string(p + 1);
                p += 1;
            }
        }
        sql += ")";
    }
    return sql;
}

// One value of the source row into the batch.
void bind_value(store::Statement& st, int& p, const Table& t, const Column& c, const Src& row, int col,
                std::int64_t rowid) {
    const int type = row.type(col);
    auto where = [&] { return "table " + t.name + ", row with rowid " + std::to_string(rowid) + ", column " + c.name; };
    if (type == SQLITE_NULL) {
        if (!c.nullable) fail_runtime(where() + ": NULL, but the column is NOT NULL on PostgreSQL");
        switch (c.kind) {
            case Kind::integer: st.bind(p, std::int64_t{0}); break;
            case Kind::text: st.bind(p, std::string_view()); break;
            case Kind::bytea: st.bind_blob(p, {}); break;
        }
        st.bind(p + 1, std::int64_t{1});
        p += 2;
        return;
    }
    switch (c.kind) {
        case Kind::integer:
            if (type != SQLITE_INTEGER)
                fail_runtime(where() + ": a " + sqlite_type_name(type) + " value where PostgreSQL has bigint");
            st.bind(p, row.int64(col));
            break;
        case Kind::text:
            if (type == SQLITE_BLOB || type == SQLITE_FLOAT)
                fail_runtime(where() + ": a " + sqlite_type_name(type) + " value where PostgreSQL has text");
            st.bind(p, row.text(col));
            break;
        case Kind::bytea:
            if (type == SQLITE_FLOAT || type == SQLITE_INTEGER)
                fail_runtime(where() + ": a " + sqlite_type_name(type) + " value where PostgreSQL has bytea");
            st.bind_blob(p, row.blob(col));
            break;
    }
    if (c.nullable) {
        st.bind(p + 1, std::int64_t{0});
        p += 2;
    } else {
        p += 1;
    }
}

std::int64_t src_int(sqlite3* src, const std::string& sql) {
    Src q(src, sql);
    return q.step() ? q.int64(0) : 0;
}

std::int64_t copy_table(sqlite3* src, store::Database& pg, const Table& t) {
    std::size_t params_per_row = 0;
    for (const auto& c : t.columns) params_per_row += c.nullable ? 2 : 1;
    const std::size_t batch = std::max<std::size_t>(1, std::min(kMaxRows, kMaxParams / std::max<std::size_t>(1, params_per_row)));
    // The rowid last, for messages.
    std::string sql = "SELECT " + select_list(t) + (t.has_rowid ? ", rowid" : ", 0") + " FROM " + quoted(t.name);
    if (t.has_rowid) sql += " ORDER BY rowid";
    Src row(src, sql);
    const int rowid_col = static_cast<int>(t.columns.size());

    const std::string full_sql = insert_sql(t, batch, params_per_row);
    // The source is locked: its row count is the number of rows to come, so
    // every batch's size (and SQL) is known when it starts.
    std::int64_t left = src_int(src, "SELECT count(*) FROM " + quoted(t.name));
    std::optional<store::Statement> st;
    std::size_t in_batch = 0, batch_rows = 0;
    std::int64_t copied = 0;
    int p = 1;
    while (row.step()) {
        if (!st) {
            batch_rows = static_cast<std::size_t>(std::min<std::int64_t>(left, static_cast<std::int64_t>(batch)));
            if (batch_rows == 0) fail_runtime("table " + t.name + " changed during the copy");
            st.emplace(pg.prepare(batch_rows == batch ? full_sql : insert_sql(t, batch_rows, params_per_row)));
            left -= static_cast<std::int64_t>(batch_rows);
            in_batch = 0;
            p = 1;
        }
        const std::int64_t rowid = row.int64(rowid_col);
        for (std::size_t i = 0; i < t.columns.size(); ++i)
            bind_value(*st, p, t, t.columns[i], row, static_cast<int>(i), rowid);
        if (++in_batch == batch_rows) {
            if (auto s = st->run(); !s) fail_runtime("copying table " + t.name + ": " + s.error().message);
            copied += static_cast<std::int64_t>(in_batch);
            st.reset();
        }
    }
    if (st) fail_runtime("table " + t.name + " changed during the copy");
    return copied;
}

std::optional<std::int64_t> src_opt_int(sqlite3* src, const std::string& sql) {
    Src q(src, sql);
    if (!q.step() || q.type(0) == SQLITE_NULL) return std::nullopt;
    return q.int64(0);
}

std::optional<std::int64_t> pg_opt_int(store::Database& pg, const std::string& sql) {
    auto st = pg.prepare(sql);
    auto r = st.step();
    if (!r) fail_runtime("target database: " + r.error().message);
    if (!*r || st.is_null(0)) return std::nullopt;
    return st.int64(0);
}

// A count table's rows with n <> 0, as text, sorted. Rows at 0 are left out:
// SQLite keeps a row that went down to 0 (a state no row has any more),
// the copy never makes one.
std::vector<std::string> count_rows_src(sqlite3* src, const Table& t) {
    std::string cols = select_list(t);
    Src q(src, "SELECT " + cols + " FROM " + quoted(t.name) + " WHERE n <> 0");
    std::vector<std::string> out;
    while (q.step()) {
        std::string line;
        for (std::size_t i = 0; i < t.columns.size(); ++i) line += (i ? "|" : "") + q.text(static_cast<int>(i));
        out.push_back(std::move(line));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> count_rows_pg(store::Database& pg, const Table& t) {
    std::string cols;
    for (const auto& c : t.columns) cols += (cols.empty() ? "" : ", ") + quoted(c.name);
    auto st = pg.prepare("SELECT " + cols + " FROM " + quoted(t.name) + " WHERE n <> 0");
    std::vector<std::string> out;
    for (;;) {
        auto r = st.step();
        if (!r) fail_runtime("target database: " + r.error().message);
        if (!*r) break;
        std::string line;
        for (std::size_t i = 0; i < t.columns.size(); ++i) line += (i ? "|" : "") + st.text(static_cast<int>(i));
        out.push_back(std::move(line));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Another process (the daemon, another depositctl) has the database open:
// every SQLite connection in WAL mode holds a shared lock on the DMS byte
// (offset 128) of <db>-shm while it is open. Checked before this process
// opens the file itself: closing a descriptor would drop SQLite's own POSIX
// locks on it. Returns that process's id.
std::optional<pid_t> open_elsewhere(const std::string& path) {
    int fd = ::open((path + "-shm").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;  // no -shm: nobody has it open
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 128;
    fl.l_len = 1;
    const bool held = ::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    ::close(fd);
    if (!held) return std::nullopt;
    return fl.l_pid;
}

}  // namespace

int cmd_migrate_store(Context& ctx, const Args& a) {
    namespace fs = std::filesystem;
    const std::string to = a.required("--to");
    if (!store::is_postgres_url(to))
        throw UsageError{"--to must be a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/DB)"};
    if (ctx.config().store.url)
        fail_input("the configuration has [store] url: the state is in PostgreSQL already. migrate-store copies\n"
                   "the SQLite database: run it with the configuration as it was (without [store] url)");
    const std::string source = ctx.config().database_path();
    std::error_code ec;
    if (!fs::exists(source, ec)) fail_runtime("no database at " + source + " (has the daemon run with this config?)");
    if (auto foreign = store::foreign_database_file(source, ::geteuid())) {
        const std::string owner = store::user_name(foreign->owner);
        fail_runtime(foreign->path + " belongs to user " + owner + ", but depositctl runs as " +
                     store::user_name(::geteuid()) + ". Run it as the owner: sudo -u " + owner +
                     " depositctl --config " + ctx.config().path + " migrate-store ...");
    }
    if (auto pid = open_elsewhere(source))
        fail_runtime(source + " is open in another process (pid " + std::to_string(*pid) +
                     "): stop the daemon (and any other depositctl) first");

    const auto t0 = std::chrono::steady_clock::now();
    // The write lock for the whole copy: nothing changes the source meanwhile.
    auto lock = store::Database::open(source);
    if (!lock) fail_runtime(lock.error().message);
    if (auto s = (*lock)->migrate(); !s) fail_runtime("database " + source + ": " + s.error().message);
    if (auto s = (*lock)->exec("BEGIN IMMEDIATE"); !s)
        fail_runtime("cannot lock " + source + " (is the daemon running? stop it first): " + s.error().message);
    auto reader = store::Database::open_reader(source);
    if (!reader) fail_runtime(reader.error().message);
    if (auto s = (*reader)->exec("BEGIN"); !s) fail_runtime("database " + source + ": " + s.error().message);
    sqlite3* src = (*reader)->handle();

    auto target = store::Database::connect(to, store::PgOptions{.application_name = "depositctl migrate-store"});
    if (!target) fail_runtime(target.error().message);
    store::Database& pg = **target;
    if (auto s = pg.migrate(); !s) fail_runtime("database " + pg.location() + ": " + s.error().message);

    // The tables: the same on both sides.
    std::set<std::string> sqlite_tables, pg_tables;
    {
        Src q(src, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
        while (q.step()) sqlite_tables.insert(q.text(0));
        auto st = pg.prepare(
            "SELECT table_name::text FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
        for (;;) {
            auto r = st.step();
            if (!r) fail_runtime("target database: " + r.error().message);
            if (!*r) break;
            pg_tables.insert(st.text(0));
        }
    }
    std::vector<Table> tables, counts;
    for (const auto& n : sqlite_tables) {
        if (kNotCopied.count(n)) continue;
        if (!pg_tables.count(n)) fail_runtime("table " + n + " is in the SQLite database but not on PostgreSQL");
        auto t = describe(src, pg, n);
        (t.counts ? counts : tables).push_back(std::move(t));
    }
    for (const auto& n : pg_tables)
        if (!kNotCopied.count(n) && !sqlite_tables.count(n))
            fail_runtime("table " + n + " is on PostgreSQL but not in the SQLite database");
    tables = in_key_order(std::move(tables));

    store::Transaction tx(pg);
    if (!tx.begun()) fail_runtime("target database: " + tx.begun().error().message);
    for (const auto& t : tables) {
        auto any = pg_opt_int(pg, "SELECT 1 FROM " + quoted(t.name) + " LIMIT 1");
        if (any)
            fail_input("the target database is not empty (table " + t.name +
                       " has rows): migrate-store copies into an empty database only");
    }

    std::vector<std::vector<std::string>> summary;
    for (const auto& t : tables) {
        const auto n = copy_table(src, pg, t);
        summary.push_back({t.name, std::to_string(n)});
    }
    // Identity sequences past the copied ids (setval of an empty table's max, NULL, does nothing).
    for (const auto& t : tables)
        for (const auto& c : t.columns) {
            if (!c.identity) continue;
            auto st = pg.prepare("SELECT setval(pg_get_serial_sequence(?1, ?2), max(" + quoted(c.name) + ")) FROM " +
                                 quoted(t.name));
            st.bind(1, quoted(t.name)).bind(2, c.name);
            if (auto r = st.step(); !r)
                fail_runtime("moving the sequence of " + t.name + "." + c.name + ": " + r.error().message);
        }

    // The checks, before COMMIT: a failure rolls everything back.
    for (const auto& t : tables) {
        const auto want = src_int(src, "SELECT count(*) FROM " + quoted(t.name));
        const auto got = pg_opt_int(pg, "SELECT count(*) FROM " + quoted(t.name)).value_or(-1);
        if (want != got)
            fail_runtime("table " + t.name + ": " + std::to_string(want) + " rows in SQLite, " + std::to_string(got) +
                         " copied; nothing was committed");
        for (const auto& c : t.columns) {
            if (!c.identity) continue;
            const std::string col = c.implicit_rowid ? std::string("rowid") : quoted(c.name);
            const auto a_max = src_opt_int(src, "SELECT max(" + col + ") FROM " + quoted(t.name));
            const auto b_max = pg_opt_int(pg, "SELECT max(" + quoted(c.name) + ") FROM " + quoted(t.name));
            if (a_max != b_max)
                fail_runtime("table " + t.name + ": max(" + c.name + ") differs between SQLite and PostgreSQL; "
                             "nothing was committed");
        }
    }
    for (const auto& t : counts) {
        auto a_rows = count_rows_src(src, t);
        auto b_rows = count_rows_pg(pg, t);
        if (a_rows != b_rows)
            fail_runtime("count table " + t.name + " differs: SQLite has {" + [&] {
                std::string s;
                for (const auto& r : a_rows) s += (s.empty() ? "" : ", ") + r;
                return s;
            }() + "}, the copy {" + [&] {
                std::string s;
                for (const auto& r : b_rows) s += (s.empty() ? "" : ", ") + r;
                return s;
            }() + "}; nothing was committed");
        summary.push_back({t.name, std::to_string(b_rows.size()) + " (kept by triggers, checked)"});
    }
    if (auto s = tx.commit(); !s) fail_runtime("target database: COMMIT failed: " + s.error().message);
    (void)(*reader)->exec("COMMIT");
    (void)(*lock)->exec("ROLLBACK");

    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    std::cout << "copied " << source << " (schema " << (*lock)->schema_version() << ") to " << pg.location() << " in "
              << ms.count() << " ms:\n";
    print_table({"table", "rows"}, summary);
    std::cout << "row counts, highest ids and counts checked; sequences moved past the copied ids.\n"
                 "next: set [store] url in the configuration and start the daemon (docs/operations.md).\n";
    return kExitOk;
}

}  // namespace depositd::ctl
