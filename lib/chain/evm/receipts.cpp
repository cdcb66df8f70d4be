#include "chain/evm/decode.hpp"

#include "chain/evm/json_text.hpp"

// Transaction receipts: did a transaction succeed, in the block we scanned.

namespace depositd::chain::evm {

using namespace detail;

Result<bool> decode_receipt_success(const json::value& receipt, std::string_view expected_block_hash) {
    if (receipt.is_null()) return make_error(Errc::not_found, "transaction receipt not found");
    if (!receipt.is_object()) return make_error(Errc::malformed, "receipt is not an object");
    const auto& o = receipt.get_object();
    if (!expected_block_hash.empty()) {
        auto bh = str_field(o, "blockHash", "receipt");
        if (!bh) return bh.error();
        if (!same_hash(*bh, expected_block_hash))
            return make_error(Errc::conflict, "reorg during fetch: receipt in block " + std::string(*bh) +
                                                  ", expected " + std::string(expected_block_hash));
    }
    const auto* status = o.if_contains("status");
    if (status == nullptr || status->is_null()) {
        if (o.contains("root")) return true;  // pre-Byzantium: no status field, tx included = executed
        return make_error(Errc::malformed, "receipt has no status");
    }
    auto s = parse_quantity_json(*status);
    if (!s) return make_error(Errc::malformed, "receipt 'status': " + s.error().message);
    if (*s == 1) return true;
    if (*s == 0) return false;
    return make_error(Errc::malformed, "receipt 'status' is neither 0x0 nor 0x1");
}

Result<std::vector<std::optional<bool>>> decode_block_receipts(const json::value& result,
                                                               std::span<const std::string> txs,
                                                               std::string_view block_hash) {
    if (result.is_null()) return make_error(Errc::not_found, "block receipts not found (block unknown to the node)");
    if (!result.is_array()) return make_error(Errc::malformed, "eth_getBlockReceipts result is not an array");
    std::vector<std::optional<bool>> out(txs.size());
    for (const auto& r : result.get_array()) {
        if (!r.is_object()) return make_error(Errc::malformed, "eth_getBlockReceipts: a receipt is not an object");
        auto h = str_field(r.get_object(), "transactionHash", "receipt");
        if (!h) return h.error();
        for (std::size_t i = 0; i < txs.size(); ++i) {
            if (!same_hash(*h, txs[i])) continue;
            if (out[i]) return make_error(Errc::malformed, "eth_getBlockReceipts: two receipts for " + txs[i]);
            auto ok = decode_receipt_success(r, block_hash);
            if (!ok) return ok.error();
            out[i] = *ok;
        }
    }
    return out;
}

}  // namespace depositd::chain::evm
