#include "chain/evm/decode.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <limits>

#include "chain/evm/json_text.hpp"
#include "chain/json_sax.hpp"
#include "codec/abi.hpp"
#include "codec/address.hpp"
#include "codec/hex.hpp"
#include "core/log.hpp"

// ERC20 Transfer logs (eth_getLogs answers, streamed or as a DOM, and a
// receipt's logs) matched against the watch set, and the bloom of a list of logs.

namespace depositd::chain::evm {

using namespace detail;

namespace {

// ---------------------------------------------------------------------------
// The one matcher both front-ends (streaming text, DOM) feed.

struct LogFields {
    std::string_view address, data, block_hash, tx_hash;
    std::array<std::string_view, 4> topics{};
    std::size_t ntopics = 0;
    std::uint64_t block_number = 0;
    std::uint64_t log_index = 0;
    bool removed = false;
};

Status match_log(const LogFields& f, const LogMatchContext& ctx, std::vector<MatchedTransfer>& out,
                 LogScanStats& st) {
    const std::size_t n = st.logs++;
    if (f.removed) return {};
    if (f.block_hash.size() != 66 || !has_0x(f.block_hash))
        return make_error(Errc::malformed, "log " + std::to_string(n) + ": blockHash is not a 32-byte hash");
    if (f.tx_hash.size() != 66 || !has_0x(f.tx_hash))
        return make_error(Errc::malformed, "log " + std::to_string(n) + ": transactionHash is not a 32-byte hash");
    if (f.address.size() != 42 || !has_0x(f.address))
        return make_error(Errc::malformed, "log " + std::to_string(n) + ": address is not a 20-byte address");
    for (std::size_t i = 0; i < std::min<std::size_t>(f.ntopics, 4); ++i)
        if (f.topics[i].size() != 66 || !has_0x(f.topics[i]))
            return make_error(Errc::malformed, "log " + std::to_string(n) + ": topic is not 32 bytes");
    if (!ctx.blocks.empty()) {
        const std::uint64_t first = ctx.blocks.front().height;
        if (f.block_number < first || f.block_number - first >= ctx.blocks.size())
            return make_error(Errc::malformed, "log in block " + std::to_string(f.block_number) +
                                                   " outside the requested range");
        const BlockRef& b = ctx.blocks[f.block_number - first];
        if (!same_hash(f.block_hash, b.hash))
            return make_error(Errc::conflict, "reorg during fetch: log in block " + std::to_string(f.block_number) +
                                                  " has blockHash " + std::string(f.block_hash) +
                                                  ", the block fetched has " + b.hash);
    }
    // ERC20 Transfer: exactly 3 topics (ERC721 has 4, the id indexed). The
    // ABI decoding is codec::try_decode_transfer_log, shared with TRON.
    if (f.ntopics != 3 || !codec::is_transfer_topic(f.topics[0])) return {};
    Address20 contract;
    if (!decode_hex(f.address.data() + 2, 20, contract.data()))
        return make_error(Errc::malformed, "log " + std::to_string(n) + ": address is not hex");
    const TokenSpec* token = nullptr;
    for (const auto& t : ctx.tokens)
        if (std::memcmp(t.contract.data(), contract.data(), 20) == 0) {
            token = &t;
            break;
        }
    if (token == nullptr) return {};
    ++st.token_transfers;
    if (!ctx.token_transfers_per_block.empty() && !ctx.blocks.empty())
        ++ctx.token_transfers_per_block[f.block_number - ctx.blocks.front().height];
    Address20 to;
    if (!codec::try_address_from_topic(f.topics[2], to)) return {};  // not an address: not an ERC20 Transfer
    if (ctx.watched == nullptr || !ctx.watched->contains(key_view(to))) return {};

    codec::TransferLog tl;
    if (!codec::try_decode_transfer_log(std::span<const std::string_view>(f.topics.data(), 3), f.data, tl)) {
        ++st.skipped_nonstandard;
        log::get("chain.evm")
            ->warn("{}: token {} log {} in tx {}: Transfer to a watched address with a non-standard from/data; skipped",
                   ctx.chain, token->symbol, f.log_index, f.tx_hash);
        return {};
    }
    if (!is_hash_text(f.tx_hash) || !is_hash_text(f.block_hash))
        return make_error(Errc::malformed, "log " + std::to_string(n) + ": hash is not hex");
    if (const Ignored why = ignored(tl.value, token->min_amount); why != Ignored::no) {
        ++(why == Ignored::zero_value ? st.ignored_zero : st.ignored_dust);
        log::get("chain.evm")
            ->debug("{}: token {} Transfer of {} to {} in tx {} log {} ignored ({})", ctx.chain, token->symbol,
                    Amount(tl.value, token->decimals).to_string(), codec::evm_checksum(to), f.tx_hash, f.log_index,
                    to_string(why));
        return {};
    }

    ++st.matched;
    MatchedTransfer m;
    m.height = f.block_number;
    m.block_hash = lower(f.block_hash);
    Transfer& t = m.transfer;
    t.tx = lower(f.tx_hash);
    t.index = f.log_index;
    t.to_key.assign(key_view(to));
    t.to = codec::evm_checksum(to);
    t.from = codec::evm_checksum(tl.from);
    t.currency = token->symbol;
    t.contract = token->contract_text;
    t.decimals = token->decimals;
    t.amount = std::move(tl.value);
    out.push_back(std::move(m));
    return {};
}

// ---------------------------------------------------------------------------
// Streaming front-end: Boost.JSON's SAX parser, fields copied into reused
// buffers (no allocation once they have grown), one match_log per object.

using boost::system::error_code;
using jsv = boost::json::string_view;

inline std::string_view sv(jsv s) { return {s.data(), s.size()}; }

enum class Field : std::uint8_t {
    other = 0,
    address,
    topics,
    data,
    block_hash,
    block_number,
    tx_hash,
    log_index,
    removed
};
constexpr unsigned bit(Field f) { return 1u << static_cast<unsigned>(f); }
constexpr unsigned kRequired = bit(Field::address) | bit(Field::topics) | bit(Field::data) |
                         bit(Field::block_hash) | bit(Field::block_number) |
                         bit(Field::tx_hash) | bit(Field::log_index);

class LogsHandler : public SaxHandlerBase {
public:
    LogsHandler(const LogMatchContext& ctx, std::vector<MatchedTransfer>& out) : ctx_(ctx), out_(out) {
        for (auto* s : {&address_, &block_hash_, &tx_hash_, &topics_[0], &topics_[1], &topics_[2], &topics_[3]})
            s->reserve(72);
        data_.reserve(128);
    }

