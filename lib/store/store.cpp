#include "store/store.hpp"

#include <pthread.h>

#include "core/log.hpp"
#include "store/pg/connection.hpp"

namespace depositd::store {

Result<std::unique_ptr<Store>> Store::open(const std::string& location, StoreOptions options) {
    std::shared_ptr<pg::Health> health;
    Result<std::unique_ptr<Database>> db = make_error(Errc::internal, "not opened");
    if (is_postgres_url(location)) {
        health = std::make_shared<pg::Health>();
        db = Database::connect(location, PgOptions{.application_name = "depositd", .health = health});
    } else {
        db = Database::open(location, options.busy_timeout_ms);
    }
    if (!db) return db.error();
    if (auto s = (*db)->migrate(); !s)
        return make_error(s.error().code, "database " + (*db)->location() + ": " + s.error().message);
    return std::unique_ptr<Store>(new Store(location, options, std::move(*db), std::move(health)));
}

Store::Store(std::string location, StoreOptions options, std::unique_ptr<Database> writer,
             std::shared_ptr<pg::Health> pg_health)
    : location_(std::move(location)),
      path_(writer->location()),
      backend_(writer->backend()),
      pg_health_(std::move(pg_health)),
      options_(options),
      writer_db_(std::move(writer)) {
    std::promise<std::thread::id> started;
    auto id = started.get_future();
    writer_ = std::thread([this, &started] {
        // Named for `top -H`, `ps -L` and perf (15 characters at most).
        pthread_setname_np(pthread_self(), "store-writer");
        started.set_value(std::this_thread::get_id());
        writer_loop();
    });
    writer_id_ = id.get();
}

Store::~Store() {
    {
        std::lock_guard lock(mu_);
        closing_ = true;
    }
    // The queued jobs still run; a PostgreSQL unit waiting for the database
    // to come back gives up now instead of holding the shutdown for its
    // reconnect deadline.
    if (backend_ == Backend::postgresql) writer_db_->interrupt();
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
}

void Store::post(std::unique_ptr<Job> job) {
    bool closing = false;
    {
        std::lock_guard lock(mu_);
        closing = closing_;
        if (!closing && queue_.size() < options_.queue_capacity) {
            queue_.push_back(std::move(job));
            cv_.notify_one();
            return;
        }
    }
    // Outside the lock: cancel() may resume a waiter that posts again.
    job->cancel(make_error(Errc::unavailable, closing ? "the database is closing" : "the database writer queue is full"));
}

std::size_t Store::queued() const {
    std::lock_guard lock(mu_);
    return queue_.size();
}

void Store::writer_loop() {
    for (;;) {
        std::unique_ptr<Job> job;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
            if (queue_.empty()) return;  // closing and drained
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        try {
            job->run(*writer_db_);
        } catch (const std::exception& e) {
            // A job that throws is a bug (SQL typo): it must not take the
            // writer down with it. Its waiter gets an error.
            log::get("store")->critical("database job failed: {}", e.what());
            job->cancel(make_error(Errc::internal, e.what()));
        }
    }
}

Result<std::unique_ptr<Database>> Store::borrow_reader() {
    {
        std::lock_guard lock(readers_mu_);
        if (!readers_.empty()) {
            auto db = std::move(readers_.back());
            readers_.pop_back();
            return db;
        }
    }
    if (backend_ == Backend::postgresql)
        return Database::connect(location_, PgOptions{.application_name = "depositd reader",
                                                      .health = pg_health_,
                                                      .wait_for_database = false});
    return Database::open_reader(path_, options_.busy_timeout_ms);
}

Store::Health Store::health() const {
    if (!pg_health_) return {};
    return Health{pg_health_->degraded(), pg_health_->reason(), pg_health_->reconnects()};
}

void Store::give_back(std::unique_ptr<Database> db) {
    if (!db) return;
    if (db->in_transaction()) return;  // a read that left a transaction open (a bug): not for the next one
    std::lock_guard lock(readers_mu_);
    readers_.push_back(std::move(db));
}

}  // namespace depositd::store
