#include "chain/registry.hpp"

#include "chain/bitcoin/bitcoin_adapter.hpp"
#include "chain/evm/evm_adapter.hpp"
#include "chain/rpc_options.hpp"
#include "chain/solana/solana_adapter.hpp"
#include "chain/tron/tron_adapter.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::chain {

Result<std::unique_ptr<ChainAdapter>> make_adapter(const config::ChainConfig& cfg, net::HttpClient& http) {
    if (cfg.rpc.empty()) return make_error(Errc::invalid_input, "chain " + cfg.id + ": no rpc endpoint");
    auto rpc = [&] { return std::make_unique<net::JsonRpcClient>(http, rpc_options(cfg)); };
    switch (cfg.kind) {
        case Protocol::evm: {
            auto a = evm::EvmAdapter::create(cfg, rpc());
            if (!a) return a.error();
            return std::unique_ptr<ChainAdapter>(std::move(*a));
        }
        case Protocol::tron: {
            auto a = tron::TronAdapter::create(cfg, rpc());
            if (!a) return a.error();
            return std::unique_ptr<ChainAdapter>(std::move(*a));
        }
        case Protocol::bitcoin: {
            auto a = bitcoin::BitcoinAdapter::create(cfg, http);
            if (!a) return a.error();
            return std::unique_ptr<ChainAdapter>(std::move(*a));
        }
        case Protocol::solana: {
            auto a = solana::SolanaAdapter::create(cfg, http);
            if (!a) return a.error();
            return std::unique_ptr<ChainAdapter>(std::move(*a));
        }
        default:
            return make_error(Errc::invalid_input, "chain " + cfg.id + ": chain kind " + to_string(cfg.kind) +
                                                       " is not supported yet");
    }
}

}  // namespace depositd::chain
