#pragma once
// The HTTP API of SPEC §4 as a pure function of a request: no socket, no
// Beast. lib/api/server.cpp feeds it parsed requests; tests and the fuzzer
// call it directly.
//
// handle() is synchronous and thread-safe: the server calls it on API worker
// threads, never on the thread that serves sockets. Reads use read-only
// connections (store::Store::read), writes are jobs for the writer thread
// (store::Store::write). /health and /metrics read in-memory state and the
// trigger-kept counters: O(1), no table scan.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/health.hpp"
#include "core/netaddr.hpp"
#include "store/deposits.hpp"
#include "orders/orders.hpp"
#include "store/store.hpp"

namespace depositd::orders {
class RateCache;
}

namespace depositd::api {

namespace admin {
class Console;
}

struct Request {
    std::string method;         // "GET", "POST", ...
    std::string target;         // origin-form: "/api/v1/deposits?page=2"
    std::string authorization;  // the Authorization header value, "" if absent
    std::string content_type;
    std::string body;
    std::string accept_language;  // the payment page's language
    // Who asked (the public routes' per-client caps): the TCP peer's address,
    // and what X-Forwarded-For / Cookie said (several headers joined).
    std::string peer;
    std::string forwarded_for;
    std::string cookie;
    std::string sec_fetch_site;  // Sec-Fetch-Site (the console refuses cross-site form posts)
};

// POST /api/v1/deposits/recheck (SPEC §10) and the console's re-check form.
struct RecheckRequest {
    std::string chain_id;
    std::string tx_hash;
    std::optional<std::string> block_hash;  // Bitcoin nodes without -txindex need it
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, WWW-Authenticate, ...)
};

// What a re-check of one transaction found (SPEC §10): every deposit of it
// to a watched address as stored now, `recorded` of them new.
struct RecheckAnswer {
    std::vector<store::Deposit> deposits;
    std::size_t recorded = 0;
};
// Runs a re-check (the daemon wires it to the chain's scanner; blocks the
// calling API worker until the answer, never a socket thread). Errors:
// invalid_input -> 400, not_found -> 404, conflict -> 409, others -> 503.
using Rechecker = std::function<Result<RecheckAnswer>(const std::string& chain_id, const std::string& tx_hash,
                                                      const std::optional<std::string>& block_hash)>;

// Reference rule (documented in docs/api.md): 1..128 characters of
// [A-Za-z0-9_.:@-].
bool valid_reference(std::string_view ref);

class Handler {
public:
    // `health` (optional) is what the chain loops report; without it every
    // chain shows "starting".
    Handler(store::Store& store, const config::Config& config, const Clock& clock,
            const HealthBoard* health = nullptr);
    ~Handler();

    // Never throws: unexpected failures become 500 InternalError.
    Response handle(const Request& req);

    // Interval between two low-water warnings of one protocol in the log.
    void set_low_water_log_interval(std::int64_t ms) { low_water_log_interval_ms_ = ms; }

    // The base exchange rate of [orders].rate_source (owned by the daemon);
    // without it, orders priced with a relative rate are refused.
    void set_rates(const orders::RateCache* rates) { rates_ = rates; }

    // Re-check of a transaction (POST /api/v1/deposits/recheck); without
    // it the route answers 503.
    void set_rechecker(Rechecker fn) { rechecker_ = std::move(fn); }
    // Called (on the API worker) after a request queued events for delivery:
    // a resend, an order marked paid. The daemon wakes its dispatcher, so the
    // delivery starts now instead of at the next poll of the outbox.
    void on_events_queued(std::function<void()> fn) { on_events_queued_ = std::move(fn); }
    // The route's work, for any caller that already authorized the request
    // (the API route, the console): validates the chain id and the hash's
    // shape, runs the re-check, answers the SPEC §10 envelope
    // 200 {deposits, recorded} / 400 / 404 / 409 / 503.
    Response recheck(const std::string& chain_id, const std::string& tx_hash,
                     const std::optional<std::string>& block_hash = std::nullopt);
    // Samples each chain's lag for the console's sparklines (the daemon calls
    // it every 10 s; nothing happens without [admin]).
    void sample_lag();
    // The console, when [admin] is configured (tests reach its session store).
    admin::Console* console() { return console_.get(); }

