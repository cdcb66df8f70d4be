#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on Asio's coroutine frame allocator (GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "webhook/dispatcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>
#include <exception>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "store/async.hpp"
#include "store/database.hpp"
#include "store/notify.hpp"
#include "webhook/telegram.hpp"

#ifndef DEPOSITD_VERSION
#define DEPOSITD_VERSION "0.0.0"
#endif

namespace depositd::webhook {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

const char* kAttemptsMetric = "depositd_webhook_attempts_total";
const char* kLatencyMetric = "depositd_webhook_latency_seconds";

std::shared_ptr<spdlog::logger> logger() {
    static auto l = log::get("webhook");
    return l;
}

bool is_2xx(int s) { return s >= 200 && s < 300; }

std::string describe_failure(const AttemptResult& r) {
    if (r.status) {
        std::string s = "HTTP " + std::to_string(*r.status);
        if (*r.status >= 300 && *r.status < 400) s += " (redirects are not followed)";
        if (!r.error.empty()) s += " (" + r.error + ")";
        return s;
    }
    return r.error.empty() ? std::string("no answer") : r.error;
}

}  // namespace

net::HttpRequest build_delivery(const store::EventRow& ev, const config::WebhookConfig& config, const Signer* signer,
                                std::int64_t now_ms) {
    net::HttpRequest req;
    req.timeout = config.timeout;
    req.max_response_bytes = kMaxResponseBytes;
    if (ev.kind == store::kKindEpay) {
        req.method = "GET";
        req.url = ev.target;
        req.headers = {{"user-agent", "depositd/" DEPOSITD_VERSION}};
        return req;
    }
    if (ev.kind == store::kKindEpusdt) {
        req.method = "POST";
        req.url = ev.target;
        req.headers = {{"content-type", "application/json"}, {"user-agent", "depositd/" DEPOSITD_VERSION}};
        req.body = ev.payload;
        return req;
    }
    const std::int64_t ts = now_ms / 1000;
    req.method = "POST";
    req.url = config.url;
    // Built in place: a braced list would construct each string, then copy it.
    req.headers.reserve(6);
    req.headers.emplace_back("content-type", "application/json");
    req.headers.emplace_back("user-agent", "depositd/" DEPOSITD_VERSION);
    req.headers.emplace_back("webhook-id", ev.id);
    req.headers.emplace_back("webhook-timestamp", std::to_string(ts));
    if (signer) {
        req.headers.emplace_back("webhook-signature", signer->signature(ev.id, ts, ev.payload));
        req.headers.emplace_back("x-payin-signature", signer->payin(ev.payload));
    }
    req.body = ev.payload;
    return req;
}

bool judge(std::string_view kind, int status, std::string_view body, std::string& why) {
    std::string_view b = body;
    while (!b.empty() && (b.front() == ' ' || b.front() == '\t' || b.front() == '\r' || b.front() == '\n')) b.remove_prefix(1);
    while (!b.empty() && (b.back() == ' ' || b.back() == '\t' || b.back() == '\r' || b.back() == '\n')) b.remove_suffix(1);
    if (kind == store::kKindEpay) {
        // 2xx and the answer is "success" (any case), or SSPanel-UIM's
        // {"state":"success",...}. Merely containing it is not enough:
        // "unsuccessful" contains "success".
        if (!is_2xx(status)) {
            why = "HTTP " + std::to_string(status) + " (a notify needs a 2xx answer saying \"success\")";
            return false;
        }
        std::string lower(b);
        for (auto& c : lower)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (lower == "success") return true;
        if (!b.empty() && b.front() == '{')
            if (auto v = json::parse_bounded(b, kMaxResponseBytes); v && v->is_object())
                if (const auto* st = v->get_object().if_contains("state"); st && st->is_string()) {
                    std::string state(st->get_string());
                    for (auto& c : state)
                        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
                    if (state == "success") return true;
                }
        why = "the answer is not \"success\"";
        return false;
    }
    if (kind == store::kKindEpusdt) {
        if (b == "ok") return true;
        why = "the answer is not \"ok\"";
        return false;
    }
    if (is_2xx(status)) return true;
    why.clear();
    return false;
}

