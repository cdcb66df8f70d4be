#include "chain/bitcoin/bitcoin_adapter.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

#include "chain/ignored.hpp"
#include "codec/base58.hpp"
#include "codec/bech32.hpp"
#include "chain/rpc_options.hpp"
#include "core/log.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::chain::bitcoin {

namespace asio = boost::asio;

namespace {

// Bitcoin Core and bcoin: "Block height out of range".
constexpr int kOutOfRange = -8;

// Call builders outside the coroutines: GCC rejects string literals and
// brace-init aggregates inside a co_await full-expression.
json::array no_params() { return json::array{}; }
json::array height_params(std::uint64_t h) { return json::array{h}; }
json::array header_params(const std::string& hash) { return json::array{hash, true}; }
json::array block_params(const std::string& hash, Dialect d) {
    if (d == Dialect::bcoin) return json::array{hash, true, true};
    return json::array{hash, 2};
}
const std::string kChainInfo = "getblockchaininfo";
const std::string kBlockCount = "getblockcount";
const std::string kBlockHash = "getblockhash";
const std::string kBlockHeader = "getblockheader";
const std::string kGetBlock = "getblock";

// Wrong credentials are a configuration mismatch, not an outage.
Error start_up_error(Error e, const std::string& what) {
    if (e.code == Errc::http_status && e.status == 401)
        return make_error(Errc::invalid_input, what + ": the node refused the credentials (HTTP 401); check "
                                                      "user:password in rpc or rpc_cookie_file");
    return with_context(std::move(e), what);
}

Result<std::uint64_t> height_of(const json::value& v, const std::string& what) {
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    return make_error(Errc::malformed, what + ": result is not a block height");
}

// Which networks' nodes an address can be paid on.
enum Family : unsigned { kMain = 1, kTest = 2, kRegtest = 4 };

unsigned family_of_chain(std::string_view chain) {
    if (chain == "main") return kMain;
    if (chain == "test" || chain == "testnet" || chain == "testnet3" || chain == "testnet4" || chain == "signet")
        return kTest;
    if (chain == "regtest") return kRegtest;
    return 0;
}

unsigned families_of_address(std::string_view a) {
    if (auto b = codec::bech32_decode(a)) {
        if (b->hrp == "bc") return kMain;
        if (b->hrp == "tb") return kTest;
        if (b->hrp == "bcrt" || b->hrp == "rb") return kRegtest;
        return 0;
    }
    auto p = codec::base58check_decode(a);
    if (!p || p->size() != 21) return 0;
    switch ((*p)[0]) {
        case 0x00:
        case 0x05: return kMain;
        case 0x6f:
        case 0xc4: return kTest | kRegtest;  // Core's regtest shares testnet's base58 prefixes
        case 0x3c:
        case 0x26: return kRegtest;          // bcoin's regtest
        default: return 0;
    }
}

const char* family_name(unsigned f) {
    if (f & kMain) return "mainnet";
    if (f & kTest) return "testnet/signet";
    if (f & kRegtest) return "regtest";
    return "unknown";
}

}  // namespace

const char* to_string(Dialect d) {
    switch (d) {
        case Dialect::core: return "Bitcoin Core";
        case Dialect::bcoin: return "bcoin";
        default: return "unknown";
    }
}

std::function<std::string(bool reload)> cookie_credentials(std::string path, std::string chain_id) {
    struct State {
        std::string path, chain;
        std::string cached;
        bool loaded = false;
        std::string last_problem;
        std::mutex mu;
    };
    auto st = std::make_shared<State>();
    st->path = std::move(path);
    st->chain = std::move(chain_id);
    return [st](bool reload) -> std::string {
        std::lock_guard lk(st->mu);
        if (st->loaded && !reload) return st->cached;
        auto log = log::get("chain.bitcoin");
        std::ifstream in(st->path, std::ios::binary);
        std::string line;
        std::string problem;
        if (!in) {
            problem = std::string("cannot read it: ") + std::strerror(errno);
        } else {
            std::getline(in, line);
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
            if (line.find(':') == std::string::npos) problem = "it does not hold user:password";
        }
        if (!problem.empty()) {
            // Once per distinct problem: while bitcoind starts, every request would repeat it.
            if (problem != st->last_problem)
                log->warn("{}: rpc_cookie_file {}: {}; requests go without credentials until it can be read", st->chain,
                          st->path, problem);
            st->last_problem = problem;
            st->loaded = false;
            st->cached.clear();
            return {};
        }
        if (reload) log->info("{}: the node answered 401; rpc_cookie_file {} read again", st->chain, st->path);
        st->last_problem.clear();
        st->cached = std::move(line);
        st->loaded = true;
        return st->cached;
    };
}

