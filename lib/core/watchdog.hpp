#pragma once
// The liveness rule behind the systemd watchdog: a pure function of what the
// daemon's loops last reported and the time (the daemon's ServiceNotifier
// applies it every ping interval).
//
// Every loop (each chain loop, the webhook dispatcher) reports a beat: the
// later of when its last step ended and when its current wait between steps
// ends. A loop that sleeps (poll interval, error backoff, Retry-After) has a
// beat in the future: it is healthily waiting, however long it sleeps. A loop
// inside a step has a beat in the past; a step may legitimately take a while
// (RPC timeouts x retries, a database job waiting behind a depositctl
// import), but when the beat lies more than `stall` behind, the loop is
// stuck inside a call and the watchdog pings must stop so that systemd
// restarts the service.
//
// A chain that halted on purpose (reorg deeper than allowed, below finality)
// has ended its loop: it is reported by /health and STATUS=, not restarted.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/health.hpp"

namespace depositd::watchdog {

struct LoopBeat {
    std::string name;             // "chain ethereum", "webhook dispatcher"
    std::int64_t beat_ms = 0;     // unix ms, see above
    bool finished = false;        // ended on purpose: not checked
};

struct StuckLoop {
    std::string name;
    std::int64_t silent_ms = 0;   // how long its beat lies behind now
};

// The loops whose beat lies more than stall_ms behind now_ms, in input order.
std::vector<StuckLoop> stuck_loops(const std::vector<LoopBeat>& loops, std::int64_t now_ms, std::int64_t stall_ms);

// A chain loop's beat from its health. `started_ms` (when the loops were
// started) is the floor: a loop that has not finished its first step counts
// from there.
LoopBeat chain_beat(const std::string& chain, const ChainHealth& h, std::int64_t started_ms);

// The STATUS= line `systemctl status` shows: per chain its status and lag,
// then what is stuck, e.g.
//   "ethereum ok lag 0, tron lagging lag 42"
//   "stuck: chain bsc (95s); bsc ok lag 0, ethereum ok lag 0"
// One line, at most `max_bytes` (cut with "...").
std::string status_line(const std::map<std::string, ChainHealth>& chains, const std::vector<StuckLoop>& stuck,
                        std::size_t max_bytes = 400);

}  // namespace depositd::watchdog
