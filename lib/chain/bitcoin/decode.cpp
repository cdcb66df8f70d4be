#include "chain/bitcoin/decode.hpp"

#include "chain/ignored.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <array>
#include <limits>

#include "codec/hex.hpp"

namespace depositd::chain::bitcoin {

namespace {

using boost::system::error_code;
using jsv = boost::json::string_view;

inline std::string_view sv(jsv s) { return {s.data(), s.size()}; }

bool is_hash_text(std::string_view s) noexcept {
    std::array<std::uint8_t, 32> bytes;
    return s.size() == 64 && codec::from_hex_exact(s, bytes);  // ("0x" + 62 fails: the length after the prefix)
}

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return r;
}

// What a JSON container is, as far as the decoder cares.
enum class Role : std::uint8_t {
    other,     // anything not read (scriptSig, txinwitness, prevout, ...)
    root,      // the top-level object until its first key tells envelope from bare block
    envelope,  // {"result", "error", "id"}
    error,     // the envelope's error object
    block,
    txs,       // block.tx
    tx,
    vin,
    input,
    vout,
    output,
    script,    // output.scriptPubKey
};

enum class Key : std::uint8_t {
    other,
    result,
    error,
    code,
    message,
    hash,
    height,
    previous,
    next,
    time,
    confirmations,
    ntx,
    tx,
    txid,
    vin,
    vout,
    coinbase,
    value,
    n,
    script_pub_key,
    hex,
};

Key classify(Role parent, std::string_view k) noexcept {
    switch (parent) {
        case Role::envelope:
            return k == "result" ? Key::result : k == "error" ? Key::error : Key::other;
        case Role::error:
            return k == "code" ? Key::code : k == "message" ? Key::message : Key::other;
        case Role::block:
            switch (k.size()) {
                case 2: return k == "tx" ? Key::tx : Key::other;
                case 3: return k == "nTx" ? Key::ntx : Key::other;
                case 4: return k == "hash" ? Key::hash : k == "time" ? Key::time : Key::other;
                case 6: return k == "height" ? Key::height : Key::other;
                case 13: return k == "confirmations" ? Key::confirmations : k == "nextblockhash" ? Key::next : Key::other;
                case 17: return k == "previousblockhash" ? Key::previous : Key::other;
                default: return Key::other;
            }
        case Role::tx:
            switch (k.size()) {
                case 3: return k == "vin" ? Key::vin : Key::other;
                case 4: return k == "txid" ? Key::txid : k == "vout" ? Key::vout : Key::other;
                default: return Key::other;
            }
        case Role::input:
            return k == "coinbase" ? Key::coinbase : Key::other;
        case Role::output:
            switch (k.size()) {
                case 1: return k == "n" ? Key::n : Key::other;
                case 5: return k == "value" ? Key::value : Key::other;
                case 12: return k == "scriptPubKey" ? Key::script_pub_key : Key::other;
                default: return Key::other;
            }
        case Role::script:
            return k == "hex" ? Key::hex : Key::other;
        default:
            return Key::other;
    }
}

enum class Kind { object, array, string, number, boolean, null };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::object: return "an object";
        case Kind::array: return "an array";
        case Kind::string: return "a string";
        case Kind::number: return "a number";
        case Kind::boolean: return "a boolean";
        case Kind::null: return "null";
    }
    return "?";
}

// An output to a watched script, waiting for its transaction's txid.
struct Candidate {
    std::uint64_t n = 0;
    std::string script;
    std::uint64_t sats = 0;
};

// The SAX handler: one pass over the body; strings and numbers are copied
// only where they are read (ids, hashes, scripts short enough to be watched,
// amounts); long hex (raw tx, witnesses, scriptSig) is skipped by the parser.
class BlockHandler {
public:
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
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

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }

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
    bool on_comment_part(jsv, error_code&) { return true; }
    bool on_comment(jsv, error_code&) { return true; }

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
    error_code ec;
    const std::size_t n = p.write_some(false, body.data(), body.size(), ec);
    auto& h = p.handler();
    if (h.error) return *h.error;
    if (ec) return make_error(Errc::malformed, "getblock: invalid JSON: " + ec.message());
    for (std::size_t i = n; i < body.size(); ++i)
        if (body[i] != ' ' && body[i] != '\n' && body[i] != '\r' && body[i] != '\t')
            return make_error(Errc::malformed, "getblock: trailing data after the JSON document");
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

Result<BlockRef> decode_block_header(const json::value& result) {
    if (!result.is_object()) return make_error(Errc::malformed, "getblockheader: result is not an object");
    const auto& o = result.get_object();
    BlockRef ref;
    auto hash = json::get_string(o, "hash");
    if (!hash) return hash.error();
    if (!is_hash_text(*hash)) return make_error(Errc::malformed, "getblockheader: hash is not 64 hex digits");
    ref.hash = lower(*hash);
    const auto* height = o.if_contains("height");
    if (!height || !(height->is_int64() || height->is_uint64()) || (height->is_int64() && height->get_int64() < 0))
        return make_error(Errc::malformed, "getblockheader: height is missing or not a non-negative integer");
    ref.height = height->is_int64() ? static_cast<std::uint64_t>(height->get_int64()) : height->get_uint64();
    const auto* prev = o.if_contains("previousblockhash");
    if (prev && prev->is_string()) {
        const auto& s = prev->get_string();
        if (!is_hash_text(std::string_view(s.data(), s.size())))
            return make_error(Errc::malformed, "getblockheader: previousblockhash is not 64 hex digits");
        ref.parent = lower(std::string_view(s.data(), s.size()));
    } else if (ref.height != 0 || (prev && !prev->is_null())) {
        return make_error(Errc::malformed, "getblockheader: previousblockhash is missing");
    }
    if (const auto* t = o.if_contains("time"); t && t->is_int64() && t->get_int64() >= 0 && t->get_int64() < (1ll << 40))
        ref.time_ms = t->get_int64() * 1000;
    return ref;
}