net::JsonRpcOptions BitcoinAdapter::client_options(const config::ChainConfig& cfg) {
    net::JsonRpcOptions o = rpc_options(cfg);
    // getblock at verbosity 2 of a full 4 MB-weight block is tens of MB of JSON.
    o.max_response_bytes = std::max<std::size_t>(o.max_response_bytes, std::size_t{128} << 20);
    if (!cfg.rpc_cookie_file.empty()) o.basic_auth = cookie_credentials(cfg.rpc_cookie_file, cfg.id);
    return o;
}

Result<std::unique_ptr<BitcoinAdapter>> BitcoinAdapter::create(const config::ChainConfig& cfg,
                                                               std::unique_ptr<net::JsonRpcClient> rpc) {
    if (!cfg.tokens.empty())
        return make_error(Errc::invalid_input, "chain " + cfg.id + ": bitcoin chains have no tokens");
    if (!cfg.native.symbol.empty() && cfg.native.decimals != 8)
        return make_error(Errc::invalid_input, "chain " + cfg.id + ": bitcoin amounts have 8 decimals (satoshis)");
    return std::unique_ptr<BitcoinAdapter>(new BitcoinAdapter(cfg, std::move(rpc)));
}

BitcoinAdapter::BitcoinAdapter(const config::ChainConfig& cfg, std::unique_ptr<net::JsonRpcClient> rpc)
    : RpcAdapterOf(cfg, std::move(rpc), "chain.bitcoin"),
      symbol_(cfg.native.symbol.empty() ? std::string("BTC") : cfg.native.symbol),
      range_(std::max<std::uint64_t>(1, cfg.max_block_range)) {
    min_amount_ = cfg.native.min_amount;
}

asio::awaitable<Result<Head>> BitcoinAdapter::head() {
    auto r = co_await rpc_->call(kBlockCount, no_params());
    if (!r) co_return with_context(r.error(), kBlockCount);
    auto h = height_of(*r, kBlockCount);
    if (!h) co_return h.error();
    Head head;
    head.height = *h;
    co_return head;
}

asio::awaitable<Result<std::optional<std::string>>> BitcoinAdapter::block_hash(std::uint64_t height) {
    auto r = co_await rpc_->call(kBlockHash, height_params(height));
    if (!r) {
        if (r.error().code == Errc::rpc_error && r.error().status == kOutOfRange) co_return std::optional<std::string>{};
        co_return with_context(r.error(), "getblockhash " + std::to_string(height));
    }
    auto hash = decode_block_hash(*r);
    if (!hash) co_return with_context(hash.error(), "getblockhash " + std::to_string(height));
    co_return std::optional<std::string>(std::move(*hash));
}

asio::awaitable<Result<std::string>> BitcoinAdapter::fetch_block(const std::string& hash, Dialect d) {
    auto r = co_await rpc_->call_raw(kGetBlock, block_params(hash, d));
    if (!r) co_return with_context(r.error(), "getblock " + hash);
    co_return std::move(*r);
}

