// GET /api/v1/audit (issue 21 item 4): the audit log of manual actions,
// newest first, keyset pages.
#include "api/handler.hpp"
#include "api/route_util.hpp"
#include "store/audit.hpp"

namespace depositd::api {
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

// TODO(issue 21): the re-check of issue 21 item 1 (POST /api/v1/deposits/recheck,
// the adapters' single-transaction fetch and the scanner's commit path) lands
// on another branch. At merge, replace this body with a call to it and write
// the audit entry ("deposit.recheck", target = the tx hash) in its
// transaction. Until then: 501, nothing is looked up, nothing changes.
Response Handler::recheck_transaction(const RecheckRequest& r, const orders::Actor& who) {
    (void)who;
    if (!config_.chain(r.chain_id)) return validation("chainId must be a configured chain");
    if (r.tx_hash.empty() || r.tx_hash.size() > 128) return validation("txHash must be a transaction hash");
    return error(501, "NotImplemented",
                 "Re-checking a transaction is not available in this build yet (it comes with issue 21); nothing was "
                 "checked or recorded. Use the chain's explorer to confirm the transaction meanwhile.");
}

}  // namespace depositd::api
