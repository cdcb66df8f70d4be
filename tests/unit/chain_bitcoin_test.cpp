// Bitcoin decoding on real answers (tests/fixtures/bitcoin: Bitcoin Core
// samples and blocks recorded from bcoin), garbage and truncated answers, and
// the adapter against scripted Core- and bcoin-dialect nodes on 127.0.0.1.
#include <gtest/gtest.h>

#include "net_test_server.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <unistd.h>

#include "chain/bitcoin/bitcoin_adapter.hpp"
#include "chain/bitcoin/decode.hpp"
#include "chain/registry.hpp"
#include "codec/address.hpp"
#include "codec/hex.hpp"
#include "net/http_client.hpp"
#include "net/jsonrpc.hpp"

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::bitcoin;
using nettest::Reply;
using nettest::Seen;
using nettest::Server;

namespace {

std::string read_fixture(const std::string& name) {
    std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/bitcoin/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_FALSE(ss.str().empty()) << name;
    return ss.str();
}

json::value fixture_result(const std::string& name) {
    auto v = json::parse_bounded(read_fixture(name));
    EXPECT_TRUE(v.ok()) << name;
    if (!v.ok() || !v->is_object()) return {};
    return v->as_object().at("result");
}

// Watch key (scriptPubKey) of an address of any network.
std::string key_of(std::string_view address) {
    auto s = codec::btc_script_from_address(address);
    EXPECT_TRUE(s.ok()) << address;
    return s.ok() ? std::string(s->begin(), s->end()) : std::string();
}
std::string key_hex(std::string_view hex) {
    auto b = codec::from_hex(hex);
    EXPECT_TRUE(b.ok()) << hex;
    return b.ok() ? std::string(b->begin(), b->end()) : std::string();
}

MatchContext ctx_for(const WatchSet& w, std::optional<codec::BtcNetwork> net = std::nullopt) {
    MatchContext c;
    c.watched = &w;
    c.network = net;
    return c;
}

// The block 800,000 transaction of the fixture (alphabetical keys: txid after
// vout), verbatim, inside a Core-shaped getblock 2 answer.
const char* kTx800k = "b2088e443cf4b28ade8873cc6b3f6a67557f104ec4dc5b5e293c12973ab8b6b8";
const char* kHash800k = "00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054";
const char* kPrev800k = "000000000000000000012117ad9f72c1c0e42227c2d042dca23e6b96bd9fbb55";
const char* kNext800k = "00000000000000000000e26b239cf19ec7ace5edd9694d51a3f6933247720947";

std::string coinbase_tx(const std::string& txid, const std::string& script_hex, const std::string& value) {
    return R"({"txid":")" + txid + R"(","hash":")" + txid +
           R"(","version":2,"size":100,"vsize":100,"weight":400,"locktime":0,"vin":[{"coinbase":"03a0350c04","txinwitness":["0000000000000000000000000000000000000000000000000000000000000000"],"sequence":4294967295}],"vout":[{"value":)" +
           value + R"(,"n":0,"scriptPubKey":{"asm":"","desc":"raw","hex":")" + script_hex +
           R"(","type":"witness_v0_keyhash"}}],"hex":"02000000"})";
}

std::string core_block_800k(const std::string& extra_block_fields = "", int ntx = 2) {
    const std::string cb = coinbase_tx(std::string(64, 'c'), "0014" + std::string(40, '1'), "6.38636892");
    return std::string(R"({"result":{"hash":")") + kHash800k +
           R"(","confirmations":25877,"height":800000,"version":536870912,"versionHex":"20000000","merkleroot":"0000","time":1690168629,"mediantime":1690165851,"nonce":1,"bits":"17053894","difficulty":53911173001054.59,"chainwork":"00","nTx":)" +
           std::to_string(ntx) + R"(,"previousblockhash":")" + kPrev800k + R"(","nextblockhash":")" + kNext800k + "\"" +
           extra_block_fields + R"(,"strippedsize":1,"size":1,"weight":1,"tx":[)" + cb + "," +
           read_fixture("getblock_v2_block800000_tx_excerpt.json") + R"(]},"error":null,"id":1})";
}

}  // namespace

// ---------------------------------------------------------------- amounts

TEST(BitcoinAmount, ExactFromTheNumberText) {
    struct Case {
        const char* text;
        std::uint64_t sats;
    } ok[] = {
        {"0.00499441", 499441},     {"6.2500454", 625004540},     {"50", 5000000000},   {"0", 0},
        {"0.0", 0},                 {"1e-8", 1},                  {"5.46e-06", 546},    {"5.59E-06", 559},
        {"21.5", 2150000000},       {"0.125", 12500000},          {"28.37493654", 2837493654},
        {"21000000", 2100000000000000}, {"20999999.99999999", 2099999999999999},
        {"1e+2", 10000000000},      {"0.30000000000000004", 30000000},  // more than 8 decimals: rounded
        {"0.000000005", 1},         {"0.000000004", 0},           {"0.0000000004", 0},  {"1.000000015", 100000002},
        {"100e-10", 1},             {"0.00000001", 1},
    };
    for (const auto& c : ok) {
        auto r = parse_btc_amount(c.text);
        ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().message;
        EXPECT_EQ(*r, c.sats) << c.text;
    }
    for (const char* bad : {"", "-1", "-0.1", "abc", "1.2.3", "21000000.00000001", "1e20", "1e", "1e+", ".", "0x10",
                            "1 ", "NaN", "Infinity", "99999999999999999999", "1e999"}) {
        auto r = parse_btc_amount(bad);
        EXPECT_FALSE(r.ok()) << "'" << bad << "' -> " << (r.ok() ? std::to_string(*r) : "");
        if (!r.ok()) {
            EXPECT_EQ(r.error().code, Errc::malformed);
        }
    }
}

