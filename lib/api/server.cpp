// Beast HTTP/1.1 server for api::Handler, on C++20 coroutines.
//
// Shape (Beast's advanced_server_flex_awaitable): one coroutine per
// connection with a deadline before every read and write, a body limit on
// the parser (413 then close), keep-alive with an idle timeout, caps on the
// connections in total and per client address (a connection over a cap gets
// a 503 and is closed; idle clients of one address cannot take every slot)
// and a two-phase shutdown: stop() closes the acceptor and idle connections;
// busy ones finish their request, and whatever is left after shutdown_grace
// is closed.
#include "api/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <exception>
#include <list>
#include <unordered_map>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/netaddr.hpp"

namespace depositd::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kDrainMax = 1 << 20;  // bytes read and discarded after an early error answer
constexpr std::size_t kMaxRefusing = 64;     // refusals answered at once; beyond, connections are just closed
constexpr const char* kRefused = "depositd_api_connections_refused_total";

// The address a per-client cap counts: IPv4 (also v4-mapped), or the /56 of
// an IPv6 address (netaddr::client_key: one subscriber commonly holds a
// whole /56, so per /64 eight addresses of one line could take every slot).
std::string client_key(const tcp::endpoint& ep) {
    auto ip = netaddr::parse_ip(ep.address().to_string());
    return ip ? netaddr::client_key(*ip) : ep.address().to_string();
}

auto logger() {
    static auto l = log::get("api");
    return l;
}

struct SessionState {
    beast::tcp_stream* stream = nullptr;
    bool busy = false;  // a request is being read (body), handled or answered
};

bool is_http_parse_error(const beast::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message &&
           ec != http::error::need_more;
}

std::string error_body(const char* name, const std::string& message) {
    // Same envelope as Handler's errors; built by hand to keep JSON out of here.
    std::string m;
    for (char c : message) {
        if (c == '"' || c == '\\') m.push_back('\\');
        m.push_back(c);
    }
    return std::string(R"({"success":false,"error":")") + name + R"(","message":")" + m + R"("})";
}

}  // namespace

struct Server::Impl {
    Impl(asio::any_io_executor e, Handler& h, std::string hst, std::uint16_t p, std::size_t mb)
        : ex(std::move(e)), handler(h), host(std::move(hst)), port(p), max_body(mb), acceptor(ex), wake(ex) {}

    asio::any_io_executor ex;
    asio::any_io_executor workers;      // where handle() runs; empty = inline (tests)
    Handler& handler;
    std::string host;
    std::uint16_t port;
    std::size_t max_body;
    ServerLimits limits;
    tcp::acceptor acceptor;
    asio::steady_timer wake;            // cancelled whenever a session ends or stop() runs
    std::list<SessionState*> sessions;  // executor-only
    std::unordered_map<std::string, std::size_t> per_client;  // executor-only: open connections by client_key
    std::size_t refusing = 0;           // executor-only: 503s being written
    std::atomic<std::size_t> active{0};
    std::atomic<std::size_t> refused{0};
    bool stopping = false;              // executor-only

    void do_stop() {
        if (stopping) return;
        stopping = true;
        beast::error_code ec;
        acceptor.close(ec);
        wake.cancel();
        std::size_t idle = 0;
        for (auto* s : sessions)
            if (!s->busy) {
                s->stream->cancel();
                ++idle;
            }
        logger()->info("API server stopping: {} idle connection(s) closed, {} finishing", idle,
                       sessions.size() - idle);
    }
};

namespace {

// `head`: the answer to a HEAD request, the headers of the GET answer
// (Content-Length included) without its body (RFC 9110 §9.3.2); a body
// there would be read as the next answer on a keep-alive connection.
asio::awaitable<beast::error_code> write_response(beast::tcp_stream& stream, Response r, bool keep_alive,
                                                  unsigned version, std::chrono::milliseconds timeout,
                                                  bool head = false) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "depositd/" DEPOSITD_VERSION);
    res.set(http::field::content_type, r.content_type);
    res.set(http::field::cache_control, "no-store");
    // Set-Cookie may come several times (RFC 6265 §3); other headers once.
    for (auto& [k, v] : r.headers) {
        if (beast::iequals(k, "Set-Cookie")) res.insert(k, v);
        else res.set(k, v);
    }
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    stream.expires_after(timeout);
    if (head) {
        http::response<http::empty_body> header_only{std::move(res.base())};
        auto [ec, n] = co_await http::async_write(stream, header_only, use_tuple);
        (void)n;
        co_return ec;
    }
    auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
    (void)n;
    co_return ec;
}

