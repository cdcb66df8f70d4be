#pragma once
// One PostgreSQL session, through libpq (the C client library, Debian's
// libpq-dev), with the few things depositd needs and nothing else:
//
//  - connect by a libpq URI or key=value string, with connect_timeout, TCP
//    keepalives and application_name (settings in the URL win); the server
//    is asked for keepalives and idle_in_transaction_session_timeout on its
//    side, so a backend whose client is gone cannot keep its locks;
//  - prepared statements only: query() prepares each (SQL text, parameter
//    types) once per session under a name of ours and executes it; answers
//    come in binary and are read with typed getters (rows.hpp);
//  - every wait is bounded: an answer that does not come within
//    query_timeout drops the session, as if the network had;
//  - failures are Result values, classified by SQLSTATE (errors.hpp);
//    failure() is the first one of the open transaction (or of the last
//    command outside one), which is what run_transaction (transaction.hpp)
//    decides on: after a failed statement PostgreSQL fails the rest of the
//    transaction with 25P02, the first failure is the one that counts;
//  - a lost session is reported to a Health shared by the store's
//    connections (/health shows "degraded") until recover() replaces it;
//  - no password in any text we return or log.
//
// Why libpq and not libpqxx (Debian 12 has 6.4): libpqxx reports every
// failure as an exception (sql_error, broken_connection, ...), where our
// expected failures are Result values; it hides the socket we need to bound
// each wait; and what we use of it would be a few calls of libpq, which we
// need anyway. This layer is small: connect, prepare/execute, read rows.
//
// A Connection is used by one thread at a time. health() and interrupt()
// may be called from any thread. No Asio here: the store's threads block.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "store/pg/errors.hpp"
#include "store/pg/params.hpp"
#include "store/pg/rows.hpp"

struct pg_conn;

namespace depositd::store::pg {

// How units of work ride out failures (run_transaction, recover()).
struct RetryPolicy {
    // Serialization failures / deadlocks of one unit retried before it gives
    // up with Errc::unavailable; each retry waits a jittered, growing pause
    // of at most retry_backoff_max.
    int max_retries = 50;
    std::chrono::milliseconds retry_backoff_max{100};
    // Reconnecting: pauses grow from initial to max; one unit waits at most
    // reconnect_deadline for the database, then fails with Errc::unavailable
    // (the store stays degraded; the next unit tries again).
    std::chrono::milliseconds reconnect_backoff_initial{100};
    std::chrono::milliseconds reconnect_backoff_max{2000};
    std::chrono::milliseconds reconnect_deadline{30000};
    // Sessions lost under one unit before it gives up (a flapping network).
    int max_redos = 10;
};

// Whether the store's database is reachable, shared by its connections and
// read by /health from any thread.
class Health {
public:
    bool degraded() const { return degraded_.load(std::memory_order_relaxed); }
    // Why, while degraded (no password in it); "" otherwise.
    std::string reason() const;
    // Sessions replaced after a loss, since start (a counter for /metrics).
    std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }

private:
    friend class Connection;
    void lost(const void* who, const std::string& why);
    void recovered(const void* who);  // counts a reconnect
    void forget(const void* who);     // a connection that goes away

    mutable std::mutex mu_;
    std::vector<const void*> lost_;  // connections without a session
    std::string reason_;
    std::atomic<bool> degraded_{false};
    std::atomic<std::uint64_t> reconnects_{0};
};

