#pragma once
// A real HTTP/1.1 webhook receiver for the dispatcher tests and the bench:
// 127.0.0.1 port 0, its own io_context on a thread, keep-alive. It checks
// every signature with an implementation independent of lib/webhook
// (OpenSSL EVP_MAC + EVP_EncodeBlock/EVP_DecodeBlock), records arrivals in
// order, and a handler scripts each reply. It can go down (listener and
// every open connection closed: connections are refused) and come back up
// on the same port. verify_later() moves the signature checks from each
// request to arrivals() (the bench: a receiver on another machine would not
// spend this one's cores; every signature is still checked).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on Asio's coroutine frame allocator (GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <pthread.h>
#include <vector>

namespace webhook_test {

namespace rasio = boost::asio;
namespace rbeast = boost::beast;
namespace rhttp = rbeast::http;
using rtcp = rasio::ip::tcp;

// --- the independent signature check ---------------------------------------
inline std::string ossl_b64_encode(const std::string& in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}
inline std::string ossl_b64_decode(std::string in) {
    while (in.size() % 4) in.push_back('=');
    std::string out(in.size() / 4 * 3 + 1, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    if (n < 0) return {};
    size_t pad = 0;
    for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pad;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}
inline std::string ossl_hmac(const std::string& key, const std::string& msg) {
    // Fetched once (a fetch per call costs more than the MAC of a webhook).
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params);
    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
    unsigned char out[64];
    size_t len = 0;
    EVP_MAC_final(ctx, out, &len, sizeof out);
    EVP_MAC_CTX_free(ctx);
    return std::string(reinterpret_cast<char*>(out), len);
}
inline bool ossl_eq(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}
// Standard Webhooks check: any "v1,<sig>" in the header under any secret.
inline bool independent_verify(const std::vector<std::string>& secrets, const std::string& id, const std::string& ts,
                               const std::string& body, const std::string& header) {
    for (const auto& s : secrets) {
        std::string key = ossl_b64_decode(s.rfind("whsec_", 0) == 0 ? s.substr(6) : s);
        std::string expected = "v1," + ossl_b64_encode(ossl_hmac(key, id + "." + ts + "." + body));
        size_t pos = 0;
        while (pos <= header.size()) {
            size_t end = header.find(' ', pos);
            if (end == std::string::npos) end = header.size();
            if (ossl_eq(header.substr(pos, end - pos), expected)) return true;
            pos = end + 1;
        }
    }
    return false;
}
inline bool independent_verify_payin(const std::string& secret, const std::string& body, const std::string& header) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string mac = ossl_hmac(secret, body), hex;
    for (unsigned char c : mac) {
        hex.push_back(digits[c >> 4]);
        hex.push_back(digits[c & 0xf]);
    }
    return ossl_eq(hex, header);
}

// --- the receiver ------------------------------------------------------------
struct Arrival {
    std::string target;
    std::string id;
    std::string timestamp;
    std::string signature;
    std::string payin;
    std::string content_type;
    std::string user_agent;
    std::string body;
    bool signature_ok = false;
    bool payin_ok = false;
    std::chrono::steady_clock::time_point at;
    std::int64_t at_unix_ms = 0;
};

struct Reply {
    int status = 200;
    std::string body = "ok";
    std::size_t big_body = 0;  // when > 0: a body of this many bytes instead (see big_body())
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds delay{0};
};

// A body of `n` bytes whose every KiB is one letter: 1024 'a', 1024 'b', ...
inline std::string big_body(std::size_t n) {
    std::string s(n, ' ');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i / 1024) % 26);
    return s;
}

class Receiver {
public:
    using Handler = std::function<Reply(const Arrival&)>;

    explicit Receiver(std::vector<std::string> secrets, Handler h = {})
        : secrets_(std::move(secrets)), handler_(std::move(h)), work_(rasio::make_work_guard(ioc_)) {
        rtcp::acceptor probe(ioc_, rtcp::endpoint(rasio::ip::make_address("127.0.0.1"), 0));
        port_ = probe.local_endpoint().port();
        probe.close();
        thread_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "receiver");
            ioc_.run();
        });
        up();
    }
    ~Receiver() {
        work_.reset();
        ioc_.stop();
        thread_.join();
    }

    std::uint16_t port() const { return port_; }
    std::string url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    void set_handler(Handler h) {
        std::lock_guard l(mu_);
        handler_ = std::move(h);
    }
    // Listening on the port again.
    void up() {
        rasio::post(ioc_, rasio::use_future([this] {
                        acceptor_ = std::make_unique<rtcp::acceptor>(ioc_);
                        rtcp::endpoint ep(rasio::ip::make_address("127.0.0.1"), port_);
                        acceptor_->open(ep.protocol());
                        acceptor_->set_option(rasio::socket_base::reuse_address(true));
                        acceptor_->bind(ep);
                        acceptor_->listen();
                        rasio::co_spawn(ioc_, accept_loop(acceptor_.get()), rasio::detached);
                    }))
            .get();
    }
    // Not listening, every open connection closed: connections are refused.
    void down() {
        rasio::post(ioc_, rasio::use_future([this] { close_all(); })).get();
    }

    // Before the first request: signatures are checked when arrivals() is
    // read, not as each request comes in (handlers see signature_ok false).
    void verify_later() { verify_later_ = true; }

    std::vector<Arrival> arrivals() const {
        std::vector<Arrival> out;
        {
            std::lock_guard l(mu_);
            out = arrivals_;
        }
        if (verify_later_)
            for (auto& a : out) verify(a);
        return out;
    }
    std::size_t count() const {
        std::lock_guard l(mu_);
        return arrivals_.size();
    }
    int max_concurrent() const { return max_concurrent_.load(); }
    int connections() const { return connections_.load(); }