// After answering early (413, 400), read and discard what the client is still
// sending for a moment, so closing does not reset the connection before the
// client has read the answer.
asio::awaitable<void> drain_and_close(beast::tcp_stream& stream) {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(std::chrono::seconds(1));
    std::array<char, 16 * 1024> buf;
    std::size_t total = 0;
    while (total < kDrainMax) {
        auto [rec, n] = co_await stream.async_read_some(asio::buffer(buf), use_tuple);
        if (rec) break;
        total += n;
    }
    stream.socket().close(ec);
}

asio::awaitable<void> early_answer(beast::tcp_stream& stream, int status, const char* name, const std::string& msg,
                                   const ServerLimits& limits) {
    Response r;
    r.status = status;
    r.body = error_body(name, msg);
    co_await write_response(stream, std::move(r), false, 11, limits.write_timeout);
    co_await drain_and_close(stream);
}

// Runs on a worker thread: the handler touches the database, the thread that
// serves sockets never does.
asio::awaitable<Response> handle_on_worker(Handler& handler, Request r) { co_return handler.handle(r); }

// Every value of a repeated header, joined (X-Forwarded-For: ", ", Cookie: "; ").
template <class Fields>
std::string joined(const Fields& fields, std::string_view name, std::string_view sep) {
    std::string out;
    auto range = fields.equal_range(name);
    for (auto it = range.first; it != range.second; ++it) {
        if (!out.empty()) out += sep;
        out += std::string(it->value());
    }
    return out;
}

