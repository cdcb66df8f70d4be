#pragma once
// Per-chain leadership among the daemons sharing one store (SPEC §11). For
// each chain one process holds the lease "chain:<id>" (store/lease.hpp) and
// scans it; the others stand by and take the lease when it expires. Every
// scanner commit proves the lease in its own transaction (fencing), so a
// leader that lost its lease writes nothing more for that chain, whatever
// its clock or its network believed.
//
// Timings ([store] lease, lease_poll): the lease lasts `ttl` from its last
// renewal (by the database's clock); the leader renews it every ttl/5 (and
// with each commit); standbys look every `poll`. A leader killed, or cut off
// from the database, is replaced within ttl + about a second. A leader that
// cannot renew believes itself leader for `ttl` from the moment it sent its
// last successful renewal (a steady clock), so it steps down no later than
// the database lets anyone else take over.
//
// Chains are spread: with N live processes and C chains, a process holding
// ceil(C/N) chains lets a free lease wait a second for a process holding
// fewer, and one holding more than its share hands a chain over when another
// live process holds fewer.
//
// Runs on the network thread; database work on the store's writer thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/health.hpp"
#include "store/lease.hpp"

namespace depositd::store {
class Store;
}

namespace depositd::scanner {

struct LeaseOptions {
    std::chrono::milliseconds ttl{10'000};
    std::chrono::milliseconds poll{200};
};

class Leadership {
public:
    Leadership(boost::asio::any_io_executor executor, store::Store& store, store::InstanceInfo me, LeaseOptions options,
               std::vector<std::string> chains, HealthBoard* board = nullptr);

    // Polls until stop(); then releases the leases it holds (a clean stop
    // hands each chain over at once) and removes this process's row.
    boost::asio::awaitable<void> run();
    void stop();

    // The lease this process holds for `chain`, while it still believes it
    // holds it (see above); nullopt: standby.
    std::optional<store::Fence> fence(const std::string& chain) const;
    // A commit found the lease gone (taken over): standby from now on.
    void lost(const std::string& chain, std::int64_t epoch);
    // Called on the network thread whenever a lease is taken or lost here.
    void on_change(std::function<void()> fn) { on_change_ = std::move(fn); }

    const store::InstanceInfo& instance() const { return me_; }
    const LeaseOptions& options() const { return options_; }

private:
    struct Held {
        store::Fence fence;
        std::chrono::steady_clock::time_point valid_until;  // our belief: sent-at of the last renewal + ttl
        std::chrono::steady_clock::time_point since;
    };
    struct PollResult;

    boost::asio::awaitable<void> poll_once();
    void drop(std::string chain, const char* why);  // by value: the caller may pass a key of held_
    void publish(const std::string& chain);
    void changed();
    std::chrono::milliseconds renew_every() const { return options_.ttl / 5; }

    boost::asio::any_io_executor executor_;
    store::Store& store_;
    store::InstanceInfo me_;
    LeaseOptions options_;
    std::vector<std::string> chains_;
    HealthBoard* board_;
    std::shared_ptr<boost::asio::steady_timer> timer_;
    std::function<void()> on_change_;
    bool stopping_ = false;
    std::map<std::string, Held> held_;
    std::chrono::steady_clock::time_point last_beat_{};
    std::int64_t started_at_ = 0;
    std::size_t live_ = 1;  // live processes at the last heartbeat (this one included)
};

}  // namespace depositd::scanner
