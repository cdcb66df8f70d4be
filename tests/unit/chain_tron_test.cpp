// TRON decoding on real captured payloads (tests/fixtures/tron) and garbage,
// and the adapter against a scripted FullNode on 127.0.0.1.
#include <gtest/gtest.h>

#include "net_test_server.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include "chain/registry.hpp"
#include "chain/tron/decode.hpp"
#include "chain/tron/tron_adapter.hpp"
#include "codec/address.hpp"
#include "codec/hex.hpp"
#include "net/http_client.hpp"
#include "net/jsonrpc.hpp"

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::tron;

namespace {

std::string read_fixture(const std::string& name) {
    std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/tron/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json::value fixture_json(const std::string& name) {
    auto v = json::parse_bounded(read_fixture(name));
    EXPECT_TRUE(v.ok()) << name;
    return v.ok() ? std::move(v).value() : json::value{};
}

json::value parse(std::string_view s) {
    auto v = json::parse_bounded(s);
    EXPECT_TRUE(v.ok()) << s;
    return v.ok() ? std::move(v).value() : json::value{};
}

// Watch key of any TRON address encoding.
std::string key_of(std::string_view addr) {
    auto b = codec::tron_address_bytes(addr);
    EXPECT_TRUE(b.ok()) << addr;
    return b.ok() ? std::string(b->begin(), b->end()) : std::string();
}

std::vector<TokenSpec> tokens(std::vector<config::TokenConfig> cfg) {
    auto t = make_token_specs(cfg);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().describe());
    return t.ok() ? std::move(t).value() : std::vector<TokenSpec>{};
}

const char* kUsdt = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const char* kCounterfeit = "THk5qH79SoAaUnUh8JVdRarSESTZpqPjSQ";
const char* kUsdtTo = "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt";    // topics[2] of the fixture
const char* kUsdtFrom = "TWpZXLfsvVuQuJZLkdWNY7XY2teePqPpz7";  // topics[1]
const char* kUsdtTx = "0af79242191c6728b79e858a36a4b5c65e4e52b9fcee4dc5af30eac57b6d0953";
const NativeSpec kTrx{"TRX", 6};

}  // namespace

// ---------------------------------------------------------------- blocks

TEST(TronDecode, GetNowBlockHeader) {
    auto v = fixture_json("getnowblock_mainnet_47964392.json");
    auto r = decode_block_ref(v);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->height, 47964392u);
    EXPECT_EQ((*r)->hash, "0000000002dbe0e890dddd5df8bb75251f386daee6e5b7a6cf777d493e5d894c");
    EXPECT_EQ((*r)->parent, "0000000002dbe0e7cfc367b39b54d4a53beda9b70a493a724561cad264f38e37");
    EXPECT_EQ((*r)->time_ms, 1674492219000);
}

TEST(TronDecode, GetBlockNileDetailFalse) {
    auto v = fixture_json("getblock_nile_66987565_detail_false.json");
    WatchSet w;
    w.insert(key_of("41b2f713d57dbcec679d93a8849fa0cd0e4db594ba"), 1);
    auto d = decode_block(v, &w, kTrx);
    ASSERT_TRUE(d.ok()) << d.error().describe();
    ASSERT_TRUE(d->has_value());
    EXPECT_EQ((*d)->ref.height, 66987565u);
    EXPECT_EQ((*d)->ref.hash, "0000000003fe262d52bfa4b2814f816fd2e57af5b98a33d60d8630a03a908e0e");
    EXPECT_EQ((*d)->ref.parent, "0000000003fe262c85cd6b02033f4c3e5c1efa35de256a17bd906dc61fb1aeed");
    EXPECT_EQ((*d)->ref.time_ms, 1777445121000);
    EXPECT_TRUE((*d)->tx_ids.empty());  // header only: no "transactions" key
    EXPECT_TRUE((*d)->native.empty());
}

TEST(TronDecode, TrxTransferContractFoundWhenWatched) {
    auto v = fixture_json("getblockbynum_mainnet_30864544.json");
    const std::string to_hex = "4158c85b7b6a5118beb3b23c14fcb2f3551a81d79a";
    const std::string from_hex = "41c33eeefda1059afba41d86759e281bcb851edfc8";
    // Unwatched: no transfer, but the tx id is listed.
    WatchSet none;
    none.insert(key_of("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"), 9);
    auto d0 = decode_block(v, &none, kTrx);
    ASSERT_TRUE(d0.ok()) << d0.error().describe();
    EXPECT_TRUE((*d0)->native.empty());
    ASSERT_EQ((*d0)->tx_ids.size(), 1u);
    EXPECT_EQ((*d0)->tx_ids[0], "979e0823f455f3b67d65b351052f0265233f422792d31d5dbeb7c24737dd5556");

    WatchSet w;
    w.insert(key_of(to_hex), 7);
    auto d = decode_block(v, &w, kTrx);
    ASSERT_TRUE(d.ok()) << d.error().describe();
    ASSERT_TRUE(d->has_value());
    EXPECT_EQ((*d)->ref.height, 30864544u);
    EXPECT_EQ((*d)->ref.parent, "0000000001d6f49f615231bdeeddd8b563c746188d5e270a58afc87b059f29de");
    ASSERT_EQ((*d)->native.size(), 1u);
    const Transfer& t = (*d)->native[0];
    EXPECT_EQ(t.tx, "979e0823f455f3b67d65b351052f0265233f422792d31d5dbeb7c24737dd5556");
    EXPECT_EQ(t.index, kNativeIndex);
    EXPECT_EQ(t.to_key, key_of(to_hex));
    auto to20 = codec::from_hex(to_hex.substr(2));
    auto from20 = codec::from_hex(from_hex.substr(2));
    EXPECT_EQ(t.to, codec::tron_base58(std::span<const std::uint8_t, 20>(to20->data(), 20)));
    EXPECT_EQ(t.from, codec::tron_base58(std::span<const std::uint8_t, 20>(from20->data(), 20)));
    EXPECT_EQ(t.to[0], 'T');
    EXPECT_EQ(t.currency, "TRX");
    EXPECT_FALSE(t.contract.has_value());
    EXPECT_EQ(t.decimals, 6u);
    EXPECT_EQ(t.amount, U256(50000000));  // 50 TRX in sun
}

