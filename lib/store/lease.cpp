// Leases and instances (store/lease.hpp). Every statement stands alone or
// compares-and-sets on (holder, epoch): correct in a SERIALIZABLE unit and in
// autocommit alike.
#include "store/lease.hpp"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string_view>

namespace depositd::store {
namespace {

// The database's clock in unix ms, as SQL (the only dialect split here).
const char* now_sql(Database& db) {
    return db.backend() == Backend::postgresql ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
                                               : "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
}

std::string with_now(Database& db, std::string sql) {
    for (auto at = sql.find("{now}"); at != std::string::npos; at = sql.find("{now}"))
        sql.replace(at, 5, now_sql(db));
    return sql;
}

constexpr const char* kInstanceColumns = "id, host, pid, boot_id, pid_ns, version, api, started_at, seen_at";

InstanceRow read_instance(Statement& q) {
    InstanceRow r;
    r.info.id = q.text(0);
    r.info.host = q.text(1);
    r.info.pid = q.int64(2);
    r.info.boot_id = q.text(3);
    r.info.pid_ns = q.text(4);
    r.info.version = q.text(5);
    r.info.api = q.text(6);
    r.started_at = q.int64(7);
    r.seen_at = q.int64(8);
    return r;
}

// A holder that ran on this host, in this boot and pid namespace, and whose
// process is gone: it crashed, and nobody else can be holding the lease in
// its name. (Another host's holder is only ever judged by expiry.)
Result<bool> holder_died_here(Database& db, const std::string& holder, const InstanceInfo& me) {
    auto q = db.prepare(std::string("SELECT ") + kInstanceColumns + " FROM instances WHERE id = ?1");
    q.bind(1, holder);
    auto r = q.step();
    if (!r) return r.error();
    if (!*r) return false;
    const InstanceRow h = read_instance(q);
    if (h.info.host != me.host || h.info.boot_id != me.boot_id || h.info.pid_ns != me.pid_ns) return false;
    if (h.info.pid == me.pid) return false;  // our own pid under another id: not a crash we can prove
    return !process_alive(h.info.pid);
}

std::string first_line(const char* path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

InstanceInfo this_instance(std::string version, std::string api) {
    InstanceInfo me;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
    me.host = host;
    me.pid = ::getpid();
    me.id = me.host + ":" + std::to_string(me.pid);
    me.boot_id = first_line("/proc/sys/kernel/random/boot_id");
    char ns[PATH_MAX] = {};
    auto n = ::readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    me.pid_ns = n > 0 ? std::string(ns, static_cast<std::size_t>(n)) : "";
    me.version = std::move(version);
    me.api = std::move(api);
    return me;
}

namespace {
constexpr std::string_view kChainLease = "chain:";
}

std::string chain_lease(const std::string& chain_id) { return std::string(kChainLease) + chain_id; }

std::optional<std::string> chain_of_lease(const std::string& name) {
    if (!name.starts_with(kChainLease)) return std::nullopt;
    return name.substr(kChainLease.size());
}

bool process_alive(std::int64_t pid) {
    if (pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

Result<std::int64_t> database_now_ms(Database& db) {
    auto q = db.prepare(with_now(db, "SELECT {now}"));
    auto r = q.step();
    if (!r) return r.error();
    if (!*r) return make_error(Errc::io, "the database did not tell its time");
    return q.int64(0);
}

Status heartbeat_instance(Database& db, const InstanceInfo& me, std::int64_t started_at) {
    auto q = db.prepare(with_now(db,
        "INSERT INTO instances (id, host, pid, boot_id, pid_ns, version, api, started_at, seen_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, {now}) "
        "ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, api = excluded.api"));
    q.bind(1, me.id).bind(2, me.host).bind(3, me.pid).bind(4, me.boot_id).bind(5, me.pid_ns).bind(6, me.version);
    q.bind(7, me.api).bind(8, started_at);
    if (auto s = q.run(); !s) return s;
    // Rows of processes gone for a day are history nobody needs.
    auto old = db.prepare(with_now(db, "DELETE FROM instances WHERE seen_at < {now} - 86400000"));
    return old.run();
}

Status forget_instance(Database& db, const std::string& id) {
    auto q = db.prepare("DELETE FROM instances WHERE id = ?1");
    q.bind(1, id);
    return q.run();
}

Result<std::vector<InstanceRow>> live_instances(Database& db, std::int64_t within_ms) {
    auto q = db.prepare(with_now(db, std::string("SELECT ") + kInstanceColumns +
                                         " FROM instances WHERE seen_at >= {now} - ?1 ORDER BY id"));
    q.bind(1, within_ms);
    std::vector<InstanceRow> out;
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        out.push_back(read_instance(q));
    }
    return out;
}

Result<std::vector<LeaseRow>> list_leases(Database& db) {
    auto q = db.prepare("SELECT name, holder, epoch, expires_at, acquired_at FROM leases ORDER BY name");
    std::vector<LeaseRow> out;
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        out.push_back({q.text(0), q.text(1), q.int64(2), q.int64(3), q.int64(4)});
    }
    return out;
}

Result<std::optional<Fence>> try_acquire(Database& db, const std::string& name, const InstanceInfo& me,
                                         std::int64_t ttl_ms) {
    auto add = db.prepare(
        "INSERT INTO leases (name, holder, epoch, expires_at, acquired_at) VALUES (?1, '', 0, 0, 0) "
        "ON CONFLICT DO NOTHING");
    add.bind(1, name);
    if (auto s = add.run(); !s) return s.error();

    auto cur = db.prepare(with_now(db, "SELECT holder, epoch, expires_at, {now} FROM leases WHERE name = ?1"));
    cur.bind(1, name);
    auto r = cur.step();
    if (!r) return r.error();
    if (!*r) return make_error(Errc::io, "lease " + name + " vanished");
    const std::string holder = cur.text(0);
    const std::int64_t epoch = cur.int64(1), expires_at = cur.int64(2), now = cur.int64(3);
    bool free = holder.empty() || expires_at <= now || holder == me.id;
    if (!free) {
        auto died = holder_died_here(db, holder, me);
        if (!died) return died.error();
        free = *died;
    }
    if (!free) return std::optional<Fence>{};

    // Compare-and-set on what we read: of two processes taking it at once,
    // one changes the row and the other finds it changed; a holder that
    // renewed meanwhile (a commit proves and extends it) keeps it.
    auto take = db.prepare(with_now(db,
        "UPDATE leases SET holder = ?2, epoch = epoch + 1, expires_at = {now} + ?3, acquired_at = {now} "
        "WHERE name = ?1 AND holder = ?4 AND epoch = ?5 AND expires_at = ?6"));
    take.bind(1, name).bind(2, me.id).bind(3, ttl_ms).bind(4, holder).bind(5, epoch).bind(6, expires_at);
    if (auto s = take.run(); !s) return s.error();
    if (take.changes() != 1) return std::optional<Fence>{};
    return std::optional<Fence>(Fence{name, me.id, epoch + 1, ttl_ms});
}

Result<bool> prove_lease(Database& db, const Fence& f) {
    auto q = db.prepare(with_now(db,
        "UPDATE leases SET expires_at = {now} + ?4 WHERE name = ?1 AND holder = ?2 AND epoch = ?3"));
    q.bind(1, f.name).bind(2, f.holder).bind(3, f.epoch).bind(4, f.ttl_ms);
    if (auto s = q.run(); !s) return s.error();
    return q.changes() == 1;
}

Status release_lease(Database& db, const Fence& f) {
    auto q = db.prepare("UPDATE leases SET holder = '', expires_at = 0 WHERE name = ?1 AND holder = ?2 AND epoch = ?3");
    q.bind(1, f.name).bind(2, f.holder).bind(3, f.epoch);
    return q.run();
}

}  // namespace depositd::store
