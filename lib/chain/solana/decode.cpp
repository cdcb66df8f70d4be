#include "chain/solana/decode.hpp"

#include "chain/ignored.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "codec/address.hpp"
#include "codec/base58.hpp"

namespace depositd::chain::solana {

namespace {

constexpr std::array<std::int8_t, 256> make_b58_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& x : t) x = -1;
    for (std::size_t i = 0; i < codec::kBase58Alphabet.size(); ++i)
        t[static_cast<unsigned char>(codec::kBase58Alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto kB58 = make_b58_table();

std::string_view key_view(const Key32& k) { return {reinterpret_cast<const char*>(k.data()), k.size()}; }

bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.size() > 20) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool decode_key(std::string_view text, Key32& out) noexcept {
    if (text.size() < 32 || text.size() > 44) return false;
    std::size_t ones = 0;
    while (ones < text.size() && text[ones] == '1') ++ones;
    // Big-endian base 2^32 limbs; limb[7] is the least significant.
    std::uint32_t limb[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (std::size_t i = ones; i < text.size(); ++i) {
        const int d = kB58[static_cast<unsigned char>(text[i])];
        if (d < 0) return false;
        std::uint64_t carry = static_cast<std::uint64_t>(d);
        for (int j = 7; j >= 0; --j) {
            const std::uint64_t x = static_cast<std::uint64_t>(limb[j]) * 58u + carry;
            limb[j] = static_cast<std::uint32_t>(x);
            carry = x >> 32;
        }
        if (carry != 0) return false;  // more than 32 bytes
    }
    for (int j = 0; j < 8; ++j) {
        out[static_cast<std::size_t>(4 * j)] = static_cast<std::uint8_t>(limb[j] >> 24);
        out[static_cast<std::size_t>(4 * j + 1)] = static_cast<std::uint8_t>(limb[j] >> 16);
        out[static_cast<std::size_t>(4 * j + 2)] = static_cast<std::uint8_t>(limb[j] >> 8);
        out[static_cast<std::size_t>(4 * j + 3)] = static_cast<std::uint8_t>(limb[j]);
    }
    // Exactly 32 bytes: the leading zero bytes are the leading '1's.
    std::size_t zeros = 0;
    while (zeros < 32 && out[zeros] == 0) ++zeros;
    return zeros == ones;
}

Result<std::vector<TokenSpec>> make_token_specs(const std::vector<config::TokenConfig>& tokens) {
    std::vector<TokenSpec> specs;
    specs.reserve(tokens.size());
    for (const auto& t : tokens) {
        auto raw = codec::solana_address_bytes(t.contract);
        if (!raw)
            return make_error(Errc::invalid_input, "token " + t.symbol + " mint '" + t.contract + "': " + raw.error().message);
        TokenSpec s;
        std::copy(raw->begin(), raw->end(), s.mint.begin());
        s.mint_text = codec::solana_address(s.mint);
        s.symbol = t.symbol;
        s.decimals = t.decimals;
        s.min_amount = t.min_amount;
        for (const auto& other : specs)
            if (other.mint == s.mint)
                return make_error(Errc::invalid_input,
                                  "tokens " + other.symbol + " and " + t.symbol + " have the same mint " + s.mint_text);
        specs.push_back(std::move(s));
    }
    return specs;
}

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

// ---------------------------------------------------------------------------
// Per-transaction matching, fed by the streaming parser.

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
    Status finish(TxData& tx, std::vector<Transfer>& out, BlockStats& stats, std::size_t n_tx) {
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

private:
    static std::string where(std::size_t n_tx) { return "transaction " + std::to_string(n_tx); }

    Status match_tokens(const TxData& tx, std::vector<Transfer>& out, BlockStats& stats, std::size_t n_tx) {
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

    const DecodeContext& ctx_;
    std::vector<char> is_token_;
};

// ---------------------------------------------------------------------------
// The streaming parser: Boost.JSON's SAX interface, a stack of frames that
// knows where in a getBlock answer it is.

using boost::system::error_code;
using jsv = boost::json::string_view;

enum class Frame : std::uint8_t {
    root,
    batch,        // top-level array of responses
    envelope,     // {"jsonrpc","id","result"|"error"}
    error,        // envelope.error
    block,        // envelope.result
    txs,          // block.transactions
    tx,           // one transaction entry
    tx_body,      // tx.transaction
    sigs,         // tx.transaction.signatures
    keys,         // tx.transaction.accountKeys / message.accountKeys
    key_obj,      // {"pubkey", "writable", "signer", "source"}
    message,      // tx.transaction.message (json mode)
    meta,         // tx.meta
    balances,     // meta.preBalances / postBalances
    token_list,   // meta.preTokenBalances / postTokenBalances
    token,        // one token balance
    ui_amount,    // token.uiTokenAmount
    loaded,       // meta.loadedAddresses
    loaded_list,  // loadedAddresses.writable / readonly
    skip,         // ignored subtree
};

enum class Key : std::uint8_t {
    none,
    // envelope
    id, result, error,
    // error
    code, message,
    // block
    blockhash, previous_blockhash, parent_slot, block_time, block_height, transactions,
    // tx
    transaction, meta,
    // tx_body / message
    signatures, account_keys, msg,
    // key_obj
    pubkey,
    // meta
    err, pre_balances, post_balances, pre_token_balances, post_token_balances, loaded_addresses,
    // token
    account_index, mint, owner, ui_token_amount,
    // ui_amount
    amount,
    // loaded
    writable, readonly,
};

Key classify(Frame f, std::string_view k) {
    switch (f) {
        case Frame::envelope:
            if (k == "result") return Key::result;
            if (k == "id") return Key::id;
            if (k == "error") return Key::error;
            return Key::none;
        case Frame::error:
            if (k == "code") return Key::code;
            if (k == "message") return Key::message;
            return Key::none;
        case Frame::block:
            if (k == "transactions") return Key::transactions;
            if (k == "blockhash") return Key::blockhash;
            if (k == "previousBlockhash") return Key::previous_blockhash;
            if (k == "parentSlot") return Key::parent_slot;
            if (k == "blockTime") return Key::block_time;
            if (k == "blockHeight") return Key::block_height;
            return Key::none;
        case Frame::tx:
            if (k == "meta") return Key::meta;
            if (k == "transaction") return Key::transaction;
            return Key::none;
        case Frame::tx_body:
            if (k == "signatures") return Key::signatures;
            if (k == "accountKeys") return Key::account_keys;
            if (k == "message") return Key::msg;
            return Key::none;
        case Frame::message:
            return k == "accountKeys" ? Key::account_keys : Key::none;
        case Frame::key_obj:
            return k == "pubkey" ? Key::pubkey : Key::none;
        case Frame::meta:
            switch (k.size()) {
                case 3: return k == "err" ? Key::err : Key::none;
                case 11: return k == "preBalances" ? Key::pre_balances : Key::none;
                case 12: return k == "postBalances" ? Key::post_balances : Key::none;
                case 15:
                    return k == "loadedAddresses" ? Key::loaded_addresses : Key::none;
                case 16: return k == "preTokenBalances" ? Key::pre_token_balances : Key::none;
                case 17: return k == "postTokenBalances" ? Key::post_token_balances : Key::none;
                default: return Key::none;
            }
        case Frame::token:
            if (k == "mint") return Key::mint;
            if (k == "owner") return Key::owner;
            if (k == "accountIndex") return Key::account_index;
            if (k == "uiTokenAmount") return Key::ui_token_amount;
            return Key::none;
        case Frame::ui_amount:
            return k == "amount" ? Key::amount : Key::none;
        case Frame::loaded:
            if (k == "writable") return Key::writable;
            if (k == "readonly") return Key::readonly;
            return Key::none;
        default:
            return Key::none;
    }
}

enum class Kind { object, array, string, number, boolean, null };

enum class Root { response, transaction };

class BlockHandler {
public:
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    BlockHandler(const DecodeContext& ctx, Root root, std::vector<Transfer>* tx_out)
        : ctx_(ctx), root_(root), matcher_(ctx), tx_out_(tx_out) {
        stack_.reserve(24);
        part_.reserve(128);
    }

    std::optional<Error> error;
    std::vector<BlockAnswer> answers;
    BlockStats tx_stats;  // Root::transaction

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }

    bool on_object_begin(error_code& ec) { return open(Kind::object, ec); }
    bool on_object_end(std::size_t, error_code& ec) { return close(ec); }
    bool on_array_begin(error_code& ec) { return open(Kind::array, ec); }
    bool on_array_end(std::size_t, error_code& ec) { return close(ec); }

    bool on_key_part(jsv s, std::size_t, error_code&) {
        part_.append(s.data(), s.size());
        return true;
    }
    bool on_key(jsv s, std::size_t, error_code&) {
        std::string_view k(s.data(), s.size());
        if (!part_.empty()) {
            part_.append(k);
            k = part_;
        }
        Top& t = stack_.back();
        t.key = t.frame == Frame::skip ? Key::none : classify(t.frame, k);
        part_.clear();
        return true;
    }
    bool on_string_part(jsv s, std::size_t, error_code&) {
        part_.append(s.data(), s.size());
        return true;
    }
    bool on_string(jsv s, std::size_t, error_code& ec) {
        std::string_view v(s.data(), s.size());
        if (!part_.empty()) {
            part_.append(v);
            v = part_;
        }
        const bool ok = scalar_string(v, ec);
        part_.clear();
        return ok;
    }
    bool on_number_part(jsv, error_code&) { return true; }
    bool on_int64(std::int64_t i, jsv, error_code& ec) {
        if (i < 0) return scalar_negative(i, ec);
        return scalar_uint(static_cast<std::uint64_t>(i), ec);
    }
    bool on_uint64(std::uint64_t u, jsv, error_code& ec) { return scalar_uint(u, ec); }
    bool on_double(double, jsv, error_code& ec) { return scalar_other(Kind::number, ec); }
    bool on_bool(bool, error_code& ec) { return scalar_other(Kind::boolean, ec); }
    bool on_null(error_code& ec) { return scalar_other(Kind::null, ec); }
    bool on_comment_part(jsv, error_code&) { return true; }
    bool on_comment(jsv, error_code&) { return true; }

private:
    struct Top {
        Frame frame;
        Key key = Key::none;
        bool pre = false;  // balances / token_list / loaded_list: which one
        bool writable = false;
    };

    bool fail(std::string message, error_code& ec) {
        if (!error) error = make_error(Errc::malformed, std::move(message));
        ec = boost::json::error::syntax;
        return false;
    }
    bool fail(Error e, error_code& ec) {
        if (!error) error = std::move(e);
        ec = boost::json::error::syntax;
        return false;
    }
    std::string where() const {
        if (in_tx_) return "transaction " + std::to_string(n_tx_) + (tx_.sig0.empty() ? "" : " (" + tx_.sig0 + ")");
        return "getBlock answer";
    }

    // The frame of a container that starts now.
    bool open(Kind k, error_code& ec) {
        if (stack_.empty()) {
            if (root_ == Root::transaction) {
                if (k != Kind::object) return fail("transaction entry is not an object", ec);
                begin_tx();
                stack_.push_back({Frame::tx});
            } else if (k == Kind::object) {
                begin_envelope();
                stack_.push_back({Frame::envelope});
            } else {
                stack_.push_back({Frame::batch});
            }
            return true;
        }
        Top& t = stack_.back();
        Frame child = Frame::skip;
        bool pre = false, writable = false;
        switch (t.frame) {
            case Frame::skip: break;
            case Frame::root: break;
            case Frame::batch:
                if (k != Kind::object) return fail("batch answer element is not an object", ec);
                begin_envelope();
                child = Frame::envelope;
                break;
            case Frame::envelope:
                if (t.key == Key::result) {
                    if (k != Kind::object) return fail("getBlock result is not an object", ec);
                    begin_block();
                    child = Frame::block;
                } else if (t.key == Key::error) {
                    env_has_error_ = true;
                    if (k == Kind::object) child = Frame::error;
                }
                break;
            case Frame::error: break;
            case Frame::block:
                if (t.key == Key::transactions) {
                    if (k != Kind::array) return fail("block 'transactions' is not an array", ec);
                    block_has_txs_ = true;
                    // Headers only: the transactions are not read at all.
                    child = ctx_.watched ? Frame::txs : Frame::skip;
                } else if (t.key != Key::none) {
                    return fail("block field of the wrong type", ec);
                }
                break;
            case Frame::txs:
                if (k != Kind::object) return fail("transaction " + std::to_string(n_tx_) + " is not an object", ec);
                begin_tx();
                child = Frame::tx;
                break;
            case Frame::tx:
                if (t.key == Key::transaction) {
                    if (k != Kind::object) return fail(where() + ": 'transaction' is not an object", ec);
                    child = Frame::tx_body;
                } else if (t.key == Key::meta) {
                    if (k != Kind::object) return fail(where() + ": 'meta' is not an object", ec);
                    tx_.have_meta = true;
                    child = Frame::meta;
                }
                break;
            case Frame::tx_body:
                if (t.key == Key::signatures) {
                    if (k != Kind::array) return fail(where() + ": 'signatures' is not an array", ec);
                    child = Frame::sigs;
                } else if (t.key == Key::account_keys) {
                    if (k != Kind::array) return fail(where() + ": 'accountKeys' is not an array", ec);
                    tx_.keys_from_message = false;
                    child = Frame::keys;
                } else if (t.key == Key::msg) {
                    if (k == Kind::object) child = Frame::message;
                }
                break;
            case Frame::message:
                if (t.key == Key::account_keys) {
                    if (k != Kind::array) return fail(where() + ": 'message.accountKeys' is not an array", ec);
                    tx_.keys_from_message = true;
                    child = Frame::keys;
                }
                break;
            case Frame::keys:
                if (k != Kind::object) return fail(where() + ": an account key is not a string or object", ec);
                key_seen_ = false;
                child = Frame::key_obj;
                break;
            case Frame::meta:
                switch (t.key) {
                    case Key::err: tx_.failed = true; break;  // an error object / array: the tx failed
                    case Key::pre_balances:
                    case Key::post_balances:
                        if (k != Kind::array) return fail(where() + ": balances are not an array", ec);
                        pre = t.key == Key::pre_balances;
                        (pre ? tx_.have_pre : tx_.have_post) = true;
                        (pre ? tx_.pre : tx_.post).clear();
                        child = Frame::balances;
                        break;
                    case Key::pre_token_balances:
                    case Key::post_token_balances:
                        if (k != Kind::array) return fail(where() + ": token balances are not an array", ec);
                        pre = t.key == Key::pre_token_balances;
                        child = Frame::token_list;
                        break;
                    case Key::loaded_addresses:
                        if (k == Kind::object) child = Frame::loaded;
                        break;
                    default: break;
                }
                break;
            case Frame::balances:
                return fail(where() + ": a balance is not an integer", ec);
            case Frame::token_list:
                if (k != Kind::object) return fail(where() + ": a token balance is not an object", ec);
                begin_token(t.pre);
                child = Frame::token;
                pre = t.pre;
                break;
            case Frame::token:
                if (t.key == Key::ui_token_amount) {
                    if (k != Kind::object) return fail(where() + ": 'uiTokenAmount' is not an object", ec);
                    child = Frame::ui_amount;
                } else if (t.key != Key::none) {
                    return fail(where() + ": token balance field of the wrong type", ec);
                }
                break;
            case Frame::loaded:
                if (t.key == Key::writable || t.key == Key::readonly) {
                    if (k != Kind::array) return fail(where() + ": loadedAddresses list is not an array", ec);
                    writable = t.key == Key::writable;
                    child = Frame::loaded_list;
                }
                break;
            case Frame::loaded_list:
                return fail(where() + ": a loaded address is not a string", ec);
            case Frame::sigs:
                return fail(where() + ": a signature is not a string", ec);
            case Frame::key_obj:
            case Frame::ui_amount:
                break;
        }
        stack_.push_back({child, Key::none, pre, writable});
        return true;
    }

    bool close(error_code& ec) {
        const Top t = stack_.back();
        stack_.pop_back();
        switch (t.frame) {
            case Frame::tx: return end_tx(ec);
            case Frame::token: return end_token(ec);
            case Frame::key_obj:
                if (!key_seen_) return fail(where() + ": an account key object has no 'pubkey'", ec);
                return true;
            case Frame::block: return end_block(ec);
            case Frame::envelope: return end_envelope(ec);
            default: return true;
        }
    }

    // A scalar value in the current frame (object field or array element).
    bool scalar_string(std::string_view v, error_code& ec) {
        if (stack_.empty()) return fail("getBlock answer is not an object or array", ec);
        Top& t = stack_.back();
        switch (t.frame) {
            case Frame::envelope:
                if (t.key == Key::error) {  // "error": "text"
                    env_has_error_ = true;
                    rpc_message_.assign(v);
                } else if (t.key == Key::result) {
                    return fail("getBlock result is a string", ec);
                }
                return true;
            case Frame::error:
                if (t.key == Key::message) rpc_message_.assign(v);
                return true;
            case Frame::block:
                switch (t.key) {
                    case Key::blockhash: blockhash_.assign(v); return true;
                    case Key::previous_blockhash: prev_hash_.assign(v); return true;
                    case Key::none: return true;
                    default: return fail("block field '" + key_name(t.key) + "' is a string", ec);
                }
            case Frame::sigs:
                if (tx_.sigs++ == 0) tx_.sig0.assign(v);
                return true;
            case Frame::keys:
                TxData::push(tx_.keys_text, tx_.key_end, v);
                return true;
            case Frame::key_obj:
                if (t.key == Key::pubkey) {
                    if (key_seen_) return fail(where() + ": an account key has two 'pubkey'", ec);
                    key_seen_ = true;
                    TxData::push(tx_.keys_text, tx_.key_end, v);
                }
                return true;
            case Frame::meta:
                if (t.key == Key::err) tx_.failed = true;  // e.g. "AccountInUse"
                else if (is_meta_list(t.key)) return fail(where() + ": '" + key_name(t.key) + "' is a string", ec);
                return true;
            case Frame::token:
                if (t.key == Key::mint) tok_mint_.assign(v);
                else if (t.key == Key::owner) tok_owner_.assign(v);
                else if (t.key == Key::account_index) return fail(where() + ": token 'accountIndex' is a string", ec);
                return true;
            case Frame::ui_amount:
                if (t.key == Key::amount) {
                    tok_amount_.assign(v);
                    tok_has_amount_ = true;
                }
                return true;
            case Frame::loaded_list:
                TxData::push(t.writable ? tx_.loaded_w_text : tx_.loaded_r_text,
                             t.writable ? tx_.loaded_w_end : tx_.loaded_r_end, v);
                return true;
            case Frame::balances: return fail(where() + ": a balance is a string", ec);
            case Frame::batch: return fail("batch answer element is not an object", ec);
            case Frame::txs: return fail("a transaction is a string", ec);
            default: return true;
        }
    }

    bool scalar_uint(std::uint64_t u, error_code& ec) {
        if (stack_.empty()) return fail("getBlock answer is not an object or array", ec);
        Top& t = stack_.back();
        switch (t.frame) {
            case Frame::envelope:
                if (t.key == Key::id) env_id_ = u > static_cast<std::uint64_t>(INT64_MAX) ? -1 : static_cast<std::int64_t>(u);
                else if (t.key == Key::result) return fail("getBlock result is a number", ec);
                return true;
            case Frame::error:
                if (t.key == Key::code) rpc_code_ = static_cast<long long>(std::min<std::uint64_t>(u, INT64_MAX));
                return true;
            case Frame::block:
                switch (t.key) {
                    case Key::parent_slot:
                        parent_slot_ = u;
                        have_parent_slot_ = true;
                        return true;
                    case Key::block_time:
                        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 1000))
                            return fail("block 'blockTime' out of range", ec);
                        block_time_ = static_cast<std::int64_t>(u);
                        return true;
                    case Key::block_height: block_height_ = u; return true;
                    case Key::none: return true;
                    default: return fail("block field '" + key_name(t.key) + "' is a number", ec);
                }
            case Frame::balances:
                (t.pre ? tx_.pre : tx_.post).push_back(u);
                return true;
            case Frame::token:
                if (t.key == Key::account_index) {
                    if (u > UINT32_MAX) return fail(where() + ": token 'accountIndex' out of range", ec);
                    tok_index_ = static_cast<std::uint32_t>(u);
                    tok_has_index_ = true;
                } else if (t.key == Key::mint || t.key == Key::owner) {
                    return fail(where() + ": token '" + key_name(t.key) + "' is a number", ec);
                }
                return true;
            case Frame::ui_amount:
                if (t.key == Key::amount) return fail(where() + ": token amount is a number, not a string", ec);
                return true;
            case Frame::meta:
                if (t.key == Key::err) tx_.failed = true;
                else if (is_meta_list(t.key)) return fail(where() + ": '" + key_name(t.key) + "' is a number", ec);
                return true;
            default: return scalar_other(Kind::number, ec);
        }
    }

    bool scalar_negative(std::int64_t i, error_code& ec) {
        if (!stack_.empty()) {
            Top& t = stack_.back();
            if (t.frame == Frame::error && t.key == Key::code) {
                rpc_code_ = i;
                return true;
            }
            if (t.frame == Frame::envelope && t.key == Key::id) {
                env_id_ = -1;
                return true;
            }
            if (t.frame == Frame::block && t.key == Key::block_time) {
                if (i < std::numeric_limits<std::int64_t>::min() / 1000) return fail("block 'blockTime' out of range", ec);
                block_time_ = i;
                return true;
            }
        }
        return scalar_other(Kind::number, ec);
    }

    // Numbers that are not unsigned integers, booleans, nulls.
    bool scalar_other(Kind k, error_code& ec) {
        if (stack_.empty()) return fail("getBlock answer is not an object or array", ec);
        Top& t = stack_.back();
        switch (t.frame) {
            case Frame::envelope:
                if (t.key == Key::result) {
                    if (k != Kind::null) return fail("getBlock result is not an object or null", ec);
                    env_null_result_ = true;
                } else if (t.key == Key::id && k != Kind::null) {
                    env_id_ = -1;
                }
                return true;
            case Frame::block:
                if (t.key == Key::block_time || t.key == Key::block_height) {
                    if (k != Kind::null) return fail("block '" + key_name(t.key) + "' is not an integer", ec);
                    return true;
                }
                if (t.key == Key::transactions && k == Kind::null && ctx_.require_transactions)
                    return fail("block 'transactions' is null", ec);
                if (t.key != Key::none && t.key != Key::transactions)
                    return fail("block field '" + key_name(t.key) + "' is not what it should be", ec);
                return true;
            case Frame::tx:
                if (t.key == Key::meta && k == Kind::null) tx_.meta_null = true;
                if (t.key == Key::transaction && k == Kind::null) return fail(where() + ": 'transaction' is null", ec);
                return true;
            case Frame::meta:
                if (t.key == Key::err && k != Kind::null) tx_.failed = true;
                else if (is_meta_list(t.key) && k != Kind::null)
                    return fail(where() + ": '" + key_name(t.key) + "' is not an array", ec);
                else if ((t.key == Key::pre_balances || t.key == Key::post_balances) && k == Kind::null)
                    return fail(where() + ": '" + key_name(t.key) + "' is null", ec);
                return true;
            case Frame::balances: return fail(where() + ": a balance is not an unsigned integer", ec);
            case Frame::token:
                if (t.key == Key::account_index) return fail(where() + ": token 'accountIndex' is not an integer", ec);
                if (t.key == Key::mint && k != Kind::null) return fail(where() + ": token 'mint' is not a string", ec);
                // owner may be null/absent on very old transactions
                return true;
            case Frame::ui_amount:
                if (t.key == Key::amount) return fail(where() + ": token amount is not a string", ec);
                return true;
            case Frame::sigs: return fail(where() + ": a signature is not a string", ec);
            case Frame::keys: return fail(where() + ": an account key is not a string", ec);
            case Frame::key_obj:
                if (t.key == Key::pubkey) return fail(where() + ": 'pubkey' is not a string", ec);
                return true;
            case Frame::loaded_list: return fail(where() + ": a loaded address is not a string", ec);
            case Frame::batch: return fail("batch answer element is not an object", ec);
            case Frame::txs: return fail("a transaction is not an object", ec);
            default: return true;
        }
    }

    static bool is_meta_list(Key k) {
        return k == Key::pre_balances || k == Key::post_balances || k == Key::pre_token_balances ||
               k == Key::post_token_balances;
    }
    static std::string key_name(Key k) {
        switch (k) {
            case Key::blockhash: return "blockhash";
            case Key::previous_blockhash: return "previousBlockhash";
            case Key::parent_slot: return "parentSlot";
            case Key::block_time: return "blockTime";
            case Key::block_height: return "blockHeight";
            case Key::transactions: return "transactions";
            case Key::pre_balances: return "preBalances";
            case Key::post_balances: return "postBalances";
            case Key::pre_token_balances: return "preTokenBalances";
            case Key::post_token_balances: return "postTokenBalances";
            case Key::mint: return "mint";
            case Key::owner: return "owner";
            default: return "?";
        }
    }

    // --- envelopes and blocks ---

    void begin_envelope() {
        env_id_ = -1;
        env_has_error_ = false;
        env_null_result_ = false;
        env_has_block_ = false;
        rpc_code_ = 0;
        rpc_message_.clear();
    }
    bool end_envelope(error_code& ec) {
        BlockAnswer a;
        a.id = env_id_;
        if (env_has_error_) {
            a.kind = BlockAnswer::Kind::error;
            a.rpc_code = rpc_code_;
            a.rpc_message = rpc_message_;
        } else if (env_has_block_) {
            a.kind = BlockAnswer::Kind::block;
            a.block = std::move(block_);
        } else if (env_null_result_) {
            a.kind = BlockAnswer::Kind::null_result;
        } else {
            return fail("JSON-RPC response has neither result nor error", ec);
        }
        answers.push_back(std::move(a));
        return true;
    }

    void begin_block() {
        block_ = DecodedBlock{};
        blockhash_.clear();
        prev_hash_.clear();
        have_parent_slot_ = false;
        parent_slot_ = 0;
        block_time_ = 0;
        block_height_.reset();
        block_has_txs_ = false;
        n_tx_ = 0;
    }
    bool end_block(error_code& ec) {
        Key32 k;
        if (blockhash_.empty()) return fail("block has no 'blockhash'", ec);
        if (!decode_key(blockhash_, k)) return fail("block 'blockhash' is not a 32-byte base58 hash", ec);
        if (prev_hash_.empty()) return fail("block has no 'previousBlockhash'", ec);
        if (!decode_key(prev_hash_, k)) return fail("block 'previousBlockhash' is not a 32-byte base58 hash", ec);
        if (!have_parent_slot_) return fail("block has no 'parentSlot'", ec);
        if (ctx_.require_transactions && !block_has_txs_)
            return fail("block has no 'transactions' (asked for them)", ec);
        block_.ref.hash = blockhash_;
        block_.ref.parent = prev_hash_;
        block_.ref.time_ms = block_time_ * 1000;
        block_.parent_slot = parent_slot_;
        block_.block_height = block_height_;
        env_has_block_ = true;
        return true;
    }

    // --- transactions ---

    void begin_tx() {
        tx_.clear();
        in_tx_ = true;
    }
    bool end_tx(error_code& ec) {
        in_tx_ = false;
        auto& out = root_ == Root::transaction ? *tx_out_ : block_.transfers;
        auto& stats = root_ == Root::transaction ? tx_stats : block_.stats;
        if (ctx_.watched == nullptr) return true;
        auto s = matcher_.finish(tx_, out, stats, n_tx_);
        ++n_tx_;
        if (!s) return fail(s.error(), ec);
        return true;
    }

    void begin_token(bool pre) {
        tok_pre_ = pre;
        tok_has_index_ = false;
        tok_has_amount_ = false;
        tok_mint_.clear();
        tok_owner_.clear();
        tok_amount_.clear();
    }
    bool end_token(error_code& ec) {
        if (!tok_has_index_) return fail(where() + ": a token balance has no 'accountIndex'", ec);
        tx_.token_accounts.push_back(tok_index_);
        for (std::size_t m = 0; m < ctx_.tokens.size(); ++m) {
            if (ctx_.tokens[m].mint_text != tok_mint_) continue;
            TokenEntry e;
            e.account = tok_index_;
            e.mint = static_cast<std::uint32_t>(m);
            e.post = !tok_pre_;
            if (!tok_has_amount_ || !parse_u64(tok_amount_, e.amount))
                return fail(where() + ": token amount '" + tok_amount_.substr(0, 40) + "' is not a u64 decimal string", ec);
            e.owner = tok_owner_;
            tx_.entries.push_back(std::move(e));
            break;
        }
        return true;
    }

    const DecodeContext& ctx_;
    Root root_;
    TxMatcher matcher_;
    std::vector<Transfer>* tx_out_;
    std::vector<Top> stack_;
    std::string part_;

    // envelope
    std::int64_t env_id_ = -1;
    bool env_has_error_ = false, env_null_result_ = false, env_has_block_ = false;
    long long rpc_code_ = 0;
    std::string rpc_message_;
    // block
    DecodedBlock block_;
    std::string blockhash_, prev_hash_;
    bool have_parent_slot_ = false;
    std::uint64_t parent_slot_ = 0;
    std::int64_t block_time_ = 0;
    std::optional<std::uint64_t> block_height_;
    bool block_has_txs_ = false;
    // transaction
    TxData tx_;
    bool in_tx_ = false;
    std::size_t n_tx_ = 0;
    bool key_seen_ = false;
    // token balance
    bool tok_pre_ = false, tok_has_index_ = false, tok_has_amount_ = false;
    std::uint32_t tok_index_ = 0;
    std::string tok_mint_, tok_owner_, tok_amount_;
};

template <class Handler>
Status run_parser(boost::json::basic_parser<Handler>& p, std::string_view body, std::string_view what,
                  bool* syntax_error) {
    error_code ec;
    const std::size_t n = p.write_some(false, body.data(), body.size(), ec);
    if (p.handler().error) return *p.handler().error;
    if (ec) {
        if (syntax_error) *syntax_error = true;
        return make_error(Errc::malformed, std::string(what) + ": invalid JSON: " + ec.message());
    }
    for (std::size_t i = n; i < body.size(); ++i)
        if (body[i] != ' ' && body[i] != '\n' && body[i] != '\r' && body[i] != '\t') {
            if (syntax_error) *syntax_error = true;
            return make_error(Errc::malformed, std::string(what) + ": trailing data after the JSON document");
        }
    return {};
}

boost::json::parse_options parse_opts() {
    boost::json::parse_options opt;
    opt.max_depth = 64;
    return opt;
}

}  // namespace