// ---------------------------------------------------------------- fixtures (Core)

TEST(BitcoinDecode, CoreBlock800000TransactionMatchedByScript) {
    WatchSet w;
    w.insert(key_of("bc1qj4y63fupgnd5j2ldh0jhhxf585p5h7hm0gzjfc"), 7);
    auto b = decode_block(core_block_800k(), ctx_for(w, codec::BtcNetwork::mainnet));
    ASSERT_TRUE(b.ok()) << b.error().describe();
    EXPECT_EQ(b->ref.height, 800000u);
    EXPECT_EQ(b->ref.hash, kHash800k);
    EXPECT_EQ(b->ref.parent, kPrev800k);
    EXPECT_EQ(b->next, kNext800k);
    EXPECT_EQ(b->ref.time_ms, 1690168629000);
    EXPECT_EQ(b->confirmations, 25877);
    EXPECT_EQ(b->txs, 2u);
    EXPECT_EQ(b->outputs, 2u);
    ASSERT_EQ(b->transfers.size(), 1u);
    const Transfer& t = b->transfers[0];
    EXPECT_EQ(t.tx, kTx800k);  // txid, not the wtxid ("hash")
    EXPECT_EQ(t.index, 0u);
    EXPECT_EQ(t.amount, U256(499441));
    EXPECT_EQ(t.decimals, 8u);
    EXPECT_EQ(t.currency, "BTC");
    EXPECT_EQ(t.to, "bc1qj4y63fupgnd5j2ldh0jhhxf585p5h7hm0gzjfc");
    EXPECT_EQ(t.to_key, key_hex("00149549a8a78144db492bedbbe57b99343d034bfafb"));
    EXPECT_TRUE(t.from.empty());
    EXPECT_FALSE(t.contract.has_value());
    EXPECT_EQ(t.min_confirmations, 0u);
    // Not watched: nothing, the block is still complete.
    WatchSet none;
    auto n = decode_block(core_block_800k(), ctx_for(none));
    ASSERT_TRUE(n.ok()) << n.error().describe();
    EXPECT_TRUE(n->transfers.empty());
    EXPECT_EQ(n->txs, 2u);
    // The bare block object (no envelope) decodes the same.
    std::string body = core_block_800k();
    const std::string bare = body.substr(10, body.rfind(R"(,"error":null)") - 10);
    auto bb = decode_block(bare, ctx_for(w));
    ASSERT_TRUE(bb.ok()) << bb.error().describe();
    EXPECT_EQ(bb->transfers.size(), 1u);
    EXPECT_TRUE(bb->transfers[0].to.empty());  // no network given
}

TEST(BitcoinDecode, OutputsBelowMinAmountAreNotDeposits) {
    // The shared rule (chain/ignored.hpp): the 499441 sat output of block
    // 800000 is dust under a 499442 sat floor, a deposit at 499441.
    WatchSet w;
    w.insert(key_of("bc1qj4y63fupgnd5j2ldh0jhhxf585p5h7hm0gzjfc"), 7);
    MatchContext ctx = ctx_for(w);
    ctx.min_amount = U256(499442);
    auto dust = decode_block(core_block_800k(), ctx);
    ASSERT_TRUE(dust.ok()) << dust.error().describe();
    EXPECT_TRUE(dust->transfers.empty());
    EXPECT_EQ(dust->ignored_dust, 1u);
    ctx.min_amount = U256(499441);
    auto at = decode_block(core_block_800k(), ctx);
    ASSERT_TRUE(at.ok()) << at.error().describe();
    EXPECT_EQ(at->transfers.size(), 1u);
    EXPECT_EQ(at->ignored_dust, 0u);
}

TEST(BitcoinDecode, CoinbaseOutputNeedsMaturity) {
    WatchSet w;
    w.insert(key_hex("0014" + std::string(40, '1')), 1);
    auto b = decode_block(core_block_800k(), ctx_for(w));
    ASSERT_TRUE(b.ok()) << b.error().describe();
    ASSERT_EQ(b->transfers.size(), 1u);
    EXPECT_EQ(b->transfers[0].tx, std::string(64, 'c'));
    EXPECT_EQ(b->transfers[0].amount, U256(638636892));
    EXPECT_EQ(b->transfers[0].min_confirmations, kCoinbaseMaturity);
    EXPECT_EQ(kCoinbaseMaturity, 100u);
}

TEST(BitcoinDecode, CoreHeaderAndHashFixtures) {
    auto h = decode_block_header(fixture_result("getblockheader_mainnet_677119.json"));
    ASSERT_TRUE(h.ok()) << h.error().describe();
    EXPECT_EQ(h->height, 677119u);
    EXPECT_EQ(h->hash, "000000000000000000046b9302e08c16ea186950f42a5498320ddd1bd7ab3428");
    EXPECT_EQ(h->parent, "0000000000000000000aec32aa6edda6c888e8d6a0183d9c976064f98430c2da");
    EXPECT_EQ(h->time_ms, 1617180599000);
    auto hash = decode_block_hash(fixture_result("getblockhash_1000.json"));
    ASSERT_TRUE(hash.ok());
    EXPECT_EQ(*hash, "00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09");
    EXPECT_FALSE(decode_block_hash(json::value("00ff")).ok());
    EXPECT_FALSE(decode_block_hash(json::value(5)).ok());
    EXPECT_FALSE(decode_block_header(json::value(json::array{})).ok());
    EXPECT_FALSE(decode_block_header(json::parse(R"({"hash":")" + std::string(64, 'a') + R"(","height":5})")).ok());
    auto genesis = decode_block_header(json::parse(R"({"hash":")" + std::string(64, 'a') + R"(","height":0})"));
    EXPECT_TRUE(genesis.ok());
}

// ---------------------------------------------------------------- fixtures (bcoin)