    std::optional<Error> error;
    LogScanStats stats;
    bool saw_result = false;
    bool has_rpc_error = false;
    long long rpc_code = 0;
    std::string rpc_message;

    bool on_object_begin(error_code& ec) {
        if (!begin(Kind::object, ec)) return false;
        ++depth_;
        return true;
    }
    bool on_object_end(std::size_t, error_code& ec) {
        --depth_;
        if (in_log_ && depth_ == logs_level_) {
            in_log_ = false;
            return finish_log(ec);
        }
        if (in_error_ && depth_ == 1) in_error_ = false;
        return true;
    }
    bool on_array_begin(error_code& ec) {
        if (!begin(Kind::array, ec)) return false;
        ++depth_;
        return true;
    }
    bool on_array_end(std::size_t, error_code&) {
        --depth_;
        if (in_topics_ && depth_ == logs_level_ + 1) in_topics_ = false;
        if (logs_open_ && depth_ == logs_level_ - 1) logs_open_ = false;
        return true;
    }
    bool on_key_part(jsv s, std::size_t, error_code&) {
        part_.append(s.data(), s.size());
        return true;
    }
    bool on_key(jsv s, std::size_t, error_code&) {
        std::string_view k = sv(s);
        if (!part_.empty()) {
            part_.append(k);
            k = part_;
        }
        if (root_ == Root::object && depth_ == 1) {
            top_key_ = k == "result" ? TopKey::result : k == "error" ? TopKey::error : TopKey::other;
        } else if (in_log_ && depth_ == logs_level_ + 1) {
            field_ = classify(k);
        } else if (in_error_ && depth_ == 2) {
            err_field_ = k == "code" ? 1 : k == "message" ? 2 : 0;
        }
        part_.clear();
        return true;
    }
    bool on_string_part(jsv s, std::size_t, error_code&) {
        part_.append(s.data(), s.size());
        return true;
    }
    bool on_string(jsv s, std::size_t, error_code& ec) {
        if (!begin(Kind::string, ec)) return false;
        std::string_view v = sv(s);
        if (!part_.empty()) {
            part_.append(v);
            v = part_;
        }
        bool ok = store_string(v, ec);
        part_.clear();
        return ok;
    }
    bool on_number_part(jsv, error_code&) { return true; }
    bool on_int64(std::int64_t i, jsv, error_code& ec) {
        if (!begin(Kind::number, ec)) return false;
        if (in_error_ && depth_ == 2 && err_field_ == 1) rpc_code = i;
        return true;
    }
    bool on_uint64(std::uint64_t, jsv, error_code& ec) { return begin(Kind::number, ec); }
    bool on_double(double, jsv, error_code& ec) { return begin(Kind::number, ec); }
    bool on_bool(bool b, error_code& ec) {
        if (!begin(Kind::boolean, ec)) return false;
        if (in_log_ && depth_ == logs_level_ + 1 && field_ == Field::removed) removed_ = b;
        return true;
    }
    bool on_null(error_code& ec) { return begin(Kind::null, ec); }

private:
    enum class Kind { object, array, string, number, boolean, null };
    enum class Root { none, object, array };
    enum class TopKey { other, result, error };
    static Field classify(std::string_view k) {
        switch (k.size()) {
            case 4: return k == "data" ? Field::data : Field::other;
            case 6: return k == "topics" ? Field::topics : Field::other;
            case 7: return k == "address" ? Field::address : k == "removed" ? Field::removed : Field::other;
            case 8: return k == "logIndex" ? Field::log_index : Field::other;
            case 9: return k == "blockHash" ? Field::block_hash : Field::other;
            case 11: return k == "blockNumber" ? Field::block_number : Field::other;
            case 15: return k == "transactionHash" ? Field::tx_hash : Field::other;
            default: return Field::other;
        }
    }
    static const char* field_name(Field f) {
        switch (f) {
            case Field::address: return "address";
            case Field::topics: return "topics";
            case Field::data: return "data";
            case Field::block_hash: return "blockHash";
            case Field::block_number: return "blockNumber";
            case Field::tx_hash: return "transactionHash";
            case Field::log_index: return "logIndex";
            case Field::removed: return "removed";
            default: return "?";
        }
    }

