#include "store/orders.hpp"

#include "store/in_list.hpp"

#include "store/pool.hpp"

#include <algorithm>

namespace depositd::store {
namespace {

constexpr const char* kOrderColumns =
    "id, order_id, source, mode, status, chain_id, currency, contract, decimals, amount, pay_raw, paid_raw, "
    "fiat_amount, fiat_currency, rate, address_id, address, redirect_url, notify_url, merchant, metadata, link_id, "
    "created_at, expires_at, paid_at, completed_at, expired_at, client, visitor, manual";

Order read_order(const Statement& q) {
    Order o;
    o.id = q.text(0);
    o.order_id = q.text(1);
    o.source = q.text(2);
    o.mode = q.text(3);
    o.status = q.text(4);
    o.chain_id = q.text(5);
    o.currency = q.text(6);
    o.contract = q.opt_text(7);
    o.decimals = static_cast<unsigned>(q.int64(8));
    o.amount = q.text(9);
    o.pay_raw = q.text(10);
    o.paid_raw = q.text(11);
    o.fiat_amount = q.opt_text(12);
    o.fiat_currency = q.opt_text(13);
    o.rate = q.opt_text(14);
    o.address_id = q.int64(15);
    o.address = q.text(16);
    o.redirect_url = q.opt_text(17);
    o.notify_url = q.opt_text(18);
    o.merchant = q.opt_text(19);
    o.metadata = q.opt_text(20);
    o.link_id = q.opt_text(21);
    o.created_at = q.int64(22);
    o.expires_at = q.int64(23);
    o.paid_at = q.opt_int64(24);
    o.completed_at = q.opt_int64(25);
    o.expired_at = q.opt_int64(26);
    o.client = q.opt_text(27);
    o.visitor = q.opt_text(28);
    o.manual = q.int64(29) != 0;
    return o;
}

std::string select_orders(const std::string& rest) { return std::string("SELECT ") + kOrderColumns + " FROM orders " + rest; }

Result<std::vector<Order>> collect_orders(Statement& q) {
    std::vector<Order> out;
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        out.push_back(read_order(q));
    }
    return out;
}

Result<std::optional<Order>> one_order(Statement& q) {
    auto r = q.step();
    if (!r) return r.error();
    if (!*r) return std::optional<Order>{};
    return std::optional<Order>(read_order(q));
}

constexpr const char* kLinkColumns =
    "id, slug, title, description, amount, fiat, currencies, inventory_total, expires_at, metadata, status, "
    "created_at, updated_at";

PaymentLink read_link(const Statement& q) {
    PaymentLink l;
    l.id = q.text(0);
    l.slug = q.text(1);
    l.title = q.text(2);
    l.description = q.opt_text(3);
    l.amount = q.text(4);
    l.fiat = q.opt_text(5);
    l.currencies = q.text(6);
    l.inventory_total = q.opt_int64(7);
    l.expires_at = q.opt_int64(8);
    l.metadata = q.opt_text(9);
    l.status = q.text(10);
    l.created_at = q.int64(11);
    l.updated_at = q.int64(12);
    return l;
}

Result<std::optional<PaymentLink>> one_link(Statement& q) {
    auto r = q.step();
    if (!r) return r.error();
    if (!*r) return std::optional<PaymentLink>{};
    return std::optional<PaymentLink>(read_link(q));
}

std::uint32_t clamp_limit(std::uint32_t limit) { return std::clamp<std::uint32_t>(limit == 0 ? 20 : limit, 1, 100); }

}  // namespace

