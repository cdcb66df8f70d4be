#include "chain/bitcoin/decode.hpp"

#include "chain/ignored.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <array>
#include <limits>

#include "chain/bitcoin/block_keys.hpp"
#include "chain/bitcoin/hash_text.hpp"
#include "chain/json_sax.hpp"
#include "codec/hex.hpp"

// The streaming decoder of one getblock answer (both dialects).

namespace depositd::chain::bitcoin {

namespace {

using namespace detail;

using boost::system::error_code;
using jsv = boost::json::string_view;

inline std::string_view sv(jsv s) { return {s.data(), s.size()}; }

// An output to a watched script, waiting for its transaction's txid.
struct Candidate {
    std::uint64_t n = 0;
    std::string script;
    std::uint64_t sats = 0;
};

// The SAX handler: one pass over the body; strings and numbers are copied
// only where they are read (ids, hashes, scripts short enough to be watched,
// amounts); long hex (raw tx, witnesses, scriptSig) is skipped by the parser.
class BlockHandler : public SaxHandlerBase {
public:
    static constexpr int kMaxDepth = 64;

    BlockHandler(const MatchContext& ctx, DecodedBlock& out) : ctx_(ctx), out_(out) {
        part_.reserve(128);
        script_hex_.reserve(2 * kMaxWatchedScript);
        value_text_.reserve(32);
    }

    std::optional<Error> error;
    bool envelope = false;
    bool block_done = false;
    bool result_null = false;
    bool has_rpc_error = false;
    long long rpc_code = 0;
    std::string rpc_message;

    bool on_object_begin(error_code& ec) { return open(Kind::object, ec); }
    bool on_array_begin(error_code& ec) { return open(Kind::array, ec); }
    bool on_object_end(std::size_t, error_code& ec) { return close(ec); }
    bool on_array_end(std::size_t, error_code& ec) { return close(ec); }

    bool on_key_part(jsv s, std::size_t, error_code&) {
        if (reads_keys()) part_.append(s.data(), s.size());
        return true;
    }
    bool on_key(jsv s, std::size_t, error_code& ec) {
        if (!reads_keys()) return true;
        std::string_view k = sv(s);
        if (!part_.empty()) {
            part_.append(k);
            k = part_;
        }
        Role& parent = roles_[depth_ - 1];
        if (parent == Role::root) {
            // The first key tells a JSON-RPC envelope from a bare block object.
            if (k == "result" || k == "error" || k == "id" || k == "jsonrpc") {
                parent = Role::envelope;
                envelope = true;
            } else {
                parent = Role::block;
            }
        }
        keys_[depth_ - 1] = classify(parent, k);
        part_.clear();
        if (parent == Role::input && keys_[depth_ - 1] == Key::coinbase) coinbase_ = true;
        (void)ec;
        return true;
    }

    bool on_string_part(jsv s, std::size_t, error_code& ec) {
        if (string_started_ == false) {
            string_started_ = true;
            if (!value_begin(Kind::string, ec)) return false;
        }
        capture(s);
        return true;
    }
    bool on_string(jsv s, std::size_t, error_code& ec) {
        if (!string_started_ && !value_begin(Kind::string, ec)) return false;
        string_started_ = false;
        capture(s);
        return on_string_value(ec);
    }
    bool on_number_part(jsv s, error_code& ec) {
        if (!number_started_) {
            number_started_ = true;
            if (!value_begin(Kind::number, ec)) return false;
        }
        capture(s);
        return true;
    }
    bool on_int64(std::int64_t, jsv s, error_code& ec) { return on_number(s, ec); }
    bool on_uint64(std::uint64_t, jsv s, error_code& ec) { return on_number(s, ec); }
    bool on_double(double, jsv s, error_code& ec) { return on_number(s, ec); }
    bool on_bool(bool, error_code& ec) { return value_begin(Kind::boolean, ec); }
    bool on_null(error_code& ec) { return value_begin(Kind::null, ec); }

private:
    enum class Capture : std::uint8_t { none, text, script };

    bool fail(Errc code, std::string message, error_code& ec) {
        if (!error) error = make_error(code, std::move(message));
        ec = boost::json::error::syntax;
        return false;
    }
    bool malformed(std::string message, error_code& ec) { return fail(Errc::malformed, std::move(message), ec); }

