#include "store/deposits.hpp"

#include <algorithm>

#include "core/amount.hpp"
#include "core/clock.hpp"
#include "store/in_list.hpp"

namespace depositd::store {
namespace {

constexpr const char* kColumns =
    "id, chain_id, tx_hash, idx, block_hash, block_number, address_id, address, reference, currency, contract, "
    "raw_amount, decimals, from_address, confirmations, required_confirmations, status, detected_at, confirmed_at, "
    "reverted_at, changes, finality, block_time";
constexpr int kColumnCount = 23;  // of kColumns: a column selected after them has this index

Deposit read_row(const Statement& s) {
    Deposit d;
    d.id = s.text(0);
    d.chain_id = s.text(1);
    d.tx_hash = s.text(2);
    d.index = static_cast<std::uint64_t>(s.int64(3));
    d.block_hash = s.text(4);
    d.block_number = static_cast<std::uint64_t>(s.int64(5));
    d.address_id = s.is_null(6) ? 0 : s.int64(6);
    d.address = s.text(7);
    d.reference = s.opt_text(8);
    d.currency = s.text(9);
    d.contract = s.opt_text(10);
    d.raw_amount = s.text(11);
    d.decimals = static_cast<unsigned>(s.int64(12));
    d.from = s.text(13);
    d.confirmations = static_cast<std::uint64_t>(s.int64(14));
    d.required_confirmations = static_cast<std::uint64_t>(s.int64(15));
    d.status = s.text(16);
    d.detected_at = s.int64(17);
    d.confirmed_at = s.opt_int64(18);
    d.reverted_at = s.opt_int64(19);
    d.changes = static_cast<std::uint64_t>(s.int64(20));
    d.finality = s.opt_text(21);
    d.block_time = s.opt_int64(22);
    return d;
}

Result<std::vector<Deposit>> collect(Statement& s) {
    std::vector<Deposit> out;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) break;
        out.push_back(read_row(s));
    }
    return out;
}

std::string select(const std::string& where_and_order) {
    return std::string("SELECT ") + kColumns + " FROM deposits " + where_and_order;
}

json::value opt_ms(const std::optional<std::int64_t>& ms) {
    if (!ms) return nullptr;
    return json::value(format_rfc3339_ms(*ms));
}

}  // namespace

json::object deposit_to_json(const Deposit& d) {
    json::object o;
    o["id"] = d.id;
    o["depositReference"] = d.reference ? json::value(*d.reference) : json::value(nullptr);
    o["address"] = d.address;
    o["chainId"] = d.chain_id;
    o["currency"] = d.currency;
    o["contract"] = d.contract ? json::value(*d.contract) : json::value(nullptr);
    auto amount = Amount::from_raw_decimal(d.raw_amount, d.decimals);
    o["amount"] = amount ? amount->to_string() : d.raw_amount;
    o["rawAmount"] = d.raw_amount;
    o["decimals"] = d.decimals;
    o["txHash"] = d.tx_hash;
    o["index"] = d.index;
    o["from"] = d.from.empty() ? json::value(nullptr) : json::value(d.from);
    o["blockNumber"] = d.block_number;
    o["blockHash"] = d.block_hash;
    o["confirmations"] = d.confirmations;
    // At finality the chain says when it is final: no count to compare with
    // (a merchant comparing confirmations >= requiredConfirmations would
    // otherwise credit before finality).
    const bool final_mode = d.finality.has_value();
    o["requiredConfirmations"] = final_mode ? json::value(nullptr) : json::value(d.required_confirmations);
    o["finality"] = final_mode ? *d.finality : std::string("confirmations");
    o["status"] = d.status;
    o["detectedAt"] = format_rfc3339_ms(d.detected_at);
    o["confirmedAt"] = opt_ms(d.confirmed_at);
    if (d.reverted_at) o["revertedAt"] = format_rfc3339_ms(*d.reverted_at);
    if (d.block_time) o["blockTime"] = format_rfc3339_ms(*d.block_time);
    return o;
}