Result<std::vector<BlockAnswer>> decode_block_response(std::string_view body, const DecodeContext& ctx,
                                                       bool* syntax_error) {
    if (syntax_error) *syntax_error = false;
    boost::json::basic_parser<BlockHandler> p(parse_opts(), ctx, Root::response, nullptr);
    if (auto s = run_parser(p, body, "getBlock", syntax_error); !s) return s.error();
    return std::move(p.handler().answers);
}

Status decode_transaction(std::string_view entry, const DecodeContext& ctx, std::vector<Transfer>& out,
                          BlockStats* stats) {
    if (ctx.watched == nullptr) return make_error(Errc::internal, "decode_transaction needs a watch set");
    boost::json::basic_parser<BlockHandler> p(parse_opts(), ctx, Root::transaction, &out);
    if (auto s = run_parser(p, entry, "transaction", nullptr); !s) return s;
    if (stats) *stats = p.handler().tx_stats;
    return {};
}

Result<std::uint64_t> decode_slot(const json::value& result) {
    if (result.is_uint64()) return result.get_uint64();
    if (result.is_int64() && result.get_int64() >= 0) return static_cast<std::uint64_t>(result.get_int64());
    return make_error(Errc::malformed, "slot is not an unsigned integer: " + json::serialize(result).substr(0, 80));
}