TEST(TronDecode, AllFourAddressEncodingsMatchTheSameKey) {
    const std::string key = key_of(kUsdt);
    for (const char* form : {"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c",
                             "0x41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "a614f803b6fd780986a42c78ec9c7f77e6ded13c",
                             "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"}) {
        Address20 a{};
        ASSERT_TRUE(parse_address(form, a)) << form;
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.data()), 20), key) << form;
    }
    Address20 a{};
    EXPECT_FALSE(parse_address("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", a));   // bad checksum
    EXPECT_FALSE(parse_address("42a614f803b6fd780986a42c78ec9c7f77e6ded13c", a));  // wrong version byte
    EXPECT_FALSE(parse_address("", a));
    EXPECT_FALSE(parse_address("zz14f803b6fd780986a42c78ec9c7f77e6ded13c", a));
}

TEST(TronDecode, VisibleTrueBase58ToAddressAlsoMatches) {
    auto v = fixture_json("getblockbynum_mainnet_30864544.json");
    auto& c = v.as_object()["transactions"].as_array()[0].as_object()["raw_data"].as_object()["contract"].as_array()[0];
    auto& val = c.as_object()["parameter"].as_object()["value"].as_object();
    auto to20 = codec::from_hex("58c85b7b6a5118beb3b23c14fcb2f3551a81d79a");
    val["to_address"] = codec::tron_base58(std::span<const std::uint8_t, 20>(to20->data(), 20));
    WatchSet w;
    w.insert(std::string(to20->begin(), to20->end()), 1);
    auto d = decode_block(v, &w, kTrx);
    ASSERT_TRUE(d.ok()) << d.error().describe();
    EXPECT_EQ((*d)->native.size(), 1u);
}

TEST(TronDecode, Trc10AirdropInLimitNextIsIgnored) {
    auto v = fixture_json("getblockbylimitnext_mainnet_30864542_trimmed.json");
    WatchSet w;  // the TRC10 recipient IS watched: still nothing (TRC10 out of scope)
    w.insert(key_of("4151521c48d859021ffca3e9ace6b5f6364c44f46c"), 3);
    auto list = decode_block_list(v, &w, kTrx);
    ASSERT_TRUE(list.ok()) << list.error().describe();
    ASSERT_EQ(list->size(), 1u);
    const auto& b = (*list)[0];
    EXPECT_EQ(b.ref.height, 30864542u);
    EXPECT_EQ(b.ref.hash, "0000000001d6f49ebf6a4ff33cc1c1607145c48dc701fbd7ce00f410131e14f8");
    EXPECT_EQ(b.ref.parent, "0000000001d6f49d0479eee63b80207fb66d24c1b7d50e2c89e0fd492861f508");
    EXPECT_EQ(b.ref.time_ms, 1623055917000);
    ASSERT_EQ(b.tx_ids.size(), 1u);
    EXPECT_EQ(b.tx_ids[0], "1097be146079d55633bcc1d6ddabb696797140474182d1ac8eced4b6e9aed8f1");
    EXPECT_TRUE(b.native.empty());
}

TEST(TronDecode, FailedContractRetIsNoTransfer) {
    WatchSet w;
    w.insert(key_of("4158c85b7b6a5118beb3b23c14fcb2f3551a81d79a"), 7);
    for (const char* ret : {R"([{"contractRet":"REVERT"}])", R"([{"contractRet":"OUT_OF_ENERGY"}])", "[]", "[{}]",
                            R"([{"contractRet":"success"}])"}) {
        auto v = fixture_json("getblockbynum_mainnet_30864544.json");
        v.as_object()["transactions"].as_array()[0].as_object()["ret"] = parse(ret);
        auto d = decode_block(v, &w, kTrx);
        ASSERT_TRUE(d.ok()) << ret;
        EXPECT_TRUE((*d)->native.empty()) << ret;
    }
    auto v = fixture_json("getblockbynum_mainnet_30864544.json");
    v.as_object()["transactions"].as_array()[0].as_object().erase("ret");
    auto d = decode_block(v, &w, kTrx);
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE((*d)->native.empty());
}

