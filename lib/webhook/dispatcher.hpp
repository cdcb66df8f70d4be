#pragma once
// Drains the webhook outbox (store/events) to [webhook].url.
//
// run() loops until stop(): it takes due, deliverable events (per-deposit
// order, see store/events.hpp), POSTs each one signed (signing.hpp) with at
// most config.concurrency requests in flight over the HttpClient's
// keep-alive pool, and stores every attempt and the next attempt time, so a
// restart resumes the schedule where it was.
//
// The dispatcher runs on the network thread; every database call is a job
// for the writer thread (store/async.hpp), awaited, never made here.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "net/http_client.hpp"
#include "store/events.hpp"
#include "store/store.hpp"
#include "webhook/signing.hpp"

namespace depositd::webhook {

// Bytes of a response body kept in delivery_attempts.
inline constexpr std::size_t kResponseExcerptBytes = 1024;
// Largest response body read from a receiver; anything bigger is cut off.
inline constexpr std::size_t kMaxResponseBytes = 64 * 1024;
// Retry-After is honoured up to this (a receiver cannot park an event for ever).
inline constexpr std::int64_t kMaxRetryAfterMs = 24LL * 3600 * 1000;

// What happened on the wire, reduced to what the retry decision needs.
struct AttemptResult {
    std::optional<int> status;        // HTTP status when there was an answer
    long long retry_after_ms = -1;    // parsed Retry-After, -1 if none
    std::string error;                // transport error, empty otherwise
    // The receiver's verdict by the rule of the event's kind (judge()); unset
    // = the webhook rule, any 2xx.
    std::optional<bool> accepted;
};

// --- One delivery, by kind (store::kKindWebhook / kKindEpay / kKindEpusdt) ---
//
// The request of one attempt: a webhook is a signed POST of the payload to
// [webhook].url; an EPay notify a GET of the stored URL (its signed query is
// frozen in it); an epusdt callback a POST of the JSON payload to the
// stored URL. `signer` is needed for webhooks only.
net::HttpRequest build_delivery(const store::EventRow& ev, const config::WebhookConfig& config, const Signer* signer,
                                std::int64_t now_ms);
// Whether the receiver took the delivery: webhook any 2xx; EPay a 2xx whose
// body, trimmed, is "success" (any case) or SSPanel-UIM's JSON
// {"state":"success",...} ("unsuccessful" is not a success); epusdt a body
// that is "ok" (surrounding whitespace ignored). `why` says what was wrong.
bool judge(std::string_view kind, int status, std::string_view body, std::string& why);

// Pure retry decision. `attempts_before` counts attempts made before this
// one; `jitter` in [-1, 1] scales ±10% of the schedule delay.
//  - accepted (r.accepted, or any 2xx when unset): delivered
//  - otherwise, attempt n (1-based) with n <= schedule.size(): retry after
//    schedule[n-1] (±10%), or after Retry-After on 429/503 if that is longer
//  - otherwise: failed
store::AttemptOutcome decide(const AttemptResult& r, int attempts_before,
                             const std::vector<std::chrono::milliseconds>& schedule, std::int64_t now_ms,
                             double jitter);

// First KiB of a body, cut on a UTF-8 boundary, invalid bytes as '?'.
std::string response_excerpt(std::string_view body, std::size_t max = kResponseExcerptBytes);

// Idle connections the HTTP client should keep per host so that
// `concurrency` deliveries to one receiver reuse theirs instead of opening a
// new connection for most requests (at least the client's default, 8).
std::size_t keep_alive_per_host(const config::WebhookConfig& config);

class Dispatcher {
public:
    Dispatcher(boost::asio::any_io_executor executor, store::Store& store, net::HttpClient& http,
               const config::WebhookConfig& config, const Clock& clock);
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    // Runs until stop(); returns once in-flight deliveries have finished
    // (each is bounded by config.timeout).
    boost::asio::awaitable<void> run();
    // Look for due events now (the scanner committed new ones, a resend).
    // Safe from any thread.
    void wake();
    // Ends run() promptly. Safe from any thread.
    void stop();

    // [notify.telegram]: Telegram messages in the outbox (kind "telegram")
    // are delivered to the Bot API with these settings. Without it they
    // wait. Before run(); `telegram` outlives the dispatcher.
    void set_telegram(const config::TelegramConfig* telegram) { telegram_ = telegram; }

    // How often the outbox is looked at without a wake() (picks up resends
    // made by depositctl in another process). Default 1 s.
    void set_poll_interval(std::chrono::milliseconds d) { poll_ = d; }
    // EPay notifies and epusdt callbacks (URLs a stranger with the merchant
    // key chose) go only to public addresses unless this is set
    // ([merchant].allow_private_notify); webhooks go to [webhook].url, which
    // the operator chose, wherever it is. Default: public only.
    void allow_private_targets(bool allow) { allow_private_targets_ = allow; }

    std::size_t in_flight() const { return in_flight_.size(); }
    // Claimed events not tried yet: waiting for a slot, or their request
    // under way (and claims under way, for the slots they reserve).
    std::size_t untried() const { return active_ + ready_.size() + claiming_; }

    // Events claimed ahead of the request slots: kMaxAhead at most; the last
    // of them waits about half kReadyWaitMs for a slot (claim_window).
    static constexpr std::size_t kMaxAhead = 128;
    static constexpr std::int64_t kReadyWaitMs = 20'000;

