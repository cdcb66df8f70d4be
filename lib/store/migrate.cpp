// Migrations (database.hpp): each schema/NNN_name.sql not applied yet runs in
// its own transaction together with its row in schema_migrations, by name.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/log.hpp"
#include "store/database.hpp"

namespace depositd::store {
namespace {

constexpr const char* kNow = "CAST(strftime('%s','now') AS INTEGER) * 1000";
constexpr const char* kPgNow = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

bool table_exists(Database& db, const char* name) {
    auto q = db.prepare(db.backend() == Backend::postgresql
                            ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                              "AND table_name = ?1"
                            : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1");
    q.bind(1, std::string_view(name));
    auto r = q.step();
    return r && *r && q.int64(0) > 0;
}

Status create_record(Database& db) {
    return db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) "
                   "WITHOUT ROWID");
}

Result<bool> is_applied(Database& db, const std::string& id) {
    auto q = db.prepare("SELECT count(*) FROM schema_migrations WHERE name = ?1");
    q.bind(1, id);
    auto r = q.step();
    if (!r) return r.error();
    return *r && q.int64(0) > 0;
}

// Databases written before migrations were tracked by name have
// schema_version (version, name, applied_at), where "applied" meant every
// migration up to the highest version. Once, in one transaction: every row
// of it and every known migration up to that version become rows of
// schema_migrations, and schema_version goes (an older binary then refuses
// the database instead of misreading it).
Status adopt_numbered_record(Database& db, std::span<const Migration> migrations) {
    if (!table_exists(db, "schema_version")) return {};
    Transaction tx(db);
    if (!tx.begun()) return tx.begun().error();
    if (!table_exists(db, "schema_version")) return {};  // another process was first
    if (auto s = create_record(db); !s) return s;
    if (auto s = db.exec(std::string("INSERT OR IGNORE INTO schema_migrations (name, applied_at) "
                                     "SELECT printf('%03d_%s', version, name), applied_at FROM schema_version"));
        !s)
        return s;
    int highest = 0;
    {
        auto top = db.prepare("SELECT coalesce(max(version), 0) FROM schema_version");
        if (auto r = top.step(); !r) return r.error();
        highest = static_cast<int>(top.int64(0));
    }  // reset before the table goes: an active statement would lock it
    for (const auto& m : migrations) {
        if (m.version > highest) continue;
        auto ins = db.prepare(std::string("INSERT OR IGNORE INTO schema_migrations (name, applied_at) VALUES (?1, ") +
                              kNow + ")");
        ins.bind(1, m.id());
        if (auto s = ins.run(); !s) return s;
    }
    if (auto s = db.exec("DROP TABLE schema_version"); !s) return s;
    if (auto s = tx.commit(); !s) return s;
    log::get("store")->info("migrations are recorded by name now (schema_version {} -> schema_migrations)", highest);
    return {};
}

Status apply(Database& db, const Migration& m) {
    const std::string id = m.id();
    // SQLite's procedure for schema changes that rebuild a table: foreign
    // keys off (outside the transaction), change, foreign_key_check, commit.
    if (auto s = db.exec("PRAGMA foreign_keys=OFF"); !s) return s;
    struct ForeignKeysBackOn {
        Database& db;
        ~ForeignKeysBackOn() { (void)db.exec("PRAGMA foreign_keys=ON"); }
    } back_on{db};
    Transaction tx(db);
    if (!tx.begun()) return tx.begun().error();
    // Re-check inside the write lock: another process may have migrated meanwhile.
    auto done = is_applied(db, id);
    if (!done) return done.error();
    if (*done) return {};
    if (auto s = db.exec(m.sql); !s)
        return make_error(Errc::io, "migration " + id + " failed: " + s.error().message);
    {
        auto fk = db.prepare("PRAGMA foreign_key_check");
        auto r = fk.step();
        if (!r) return r.error();
        if (*r) return make_error(Errc::io, "migration " + id + " leaves a broken foreign key in table " + fk.text(0));
    }
    auto ins = db.prepare(std::string("INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ") + kNow + ")");
    ins.bind(1, id);
    if (auto s = ins.run(); !s) return s;
    if (auto s = tx.commit(); !s) return s;
    log::get("store")->info("applied migration {}", id);
    return {};
}

// PostgreSQL: DDL is transactional, foreign keys are checked as rows
// change. Each migration runs in its own transaction with its row. A
// session-level advisory lock, taken before the first transaction (whose
// SERIALIZABLE snapshot then sees what another process committed before),
// serialises daemons and depositctl starting at once.
constexpr std::int64_t kMigrationLock = 0x6465706f73697464;  // "depositd"

Status advisory(Database& db, const char* fn) {
    auto q = db.prepare(std::string("SELECT ") + fn + "(?1)");
    q.bind(1, kMigrationLock);
    return q.run();
}

Status pg_create_record(Database& db) {
    Transaction tx(db);
    if (!tx.begun()) return tx.begun().error();
    if (auto s = db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (name text COLLATE \"C\" PRIMARY KEY, "
                         "applied_at bigint NOT NULL)");
        !s)
        return s;
    return tx.commit();
}

Status pg_apply(Database& db, const Migration& m) {
    const std::string id = m.id();
    Transaction tx(db);
    if (!tx.begun()) return tx.begun().error();
    auto done = is_applied(db, id);
    if (!done) return done.error();
    if (*done) return {};
    if (auto s = db.exec(m.sql); !s) return make_error(Errc::io, "migration " + id + " failed: " + s.error().message);
    auto ins = db.prepare(std::string("INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ") + kPgNow + ")");
    ins.bind(1, id);
    if (auto s = ins.run(); !s) return s;
    if (auto s = tx.commit(); !s) return s;
    log::get("store")->info("applied migration {}", id);
    return {};
}

// Applies, in order, each migration not recorded yet (apply re-checks inside its transaction).
// A database that records a migration this binary does not have was
// upgraded by a newer version: its tables may no longer be what this code
// writes (014 dropped a column the earlier code wrote), so nothing starts.
Status apply_missing(Database& db, std::span<const Migration> migrations, Status (*apply)(Database&, const Migration&)) {
    auto applied = db.applied_migrations();
    if (!applied) return applied.error();
    std::set<std::string> known;
    for (const auto& m : migrations) known.insert(m.id());
    std::string unknown;
    for (const auto& name : *applied)
        if (!known.count(name)) unknown += (unknown.empty() ? "" : ", ") + name;
    if (!unknown.empty())
        return make_error(Errc::conflict, "the database has migrations this version does not know (" + unknown +
                                              "): a newer depositd upgraded it. Run that version, or restore the "
                                              "backup taken before the upgrade");
    const std::set<std::string> done(applied->begin(), applied->end());
    for (const auto& m : migrations) {
        if (done.count(m.id())) continue;
        if (auto s = apply(db, m); !s) return s;
    }
    return {};
}

Status pg_migrate_with(Database& db, std::span<const Migration> migrations) {
    if (auto s = advisory(db, "pg_advisory_lock"); !s) return s;
    auto s = pg_create_record(db);
    if (s) s = apply_missing(db, migrations, pg_apply);
    (void)advisory(db, "pg_advisory_unlock");  // also ends with the session
    return s;
}

}  // namespace

