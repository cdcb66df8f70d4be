#pragma once
// EVM chains (Ethereum, BSC, Polygon PoS, anvil): the RPC half. Decoding is
// in chain/evm/decode.hpp (pure functions over bytes).
//
// head()     eth_blockNumber; with `confirmations = "finalized"` also
//            eth_getBlockByNumber("finalized", false) — a -39001 "unknown
//            block" error or a null result means "no finalized block yet".
// scan()     for [from, min(to, from + range - 1)]:
//            1. the blocks, full transactions, in JSON-RPC batches
//               (eth_getBlockByNumber(hex, true)); a null block ends the
//               result there (prefix). Parent hashes must chain inside the
//               range, else Errc::conflict.
//            2. ERC20: ONE eth_getLogs {fromBlock, toBlock, address:
//               [configured tokens], topics: [Transfer, null, recipients?]}.
//               Never unfiltered; skipped when no token is configured or
//               nothing is watched. Watch sets of <= kTopicFilterMax
//               addresses add the recipients as a topic OR-list; larger sets
//               fetch all Transfer logs of the tokens and match locally.
//               Every log must carry the hash of the block fetched for its
//               height, else Errc::conflict (reorg mid-fetch; the scanner
//               retries).
//            3. native coin: txs to a watched address with value > 0, then
//               eth_getTransactionReceipt for those only: status 0x0 (failed)
//               is not a deposit.
//            Range control: the range starts at max_block_range; a provider
//            "range too large" error shrinks it to the suggested end
//            (Error::suggested_to) or halves it and retries at once (the
//            result is then a shorter prefix); a transport error/timeout on
//            eth_getLogs halves it and returns the error (the scanner
//            retries); after kGrowAfter successful scans in a row it doubles
//            again, up to max_block_range.
// block_at() eth_getBlockByNumber(hex, false); null -> Presence::unknown.
// verify()   logs eth_chainId; eth_call decimals() on every token; a value
//            different from the config is an Error naming the token.
//
// NOT SEEN: native coin moved by contracts (internal transactions: exchange
// or multisig wallets paying out through a contract call). They are not
// top-level transactions and emit no log; see docs/chains/evm.md.
//
// Transfer ids: tokens index = logIndex; native index = kNativeIndex (2^32),
// see decode.hpp.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chain/adapter.hpp"
#include "chain/evm/decode.hpp"
#include "config/config.hpp"

namespace spdlog {
class logger;
}

namespace depositd::net {
class HttpClient;
class JsonRpcClient;
struct RpcCall;
}  // namespace depositd::net

namespace depositd::chain::evm {

class EvmAdapter final : public ChainAdapter {
public:
    static constexpr std::size_t kTopicFilterMax = 500;  // recipients in one topic OR-list
    static constexpr std::size_t kBlockBatch = 25;       // eth_getBlockByNumber per HTTP batch
    static constexpr std::size_t kReceiptBatch = 50;
    static constexpr unsigned kGrowAfter = 8;            // calm scans before the range doubles

    // Validates the token contracts; errors name the token.
    static Result<std::unique_ptr<EvmAdapter>> create(const config::ChainConfig& cfg, net::HttpClient& http);
    // Over an existing client (tests).
    static Result<std::unique_ptr<EvmAdapter>> create(const config::ChainConfig& cfg,
                                                      std::unique_ptr<net::JsonRpcClient> rpc);
    ~EvmAdapter() override;

    boost::asio::awaitable<Result<Head>> head() override;
    boost::asio::awaitable<Result<ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                                     const WatchSet& watched) override;
    boost::asio::awaitable<Result<BlockAt>> block_at(std::uint64_t height) override;
    boost::asio::awaitable<Status> verify() override;

    // The current adaptive block range (tests, metrics).
    std::uint64_t range() const { return range_; }

private:
    EvmAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc, std::vector<TokenSpec> tokens);

    boost::asio::awaitable<Result<std::vector<DecodedBlock>>> fetch_blocks(std::uint64_t from, std::uint64_t to,
                                                                           const WatchSet& watched);
    void shrink_to(std::uint64_t span);

    struct ScanState {
        std::uint64_t from = 0, end = 0;
        std::vector<DecodedBlock> blocks;
        std::vector<BlockRef> refs;
        std::vector<MatchedTransfer> matched;
        std::vector<std::pair<std::size_t, Transfer*>> natives;  // (block, candidate) awaiting receipts
        std::vector<BlockTransfers> result;
        Error error;
    };
    enum class LogsStep { done, retry, fail };
    LogsStep on_logs(Result<json::value>& logs, ScanState& s, const WatchSet& watched);
    void assemble(ScanState& s);
    static std::vector<net::RpcCall> receipt_calls(const ScanState& s, std::size_t start, std::size_t stop);
    Status on_receipts(Result<std::vector<json::value>>& r, ScanState& s, std::size_t start, std::size_t stop);
    void finish(ScanState& s);

    std::string chain_;
    bool use_finalized_ = false;
    std::unique_ptr<net::JsonRpcClient> rpc_;
    std::vector<TokenSpec> tokens_;
    NativeSpec native_;
    std::uint64_t max_range_ = 500;
    std::uint64_t range_ = 500;
    unsigned calm_ = 0;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace depositd::chain::evm
