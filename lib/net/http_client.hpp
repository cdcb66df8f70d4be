#pragma once
// An HTTP(S)/1.1 client on the daemon's io_context. Beast stays in the .cpp.
// Keep-alive connections are reused per (scheme, host, port); every request
// has a deadline; bodies above a cap are refused; TLS sets SNI and verifies
// the peer certificate and host name.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
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
    std::size_t max_response_bytes = 64u << 20;
};

struct HttpResponse {
    int status = 0;
    Headers headers;
    std::string body;
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
    // means); transport failures, timeouts and oversize bodies are Errors
    // (Errc::transport). Redirects are not followed.
    boost::asio::awaitable<Result<HttpResponse>> request(HttpRequest req);

    // Drops idle connections (on shutdown).
    void close_idle();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Parses Retry-After (delta-seconds or HTTP-date); -1 when absent/invalid.
long long retry_after_ms(const std::string& value, std::int64_t now_unix_ms);

}  // namespace depositd::net
