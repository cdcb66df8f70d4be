#include "store/console.hpp"

#include <algorithm>

namespace depositd::store {
namespace {

std::uint32_t clamp_limit(std::uint32_t l) { return std::clamp<std::uint32_t>(l == 0 ? 25 : l, 1, 100); }

// The spellings a pasted transaction hash may have in the table: as given,
// lower case (EVM, TRON and Bitcoin store hex in lower case), and with or
// without 0x (TRON's hashes have none, EVM's have it).
struct HashForms {
    std::string given, lower, other;
};
HashForms hash_forms(const std::string& q) {
    HashForms h{q, q, q};
    for (auto& c : h.lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (h.lower.rfind("0x", 0) == 0) h.other = h.lower.substr(2);
    else h.other = "0x" + h.lower;
    return h;
}

// Runs `sql` (selecting id, t, rowid in list order, LIMIT ?20) and fills a page.
Result<IdPage> collect(Statement& s, std::uint32_t limit) {
    IdPage page;
    std::optional<PageKey> last;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) break;
        if (page.ids.size() == limit) {
            page.next = last;
            break;
        }
        page.ids.push_back(s.text(0));
        last = PageKey{s.int64(1), s.int64(2)};
    }
    return page;
}

// "AND (t < ?21 OR (t = ?21 AND rowid < ?22))" on the outer table alias.
std::string after_clause(const ConsoleQuery& f, const char* t, const char* seq) {
    if (!f.after) return "";
    return std::string(" AND (") + t + " < ?21 OR (" + t + " = ?21 AND " + seq + " < ?22))";
}

void bind_after(Statement& s, const ConsoleQuery& f, std::uint32_t limit) {
    if (f.after) s.bind(21, f.after->t).bind(22, f.after->seq);
    s.bind(20, static_cast<std::int64_t>(limit) + 1);
}

Result<std::vector<EventRow>> events_by(Database& db, const char* column, const std::string& value) {
    auto q = db.prepare(std::string("SELECT id FROM events WHERE ") + column + " = ?1 ORDER BY seq LIMIT 1000");
    q.bind(1, value);
    return events_selected(db, q);
}

}  // namespace

Result<IdPage> search_deposits(Database& db, const ConsoleQuery& f) {
    if (!f.q) return make_error(Errc::invalid_input, "search_deposits needs a search text");
    const std::uint32_t limit = clamp_limit(f.limit);
    const HashForms h = hash_forms(*f.q);
    // Each arm uses its own index; the union is the (small) set of matches.
    std::string sql =
        "SELECT d.id, d.detected_at, d.rowid FROM deposits d WHERE d.rowid IN ("
        "SELECT rowid FROM deposits WHERE reference = ?1 "
        "UNION SELECT rowid FROM deposits WHERE id = ?1 "
        "UNION SELECT rowid FROM deposits WHERE tx_hash IN (?2, ?3, ?4) "
        "UNION SELECT rowid FROM deposits WHERE address = ?1 COLLATE NOCASE "
        "UNION SELECT x.rowid FROM orders o JOIN order_deposits od ON od.order_id = o.id "
        "JOIN deposits x ON x.id = od.deposit_id WHERE o.id = ?1 "
        "UNION SELECT x.rowid FROM orders o JOIN order_deposits od ON od.order_id = o.id "
        "JOIN deposits x ON x.id = od.deposit_id WHERE o.order_id = ?1)";
    if (f.status) sql += " AND d.status = ?5";
    if (f.chain_id) sql += " AND d.chain_id = ?6";
    sql += after_clause(f, "d.detected_at", "d.rowid");
    sql += " ORDER BY d.detected_at DESC, d.rowid DESC LIMIT ?20";
    auto s = db.prepare(sql);
    s.bind(1, *f.q).bind(2, h.given).bind(3, h.lower).bind(4, h.other);
    if (f.status) s.bind(5, *f.status);
    if (f.chain_id) s.bind(6, *f.chain_id);
    bind_after(s, f, limit);
    return collect(s, limit);
}