TEST(BitcoinDecode, BcoinBlockThreeScriptTypesInOneTransaction) {
    // Recorded from bcoin regtest: one tx pays P2SH(-P2WPKH) 546 sat ("5.46e-06"),
    // P2WPKH 0.125 and P2PKH 21.5 BTC, plus change; the coinbase pays P2WPKH.
    const std::string body = read_fixture("bcoin_getblock_regtest_453_details.json");
    WatchSet w;
    w.insert(key_of("GdQcJH6JEz99E2aJikUXypbx2j92UMbDdf"), 1);          // P2SH (bcoin prefix 0x26)
    w.insert(key_of("rb1qpy4n9wwz3f4gs7zul9am7f59e83fcccfw8crhp"), 2);  // P2WPKH (HRP rb)
    w.insert(key_of("RAJvCsDX1P45grgKEDHhgPz8rbQeP8azUF"), 3);          // P2PKH (0x3c)
    w.insert(key_of("rb1q9pp5sg3pfj0x6nfsfmucg339lzqmvqytw68pfd"), 4);  // the coinbase's
    auto b = decode_block(body, ctx_for(w, codec::BtcNetwork::bcoin_regtest));
    ASSERT_TRUE(b.ok()) << b.error().describe();
    EXPECT_EQ(b->ref.height, 453u);
    EXPECT_EQ(b->ref.hash, "7bb3e8207c241f5e6ad6a8e09119ef413e4cc40ceb7878e7968f9b9aa041686b");
    EXPECT_EQ(b->ref.parent, "6203486e35392f3889257e209db03b1d1a0705c07494622410f54edef8b8dfac");
    EXPECT_EQ(b->next, "");  // "nextblockhash": null at the tip
    ASSERT_EQ(b->transfers.size(), 4u);
    const auto& cb = b->transfers[0];
    EXPECT_EQ(cb.tx, "124bde66f13997bd926c7db0c762dfc0d06febdcfa5dec5d719a1d0c8b2eb0cb");
    EXPECT_EQ(cb.amount, U256(625005800));  // 6.250058
    EXPECT_EQ(cb.min_confirmations, 100u);
    const std::string pay = "d5df2f0aca952885f74e86cf8c98cea26ae6393f9464f365b9e08efdb5cde9a7";
    struct Want {
        std::uint64_t index;
        std::uint64_t sats;
        const char* to;
    } want[] = {{0, 546, "GdQcJH6JEz99E2aJikUXypbx2j92UMbDdf"},
                {1, 12500000, "rb1qpy4n9wwz3f4gs7zul9am7f59e83fcccfw8crhp"},
                {2, 2150000000, "RAJvCsDX1P45grgKEDHhgPz8rbQeP8azUF"}};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& t = b->transfers[i + 1];
        EXPECT_EQ(t.tx, pay);
        EXPECT_EQ(t.index, want[i].index);
        EXPECT_EQ(t.amount, U256(want[i].sats)) << i;
        EXPECT_EQ(t.to, want[i].to);
        EXPECT_EQ(t.min_confirmations, 0u);
    }
}

TEST(BitcoinDecode, BcoinErrorsWithHttp200AreRpcErrors) {
    WatchSet w;
    auto refused = decode_block(read_fixture("bcoin_getblock_verbosity2_refused.json"), ctx_for(w));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, Errc::rpc_error);
    EXPECT_EQ(refused.error().status, -3);
    EXPECT_EQ(refused.error().message, "Param #1 must be a boolean.");
    auto range = decode_block(read_fixture("bcoin_getblockhash_out_of_range.json"), ctx_for(w));
    ASSERT_FALSE(range.ok());
    EXPECT_EQ(range.error().status, -8);
    auto header = decode_block_header(fixture_result("bcoin_getblockheader_regtest_453.json"));
    ASSERT_TRUE(header.ok()) << header.error().describe();
    EXPECT_EQ(header->height, 453u);
}

// ---------------------------------------------------------------- script types

