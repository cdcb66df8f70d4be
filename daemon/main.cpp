// depositd: wiring. One owner (Daemon) holds everything, one io_context,
// signals for a clean stop. Exit codes: 0 ok, 2 bad usage/config, 1 runtime.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "api/handler.hpp"
#include "api/server.hpp"
#include "chain/registry.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "net/http_client.hpp"
#include "orders/expiry.hpp"
#include "orders/orders.hpp"
#include "orders/rates.hpp"
#include "scanner/scanner.hpp"
#include "store/database.hpp"
#include "webhook/dispatcher.hpp"

namespace asio = boost::asio;
namespace po = boost::program_options;
using namespace depositd;

namespace {

struct ChainRuntime {
    std::unique_ptr<chain::ChainAdapter> adapter;
    std::unique_ptr<scanner::Scanner> scanner;
};

// Everything the daemon owns (Bitcoin Core's NodeContext idea).
struct Daemon {
    config::Config cfg;
    asio::io_context io{1};
    SystemClock clock;
    std::unique_ptr<store::Database> db;
    std::unique_ptr<net::HttpClient> http;
    scanner::WatchRegistry watch;
    std::vector<ChainRuntime> chains;
    std::unique_ptr<webhook::Dispatcher> dispatcher;
    orders::RateCache rates;
    std::unique_ptr<orders::RateFetcher> rate_fetcher;
    std::unique_ptr<orders::Expirer> expirer;
    std::unique_ptr<api::Handler> handler;
    std::unique_ptr<api::Server> server;
    int exit_code = 0;
    int running_loops = 0;
    asio::signal_set* signals = nullptr;
    std::shared_ptr<asio::steady_timer> grace;  // second phase of a shutdown

    void stop_all() {
        for (auto& c : chains) c.scanner->stop();
        if (dispatcher) dispatcher->stop();
        if (rate_fetcher) rate_fetcher->stop();
        if (expirer) expirer->stop();
        if (server) server->stop();
    }

    // A loop that ends with an exception is a bug: log it and stop the
    // daemon (exit 1) instead of running on without it.
    auto on_loop_end(std::string name) {
        ++running_loops;
        return [this, name](std::exception_ptr e) {
            // When the last loop is done, nothing may keep io.run() going:
            // the grace timer and the signal wait are cancelled.
            if (--running_loops == 0) {
                if (grace) grace->cancel();
                if (signals) signals->cancel();
            }
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::get("daemon")->critical("{} failed: {}; stopping", name, ex.what());
            }
            exit_code = 1;
            stop_all();
        };
    }
};

