#pragma once
// TRON (java-tron FullNode HTTP API, TronGrid): the RPC half. Decoding is in
// chain/tron/decode.hpp (pure functions over JSON).
//
// head()     POST /wallet/getnowblock -> height; with confirmations =
//            "finalized" also /walletsolidity/getnowblock -> Head::finalized
//            and Head::finalized_hash (the solidified head, ~19 blocks
//            behind, and its blockID). The scanner confirms a deposit at or
//            below it only once its own stored block at that height has that
//            blockID (parent links prove the rest); another id there is a
//            reorg to follow.
// scan()     POST /wallet/getblockbylimitnext {startNum: from, endNum: end+1}
//            (range [startNum, endNum), at most 100 blocks, capped by
//            max_block_range; chain/adaptive_range.hpp: an answer above
//            max_response_size halves the range and asks again at once, the
//            range grows back after calm scans), then for every block with
//            transactions —
//            only when tokens are configured and something is watched —
//            POST /wallet/gettransactioninfobyblocknum {num}: the info list
//            must have exactly the block's txIDs and blockNumber, else the
//            block is not taken (error, or the prefix before it).
//            Result: the consecutive, parent-linked prefix starting at
//            `from`. {} for the whole range -> Errc::unavailable.
// block_at() POST /wallet/getblockbynum {num}: {} -> Presence::unknown (beyond tip).
// verify()   /wallet/triggerconstantcontract decimals() on each token; a
//            value different from the config (or not a token) is
//            Errc::invalid_input; any other error is transient and returned
//            as it is (the caller calls verify() again, with backoff).
//
// Errors: HTTP 200 {"Error": ...} and {} are never empty blocks; TronGrid's
// 403/429/503 and "suspended for 30s" bodies are Errc::rate_limited with
// retry_after_ms. TRON-PRO-API-KEY comes from the chain's `headers` (sent by
// net with every request, never logged).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/rpc_adapter.hpp"
#include "chain/adaptive_range.hpp"
#include "chain/tron/decode.hpp"
#include "config/config.hpp"

namespace depositd::chain::tron {

class TronAdapter final : public RpcAdapterOf<TronAdapter> {
public:
    static constexpr std::uint64_t kMaxRange = 100;  // getblockbylimitnext: endNum - startNum <= 100

    using RpcAdapterOf::create;  // over an HttpClient
    // Over an existing client (tests).
    static Result<std::unique_ptr<TronAdapter>> create(const config::ChainConfig& cfg,
                                                       std::unique_ptr<net::JsonRpcClient> rpc);

    boost::asio::awaitable<Result<Head>> head() override;
    boost::asio::awaitable<Result<ScanResult>> scan(std::uint64_t from, std::uint64_t to,
                                                                     const WatchSet& watched) override;
    boost::asio::awaitable<Result<BlockAt>> block_at(std::uint64_t height) override;
    boost::asio::awaitable<Status> verify() override;
    boost::asio::awaitable<Result<TxTransfers>> transaction(std::string tx_hash, std::optional<std::string> block_hash,
                                                            const WatchSet& watched) override;

    // Counters (tests, benchmarks): HTTP requests made by scan() and blocks it returned.
    std::uint64_t scan_requests() const { return scan_requests_; }
    std::uint64_t scanned_blocks() const { return scanned_blocks_; }
    // The current adaptive block range (tests).
    std::uint64_t range() const { return range_.span(); }

private:
    TronAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc, std::vector<TokenSpec> tokens);

    boost::asio::awaitable<Result<json::value>> post(std::string path, std::string body);

    std::vector<TokenSpec> tokens_;
    NativeSpec native_;
    AdaptiveRange range_;
    std::uint64_t scan_requests_ = 0;
    std::uint64_t scanned_blocks_ = 0;
};

}  // namespace depositd::chain::tron