TEST(BitcoinDecode, EveryAddressTypeMatchesByScriptAnyNetwork) {
    // BIP173/BIP350 vectors and classic base58 addresses; mainnet and testnet
    // forms of one script are the same watch key.
    const char* addrs[] = {
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",                          // P2WPKH (upper case)
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",      // P2WSH
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",      // P2TR
        "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH",                                  // P2PKH
        "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf",                                  // P2SH-P2WPKH (BIP49 vector)
    };
    std::string outs;
    WatchSet w;
    for (std::size_t i = 0; i < std::size(addrs); ++i) {
        const std::string key = key_of(addrs[i]);
        w.insert(key, static_cast<std::int64_t>(i + 1));
        if (i) outs += ",";
        outs += R"({"value":0.0000100)" + std::to_string(i) + R"(,"n":)" + std::to_string(i) +
                R"(,"scriptPubKey":{"hex":")" + codec::to_hex(std::span<const std::uint8_t>(
                                                    reinterpret_cast<const std::uint8_t*>(key.data()), key.size())) +
                R"("}})";
    }
    const std::string body = R"({"result":{"hash":")" + std::string(64, 'b') + R"(","height":5,"previousblockhash":")" +
                             std::string(64, 'a') + R"(","time":1,"tx":[{"txid":")" + std::string(64, 'e') +
                             R"(","vin":[{"txid":")" + std::string(64, 'd') + R"(","vout":1}],"vout":[)" + outs +
                             R"(]}]},"error":null,"id":1})";
    auto b = decode_block(body, ctx_for(w, codec::BtcNetwork::testnet));
    ASSERT_TRUE(b.ok()) << b.error().describe();
    ASSERT_EQ(b->transfers.size(), std::size(addrs));
    for (std::size_t i = 0; i < std::size(addrs); ++i) {
        EXPECT_EQ(b->transfers[i].index, i);
        EXPECT_EQ(b->transfers[i].amount, U256(1000 + i));
        EXPECT_EQ(b->transfers[i].to_key, key_of(addrs[i]));
        EXPECT_FALSE(b->transfers[i].to.empty());  // re-encoded for the node's network
    }
    EXPECT_EQ(b->transfers[1].to, "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7");
}

// ---------------------------------------------------------------- garbage

TEST(BitcoinDecode, GarbageAndTruncatedAnswersAreErrorsNeverEmptyBlocks) {
    WatchSet w;
    w.insert(key_of("bc1qj4y63fupgnd5j2ldh0jhhxf585p5h7hm0gzjfc"), 7);
    const std::string good = core_block_800k();
    const std::string kScriptHex = R"("hex": "00149549a8a78144db492bedbbe57b99343d034bfafb")";
    ASSERT_TRUE(decode_block(good, ctx_for(w)).ok());
    // Every truncation of a good answer is an error (never a shorter block).
    for (std::size_t cut = 0; cut < good.size(); cut += 97) {
        auto r = decode_block(std::string_view(good).substr(0, cut), ctx_for(w));
        EXPECT_FALSE(r.ok()) << "truncated at " << cut;
    }
    auto replace = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        auto p = s.find(from);
        EXPECT_NE(p, std::string::npos) << from;
        if (p != std::string::npos) s.replace(p, from.size(), to);
        return s;
    };
    const std::string tx_ids_only = R"({"result":{"hash":")" + std::string(64, 'b') +
                                    R"(","height":5,"previousblockhash":")" + std::string(64, 'a') +
                                    R"(","tx":[")" + std::string(64, 'e') + R"("]},"error":null,"id":1})";
    struct Case {
        const char* name;
        std::string body;
    } cases[] = {
        {"empty", ""},
        {"html", "<html><body>502 Bad Gateway</body></html>"},
        {"array", "[]"},
        {"string", "\"x\""},
        {"trailing", good + " {}"},
        {"null result", R"({"result":null,"error":null,"id":1})"},
        {"no result", R"({"error":null,"id":1})"},
        {"result not a block", R"({"result":"00","error":null,"id":1})"},
        {"verbosity 1", tx_ids_only},
        {"empty tx list", R"({"result":{"hash":")" + std::string(64, 'b') + R"(","height":5,"previousblockhash":")" +
                              std::string(64, 'a') + R"(","tx":[]},"error":null,"id":1})"},
        {"nTx mismatch", core_block_800k("", 3)},
        {"no hash", replace(std::string(R"("hash":")") + kHash800k + "\",", "")},
        {"bad hash", replace(kHash800k, "xyz")},
        {"height string", replace(R"("height":800000)", R"("height":"800000")")},
        {"negative height", replace(R"("height":800000)", R"("height":-1)")},
        {"no previous", replace(std::string(R"("previousblockhash":")") + kPrev800k + "\",", "")},
        {"bad txid", replace(kTx800k, "b2088e")},
        {"no txid", replace(std::string(R"("txid": ")") + kTx800k + "\",", "")},
        {"value string", replace(R"("value": 0.00499441)", R"("value": "0.00499441")")},
        {"value negative", replace(R"("value": 0.00499441)", R"("value": -0.00499441)")},
        {"value too large", replace(R"("value": 0.00499441)", R"("value": 21000001)")},
        {"no value", replace(R"("value": 0.00499441)", R"("valu": 0.00499441)")},
        {"n out of order", replace(R"("n": 0,)", R"("n": 1,)")},
        {"n string", replace(R"("n": 0,)", R"("n": "0",)")},
        {"no script hex", replace(R"("hex": "00149549)", R"("hx": "00149549)")},
        // (the script also appears inside the raw tx "hex": replace the scriptPubKey's)
        {"odd script hex", replace(kScriptHex, R"("hex": "00149549a8a78144db492bedbbe57b99343d034bfaf")")},
        {"non-hex script", replace(kScriptHex, R"("hex": "00149549a8a78144db492bedbbe57b99343d034bfazz")")},
        {"vout object", replace(R"("vout": [)", R"("vout": {"x": [)")},
        {"no vout", replace(R"("vout": [)", R"("vouts": [)")},
        {"no vin", replace(R"("vin": [)", R"("vins": [)")},
    };
    for (const auto& c : cases) {
        auto r = decode_block(c.body, ctx_for(w));
        ASSERT_FALSE(r.ok()) << c.name << " decoded to a block with " << r->transfers.size() << " transfers";
        EXPECT_EQ(r.error().code, Errc::malformed) << c.name << ": " << r.error().describe();
    }
    // An error envelope from Core (jsonrpc 2.0 style, HTTP 200) or as a bare string.
    auto e = decode_block(R"({"jsonrpc":"2.0","error":{"code":-5,"message":"Block not found"},"id":1})", ctx_for(w));
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().code, Errc::rpc_error);
    EXPECT_EQ(e.error().status, -5);
    auto s = decode_block(R"({"result":null,"error":"Work queue depth exceeded","id":1})", ctx_for(w));
    auto ctl = decode_block(R"({"result":null,"error":{"code":-1,"message":"a\nb\u001b[31m"},"id":1})", ctx_for(w));
    ASSERT_FALSE(ctl.ok());
    EXPECT_EQ(ctl.error().message, "a b [31m");  // a node's text never carries control characters into logs
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::rpc_error);
    EXPECT_EQ(s.error().message, "Work queue depth exceeded");
    // Verbosity 3 (prevout inside vin) and unknown fields are read past.
    auto v3 = decode_block(replace(R"("sequence": 0,)", R"("sequence": 0,"prevout":{"generated":false,"height":799990,"value":0.005,"scriptPubKey":{"hex":"0014aa","address":"bc1q"}},)"),
                           ctx_for(w));
    ASSERT_TRUE(v3.ok()) << v3.error().describe();
    EXPECT_EQ(v3->transfers.size(), 1u);
    // A long (non-standard) script is never watched, and not an error.
    auto long_script = decode_block(replace(kScriptHex, R"("hex": ")" + std::string(400, 'a') + "\""), ctx_for(w));
    ASSERT_TRUE(long_script.ok()) << long_script.error().describe();
    EXPECT_TRUE(long_script->transfers.empty());
    // Zero-value output to a watched script: nothing was paid.
    auto zero = decode_block(replace(R"("value": 0.00499441)", R"("value": 0.0)"), ctx_for(w));
    ASSERT_TRUE(zero.ok());
    EXPECT_TRUE(zero->transfers.empty());
}