int run_daemon(const config::Config& cfg) {
    auto logger = log::get("daemon");
    auto d = std::make_unique<Daemon>();
    d->cfg = cfg;

    std::error_code fs_ec;
    std::filesystem::create_directories(cfg.daemon.data_dir, fs_ec);
    if (fs_ec) {
        logger->error("cannot create data_dir {}: {}", cfg.daemon.data_dir, fs_ec.message());
        return 1;
    }
    auto db = store::Database::open(cfg.database_path());
    if (!db) {
        logger->error("{}", db.error().message);
        return 1;
    }
    d->db = std::move(*db);
    if (auto s = d->db->migrate(); !s) {
        logger->error("{}", s.error().message);
        return 1;
    }
    logger->info("database {} (schema v{})", cfg.database_path(), d->db->schema_version());
    // Shared receive addresses of mode "amount" are watched like pool addresses.
    if (auto s = orders::prepare_receive_addresses(*d->db, d->cfg, d->clock.now_ms()); !s) {
        logger->error("{}", s.error().message);
        return s.error().code == Errc::invalid_input ? 2 : 1;
    }

    d->http = std::make_unique<net::HttpClient>(d->io.get_executor());

    for (const auto& cc : cfg.chains) {
        auto adapter = chain::make_adapter(cc, *d->http);
        if (!adapter) {
            logger->error("{}: chain {}: {}", cc.source, cc.id, adapter.error().message);
            return 2;
        }
        scanner::ScannerOptions o;
        o.chain_id = cc.id;
        o.protocol = cc.kind;
        o.confirmations = cc.confirmations;
        o.finalized = cc.finalized;
        o.start = cc.start;
        o.max_batch = cc.max_block_range;
        o.max_reorg_depth = cc.max_reorg_depth;
        o.poll_interval = cc.poll_interval;
        ChainRuntime rt;
        rt.adapter = std::move(*adapter);
        rt.scanner = std::make_unique<scanner::Scanner>(d->io.get_executor(), o, *rt.adapter, *d->db, d->watch,
                                                        d->clock);
        rt.scanner->on_deposit_change(orders::deposit_observer(d->cfg));  // orders follow their deposits
        d->chains.push_back(std::move(rt));
    }

    d->dispatcher = std::make_unique<webhook::Dispatcher>(d->io.get_executor(), *d->db, *d->http, cfg.webhook,
                                                           d->clock);
    for (auto& c : d->chains) c.scanner->on_events([disp = d->dispatcher.get()] { disp->wake(); });

    // Orders: those that expired while the daemon was down expire now, before anyone sees them.
    if (auto n = orders::expire_due(*d->db, d->cfg, d->clock.now_ms()); !n)
        logger->error("cannot expire orders: {}", n.error().describe());
    d->expirer = std::make_unique<orders::Expirer>(d->io.get_executor(), *d->db, d->cfg, d->clock);
    d->expirer->on_expired([disp = d->dispatcher.get()] { disp->wake(); });
    d->rate_fetcher = std::make_unique<orders::RateFetcher>(d->io.get_executor(), *d->http, d->cfg.orders, d->rates,
                                                            d->clock);

    d->handler = std::make_unique<api::Handler>(*d->db, d->cfg, d->clock);
    d->handler->set_rates(&d->rates);
    d->server = std::make_unique<api::Server>(d->io.get_executor(), *d->handler, cfg.api.host, cfg.api.port,
                                              cfg.api.max_body_bytes);
    auto port = d->server->listen();
    if (!port) {
        logger->error("cannot listen on {}: {}", cfg.api.listen, port.error().message);
        return 1;
    }
    logger->info("API listening on {}:{}", cfg.api.host, *port);

    asio::signal_set signals(d->io, SIGINT, SIGTERM);
    d->signals = &signals;
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        logger->info("signal {} received, stopping", sig);
        d->stop_all();
        // Second phase: whatever still runs after the grace period is cut.
        d->grace = std::make_shared<asio::steady_timer>(d->io, std::chrono::seconds(10));
        d->grace->async_wait([&](const boost::system::error_code& e) {
            if (!e) {
                logger->warn("shutdown grace period over, terminating");
                d->io.stop();
            }
        });
        signals.async_wait([&](const boost::system::error_code& e2, int) {
            if (!e2) d->io.stop();  // a second signal: stop now
        });
    });

    // Start-up checks (token decimals against the chain) run inside each
    // chain's coroutine: a node that is down at start must not stop the daemon.
    for (auto& c : d->chains) {
        auto* rt = &c;
        asio::co_spawn(
            d->io,
            [rt, logger]() -> asio::awaitable<void> {
                auto v = co_await rt->adapter->verify();
                if (!v) {
                    logger->error("{}: start-up check failed: {}; this chain is not followed",
                                  rt->scanner->options().chain_id, v.error().describe());
                    co_return;
                }
                co_await rt->scanner->run();
            },
            d->on_loop_end("chain " + c.scanner->options().chain_id));
    }
    asio::co_spawn(d->io, d->dispatcher->run(), d->on_loop_end("webhook dispatcher"));
    asio::co_spawn(d->io, d->expirer->run(), d->on_loop_end("order expiry"));
    asio::co_spawn(d->io, d->rate_fetcher->run(), d->on_loop_end("rate source"));
    asio::co_spawn(d->io, d->server->run(), d->on_loop_end("api server"));

    logger->info("depositd {} started: {} chain(s)", DEPOSITD_VERSION, d->chains.size());
    d->io.run();
    d->signals = nullptr;
    d->grace.reset();
    signals.cancel();
    d->http->close_idle();
    logger->info("stopped");
    return d->exit_code;
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description opts("depositd options");
    opts.add_options()
        ("help,h", "show this help")
        ("version", "print the version")
        ("config,c", po::value<std::string>(), "configuration file (TOML)")
        ("check-config", "validate the configuration and exit (0 ok, 2 problems)");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "depositd: " << e.what() << "\n" << opts;
        return 2;
    }
    if (vm.count("help")) {
        std::cout << "depositd " DEPOSITD_VERSION " - watch-only blockchain deposit monitor\n\n"
                  << "usage: depositd --config FILE [--check-config]\n\n"
                  << opts;
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "depositd " DEPOSITD_VERSION "\n";
        return 0;
    }
    if (!vm.count("config")) {
        std::cerr << "depositd: --config FILE is required (see --help)\n";
        return 2;
    }
    auto loaded = config::load_file(vm["config"].as<std::string>());
    if (!loaded.problems.empty()) {
        for (const auto& p : loaded.problems) std::cerr << p.to_string() << "\n";
        return 2;
    }
    const auto& cfg = *loaded.config;
    if (auto s = orders::check_receive_addresses(cfg); !s) {
        std::cerr << s.error().message << "\n";
        return 2;
    }
    if (vm.count("check-config")) {
        std::cout << cfg.path << ": ok (" << cfg.chains.size() << " chain(s))\n";
        return 0;
    }
    log::set_level(cfg.daemon.log_level);
    try {
        return run_daemon(cfg);
    } catch (const std::exception& e) {
        log::get("daemon")->critical("fatal: {}", e.what());
        return 1;
    }
}