Status insert_order(Database& db, const Order& o) {
    auto q = db.prepare(
        "INSERT INTO orders (id, order_id, source, mode, status, chain_id, currency, contract, decimals, amount, "
        "pay_raw, paid_raw, fiat_amount, fiat_currency, rate, address_id, address, redirect_url, notify_url, merchant, "
        "metadata, link_id, created_at, expires_at, paid_at, completed_at, expired_at, client, visitor) VALUES (?1, ?2, "
        "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, "
        "?26, ?27, ?28, ?29)");
    q.bind(1, o.id).bind(2, o.order_id).bind(3, o.source).bind(4, o.mode).bind(5, o.status).bind(6, o.chain_id);
    q.bind(7, o.currency).bind(8, o.contract).bind(9, static_cast<std::int64_t>(o.decimals)).bind(10, o.amount);
    q.bind(11, o.pay_raw).bind(12, o.paid_raw).bind(13, o.fiat_amount).bind(14, o.fiat_currency).bind(15, o.rate);
    q.bind(16, o.address_id).bind(17, o.address).bind(18, o.redirect_url).bind(19, o.notify_url);
    q.bind(20, o.merchant).bind(21, o.metadata).bind(22, o.link_id).bind(23, o.created_at).bind(24, o.expires_at);
    q.bind(25, o.paid_at).bind(26, o.completed_at).bind(27, o.expired_at).bind(28, o.client).bind(29, o.visitor);
    return q.run();
}

Status update_order_state(Database& db, const Order& o) {
    auto q = db.prepare(
        "UPDATE orders SET status = ?2, paid_raw = ?3, paid_at = ?4, completed_at = ?5, expired_at = ?6, manual = ?7 "
        "WHERE id = ?1");
    q.bind(1, o.id).bind(2, o.status).bind(3, o.paid_raw).bind(4, o.paid_at).bind(5, o.completed_at);
    q.bind(6, o.expired_at).bind(7, o.manual ? 1 : 0);
    if (auto s = q.run(); !s) return s;
    if (db.changes() != 1) return make_error(Errc::not_found, "no order " + o.id);
    return {};
}

Result<bool> expire_order(Database& db, const std::string& id, std::int64_t now_ms) {
    auto q = db.prepare("UPDATE orders SET status = 'expired', expired_at = ?2 WHERE id = ?1 AND status = 'waiting'");
    q.bind(1, id).bind(2, now_ms);
    if (auto s = q.run(); !s) return s.error();
    return db.changes() == 1;
}

Result<std::optional<Order>> get_order(Database& db, const std::string& id) {
    auto q = db.prepare(select_orders("WHERE id = ?1"));
    q.bind(1, id);
    return one_order(q);
}

Result<std::optional<Order>> latest_order_by_order_id(Database& db, const std::string& order_id,
                                                      const std::optional<std::string>& source) {
    auto q = db.prepare(
        select_orders("WHERE order_id = ?1 AND (?2 IS NULL OR source = ?2) ORDER BY created_at DESC, rowid DESC LIMIT 1"));
    q.bind(1, order_id).bind(2, source);
    return one_order(q);
}

Result<OrderPage> list_orders(Database& db, const OrderFilter& f) {
    // One statement for every filter combination: a NULL parameter disables its filter.
    const char* where = "WHERE (?1 IS NULL OR order_id = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR link_id = ?3) ";
    OrderPage page;
    {
        auto c = db.prepare(std::string("SELECT count(*) FROM orders ") + where);
        c.bind(1, f.order_id).bind(2, f.status).bind(3, f.link_id);
        auto r = c.step();
        if (!r) return r.error();
        page.total = static_cast<std::uint64_t>(c.int64(0));
    }
    const std::uint32_t limit = clamp_limit(f.limit);
    const std::uint32_t pg = std::max<std::uint32_t>(f.page, 1);
    auto q = db.prepare(select_orders(std::string(where) + "ORDER BY created_at DESC, id LIMIT ?4 OFFSET ?5"));
    q.bind(1, f.order_id).bind(2, f.status).bind(3, f.link_id).bind(4, static_cast<std::int64_t>(limit));
    q.bind(5, static_cast<std::int64_t>(pg - 1) * limit);
    auto rows = collect_orders(q);
    if (!rows) return rows.error();
    page.orders = std::move(*rows);
    return page;
}

Result<std::vector<Order>> open_orders_at(Database& db, std::int64_t address_id, const std::string& chain_id,
                                          const std::string& currency) {
    auto q = db.prepare(select_orders(
        "WHERE address_id = ?1 AND status IN ('waiting', 'paid') AND chain_id = ?2 AND currency = ?3 "
        "ORDER BY created_at, id"));
    q.bind(1, address_id).bind(2, chain_id).bind(3, currency);
    return collect_orders(q);
}

