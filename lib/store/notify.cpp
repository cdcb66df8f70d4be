#include "store/notify.hpp"

namespace depositd::store {

Result<std::optional<NotifyState>> get_notify_state(Database& db, const std::string& key) {
    auto q = db.prepare("SELECT value, changed_at FROM notify_state WHERE key = ?1");
    q.bind(1, key);
    auto r = q.step();
    if (!r) return r.error();
    if (!*r) return std::optional<NotifyState>{};
    return std::optional<NotifyState>(NotifyState{q.text(0), q.int64(1)});
}

Status put_notify_state(Database& db, const std::string& key, const NotifyState& s) {
    auto q = db.prepare(
        "INSERT INTO notify_state (key, value, changed_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at");
    q.bind(1, key).bind(2, s.value).bind(3, s.changed_at);
    return q.run();
}

Result<std::int64_t> max_event_seq(Database& db) {
    auto q = db.prepare("SELECT coalesce(max(seq), 0) FROM events");
    auto r = q.step();
    if (!r) return r.error();
    return q.int64(0);
}

Result<std::vector<EventRow>> webhook_events_after(Database& db, std::int64_t after, std::size_t limit) {
    auto q = db.prepare("SELECT id FROM events WHERE kind = 'webhook' AND seq > ?1 ORDER BY seq LIMIT ?2");
    q.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    return events_selected(db, q);
}

Result<DeliveryTrouble> delivery_trouble(Database& db, int min_attempts) {
    DeliveryTrouble t;
    {
        auto q = db.prepare("SELECT count(*) FROM events WHERE status = 'failed' AND kind <> 'telegram'");
        auto r = q.step();
        if (!r) return r.error();
        t.failed = static_cast<std::uint64_t>(q.int64(0));
    }
    {
        auto q = db.prepare(
            "SELECT count(*) FROM events WHERE status = 'pending' AND kind <> 'telegram' AND attempts >= ?1");
        q.bind(1, static_cast<std::int64_t>(min_attempts));
        auto r = q.step();
        if (!r) return r.error();
        t.retrying = static_cast<std::uint64_t>(q.int64(0));
    }
    {
        auto q = db.prepare(
            "SELECT last_error FROM events WHERE status IN ('failed', 'pending') AND kind <> 'telegram' "
            "AND last_error IS NOT NULL ORDER BY seq DESC LIMIT 1");
        auto r = q.step();
        if (!r) return r.error();
        if (*r) t.last_error = q.opt_text(0);
    }
    return t;
}

}  // namespace depositd::store
