#include "chain/rpc_adapter.hpp"

#include "core/log.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::chain {

Error with_context(Error e, const std::string& context) {
    e.message = context + ": " + e.message;
    return e;
}

RpcAdapter::RpcAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc, const char* logger)
    : chain_(cfg.id), use_finalized_(cfg.finalized), rpc_(std::move(rpc)), log_(log::get(logger)) {}

RpcAdapter::~RpcAdapter() = default;

Result<std::unique_ptr<net::JsonRpcClient>> RpcAdapter::connect(const config::ChainConfig& cfg, net::HttpClient& http,
                                                                net::JsonRpcOptions options) {
    if (options.endpoints.empty()) return make_error(Errc::invalid_input, "chain " + cfg.id + ": no rpc endpoint");
    return std::make_unique<net::JsonRpcClient>(http, std::move(options));
}

}  // namespace depositd::chain
