#include "chain/rpc_options.hpp"

namespace depositd::chain {

net::JsonRpcOptions rpc_options(const config::ChainConfig& cfg) {
    net::JsonRpcOptions o;
    o.endpoints = cfg.rpc;
    for (const auto& [k, v] : cfg.headers) o.headers.emplace_back(k, v);  // API keys (TRON-PRO-API-KEY, ...)
    o.timeout = cfg.request_timeout;
    o.max_rps = cfg.max_rps;
    o.max_response_bytes = cfg.max_response_bytes;
    o.name = cfg.id;
    return o;
}

}  // namespace depositd::chain
