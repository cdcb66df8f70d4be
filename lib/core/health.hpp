#pragma once
// What each chain loop reports about itself, for /health, /metrics, the
// systemd watchdog and STATUS= line. Written by the chain loops on the
// network thread, read by API workers: every access takes the lock and
// copies (a handful of small structs).
#include <chrono>
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
    std::int64_t sleep_until = 0;         // unix ms the loop's current (or last) wait between steps ends
    // SPEC §11: "leader" scans the chain here; "standby" waits for its lease
    // (the figures above are then the leader's, as stored). Set by the board.
    std::string role = "leader";

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
        ChainHealth h = it->second;
        h.role = role_locked(chain);
        return h;
    }
    std::map<std::string, ChainHealth> snapshot() const {
        std::lock_guard lock(mu_);
        auto out = chains_;
        for (auto& [chain, h] : out) h.role = role_locked(chain);
        return out;
    }

    // Leadership (scanner/leadership.hpp): this process leads `chain` until
    // `until` on the steady clock (nullopt: standby). The role is judged when
    // read, so a leader whose loops are stuck on a lost database still turns
    // "standby" when its lease runs out. A chain never given a lease (no
    // leadership, as in tests) is led.
    void set_lead(const std::string& chain, std::optional<std::chrono::steady_clock::time_point> until) {
        std::lock_guard lock(mu_);
        leads_[chain] = until;
    }
    std::string role(const std::string& chain) const {
        std::lock_guard lock(mu_);
        return role_locked(chain);
    }

private:
    std::string role_locked(const std::string& chain) const {
        auto it = leads_.find(chain);
        if (it == leads_.end()) return "leader";
        return it->second && std::chrono::steady_clock::now() < *it->second ? "leader" : "standby";
    }

    mutable std::mutex mu_;
    std::map<std::string, ChainHealth> chains_;
    std::map<std::string, std::optional<std::chrono::steady_clock::time_point>> leads_;
};

}  // namespace depositd
