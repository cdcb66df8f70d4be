#pragma once
// A scripted HTTP(S)/1.1 server for the lib/net tests: binds 127.0.0.1 port 0,
// runs its own io_context on a thread, counts connections and records every
// request. The handler decides each reply (status, headers, body, hang,
// close, drop after answering).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on Asio's coroutine frame allocator (GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nettest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Reply {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool close = false;        // answer with Connection: close and close
    bool close_after = false;  // answer as keep-alive, then close the socket anyway (stale keep-alive)
    bool hang = false;         // never answer
    bool drop = false;         // close without answering
};

struct Seen {
    std::string method;
    std::string target;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
    std::size_t fields = 0;                      // header lines, repeated names each counted
    int connection = 0;
    std::chrono::steady_clock::time_point at;
};

class Server {
public:
    using Handler = std::function<Reply(const Seen&)>;

    explicit Server(Handler h, asio::ssl::context* tls = nullptr)
        : handler_(std::move(h)), tls_(tls), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(ioc_, accept_loop(), [](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    std::fprintf(stderr, "test server: %s\n", ex.what());
                }
            }
        });
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~Server() {
        ioc_.stop();
        thread_.join();
    }

    unsigned short port() const { return port_; }
    std::string url(const std::string& path = "/") const {
        return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
    }
    int connections() const { return connections_.load(); }
    int requests() const {
        std::lock_guard lk(mu_);
        return static_cast<int>(seen_.size());
    }
    std::vector<Seen> seen() const {
        std::lock_guard lk(mu_);
        return seen_;
    }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            int id = ++connections_;
            if (tls_) {
                asio::co_spawn(ioc_, tls_session(std::move(sock), id), [](std::exception_ptr) {});
            } else {
                asio::co_spawn(ioc_, session(beast::tcp_stream(std::move(sock)), id), [](std::exception_ptr) {});
            }
        }
    }

    asio::awaitable<void> tls_session(tcp::socket sock, int id) {
        beast::ssl_stream<beast::tcp_stream> s(beast::tcp_stream(std::move(sock)), *tls_);
        beast::get_lowest_layer(s).expires_after(std::chrono::seconds(10));
        auto [ec] = co_await s.async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        beast::get_lowest_layer(s).expires_never();
        co_await serve(s, id);
    }

    asio::awaitable<void> session(beast::tcp_stream s, int id) { co_await serve(s, id); }

    template <class Stream>
    asio::awaitable<void> serve(Stream& s, int id) {
        beast::flat_buffer buf;
        for (;;) {
            http::request<http::string_body> req;
            auto [ec, n] = co_await http::async_read(s, buf, req, asio::as_tuple(asio::use_awaitable));
            (void)n;
            if (ec) co_return;
            Seen seen;
            seen.method = std::string(req.method_string());
            seen.target = std::string(req.target());
            seen.body = req.body();
            seen.connection = id;
            seen.at = std::chrono::steady_clock::now();
            for (const auto& f : req) {
                std::string name(f.name_string());
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                seen.headers[name] = std::string(f.value());
                ++seen.fields;
            }
            {
                std::lock_guard lk(mu_);
                seen_.push_back(seen);
            }
            Reply r = handler_(seen);
            if (r.hang) {
                asio::steady_timer t(ioc_);
                t.expires_after(std::chrono::minutes(5));
                co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
                co_return;
            }
            if (r.drop) {
                beast::get_lowest_layer(s).close();
                co_return;
            }
            http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
            res.set(http::field::content_type, "application/json");
            for (const auto& [k, v] : r.headers) res.set(k, v);
            res.body() = r.body;
            res.keep_alive(!r.close);
            res.prepare_payload();
            auto [wec, wn] = co_await http::async_write(s, res, asio::as_tuple(asio::use_awaitable));
            (void)wn;
            if (wec || r.close || r.close_after) {
                beast::get_lowest_layer(s).close();
                co_return;
            }
        }
    }

    Handler handler_;
    asio::ssl::context* tls_;
    asio::io_context ioc_;
    tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::thread thread_;
    std::atomic<int> connections_{0};
    mutable std::mutex mu_;
    std::vector<Seen> seen_;
};

// A 127.0.0.1 port with nothing listening (bound, then closed).
inline unsigned short closed_port() {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    unsigned short p = a.local_endpoint().port();
    a.close();
    return p;
}

// Runs one awaitable to completion on `ioc` and returns its value.
template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> aw) {
    auto fut = asio::co_spawn(ioc, std::move(aw), asio::use_future);
    ioc.restart();
    ioc.run();
    return fut.get();
}

}  // namespace nettest