TEST(TronDecode, AmountMustBeAJsonInteger) {
    WatchSet w;
    w.insert(key_of("4158c85b7b6a5118beb3b23c14fcb2f3551a81d79a"), 7);
    auto with_amount = [&](std::string_view amount) {
        auto v = fixture_json("getblockbynum_mainnet_30864544.json");
        auto& c = v.as_object()["transactions"].as_array()[0].as_object()["raw_data"].as_object()["contract"].as_array()[0];
        c.as_object()["parameter"].as_object()["value"].as_object()["amount"] = parse(amount);
        return decode_block(v, &w, kTrx);
    };
    // 2^63-1 and 2^64-1 are exact integers: no precision lost through double.
    auto big = with_amount("9223372036854775807");
    ASSERT_TRUE(big.ok());
    ASSERT_EQ((*big)->native.size(), 1u);
    EXPECT_EQ(u256_to_decimal((*big)->native[0].amount), "9223372036854775807");
    auto u64 = with_amount("18446744073709551615");
    ASSERT_TRUE(u64.ok());
    EXPECT_EQ(u256_to_decimal((*u64)->native[0].amount), "18446744073709551615");
    auto exact = with_amount("9007199254740993");  // 2^53 + 1: a double would say ...992
    ASSERT_TRUE(exact.ok());
    EXPECT_EQ(u256_to_decimal((*exact)->native[0].amount), "9007199254740993");
    // Zero: not a deposit.
    auto zero = with_amount("0");
    ASSERT_TRUE(zero.ok());
    EXPECT_TRUE((*zero)->native.empty());
    // Beyond 64 bits (parsed as double), fractions, strings, negatives: malformed.
    for (const char* bad : {"18446744073709551616", "1e30", "50000000.5", "\"50000000\"", "-5", "null", "true"}) {
        auto r = with_amount(bad);
        EXPECT_FALSE(r.ok()) << bad;
        if (!r.ok()) {
            EXPECT_EQ(r.error().code, Errc::malformed) << bad;
        }
    }
}

TEST(TronDecode, NodeErrorsAndEmptyObjects) {
    // {"Error"} is an error, never an empty block.
    auto e = decode_block_ref(parse(R"({"Error":"class java.lang.NumberFormatException : For input string: \"x\""})"));
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().code, Errc::rpc_error);
    EXPECT_NE(e.error().message.find("NumberFormatException"), std::string::npos);
    // {} is "no such block": nullopt, not an empty block.
    auto m = decode_block_ref(parse("{}"));
    ASSERT_TRUE(m.ok());
    EXPECT_FALSE(m->has_value());
    auto md = decode_block(parse("{}"), nullptr, kTrx);
    ASSERT_TRUE(md.ok());
    EXPECT_FALSE(md->has_value());
    // getblockbylimitnext {}: an empty list (the adapter turns it into an error).
    auto l = decode_block_list(parse("{}"), nullptr, kTrx);
    ASSERT_TRUE(l.ok());
    EXPECT_TRUE(l->empty());
    auto le = decode_block_list(parse(R"({"Error":"lack of computing resources"})"), nullptr, kTrx);
    ASSERT_FALSE(le.ok());
    EXPECT_EQ(le.error().code, Errc::rate_limited);
    // A rate-limit answer in a 200 body.
    auto rl = decode_block_ref(
        parse(R"({"Error":"The key exceeds the frequency limit(30), and the query server is suspended for 30s"})"));
    ASSERT_FALSE(rl.ok());
    EXPECT_EQ(rl.error().code, Errc::rate_limited);
    EXPECT_EQ(rl.error().retry_after_ms, 30000);
    auto tg = check_node_error(parse(
        R"({"success": false, "error": "The key exceeds the frequency limit(15), and the query server is suspended for 30s", "statusCode": 403})"));
    ASSERT_FALSE(tg.ok());
    EXPECT_EQ(tg.error().code, Errc::rate_limited);
    EXPECT_EQ(tg.error().retry_after_ms, 30000);
    EXPECT_EQ(tg.error().status, 403);
    EXPECT_TRUE(check_node_error(parse(R"({"blockID":"00"})")).ok());
    EXPECT_TRUE(check_node_error(parse("[]")).ok());
}

TEST(TronDecode, TransportErrorsFromTronGridLimits) {
    for (int status : {403, 429, 503}) {
        Error e = make_error(Errc::http_status, "HTTP " + std::to_string(status) + " from x: {}");
        e.status = status;
        auto c = classify_transport_error(e);
        EXPECT_EQ(c.code, Errc::rate_limited) << status;
    }
    Error body = make_error(Errc::http_status,
                            "HTTP 403 from x: {\"success\": false, \"error\": \"... is suspended for 30s\"}");
    body.status = 403;
    EXPECT_EQ(classify_transport_error(body).retry_after_ms, 30000);
    Error other = make_error(Errc::http_status, "HTTP 500 from x");
    other.status = 500;
    EXPECT_EQ(classify_transport_error(other).code, Errc::http_status);
    Error ra = make_error(Errc::rate_limited, "HTTP 429");
    ra.retry_after_ms = 1500;
    EXPECT_EQ(classify_transport_error(ra).retry_after_ms, 1500);  // Retry-After header wins
    EXPECT_EQ(retry_after_from_text("suspended for 30s"), 30000);
    EXPECT_EQ(retry_after_from_text("Suspended for 2 min"), 120000);
    EXPECT_EQ(retry_after_from_text("suspended for 250ms"), 250);
    EXPECT_EQ(retry_after_from_text("suspended for s"), -1);
    EXPECT_EQ(retry_after_from_text("nothing"), -1);
}