Status BitcoinAdapter::check_block(const DecodedBlock& b, std::uint64_t height, const std::string& hash,
                                   const std::vector<BlockTransfers>& so_far) const {
    const std::string what = "getblock " + hash + " (height " + std::to_string(height) + ")";
    if (b.ref.hash != hash) return make_error(Errc::malformed, what + " returned block " + b.ref.hash);
    if (b.ref.height != height) return make_error(Errc::malformed, what + " returned height " + std::to_string(b.ref.height));
    if (b.confirmations == -1) return make_error(Errc::conflict, "reorg during fetch: " + what + " is no longer on the main chain");
    if (!so_far.empty() && b.ref.parent != so_far.back().block.hash)
        return make_error(Errc::conflict, "reorg during fetch: " + what + " has parent " + b.ref.parent + ", not " +
                                              so_far.back().block.hash);
    return {};
}

asio::awaitable<Result<ScanResult>> BitcoinAdapter::scan(std::uint64_t from, std::uint64_t to, const WatchSet& watched) {
    if (to < from) co_return ScanResult{{}, from - 1};
    if (dialect_ == Dialect::unknown)
        co_return make_error(Errc::unavailable, "chain " + chain_ + ": node dialect not known yet (verify() first)");
    const std::uint64_t end = from + std::min<std::uint64_t>(to - from, range_ - 1);

    ++scan_requests_;
    auto first = co_await block_hash(from);
    if (!first) co_return first.error();
    if (!*first) co_return ScanResult{{}, from - 1};  // beyond the tip

    const MatchContext ctx{&watched, symbol_, decimals_, network_, min_amount_};
    std::vector<BlockTransfers> blocks;
    std::string hash = std::move(**first);
    Error stopped;
    bool failed = false;
    for (std::uint64_t h = from; h <= end; ++h) {
        ++scan_requests_;
        auto body = co_await fetch_block(hash, dialect_);
        if (!body) {
            stopped = body.error();
            failed = true;
            break;
        }
        auto b = decode_block(*body, ctx);
        if (!b) {
            stopped = with_context(b.error(), "getblock " + hash + " (height " + std::to_string(h) + ")");
            failed = true;
            break;
        }
        if (auto st = check_block(*b, h, hash, blocks); !st) {
            stopped = st.error();
            failed = true;
            break;
        }
        if (b->ignored_zero) count_ignored(chain_, Ignored::zero_value, b->ignored_zero);
        if (b->ignored_dust) count_ignored(chain_, Ignored::below_min_amount, b->ignored_dust);
        std::string next = std::move(b->next);
        blocks.push_back(BlockTransfers{std::move(b->ref), std::move(b->transfers)});
        if (next.empty()) break;  // the tip
        hash = std::move(next);
    }
    if (failed) {
        if (blocks.empty()) co_return stopped;
        // Keep what is complete; the next scan starts at the failed block.
        log_->debug("{}: scan {}-{} stops after {} blocks: {}", chain_, from, end, blocks.size(), stopped.describe());
    }
    scanned_blocks_ += blocks.size();
    const std::uint64_t last = blocks.back().block.height;
    co_return ScanResult{std::move(blocks), last};
}

asio::awaitable<Result<BlockAt>> BitcoinAdapter::block_at(std::uint64_t height) {
    auto hash = co_await block_hash(height);
    if (!hash) co_return hash.error();
    if (!*hash) co_return BlockAt{};  // beyond the node's tip
    auto r = co_await rpc_->call(kBlockHeader, header_params(**hash));
    if (!r) co_return with_context(r.error(), "getblockheader " + **hash);
    auto ref = decode_block_header(*r);
    if (!ref) co_return with_context(ref.error(), "getblockheader " + **hash);
    if (ref->height != height || ref->hash != **hash)
        co_return make_error(Errc::malformed, "getblockheader " + **hash + " returned block " + ref->hash + " at height " +
                                                  std::to_string(ref->height));
    co_return BlockAt{Presence::block, std::move(*ref)};
}