Result<std::vector<std::uint64_t>> decode_slot_list(const json::value& result, std::uint64_t start,
                                                    std::uint64_t end) {
    if (!result.is_array()) return make_error(Errc::malformed, "block list is not an array");
    std::vector<std::uint64_t> slots;
    slots.reserve(result.get_array().size());
    for (const auto& v : result.get_array()) {
        auto s = decode_slot(v);
        if (!s) return make_error(Errc::malformed, "block list: " + s.error().message);
        if (*s < start || *s > end)
            return make_error(Errc::malformed, "block list: slot " + std::to_string(*s) + " outside " +
                                                   std::to_string(start) + ".." + std::to_string(end));
        if (!slots.empty() && *s <= slots.back())
            return make_error(Errc::malformed, "block list is not strictly increasing at slot " + std::to_string(*s));
        slots.push_back(*s);
    }
    return slots;
}

Result<SlotHash> decode_latest_blockhash(const json::value& result) {
    if (!result.is_object()) return make_error(Errc::malformed, "getLatestBlockhash result is not an object");
    const auto& o = result.get_object();
    const auto* context = o.if_contains("context");
    const auto* value = o.if_contains("value");
    if (context == nullptr || !context->is_object() || value == nullptr || !value->is_object())
        return make_error(Errc::malformed, "getLatestBlockhash result has no context/value");
    const auto* slot = context->get_object().if_contains("slot");
    if (slot == nullptr) return make_error(Errc::malformed, "getLatestBlockhash context has no slot");
    auto n = decode_slot(*slot);
    if (!n) return make_error(Errc::malformed, "getLatestBlockhash context: " + n.error().message);
    const auto* hash = value->get_object().if_contains("blockhash");
    Key32 k;
    if (hash == nullptr || !hash->is_string() ||
        !decode_key(std::string_view(hash->get_string().data(), hash->get_string().size()), k))
        return make_error(Errc::malformed, "getLatestBlockhash blockhash is not a 32-byte base58 hash");
    return SlotHash{*n, std::string(hash->get_string())};
}

Result<unsigned> decode_token_supply_decimals(const json::value& result) {
    if (!result.is_object()) return make_error(Errc::malformed, "getTokenSupply result is not an object");
    const auto* value = result.get_object().if_contains("value");
    if (value == nullptr || !value->is_object()) return make_error(Errc::malformed, "getTokenSupply result has no value");
    const auto* d = value->get_object().if_contains("decimals");
    if (d == nullptr) return make_error(Errc::malformed, "getTokenSupply value has no decimals");
    std::int64_t n = -1;
    if (d->is_int64()) n = d->get_int64();
    else if (d->is_uint64() && d->get_uint64() < 256) n = static_cast<std::int64_t>(d->get_uint64());
    if (n < 0 || n > 255) return make_error(Errc::malformed, "getTokenSupply decimals is not a small integer");
    return static_cast<unsigned>(n);
}

}  // namespace depositd::chain::solana