std::string event_payload(const std::string& event_id, const std::string& type, std::int64_t created_ms,
                          const Deposit& d) {
    json::object o;
    o["id"] = event_id;
    o["type"] = type;
    o["createdAt"] = format_rfc3339_ms(created_ms);
    o["data"] = deposit_to_json(d);
    return json::serialize(o);
}

namespace {
constexpr std::string_view kInsertDeposit =
    "INSERT INTO deposits (id, chain_id, tx_hash, idx, block_hash, block_number, address_id, address, "
    "reference, currency, contract, raw_amount, decimals, from_address, confirmations, required_confirmations, "
    "status, detected_at, confirmed_at, reverted_at, changes, finality, block_time) VALUES ";
constexpr int kDepositColumns = 23;

// The deposit's columns as parameters at+1 .. at+23.
void bind_deposit(Statement& s, int at, const Deposit& d) {
    s.bind(at + 1, d.id).bind(at + 2, d.chain_id).bind(at + 3, d.tx_hash).bind(at + 4, d.index).bind(at + 5, d.block_hash);
    s.bind(at + 6, d.block_number);
    if (d.address_id) s.bind(at + 7, d.address_id); else s.bind_null(at + 7);
    s.bind(at + 8, d.address).bind(at + 9, d.reference).bind(at + 10, d.currency).bind(at + 11, d.contract);
    s.bind(at + 12, d.raw_amount).bind(at + 13, static_cast<std::int64_t>(d.decimals)).bind(at + 14, d.from);
    s.bind(at + 15, d.confirmations).bind(at + 16, d.required_confirmations).bind(at + 17, d.status);
    s.bind(at + 18, d.detected_at).bind(at + 19, d.confirmed_at).bind(at + 20, d.reverted_at).bind(at + 21, d.changes);
    s.bind(at + 22, d.finality).bind(at + 23, d.block_time);
}

const detail::RowStatements& insert_deposits() {
    static const detail::RowStatements statements(kInsertDeposit, kDepositColumns, " ON CONFLICT DO NOTHING", 32);
    return statements;
}

Statement prepare_insert(Database& db, const Deposit& d) {
    auto s = db.prepare(insert_deposits().text(1));
    bind_deposit(s, 0, d);
    return s;
}
}  // namespace

Result<bool> insert_deposit(Database& db, const Deposit& d) {
    auto s = prepare_insert(db, d);
    if (auto r = s.run(); !r) return r.error();
    return db.changes() > 0;
}

Status add_deposit(Database& db, const Deposit& d) {
    return prepare_insert(db, d).run_pipelined(1, Errc::conflict, "deposit " + d.id + " is stored already");
}

Status add_deposits(Database& db, std::span<const Deposit> deposits) {
    return detail::write_rows(db, insert_deposits(), deposits, bind_deposit, [](Statement& s, std::span<const Deposit> rows) {
        return s.run_pipelined(static_cast<std::int64_t>(rows.size()), Errc::conflict,
                               "a deposit of " + rows.front().id + " .. " + rows.back().id + " is stored already");
    });
}

Status update_deposit_state(Database& db, const Deposit& d) {
    auto s = db.prepare(
        "UPDATE deposits SET status = ?2, confirmations = ?3, confirmed_at = ?4, reverted_at = ?5, changes = ?6 "
        "WHERE id = ?1");
    s.bind(1, d.id).bind(2, d.status).bind(3, d.confirmations).bind(4, d.confirmed_at).bind(5, d.reverted_at);
    s.bind(6, d.changes);
    return s.run_pipelined(1, Errc::not_found, "no deposit " + d.id);
}

Result<std::optional<Deposit>> get_deposit(Database& db, const std::string& id) {
    auto s = db.prepare(select("WHERE id = ?1"));
    s.bind(1, id);
    auto r = s.step();
    if (!r) return r.error();
    if (!*r) return std::optional<Deposit>{};
    return std::optional<Deposit>(read_row(s));
}

Result<std::vector<Deposit>> deposits_by_id(Database& db, const std::vector<std::string>& ids) {
    std::vector<Deposit> out;
    static const std::string sql = select("WHERE id IN " + detail::in_list());
    if (auto s = detail::query_in_chunks(db, sql, ids, [&](const Statement& row) { out.push_back(read_row(row)); }); !s)
        return s.error();
    return out;
}

