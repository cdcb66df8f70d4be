// A keep-alive HTTP/1.1 webhook sink for benchmarks: it answers every
// request 200 "ok" at once and keeps its bytes, nothing else. A merchant's
// receiver runs on another machine; this one shares the two cores measured
// with the dispatcher and the store's writer, so it takes as little of them
// as a receiver can: per request a read, a scan for the end of the head and
// Content-Length, an append and a write (tests/unit/webhook_receiver.hpp's
// Beast server parses every field and builds every answer, as much CPU as
// the dispatcher itself).
//
// Nothing goes unchecked: requests() hands back every request's bytes, and
// verified() parses each with Beast and checks its signatures with the test
// receiver's independent verifier (OpenSSL), after the clock stops.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <pthread.h>

#include "../tests/unit/webhook_receiver.hpp"

namespace bench_sink {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// Where the request that starts at `from` ends in `buf` (head and body), 0
// while it is incomplete, or npos for what this sink does not take (no
// Content-Length on a request with a body, chunked, a head over 64 KiB).
inline std::size_t request_end(std::string_view buf, std::size_t from) {
    const std::size_t head_end = buf.find("\r\n\r\n", from);
    if (head_end == std::string_view::npos) return buf.size() - from > 64 * 1024 ? std::string_view::npos : 0;
    const std::string_view head = buf.substr(from, head_end - from);
    std::size_t length = 0;
    for (std::size_t line = head.find("\r\n"); line != std::string_view::npos; line = head.find("\r\n", line + 2)) {
        const std::string_view rest = head.substr(line + 2);
        auto named = [&rest](std::string_view name) {
            if (rest.size() <= name.size() || rest[name.size()] != ':') return false;
            for (std::size_t i = 0; i < name.size(); ++i)
                if ((rest[i] | 0x20) != name[i]) return false;
            return true;
        };
        if (named("transfer-encoding")) return std::string_view::npos;
        if (!named("content-length")) continue;
        length = 0;
        for (std::size_t i = sizeof("content-length:") - 1; i < rest.size() && rest[i] != '\r'; ++i) {
            if (rest[i] == ' ') continue;
            if (rest[i] < '0' || rest[i] > '9' || length > (std::size_t{1} << 30)) return std::string_view::npos;
            length = length * 10 + static_cast<std::size_t>(rest[i] - '0');
        }
    }
    const std::size_t end = head_end + 4 + length;
    return end <= buf.size() ? end : 0;
}

class RawSink {
public:
    RawSink() : work_(asio::make_work_guard(ioc_)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
        thread_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "receiver");
            ioc_.run();
        });
    }
    ~RawSink() {
        work_.reset();
        ioc_.stop();
        thread_.join();
    }
    RawSink(const RawSink&) = delete;
    RawSink& operator=(const RawSink&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
    std::size_t count() const { return count_.load(std::memory_order_acquire); }
    int connections() const { return connections_.load(); }
    std::size_t refused() const { return refused_.load(); }

    // Every request received so far, in order per connection (read on the
    // sink's own thread).
    std::vector<std::string> requests() {
        return asio::post(ioc_, asio::use_future([this] {
                   std::vector<std::string> out;
                   for (const auto& s : sessions_)
                       for (const auto& b : s->blocks)
                           for (std::size_t i = 0; i + 1 < b.ends.size(); ++i)
                               out.emplace_back(b.bytes, b.ends[i], b.ends[i + 1] - b.ends[i]);
                   return out;
               }))
            .get();
    }

    // How many of the requests carry a valid webhook-signature and
    // x-payin-signature for `secrets` (parsed with Beast, checked with OpenSSL).
    std::size_t verified(const std::vector<std::string>& secrets) {
        std::size_t good = 0;
        for (const auto& raw : requests()) {
            http::request_parser<http::string_body> parser;
            parser.eager(true);
            boost::beast::error_code ec;
            parser.put(asio::buffer(raw), ec);
            if (ec || !parser.is_done()) continue;
            const auto& req = parser.get();
            const std::string id(req["webhook-id"]), ts(req["webhook-timestamp"]);
            const std::string sig(req["webhook-signature"]), payin(req["x-payin-signature"]);
            good += webhook_test::independent_verify(secrets, id, ts, req.body(), sig) &&
                    webhook_test::independent_verify_payin(secrets.front(), req.body(), payin);
        }
        return good;
    }

private:
    // Requests received back to back, in blocks of about a MiB: one string
    // growing to hundreds of MiB would copy itself in the timed part.
    struct Block {
        std::string bytes;
        std::vector<std::size_t> ends{0};  // request i is bytes[ends[i], ends[i + 1])
    };
    struct Session {
        std::vector<Block> blocks;
    };
    static constexpr std::size_t kBlock = 1 << 20;

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            ++connections_;
            sock.set_option(tcp::no_delay(true), ec);
            sessions_.push_back(std::make_unique<Session>());
            asio::co_spawn(ioc_, session(std::move(sock), *sessions_.back()), asio::detached);
        }
    }

    asio::awaitable<void> session(tcp::socket sock, Session& s) {
        static constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        std::array<char, 16 * 1024> piece{};
        std::size_t start = 0;  // of the request not yet complete, in the last block
        for (;;) {
            auto [ec, n] = co_await sock.async_read_some(asio::buffer(piece), asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            if (s.blocks.empty() || (start == s.blocks.back().bytes.size() && start >= kBlock)) {
                s.blocks.emplace_back();
                s.blocks.back().bytes.reserve(kBlock + 64 * 1024);
                start = 0;
            }
            Block& b = s.blocks.back();
            b.bytes.append(piece.data(), n);
            std::size_t answers = 0;
            for (;;) {
                const std::size_t end = request_end(b.bytes, start);
                if (end == std::string_view::npos) {
                    ++refused_;
                    co_return;
                }
                if (end == 0) break;
                b.ends.push_back(end);
                start = end;
                ++answers;
            }
            if (answers == 0) continue;
            count_.fetch_add(answers, std::memory_order_release);
            for (std::size_t i = 0; i < answers; ++i) {
                auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(kOk), asio::as_tuple(asio::use_awaitable));
                (void)wn;
                if (wec) co_return;
            }
        }
    }

    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::vector<std::unique_ptr<Session>> sessions_;  // the sink's thread only
    std::atomic<std::size_t> count_{0};
    std::atomic<int> connections_{0};
    std::atomic<std::size_t> refused_{0};
};

}  // namespace bench_sink
