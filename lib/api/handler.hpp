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
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/health.hpp"
#include "store/store.hpp"

namespace depositd::api {

struct Request {
    std::string method;         // "GET", "POST", ...
    std::string target;         // origin-form: "/api/v1/deposits?page=2"
    std::string authorization;  // the Authorization header value, "" if absent
    std::string content_type;
    std::string body;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, WWW-Authenticate, ...)
};

// Reference rule (documented in docs/api.md): 1..128 characters of
// [A-Za-z0-9_.:@-].
bool valid_reference(std::string_view ref);

class Handler {
public:
    // `health` (optional) is what the chain loops report; without it every
    // chain shows "starting".
    Handler(store::Store& store, const config::Config& config, const Clock& clock,
            const HealthBoard* health = nullptr);

    // Never throws: unexpected failures become 500 InternalError.
    Response handle(const Request& req);

    // Interval between two low-water warnings of one protocol in the log.
    void set_low_water_log_interval(std::int64_t ms) { low_water_log_interval_ms_ = ms; }

private:
    using Query = std::vector<std::pair<std::string, std::string>>;  // decoded, in order
    Response dispatch(const Request& req, std::string& route_name);
    bool authorized(const std::string& header) const;

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
    Response resend_event(const std::string& id);

    // Checks the free addresses of a protocol against [pool].low_water and
    // logs (rate-limited) when below.
    void check_low_water(const std::string& protocol, std::uint64_t free);
    void maybe_check_low_water_after_bind(const std::string& protocol);

    store::Store& store_;
    const config::Config& config_;
    const Clock& clock_;
    const HealthBoard* health_;
    std::mutex low_water_mu_;  // the two maps below (handle() runs on several threads)
    std::vector<std::vector<unsigned char>> key_digests_;  // SHA-256 of each configured key
    std::int64_t low_water_log_interval_ms_ = 10 * 60 * 1000;
    std::map<std::string, std::int64_t> low_water_logged_at_;   // protocol -> last warning (ms)
    std::map<std::string, std::int64_t> low_water_checked_at_;  // protocol -> last check after a bind (ms)
};

}  // namespace depositd::api
