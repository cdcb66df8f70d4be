// Bindings: POST /api/v1/addresses/bind and /unbind, GET /api/v1/addresses/{reference}.
#include "api/handler.hpp"

#include "api/route_util.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <set>

#include "core/amount.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
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

const char* const kProtocolsMessage = "protocol must be one of evm, tron, bitcoin, solana";

// Metadata is stored as the JSON text the client sent; it is given back as JSON.
json::value metadata_value(const std::optional<std::string>& text) {
    if (!text) return nullptr;
    auto v = json::parse_bounded(*text);
    if (!v) return json::value(*text);
    return std::move(*v);
}

std::string amount_string(const std::string& raw, unsigned decimals) {
    auto a = Amount::from_raw_decimal(raw, decimals);
    return a ? a->to_string() : raw;
}

std::vector<std::string> monitored_chains(const config::Config& c, const std::string& protocol) {
    std::vector<std::string> out;
    for (const auto& ch : c.chains)
        if (protocol == to_string(ch.kind)) out.push_back(ch.id);
    return out;
}


}  // namespace

// --- Bindings ----------------------------------------------------------------

Response Handler::bind(const Request& req) {
    auto body = body_object(req, config_.api.max_body_bytes);
    if (!body) return validation(body.error().message);
    const json::value* ref_v = field(*body, "depositReference");
    const json::value* proto_v = field(*body, "protocol");
    if (!ref_v || !proto_v) return validation("Required fields: depositReference, protocol");
    if (!ref_v->is_string()) return validation("depositReference must be a string");
    if (!proto_v->is_string()) return validation("protocol must be a string");
    std::string ref(ref_v->get_string());
    std::string protocol(proto_v->get_string());
    if (!valid_reference(ref)) return validation(kReferenceMessage);
    Protocol p;
    if (!parse_protocol(protocol, p)) return validation(kProtocolsMessage);

    std::optional<std::string> metadata;
    if (const json::value* meta = field(*body, "metadata")) {
        if (!meta->is_object()) return validation("metadata must be a JSON object");
        metadata = json::serialize(*meta);
        if (metadata->size() > kMaxMetadata)
            return validation("metadata must be at most " + std::to_string(kMaxMetadata) + " bytes of JSON");
    }

    const auto now = clock_.now_ms();
    auto b = store_.write([&](store::Database& db) { return store::bind_reference(db, ref, protocol, metadata, now); });
    if (!b) {
        if (b.error().code == Errc::unavailable) {
            check_low_water(protocol, 0);
            return error(409, "InsufficientAddresses", "No free " + protocol + " addresses left in the pool");
        }
        if (b.error().code == Errc::conflict) {
            logger()->warn("bind {} {}: {}", ref, protocol, b.error().describe());
            return error(409, "Conflict", "depositReference " + ref + " was bound concurrently; retry");
        }
        return internal(b.error(), "bind");
    }
    if (b->created) {
        logger()->info("bound {} ({}) to {}", ref, protocol, b->address);
        maybe_check_low_water_after_bind(protocol);
    }

    json::object d;
    d["depositReference"] = b->reference;
    d["address"] = b->address;
    d["protocol"] = b->protocol;
    json::array chains;
    for (auto& c : monitored_chains(config_, protocol)) chains.emplace_back(c);
    d["monitoredChains"] = std::move(chains);
    d["createdAt"] = format_rfc3339_ms(b->bound_at);
    d["metadata"] = metadata_value(b->metadata);
    return ok(b->created ? 201 : 200, std::move(d),
              b->created ? "Deposit address bound" : "depositReference already bound; same address");
}

