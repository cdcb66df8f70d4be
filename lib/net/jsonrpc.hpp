#pragma once
// JSON-RPC 2.0 over HTTP with failover across endpoints, retry with
// exponential backoff + jitter (honouring Retry-After), a per-endpoint
// request-rate cap, custom headers (API keys) and batch calls matched by id.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "net/http_client.hpp"

namespace depositd::net {

struct RpcCall {
    std::string method;
    json::array params;
};

struct JsonRpcOptions {
    std::vector<std::string> endpoints;           // failover order
    Headers headers;                               // sent with every request (values never logged)
    std::chrono::milliseconds timeout{10'000};     // per HTTP request
    double max_rps = 0;                            // per endpoint, 0 = unlimited
    int max_attempts = 4;                          // per call, across endpoints
    std::chrono::milliseconds backoff_base{200};
    std::chrono::milliseconds backoff_max{10'000};
    std::size_t max_response_bytes = 64u << 20;
    std::string name;                              // for logs: the chain id
    // Basic-auth credentials ("user:password", "" = none) asked for every
    // request, for a node whose password changes: Bitcoin Core rewrites its
    // cookie file on every start. Called with reload = true after an HTTP
    // 401, and the request is sent once more. Never logged.
    std::function<std::string(bool reload)> basic_auth;
};

// Classification of a failed call (in Error::code):
//   transport     connect/read failure, timeout, non-JSON body
//   http_status   non-2xx status (Error::status set)
//   rate_limited  429 / 503 with Retry-After (Error::retry_after_ms set)
//   rpc_error     JSON-RPC error object (message = node's message, status = code)
//   range_too_large  a provider's "range too large / too many results" error;
//                 Error::suggested_to set when the provider suggested a range end
//   malformed     JSON that is not a JSON-RPC response for our id
class JsonRpcClient {
public:
    JsonRpcClient(HttpClient& http, JsonRpcOptions options);
    ~JsonRpcClient();

    // One call; transient failures (transport, 5xx, 429) are retried with
    // backoff and failover; rpc_error and range_too_large are returned at once.
    boost::asio::awaitable<Result<json::value>> call(std::string method, json::array params);

    // call() for answers too big for a DOM: the HTTP response body of a 2xx
    // answer, unparsed, for an adapter to stream-decode (it must check the
    // envelope: a JSON-RPC error with HTTP 200 comes back here as a body).
    // Non-2xx answers are classified as for call().
    boost::asio::awaitable<Result<std::string>> call_raw(std::string method, json::array params);

    // A batch in one HTTP request (split into chunks of max_batch). Results
    // in the order of `calls`; a per-element error fails the whole batch
    // with that element's error (callers retry or split).
    boost::asio::awaitable<Result<std::vector<json::value>>> batch(std::vector<RpcCall> calls,
                                                                   std::size_t max_batch = 50);

    // Plain HTTP GET/POST of a JSON body to endpoint + path (TRON's REST API),
    // with the same failover, retry, rate cap and headers.
    boost::asio::awaitable<Result<json::value>> post_json(std::string path, std::string body);

    const JsonRpcOptions& options() const { return options_; }

private:
    struct Impl;
    JsonRpcOptions options_;
    std::unique_ptr<Impl> impl_;
};

// Recognises provider "range too large / too many results" messages and
// extracts a suggested end block when one is given (Infura data.to, Alchemy
// "[0x.., 0x..]", "retry with the range a-b"). Exposed for unit tests.
bool is_range_error(int code, const std::string& message, const json::value* data, long long& suggested_to);

}  // namespace depositd::net