private:
    void verify(Arrival& a) const {
        a.signature_ok = independent_verify(secrets_, a.id, a.timestamp, a.body, a.signature);
        a.payin_ok = !secrets_.empty() && independent_verify_payin(secrets_.front(), a.body, a.payin);
    }

    void close_all() {
        if (acceptor_) {
            rbeast::error_code ec;
            acceptor_->close(ec);
            retired_.push_back(std::move(acceptor_));
        }
        for (auto* s : sockets_) {
            rbeast::error_code ec;
            s->shutdown(rtcp::socket::shutdown_both, ec);
            s->close(ec);
        }
    }

    rasio::awaitable<void> accept_loop(rtcp::acceptor* acc) {
        for (;;) {
            auto [ec, sock] = co_await acc->async_accept(rasio::as_tuple(rasio::use_awaitable));
            if (ec) co_return;
            ++connections_;
            rasio::co_spawn(ioc_, session(std::move(sock)), rasio::detached);
        }
    }

    rasio::awaitable<void> session(rtcp::socket sock) {
        sockets_.insert(&sock);
        rbeast::flat_buffer buf;
        for (;;) {
            rhttp::request_parser<rhttp::string_body> parser;
            parser.body_limit(64 << 20);
            auto [ec, n] = co_await rhttp::async_read(sock, buf, parser, rasio::as_tuple(rasio::use_awaitable));
            (void)n;
            if (ec) break;
            auto req = parser.release();
            Arrival a;
            a.target = std::string(req.target());
            a.id = std::string(req["webhook-id"]);
            a.timestamp = std::string(req["webhook-timestamp"]);
            a.signature = std::string(req["webhook-signature"]);
            a.payin = std::string(req["x-payin-signature"]);
            a.content_type = std::string(req[rhttp::field::content_type]);
            a.user_agent = std::string(req[rhttp::field::user_agent]);
            a.body = std::move(req.body());
            if (!verify_later_) verify(a);
            a.at = std::chrono::steady_clock::now();
            a.at_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
            Reply r;
            {
                std::lock_guard l(mu_);
                if (handler_) r = handler_(a);
                arrivals_.push_back(std::move(a));
            }
            int now = ++concurrent_;
            int prev = max_concurrent_.load();
            while (now > prev && !max_concurrent_.compare_exchange_weak(prev, now)) {
            }
            if (r.delay.count() > 0) {
                rasio::steady_timer t(ioc_, r.delay);
                co_await t.async_wait(rasio::as_tuple(rasio::use_awaitable));
            }
            --concurrent_;
            rhttp::response<rhttp::string_body> res{static_cast<rhttp::status>(r.status), 11};
            for (auto& [k, v] : r.headers) res.set(k, v);
            res.body() = r.big_body ? big_body(r.big_body) : r.body;
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            auto [wec, wn] = co_await rhttp::async_write(sock, res, rasio::as_tuple(rasio::use_awaitable));
            (void)wn;
            if (wec || !req.keep_alive()) break;
        }
        sockets_.erase(&sock);
        rbeast::error_code ec;
        sock.close(ec);
    }

    std::vector<std::string> secrets_;
    mutable std::mutex mu_;
    Handler handler_;
    std::vector<Arrival> arrivals_;
    rasio::io_context ioc_;
    rasio::executor_work_guard<rasio::io_context::executor_type> work_;
    std::unique_ptr<rtcp::acceptor> acceptor_;
    std::vector<std::unique_ptr<rtcp::acceptor>> retired_;
    std::set<rtcp::socket*> sockets_;
    std::uint16_t port_ = 0;
    std::atomic<int> concurrent_{0}, max_concurrent_{0}, connections_{0};
    std::atomic<bool> verify_later_{false};
    std::thread thread_;
};

}  // namespace webhook_test