    // The client a per-client cap counts (netaddr::client_key): the peer, or
    // behind [api].trusted_proxies the address X-Forwarded-For names.
    std::string client_of(const Request& req) const;
    // That client's address itself (logs, the audit log); "" when unknown.
    std::string client_address(const Request& req) const;

    // --- Actions: the API routes and the console share them ------------------
    // Each writes the audit log (who = the API key's label or the console
    // user) in the same transaction as the change. JSON envelope answers.
    Response mark_order_paid(const std::string& id, const std::string& reason, const orders::Actor& who);
    Response resend_event(const std::string& id, const orders::Actor& who);
    Response change_link(const std::string& id, const std::string& action, const orders::Actor& who);
    // recheck() for a caller that acts (the API route, the console): a
    // re-check that found the transaction is written to the audit log.
    Response recheck_transaction(const RecheckRequest& r, const orders::Actor& who);

private:
    using Query = std::vector<std::pair<std::string, std::string>>;  // decoded, in order
    Response dispatch(const Request& req, std::string& route_name);
    // The index of the configured key the Authorization header carries, if any.
    std::optional<std::size_t> authorized(const std::string& header) const;

    ChainHealth chain_health(const std::string& chain) const;
    Response health();
    Response metrics();
    Response bind(const Request& req);
    Response unbind(const Request& req);
    Response reference(const std::string& ref, const Query& query);
    Response list_deposits(const Query& query);
    Response get_deposit(const std::string& id);
    Response list_events(const Query& query);
    Response get_event(const std::string& id);
    Response recheck_route(const Request& req, const orders::Actor& who);
    // audit_routes.cpp: GET /api/v1/audit.
    Response list_audit(const Query& query);

    // --- Orders, payment links, merchant protocols, payment page -----------
    // orders_routes.cpp: /api/v1/orders, /api/v1/payment-links (after auth).
    Response dispatch_orders(const Request& req, const std::vector<std::string>& seg, const Query& query,
                             const orders::Actor& who, std::string& route);
    Response mark_paid_route(const Request& req, const std::string& id, const orders::Actor& who);
    Response create_order(const Request& req);
    Response get_order(const std::string& id);
    Response list_orders(const Query& query);
    Response create_link(const Request& req);
    Response get_link(const std::string& id);
    Response list_links(const Query& query);
    // merchant_routes.cpp and pay_page.cpp: the routes without an API key
    // (EPay, epusdt, /pay, /checkout); nullopt when the path is not theirs.
    std::optional<Response> dispatch_public(const Request& req, const std::vector<std::string>& seg,
                                            const Query& query, std::string& route);
    Response epay_submit(const Request& req, bool json_answer);
    Response epay_query(const Query& query);
    Response epusdt_create(const Request& req);
    Response pay_page(const Request& req, const std::string& id, const Query& query);
    Response pay_status(const std::string& id);
    Response checkout(const Request& req, const std::string& slug, const Query& query);

    // Checks the free addresses of a protocol against [pool].low_water and
    // logs (rate-limited) when below.
    void check_low_water(const std::string& protocol, std::uint64_t free);

    // Runs the database part of a route: on a read-only connection (read), or
    // as one job of the writer thread (write: what it changes stays one
    // unit). A database failure becomes 500.
    enum class store_access { read, write };
    Response with_db(store_access access, const std::function<Response(store::Database&)>& fn);
    void maybe_check_low_water_after_bind(const std::string& protocol);

    store::Store& store_;
    const config::Config& config_;
    const Clock& clock_;
    const HealthBoard* health_;
    std::mutex low_water_mu_;  // the two maps below (handle() runs on several threads)
    struct Key {
        std::vector<unsigned char> digest;  // SHA-256 of the key
        std::string label;                  // [api].keys label (audit log)
    };
    std::vector<Key> keys_;
    std::int64_t low_water_log_interval_ms_ = 10 * 60 * 1000;
    std::map<std::string, std::int64_t> low_water_logged_at_;   // protocol -> last warning (ms)
    std::map<std::string, std::int64_t> low_water_checked_at_;  // protocol -> last check after a bind (ms)
    const orders::RateCache* rates_ = nullptr;
    Rechecker rechecker_;
    std::function<void()> on_events_queued_;
    std::unique_ptr<admin::Console> console_;  // [admin] configured
    std::vector<netaddr::Cidr> trusted_proxies_;
};

}  // namespace depositd::api
