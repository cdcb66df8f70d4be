// JsonRpcClient routing against real local servers (127.0.0.1, port 0):
// CallOptions (one endpoint only, a second opinion from another endpoint) and
// EndpointCheck (an endpoint on another chain is taken out of rotation, never
// used while wrong, probed again later; every endpoint wrong = a clear error).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "net/jsonrpc.hpp"
#include "net_test_server.hpp"

using namespace depositd;
using namespace depositd::net;
using nettest::Reply;
using nettest::Seen;
using nettest::Server;
namespace asio = boost::asio;

namespace {

// A node: eth_chainId answers `chain_id`; other methods "<method>@<name>",
// or HTTP 500 while `failing`.
struct Node {
    std::string name;
    std::atomic<int> chain_id{1};
    std::atomic<bool> failing{false};
    Server server{[this](const Seen& s) { return answer(s); }};

    explicit Node(std::string n, int id = 1) : name(std::move(n)) { chain_id = id; }

    Reply answer(const Seen& s) {
        json::value v = json::parse(s.body);
        auto one = [&](const json::object& req) {
            json::object o;
            o["jsonrpc"] = "2.0";
            o["id"] = req.at("id");
            const std::string m(req.at("method").as_string());
            if (m == "eth_chainId") {
                char buf[32];
                std::snprintf(buf, sizeof buf, "0x%x", chain_id.load());
                o["result"] = buf;
            } else {
                o["result"] = m + "@" + name;
            }
            return o;
        };
        const bool probe = v.is_object() && v.as_object().at("method") == "eth_chainId";
        if (failing && !probe) return Reply{500, "down"};
        if (v.is_array()) {
            json::array out;
            for (auto& e : v.as_array()) out.push_back(one(e.as_object()));
            return Reply{200, json::serialize(out)};
        }
        return Reply{200, json::serialize(one(v.as_object()))};
    }
    // Requests other than eth_chainId probes.
    int calls() const {
        int n = 0;
        for (const auto& s : server.seen())
            if (s.body.find("eth_chainId") == std::string::npos) ++n;
        return n;
    }
    int probes() const {
        int n = 0;
        for (const auto& s : server.seen())
            if (s.body.find("eth_chainId") != std::string::npos) ++n;
        return n;
    }
};

JsonRpcOptions fast(std::vector<std::string> endpoints) {
    JsonRpcOptions o;
    o.endpoints = std::move(endpoints);
    o.timeout = std::chrono::seconds(5);
    o.backoff_base = std::chrono::milliseconds(5);
    o.backoff_max = std::chrono::milliseconds(200);
    o.name = "testchain";
    return o;
}

EndpointCheck chain_is(int expected) {
    EndpointCheck c;
    c.method = "eth_chainId";
    c.check = [expected](const json::value& r) -> Status {
        if (!r.is_string()) return make_error(Errc::malformed, "not a string");
        const long got = std::stol(std::string(r.as_string()), nullptr, 16);
        if (got != expected)
            return make_error(Errc::invalid_input, "reports chain id " + std::to_string(got) + ", expected " +
                                                       std::to_string(expected));
        return {};
    };
    return c;
}

std::string result(const Result<json::value>& r) { return r.ok() ? std::string(r->as_string()) : r.error().describe(); }

}  // namespace

TEST(NetJsonRpcRouting, OneEndpointOnlyNeverFailsOver) {
    Node a("a"), b("b");
    b.failing = true;
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({a.server.url(), b.server.url()}));
    CallOptions only_b;
    only_b.endpoint = 1;
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}, only_b));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::http_status);
    EXPECT_EQ(a.calls(), 0);
    EXPECT_EQ(b.calls(), 4);  // max_attempts, all on b
    CallOptions only_a;
    only_a.endpoint = 0;
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_blockNumber", {}, only_a))), "eth_blockNumber@a");
    CallOptions nowhere;
    nowhere.endpoint = 2;
    EXPECT_FALSE(nettest::run(ioc, rpc.call("eth_blockNumber", {}, nowhere)).ok());
    EXPECT_EQ(rpc.endpoint_name(1), "http://127.0.0.1:" + std::to_string(b.server.port()));
}

TEST(NetJsonRpcRouting, SecondOpinionFromAnotherEndpointKeepsThePreferredOne) {
    Node a("a"), b("b");
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({a.server.url(), b.server.url()}));
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_getLogs", {}))), "eth_getLogs@a");
    CallOptions other;
    other.prefer_other_endpoint = true;
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_getLogs", {}, other))), "eth_getLogs@b");
    auto batch = nettest::run(ioc, rpc.batch({RpcCall{"eth_getLogs", {}}, RpcCall{"eth_getLogs", {}}}, 25, other));
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ((*batch)[0].as_string(), "eth_getLogs@b");
    // Later calls still prefer a.
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_getLogs", {}))), "eth_getLogs@a");
    // The other endpoint down: the second opinion fails over back to a.
    b.failing = true;
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_getLogs", {}, other))), "eth_getLogs@a");
    // One endpoint: the "other" one is itself.
    JsonRpcClient single(http, fast({a.server.url()}));
    EXPECT_EQ(result(nettest::run(ioc, single.call("eth_getLogs", {}, other))), "eth_getLogs@a");
}

