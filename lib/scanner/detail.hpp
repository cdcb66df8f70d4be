#pragma once
// What the scanner's files share (lib/scanner only; not part of its interface).
#include <cstdint>
#include <string>

#include "core/log.hpp"
#include "core/result.hpp"

namespace depositd::scanner::detail {

inline const std::string kPending = "pending";
inline const std::string kConfirmed = "confirmed";
inline const std::string kReverted = "reverted";
inline const std::string kEvtPending = "deposit.pending";
inline const std::string kEvtConfirmed = "deposit.confirmed";
inline const std::string kEvtReverted = "deposit.reverted";

// Watch sets load in chunks so one job never holds the writer for long.
inline constexpr std::size_t kWatchChunk = 50'000;
// Consecutive failed steps before a chain reports "error" (one 429 is not an outage).
inline constexpr int kErrorAfterFailures = 3;
// Finality claims kept while the cursor has not reached them (a catch-up
// reads the head every poll_interval): the lowest ones are proven first.
inline constexpr std::size_t kMaxClaims = 64;

inline auto logger() {
    static auto l = log::get("scanner");
    return l;
}

inline Error with_context(Error e, const std::string& context) {
    e.message = context + ": " + e.message;
    return e;
}

inline std::uint64_t confirmations_at(std::uint64_t head, std::uint64_t block) {
    return head >= block ? head - block + 1 : 0;
}

}  // namespace depositd::scanner::detail