    bool fail(Errc code, std::string message, error_code& ec) {
        if (!error) error = make_error(code, std::move(message));
        ec = boost::json::error::syntax;
        return false;
    }
    std::string where() const { return "log " + std::to_string(stats.logs); }

    // Called when any value starts at the current depth.
    bool begin(Kind k, error_code& ec) {
        if (depth_ == 0) {
            if (k == Kind::object) {
                root_ = Root::object;
            } else if (k == Kind::array) {
                root_ = Root::array;
                logs_open_ = true;
                logs_level_ = 1;
                saw_result = true;
            } else {
                return fail(Errc::malformed, "eth_getLogs response is not an object or array", ec);
            }
            return true;
        }
        if (root_ == Root::object && depth_ == 1) {
            if (top_key_ == TopKey::result) {
                saw_result = true;
                if (k == Kind::array) {
                    logs_open_ = true;
                    logs_level_ = 2;
                    return true;
                }
                return fail(Errc::malformed, k == Kind::null ? "eth_getLogs result is null"
                                                             : "eth_getLogs result is not an array",
                            ec);
            }
            if (top_key_ == TopKey::error) {
                has_rpc_error = true;
                if (k == Kind::object) in_error_ = true;
            }
            return true;
        }
        if (logs_open_ && !in_log_ && depth_ == logs_level_) {
            if (k != Kind::object) return fail(Errc::malformed, where() + ": not an object", ec);
            in_log_ = true;
            present_ = 0;
            ntopics_ = 0;
            removed_ = false;
            return true;
        }
        if (in_log_ && depth_ == logs_level_ + 1) {
            switch (field_) {
                case Field::other: return true;
                case Field::topics:
                    if (k != Kind::array) return fail(Errc::malformed, where() + ": 'topics' is not an array", ec);
                    in_topics_ = true;
                    present_ |= bit(Field::topics);
                    return true;
                case Field::removed:
                    if (k != Kind::boolean) return fail(Errc::malformed, where() + ": 'removed' is not a bool", ec);
                    return true;
                default:
                    if (k != Kind::string)
                        return fail(Errc::malformed,
                                    where() + ": '" + field_name(field_) + "' is " +
                                        (k == Kind::null ? "null" : "not a string"),
                                    ec);
                    return true;
            }
        }
        if (in_topics_ && depth_ == logs_level_ + 2) {
            if (k != Kind::string) return fail(Errc::malformed, where() + ": a topic is not a string", ec);
            return true;
        }
        return true;
    }

