// Deposits, the re-check of a transaction (SPEC §10), and events: list, get, resend.
#include "api/handler.hpp"

#include "api/route_util.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <set>

#include "api/cursor.hpp"
#include "core/amount.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "store/audit.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/pool.hpp"

namespace depositd::api {

using namespace util;

namespace {

auto logger() {
    static auto l = log::get("api");
    return l;
}

}  // namespace

// --- Deposits and events ---------------------------------------------------------

Response Handler::with_db(store_access access, const std::function<Response(store::Database&)>& fn) {
    auto run = [&fn](store::Database& db) -> Result<Response> { return fn(db); };
    auto r = access == store_access::write ? store_.write(run) : store_.read(run);
    if (!r) return internal(r.error(), "database");
    return std::move(*r);
}

Response Handler::list_deposits(const Query& query) {
    store::DepositFilter f;
    std::uint32_t page_no = 1, limit = 20;
    if (auto e = parse_paging(query, page_no, limit)) return validation(*e);
    f.page = page_no;
    f.limit = limit;
    const std::string* cursor = first_param(query, "cursor");
    if (cursor && first_param(query, "page")) return validation("give either page or cursor, not both");
    if (auto* v = first_param(query, "depositReference")) {
        if (!valid_reference(*v)) return validation(kReferenceMessage);
        f.reference = *v;
    }
    if (auto* v = first_param(query, "status")) {
        if (*v != "pending" && *v != "confirmed" && *v != "reverted")
            return validation("status must be one of pending, confirmed, reverted");
        f.status = *v;
    }
    if (auto* v = first_param(query, "chainId")) {
        if (v->empty() || v->size() > 64) return validation("chainId must be 1-64 characters");
        f.chain_id = *v;
    }
    if (auto* v = first_param(query, "currency")) {
        if (v->empty() || v->size() > 32) return validation("currency must be 1-32 characters");
        f.currency = *v;
    }
    // Keyset pagination (api/cursor.hpp): `cursor` is pagination.nextCursor
    // of the previous page, made for the same filters.
    const std::uint32_t fingerprint = filters_fingerprint(f);
    if (cursor) {
        auto c = decode_cursor(*cursor);
        if (!c) return validation("cursor is not valid; pass pagination.nextCursor of a previous answer unchanged");
        if (c->filters != fingerprint)
            return validation("cursor was made for other filters; start again without cursor");
        f.after = c->after;
        page_no = c->page;
    }
    auto page = store_.read([&](store::Database& db) { return store::list_deposits(db, f); });
    if (!page) return internal(page.error(), "list deposits");
    json::array deposits;
    for (const auto& d : page->deposits) deposits.push_back(store::deposit_to_json(d));
    json::object d;
    d["deposits"] = std::move(deposits);
    json::object p = pagination(page_no, limit, page->total);
    p["nextCursor"] = page->next && page_no < kMaxPage
                          ? json::value(encode_cursor(ListCursor{page_no + 1, *page->next, fingerprint}))
                          : json::value(nullptr);
    d["pagination"] = std::move(p);
    return ok(200, std::move(d), "OK");
}

Response Handler::get_deposit(const std::string& id) {
    if (id.size() > 128) return not_found("Deposit not found");
    auto d = store_.read([&](store::Database& db) { return store::get_deposit(db, id); });
    if (!d) return internal(d.error(), "get deposit");
    if (!*d) return not_found("Deposit " + id + " not found");
    return ok(200, store::deposit_to_json(**d), "OK");
}

// --- Re-check of a transaction (SPEC §10) -----------------------------------------

Response Handler::recheck_route(const Request& req, const orders::Actor& who) {
    auto body = body_object(req, config_.api.max_body_bytes);
    if (!body) return validation(body.error().message);
    const json::value* chain_v = field(*body, "chainId");
    const json::value* tx_v = field(*body, "txHash");
    if (!chain_v || !tx_v) return validation("Required fields: chainId, txHash");
    if (!chain_v->is_string()) return validation("chainId must be a string");
    if (!tx_v->is_string()) return validation("txHash must be a string");
    std::optional<std::string> block_hash;
    if (const json::value* b = field(*body, "blockHash")) {
        if (!b->is_string() || b->get_string().empty() || b->get_string().size() > 128)
            return validation("blockHash must be a block hash string");
        block_hash = std::string(b->get_string());
    }
    return recheck_transaction(RecheckRequest{std::string(chain_v->get_string()), std::string(tx_v->get_string()), block_hash},
                               who);
}

Response Handler::recheck(const std::string& chain_id, const std::string& tx_hash,
                          const std::optional<std::string>& block_hash) {
    bool known = false;
    for (const auto& c : config_.chains) known = known || c.id == chain_id;
    if (!known) {
        std::string ids;
        for (const auto& c : config_.chains) ids += (ids.empty() ? "" : ", ") + c.id;
        return validation("chainId must be one of the configured chains (" + ids + ")");
    }
    if (tx_hash.empty() || tx_hash.size() > 128) return validation("txHash must be a transaction hash");
    if (!rechecker_) return error(503, "ServiceUnavailable", "re-check is not available in this process");
    auto r = rechecker_(chain_id, tx_hash, block_hash);
    if (!r) {
        const Error& e = r.error();
        switch (e.code) {
            case Errc::invalid_input: return validation(e.message);
            case Errc::not_found: return not_found(e.message);
            case Errc::conflict: return error(409, "Conflict", e.message);
            default: {
                logger()->warn("re-check of {} on {}: {}", tx_hash.substr(0, 100), chain_id, e.describe());
                auto resp = error(503, "ServiceUnavailable", "the chain's nodes cannot answer now: " + e.message);
                resp.headers.emplace_back("Retry-After", "5");
                return resp;
            }
        }
    }
    json::array deposits;
    for (const auto& d : r->deposits) deposits.push_back(store::deposit_to_json(d));
    json::object d;
    d["deposits"] = std::move(deposits);
    d["recorded"] = r->recorded;
    return ok(200, std::move(d),
              r->recorded > 0 ? "Recorded " + std::to_string(r->recorded) + " deposit(s)"
                              : (r->deposits.empty() ? "No transfer to a watched address in this transaction"
                                                     : "Already recorded"));
}

Response Handler::list_events(const Query& query) {
    store::EventFilter f;
    std::uint32_t page_no = 1, limit = 20;
    if (auto e = parse_paging(query, page_no, limit)) return validation(*e);
    f.page = page_no;
    f.limit = limit;
    if (auto* v = first_param(query, "status")) {
        if (*v != "pending" && *v != "delivered" && *v != "failed")
            return validation("status must be one of pending, delivered, failed");
        f.status = *v;
    }
    if (auto* v = first_param(query, "type")) {
        static const std::set<std::string> types = {"deposit.pending", "deposit.confirmed", "deposit.reverted",
                                                    "order.paid",      "order.completed",   "order.expired",
                                                    "order.late_payment", "epay.notify",    "epusdt.callback",
                                                    "notify.telegram"};
        if (!types.count(*v))
            return validation(
                "type must be one of deposit.pending, deposit.confirmed, deposit.reverted, order.paid, "
                "order.completed, order.expired, order.late_payment, epay.notify, epusdt.callback, "
                "notify.telegram");
        f.type = *v;
    }
    auto page = store_.read([&](store::Database& db) { return store::list_events(db, f); });
    if (!page) return internal(page.error(), "list events");
    json::array events;
    for (const auto& e : page->events) events.push_back(store::event_to_json(e));
    json::object d;
    d["events"] = std::move(events);
    d["pagination"] = pagination(page_no, limit, page->total);
    return ok(200, std::move(d), "OK");
}

Response Handler::get_event(const std::string& id) {
    if (id.size() > 128) return not_found("Event not found");
    auto e = store_.read([&](store::Database& db) { return store::get_event(db, id); });
    if (!e) return internal(e.error(), "get event");
    if (!*e) return not_found("Event " + id + " not found");
    return ok(200, store::event_to_json(**e), "OK");
}

Response Handler::resend_event(const std::string& id, const orders::Actor& who) {
    if (id.size() > 128) return not_found("Event not found");
    const auto now = clock_.now_ms();
    // The resend and its audit entry: one transaction.
    auto e = store_.write([&](store::Database& db) -> Result<std::optional<store::EventRow>> {
        store::Transaction tx(db);
        if (!tx.begun()) return tx.begun().error();
        auto before = store::get_event(db, id);
        if (!before) return before.error();
        if (!*before) return std::optional<store::EventRow>{};
        auto r = store::resend_event(db, id, now);
        if (!r) return r.error();
        json::object detail;
        detail["type"] = (*before)->type;
        detail["kind"] = (*before)->kind;
        detail["from"] = (*before)->status;
        detail["attempts"] = (*before)->attempts;
        store::AuditEntry a;
        a.at = now;
        a.actor_kind = who.kind;
        a.actor = who.name;
        a.action = "event.resend";
        a.target = id;
        a.detail = json::serialize(detail);
        a.client = who.client;
        if (auto s = store::insert_audit(db, a); !s) return s.error();
        if (auto s = tx.commit(); !s) return s.error();
        return store::get_event(db, id);
    });
    if (!e) return internal(e.error(), "resend event");
    if (!*e) return not_found("Event " + id + " not found");
    logger()->info("event {} queued for delivery again by {} {}", id, who.kind, who.name);
    if (on_events_queued_) on_events_queued_();
    return ok(200, store::event_to_json(**e), "Event queued for delivery");
}

}  // namespace depositd::api
