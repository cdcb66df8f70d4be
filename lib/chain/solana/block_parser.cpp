#include "chain/solana/decode.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

#include "chain/json_sax.hpp"
#include "chain/solana/block_keys.hpp"
#include "chain/solana/tx_match.hpp"

namespace depositd::chain::solana {

namespace {

using namespace detail;

bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.size() > 20) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
    return ec == std::errc() && p == s.data() + s.size();
}

// ---------------------------------------------------------------------------
// The streaming parser: Boost.JSON's SAX interface, a stack of frames that
// knows where in a getBlock answer it is.

using boost::system::error_code;
using jsv = boost::json::string_view;

class BlockHandler : public SaxHandlerBase {
public:
    BlockHandler(const DecodeContext& ctx, Root root, std::vector<Transfer>* tx_out)
        : ctx_(ctx), root_(root), matcher_(ctx), tx_out_(tx_out) {
        stack_.reserve(24);
        part_.reserve(128);
    }

    std::optional<Error> error;
    std::vector<BlockAnswer> answers;
    BlockStats tx_stats;  // Root::transaction

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
    if (auto s = run_sax(p, body, "getBlock", syntax_error); !s) return s.error();
    return std::move(p.handler().answers);
}

Status decode_transaction(std::string_view entry, const DecodeContext& ctx, std::vector<Transfer>& out,
                          BlockStats* stats) {
    if (ctx.watched == nullptr) return make_error(Errc::internal, "decode_transaction needs a watch set");
    boost::json::basic_parser<BlockHandler> p(parse_opts(), ctx, Root::transaction, &out);
    if (auto s = run_sax(p, entry, "transaction", nullptr); !s) return s;
    if (stats) *stats = p.handler().tx_stats;
    return {};
}

}  // namespace depositd::chain::solana
