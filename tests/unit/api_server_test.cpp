// The real api::Server on 127.0.0.1:0, driven by Beast clients.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <future>
#include <set>
#include <thread>

#include "api/server.hpp"
#include "api_test_util.hpp"

using namespace depositd;
using namespace depositd::api;
using namespace depositd::api::testing;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class ApiServer : public ::testing::Test {
protected:
    ApiServer() : config_(make_config()), handler_(tmp_.store(), config_, clock_) {}

    ~ApiServer() override { stop(); }

    // Seed the database before start(): afterwards it belongs to the server thread.
    void start(const ServerLimits& limits = {}) {
        server_ = std::make_unique<Server>(ioc_.get_executor(), handler_, "127.0.0.1", 0, config_.api.max_body_bytes);
        server_->set_limits(limits);
        server_->set_workers(workers_.get_executor());  // as the daemon runs it
        auto port = server_->listen();
        ASSERT_TRUE(port.ok()) << port.error().describe();
        port_ = *port;
        ASSERT_NE(port_, 0);
        asio::co_spawn(ioc_, server_->run(), [this](std::exception_ptr e) {
            run_failed_ = e != nullptr;
            run_done_.set_value();
        });
        thread_ = std::thread([this] { ioc_.run(); });
    }

    // Returns true when run() finished within the timeout.
    bool stop(std::chrono::seconds timeout = std::chrono::seconds(10)) {
        if (!thread_.joinable()) return true;
        server_->stop();
        bool finished = run_done_future_.wait_for(timeout) == std::future_status::ready;
        ioc_.stop();
        thread_.join();
        workers_.join();
        EXPECT_FALSE(run_failed_);
        return finished;
    }

    beast::tcp_stream connect() {
        asio::io_context& ctx = client_ctx_;
        beast::tcp_stream s(ctx);
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
        return s;
    }

    static http::response<http::string_body> roundtrip(beast::tcp_stream& s, http::verb verb, const std::string& target,
                                                       const std::string& body = "", bool auth = true,
                                                       bool keep_alive = true) {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (auth) req.set(http::field::authorization, std::string("Bearer ") + kKey);
        if (!body.empty()) req.set(http::field::content_type, "application/json");
        req.body() = body;
        req.keep_alive(keep_alive);
        req.prepare_payload();
        http::write(s, req);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(s, buf, res);
        return res;
    }

    // A connection from another loopback address (a second "client").
    beast::tcp_stream connect_from(const char* source) {
        tcp::socket sock(client_ctx_);
        sock.open(tcp::v4());
        sock.bind(tcp::endpoint(asio::ip::make_address(source), 0));
        sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
        return beast::tcp_stream(std::move(sock));
    }

    // Refused: a 503 (Retry-After) and the close, or at least the close, and promptly.
    static bool refused(beast::tcp_stream& s) {
        s.expires_after(std::chrono::seconds(5));
        const auto t0 = std::chrono::steady_clock::now();
        http::request<http::string_body> req{http::verb::get, "/health", 11};
        req.set(http::field::host, "127.0.0.1");
        beast::error_code ec;
        http::write(s, req, ec);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(s, buf, res, ec);
        if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(3)) return false;
        if (!ec) return res.result_int() == 503 && res[http::field::retry_after] == "1" && !res.keep_alive() &&
                        res.body().find("\"ServiceUnavailable\"") != std::string::npos;
        return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
               ec == asio::error::broken_pipe;
    }

    // Waits (bounded) until the server counts `n` open connections.
    bool wait_sessions(std::size_t n) {
        for (int i = 0; i < 200; ++i) {
            if (server_->active_sessions() == n) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    static bool closed_by_peer(beast::tcp_stream& s) {
        s.expires_after(std::chrono::seconds(5));
        char c;
        beast::error_code ec;
        s.socket().read_some(asio::buffer(&c, 1), ec);
        return ec == asio::error::eof || ec == asio::error::connection_reset;
    }

    config::Config config_;
    SystemClock clock_;
    TempDb tmp_;
    Handler handler_;
    asio::thread_pool workers_{2};
    asio::io_context ioc_;
    asio::io_context client_ctx_;
    std::unique_ptr<Server> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::promise<void> run_done_;
    std::future<void> run_done_future_ = run_done_.get_future();
    bool run_failed_ = false;
};

TEST_F(ApiServer, KeepAliveServesTwoRequestsOnOneConnection) {
    add_addresses(tmp_.db(), "evm", 2);
    start();
    auto s = connect();
    auto h = roundtrip(s, http::verb::get, "/health", "", false);
    EXPECT_EQ(h.result_int(), 200);
    EXPECT_TRUE(h.keep_alive());
    EXPECT_EQ(h[http::field::content_type], "application/json");
    auto b = roundtrip(s, http::verb::post, "/api/v1/deposits/bind", R"({"depositReference":"k1","protocol":"evm"})");
    EXPECT_EQ(b.result_int(), 201) << b.body();
    auto again = roundtrip(s, http::verb::post, "/api/v1/deposits/bind", R"({"depositReference":"k1","protocol":"evm"})");
    EXPECT_EQ(again.result_int(), 200) << again.body();
    auto last = roundtrip(s, http::verb::get, "/metrics", "", false, /*keep_alive=*/false);
    EXPECT_EQ(last.result_int(), 200);
    EXPECT_FALSE(last.keep_alive());
    EXPECT_TRUE(closed_by_peer(s));
}

// HEAD (the payment page answers it): the GET answer's headers, Content-Length
// included, and no body, so the next answer on a keep-alive connection is
// read right after them.
TEST_F(ApiServer, HeadAnswersTheHeadersWithoutTheBody) {
    start();
    auto s = connect();
    auto get = roundtrip(s, http::verb::get, "/pay/ord_missing", "", false);
    EXPECT_EQ(get.result_int(), 404);
    ASSERT_FALSE(get.body().empty());

    http::request<http::empty_body> head{http::verb::head, "/pay/ord_missing", 11};
    head.set(http::field::host, "127.0.0.1");
    http::write(s, head);
    beast::flat_buffer buf;
    http::response_parser<http::empty_body> p;
    p.skip(true);  // an answer to HEAD has no body, whatever Content-Length says
    http::read(s, buf, p);
    EXPECT_EQ(p.get().result_int(), 404);
    EXPECT_EQ(p.get()[http::field::content_length], std::to_string(get.body().size()));
    EXPECT_EQ(p.get()[http::field::content_type], get[http::field::content_type]);

    http::request<http::empty_body> next{http::verb::get, "/health", 11};
    next.set(http::field::host, "127.0.0.1");
    http::write(s, next);
    http::response<http::string_body> health;
    beast::error_code ec;
    http::read(s, buf, health, ec);
    ASSERT_FALSE(ec) << ec.message() << " (bytes after the HEAD answer: " << buf.size() << ")";
    EXPECT_EQ(health.result_int(), 200);
    EXPECT_EQ(health.body().substr(0, 1), "{");
}

TEST_F(ApiServer, BigBodyIs413ThenClose) {
    start();
    auto s = connect();
    std::string big = R"({"depositReference":"x","protocol":"evm","metadata":{"p":")" + std::string(100 * 1024, 'a') +
                      R"("}})";
    auto r = roundtrip(s, http::verb::post, "/api/v1/deposits/bind", big);
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_NE(r.body().find("\"PayloadTooLarge\""), std::string::npos) << r.body();
    EXPECT_TRUE(closed_by_peer(s));
}