TEST(TronDecode, MalformedBlocks) {
    const auto base = fixture_json("getblockbynum_mainnet_30864544.json");
    WatchSet w;
    w.insert(key_of("4158c85b7b6a5118beb3b23c14fcb2f3551a81d79a"), 7);
    using Mut = std::function<void(json::object&)>;
    std::vector<std::pair<const char*, Mut>> cases = {
        {"blockID number mismatch",
         [](json::object& o) { o["blockID"] = "0000000001d6f4a19f60c27befccff6fe3cc593b2d6c46cdc79d3fd4f55db859"; }},
        {"blockID short", [](json::object& o) { o["blockID"] = "0000000001d6f4a0"; }},
        {"blockID not hex",
         [](json::object& o) { o["blockID"] = "0000000001d6f4a09f60c27befccff6fe3cc593b2d6c46cdc79d3fd4f55db85z"; }},
        {"blockID number", [](json::object& o) { o["blockID"] = 5; }},
        {"no blockID", [](json::object& o) { o.erase("blockID"); }},
        {"no header", [](json::object& o) { o.erase("block_header"); }},
        {"header array", [](json::object& o) { o["block_header"] = json::array{}; }},
        {"number string",
         [](json::object& o) { o["block_header"].as_object()["raw_data"].as_object()["number"] = "30864544"; }},
        {"number huge",
         [](json::object& o) { o["block_header"].as_object()["raw_data"].as_object()["number"] = 1e300; }},
        {"number negative",
         [](json::object& o) { o["block_header"].as_object()["raw_data"].as_object()["number"] = -1; }},
        {"no parent", [](json::object& o) { o["block_header"].as_object()["raw_data"].as_object().erase("parentHash"); }},
        {"parent short", [](json::object& o) { o["block_header"].as_object()["raw_data"].as_object()["parentHash"] = "00"; }},
        {"transactions object", [](json::object& o) { o["transactions"] = json::object{}; }},
        {"tx not object", [](json::object& o) { o["transactions"].as_array()[0] = 1; }},
        {"txID missing", [](json::object& o) { o["transactions"].as_array()[0].as_object().erase("txID"); }},
        {"txID short", [](json::object& o) { o["transactions"].as_array()[0].as_object()["txID"] = "979e"; }},
        {"to_address garbage",
         [](json::object& o) {
             o["transactions"].as_array()[0].as_object()["raw_data"].as_object()["contract"].as_array()[0]
                 .as_object()["parameter"].as_object()["value"].as_object()["to_address"] = "41zz";
         }},
        {"contract not array",
         [](json::object& o) { o["transactions"].as_array()[0].as_object()["raw_data"].as_object()["contract"] = 1; }},
    };
    for (const auto& [name, m] : cases) {
        json::value b = base;
        m(b.as_object());
        auto d = decode_block(b, &w, kTrx);
        EXPECT_FALSE(d.ok()) << name;
        if (!d.ok()) {
            EXPECT_EQ(d.error().code, Errc::malformed) << name;
        }
    }
    EXPECT_FALSE(decode_block(json::value(1), &w, kTrx).ok());
    EXPECT_FALSE(decode_block(json::value(json::array{}), &w, kTrx).ok());
    EXPECT_FALSE(decode_block_ref(json::value("0x1")).ok());
    EXPECT_FALSE(decode_block_list(parse(R"({"block": {}})"), &w, kTrx).ok());
    EXPECT_FALSE(decode_block_list(parse(R"({"block": [{}]})"), &w, kTrx).ok());
    EXPECT_FALSE(decode_block_list(parse(R"([])"), &w, kTrx).ok());
    // Truncated JSON never parses.
    const std::string text = read_fixture("getblockbylimitnext_mainnet_30864542_trimmed.json");
    for (std::size_t cut : {std::size_t{1}, text.size() / 3, text.size() / 2, text.size() - 2})
        EXPECT_FALSE(json::parse_bounded(std::string_view(text).substr(0, cut)).ok()) << cut;
}

// ---------------------------------------------------------------- TRC20 logs

TEST(TronDecode, UsdtTrc20LogFoundForConfiguredContract) {
    auto v = fixture_json("gettransactioninfobyblocknum_mainnet_30864600.json");
    auto specs = tokens({{"USDT", kUsdt, 6}});
    ASSERT_EQ(specs.size(), 1u);
    EXPECT_EQ(specs[0].contract_text, kUsdt);
    WatchSet w;
    w.insert(key_of(kUsdtTo), 11);
    InfoContext ctx{30864600, nullptr, specs, &w};
    std::vector<Transfer> out;
    auto st = decode_transaction_infos(v, ctx, out);
    ASSERT_TRUE(st.ok()) << st.error().describe();
    EXPECT_EQ(st->infos, 2u);
    EXPECT_EQ(st->logs, 1u);
    EXPECT_EQ(st->token_transfers, 1u);
    EXPECT_EQ(st->matched, 1u);
    ASSERT_EQ(out.size(), 1u);
    const Transfer& t = out[0];
    EXPECT_EQ(t.tx, kUsdtTx);
    EXPECT_EQ(t.index, 0u);
    EXPECT_EQ(t.to, kUsdtTo);
    EXPECT_EQ(t.from, kUsdtFrom);
    EXPECT_EQ(t.to_key, key_of(kUsdtTo));
    EXPECT_EQ(t.currency, "USDT");
    ASSERT_TRUE(t.contract.has_value());
    EXPECT_EQ(*t.contract, kUsdt);
    EXPECT_EQ(t.decimals, 6u);
    EXPECT_EQ(u256_to_decimal(t.amount), "532079999");  // 532.079999 USDT

    // The same from the raw body.
    std::vector<Transfer> out2;
    auto st2 = decode_transaction_infos(std::string_view(read_fixture("gettransactioninfobyblocknum_mainnet_30864600.json")),
                                        ctx, out2);
    ASSERT_TRUE(st2.ok());
    EXPECT_EQ(out2.size(), 1u);

    // Recipient not watched: nothing.
    WatchSet other;
    other.insert(key_of(kUsdtFrom), 12);
    std::vector<Transfer> none;
    InfoContext ctx2{30864600, nullptr, specs, &other};
    ASSERT_TRUE(decode_transaction_infos(v, ctx2, none).ok());
    EXPECT_TRUE(none.empty());
}

