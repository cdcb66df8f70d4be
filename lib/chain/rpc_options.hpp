#pragma once
// A chain's node-client settings from its [[chains]] entry, in one place for
// every adapter.
#include "config/config.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::chain {

// endpoints, headers, request timeout, max_rps, max_response_size, name.
net::JsonRpcOptions rpc_options(const config::ChainConfig& cfg);

}  // namespace depositd::chain
