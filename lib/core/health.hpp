#pragma once
// What each chain loop reports about itself, for /health, /metrics, the
// systemd watchdog and STATUS= line. Written by the chain loops on the
// network thread, read by API workers: every access takes the lock and
// copies (a handful of small structs).
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace depositd {

struct ChainHealth {
    // starting: start-up checks not passed yet (node down, still booting)
    // ok:       following the head
    // lagging:  more than kLagWarn heights behind the head
    // error:    the last several steps failed (lastError says why)
    // halted:   stopped on purpose (reorg deeper than allowed, or below finality)
    std::string status = "starting";
    std::optional<std::uint64_t> head;
    std::optional<std::uint64_t> scanned;
    std::optional<std::uint64_t> finalized;
    std::int64_t updated_at = 0;          // unix ms of the last successful step (0: none yet)
    std::optional<std::string> last_error;
    std::int64_t last_error_at = 0;
    std::optional<std::string> halted;    // why, when halted
    std::int64_t progress_at = 0;         // unix ms of the last step that ended (success or failure): liveness

    std::optional<std::uint64_t> lag() const {
        if (!head || !scanned) return std::nullopt;
        return *head > *scanned ? *head - *scanned : 0;
    }
};

class HealthBoard {
public:
    static constexpr std::uint64_t kLagWarn = 20;  // heights behind the head before "lagging"

    void put(const std::string& chain, const ChainHealth& h) {
        std::lock_guard lock(mu_);
        chains_[chain] = h;
    }
    std::optional<ChainHealth> get(const std::string& chain) const {
        std::lock_guard lock(mu_);
        auto it = chains_.find(chain);
        if (it == chains_.end()) return std::nullopt;
        return it->second;
    }
    std::map<std::string, ChainHealth> snapshot() const {
        std::lock_guard lock(mu_);
        return chains_;
    }

private:
    mutable std::mutex mu_;
    std::map<std::string, ChainHealth> chains_;
};

}  // namespace depositd