TEST(TronDecode, CounterfeitContractIsNotUsdt) {
    auto v = fixture_json("gettransactioninfobyblocknum_mainnet_30864600.json");
    WatchSet w;
    w.insert(key_of(kUsdtTo), 11);
    // Only the counterfeit "USDT" configured: the real USDT log is not it.
    auto fake = tokens({{"USDT", kCounterfeit, 6}});
    std::vector<Transfer> out;
    auto st = decode_transaction_infos(v, InfoContext{30864600, nullptr, fake, &w}, out);
    ASSERT_TRUE(st.ok());
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(st->token_transfers, 0u);
    // And a log emitted BY the counterfeit contract (symbol "USDT" in its
    // metadata, same topics) is not matched when the real USDT is configured.
    auto real = tokens({{"USDT", kUsdt, 6}});
    auto cv = fixture_json("gettransactioninfobyblocknum_mainnet_30864600.json");
    auto cf = codec::tron_address_bytes(kCounterfeit);
    cv.as_array()[1].as_object()["log"].as_array()[0].as_object()["address"] =
        codec::to_hex(std::span<const std::uint8_t>(cf->data(), 20));
    std::vector<Transfer> out2;
    ASSERT_TRUE(decode_transaction_infos(cv, InfoContext{30864600, nullptr, real, &w}, out2).ok());
    EXPECT_TRUE(out2.empty());
    // The top-level contract_address does not count: only log[].address.
    cv.as_array()[1].as_object()["contract_address"] = "41a614f803b6fd780986a42c78ec9c7f77e6ded13c";
    ASSERT_TRUE(decode_transaction_infos(cv, InfoContext{30864600, nullptr, real, &w}, out2).ok());
    EXPECT_TRUE(out2.empty());
}

TEST(TronDecode, FailedReceiptIsNoTransfer) {
    auto specs = tokens({{"USDT", kUsdt, 6}});
    WatchSet w;
    w.insert(key_of(kUsdtTo), 11);
    auto run = [&](const std::function<void(json::object&)>& m) {
        auto v = fixture_json("gettransactioninfobyblocknum_mainnet_30864600.json");
        m(v.as_array()[1].as_object());
        std::vector<Transfer> out;
        auto st = decode_transaction_infos(v, InfoContext{30864600, nullptr, specs, &w}, out);
        EXPECT_TRUE(st.ok());
        return out.size();
    };
    EXPECT_EQ(run([](json::object&) {}), 1u);
    EXPECT_EQ(run([](json::object& o) { o["receipt"].as_object()["result"] = "REVERT"; }), 0u);
    EXPECT_EQ(run([](json::object& o) { o["receipt"].as_object()["result"] = "OUT_OF_ENERGY"; }), 0u);
    EXPECT_EQ(run([](json::object& o) { o["receipt"].as_object().erase("result"); }), 0u);
    EXPECT_EQ(run([](json::object& o) { o.erase("receipt"); }), 0u);
    EXPECT_EQ(run([](json::object& o) { o["result"] = "FAILED"; }), 0u);
    // Zero-value Transfer (address-poisoning spam): no deposit.
    EXPECT_EQ(run([](json::object& o) {
                  o["log"].as_array()[0].as_object()["data"] =
                      "0000000000000000000000000000000000000000000000000000000000000000";
              }),
              0u);
    // ERC721-style (4 topics) and non-Transfer topic: ignored.
    EXPECT_EQ(run([](json::object& o) {
                  o["log"].as_array()[0].as_object()["topics"].as_array().push_back(
                      "0000000000000000000000000000000000000000000000000000000000000001");
              }),
              0u);
    EXPECT_EQ(run([](json::object& o) {
                  o["log"].as_array()[0].as_object()["topics"].as_array()[0] =
                      "8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925";  // Approval
              }),
              0u);
    // Non-standard data (two words): skipped, counted.
    EXPECT_EQ(run([](json::object& o) {
                  o["log"].as_array()[0].as_object()["data"] =
                      "000000000000000000000000000000000000000000000000000000001fb6e57f"
                      "0000000000000000000000000000000000000000000000000000000000000000";
              }),
              0u);
    // A 0x-prefixed / 41-prefixed emitter address still matches.
    EXPECT_EQ(run([](json::object& o) {
                  o["log"].as_array()[0].as_object()["address"] = "41a614f803b6fd780986a42c78ec9c7f77e6ded13c";
              }),
              1u);
    EXPECT_EQ(run([](json::object& o) { o["log"].as_array()[0].as_object()["address"] = kUsdt; }), 1u);  // visible=true
}

TEST(TronDecode, LogIndexIsPositionInTheTransaction) {
    auto specs = tokens({{"USDT", kUsdt, 6}});
    WatchSet w;
    w.insert(key_of(kUsdtTo), 11);
    auto v = fixture_json("gettransactioninfobyblocknum_mainnet_30864600.json");
    auto& logs = v.as_array()[1].as_object()["log"].as_array();
    json::value approval = logs[0];
    approval.as_object()["topics"].as_array()[0] = "8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925";
    json::value second = logs[0];
    second.as_object()["data"] = "0000000000000000000000000000000000000000000000000000000000000005";
    logs = json::array{approval, logs[0], second};
    std::vector<Transfer> out;
    auto st = decode_transaction_infos(v, InfoContext{30864600, nullptr, specs, &w}, out);
    ASSERT_TRUE(st.ok());
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].index, 1u);
    EXPECT_EQ(out[1].index, 2u);
    EXPECT_EQ(u256_to_decimal(out[1].amount), "5");
    EXPECT_LT(out[1].index, kNativeIndex);
}