asio::awaitable<void> session(std::shared_ptr<Server::Impl> self, tcp::socket socket) {
    beast::error_code pec;
    const auto peer = socket.remote_endpoint(pec);
    const std::string peer_address = pec ? std::string() : peer.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    SessionState st{&stream};
    auto it = self->sessions.insert(self->sessions.end(), &st);
    struct Unregister {
        Server::Impl& impl;
        std::list<SessionState*>::iterator it;
        ~Unregister() { impl.sessions.erase(it); }
    } unregister{*self, it};

    const auto& lim = self->limits;
    beast::flat_buffer buffer;
    for (;;) {
        st.busy = false;
        if (self->stopping) break;

        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(lim.header_limit));
        parser.body_limit(self->max_body);

        // Idle: nothing of the next request has arrived yet (keep-alive, or a
        // fresh connection). It gets idle_timeout for a first byte.
        if (buffer.size() == 0) {
            stream.expires_after(lim.idle_timeout);
            auto [iec, in] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
            if (iec) {
                if (iec == beast::error::timeout) logger()->debug("idle connection closed after {} ms", lim.idle_timeout.count());
                break;
            }
            buffer.commit(in);
        }
        stream.expires_after(lim.header_timeout);
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
        (void)n;
        if (ec == http::error::body_limit) {
            st.busy = true;
            co_await early_answer(stream, 413, "PayloadTooLarge",
                                  "Request body exceeds " + std::to_string(self->max_body) + " bytes", lim);
            co_return;
        }
        if (ec == http::error::header_limit) {
            st.busy = true;
            co_await early_answer(stream, 431, "ValidationError", "Request headers too large", lim);
            co_return;
        }
        if (is_http_parse_error(ec)) {
            st.busy = true;
            co_await early_answer(stream, 400, "ValidationError", "Malformed HTTP request", lim);
            co_return;
        }
        if (ec) {
            if (ec != beast::error::timeout && ec != asio::error::operation_aborted &&
                ec != http::error::end_of_stream)
                logger()->debug("connection closed while reading: {}", ec.message());
            break;
        }
        st.busy = true;

        if (!parser.is_done()) {
            if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
                http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
                stream.expires_after(lim.write_timeout);
                auto [wec, wn] = co_await http::async_write(stream, cont, use_tuple);
                (void)wn;
                if (wec) break;
            }
            stream.expires_after(lim.body_timeout);
            auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_tuple);
            (void)bn;
            if (bec == http::error::body_limit) {
                co_await early_answer(stream, 413, "PayloadTooLarge",
                                      "Request body exceeds " + std::to_string(self->max_body) + " bytes", lim);
                co_return;
            }
            if (is_http_parse_error(bec)) {
                co_await early_answer(stream, 400, "ValidationError", "Malformed HTTP request", lim);
                co_return;
            }
            if (bec) {
                logger()->debug("connection closed while reading the body: {}", bec.message());
                break;
            }
        }

        auto& req = parser.get();
        Request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.authorization = std::string(req[http::field::authorization]);
        r.content_type = std::string(req[http::field::content_type]);
        r.accept_language = std::string(req[http::field::accept_language]);
        r.peer = peer_address;
        r.forwarded_for = joined(req, "X-Forwarded-For", ", ");
        r.cookie = joined(req, "Cookie", "; ");
        r.sec_fetch_site = std::string(req["Sec-Fetch-Site"]);
        r.body = std::move(req.body());
        const bool keep = req.keep_alive() && !self->stopping;
        const unsigned version = req.version();
        const bool head = req.method() == http::verb::head;

        auto started = std::chrono::steady_clock::now();
        Response resp;
        if (self->workers)
            resp = co_await asio::co_spawn(self->workers, handle_on_worker(self->handler, r), asio::use_awaitable);
        else
            resp = self->handler.handle(r);
        int status = resp.status;
        auto wec = co_await write_response(stream, std::move(resp), keep, version, lim.write_timeout, head);
        // Path only: queries may carry references but never keys; Authorization is never logged.
        std::string_view path(r.target);
        path = path.substr(0, path.find('?'));
        logger()->debug("{} {} -> {} ({} us)", r.method, path, status,
                        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                              started)
                            .count());
        if (wec) {
            logger()->debug("write failed: {}", wec.message());
            break;
        }
        if (!keep) break;
    }
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.socket().close(ec);
}

}  // namespace

Server::Server(asio::any_io_executor ex, Handler& handler, std::string host, std::uint16_t port,
               std::size_t max_body)
    : impl_(std::make_shared<Impl>(std::move(ex), handler, std::move(host), port, max_body)) {}

Server::~Server() = default;

void Server::set_limits(const ServerLimits& limits) { impl_->limits = limits; }

void Server::set_workers(asio::any_io_executor workers) { impl_->workers = std::move(workers); }

std::size_t Server::active_sessions() const { return impl_->active.load(); }

Result<std::uint16_t> Server::listen() {
    auto& a = impl_->acceptor;
    beast::error_code ec;
    std::string host = impl_->host == "localhost" ? "127.0.0.1" : impl_->host;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) return make_error(Errc::invalid_input, "API listen address '" + impl_->host + "' is not an IP address");
    tcp::endpoint ep(addr, impl_->port);
    const std::string where = impl_->host + ":" + std::to_string(impl_->port);
    a.open(ep.protocol(), ec);
    if (ec) return make_error(Errc::io, "cannot listen on " + where + ": " + ec.message());
    a.set_option(asio::socket_base::reuse_address(true), ec);
    a.bind(ep, ec);
    if (ec) {
        a.close(ec);
        return make_error(Errc::io, "cannot listen on " + where + ": " + ec.message());
    }
    a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        a.close(ec);
        return make_error(Errc::io, "cannot listen on " + where + ": " + ec.message());
    }
    auto bound = a.local_endpoint(ec);
    if (ec) return make_error(Errc::io, "cannot listen on " + where + ": " + ec.message());
    logger()->info("API listening on {}:{}", bound.address().to_string(), bound.port());
    return bound.port();
}

