// Per-chain leases: taking, renewing, spreading and handing over (leadership.hpp).
#include "scanner/leadership.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <set>

#include "core/log.hpp"
#include "store/async.hpp"
#include "store/store.hpp"

namespace depositd::scanner {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

namespace {

auto logger() {
    static auto l = log::get("leadership");
    return l;
}

// "host:pid" -> "host" (the holder's host, to judge whether its pid can be checked here).
std::string host_of(const std::string& instance_id) {
    auto colon = instance_id.rfind(':');
    return colon == std::string::npos ? instance_id : instance_id.substr(0, colon);
}

}  // namespace

// What one poll did on the writer thread, for the network thread to apply.
struct Leadership::PollResult {
    std::map<std::string, bool> renewed;          // lease name -> still ours
    Steady::time_point renew_sent{};              // just before the renewals were sent
    std::vector<std::pair<store::Fence, Steady::time_point>> acquired;  // with when its statement was sent
    std::vector<std::string> released;            // handed over to a process holding fewer
    std::optional<std::size_t> live;              // live processes, at a heartbeat
};

Leadership::Leadership(asio::any_io_executor executor, store::Store& store, store::InstanceInfo me,
                       LeaseOptions options, std::vector<std::string> chains, HealthBoard* board)
    : executor_(std::move(executor)),
      store_(store),
      me_(std::move(me)),
      options_(options),
      chains_(std::move(chains)),
      board_(board),
      timer_(std::make_shared<asio::steady_timer>(executor_)) {
    if (options_.ttl < std::chrono::milliseconds(1000)) options_.ttl = std::chrono::milliseconds(1000);
    if (options_.poll <= std::chrono::milliseconds(0)) options_.poll = std::chrono::milliseconds(200);
    for (const auto& c : chains_) publish(c);
}

void Leadership::stop() {
    auto t = timer_;
    asio::dispatch(executor_, [this, t] {
        stopping_ = true;
        t->cancel();
    });
}

std::optional<store::Fence> Leadership::fence(const std::string& chain) const {
    auto it = held_.find(chain);
    if (it == held_.end() || Steady::now() >= it->second.valid_until) return std::nullopt;
    return it->second.fence;
}

void Leadership::lost(const std::string& chain, std::int64_t epoch) {
    auto it = held_.find(chain);
    if (it == held_.end() || it->second.fence.epoch != epoch) return;
    drop(chain, "a commit found it taken over");
}

void Leadership::publish(const std::string& chain) {
    auto it = held_.find(chain);
    std::optional<Steady::time_point> until;
    if (it != held_.end()) until = it->second.valid_until;
    if (board_) board_->set_lead(chain, until);
}

void Leadership::changed() {
    if (on_change_) on_change_();
}

void Leadership::drop(std::string chain, const char* why) {
    auto it = held_.find(chain);
    if (it == held_.end()) return;
    logger()->warn("{}: no longer leader (lease epoch {}: {}); standing by", chain, it->second.fence.epoch, why);
    held_.erase(it);
    publish(chain);
    changed();
}

asio::awaitable<void> Leadership::run() {
    started_at_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    logger()->info("instance {}: leases of {} ms, polled every {} ms", me_.id, options_.ttl.count(),
                   options_.poll.count());
    while (!stopping_) {
        co_await poll_once();
        if (stopping_) break;
        timer_->expires_after(options_.poll);
        co_await timer_->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    // A clean stop hands every chain over at once instead of after the lease runs out.
    std::vector<store::Fence> mine;
    for (const auto& [chain, h] : held_) mine.push_back(h.fence);
    const std::string id = me_.id;
    auto s = co_await store::async_write(store_, [&mine, &id](store::Database& db) -> Status {
        for (const auto& f : mine)
            if (auto s = store::release_lease(db, f); !s) return s;
        return store::forget_instance(db, id);
    });
    if (!s) logger()->warn("cannot release the leases: {} (they expire on their own)", s.error().describe());
    else if (!mine.empty()) logger()->info("released {} lease(s)", mine.size());
    std::vector<std::string> chains;
    for (const auto& [chain, h] : held_) chains.push_back(chain);
    held_.clear();
    for (const auto& c : chains) publish(c);
}

asio::awaitable<void> Leadership::poll_once() {
    const auto started = Steady::now();
    // Local belief runs out first: a leader that could not renew steps down.
    for (auto it = held_.begin(); it != held_.end();) {
        auto next = std::next(it);
        if (started >= it->second.valid_until) drop(it->first, "not renewed within the lease time");
        it = next;
    }

    const bool beat = started - last_beat_ >= renew_every();
    std::vector<store::Fence> renew;
    std::set<std::string> mine;
    for (const auto& [chain, h] : held_) {
        mine.insert(chain);
        if (beat) renew.push_back(h.fence);
    }
    std::vector<std::string> wanted;
    for (const auto& c : chains_)
        if (!mine.contains(c)) wanted.push_back(c);
    // Chains held long enough to be handed over without ping-pong.
    std::set<std::string> settled;
    for (const auto& [chain, h] : held_)
        if (started - h.since >= 2 * renew_every()) settled.insert(chain);
    if (!beat && wanted.empty()) co_return;

    const auto me = me_;
    const std::int64_t ttl = options_.ttl.count();
    const std::int64_t live_window = ttl / 2;
    const std::int64_t grace = std::max<std::int64_t>(1000, 5 * options_.poll.count());
    const std::size_t total = chains_.size();
    std::size_t live_before = live_;
    const std::int64_t started_at = started_at_;
    auto polled = co_await store::async_write(store_, [&](store::Database& db) -> Result<PollResult> {
        PollResult out;
        std::size_t live = live_before;
        std::vector<store::InstanceRow> alive;  // at a heartbeat
        if (beat) {
            if (auto s = store::heartbeat_instance(db, me, started_at); !s) return s.error();
            auto seen = store::live_instances(db, live_window);
            if (!seen) return seen.error();
            alive = std::move(*seen);
            live = std::max<std::size_t>(1, alive.size());
            out.live = live;
            out.renew_sent = Steady::now();
            for (const auto& f : renew) {
                auto held = store::prove_lease(db, f);
                if (!held) return held.error();
                out.renewed[f.name] = *held;
            }
        }
        std::size_t have = 0;
        for (const auto& [name, ok] : out.renewed) have += ok ? 1 : 0;
        if (!beat) have = mine.size();
        const std::size_t share = (total + live - 1) / live;

        auto leases = store::list_leases(db);
        if (!leases) return leases.error();
        auto now = store::database_now_ms(db);
        if (!now) return now.error();
        std::map<std::string, store::LeaseRow> by_name;
        std::map<std::string, std::size_t> held_by;
        for (auto& l : *leases) {
            if (!l.holder.empty() && l.expires_at > *now) ++held_by[l.holder];
            by_name[l.name] = l;
        }
        for (const auto& chain : wanted) {
            auto it = by_name.find(store::chain_lease(chain));
            if (it != by_name.end()) {
                const auto& l = it->second;
                const bool running = !l.holder.empty() && l.expires_at > *now;
                // Held by a live process elsewhere: only its expiry frees it.
                if (running && host_of(l.holder) != me.host) continue;
                // At our share: leave a just-freed lease a moment to a process holding fewer.
                if (!running && have >= share && l.expires_at + grace > *now) continue;
            }
            // Our belief in a lease runs from before the statement that took
            // it: it may wait on a row lock for a while.
            const auto sent = Steady::now();
            auto got = store::try_acquire(db, store::chain_lease(chain), me, ttl);
            if (!got) return got.error();
            if (*got) {
                out.acquired.emplace_back(**got, sent);
                ++have;
            }
        }
        // More than our share while a live process holds less: hand one over.
        if (beat && have > share) {
            const bool someone_short = std::any_of(alive.begin(), alive.end(), [&](const store::InstanceRow& r) {
                return r.info.id != me.id && held_by[r.info.id] < share;
            });
            if (someone_short)
                for (auto it = renew.rbegin(); it != renew.rend(); ++it) {
                    const std::string chain = store::chain_of_lease(it->name).value_or("");
                    if (!out.renewed[it->name] || !settled.contains(chain)) continue;
                    if (auto s = store::release_lease(db, *it); !s) return s.error();
                    out.released.push_back(chain);
                    break;
                }
        }
        return out;
    });
    if (!polled) {
        logger()->warn("lease poll: {}", polled.error().describe());
        co_return;
    }
    if (beat) last_beat_ = started;
    if (polled->live) live_ = *polled->live;
    bool any = false;
    for (const auto& [name, ok] : polled->renewed) {
        const std::string chain = store::chain_of_lease(name).value_or("");
        auto it = held_.find(chain);
        if (it == held_.end()) continue;
        if (!ok) {
            drop(chain, "taken over");
            continue;
        }
        it->second.valid_until = polled->renew_sent + options_.ttl;
        publish(chain);
    }
    for (const auto& chain : polled->released) {
        logger()->info("{}: handing the chain over to a process that leads fewer", chain);
        drop(chain, "handed over");
    }
    for (const auto& [f, sent] : polled->acquired) {
        const std::string chain = store::chain_of_lease(f.name).value_or("");
        held_[chain] = Held{f, sent + options_.ttl, Steady::now()};
        logger()->info("{}: leader now (lease epoch {})", chain, f.epoch);
        publish(chain);
        any = true;
    }
    if (any) changed();
}

}  // namespace depositd::scanner