TEST(TronDecode, InfoListCrossChecks) {
    auto specs = tokens({{"USDT", kUsdt, 6}});
    WatchSet w;
    w.insert(key_of(kUsdtTo), 11);
    auto v = fixture_json("gettransactioninfobyblocknum_mainnet_30864600.json");
    const std::vector<std::string> ids = {"8971d5c2c3b45dee02860ce821e9c2ba601424c311a7a80545848a4c4c09b4a1", kUsdtTx};
    std::vector<Transfer> out;
    // Matching ids (in order, and in another order).
    ASSERT_TRUE(decode_transaction_infos(v, InfoContext{30864600, &ids, specs, &w}, out).ok());
    EXPECT_EQ(out.size(), 1u);
    const std::vector<std::string> swapped = {ids[1], ids[0]};
    out.clear();
    ASSERT_TRUE(decode_transaction_infos(v, InfoContext{30864600, &swapped, specs, &w}, out).ok());
    EXPECT_EQ(out.size(), 1u);
    // Different id set: conflict, nothing appended.
    const std::vector<std::string> other = {ids[0], std::string(64, 'a')};
    out.clear();
    auto c = decode_transaction_infos(v, InfoContext{30864600, &other, specs, &w}, out);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, Errc::conflict);
    EXPECT_TRUE(out.empty());
    // Count mismatch.
    const std::vector<std::string> three = {ids[0], ids[1], std::string(64, 'b')};
    auto n = decode_transaction_infos(v, InfoContext{30864600, &three, specs, &w}, out);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error().code, Errc::conflict);
    // Wrong block number.
    auto bn = decode_transaction_infos(v, InfoContext{30864601, nullptr, specs, &w}, out);
    ASSERT_FALSE(bn.ok());
    EXPECT_EQ(bn.error().code, Errc::conflict);
    // [] is valid for a block without transactions only.
    const std::vector<std::string> empty;
    EXPECT_TRUE(decode_transaction_infos(parse("[]"), InfoContext{5, &empty, specs, &w}, out).ok());
    EXPECT_TRUE(decode_transaction_infos(parse("[]"), InfoContext{5, nullptr, specs, &w}, out).ok());
    auto e = decode_transaction_infos(parse("[]"), InfoContext{30864600, &ids, specs, &w}, out);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().code, Errc::unavailable);
    // {} and {"Error"}: errors.
    auto m = decode_transaction_infos(parse("{}"), InfoContext{5, nullptr, specs, &w}, out);
    ASSERT_FALSE(m.ok());
    auto er = decode_transaction_infos(parse(R"({"Error":"boom"})"), InfoContext{5, nullptr, specs, &w}, out);
    ASSERT_FALSE(er.ok());
    EXPECT_EQ(er.error().code, Errc::rpc_error);
    // Truncated / wrong types.
    const std::string text = read_fixture("gettransactioninfobyblocknum_mainnet_30864600.json");
    EXPECT_FALSE(decode_transaction_infos(std::string_view(text).substr(0, text.size() / 2),
                                          InfoContext{30864600, nullptr, specs, &w}, out)
                     .ok());
    for (const char* bad : {R"([1])", R"([{"id":5,"blockNumber":1}])", R"([{"id":"ab","blockNumber":1}])",
                            R"([{"id":"8971d5c2c3b45dee02860ce821e9c2ba601424c311a7a80545848a4c4c09b4a1","blockNumber":"1"}])",
                            R"([{"id":"8971d5c2c3b45dee02860ce821e9c2ba601424c311a7a80545848a4c4c09b4a1","blockNumber":1e40}])",
                            R"("x")", "5", "null"}) {
        EXPECT_FALSE(decode_transaction_infos(parse(bad), InfoContext{1, nullptr, specs, &w}, out).ok()) << bad;
    }
    EXPECT_TRUE(out.empty());
}

TEST(TronDecode, NileInfosWithoutLogs) {
    auto v = fixture_json("gettransactioninfobyblocknum_nile_66987565_first2of4.json");
    auto specs = tokens({{"USDT", kUsdt, 6}});
    WatchSet w;
    w.insert(key_of(kUsdtTo), 11);
    std::vector<Transfer> out;
    auto st = decode_transaction_infos(v, InfoContext{66987565, nullptr, specs, &w}, out);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->infos, 2u);
    EXPECT_EQ(st->logs, 0u);
    EXPECT_TRUE(out.empty());
}