Result<std::vector<Order>> held_orders_at(Database& db, std::int64_t address_id, const std::string& chain_id,
                                          const std::string& currency, std::int64_t now_ms, std::int64_t hold_ms) {
    auto q = db.prepare(select_orders(
        "WHERE address_id = ?1 AND chain_id = ?2 AND currency = ?3 AND (status IN ('waiting', 'paid') OR "
        "(status = 'completed' AND completed_at > ?4 - ?5) OR (status = 'expired' AND expired_at > ?4 - ?5)) "
        "ORDER BY created_at, id"));
    q.bind(1, address_id).bind(2, chain_id).bind(3, currency).bind(4, now_ms).bind(5, hold_ms);
    return collect_orders(q);
}

Result<std::optional<Order>> ended_order_holding(Database& db, std::int64_t address_id, const std::string& chain_id,
                                                 const std::string& currency, const std::string& pay_raw,
                                                 std::int64_t paid_ms, std::int64_t skew_ms, std::int64_t hold_ms) {
    auto q = db.prepare(select_orders(
        "WHERE address_id = ?1 AND chain_id = ?2 AND currency = ?3 AND pay_raw = ?4 AND created_at <= ?5 + ?6 "
        "AND (status IN ('paid', 'completed', 'expired') OR expires_at < ?5) "
        "AND NOT (status = 'completed' AND completed_at < ?5 - ?7) AND NOT (status = 'expired' AND expired_at < ?5 - ?7) "
        "ORDER BY created_at DESC, rowid DESC LIMIT 1"));
    q.bind(1, address_id).bind(2, chain_id).bind(3, currency).bind(4, pay_raw).bind(5, paid_ms).bind(6, skew_ms);
    q.bind(7, hold_ms);
    return one_order(q);
}

Result<std::vector<Order>> orders_in_window(Database& db, std::int64_t address_id, const std::string& chain_id,
                                            const std::string& currency, std::int64_t paid_ms, std::int64_t skew_ms) {
    auto q = db.prepare(select_orders(
        "WHERE address_id = ?1 AND status IN ('waiting', 'paid', 'expired') AND expires_at >= ?4 "
        "AND created_at <= ?4 + ?5 AND chain_id = ?2 AND currency = ?3 ORDER BY created_at DESC, id"));
    q.bind(1, address_id).bind(2, chain_id).bind(3, currency).bind(4, paid_ms).bind(5, skew_ms);
    return collect_orders(q);
}

Result<std::vector<Order>> due_orders(Database& db, std::int64_t now_ms, std::size_t limit) {
    auto q = db.prepare(select_orders("WHERE status = 'waiting' AND expires_at <= ?1 ORDER BY expires_at, id LIMIT ?2"));
    q.bind(1, now_ms).bind(2, static_cast<std::int64_t>(limit));
    return collect_orders(q);
}

Result<std::optional<std::int64_t>> next_expiry(Database& db) {
    auto q = db.prepare("SELECT min(expires_at) FROM orders WHERE status = 'waiting'");
    auto r = q.step();
    if (!r) return r.error();
    if (!*r || q.is_null(0)) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>(q.int64(0));
}

Result<std::uint64_t> order_event_count(Database& db, const std::string& order_id, const std::string& type) {
    auto q = db.prepare("SELECT count(*) FROM events WHERE order_id = ?1 AND type = ?2");
    q.bind(1, order_id).bind(2, type);
    auto r = q.step();
    if (!r) return r.error();
    return static_cast<std::uint64_t>(q.int64(0));
}