    std::string where() const {
        std::string w = "tx " + std::to_string(out_.txs);
        if (roles_[depth_ > 0 ? depth_ - 1 : 0] == Role::output || in_output_)
            w += " output " + std::to_string(out_index_);
        return w;
    }

    bool reads_keys() const noexcept { return depth_ > 0 && roles_[depth_ - 1] != Role::other; }

    Role parent_role() const noexcept { return depth_ > 0 ? roles_[depth_ - 1] : Role::other; }
    Key parent_key() const noexcept { return depth_ > 0 ? keys_[depth_ - 1] : Key::other; }

    void capture(jsv s) {
        switch (capture_) {
            case Capture::none: return;
            case Capture::text:
                part_.append(s.data(), s.size());
                return;
            case Capture::script:
                // Scripts longer than any address's are never watched: not copied.
                if (script_hex_.size() + s.size() > 2 * kMaxWatchedScript) script_too_long_ = true;
                else script_hex_.append(s.data(), s.size());
                return;
        }
    }

    // A value starts under the current container: check its type where the
    // decoder reads it and decide what to capture.
    bool value_begin(Kind kind, error_code& ec) {
        capture_ = Capture::none;
        if (depth_ == 0) {
            if (kind != Kind::object) return malformed("getblock: the answer is not a JSON object", ec);
            return true;
        }
        const Role parent = parent_role();
        const Key key = parent_key();
        switch (parent) {
            case Role::other:
            case Role::root:
                return true;
            case Role::envelope:
                if (key == Key::result) {
                    if (kind == Kind::null) result_null = true;
                    else if (kind != Kind::object)
                        return malformed(std::string("getblock: result is ") + kind_name(kind) + ", not a block", ec);
                } else if (key == Key::error) {
                    if (kind == Kind::string) {
                        has_rpc_error = true;
                        capture_ = Capture::text;
                    } else if (kind != Kind::null) {
                        has_rpc_error = true;
                    }
                }
                return true;
            case Role::error:
                if (key == Key::message && kind == Kind::string) capture_ = Capture::text;
                if (key == Key::code && kind == Kind::number) capture_ = Capture::text;
                return true;
            case Role::block:
                return block_value(key, kind, ec);
            case Role::txs:
                if (kind != Kind::object)
                    return malformed("getblock: transaction " + std::to_string(out_.txs) + " is " + kind_name(kind) +
                                         (kind == Kind::string ? " (a txid only: the node ignored the verbosity)" : ""),
                                     ec);
                return true;
            case Role::tx:
                return tx_value(key, kind, ec);
            case Role::vin:
                if (kind != Kind::object) return malformed(where() + ": an input is " + kind_name(kind), ec);
                return true;
            case Role::vout:
                if (kind != Kind::object) return malformed(where() + ": an output is " + kind_name(kind), ec);
                return true;
            case Role::input:
                return true;
            case Role::output:
                return output_value(key, kind, ec);
            case Role::script:
                if (key == Key::hex) {
                    if (kind != Kind::string) return malformed(where() + ": scriptPubKey.hex is " + kind_name(kind), ec);
                    if (has_hex_) return malformed(where() + ": scriptPubKey.hex twice", ec);
                    capture_ = Capture::script;
                    script_hex_.clear();
                    script_too_long_ = false;
                }
                return true;
        }
        return true;
    }

    bool block_value(Key key, Kind kind, error_code& ec) {
        switch (key) {
            case Key::hash:
            case Key::previous:
            case Key::next:
                if (kind == Kind::null && key != Key::hash) return true;  // genesis / tip (bcoin)
                if (kind != Kind::string)
                    return malformed(std::string("getblock: a block hash is ") + kind_name(kind), ec);
                capture_ = Capture::text;
                return true;
            case Key::height:
            case Key::time:
            case Key::confirmations:
            case Key::ntx:
                if (kind != Kind::number)
                    return malformed(std::string("getblock: a block number field is ") + kind_name(kind), ec);
                capture_ = Capture::text;
                return true;
            case Key::tx:
                if (kind != Kind::array) return malformed(std::string("getblock: tx is ") + kind_name(kind), ec);
                if (seen_tx_) return malformed("getblock: tx twice", ec);
                seen_tx_ = true;
                return true;
            default:
                return true;
        }
    }

