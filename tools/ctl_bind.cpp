// depositctl bind / unbind.
#include <iostream>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "ctl.hpp"
#include "store/pool.hpp"

namespace depositd::ctl {

namespace {

constexpr std::size_t kMaxMetadata = 4096;  // as the API

std::string reference_arg(const Args& a) {
    const std::string& ref = a.positional.at(0);
    if (!valid_reference(ref))
        throw UsageError{"REF must be 1-128 characters of [A-Za-z0-9_.:@-] (got '" + printable(ref, 40) + "')"};
    return ref;
}

std::string describe_cooldown(const std::optional<config::Duration>& d) {
    if (!d) return "never handed out again";
    auto ms = d->count();
    std::string t = ms % 3'600'000 == 0 ? std::to_string(ms / 3'600'000) + "h"
                    : ms % 60'000 == 0  ? std::to_string(ms / 60'000) + "m"
                    : ms % 1000 == 0    ? std::to_string(ms / 1000) + "s"
                                        : std::to_string(ms) + "ms";
    return "free again after " + t;
}

}  // namespace

int cmd_bind(Context& ctx, const Args& a) {
    const std::string ref = reference_arg(a);
    const std::string protocol = protocol_arg(a);
    std::optional<std::string> metadata;
    if (auto m = a.get("--metadata")) {
        auto v = json::parse_bounded(*m, 1 << 20);
        if (!v) fail_input("--metadata is not valid JSON: " + v.error().message);
        if (!v->is_object()) fail_input("--metadata must be a JSON object");
        metadata = json::serialize(*v);
        if (metadata->size() > kMaxMetadata)
            fail_input("--metadata must be at most " + std::to_string(kMaxMetadata) + " bytes of JSON");
    }
    auto b = store::bind_reference(ctx.db(), ref, protocol, metadata, now_ms());
    if (!b) {
        if (b.error().code == Errc::unavailable)
            fail_runtime("no free " + protocol + " address in the pool (InsufficientAddresses); add some with "
                         "`depositctl pool import` or `pool derive`");
        fail_runtime("bind failed: " + b.error().message);
    }
    if (a.has("--json")) {
        json::object o;
        o["depositReference"] = b->reference;
        o["address"] = b->address;
        o["protocol"] = b->protocol;
        json::array chains;
        for (const auto& c : ctx.config().chains)
            if (protocol == to_string(c.kind)) chains.emplace_back(c.id);
        o["monitoredChains"] = std::move(chains);
        o["createdAt"] = format_rfc3339_ms(b->bound_at);
        o["created"] = b->created;
        std::cout << json::serialize(o) << "\n";
        return kExitOk;
    }
    if (b->created)
        std::cout << "bound " << b->reference << " (" << b->protocol << ") to " << b->address << "\n";
    else
        std::cout << b->reference << " (" << b->protocol << ") is already bound to " << b->address << " since "
                  << format_rfc3339_ms(b->bound_at) << "\n";
    return kExitOk;
}

int cmd_unbind(Context& ctx, const Args& a) {
    const std::string ref = reference_arg(a);
    std::optional<std::string> protocol;
    if (a.has("--protocol")) protocol = protocol_arg(a);
    const auto& cooldown = ctx.config().pool.cooldown;
    std::optional<std::int64_t> cooldown_ms;
    if (cooldown) cooldown_ms = cooldown->count();

    // Show which addresses are released (before they are).
    auto before = store::active_bindings(ctx.db(), ref);
    if (!before) fail_runtime(before.error().message);

    auto n = store::unbind_reference(ctx.db(), ref, protocol, cooldown_ms, now_ms());
    if (!n) fail_runtime("unbind failed: " + n.error().message);
    if (*n == 0)
        fail_input("'" + ref + "' has no active binding" + (protocol ? " for " + *protocol : std::string()));
    for (const auto& b : *before) {
        if (protocol && b.protocol != *protocol) continue;
        std::cout << "unbound " << ref << " (" << b.protocol << ") from " << b.address << "; the address stays "
                  << "watched, " << describe_cooldown(cooldown) << "\n";
    }
    return kExitOk;
}

}  // namespace depositd::ctl