struct ConnectOptions {
    std::string url;  // postgresql://USER:PASSWORD@HOST:PORT/DB?... or "host=... dbname=..."
    std::string application_name = "depositd";
    std::chrono::seconds connect_timeout{5};  // per host address; libpq's minimum is 2 s
    // A peer that vanished without a word (machine off, network cut) is
    // noticed after idle + interval * count of silence.
    // The same settings are asked of the server for its side of the session
    // (tcp_keepalives_*, tcp_user_timeout), so a backend whose client is gone
    // ends too instead of keeping its transaction and locks.
    std::chrono::seconds keepalives_idle{10};
    std::chrono::seconds keepalives_interval{3};
    int keepalives_count = 3;
    // idle_in_transaction_session_timeout of our sessions: a backend left in
    // an open transaction for this long with no statement from its client is
    // ended by the server, with its locks. Ours never pause inside a
    // transaction (a unit computes between statements, nothing more), so
    // only an orphan (its client cut off, the server not told) reaches it.
    // Kept well below query_timeout, so that a statement waiting on an
    // orphan's lock gets its answer in time, and below the shortest lease of
    // standby daemons ([store] lease, 2 s and up is allowed; 10 s default):
    // a leader cut off in the middle of a commit holds that commit's row
    // locks until then, and the process taking over waits for them. 0: the
    // server's setting.
    std::chrono::milliseconds idle_in_transaction_timeout{3000};
    // The longest wait for one answer (also for COMMIT); then the session is dropped.
    std::chrono::milliseconds query_timeout{30000};
    RetryPolicy retry;
    std::shared_ptr<Health> health;  // nullptr: one of its own
};

// The first failure since clear_failure().
struct FailureInfo {
    Failure kind = Failure::none;
    std::string sqlstate;    // "" when the client lost the session itself
    std::string constraint;  // the violated constraint, for conflicts
};

// The pause before retry n (0-based): initial * 2^n, at most max, the lower
// half of it random, so that processes that failed together do not retry
// in step.
std::chrono::milliseconds backoff_delay(int n, std::chrono::milliseconds initial, std::chrono::milliseconds max);

// What a pipelined write (Connection::send) must have changed.
struct WriteExpect {
    std::int64_t rows = -1;  // -1: any number
    Errc code = Errc::not_found;
    std::string message;
    // Called with the rows it changed when its answer is read (not when it
    // failed): for a caller that needs the count only by the end of the unit.
    std::function<void(std::int64_t)> changed;
};