store::AttemptOutcome decide(const AttemptResult& r, int attempts_before,
                             const std::vector<std::chrono::milliseconds>& schedule, std::int64_t now_ms,
                             double jitter) {
    store::AttemptOutcome o;
    if (r.accepted ? *r.accepted : (r.status && is_2xx(*r.status))) {
        o.kind = store::AttemptOutcome::Kind::delivered;
        return o;
    }
    o.error = describe_failure(r);
    std::size_t n = static_cast<std::size_t>(std::max(attempts_before, 0)) + 1;  // this attempt, 1-based
    if (n > schedule.size()) {
        o.kind = store::AttemptOutcome::Kind::failed;
        return o;
    }
    jitter = std::clamp(jitter, -1.0, 1.0);
    auto base = static_cast<double>(schedule[n - 1].count());
    auto delay = static_cast<std::int64_t>(std::llround(base * (1.0 + 0.1 * jitter)));
    if (r.status && (*r.status == 429 || *r.status == 503) && r.retry_after_ms >= 0)
        delay = std::max<std::int64_t>(delay, std::min<std::int64_t>(r.retry_after_ms, kMaxRetryAfterMs));
    o.kind = store::AttemptOutcome::Kind::retry;
    o.next_attempt_at = now_ms + std::max<std::int64_t>(delay, 0);
    return o;
}