Result<bool> link_deposit(Database& db, const std::string& order_id, const std::string& deposit_id,
                          std::int64_t now_ms, bool late) {
    std::optional<std::string> found;
    {
        auto q = db.prepare("SELECT order_id FROM order_deposits WHERE deposit_id = ?1");
        q.bind(1, deposit_id);
        auto r = q.step();
        if (!r) return r.error();
        if (*r) found = q.text(0);
    }
    Result<std::optional<std::string>> existing = found;
    if (*existing) {
        if (**existing == order_id) return false;
        return make_error(Errc::conflict, "deposit " + deposit_id + " already pays order " + **existing);
    }
    auto q = db.prepare("INSERT INTO order_deposits (order_id, deposit_id, linked_at, late) VALUES (?1, ?2, ?3, ?4)");
    q.bind(1, order_id).bind(2, deposit_id).bind(3, now_ms).bind(4, static_cast<std::int64_t>(late ? 1 : 0));
    if (auto s = q.run(); !s) return s.error();
    return true;
}

Result<std::unordered_set<std::int64_t>> addresses_with_orders(Database& db,
                                                              const std::vector<std::int64_t>& address_ids) {
    static const std::string sql = "SELECT DISTINCT address_id FROM orders WHERE address_id IN " + detail::in_list();
    return detail::id_set_in_chunks(db, sql, address_ids);
}

Result<std::optional<std::string>> order_of_deposit(Database& db, const std::string& deposit_id) {
    auto q = db.prepare("SELECT order_id FROM order_deposits WHERE deposit_id = ?1 AND late = 0");
    q.bind(1, deposit_id);
    auto r = q.step();
    if (!r) return r.error();
    if (!*r) return std::optional<std::string>{};
    return std::optional<std::string>(q.text(0));
}

namespace {

Result<std::vector<Deposit>> linked_deposits(Database& db, const std::string& order_id, bool late) {
    std::vector<std::string> ids;
    {
        auto q = db.prepare(
            "SELECT od.deposit_id FROM order_deposits od JOIN deposits d ON d.id = od.deposit_id "
            "WHERE od.order_id = ?1 AND od.late = ?2 ORDER BY d.detected_at, d.block_number, d.id");
        q.bind(1, order_id).bind(2, static_cast<std::int64_t>(late ? 1 : 0));
        for (;;) {
            auto r = q.step();
            if (!r) return r.error();
            if (!*r) break;
            ids.push_back(q.text(0));
        }
    }
    std::vector<Deposit> out;
    out.reserve(ids.size());
    for (const auto& id : ids) {
        auto d = get_deposit(db, id);
        if (!d) return d.error();
        if (*d) out.push_back(std::move(**d));
    }
    return out;
}

Result<std::uint64_t> count_of(Statement& q) {
    auto r = q.step();
    if (!r) return r.error();
    return static_cast<std::uint64_t>(*r ? q.int64(0) : 0);
}

}  // namespace

Result<std::vector<Deposit>> deposits_of_order(Database& db, const std::string& order_id) {
    return linked_deposits(db, order_id, false);
}

Result<std::vector<Deposit>> late_deposits_of_order(Database& db, const std::string& order_id) {
    return linked_deposits(db, order_id, true);
}

Result<std::uint64_t> open_checkout_orders_of_client(Database& db, const std::string& client) {
    auto q = db.prepare("SELECT count(*) FROM orders WHERE client = ?1 AND status IN ('waiting', 'paid')");
    q.bind(1, client);
    return count_of(q);
}

Result<std::uint64_t> open_checkout_orders_on_protocol(Database& db, const std::string& protocol) {
    auto q = db.prepare(
        "SELECT count(*) FROM orders o JOIN addresses a ON a.id = o.address_id WHERE o.source = 'link' AND "
        "o.status IN ('waiting', 'paid') AND o.mode = 'address' AND a.protocol = ?1");
    q.bind(1, protocol);
    return count_of(q);
}

Result<std::optional<Order>> open_order_of_visitor(Database& db, const std::string& link_id, const std::string& visitor) {
    auto q = db.prepare(select_orders(
        "WHERE link_id = ?1 AND visitor = ?2 AND status IN ('waiting', 'paid') ORDER BY created_at DESC, rowid DESC LIMIT 1"));
    q.bind(1, link_id).bind(2, visitor);
    return one_order(q);
}

