#pragma once
// The address pool and bindings (SPEC §4, §6).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
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
// Largest address id of a protocol (0 if none): addresses are never deleted,
// so a larger value means new addresses to watch.
Result<std::int64_t> pool_generation(Database& db, const std::string& protocol);

// The address text and the active binding's reference (if any) of an address.
struct AddressOwner {
    std::string address;
    std::optional<std::string> reference;
};
Result<AddressOwner> address_owner(Database& db, std::int64_t address_id);

}  // namespace depositd::store
