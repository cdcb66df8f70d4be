#include "service_notify.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "core/log.hpp"
#include "core/watchdog.hpp"

namespace asio = boost::asio;

namespace depositd {

namespace {

auto logger() { return log::get("systemd"); }

// Without a watchdog, STATUS= is refreshed (and stuck loops logged) this often.
constexpr std::chrono::milliseconds kStatusInterval{5000};
// The JSON-RPC client's defaults (net/jsonrpc.hpp): attempts per call and
// the longest backoff between two of them.
constexpr int kRpcAttempts = 4;
constexpr std::chrono::milliseconds kRpcBackoffMax{10'000};

}  // namespace

std::chrono::milliseconds ServiceNotifier::default_stall(const config::Config& cfg) {
    std::chrono::milliseconds stall = std::chrono::minutes(3);
    for (const auto& c : cfg.chains) {
        auto step = 2 * kRpcAttempts * (c.request_timeout + kRpcBackoffMax);
        if (c.max_rps > 0)
            step += std::chrono::milliseconds(static_cast<std::int64_t>(1000.0 * c.max_block_range / c.max_rps));
        stall = std::max(stall, step);
    }
    return stall;
}

ServiceNotifier::ServiceNotifier(asio::any_io_executor executor, SdNotify sd, const HealthBoard& board,
                                 const Clock& clock, std::chrono::milliseconds stall)
    : executor_(std::move(executor)),
      sd_(std::move(sd)),
      board_(board),
      clock_(clock),
      stall_(stall),
      interval_(kStatusInterval),
      timer_(executor_) {
    if (!sd_.problem().empty()) logger()->warn("{}", sd_.problem());
    if (auto w = sd_.watchdog()) {
        interval_ = std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(*w / 2));
        logger()->info("systemd watchdog: {} ms, pinging every {} ms while no loop has been inside one step for "
                       "more than {} s",
                       std::chrono::duration_cast<std::chrono::milliseconds>(*w).count(), interval_.count(),
                       stall_.count() / 1000);
    }
}

void ServiceNotifier::watch(std::string name, std::function<std::int64_t()> beat_ms) {
    loops_.emplace_back(std::move(name), std::move(beat_ms));
}

void ServiceNotifier::start() {
    started_ms_ = clock_.now_ms();
    asio::post(executor_, [this] {
        if (stopping_) return;
        const auto status = watchdog::status_line(board_.snapshot(), {});
        last_status_ = status;
        std::string msg = "READY=1\nSTATUS=" + status;
        if (sd_.watchdog()) msg += "\nWATCHDOG=1";
        if (auto s = sd_.send(msg); !s) logger()->warn("{}", s.error().message);
        else if (sd_.enabled()) logger()->info("told systemd: ready");
        schedule();
    });
}

void ServiceNotifier::schedule() {
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        tick();
        schedule();
    });
}

void ServiceNotifier::tick() {
    const auto chains = board_.snapshot();
    const auto now = clock_.now_ms();
    std::vector<watchdog::LoopBeat> beats;
    for (const auto& [id, h] : chains) beats.push_back(watchdog::chain_beat(id, h, started_ms_));
    for (const auto& [name, beat] : loops_) beats.push_back({name, std::max(started_ms_, beat()), false});
    const auto stuck = watchdog::stuck_loops(beats, now, stall_.count());

    std::set<std::string> names;
    for (const auto& s : stuck) {
        names.insert(s.name);
        if (!stuck_.contains(s.name))
            logger()->error("{} has been inside one step for {} s (stall_timeout {} s): it is hung{}", s.name,
                            s.silent_ms / 1000, stall_.count() / 1000,
                            sd_.watchdog() ? "; watchdog pings stop, systemd will restart the service" : "");
    }
    for (const auto& n : stuck_)
        if (!names.contains(n)) logger()->warn("{} is moving again", n);
    stuck_ = std::move(names);

    std::string msg;
    if (stuck.empty() && sd_.watchdog()) msg = "WATCHDOG=1";
    auto status = watchdog::status_line(chains, stuck);
    if (status != last_status_) {
        if (!msg.empty()) msg += "\n";
        msg += "STATUS=" + status;
        last_status_ = std::move(status);
    }
    if (msg.empty()) return;
    if (auto s = sd_.send(msg); !s) logger()->warn("{}", s.error().message);
}

void ServiceNotifier::stopping(const std::string& why) {
    if (stopping_) return;
    stopping_ = true;
    timer_.cancel();
    if (auto s = sd_.send("STOPPING=1\nSTATUS=stopping: " + why); !s) logger()->warn("{}", s.error().message);
}

}  // namespace depositd