Result<std::uint64_t> reserved_orders_of_link(Database& db, const std::string& link_id) {
    auto q = db.prepare("SELECT count(*) FROM orders WHERE link_id = ?1 AND status IN ('waiting', 'paid', 'completed')");
    q.bind(1, link_id);
    return count_of(q);
}

Result<std::optional<FreeAddress>> take_order_address(Database& db, const std::string& protocol,
                                                      const std::string& order_ref, std::int64_t now_ms) {
    auto cand = next_free_address(db, protocol, now_ms);
    if (!cand) return cand.error();
    if (!*cand) return cand;
    {
        auto up = db.prepare(
            "UPDATE addresses SET state = 'bound', cooldown_until = NULL WHERE id = ?1 AND "
            "(state = 'free' OR (state = 'cooling' AND cooldown_until IS NOT NULL AND cooldown_until <= ?2))");
        up.bind(1, (*cand)->id).bind(2, now_ms);
        if (auto s = up.run(); !s) return s.error();
        if (db.changes() != 1) return make_error(Errc::conflict, "order address was taken concurrently");
    }
    auto ins = db.prepare("INSERT INTO bindings (reference, protocol, address_id, metadata, bound_at) VALUES (?1, ?2, ?3, NULL, ?4)");
    ins.bind(1, order_ref).bind(2, protocol).bind(3, (*cand)->id).bind(4, now_ms);
    if (auto s = ins.run(); !s) return s.error();
    return cand;
}

Status release_order_address(Database& db, const std::string& order_ref, std::optional<std::int64_t> cooldown_ms,
                             std::int64_t now_ms) {
    std::vector<std::pair<std::int64_t, std::int64_t>> rows;  // binding id, address id
    {
        auto q = db.prepare("SELECT id, address_id FROM bindings WHERE reference = ?1 AND unbound_at IS NULL");
        q.bind(1, order_ref);
        for (;;) {
            auto r = q.step();
            if (!r) return r.error();
            if (!*r) break;
            rows.emplace_back(q.int64(0), q.int64(1));
        }
    }
    std::optional<std::int64_t> until;
    if (cooldown_ms) until = now_ms + *cooldown_ms;
    for (const auto& [binding, address] : rows) {
        auto up = db.prepare("UPDATE bindings SET unbound_at = ?1 WHERE id = ?2");
        up.bind(1, now_ms).bind(2, binding);
        if (auto s = up.run(); !s) return s;
        auto cool = db.prepare("UPDATE addresses SET state = 'cooling', cooldown_until = ?1 WHERE id = ?2 AND state = 'bound'");
        cool.bind(1, until).bind(2, address);
        if (auto s = cool.run(); !s) return s;
    }
    return {};
}

Result<std::int64_t> ensure_receive_address(Database& db, const std::string& protocol, const std::string& address,
                                            const std::vector<std::uint8_t>& watch_key, std::int64_t now_ms) {
    std::optional<std::int64_t> id;
    std::string state;
    {
        auto q = db.prepare("SELECT id, state FROM addresses WHERE protocol = ?1 AND (address = ?2 OR watch_key = ?3)");
        q.bind(1, protocol).bind(2, address).bind_blob(3, watch_key);
        auto r = q.step();
        if (!r) return r.error();
        if (*r) {
            id = q.int64(0);
            state = q.text(1);
        }
    }
    if (!id) {
        if (auto s = lock_address_inserts(db); !s) return s.error();
        auto ins = db.prepare(
            "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) "
            "VALUES (?1, ?2, ?3, 'orders.receive', 'receive', ?4) RETURNING id");
        ins.bind(1, protocol).bind(2, address).bind_blob(3, watch_key).bind(4, now_ms);
        auto r = ins.step();
        if (!r) return r.error();
        if (!*r) return make_error(Errc::internal, "INSERT ... RETURNING gave no row");
        return ins.int64(0);
    }
    if (state == "receive") return *id;
    {
        auto q = db.prepare("SELECT reference FROM bindings WHERE address_id = ?1 AND unbound_at IS NULL");
        q.bind(1, *id);
        auto r = q.step();
        if (!r) return r.error();
        if (*r)
            return make_error(Errc::conflict, "address " + address + " is bound to depositReference " + q.text(0) +
                                                  "; a shared receive address must not be handed out");
    }
    auto up = db.prepare("UPDATE addresses SET state = 'receive', cooldown_until = NULL WHERE id = ?1");
    up.bind(1, *id);
    if (auto s = up.run(); !s) return s.error();
    return *id;
}

