#pragma once
// The audit log (schema/008): who did what by hand, when and why. Rows are
// written by the action itself, inside its transaction (an action that is
// not logged did not happen), and never changed afterwards.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store {

struct AuditEntry {
    std::int64_t seq = 0;                 // set when read
    std::int64_t at = 0;                  // unix ms
    std::string actor_kind;               // "api" | "console"
    std::string actor;                    // API key label | console user name
    std::string action;                   // order.mark_paid, event.resend, link.publish, ...
    std::optional<std::string> target;    // ord_..., evt_..., plink_..., tx hash
    std::optional<std::string> reason;
    std::optional<std::string> detail;    // JSON text
    std::optional<std::string> client;    // client address of the request
};

// Appends one entry; returns its seq.
Result<std::int64_t> insert_audit(Database& db, const AuditEntry& e);

struct AuditFilter {
    std::optional<std::string> action;
    std::optional<std::string> target;
    std::optional<std::string> actor;
    std::optional<std::int64_t> before;   // keyset: entries with seq < before
    std::uint32_t limit = 50;             // 1..200
};
struct AuditPage {
    std::vector<AuditEntry> entries;      // newest first
    std::optional<std::int64_t> next;     // pass as `before` for the next page; nullopt on the last
};
Result<AuditPage> list_audit(Database& db, const AuditFilter& f);

// {seq, at, actor:{kind,name}, action, target, reason, detail, client}
json::object audit_to_json(const AuditEntry& e);

}  // namespace depositd::store
