// GET /api/v1/audit (issue 21 item 4): the audit log of manual actions,
// newest first, keyset pages.
#include "api/handler.hpp"
#include "api/route_util.hpp"
#include "core/log.hpp"
#include "store/audit.hpp"

namespace depositd::api {
namespace {

auto logger() {
    static auto l = log::get("api");
    return l;
}

}  // namespace

namespace {

using namespace util;

bool parse_seq(const std::string& s, std::int64_t& out) {
    if (s.empty() || s.size() > 18) return false;
    std::int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    if (v < 1) return false;
    out = v;
    return true;
}

}  // namespace

Response Handler::list_audit(const Query& query) {
    store::AuditFilter f;
    f.limit = 50;
    if (auto* v = param(query, "limit")) {
        std::int64_t n = 0;
        if (!parse_seq(*v, n) || n > 100) return validation("limit must be an integer between 1 and 100");
        f.limit = static_cast<std::uint32_t>(n);
    }
    if (auto* v = param(query, "cursor")) {
        std::int64_t n = 0;
        if (!parse_seq(*v, n))
            return validation("cursor is not valid; pass pagination.nextCursor of a previous answer unchanged");
        f.before = n;
    }
    if (auto* v = param(query, "action")) {
        static const char* actions[] = {"order.mark_paid", "event.resend",   "link.publish",  "link.archive",
                                        "deposit.recheck", "console.login", "console.logout"};
        bool known = false;
        for (const char* a : actions) known = known || *v == a;
        if (!known)
            return validation("action must be one of order.mark_paid, event.resend, link.publish, link.archive, "
                              "deposit.recheck, console.login, console.logout");
        f.action = *v;
    }
    if (auto* v = param(query, "target")) {
        if (v->empty() || v->size() > 128) return validation("target must be 1-128 characters");
        f.target = *v;
    }
    if (auto* v = param(query, "actor")) {
        if (v->empty() || v->size() > 64) return validation("actor must be 1-64 characters");
        f.actor = *v;
    }
    return with_db(store_access::read, [&](store::Database& db) -> Response {
        auto page = store::list_audit(db, f);
        if (!page) return internal(page.error(), "audit log");
        json::array entries;
        for (const auto& e : page->entries) entries.push_back(store::audit_to_json(e));
        json::object d;
        d["entries"] = std::move(entries);
        json::object p;
        p["limit"] = f.limit;
        p["nextCursor"] = page->next ? json::value(std::to_string(*page->next)) : json::value(nullptr);
        d["pagination"] = std::move(p);
        return ok(200, std::move(d), "OK");
    });
}

// A re-check (POST /api/v1/deposits/recheck or the console's form) goes
// through Handler::recheck, which records what it finds through the
// scanner's own writer. One that found the transaction is then written to
// the audit log with how many deposits it recorded: a separate transaction
// after the scanner's commit (the deposits it records stand by themselves
// and are idempotent; the entry says who asked and what came of it).
Response Handler::recheck_transaction(const RecheckRequest& r, const orders::Actor& who) {
    Response resp = recheck(r.chain_id, r.tx_hash, r.block_hash);
    if (resp.status != 200) return resp;
    json::object detail;
    detail["chainId"] = r.chain_id;
    if (r.block_hash) detail["blockHash"] = *r.block_hash;
    std::int64_t recorded = 0, found = 0;
    if (auto body = json::parse_bounded(resp.body); body && body->is_object()) {
        if (const auto* d = body->as_object().if_contains("data"); d && d->is_object()) {
            if (const auto* n = d->as_object().if_contains("recorded"); n && n->is_number()) {
                boost::system::error_code ec;
                const auto v = n->to_number<std::int64_t>(ec);
                if (!ec) recorded = v;
            }
            if (const auto* a = d->as_object().if_contains("deposits"); a && a->is_array())
                found = static_cast<std::int64_t>(a->as_array().size());
        }
    }
    detail["deposits"] = found;
    detail["recorded"] = recorded;
    store::AuditEntry a;
    a.at = clock_.now_ms();
    a.actor_kind = who.kind;
    a.actor = who.name;
    a.action = "deposit.recheck";
    a.target = r.tx_hash;
    a.detail = json::serialize(detail);
    a.client = who.client;
    auto s = store_.write([&](store::Database& db) -> Status {
        auto id = store::insert_audit(db, a);
        if (!id) return id.error();
        return {};
    });
    if (!s) logger()->error("re-check of {} on {}: cannot write the audit entry: {}", r.tx_hash.substr(0, 100),
                            r.chain_id, s.error().describe());
    return resp;
}

}  // namespace depositd::api