Result<std::optional<std::int64_t>> receive_address_id(Database& db, const std::string& protocol,
                                                       const std::string& address) {
    auto q = db.prepare("SELECT id FROM addresses WHERE protocol = ?1 AND address = ?2 AND state = 'receive'");
    q.bind(1, protocol).bind(2, address);
    auto r = q.step();
    if (!r) return r.error();
    if (!*r) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>(q.int64(0));
}

Status insert_link(Database& db, const PaymentLink& l) {
    auto q = db.prepare(
        "INSERT INTO payment_links (id, slug, title, description, amount, fiat, currencies, inventory_total, "
        "expires_at, metadata, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
        "?12, ?13)");
    q.bind(1, l.id).bind(2, l.slug).bind(3, l.title).bind(4, l.description).bind(5, l.amount).bind(6, l.fiat);
    q.bind(7, l.currencies).bind(8, l.inventory_total).bind(9, l.expires_at).bind(10, l.metadata).bind(11, l.status);
    q.bind(12, l.created_at).bind(13, l.updated_at);
    return q.run();
}

Result<std::optional<PaymentLink>> get_link(Database& db, const std::string& id) {
    auto q = db.prepare(std::string("SELECT ") + kLinkColumns + " FROM payment_links WHERE id = ?1");
    q.bind(1, id);
    return one_link(q);
}

Result<std::optional<PaymentLink>> get_link_by_slug(Database& db, const std::string& slug) {
    auto q = db.prepare(std::string("SELECT ") + kLinkColumns + " FROM payment_links WHERE slug = ?1");
    q.bind(1, slug);
    return one_link(q);
}

Result<LinkPage> list_links(Database& db, const std::optional<std::string>& status, std::uint32_t page,
                            std::uint32_t limit) {
    LinkPage out;
    {
        auto c = db.prepare("SELECT count(*) FROM payment_links WHERE (?1 IS NULL OR status = ?1)");
        c.bind(1, status);
        auto r = c.step();
        if (!r) return r.error();
        out.total = static_cast<std::uint64_t>(c.int64(0));
    }
    const std::uint32_t lim = clamp_limit(limit);
    const std::uint32_t pg = std::max<std::uint32_t>(page, 1);
    auto q = db.prepare(std::string("SELECT ") + kLinkColumns +
                        " FROM payment_links WHERE (?1 IS NULL OR status = ?1) ORDER BY created_at DESC, id "
                        "LIMIT ?2 OFFSET ?3");
    q.bind(1, status).bind(2, static_cast<std::int64_t>(lim)).bind(3, static_cast<std::int64_t>(pg - 1) * lim);
    for (;;) {
        auto r = q.step();
        if (!r) return r.error();
        if (!*r) break;
        out.links.push_back(read_link(q));
    }
    return out;
}

Status set_link_status(Database& db, const std::string& id, const std::string& status, std::int64_t now_ms) {
    auto q = db.prepare("UPDATE payment_links SET status = ?2, updated_at = ?3 WHERE id = ?1");
    q.bind(1, id).bind(2, status).bind(3, now_ms);
    if (auto s = q.run(); !s) return s;
    if (db.changes() != 1) return make_error(Errc::not_found, "no payment link " + id);
    return {};
}

Result<std::uint64_t> completed_orders_of_link(Database& db, const std::string& link_id) {
    auto q = db.prepare("SELECT count(*) FROM orders WHERE link_id = ?1 AND status = 'completed'");
    q.bind(1, link_id);
    auto r = q.step();
    if (!r) return r.error();
    return static_cast<std::uint64_t>(q.int64(0));
}

}  // namespace depositd::store
