#include "store/pg/connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "core/log.hpp"

namespace depositd::store::pg {
namespace {

using Clock = std::chrono::steady_clock;

std::string first_line(const char* text) {
    std::string s = text ? text : "";
    if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
    return s;
}

// Errc for a SQLSTATE, as the SQLite store maps its result codes.
Errc errc_of(Failure kind, std::string_view sqlstate) {
    switch (kind) {
        case Failure::conflict: return Errc::conflict;
        case Failure::reconnect: return Errc::transport;
        case Failure::retry: return Errc::unavailable;
        default: break;
    }
    if (sqlstate.starts_with("22")) return Errc::invalid_input;  // data exception: a value the column cannot hold
    if (sqlstate.starts_with("42") || sqlstate.starts_with("26") || sqlstate.starts_with("0A"))
        return Errc::internal;  // our SQL is wrong: syntax, undefined table/column, no such prepared statement
    return Errc::io;
}

void notice_to_log(void*, const char* message) { log::get("store")->debug("postgresql: {}", first_line(message)); }

// Waits until the socket is readable (and writable, when asked) or the
// deadline passes. false on timeout.
Result<bool> wait_socket(int fd, bool want_write, Clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return make_error(Errc::transport, std::string("poll: ") + std::strerror(errno));
    }
}

}  // namespace

std::chrono::milliseconds backoff_delay(int n, std::chrono::milliseconds initial, std::chrono::milliseconds max) {
    static thread_local std::minstd_rand rng{std::random_device{}()};
    auto d = initial;
    for (int i = 0; i < n && d < max; ++i) d *= 2;
    d = std::min(d, max);
    if (d.count() < 2) return d;
    std::uniform_int_distribution<long long> half(d.count() / 2, d.count());
    return std::chrono::milliseconds(half(rng));
}

// --- Health -----------------------------------------------------------------

std::string Health::reason() const {
    std::lock_guard lock(mu_);
    return degraded_ ? reason_ : std::string();
}

void Health::lost(const void* who, const std::string& why) {
    std::lock_guard lock(mu_);
    if (std::find(lost_.begin(), lost_.end(), who) == lost_.end()) lost_.push_back(who);
    reason_ = why;
    degraded_ = true;
}

void Health::recovered(const void* who) {
    std::lock_guard lock(mu_);
    auto it = std::find(lost_.begin(), lost_.end(), who);
    if (it == lost_.end()) return;
    lost_.erase(it);
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    if (lost_.empty()) {
        degraded_ = false;
        reason_.clear();
    }
}

void Health::forget(const void* who) {
    std::lock_guard lock(mu_);
    lost_.erase(std::remove(lost_.begin(), lost_.end(), who), lost_.end());
    if (lost_.empty()) {
        degraded_ = false;
        reason_.clear();
    }
}

// --- Connection -------------------------------------------------------------

Connection::Connection(ConnectOptions options)
    : options_(std::move(options)),
      target_(redact(options_.url)),
      password_(password_of(options_.url)),
      health_(options_.health ? options_.health : std::make_shared<Health>()) {}

Connection::~Connection() {
    if (conn_) PQfinish(conn_);
    // A connection that goes away lost is no longer anyone's concern.
    health_->forget(this);
}

Result<std::unique_ptr<Connection>> Connection::connect(ConnectOptions options) {
    {
        char* err = nullptr;
        PQconninfoOption* parsed = PQconninfoParse(options.url.c_str(), &err);
        PQfreemem(err);  // it may quote the string, password and all: never shown
        if (!parsed)
            return make_error(Errc::invalid_input,
                              "the database URL is not a libpq connection URI "
                              "(postgresql://USER:PASSWORD@HOST:PORT/DB) "
                              "or key=value string");
        PQconninfoFree(parsed);
    }
    std::unique_ptr<Connection> c(new Connection(std::move(options)));
    if (auto s = c->open_session(); !s) {
        c->health_->forget(c.get());  // never had a session: nothing to be degraded about
        return s.error();
    }
    return c;
}

