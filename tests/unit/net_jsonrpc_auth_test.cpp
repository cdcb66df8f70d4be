// JsonRpcClient: Basic auth (URL user:password, the re-read-on-401 hook for
// Bitcoin Core's cookie) and call_raw, against a real local server.
#include <gtest/gtest.h>

#include <atomic>

#include "net/jsonrpc.hpp"
#include "net_test_server.hpp"

using namespace depositd;
using namespace depositd::net;
using nettest::Reply;
using nettest::Seen;
using nettest::Server;
namespace asio = boost::asio;

namespace {

JsonRpcOptions fast(std::vector<std::string> endpoints) {
    JsonRpcOptions o;
    o.endpoints = std::move(endpoints);
    o.timeout = std::chrono::seconds(5);
    o.backoff_base = std::chrono::milliseconds(5);
    o.backoff_max = std::chrono::milliseconds(50);
    o.max_attempts = 2;
    o.name = "btc";
    return o;
}

std::string id_of(const Seen& s) { return json::serialize(json::parse(s.body).as_object().at("id")); }

// A node that accepts one Authorization header value and answers 401
// (empty body, like bitcoind and bcoin) to anything else.
Reply guarded(const Seen& s, const std::string& expected) {
    auto it = s.headers.find("authorization");
    if (it == s.headers.end() || it->second != expected)
        return Reply{401, "", {{"WWW-Authenticate", "Basic realm=\"jsonrpc\""}}};
    return Reply{200, R"({"result":812345,"error":null,"id":)" + id_of(s) + "}"};
}

}  // namespace

TEST(NetJsonRpcAuth, UserPasswordFromTheUrlIsBasicAuthAndNeverInErrors) {
    Server srv([](const Seen& s) { return guarded(s, "Basic dXNlcjpzM2NyZXQ="); });  // user:s3cret
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    const std::string base = "http://user:s3cret@127.0.0.1:" + std::to_string(srv.port()) + "/";
    JsonRpcClient rpc(http, fast({base}));
    auto r = nettest::run(ioc, rpc.call("getblockcount", {}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->as_int64(), 812345);

    // Wrong password: HTTP 401, and neither user nor password in the error.
    JsonRpcClient wrong(http, fast({"http://user:wr0ngpw@127.0.0.1:" + std::to_string(srv.port()) + "/"}));
    auto w = nettest::run(ioc, wrong.call("getblockcount", {}));
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code, Errc::http_status);
    EXPECT_EQ(w.error().status, 401);
    EXPECT_EQ(w.error().describe().find("wr0ngpw"), std::string::npos) << w.error().describe();
    EXPECT_EQ(w.error().describe().find("user"), std::string::npos) << w.error().describe();

    // A refused connection names host:port only.
    const auto dead = nettest::closed_port();
    JsonRpcClient down(http, fast({"http://user:s3cret@127.0.0.1:" + std::to_string(dead) + "/"}));
    auto d = nettest::run(ioc, down.call("getblockcount", {}));
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().describe().find("s3cret"), std::string::npos) << d.error().describe();
}

TEST(NetJsonRpcAuth, CredentialsHookIsAskedAgainAfter401) {
    std::atomic<int> generation{1};
    Server srv([&](const Seen& s) {
        // "__cookie__:pw<generation>", as a restarted bitcoind rewrites it.
        const std::string want = generation.load() == 1 ? "Basic X19jb29raWVfXzpwdzE=" : "Basic X19jb29raWVfXzpwdzI=";
        return guarded(s, want);
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    auto o = fast({srv.url()});
    std::string on_disk = "__cookie__:pw1";
    std::string cached;
    int reads = 0, reloads = 0;
    o.basic_auth = [&](bool reload) {
        if (reload) ++reloads;
        if (cached.empty() || reload) {
            ++reads;
            cached = on_disk;
        }
        return cached;
    };
    JsonRpcClient rpc(http, o);
    ASSERT_TRUE(nettest::run(ioc, rpc.call("getblockcount", {})).ok());
    ASSERT_TRUE(nettest::run(ioc, rpc.call("getblockcount", {})).ok());
    EXPECT_EQ(reads, 1);  // cached between requests
    EXPECT_EQ(reloads, 0);

    // The node restarts with a new cookie: one 401, the hook re-reads, the same call succeeds.
    generation = 2;
    on_disk = "__cookie__:pw2";
    const int before = srv.requests();
    auto r = nettest::run(ioc, rpc.call("getblockcount", {}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(reloads, 1);
    EXPECT_EQ(srv.requests() - before, 2);

    // Still refused after the re-read: a 401 error, not a loop.
    on_disk = "__cookie__:stale";
    cached = "__cookie__:stale";
    generation = 1;  // the node now wants pw1 again, the file says "stale"
    const int before2 = srv.requests();
    auto bad = nettest::run(ioc, rpc.call("getblockcount", {}));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().status, 401);
    EXPECT_EQ(srv.requests() - before2, 2);  // the request and its one re-try, per attempt: not retried on 401
    EXPECT_EQ(bad.error().describe().find("stale"), std::string::npos);
}

TEST(NetJsonRpcAuth, CallRawReturnsTheBodyUnparsed) {
    const std::string block = R"({"result":{"hash":"00ff","tx":[{"txid":"aa"}]},"error":null,"id":%ID%})";
    Server srv([&](const Seen& s) {
        auto req = json::parse(s.body).as_object();
        const std::string method(req.at("method").as_string());
        if (method == "getblock") {
            std::string b = block;
            b.replace(b.find("%ID%"), 4, json::serialize(req.at("id")));
            return Reply{200, b};
        }
        if (method == "core_error")  // Bitcoin Core: HTTP 500 with the JSON-RPC error
            return Reply{500, R"({"result":null,"error":{"code":-5,"message":"Block not found"},"id":)" + id_of(s) + "}"};
        if (method == "bcoin_error")  // bcoin: HTTP 200 with the error: the decoder reads it
            return Reply{200, R"({"result":null,"error":{"message":"Param #1 must be a boolean.","code":-3},"id":)" +
                                  id_of(s) + "}"};
        return Reply{502, "<html>bad gateway</html>"};
    });
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({srv.url()}));
    auto r = nettest::run(ioc, rpc.call_raw("getblock", json::array{"00ff", 2}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_NE(r->find(R"("tx":[{"txid":"aa"}])"), std::string::npos);
    EXPECT_EQ(r->find("%ID%"), std::string::npos);

    auto core = nettest::run(ioc, rpc.call_raw("core_error", json::array{}));
    ASSERT_FALSE(core.ok());
    EXPECT_EQ(core.error().code, Errc::rpc_error);
    EXPECT_EQ(core.error().status, -5);

    // bcoin: the same error with HTTP 200 is classified the same way.
    auto bcoin = nettest::run(ioc, rpc.call_raw("bcoin_error", json::array{}));
    ASSERT_FALSE(bcoin.ok());
    EXPECT_EQ(bcoin.error().code, Errc::rpc_error);
    EXPECT_EQ(bcoin.error().status, -3);
    EXPECT_EQ(bcoin.error().message, "Param #1 must be a boolean.");

    auto gw = nettest::run(ioc, rpc.call_raw("other", json::array{}));
    ASSERT_FALSE(gw.ok());
    EXPECT_EQ(gw.error().code, Errc::http_status);
}
