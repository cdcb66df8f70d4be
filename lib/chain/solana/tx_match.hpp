#pragma once
// Internal to chain/solana: the deposits of one transaction, from what the
// getBlock parser (block_parser.cpp) read of it — SOL and SPL balance
// differences (the rules are in decode.hpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chain/solana/decode.hpp"

namespace depositd::chain::solana::detail {

inline std::string_view key_view(const Key32& k) { return {reinterpret_cast<const char*>(k.data()), k.size()}; }

struct TokenEntry {
    std::uint32_t account = 0;
    std::uint32_t mint = 0;  // index into ctx.tokens
    bool post = false;
    std::uint64_t amount = 0;
    std::string owner;
};

// Everything read from one transaction entry, in reused buffers.
struct TxData {
    std::string sig0;
    std::size_t sigs = 0;
    std::string keys_text;                 // every account key, concatenated
    std::vector<std::uint32_t> key_end;    // end offset of key i in keys_text
    bool keys_from_message = false;        // json mode: loaded addresses follow
    std::string loaded_w_text, loaded_r_text;
    std::vector<std::uint32_t> loaded_w_end, loaded_r_end;
    std::vector<std::uint64_t> pre, post;
    bool have_pre = false, have_post = false;
    std::vector<std::uint32_t> token_accounts;  // accountIndex of every token balance entry
    std::vector<TokenEntry> entries;             // entries of configured mints
    bool have_meta = false;
    bool meta_null = false;
    bool failed = false;

    void clear() {
        sig0.clear();
        sigs = 0;
        keys_text.clear();
        key_end.clear();
        keys_from_message = false;
        loaded_w_text.clear();
        loaded_r_text.clear();
        loaded_w_end.clear();
        loaded_r_end.clear();
        pre.clear();
        post.clear();
        have_pre = have_post = false;
        token_accounts.clear();
        entries.clear();
        have_meta = meta_null = failed = false;
    }
    std::string_view key(std::size_t i) const {
        const std::uint32_t b = i == 0 ? 0 : key_end[i - 1];
        return std::string_view(keys_text).substr(b, key_end[i] - b);
    }
    static void push(std::string& text, std::vector<std::uint32_t>& ends, std::string_view k) {
        text.append(k);
        ends.push_back(static_cast<std::uint32_t>(text.size()));
    }
};

class TxMatcher {
public:
    TxMatcher(const DecodeContext& ctx) : ctx_(ctx) {}

    // Appends the deposits of `tx`. `where` names the transaction in errors.
    Status finish(TxData& tx, std::vector<Transfer>& out, BlockStats& stats, std::size_t n_tx);

private:
    static std::string where(std::size_t n_tx) { return "transaction " + std::to_string(n_tx); }

    Status match_tokens(const TxData& tx, std::vector<Transfer>& out, BlockStats& stats, std::size_t n_tx);

    const DecodeContext& ctx_;
    std::vector<char> is_token_;
};

}  // namespace depositd::chain::solana::detail