Status Connection::open_session() {
    const auto& o = options_;
    const std::string timeout = std::to_string(std::max<long long>(o.connect_timeout.count(), 2));
    const std::string idle = std::to_string(o.keepalives_idle.count());
    const std::string interval = std::to_string(o.keepalives_interval.count());
    const std::string count = std::to_string(o.keepalives_count);
    // Unacknowledged data for this long also ends the session (TCP_USER_TIMEOUT, ms).
    const std::string user_timeout =
        std::to_string((o.keepalives_idle + o.keepalives_interval * o.keepalives_count).count() * 1000);
    // Ours first, the URL last: what the URL says wins (libpq keeps the last value of a key).
    const char* keys[] = {"application_name", "connect_timeout", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname", nullptr};
    const char* values[] = {o.application_name.c_str(), timeout.c_str(), "1", idle.c_str(), interval.c_str(),
                            count.c_str(), user_timeout.c_str(), o.url.c_str(), nullptr};
    pg_conn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (!c) return fail(make_error(Errc::transport, "out of memory connecting to " + target_), Failure::reconnect);
    if (PQstatus(c) != CONNECTION_OK) {
        auto msg = clean(first_line(PQerrorMessage(c)));
        PQfinish(c);
        return fail(make_error(Errc::transport, "cannot connect to " + target_ + ": " + msg), Failure::reconnect);
    }
    if (PQserverVersion(c) < 130000) {
        const int v = PQserverVersion(c);
        PQfinish(c);
        return make_error(Errc::invalid_input, target_ + " runs PostgreSQL " + std::to_string(v / 10000) +
                                                   "; depositd needs 13 or newer");
    }
    PQsetNoticeProcessor(c, notice_to_log, nullptr);
    if (PQsetnonblocking(c, 1) != 0) {
        PQfinish(c);
        return fail(make_error(Errc::transport, "cannot use " + target_ + " without blocking"), Failure::reconnect);
    }
    conn_ = c;
    prepared_.clear();
    pid_ = PQbackendPID(c);
    backend_start_.clear();
    // The server's side of the session: keepalives (and a bound on unacked
    // data) so that it notices a client that vanished, and a bound on an
    // open transaction nobody speaks in, so that a backend cut off from us
    // without being told (a half-open connection) cannot hold its locks
    // for ever. Then who this session is (pid + start time: pids are
    // reused), so that a later session can end it should it outlive us.
    // One round trip; SET, not the startup packet's options, which poolers
    // refuse.
    std::string setup = "SET tcp_keepalives_idle = " + idle + "; SET tcp_keepalives_interval = " + interval +
                        "; SET tcp_keepalives_count = " + count + "; SET tcp_user_timeout = " + user_timeout + "; ";
    if (o.idle_in_transaction_timeout.count() > 0)
        setup += "SET idle_in_transaction_session_timeout = " +
                 std::to_string(o.idle_in_transaction_timeout.count()) + "; ";
    setup += "SELECT backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()";
    auto me = exec(setup);
    if (!me) return me.error();
    if (!me->empty())
        if (auto t = (*me)[0].opt_text(0); t && *t) backend_start_ = **t;
    return {};
}

bool Connection::ok() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

bool Connection::in_transaction() const {
    if (!conn_) return false;
    const auto st = PQtransactionStatus(conn_);
    return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

std::string Connection::clean(std::string text) const { return scrub(std::move(text), password_); }

Error Connection::fail(Error e, Failure kind, std::string sqlstate, std::string constraint) {
    e.message = clean(std::move(e.message));
    if (failure_.kind == Failure::none) failure_ = {kind, std::move(sqlstate), std::move(constraint)};
    if (kind == Failure::reconnect) {
        if (lost_at_ == Clock::time_point{}) lost_at_ = Clock::now();
        health_->lost(this, e.message);
    }
    return e;
}

Error Connection::session_error(const std::string& what) {
    const bool gone = !conn_ || PQstatus(conn_) != CONNECTION_OK;
    auto msg = conn_ ? first_line(PQerrorMessage(conn_)) : std::string("no session");
    if (gone) {
        log::get("store")->warn("postgresql {}: session lost ({}: {})", target_, what, clean(msg));
        if (conn_) {
            PQfinish(conn_);
            conn_ = nullptr;
        }
        pipeline_.clear();
        return fail(make_error(Errc::transport, "postgresql " + target_ + ": session lost (" + what + "): " + msg),
                    Failure::reconnect);
    }
    return fail(make_error(Errc::io, "postgresql " + target_ + ": " + what + ": " + msg), Failure::other);
}

Error Connection::timeout_error(const char* what) {
    const auto ms = options_.query_timeout.count();
    drop(std::string("no answer to ") + what + " within " + std::to_string(ms) + " ms");
    return fail(make_error(Errc::transport, "postgresql " + target_ + ": no answer to " + what + " within " +
                                                std::to_string(ms) + " ms; session dropped"),
                Failure::reconnect);
}

void Connection::drop(const std::string& why) {
    if (!conn_) return;
    log::get("store")->warn("postgresql {}: dropping the session: {}", target_, clean(why));
    PQfinish(conn_);
    conn_ = nullptr;
    clear_pipeline();
    if (lost_at_ == Clock::time_point{}) lost_at_ = Clock::now();
    health_->lost(this, clean(why));
}

Status Connection::flush_output(Clock::time_point deadline) {
    const int fd = PQsocket(conn_);
    // Send what is queued (non-blocking mode: a large statement may take turns).
    for (;;) {
        int f = PQflush(conn_);
        if (f == 0) return {};
        if (f < 0) return session_error("sending");
        auto w = wait_socket(fd, true, deadline);
        if (!w) return session_error(w.error().message);
        if (!*w) return timeout_error("a statement");
        if (!PQconsumeInput(conn_)) return session_error("reading");
    }
}

Error Connection::error_of(PGresult* res) {
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    std::string sqlstate = state ? state : "";
    const Failure kind = classify_sqlstate(sqlstate);
    std::string msg = "postgresql: " + (primary ? std::string(primary) : first_line(PQresultErrorMessage(res)));
    msg += " (SQLSTATE " + (sqlstate.empty() ? std::string("none") : sqlstate);
    if (constraint) msg += ", constraint " + std::string(constraint);
    msg += ")";
    return fail(make_error(errc_of(kind, sqlstate), std::move(msg)), kind, sqlstate, constraint ? constraint : "");
}

Result<Rows> Connection::await_result(Clock::time_point deadline) {
    if (auto s = flush_output(deadline); !s) return s.error();
    const int fd = PQsocket(conn_);
    // Every result of the command, until NULL; the first error wins.
    Rows last;
    std::optional<Error> error;
    for (;;) {
        while (PQisBusy(conn_)) {
            auto r = wait_socket(fd, false, deadline);
            if (!r) return session_error(r.error().message);
            if (!*r) return timeout_error("a statement");
            if (!PQconsumeInput(conn_)) return session_error("reading");
        }
        PGresult* res = PQgetResult(conn_);
        if (!res) break;
        const auto st = PQresultStatus(res);
        if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE) {
            if (!error) error = error_of(res);
            PQclear(res);
            continue;
        }
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            PQclear(res);
            drop("COPY is not supported here");
            return fail(make_error(Errc::internal, "COPY through Connection::query/exec is not supported"),
                        Failure::other);
        }
        last = Rows(res);
    }
    if (!ok()) {
        // A FATAL answer (57P01: terminated) ends the session: say so.
        auto e = session_error("after an error");
        return error ? *error : e;
    }
    if (error) return *error;
    return last;
}

