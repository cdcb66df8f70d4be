#pragma once
// Internal to chain/evm: what the parts of EvmAdapter (evm_adapter.cpp,
// log_proof.cpp, native_receipts.cpp) share — call builders, endpoint choice,
// the pause between rounds of asking again, the re-check counter.
#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "chain/evm/decode.hpp"
#include "core/json.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::chain::evm::detail {

bool icontains(std::string_view hay, std::string_view needle);
net::RpcCall receipt_call(const std::string& tx);
json::array token_addresses(const std::vector<TokenSpec>& tokens);
net::CallOptions other_endpoint(bool other);
// The pause before a round of asking again (logs proof, receipts).
boost::asio::awaitable<void> before_round(unsigned round);
void count_recheck(const std::string& chain, const char* step, std::size_t n);

}  // namespace depositd::chain::evm::detail

