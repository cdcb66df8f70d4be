#pragma once
// What the daemon tells systemd (Type=notify, WatchdogSec=), through
// core/sd_notify.hpp:
//   READY=1     once the API listens and every loop has started
//   WATCHDOG=1  every half WATCHDOG_USEC, only while no loop is stuck
//               inside a step (the rule: core/watchdog.hpp)
//   STATUS=     per chain status and lag, and what is stuck
//   STOPPING=1  when a shutdown begins (SIGTERM, a failed loop, a
//               configuration the node contradicts)
// Without NOTIFY_SOCKET nothing is sent; stuck loops are still logged.
//
// The checks run on the network thread, like the loops: if that thread
// itself blocks, the pings stop as well.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/health.hpp"
#include "core/sd_notify.hpp"

namespace depositd {

class ServiceNotifier {
public:
    ServiceNotifier(boost::asio::any_io_executor executor, SdNotify sd, const HealthBoard& board, const Clock& clock,
                    std::chrono::milliseconds stall);

    // The longest a step may legitimately take when [daemon].stall_timeout
    // is not set: per chain, a call that succeeds at its last attempt and
    // one that fails at all of them (request_timeout plus the JSON-RPC
    // backoff, 4 attempts each), plus the time a max_rps cap spends on a
    // full block range; at least 3 minutes.
    static std::chrono::milliseconds default_stall(const config::Config& cfg);

    // A loop to watch besides the chains on the board (the webhook dispatcher).
    void watch(std::string name, std::function<std::int64_t()> beat_ms);
    // Sends READY=1 once what is queued on the executor now has run (the
    // loops' first steps), then checks every ping interval.
    void start();
    // STOPPING=1 (once) with a STATUS= saying why; no more pings.
    void stopping(const std::string& why);

private:
    void tick();
    void schedule();

    boost::asio::any_io_executor executor_;
    SdNotify sd_;
    const HealthBoard& board_;
    const Clock& clock_;
    std::chrono::milliseconds stall_;
    std::chrono::milliseconds interval_;
    boost::asio::steady_timer timer_;
    std::vector<std::pair<std::string, std::function<std::int64_t()>>> loops_;
    std::int64_t started_ms_ = 0;
    std::set<std::string> stuck_;      // logged as stuck (logged again when they recover)
    std::string last_status_;
    bool stopping_ = false;
};

}  // namespace depositd
