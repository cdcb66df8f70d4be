// depositctl status: what the daemon last stored about its chains, the
// webhook outbox and the address pool. Reads counters and cursor rows only:
// O(chains + protocols), never a table scan.
#include <array>
#include <filesystem>
#include <iostream>
#include <map>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "ctl.hpp"
#include "store/chain_state.hpp"
#include "store/counters.hpp"
#include "store/lease.hpp"
#include "store/pool.hpp"

namespace depositd::ctl {

namespace {

std::string ago(std::int64_t then_ms, std::int64_t now) {
    if (then_ms <= 0) return "-";
    const auto s = std::max<std::int64_t>(0, (now - then_ms) / 1000);
    if (s < 120) return std::to_string(s) + "s ago";
    if (s < 7200) return std::to_string(s / 60) + "m ago";
    return std::to_string(s / 3600) + "h ago";
}

std::string num(const std::optional<std::uint64_t>& v) { return v ? std::to_string(*v) : "-"; }

json::value opt_json(const std::optional<std::uint64_t>& v) {
    if (!v) return nullptr;
    return *v;
}

}  // namespace

int cmd_status(Context& ctx, const Args& a) {
    // Read-only, and never creates the database: run as root, a new file
    // would belong to root and the daemon's user could not open it.
    const std::string path = ctx.config().store_location();
    std::error_code ec;
    if (!ctx.config().store.url && !std::filesystem::exists(path, ec))
        fail_runtime("no database at " + path + " (has the daemon run with this config?)");
    auto reader = ctx.config().store.url
                      ? store::Database::connect(path, store::PgOptions{.application_name = "depositctl status"})
                      : store::Database::open_reader(path);
    if (!reader) fail_runtime(reader.error().message);
    auto& db = **reader;
    const auto now = now_ms();
    auto cursors = store::all_cursors(db);
    if (!cursors) fail_runtime(cursors.error().message);
    auto counters = store::read_counters(db);
    if (!counters) fail_runtime(counters.error().message);
    auto pool = store::pool_stats(db, now);
    if (!pool) fail_runtime(pool.error().message);
    const auto& cfg = ctx.config();
    // Standby daemons (SPEC §11): who leads each chain, and the processes
    // sharing the store. A database a newer daemon has not migrated yet has
    // no lease table: nothing to show then.
    std::map<std::string, std::string> leader;  // chain -> instance id
    std::vector<store::InstanceRow> instances;
    if (auto leases = store::list_leases(db)) {
        auto db_now = store::database_now_ms(db);
        for (const auto& l : *leases)
            if (auto chain = store::chain_of_lease(l.name); chain && db_now && !l.holder.empty() && l.expires_at > *db_now)
                leader[*chain] = l.holder;
        if (db_now)
            if (auto live = store::live_instances(db, 60'000)) instances = std::move(*live);
    }
    auto leader_of = [&](const std::string& chain) -> json::value {
        auto it = leader.find(chain);
        if (it == leader.end()) return nullptr;
        return json::value(it->second);
    };

    struct Row {
        const config::ChainConfig* chain;
        std::optional<store::Cursor> cursor;
        std::string status;
        std::optional<std::uint64_t> head, scanned, lag;
    };
    std::vector<Row> rows;
    for (const auto& c : cfg.chains) {
        Row r{&c, std::nullopt, "starting", std::nullopt, std::nullopt, std::nullopt};
        for (const auto& cur : *cursors)
            if (cur.chain_id == c.id) r.cursor = cur;
        if (r.cursor) {
            r.scanned = r.cursor->height;
            r.head = r.cursor->head;
            if (r.cursor->halted) r.status = "halted";
            else if (r.cursor->status) r.status = *r.cursor->status;
            if (r.head) r.lag = *r.head > *r.scanned ? *r.head - *r.scanned : 0;
        }
        rows.push_back(std::move(r));
    }
    std::map<std::string, std::uint64_t> outbox{{"pending", 0}, {"delivered", 0}, {"failed", 0}};
    for (const auto& [k, n] : counters->events) outbox[k] = n;
    const std::array<const char*, 4> protocols{"evm", "tron", "bitcoin", "solana"};
    auto stats_of = [&](const std::string& p) {
        for (const auto& s : *pool)
            if (s.protocol == p) return s;
        return store::PoolStats{p, 0, 0, 0};
    };
    auto configured = [&](const std::string& p) {
        for (const auto& c : cfg.chains)
            if (p == to_string(c.kind)) return true;
        return false;
    };
    const auto low_water = cfg.pool.low_water;

    if (a.has("--json")) {
        json::array chains;
        for (const auto& r : rows) {
            json::object o;
            o["id"] = r.chain->id;
            o["kind"] = to_string(r.chain->kind);
            o["status"] = r.status;
            o["head"] = opt_json(r.head);
            o["scanned"] = opt_json(r.scanned);
            o["lag"] = opt_json(r.lag);
            o["finalized"] = r.cursor ? opt_json(r.cursor->finalized) : json::value(nullptr);
            o["lastError"] = r.cursor && r.cursor->last_error ? json::value(*r.cursor->last_error) : nullptr;
            o["lastSuccessAt"] = r.cursor && r.cursor->last_success_at
                                     ? json::value(format_rfc3339_ms(*r.cursor->last_success_at))
                                     : nullptr;
            o["updatedAt"] = r.cursor && r.cursor->updated_at > 0
                                 ? json::value(format_rfc3339_ms(r.cursor->updated_at))
                                 : nullptr;
            o["halted"] = r.cursor && r.cursor->halted ? json::value(*r.cursor->halted) : nullptr;
            o["leader"] = leader_of(r.chain->id);
            chains.emplace_back(std::move(o));
        }
        json::object ob;
        for (const auto& [k, n] : outbox) ob[k] = n;
        json::object po;
        for (const char* p : protocols) {
            auto s = stats_of(p);
            json::object e;
            e["free"] = s.free;
            e["bound"] = s.bound;
            e["cooling"] = s.cooling;
            e["low"] = configured(p) && low_water > 0 && s.free < low_water;
            po[p] = std::move(e);
        }
        json::object out;
        out["chains"] = std::move(chains);
        out["outbox"] = std::move(ob);
        out["pool"] = std::move(po);
        out["lowWater"] = low_water;
        out["database"] = db.location();  // the file, or the URL without its password
        json::array procs;
        for (const auto& i : instances) {
            json::object o;
            o["id"] = i.info.id;
            o["api"] = i.info.api;
            o["version"] = i.info.version;
            o["startedAt"] = format_rfc3339_ms(i.started_at);
            o["seenAt"] = format_rfc3339_ms(i.seen_at);
            procs.emplace_back(std::move(o));
        }
        out["instances"] = std::move(procs);
        std::cout << json::serialize(out) << "\n";
        return kExitOk;
    }

    std::vector<std::vector<std::string>> table;
    std::vector<std::string> notes;
    for (const auto& r : rows) {
        const auto& cur = r.cursor;
        table.push_back({r.chain->id, to_string(r.chain->kind), r.status, num(r.head), num(r.scanned), num(r.lag),
                         cur ? num(cur->finalized) : "-",
                         cur && cur->last_success_at ? ago(*cur->last_success_at, now) : "-",
                         cur ? ago(cur->updated_at, now) : "never",
                         leader.contains(r.chain->id) ? leader[r.chain->id] : "-"});
        if (cur && cur->halted) notes.push_back("  " + r.chain->id + " halted: " + printable(*cur->halted, 300));
        else if (cur && cur->last_error && r.status != "ok")
            notes.push_back("  " + r.chain->id + " last error: " + printable(*cur->last_error, 300));
    }
    print_table({"CHAIN", "KIND", "STATUS", "HEAD", "SCANNED", "LAG", "FINALIZED", "LAST SUCCESS", "UPDATED", "LEADER"},
                table);
    for (const auto& n : notes) std::cout << n << "\n";
    if (!instances.empty()) {
        std::vector<std::vector<std::string>> itable;
        for (const auto& i : instances)
            itable.push_back({i.info.id, i.info.api, i.info.version, ago(i.started_at, now), ago(i.seen_at, now)});
        std::cout << "\n";
        print_table({"PROCESS", "API", "VERSION", "STARTED", "SEEN"}, itable);
    }
    std::cout << "\nwebhook outbox: " << outbox["pending"] << " pending, " << outbox["delivered"] << " delivered, "
              << outbox["failed"] << " failed";
    if (outbox["failed"] > 0) std::cout << " (list: depositctl events list --status failed)";
    std::cout << "\n\n";
    std::vector<std::vector<std::string>> ptable;
    for (const char* p : protocols) {
        if (!configured(p) && stats_of(p).free + stats_of(p).bound + stats_of(p).cooling == 0) continue;
        auto s = stats_of(p);
        const bool low = configured(p) && low_water > 0 && s.free < low_water;
        ptable.push_back({p, std::to_string(s.free), std::to_string(s.bound), std::to_string(s.cooling),
                          low ? "LOW (< " + std::to_string(low_water) + ")" : ""});
    }
    if (ptable.empty()) std::cout << "address pool: empty (depositctl pool import / pool derive)\n";
    else print_table({"POOL", "FREE", "BOUND", "COOLING", ""}, ptable);
    return kExitOk;
}

}  // namespace depositd::ctl