TEST(TronDecode, TokenSpecs) {
    auto t = make_token_specs({{"USDT", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c", 6}});
    ASSERT_TRUE(t.ok());
    EXPECT_EQ((*t)[0].contract_text, kUsdt);  // canonical T... form
    auto dup = make_token_specs({{"USDT", kUsdt, 6}, {"USDX", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c", 6}});
    ASSERT_FALSE(dup.ok());
    EXPECT_NE(dup.error().message.find("same contract"), std::string::npos);
    auto bad = make_token_specs({{"USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", 6}});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("USDT"), std::string::npos);
    EXPECT_FALSE(make_token_specs({{"USDT", "a614f803b6fd780986a42c78ec9c7f77e6ded13c", 6}}).ok());  // ambiguous
}

// ---------------------------------------------------------------- adapter

namespace {

using nettest::Reply;
using nettest::Seen;
using nettest::Server;

// A small scripted chain in the real response shapes.
std::string block_id(std::uint64_t n, char fill) {
    char head[17];
    std::snprintf(head, sizeof head, "%016llx", static_cast<unsigned long long>(n));
    return std::string(head) + std::string(48, fill);
}
std::string tx_id(std::uint64_t n, int k) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%016llx%048x", static_cast<unsigned long long>(n), k);
    return buf;
}
const char* kPoolHex = "4158c85b7b6a5118beb3b23c14fcb2f3551a81d79a";

json::object make_block(std::uint64_t n, int txs) {
    json::object raw{{"number", n}, {"parentHash", block_id(n - 1, 'a')}, {"timestamp", 1623055917000 + n * 3000}};
    json::object o{{"blockID", block_id(n, 'a')}, {"block_header", json::object{{"raw_data", raw}}}};
    if (txs > 0) {
        json::array arr;
        for (int k = 0; k < txs; ++k) {
            json::object value{{"amount", 1000000 + k}, {"owner_address", "41c33eeefda1059afba41d86759e281bcb851edfc8"},
                               {"to_address", kPoolHex}};
            json::object c{{"parameter", json::object{{"value", value}, {"type_url", "type.googleapis.com/protocol.TransferContract"}}},
                           {"type", "TransferContract"}};
            json::object tx{{"raw_data", json::object{{"contract", json::array{c}}}},
                            {"ret", json::array{json::object{{"contractRet", "SUCCESS"}}}},
                            {"txID", tx_id(n, k)}};
            arr.push_back(tx);
        }
        o["transactions"] = arr;
    }
    return o;
}

json::array make_infos(std::uint64_t n, int txs) {
    json::array a;
    for (int k = 0; k < txs; ++k)
        a.push_back(json::object{{"id", tx_id(n, k)}, {"blockNumber", n}, {"receipt", json::object{{"net_usage", 268}}}});
    return a;
}

config::ChainConfig tron_cfg(const std::string& url) {
    config::ChainConfig cfg;
    cfg.id = "tron";
    cfg.kind = Protocol::tron;
    cfg.rpc = {url};
    cfg.native = {"TRX", "", 6};
    cfg.tokens = {{"USDT", kUsdt, 6}};
    cfg.finalized = true;
    cfg.max_block_range = 100;
    cfg.headers = {{"TRON-PRO-API-KEY", "k-123"}};
    return cfg;
}

std::unique_ptr<TronAdapter> adapter_for(const Server& srv, net::HttpClient& http, config::ChainConfig cfg) {
    net::JsonRpcOptions o;
    o.endpoints = cfg.rpc;
    for (const auto& [k, v] : cfg.headers) o.headers.emplace_back(k, v);
    o.timeout = std::chrono::seconds(5);
    o.backoff_base = std::chrono::milliseconds(5);
    o.backoff_max = std::chrono::milliseconds(50);
    o.max_attempts = 2;
    o.name = cfg.id;
    (void)srv;
    auto a = TronAdapter::create(cfg, std::make_unique<net::JsonRpcClient>(http, o));
    EXPECT_TRUE(a.ok());
    return a.ok() ? std::move(a).value() : nullptr;
}

}  // namespace

TEST(TronAdapter, HeadScanAndBlockAt) {
    std::atomic<int> info_calls{0};
    Server srv([&](const Seen& s) -> Reply {
        if (s.target == "/wallet/getnowblock") return Reply{200, json::serialize(make_block(120, 1))};
        if (s.target == "/walletsolidity/getnowblock") return Reply{200, json::serialize(make_block(101, 0))};
        auto body = json::parse(s.body).as_object();
        if (s.target == "/wallet/getblockbylimitnext") {
            auto a = body.at("startNum").as_int64(), b = body.at("endNum").as_int64();
            json::array blocks;
            for (auto n = a; n < b && n <= 120; ++n) blocks.push_back(make_block(static_cast<std::uint64_t>(n), n % 3 == 0 ? 2 : 0));
            return Reply{200, json::serialize(json::object{{"block", blocks}})};
        }
        if (s.target == "/wallet/gettransactioninfobyblocknum") {
            ++info_calls;
            auto n = static_cast<std::uint64_t>(body.at("num").as_int64());
            return Reply{200, json::serialize(make_infos(n, n % 3 == 0 ? 2 : 0))};
        }
        if (s.target == "/wallet/getblockbynum") {
            auto n = static_cast<std::uint64_t>(body.at("num").as_int64());
            if (n > 120) return Reply{200, "{}"};
            return Reply{200, json::serialize(make_block(n, 0))};
        }
        return Reply{404, "not found"};
    });
    boost::asio::io_context ioc;
    net::HttpClient http(ioc.get_executor());
    auto a = adapter_for(srv, http, tron_cfg(srv.url("")));
    ASSERT_TRUE(a);

    auto h = nettest::run(ioc, a->head());
    ASSERT_TRUE(h.ok()) << h.error().describe();
    EXPECT_EQ(h->height, 120u);
    ASSERT_TRUE(h->finalized.has_value());
    EXPECT_EQ(*h->finalized, 101u);
    EXPECT_EQ(h->finalized_hash, block_id(101, 'a'));  // the solidified block's id, proven by the scanner

    WatchSet w;
    w.insert(key_of(kPoolHex), 1);
    auto r = nettest::run(ioc, a->scan(100, 150, w));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_EQ(r->blocks.size(), 21u);
    EXPECT_EQ(r->scanned_to, 120u);  // 100..120: the node has no more
    EXPECT_EQ(r->blocks[0].block.height, 100u);
    EXPECT_EQ(r->blocks[0].block.hash, block_id(100, 'a'));
    std::size_t trx = 0;
    for (const auto& bt : r->blocks) {
        trx += bt.transfers.size();
        for (const auto& t : bt.transfers) EXPECT_EQ(t.index, kNativeIndex);
    }
    EXPECT_EQ(trx, 14u);  // 7 blocks (102, 105, ..., 120) x 2
    EXPECT_EQ(info_calls.load(), 7);  // only blocks with transactions
    EXPECT_EQ(a->scan_requests(), 8u);

    auto b = nettest::run(ioc, a->block_at(110));
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(b->presence, Presence::block);
    EXPECT_EQ(b->ref.height, 110u);
    auto beyond = nettest::run(ioc, a->block_at(121));
    ASSERT_TRUE(beyond.ok());
    EXPECT_EQ(beyond->presence, Presence::unknown);

    // The range is capped at 100 blocks, endNum exclusive; the key is sent.
    for (const auto& s : srv.seen()) {
        EXPECT_EQ(s.headers.at("tron-pro-api-key"), "k-123");
        if (s.target == "/wallet/getblockbylimitnext") {
            auto body = json::parse(s.body).as_object();
            EXPECT_EQ(body.at("startNum").as_int64(), 100);
            EXPECT_EQ(body.at("endNum").as_int64(), 151);
        }
    }
    auto big = nettest::run(ioc, a->scan(1000, 5000, w));
    EXPECT_FALSE(big.ok());  // nothing there: {"block": []} -> no block
    auto last = srv.seen().back();
    for (auto& s : srv.seen())
        if (s.target == "/wallet/getblockbylimitnext") last = s;
    auto body = json::parse(last.body).as_object();
    EXPECT_EQ(body.at("endNum").as_int64() - body.at("startNum").as_int64(), 100);
}

TEST(TronAdapter, FaultsAreErrorsNeverEmptyBlocks) {
    std::atomic<int> mode{0};
    Server srv([&](const Seen& s) -> Reply {
        auto body = s.body.empty() ? json::object{} : json::parse(s.body).as_object();
        if (s.target == "/wallet/getblockbylimitnext") {
            switch (mode.load()) {
                case 0: return Reply{200, "{}"};
                case 1: return Reply{200, R"({"Error":"class java.lang.NullPointerException : null"})"};
                case 2: return Reply{403, R"({"success":false,"error":"The key exceeds the frequency limit(15), and the query server is suspended for 30s","statusCode":403})"};
                case 3: return Reply{200, R"({"block":[)"};  // truncated
                default: {
                    auto a = static_cast<std::uint64_t>(body.at("startNum").as_int64());
                    json::array blocks{make_block(a, 2), make_block(a + 1, 2), make_block(a + 2, 2)};
                    return Reply{200, json::serialize(json::object{{"block", blocks}})};
                }
            }
        }
        if (s.target == "/wallet/gettransactioninfobyblocknum") {
            auto n = static_cast<std::uint64_t>(body.at("num").as_int64());
            if (mode.load() == 4) return Reply{200, "[]"};                      // not indexed yet
            if (mode.load() == 5 && n == 11) return Reply{200, R"({"Error":"lack of computing resources"})"};
            if (mode.load() == 6) return Reply{200, json::serialize(make_infos(n + 1, 2))};  // other block
            return Reply{200, json::serialize(make_infos(n, 2))};
        }
        return Reply{200, "{}"};
    });
    boost::asio::io_context ioc;
    net::HttpClient http(ioc.get_executor());
    auto a = adapter_for(srv, http, tron_cfg(srv.url("")));
    ASSERT_TRUE(a);
    WatchSet w;
    w.insert(key_of(kPoolHex), 1);

    mode = 0;
    auto r0 = nettest::run(ioc, a->scan(10, 12, w));
    ASSERT_FALSE(r0.ok());
    EXPECT_EQ(r0.error().code, Errc::unavailable);
    mode = 1;
    auto r1 = nettest::run(ioc, a->scan(10, 12, w));
    ASSERT_FALSE(r1.ok());
    EXPECT_EQ(r1.error().code, Errc::rpc_error);
    mode = 2;
    auto r2 = nettest::run(ioc, a->scan(10, 12, w));
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(r2.error().code, Errc::rate_limited);
    EXPECT_EQ(r2.error().retry_after_ms, 30000);
    mode = 3;
    auto r3 = nettest::run(ioc, a->scan(10, 12, w));
    ASSERT_FALSE(r3.ok());
    mode = 4;
    auto r4 = nettest::run(ioc, a->scan(10, 12, w));
    ASSERT_FALSE(r4.ok());
    EXPECT_EQ(r4.error().code, Errc::unavailable);
    mode = 5;  // block 10 complete, 11 rate limited: the prefix [10]
    auto r5 = nettest::run(ioc, a->scan(10, 12, w));
    ASSERT_TRUE(r5.ok()) << r5.error().describe();
    ASSERT_EQ(r5->blocks.size(), 1u);
    EXPECT_EQ(r5->scanned_to, 10u);
    EXPECT_EQ(r5->blocks[0].block.height, 10u);
    EXPECT_EQ(r5->blocks[0].transfers.size(), 2u);
    mode = 6;
    auto r6 = nettest::run(ioc, a->scan(10, 12, w));
    ASSERT_FALSE(r6.ok());
    EXPECT_EQ(r6.error().code, Errc::conflict);
    mode = 7;
    auto r7 = nettest::run(ioc, a->scan(10, 12, w));
    ASSERT_TRUE(r7.ok()) << r7.error().describe();
    EXPECT_EQ(r7->blocks.size(), 3u);

    auto h = nettest::run(ioc, a->head());
    ASSERT_FALSE(h.ok());  // getnowblock {}: no head, not height 0
}

TEST(TronRegistry, TronKindMakesATronAdapter) {
    boost::asio::io_context ioc;
    net::HttpClient http(ioc.get_executor());
    auto cfg = tron_cfg("http://127.0.0.1:1");
    auto a = make_adapter(cfg, http);
    ASSERT_TRUE(a.ok()) << a.error().describe();
    EXPECT_NE(dynamic_cast<TronAdapter*>(a->get()), nullptr);
    cfg.tokens = {{"USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", 6}};  // bad checksum
    auto bad = make_adapter(cfg, http);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("USDT"), std::string::npos);
}
