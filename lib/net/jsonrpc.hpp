#pragma once
// JSON-RPC 2.0 over HTTP with failover across endpoints, retry with
// exponential backoff + jitter (honouring Retry-After), a per-endpoint
// request-rate cap, custom headers (API keys) and batch calls matched by id.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
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
    // Largest answer body read; a bigger one is Errc::range_too_large (the
    // adapters then ask for fewer blocks). Config: chains[].max_response_size.
    std::size_t max_response_bytes = 32u << 20;
    std::string name;                              // for logs: the chain id
    // Basic-auth credentials ("user:password", "" = none) asked for every
    // request, for a node whose password changes: Bitcoin Core rewrites its
    // cookie file on every start. Called with reload = true after an HTTP
    // 401, and the request is sent once more. Never logged.
    std::function<std::string(bool reload)> basic_auth;
};

// Where one call goes. Default: the endpoint that answered last, failing over
// to the next ones in order.
struct CallOptions {
    // Start at the endpoint after the one that answered last: a second
    // opinion from another backend (with one endpoint, the same one). Such a
    // call does not change which endpoint later calls prefer.
    bool prefer_other_endpoint = false;
    // This endpoint only (index into JsonRpcOptions::endpoints): no failover
    // and no EndpointCheck (verify() asks every endpoint itself).
    std::optional<std::size_t> endpoint;
};

// A check an endpoint must pass before calls use it (EVM: eth_chainId equals
// the chain's id). Checked when an endpoint is first used, when calls switch
// to it (failover) and its last check is older than `recheck_on_switch`, and
// every `recheck_every`. An endpoint that fails is out of rotation (error
// log) and probed again after `retry_bad_after`, never used meanwhile; when
// every endpoint is out, calls fail with Errc::unavailable naming them.
struct EndpointCheck {
    std::string method;
    json::array params;
    // Ok: usable. Errc::invalid_input: wrong (taken out of rotation).
    // Anything else: could not tell this time (a failed attempt).
    std::function<Status(const json::value& result)> check;
    std::chrono::milliseconds recheck_every{5 * 60'000};
    std::chrono::milliseconds recheck_on_switch{10'000};
    std::chrono::milliseconds retry_bad_after{60'000};
};

// Classification of a failed call (in Error::code):
//   transport     connect/read failure, timeout, non-JSON body
//   http_status   non-2xx status (Error::status set)
//   rate_limited  429 / 503 with Retry-After (Error::retry_after_ms set, at
//                 most kMaxNodeRetryAfterMs)
//   rpc_error     JSON-RPC error object (message = node's message, status = code)
//   range_too_large  a provider's "range too large / too many results" error
//                 (Error::suggested_to set when the provider suggested a range
//                 end), HTTP 413, or an answer above max_response_bytes
// Node text in messages (JSON-RPC error messages, quoted bodies) is capped
// and escaped (core/text.hpp).
//   malformed     JSON that is not a JSON-RPC response for our id
class JsonRpcClient {
public:
    JsonRpcClient(HttpClient& http, JsonRpcOptions options);
    ~JsonRpcClient();

    // One call; transient failures (transport, 5xx, 429) are retried with
    // backoff and failover; rpc_error and range_too_large are returned at once.
    boost::asio::awaitable<Result<json::value>> call(std::string method, json::array params, CallOptions where = {});

    // call() for answers too big for a DOM: the whole HTTP response body,
    // unparsed, for an adapter to stream-decode. Same retry, failover, rate
    // cap and classification: a JSON-RPC error object is still returned as
    // its Error (rpc_error, range_too_large, rate_limited, ...). Only the top
    // level is checked here (an object answering this id with a result, or
    // with "result": null); the decoder must reject whatever else is wrong.
    boost::asio::awaitable<Result<std::string>> call_raw(std::string method, json::array params);

    // A batch in one HTTP request (split into chunks of max_batch). Results
    // in the order of `calls`; a per-element error fails the whole batch
    // with that element's error (callers retry or split).
    boost::asio::awaitable<Result<std::vector<json::value>>> batch(std::vector<RpcCall> calls,
                                                                   std::size_t max_batch = 50,
                                                                   CallOptions where = {});

    // The same call and batch, but the answer body is handed to `decode`
    // unparsed, so a large result (a Solana block of several MB) is decoded
    // by a streaming parser without a DOM. `decode(body, first_id)` sees the
    // body of every answer that could be a JSON-RPC response (2xx, or a
    // non-2xx whose body is JSON) and judges it; the request ids are
    // first_id, first_id + 1, ... in the order of the calls. Its verdict is
    // treated like call()'s: Errc::rate_limited and Errc::transport (use it
    // for a body that is not JSON) are retried with backoff and failover,
    // anything else is returned. Whatever `decode` stored is the caller's
    // (it is called again on a retry: reset the output first).
    using RawDecoder = std::function<Status(std::string_view body, std::int64_t first_id)>;
    boost::asio::awaitable<Status> call_raw(std::string method, json::array params, RawDecoder decode);
    boost::asio::awaitable<Status> batch_raw(std::vector<RpcCall> calls, RawDecoder decode);

    // Plain HTTP GET/POST of a JSON body to endpoint + path (TRON's REST API),
    // with the same failover, retry, rate cap and headers.
    boost::asio::awaitable<Result<json::value>> post_json(std::string path, std::string body);

    // Installs (or replaces) the check every endpoint must pass; endpoints
    // are checked again from scratch.
    void set_endpoint_check(EndpointCheck check);
    // Probes every endpoint now, in order (start-up checks): one Status per
    // endpoint, as EndpointCheck::check said (transport errors as they came).
    // Updates which endpoints are in rotation. Needs a check installed.
    boost::asio::awaitable<std::vector<Status>> check_endpoints();
    // Endpoint i as safe to log (scheme://host:port).
    std::string endpoint_name(std::size_t i) const;

    const JsonRpcOptions& options() const { return options_; }

    struct Impl;  // defined in jsonrpc.cpp

private:
    JsonRpcOptions options_;
    std::unique_ptr<Impl> impl_;
};

// Recognises provider "range too large / too many results" messages and
// extracts a suggested end block when one is given (Infura data.to, Alchemy
// "[0x.., 0x..]", "retry with the range a-b"). Exposed for unit tests.
bool is_range_error(int code, const std::string& message, const json::value* data, long long& suggested_to);

// The Error for a JSON-RPC error object's code and message, classified as
// call() does (rate_limited, range_too_large or rpc_error; status = code).
// For decoders that read the error object themselves (call_raw).
Error classify_rpc_error(long long code, std::string message);

}  // namespace depositd::net
