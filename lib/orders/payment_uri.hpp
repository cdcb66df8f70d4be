#pragma once
// The payment URI a wallet understands, for the payment page's QR code:
//   EVM token   EIP-681  ethereum:<contract>[@<chainId>]/transfer?address=<to>&uint256=<base units>
//   EVM native  EIP-681  ethereum:<to>[@<chainId>]?value=<wei>
//   Bitcoin     BIP 21   bitcoin:<address>?amount=<BTC>
//   Solana      Solana Pay  solana:<recipient>?amount=<decimal>[&spl-token=<mint>]
//   TRON        the bare address (TRON wallets agree on no URI scheme)
// The EIP-155 chain id is added for the well-known networks whose configured
// id says which one it is ("ethereum", "bsc", "polygon", ...).
#include <string>

#include "core/ids.hpp"
#include "store/orders.hpp"

namespace depositd::orders {

std::string payment_uri(const store::Order& o, Protocol protocol);

}  // namespace depositd::orders