TEST(BitcoinDecode, NetworkOfChain) {
    EXPECT_EQ(network_of_chain("main", false), codec::BtcNetwork::mainnet);
    EXPECT_EQ(network_of_chain("test", false), codec::BtcNetwork::testnet);
    EXPECT_EQ(network_of_chain("testnet4", false), codec::BtcNetwork::testnet);
    EXPECT_EQ(network_of_chain("signet", false), codec::BtcNetwork::signet);
    EXPECT_EQ(network_of_chain("regtest", false), codec::BtcNetwork::regtest);
    EXPECT_EQ(network_of_chain("regtest", true), codec::BtcNetwork::bcoin_regtest);
    EXPECT_FALSE(network_of_chain("bch", false).has_value());
}

// ---------------------------------------------------------------- pool vs node network

TEST(BitcoinNetwork, PoolOfAnotherNetworkIsAStartUpError) {
    std::string warning;
    const std::vector<std::string> mainnet = {"bc1qj4y63fupgnd5j2ldh0jhhxf585p5h7hm0gzjfc", "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"};
    const std::vector<std::string> testnet = {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"};
    const std::vector<std::string> bcoin = {"rb1qpy4n9wwz3f4gs7zul9am7f59e83fcccfw8crhp", "RAJvCsDX1P45grgKEDHhgPz8rbQeP8azUF",
                                            "GdQcJH6JEz99E2aJikUXypbx2j92UMbDdf"};
    EXPECT_TRUE(check_pool_network("main", mainnet, warning).ok());
    EXPECT_TRUE(warning.empty());
    auto bad = check_pool_network("main", testnet, warning);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::invalid_input);
    EXPECT_NE(bad.error().message.find("tb1qrp33"), std::string::npos);
    EXPECT_FALSE(check_pool_network("test", mainnet, warning).ok());
    EXPECT_FALSE(check_pool_network("regtest", mainnet, warning).ok());
    EXPECT_FALSE(check_pool_network("main", bcoin, warning).ok());
    EXPECT_TRUE(check_pool_network("regtest", bcoin, warning).ok());
    EXPECT_TRUE(warning.empty());
    EXPECT_TRUE(check_pool_network("signet", testnet, warning).ok());
    EXPECT_TRUE(check_pool_network("main", {}, warning).ok());  // empty pool
    // Test networks among themselves: a warning, not an error.
    EXPECT_TRUE(check_pool_network("regtest", testnet, warning).ok());
    EXPECT_FALSE(warning.empty());
    // A mixed pool works on both, with a warning.
    std::vector<std::string> mixed = mainnet;
    mixed.insert(mixed.end(), testnet.begin(), testnet.end());
    EXPECT_TRUE(check_pool_network("main", mixed, warning).ok());
    EXPECT_NE(warning.find("tb1q"), std::string::npos);
    EXPECT_TRUE(check_pool_network("test", mixed, warning).ok());
    EXPECT_NE(warning.find("bc1q"), std::string::npos);
    // Testnet base58 (m/n/2) is Core's regtest format too.
    const std::vector<std::string> tbase58 = {"mgMS8Etqrd5FuhtHqe826nKctgCQPB7gpd"};
    EXPECT_TRUE(check_pool_network("regtest", tbase58, warning).ok());
    EXPECT_TRUE(warning.empty());
}

// ---------------------------------------------------------------- the adapter

namespace {

std::string hash_of(std::uint64_t height, int fork) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%08x%056llx", fork, static_cast<unsigned long long>(height) + 0x1000);
    return buf;
}
std::string txid_of(std::uint64_t height, int k) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%056llx%08x", static_cast<unsigned long long>(height), k);
    return buf;
}
const char* kWatchedHex = "0014092b32b9c28a6a88785cf97bbf2685c9e29c6309";  // rb1qpy4n9... / bc1qpy4n9...

// A scripted node: a chain of `tip + 1` blocks; block h (h % 3 == 0) pays the
// watched script 0.0001 x h BTC in vout 1. fork changes the hashes from
// `fork_from` on. Core or bcoin dialect.
struct FakeNode {
    bool bcoin = false;
    std::string chain = "main";
    std::atomic<std::uint64_t> tip{30};
    std::atomic<std::uint64_t> fork_from{1u << 30};
    std::atomic<int> fork{0};
    std::atomic<int> getblocks{0};
    std::atomic<int> fault{0};  // 1: truncated getblock; 2: txids only; 3: HTML 502; 4: block 12 reorged mid-scan
    std::string auth;           // required Authorization value ("" = none)

    std::string hash(std::uint64_t h) const { return hash_of(h, h >= fork_from.load() ? fork.load() : 0); }

