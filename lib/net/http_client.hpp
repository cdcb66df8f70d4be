#pragma once
// An HTTP(S)/1.1 client on the daemon's io_context. Beast stays in the .cpp.
// Keep-alive connections are reused per (scheme, host, port); every request
// has a deadline; of a body above the cap only the first max_response_bytes
// are kept (the rest is not read: the connection is closed); TLS sets SNI and
// verifies the peer certificate and host name.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace depositd::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method = "POST";
    std::string url;                         // http://host:port/path?query or https://...
    Headers headers;
    std::string body;
    // "user:password" for Basic auth (never logged); overrides user:password@
    // in the URL. Ignored when `headers` has an Authorization.
    std::string basic_auth;
    std::chrono::milliseconds timeout{10'000};  // whole request: connect + write + read
    std::size_t max_response_bytes = 64u << 20;  // body bytes kept; see HttpResponse::truncated
    // Connect only to public addresses (core/netaddr.hpp): a host that
    // resolves to loopback, private, link-local or metadata addresses is a
    // transport error, checked on the resolved addresses (DNS rebinding
    // cannot slip a private one past a check of the name).
    bool public_only = false;
};

struct HttpResponse {
    int status = 0;
    Headers headers;
    std::string body;
    // The body was longer than max_response_bytes: `body` holds its first
    // max_response_bytes, the rest was discarded (the connection closed).
    bool truncated = false;
    std::chrono::milliseconds latency{0};
    // Value of a header (case-insensitive name), empty if absent.
    std::string header(std::string_view name) const;
};

struct HttpClientOptions {
    std::size_t max_idle_per_host = 8;
    bool verify_tls = true;                  // false only for tests with self-signed certs
    std::string ca_file;                     // extra CA bundle (tests); system store otherwise
};

class HttpClient {
public:
    HttpClient(boost::asio::any_io_executor executor, HttpClientOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Any HTTP status is a successful Result (the caller decides what a 500
    // means), also with an oversize body (HttpResponse::truncated); transport
    // failures and timeouts are Errors (Errc::transport). Redirects are not
    // followed.
    boost::asio::awaitable<Result<HttpResponse>> request(HttpRequest req);

    // Drops idle connections (on shutdown).
    void close_idle();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Longest pause a chain node may impose with Retry-After (a proxy's 503 with
// "Retry-After: 86400" must not stop a chain for a day).
inline constexpr long long kMaxNodeRetryAfterMs = 10LL * 60 * 1000;
// Ceiling of retry_after_ms() whatever the caller's own bound.
inline constexpr long long kMaxRetryAfterMs = 24LL * 3600 * 1000;

// Parses Retry-After (delta-seconds or IMF-fixdate HTTP-date) into a wait in
// milliseconds, at most `max_ms` (and never above kMaxRetryAfterMs): a huge
// delta or a date in year 9999 reads as max_ms, a date in the past as 0.
// -1 when absent or not a Retry-After value. Overflow-safe for any input.
long long retry_after_ms(std::string_view value, std::int64_t now_unix_ms, long long max_ms = kMaxRetryAfterMs);

}  // namespace depositd::net