namespace {

// A connection over a cap: 503 with Retry-After, then closed. The answer is
// written (and the client's request drained) for at most a second, by at
// most kMaxRefusing coroutines; past that the socket is simply closed.
void refuse(const std::shared_ptr<Server::Impl>& self, tcp::socket socket, const std::string& why) {
    ++self->refused;
    metrics::Registry::global().counter_add(kRefused, {});
    logger()->debug("connection refused: {}", why);
    beast::error_code ec;
    if (self->refusing >= kMaxRefusing || self->stopping) {
        socket.close(ec);
        return;
    }
    ++self->refusing;
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    asio::co_spawn(
        self->ex,
        [stream, self]() -> asio::awaitable<void> {
            Response r;
            r.status = 503;
            r.body = error_body("ServiceUnavailable", "Too many connections; retry later");
            r.headers.emplace_back("Retry-After", "1");
            ServerLimits quick = self->limits;
            quick.write_timeout = std::chrono::seconds(1);
            co_await write_response(*stream, std::move(r), false, 11, quick.write_timeout);
            co_await drain_and_close(*stream);
        },
        [self, stream](std::exception_ptr) { --self->refusing; });
}

}  // namespace

ServerLimits server_limits(const config::ApiConfig& api) {
    ServerLimits l;
    l.max_sessions = api.max_connections;
    l.max_sessions_per_client = api.max_connections_per_client;
    l.idle_timeout = api.idle_timeout;
    return l;
}

std::size_t Server::refused_connections() const { return impl_->refused.load(); }

asio::awaitable<void> Server::run() {
    auto self = impl_;
    metrics::Registry::global().describe(kRefused, "counter",
                                         "API connections refused (503) because a connection cap was reached.");
    while (!self->stopping && self->acceptor.is_open()) {
        auto [ec, socket] = co_await self->acceptor.async_accept(use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || self->stopping || !self->acceptor.is_open()) break;
            // EMFILE and friends: back off a little instead of spinning.
            logger()->warn("accept failed: {}", ec.message());
            self->wake.expires_after(std::chrono::milliseconds(100));
            co_await self->wake.async_wait(use_tuple);
            continue;
        }
        beast::error_code pec;
        const auto peer = socket.remote_endpoint(pec);
        if (pec) {
            socket.close(pec);
            continue;
        }
        std::string key = client_key(peer);
        if (self->active.load() >= self->limits.max_sessions) {
            refuse(self, std::move(socket), "all " + std::to_string(self->limits.max_sessions) + " connection slots in use");
            continue;
        }
        auto& mine = self->per_client[key];
        if (mine >= self->limits.max_sessions_per_client) {
            refuse(self, std::move(socket),
                   key + " already has " + std::to_string(mine) + " connections (max_connections_per_client)");
            continue;
        }
        ++mine;
        ++self->active;
        asio::co_spawn(self->ex, session(self, std::move(socket)), [self, key](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    logger()->error("API session failed: {}", x.what());
                } catch (...) {
                    logger()->error("API session failed: unknown exception");
                }
            }
            if (auto it = self->per_client.find(key); it != self->per_client.end() && --it->second == 0)
                self->per_client.erase(it);
            --self->active;
            self->wake.cancel();
        });
    }

    // Drain: in-flight requests get shutdown_grace, then everything left is closed.
    auto deadline = std::chrono::steady_clock::now() + self->limits.shutdown_grace;
    bool forced = false;
    while (self->active.load() > 0) {
        auto now = std::chrono::steady_clock::now();
        if (!forced && now >= deadline) {
            forced = true;
            logger()->warn("API shutdown: closing {} connection(s) still busy after the grace period",
                           self->sessions.size());
            for (auto* s : self->sessions) {
                beast::error_code ec;
                s->stream->cancel();
                s->stream->socket().close(ec);
            }
        }
        self->wake.expires_at(forced ? now + std::chrono::milliseconds(50) : deadline);
        co_await self->wake.async_wait(use_tuple);
    }
    logger()->info("API server stopped");
}

void Server::stop() {
    auto self = impl_;
    asio::dispatch(self->ex, [self] { self->do_stop(); });
}

}  // namespace depositd::api