    std::string block_json(std::uint64_t h) const {
        std::string txs = R"({"txid":")" + txid_of(h, 0) +
                          R"(","vin":[{"coinbase":"00","sequence":4294967295}],"vout":[{"value":50.0,"n":0,"scriptPubKey":{"hex":"0014)" +
                          std::string(40, '9') + R"("}}]})";
        if (h % 3 == 0) {
            char value[32];
            std::snprintf(value, sizeof value, "%.8f", 0.0001 * static_cast<double>(h));
            txs += R"(,{"txid":")" + txid_of(h, 1) + R"(","vin":[{"txid":")" + std::string(64, 'd') +
                   R"(","vout":0}],"vout":[{"value":1.5,"n":0,"scriptPubKey":{"hex":"76a914)" + std::string(40, '8') +
                   R"(88ac"}},{"value":)" + value + R"(,"n":1,"scriptPubKey":{"hex":")" + kWatchedHex + R"("}}]})";
        }
        std::string next = h < tip.load() ? "\"" + hash(h + 1) + "\"" : (bcoin ? "null" : "");
        std::string o = R"({"hash":")" + hash(h) + R"(","confirmations":)" + std::to_string(tip.load() - h + 1) +
                        R"(,"height":)" + std::to_string(h) + R"(,"time":)" + std::to_string(1700000000 + h * 600);
        if (!bcoin) o += R"(,"nTx":)" + std::to_string(h % 3 == 0 ? 2 : 1);
        o += h > 0 ? R"(,"previousblockhash":")" + hash(h - 1) + "\"" : std::string(bcoin ? R"(,"previousblockhash":null)" : "");
        if (!next.empty()) o += R"(,"nextblockhash":)" + next;
        o += R"(,"tx":[)" + txs + "]}";
        return o;
    }

    Reply answer(const std::string& id, const std::string& result) const {
        return Reply{200, R"({"result":)" + result + R"(,"error":null,"id":)" + id + "}"};
    }
    Reply error(const std::string& id, int code, const std::string& message) const {
        // Core (jsonrpc 1.0 behaviour): HTTP 500 (404 for unknown methods); bcoin: HTTP 200.
        return Reply{bcoin ? 200 : 500, R"({"result":null,"error":{"code":)" + std::to_string(code) +
                                            R"(,"message":")" + message + R"("},"id":)" + id + "}"};
    }

    std::optional<std::uint64_t> height_of_hash(const std::string& h) const {
        for (std::uint64_t i = 0; i <= tip.load(); ++i)
            if (hash(i) == h) return i;
        return std::nullopt;
    }

    Reply handle(const Seen& s) {
        if (!auth.empty()) {
            auto it = s.headers.find("authorization");
            if (it == s.headers.end() || it->second != auth) return Reply{401, ""};
        }
        auto req = json::parse(s.body).as_object();
        const std::string id = json::serialize(req.at("id"));
        const std::string method(req.at("method").as_string());
        const auto& p = req.at("params").as_array();
        if (method == "getblockchaininfo")
            return answer(id, R"({"chain":")" + chain + R"(","blocks":)" + std::to_string(tip.load()) +
                                  R"(,"bestblockhash":")" + hash(tip.load()) + R"(","initialblockdownload":false})");
        if (method == "getblockcount") return answer(id, std::to_string(tip.load()));
        if (method == "getblockhash") {
            const auto h = static_cast<std::uint64_t>(p.at(0).as_int64());
            if (h > tip.load()) return error(id, -8, "Block height out of range");
            return answer(id, "\"" + hash(h) + "\"");
        }
        if (method == "getblockheader") {
            auto h = height_of_hash(std::string(p.at(0).as_string()));
            if (!h) return error(id, -5, "Block not found");
            std::string o = R"({"hash":")" + hash(*h) + R"(","height":)" + std::to_string(*h) + R"(,"time":1700000000)";
            if (*h > 0) o += R"(,"previousblockhash":")" + hash(*h - 1) + "\"";
            return answer(id, o + "}");
        }
        if (method == "getblock") {
            ++getblocks;
            const bool core_params = p.size() == 2 && p[1].is_int64() && p[1].as_int64() == 2;
            const bool bcoin_params = p.size() == 3 && p[1].is_bool() && p[2].is_bool() && p[2].as_bool();
            if (bcoin && !bcoin_params) return error(id, -3, "Param #1 must be a boolean.");
            if (!bcoin && !core_params) return error(id, -1, "JSON value of type bool is not of expected type number");
            auto h = height_of_hash(std::string(p.at(0).as_string()));
            if (!h) return error(id, -5, "Block not found");
            if (fault.load() == 1 && *h == 12) return Reply{200, answer(id, block_json(*h)).body.substr(0, 150)};
            if (fault.load() == 2 && *h == 12)
                return answer(id, R"({"hash":")" + hash(12) + R"(","height":12,"previousblockhash":")" + hash(11) +
                                      R"(","tx":[")" + txid_of(12, 0) + R"("]})");
            if (fault.load() == 3 && *h == 12) return Reply{502, "<html>502 Bad Gateway</html>"};
            std::string b = block_json(*h);
            if (fault.load() == 4 && *h == 11) {
                // Block 12 is replaced right after block 11 was served with its old nextblockhash.
                fork_from = 12;
                fork = 7;
            }
            return answer(id, b);
        }
        return Reply{bcoin ? 200 : 404, R"({"result":null,"error":{"code":-32601,"message":"Method not found"},"id":)" + id + "}"};
    }
};

config::ChainConfig btc_cfg(const std::string& url) {
    config::ChainConfig cfg;
    cfg.id = "btc";
    cfg.kind = Protocol::bitcoin;
    cfg.rpc = {url};
    cfg.native = {"BTC", "", 8};
    cfg.confirmations = 3;
    cfg.max_block_range = 10;
    return cfg;
}

std::unique_ptr<BitcoinAdapter> adapter_for(const config::ChainConfig& cfg, net::HttpClient& http,
                                            std::function<std::string(bool)> auth = nullptr) {
    net::JsonRpcOptions o;
    o.endpoints = cfg.rpc;
    o.timeout = std::chrono::seconds(5);
    o.backoff_base = std::chrono::milliseconds(5);
    o.backoff_max = std::chrono::milliseconds(50);
    o.max_attempts = 2;
    o.name = cfg.id;
    o.basic_auth = std::move(auth);
    auto a = BitcoinAdapter::create(cfg, std::make_unique<net::JsonRpcClient>(http, o));
    EXPECT_TRUE(a.ok());
    return a.ok() ? std::move(a).value() : nullptr;
}