TEST(NetJsonRpcRouting, EndpointOnAnotherChainIsNeverUsed) {
    Node a("a", 1), b("b", 56);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({a.server.url(), b.server.url()}));
    rpc.set_endpoint_check(chain_is(1));
    auto statuses = nettest::run(ioc, rpc.check_endpoints());
    ASSERT_EQ(statuses.size(), 2u);
    EXPECT_TRUE(statuses[0].ok());
    ASSERT_FALSE(statuses[1].ok());
    EXPECT_EQ(statuses[1].error().code, Errc::invalid_input);
    EXPECT_NE(statuses[1].error().message.find("56"), std::string::npos);

    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_blockNumber", {}))), "eth_blockNumber@a");
    // a fails: failing over to b is refused (b is wrong); the call fails
    // after its attempts on a, and b never sees a call.
    a.failing = true;
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(b.calls(), 0);
    EXPECT_EQ(a.calls(), 1 + 4);
    // A second opinion is not taken from b either.
    a.failing = false;
    CallOptions other;
    other.prefer_other_endpoint = true;
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_getLogs", {}, other))), "eth_getLogs@a");
    EXPECT_EQ(b.calls(), 0);
}

TEST(NetJsonRpcRouting, EveryEndpointWrongIsAClearErrorAndNothingIsSent) {
    Node a("a", 97), b("b", 56);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({a.server.url(), b.server.url()}));
    rpc.set_endpoint_check(chain_is(1));
    auto r = nettest::run(ioc, rpc.call("eth_getLogs", {}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_NE(r.error().message.find("out of rotation"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("97"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("56"), std::string::npos) << r.error().message;
    EXPECT_EQ(a.calls() + b.calls(), 0);
    EXPECT_EQ(a.probes(), 1);
    EXPECT_EQ(b.probes(), 1);
    // Not probed again before retry_bad_after (60 s by default).
    EXPECT_FALSE(nettest::run(ioc, rpc.call("eth_getLogs", {})).ok());
    EXPECT_EQ(a.probes() + b.probes(), 2);
}

TEST(NetJsonRpcRouting, WrongEndpointIsProbedAgainAndComesBack) {
    Node a("a", 5);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({a.server.url()}));
    auto check = chain_is(1);
    check.retry_bad_after = std::chrono::milliseconds(50);
    rpc.set_endpoint_check(check);
    EXPECT_FALSE(nettest::run(ioc, rpc.call("eth_getLogs", {})).ok());
    a.chain_id = 1;
    EXPECT_FALSE(nettest::run(ioc, rpc.call("eth_getLogs", {})).ok());  // not yet probed again
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_getLogs", {}))), "eth_getLogs@a");
    EXPECT_EQ(a.calls(), 1);
}

TEST(NetJsonRpcRouting, EndpointIsCheckedOnFirstUseOnFailoverAndPeriodically) {
    Node a("a", 1), b("b", 1);
    asio::io_context ioc;
    HttpClient http(ioc.get_executor());
    JsonRpcClient rpc(http, fast({a.server.url(), b.server.url()}));
    auto check = chain_is(1);
    check.recheck_every = std::chrono::milliseconds(1500);
    check.recheck_on_switch = std::chrono::milliseconds(0);
    rpc.set_endpoint_check(check);
    // First use of a: probed once, then used.
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_blockNumber", {}))), "eth_blockNumber@a");
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_blockNumber", {}))), "eth_blockNumber@a");
    EXPECT_EQ(a.probes(), 1);
    EXPECT_EQ(b.probes(), 0);
    // b's backend moves to another chain; a goes down: the failover probes b
    // and refuses it.
    b.chain_id = 56;
    a.failing = true;
    auto r = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(b.probes(), 1);
    EXPECT_EQ(b.calls(), 0);
    // a back; a's backend later switches chains too: the periodic check sees it.
    a.failing = false;
    EXPECT_EQ(result(nettest::run(ioc, rpc.call("eth_blockNumber", {}))), "eth_blockNumber@a");
    a.chain_id = 97;
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    auto r2 = nettest::run(ioc, rpc.call("eth_blockNumber", {}));
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(r2.error().code, Errc::unavailable);
    const int a_calls = a.calls();
    EXPECT_FALSE(nettest::run(ioc, rpc.call("eth_blockNumber", {})).ok());
    EXPECT_EQ(a.calls(), a_calls);
}