Result<IdPage> search_orders(Database& db, const ConsoleQuery& f) {
    const std::uint32_t limit = clamp_limit(f.limit);
    std::string sql = "SELECT o.id, o.created_at, o.rowid FROM orders o WHERE TRUE";
    if (f.q)
        sql +=
            " AND o.rowid IN (SELECT rowid FROM orders WHERE id = ?1 "
            "UNION SELECT rowid FROM orders WHERE order_id = ?1 "
            "UNION SELECT rowid FROM orders WHERE address = ?1 COLLATE NOCASE "
            "UNION SELECT y.rowid FROM deposits d JOIN order_deposits od ON od.deposit_id = d.id "
            "JOIN orders y ON y.id = od.order_id WHERE d.tx_hash IN (?2, ?3, ?4) "
            "UNION SELECT y.rowid FROM deposits d JOIN order_deposits od ON od.deposit_id = d.id "
            "JOIN orders y ON y.id = od.order_id WHERE d.id = ?1)";
    if (f.status) sql += " AND o.status = ?5";
    sql += after_clause(f, "o.created_at", "o.rowid");
    sql += " ORDER BY o.created_at DESC, o.rowid DESC LIMIT ?20";
    auto s = db.prepare(sql);
    if (f.q) {
        const HashForms h = hash_forms(*f.q);
        s.bind(1, *f.q).bind(2, h.given).bind(3, h.lower).bind(4, h.other);
    }
    if (f.status) s.bind(5, *f.status);
    bind_after(s, f, limit);
    return collect(s, limit);
}

Result<IdPage> search_events(Database& db, const ConsoleQuery& f) {
    const std::uint32_t limit = clamp_limit(f.limit);
    // Ordered by seq alone: t is 0 in every key.
    std::string sql = "SELECT e.id, 0, e.seq FROM events e WHERE TRUE";
    if (f.q)
        sql +=
            " AND e.seq IN (SELECT seq FROM events WHERE id = ?1 UNION SELECT seq FROM events WHERE deposit_id = ?1 "
            "UNION SELECT seq FROM events WHERE order_id = ?1)";
    if (f.status) sql += " AND e.status = ?5";
    if (f.type) sql += " AND e.type = ?6";
    if (f.after) sql += " AND e.seq < ?22";
    sql += " ORDER BY e.seq DESC LIMIT ?20";
    auto s = db.prepare(sql);
    if (f.q) s.bind(1, *f.q);
    if (f.status) s.bind(5, *f.status);
    if (f.type) s.bind(6, *f.type);
    if (f.after) s.bind(22, f.after->seq);
    s.bind(20, static_cast<std::int64_t>(limit) + 1);
    return collect(s, limit);
}

Result<IdPage> search_links(Database& db, const ConsoleQuery& f) {
    const std::uint32_t limit = clamp_limit(f.limit);
    std::string sql = "SELECT l.id, l.created_at, l.rowid FROM payment_links l WHERE TRUE";
    if (f.q)
        sql += db.backend() == Backend::postgresql
                   ? " AND (l.id = ?1 OR l.slug = ?1 OR strpos(lower(l.title), lower(?1)) > 0)"
                   : " AND (l.id = ?1 OR l.slug = ?1 OR instr(lower(l.title), lower(?1)) > 0)";
    if (f.status) sql += " AND l.status = ?5";
    sql += after_clause(f, "l.created_at", "l.rowid");
    sql += " ORDER BY l.created_at DESC, l.rowid DESC LIMIT ?20";
    auto s = db.prepare(sql);
    if (f.q) s.bind(1, *f.q);
    if (f.status) s.bind(5, *f.status);
    bind_after(s, f, limit);
    return collect(s, limit);
}

Result<std::vector<EventRow>> events_of_deposit(Database& db, const std::string& deposit_id) {
    return events_by(db, "deposit_id", deposit_id);
}

Result<std::vector<EventRow>> events_of_order(Database& db, const std::string& order_id) {
    return events_by(db, "order_id", order_id);
}

Result<std::vector<OutboxCount>> outbox_counts(Database& db) {
    // Pending and failed rows are few (delivered ones are not counted here):
    // served by events_by_status_seq.
    auto q = db.prepare(
        "SELECT kind, status, count(*) FROM events WHERE status IN ('pending', 'failed') GROUP BY kind, status "
        "ORDER BY kind, status");
    std::vector<OutboxCount> out;
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        out.push_back(OutboxCount{q.text(0), q.text(1), static_cast<std::uint64_t>(q.int64(2))});
    }
    return out;
}

}  // namespace depositd::store
