#pragma once
// The database as the daemon's threads share it (docs/architecture.md).
//
//  - One writer thread owns the only read-write connection of the daemon.
//    Every write is a job on its bounded queue: a job is a function of
//    Database& that runs to completion (usually one transaction) before the
//    next one starts, so what must be atomic stays one transaction.
//  - Read-only connections for reads from other threads (API workers): WAL
//    lets them run beside the writer, each sees a committed snapshot.
//  - No SQLite call happens on a thread that serves sockets: the network
//    thread hands jobs over (store/async.hpp) and is resumed with the result.
//
// depositctl, another process, writes the same file; SQLite's locks and the
// busy timeout serialise it with the writer thread, never with the network.
//
// On PostgreSQL ([store] url) the same shape: the writer thread owns one
// session, readers borrow sessions of their own. A job is a unit of work
// that may run again (Database::retry_unit: serialization failure, session
// lost): the store runs it until it is done, reconnecting with backoff, and
// health() shows the store as degraded while it has no session.
#include <condition_variable>
#include <cstdint>
#include <cstddef>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

struct StoreOptions {
    int busy_timeout_ms = 5000;
    // Jobs waiting for the writer. The daemon's producers are bounded by
    // construction (one job in flight per chain loop, per delivery slot, per
    // API worker), so a full queue means something is badly wrong: post()
    // refuses rather than growing without limit.
    std::size_t queue_capacity = 4096;
};

class Store {
public:
    // Opens the database (creating it 0600 in an existing directory), applies
    // migrations on the writer connection and starts the writer thread.
    // A PostgreSQL URL (is_postgres_url) connects instead (no retry at start:
    // a wrong URL or password is said at once).
    static Result<std::unique_ptr<Store>> open(const std::string& location, StoreOptions options = {});
    ~Store();  // runs the jobs already queued, then stops the writer
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // A unit of work for the writer thread. Move-only callables are fine.
    class Job {
    public:
        virtual ~Job() = default;
        virtual void run(Database& db) = 0;   // on the writer thread
        virtual void cancel(const Error& why) = 0;  // instead of run() when it cannot be run
    };

    // Queues a job; thread-safe. When the queue is full or the store is
    // closing, the job's cancel() is called at once instead.
    void post(std::unique_ptr<Job> job);

    // Runs fn(Database&) on the writer thread and waits for its result.
    // R must be constructible from Error (Result<T> / Status). Never call it
    // from the writer thread (a job) or a thread that serves sockets.
    template <class F>
    auto write(F fn) -> std::invoke_result_t<F&, Database&>;

    // Runs fn(Database&) on a read-only connection, on the calling thread.
    // Thread-safe: every concurrent caller gets its own connection.
    template <class F>
    auto read(F fn) -> std::invoke_result_t<F&, Database&>;

    // The file, or the URL without its password.
    const std::string& path() const { return path_; }
    Backend backend() const { return backend_; }
    struct Health {
        bool degraded = false;  // PostgreSQL: a session is lost and not back yet
        std::string reason;
        std::uint64_t reconnects = 0;
    };
    Health health() const;
    bool on_writer_thread() const { return std::this_thread::get_id() == writer_id_; }
    std::size_t queued() const;

private:
    Store(std::string location, StoreOptions options, std::unique_ptr<Database> writer,
          std::shared_ptr<pg::Health> pg_health);
    void writer_loop();
    Result<std::unique_ptr<Database>> borrow_reader();
    void give_back(std::unique_ptr<Database> db);

    std::string location_;  // as given (a PostgreSQL URL with its password: never logged)
    std::string path_;
    Backend backend_;
    std::shared_ptr<pg::Health> pg_health_;
    StoreOptions options_;
    std::unique_ptr<Database> writer_db_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::unique_ptr<Job>> queue_;
    bool closing_ = false;
    std::thread writer_;
    std::thread::id writer_id_;
    std::mutex readers_mu_;
    std::vector<std::unique_ptr<Database>> readers_;  // idle read-only connections
};

namespace detail {

template <class F, class Done>
class FnJob final : public Store::Job {
public:
    FnJob(F fn, Done done) : fn_(std::move(fn)), done_(std::move(done)) {}
    void run(Database& db) override {
        db.begin_unit();
        for (;;) {
            auto r = fn_(db);
            if (!db.retry_unit()) return done_(std::move(r));
        }
    }
    void cancel(const Error& why) override {
        using R = std::invoke_result_t<F&, Database&>;
        done_(R(why));
    }

private:
    F fn_;
    Done done_;
};

template <class F, class Done>
std::unique_ptr<Store::Job> make_job(F fn, Done done) {
    return std::make_unique<FnJob<F, Done>>(std::move(fn), std::move(done));
}

}  // namespace detail

template <class F>
auto Store::write(F fn) -> std::invoke_result_t<F&, Database&> {
    using R = std::invoke_result_t<F&, Database&>;
    if (on_writer_thread()) return fn(*writer_db_);  // a job calling back into the store: inline, part of its unit
    std::promise<R> promise;
    auto result = promise.get_future();
    post(detail::make_job(std::move(fn), [&promise](R r) { promise.set_value(std::move(r)); }));
    return result.get();
}

template <class F>
auto Store::read(F fn) -> std::invoke_result_t<F&, Database&> {
    using R = std::invoke_result_t<F&, Database&>;
    auto db = borrow_reader();
    if (!db) return R(db.error());
    struct GiveBack {
        Store* store;
        std::unique_ptr<Database>& db;
        ~GiveBack() { store->give_back(std::move(db)); }
    } give_back_on_exit{this, *db};
    (*db)->begin_unit();
    for (;;) {
        auto r = fn(**db);
        if (!(*db)->retry_unit()) return r;
    }
}

}  // namespace depositd::store
