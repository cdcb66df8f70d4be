// GET /health and GET /metrics.
#include "api/handler.hpp"

#include "api/route_util.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <set>

#include <unistd.h>

#include "core/amount.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "store/counters.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/lease.hpp"
#include "store/pool.hpp"

namespace depositd::api {

using namespace util;

namespace {

auto logger() {
    static auto l = log::get("api");
    return l;
}

// Protocols worth reporting: those with configured chains, plus any with addresses.
std::vector<store::PoolStats> pool_view(const config::Config& c, std::vector<store::PoolStats> stats) {
    std::set<std::string> have;
    for (const auto& s : stats) have.insert(s.protocol);
    for (const auto& ch : c.chains) {
        std::string p = to_string(ch.kind);
        if (have.insert(p).second) stats.push_back(store::PoolStats{p, 0, 0, 0});
    }
    std::sort(stats.begin(), stats.end(), [](const auto& a, const auto& b) { return a.protocol < b.protocol; });
    return stats;
}

// --- Prometheus text ---------------------------------------------------------

// This process among others sharing one store: host and process id.
const std::string& instance_id() {
    static const std::string id = store::this_instance().id;
    return id;
}

std::string label_escape(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

struct Family {
    std::string name, help;
    std::vector<std::pair<std::string, double>> samples;  // rendered labels, value
    void add(const std::vector<std::pair<std::string, std::string>>& labels, double v) {
        std::string s;
        if (!labels.empty()) {
            s = "{";
            for (std::size_t i = 0; i < labels.size(); ++i) {
                if (i) s += ",";
                s += labels[i].first + "=\"" + label_escape(labels[i].second) + "\"";
            }
            s += "}";
        }
        samples.emplace_back(std::move(s), v);
    }
};

std::string render_families(const std::vector<Family>& families, const std::string& already) {
    std::string out;
    for (const auto& f : families) {
        // A family the process registry already exports is not repeated.
        if (already.find("# TYPE " + f.name + " ") != std::string::npos) continue;
        out += "# HELP " + f.name + " " + f.help + "\n";
        out += "# TYPE " + f.name + " gauge\n";
        for (const auto& [labels, v] : f.samples) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", v);
            out += f.name + labels + " " + buf + "\n";
        }
    }
    return out;
}


}  // namespace

// --- /health and /metrics ----------------------------------------------------

ChainHealth Handler::chain_health(const std::string& chain) const {
    ChainHealth none;
    if (health_) {
        if (auto h = health_->get(chain)) return *h;
        none.role = health_->role(chain);
    }
    return none;
}

Response Handler::health() {
    // In-memory chain state and the trigger-kept pool counters: O(1). A
    // reader does not wait for a PostgreSQL that is away (one reconnect
    // attempt): /health answers at once, and its read is also what brings a
    // lost reader session back.
    auto stats = store_.read([&](store::Database& db) { return store::pool_stats(db, clock_.now_ms()); });
    const bool store_down = store_.health().degraded;
    bool degraded = false;
    json::array chains;
    for (const auto& ch : config_.chains) {
        const ChainHealth h = chain_health(ch.id);
        json::object c;
        c["chainId"] = ch.id;
        c["protocol"] = to_string(ch.kind);
        c["status"] = h.status;
        c["head"] = h.head ? json::value(*h.head) : json::value(nullptr);
        c["scanned"] = h.scanned ? json::value(*h.scanned) : json::value(nullptr);
        auto lag = h.lag();
        c["lag"] = lag ? json::value(*lag) : json::value(nullptr);
        c["finalized"] = h.finalized ? json::value(*h.finalized) : json::value(nullptr);
        c["updatedAt"] = h.updated_at > 0 ? json::value(format_rfc3339_ms(h.updated_at)) : json::value(nullptr);
        c["lastError"] = h.last_error ? json::value(*h.last_error) : json::value(nullptr);
        c["lastErrorAt"] = h.last_error_at > 0 ? json::value(format_rfc3339_ms(h.last_error_at)) : json::value(nullptr);
        if (h.halted) c["halted"] = *h.halted;
        // SPEC §11: "leader" scans the chain here; a "standby" shows the
        // leader's stored progress and takes over when its lease runs out.
        c["role"] = h.role;
        if (h.status != "ok") degraded = true;
        chains.push_back(std::move(c));
    }
    json::array pool;
    if (stats) {
        for (const auto& s : pool_view(config_, *stats)) {
            bool low = config_.pool.low_water > 0 && s.free < config_.pool.low_water;
            if (low) check_low_water(s.protocol, s.free);
            json::object p;
            p["protocol"] = s.protocol;
            p["free"] = s.free;
            p["bound"] = s.bound;
            p["cooling"] = s.cooling;
            p["lowWater"] = config_.pool.low_water;
            p["low"] = low;
            pool.push_back(std::move(p));
        }
    } else if (!store_down) {
        logger()->error("health: {}", stats.error().describe());
    }
    // The store: PostgreSQL is "degraded" while a session is lost and being
    // re-established (writes wait and are redone; nothing is lost).
    const auto sh = store_.health();
    json::object st;
    st["backend"] = store::to_string(store_.backend());
    st["status"] = sh.degraded ? "degraded" : "ok";
    if (sh.degraded) st["reason"] = sh.reason;
    if (store_.backend() == store::Backend::postgresql) st["reconnects"] = sh.reconnects;
    if (sh.degraded) degraded = true;
    json::object instance;
    instance["id"] = instance_id();
    instance["store"] = store::to_string(store_.backend());

    json::object o;
    // A store that is reconnecting is "degraded" (work waits and resumes),
    // a database that fails otherwise is an "error".
    o["status"] = store_down ? "degraded" : !stats ? "error" : degraded ? "degraded" : "ok";
    o["version"] = DEPOSITD_VERSION;
    o["instance"] = std::move(instance);
    o["store"] = std::move(st);
    o["chains"] = std::move(chains);
    o["pool"] = std::move(pool);
    if (!stats) o["message"] = store_down ? "database unavailable: reconnecting" : "database unavailable";
    return json_response(stats ? 200 : 503, o);
}

Response Handler::metrics() {
    std::vector<Family> fam;
    auto counters = store_.read([](store::Database& db) { return store::read_counters(db); });
    if (!counters) return internal(counters.error(), "metrics: counters");
    auto stats = store_.read([&](store::Database& db) { return store::pool_stats(db, clock_.now_ms()); });
    if (!stats) return internal(stats.error(), "metrics: pool");
    {
        // Zeros for configured chains so the series persist.
        Family f{"depositd_deposits", "Deposits by chain and status", {}};
        std::map<std::pair<std::string, std::string>, double> counts;
        for (const auto& ch : config_.chains)
            for (const char* st : {"pending", "confirmed", "reverted"}) counts[{ch.id, st}] = 0;
        for (const auto& [k, n] : counters->deposits) counts[k] = static_cast<double>(n);
        for (const auto& [k, v] : counts) f.add({{"chain", k.first}, {"status", k.second}}, v);
        fam.push_back(std::move(f));
    }
    {
        Family f{"depositd_events", "Webhook events by delivery status", {}};
        std::map<std::string, double> counts{{"pending", 0}, {"delivered", 0}, {"failed", 0}};
        for (const auto& [k, n] : counters->events) counts[k] = static_cast<double>(n);
        for (const auto& [k, v] : counts) f.add({{"status", k}}, v);
        fam.push_back(std::move(f));
    }
    {
        Family addrs{"depositd_pool_addresses", "Pool addresses by protocol and state (free includes cooled)", {}};
        Family low{"depositd_pool_low", "1 when free addresses of a protocol are below [pool].low_water", {}};
        Family mark{"depositd_pool_low_water", "Configured [pool].low_water", {}};
        mark.add({}, config_.pool.low_water);
        for (const auto& s : pool_view(config_, *stats)) {
            addrs.add({{"protocol", s.protocol}, {"state", "free"}}, static_cast<double>(s.free));
            addrs.add({{"protocol", s.protocol}, {"state", "bound"}}, static_cast<double>(s.bound));
            addrs.add({{"protocol", s.protocol}, {"state", "cooling"}}, static_cast<double>(s.cooling));
            bool is_low = config_.pool.low_water > 0 && s.free < config_.pool.low_water;
            if (is_low) check_low_water(s.protocol, s.free);
            low.add({{"protocol", s.protocol}}, is_low ? 1 : 0);
        }
        fam.push_back(std::move(addrs));
        fam.push_back(std::move(low));
        fam.push_back(std::move(mark));
    }
    {
        const auto sh = store_.health();
        Family degraded{"depositd_store_degraded", "1 while the store has lost its database session (PostgreSQL)", {}};
        degraded.add({{"store", store::to_string(store_.backend())}}, sh.degraded ? 1 : 0);
        Family reconnects{"depositd_store_reconnects", "Database sessions re-established after a loss, since start", {}};
        reconnects.add({{"store", store::to_string(store_.backend())}}, static_cast<double>(sh.reconnects));
        fam.push_back(std::move(degraded));
        fam.push_back(std::move(reconnects));
        // SPEC §11: which process this is, and what it does for each chain.
        Family info{"depositd_instance_info", "This process: its instance id and store backend (always 1)", {}};
        info.add({{"instance", instance_id()}, {"store", store::to_string(store_.backend())}}, 1);
        Family role{"depositd_chain_role", "1 for the role this process has for the chain (leader scans it; standby "
                                           "takes over when the leader's lease runs out)", {}};
        for (const auto& ch : config_.chains) {
            const std::string r = chain_health(ch.id).role;
            for (const char* name : {"leader", "standby"})
                role.add({{"chain", ch.id}, {"instance", instance_id()}, {"role", name}}, r == name ? 1 : 0);
        }
        fam.push_back(std::move(info));
        fam.push_back(std::move(role));
    }
    {
        Family scanned{"depositd_chain_scanned_height", "Last height whose transfers are committed", {}};
        Family head{"depositd_chain_head_height", "Last chain head seen", {}};
        Family lag{"depositd_chain_lag_blocks", "head - scanned", {}};
        Family halted{"depositd_chain_halted", "1 when the chain stopped (reorg deeper than allowed or below finality)", {}};
        for (const auto& ch : config_.chains) {
            const ChainHealth h = chain_health(ch.id);
            halted.add({{"chain", ch.id}}, h.status == "halted" ? 1 : 0);
            if (h.scanned) scanned.add({{"chain", ch.id}}, static_cast<double>(*h.scanned));
            if (h.head) head.add({{"chain", ch.id}}, static_cast<double>(*h.head));
            if (auto l = h.lag()) lag.add({{"chain", ch.id}}, static_cast<double>(*l));
        }
        fam.push_back(std::move(scanned));
        fam.push_back(std::move(head));
        fam.push_back(std::move(lag));
        fam.push_back(std::move(halted));
    }
    std::string text = metrics::Registry::global().render();
    text += render_families(fam, text);
    Response r;
    r.status = 200;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = std::move(text);
    return r;
}

}  // namespace depositd::api
