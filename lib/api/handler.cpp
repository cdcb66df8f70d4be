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
#include "api/cursor.hpp"
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
namespace {

constexpr std::size_t kMaxReference = 128;
constexpr std::size_t kMaxMetadata = 4096;
constexpr std::uint32_t kMaxLimit = 100;
constexpr std::uint32_t kMaxPage = 1'000'000;
constexpr std::int64_t kLowWaterCheckAfterBindMs = 60 * 1000;

const char* const kProtocolsMessage = "protocol must be one of evm, tron, bitcoin, solana";
const char* const kReferenceMessage = "depositReference must be 1-128 characters of [A-Za-z0-9_.:@-]";

auto logger() {
    static auto l = log::get("api");
    return l;
}

// --- Responses -------------------------------------------------------------

// The envelope of SPEC §4 (api/route_util.hpp, shared with the order routes).
using util::error;
using util::internal;
using util::json_response;
using util::method_not_allowed;
using util::not_found;
using util::ok;
using util::validation;

// Metadata is stored as the JSON text the client sent; it is given back as JSON.
json::value metadata_value(const std::optional<std::string>& text) {
    if (!text) return nullptr;
    auto v = json::parse_bounded(*text);
    if (!v) return json::value(*text);
    return std::move(*v);
}

// --- Input -----------------------------------------------------------------

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

// The body as a JSON object, or the 400 answer.
Result<json::object> body_object(const Request& req, std::size_t max_bytes) {
    auto v = json::parse_bounded(req.body, max_bytes);
    if (!v) {
        if (trim(req.body).empty()) return make_error(Errc::invalid_input, "Request body must be a JSON object");
        return make_error(Errc::invalid_input, "Malformed JSON body");
    }
    if (!v->is_object()) return make_error(Errc::invalid_input, "Request body must be a JSON object");
    return std::move(v->get_object());
}

// A field that is absent or null counts as missing.
const json::value* field(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

bool parse_uint(std::string_view s, std::uint64_t max, std::uint64_t& out) {
    if (s.empty() || s.size() > 12) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > max) return false;
    out = v;
    return true;
}

const std::string* query_get(const std::vector<std::pair<std::string, std::string>>& q, std::string_view key) {
    for (const auto& [k, v] : q)
        if (k == key) return &v;
    return nullptr;
}

struct Paging {
    std::uint32_t page = 1;
    std::uint32_t limit = 20;
};

// page >= 1, 1 <= limit <= 100; the message names the parameter.
std::optional<std::string> parse_paging(const std::vector<std::pair<std::string, std::string>>& q, Paging& p) {
    if (auto* s = query_get(q, "page")) {
        std::uint64_t v = 0;
        if (!parse_uint(*s, kMaxPage, v) || v < 1)
            return "page must be an integer between 1 and " + std::to_string(kMaxPage);
        p.page = static_cast<std::uint32_t>(v);
    }
    if (auto* s = query_get(q, "limit")) {
        std::uint64_t v = 0;
        if (!parse_uint(*s, kMaxLimit, v) || v < 1) return "limit must be an integer between 1 and 100";
        p.limit = static_cast<std::uint32_t>(v);
    }
    return std::nullopt;
}

json::object pagination(const Paging& p, std::uint64_t total) {
    json::object o;
    o["page"] = p.page;
    o["limit"] = p.limit;
    o["total"] = total;
    o["totalPages"] = (total + p.limit - 1) / p.limit;
    return o;
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

// Protocols worth reporting: those with configured chains, plus any with addresses.
std::vector<store::PoolStats> pool_view(const config::Config& c, std::vector<store::PoolStats> stats) {
    std::set<std::string> have;
    for (const auto& s : stats) have.insert(s.protocol);
    for (const auto& ch : c.chains) {
        std::string p = to_string(ch.kind);
        if (have.insert(p).second) stats.push_back(store::PoolStats{p, 0, 0, 0});
    }
    std::sort(stats.begin(), stats.end(), [](const auto& a, const auto& b) { return a.protocol < b.protocol; });
    return stats;
}

// --- Prometheus text ---------------------------------------------------------

std::string label_escape(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

struct Family {
    std::string name, help;
    std::vector<std::pair<std::string, double>> samples;  // rendered labels, value
    void add(const std::vector<std::pair<std::string, std::string>>& labels, double v) {
        std::string s;
        if (!labels.empty()) {
            s = "{";
            for (std::size_t i = 0; i < labels.size(); ++i) {
                if (i) s += ",";
                s += labels[i].first + "=\"" + label_escape(labels[i].second) + "\"";
            }
            s += "}";
        }
        samples.emplace_back(std::move(s), v);
    }
};

std::string render_families(const std::vector<Family>& families, const std::string& already) {
    std::string out;
    for (const auto& f : families) {
        // A family the process registry already exports is not repeated.
        if (already.find("# TYPE " + f.name + " ") != std::string::npos) continue;
        out += "# HELP " + f.name + " " + f.help + "\n";
        out += "# TYPE " + f.name + " gauge\n";
        for (const auto& [labels, v] : f.samples) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", v);
            out += f.name + labels + " " + buf + "\n";
        }
    }
    return out;
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

// --- /health and /metrics ----------------------------------------------------

ChainHealth Handler::chain_health(const std::string& chain) const {
    if (health_)
        if (auto h = health_->get(chain)) return *h;
    return ChainHealth{};
}

Response Handler::health() {
    // In-memory chain state and the trigger-kept pool counters: O(1).
    auto stats = store_.read([&](store::Database& db) { return store::pool_stats(db, clock_.now_ms()); });
    bool degraded = false;
    json::array chains;
    for (const auto& ch : config_.chains) {
        const ChainHealth h = chain_health(ch.id);
        json::object c;
        c["chainId"] = ch.id;
        c["protocol"] = to_string(ch.kind);
        c["status"] = h.status;
        c["head"] = h.head ? json::value(*h.head) : json::value(nullptr);
        c["scanned"] = h.scanned ? json::value(*h.scanned) : json::value(nullptr);
        auto lag = h.lag();
        c["lag"] = lag ? json::value(*lag) : json::value(nullptr);
        c["finalized"] = h.finalized ? json::value(*h.finalized) : json::value(nullptr);
        c["updatedAt"] = h.updated_at > 0 ? json::value(format_rfc3339_ms(h.updated_at)) : json::value(nullptr);
        c["lastError"] = h.last_error ? json::value(*h.last_error) : json::value(nullptr);
        c["lastErrorAt"] = h.last_error_at > 0 ? json::value(format_rfc3339_ms(h.last_error_at)) : json::value(nullptr);
        if (h.halted) c["halted"] = *h.halted;
        if (h.status != "ok") degraded = true;
        chains.push_back(std::move(c));
    }
    json::array pool;
    if (stats) {
        for (const auto& s : pool_view(config_, *stats)) {
            bool low = config_.pool.low_water > 0 && s.free < config_.pool.low_water;
            if (low) check_low_water(s.protocol, s.free);
            json::object p;
            p["protocol"] = s.protocol;
            p["free"] = s.free;
            p["bound"] = s.bound;
            p["cooling"] = s.cooling;
            p["lowWater"] = config_.pool.low_water;
            p["low"] = low;
            pool.push_back(std::move(p));
        }
    } else {
        logger()->error("health: {}", stats.error().describe());
    }
    json::object o;
    o["status"] = !stats ? "error" : degraded ? "degraded" : "ok";
    o["version"] = DEPOSITD_VERSION;
    o["chains"] = std::move(chains);
    o["pool"] = std::move(pool);
    if (!stats) o["message"] = "database unavailable";
    return json_response(stats ? 200 : 503, o);
}

Response Handler::metrics() {
    std::vector<Family> fam;
    auto counters = store_.read([](store::Database& db) { return store::read_counters(db); });
    if (!counters) return internal(counters.error(), "metrics: counters");
    auto stats = store_.read([&](store::Database& db) { return store::pool_stats(db, clock_.now_ms()); });
    if (!stats) return internal(stats.error(), "metrics: pool");
    {
        // Zeros for configured chains so the series persist.
        Family f{"depositd_deposits", "Deposits by chain and status", {}};
        std::map<std::pair<std::string, std::string>, double> counts;
        for (const auto& ch : config_.chains)
            for (const char* st : {"pending", "confirmed", "reverted"}) counts[{ch.id, st}] = 0;
        for (const auto& [k, n] : counters->deposits) counts[k] = static_cast<double>(n);
        for (const auto& [k, v] : counts) f.add({{"chain", k.first}, {"status", k.second}}, v);
        fam.push_back(std::move(f));
    }
    {
        Family f{"depositd_events", "Webhook events by delivery status", {}};
        std::map<std::string, double> counts{{"pending", 0}, {"delivered", 0}, {"failed", 0}};
        for (const auto& [k, n] : counters->events) counts[k] = static_cast<double>(n);
        for (const auto& [k, v] : counts) f.add({{"status", k}}, v);
        fam.push_back(std::move(f));
    }
    {
        Family addrs{"depositd_pool_addresses", "Pool addresses by protocol and state (free includes cooled)", {}};
        Family low{"depositd_pool_low", "1 when free addresses of a protocol are below [pool].low_water", {}};
        Family mark{"depositd_pool_low_water", "Configured [pool].low_water", {}};
        mark.add({}, config_.pool.low_water);
        for (const auto& s : pool_view(config_, *stats)) {
            addrs.add({{"protocol", s.protocol}, {"state", "free"}}, static_cast<double>(s.free));
            addrs.add({{"protocol", s.protocol}, {"state", "bound"}}, static_cast<double>(s.bound));
            addrs.add({{"protocol", s.protocol}, {"state", "cooling"}}, static_cast<double>(s.cooling));
            bool is_low = config_.pool.low_water > 0 && s.free < config_.pool.low_water;
            if (is_low) check_low_water(s.protocol, s.free);
            low.add({{"protocol", s.protocol}}, is_low ? 1 : 0);
        }
        fam.push_back(std::move(addrs));
        fam.push_back(std::move(low));
        fam.push_back(std::move(mark));
    }
    {
        Family scanned{"depositd_chain_scanned_height", "Last height whose transfers are committed", {}};
        Family head{"depositd_chain_head_height", "Last chain head seen", {}};
        Family lag{"depositd_chain_lag_blocks", "head - scanned", {}};
        Family halted{"depositd_chain_halted", "1 when the chain stopped (reorg deeper than allowed or below finality)", {}};
        for (const auto& ch : config_.chains) {
            const ChainHealth h = chain_health(ch.id);
            halted.add({{"chain", ch.id}}, h.status == "halted" ? 1 : 0);
            if (h.scanned) scanned.add({{"chain", ch.id}}, static_cast<double>(*h.scanned));
            if (h.head) head.add({{"chain", ch.id}}, static_cast<double>(*h.head));
            if (auto l = h.lag()) lag.add({{"chain", ch.id}}, static_cast<double>(*l));
        }
        fam.push_back(std::move(scanned));
        fam.push_back(std::move(head));
        fam.push_back(std::move(lag));
        fam.push_back(std::move(halted));
    }
    std::string text = metrics::Registry::global().render();
    text += render_families(fam, text);
    Response r;
    r.status = 200;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = std::move(text);
    return r;
}

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
    if (auto* p = query_get(query, "protocol")) {
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

// --- Deposits and events ---------------------------------------------------------

Response Handler::with_db(store_access access, const std::function<Response(store::Database&)>& fn) {
    auto run = [&fn](store::Database& db) -> Result<Response> { return fn(db); };
    auto r = access == store_access::write ? store_.write(run) : store_.read(run);
    if (!r) return internal(r.error(), "database");
    return std::move(*r);
}

Response Handler::list_deposits(const Query& query) {
    store::DepositFilter f;
    Paging pg;
    if (auto e = parse_paging(query, pg)) return validation(*e);
    f.page = pg.page;
    f.limit = pg.limit;
    const std::string* cursor = query_get(query, "cursor");
    if (cursor && query_get(query, "page")) return validation("give either page or cursor, not both");
    if (auto* v = query_get(query, "depositReference")) {
        if (!valid_reference(*v)) return validation(kReferenceMessage);
        f.reference = *v;
    }
    if (auto* v = query_get(query, "status")) {
        if (*v != "pending" && *v != "confirmed" && *v != "reverted")
            return validation("status must be one of pending, confirmed, reverted");
        f.status = *v;
    }
    if (auto* v = query_get(query, "chainId")) {
        if (v->empty() || v->size() > 64) return validation("chainId must be 1-64 characters");
        f.chain_id = *v;
    }
    if (auto* v = query_get(query, "currency")) {
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
        pg.page = c->page;
    }
    auto page = store_.read([&](store::Database& db) { return store::list_deposits(db, f); });
    if (!page) return internal(page.error(), "list deposits");
    json::array deposits;
    for (const auto& d : page->deposits) deposits.push_back(store::deposit_to_json(d));
    json::object d;
    d["deposits"] = std::move(deposits);
    json::object p = pagination(pg, page->total);
    p["nextCursor"] = page->next && pg.page < kMaxPage
                          ? json::value(encode_cursor(ListCursor{pg.page + 1, *page->next, fingerprint}))
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
    Paging pg;
    if (auto e = parse_paging(query, pg)) return validation(*e);
    f.page = pg.page;
    f.limit = pg.limit;
    if (auto* v = query_get(query, "status")) {
        if (*v != "pending" && *v != "delivered" && *v != "failed")
            return validation("status must be one of pending, delivered, failed");
        f.status = *v;
    }
    if (auto* v = query_get(query, "type")) {
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
    d["pagination"] = pagination(pg, page->total);
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
    return ok(200, store::event_to_json(**e), "Event queued for delivery");
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