namespace {
// The prepared-statement cache's key: the SQL and its parameters' types.
std::string statement_key(std::string_view sql, std::span<const Param> params) {
    std::string key(sql);
    key.push_back('\0');
    for (const auto& p : params) key += std::to_string(static_cast<std::uint32_t>(p.type())) + ",";
    return key;
}
}  // namespace

bool Connection::send_prepare(const std::string& name, std::string_view sql, std::span<const Param> params) {
    std::vector<Oid> types(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) types[i] = static_cast<Oid>(params[i].type());
    const std::string text(sql);
    return PQsendPrepare(conn_, name.c_str(), text.c_str(), static_cast<int>(params.size()), types.data()) == 1;
}

bool Connection::send_prepared(const std::string& name, std::span<const Param> params) {
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size()), formats(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto& p = params[i];
        values[i] = p.is_null() ? nullptr : p.bytes().data();
        lengths[i] = static_cast<int>(p.bytes().size());
        formats[i] = p.binary() ? 1 : 0;
    }
    // libpq reads a text-format value up to its NUL: std::string has one.
    return PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(), lengths.data(),
                               formats.data(), /*resultFormat=binary*/ 1) == 1;
}

void Connection::clear_pipeline() {
    pipeline_.clear();
    pipeline_error_.reset();
}

Status Connection::enqueue(std::string_view sql, std::span<const Param> params, Expect expect, bool keep_rows) {
    if (!conn_) return fail(make_error(Errc::transport, "postgresql " + target_ + ": no session"), Failure::reconnect);
    if (pipeline_.empty() && PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_) != 1)
        return session_error("entering pipeline mode");
    std::string key = statement_key(sql, params);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
        // Prepared in the pipeline too; forgotten again if that fails.
        std::string name = "dp" + std::to_string(++next_statement_);
        if (!send_prepare(name, sql, params)) return session_error("preparing");
        pipeline_.push_back({key, {}, false});
        it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    if (!send_prepared(it->second, params)) return session_error("executing");
    pipeline_.push_back({{}, std::move(expect), keep_rows});
    return {};
}

