#pragma once
// Bitcoin (Bitcoin Core JSON-RPC, and bcoin's dialect of it): the RPC half.
// Decoding is in chain/bitcoin/decode.hpp (pure functions over bytes).
//
// verify()   getblockchaininfo -> the node's chain ("main", "test", "signet",
//            "regtest", ...; unknown names are a configuration error), then
//            the dialect, detected without any config key: `getblock
//            <best> 2` (Bitcoin Core) and, when the node refuses that (bcoin:
//            "Param #1 must be a boolean."), `getblock [best, true, true]`.
//            Neither answering a full block: Errc::invalid_input. HTTP 401
//            (wrong user:password or cookie): Errc::invalid_input.
// head()     getblockcount. Bitcoin has no finality tag.
// scan()     getblockhash(from), then `getblock` for each block in turn,
//            following `nextblockhash` (one call per block), up to
//            max_block_range blocks. getblock answers are read raw and
//            stream-decoded. Every block must have the height asked, the
//            hash asked, and the previous block's hash as parent (else
//            Errc::conflict: a reorg during the fetch); Core's confirmations
//            = -1 (not on the main chain) is a conflict too. getblockhash
//            "out of range" (-8) = nothing yet. An error after some blocks
//            returns the prefix fetched so far.
// block_at() getblockhash(h) + getblockheader(hash); out of range ->
//            Presence::unknown (beyond the tip; never "different").
//
// Auth: user:password@ in the rpc URL (net sends it as Basic auth and never
// logs it), or rpc_cookie_file: read before the first request and again
// whenever the node answers 401 (bitcoind writes a new cookie at each start).
//
// NOT SEEN: the mempool (deposits are reported from their first block).
// Coinbase outputs to a watched address need kCoinbaseMaturity
// confirmations whatever the chain's setting (Transfer::min_confirmations).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/rpc_adapter.hpp"
#include "chain/bitcoin/decode.hpp"
#include "config/config.hpp"

namespace depositd::chain::bitcoin {

enum class Dialect { unknown, core, bcoin };
const char* to_string(Dialect d);

class BitcoinAdapter final : public RpcAdapterOf<BitcoinAdapter> {
public:
    using RpcAdapterOf::create;  // over an HttpClient with client_options(cfg)
    // rpc_options(cfg), answers up to 128 MiB (a full block at verbosity 2),
    // Basic auth from rpc_cookie_file when set.
    static net::JsonRpcOptions client_options(const config::ChainConfig& cfg);
    // Over an existing client (tests). The cookie file, if any, is read through
    // the client's options (see cookie_credentials()).
    static Result<std::unique_ptr<BitcoinAdapter>> create(const config::ChainConfig& cfg,
                                                          std::unique_ptr<net::JsonRpcClient> rpc);

    boost::asio::awaitable<Result<Head>> head() override;
    boost::asio::awaitable<Result<ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                    const WatchSet& watched) override;
    boost::asio::awaitable<Result<BlockAt>> block_at(std::uint64_t height) override;
    boost::asio::awaitable<Status> verify() override;
    boost::asio::awaitable<Result<TxTransfers>> transaction(std::string tx_hash, std::optional<std::string> block_hash,
                                                            const WatchSet& watched) override;

    // After a successful verify(): getblockchaininfo.chain and the dialect.
    const std::optional<std::string>& node_chain() const { return chain_name_; }
    Dialect dialect() const { return dialect_; }

    // Counters (tests, benchmarks): requests made by scan() and blocks it returned.
    std::uint64_t scan_requests() const { return scan_requests_; }
    std::uint64_t scanned_blocks() const { return scanned_blocks_; }

private:
    BitcoinAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc);

    boost::asio::awaitable<Result<std::string>> fetch_block(const std::string& hash, Dialect d);
    boost::asio::awaitable<Result<std::optional<std::string>>> block_hash(std::uint64_t height);
    Status check_block(const DecodedBlock& b, std::uint64_t height, const std::string& hash,
                       const std::vector<BlockTransfers>& so_far) const;

    std::string symbol_;
    unsigned decimals_ = 8;
    std::optional<U256> min_amount_;  // [chains].native.min_amount, satoshis
    std::uint64_t range_ = 10;
    Dialect dialect_ = Dialect::unknown;
    std::optional<std::string> chain_name_;
    std::optional<codec::BtcNetwork> network_;
    std::uint64_t scan_requests_ = 0;
    std::uint64_t scanned_blocks_ = 0;
};

// Basic-auth credentials from a Bitcoin Core cookie file for
// net::JsonRpcOptions::basic_auth: the file's first line ("__cookie__:<hex>"),
// cached; read again when `reload` (after a 401). "" while it cannot be read
// (the node has not written it yet): logged once per failure, the contents never.
std::function<std::string(bool reload)> cookie_credentials(std::string path, std::string chain_id);

// The start-up check of the node's network against the pool. `pool_samples`
// are addresses of the bitcoin pool covering every format in it
// (store::address_samples). A pool that has addresses but none that can belong
// to the node's chain (a mainnet node and a testnet or regtest pool, or the
// reverse) is Errc::invalid_input; some that cannot is a warning in `warning`.
// A test-network address on another test network (testnet addresses on
// regtest) is a warning only: base58 prefixes are shared and wallets mix them.
Status check_pool_network(std::string_view node_chain, std::span<const std::string> pool_samples,
                          std::string& warning);
// The same for an adapter: OK for anything but a verified BitcoinAdapter.
Status check_pool_network(const ChainAdapter& adapter, std::span<const std::string> pool_samples,
                          std::string& warning);

}  // namespace depositd::chain::bitcoin
