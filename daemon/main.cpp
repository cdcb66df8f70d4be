// depositd: wiring. One owner (Daemon) holds everything. Threads
// (docs/architecture.md): the network thread runs the io_context (chain
// loops, webhook deliveries, API sockets); the store's writer thread owns
// the read-write database connection; API worker threads run the request
// handler. Exit codes: 0 ok, 2 bad usage/config, 1 runtime.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/program_options.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <vector>

#include "api/handler.hpp"
#include "api/server.hpp"
#include "chain/bitcoin/bitcoin_adapter.hpp"
#include "chain/registry.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/health.hpp"
#include "core/log.hpp"
#include "net/http_client.hpp"
#include "orders/expiry.hpp"
#include "orders/orders.hpp"
#include "orders/rate_fetcher.hpp"
#include "scanner/leadership.hpp"
#include "scanner/scanner.hpp"
#include "service_notify.hpp"
#include "store/store.hpp"
#include "store/database.hpp"
#include "store/files.hpp"
#include "store/lease.hpp"
#include "store/pool.hpp"
#include "webhook/dispatcher.hpp"
#include "webhook/notifier.hpp"

namespace asio = boost::asio;
namespace po = boost::program_options;
using namespace depositd;

namespace {

struct ChainRuntime {
    std::unique_ptr<chain::ChainAdapter> adapter;
    std::unique_ptr<scanner::Scanner> scanner;
};

// Everything the daemon owns (Bitcoin Core's NodeContext idea). Members are
// destroyed in reverse order: the store (and its writer thread) goes before
// the io_context its completions are posted to.
struct Daemon {
    config::Config cfg;
    asio::io_context io{1};
    SystemClock clock;
    HealthBoard health;
    std::unique_ptr<store::Store> store;
    std::unique_ptr<asio::thread_pool> api_workers;
    std::unique_ptr<net::HttpClient> http;
    scanner::WatchRegistry watch;
    std::vector<ChainRuntime> chains;
    std::unique_ptr<scanner::Leadership> leadership;  // per-chain leases (SPEC §11)
    std::unique_ptr<webhook::Dispatcher> dispatcher;
    std::unique_ptr<webhook::TelegramNotifier> telegram;  // [notify.telegram]
    std::shared_ptr<asio::steady_timer> lag_sampler;       // the console's sparklines ([admin])
    orders::RateCache rates;
    std::unique_ptr<orders::RateFetcher> rate_fetcher;
    std::unique_ptr<orders::Expirer> expirer;
    std::unique_ptr<api::Handler> handler;
    std::unique_ptr<api::Server> server;
    int exit_code = 0;
    int running_loops = 0;
    asio::signal_set* signals = nullptr;
    std::shared_ptr<asio::steady_timer> grace;  // second phase of a shutdown
    std::unique_ptr<ServiceNotifier> notify;    // systemd: READY, WATCHDOG, STATUS, STOPPING