std::string response_excerpt(std::string_view body, std::size_t max) {
    std::string out;
    out.reserve(std::min(body.size(), max));
    std::size_t i = 0;
    while (i < body.size()) {
        auto c = static_cast<unsigned char>(body[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        bool valid = len > 0 && i + len <= body.size();
        for (std::size_t k = 1; valid && k < len; ++k)
            valid = (static_cast<unsigned char>(body[i + k]) & 0xc0) == 0x80;
        if (!valid) len = 1;
        if (out.size() + len > max) break;
        if (valid) out.append(body.substr(i, len));
        else out.push_back('?');
        i += len;
    }
    return out;
}

std::size_t keep_alive_per_host(const config::WebhookConfig& config) {
    return std::max<std::size_t>(8, config.concurrency);
}

Dispatcher::Dispatcher(asio::any_io_executor executor, store::Store& store, net::HttpClient& http,
                       const config::WebhookConfig& config, const Clock& clock)
    : executor_(std::move(executor)),
      store_(store),
      http_(http),
      config_(config),
      clock_(clock),
      timer_(executor_),
      rng_(std::random_device{}()) {
    if (!config_.url.empty()) {
        auto s = Signer::create(config_.secrets);
        if (s) signer_ = std::move(*s);
        else signer_error_ = s.error().message;
    }
    auto& m = metrics::Registry::global();
    m.describe(kAttemptsMetric, "counter", "Webhook delivery attempts by outcome (delivered, retry, failed).");
    m.describe(kLatencyMetric, "histogram", "Webhook delivery latency, answered or not.");
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::wake() {
    asio::dispatch(executor_, [this] {
        claim_now_ = true;
        on_wake();
    });
}

void Dispatcher::stop() {
    asio::dispatch(executor_, [this] {
        stopping_ = true;
        on_wake();
    });
}

void Dispatcher::on_wake() {
    woken_ = true;
    timer_.cancel();
}

asio::awaitable<void> Dispatcher::idle_until_stopped() {
    while (!stopping_) {
        heartbeat_ms_ = clock_.now_ms() + 3'600'000;
        timer_.expires_after(std::chrono::hours(1));
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<std::chrono::milliseconds> Dispatcher::wait_time(bool slots_free) {
    if (!slots_free) co_return poll_;  // a finished delivery wakes us
    const store::EventSeqs exclude = in_flight_seqs();
    const bool webhooks = webhooks_enabled();
    const bool telegram = telegram_ != nullptr;
    auto next = co_await store::async_write(store_, [&exclude, webhooks, telegram](store::Database& db) {
        return store::next_due_at(db, exclude, webhooks, telegram);
    });
    if (!next) {
        logger()->error("cannot read the webhook outbox: {}", next.error().describe());
        co_return poll_;
    }
    if (!*next) co_return poll_;
    auto wait = std::chrono::milliseconds(**next - clock_.now_ms());
    co_return std::clamp<std::chrono::milliseconds>(wait, 1ms, poll_);
}

asio::awaitable<void> Dispatcher::run() {
    running_ = true;
    // Without a webhook URL (or a usable secret) webhooks stay pending; the
    // merchant notifies of orders (EPay, epusdt) are delivered all the same.
    if (config_.url.empty())
        logger()->warn("[webhook].url is empty: webhooks are disabled, events stay pending");
    else if (!signer_)
        logger()->error("webhooks are not delivered: {}", signer_error_);
    else
        logger()->info("delivering webhooks, {} in flight at most, {} retries", std::max(config_.concurrency, 1u),
                       config_.schedule.size());
    const std::size_t window = claim_window();
    while (!stopping_) {
        woken_ = false;
        heartbeat_ms_ = clock_.now_ms();
        const auto since_claim = std::chrono::steady_clock::now() - last_claim_;
        const std::size_t busy = untried();
        const bool claim = busy < window && (busy * 2 <= window || claim_now_ || since_claim >= poll_);
        if (claim) {
            claim_now_ = false;
            last_claim_ = std::chrono::steady_clock::now();
            const Claim c = claim_for(window - busy);
            auto due = co_await store::async_write(store_, [&c](store::Database& db) { return c.run(db); });
            if (!due) logger()->error("cannot read the webhook outbox: {}", due.error().describe());
            take(c, due ? std::move(*due) : std::vector<store::EventRow>{});
        }
        if (woken_ || stopping_) continue;
        // Slots free but left for a larger claim: a finished delivery wakes
        // us, the poll interval at the latest.
        auto wait = co_await wait_time(claim && untried() < window);
        // A wake() that came while wait_time read the store found no timer
        // to cancel: honour it here rather than sleep a whole poll.
        if (woken_ || stopping_) continue;
        heartbeat_ms_ = clock_.now_ms() + wait.count();
        timer_.expires_after(wait);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    // Claimed events that did not start are handed back (due again at once,
    // not when their claim runs out); the requests in flight finish (each is
    // bounded by its deadline).
    if (!ready_.empty()) {
        std::vector<store::EventRow> unstarted(std::make_move_iterator(ready_.begin()),
                                               std::make_move_iterator(ready_.end()));
        ready_.clear();
        co_await release(std::move(unstarted));
    }
    while (!in_flight_.empty()) {
        timer_.expires_after(poll_);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    running_ = false;
}

std::size_t Dispatcher::claim_window() const {
    const std::size_t slots = std::max<std::size_t>(config_.concurrency, 1);
    std::size_t ahead = slots;
    if (latency_ms_ >= 0) {
        // At the recent latency the last event claimed ahead waits half
        // kReadyWaitMs for its slot: a slower receiver than that is what
        // claim_too_short() is for.
        const double per_slot = static_cast<double>(kReadyWaitMs / 2) / std::max(latency_ms_, 1.0);
        ahead = static_cast<std::size_t>(std::min(static_cast<double>(kMaxAhead), per_slot * static_cast<double>(slots)));
        ahead = std::clamp(ahead, slots, std::max(slots, kMaxAhead));
    }
    return slots + ahead;
}

bool Dispatcher::claim_too_short(const store::EventRow& ev) const {
    return ev.claimed_until && *ev.claimed_until - clock_.now_ms() < delivery_ms();
}

void Dispatcher::start_ready() {
    const std::size_t cap = std::max(config_.concurrency, 1u);
    std::vector<store::EventRow> held;
    while (!stopping_ && active_ < cap && !ready_.empty()) {
        store::EventRow ev = std::move(ready_.front());
        ready_.pop_front();
        // The receiver was paused after this webhook was claimed: it waits
        // with the others instead of being tried now. One that waited too
        // long for a slot goes back too, and is claimed afresh.
        if ((ev.kind == store::kKindWebhook && !webhooks_enabled()) || claim_too_short(ev)) held.push_back(std::move(ev));
        else spawn(std::move(ev));
    }
    if (!held.empty())
        asio::co_spawn(executor_, release(std::move(held)), [](std::exception_ptr) {});
}

asio::awaitable<void> Dispatcher::release(std::vector<store::EventRow> events) {
    auto s = co_await store::async_write(store_, [&events](store::Database& db) {
        return store::release_claims(db, events);
    });
    if (!s) logger()->warn("cannot hand back {} claimed events (due again when the claim runs out): {}", events.size(),
                           s.error().describe());
    for (const auto& ev : events) in_flight_.erase(ev.seq);
    on_wake();
}

void Dispatcher::spawn(store::EventRow ev) {
    ++active_;
    const std::int64_t seq = ev.seq;
    auto done = [this, seq, id = ev.id](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                logger()->error("event {}: delivery aborted: {}", id, x.what());
            } catch (...) {
                logger()->error("event {}: delivery aborted", id);
            }
        }
        in_flight_.erase(seq);
        on_wake();
    };
    asio::co_spawn(executor_, deliver(std::move(ev)), std::move(done));
}

void Dispatcher::note_receiver(bool answered) {
    if (answered) {
        if (receiver_unanswered_ > 0) logger()->info("the webhook receiver answers again; webhooks resume");
        receiver_unanswered_ = 0;
        receiver_paused_until_ms_ = 0;
        return;
    }
    // Attempts that were in flight when a pause began end in it: one pause
    // per round, so `concurrency` failures at once do not jump to the last step.
    const std::int64_t now = clock_.now_ms();
    if (config_.schedule.empty() || now < receiver_paused_until_ms_) return;
    ++receiver_unanswered_;
    const auto pause = config_.schedule[std::min(receiver_unanswered_, config_.schedule.size()) - 1];
    receiver_paused_until_ms_ = now + pause.count();
    logger()->warn("the webhook receiver does not answer; webhooks paused for {} ms ({} in a row)", pause.count(),
                   receiver_unanswered_);
}

// One of the `concurrency` request slots, held from the start of a delivery
// until its answer (or failure) is in.
class Dispatcher::Slot {
public:
    explicit Slot(Dispatcher& d) : d_(d) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() {
        if (held_) --d_.active_;  // an aborted delivery: no new one from a destructor
    }
    void free() {
        if (!held_) return;
        held_ = false;
        --d_.active_;
        d_.start_ready();
    }

private:
    Dispatcher& d_;
    bool held_ = true;
};

asio::awaitable<void> Dispatcher::deliver(store::EventRow ev) {
    Slot slot(*this);  // spawn() counted it
    const std::int64_t started_ms = clock_.now_ms();
    const bool telegram = ev.kind == store::kKindTelegram && telegram_;
    net::HttpRequest req = telegram ? telegram_request(ev, *telegram_, false, config_.timeout)
                                    : build_delivery(ev, config_, signer_ ? &*signer_ : nullptr, started_ms);
    if (!telegram && ev.kind != store::kKindWebhook && !allow_private_targets_) req.public_only = true;

    const auto t0 = std::chrono::steady_clock::now();
    auto res = co_await http_.request(std::move(req));
    // Telegram refused the markup: the same words as plain text, at once.
    if (telegram && res && read_answer(res->status, res->body).markup_refused) {
        logger()->warn("event {}: Telegram refused the message's MarkdownV2; sending it as plain text", ev.id);
        res = co_await http_.request(telegram_request(ev, *telegram_, true, config_.timeout));
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(took);
    {
        const double ms = std::chrono::duration<double, std::milli>(took).count();
        latency_ms_ = latency_ms_ < 0 ? ms : 0.9 * latency_ms_ + 0.1 * ms;
    }

    AttemptResult ar;
    store::AttemptRecord rec;
    rec.event_seq = ev.seq;
    rec.event_id = ev.id;
    rec.attempted_at = started_ms;
    rec.latency_ms = latency.count();
    if (res) {
        ar.status = res->status;
        rec.status_code = res->status;
        rec.response_excerpt = response_excerpt(res->body);
        if (telegram) {
            // {"ok":true,...}; 429 says when to come back in parameters.retry_after.
            const TelegramAnswer a = read_answer(res->status, res->body);
            ar.accepted = a.ok;
            if (!a.ok) ar.error = "Telegram: " + (a.description.empty() ? std::string("not ok") : a.description);
            if (a.retry_after_s) ar.retry_after_ms = *a.retry_after_s * 1000;
        } else {
            std::string why;
            ar.accepted = judge(ev.kind, res->status, res->body, why);
            if (!*ar.accepted && !why.empty()) ar.error = why;
        }
        if ((res->status == 429 || res->status == 503) && ar.retry_after_ms < 0) {
            auto ra = res->header("retry-after");
            if (!ra.empty()) ar.retry_after_ms = net::retry_after_ms(ra, clock_.now_ms());
        }
    } else {
        const auto& err = res.error();
        // An answer whose body was too big (or broken) still has a status:
        // a 2xx means the receiver took the event.
        if (err.status > 0) {
            ar.status = err.status;
            rec.status_code = err.status;
        }
        ar.error = err.message;
        rec.error = err.message;
    }

    std::uniform_real_distribution<double> jitter(-1.0, 1.0);
    auto outcome = decide(ar, ev.attempts, config_.schedule, clock_.now_ms(), jitter(rng_));
    // Applies only while the event is still ours as claimed: an operator's
    // resend during the request wins (the event is delivered again).
    outcome.claim = ev.claimed_until;
    if (outcome.kind != store::AttemptOutcome::Kind::delivered && !rec.error) rec.error = outcome.error;
    if (telegram) {
        // The bot token is part of the URL: whatever the transport said about
        // the request never carries it into the log or the database.
        outcome.error = redact_token(outcome.error, telegram_->bot_token);
        if (rec.error) rec.error = redact_token(*rec.error, telegram_->bot_token);
        if (rec.response_excerpt) rec.response_excerpt = redact_token(*rec.response_excerpt, telegram_->bot_token);
    }

    if (ev.kind == store::kKindWebhook) note_receiver(res.ok() || res.error().status > 0);
    // The request is over: its slot goes to the next claimed event (unless
    // the receiver was just paused) while this attempt waits for its group
    // commit.
    slot.free();

    const int attempt = ev.attempts + 1;
    const char* label = "delivered";
    auto log = logger();
    if (log->should_log(spdlog::level::debug))  // the arguments cost a string per delivery
        log->debug("event {} ({}) attempt {}: {} in {} ms", ev.id, ev.type, attempt,
                   ar.status ? std::to_string(*ar.status) : ar.error, latency.count());
    switch (outcome.kind) {
        case store::AttemptOutcome::Kind::delivered: break;
        case store::AttemptOutcome::Kind::retry:
            label = "retry";
            log->info("event {} attempt {} failed: {} ({} ms); next attempt in {} ms", ev.id, attempt, outcome.error,
                      latency.count(), outcome.next_attempt_at - clock_.now_ms());
            break;
        case store::AttemptOutcome::Kind::failed:
            label = "failed";
            log->warn("event {} failed after {} attempts: {} ({} ms); resend it with `depositctl events resend {}`",
                      ev.id, attempt, outcome.error, latency.count(), ev.id);
            break;
    }
    auto& m = metrics::Registry::global();
    m.counter_add(kAttemptsMetric, {{"outcome", label}});
    m.observe(kLatencyMetric, {}, static_cast<double>(latency.count()) / 1000.0);

    auto s = co_await record(std::move(rec), std::move(outcome));
    if (!s)
        log->error("event {}: cannot record the attempt: {} (it will be delivered again)", ev.id,
                   s.error().describe());
}

struct Dispatcher::PendingRecord {
    explicit PendingRecord(asio::any_io_executor ex) : done(ex) {}
    store::FinishedAttempt attempt;
    Status result;
    bool written = false;
    asio::steady_timer done;  // cancelled once written
};

Dispatcher::Claim Dispatcher::claim_for(std::size_t want) {
    Claim c;
    c.now = clock_.now_ms();
    // Claimed for the delivery's deadline and a margin: another process
    // sharing the store leaves them alone meanwhile, and takes them over if
    // this one dies with them (SPEC §11).
    c.until = c.now + claim_ms();
    c.want = stopping_ ? 0 : want;
    claiming_ += c.want;
    c.exclude = in_flight_seqs();
    c.webhooks = webhooks_enabled();
    c.telegram = telegram_ != nullptr;
    return c;
}

Result<std::vector<store::EventRow>> Dispatcher::Claim::run(store::Database& db) const {
    return store::claim_due_events(db, now, until, want, exclude, webhooks, telegram);
}

void Dispatcher::take(const Claim& claim, std::vector<store::EventRow> claimed) {
    claiming_ -= claim.want;
    std::erase_if(claimed, [this](const store::EventRow& ev) { return !in_flight_.insert(ev.seq).second; });
    if (stopping_) {
        // A claim that was under way when stop() came: handed back, as the
        // ones waiting in ready_ were.
        if (!claimed.empty()) asio::co_spawn(executor_, release(std::move(claimed)), [](std::exception_ptr) {});
        return;
    }
    for (auto& ev : claimed) ready_.push_back(std::move(ev));
    start_ready();
}

asio::awaitable<Status> Dispatcher::record(store::AttemptRecord rec, store::AttemptOutcome outcome) {
    auto mine = std::make_shared<PendingRecord>(executor_);
    mine->attempt = {std::move(rec), std::move(outcome)};
    pending_records_.push_back(mine);
    if (recording_) {
        // A write is under way: ours goes into the next one, which its writer makes.
        mine->done.expires_at(asio::steady_timer::time_point::max());
        while (!mine->written) co_await mine->done.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return mine->result;
    }
    recording_ = true;
    const std::size_t window = claim_window();
    while (!pending_records_.empty()) {
        auto batch = std::move(pending_records_);
        pending_records_.clear();
        std::vector<store::FinishedAttempt> attempts;
        attempts.reserve(batch.size());
        for (const auto& p : batch) attempts.push_back(std::move(p->attempt));  // not read again
        // The slots these deliveries free are claimed again in the same
        // transaction: during a burst one commit records a group of attempts
        // and takes their successors (a commit, an fsync, fewer per delivery).
        const std::size_t busy = untried();
        const Claim claim = claim_for(busy < window ? window - busy : 0);
        // One transaction for all, with a few multi-row statements. Should one
        // not be writable (its event deleted meanwhile), again with each
        // attempt in its own savepoint, so that it leaves the others. A claim
        // that fails leaves the attempts to be written without it.
        std::vector<Status> results(batch.size());
        std::vector<store::EventRow> claimed;
        auto s = co_await store::async_write(store_, [&](store::Database& db) -> Status {
            claimed.clear();  // a unit of work may run again (store.hpp)
            for (bool with_claim : {claim.want > 0, false}) {
                store::Transaction tx(db);
                if (!tx.begun()) return tx.begun();
                Status all = store::write_attempts(db, attempts);
                if (all && with_claim) {
                    auto due = claim.run(db);
                    if (due) claimed = std::move(*due);
                    else all = due.error();
                }
                if (all) all = tx.commit();
                if (all) {
                    std::fill(results.begin(), results.end(), Status{});
                    return {};
                }
                claimed.clear();
                if (all.error().code == Errc::not_found || all.error().code == Errc::conflict) break;
                if (!with_claim) return all;
                logger()->warn("cannot claim due events with the attempts: {}", all.error().describe());
            }
            store::Transaction tx(db);
            if (!tx.begun()) return tx.begun();
            for (std::size_t i = 0; i < batch.size(); ++i)
                results[i] = store::finish_attempt(db, attempts[i].record, attempts[i].outcome);
            return tx.commit();
        });
        for (std::size_t i = 0; i < batch.size(); ++i) {
            batch[i]->result = s ? results[i] : s;
            batch[i]->written = true;
            batch[i]->done.cancel();
        }
        take(claim, std::move(claimed));
    }
    recording_ = false;
    co_return mine->result;
}

}  // namespace depositd::webhook