TEST_F(ApiServer, ChunkedBodyOverTheLimitIs413) {
    start();
    auto s = connect();
    std::string head =
        "POST /api/v1/deposits/bind HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nAuthorization: Bearer " +
        std::string(kKey) + "\r\n\r\n";
    asio::write(s.socket(), asio::buffer(head));
    std::string chunk(32 * 1024, 'a');
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    beast::error_code ec;
    for (int i = 0; i < 3 && !ec; ++i) {
        asio::write(s.socket(), asio::buffer(std::string(size) + chunk + "\r\n"), ec);
    }
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 413);
}

TEST_F(ApiServer, NotFoundAndMethodNotAllowed) {
    start();
    auto s = connect();
    auto nf = roundtrip(s, http::verb::get, "/nope");
    EXPECT_EQ(nf.result_int(), 404);
    EXPECT_NE(nf.body().find("\"NotFound\""), std::string::npos);
    auto na = roundtrip(s, http::verb::delete_, "/api/v1/deposits/bind");
    EXPECT_EQ(na.result_int(), 405);
    EXPECT_EQ(na[http::field::allow], "POST");
    auto un = roundtrip(s, http::verb::get, "/api/v1/deposits", "", /*auth=*/false);
    EXPECT_EQ(un.result_int(), 401);
}

