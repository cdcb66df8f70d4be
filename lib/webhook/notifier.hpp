#pragma once
// [notify.telegram]: decides what the operator is told, and queues it in the
// durable outbox (the dispatcher delivers it, retried on the webhook
// schedule). Nothing here runs inside a scanner commit: detection never
// waits for Telegram.
//
//  - Relay: committed webhook events of the chosen types (deposit.confirmed,
//    order.paid, order.late_payment) become Telegram messages. The position
//    (notify_state 'relay_seq') moves in the same transaction as the
//    messages it produced, so a crash neither loses nor repeats one.
//  - Alerts: chain.halted, chain.lagging (from the chains' health),
//    pool.low (free addresses under [pool].low_water) and webhook.failing
//    (merchant deliveries failed, or still retrying after 3 attempts). Each
//    alert key remembers the state it last reported and when: a change is
//    reported at most once per alert_interval, so a flapping state cannot
//    flood the chat, and a recovery is reported too.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/health.hpp"
#include "store/notify.hpp"
#include "store/pool.hpp"
#include "store/store.hpp"
#include "webhook/telegram.hpp"

namespace depositd::webhook {

// One alert as it stands now: its key ("chain.lagging:ethereum"), its event
// name, the state ("ok" or the trouble's name) and the message that says so.
struct AlertNow {
    std::string key;
    std::string event;
    std::string state;
    TelegramText message;
};

// The alerts of the configured events, from the chains' health, the pool
// and the delivery trouble. Every subject is listed, "ok" ones too.
std::vector<AlertNow> current_alerts(const config::Config& cfg, const std::map<std::string, ChainHealth>& chains,
                                     const std::vector<store::PoolStats>& pool, const store::DeliveryTrouble& trouble);

// Whether an alert whose state is now `state` is to be reported, given what
// was last reported (nullopt: nothing yet, i.e. "ok" at time 0).
bool alert_due(const std::optional<store::NotifyState>& last, const std::string& state, std::int64_t now_ms,
               std::int64_t interval_ms);

// Relays new webhook events into Telegram messages; returns how many were
// queued. Runs on the writer connection, one transaction.
Result<int> relay_events(store::Database& db, const config::TelegramConfig& cfg, std::int64_t now_ms,
                         std::size_t batch = 200);
// Queues the alerts that are due and records what was reported; returns how many.
Result<int> report_alerts(store::Database& db, const config::TelegramConfig& cfg, const std::vector<AlertNow>& alerts,
                          std::int64_t now_ms);

class TelegramNotifier {
public:
    TelegramNotifier(boost::asio::any_io_executor executor, store::Store& store, const config::Config& cfg,
                     const Clock& clock, const HealthBoard* health);

    // Called after messages were queued (wake the dispatcher).
    void on_queued(std::function<void()> fn) { on_queued_ = std::move(fn); }
    void set_intervals(std::chrono::milliseconds relay, std::chrono::milliseconds alerts) {
        relay_interval_ = relay;
        alert_interval_ = alerts;
    }

    boost::asio::awaitable<void> run();
    void stop();
    std::int64_t heartbeat_ms() const { return heartbeat_ms_; }

private:
    store::Store& store_;
    const config::Config& cfg_;
    const Clock& clock_;
    const HealthBoard* health_;
    std::function<void()> on_queued_;
    std::chrono::milliseconds relay_interval_{1000};
    std::chrono::milliseconds alert_interval_{5000};
    std::shared_ptr<boost::asio::steady_timer> timer_;
    bool stopping_ = false;
    std::int64_t heartbeat_ms_ = 0;
};

}  // namespace depositd::webhook
