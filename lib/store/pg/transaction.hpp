#pragma once
// Transactions on a pg::Connection, and run_transaction: a unit of work that
// commits exactly once, whatever the database does meanwhile.
//
//     auto bound = pg::run_transaction(conn, {}, [&](pg::Connection& c) -> Result<Binding> {
//         auto rows = c.query("SELECT ... FOR UPDATE SKIP LOCKED", {...});
//         if (!rows) return rows.error();
//         ...
//         return binding;
//     });
//
// run_transaction(conn, options, fn) runs fn(conn) between BEGIN and COMMIT:
//  - serialization failure (40001) or deadlock (40P01), in fn or at COMMIT:
//    rolls back and runs fn again after a short jittered pause (up to
//    RetryPolicy::max_retries times; then Errc::unavailable). A caller never
//    sees one.
//  - the session is lost (server restarted, backend terminated, network cut,
//    no answer in time): reconnects with backoff (Connection::recover: the
//    store shows as degraded meanwhile) and runs fn again.
//  - the session is lost during COMMIT, so the client cannot know whether it
//    committed: the transaction's id (pg_current_xact_id(), fetched with
//    BEGIN) is looked up after the reconnect (pg_xact_status). Committed:
//    done, fn's result of that run is returned and fn is not run again.
//    Aborted: fn runs again. Still in progress (the old backend still
//    running): the old backend is terminated by the reconnect and the lookup
//    waits for its outcome. Nothing is lost, nothing is done twice.
//  - any other failure (conflict, a bug in our SQL, fn's own error): rolls
//    back and returns it.
//
// fn may run several times: it must compute everything from the database
// inside the transaction and leave side effects outside the database (memory,
// network) until run_transaction has returned. After a failed statement the
// transaction is aborted in PostgreSQL (unlike SQLite): fn cannot go on after
// a conflict, so an expected duplicate is written as INSERT ... ON CONFLICT.
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "core/result.hpp"
#include "store/pg/connection.hpp"

namespace depositd::store::pg {

enum class Isolation { read_committed, repeatable_read, serializable };

struct TxOptions {
    Isolation isolation = Isolation::serializable;
    // READ ONLY: no transaction id is taken (nothing to settle after a lost COMMIT).
    bool read_only = false;
};

// BEGIN ... COMMIT as a guard: rolled back when it goes away uncommitted
// (nothing is sent when the session is gone: the server rolled it back).
// begin() refuses (Errc::internal) while a transaction is open on the
// connection: there are no nested transactions.
class Transaction {
public:
    static Result<Transaction> begin(Connection& conn, TxOptions options = {});
    Transaction(Transaction&& o) noexcept
        : conn_(std::exchange(o.conn_, nullptr)), xid_(std::move(o.xid_)), done_(o.done_) {}
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();

    Status commit();
    Status rollback();
    // The transaction's id (a decimal xid8), "" when read-only.
    const std::string& xid() const { return xid_; }

private:
    Transaction(Connection* conn, std::string xid) : conn_(conn), xid_(std::move(xid)) {}
    Connection* conn_;
    std::string xid_;
    bool done_ = false;
};

// Whether transaction xid committed (true) or aborted (false), from another
// session; waits (bounded by RetryPolicy::reconnect_deadline) while it is
// still in progress.
Result<bool> committed(Connection& conn, const std::string& xid);

namespace detail {
using Attempt = Status (*)(void* ctx, Connection& conn);
Status run_transaction(Connection& conn, TxOptions options, Attempt attempt, void* ctx);
}  // namespace detail

// R = fn's result type: Status or Result<T>.
template <class F>
auto run_transaction(Connection& conn, TxOptions options, F fn) -> std::invoke_result_t<F&, Connection&> {
    using R = std::invoke_result_t<F&, Connection&>;
    struct Ctx {
        F& fn;
        std::optional<R> out;
    } ctx{fn, std::nullopt};
    auto s = detail::run_transaction(
        conn, options,
        [](void* p, Connection& c) -> Status {
            auto& x = *static_cast<Ctx*>(p);
            x.out.emplace(x.fn(c));
            if (x.out->ok()) return {};
            return x.out->error();
        },
        &ctx);
    if (!s) return R(s.error());
    return std::move(*ctx.out);
}

}  // namespace depositd::store::pg