    bool tx_value(Key key, Kind kind, error_code& ec) {
        switch (key) {
            case Key::txid:
                if (kind != Kind::string) return malformed(where() + ": txid is " + kind_name(kind), ec);
                capture_ = Capture::text;
                return true;
            case Key::vin:
            case Key::vout:
                if (kind != Kind::array)
                    return malformed(where() + ": " + (key == Key::vin ? "vin" : "vout") + " is " + kind_name(kind), ec);
                if ((key == Key::vin ? has_vin_ : has_vout_)) return malformed(where() + ": vin/vout twice", ec);
                (key == Key::vin ? has_vin_ : has_vout_) = true;
                return true;
            default:
                return true;
        }
    }

    bool output_value(Key key, Kind kind, error_code& ec) {
        switch (key) {
            case Key::value:
                if (kind != Kind::number) return malformed(where() + ": value is " + kind_name(kind), ec);
                value_text_.clear();
                capture_ = Capture::text;
                return true;
            case Key::n:
                if (kind != Kind::number) return malformed(where() + ": n is " + kind_name(kind), ec);
                capture_ = Capture::text;
                return true;
            case Key::script_pub_key:
                if (kind != Kind::object) return malformed(where() + ": scriptPubKey is " + kind_name(kind), ec);
                return true;
            default:
                return true;
        }
    }

    bool open(Kind kind, error_code& ec) {
        if (!value_begin(kind, ec)) return false;
        if (depth_ >= kMaxDepth) return malformed("getblock: JSON nested too deeply", ec);
        Role role = Role::other;
        if (depth_ == 0) {
            role = Role::root;
        } else {
            const Role parent = roles_[depth_ - 1];
            const Key key = keys_[depth_ - 1];
            switch (parent) {
                case Role::envelope:
                    if (key == Key::result) {
                        role = Role::block;
                    } else if (key == Key::error) {
                        role = Role::error;
                    }
                    break;
                case Role::block:
                    if (key == Key::tx && kind == Kind::array) role = Role::txs;
                    break;
                case Role::txs:
                    role = Role::tx;
                    begin_tx();
                    break;
                case Role::tx:
                    if (key == Key::vin) role = Role::vin;
                    else if (key == Key::vout) role = Role::vout;
                    break;
                case Role::vin: role = Role::input; break;
                case Role::vout:
                    role = Role::output;
                    begin_output();
                    break;
                case Role::output:
                    if (key == Key::script_pub_key) role = Role::script;
                    break;
                default: break;
            }
        }
        roles_[depth_] = role;
        keys_[depth_] = Key::other;
        ++depth_;
        return true;
    }

    bool close(error_code& ec) {
        --depth_;
        switch (roles_[depth_]) {
            case Role::output: return finish_output(ec);
            case Role::tx: return finish_tx(ec);
            case Role::block: return finish_block(ec);
            case Role::envelope:
            case Role::root: return true;
            default: return true;
        }
    }

    bool on_number(jsv s, error_code& ec) {
        if (!number_started_ && !value_begin(Kind::number, ec)) return false;
        number_started_ = false;
        capture(s);
        return on_scalar_value(ec);
    }
    bool on_string_value(error_code& ec) { return on_scalar_value(ec); }

    static bool parse_u64(std::string_view t, std::uint64_t& out) {
        if (t.empty() || t.size() > 19) return false;
        std::uint64_t v = 0;
        for (char c : t) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + static_cast<std::uint64_t>(c - '0');
        }
        out = v;
        return true;
    }