    void stop_all(const std::string& why = "shutting down") {
        if (notify) notify->stopping(why);
        for (auto& c : chains) c.scanner->stop();
        if (leadership) leadership->stop();  // after the scanners: hands the chains over at once
        if (dispatcher) dispatcher->stop();
        if (telegram) telegram->stop();
        if (lag_sampler) lag_sampler->cancel();
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

// After verify(): a Bitcoin node on another network than the pool's
// addresses (mainnet node, testnet pool, or the reverse) would never match a
// deposit. Errc::invalid_input = that mismatch (exit 2).
Status check_chain_network(const chain::ChainAdapter& adapter, store::Database& db, const std::string& chain_id) {
    if (dynamic_cast<const chain::bitcoin::BitcoinAdapter*>(&adapter) == nullptr) return {};
    auto samples = store::address_samples(db, to_string(Protocol::bitcoin));
    if (!samples) return samples.error();
    std::string warning;
    auto s = chain::bitcoin::check_pool_network(adapter, *samples, warning);
    if (!warning.empty()) log::get("daemon")->warn("{}: {}", chain_id, warning);
    return s;
}

int run_daemon(const config::Config& cfg) {
    auto logger = log::get("daemon");
    auto d = std::make_unique<Daemon>();
    d->cfg = cfg;

    if (auto s = store::ensure_private_dir(cfg.daemon.data_dir); !s) {  // 0700
        logger->error("data_dir: {}", s.error().message);
        return 1;
    }
    auto store = store::Store::open(cfg.store_location());
    if (!store) {
        logger->error("{}", store.error().message);
        return 1;
    }
    d->store = std::move(*store);
    logger->info("database {} {} (schema v{})", store::to_string(d->store->backend()), d->store->path(),
                 d->store->write([](store::Database& db) -> Result<int> { return db.schema_version(); }).value());
    // Shared receive addresses of mode "amount" are watched like pool addresses.
    if (auto s = d->store->write([&](store::Database& db) {
            return orders::prepare_receive_addresses(db, d->cfg, d->clock.now_ms());
        });
        !s) {
        logger->error("{}", s.error().message);
        return s.error().code == Errc::invalid_input ? 2 : 1;
    }

    net::HttpClientOptions http_options;
    http_options.max_idle_per_host = webhook::keep_alive_per_host(cfg.webhook);
    d->http = std::make_unique<net::HttpClient>(d->io.get_executor(), http_options);

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
        o.attribution_skew = cc.attribution_skew;
        o.source = cc.source;
        ChainRuntime rt;
        rt.adapter = std::move(*adapter);
        rt.scanner = std::make_unique<scanner::Scanner>(d->io.get_executor(), o, *rt.adapter, *d->store, d->watch,
                                                        d->clock, &d->health);
        // A start-up check that finds the configuration wrong (token decimals,
        // chain id) stops the daemon with exit 2: restarting cannot help.
        rt.scanner->on_config_mismatch([dm = d.get()](const Error& e) {
            dm->exit_code = 2;
            dm->stop_all("configuration contradicted by the node: " + e.message);
        });
        rt.scanner->set_start_check([ad = rt.adapter.get(), chain = o.chain_id](store::Database& db) {
            return check_chain_network(*ad, db, chain);
        });
        rt.scanner->on_deposit_change(orders::deposit_observer(d->cfg),  // orders follow their deposits
                                      &orders::followed_addresses);
        d->chains.push_back(std::move(rt));
    }

    // Several daemons may share one store: each chain is scanned by the
    // holder of its lease, the others stand by (scanner/leadership.hpp). One
    // daemon alone simply holds every lease.
    {
        std::vector<std::string> ids;
        for (const auto& c : d->chains) ids.push_back(c.scanner->options().chain_id);
        scanner::LeaseOptions lo;
        lo.ttl = cfg.store.lease;
        lo.poll = cfg.store.lease_poll;
        d->leadership = std::make_unique<scanner::Leadership>(
            d->io.get_executor(), *d->store, store::this_instance(DEPOSITD_VERSION, cfg.api.listen), lo, ids,
            &d->health);
        for (auto& c : d->chains) c.scanner->set_leadership(d->leadership.get());
        d->leadership->on_change([dm = d.get()] {
            for (auto& c : dm->chains) c.scanner->wake();
        });
    }

    d->dispatcher = std::make_unique<webhook::Dispatcher>(d->io.get_executor(), *d->store, *d->http, cfg.webhook,
                                                           d->clock);
    d->dispatcher->allow_private_targets(cfg.merchant.allow_private_notify);
    for (auto& c : d->chains) c.scanner->on_events([disp = d->dispatcher.get()] { disp->wake(); });
    if (d->cfg.notify.telegram.enabled) {
        d->dispatcher->set_telegram(&d->cfg.notify.telegram);
        d->telegram = std::make_unique<webhook::TelegramNotifier>(d->io.get_executor(), *d->store, d->cfg, d->clock,
                                                                  &d->health);
        d->telegram->on_queued([disp = d->dispatcher.get()] { disp->wake(); });
    }

    // Orders: those that expired while the daemon was down expire now, before anyone sees them.
    if (auto n = d->store->write([&](store::Database& db) { return orders::expire_due(db, d->cfg, d->clock.now_ms()); });
        !n)
        logger->error("cannot expire orders: {}", n.error().describe());
    d->expirer = std::make_unique<orders::Expirer>(d->io.get_executor(), *d->store, d->cfg, d->clock);
    d->expirer->on_expired([disp = d->dispatcher.get()] { disp->wake(); });
    d->rate_fetcher = std::make_unique<orders::RateFetcher>(d->io.get_executor(), *d->http, d->cfg.orders, d->rates,
                                                            d->clock);

    d->api_workers = std::make_unique<asio::thread_pool>(2);
    d->handler = std::make_unique<api::Handler>(*d->store, d->cfg, d->clock, &d->health);
    d->handler->set_rates(&d->rates);
    d->handler->on_events_queued([disp = d->dispatcher.get()] { disp->wake(); });
    // Re-check (SPEC §10): the API worker hands the work to the chain's
    // scanner on the network thread and waits for its answer. One at a time:
    // a slow node must not hold every API worker.
    d->handler->set_rechecker([dm = d.get(), busy = std::make_shared<std::atomic<bool>>(false)](
                                  const std::string& chain_id, const std::string& tx_hash,
                                  const std::optional<std::string>& block_hash) -> Result<api::RecheckAnswer> {
        if (busy->exchange(true)) return make_error(Errc::unavailable, "another re-check is running; retry");
        struct Release {
            std::atomic<bool>& flag;
            ~Release() { flag = false; }
        } release{*busy};
        scanner::Scanner* sc = nullptr;
        for (auto& c : dm->chains)
            if (c.scanner->options().chain_id == chain_id) sc = c.scanner.get();
        if (sc == nullptr) return make_error(Errc::invalid_input, "unknown chain " + chain_id);
        auto fut = asio::co_spawn(dm->io, sc->recheck(tx_hash, block_hash), asio::use_future);
        if (fut.wait_for(std::chrono::seconds(60)) != std::future_status::ready)
            return make_error(Errc::unavailable, "the chain's nodes did not answer within 60 s");
        try {
            auto r = fut.get();
            if (!r) return r.error();
            return api::RecheckAnswer{std::move(r->deposits), r->recorded};
        } catch (const std::exception& e) {
            return make_error(Errc::unavailable, std::string("re-check interrupted: ") + e.what());
        }
    });
    d->server = std::make_unique<api::Server>(d->io.get_executor(), *d->handler, cfg.api.host, cfg.api.port,
                                              cfg.api.max_body_bytes);
    d->server->set_workers(d->api_workers->get_executor());
    d->server->set_limits(api::server_limits(cfg.api));
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
        d->stop_all("signal " + std::to_string(sig));
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

    // Start-up checks (token decimals, chain id) run inside each chain's
    // loop and are retried until the node answers: a node still booting
    // after a host reboot must not leave its chain unfollowed (it shows
    // "starting" in /health meanwhile).
    asio::co_spawn(d->io, d->leadership->run(), d->on_loop_end("leadership"));
    for (auto& c : d->chains)
        asio::co_spawn(d->io, c.scanner->run(), d->on_loop_end("chain " + c.scanner->options().chain_id));
    asio::co_spawn(d->io, d->dispatcher->run(), d->on_loop_end("webhook dispatcher"));
    asio::co_spawn(d->io, d->expirer->run(), d->on_loop_end("order expiry"));
    asio::co_spawn(d->io, d->rate_fetcher->run(), d->on_loop_end("rate source"));
    asio::co_spawn(d->io, d->server->run(), d->on_loop_end("api server"));
    if (d->telegram) asio::co_spawn(d->io, d->telegram->run(), d->on_loop_end("telegram notifier"));
    if (d->cfg.admin.enabled) {
        // The console's lag sparklines: one sample per chain every 10 s, in memory.
        d->lag_sampler = std::make_shared<asio::steady_timer>(d->io);
        asio::co_spawn(
            d->io,
            [timer = d->lag_sampler, handler = d->handler.get()]() -> asio::awaitable<void> {
                for (;;) {
                    handler->sample_lag();
                    timer->expires_after(std::chrono::seconds(10));
                    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
                    if (ec) co_return;
                }
            },
            d->on_loop_end("console lag sampler"));
    }

    // systemd (daemon/service_notify.hpp): READY=1 after the loops' first steps.
    const auto stall = cfg.daemon.stall_timeout.value_or(ServiceNotifier::default_stall(cfg));
    if (stall < ServiceNotifier::default_stall(cfg))
        logger->warn("[daemon].stall_timeout {} ms is shorter than a slow but healthy step may take ({} ms): the "
                     "watchdog may restart a daemon that is only slow", stall.count(),
                     ServiceNotifier::default_stall(cfg).count());
    d->notify = std::make_unique<ServiceNotifier>(d->io.get_executor(), SdNotify::from_environment(), d->health,
                                                  d->clock, stall);
    d->notify->watch("webhook dispatcher", [disp = d->dispatcher.get()] { return disp->heartbeat_ms(); });
    if (d->telegram) d->notify->watch("telegram notifier", [t = d->telegram.get()] { return t->heartbeat_ms(); });
    d->notify->start();

    logger->info("depositd {} started: {} chain(s)", DEPOSITD_VERSION, d->chains.size());
    d->io.run();
    d->signals = nullptr;
    d->grace.reset();
    signals.cancel();
    d->api_workers->join();  // requests being handled finish before the store goes
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
        ("check-config", "validate the configuration and exit (0 ok, 2 problems)")
        ("print-config", "print the effective configuration as TOML (presets expanded, defaults filled in, "
                         "secrets masked) and exit; contacts no node");
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
                  << "usage: depositd --config FILE [--check-config | --print-config]\n\n"
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
    // --check-config and --print-config read the file as the daemon does,
    // but let the masks --print-config prints stand for their secrets.
    const bool only_check = vm.count("check-config") || vm.count("print-config");
    auto loaded = config::load_file(vm["config"].as<std::string>(),
                                    only_check ? config::Reader::check : config::Reader::daemon);
    if (!loaded.problems.empty()) {
        for (const auto& p : loaded.problems) std::cerr << p.to_string() << "\n";
        return 2;
    }
    const auto& cfg = *loaded.config;
    if (auto s = orders::check_receive_addresses(cfg); !s) {
        std::cerr << s.error().message << "\n";
        return 2;
    }
    if (vm.count("print-config")) {
        std::cout << config::to_toml(cfg);
        return 0;
    }
    if (vm.count("check-config")) {
        std::cout << cfg.path << ": ok (" << cfg.chains.size() << " chain(s))\n";
        for (const auto& where : cfg.masked_secrets)
            std::cerr << where << ": masked (\"" << config::kMasked
                      << "\"); write the secret or a ${VAR} reference here before starting the daemon\n";
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