asio::awaitable<Status> BitcoinAdapter::verify() {
    const std::string who = "chain " + chain_;
    auto info = co_await rpc_->call(kChainInfo, no_params());
    if (!info) co_return start_up_error(info.error(), who + ": getblockchaininfo");
    if (!info->is_object()) co_return make_error(Errc::malformed, who + ": getblockchaininfo: result is not an object");
    const auto& o = info->get_object();
    auto chain = json::get_string(o, "chain");
    if (!chain) co_return make_error(Errc::invalid_input, who + ": getblockchaininfo has no chain: not a Bitcoin node?");
    const std::string chain_name(*chain);
    if (!network_of_chain(chain_name, false))
        co_return make_error(Errc::invalid_input, who + ": the node reports chain \"" + node_text(chain_name, 40) +
                                                      "\"; depositd knows main, test, testnet4, signet and regtest");
    auto best = json::get_string(o, "bestblockhash");
    if (!best) co_return make_error(Errc::malformed, who + ": getblockchaininfo has no bestblockhash");
    const std::string best_hash(*best);
    if (const auto* ibd = o.if_contains("initialblockdownload"); ibd && ibd->is_bool() && ibd->get_bool())
        log_->warn("{}: the node is still in its initial block download; deposits appear as it catches up", chain_);

    // The dialect: Bitcoin Core takes verbosity 2, bcoin wants [hash, true, true].
    const MatchContext probe{nullptr, symbol_, decimals_, std::nullopt};
    Dialect found = Dialect::unknown;
    std::string refusals;
    for (Dialect d : {Dialect::core, Dialect::bcoin}) {
        auto body = co_await fetch_block(best_hash, d);
        Result<DecodedBlock> b = body ? decode_block(*body, probe) : Result<DecodedBlock>(body.error());
        if (b) {
            found = d;
            break;
        }
        const Error& e = b.error();
        if (e.code == Errc::http_status && e.status == 401) co_return start_up_error(e, who + ": getblock");
        if (e.code != Errc::rpc_error && e.code != Errc::malformed) co_return with_context(e, who + ": getblock");
        refusals += std::string(refusals.empty() ? "" : "; ") + to_string(d) + ": " + node_text(e.message);
    }
    if (found == Dialect::unknown)
        co_return make_error(Errc::invalid_input, who + ": the node returns no block with its transactions for getblock "
                                                        "<hash> 2 (Bitcoin Core) nor getblock [hash, true, true] (bcoin): " +
                                                        refusals);
    dialect_ = found;
    chain_name_ = chain_name;
    network_ = network_of_chain(chain_name, found == Dialect::bcoin);
    log_->info("{}: {} node on chain \"{}\", best block {}", chain_, to_string(found), chain_name, best_hash);
    co_return Status{};
}

Status check_pool_network(std::string_view node_chain, std::span<const std::string> pool_samples, std::string& warning) {
    warning.clear();
    const unsigned node = family_of_chain(node_chain);
    if (node == 0 || pool_samples.empty()) return {};
    std::size_t fit = 0;
    const std::string* misfit = nullptr;
    unsigned misfit_family = 0;
    bool main_mismatch = false;
    for (const auto& a : pool_samples) {
        const unsigned f = families_of_address(a);
        if (f & node) {
            ++fit;
            continue;
        }
        if (!misfit) {
            misfit = &a;
            misfit_family = f;
        }
        if (f != 0 && ((node == kMain) != ((f & kMain) != 0))) main_mismatch = true;
    }
    if (!misfit) return {};
    const std::string example = misfit->substr(0, 90);
    const std::string on_chain = "the node is on chain \"" + std::string(node_chain) + "\"";
    if (fit == 0 && main_mismatch)
        return make_error(Errc::invalid_input,
                          on_chain + " but the bitcoin pool holds no address of that network (e.g. " + example + ", " +
                              family_name(misfit_family) + "): no deposit would ever match. Point rpc at a " +
                              family_name(misfit_family) + " node, or fill the pool with " + family_name(node) +
                              " addresses (depositctl pool import / pool derive --network)");
    warning = on_chain + " but the bitcoin pool holds addresses of another network (e.g. " + example + ", " +
              family_name(misfit_family) + "); payments to them are matched by script all the same";
    return {};
}

Status check_pool_network(const ChainAdapter& adapter, std::span<const std::string> pool_samples, std::string& warning) {
    warning.clear();
    const auto* b = dynamic_cast<const BitcoinAdapter*>(&adapter);
    if (b == nullptr || !b->node_chain()) return {};
    return check_pool_network(*b->node_chain(), pool_samples, warning);
}

