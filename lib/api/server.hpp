#pragma once
// The HTTP/1.1 server in front of api::Handler. Beast stays inside
// server.cpp; this header only needs Asio's executor and awaitable.
//
// Threading: sessions run on the executor given (single-threaded: the
// daemon's network thread). Handler::handle(), which reads and writes the
// database, runs on the `workers` executor (a thread pool) when one is set,
// so a slow query never holds the sockets. stop() may be called from any thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/handler.hpp"
#include "config/config.hpp"
#include "core/result.hpp"

namespace depositd::api {

// Connections over a cap are answered 503 (Retry-After: 1) and closed at
// once; the others are not disturbed.
struct ServerLimits {
    std::size_t max_sessions = 512;                             // open connections, all clients together
    std::size_t max_sessions_per_client = 64;                   // per client address (IPv6: per /56)
    std::chrono::milliseconds idle_timeout{10'000};             // waiting for a request's first byte (keep-alive)
    std::chrono::milliseconds header_timeout{10'000};           // from that byte to the end of the headers
    std::chrono::milliseconds body_timeout{30'000};             // reading the body
    std::chrono::milliseconds write_timeout{30'000};            // writing the response
    std::chrono::milliseconds shutdown_grace{5'000};            // stop(): in-flight requests get this long
    std::size_t header_limit = 16 * 1024;                       // bytes of request line + headers
};

// [api] max_connections, max_connections_per_client, idle_timeout.
ServerLimits server_limits(const config::ApiConfig& api);

class Server {
public:
    Server(boost::asio::any_io_executor ex, Handler& handler, std::string host, std::uint16_t port,
           std::size_t max_body);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Before listen().
    void set_limits(const ServerLimits& limits);
    // Before run(): where requests are handled (the daemon's API worker pool).
    void set_workers(boost::asio::any_io_executor workers);

    // Binds and listens; returns the actual port (useful with port 0).
    Result<std::uint16_t> listen();
    // Accepts until stop(); then lets sessions finish their in-flight request
    // (up to shutdown_grace), closes the rest and returns once all are gone.
    boost::asio::awaitable<void> run();
    // Closes the acceptor and idle connections. Thread-safe, idempotent.
    void stop();

    std::size_t active_sessions() const;
    // Connections refused because a cap was reached, since start.
    std::size_t refused_connections() const;

    struct Impl;  // defined in server.cpp (shared with the session coroutines)

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace depositd::api
