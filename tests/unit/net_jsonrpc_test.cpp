// JsonRpcClient against real local servers (127.0.0.1, port 0), plus the
// provider range-error recogniser on the real strings of chains.md §3.4.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/metrics.hpp"
#include "net/jsonrpc.hpp"
#include "net_test_server.hpp"

using namespace depositd;
using namespace depositd::net;
using nettest::Reply;
using nettest::Seen;
using nettest::Server;
namespace asio = boost::asio;

namespace {

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

// Answers a JSON-RPC request (single or batch) with result = "<method>:<first param>".
json::value answer_one(const json::object& req) {
    json::object o;
    o["jsonrpc"] = "2.0";
    o["id"] = req.at("id");
    std::string r = std::string(req.at("method").as_string());
    const auto& p = req.at("params").as_array();
    if (!p.empty()) r += ":" + json::serialize(p[0]);
    o["result"] = r;
    return o;
}

Reply echo(const Seen& s) {
    json::value v = json::parse(s.body);
    if (v.is_array()) {
        json::array out;
        for (auto& e : v.as_array()) out.push_back(answer_one(e.as_object()));
        return Reply{200, json::serialize(out)};
    }
    return Reply{200, json::serialize(answer_one(v.as_object()))};
}

JsonRpcOptions fast(std::vector<std::string> endpoints) {
    JsonRpcOptions o;
    o.endpoints = std::move(endpoints);
    o.timeout = std::chrono::seconds(5);
    o.backoff_base = std::chrono::milliseconds(5);
    o.backoff_max = std::chrono::milliseconds(2000);
    o.name = "testchain";
    return o;
}

json::array params(std::initializer_list<json::value> v) { return json::array(v.begin(), v.end()); }

Reply rpc_error_reply(const std::string& error_json) {
    return Reply{200, R"({"jsonrpc":"2.0","id":1,"error":)" + error_json + "}"};
}

}  // namespace

TEST(NetJsonRpc, CallReturnsResultAndSendsHeaders) {
    Server srv(echo);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({srv.url("/v2/secret-key")});
    o.headers = {{"TRON-PRO-API-KEY", "25f66928"}, {"X-Other", "v"}};
    JsonRpcClient rpc(http, o);
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(str(*r), "eth_blockNumber");
    auto r2 = nettest::run(ioc, rpc.call("eth_getBlockByNumber", params({"0x10", false})));
    ASSERT_TRUE(r2.ok()) << r2.error().describe();
    EXPECT_EQ(str(*r2), "eth_getBlockByNumber:\"0x10\"");

    auto seen = srv.seen();
    ASSERT_EQ(seen.size(), 2u);
    for (auto& s : seen) {
        EXPECT_EQ(s.target, "/v2/secret-key");
        EXPECT_EQ(s.headers["tron-pro-api-key"], "25f66928");
        EXPECT_EQ(s.headers["x-other"], "v");
        EXPECT_EQ(s.headers["content-type"], "application/json");
        auto body = json::parse(s.body).as_object();
        EXPECT_EQ(str(body.at("jsonrpc")), "2.0");
        EXPECT_TRUE(body.at("params").is_array());
    }
    EXPECT_EQ(srv.connections(), 1);  // keep-alive
}

