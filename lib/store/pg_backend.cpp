#include "store/pg_backend.hpp"

#include <charconv>
#include <cstdlib>
#include <string_view>
#include <stdexcept>

#include "core/log.hpp"
#include "core/text.hpp"
#include "store/pg/transaction.hpp"

namespace depositd::store::pg_backend {

using pg::Failure;
using pg::Type;

void Session::note_failure() {
    const Failure kind = conn_->ok() ? conn_->failure().kind : Failure::reconnect;
    if (kind == Failure::retry || kind == Failure::reconnect) retry_ = true;
}

void Session::begin_unit() {
    retry_ = false;
    retries_ = 0;
    redos_ = 0;
}

bool Session::retry_unit() {
    if (!retry_) return false;
    retry_ = false;
    if (conn_->interrupted()) return false;
    const auto& policy = conn_->options().retry;
    auto logger = log::get("store");
    if (!conn_->ok()) {
        if (++redos_ > policy.max_redos) {
            logger->error("postgresql {}: the database keeps dropping the session; giving up on this unit",
                          conn_->target());
            return false;
        }
        if (auto s = conn_->recover(); !s) {
            logger->error("postgresql {}: {}", conn_->target(), s.error().message);
            return false;
        }
        logger->info("postgresql {}: running the unit of work again on a new session", conn_->target());
        return true;
    }
    if (++retries_ > policy.max_retries) {
        logger->error("postgresql {}: gave up after {} serialization failures in a row", conn_->target(),
                      policy.max_retries);
        return false;
    }
    logger->debug("postgresql {}: serialization failure; running the unit again ({})", conn_->target(), retries_);
    return conn_->pause(pg::backoff_delay(retries_ - 1, std::chrono::milliseconds(1), policy.retry_backoff_max));
}

Error unit_error(Session& s, const Error& e) {
    s.note_failure();
    return e;
}

Query::Query(Session& session, std::string sql, int parameters)
    : session_(session), sql_(std::move(sql)), params_(static_cast<std::size_t>(parameters), pg::Param::null(Type::text)) {}

void Query::bind(int i, pg::Param p) {
    // As SQLite does: a number the SQL does not have is ignored (the lists
    // bind every filter they were given; some SQL leaves a filter out).
    if (i < 1 || static_cast<std::size_t>(i) > params_.size()) return;
    params_[static_cast<std::size_t>(i) - 1] = std::move(p);
    rows_.reset();
}

Result<bool> Query::step() {
    if (!rows_) {
        auto r = session_.conn().query(sql_, params_);
        if (!r) return unit_error(session_, r.error());
        // Like sqlite3_changes(): only INSERT, UPDATE and DELETE count
        // (PostgreSQL also counts the rows a SELECT returned).
        const std::string tag = r->command();
        if (tag.starts_with("INSERT") || tag.starts_with("UPDATE") || tag.starts_with("DELETE")) {
            changes_ = r->affected();
            session_.changes = changes_;
        }
        rows_.emplace(std::move(*r));
        next_ = 0;
    }
    if (next_ >= rows_->size()) return false;
    ++next_;
    return true;
}

namespace {
// DEPOSITD_PG_PIPELINE=off: every write waits for its answer (diagnosis,
// and the before/after figures in docs/performance.md). Another value than
// on/off is named in the log once, and pipelining stays on.
bool pipelining() {
    static const bool on = [] {
        const char* v = std::getenv("DEPOSITD_PG_PIPELINE");
        if (!v || std::string_view(v) == "on" || std::string_view(v).empty()) return true;
        if (std::string_view(v) == "off") return false;
        log::get("store")->warn("DEPOSITD_PG_PIPELINE={} is neither \"on\" nor \"off\": writes stay pipelined",
                                quote_untrusted(std::string_view(v).substr(0, 32)));
        return true;
    }();
    return on;
}
}  // namespace

Status Query::send(pg::Connection::Expect expect) {
    auto& conn = session_.conn();
    rows_.reset();
    next_ = 0;
    if (!conn.in_transaction() || !pipelining()) {
        // Alone, a statement is its own transaction: run it now.
        auto r = step();
        if (!r) return r.error();
        rows_.reset();
        if (expect.rows >= 0 && changes_ != expect.rows) return make_error(expect.code, expect.message);
        return {};
    }
    if (auto s = conn.send(sql_, params_, std::move(expect)); !s) return unit_error(session_, s.error());
    sent_ = true;
    return {};
}

std::int64_t Query::changes() {
    if (sent_) {
        // As sqlite3_changes(): the last statement's count.
        sent_ = false;
        auto& conn = session_.conn();
        if (auto s = conn.settle(); !s) (void)unit_error(session_, s.error());
        changes_ = conn.last_affected();
        session_.changes = changes_;
    }
    return changes_;
}

void Query::reset() {
    rows_.reset();
    next_ = 0;
}

void Query::bad(const Error& e) const { throw std::logic_error(e.message + " in: " + sql_); }

pg::Row Query::row(int col) const {
    if (!rows_ || next_ < 1 || next_ > rows_->size() || col < 0 || col >= rows_->columns())
        throw std::logic_error("no row or column " + std::to_string(col) + " to read in: " + sql_);
    return (*rows_)[next_ - 1];
}

bool Query::is_null(int col) const { return row(col).is_null(col); }

// Like SQLite's getters: NULL reads as 0 / "" / no bytes; integers, booleans
// and text convert; another type is our SQL's bug.
std::int64_t Query::int64(int col) const {
    auto r = row(col);
    if (r.is_null(col)) return 0;
    switch (static_cast<Type>(rows_->column_type(col))) {
        case Type::int8: case Type::int4: case Type::int2: {
            auto v = r.int64(col);
            if (!v) bad(v.error());
            return *v;
        }
        case Type::boolean: {
            auto v = r.boolean(col);
            if (!v) bad(v.error());
            return *v ? 1 : 0;
        }
        default: {
            auto t = r.text(col);
            if (!t) bad(t.error());
            std::int64_t out = 0;
            auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), out);
            if (ec != std::errc() || end != t->data() + t->size())
                bad(make_error(Errc::internal, "column " + std::to_string(col) + " (\"" + *t + "\") read as an integer"));
            return out;
        }
    }
}

std::string Query::text(int col) const {
    auto r = row(col);
    if (r.is_null(col)) return {};
    switch (static_cast<Type>(rows_->column_type(col))) {
        case Type::int8: case Type::int4: case Type::int2: case Type::boolean:
            return std::to_string(int64(col));
        case Type::bytea: {
            auto v = r.bytea(col);
            if (!v) bad(v.error());
            return std::string(v->begin(), v->end());
        }
        default: {
            auto t = r.text(col);
            if (!t) bad(t.error());
            return std::move(*t);
        }
    }
}

std::vector<std::uint8_t> Query::blob(int col) const {
    auto r = row(col);
    if (r.is_null(col)) return {};
    if (static_cast<Type>(rows_->column_type(col)) != Type::bytea) {
        auto t = text(col);
        return std::vector<std::uint8_t>(t.begin(), t.end());
    }
    auto v = r.bytea(col);
    if (!v) bad(v.error());
    return std::move(*v);
}

}  // namespace depositd::store::pg_backend
