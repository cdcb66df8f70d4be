#pragma once
// Solana (Agave JSON-RPC, any provider): the RPC half. Decoding is in
// chain/solana/decode.hpp (a streaming parser over the answer bytes).
//
// Heights are slots. A slot nobody produced a block in is "skipped": it is
// absent from scan()'s result and block_at() says Presence::skipped.
//
// head()     getSlot {commitment: confirmed} -> Head::height; with
//            `confirmations = "finalized"` also getLatestBlockhash
//            {finalized} -> Head::finalized (context.slot, the rooted slot)
//            and Head::finalized_hash (its blockhash, value.blockhash: one
//            bank answers both), which the scanner proves on its own chain.
// scan()     1. getBlocks(from, end) {confirmed}, end = min(to, from +
//               range - 1), range = max_block_range (<= 500,000, the
//               method's limit): the produced slots.
//            2. getBlock(slot, {encoding json, transactionDetails accounts,
//               maxSupportedTransactionVersion 0, rewards false, commitment
//               confirmed}) for each, kBlockBatch per JSON-RPC batch (one by
//               one if the endpoint refuses batches), decoded as a stream.
//            3. Skipped slots are PROVEN, never inferred from a short list:
//               each block's parentSlot / previousBlockhash must be the
//               previous block's (so every slot between them is skipped on
//               this chain), the first block's parentSlot must lie before
//               `from`. A block whose parent was not in the list (a backend
//               that lags or lost history) ends the result there.
//            4. Slots after the last block L up to `end` are claimed only
//               with a later block N as proof: getBlocksWithLimit(L + 1, 1)
//               -> N > end, and getBlock(N, transactionDetails none) has
//               parentSlot L and previousBlockhash = L's hash. Otherwise
//               scanned_to = L (examined again next time).
//            Any slot that is not a block (-32004 "Block not available",
//            null, -32007 for a listed slot, an error) ends the result at
//            the block before it; with no block before it, the error.
// block_at() getBlock(slot, transactionDetails none). Not a block
//            (-32007/-32009 "skipped, or missing due to ledger jump to
//            recent snapshot" / "skipped or missing in long-term storage",
//            -32004 / -32014 / -32016, null): skipped only if the confirmed
//            chain provably passes over the slot — getBlocksWithLimit(slot,
//            1) names a later block whose parentSlot is below it (a slot
//            nobody produced, or one fork choice dropped before finality:
//            Agave answers -32004 for it until the root passes it).
//            Otherwise Presence::unknown: a lagging backend, a ledger gap
//            after a snapshot boot or a hole in long-term storage answers
//            -32007/-32009 too, so a stored block is never taken as gone on
//            an error code alone (retry, or another endpoint).
// verify()   getGenesisHash (logged: which cluster), then getTokenSupply of
//            every mint: decimals different from the config, or not a mint
//            -> Errc::invalid_input. Anything else is transient (the
//            scanner calls verify() again until it passes).
//
// Rate limits: HTTP 429 + Retry-After and JSON-RPC 429 errors are retried
// by net::JsonRpcClient (Retry-After honoured); `max_rps` caps the rate.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chain/rpc_adapter.hpp"
#include "chain/solana/decode.hpp"
#include "config/config.hpp"

namespace depositd::chain::solana {

class SolanaAdapter final : public RpcAdapterOf<SolanaAdapter> {
public:
    static constexpr std::uint64_t kMaxSlotRange = 500'000;  // getBlocks: end - start <= 500,000
    static constexpr std::size_t kBlockBatch = 4;             // getBlock per HTTP batch (MBs each on mainnet)
    // getBlock asks with maxSupportedTransactionVersion 0. A node that holds
    // a newer transaction version refuses the whole block (-32015); then the
    // adapter asks with the next version, up to this one: the accounts-mode
    // answer (account keys + balances) does not depend on the message format,
    // and the decoder still checks every field it uses.
    static constexpr unsigned kMaxTransactionVersion = 1;

    using RpcAdapterOf::create;  // over an HttpClient
    // Validates the mints; errors name the token. Over an existing client (tests).
    static Result<std::unique_ptr<SolanaAdapter>> create(const config::ChainConfig& cfg,
                                                         std::unique_ptr<net::JsonRpcClient> rpc);

    boost::asio::awaitable<Result<Head>> head() override;
    boost::asio::awaitable<Result<ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                    const WatchSet& watched) override;
    boost::asio::awaitable<Result<BlockAt>> block_at(std::uint64_t height) override;
    boost::asio::awaitable<Status> verify() override;
    boost::asio::awaitable<Result<TxTransfers>> transaction(std::string tx_hash, std::optional<std::string> block_hash,
                                                            const WatchSet& watched) override;

    // Tests and metrics.
    bool batches_enabled() const { return batch_ok_; }
    unsigned max_transaction_version() const { return max_version_; }
    std::uint64_t range() const { return range_; }

    // What one getBlock answered for one slot.
    struct SlotFetch {
        enum class Kind { block, skipped, unknown, error };
        Kind kind = Kind::unknown;
        DecodedBlock block;
        Error error;  // kind == unknown / error: what the node said
    };

private:
    SolanaAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc, std::vector<TokenSpec> tokens);

    // getBlock for `slots`: one SlotFetch per slot, in order, possibly fewer
    // (it stops after the first slot that is not a block). An Error when
    // nothing could be asked at all.
    boost::asio::awaitable<Result<std::vector<SlotFetch>>> fetch_blocks(std::vector<std::uint64_t> slots,
                                                                        const DecodeContext& ctx, bool full);
    boost::asio::awaitable<Result<SlotFetch>> fetch_one(std::uint64_t slot, const DecodeContext& ctx, bool full);
    boost::asio::awaitable<Result<std::vector<std::uint64_t>>> blocks_in(std::uint64_t start, std::uint64_t end);
    // -32015 (transaction version not supported) and a higher version left to
    // try: raises the version asked for and returns true (ask again).
    bool raise_version(const Error& e);
    // True when a confirmed block after `slot` has its parent below `slot`.
    boost::asio::awaitable<bool> passed_over(std::uint64_t slot);
    boost::asio::awaitable<std::uint64_t> proven_end(std::uint64_t from, std::uint64_t end,
                                                     const std::vector<BlockTransfers>& blocks);

    std::vector<TokenSpec> tokens_;
    NativeSpec native_;
    std::uint64_t range_ = 100;
    bool batch_ok_ = true;
    unsigned max_version_ = 0;
};

}  // namespace depositd::chain::solana
