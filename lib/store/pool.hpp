#pragma once
// The address pool and bindings (SPEC §4, §6).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

struct WatchedAddress {
    std::int64_t id = 0;
    std::string address;
    std::vector<std::uint8_t> watch_key;
};

// Addresses of a protocol with id > after_id, in id order, streamed to `fn`
// (1 M rows without holding them all twice). Used to (re)load watch sets.
Status for_each_watched(Database& db, const std::string& protocol, std::int64_t after_id,
                        const std::function<void(const WatchedAddress&)>& fn);
// At most `limit` addresses of a protocol with id > after_id, in id order
// (watch sets load in chunks, so the writer thread is never held long).
// Inside a transaction that inserts addresses, before the first insert:
// on PostgreSQL, makes such transactions take turns (an advisory lock held
// to COMMIT), so address ids become visible in id order and watched_after()
// can never step over an id a slower transaction commits later. SQLite's
// one writer does that already (no-op).
Status lock_address_inserts(Database& db);

Result<std::vector<WatchedAddress>> watched_after(Database& db, const std::string& protocol, std::int64_t after_id,
                                                  std::size_t limit);
// How many addresses of a protocol have id > after_id (a watch set reserves
// its room once, before loading them in chunks).
Result<std::int64_t> watched_count_after(Database& db, const std::string& protocol, std::int64_t after_id);
// Largest address id of a protocol (0 if none): addresses are never deleted,
// so a larger value means new addresses to watch.
Result<std::int64_t> pool_generation(Database& db, const std::string& protocol);

// A few addresses of a protocol that show every kind of address in its pool:
// the smallest and largest of each group sharing their first two characters
// (lower-cased) and length. Bitcoin addresses of different networks never
// share a group: a bech32 HRP or a base58 version byte fixes the first
// characters for a given length. For start-up checks (a Bitcoin node's
// network against the pool); one pass over the protocol's rows.
Result<std::vector<std::string>> address_samples(Database& db, const std::string& protocol);

// The address text and the active binding's reference (if any) of an address.
struct AddressOwner {
    std::string address;
    std::optional<std::string> reference;
};
Result<AddressOwner> address_owner(Database& db, std::int64_t address_id);
// The addresses of these ids (unknown ids are left out), and those of them
// ever bound (any binding, ended or not: an address never bound has no
// depositReference at any time). A batch's in a few reads instead of one each.
Result<std::unordered_map<std::int64_t, std::string>> addresses_by_id(Database& db,
                                                                     const std::vector<std::int64_t>& ids);
Result<std::unordered_set<std::int64_t>> ever_bound(Database& db, const std::vector<std::int64_t>& address_ids);

}  // namespace depositd::store

// --- Bindings (implemented in pool.cpp, used by lib/api and depositctl) -----
namespace depositd::store {

struct Binding {
    std::string reference;
    std::string protocol;
    std::string address;
    std::int64_t address_id = 0;
    std::optional<std::string> metadata;  // JSON text as given
    std::int64_t bound_at = 0;            // unix ms
    bool created = false;                 // true when this call made the binding
};

// Takes a free address of the protocol atomically (one transaction); the same
// (reference, protocol) again returns the existing binding (created=false).
// No free address: Errc::unavailable ("InsufficientAddresses").
Result<Binding> bind_reference(Database& db, const std::string& reference, const std::string& protocol,
                               const std::optional<std::string>& metadata, std::int64_t now_ms);
// Ends the active binding(s) of a reference (all protocols when nullopt).
// The address stays watched; it goes to state 'cooling' until now+cooldown
// (nullopt cooldown = never handed out again). Returns how many were unbound.
Result<int> unbind_reference(Database& db, const std::string& reference, const std::optional<std::string>& protocol,
                             std::optional<std::int64_t> cooldown_ms, std::int64_t now_ms);
Result<std::vector<Binding>> active_bindings(Database& db, const std::string& reference);

// The lowest-id address of the protocol that may be handed out now: state
// 'free', or 'cooling' with a cooldown that has passed. A read only; the
// caller takes it inside its own transaction (bind_reference, orders).
struct FreeAddress {
    std::int64_t id = 0;
    std::string address;
};
Result<std::optional<FreeAddress>> next_free_address(Database& db, const std::string& protocol, std::int64_t now_ms);

struct PoolStats {
    std::string protocol;
    std::uint64_t free = 0, bound = 0, cooling = 0;
};
// free counts cooling addresses whose cooldown has passed as free.
Result<std::vector<PoolStats>> pool_stats(Database& db, std::int64_t now_ms);

}  // namespace depositd::store
