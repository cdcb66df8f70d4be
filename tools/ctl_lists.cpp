// depositctl deposits list, events list, events resend.
#include <iostream>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "ctl.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"

namespace depositd::ctl {

namespace {

constexpr std::uint64_t kDefaultLimit = 50;
constexpr std::uint64_t kMaxLimit = 10'000;
constexpr std::uint32_t kPageSize = 100;  // the store's page limit

std::string one_of(const Args& a, const std::string& flag, std::initializer_list<const char*> allowed) {
    const std::string v = *a.get(flag);
    std::string list;
    for (const char* s : allowed) {
        if (v == s) return v;
        if (!list.empty()) list += ", ";
        list += s;
    }
    throw UsageError{flag + " must be one of " + list + " (got '" + printable(v, 40) + "')"};
}

std::string str(const json::value& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return std::string(v.as_string());
    return json::serialize(v);
}

}  // namespace

int cmd_deposits_list(Context& ctx, const Args& a) {
    store::DepositFilter f;
    f.reference = a.get("--reference");
    if (a.has("--status")) f.status = one_of(a, "--status", {"pending", "confirmed", "reverted"});
    f.chain_id = a.get("--chain");
    f.currency = a.get("--currency");
    std::uint64_t limit = kDefaultLimit;
    if (auto l = a.get("--limit")) limit = uint_arg("--limit", *l, 1, kMaxLimit);

    std::vector<store::Deposit> all;
    std::uint64_t total = 0;
    f.limit = kPageSize;
    while (all.size() < limit) {  // keyset pages: each costs O(page size), however deep
        auto page = store::list_deposits(ctx.db(), f);
        if (!page) fail_runtime(page.error().message);
        total = page->total;
        for (auto& d : page->deposits) {
            if (all.size() >= limit) break;
            all.push_back(std::move(d));
        }
        if (!page->next) break;
        f.after = page->next;
    }

    if (a.has("--json")) {
        json::array arr;
        for (const auto& d : all) arr.emplace_back(store::deposit_to_json(d));
        std::cout << json::serialize(arr) << "\n";
        return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : all) {
        auto o = store::deposit_to_json(d);
        auto field = [&](const char* k) { return o.contains(k) ? str(o.at(k)) : std::string("-"); };
        rows.push_back({d.id, d.reference.value_or("-"), d.chain_id, d.currency, field("amount"),
                        std::to_string(d.confirmations) + "/" + std::to_string(d.required_confirmations), d.status,
                        format_rfc3339_ms(d.detected_at), d.address, d.tx_hash});
    }
    print_table({"ID", "REFERENCE", "CHAIN", "CURRENCY", "AMOUNT", "CONF", "STATUS", "DETECTED", "ADDRESS", "TX"},
                rows);
    std::cout << all.size() << " of " << total << " deposit(s)\n";
    return kExitOk;
}

int cmd_events_list(Context& ctx, const Args& a) {
    store::EventFilter f;
    if (a.has("--status")) f.status = one_of(a, "--status", {"pending", "delivered", "failed"});
    f.type = a.get("--type");
    std::uint64_t limit = kDefaultLimit;
    if (auto l = a.get("--limit")) limit = uint_arg("--limit", *l, 1, kMaxLimit);

    std::vector<store::EventRow> all;
    std::uint64_t total = 0;
    f.limit = kPageSize;
    for (f.page = 1; all.size() < limit; ++f.page) {
        auto page = store::list_events(ctx.db(), f);
        if (!page) fail_runtime(page.error().message);
        total = page->total;
        for (auto& e : page->events) {
            if (all.size() >= limit) break;
            all.push_back(std::move(e));
        }
        if (page->events.size() < kPageSize) break;
    }

    if (a.has("--json")) {
        json::array arr;
        for (const auto& e : all) arr.emplace_back(store::event_to_json(e));
        std::cout << json::serialize(arr) << "\n";
        return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : all) {
        std::string next = e.status == "pending" ? format_rfc3339_ms(e.next_attempt_at) : "-";
        rows.push_back({e.id, e.type, e.deposit_id.empty() ? "-" : e.deposit_id, e.status,
                        std::to_string(e.attempts), format_rfc3339_ms(e.created_at), next,
                        e.last_error ? printable(*e.last_error, 60) : "-"});
    }
    print_table({"ID", "TYPE", "DEPOSIT", "STATUS", "ATTEMPTS", "CREATED", "NEXT ATTEMPT", "LAST ERROR"}, rows);
    std::cout << all.size() << " of " << total << " event(s)\n";
    return kExitOk;
}

int cmd_events_resend(Context& ctx, const Args& a) {
    const std::string& id = a.positional.at(0);
    if (id.empty() || id.size() > 64) fail_input("no such event: '" + printable(id, 64) + "'");
    auto r = store::resend_event(ctx.db(), id, now_ms());
    if (!r) fail_runtime("resend failed: " + r.error().message);
    if (!*r) fail_input("no such event: " + printable(id, 64));
    std::cout << "event " << id << " queued for delivery now (same webhook-id)\n";
    return kExitOk;
}

}  // namespace depositd::ctl