TEST(NetJsonRpc, ErrorObjectIsRpcErrorAndNotRetried) {
    Server srv([](const Seen& s) {
        auto id = json::parse(s.body).as_object().at("id");
        return Reply{200, R"({"jsonrpc":"2.0","id":)" + json::serialize(id) +
                              R"(,"error":{"code":-32601,"message":"the method foo does not exist/is not available"}})"};
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.call("foo", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::rpc_error);
    EXPECT_EQ(r.error().status, -32601);
    EXPECT_EQ(r.error().message, "the method foo does not exist/is not available");
    EXPECT_EQ(srv.requests(), 1);
}

TEST(NetJsonRpc, BitcoinStyleHttp500WithJsonRpcErrorIsRpcError) {
    Server srv([](const Seen& s) {
        auto id = json::parse(s.body).as_object().at("id");
        return Reply{500, R"({"result":null,"error":{"code":-8,"message":"Block height out of range"},"id":)" +
                              json::serialize(id) + "}"};
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.call("getblockhash", params({999999999})));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::rpc_error);
    EXPECT_EQ(r.error().status, -8);
    EXPECT_EQ(srv.requests(), 1);
}

TEST(NetJsonRpc, NullResultIsAValue) {
    Server srv([](const Seen& s) {
        auto id = json::parse(s.body).as_object().at("id");
        return Reply{200, R"({"jsonrpc":"2.0","id":)" + json::serialize(id) + R"(,"result":null})"};
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.call("eth_getBlockByNumber", params({"0xffffff", false})));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_TRUE(r->is_null());
}

TEST(NetJsonRpc, WrongIdOrShapeIsMalformed) {
    Server srv([](const Seen&) { return Reply{200, R"({"jsonrpc":"2.0","id":987654,"result":"0x1"})"}; });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::malformed);
}

TEST(NetJsonRpc, NonJsonBodyIsTransport) {
    Server srv([](const Seen&) { return Reply{200, "<html>Cloudflare says hi</html>"}; });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({srv.url()});
    o.max_attempts = 2;
    JsonRpcClient rpc(http, o);
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::transport);
    EXPECT_EQ(srv.requests(), 2);  // transient: retried up to max_attempts
}

TEST(NetJsonRpc, RateLimited429WithRetryAfterThenSuccess) {
    std::atomic<int> n{0};
    Server srv([&](const Seen& s) {
        if (n++ == 0) {
            Reply r{429, R"({"jsonrpc":"2.0","error":{"code":429,"message":"Too Many Requests"}})"};
            r.headers = {{"Retry-After", "1"}};
            return r;
        }
        return echo(s);
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto t0 = std::chrono::steady_clock::now();
    auto r = nettest::run(ioc, rpc.call("eth_chainId", {}));
    auto elapsed = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(srv.requests(), 2);
    EXPECT_GE(elapsed, std::chrono::milliseconds(900));  // honoured Retry-After: 1
}

TEST(NetJsonRpc, RetryAfterLongerThanBackoffMaxIsReturned) {
    Server srv([](const Seen&) {
        Reply r{429, "slow down"};
        r.headers = {{"Retry-After", "3600"}};
        return r;
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.call("eth_chainId", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::rate_limited);
    EXPECT_EQ(r.error().status, 429);
    EXPECT_EQ(r.error().retry_after_ms, 600'000);  // an hour asked, 10 min (kMaxNodeRetryAfterMs) granted
    EXPECT_EQ(srv.requests(), 1);
}

TEST(NetJsonRpc, Http500FailsOverToSecondEndpointAndRemembersIt) {
    Server bad([](const Seen&) { return Reply{500, "internal error"}; });
    Server good(echo);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({bad.url(), good.url()}));
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(bad.requests(), 1);
    EXPECT_EQ(good.requests(), 1);
    // The healthy endpoint is now preferred.
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(nettest::run(ioc, rpc.call("eth_blockNumber", {})).ok());
    EXPECT_EQ(bad.requests(), 1);
    EXPECT_EQ(good.requests(), 4);
}

TEST(NetJsonRpc, ConnectionRefusedFailsOver) {
    Server good(echo);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({"http://127.0.0.1:" + std::to_string(nettest::closed_port()) + "/", good.url()}));
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(good.requests(), 1);
}

TEST(NetJsonRpc, AllEndpointsDownIsTransportAfterMaxAttempts) {
    Server bad([](const Seen&) { return Reply{502, "bad gateway"}; });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({bad.url()});
    o.max_attempts = 3;
    JsonRpcClient rpc(http, o);
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::http_status);
    EXPECT_EQ(r.error().status, 502);
    EXPECT_EQ(bad.requests(), 3);
}

TEST(NetJsonRpc, TimeoutFailsOver) {
    Server hang([](const Seen&) {
        Reply r;
        r.hang = true;
        return r;
    });
    Server good(echo);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({hang.url(), good.url()});
    o.timeout = std::chrono::milliseconds(300);
    JsonRpcClient rpc(http, o);
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(hang.requests(), 1);
}

TEST(NetJsonRpc, BatchAnsweredOutOfOrder) {
    Server srv([](const Seen& s) {
        Reply r = echo(s);
        auto arr = json::parse(r.body).as_array();
        std::reverse(arr.begin(), arr.end());
        r.body = json::serialize(arr);
        return r;
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    std::vector<RpcCall> calls;
    for (int i = 0; i < 7; ++i) calls.push_back({"m" + std::to_string(i), params({i})});
    auto r = nettest::run(ioc, rpc.batch(calls, 3));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_EQ(r->size(), 7u);
    for (int i = 0; i < 7; ++i) EXPECT_EQ(str((*r)[i]), "m" + std::to_string(i) + ":" + std::to_string(i));
    EXPECT_EQ(srv.requests(), 3);  // chunks of 3, 3, 1
    EXPECT_EQ(json::parse(srv.seen()[2].body).as_array().size(), 1u);
    // Empty batch: no request.
    auto e = nettest::run(ioc, rpc.batch({}, 3));
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(e->empty());
    EXPECT_EQ(srv.requests(), 3);
}

TEST(NetJsonRpc, BatchWithMissingIdIsMalformed) {
    Server srv([](const Seen& s) {
        Reply r = echo(s);
        auto arr = json::parse(r.body).as_array();
        arr.erase(arr.begin() + 1);
        r.body = json::serialize(arr);
        return r;
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.batch({{"a", {}}, {"b", {}}, {"c", {}}}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::malformed);
}

TEST(NetJsonRpc, BatchElementErrorFailsTheBatch) {
    Server srv([](const Seen& s) {
        auto arr = json::parse(s.body).as_array();
        json::array out;
        for (auto& e : arr) {
            const auto& o = e.as_object();
            if (o.at("method").as_string() == "eth_getLogs") {
                json::object err;
                err["jsonrpc"] = "2.0";
                err["id"] = o.at("id");
                err["error"] = json::parse(
                    R"({"code":-32602,"message":"query exceeds max results 20000, retry with the range 23879634-23879696"})");
                out.push_back(err);
            } else {
                out.push_back(answer_one(o));
            }
        }
        return Reply{200, json::serialize(out)};
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.batch({{"eth_blockNumber", {}}, {"eth_getLogs", {}}}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::range_too_large);
    EXPECT_EQ(r.error().suggested_to, 23879696);
}

TEST(NetJsonRpc, WholeBatchRefused) {
    Server srv([](const Seen&) {
        return Reply{200, R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}})"};
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.batch({{"a", {}}, {"b", {}}}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::rpc_error);
    EXPECT_EQ(r.error().message, "batch too large");
}

struct RangeCase {
    int code;
    const char* error_json;  // the provider's error object, verbatim from chains.md §3.4
    long long suggested_to;
};

const RangeCase kRangeCases[] = {
    {-32005,
     R"({"code":-32005,"data":{"from":"0xBDE5F8","limit":10000,"to":"0x102DBCC"},"message":"query returned more than 10000 results. Try with this block range [0xBDE5F8, 0x102DBCC]."})",
     0x102DBCC},
    {-32602,
     R"({"code":-32602,"message":"Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response. Based on your parameters and the response size limit, this block range should work: [0x0, 0xd043b8]"})",
     0xd043b8},
    {-32602, R"({"code":-32602,"message":"query exceeds max results 20000, retry with the range 23879634-23879696"})",
     23879696},
    {-32602, R"({"code":-32602,"message":"query exceeds max block range 100000"})", -1},
    {-32603, R"({"code":-32603,"message":"eth_getLogs range is too large, max is 1k blocks"})", -1},
    {35, R"({"code":35,"message":"ranges over 10000 blocks are not supported on freetier"})", -1},
    {-32602, R"({"code":-32602,"message":"eth_getLogs is limited to 1024 block range"})", -1},
    {-32602, R"({"code":-32602,"message":"exceed max block range: 5000"})", -1},
    {-32000, R"({"code":-32000,"message":"block range is too wide"})", -1},
    {-32005, R"({"code":-32005,"message":"limit exceeded"})", -1},
    {-32614, R"({"code":-32614,"message":"eth_getLogs and eth_newFilter are limited to a 10,000 blocks range"})", -1},
};

TEST(NetJsonRpc, RangeErrorsFromRealProviders) {
    for (const auto& c : kRangeCases) {
        auto v = json::parse(c.error_json).as_object();
        long long sug = -2;
        EXPECT_TRUE(is_range_error(c.code, std::string(v.at("message").as_string()), v.if_contains("data"), sug))
            << c.error_json;
        EXPECT_EQ(sug, c.suggested_to) << c.error_json;
    }
    long long sug = -2;
    EXPECT_TRUE(is_range_error(413, "eth_getLogs and eth_newFilter are limited to a 10,000 blocks range", nullptr, sug));
    EXPECT_TRUE(is_range_error(413, "Payload Too Large", nullptr, sug));
    // Not range errors: geth's own parameter errors, rate limits, ordinary failures.
    for (const char* m : {"invalid block range params",
                          "invalid argument 0: cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other",
                          "block range extends beyond current head block", "Pruned history unavailable",
                          "daily request count exceeded, request rate limited", "rate limit exceeded",
                          "execution reverted", "header not found"}) {
        EXPECT_FALSE(is_range_error(-32602, m, nullptr, sug)) << m;
        EXPECT_EQ(sug, -1);
    }
}

TEST(NetJsonRpc, RangeErrorsThroughCall) {
    std::size_t i = 0;
    Server srv([&](const Seen&) { return rpc_error_reply(kRangeCases[i].error_json); });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    for (i = 0; i < std::size(kRangeCases); ++i) {
        // The error has id 1 whatever we sent: an error object is an answer even so.
        auto r = nettest::run(ioc, rpc.call("eth_getLogs", params({json::object{}})));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, Errc::range_too_large) << kRangeCases[i].error_json;
        EXPECT_EQ(r.error().suggested_to, kRangeCases[i].suggested_to) << kRangeCases[i].error_json;
        EXPECT_EQ(r.error().status, kRangeCases[i].code);
    }
    EXPECT_EQ(srv.requests(), static_cast<int>(std::size(kRangeCases)));  // never retried
}

TEST(NetJsonRpc, Http413IsRangeTooLarge) {
    Server srv([](const Seen&) {
        return Reply{413, "eth_getLogs and eth_newFilter are limited to a 10,000 blocks range"};
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.call("eth_getLogs", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::range_too_large);
    EXPECT_EQ(r.error().status, 413);
    EXPECT_EQ(srv.requests(), 1);
}

TEST(NetJsonRpc, RateCapSpacesRequests) {
    Server srv(echo);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({srv.url()});
    o.max_rps = 20;  // one request per 50 ms
    JsonRpcClient rpc(http, o);
    // Eight concurrent calls on one io_context: the cap spaces them out.
    std::vector<std::future<Result<json::value>>> futs;
    for (int i = 0; i < 8; ++i)
        futs.push_back(asio::co_spawn(ioc, rpc.call("m", params({i})), asio::use_future));
    auto t0 = std::chrono::steady_clock::now();
    ioc.run();
    auto elapsed = std::chrono::steady_clock::now() - t0;
    for (int i = 0; i < 8; ++i) {
        auto r = futs[i].get();
        ASSERT_TRUE(r.ok()) << r.error().describe();
        EXPECT_EQ(str(*r), "m:" + std::to_string(i));
    }
    EXPECT_EQ(srv.requests(), 8);
    // 8 requests at >= 50 ms spacing need >= 350 ms (a loose lower bound).
    EXPECT_GE(elapsed, std::chrono::milliseconds(340));
    // The first request in each slot arrived in call order.
    auto seen = srv.seen();
    for (int i = 0; i < 8; ++i)
        EXPECT_EQ(json::parse(seen[i].body).as_object().at("params").as_array()[0].as_int64(), i);
}

TEST(NetJsonRpc, PostJsonForRestApis) {
    Server srv([](const Seen& s) {
        if (s.target == "/wallet/getnowblock") return Reply{200, R"({"blockID":"00ab","block_header":{}})"};
        if (s.target == "/wallet/getblockbynum") return Reply{200, R"({"Error":"class java.lang.NumberFormatException : x"})"};
        return Reply{200, "not json at all"};
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({srv.url("/")});  // trailing slash + leading slash join to one
    o.headers = {{"TRON-PRO-API-KEY", "key"}};
    o.max_attempts = 1;
    JsonRpcClient rpc(http, o);
    auto r = nettest::run(ioc, rpc.post_json("/wallet/getnowblock", "{}"));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(str(r->as_object().at("blockID")), "00ab");
    auto e = nettest::run(ioc, rpc.post_json("/wallet/getblockbynum", R"({"num":"x"})"));
    ASSERT_TRUE(e.ok()) << e.error().describe();  // the TRON adapter interprets {"Error":...}
    EXPECT_TRUE(e->as_object().contains("Error"));
    auto bad = nettest::run(ioc, rpc.post_json("/other", "{}"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::transport);
    auto seen = srv.seen();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[1].body, R"({"num":"x"})");
    EXPECT_EQ(seen[1].headers["tron-pro-api-key"], "key");
}

TEST(NetJsonRpc, MetricsAreRecorded) {
    Server srv(echo);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url(), "http://127.0.0.1:" + std::to_string(nettest::closed_port())}));
    ASSERT_TRUE(nettest::run(ioc, rpc.call("eth_blockNumber", {})).ok());
    Server bad([](const Seen&) { return Reply{500, "x"}; });
    auto o = fast({bad.url()});
    o.max_attempts = 1;
    o.name = "metricschain";
    JsonRpcClient rpc2(http, o);
    ASSERT_FALSE(nettest::run(ioc, rpc2.call("eth_blockNumber", {})).ok());
    std::string text = metrics::Registry::global().render();
    EXPECT_NE(text.find("depositd_rpc_request_seconds"), std::string::npos) << text;
    EXPECT_NE(text.find("method=\"eth_blockNumber\""), std::string::npos) << text;
    EXPECT_NE(text.find("depositd_rpc_errors_total"), std::string::npos) << text;
    EXPECT_NE(text.find("metricschain"), std::string::npos) << text;
}

TEST(NetJsonRpc, NoEndpointsIsUnavailable) {
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({}));
    auto r = nettest::run(ioc, rpc.call("x", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
}

// ---- Retry-After from nodes is bounded (issue 10) ----

namespace {

Reply pause_reply(int status, std::string retry_after) {
    Reply r{status, "<html>come back later</html>"};
    r.headers = {{"Retry-After", std::move(retry_after)}};
    return r;
}

}  // namespace

TEST(NetJsonRpc, RetryAfterOfADayPausesTheEndpointTenMinutesAtMost) {
    for (int status : {429, 503}) {
        for (const char* ra : {"86400", "999999999", "Fri, 31 Dec 9999 23:59:59 GMT"}) {
            Server srv([&](const Seen&) { return pause_reply(status, ra); });
            asio::io_context ioc;
            HttpClient http(ioc.get_executor());
            JsonRpcClient rpc(http, fast({srv.url()}));
            auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
            ASSERT_FALSE(r.ok());
            EXPECT_EQ(r.error().code, Errc::rate_limited) << status << " " << ra;
            EXPECT_EQ(r.error().status, status);
            EXPECT_GT(r.error().retry_after_ms, 0);
            EXPECT_LE(r.error().retry_after_ms, kMaxNodeRetryAfterMs) << status << " " << ra;
            // The endpoint stays paused (no request is sent), for at most 10 minutes.
            auto again = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
            ASSERT_FALSE(again.ok());
            EXPECT_EQ(again.error().code, Errc::rate_limited);
            EXPECT_GT(again.error().retry_after_ms, 0);
            EXPECT_LE(again.error().retry_after_ms, kMaxNodeRetryAfterMs);
            EXPECT_EQ(srv.requests(), 1);
        }
    }
}

TEST(NetJsonRpc, GarbageRetryAfterFallsBackToBackoff) {
    std::atomic<int> n{0};
    Server srv([&](const Seen& s) {
        if (n++ == 0) return pause_reply(429, "Sun, 06 Nov 99999999999 08:49:47 GMT");
        return echo(s);
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.call("eth_chainId", {}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(srv.requests(), 2);
}

// ---- Node text in errors is capped and escaped (issue 10) ----

TEST(NetJsonRpc, NodeErrorTextIsCappedAndEscaped) {
    // JSON escapes: a newline, ANSI colour codes, a carriage return, then 100 KB.
    const std::string hostile = "boom\\n\\u001b[31mFAKE LOG LINE\\u001b[0m\\r" + std::string(100'000, 'A');
    Server srv([&](const Seen& s) {
        auto id = json::parse(s.body).as_object().at("id");
        return Reply{200, R"({"jsonrpc":"2.0","id":)" + json::serialize(id) + R"(,"error":{"code":-32000,"message":")" +
                              hostile + R"("}})"};
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    for (bool raw : {false, true}) {
        Error e;
        if (raw) {
            auto r = nettest::run(ioc, rpc.call_raw("eth_call", {}));
            ASSERT_FALSE(r.ok());
            e = r.error();
        } else {
            auto r = nettest::run(ioc, rpc.call("eth_call", {}));
            ASSERT_FALSE(r.ok());
            e = r.error();
        }
        EXPECT_EQ(e.code, Errc::rpc_error);
        EXPECT_EQ(e.status, -32000);
        EXPECT_EQ(e.message.find('\n'), std::string::npos);
        EXPECT_EQ(e.message.find('\r'), std::string::npos);
        EXPECT_EQ(e.message.find('\x1b'), std::string::npos);
        EXPECT_EQ(e.message.rfind("boom\\n\\x1b[31mFAKE LOG LINE\\x1b[0m\\r", 0), 0u) << e.message;
        EXPECT_LT(e.message.size(), 300u);
        EXPECT_NE(e.message.find("bytes)"), std::string::npos) << e.message;
    }
}

TEST(NetJsonRpc, QuotedHttpBodiesAreCappedAndEscaped) {
    Server srv([](const Seen&) { return Reply{502, "\x1b]0;pwned\x07\n" + std::string(1 << 20, 'x')}; });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({srv.url()});
    o.max_attempts = 1;
    JsonRpcClient rpc(http, o);
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::http_status);
    EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos);
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
    EXPECT_NE(r.error().message.find("\\x1b]0;pwned\\x07\\n"), std::string::npos) << r.error().message;
    EXPECT_LT(r.error().message.size(), 400u);
}

// ---- Bounded answers and call_raw (issue 10) ----

namespace {

// {"jsonrpc":"2.0","id":<id>,"result":<result>} for the request's id.
Reply result_reply(const Seen& s, const std::string& result_json) {
    auto id = json::parse(s.body).as_object().at("id");
    return Reply{200, R"({"jsonrpc":"2.0","id":)" + json::serialize(id) + R"(,"result":)" + result_json + "}"};
}

std::string big_logs(std::size_t n) {
    std::string out = "[";
    for (std::size_t i = 0; i < n; ++i) {
        if (i) out += ",";
        out += R"({"address":"0xdac17f958d2ee523a2206206994597c13d831ec7","blockNumber":"0x)" + std::to_string(100 + i) +
               R"(","data":"0x)" + std::string(64, '0') + R"(","logIndex":"0x0","removed":false})";
    }
    return out + "]";
}

}  // namespace

TEST(NetJsonRpc, AnswerAboveMaxResponseBytesIsRangeTooLargeAndNotRetried) {
    const std::string logs = big_logs(20'000);  // ~3 MB
    Server srv([&](const Seen& s) { return result_reply(s, logs); });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({srv.url()});
    o.max_response_bytes = 1u << 20;
    JsonRpcClient rpc(http, o);
    for (bool raw : {false, true}) {
        Error e;
        if (raw) {
            auto r = nettest::run(ioc, rpc.call_raw("eth_getLogs", {}));
            ASSERT_FALSE(r.ok());
            e = r.error();
        } else {
            auto r = nettest::run(ioc, rpc.call("eth_getLogs", {}));
            ASSERT_FALSE(r.ok());
            e = r.error();
        }
        EXPECT_EQ(e.code, Errc::range_too_large);
        EXPECT_NE(e.message.find("max_response_size (1048576 bytes)"), std::string::npos) << e.message;
    }
    EXPECT_EQ(srv.requests(), 2);  // one per call: the same request would get the same answer
    // Under the cap the same answer passes.
    o.max_response_bytes = 8u << 20;
    JsonRpcClient roomy(http, o);
    auto ok = nettest::run(ioc, roomy.call("eth_getLogs", {}));
    ASSERT_TRUE(ok.ok()) << ok.error().describe();
    EXPECT_EQ(ok->as_array().size(), 20'000u);
}

TEST(NetJsonRpc, CallRawReturnsTheWholeBodyUnparsed) {
    const std::string logs = big_logs(20'000);
    std::string sent;
    Server srv([&](const Seen& s) {
        Reply r = result_reply(s, logs);
        sent = r.body;
        return r;
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.call_raw("eth_getLogs", params({json::object{{"fromBlock", "0x1"}}})));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(*r, sent);
    auto req = json::parse(srv.seen().at(0).body).as_object();
    EXPECT_EQ(req.at("method").as_string(), "eth_getLogs");
    EXPECT_EQ(req.at("jsonrpc").as_string(), "2.0");
    EXPECT_EQ(req.at("params").as_array().at(0).as_object().at("fromBlock").as_string(), "0x1");
}

TEST(NetJsonRpc, CallRawResultNullAndBitcoinStyleErrors) {
    std::atomic<int> mode{0};
    Server srv([&](const Seen& s) {
        auto id = json::serialize(json::parse(s.body).as_object().at("id"));
        switch (mode.load()) {
            case 0: return Reply{200, R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":null})"};
            case 1: return Reply{200, R"({"result":null,"error":{"code":-8,"message":"Block height out of range"},"id":)" + id + "}"};
            case 2: return Reply{500, R"({"result":null,"error":{"code":-8,"message":"Block height out of range"},"id":)" + id + "}"};
            default: return Reply{200, R"({"id":)" + id + R"(,"error":null,"result":"0x10"})"};
        }
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto null_result = nettest::run(ioc, rpc.call_raw("eth_getBlockByNumber", {}));
    ASSERT_TRUE(null_result.ok()) << null_result.error().describe();
    EXPECT_TRUE(json::parse(*null_result).as_object().at("result").is_null());
    for (int m : {1, 2}) {
        mode = m;
        auto r = nettest::run(ioc, rpc.call_raw("getblockhash", {}));
        ASSERT_FALSE(r.ok()) << m;
        EXPECT_EQ(r.error().code, Errc::rpc_error);
        EXPECT_EQ(r.error().status, -8);
        EXPECT_EQ(r.error().message, "Block height out of range");
    }
    mode = 3;
    auto ok = nettest::run(ioc, rpc.call_raw("eth_blockNumber", {}));
    ASSERT_TRUE(ok.ok()) << ok.error().describe();
    EXPECT_EQ(srv.requests(), 4);  // none retried
}

TEST(NetJsonRpc, CallRawRecognisesRangeAndRateLimitErrors) {
    std::atomic<int> n{0};
    Server srv([&](const Seen& s) {
        auto id = json::serialize(json::parse(s.body).as_object().at("id"));
        const int k = n++;
        if (k == 0)
            return Reply{200, R"({"jsonrpc":"2.0","id":)" + id +
                                  R"(,"error":{"code":-32005,"message":"query returned more than 10000 results. Try with this block range [0x10, 0x20]."}})"};
        if (k == 1)
            return Reply{200, R"({"jsonrpc":"2.0","id":)" + id +
                                  R"(,"error":{"code":-32005,"message":"daily request rate limit exceeded"}})"};
        return result_reply(s, "[]");
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto range = nettest::run(ioc, rpc.call_raw("eth_getLogs", {}));
    ASSERT_FALSE(range.ok());
    EXPECT_EQ(range.error().code, Errc::range_too_large);
    EXPECT_EQ(range.error().suggested_to, 0x20);
    EXPECT_EQ(srv.requests(), 1);
    // A rate-limit error object is retried like a 429.
    auto after_limit = nettest::run(ioc, rpc.call_raw("eth_getLogs", {}));
    ASSERT_TRUE(after_limit.ok()) << after_limit.error().describe();
    EXPECT_EQ(srv.requests(), 3);
}

TEST(NetJsonRpc, CallRawRetriesAndFailsOverLikeCall) {
    std::atomic<int> n{0};
    Server flaky([&](const Seen&) {
        if (n++ == 0) return pause_reply(429, "0");
        return Reply{502, "bad gateway"};
    });
    Server good([](const Seen& s) { return result_reply(s, R"("0x1")"); });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({flaky.url(), good.url()}));
    auto r = nettest::run(ioc, rpc.call_raw("eth_blockNumber", {}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(json::parse(*r).as_object().at("result").as_string(), "0x1");
    EXPECT_EQ(flaky.requests(), 1);
    EXPECT_EQ(good.requests(), 1);
}

TEST(NetJsonRpc, CallRawRejectsWhatIsNoAnswerToTheCall) {
    std::atomic<int> mode{0};
    Server srv([&](const Seen& s) {
        auto id = json::serialize(json::parse(s.body).as_object().at("id"));
        switch (mode.load()) {
            case 0: return Reply{200, R"({"jsonrpc":"2.0","id":424242,"result":[1,2,3]})"};  // another id
            case 1: return Reply{200, R"([{"jsonrpc":"2.0","id":)" + id + R"(,"result":1}])"};  // an array
            case 2: return Reply{200, R"({"jsonrpc":"2.0","id":)" + id + "}"};                 // neither
            case 3: return Reply{200, R"({"jsonrpc":"2.0","id":"0x)" + std::string("zz") + R"(","result":1})"};
            default: return Reply{200, "<html>maintenance</html>"};                              // not JSON
        }
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({srv.url()});
    o.max_attempts = 2;
    JsonRpcClient rpc(http, o);
    for (int m : {0, 1, 2, 3}) {
        mode = m;
        auto r = nettest::run(ioc, rpc.call_raw("eth_getLogs", {}));
        ASSERT_FALSE(r.ok()) << m;
        EXPECT_EQ(r.error().code, Errc::malformed) << m << ": " << r.error().describe();
    }
    const int before = srv.requests();
    mode = 4;
    auto r = nettest::run(ioc, rpc.call_raw("eth_getLogs", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::transport);
    EXPECT_EQ(srv.requests() - before, 2);  // transient, like call()
}

TEST(NetJsonRpc, RawCallHandsTheBodyToTheDecoderAndRetriesItsTransientVerdicts) {
    std::atomic<int> n{0};
    Server srv([&](const Seen& s) {
        const int k = n++;
        if (k == 0) return Reply{200, "<html>502</html>"};                        // decoder: transport -> retried
        if (k == 1) return Reply{429, "{}", {{"Retry-After", "0"}}};               // HTTP 429 -> retried
        if (k == 2) return rpc_error_reply(R"({"code":429,"message":"rate limit"})");  // decoder: rate_limited -> retried
        return echo(s);
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({srv.url()});
    o.max_attempts = 5;
    JsonRpcClient rpc(http, o);
    std::vector<std::string> bodies;
    std::vector<std::int64_t> ids;
    JsonRpcClient::RawDecoder decode = [&](std::string_view body, std::int64_t id) -> Status {
        bodies.emplace_back(body);
        ids.push_back(id);
        auto v = json::parse_bounded(body);
        if (!v) return make_error(Errc::transport, "not JSON");
        if (auto* e = v->as_object().if_contains("error"))
            return classify_rpc_error(e->as_object().at("code").as_int64(), std::string(e->as_object().at("message").as_string()));
        if (v->as_object().at("id").as_int64() != id) return make_error(Errc::malformed, "id");
        return {};
    };
    auto st = nettest::run(ioc, rpc.call_raw("getBlock", params({7}), decode));
    ASSERT_TRUE(st.ok()) << st.error().describe();
    EXPECT_EQ(srv.requests(), 4);
    ASSERT_EQ(bodies.size(), 3u);  // the 429 answer never reaches the decoder as a result
    EXPECT_NE(bodies.back().find("getBlock:7"), std::string::npos);
    // The same id on every attempt of one call.
    EXPECT_EQ(ids.front(), ids.back());

    // A non-transient verdict is returned at once.
    n = 100;
    JsonRpcClient::RawDecoder refuse = [](std::string_view, std::int64_t) -> Status {
        return make_error(Errc::malformed, "no");
    };
    const int before = srv.requests();
    auto bad = nettest::run(ioc, rpc.call_raw("getBlock", params({8}), refuse));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::malformed);
    EXPECT_EQ(srv.requests(), before + 1);
    EXPECT_EQ(classify_rpc_error(-32004, "Block not available for slot 5").code, Errc::rpc_error);
    EXPECT_EQ(classify_rpc_error(429, "Too many requests").code, Errc::rate_limited);
}

TEST(NetJsonRpc, RawBatchSendsOneRequestWithConsecutiveIds) {
    Server srv(echo);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    std::int64_t first = -1;
    std::string seen;
    JsonRpcClient::RawDecoder decode = [&](std::string_view body, std::int64_t id) -> Status {
        first = id;
        seen = std::string(body);
        return {};
    };
    auto st = nettest::run(ioc, rpc.batch_raw({{"a", params({1})}, {"b", params({2})}, {"c", params({3})}}, decode));
    ASSERT_TRUE(st.ok()) << st.error().describe();
    EXPECT_EQ(srv.requests(), 1);
    auto req = json::parse(srv.seen()[0].body).as_array();
    ASSERT_EQ(req.size(), 3u);
    for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(req[k].at("id").as_int64(), first + static_cast<std::int64_t>(k));
    EXPECT_EQ(json::parse(seen).as_array().size(), 3u);
    auto none = nettest::run(ioc, rpc.batch_raw({}, decode));
    EXPECT_TRUE(none.ok());
    EXPECT_EQ(srv.requests(), 1);
}
