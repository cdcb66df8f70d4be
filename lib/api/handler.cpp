// Handler: construction, authentication, and the dispatch of every route.
// The routes live in *_routes.cpp by resource (health_routes, binding_routes,
// deposit_routes, orders_routes, merchant_routes, audit_routes) and pay_page.cpp.
#include "api/handler.hpp"

#include "api/route_util.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <set>

#include "api/admin/console.hpp"
#include "core/amount.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "store/audit.hpp"
#include "store/counters.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/pool.hpp"

namespace depositd::api {

using namespace util;

namespace {

constexpr std::size_t kMaxReference = 128;
constexpr std::int64_t kLowWaterCheckAfterBindMs = 60 * 1000;

auto logger() {
    static auto l = log::get("api");
    return l;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::array<unsigned char, SHA256_DIGEST_LENGTH> sha256(std::string_view s) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
    return d;
}


}  // namespace

bool valid_reference(std::string_view ref) {
    if (ref.empty() || ref.size() > kMaxReference) return false;
    for (char c : ref) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == ':' || c == '@' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Handler::Handler(store::Store& store, const config::Config& config, const Clock& clock, const HealthBoard* health)
    : store_(store), config_(config), clock_(clock), health_(health) {
    for (std::size_t i = 0; i < config_.api.keys.size(); ++i) {
        const auto& k = config_.api.keys[i];
        if (k.empty()) continue;  // an unset ${VAR} never becomes "no key needed"
        auto d = sha256(k);
        keys_.push_back(Key{{d.begin(), d.end()},
                            i < config_.api.key_labels.size() ? config_.api.key_labels[i] : "key#" + std::to_string(i + 1)});
    }
    for (const auto& p : config_.api.trusted_proxies)
        if (auto c = netaddr::parse_cidr(p)) trusted_proxies_.push_back(*c);
    if (config_.admin.enabled) console_ = std::make_unique<admin::Console>(*this, store_, config_, clock_, health_);
    auto& reg = metrics::Registry::global();
    reg.describe("depositd_api_requests_total", "counter", "API requests by route and HTTP status");
    reg.describe("depositd_api_request_duration_seconds", "histogram", "API request handling time");
}

Handler::~Handler() = default;

void Handler::sample_lag() {
    if (console_) console_->sample_lag();
}

std::string Handler::client_of(const Request& req) const {
    auto peer = netaddr::parse_ip(req.peer);
    if (!peer) return "unknown";
    return netaddr::client_key(netaddr::forwarded_client(*peer, req.forwarded_for, trusted_proxies_));
}

std::string Handler::client_address(const Request& req) const {
    auto peer = netaddr::parse_ip(req.peer);
    if (!peer) return std::string();
    return netaddr::forwarded_client(*peer, req.forwarded_for, trusted_proxies_).to_string();
}

std::optional<std::size_t> Handler::authorized(const std::string& header) const {
    std::string_view h = trim(header);
    if (h.size() < 7 || to_lower(h.substr(0, 6)) != "bearer" || (h[6] != ' ' && h[6] != '\t')) return std::nullopt;
    std::string_view token = trim(h.substr(7));
    if (token.empty()) return std::nullopt;
    // Digests have equal length whatever the key lengths; compare with every
    // key without stopping early.
    auto d = sha256(token);
    std::optional<std::size_t> match;
    for (std::size_t i = 0; i < keys_.size(); ++i)
        if (CRYPTO_memcmp(d.data(), keys_[i].digest.data(), d.size()) == 0 && !match) match = i;
    return match;
}

Response Handler::handle(const Request& req) {
    auto started = std::chrono::steady_clock::now();
    std::string route = "unknown";
    Response r;
    try {
        r = dispatch(req, route);
    } catch (const std::exception& e) {
        logger()->error("{} {}: unexpected exception: {}", req.method, route, e.what());
        r = error(500, "InternalError", "Internal error");
    } catch (...) {
        logger()->error("{} {}: unexpected exception", req.method, route);
        r = error(500, "InternalError", "Internal error");
    }
    try {
        auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        auto& reg = metrics::Registry::global();
        reg.counter_add("depositd_api_requests_total", {{"route", route}, {"code", std::to_string(r.status)}});
        reg.observe("depositd_api_request_duration_seconds", {{"route", route}}, secs);
    } catch (...) {
    }
    return r;
}

Response Handler::dispatch(const Request& req, std::string& route) {
    if (req.body.size() > config_.api.max_body_bytes)
        return error(413, "PayloadTooLarge",
                     "Request body exceeds " + std::to_string(config_.api.max_body_bytes) + " bytes");

    auto parsed = boost::urls::parse_origin_form(req.target);
    if (!parsed) return validation("Malformed request target");
    const boost::urls::url_view& url = *parsed;

    std::vector<std::string> seg;
    for (auto s : url.segments()) seg.push_back(std::string(s));
    Query query;
    for (auto p : url.params()) query.emplace_back(std::string(p.key), std::string(p.value));

    const std::string& m = req.method;
    auto only = [&](const char* allowed) { return m == allowed; };

    if (seg.size() == 1 && seg[0] == "health") {
        route = "health";
        return only("GET") ? health() : method_not_allowed(m, "GET");
    }
    if (seg.size() == 1 && seg[0] == "metrics") {
        route = "metrics";
        return only("GET") ? metrics() : method_not_allowed(m, "GET");
    }
    // The operator's console (lib/api/admin): its own login, sessions and pages.
    if (!seg.empty() && seg[0] == "admin") {
        if (!console_) return not_found("No such endpoint");
        return console_->handle(req, seg, query, route);
    }
    // The payment page, checkout links and the EPay / epusdt endpoints answer without the API key.
    if (auto r = dispatch_public(req, seg, query, route)) return std::move(*r);
    if (seg.empty() || seg[0] != "api") return not_found("No such endpoint");

    // Everything under /api needs a key, before anything else is revealed.
    const auto key = authorized(req.authorization);
    if (!key) {
        route = "unauthorized";
        auto r = error(401, "Unauthorized", "Missing or invalid API key");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
    }
    if (seg.size() < 3 || seg[1] != "v1") return not_found("No such endpoint");
    // Who acts, for the audit log: the key's label, never the key.
    const std::string client = client_address(req);
    const orders::Actor who{"api", keys_[*key].label,
                            client.empty() ? std::nullopt : std::optional<std::string>(client)};

    const std::size_t n = seg.size();
    if (seg[2] == "orders" || seg[2] == "payment-links") return dispatch_orders(req, seg, query, who, route);
    if (seg[2] == "audit" && n == 3) {
        route = "audit.list";
        return only("GET") ? list_audit(query) : method_not_allowed(m, "GET");
    }
    if (seg[2] == "deposits") {
        if (n == 3) {
            route = "deposits.list";
            return only("GET") ? list_deposits(query) : method_not_allowed(m, "GET");
        }
        if (n == 4 && seg[3] == "bind") {
            route = "deposits.bind";
            return only("POST") ? bind(req) : method_not_allowed(m, "POST");
        }
        if (n == 4 && seg[3] == "unbind") {
            route = "deposits.unbind";
            return only("POST") ? unbind(req) : method_not_allowed(m, "POST");
        }
        if (n == 4 && seg[3] == "recheck") {
            route = "deposits.recheck";
            return only("POST") ? recheck_route(req, who) : method_not_allowed(m, "POST");
        }
        if (n == 5 && seg[3] == "references" && !seg[4].empty()) {
            route = "deposits.reference";
            return only("GET") ? reference(seg[4], query) : method_not_allowed(m, "GET");
        }
        if (n == 4 && !seg[3].empty() && seg[3] != "references") {
            route = "deposits.get";
            return only("GET") ? get_deposit(seg[3]) : method_not_allowed(m, "GET");
        }
    } else if (seg[2] == "events") {
        if (n == 3) {
            route = "events.list";
            return only("GET") ? list_events(query) : method_not_allowed(m, "GET");
        }
        if (n == 4 && !seg[3].empty()) {
            route = "events.get";
            return only("GET") ? get_event(seg[3]) : method_not_allowed(m, "GET");
        }
        if (n == 5 && !seg[3].empty() && seg[4] == "resend") {
            route = "events.resend";
            return only("POST") ? resend_event(seg[3], who) : method_not_allowed(m, "POST");
        }
    }
    return not_found("No such endpoint");
}


// --- Low water -------------------------------------------------------------------

void Handler::check_low_water(const std::string& protocol, std::uint64_t free) {
    if (config_.pool.low_water == 0 || free >= config_.pool.low_water) return;
    std::int64_t now = clock_.now_ms();
    std::lock_guard lock(low_water_mu_);
    auto it = low_water_logged_at_.find(protocol);
    if (it != low_water_logged_at_.end() && now - it->second < low_water_log_interval_ms_) return;
    low_water_logged_at_[protocol] = now;
    logger()->warn("address pool low: {} free {} address(es), low_water is {}; import or derive more", free,
                   protocol, config_.pool.low_water);
}

void Handler::maybe_check_low_water_after_bind(const std::string& protocol) {
    // pool_stats counts the whole pool: at most once a minute per protocol.
    std::int64_t now = clock_.now_ms();
    {
        std::lock_guard lock(low_water_mu_);
        auto it = low_water_checked_at_.find(protocol);
        if (it != low_water_checked_at_.end() && now - it->second < kLowWaterCheckAfterBindMs) return;
        low_water_checked_at_[protocol] = now;
    }
    auto stats = store_.read([&](store::Database& db) { return store::pool_stats(db, now); });
    if (!stats) return;
    for (const auto& s : *stats)
        if (s.protocol == protocol) check_low_water(protocol, s.free);
}

}  // namespace depositd::api