Response Handler::unbind(const Request& req) {
    auto body = body_object(req, config_.api.max_body_bytes);
    if (!body) return validation(body.error().message);
    const json::value* ref_v = field(*body, "depositReference");
    if (!ref_v) return validation("Required fields: depositReference");
    if (!ref_v->is_string()) return validation("depositReference must be a string");
    std::string ref(ref_v->get_string());
    if (!valid_reference(ref)) return validation(kReferenceMessage);
    std::optional<std::string> protocol;
    if (const json::value* pv = field(*body, "protocol")) {
        if (!pv->is_string()) return validation("protocol must be a string");
        Protocol p;
        if (!parse_protocol(pv->get_string(), p)) return validation(kProtocolsMessage);
        protocol = std::string(pv->get_string());
    }

    std::int64_t now = clock_.now_ms();
    std::optional<std::int64_t> cooldown;
    if (config_.pool.cooldown) cooldown = config_.pool.cooldown->count();
    // What was bound and the unbind, in one job: nothing changes in between.
    std::vector<store::Binding> active;
    auto n = store_.write([&](store::Database& db) -> Result<int> {
        auto a = store::active_bindings(db, ref);
        if (!a) return a.error();
        active = std::move(*a);
        return store::unbind_reference(db, ref, protocol, cooldown, now);
    });
    if (!n) return internal(n.error(), "unbind");
    if (*n == 0)
        return not_found("depositReference " + ref + " has no active binding" +
                         (protocol ? " for protocol " + *protocol : std::string()));

    json::array unbound;
    for (const auto& b : active) {
        if (protocol && b.protocol != *protocol) continue;
        json::object o;
        o["protocol"] = b.protocol;
        o["address"] = b.address;
        o["boundAt"] = format_rfc3339_ms(b.bound_at);
        unbound.push_back(std::move(o));
    }
    logger()->info("unbound {} ({} binding(s))", ref, *n);
    json::object d;
    d["depositReference"] = ref;
    d["unbound"] = std::move(unbound);
    d["unboundAt"] = format_rfc3339_ms(now);
    d["reusableAfter"] = cooldown ? json::value(format_rfc3339_ms(now + *cooldown)) : json::value(nullptr);
    return ok(200, std::move(d), "depositReference unbound; its address stays watched");
}

Response Handler::reference(const std::string& ref, const Query& query) {
    if (!valid_reference(ref)) return validation(kReferenceMessage);
    std::optional<std::string> protocol;
    if (auto* p = first_param(query, "protocol")) {
        Protocol pr;
        if (!parse_protocol(*p, pr)) return validation(kProtocolsMessage);
        protocol = *p;
    }
    // Bindings and their totals from one read snapshot.
    std::vector<std::pair<store::Binding, std::vector<store::DepositTotal>>> rows;
    auto read = store_.read([&](store::Database& db) -> Status {
        auto active = store::active_bindings(db, ref);
        if (!active) return active.error();
        for (auto& b : *active) {
            if (protocol && b.protocol != *protocol) continue;
            auto totals = store::deposit_totals(db, ref, b.protocol);
            if (!totals) return totals.error();
            rows.emplace_back(std::move(b), std::move(*totals));
        }
        return {};
    });
    if (!read) return internal(read.error(), "reference");
    json::array all;
    std::optional<json::object> primary;
    for (const auto& [b, totals_rows] : rows) {
        const auto* totals = &totals_rows;
        json::object o;
        o["depositReference"] = ref;
        o["address"] = b.address;
        o["protocol"] = b.protocol;
        std::uint64_t count = 0;
        json::array t;
        for (const auto& x : *totals) {
            json::object tj;
            tj["chainId"] = x.chain_id;
            tj["currency"] = x.currency;
            tj["amount"] = amount_string(x.raw_amount, x.decimals);
            tj["rawAmount"] = x.raw_amount;
            tj["decimals"] = x.decimals;
            tj["count"] = x.count;
            count += x.count;
            t.push_back(std::move(tj));
        }
        o["totalDeposits"] = count;
        o["totals"] = std::move(t);
        o["boundAt"] = format_rfc3339_ms(b.bound_at);
        o["monitoredChains"] = json::value_from(monitored_chains(config_, b.protocol));
        o["metadata"] = metadata_value(b.metadata);
        if (!primary) primary = o;
        all.push_back(std::move(o));
    }
    if (!primary)
        return not_found("depositReference " + ref + " is not bound" +
                         (protocol ? " for protocol " + *protocol : std::string()));
    json::object d = std::move(*primary);
    d["bindings"] = std::move(all);
    return ok(200, std::move(d), "OK");
}

}  // namespace depositd::api
