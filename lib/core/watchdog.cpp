#include "core/watchdog.hpp"

#include <algorithm>

namespace depositd::watchdog {

std::vector<StuckLoop> stuck_loops(const std::vector<LoopBeat>& loops, std::int64_t now_ms, std::int64_t stall_ms) {
    std::vector<StuckLoop> out;
    for (const auto& l : loops) {
        if (l.finished) continue;
        const std::int64_t silent = now_ms - l.beat_ms;
        if (silent > stall_ms) out.push_back({l.name, silent});
    }
    return out;
}

LoopBeat chain_beat(const std::string& chain, const ChainHealth& h, std::int64_t started_ms) {
    LoopBeat b;
    b.name = "chain " + chain;
    b.beat_ms = std::max({started_ms, h.progress_at, h.sleep_until});
    b.finished = h.status == "halted";
    return b;
}

std::string status_line(const std::map<std::string, ChainHealth>& chains, const std::vector<StuckLoop>& stuck,
                        std::size_t max_bytes) {
    // What is stuck comes first: it is why the pings stopped.
    std::string s;
    if (!stuck.empty()) {
        s = "stuck:";
        for (std::size_t i = 0; i < stuck.size(); ++i)
            s += (i ? ", " : " ") + stuck[i].name + " (" + std::to_string(stuck[i].silent_ms / 1000) + "s)";
        s += "; ";
    }
    if (chains.empty()) s += "no chains";
    bool first = true;
    for (const auto& [id, h] : chains) {
        if (!first) s += ", ";
        first = false;
        s += id + " " + h.status;
        if (auto lag = h.lag()) s += " lag " + std::to_string(*lag);
        s += " (" + h.role + ")";  // SPEC §11: leader scans it here, standby waits for its lease
    }
    // One line: a chain id cannot hold a newline (config ids are [a-z0-9-]),
    // but the status text is never trusted to be one line either.
    std::replace(s.begin(), s.end(), '\n', ' ');
    if (s.size() > max_bytes && max_bytes >= 3) s = s.substr(0, max_bytes - 3) + "...";
    return s;
}

}  // namespace depositd::watchdog