Status Connection::send(std::string_view sql, std::span<const Param> params, Expect expect) {
    if (!conn_) return fail(make_error(Errc::transport, "postgresql " + target_ + ": no session"), Failure::reconnect);
    if (pipeline_.size() >= max_pipeline)
        if (auto s = settle(); !s) return s;
    if (auto s = enqueue(sql, params, std::move(expect), false); !s) return s;
    // Let the server start on it while we go on (what does not fit now goes
    // at the settle).
    if (PQflush(conn_) < 0) return session_error("sending");
    return {};
}

Result<Rows> Connection::finish_pipeline() {
    auto items = std::move(pipeline_);
    pipeline_.clear();
    if (!conn_) return fail(make_error(Errc::transport, "postgresql " + target_ + ": no session"), Failure::reconnect);
    const auto deadline = Clock::now() + options_.query_timeout;
    if (PQpipelineSync(conn_) != 1) return session_error("sending");
    if (auto s = flush_output(deadline); !s) return s.error();
    const int fd = PQsocket(conn_);
    auto next_result = [&]() -> Result<PGresult*> {
        while (PQisBusy(conn_)) {
            auto r = wait_socket(fd, false, deadline);
            if (!r) return session_error(r.error().message);
            if (!*r) return timeout_error("a statement");
            if (!PQconsumeInput(conn_)) return session_error("reading");
        }
        return PQgetResult(conn_);
    };
    // Each statement's answers end with a NULL; after the first failure the
    // server skips the rest (PGRES_PIPELINE_ABORTED) up to the sync.
    Rows kept;
    std::int64_t affected = 0;
    std::optional<Error> error;
    for (auto& item : items) {
        bool done = false;
        std::optional<Rows> rows;
        for (;;) {
            auto r = next_result();
            if (!r) return r.error();
            PGresult* res = *r;
            if (!res) break;
            const auto st = PQresultStatus(res);
            if (st == PGRES_PIPELINE_ABORTED) {
                PQclear(res);
                continue;
            }
            if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE) {
                if (!error) {
                    error = error_of(res);
                    // Our SQL is wrong: say which.
                    if (error->code == Errc::internal && !item.prepare_key.empty())
                        error->message += " in: " + item.prepare_key.substr(0, item.prepare_key.find('\0'));
                }
                PQclear(res);
                continue;
            }
            rows.emplace(res);
            done = true;
        }
        if (!item.prepare_key.empty()) {
            if (!done) prepared_.erase(item.prepare_key);
            continue;
        }
        if (!done) continue;
        affected = rows->affected();
        if (item.expect.changed) item.expect.changed(affected);
        if (item.expect.rows >= 0 && affected != item.expect.rows && !error)
            error = fail(make_error(item.expect.code, item.expect.message), Failure::other);
        if (item.keep_rows) kept = std::move(*rows);
    }
    auto r = next_result();
    if (!r) return r.error();
    const bool synced = *r && PQresultStatus(*r) == PGRES_PIPELINE_SYNC;
    if (*r) PQclear(*r);
    if (!ok()) {
        // A FATAL answer (57P01: terminated) ends the session: say so.
        auto e = session_error("after an error");
        return error ? *error : e;
    }
    if (!synced || PQexitPipelineMode(conn_) != 1) {
        drop("unexpected answer at the end of a pipeline");
        return fail(make_error(Errc::transport, "postgresql " + target_ + ": unexpected answer at the end of a pipeline"),
                    Failure::reconnect);
    }
    last_affected_ = affected;
    if (error) {
        if (!pipeline_error_) pipeline_error_ = *error;
        return *error;
    }
    return kept;
}

Status Connection::settle() {
    if (!pipeline_.empty())
        if (auto r = finish_pipeline(); !r) return r.error();
    if (pipeline_error_) return *pipeline_error_;
    return {};
}

Result<Rows> Connection::query(std::string_view sql, std::initializer_list<Param> params) {
    return query(sql, std::span<const Param>(params.begin(), params.size()));
}

Result<Rows> Connection::query(std::string_view sql, std::span<const Param> params) {
    if (!conn_) return fail(make_error(Errc::transport, "postgresql " + target_ + ": no session"), Failure::reconnect);
    if (!pipeline_.empty()) {
        // Ends the pipeline: the writes sent ahead and this statement, one round trip.
        if (auto s = enqueue(sql, params, {}, true); !s) return s.error();
        return finish_pipeline();
    }
    if (!in_transaction()) {
        clear_failure();
        pipeline_error_.reset();
    }
    const auto deadline = Clock::now() + options_.query_timeout;
    std::string key = statement_key(sql, params);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
        std::string name = "dp" + std::to_string(++next_statement_);
        if (!send_prepare(name, sql, params)) return session_error("preparing");
        auto r = await_result(deadline);
        if (!r) {
            auto e = r.error();
            if (e.code == Errc::internal) e.message += " in: " + std::string(sql);  // our SQL: say which
            return e;
        }
        it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    if (!send_prepared(it->second, params)) return session_error("executing");
    return await_result(deadline);
}

