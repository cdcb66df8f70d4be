// ERC20/TRC20 Transfer log decoding on real BSC logs (BUSD, block 0x1b13c84),
// including the Approval logs the same query returned, and ERC721-shaped logs.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "codec/abi.hpp"
#include "codec/hex.hpp"
#include "codec/keccak.hpp"
#include "core/json.hpp"

using namespace depositd;
using namespace depositd::codec;

namespace {

struct Log {
    std::vector<std::string> topics;
    std::string data;
    std::string log_index;
};

std::vector<Log> load_bsc_logs() {
    std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/evm/bsc_eth_getLogs_busd_block_0x1b13c84.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = json::parse_bounded(ss.str());
    EXPECT_TRUE(v.ok());
    std::vector<Log> logs;
    if (!v.ok()) return logs;
    for (const auto& item : v->as_object().at("result").as_array()) {
        const auto& o = item.as_object();
        Log l;
        for (const auto& t : o.at("topics").as_array()) l.topics.emplace_back(t.as_string());
        l.data = std::string(o.at("data").as_string());
        l.log_index = std::string(o.at("logIndex").as_string());
        logs.push_back(std::move(l));
    }
    return logs;
}

Result<TransferLog> decode(const Log& l) {
    std::vector<std::string_view> t(l.topics.begin(), l.topics.end());
    return decode_transfer_log(t, l.data);
}

}  // namespace

TEST(CodecAbi, TransferTopicIsKeccakOfSignature) {
    EXPECT_EQ(to_hex(keccak256(std::string_view("Transfer(address,address,uint256)"))), kTransferTopicHex);
    EXPECT_TRUE(is_transfer_topic("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"));
    EXPECT_TRUE(is_transfer_topic("0xDDF252AD1BE2C89B69C2B068FC378DAA952BA7F163C4A11628F55A4DF523B3EF"));
    EXPECT_TRUE(is_transfer_topic("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"));
    EXPECT_FALSE(is_transfer_topic("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3e"));
    EXPECT_FALSE(is_transfer_topic("0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"));
    EXPECT_FALSE(is_transfer_topic(""));
}

TEST(CodecAbi, RealBscLogs) {
    auto logs = load_bsc_logs();
    ASSERT_EQ(logs.size(), 11u);
    int transfers = 0, approvals = 0;
    for (const auto& l : logs) {
        auto r = decode(l);
        if (l.topics[0] == "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925") {
            ++approvals;
            EXPECT_FALSE(r.ok()) << l.log_index;
            continue;
        }
        ASSERT_TRUE(r.ok()) << l.log_index << ": " << r.error().message;
        ++transfers;
        EXPECT_EQ(to_hex0x(r->from), "0x" + l.topics[1].substr(26));
        EXPECT_EQ(to_hex0x(r->to), "0x" + l.topics[2].substr(26));
        EXPECT_EQ(r->value, u256_from_hex(l.data).value());
    }
    EXPECT_EQ(transfers, 9);
    EXPECT_EQ(approvals, 2);

    // The first log: data 0x102b95cd89e5de0000 = 298288547486664359936 wei
    // (chains.md §3.2 prints 298.288547486664360000, a float-rounded figure).
    auto first = decode(logs[0]);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(to_hex0x(first->from), "0xc39978a25a9c52c8cc12c0d90e03cd6ab0c8a620");
    EXPECT_EQ(to_hex0x(first->to), "0x8e744ec2795c8b836689d1b4ebe1489204357dac");
    EXPECT_EQ(u256_to_decimal(first->value), "298288547486664359936");
    EXPECT_EQ(Amount(first->value, 18).to_string(), "298.288547486664359936");
}