    // Liveness for the systemd watchdog (core/watchdog.hpp): unix ms when
    // the loop last started a round, or when its current wait ends if
    // later. Read on the network thread.
    std::int64_t heartbeat_ms() const { return heartbeat_ms_; }

private:
    boost::asio::awaitable<void> deliver(store::EventRow ev);
    boost::asio::awaitable<void> idle_until_stopped();
    // Starts a delivery (a request slot: active_).
    void spawn(store::EventRow ev);
    // Starts claimed events (ready_) while request slots are free.
    void start_ready();
    // Hands claimed events that will not be tried now back to the outbox.
    boost::asio::awaitable<void> release(std::vector<store::EventRow> events);
    class Slot;
    // Events claimed and not yet tried (waiting for a slot, or their request
    // under way: untried()) stay under `concurrency` plus a claim ahead: a
    // finished request's slot goes at once to the next claimed event instead
    // of waiting for a commit and a claim, and a group commit records (and
    // claims) many at once. Attempts waiting for their group commit are not
    // counted: they are over, and counting them let a slow commit (an fsync)
    // empty the queue of claimed events and leave the slots idle. The more ahead, the fewer commits
    // per delivery, but an event claimed ahead waits for a slot under its
    // claim: ahead is what the slots deliver in half kReadyWaitMs at the
    // receiver's recent latency, `concurrency` at least (and until a latency
    // is known), kMaxAhead at most.
    std::size_t claim_window() const;
    // A claimed event whose claim would run out before it could be tried
    // and recorded (it waited longer than kReadyWaitMs for a slot) is handed
    // back instead: another process may take it when the claim runs out.
    bool claim_too_short(const store::EventRow& ev) const;
    void on_wake();
    boost::asio::awaitable<std::chrono::milliseconds> wait_time(bool slots_free);
    // Webhooks are configured and the receiver is not paused.
    bool webhooks_enabled() const {
        return !config_.url.empty() && signer_.has_value() && clock_.now_ms() >= receiver_paused_until_ms_;
    }
    // After a webhook attempt: answered (any HTTP status) or not at all.
    void note_receiver(bool answered);
    // How long a claimed event is ours: its wait for a slot, two request
    // deadlines (a Telegram message may be sent twice) and the recording of
    // the attempt.
    std::int64_t claim_ms() const { return kReadyWaitMs + delivery_ms(); }
    std::int64_t delivery_ms() const {
        return 2 * std::chrono::duration_cast<std::chrono::milliseconds>(config_.timeout).count() + 10'000;
    }
    // What a claim of due events takes (store::claim_due_events): up to
    // `want`, none while stopping, the events in flight excluded.
    struct Claim {
        std::int64_t now = 0;
        std::int64_t until = 0;
        std::size_t want = 0;
        store::EventSeqs exclude;
        bool webhooks = false;
        bool telegram = false;
        Result<std::vector<store::EventRow>> run(store::Database& db) const;
    };
    // Reserves `want` slots (claiming_) until take() is given its result.
    Claim claim_for(std::size_t want);
    // Starts the deliveries of a claim's events; frees its reservation.
    void take(const Claim& claim, std::vector<store::EventRow> claimed);
    // Records an attempt and its outcome (store::write_attempts) by group
    // commit: attempts that finish while a write is under way go together
    // into the next one (one transaction, one fsync), so a burst of
    // deliveries costs the writer thread a few commits, not one each, and
    // leaves room for the scanner's. The same transaction claims due events
    // for the slots the group frees. Returns this attempt's own status.
    boost::asio::awaitable<Status> record(store::AttemptRecord rec, store::AttemptOutcome outcome);
    struct PendingRecord;

    boost::asio::any_io_executor executor_;
    store::Store& store_;
    net::HttpClient& http_;
    config::WebhookConfig config_;
    const Clock& clock_;
    std::optional<Signer> signer_;
    const config::TelegramConfig* telegram_ = nullptr;
    std::string signer_error_;
    boost::asio::steady_timer timer_;
    std::chrono::milliseconds poll_{1000};
    // Events (by seq) claimed and not yet recorded: in ready_, being
    // delivered, or waiting for their group commit.
    std::unordered_set<std::int64_t> in_flight_;
    store::EventSeqs in_flight_seqs() const {
        return store::EventSeqs(std::vector<std::int64_t>(in_flight_.begin(), in_flight_.end()));
    }
    std::deque<store::EventRow> ready_;  // claimed, waiting for a request slot
    std::size_t active_ = 0;             // requests under way (<= concurrency)
    // Slots reserved by claims under way (the loop's and a group commit's).
    std::size_t claiming_ = 0;
    std::mt19937_64 rng_;
    // Recent request latency (ms, moving average; < 0: none yet), for the
    // claim ahead (claim_window).
    double latency_ms_ = -1;
    bool allow_private_targets_ = false;
    bool woken_ = false;
    // wake() was called (new events): claim at once, even with most slots busy.
    bool claim_now_ = false;
    // Claims wait for half the slots to be free (or a poll interval): one
    // claim then serves many deliveries, not one each (a round trip each on
    // PostgreSQL, and the writer thread is shared with the scanner).
    std::chrono::steady_clock::time_point last_claim_{};
    bool stopping_ = false;
    bool running_ = false;
    std::int64_t heartbeat_ms_ = 0;
    // The webhook receiver as a whole (one URL): after an attempt that got no
    // answer at all (refused, reset, timed out) no webhook is tried until the
    // pause ends, and pauses follow [webhook].schedule by consecutive
    // unanswered attempts. The events wait untouched (no attempt is recorded
    // for them), so a dead receiver costs one round of attempts per pause,
    // not one write per event competing with the scanner's commits.
    std::int64_t receiver_paused_until_ms_ = 0;
    std::size_t receiver_unanswered_ = 0;
    // Group commit of attempts (record()).
    std::vector<std::shared_ptr<PendingRecord>> pending_records_;
    bool recording_ = false;
};

}  // namespace depositd::webhook