Result<std::string> decode_block_hash(const json::value& result) {
    if (!result.is_string()) return make_error(Errc::malformed, "getblockhash: result is not a string");
    const auto& s = result.get_string();
    const std::string_view t(s.data(), s.size());
    if (!is_hash_text(t)) return make_error(Errc::malformed, "getblockhash: result is not 64 hex digits");
    return lower(t);
}

std::optional<std::string> parse_txid(std::string_view text) {
    if (!is_hash_text(text)) return std::nullopt;
    return lower(text);
}

Result<RawTxLocation> decode_raw_tx_location(const json::value& result, std::string_view txid) {
    if (!result.is_object()) return make_error(Errc::malformed, "getrawtransaction: result is not an object");
    const auto& o = result.get_object();
    const auto* id = o.if_contains("txid");
    if (id == nullptr || !id->is_string() || lower(std::string_view(id->get_string().data(), id->get_string().size())) != txid)
        return make_error(Errc::malformed, "getrawtransaction: the node answered another transaction");
    RawTxLocation loc;
    const auto* bh = o.if_contains("blockhash");
    if (bh == nullptr || bh->is_null() || (bh->is_string() && bh->get_string().empty())) return loc;  // mempool
    auto hash = decode_block_hash(*bh);
    if (!hash) return make_error(Errc::malformed, "getrawtransaction: blockhash is not 64 hex digits");
    // bcoin names a null hash for an unconfirmed transaction.
    if (hash->find_first_not_of('0') == std::string::npos) return loc;
    loc.block_hash = std::move(*hash);
    return loc;
}

Result<std::uint64_t> parse_btc_amount(std::string_view text) {
    auto bad = [&](const char* why) {
        return make_error(Errc::malformed, "amount '" + std::string(text.substr(0, 40)) + "' " + why);
    };
    std::size_t i = 0;
    if (i < text.size() && text[i] == '-') return bad("is negative");
    // Mantissa digits (integer and fraction parts) and the decimal exponent.
    std::string digits;
    int frac = 0;
    bool any = false, dot = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') {
            any = true;
            if (digits.empty() && c == '0') {
                if (dot) ++frac;
                continue;  // leading zeros carry no value
            }
            if (digits.size() >= 40) return bad("has too many digits");
            digits.push_back(c);
            if (dot) ++frac;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!any) return bad("is not a number");
    long exp = 0;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool neg = false;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) neg = text[i++] == '-';
        if (i >= text.size()) return bad("has an empty exponent");
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            exp = exp * 10 + (text[i] - '0');
            if (exp > 100) return bad("has an exponent out of range");
        }
        if (neg) exp = -exp;
    }
    if (i != text.size()) return bad("is not a number");
    if (digits.empty()) return std::uint64_t{0};
    // value = digits x 10^(exp - frac); satoshis = value x 10^8.
    long shift = exp - frac + 8;
    if (shift > 0) {
        if (static_cast<long>(digits.size()) + shift > 17) return bad("is above 21 million BTC");
        digits.append(static_cast<std::size_t>(shift), '0');
        shift = 0;
    }
    bool round_up = false;
    if (shift < 0) {
        const auto drop = static_cast<std::size_t>(-shift);
        if (drop > digits.size()) {
            digits.clear();  // the first dropped digit is a leading zero: below half a satoshi
        } else {
            round_up = digits[digits.size() - drop] >= '5';
            digits.resize(digits.size() - drop);
        }
    }
    if (digits.size() > 17) return bad("is above 21 million BTC");
    std::uint64_t sats = 0;
    for (char c : digits) sats = sats * 10 + static_cast<std::uint64_t>(c - '0');
    if (round_up) ++sats;
    if (sats > kMaxMoney) return bad("is above 21 million BTC");
    return sats;
}

std::string node_text(std::string_view text, std::size_t max) {
    std::string r(text.substr(0, max));
    for (auto& c : r)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    return r;
}

std::optional<codec::BtcNetwork> network_of_chain(std::string_view chain, bool bcoin) {
    if (chain == "main") return codec::BtcNetwork::mainnet;
    if (chain == "test" || chain == "testnet" || chain == "testnet3" || chain == "testnet4") return codec::BtcNetwork::testnet;
    if (chain == "signet") return codec::BtcNetwork::signet;
    if (chain == "regtest") return bcoin ? codec::BtcNetwork::bcoin_regtest : codec::BtcNetwork::regtest;
    return std::nullopt;
}

}  // namespace depositd::chain::bitcoin
