#pragma once
// EVM chains (Ethereum, BSC, Polygon PoS, anvil): the RPC half. Decoding is
// in chain/evm/decode.hpp (pure functions over bytes).
//
// head()     eth_blockNumber; with `confirmations = "finalized"` also
//            eth_getBlockByNumber("finalized", false) -> Head::finalized and
//            Head::finalized_hash (the scanner proves that hash on its own
//            chain before anything counts as final) — a -39001 "unknown
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
//               Proven complete: a backend whose log index lags its blocks
//               answers [] or a short list, not an error (go-ethereum
//               #24078/#26098, besu #8007, nethermind #3983). So each block's
//               logsBloom is checked: when it may hold a configured token's
//               Transfer (token address + Transfer topic, and for topic-
//               filtered watch sets a watched recipient's topic) but the
//               answer holds no Transfer log of a configured token in that
//               block, the block is suspect and asked again by blockHash
//               (EIP-234): first the tokens' logs (any log proves the backend
//               has the block's logs), then, if none, all its logs, whose
//               bloom must cover the header's. Rounds alternate endpoints and
//               back off (kProofRounds); a block still unproven ends the
//               result before it (or is an Errc::unavailable error when it is
//               the first): never skipped. A bloom false positive costs one
//               or two requests. (Assumes a backend indexes a block's logs
//               all at once, as geth, erigon, nethermind, besu and reth do.)
//            3. native coin: txs to a watched address with value > 0, then
//               the receipts of those: status 0x0 (failed) is not a deposit.
//               eth_getBlockReceipts(blockHash) for the blocks that hold
//               candidates (bound to the very block scanned, and not subject
//               to a pruned transaction index: geth answers null to
//               eth_getTransactionReceipt past --txlookuplimit,
//               go-ethereum #22653/#23569); a node without the method
//               ("method not found", remembered, asked again after
//               kBlockReceiptsReprobe) gets eth_getTransactionReceipt per
//               transaction. A receipt that is missing (null, or absent
//               from the block's list) is "unknown", never a reorg by
//               itself: after the first round the block is checked — no
//               longer canonical -> Errc::conflict (reorg mid-fetch, the
//               scanner retries); canonical -> asked again in rounds that
//               alternate endpoints with backoff (kProofRounds). A block
//               still unsettled ends the result before it (or is an
//               Errc::unavailable error naming the tx when it is the first).
//            Range control (chain/adaptive_range.hpp): the range starts at max_block_range; a provider
//            "range too large" error shrinks it to the suggested end
//            (Error::suggested_to) or halves it and retries at once (the
//            result is then a shorter prefix); a transport error/timeout on
//            eth_getLogs halves it and returns the error (the scanner
//            retries); after kGrowAfter successful scans in a row it doubles
//            again, up to max_block_range.
// block_at() eth_getBlockByNumber(hex, false); null -> Presence::unknown.
// verify()   eth_chainId of every endpoint against `chain_id` (or, without
//            it, the first endpoint's answer): endpoints that disagree are
//            out of rotation (error log); when `chain_id` is set and no
//            endpoint serves it, Errc::invalid_input naming file:line:key.
//            Then installs that check on the client (net::EndpointCheck:
//            re-checked on failover and every 5 minutes). eth_call
//            decimals() on every token; a value different from the config
//            (or no token there) is Errc::invalid_input naming the token.
//            Any other error is transient: the caller calls verify() again.
//
// NOT SEEN: native coin moved by contracts (internal transactions: exchange
// or multisig wallets paying out through a contract call). They are not
// top-level transactions and emit no log; see docs/chains/evm.md.
//
// Transfer ids: tokens index = logIndex; native index = kNativeIndex (2^32),
// see decode.hpp.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "chain/rpc_adapter.hpp"
#include "chain/adaptive_range.hpp"
#include "chain/evm/decode.hpp"
#include "config/config.hpp"

namespace depositd::chain::evm {

class EvmAdapter final : public RpcAdapterOf<EvmAdapter> {
public:
    static constexpr std::size_t kTopicFilterMax = 500;  // recipients in one topic OR-list
    static constexpr std::size_t kBlockBatch = 25;       // eth_getBlockByNumber per HTTP batch
    // Block batches in flight at once (each on a keep-alive connection of
    // its own), and eth_getLogs beside them: a catch-up is bound by round
    // trips, not by the CPU of either side (docs/performance.md).
    static constexpr std::size_t kFetchLanes = 4;
    static constexpr std::size_t kReceiptBatch = 50;      // eth_getTransactionReceipt per HTTP batch
    static constexpr std::size_t kBlockReceiptsBatch = 4; // eth_getBlockReceipts per HTTP batch (MBs each on mainnet)
    // After "method not found" for eth_getBlockReceipts, per-transaction
    // receipts are used; the method is tried again after this long.
    static constexpr std::chrono::minutes kBlockReceiptsReprobe{10};
    static constexpr unsigned kGrowAfter = 8;            // calm scans before the range doubles
    static constexpr unsigned kProofRounds = 5;          // re-asks for a block whose logs miss its bloom
    static constexpr unsigned kProofBackoffMs = 250;     // before round 2; doubles each round after

