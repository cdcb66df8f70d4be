#pragma once
// What the node-backed adapters (evm/ tron/ bitcoin/ solana/) hold and build
// the same way: the node client made from the chain's [[chains]] entry, the
// chain's id, its finality mode and a logger, and the two ways to create an
// adapter. What differs — the calls, the decoding, range control, verify() —
// stays in each chain's folder.
//
//   class EvmAdapter final : public RpcAdapterOf<EvmAdapter> {
//   public:
//       using RpcAdapterOf::create;  // create(cfg, HttpClient&)
//       static Result<std::unique_ptr<EvmAdapter>> create(const config::ChainConfig&,
//                                                         std::unique_ptr<net::JsonRpcClient>);
#include <memory>
#include <string>

#include "chain/adapter.hpp"
#include "chain/rpc_options.hpp"
#include "config/config.hpp"

namespace spdlog {
class logger;
}

namespace depositd::chain {

// `e` with `context` in front of its message ("eth_getLogs 5-9: timeout").
Error with_context(Error e, const std::string& context);

class RpcAdapter : public ChainAdapter {
public:
    ~RpcAdapter() override;

    // The node client options of a chain: rpc_options(cfg). An adapter whose
    // node needs more (Bitcoin: cookie auth, larger answers) hides this.
    static net::JsonRpcOptions client_options(const config::ChainConfig& cfg) { return rpc_options(cfg); }

protected:
    // `logger`: the adapter's log name ("chain.evm").
    RpcAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc, const char* logger);

    // A client over `http` with `options`; Errc::invalid_input naming the
    // chain when they list no endpoint.
    static Result<std::unique_ptr<net::JsonRpcClient>> connect(const config::ChainConfig& cfg, net::HttpClient& http,
                                                               net::JsonRpcOptions options);

    std::string chain_;           // [[chains]] id, in messages, logs and metrics
    bool use_finalized_ = false;  // confirmations = "finalized"
    std::unique_ptr<net::JsonRpcClient> rpc_;
    std::shared_ptr<spdlog::logger> log_;
};

// The create() every adapter has over an HttpClient: Adapter::client_options,
// then Adapter::create(cfg, client) (which validates the rest of the config).
template <class Adapter>
class RpcAdapterOf : public RpcAdapter {
public:
    static Result<std::unique_ptr<Adapter>> create(const config::ChainConfig& cfg, net::HttpClient& http) {
        auto rpc = connect(cfg, http, Adapter::client_options(cfg));
        if (!rpc) return rpc.error();
        return Adapter::create(cfg, std::move(*rpc));
    }

protected:
    using RpcAdapter::RpcAdapter;
};

}  // namespace depositd::chain
