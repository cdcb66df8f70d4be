#pragma once
// kind -> adapter factory. Adding a chain = one adapter folder + one line in
// registry.cpp.
#include <memory>

#include "chain/adapter.hpp"
#include "config/config.hpp"
#include "core/result.hpp"

namespace depositd::net {
class HttpClient;
}

namespace depositd::chain {

Result<std::unique_ptr<ChainAdapter>> make_adapter(const config::ChainConfig& cfg, net::HttpClient& http);

}  // namespace depositd::chain