TEST_F(ApiServer, MalformedHttpIs400) {
    start();
    auto s = connect();
    asio::write(s.socket(), asio::buffer(std::string("GARBAGE\x01 / HTTP/9\r\n\r\n")));
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(s, buf, res, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 400);
}

TEST_F(ApiServer, TwoHundredConcurrentBindsGetDistinctAddresses) {
    add_addresses(tmp_.db(), "evm", 200);
    ServerLimits lim;
    lim.max_sessions_per_client = 256;  // all 200 come from 127.0.0.1
    start(lim);
    std::vector<std::string> addresses(200);
    std::vector<int> statuses(200, 0);
    auto one = [&](int i) -> asio::awaitable<void> {
        beast::tcp_stream s(co_await asio::this_coro::executor);
        co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), asio::use_awaitable);
        http::request<http::string_body> req{http::verb::post, "/api/v1/deposits/bind", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, std::string("Bearer ") + kKey);
        req.set(http::field::content_type, "application/json");
        req.body() = R"({"depositReference":"c)" + std::to_string(i) + R"(","protocol":"evm"})";
        req.prepare_payload();
        co_await http::async_write(s, req, asio::use_awaitable);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        co_await http::async_read(s, buf, res, asio::use_awaitable);
        statuses[i] = res.result_int();
        auto v = json::parse(res.body());
        if (res.result_int() == 201) addresses[i] = std::string(v.at("data").at("address").as_string());
    };
    asio::io_context clients;
    int errors = 0;
    for (int i = 0; i < 200; ++i)
        asio::co_spawn(clients, one(i), [&](std::exception_ptr e) {
            if (e) ++errors;
        });
    clients.run();
    EXPECT_EQ(errors, 0);
    std::set<std::string> distinct;
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(statuses[i], 201) << i;
        distinct.insert(addresses[i]);
    }
    EXPECT_EQ(distinct.size(), 200u);
    ASSERT_TRUE(stop());
    EXPECT_EQ(scalar(tmp_.db(), "SELECT count(DISTINCT address_id) FROM bindings"), 200);
}

