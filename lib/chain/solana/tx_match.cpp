#include "chain/solana/tx_match.hpp"

#include <algorithm>

#include "chain/ignored.hpp"

namespace depositd::chain::solana::detail {

namespace {

// The shared rule (chain/ignored.hpp): true when the transfer is no deposit.
bool skip(const U256& amount, const std::optional<U256>& min_amount, BlockStats& stats) {
    switch (ignored(amount, min_amount)) {
        case Ignored::zero_value: ++stats.ignored_zero; return true;
        case Ignored::below_min_amount: ++stats.ignored_dust; return true;
        case Ignored::no: return false;
    }
    return false;
}

}  // namespace

Status TxMatcher::finish(TxData& tx, std::vector<Transfer>& out, BlockStats& stats, std::size_t n_tx) {
    if (!tx.have_meta || tx.meta_null)
        return make_error(Errc::malformed, where(n_tx) + " has no meta (transaction status not recorded by the node)");
    ++stats.transactions;
    if (tx.failed) {
        ++stats.failed;
        return {};
    }
    if (tx.sigs == 0) return make_error(Errc::malformed, where(n_tx) + " has no signature");
    if (tx.keys_from_message) {  // json mode: static keys || loaded writable || loaded readonly
        for (std::size_t i = 0; i < tx.loaded_w_end.size(); ++i) {
            const std::uint32_t b = i == 0 ? 0 : tx.loaded_w_end[i - 1];
            TxData::push(tx.keys_text, tx.key_end, std::string_view(tx.loaded_w_text).substr(b, tx.loaded_w_end[i] - b));
        }
        for (std::size_t i = 0; i < tx.loaded_r_end.size(); ++i) {
            const std::uint32_t b = i == 0 ? 0 : tx.loaded_r_end[i - 1];
            TxData::push(tx.keys_text, tx.key_end, std::string_view(tx.loaded_r_text).substr(b, tx.loaded_r_end[i] - b));
        }
    }
    const std::size_t n = tx.key_end.size();
    if (!tx.have_pre || !tx.have_post)
        return make_error(Errc::malformed, where(n_tx) + " (" + tx.sig0 + ") has no preBalances/postBalances");
    if (tx.pre.size() != n || tx.post.size() != n)
        return make_error(Errc::malformed, where(n_tx) + " (" + tx.sig0 + "): " + std::to_string(n) +
                                               " account keys but " + std::to_string(tx.pre.size()) + "/" +
                                               std::to_string(tx.post.size()) + " balances");
    is_token_.assign(n, 0);
    for (auto a : tx.token_accounts) {
        if (a >= n)
            return make_error(Errc::malformed, where(n_tx) + " (" + tx.sig0 + "): token balance accountIndex " +
                                                   std::to_string(a) + " out of range");
        is_token_[a] = 1;
    }
    const std::size_t first = out.size();
    // SOL: lamports up on a watched account that is not a token account
    // and did not sign. Signers are the first accounts, one per signature.
    for (std::size_t i = 0; i < n; ++i) {
        if (tx.post[i] <= tx.pre[i] || is_token_[i]) continue;
        Key32 k;
        if (!decode_key(tx.key(i), k))
            return make_error(Errc::malformed, where(n_tx) + " (" + tx.sig0 + "): account key " + std::to_string(i) +
                                                   " is not a 32-byte base58 key");
        if (!ctx_.watched->contains(key_view(k))) continue;
        if (i < tx.sigs) {
            // The wallet's own transaction (closing its token account
            // refunds the rent to it, a swap, ...): nobody paid it.
            ++stats.own_sol;
            continue;
        }
        Transfer t;
        t.tx = tx.sig0;
        t.index = i;
        t.to_key.assign(key_view(k));
        t.to = std::string(tx.key(i));
        std::uint64_t biggest = 0;
        for (std::size_t j = 0; j < n; ++j)
            if (tx.pre[j] > tx.post[j] && tx.pre[j] - tx.post[j] > biggest) {
                biggest = tx.pre[j] - tx.post[j];
                t.from = std::string(tx.key(j));
            }
        t.currency = ctx_.native.symbol;
        t.decimals = ctx_.native.decimals;
        t.amount = U256(tx.post[i] - tx.pre[i]);
        if (skip(t.amount, ctx_.native.min_amount, stats)) continue;
        out.push_back(std::move(t));
        ++stats.sol_deposits;
    }
    // SPL: per (mint, watched owner), the net change over the owner's token accounts.
    if (auto s = match_tokens(tx, out, stats, n_tx); !s) return s;
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
              [](const Transfer& a, const Transfer& b) { return a.index < b.index; });
    return {};
}

Status TxMatcher::match_tokens(const TxData& tx, std::vector<Transfer>& out, BlockStats& stats, std::size_t n_tx) {
    const auto& es = tx.entries;
    for (std::size_t a = 0; a < es.size(); ++a) {
        // First entry of each (mint, owner) pair does the work.
        bool seen = false;
        for (std::size_t b = 0; b < a && !seen; ++b) seen = es[b].mint == es[a].mint && es[b].owner == es[a].owner;
        if (seen) continue;
        Key32 owner;
        if (!decode_key(es[a].owner, owner)) {
            if (es[a].owner.empty()) continue;  // no owner recorded (very old transactions): cannot attribute
            return make_error(Errc::malformed, where(n_tx) + " (" + tx.sig0 + "): token balance owner '" +
                                                   es[a].owner.substr(0, 60) + "' is not a 32-byte key");
        }
        if (!ctx_.watched->contains(key_view(owner))) continue;
        U256 in = 0, before = 0;
        // Per token account: the change, to pick the index.
        std::uint32_t best_account = 0;
        U256 best_gain = 0;
        bool any_gain = false;
        for (const auto& e : es) {
            if (e.mint != es[a].mint || e.owner != es[a].owner) continue;
            (e.post ? in : before) += U256(e.amount);
            if (!e.post) continue;
            U256 pre_amount = 0;
            for (const auto& p : es)
                if (!p.post && p.account == e.account && p.mint == e.mint) pre_amount = U256(p.amount);
            if (U256(e.amount) > pre_amount) {
                U256 gain = U256(e.amount) - pre_amount;
                if (!any_gain || gain > best_gain || (gain == best_gain && e.account < best_account)) {
                    best_gain = gain;
                    best_account = e.account;
                    any_gain = true;
                }
            }
        }
        if (in <= before || !any_gain) continue;
        const TokenSpec& token = ctx_.tokens[es[a].mint];
        Transfer t;
        t.tx = tx.sig0;
        t.index = best_account;
        t.to_key.assign(key_view(owner));
        t.to = es[a].owner;
        // Sender: the owner of the token account of this mint that lost the most.
        U256 biggest = 0;
        for (const auto& e : es) {
            if (e.post || e.mint != es[a].mint || e.owner == es[a].owner) continue;
            U256 post_amount = 0;
            for (const auto& p : es)
                if (p.post && p.account == e.account && p.mint == e.mint) post_amount = U256(p.amount);
            if (U256(e.amount) > post_amount && U256(e.amount) - post_amount > biggest) {
                biggest = U256(e.amount) - post_amount;
                t.from = e.owner;
            }
        }
        t.currency = token.symbol;
        t.contract = token.mint_text;
        t.decimals = token.decimals;
        t.amount = in - before;
        if (skip(t.amount, token.min_amount, stats)) continue;
        out.push_back(std::move(t));
        ++stats.token_deposits;
    }
    return {};
}

}  // namespace depositd::chain::solana::detail
