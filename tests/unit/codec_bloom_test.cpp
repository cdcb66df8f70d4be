// The 2048-bit logs bloom (Yellow Paper M3:2048) against real receipts of four
// mainnets: each receipt's `logsBloom`, as its node computed it, must equal the
// bloom rebuilt here from its `logs` (address + every topic).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "codec/bloom.hpp"
#include "codec/hex.hpp"
#include "core/json.hpp"

using namespace depositd;
using namespace depositd::codec;

namespace {

json::object load_receipt(const std::string& name) {
    std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/evm/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = json::parse_bounded(ss.str());
    EXPECT_TRUE(v.ok()) << name;
    if (!v.ok()) return {};
    return v->as_object().at("result").as_object();
}

Bytes bytes_of(const json::value& v) {
    auto b = from_hex(std::string_view(v.as_string().data(), v.as_string().size()));
    EXPECT_TRUE(b.ok());
    return b.ok() ? *b : Bytes{};
}

LogsBloom bloom_of_logs(const json::array& logs) {
    LogsBloom b;
    for (const auto& l : logs) {
        const auto& o = l.as_object();
        b.add(bytes_of(o.at("address")));
        for (const auto& t : o.at("topics").as_array()) b.add(bytes_of(t));
    }
    return b;
}

class RealReceipts : public ::testing::TestWithParam<std::string> {};

TEST_P(RealReceipts, BloomOfLogsEqualsNodeBloom) {
    const auto r = load_receipt(GetParam());
    const auto& logs = r.at("logs").as_array();
    ASSERT_FALSE(logs.empty());
    auto node = LogsBloom::from_hex(std::string_view(r.at("logsBloom").as_string().data(), r.at("logsBloom").as_string().size()));
    ASSERT_TRUE(node.ok()) << node.error().describe();
    EXPECT_FALSE(node->empty());
    const LogsBloom ours = bloom_of_logs(logs);
    EXPECT_EQ(ours, *node) << GetParam();
    EXPECT_TRUE(ours.covers(*node));
    EXPECT_TRUE(node->covers(ours));

    // Every element of every log tests "maybe".
    for (const auto& l : logs) {
        EXPECT_TRUE(node->may_contain(bytes_of(l.as_object().at("address"))));
        for (const auto& t : l.as_object().at("topics").as_array()) EXPECT_TRUE(node->may_contain(bytes_of(t)));
    }
    // A subset of the logs is covered by the node's bloom; an empty answer
    // does not cover a non-empty bloom (the completeness check's signal).
    json::array fewer = logs;
    fewer.pop_back();
    const LogsBloom partial = bloom_of_logs(fewer);
    EXPECT_TRUE(node->covers(partial));
    EXPECT_FALSE(LogsBloom{}.covers(*node));
}

INSTANTIATE_TEST_SUITE_P(Mainnets, RealReceipts,
                         ::testing::Values("ethereum_eth_getTransactionReceipt_0xcd718a69.json",
                                           "polygon_eth_getTransactionReceipt_0x6d755989.json",
                                           "bsc_eth_getTransactionReceipt_0xfdfe964c.json",
                                           "arbitrum_eth_getTransactionReceipt_0x21be7a93.json"));

TEST(LogsBloom, EthereumReceiptExactBitsAndAbsentElements) {
    const auto r = load_receipt("ethereum_eth_getTransactionReceipt_0xcd718a69.json");
    auto node = LogsBloom::from_hex(std::string_view(r.at("logsBloom").as_string().data(), r.at("logsBloom").as_string().size()));
    ASSERT_TRUE(node.ok());
    // 4 logs; each element sets at most 3 bits.
    std::size_t elements = 0;
    for (const auto& l : r.at("logs").as_array()) elements += 1 + l.as_object().at("topics").as_array().size();
    EXPECT_LE(node->bits_set(), 3 * elements);
    EXPECT_GE(node->bits_set(), 3u);
    // Addresses that are certainly absent: a sparse bloom rejects them.
    std::size_t rejected = 0;
    for (int i = 1; i <= 64; ++i) {
        Bytes a(20, 0);
        a[19] = static_cast<std::uint8_t>(i);
        if (!node->may_contain(a)) ++rejected;
    }
    EXPECT_GE(rejected, 60u);
}

TEST(LogsBloom, BitPositionsFollowTheYellowPaper) {
    // keccak256 of the empty string is c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470:
    // pairs c5d2, 4601, 86f7 -> 11-bit values 0x5d2, 0x601, 0x6f7 (bit index from the end).
    const BloomBits b = bloom_bits({});
    const unsigned bits[3] = {0x5d2, 0x601, 0x6f7};
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(b.byte[i], 255 - bits[i] / 8);
        EXPECT_EQ(b.mask[i], 1u << (bits[i] % 8));
    }
    LogsBloom one;
    one.add(b);
    EXPECT_EQ(one.bits_set(), 3u);
    EXPECT_TRUE(one.may_contain(b));
}

TEST(LogsBloom, RejectsMalformedText) {
    EXPECT_FALSE(LogsBloom::from_hex("0x00").ok());
    EXPECT_FALSE(LogsBloom::from_hex(std::string(514, '0')).ok());  // no 0x
    EXPECT_FALSE(LogsBloom::from_hex("0x" + std::string(511, '0') + "g").ok());
    auto zero = LogsBloom::from_hex("0x" + std::string(512, '0'));
    ASSERT_TRUE(zero.ok());
    EXPECT_TRUE(zero->empty());
    EXPECT_TRUE(zero->covers(LogsBloom{}));
}

}  // namespace