WatchSet watched_set() {
    WatchSet w;
    w.insert(key_hex(kWatchedHex), 42);
    return w;
}

void scan_and_check_both_dialects(bool bcoin) {
    FakeNode node;
    node.bcoin = bcoin;
    node.chain = bcoin ? "regtest" : "main";
    Server srv([&](const Seen& s) { return node.handle(s); });
    boost::asio::io_context ioc;
    net::HttpClient http(ioc.get_executor());
    auto a = adapter_for(btc_cfg(srv.url()), http);
    ASSERT_TRUE(a);

    auto v = nettest::run(ioc, a->verify());
    ASSERT_TRUE(v.ok()) << v.error().describe();
    EXPECT_EQ(a->dialect(), bcoin ? Dialect::bcoin : Dialect::core);
    ASSERT_TRUE(a->node_chain().has_value());
    EXPECT_EQ(*a->node_chain(), node.chain);

    auto h = nettest::run(ioc, a->head());
    ASSERT_TRUE(h.ok()) << h.error().describe();
    EXPECT_EQ(h->height, 30u);
    EXPECT_FALSE(h->finalized.has_value());

    const WatchSet w = watched_set();
    node.getblocks = 0;
    auto r = nettest::run(ioc, a->scan(5, 100, w));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_EQ(r->blocks.size(), 10u);  // max_block_range
    EXPECT_EQ(r->scanned_to, 14u);
    EXPECT_EQ(node.getblocks.load(), 10);
    EXPECT_EQ(a->scan_requests(), 11u);  // one getblockhash + one getblock per block
    std::size_t found = 0;
    for (std::size_t i = 0; i < r->blocks.size(); ++i) {
        const auto& bt = r->blocks[i];
        EXPECT_EQ(bt.block.height, 5 + i);
        EXPECT_EQ(bt.block.hash, hash_of(5 + i, 0));
        EXPECT_EQ(bt.block.parent, hash_of(4 + i, 0));
        for (const auto& t : bt.transfers) {
            ++found;
            EXPECT_EQ(bt.block.height % 3, 0u);
            EXPECT_EQ(t.tx, txid_of(bt.block.height, 1));
            EXPECT_EQ(t.index, 1u);
            EXPECT_EQ(t.amount, U256(10000 * bt.block.height));
            EXPECT_EQ(t.to, bcoin ? "rb1qpy4n9wwz3f4gs7zul9am7f59e83fcccfw8crhp" : "bc1qpy4n9wwz3f4gs7zul9am7f59e83fcccfn8c8v8");
        }
    }
    EXPECT_EQ(found, 3u);  // 6, 9, 12

    // Up to the tip: the last block has no nextblockhash; the range stops there.
    auto tail = nettest::run(ioc, a->scan(25, 100, w));
    ASSERT_TRUE(tail.ok()) << tail.error().describe();
    EXPECT_EQ(tail->blocks.size(), 6u);
    EXPECT_EQ(tail->scanned_to, 30u);
    // Beyond the tip: nothing, not an error.
    auto beyond = nettest::run(ioc, a->scan(31, 40, w));
    ASSERT_TRUE(beyond.ok()) << beyond.error().describe();
    EXPECT_TRUE(beyond->blocks.empty());
    EXPECT_EQ(beyond->scanned_to, 30u);

    auto at = nettest::run(ioc, a->block_at(17));
    ASSERT_TRUE(at.ok()) << at.error().describe();
    ASSERT_EQ(at->presence, Presence::block);
    EXPECT_EQ(at->ref.hash, hash_of(17, 0));
    EXPECT_EQ(at->ref.parent, hash_of(16, 0));
    auto unknown = nettest::run(ioc, a->block_at(31));
    ASSERT_TRUE(unknown.ok()) << unknown.error().describe();
    EXPECT_EQ(unknown->presence, Presence::unknown);
}

}  // namespace

TEST(BitcoinAdapter, CoreDialect) { scan_and_check_both_dialects(false); }
TEST(BitcoinAdapter, BcoinDialectDetectedWithoutConfig) { scan_and_check_both_dialects(true); }

TEST(BitcoinAdapter, FaultsAreErrorsOrAPrefixNeverBlocksWithTransfersMissing) {
    FakeNode node;
    Server srv([&](const Seen& s) { return node.handle(s); });
    boost::asio::io_context ioc;
    net::HttpClient http(ioc.get_executor());
    auto a = adapter_for(btc_cfg(srv.url()), http);
    ASSERT_TRUE(a);
    const WatchSet w = watched_set();
    // Before verify() the dialect is unknown: no guessing.
    auto early = nettest::run(ioc, a->scan(10, 15, w));
    ASSERT_FALSE(early.ok());
    ASSERT_TRUE(nettest::run(ioc, a->verify()).ok());

    for (int fault : {1, 2, 3}) {
        node.fault = fault;
        // Block 12 is bad: from 12 an error; from 10 the complete prefix 10..11.
        auto at12 = nettest::run(ioc, a->scan(12, 15, w));
        ASSERT_FALSE(at12.ok()) << "fault " << fault;
        auto from10 = nettest::run(ioc, a->scan(10, 15, w));
        ASSERT_TRUE(from10.ok()) << from10.error().describe();
        ASSERT_EQ(from10->blocks.size(), 2u) << "fault " << fault;
        EXPECT_EQ(from10->scanned_to, 11u);
    }
    node.fault = 0;
    auto good = nettest::run(ioc, a->scan(10, 15, w));
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(good->blocks.size(), 6u);
    ASSERT_EQ(good->blocks[2].transfers.size(), 1u);  // block 12

    // A reorg between two getblock calls: block 11 names the old 12 as next;
    // getblock(old 12) now fails ("Block not found") -> the prefix up to 11.
    node.fault = 4;
    auto reorg = nettest::run(ioc, a->scan(10, 15, w));
    ASSERT_TRUE(reorg.ok()) << reorg.error().describe();
    EXPECT_EQ(reorg->scanned_to, 11u);
    // The next scan from 12 returns the new chain: its parent is still 11.
    node.fault = 0;
    auto after = nettest::run(ioc, a->scan(12, 15, w));
    ASSERT_TRUE(after.ok()) << after.error().describe();
    EXPECT_EQ(after->blocks[0].block.hash, hash_of(12, 7));
    EXPECT_EQ(after->blocks[0].block.parent, hash_of(11, 0));
}