Result<std::vector<Deposit>> pending_deposits(Database& db, const std::string& chain_id) {
    auto s = db.prepare(select("WHERE chain_id = ?1 AND status = 'pending' ORDER BY block_number, tx_hash, idx"));
    s.bind(1, chain_id);
    return collect(s);
}

Result<std::vector<Deposit>> deposits_above(Database& db, const std::string& chain_id, std::uint64_t height) {
    auto s = db.prepare(
        select("WHERE chain_id = ?1 AND block_number > ?2 AND status != 'reverted' ORDER BY block_number, tx_hash, idx"));
    s.bind(1, chain_id).bind(2, height);
    return collect(s);
}

Result<std::optional<std::string>> reference_at(Database& db, std::int64_t address_id, std::int64_t at_ms,
                                                std::int64_t skew_ms) {
    // One query (a round trip on PostgreSQL, per deposit found): the holder
    // at block time (the latest binding begun by then and not ended) first;
    // else, when nobody held it, the first binding begun within the skew
    // after it (the block's clock ran behind the payer's).
    auto s = db.prepare(
        "SELECT reference FROM ("
        "SELECT reference, 0 AS k, -bound_at AS t, -id AS n FROM bindings WHERE address_id = ?1 AND bound_at <= ?2 "
        "AND (unbound_at IS NULL OR unbound_at > ?2) "
        "UNION ALL "
        "SELECT reference, 1 AS k, bound_at AS t, id AS n FROM bindings WHERE address_id = ?1 AND bound_at > ?2 "
        "AND bound_at <= ?3"
        ") AS holders ORDER BY k, t, n LIMIT 1");
    s.bind(1, address_id).bind(2, at_ms).bind(3, at_ms + std::max<std::int64_t>(skew_ms, 0));
    auto r = s.step();
    if (!r) return r.error();
    if (!*r) return std::optional<std::string>{};
    return std::optional<std::string>(s.text(0));
}

Result<std::optional<std::string>> last_holder_before(Database& db, std::int64_t address_id, std::int64_t at_ms) {
    auto s = db.prepare(
        "SELECT reference FROM bindings WHERE address_id = ?1 AND bound_at <= ?2 ORDER BY bound_at DESC, id DESC LIMIT 1");
    s.bind(1, address_id).bind(2, at_ms);
    auto r = s.step();
    if (!r) return r.error();
    if (!*r) return std::optional<std::string>{};
    return std::optional<std::string>(s.text(0));
}

namespace {

// The index that serves a combination of the chain/currency/status filters
// in list order (schema/003_deposit_indexes.sql).
const char* list_index(bool chain, bool currency, bool status) {
    static const char* const kIndex[8] = {
        "deposits_time",                        // -
        "deposits_status_time",                 // status
        "deposits_currency_time",               // currency
        "deposits_currency_status_time",        // currency status
        "deposits_chain_time",                  // chain
        "deposits_chain_status_time",           // chain status
        "deposits_chain_currency_time",         // chain currency
        "deposits_chain_currency_status_time",  // chain currency status
    };
    return kIndex[(chain ? 4 : 0) | (currency ? 2 : 0) | (status ? 1 : 0)];
}

}  // namespace

