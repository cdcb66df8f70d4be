#pragma once
// Leases of the leaders and the daemons sharing the store (SPEC §11,
// schema/009_leases.sql). A lease names one job that one process must do
// alone (scanning a chain: "chain:<id>"). Times are the database's clock, so
// the machines' clocks need not agree; the leader's own view of how long its
// lease lasts is kept by the caller (scanner/leadership.hpp) on a steady
// clock.
//
// Fencing: a lease is proven inside the very transaction that writes under
// it (prove_lease): an UPDATE of the lease row that matches only while the
// holder and epoch are still ours. A takeover changes the epoch in its own
// transaction, so the two serialize: the old leader's commit either comes
// first (and the taker waits its turn, then sees the lease renewed) or finds
// no row and writes nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

// The process as other processes see it.
struct InstanceInfo {
    std::string id;       // host:pid
    std::string host;
    std::int64_t pid = 0;
    std::string boot_id;  // /proc/sys/kernel/random/boot_id
    std::string pid_ns;   // the pid namespace (/proc/self/ns/pid)
    std::string version;
    std::string api;      // host:port of its API
};

// This process: host:pid, boot id and pid namespace.
InstanceInfo this_instance(std::string version = "", std::string api = "");

// The lease of scanning a chain is named "chain:<id>".
std::string chain_lease(const std::string& chain_id);
// The chain a lease name is about; nullopt for another kind of lease.
std::optional<std::string> chain_of_lease(const std::string& name);

// A lease held: what a commit under it proves.
struct Fence {
    std::string name;
    std::string holder;
    std::int64_t epoch = 0;
    std::int64_t ttl_ms = 0;  // a proof also extends the lease by this much
};

struct LeaseRow {
    std::string name;
    std::string holder;  // "" released
    std::int64_t epoch = 0;
    std::int64_t expires_at = 0;
    std::int64_t acquired_at = 0;
};

struct InstanceRow {
    InstanceInfo info;
    std::int64_t started_at = 0;
    std::int64_t seen_at = 0;
};

// The database's clock, unix ms.
Result<std::int64_t> database_now_ms(Database& db);

// Records (or refreshes) this process in `instances`.
Status heartbeat_instance(Database& db, const InstanceInfo& me, std::int64_t started_at);
// Removes this process's row (a clean stop).
Status forget_instance(Database& db, const std::string& id);
// Processes seen within `within_ms` (the database's clock).
Result<std::vector<InstanceRow>> live_instances(Database& db, std::int64_t within_ms);

Result<std::vector<LeaseRow>> list_leases(Database& db);

// Takes `name` for `me` when it is free: released, expired, or held by a
// process on this very host (same boot, same pid namespace) that no longer
// exists. The epoch grows by one. nullopt: someone else holds it.
Result<std::optional<Fence>> try_acquire(Database& db, const std::string& name, const InstanceInfo& me,
                                         std::int64_t ttl_ms);
// Extends a lease still held (holder and epoch unchanged): false when lost.
// Also what every commit under the lease calls, inside its transaction.
Result<bool> prove_lease(Database& db, const Fence& f);
// Gives a lease up (a clean stop, or handing a chain to a process with fewer).
Status release_lease(Database& db, const Fence& f);

// Whether process `pid` exists here (signal 0). Used for holders on this host.
bool process_alive(std::int64_t pid);

}  // namespace depositd::store