TEST(CodecAbi, Erc721AndShapesRejected) {
    auto logs = load_bsc_logs();
    ASSERT_FALSE(logs.empty());
    const Log& base = logs[0];

    // ERC721 Transfer: same topic0, tokenId indexed as a 4th topic, empty data.
    Log nft = base;
    nft.topics.push_back("0x0000000000000000000000000000000000000000000000000000000000000457");
    nft.data = "0x";
    auto r = decode(nft);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("ERC721"), std::string::npos);

    Log two = base;
    two.topics.pop_back();
    EXPECT_FALSE(decode(two).ok());
    Log none = base;
    none.topics.clear();
    EXPECT_FALSE(decode(none).ok());

    Log long_data = base;
    long_data.data += "00";
    EXPECT_FALSE(decode(long_data).ok());
    Log two_words = base;
    two_words.data += std::string(64, '0');
    EXPECT_FALSE(decode(two_words).ok());
    Log short_data = base;
    short_data.data.pop_back();
    EXPECT_FALSE(decode(short_data).ok());
    Log bad_hex = base;
    bad_hex.data.back() = 'g';
    EXPECT_FALSE(decode(bad_hex).ok());

    Log high = base;  // address topic with non-zero high bytes
    high.topics[2][2] = '1';
    auto h = decode(high);
    ASSERT_FALSE(h.ok());
    EXPECT_NE(h.error().message.find("high bytes"), std::string::npos);
    Log short_topic = base;
    short_topic.topics[1].pop_back();
    EXPECT_FALSE(decode(short_topic).ok());
}

TEST(CodecAbi, WordValues) {
    std::vector<std::string_view> topics = {
        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
        "0x0000000000000000000000000000000000000000000000000000000000000000",
        "0x000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"};
    std::string max = "0x" + std::string(64, 'f');
    auto r = decode_transfer_log(topics, max);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->value, ~U256(0));
    EXPECT_EQ(r->to, (std::array<std::uint8_t, 20>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
    auto zero = decode_transfer_log(topics, std::string(64, '0'));  // no 0x
    ASSERT_TRUE(zero.ok());
    EXPECT_EQ(zero->value, 0);
    auto one = decode_transfer_log(topics, "0x" + std::string(63, '0') + "1");
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->value, 1);
    std::string pattern = "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    auto p = decode_transfer_log(topics, pattern);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->value, u256_from_hex(pattern).value());
    TransferLog out{};
    EXPECT_TRUE(try_decode_transfer_log(topics, pattern, out));
    EXPECT_EQ(out.value, p->value);
}

TEST(CodecAbi, TopicAddress) {
    Bytes a = from_hex("8e744ec2795c8b836689d1b4ebe1489204357dac").value();
    std::span<const std::uint8_t, 20> s(a.data(), 20);
    std::string t = topic_from_address(s);
    EXPECT_EQ(t, "0x0000000000000000000000008e744ec2795c8b836689d1b4ebe1489204357dac");
    auto back = address_from_topic(t);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(std::equal(back->begin(), back->end(), a.begin()));
    EXPECT_FALSE(address_from_topic("0x0100000000000000000000008e744ec2795c8b836689d1b4ebe1489204357dac").ok());
    EXPECT_FALSE(address_from_topic("0x8e744ec2795c8b836689d1b4ebe1489204357dac").ok());
    EXPECT_FALSE(address_from_topic("").ok());
    EXPECT_FALSE(address_from_topic("0x000000000000000000000000zz744ec2795c8b836689d1b4ebe1489204357dac").ok());
}

TEST(CodecAbi, GarbageNeverCrashes) {
    std::mt19937 rng(3);
    const std::string alphabet = "0123456789abcdefABCDEFxg \x00\xff";
    for (int i = 0; i < 5000; ++i) {
        std::vector<std::string> ts(rng() % 5);
        for (auto& t : ts) {
            t.resize(rng() % 70);
            for (char& c : t) c = alphabet[rng() % alphabet.size()];
        }
        if (!ts.empty() && rng() % 2) ts[0] = "0x" + std::string(kTransferTopicHex);
        std::string data(rng() % 140, '0');
        for (char& c : data) c = alphabet[rng() % alphabet.size()];
        std::vector<std::string_view> views(ts.begin(), ts.end());
        (void)decode_transfer_log(views, data);
    }
}