class Connection {
public:
    // Connects once (no retry: at start-up, a wrong URL or password should be
    // said at once). Errc::invalid_input for a URL libpq cannot parse,
    // Errc::transport when the server cannot be reached or refuses us.
    static Result<std::unique_ptr<Connection>> connect(ConnectOptions options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Executes a prepared statement ($1, $2, ... placeholders); prepares it
    // first the first time this session sees (sql, parameter types).
    Result<Rows> query(std::string_view sql, std::initializer_list<Param> params = {});
    Result<Rows> query(std::string_view sql, std::span<const Param> params);
    // SQL without parameters through the simple protocol (BEGIN, SET, DDL;
    // several statements allowed); the rows of the last one, in text format.
    Result<Rows> exec(std::string_view sql);

    // Pipelined writes (libpq's pipeline mode), inside a transaction: send()
    // queues a prepared statement without waiting for its answer, so that a
    // unit's INSERTs and UPDATEs cost one round trip together instead of one
    // each. The answers are read, in order, by settle(), which query() does
    // in the same round trip as its own statement and exec() (BEGIN, COMMIT,
    // SAVEPOINT) first. A statement that failed, or that changed another
    // number of rows than its Expect says, makes settle() fail with its
    // error, and so the statement that settled it; the error stays until the
    // transaction ends or forget_pipeline_error() (a savepoint rolled back),
    // so that COMMIT can check it (the server knows nothing of an Expect).
    using Expect = WriteExpect;
    Status send(std::string_view sql, std::span<const Param> params, Expect expect = {});
    // Reads every pending answer; the first failure since the transaction
    // began (or since forget_pipeline_error()).
    Status settle();
    std::size_t unsettled() const { return pipeline_.size(); }
    // Rows the last statement read by settle() (or query()) changed.
    std::int64_t last_affected() const { return last_affected_; }
    void forget_pipeline_error() { pipeline_error_.reset(); }

    // The session is up (as far as the client knows).
    bool ok() const;
    // Inside BEGIN ... COMMIT (also a failed one, until it ends).
    bool in_transaction() const;
    // The first failure of the open transaction, or of the last command
    // outside one; reset when a command starts outside a transaction.
    const FailureInfo& failure() const { return failure_; }
    void clear_failure() { failure_ = {}; }

    // One attempt at a fresh session (the old one is closed; its backend, if
    // still running — a cut network leaves it idle in its transaction — is
    // terminated so its locks go and its transaction's outcome is settled;
    // so are the backends of earlier sessions whose end was not yet seen).
    Status reconnect();
    // reconnect() with backoff until it works, retry.reconnect_deadline
    // passes or interrupt() is called (then Errc::unavailable). The Health
    // shows this connection as degraded until it works.
    Status recover();
    // Closes the session as lost (e.g. after a timeout); ok() is false after.
    void drop(const std::string& why);

    // Forgets the prepared statements (DEALLOCATE ALL), e.g. after a
    // migration changed a table a cached plan returns rows of.
    Status forget_prepared();
    std::size_t prepared() const { return prepared_.size(); }

    int backend_pid() const { return pid_; }
    // Replaced sessions still to be terminated (tests).
    std::size_t previous_sessions() const { return previous_.size(); }
    const std::string& target() const { return target_; }  // the URL without its password
    const ConnectOptions& options() const { return options_; }
    Health& health() { return *health_; }

    // Any thread: ends every wait of this connection (backoff, recover) at
    // once, for good; the unit in progress fails with Errc::unavailable. For
    // shutdown.
    void interrupt();
    bool interrupted() const { return interrupted_.load(); }
    // Sleeps d unless interrupted (then returns false at once).
    bool pause(std::chrono::milliseconds d);

private:
    explicit Connection(ConnectOptions options);
    Status open_session();
    Status end_previous_sessions();
    Result<Rows> await_result(std::chrono::steady_clock::time_point deadline);
    Status flush_output(std::chrono::steady_clock::time_point deadline);
    // PREPARE and EXECUTE sent (not awaited); false: libpq refused to send.
    bool send_prepare(const std::string& name, std::string_view sql, std::span<const Param> params);
    bool send_prepared(const std::string& name, std::span<const Param> params);
    Error error_of(pg_result* res);
    // Queues the statement (and its PREPARE, the first time); keep_rows: its
    // rows are what finish_pipeline returns.
    Status enqueue(std::string_view sql, std::span<const Param> params, Expect expect, bool keep_rows);
    Result<Rows> finish_pipeline();
    void clear_pipeline();
    Error fail(Error e, Failure kind, std::string sqlstate = {}, std::string constraint = {});
    Error session_error(const std::string& what);
    Error timeout_error(const char* what);
    std::string clean(std::string text) const;

    ConnectOptions options_;
    std::string target_;
    std::string password_;
    pg_conn* conn_ = nullptr;
    std::shared_ptr<Health> health_;
    FailureInfo failure_;
    std::unordered_map<std::string, std::string> prepared_;  // (sql, types) -> statement name
    struct Pipelined {
        std::string prepare_key;  // not empty: the PREPARE of prepared_[prepare_key]
        Expect expect;
        bool keep_rows = false;
    };
    // At most this many statements wait for their answers: a longer pipeline
    // is settled first (bounded memory; the server's output never fills up).
    static constexpr std::size_t max_pipeline = 256;
    std::vector<Pipelined> pipeline_;
    std::optional<Error> pipeline_error_;
    std::int64_t last_affected_ = 0;
    std::uint64_t next_statement_ = 0;
    int pid_ = 0;
    std::string backend_start_;
    // Sessions this connection has had and replaced, not yet ended: each
    // reconnect terminates them all. A list, not the last one only: the new
    // session can itself be cut before it has ended the old one, and the
    // old one may be the one holding the locks (an open transaction).
    struct Backend {
        int pid = 0;
        std::string start;  // backend_start: pid + start time name one session (pids are reused)
    };
    static constexpr std::size_t max_previous = 16;
    std::vector<Backend> previous_;
    std::chrono::steady_clock::time_point lost_at_{};
    std::atomic<bool> interrupted_{false};
    std::mutex pause_mu_;
    std::condition_variable pause_cv_;
};

}  // namespace depositd::store::pg