    using RpcAdapterOf::create;  // over an HttpClient
    // Validates the token contracts; errors name the token. Over an existing client (tests).
    static Result<std::unique_ptr<EvmAdapter>> create(const config::ChainConfig& cfg,
                                                      std::unique_ptr<net::JsonRpcClient> rpc);

    boost::asio::awaitable<Result<Head>> head() override;
    boost::asio::awaitable<Result<ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                                     const WatchSet& watched) override;
    boost::asio::awaitable<Result<BlockAt>> block_at(std::uint64_t height) override;
    boost::asio::awaitable<Status> verify() override;
    // eth_getTransactionByHash + eth_getTransactionReceipt (one batch), then
    // eth_getBlockByHash(receipt.blockHash, false) for the block; decoded by
    // decode_transaction_transfers (the scan's decoders).
    boost::asio::awaitable<Result<TxTransfers>> transaction(std::string tx_hash, std::optional<std::string> block_hash,
                                                            const WatchSet& watched) override;

    // The current adaptive block range (tests, metrics).
    std::uint64_t range() const { return range_.span(); }

private:
    EvmAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc, std::vector<TokenSpec> tokens);

    boost::asio::awaitable<Result<std::vector<DecodedBlock>>> fetch_blocks(std::uint64_t from, std::uint64_t to,
                                                                           const WatchSet& watched);
    // One batch of fetch_blocks, decoded: blocks start.. (fewer when the node
    // has no block at a height: beyond its tip).
    using BlockSlot = std::optional<Result<std::vector<DecodedBlock>>>;
    boost::asio::awaitable<void> fetch_lane(std::uint64_t from, std::uint64_t to, std::size_t lane,
                                            const WatchSet& watched, std::vector<BlockSlot>& slots);
    Result<std::vector<DecodedBlock>> decode_block_batch(Result<std::vector<json::value>>& answers,
                                                         std::uint64_t start, std::uint64_t end,
                                                         const WatchSet& watched);
    Result<std::vector<DecodedBlock>> join_batches(std::vector<BlockSlot>& slots, std::uint64_t from,
                                                   std::uint64_t to);
    boost::asio::awaitable<Result<std::string>> fetch_logs(std::uint64_t from, std::uint64_t to,
                                                           const WatchSet& watched);

    struct ScanState {
        std::uint64_t from = 0, end = 0;
        std::vector<DecodedBlock> blocks;
        std::vector<BlockRef> refs;
        std::vector<std::uint32_t> token_logs;  // per block: Transfer logs of configured tokens answered
        std::vector<MatchedTransfer> matched;
        std::size_t ignored_zero = 0, ignored_dust = 0;
        std::vector<std::pair<std::size_t, Transfer*>> natives;  // (block, candidate) awaiting receipts
        std::vector<BlockTransfers> result;
        Error error;
    };
    enum class LogsStep { done, retry, fail };
    LogsStep on_logs(Result<std::string>& logs, ScanState& s, const WatchSet& watched);
    // Blocks (indexes into s.blocks) whose bloom may hold a Transfer of a
    // configured token (to a watched recipient when the query filtered by
    // recipient) while the answer held no such log.
    std::vector<std::size_t> suspects(const ScanState& s, const WatchSet& watched) const;
    // Asks again for the suspect blocks; returns the number of leading
    // blocks now proven complete (s.blocks.size() when all are).
    boost::asio::awaitable<Result<std::size_t>> prove_logs(ScanState& s, const WatchSet& watched,
                                                           std::vector<std::size_t> suspect);
    enum class Proof { proven, unproven };
    Result<Proof> on_block_logs(const Result<json::value>& answer, ScanState& s, std::size_t i,
                                const WatchSet& watched, bool whole_block);
    void truncate(ScanState& s, std::size_t keep);
    void assemble(ScanState& s);
    // Native candidates: what their receipts say.
    enum class Verdict { unknown, succeeded, failed };
    // Receipts in rounds (eth_getBlockReceipts by block hash, else
    // eth_getTransactionReceipt), alternating endpoints with backoff; moves
    // the succeeded transfers into s.result. Returns how many leading
    // blocks are settled (all of them, or the prefix before the first block
    // with a receipt no endpoint had); Errc::conflict when such a block left
    // the chain, Errc::unavailable when the first block is not settled.
    boost::asio::awaitable<Result<std::size_t>> settle_natives(ScanState& s);
    static std::vector<std::size_t> unsettled_blocks(const ScanState& s, const std::vector<Verdict>& verdicts);
    static Status on_block_receipts(const std::vector<json::value>& answers, const ScanState& s,
                                    std::span<const std::size_t> blocks, std::vector<Verdict>& verdicts);
    static Status on_tx_receipts(const std::vector<json::value>& answers, const ScanState& s,
                                 std::span<const std::size_t> natives, std::vector<Verdict>& verdicts);
    bool block_receipts_usable() const;
    void block_receipts_unsupported(const Error& e);
    void finish(ScanState& s);

    std::optional<std::uint64_t> chain_id_;  // configured
    std::string chain_id_source_;            // "file:line:chains[N].chain_id"
    std::vector<TokenSpec> tokens_;
    NativeSpec native_;
    AdaptiveRange range_;
    std::chrono::steady_clock::time_point block_receipts_off_until_{};  // eth_getBlockReceipts unused until then
};

}  // namespace depositd::chain::evm