    // The complete text of a captured scalar is in part_ / script_hex_.
    bool on_scalar_value(error_code& ec) {
        const Capture c = capture_;
        capture_ = Capture::none;
        if (c == Capture::none) return true;
        if (c == Capture::script) {
            has_hex_ = true;
            return true;
        }
        const std::string_view t = part_;
        const Role parent = parent_role();
        const Key key = parent_key();
        bool ok = true;
        if (parent == Role::output) {
            if (key == Key::value) {
                value_text_.assign(t);
                has_value_ = true;
            } else if (key == Key::n) {
                ok = parse_u64(t, out_n_);
                if (!ok) {
                    part_.clear();
                    return malformed(where() + ": n is not a small non-negative integer", ec);
                }
                has_n_ = true;
            }
        } else if (parent == Role::tx && key == Key::txid) {
            txid_.assign(t);  // checked in finish_tx, where it is used
            has_txid_ = true;
        } else if (parent == Role::block) {
            switch (key) {
                case Key::hash:
                case Key::previous:
                case Key::next:
                    if (!is_hash_text(t)) {
                        part_.clear();
                        return malformed("getblock: a block hash is not 64 hex digits", ec);
                    }
                    (key == Key::hash ? out_.ref.hash : key == Key::previous ? out_.ref.parent : out_.next) = lower(t);
                    if (key == Key::hash) has_hash_ = true;
                    if (key == Key::previous) has_previous_ = true;
                    break;
                case Key::height:
                    ok = parse_u64(t, out_.ref.height);
                    has_height_ = ok;
                    break;
                case Key::time: {
                    std::uint64_t secs = 0;
                    ok = parse_u64(t, secs) && secs < (std::uint64_t{1} << 40);
                    out_.ref.time_ms = static_cast<std::int64_t>(secs) * 1000;
                    break;
                }
                case Key::confirmations: {
                    std::uint64_t v = 0;
                    if (t == "-1") out_.confirmations = -1;
                    else if (parse_u64(t, v) && v <= static_cast<std::uint64_t>(INT64_MAX)) out_.confirmations = static_cast<std::int64_t>(v);
                    else ok = false;
                    break;
                }
                case Key::ntx:
                    ok = parse_u64(t, ntx_);
                    has_ntx_ = ok;
                    break;
                default: break;
            }
            if (!ok) {
                std::string m = "getblock: '" + std::string(t.substr(0, 40)) + "' is not a valid block number field";
                part_.clear();
                return malformed(std::move(m), ec);
            }
        } else if (parent == Role::error) {
            if (key == Key::message) rpc_message.assign(t);
            else if (key == Key::code) {
                std::uint64_t v = 0;
                const bool neg = !t.empty() && t.front() == '-';
                if (parse_u64(neg ? t.substr(1) : t, v) && v < 0x80000000ull)
                    rpc_code = neg ? -static_cast<long long>(v) : static_cast<long long>(v);
            }
        } else if (parent == Role::envelope && key == Key::error) {
            rpc_message.assign(t);
        }
        part_.clear();
        return true;
    }

    void begin_tx() {
        has_txid_ = false;
        coinbase_ = false;
        has_vin_ = has_vout_ = false;
        out_index_ = 0;
        candidates_used_ = 0;
    }

    void begin_output() {
        in_output_ = true;
        has_value_ = has_n_ = has_hex_ = false;
        script_too_long_ = false;
        script_hex_.clear();
    }

    bool finish_output(error_code& ec) {
        ++out_.outputs;
        if (!has_value_) return malformed(where() + ": no value", ec);
        if (!has_n_) return malformed(where() + ": no n", ec);
        if (!has_hex_) return malformed(where() + ": no scriptPubKey.hex", ec);
        if (out_n_ != out_index_)
            return malformed(where() + ": n is " + std::to_string(out_n_) + ", expected " + std::to_string(out_index_), ec);
        if (!script_too_long_ && script_hex_.size() % 2 != 0)
            return malformed(where() + ": scriptPubKey.hex has an odd length", ec);
        in_output_ = false;
        ++out_index_;
        if (script_too_long_) return true;
        const std::size_t len = script_hex_.size() / 2;
        if (!codec::from_hex_exact(script_hex_, std::span<std::uint8_t>(script_.data(), len)))
            return malformed(where() + ": scriptPubKey.hex is not hex", ec);
        const std::string_view script(reinterpret_cast<const char*>(script_.data()), len);
        if (ctx_.watched == nullptr || ctx_.watched->find(script) == 0) return true;
        auto sats = parse_btc_amount(value_text_);
        if (!sats) return malformed(where() + ": " + sats.error().message, ec);
        if (*sats == 0) return true;  // nothing was paid
        if (candidates_used_ == candidates_.size()) candidates_.emplace_back();
        Candidate& c = candidates_[candidates_used_++];
        c.n = out_n_;
        c.script.assign(script);
        c.sats = *sats;
        return true;
    }

