#include "store/audit.hpp"

#include <algorithm>

#include "core/clock.hpp"

namespace depositd::store {

Result<std::int64_t> insert_audit(Database& db, const AuditEntry& e) {
    auto q = db.prepare(
        "INSERT INTO audit_log (at, actor_kind, actor, action, target, reason, detail, client) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING seq");
    q.bind(1, e.at).bind(2, e.actor_kind).bind(3, e.actor).bind(4, e.action).bind(5, e.target).bind(6, e.reason);
    q.bind(7, e.detail).bind(8, e.client);
    auto r = q.step();
    if (!r) return r.error();
    if (!*r) return make_error(Errc::internal, "INSERT ... RETURNING gave no row");
    return q.int64(0);
}

Result<AuditPage> list_audit(Database& db, const AuditFilter& f) {
    const std::uint32_t limit = std::clamp<std::uint32_t>(f.limit, 1, 200);
    // Newest first on the primary key (or the target's / action's index);
    // one row more than asked says whether another page follows.
    auto q = db.prepare(
        "SELECT seq, at, actor_kind, actor, action, target, reason, detail, client FROM audit_log "
        "WHERE (?1 IS NULL OR action = ?1) AND (?2 IS NULL OR target = ?2) AND (?3 IS NULL OR actor = ?3) "
        "AND (?4 IS NULL OR seq < ?4) ORDER BY seq DESC LIMIT ?5");
    q.bind(1, f.action).bind(2, f.target).bind(3, f.actor).bind(4, f.before);
    q.bind(5, static_cast<std::int64_t>(limit) + 1);
    AuditPage out;
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        if (out.entries.size() == limit) {
            out.next = out.entries.back().seq;
            break;
        }
        AuditEntry e;
        e.seq = q.int64(0);
        e.at = q.int64(1);
        e.actor_kind = q.text(2);
        e.actor = q.text(3);
        e.action = q.text(4);
        e.target = q.opt_text(5);
        e.reason = q.opt_text(6);
        e.detail = q.opt_text(7);
        e.client = q.opt_text(8);
        out.entries.push_back(std::move(e));
    }
    return out;
}

json::object audit_to_json(const AuditEntry& e) {
    auto text = [](const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); };
    json::object o;
    o["seq"] = e.seq;
    o["at"] = format_rfc3339_ms(e.at);
    json::object actor;
    actor["kind"] = e.actor_kind;
    actor["name"] = e.actor;
    o["actor"] = std::move(actor);
    o["action"] = e.action;
    o["target"] = text(e.target);
    o["reason"] = text(e.reason);
    json::value detail = nullptr;
    if (e.detail) {
        auto v = json::parse_bounded(*e.detail);
        detail = v ? std::move(*v) : json::value(*e.detail);
    }
    o["detail"] = std::move(detail);
    o["client"] = text(e.client);
    return o;
}

}  // namespace depositd::store