TEST_F(ApiServer, SlowClientIsCut) {
    ServerLimits lim;
    lim.header_timeout = std::chrono::milliseconds(300);
    start(lim);
    auto s = connect();
    asio::write(s.socket(), asio::buffer(std::string("GET /health HTTP/1.1\r\nHost: x\r\n")));  // never finishes
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(closed_by_peer(s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(ApiServer, GracefulStopFinishesInFlightRequestAndClosesIdle) {
    add_addresses(tmp_.db(), "evm", 1);
    start();
    auto idle = connect();
    EXPECT_EQ(roundtrip(idle, http::verb::get, "/health").result_int(), 200);  // now idle in keep-alive

    // A request whose body is still arriving when stop() is called.
    auto busy = connect();
    std::string body = R"({"depositReference":"late","protocol":"evm"})";
    std::string head = "POST /api/v1/deposits/bind HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Authorization: Bearer " +
                       std::string(kKey) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    asio::write(busy.socket(), asio::buffer(head + body.substr(0, 5)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server has read the header

    server_->stop();
    EXPECT_TRUE(closed_by_peer(idle));
    asio::write(busy.socket(), asio::buffer(body.substr(5)));
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(busy, buf, res, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 201) << res.body();
    EXPECT_FALSE(res.keep_alive());
    EXPECT_TRUE(stop());

    // The acceptor is closed.
    beast::tcp_stream again(client_ctx_);
    again.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    EXPECT_TRUE(ec);
}

TEST_F(ApiServer, IdleClientsOfOneAddressCannotTakeEverySlot) {
    ServerLimits lim;
    lim.max_sessions = 16;
    lim.max_sessions_per_client = 4;
    lim.idle_timeout = std::chrono::seconds(30);  // the hogs stay for the whole test
    start(lim);
    std::vector<beast::tcp_stream> hogs;
    for (int i = 0; i < 4; ++i) hogs.push_back(connect());  // connect, then say nothing
    ASSERT_TRUE(wait_sessions(4));
    // A fifth connection from the same address is refused at once...
    auto fifth = connect();
    EXPECT_TRUE(refused(fifth));
    // ...another client is answered...
    auto other = connect_from("127.0.0.2");
    auto h = roundtrip(other, http::verb::get, "/health", "", false);
    EXPECT_EQ(h.result_int(), 200) << h.body();
    // ...and the connections already open are not disturbed.
    auto again = roundtrip(hogs[0], http::verb::get, "/health", "", false);
    EXPECT_EQ(again.result_int(), 200);
    EXPECT_GE(server_->refused_connections(), 1u);
    // A slot freed by a hog is taken by the next connection of that address.
    hogs.pop_back();
    ASSERT_TRUE(wait_sessions(4));  // 3 hogs + `other` (keep-alive)
    auto late = connect();
    EXPECT_EQ(roundtrip(late, http::verb::get, "/health", "", false).result_int(), 200);
}

TEST_F(ApiServer, TotalCapRefusesUntilIdleConnectionsTimeOut) {
    ServerLimits lim;
    lim.max_sessions = 3;
    lim.max_sessions_per_client = 3;
    lim.idle_timeout = std::chrono::milliseconds(700);
    start(lim);
    std::vector<beast::tcp_stream> idle;
    for (int i = 0; i < 3; ++i) idle.push_back(connect());
    ASSERT_TRUE(wait_sessions(3));
    auto other = connect_from("127.0.0.2");
    EXPECT_TRUE(refused(other));
    // The idle ones are closed after idle_timeout; then there is room again.
    for (auto& s : idle) EXPECT_TRUE(closed_by_peer(s));
    ASSERT_TRUE(wait_sessions(0));
    auto after = connect_from("127.0.0.2");
    EXPECT_EQ(roundtrip(after, http::verb::get, "/health", "", false).result_int(), 200);
}

TEST_F(ApiServer, KeepAliveConnectionIsClosedAfterIdleTimeout) {
    ServerLimits lim;
    lim.idle_timeout = std::chrono::milliseconds(300);
    lim.header_timeout = std::chrono::seconds(10);
    start(lim);
    auto s = connect();
    EXPECT_EQ(roundtrip(s, http::verb::get, "/health").result_int(), 200);  // now idle in keep-alive
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(closed_by_peer(s));
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, std::chrono::milliseconds(200));
    EXPECT_LT(waited, std::chrono::seconds(3));
    // A request that has started gets header_timeout, not idle_timeout.
    auto slow = connect();
    asio::write(slow.socket(), asio::buffer(std::string("GET /health HTTP/1.1\r\n")));
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    asio::write(slow.socket(), asio::buffer(std::string("Host: x\r\n\r\n")));
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    slow.expires_after(std::chrono::seconds(5));
    http::read(slow, buf, res);
    EXPECT_EQ(res.result_int(), 200);
}

TEST_F(ApiServer, LimitsFromTheConfiguration) {
    config::ApiConfig api;
    api.max_connections = 100;
    api.max_connections_per_client = 7;
    api.idle_timeout = std::chrono::seconds(42);
    const ServerLimits l = server_limits(api);
    EXPECT_EQ(l.max_sessions, 100u);
    EXPECT_EQ(l.max_sessions_per_client, 7u);
    EXPECT_EQ(l.idle_timeout, std::chrono::seconds(42));
    const ServerLimits d;
    EXPECT_EQ(d.max_sessions, 512u);
    EXPECT_EQ(d.max_sessions_per_client, 64u);
}

TEST_F(ApiServer, ListenOnABusyPortIsAnError) {
    start();
    Server other(ioc_.get_executor(), handler_, "127.0.0.1", port_, 1024);
    auto r = other.listen();
    EXPECT_FALSE(r.ok());
    Server bad(ioc_.get_executor(), handler_, "not-an-ip", 0, 1024);
    EXPECT_FALSE(bad.listen().ok());
}

}  // namespace
