#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on Asio's coroutine frame allocator (GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "webhook/notifier.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/ids.hpp"
#include "core/log.hpp"
#include "store/async.hpp"

namespace depositd::webhook {
namespace asio = boost::asio;

namespace {

constexpr const char* kRelayKey = "relay_seq";
constexpr int kTroubleAttempts = 3;  // a delivery still retrying after this many attempts: failing

auto logger() {
    static auto l = log::get("notify");
    return l;
}

Status queue_message(store::Database& db, const std::string& id, const std::string& event, const TelegramText& t,
                     const std::string& source, std::int64_t now_ms) {
    store::NewEvent e;
    e.id = id;
    e.type = kTelegramType;
    e.kind = store::kKindTelegram;
    e.payload = message_payload(event, t, source);
    e.created_at = now_ms;
    // No stream: one message that keeps failing never holds back the others.
    e.stream.clear();
    auto r = store::insert_event(db, e);
    if (!r) return r.error();
    return {};
}

}  // namespace

std::vector<AlertNow> current_alerts(const config::Config& cfg, const std::map<std::string, ChainHealth>& chains,
                                     const std::vector<store::PoolStats>& pool, const store::DeliveryTrouble& trouble) {
    const auto& tg = cfg.notify.telegram;
    std::vector<AlertNow> out;
    for (const auto& ch : cfg.chains) {
        ChainHealth h;
        if (auto it = chains.find(ch.id); it != chains.end()) h = it->second;
        if (tg.wants("chain.halted")) {
            const bool halted = h.status == "halted" || h.halted.has_value();
            TextBuilder b;
            if (halted)
                b.text("🛑 ").bold("Chain halted").text(" · ").text(ch.id).line().text(h.halted.value_or(h.last_error.value_or("stopped")))
                    .line().text("Deposits on it are not followed until an operator acts.");
            else
                b.text("✅ ").bold("Chain running again").text(" · ").text(ch.id);
            out.push_back({"chain.halted:" + ch.id, "chain.halted", halted ? "halted" : "ok", b.done()});
        }
        if (tg.wants("chain.lagging")) {
            const bool lagging = h.status == "lagging";
            TextBuilder b;
            if (lagging) {
                b.text("🐢 ").bold("Chain lagging").text(" · ").text(ch.id).line();
                if (auto lag = h.lag())
                    b.text(std::to_string(*lag) + " blocks behind (head " + std::to_string(*h.head) + ", scanned " +
                           std::to_string(*h.scanned) + ")");
                else
                    b.text("behind the head");
            } else {
                b.text("✅ ").bold("Chain caught up").text(" · ").text(ch.id);
            }
            out.push_back({"chain.lagging:" + ch.id, "chain.lagging", lagging ? "lagging" : "ok", b.done()});
        }
    }
    if (tg.wants("pool.low") && cfg.pool.low_water > 0) {
        std::map<std::string, std::uint64_t> free;
        for (const auto& ch : cfg.chains) free[to_string(ch.kind)] = 0;
        for (const auto& p : pool)
            if (free.count(p.protocol)) free[p.protocol] = p.free;
        for (const auto& [protocol, n] : free) {
            const bool low = n < cfg.pool.low_water;
            TextBuilder b;
            if (low)
                b.text("⚠️ ").bold("Address pool low").text(" · ").text(protocol).line()
                    .text(std::to_string(n) + " free addresses (low water " + std::to_string(cfg.pool.low_water) + ")").line()
                    .text("Import or derive more with depositctl pool import / pool derive.");
            else
                b.text("✅ ").bold("Address pool refilled").text(" · ").text(protocol).line()
                    .text(std::to_string(n) + " free addresses");
            out.push_back({"pool.low:" + protocol, "pool.low", low ? "low" : "ok", b.done()});
        }
    }
    if (tg.wants("webhook.failing")) {
        const bool failing = trouble.failed > 0 || trouble.retrying > 0;
        TextBuilder b;
        if (failing) {
            b.text("📭 ").bold("Deliveries failing").line()
                .text(std::to_string(trouble.failed) + " failed, " + std::to_string(trouble.retrying) +
                      " still retrying (webhooks, EPay notifies, epusdt callbacks)");
            if (trouble.last_error) b.line().text("Last error: ").text(trouble.last_error->substr(0, 200));
            b.line().text("Resend failed events from the console or with depositctl events resend.");
        } else {
            b.text("✅ ").bold("Deliveries back to normal").line().text("Nothing failed or retrying any more.");
        }
        out.push_back({"webhook.failing", "webhook.failing", failing ? "failing" : "ok", b.done()});
    }
    return out;
}

bool alert_due(const std::optional<store::NotifyState>& last, const std::string& state, std::int64_t now_ms,
               std::int64_t interval_ms) {
    const std::string reported = last ? last->value : "ok";
    const std::int64_t at = last ? last->changed_at : 0;
    return state != reported && (at == 0 || now_ms - at >= interval_ms);
}

Result<int> relay_events(store::Database& db, const config::TelegramConfig& cfg, std::int64_t now_ms,
                         std::size_t batch) {
    store::Transaction tx(db);
    if (!tx.begun()) return tx.begun().error();
    auto pos = store::get_notify_state(db, kRelayKey);
    if (!pos) return pos.error();
    if (!*pos) {
        // First start with Telegram: what happened before is not news.
        auto max = store::max_event_seq(db);
        if (!max) return max.error();
        if (auto s = store::put_notify_state(db, kRelayKey, {std::to_string(*max), now_ms}); !s) return s.error();
        if (auto s = tx.commit(); !s) return s.error();
        return 0;
    }
    std::int64_t after = 0;
    try {
        after = std::stoll((*pos)->value);
    } catch (...) {
        return make_error(Errc::io, "notify_state relay_seq is not a number");
    }
    auto events = store::webhook_events_after(db, after, batch);
    if (!events) return events.error();
    if (events->empty()) return 0;
    int queued = 0;
    for (const auto& e : *events) {
        after = std::max(after, e.seq);
        if (!cfg.wants(e.type)) continue;
        auto payload = json::parse_bounded(e.payload);
        if (!payload) continue;
        auto msg = event_message(e.type, *payload);
        if (!msg) continue;
        if (auto s = queue_message(db, event_id(e.id, "telegram"), e.type, *msg, e.id, now_ms); !s) return s.error();
        ++queued;
    }
    if (auto s = store::put_notify_state(db, kRelayKey, {std::to_string(after), now_ms}); !s) return s.error();
    if (auto s = tx.commit(); !s) return s.error();
    return queued;
}

Result<int> report_alerts(store::Database& db, const config::TelegramConfig& cfg, const std::vector<AlertNow>& alerts,
                          std::int64_t now_ms) {
    store::Transaction tx(db);
    if (!tx.begun()) return tx.begun().error();
    int queued = 0;
    for (const auto& a : alerts) {
        const std::string key = "alert:" + a.key;
        auto last = store::get_notify_state(db, key);
        if (!last) return last.error();
        if (!alert_due(*last, a.state, now_ms, cfg.alert_interval.count())) continue;
        const std::string id = event_id(key, a.state + "@" + std::to_string(now_ms));
        if (auto s = queue_message(db, id, a.event, a.message, a.key, now_ms); !s) return s.error();
        if (auto s = store::put_notify_state(db, key, {a.state, now_ms}); !s) return s.error();
        logger()->info("telegram: {} is {} (message {})", a.key, a.state, id);
        ++queued;
    }
    if (auto s = tx.commit(); !s) return s.error();
    return queued;
}

TelegramNotifier::TelegramNotifier(asio::any_io_executor executor, store::Store& store, const config::Config& cfg,
                                   const Clock& clock, const HealthBoard* health)
    : store_(store),
      cfg_(cfg),
      clock_(clock),
      health_(health),
      timer_(std::make_shared<asio::steady_timer>(executor)) {}

void TelegramNotifier::stop() {
    auto t = timer_;
    asio::dispatch(t->get_executor(), [this, t] {
        stopping_ = true;
        t->cancel();
    });
}

asio::awaitable<void> TelegramNotifier::run() {
    const auto& tg = cfg_.notify.telegram;
    std::string events;
    for (const auto& e : tg.events) events += (events.empty() ? "" : ", ") + e;
    logger()->info("telegram notifications to chat {} for {}", tg.chat_id, events);
    auto next_alerts = std::chrono::steady_clock::now();
    while (!stopping_) {
        heartbeat_ms_ = clock_.now_ms();
        int queued = 0;
        auto relayed = co_await store::async_write(store_, [&](store::Database& db) {
            return relay_events(db, tg, clock_.now_ms());
        });
        if (!relayed) logger()->error("telegram relay: {}", relayed.error().describe());
        else queued += *relayed;

        if (std::chrono::steady_clock::now() >= next_alerts) {
            next_alerts = std::chrono::steady_clock::now() + alert_interval_;
            std::map<std::string, ChainHealth> chains;
            if (health_) chains = health_->snapshot();
            // A chain's alerts come from its leader; a standby only shows what
            // the leader stored (SPEC §11). The pool and delivery alerts are
            // kept once in notify_state, whichever process sees them first.
            std::erase_if(chains, [](const auto& c) { return c.second.role != "leader"; });
            auto reported = co_await store::async_write(store_, [&](store::Database& db) -> Result<int> {
                const std::int64_t now = clock_.now_ms();
                auto pool = store::pool_stats(db, now);
                if (!pool) return pool.error();
                auto trouble = store::delivery_trouble(db, kTroubleAttempts);
                if (!trouble) return trouble.error();
                return report_alerts(db, tg, current_alerts(cfg_, chains, *pool, *trouble), now);
            });
            if (!reported) logger()->error("telegram alerts: {}", reported.error().describe());
            else queued += *reported;
        }
        if (queued > 0 && on_queued_) on_queued_();
        heartbeat_ms_ = clock_.now_ms() + relay_interval_.count();
        timer_->expires_after(relay_interval_);
        co_await timer_->async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

}  // namespace depositd::webhook