    bool store_string(std::string_view v, error_code& ec) {
        if (in_topics_ && depth_ == logs_level_ + 2) {
            if (ntopics_ < topics_.size()) topics_[ntopics_].assign(v);
            ++ntopics_;
            return true;
        }
        if (in_log_ && depth_ == logs_level_ + 1) {
            switch (field_) {
                case Field::address: address_.assign(v); break;
                case Field::data: data_.assign(v); break;
                case Field::block_hash: block_hash_.assign(v); break;
                case Field::tx_hash: tx_hash_.assign(v); break;
                case Field::block_number:
                case Field::log_index: {
                    auto q = parse_quantity(v);
                    if (!q) return fail(Errc::malformed, where() + ": '" + field_name(field_) + "': " + q.error().message, ec);
                    (field_ == Field::block_number ? block_number_ : log_index_) = *q;
                    break;
                }
                default: return true;
            }
            present_ |= bit(field_);
            return true;
        }
        if (in_error_ && depth_ == 2 && err_field_ == 2) rpc_message.assign(v);
        return true;
    }

    bool finish_log(error_code& ec) {
        if ((present_ & kRequired) != kRequired) {
            for (Field f : {Field::address, Field::topics, Field::data, Field::block_hash, Field::block_number,
                            Field::tx_hash, Field::log_index})
                if (!(present_ & bit(f)))
                    return fail(Errc::malformed, where() + ": missing field '" + field_name(f) + "'", ec);
        }
        LogFields f;
        f.address = address_;
        f.data = data_;
        f.block_hash = block_hash_;
        f.tx_hash = tx_hash_;
        f.ntopics = ntopics_;
        for (std::size_t i = 0; i < std::min<std::size_t>(ntopics_, 4); ++i) f.topics[i] = topics_[i];
        f.block_number = block_number_;
        f.log_index = log_index_;
        f.removed = removed_;
        if (auto st = match_log(f, ctx_, out_, stats); !st) {
            if (!error) error = st.error();
            ec = boost::json::error::syntax;
            return false;
        }
        return true;
    }

    const LogMatchContext& ctx_;
    std::vector<MatchedTransfer>& out_;

    int depth_ = 0;
    Root root_ = Root::none;
    TopKey top_key_ = TopKey::other;
    bool logs_open_ = false;
    int logs_level_ = -10;
    bool in_log_ = false;
    bool in_topics_ = false;
    bool in_error_ = false;
    int err_field_ = 0;
    Field field_ = Field::other;
    unsigned present_ = 0;