TEST(BitcoinAdapter, UnknownChainOrNoFullBlocksIsAConfigurationError) {
    FakeNode node;
    node.chain = "bch";
    Server srv([&](const Seen& s) { return node.handle(s); });
    boost::asio::io_context ioc;
    net::HttpClient http(ioc.get_executor());
    auto a = adapter_for(btc_cfg(srv.url()), http);
    auto v = nettest::run(ioc, a->verify());
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code, Errc::invalid_input);

    // A node answering every getblock with txids only.
    node.chain = "main";
    Server plain([&](const Seen& s) -> Reply {
        auto req = json::parse(s.body).as_object();
        if (req.at("method").as_string() == "getblock") {
            const std::string id = json::serialize(req.at("id"));
            return Reply{200, R"({"result":{"hash":")" + hash_of(30, 0) + R"(","height":30,"previousblockhash":")" +
                                  hash_of(29, 0) + R"(","tx":[")" + txid_of(30, 0) + R"("]},"error":null,"id":)" + id + "}"};
        }
        return node.handle(s);
    });
    auto b = adapter_for(btc_cfg(plain.url()), http);
    auto vb = nettest::run(ioc, b->verify());
    ASSERT_FALSE(vb.ok());
    EXPECT_EQ(vb.error().code, Errc::invalid_input);
    EXPECT_NE(vb.error().message.find("bcoin"), std::string::npos);

    // The node down: transient, not a configuration error.
    auto c = adapter_for(btc_cfg("http://127.0.0.1:" + std::to_string(nettest::closed_port()) + "/"), http);
    auto vc = nettest::run(ioc, c->verify());
    ASSERT_FALSE(vc.ok());
    EXPECT_NE(vc.error().code, Errc::invalid_input);
}

TEST(BitcoinAdapter, CookieFileReadAgainAfter401AndWrongPasswordIsFatalAtStart) {
    FakeNode node;
    node.auth = "Basic X19jb29raWVfXzpwdzE=";  // __cookie__:pw1
    Server srv([&](const Seen& s) { return node.handle(s); });
    boost::asio::io_context ioc;
    net::HttpClient http(ioc.get_executor());

    const auto dir = std::filesystem::temp_directory_path() / ("depositd-cookie-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto cookie = dir / ".cookie";
    auto write = [&](const std::string& s) {
        std::ofstream f(cookie, std::ios::trunc);
        f << s;
    };
    write("__cookie__:pw1");
    auto a = adapter_for(btc_cfg(srv.url()), http, cookie_credentials(cookie.string(), "btc"));
    ASSERT_TRUE(nettest::run(ioc, a->verify()).ok());
    const WatchSet w = watched_set();
    ASSERT_TRUE(nettest::run(ioc, a->scan(1, 3, w)).ok());

    // bitcoind restarts: a new cookie. The next call gets one 401, re-reads, succeeds.
    node.auth = "Basic X19jb29raWVfXzpwdzI=";  // __cookie__:pw2
    write("__cookie__:pw2\n");
    const int before = srv.requests();
    auto h = nettest::run(ioc, a->head());
    ASSERT_TRUE(h.ok()) << h.error().describe();
    EXPECT_EQ(srv.requests() - before, 2);
    auto again = nettest::run(ioc, a->head());
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(srv.requests() - before, 3);  // cached again

    // Missing cookie file: requests go without credentials -> 401, an error, never a crash.
    std::filesystem::remove(cookie);
    node.auth = "Basic X19jb29raWVfXzpwdzM=";
    auto gone = nettest::run(ioc, a->head());
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().status, 401);

    // Wrong user:password in the URL: verify() says so as a configuration error, without the password.
    auto b = adapter_for(btc_cfg("http://alice:hunter2@127.0.0.1:" + std::to_string(srv.port()) + "/"), http);
    auto vb = nettest::run(ioc, b->verify());
    ASSERT_FALSE(vb.ok());
    EXPECT_EQ(vb.error().code, Errc::invalid_input);
    EXPECT_EQ(vb.error().describe().find("hunter2"), std::string::npos) << vb.error().describe();
    EXPECT_NE(vb.error().describe().find("401"), std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST(BitcoinRegistry, BitcoinKindMakesABitcoinAdapter) {
    boost::asio::io_context ioc;
    net::HttpClient http(ioc.get_executor());
    auto cfg = btc_cfg("http://127.0.0.1:1/");
    auto a = make_adapter(cfg, http);
    ASSERT_TRUE(a.ok()) << a.error().describe();
    EXPECT_NE(dynamic_cast<BitcoinAdapter*>(a->get()), nullptr);
    cfg.tokens = {{"USDT", "x", 6}};
    EXPECT_FALSE(make_adapter(cfg, http).ok());
    cfg.tokens.clear();
    cfg.native.decimals = 18;
    EXPECT_FALSE(make_adapter(cfg, http).ok());
}