namespace {
// Core and bcoin: RPC_INVALID_ADDRESS_OR_KEY, "No such mempool or blockchain transaction".
constexpr int kNoSuchTx = -5;
const std::string kRawTx = "getrawtransaction";
json::array raw_tx_params(const std::string& txid, const std::optional<std::string>& block, Dialect d) {
    // Core looks in that block without -txindex; bcoin takes no block argument.
    if (block && d == Dialect::core) return json::array{txid, true, *block};
    return json::array{txid, true};
}
// Core: -5 "No such mempool or blockchain transaction"; bcoin: "Transaction not found." (code -1).
bool is_missing_tx(const Error& e) {
    if (e.code != Errc::rpc_error) return false;
    return e.status == kNoSuchTx || e.message.find("Transaction not found") != std::string::npos ||
           e.message.find("No such mempool or blockchain transaction") != std::string::npos;
}
Error malformed_txid(const std::string& what, const std::string& text) {
    return make_error(Errc::invalid_input, what + " must be 64 hex digits, not \"" + text.substr(0, 80) + "\"");
}
Error no_such_tx(const std::string& txid, bool had_block) {
    if (had_block)
        return make_error(Errc::not_found, "transaction " + txid + " is not in the given block, nor known to the node");
    return make_error(Errc::not_found, "transaction " + txid + " is not known to the node (a node without -txindex "
                                       "finds only mempool transactions: pass the block hash as blockHash)");
}
}  // namespace

// getrawtransaction <txid> true [blockhash] for where it is, then the
// block with `getblock`, decoded by decode_block (the scan's decoder) and
// cut to this transaction's outputs.
asio::awaitable<Result<TxTransfers>> BitcoinAdapter::transaction(std::string tx_hash, std::optional<std::string> block,
                                                                 const WatchSet& watched) {
    auto txid = parse_txid(tx_hash);
    if (!txid) co_return malformed_txid("txHash", tx_hash);
    if (block) {
        auto b = parse_txid(*block);
        if (!b) co_return malformed_txid("blockHash", *block);
        block = *b;
    }
    if (dialect_ == Dialect::unknown)
        co_return make_error(Errc::unavailable, "chain " + chain_ + ": node dialect not known yet (starting)");
    TxTransfers out;
    std::string in_block;
    auto raw = co_await rpc_->call(kRawTx, raw_tx_params(*txid, block, dialect_));
    if (!raw) {
        const bool missing = is_missing_tx(raw.error());
        if (!missing) co_return with_context(raw.error(), "getrawtransaction " + *txid);
        // bcoin without its tx index: the block named by the caller is searched.
        if (!block || dialect_ == Dialect::core) co_return no_such_tx(*txid, block.has_value());
        in_block = *block;
    } else {
        auto where = decode_raw_tx_location(*raw, *txid);
        if (!where) co_return with_context(where.error(), "getrawtransaction " + *txid);
        if (where->block_hash.empty()) {
            out.state = TxState::pending;
            co_return out;
        }
        in_block = std::move(where->block_hash);
    }
    auto body = co_await fetch_block(in_block, dialect_);
    if (!body) {
        if (body.error().code == Errc::rpc_error && block && in_block == *block)
            co_return no_such_tx(*txid, true);  // the given block is unknown
        co_return body.error();
    }
    const MatchContext ctx{&watched, symbol_, decimals_, network_, min_amount_};
    auto b = decode_block(*body, ctx);
    if (!b) co_return with_context(b.error(), "getblock " + in_block);
    if (b->ref.hash != in_block) co_return make_error(Errc::malformed, "getblock " + in_block + " returned block " + b->ref.hash);
    out.state = TxState::mined;
    out.block = std::move(b->ref);
    for (auto& t : b->transfers)
        if (t.tx == *txid) out.transfers.push_back(std::move(t));
    co_return out;
}


}  // namespace depositd::chain::bitcoin