std::string Migration::id() const {
    char number[16];
    std::snprintf(number, sizeof number, "%03d", version);
    return std::string(number) + "_" + name;
}

Status migrate_with(Database& db, std::span<const Migration> migrations) {
    if (db.backend() == Backend::postgresql) return pg_migrate_with(db, migrations);
    if (auto s = adopt_numbered_record(db, migrations); !s) return s;
    if (auto s = create_record(db); !s) return s;
    return apply_missing(db, migrations, apply);
}

Status Database::migrate() {
    return migrate_with(*this, backend() == Backend::postgresql ? embedded_pg_migrations() : embedded_migrations());
}

Result<std::vector<std::string>> Database::applied_migrations() {
    std::vector<std::string> out;
    if (!table_exists(*this, "schema_migrations")) return out;
    auto q = prepare("SELECT name FROM schema_migrations ORDER BY name");
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        out.push_back(q.text(0));
    }
    return out;
}

int Database::schema_version() {
    // A database not opened for writing since before schema_migrations
    // (depositctl backup reads it as it is) still has schema_version.
    if (!table_exists(*this, "schema_migrations")) {
        if (!table_exists(*this, "schema_version")) return 0;
        auto q = prepare("SELECT coalesce(max(version), 0) FROM schema_version");
        if (auto r = q.step(); !r || !*r) return 0;
        return static_cast<int>(q.int64(0));
    }
    auto names = applied_migrations();
    if (!names) return 0;
    int highest = 0;
    for (const auto& n : *names) highest = std::max(highest, std::atoi(n.c_str()));  // "007_..." -> 7
    return highest;
}

}  // namespace depositd::store