Result<Rows> Connection::exec(std::string_view sql) {
    if (!conn_) return fail(make_error(Errc::transport, "postgresql " + target_ + ": no session"), Failure::reconnect);
    if (!pipeline_.empty())
        if (auto s = settle(); !s) return s.error();
    if (!in_transaction()) {
        clear_failure();
        pipeline_error_.reset();
    }
    const std::string text(sql);
    if (!PQsendQuery(conn_, text.c_str())) return session_error("sending");
    return await_result(Clock::now() + options_.query_timeout);
}

Status Connection::forget_prepared() {
    prepared_.clear();
    if (!conn_) return {};
    auto r = exec("DEALLOCATE ALL");
    if (!r) return r.error();
    return {};
}

Status Connection::reconnect() {
    // The session being replaced joins those still to be ended. One whose
    // identity was never read (cut while opening) ran nothing: no locks.
    if (pid_ && !backend_start_.empty()) {
        const bool known = std::any_of(previous_.begin(), previous_.end(),
                                       [&](const Backend& b) { return b.pid == pid_ && b.start == backend_start_; });
        if (!known) {
            if (previous_.size() >= max_previous) {
                log::get("store")->warn("postgresql {}: too many sessions left to end; session pid {} is left to "
                                        "the server's timeouts", target_, previous_.front().pid);
                previous_.erase(previous_.begin());
            }
            previous_.push_back({pid_, backend_start_});
        }
    }
    if (conn_) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
    prepared_.clear();
    clear_pipeline();
    pid_ = 0;
    backend_start_.clear();
    if (auto s = open_session(); !s) return s;
    if (auto s = end_previous_sessions(); !s) return s;
    if (lost_at_ != Clock::time_point{}) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - lost_at_).count();
        log::get("store")->info("postgresql {}: session back after {} ms", target_, ms);
    }
    lost_at_ = {};
    health_->recovered(this);
    return {};
}

Status Connection::end_previous_sessions() {
    auto logger = log::get("store");
    while (!previous_.empty()) {
        const Backend b = previous_.front();
        // Ends it if it is still there (same pid and start time, so never a
        // stranger that got its pid): a cut network leaves it idle in its
        // transaction, holding locks, until the server notices.
        auto r = query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND backend_start = "
                       "$2::timestamptz",
                       {Param(b.pid), Param::typed(Type::text, b.start)});
        // This session was lost too: the list stays for the next one.
        if (!r && !ok()) return r.error();
        // Best effort otherwise (e.g. a role that may not signal it): the old
        // session then ends by the server's timeouts (see open_session).
        if (!r)
            logger->warn("postgresql {}: cannot end the previous session (pid {}): {}", target_, b.pid,
                         r.error().message);
        else if (!r->empty())
            logger->info("postgresql {}: ended the previous session (pid {})", target_, b.pid);
        previous_.erase(previous_.begin());
    }
    return {};
}

Status Connection::recover() {
    if (ok()) return {};
    const auto deadline = Clock::now() + options_.retry.reconnect_deadline;
    if (conn_) drop("the session is broken");
    if (!conn_) health_->lost(this, "reconnecting to " + target_);
    for (int attempt = 0;; ++attempt) {
        if (interrupted()) return make_error(Errc::unavailable, "postgresql " + target_ + ": interrupted");
        auto s = reconnect();
        if (s) return s;
        if (s.error().code == Errc::invalid_input) return s;  // a server we cannot use: waiting will not help
        const auto now = Clock::now();
        if (now >= deadline)
            return make_error(Errc::unavailable, "the database is unavailable (" + s.error().message + ")");
        auto d = backoff_delay(attempt, options_.retry.reconnect_backoff_initial, options_.retry.reconnect_backoff_max);
        d = std::min(d, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                            std::chrono::milliseconds(1));
        if (!pause(d)) return make_error(Errc::unavailable, "postgresql " + target_ + ": interrupted");
    }
}

void Connection::interrupt() {
    {
        std::lock_guard lock(pause_mu_);
        interrupted_ = true;
    }
    pause_cv_.notify_all();
}

bool Connection::pause(std::chrono::milliseconds d) {
    std::unique_lock lock(pause_mu_);
    return !pause_cv_.wait_for(lock, d, [this] { return interrupted_.load(); });
}

}  // namespace depositd::store::pg