    bool finish_tx(error_code& ec) {
        if (!has_txid_) return malformed(where() + ": no txid", ec);
        if (!has_vin_) return malformed(where() + ": no vin", ec);
        if (!has_vout_) return malformed(where() + ": no vout", ec);
        if (candidates_used_ > 0 && !is_hash_text(txid_)) return malformed(where() + ": txid is not 64 hex digits", ec);
        for (std::size_t i = 0; i < candidates_used_; ++i) {
            const Candidate& c = candidates_[i];
            switch (ignored(U256(c.sats), ctx_.min_amount)) {
                case Ignored::zero_value: ++out_.ignored_zero; continue;
                case Ignored::below_min_amount: ++out_.ignored_dust; continue;
                case Ignored::no: break;
            }
            Transfer t;
            t.tx = lower(txid_);
            t.index = c.n;
            t.to_key = c.script;
            if (ctx_.network) {
                const auto* p = reinterpret_cast<const std::uint8_t*>(c.script.data());
                t.to = codec::btc_address_from_script(std::span<const std::uint8_t>(p, c.script.size()), *ctx_.network);
            }
            t.currency = ctx_.symbol;
            t.decimals = ctx_.decimals;
            t.amount = U256(c.sats);
            if (coinbase_) t.min_confirmations = kCoinbaseMaturity;
            out_.transfers.push_back(std::move(t));
        }
        candidates_used_ = 0;
        ++out_.txs;
        return true;
    }

    bool finish_block(error_code& ec) {
        if (!has_hash_) return malformed("getblock: the block has no hash", ec);
        if (!has_height_) return malformed("getblock: the block has no height", ec);
        if (!seen_tx_) return malformed("getblock: the block has no tx list", ec);
        if (out_.txs == 0) return malformed("getblock: the block has no transactions (a block has at least its coinbase)", ec);
        if (!has_previous_ && out_.ref.height != 0) return malformed("getblock: the block has no previousblockhash", ec);
        if (has_ntx_ && ntx_ != out_.txs)
            return malformed("getblock: nTx is " + std::to_string(ntx_) + " but " + std::to_string(out_.txs) +
                                 " transactions came",
                             ec);
        block_done = true;
        return true;
    }

    const MatchContext& ctx_;
    DecodedBlock& out_;

    std::array<Role, kMaxDepth> roles_{};
    std::array<Key, kMaxDepth> keys_{};
    int depth_ = 0;
    Capture capture_ = Capture::none;
    bool string_started_ = false;
    bool number_started_ = false;
    std::string part_;

    // block
    bool has_hash_ = false, has_height_ = false, has_previous_ = false, has_ntx_ = false, seen_tx_ = false;
    std::uint64_t ntx_ = 0;
    // transaction
    std::string txid_;
    bool has_txid_ = false;
    bool coinbase_ = false, has_vin_ = false, has_vout_ = false;
    std::uint64_t out_index_ = 0;
    std::vector<Candidate> candidates_;
    std::size_t candidates_used_ = 0;
    // output
    bool in_output_ = false;
    bool has_value_ = false, has_n_ = false, has_hex_ = false, script_too_long_ = false;
    std::uint64_t out_n_ = 0;
    std::string value_text_;
    std::string script_hex_;
    std::array<std::uint8_t, kMaxWatchedScript> script_{};
};

}  // namespace

Result<DecodedBlock> decode_block(std::string_view body, const MatchContext& ctx) {
    DecodedBlock out;
    boost::json::parse_options opt;
    opt.max_depth = BlockHandler::kMaxDepth;
    boost::json::basic_parser<BlockHandler> p(opt, ctx, out);
    if (auto s = run_sax(p, body, "getblock"); !s) return s.error();
    auto& h = p.handler();
    if (h.has_rpc_error) {
        Error e = make_error(Errc::rpc_error, h.rpc_message.empty() ? "JSON-RPC error" : node_text(h.rpc_message));
        e.status = static_cast<int>(h.rpc_code);
        return e;
    }
    if (!h.block_done) {
        if (h.envelope && h.result_null) return make_error(Errc::malformed, "getblock: result is null without an error");
        return make_error(Errc::malformed, "getblock: the answer holds no block");
    }
    return out;
}

}  // namespace depositd::chain::bitcoin