Result<DepositPage> list_deposits(Database& db, const DepositFilter& f) {
    // The statement is fixed per combination of filters: "col = ?N" for each
    // filter given (always the same N per column), on the index chosen here,
    // never "(?N IS NULL OR col = ?N)", which no index can serve.
    std::string filters;
    if (f.reference) filters += " AND reference = ?1";
    if (f.status) filters += " AND status = ?2";
    if (f.chain_id) filters += " AND chain_id = ?3";
    if (f.currency) filters += " AND currency = ?4";
    if (f.address_id) filters += " AND address_id = ?5";
    const char* index = f.reference    ? "deposits_by_reference"
                        : f.address_id ? "deposits_by_address"
                                       : list_index(f.chain_id.has_value(), f.currency.has_value(), f.status.has_value());
    // SQLite's planner is told the index; PostgreSQL's has the same indexes
    // (schema/pg/003) and statistics of its own, and no hints.
    const std::string hint = db.backend() == Backend::sqlite ? std::string(" INDEXED BY ") + index : std::string();
    auto bind_filters = [&](Statement& s) {
        if (f.reference) s.bind(1, *f.reference);
        if (f.status) s.bind(2, *f.status);
        if (f.chain_id) s.bind(3, *f.chain_id);
        if (f.currency) s.bind(4, *f.currency);
        if (f.address_id) s.bind(5, *f.address_id);
    };

    DepositPage page;
    {
        // Without a reference or address, the count is a sum over the few
        // rows of deposit_counts; with one, a range of that index.
        std::string sql;
        if (f.reference || f.address_id) {
            sql = std::string("SELECT count(*) FROM deposits") + hint + " WHERE TRUE" + filters;
        } else {
            sql = "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM deposit_counts WHERE TRUE";
            if (f.status) sql += " AND status = ?2";
            if (f.chain_id) sql += " AND chain_id = ?3";
            if (f.currency) sql += " AND currency = ?4";
        }
        auto c = db.prepare(sql);
        bind_filters(c);
        auto r = c.step();
        if (!r) return r.error();
        page.total = static_cast<std::uint64_t>(std::max<std::int64_t>(0, c.int64(0)));
    }

    const std::uint32_t limit = f.limit == 0 ? 20 : std::min<std::uint32_t>(f.limit, 100);
    std::string sql =
        std::string("SELECT ") + kColumns + ", rowid FROM deposits" + hint + " WHERE TRUE" + filters;
    // After (t, seq) in "detected_at DESC, rowid DESC": older, or as old and
    // inserted before. The first term bounds the index range, the second only
    // trims the ties.
    if (f.after) sql += " AND detected_at <= ?6 AND (detected_at < ?6 OR rowid < ?7)";
    sql += " ORDER BY detected_at DESC, rowid DESC LIMIT ?8";
    if (!f.after) sql += " OFFSET ?9";
    auto s = db.prepare(sql);
    bind_filters(s);
    if (f.after) s.bind(6, f.after->detected_at).bind(7, f.after->seq);
    s.bind(8, static_cast<std::int64_t>(limit) + 1);  // one more: is there a next page?
    if (!f.after) s.bind(9, static_cast<std::int64_t>((f.page == 0 ? 1 : f.page) - 1) * limit);
    std::int64_t last_seq = 0;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) break;
        if (page.deposits.size() == limit) {  // the one more
            page.next = DepositKey{page.deposits.back().detected_at, last_seq};
            break;
        }
        page.deposits.push_back(read_row(s));
        last_seq = s.int64(kColumnCount);  // the rowid after kColumns
    }
    return page;
}

Result<std::vector<DepositTotal>> deposit_totals(Database& db, const std::string& reference,
                                                 const std::string& protocol) {
    // Sums are exact: raw amounts are summed as 256-bit integers here, never in SQL.
    auto s = db.prepare(
        "SELECT d.chain_id, d.currency, d.raw_amount, d.decimals FROM deposits d "
        "JOIN addresses a ON a.id = d.address_id "
        "WHERE d.reference = ?1 AND a.protocol = ?2 AND d.status != 'reverted' ORDER BY d.chain_id, d.currency");
    s.bind(1, reference).bind(2, protocol);
    std::vector<DepositTotal> out;
    std::vector<U256> sums;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) break;
        std::string chain = s.text(0), currency = s.text(1);
        auto raw = u256_from_decimal(s.text(2));
        if (!raw) return make_error(Errc::io, "corrupt amount in deposits table");
        if (out.empty() || out.back().chain_id != chain || out.back().currency != currency) {
            out.push_back(DepositTotal{chain, currency, "0", static_cast<unsigned>(s.int64(3)), 0});
            sums.push_back(0);
        }
        try {
            sums.back() += *raw;
        } catch (const std::overflow_error&) {
            return make_error(Errc::internal, "deposit total exceeds 2^256");
        }
        out.back().count++;
    }
    for (size_t i = 0; i < out.size(); ++i) out[i].raw_amount = u256_to_decimal(sums[i]);
    return out;
}

}  // namespace depositd::store