    std::string part_;
    std::string address_, data_, block_hash_, tx_hash_;
    std::array<std::string, 4> topics_;
    std::size_t ntopics_ = 0;
    std::uint64_t block_number_ = 0;
    std::uint64_t log_index_ = 0;
    bool removed_ = false;
};

}  // namespace

Result<LogScanStats> decode_logs(std::string_view body, const LogMatchContext& ctx, std::vector<MatchedTransfer>& out) {
    boost::json::parse_options opt;
    opt.max_depth = 64;
    boost::json::basic_parser<LogsHandler> p(opt, ctx, out);
    if (auto s = run_sax(p, body, "eth_getLogs"); !s) return s.error();
    auto& h = p.handler();
    if (h.has_rpc_error) {
        Error e = make_error(Errc::rpc_error, h.rpc_message.empty() ? "JSON-RPC error" : h.rpc_message);
        e.status = static_cast<int>(std::clamp<long long>(h.rpc_code, INT32_MIN, INT32_MAX));
        return e;
    }
    if (!h.saw_result) return make_error(Errc::malformed, "eth_getLogs: response has no result");
    return h.stats;
}

Result<LogScanStats> decode_logs(const json::value& result, const LogMatchContext& ctx,
                                 std::vector<MatchedTransfer>& out) {
    if (!result.is_array()) return make_error(Errc::malformed, "eth_getLogs result is not an array");
    LogScanStats st;
    for (const auto& v : result.get_array()) {
        const std::string what = "log " + std::to_string(st.logs);
        if (!v.is_object()) return make_error(Errc::malformed, what + ": not an object");
        const auto& o = v.get_object();
        LogFields f;
        auto address = str_field(o, "address", what);
        if (!address) return address.error();
        auto data = str_field(o, "data", what);
        if (!data) return data.error();
        auto bh = str_field(o, "blockHash", what);
        if (!bh) return bh.error();
        auto th = str_field(o, "transactionHash", what);
        if (!th) return th.error();
        auto bn = str_field(o, "blockNumber", what);
        if (!bn) return bn.error();
        auto li = str_field(o, "logIndex", what);
        if (!li) return li.error();
        auto bnq = parse_quantity(*bn);
        if (!bnq) return make_error(Errc::malformed, what + ": 'blockNumber': " + bnq.error().message);
        auto liq = parse_quantity(*li);
        if (!liq) return make_error(Errc::malformed, what + ": 'logIndex': " + liq.error().message);
        const auto* topics = o.if_contains("topics");
        if (topics == nullptr || !topics->is_array())
            return make_error(Errc::malformed, what + ": 'topics' is missing or not an array");
        for (const auto& t : topics->get_array()) {
            if (!t.is_string()) return make_error(Errc::malformed, what + ": a topic is not a string");
            if (f.ntopics < 4) f.topics[f.ntopics] = std::string_view(t.get_string().data(), t.get_string().size());
            ++f.ntopics;
        }
        if (const auto* r = o.if_contains("removed")) {
            if (!r->is_bool()) return make_error(Errc::malformed, what + ": 'removed' is not a bool");
            f.removed = r->get_bool();
        }
        f.address = *address;
        f.data = *data;
        f.block_hash = *bh;
        f.tx_hash = *th;
        f.block_number = *bnq;
        f.log_index = *liq;
        if (auto s = match_log(f, ctx, out, st); !s) return s.error();
    }
    return st;
}

Result<codec::LogsBloom> bloom_of_logs(const json::value& result) {
    if (!result.is_array()) return make_error(Errc::malformed, "eth_getLogs result is not an array");
    codec::LogsBloom bloom;
    std::array<std::uint8_t, 32> buf;
    std::size_t i = 0;
    for (const auto& v : result.get_array()) {
        const std::string what = "log " + std::to_string(i++);
        if (!v.is_object()) return make_error(Errc::malformed, what + ": not an object");
        const auto& o = v.get_object();
        if (const auto* r = o.if_contains("removed"); r && r->is_bool() && r->get_bool()) continue;
        auto address = str_field(o, "address", what);
        if (!address) return address.error();
        if (address->size() != 42 || !has_0x(*address) || !decode_hex(address->data() + 2, 20, buf.data()))
            return make_error(Errc::malformed, what + ": address is not a 20-byte address");
        bloom.add(std::span<const std::uint8_t>(buf.data(), 20));
        const auto* topics = o.if_contains("topics");
        if (topics == nullptr || !topics->is_array()) return make_error(Errc::malformed, what + ": 'topics' is not an array");
        for (const auto& t : topics->get_array()) {
            if (!t.is_string()) return make_error(Errc::malformed, what + ": a topic is not a string");
            std::string_view tv(t.get_string().data(), t.get_string().size());
            if (tv.size() != 66 || !has_0x(tv) || !decode_hex(tv.data() + 2, 32, buf.data()))
                return make_error(Errc::malformed, what + ": topic is not 32 bytes");
            bloom.add(buf);
        }
    }
    return bloom;
}

}  // namespace depositd::chain::evm
