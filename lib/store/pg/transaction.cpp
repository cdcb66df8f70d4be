#include "store/pg/transaction.hpp"

#include "core/log.hpp"

namespace depositd::store::pg {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const char* begin_sql(TxOptions o) {
    // Write transactions fetch their id with BEGIN (same round trip), to
    // settle a COMMIT whose answer is lost.
    switch (o.isolation) {
        case Isolation::read_committed:
            return o.read_only ? "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
                               : "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_current_xact_id()::text";
        case Isolation::repeatable_read:
            return o.read_only ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                               : "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT pg_current_xact_id()::text";
        case Isolation::serializable:
            return o.read_only ? "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"
                               : "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT pg_current_xact_id()::text";
    }
    return "BEGIN";
}

Error unavailable(const std::string& why) { return make_error(Errc::unavailable, why); }

}  // namespace

Result<Transaction> Transaction::begin(Connection& conn, TxOptions options) {
    // PostgreSQL has no nested BEGIN: the inner COMMIT would commit the outer
    // unit half-way. A unit must not start another on its own connection.
    if (conn.in_transaction())
        return make_error(Errc::internal, "a transaction is already open on this connection");
    auto r = conn.exec(begin_sql(options));
    std::string xid;
    if (r && !options.read_only) {
        auto t = r->empty() ? Result<std::string>(make_error(Errc::internal, "BEGIN: no transaction id"))
                            : (*r)[0].text(0);
        if (t) xid = std::move(*t);
        else r = t.error();
    }
    if (!r) {
        if (conn.ok()) (void)conn.exec("ROLLBACK");  // BEGIN went through, the rest did not
        return r.error();
    }
    return Transaction(&conn, std::move(xid));
}

Transaction::~Transaction() {
    if (!conn_ || done_) return;
    (void)conn_->settle();  // the writes sent ahead: their answers first
    if (conn_->ok()) (void)conn_->exec("ROLLBACK");
}

Status Transaction::commit() {
    if (!conn_ || done_) return make_error(Errc::internal, "transaction already finished");
    // Every write sent ahead did what it expected, or no COMMIT.
    if (auto s = conn_->settle(); !s) {
        (void)rollback();
        return s;
    }
    done_ = true;  // whatever COMMIT answers, the transaction block is over
    auto r = conn_->exec("COMMIT");
    if (!r) return r.error();
    // COMMIT of a transaction in which a statement failed answers ROLLBACK,
    // without an error: the unit ignored a failure (failure() tells which).
    if (r->command() == "ROLLBACK")
        return make_error(Errc::internal, "the transaction was rolled back: a statement in it failed (" +
                                              std::string(to_string(conn_->failure().kind)) + " " +
                                              conn_->failure().sqlstate + ")");
    return {};
}

Status Transaction::rollback() {
    if (!conn_ || done_) return {};
    done_ = true;
    if (!conn_->ok()) return {};
    auto r = conn_->exec("ROLLBACK");
    if (!r) return r.error();
    return {};
}

Result<bool> committed(Connection& conn, const std::string& xid) {
    const auto deadline = Clock::now() + conn.options().retry.reconnect_deadline;
    for (int i = 0;; ++i) {
        auto r = conn.query("SELECT pg_xact_status($1)", {Param::typed(Type::xid8, xid)});
        if (!r) return r.error();
        if (r->empty()) return make_error(Errc::internal, "pg_xact_status: no row");
        auto st = (*r)[0].opt_text(0);
        if (!st) return st.error();
        if (!*st) return make_error(Errc::io, "the outcome of transaction " + xid + " is no longer known");
        if (**st == "committed") return true;
        if (**st == "aborted") return false;
        // "in progress": its old session has not ended yet (Connection::reconnect terminated it).
        if (Clock::now() >= deadline)
            return unavailable("transaction " + xid + " of a lost session is still in progress");
        if (!conn.pause(backoff_delay(i, milliseconds(5), milliseconds(200)))) return unavailable("interrupted");
    }
}

Status detail::run_transaction(Connection& conn, TxOptions options, Attempt attempt, void* ctx) {
    const RetryPolicy& policy = conn.options().retry;
    auto logger = log::get("store");
    int retries = 0;
    int redos = 0;
    std::string unsettled;  // the id of a transaction whose COMMIT answer was lost
    for (;;) {
        if (conn.interrupted()) return unavailable("postgresql " + conn.target() + ": interrupted");
        if (!conn.ok())
            if (auto s = conn.recover(); !s) return s;
        if (!unsettled.empty()) {
            conn.clear_failure();
            auto c = committed(conn, unsettled);
            if (!c) {
                if (conn.ok() && conn.failure().kind != Failure::reconnect) return c.error();
                if (++redos > policy.max_redos)
                    return unavailable("the database keeps dropping the session: " + c.error().message);
                continue;  // lost again: reconnect, then ask again
            }
            if (*c) {
                logger->info("postgresql {}: the COMMIT whose answer was lost did commit (transaction {})",
                             conn.target(), unsettled);
                return {};
            }
            logger->info("postgresql {}: the COMMIT whose answer was lost did not commit (transaction {}); "
                         "running the unit again", conn.target(), unsettled);
            unsettled.clear();
        }

        conn.clear_failure();
        bool committing = false;
        std::string xid;
        Status s;
        auto tx = Transaction::begin(conn, options);
        if (!tx) {
            s = tx.error();
        } else {
            xid = tx->xid();
            s = attempt(ctx, conn);
            if (s) {
                committing = true;
                s = tx->commit();
                if (s) return {};
            }
        }

        const Failure kind = conn.ok() ? conn.failure().kind : Failure::reconnect;
        if (kind == Failure::reconnect) {
            conn.drop(s.error().message);  // also when the client has not noticed yet (57P01 ahead of EOF)
            if (++redos > policy.max_redos)
                return unavailable("the database keeps dropping the session: " + s.error().message);
            if (committing && !xid.empty()) unsettled = xid;
            logger->warn("postgresql {}: session lost {}; reconnecting and {}", conn.target(),
                         committing ? "during COMMIT" : "in a transaction",
                         unsettled.empty() ? "running the unit again" : "settling its outcome");
            continue;
        }
        if (kind == Failure::retry) {
            if (tx) (void)tx->rollback();
            if (++retries > policy.max_retries)
                return unavailable("gave up after " + std::to_string(policy.max_retries) +
                                   " serialization failures in a row: " + s.error().message);
            logger->debug("postgresql {}: {}; retrying ({})", conn.target(), s.error().message, retries);
            if (!conn.pause(backoff_delay(retries - 1, milliseconds(1), policy.retry_backoff_max)))
                return unavailable("postgresql " + conn.target() + ": interrupted");
            continue;
        }
        return s;  // a conflict, our SQL, fn's own answer: rolled back as tx goes
    }
}

}  // namespace depositd::store::pg
