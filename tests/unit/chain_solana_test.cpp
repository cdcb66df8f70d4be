// Solana decoding on the real captured payloads (tests/fixtures/solana) and
// on blocks in Agave's getBlock "accounts" shape, and the adapter against a
// scripted JSON-RPC node on 127.0.0.1 (skipped slots, -32004, lagging block
// lists, refused batches, 429, garbage).
#include <gtest/gtest.h>

#include "net_test_server.hpp"
#include "solana_test_chain.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "chain/registry.hpp"
#include "chain/solana/decode.hpp"
#include "chain/solana/solana_adapter.hpp"
#include "codec/base58.hpp"
#include "net/http_client.hpp"
#include "net/jsonrpc.hpp"

using namespace depositd;
using namespace depositd::chain;
using namespace depositd::chain::solana;
using nettest::Reply;
using nettest::Seen;
using nettest::Server;
using soltest::Account;
using soltest::TokenBalance;
using soltest::Tx;

namespace {

std::string read_fixture(const std::string& name) {
    std::ifstream in(std::string(DEPOSITD_FIXTURES) + "/solana/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string watch_key(const std::string& text) {
    auto b = codec::solana_address_bytes(text);
    EXPECT_TRUE(b.ok()) << text;
    return b.ok() ? std::string(b->begin(), b->end()) : std::string();
}

std::vector<TokenSpec> specs(std::vector<config::TokenConfig> cfg) {
    auto t = make_token_specs(cfg);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().describe());
    return t.ok() ? std::move(t).value() : std::vector<TokenSpec>{};
}

// The devnet USDC fixture: BLw3… (fee payer, sender) moves 0.01 USDC from its
// token account G23t… to 644P…, the token account of BXT1K8…, which is not
// among the transaction's account keys.
const char* kDevSender = "BLw3RweJmfbTapJRgnPRvd962YDjFYAnVGd1p5hmZ5tP";
const char* kDevRecipient = "BXT1K8kzYXWMi6ihg7m9UqiHW4iJbJ69zumELHE9oBLe";
const char* kDevUsdc = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";
const char* kDevSig = "3Zj5XkvE1Uec1frjue6SK2ND2cqhKPvPkZ1ZFPwo2v9iL4NX4b4WWG1wPNEQdnJJU8sVx7MMHjSH1HxoR21vEjoV";
// The mainnet ATA-creation fixture: DAXn… pays 2,039,280 lamports of rent
// into the new token account 6X6V… of owner Jp8x… for mint J1Wp…pump.
const char* kAtaOwner = "Jp8xRDtkd8LQwGvPV8z4DdARsCy23Vi9m2dqyqNsszG";
const char* kAtaAccount = "6X6V7GcxuNt6inqFeyC2fKm7JPAqnZAmUAswc4Q5X7Lz";
const char* kAtaMint = "J1Wpmugrooj1yMyQKrdZ2vwRXG5rhfx3vTnYE39gpump";
const char* kAtaPayer = "DAXnAudMEqiD1sS1rFn4ds3pdybRYJd9J58PqCncVVqS";
const char* kUsdt = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB";
const char* kUsdc = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

std::string ata_fixture_result() {
    auto v = json::parse(read_fixture("getTransaction_json_mainnet_create_ata.json"));
    return json::serialize(v.at("result"));
}

struct Decoded {
    Status status;
    std::vector<Transfer> transfers;
    BlockStats stats;
};

Decoded decode_tx(const std::string& entry, const std::vector<TokenSpec>& tokens, const WatchSet& w) {
    Decoded d;
    DecodeContext ctx{tokens, &w, NativeSpec{}, true};
    d.status = decode_transaction(entry, ctx, d.transfers, &d.stats);
    return d;
}

std::string envelope(const json::value& result, std::int64_t id = 1) {
    return json::serialize(json::object{{"jsonrpc", "2.0"}, {"result", result}, {"id", id}});
}
std::string error_envelope(long long code, const std::string& message, json::value id = 1) {
    return json::serialize(json::object{
        {"jsonrpc", "2.0"}, {"error", json::object{{"code", code}, {"message", message}}}, {"id", id}});
}

}  // namespace

// ---------------------------------------------------------------- keys

TEST(SolanaDecode, DecodeKeyAgreesWithBase58) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 2000; ++i) {
        Key32 k;
        for (auto& b : k) b = static_cast<std::uint8_t>(rng());
        const int zeros = i % 5;  // leading zero bytes -> leading '1's
        for (int z = 0; z < zeros; ++z) k[static_cast<std::size_t>(z)] = 0;
        const std::string text = codec::base58_encode(k);
        Key32 out{};
        ASSERT_TRUE(decode_key(text, out)) << text;
        EXPECT_EQ(out, k) << text;
    }
    Key32 out;
    EXPECT_TRUE(decode_key("11111111111111111111111111111111", out));  // System Program: 32 zero bytes
    EXPECT_EQ(out, Key32{});
    EXPECT_TRUE(decode_key(kUsdt, out));
    EXPECT_EQ(codec::solana_address(out), kUsdt);
    EXPECT_FALSE(decode_key("111111111111111111111111111111111", out));  // 33 zero bytes
    EXPECT_FALSE(decode_key("1" + std::string(kUsdt).substr(0, 43), out));  // an extra leading zero byte
    EXPECT_FALSE(decode_key(std::string(kUsdt).substr(0, 40), out));  // fewer bytes
    EXPECT_FALSE(decode_key("Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNY0", out));  // '0' is not base58
    EXPECT_FALSE(decode_key("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", out));  // above 2^256
    EXPECT_FALSE(decode_key("", out));
    // 33 random bytes never decode.
    codec::Bytes big(33, 0xab);
    EXPECT_FALSE(decode_key(codec::base58_encode(big), out));
}

TEST(SolanaDecode, TokenSpecs) {
    auto t = make_token_specs({{"USDT", kUsdt, 6}, {"USDC", kUsdc, 6}});
    ASSERT_TRUE(t.ok());
    EXPECT_EQ((*t)[0].mint_text, kUsdt);
    auto dup = make_token_specs({{"USDT", kUsdt, 6}, {"USDT2", kUsdt, 6}});
    ASSERT_FALSE(dup.ok());
    EXPECT_NE(dup.error().message.find("same mint"), std::string::npos);
    auto bad = make_token_specs({{"BAD", "1Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", 6}});  // 33 bytes
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("BAD"), std::string::npos);
}

// ---------------------------------------------------------------- real fixtures

TEST(SolanaDecode, DevnetUsdcTransferToAnOwnerNotAmongTheAccountKeys) {
    const auto tokens = specs({{"USDC", kDevUsdc, 6}});
    WatchSet w;
    w.insert(watch_key(kDevRecipient), 7);
    auto d = decode_tx(read_fixture("getTransaction_json_devnet_usdc_transfer_result.json"), tokens, w);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    ASSERT_EQ(d.transfers.size(), 1u);
    const Transfer& t = d.transfers[0];
    EXPECT_EQ(t.tx, kDevSig);
    EXPECT_EQ(t.index, 1u);  // 644P…, the recipient's token account
    EXPECT_EQ(t.to, kDevRecipient);
    EXPECT_EQ(t.to_key, watch_key(kDevRecipient));
    EXPECT_EQ(t.from, kDevSender);
    EXPECT_EQ(t.currency, "USDC");
    ASSERT_TRUE(t.contract.has_value());
    EXPECT_EQ(*t.contract, kDevUsdc);
    EXPECT_EQ(t.decimals, 6u);
    EXPECT_EQ(t.amount, U256(10000));  // 60000 -> 70000
    EXPECT_EQ(d.stats.transactions, 1u);
    EXPECT_EQ(d.stats.token_deposits, 1u);
    EXPECT_EQ(d.stats.sol_deposits, 0u);
}

TEST(SolanaDecode, DevnetSenderSeesNothing) {
    // The sender's tokens and lamports (fee) went down: outgoing, not a deposit.
    const auto tokens = specs({{"USDC", kDevUsdc, 6}});
    WatchSet w;
    w.insert(watch_key(kDevSender), 1);
    auto d = decode_tx(read_fixture("getTransaction_json_devnet_usdc_transfer_result.json"), tokens, w);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    EXPECT_TRUE(d.transfers.empty());
}

TEST(SolanaDecode, DevnetUnconfiguredMintIsNoDeposit) {
    const auto tokens = specs({{"USDC", kUsdc, 6}});  // mainnet USDC, not the devnet mint
    WatchSet w;
    w.insert(watch_key(kDevRecipient), 7);
    auto d = decode_tx(read_fixture("getTransaction_json_devnet_usdc_transfer_result.json"), tokens, w);
    ASSERT_TRUE(d.status.ok());
    EXPECT_TRUE(d.transfers.empty());
}

TEST(SolanaDecode, MainnetAtaCreationIsNeitherASolNorATokenDeposit) {
    // Rent (2,039,280 lamports) moves into the new token account; its owner
    // gets a token account holding 0 tokens. Nothing was paid to the owner.
    const auto tokens = specs({{"PUMP", kAtaMint, 6}});
    WatchSet w;
    w.insert(watch_key(kAtaOwner), 1);
    w.insert(watch_key(kAtaAccount), 2);  // even the token account itself, if someone watched it
    auto d = decode_tx(ata_fixture_result(), tokens, w);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    EXPECT_TRUE(d.transfers.empty());
    EXPECT_EQ(d.stats.transactions, 1u);
    // The payer's lamports went down: outgoing.
    WatchSet payer;
    payer.insert(watch_key(kAtaPayer), 3);
    auto p = decode_tx(ata_fixture_result(), tokens, payer);
    ASSERT_TRUE(p.status.ok());
    EXPECT_TRUE(p.transfers.empty());
}

TEST(SolanaDecode, FixtureWithTokensReceivedInTheCreatedAccount) {
    // The same real transaction, with the new account's post balance raised
    // to 5 tokens (what a create-and-transfer looks like): no pre entry = 0.
    auto v = json::parse(ata_fixture_result()).as_object();
    v["meta"].as_object()["postTokenBalances"].as_array()[0].as_object()["uiTokenAmount"].as_object()["amount"] = "5000000";
    const auto tokens = specs({{"PUMP", kAtaMint, 6}});
    WatchSet w;
    w.insert(watch_key(kAtaOwner), 1);
    auto d = decode_tx(json::serialize(v), tokens, w);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    ASSERT_EQ(d.transfers.size(), 1u);
    EXPECT_EQ(d.transfers[0].index, 1u);
    EXPECT_EQ(d.transfers[0].amount, U256(5000000));
    EXPECT_EQ(d.transfers[0].to, kAtaOwner);
    EXPECT_EQ(d.transfers[0].from, "");  // no token account of that mint went down (minted / first funding)
}

// ---------------------------------------------------------------- synthetic (accounts mode)

namespace {

const soltest::Key kAlice = soltest::key("alice");    // watched
const soltest::Key kBob = soltest::key("bob");        // watched
const soltest::Key kPayer = soltest::key("payer");
const soltest::Key kStranger = soltest::key("stranger");
const soltest::Key kMint2022 = soltest::key("mint-2022");
const soltest::Key kOtherMint = soltest::key("other-mint");

std::vector<TokenSpec> test_tokens() {
    return specs({{"USDT", kUsdt, 6}, {"USDC", kUsdc, 6}, {"T22", kMint2022.text, 9}});
}

WatchSet test_watch() {
    WatchSet w;
    w.insert(kAlice.raw, 1);
    w.insert(kBob.raw, 2);
    return w;
}

}  // namespace

TEST(SolanaDecode, V0RecipientFromALookupTable) {
    Tx tx;
    tx.signature = soltest::hash_text("sig-v0");
    tx.v0 = true;
    tx.accounts = {{kPayer.text, 5'000'000'000, 3'999'995'000, false, true, true},
                   {soltest::kSystemProgram, 1, 1, false, false, false},
                   {kStranger.text, 10, 10, true, true, false},
                   {kAlice.text, 0, 1'000'000'000, true, true, false}};  // loaded from a table
    auto tokens = test_tokens();
    auto w = test_watch();
    for (bool accounts_mode : {true, false}) {
        const std::string entry = json::serialize(accounts_mode ? soltest::tx_accounts_json(tx) : soltest::tx_full_json(tx));
        auto d = decode_tx(entry, tokens, w);
        ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
        ASSERT_EQ(d.transfers.size(), 1u) << entry;
        const Transfer& t = d.transfers[0];
        EXPECT_EQ(t.index, 3u);
        EXPECT_EQ(t.to, kAlice.text);
        EXPECT_EQ(t.to_key, kAlice.raw);
        EXPECT_EQ(t.from, kPayer.text);
        EXPECT_EQ(t.currency, "SOL");
        EXPECT_FALSE(t.contract.has_value());
        EXPECT_EQ(t.decimals, 9u);
        EXPECT_EQ(t.amount, U256(1'000'000'000));
        EXPECT_EQ(t.tx, tx.signature);
    }
}

// One transaction paying Alice 2,000,000 lamports and 125.5 USDT.
static std::string sol_and_usdt_tx() {
    const auto aliceUsdt = soltest::key("alice-usdt");
    const auto payerUsdt = soltest::key("payer-usdt");
    Tx tx;
    tx.signature = soltest::hash_text("sig-both");
    tx.accounts = {{kPayer.text, 9'000'000, 6'995'000, false, true, true},
                   {payerUsdt.text, 2'039'280, 2'039'280},
                   {aliceUsdt.text, 2'039'280, 2'039'280},
                   {kAlice.text, 100, 2'000'100},
                   {soltest::kTokenProgram, 1, 1, false, false}};
    tx.pre_tokens = {{1, kUsdt, kPayer.text, "900000000"}, {2, kUsdt, kAlice.text, "1"}};
    tx.post_tokens = {{1, kUsdt, kPayer.text, "774500000"}, {2, kUsdt, kAlice.text, "125500001"}};
    return json::serialize(soltest::tx_accounts_json(tx));
}

TEST(SolanaDecode, SolAndSplInOneTransactionHaveDistinctIndexes) {
    auto tokens = test_tokens();
    auto w = test_watch();
    auto d = decode_tx(sol_and_usdt_tx(), tokens, w);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    ASSERT_EQ(d.transfers.size(), 2u);
    EXPECT_EQ(d.transfers[0].index, 2u);  // USDT: the token account
    EXPECT_EQ(d.transfers[0].currency, "USDT");
    EXPECT_EQ(d.transfers[0].amount, U256(125'500'000));
    EXPECT_EQ(d.transfers[0].from, kPayer.text);
    EXPECT_EQ(d.transfers[1].index, 3u);  // SOL: the wallet
    EXPECT_EQ(d.transfers[1].currency, "SOL");
    EXPECT_EQ(d.transfers[1].amount, U256(2'000'000));
    EXPECT_EQ(d.transfers[1].to, kAlice.text);
    EXPECT_EQ(d.stats.sol_deposits, 1u);
    EXPECT_EQ(d.stats.token_deposits, 1u);
}

TEST(SolanaDecode, TransfersBelowMinAmountAreNotDeposits) {
    // The transaction of the test above, with floors just above each amount.
    const std::string tx = sol_and_usdt_tx();
    auto tokens = test_tokens();
    for (auto& t : tokens)
        if (t.symbol == "USDT") t.min_amount = U256(125'500'001);
    auto w = test_watch();
    Decoded d;
    NativeSpec native;
    native.min_amount = U256(2'000'001);
    DecodeContext ctx{tokens, &w, native, true};
    d.status = decode_transaction(tx, ctx, d.transfers, &d.stats);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    EXPECT_TRUE(d.transfers.empty());
    EXPECT_EQ(d.stats.ignored_dust, 2u);
    // At the floor: deposits.
    native.min_amount = U256(2'000'000);
    for (auto& t : tokens) t.min_amount = U256(125'500'000);
    DecodeContext at{tokens, &w, native, true};
    Decoded d2;
    d2.status = decode_transaction(tx, at, d2.transfers, &d2.stats);
    ASSERT_TRUE(d2.status.ok());
    EXPECT_EQ(d2.transfers.size(), 2u);
}

TEST(SolanaDecode, TokenAccountCreatedInTheSameTransaction) {
    // Create Alice's token account (rent from the payer) and transfer 7 USDC
    // into it: no pre entry, the rent is no SOL deposit to anybody watched.
    const auto ata = soltest::key("alice-usdc-ata");
    const auto payerUsdc = soltest::key("payer-usdc");
    Tx tx;
    tx.signature = soltest::hash_text("sig-create");
    tx.accounts = {{kPayer.text, 50'000'000, 47'955'720, false, true, true},
                   {ata.text, 0, 2'039'280},
                   {kAlice.text, 5, 5, false, false},
                   {payerUsdc.text, 2'039'280, 2'039'280},
                   {kUsdc, 1, 1, false, false}};
    tx.pre_tokens = {{3, kUsdc, kPayer.text, "10000000"}};
    tx.post_tokens = {{1, kUsdc, kAlice.text, "7000000"}, {3, kUsdc, kPayer.text, "3000000"}};
    auto tokens = test_tokens();
    auto w = test_watch();
    w.insert(ata.raw, 9);  // even a watched token account gets no SOL deposit for its rent
    auto d = decode_tx(json::serialize(soltest::tx_accounts_json(tx)), tokens, w);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    ASSERT_EQ(d.transfers.size(), 1u);
    EXPECT_EQ(d.transfers[0].currency, "USDC");
    EXPECT_EQ(d.transfers[0].index, 1u);
    EXPECT_EQ(d.transfers[0].amount, U256(7'000'000));
    EXPECT_EQ(d.transfers[0].to, kAlice.text);
    EXPECT_EQ(d.transfers[0].from, kPayer.text);
}

TEST(SolanaDecode, FailedOutgoingAndUnconfiguredAreIgnored) {
    auto tokens = test_tokens();
    auto w = test_watch();
    const auto bobUsdt = soltest::key("bob-usdt");
    // Failed: balances of a failed tx only show the fee, but even if they showed more, err != null.
    Tx failed;
    failed.signature = soltest::hash_text("sig-failed");
    failed.err = json::parse(R"({"InstructionError":[0,{"Custom":1}]})");
    failed.accounts = {{kPayer.text, 100, 50, false, true, true}, {kBob.text, 0, 50}, {bobUsdt.text, 1, 1}};
    failed.pre_tokens = {{2, kUsdt, kBob.text, "0"}};
    failed.post_tokens = {{2, kUsdt, kBob.text, "99"}};
    // Outgoing: Bob pays.
    Tx outgoing;
    outgoing.signature = soltest::hash_text("sig-out");
    outgoing.accounts = {{kBob.text, 1'000'000, 400'000, false, true, true}, {kStranger.text, 0, 595'000}, {bobUsdt.text, 1, 1}};
    outgoing.pre_tokens = {{2, kUsdt, kBob.text, "500"}};
    outgoing.post_tokens = {{2, kUsdt, kBob.text, "100"}};
    // Unconfigured mint (a look-alike "USDT").
    Tx fake;
    fake.signature = soltest::hash_text("sig-fake");
    fake.accounts = {{kPayer.text, 100, 95, false, true, true}, {bobUsdt.text, 1, 1}};
    fake.pre_tokens = {{1, kOtherMint.text, kBob.text, "0"}};
    fake.post_tokens = {{1, kOtherMint.text, kBob.text, "1000000"}};
    // A string error (unit variant) also means failed.
    Tx failed2 = outgoing;
    failed2.signature = soltest::hash_text("sig-failed2");
    failed2.err = "AccountInUse";
    failed2.accounts[1] = {kAlice.text, 0, 595'000};
    for (const Tx* tx : {&failed, &outgoing, &fake, &failed2}) {
        auto d = decode_tx(json::serialize(soltest::tx_accounts_json(*tx)), tokens, w);
        ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
        EXPECT_TRUE(d.transfers.empty()) << tx->signature;
    }
    auto f = decode_tx(json::serialize(soltest::tx_accounts_json(failed)), tokens, w);
    EXPECT_EQ(f.stats.failed, 1u);
}

TEST(SolanaDecode, TokenAmountsSumOverTheOwnersAccountsAndToken2022) {
    // Bob has two USDT token accounts: +10 on one, -4 on the other (moved
    // between his own accounts in the same tx) = a deposit of 6; the index is
    // the account that went up. A Token-2022 mint is matched the same way.
    const auto b1 = soltest::key("bob-usdt-1"), b2 = soltest::key("bob-usdt-2"), b3 = soltest::key("bob-t22");
    const auto src = soltest::key("src-usdt");
    Tx tx;
    tx.signature = soltest::hash_text("sig-sum");
    tx.accounts = {{kPayer.text, 10, 5, false, true, true}, {b1.text, 1, 1}, {b2.text, 1, 1}, {src.text, 1, 1}, {b3.text, 1, 1}};
    tx.pre_tokens = {{1, kUsdt, kBob.text, "0"}, {2, kUsdt, kBob.text, "4"}, {3, kUsdt, kStranger.text, "6"},
                     {4, kMint2022.text, kBob.text, "1", 9, soltest::kToken2022Program}};
    tx.post_tokens = {{1, kUsdt, kBob.text, "10"}, {2, kUsdt, kBob.text, "0"}, {3, kUsdt, kStranger.text, "0"},
                      {4, kMint2022.text, kBob.text, "18446744073709551615", 9, soltest::kToken2022Program}};
    auto tokens = test_tokens();
    auto w = test_watch();
    auto d = decode_tx(json::serialize(soltest::tx_accounts_json(tx)), tokens, w);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    ASSERT_EQ(d.transfers.size(), 2u);
    EXPECT_EQ(d.transfers[0].index, 1u);
    EXPECT_EQ(d.transfers[0].amount, U256(6));
    EXPECT_EQ(d.transfers[0].from, kStranger.text);
    EXPECT_EQ(d.transfers[1].index, 4u);
    EXPECT_EQ(d.transfers[1].currency, "T22");
    EXPECT_EQ(d.transfers[1].decimals, 9u);
    EXPECT_EQ(d.transfers[1].amount, U256(std::numeric_limits<std::uint64_t>::max() - 1));
    EXPECT_EQ(*d.transfers[1].contract, kMint2022.text);
}

TEST(SolanaDecode, LamportsAreExactAboveTwoToThe53) {
    Tx tx;
    tx.signature = soltest::hash_text("sig-big");
    tx.accounts = {{kPayer.text, 18'000'000'000'000'000'001ull, 9'000'000'000'000'000'000ull, false, true, true},
                   {kAlice.text, 1, 9'000'000'000'000'000'001ull}};
    auto tokens = test_tokens();
    auto w = test_watch();
    auto d = decode_tx(json::serialize(soltest::tx_accounts_json(tx)), tokens, w);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    ASSERT_EQ(d.transfers.size(), 1u);
    EXPECT_EQ(d.transfers[0].amount, U256(9'000'000'000'000'000'000ull));
}

// The watched wallet closes its own USDT account (issue 19): the rent comes
// back to it, a SOL increase in a transaction it signed. Not a deposit, in
// either answer shape; the same lamports paid by someone else are one.
TEST(SolanaDecode, SolIncreaseInATransactionTheWalletSignedIsNoDeposit) {
    const auto ata = soltest::key("usdt-of-" + kAlice.text);
    Tx tx;
    tx.signature = soltest::hash_text("close-account");
    tx.accounts = {{kAlice.text, 1'000'000, 1'000'000 + 2'039'280 - 5'000, false, true, true},  // fee payer, owner
                   {ata.text, 2'039'280, 0},                                                      // closed
                   {soltest::kTokenProgram, 1, 1, false, false}};
    tx.pre_tokens = {{1, kUsdt, kAlice.text, "0"}};
    auto tokens = test_tokens();
    auto w = test_watch();
    for (const auto& entry : {soltest::tx_accounts_json(tx), soltest::tx_full_json(tx)}) {
        auto d = decode_tx(json::serialize(entry), tokens, w);
        ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
        EXPECT_TRUE(d.transfers.empty());
        EXPECT_EQ(d.stats.own_sol, 1u);
    }
    // Someone else's transaction paying Alice the same amount is a deposit.
    Tx paid = tx;
    paid.accounts[0] = {kPayer.text, 10'000'000, 10'000'000 - 2'039'280 - 5'000, false, true, true};
    paid.accounts.insert(paid.accounts.begin() + 1, Account{kAlice.text, 1'000'000, 1'000'000 + 2'039'280});
    paid.accounts[2].post = 2'039'280;  // the token account stays
    paid.pre_tokens = {{2, kUsdt, kAlice.text, "0"}};
    paid.post_tokens = {{2, kUsdt, kAlice.text, "0"}};
    auto d = decode_tx(json::serialize(soltest::tx_accounts_json(paid)), tokens, w);
    ASSERT_TRUE(d.status.ok()) << d.status.error().describe();
    ASSERT_EQ(d.transfers.size(), 1u);
    EXPECT_EQ(d.transfers[0].currency, "SOL");
    EXPECT_EQ(d.transfers[0].index, 1u);
    EXPECT_EQ(d.transfers[0].amount, U256(2'039'280));
}

TEST(SolanaDecode, MalformedTransactionsAreErrorsNeverEmpty) {
    auto tokens = test_tokens();
    auto w = test_watch();
    Tx tx;
    tx.signature = soltest::hash_text("sig-m");
    tx.accounts = {{kPayer.text, 10, 5, false, true, true}, {kAlice.text, 0, 5}};
    tx.pre_tokens = {{1, kUsdt, kAlice.text, "0"}};
    tx.post_tokens = {{1, kUsdt, kAlice.text, "5"}};
    auto base = soltest::tx_accounts_json(tx);
    auto expect_bad = [&](json::object e, const std::string& what) {
        auto d = decode_tx(json::serialize(e), tokens, w);
        ASSERT_FALSE(d.status.ok()) << what;
        EXPECT_EQ(d.status.error().code, Errc::malformed) << what << ": " << d.status.error().describe();
    };
    {
        auto e = base;
        e["meta"].as_object()["postBalances"].as_array().pop_back();
        expect_bad(e, "balance count");
    }
    {
        auto e = base;
        e["meta"].as_object()["postBalances"].as_array()[1] = 5.0;
        expect_bad(e, "double balance");
    }
    {
        auto e = base;
        e["meta"].as_object()["postBalances"].as_array()[1] = -5;
        expect_bad(e, "negative balance");
    }
    {
        auto e = base;
        e["meta"].as_object()["postBalances"].as_array()[1] = "5";
        expect_bad(e, "string balance");
    }
    {
        auto e = base;
        e["meta"] = nullptr;
        expect_bad(e, "meta null");
    }
    {
        auto e = base;
        e.erase("meta");
        expect_bad(e, "meta missing");
    }
    {
        auto e = base;
        e["meta"].as_object()["postTokenBalances"].as_array()[0].as_object()["uiTokenAmount"].as_object()["amount"] = 5;
        expect_bad(e, "amount is a number");
    }
    {
        auto e = base;
        e["meta"].as_object()["postTokenBalances"].as_array()[0].as_object()["uiTokenAmount"].as_object()["amount"] = "5.5";
        expect_bad(e, "amount is not an integer");
    }
    {
        auto e = base;
        e["meta"].as_object()["postTokenBalances"].as_array()[0].as_object()["uiTokenAmount"].as_object()["amount"] =
            "18446744073709551616";
        expect_bad(e, "amount above u64");
    }
    {
        auto e = base;
        e["meta"].as_object()["postTokenBalances"].as_array()[0].as_object()["accountIndex"] = 9;
        expect_bad(e, "accountIndex out of range");
    }
    {
        // A key that must be read (lamports went up) and is not a key. (Keys
        // whose balance did not go up are never decoded.)
        Tx sol;
        sol.signature = soltest::hash_text("sig-k");
        sol.accounts = {{kPayer.text, 10, 5, false, true, true}, {"not-a-key-0OIl", 0, 5}};
        expect_bad(soltest::tx_accounts_json(sol), "bad key");
        sol.accounts[1].key = std::string(43, '1') + "2";  // 44 chars, 33 bytes
        expect_bad(soltest::tx_accounts_json(sol), "33-byte key");
    }
    {
        auto e = base;
        e["transaction"].as_object()["signatures"] = json::array{};
        expect_bad(e, "no signature");
    }
    {
        auto e = base;
        e["meta"].as_object()["preBalances"] = nullptr;
        expect_bad(e, "balances null");
    }
}

// ---------------------------------------------------------------- blocks and envelopes

namespace {

soltest::Block sample_block() {
    soltest::Block b;
    b.slot = 300;
    b.hash = soltest::hash_text("b300");
    b.parent_slot = 298;  // 299 skipped
    b.parent_hash = soltest::hash_text("b298");
    b.time = 1736502537;
    Tx pay;
    pay.signature = soltest::hash_text("s1");
    pay.accounts = {{kPayer.text, 10'000'000, 4'995'000, false, true, true}, {kBob.text, 0, 5'000'000}};
    Tx vote;
    vote.signature = soltest::hash_text("s2");
    vote.accounts = {{kStranger.text, 100, 95, false, true, true}, {soltest::key("vote").text, 7, 7}};
    b.txs = {vote, pay};
    return b;
}

}  // namespace

TEST(SolanaDecode, BlockResponseWithDeposits) {
    auto tokens = test_tokens();
    auto w = test_watch();
    DecodeContext ctx{tokens, &w, NativeSpec{}, true};
    const auto b = sample_block();
    auto r = decode_block_response(envelope(soltest::block_json(b, true), 42), ctx);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_EQ(r->size(), 1u);
    const BlockAnswer& a = (*r)[0];
    EXPECT_EQ(a.id, 42);
    ASSERT_EQ(a.kind, BlockAnswer::Kind::block);
    EXPECT_EQ(a.block.ref.hash, b.hash);
    EXPECT_EQ(a.block.ref.parent, b.parent_hash);
    EXPECT_EQ(a.block.ref.time_ms, 1736502537000);
    EXPECT_EQ(a.block.parent_slot, 298u);
    ASSERT_TRUE(a.block.block_height.has_value());
    EXPECT_EQ(*a.block.block_height, 200u);
    ASSERT_EQ(a.block.transfers.size(), 1u);
    EXPECT_EQ(a.block.transfers[0].tx, soltest::hash_text("s1"));
    EXPECT_EQ(a.block.transfers[0].index, 1u);
    EXPECT_EQ(a.block.transfers[0].amount, U256(5'000'000));
    EXPECT_EQ(a.block.stats.transactions, 2u);

    // Header only (transactionDetails none): no transactions key, no watch set.
    DecodeContext header{tokens, nullptr, NativeSpec{}, false};
    auto h = decode_block_response(envelope(soltest::block_json(b, false), 3), header);
    ASSERT_TRUE(h.ok()) << h.error().describe();
    EXPECT_EQ((*h)[0].block.ref.hash, b.hash);
    EXPECT_TRUE((*h)[0].block.transfers.empty());
    // ...but a scan that asked for transactions never takes a block without them.
    auto missing = decode_block_response(envelope(soltest::block_json(b, false), 3), ctx);
    ASSERT_FALSE(missing.ok());
    // blockTime null is allowed (0).
    auto bj = soltest::block_json(b, true);
    bj["blockTime"] = nullptr;
    auto nt = decode_block_response(envelope(bj), ctx);
    ASSERT_TRUE(nt.ok()) << nt.error().describe();
    EXPECT_EQ((*nt)[0].block.ref.time_ms, 0);
}

TEST(SolanaDecode, ErrorsNullAndBatches) {
    auto tokens = test_tokens();
    auto w = test_watch();
    DecodeContext ctx{tokens, &w, NativeSpec{}, true};
    auto skipped = decode_block_response(
        error_envelope(-32007, "Slot 311350484 was skipped, or missing due to ledger jump to recent snapshot", 5), ctx);
    ASSERT_TRUE(skipped.ok());
    EXPECT_EQ((*skipped)[0].kind, BlockAnswer::Kind::error);
    EXPECT_EQ((*skipped)[0].rpc_code, -32007);
    EXPECT_EQ((*skipped)[0].id, 5);
    EXPECT_TRUE(is_skipped_code((*skipped)[0].rpc_code));
    auto na = decode_block_response(error_envelope(-32004, "Block not available for slot 12"), ctx);
    ASSERT_TRUE(na.ok());
    EXPECT_TRUE(is_not_available_code((*na)[0].rpc_code));
    EXPECT_FALSE(is_skipped_code((*na)[0].rpc_code));
    auto null = decode_block_response(envelope(nullptr), ctx);
    ASSERT_TRUE(null.ok());
    EXPECT_EQ((*null)[0].kind, BlockAnswer::Kind::null_result);

    // A batch answer, out of order, mixing a block, a skipped slot and -32004.
    json::array batch;
    batch.push_back(json::parse(error_envelope(-32004, "Block not available for slot 302", 12)));
    batch.push_back(json::parse(envelope(soltest::block_json(sample_block(), true), 10)));
    batch.push_back(json::parse(error_envelope(-32007, "Slot 301 was skipped", 11)));
    auto br = decode_block_response(json::serialize(batch), ctx);
    ASSERT_TRUE(br.ok()) << br.error().describe();
    ASSERT_EQ(br->size(), 3u);
    EXPECT_EQ((*br)[0].id, 12);
    EXPECT_EQ((*br)[1].id, 10);
    EXPECT_EQ((*br)[1].block.transfers.size(), 1u);
    EXPECT_EQ((*br)[2].rpc_code, -32007);

    // Garbage never becomes a block.
    bool syntax = false;
    auto trunc = decode_block_response(envelope(soltest::block_json(sample_block(), true)).substr(0, 300), ctx, &syntax);
    ASSERT_FALSE(trunc.ok());
    EXPECT_TRUE(syntax);
    auto html = decode_block_response("<html>502 Bad Gateway</html>", ctx, &syntax);
    ASSERT_FALSE(html.ok());
    EXPECT_TRUE(syntax);
    syntax = false;
    auto empty = decode_block_response("{}", ctx, &syntax);
    ASSERT_FALSE(empty.ok());
    EXPECT_FALSE(syntax);
    EXPECT_EQ(empty.error().code, Errc::malformed);
    for (const char* bad : {"[]x", "42", "\"x\"", R"({"jsonrpc":"2.0","id":1,"result":7})",
                            R"({"jsonrpc":"2.0","id":1,"result":{"blockhash":"x"}})",
                            R"({"jsonrpc":"2.0","id":1,"result":{}})"}) {
        auto r = decode_block_response(bad, ctx);
        EXPECT_FALSE(r.ok() && !r->empty() && (*r)[0].kind == BlockAnswer::Kind::block) << bad;
    }
    auto b = soltest::block_json(sample_block(), true);
    b.erase("parentSlot");
    EXPECT_FALSE(decode_block_response(envelope(b), ctx).ok());
    b = soltest::block_json(sample_block(), true);
    b["previousBlockhash"] = "abc";
    EXPECT_FALSE(decode_block_response(envelope(b), ctx).ok());
    b = soltest::block_json(sample_block(), true);
    b["transactions"] = json::array{json::value(7)};
    EXPECT_FALSE(decode_block_response(envelope(b), ctx).ok());
}

TEST(SolanaDecode, SlotListsAndSupply) {
    auto ok = decode_slot_list(json::parse("[5, 6, 9]"), 5, 10);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(*ok, (std::vector<std::uint64_t>{5, 6, 9}));
    EXPECT_FALSE(decode_slot_list(json::parse("[5, 5]"), 5, 10).ok());
    EXPECT_FALSE(decode_slot_list(json::parse("[6, 5]"), 5, 10).ok());
    EXPECT_FALSE(decode_slot_list(json::parse("[4]"), 5, 10).ok());
    EXPECT_FALSE(decode_slot_list(json::parse("[11]"), 5, 10).ok());
    EXPECT_FALSE(decode_slot_list(json::parse("[5.5]"), 5, 10).ok());
    EXPECT_FALSE(decode_slot_list(json::parse("{}"), 5, 10).ok());
    EXPECT_TRUE(decode_slot_list(json::parse("[]"), 5, 10).ok());
    EXPECT_EQ(*decode_slot(json::parse("1234")), 1234u);
    EXPECT_FALSE(decode_slot(json::parse("-1")).ok());
    EXPECT_FALSE(decode_slot(json::parse("null")).ok());
    auto d = decode_token_supply_decimals(json::parse(
        R"({"context":{"slot":1114},"value":{"amount":"100000","decimals":2,"uiAmount":1000,"uiAmountString":"1000"}})"));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, 2u);
    EXPECT_FALSE(decode_token_supply_decimals(json::parse(R"({"value":{}})")).ok());
}

// ---------------------------------------------------------------- the adapter

namespace {

config::ChainConfig sol_cfg(const std::string& url) {
    config::ChainConfig cfg;
    cfg.id = "solana";
    cfg.kind = Protocol::solana;
    cfg.rpc = {url};
    cfg.native = {"SOL", "", 9};
    cfg.tokens = {{"USDT", kUsdt, 6}};
    cfg.finalized = true;
    cfg.max_block_range = 100;
    return cfg;
}

// A scripted node behind a real HTTP server; `fault` may answer first.
struct Rig {
    soltest::Node node;
    std::function<std::optional<Reply>(const Seen&)> fault;
    std::mutex fault_mu;
    Server srv{[this](const Seen& s) -> Reply {
        {
            std::lock_guard lk(fault_mu);
            if (fault)
                if (auto r = fault(s)) return *r;
        }
        return Reply{200, node.handle(s.body)};
    }};
    boost::asio::io_context ioc;
    net::HttpClient http{ioc.get_executor()};
    std::unique_ptr<SolanaAdapter> adapter;

    explicit Rig(std::chrono::milliseconds backoff_max = std::chrono::milliseconds(50), config::ChainConfig cfg = {}) {
        if (cfg.id.empty()) cfg = sol_cfg(srv.url("/"));
        net::JsonRpcOptions o;
        o.endpoints = cfg.rpc;
        o.timeout = std::chrono::seconds(5);
        o.backoff_base = std::chrono::milliseconds(5);
        o.backoff_max = backoff_max;
        o.max_attempts = 3;
        o.name = cfg.id;
        auto a = SolanaAdapter::create(cfg, std::make_unique<net::JsonRpcClient>(http, o));
        EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().describe());
        if (a.ok()) adapter = std::move(a).value();
    }
    void set_fault(std::function<std::optional<Reply>(const Seen&)> f) {
        std::lock_guard lk(fault_mu);
        fault = std::move(f);
    }
    Result<ScanResult> scan(std::uint64_t from, std::uint64_t to, const WatchSet& w) {
        return nettest::run(ioc, adapter->scan(from, to, w));
    }
    Result<BlockAt> block_at(std::uint64_t slot) { return nettest::run(ioc, adapter->block_at(slot)); }
    Result<Head> head() { return nettest::run(ioc, adapter->head()); }
    Status verify() { return nettest::run(ioc, adapter->verify()); }
};

std::vector<std::uint64_t> heights(const ScanResult& r) {
    std::vector<std::uint64_t> h;
    for (const auto& b : r.blocks) h.push_back(b.block.height);
    return h;
}

Tx sol_payment(const std::string& seed, const soltest::Key& to, std::uint64_t lamports) {
    Tx tx;
    tx.signature = soltest::hash_text(seed);
    tx.accounts = {{kPayer.text, 100'000'000'000, 100'000'000'000 - lamports - 5000, false, true, true},
                   {to.text, 1'000, 1'000 + lamports},
                   {soltest::kSystemProgram, 1, 1, false, false}};
    return tx;
}

Tx usdt_payment(const std::string& seed, const soltest::Key& owner, std::uint64_t amount) {
    const auto src = soltest::key("usdt-src"), dst = soltest::key("usdt-of-" + owner.text);
    Tx tx;
    tx.signature = soltest::hash_text(seed);
    tx.accounts = {{kPayer.text, 10'000'000, 9'995'000, false, true, true},
                   {src.text, 2'039'280, 2'039'280},
                   {dst.text, 2'039'280, 2'039'280},
                   {soltest::kTokenProgram, 1, 1, false, false}};
    tx.pre_tokens = {{1, kUsdt, kPayer.text, "1000000000000"}, {2, kUsdt, owner.text, "0"}};
    tx.post_tokens = {{1, kUsdt, kPayer.text, std::to_string(1'000'000'000'000 - amount)},
                      {2, kUsdt, owner.text, std::to_string(amount)}};
    return tx;
}

// 100 .. 110: blocks at 100, 101 (SOL to Alice), 103, 107 (USDT to Bob), 108,
// 110; 102, 104-106 and 109 skipped. Finalized 103.
void build_chain(soltest::Chain& c) {
    std::lock_guard lk(c.mu);
    c.produce(100);
    c.produce(101, {sol_payment("pay-alice", kAlice, 1'500'000'000)});
    c.produce(103);
    c.produce(107, {usdt_payment("usdt-bob", kBob, 125'500'000)});
    c.produce(108);
    c.produce(110);
    c.finalized = 103;
}

}  // namespace

TEST(SolanaAdapter, HeadAndScanOverSkippedSlots) {
    Rig rig;
    ASSERT_TRUE(rig.adapter);
    build_chain(rig.node.chain);
    auto w = test_watch();

    auto h = rig.head();
    ASSERT_TRUE(h.ok()) << h.error().describe();
    EXPECT_EQ(h->height, 110u);
    ASSERT_TRUE(h->finalized.has_value());
    EXPECT_EQ(*h->finalized, 103u);
    EXPECT_EQ(h->finalized_hash, rig.node.chain.blocks.at(103).hash);  // the rooted slot's blockhash

    auto r = rig.scan(101, 110, w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(heights(*r), (std::vector<std::uint64_t>{101, 103, 107, 108, 110}));
    EXPECT_EQ(r->scanned_to, 110u);
    const auto& c = rig.node.chain;
    for (std::size_t i = 0; i < r->blocks.size(); ++i) {
        const auto& b = c.blocks.at(r->blocks[i].block.height);
        EXPECT_EQ(r->blocks[i].block.hash, b.hash);
        EXPECT_EQ(r->blocks[i].block.parent, b.parent_hash);
        EXPECT_EQ(r->blocks[i].block.time_ms, b.time * 1000);
    }
    ASSERT_EQ(r->blocks[0].transfers.size(), 1u);
    EXPECT_EQ(r->blocks[0].transfers[0].currency, "SOL");
    EXPECT_EQ(r->blocks[0].transfers[0].amount, U256(1'500'000'000));
    EXPECT_EQ(r->blocks[0].transfers[0].to, kAlice.text);
    ASSERT_EQ(r->blocks[2].transfers.size(), 1u);
    EXPECT_EQ(r->blocks[2].transfers[0].currency, "USDT");
    EXPECT_EQ(r->blocks[2].transfers[0].amount, U256(125'500'000));
    EXPECT_EQ(r->blocks[2].transfers[0].index, 2u);
    EXPECT_EQ(r->blocks[2].transfers[0].to, kBob.text);

    // One skipped slot, alone: proven by block 110 (parent 108).
    auto one = rig.scan(109, 109, w);
    ASSERT_TRUE(one.ok()) << one.error().describe();
    EXPECT_TRUE(one->blocks.empty());
    EXPECT_EQ(one->scanned_to, 109u);
    // A range of only skipped slots: proven by block 107 (parent 103).
    auto gap = rig.scan(104, 106, w);
    ASSERT_TRUE(gap.ok()) << gap.error().describe();
    EXPECT_TRUE(gap->blocks.empty());
    EXPECT_EQ(gap->scanned_to, 106u);
    // Trailing skipped slots after the last block: proven by 107's parent.
    auto trail = rig.scan(101, 105, w);
    ASSERT_TRUE(trail.ok()) << trail.error().describe();
    EXPECT_EQ(heights(*trail), (std::vector<std::uint64_t>{101, 103}));
    EXPECT_EQ(trail->scanned_to, 105u);
    // Beyond the tip: nothing examined.
    auto beyond = rig.scan(111, 120, w);
    ASSERT_TRUE(beyond.ok()) << beyond.error().describe();
    EXPECT_TRUE(beyond->blocks.empty());
    EXPECT_EQ(beyond->scanned_to, 110u);
    // to < from
    auto none = rig.scan(50, 49, w);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none->scanned_to, 49u);

    // What was asked: getBlocks within range, getBlock in accounts mode for
    // the scan and "none" (header) for the proofs, in batches.
    bool saw_batch = false, saw_header = false;
    for (const auto& s : rig.srv.seen()) {
        auto v = json::parse(s.body);
        if (v.is_array()) saw_batch = true;
        for (const auto& e : v.is_array() ? v.as_array() : json::array{v}) {
            const auto& o = e.as_object();
            if (o.at("method") == "getBlock" && o.at("params").as_array()[1].as_object().at("transactionDetails") == "none")
                saw_header = true;
        }
    }
    EXPECT_TRUE(saw_batch);
    EXPECT_TRUE(saw_header);
    EXPECT_TRUE(rig.adapter->batches_enabled());
}

TEST(SolanaAdapter, TailIsNotClaimedWithoutProof) {
    Rig rig;
    ASSERT_TRUE(rig.adapter);
    build_chain(rig.node.chain);
    auto w = test_watch();
    {
        // 107 was built on 101: 103 is on a dead fork. 104..105 are not proven
        // skipped by it (it does not extend 103).
        std::lock_guard lk(rig.node.chain.mu);
        auto& b = rig.node.chain.blocks.at(107);
        b.parent_slot = 101;
        b.parent_hash = rig.node.chain.blocks.at(101).hash;
    }
    auto r = rig.scan(101, 105, w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(heights(*r), (std::vector<std::uint64_t>{101, 103}));
    EXPECT_EQ(r->scanned_to, 103u);
    // ...and the scan that continues the range stops where the chain does not link.
    auto r2 = rig.scan(101, 110, w);
    ASSERT_TRUE(r2.ok()) << r2.error().describe();
    EXPECT_EQ(heights(*r2), (std::vector<std::uint64_t>{101, 103}));
    EXPECT_EQ(r2->scanned_to, 103u);
}

TEST(SolanaAdapter, LaggingBlockListNeverSkipsABlock) {
    Rig rig;
    ASSERT_TRUE(rig.adapter);
    build_chain(rig.node.chain);
    auto w = test_watch();
    // getBlocks is served by a backend whose confirmed slot is 103 while
    // getSlot said 110: slots 104..110 must not be reported as scanned.
    rig.node.list_cap = 103;
    auto r = rig.scan(101, 110, w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(heights(*r), (std::vector<std::uint64_t>{101, 103}));
    EXPECT_EQ(r->scanned_to, 103u);
    auto r0 = rig.scan(104, 110, w);
    ASSERT_TRUE(r0.ok()) << r0.error().describe();
    EXPECT_TRUE(r0->blocks.empty());
    EXPECT_EQ(r0->scanned_to, 103u);  // nothing examined
    rig.node.list_cap.reset();
    auto r1 = rig.scan(104, 110, w);
    ASSERT_TRUE(r1.ok()) << r1.error().describe();
    EXPECT_EQ(heights(*r1), (std::vector<std::uint64_t>{107, 108, 110}));
    EXPECT_EQ(r1->scanned_to, 110u);
    EXPECT_EQ(r1->blocks[0].transfers.size(), 1u);

    // A block missing from the list in the middle: the result stops before
    // its child; a range starting after the missing block is an error.
    rig.node.unlisted = {107};
    auto m = rig.scan(101, 110, w);
    ASSERT_TRUE(m.ok()) << m.error().describe();
    EXPECT_EQ(heights(*m), (std::vector<std::uint64_t>{101, 103}));
    EXPECT_EQ(m->scanned_to, 103u);
    auto m2 = rig.scan(104, 110, w);
    ASSERT_FALSE(m2.ok());
    EXPECT_EQ(m2.error().code, Errc::conflict);
    // The missing block is the first of the list's tail: the proof finds no
    // later block whose parent is the last one; nothing past it is claimed.
    auto m3 = rig.scan(104, 106, w);
    ASSERT_TRUE(m3.ok()) << m3.error().describe();
    EXPECT_EQ(m3->scanned_to, 103u);
}

TEST(SolanaAdapter, BlockNotAvailableIsRetriedNeverSkipped) {
    Rig rig;
    ASSERT_TRUE(rig.adapter);
    build_chain(rig.node.chain);
    auto w = test_watch();
    rig.node.not_available = {107};  // listed, but this backend answers -32004
    auto r = rig.scan(101, 110, w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(heights(*r), (std::vector<std::uint64_t>{101, 103}));
    EXPECT_EQ(r->scanned_to, 103u);  // 104..106 not claimed either: 107's parent is unknown
    auto r2 = rig.scan(104, 110, w);
    ASSERT_TRUE(r2.ok()) << r2.error().describe();
    EXPECT_TRUE(r2->blocks.empty());
    EXPECT_EQ(r2->scanned_to, 103u);
    // Not available for a proof either.
    auto r3 = rig.scan(104, 106, w);
    ASSERT_TRUE(r3.ok());
    EXPECT_EQ(r3->scanned_to, 103u);
    rig.node.not_available.clear();
    auto r4 = rig.scan(104, 110, w);
    ASSERT_TRUE(r4.ok()) << r4.error().describe();
    EXPECT_EQ(heights(*r4), (std::vector<std::uint64_t>{107, 108, 110}));
    EXPECT_EQ(r4->blocks[0].transfers.size(), 1u);

    // A listed slot that getBlock calls skipped: a contradiction, not a skip.
    {
        std::lock_guard lk(rig.node.chain.mu);
        rig.node.chain.finalized = 110;
    }
    rig.set_fault([](const Seen& s) -> std::optional<Reply> {
        if (s.body.find("\"getBlock\"") != std::string::npos && s.body.find("108") != std::string::npos &&
            s.body.front() == '{')
            return Reply{200, R"({"jsonrpc":"2.0","error":{"code":-32007,"message":"Slot 108 was skipped"},"id":)" +
                                  std::string(json::serialize(json::parse(s.body).at("id"))) + "}"};
        return std::nullopt;
    });
    rig.node.batches = false;
    auto r5 = rig.scan(108, 110, w);
    ASSERT_FALSE(r5.ok());
    EXPECT_EQ(r5.error().code, Errc::conflict);
}

TEST(SolanaAdapter, BlockAtTellsBlockSkippedAndUnknownApart) {
    Rig rig;
    ASSERT_TRUE(rig.adapter);
    build_chain(rig.node.chain);
    auto b = rig.block_at(107);
    ASSERT_TRUE(b.ok()) << b.error().describe();
    ASSERT_EQ(b->presence, Presence::block);
    EXPECT_EQ(b->ref.height, 107u);
    EXPECT_EQ(b->ref.hash, rig.node.chain.blocks.at(107).hash);
    EXPECT_EQ(b->ref.parent, rig.node.chain.blocks.at(103).hash);
    auto sk = rig.block_at(102);  // below the finalized slot: -32007
    ASSERT_TRUE(sk.ok()) << sk.error().describe();
    EXPECT_EQ(sk->presence, Presence::skipped);
    // Above the finalized slot getBlock says -32004; 105 is skipped all the
    // same because confirmed block 107's parent is 103.
    auto na = rig.block_at(105);
    ASSERT_TRUE(na.ok()) << na.error().describe();
    EXPECT_EQ(na->presence, Presence::skipped);
    auto tip = rig.block_at(500);  // beyond the tip: nothing after it yet
    ASSERT_TRUE(tip.ok());
    EXPECT_EQ(tip->presence, Presence::unknown);
    auto last_gap = rig.block_at(109);  // skipped, proven by 110 (parent 108)
    ASSERT_TRUE(last_gap.ok());
    EXPECT_EQ(last_gap->presence, Presence::skipped);
    rig.node.not_available = {107};  // a lagging backend: 107 is still listed, so not skipped
    auto lag = rig.block_at(107);
    ASSERT_TRUE(lag.ok());
    EXPECT_EQ(lag->presence, Presence::unknown);
    rig.node.not_available.clear();

    // -32007 is not proof of a skip (issue 19): Agave answers it for a
    // ledger gap after a snapshot boot too ("missing due to ledger jump to
    // recent snapshot"), and -32009 for a hole in long-term storage.
    for (const long long code : {-32007LL, -32009LL}) {
        rig.set_fault([code](const Seen& s) -> std::optional<Reply> {
            auto v = json::parse(s.body);
            if (!v.is_object() || v.at("method").as_string() != "getBlock" || v.at("params").at(0).to_number<int>() != 107)
                return std::nullopt;
            return Reply{200, R"({"jsonrpc":"2.0","error":{"code":)" + std::to_string(code) +
                                  R"(,"message":"Slot 107 was skipped, or missing due to ledger jump to recent snapshot"},"id":)" +
                                  json::serialize(v.at("id")) + "}"};
        });
        auto gap = rig.block_at(107);  // still listed by getBlocksWithLimit: not passed over
        ASSERT_TRUE(gap.ok()) << gap.error().describe();
        EXPECT_EQ(gap->presence, Presence::unknown) << code;
        rig.node.unlisted = {107};  // the gap is in the block list too: 108's parent is still 107
        auto hole = rig.block_at(107);
        ASSERT_TRUE(hole.ok()) << hole.error().describe();
        EXPECT_EQ(hole->presence, Presence::unknown) << code;
        rig.node.unlisted.clear();
        rig.set_fault(nullptr);
    }

    // A slot that fork choice drops before finality: getBlock answers -32004,
    // but the confirmed chain passes over it as soon as a block of the other
    // fork is confirmed; before that it is unknown, never skipped.
    {
        std::lock_guard lk(rig.node.chain.mu);
        rig.node.chain.blocks.erase(108);
        rig.node.chain.blocks.erase(110);
        rig.node.chain.branch = "b";
        rig.node.chain.confirmed = 107;
    }
    auto pending = rig.block_at(108);
    ASSERT_TRUE(pending.ok());
    EXPECT_EQ(pending->presence, Presence::unknown);
    {
        std::lock_guard lk(rig.node.chain.mu);
        rig.node.chain.produce(111);  // built on 107
    }
    auto dropped = rig.block_at(108);
    ASSERT_TRUE(dropped.ok());
    EXPECT_EQ(dropped->presence, Presence::skipped);
    EXPECT_EQ(rig.block_at(110)->presence, Presence::skipped);
    rig.node.chain.finalized = 111;
    auto gone = rig.block_at(108);  // rooted past: -32007
    ASSERT_TRUE(gone.ok());
    EXPECT_EQ(gone->presence, Presence::skipped);
    // A later block whose parent is NOT below the slot proves nothing.
    rig.node.unlisted = {111};
    {
        std::lock_guard lk(rig.node.chain.mu);
        rig.node.chain.finalized = 103;
        rig.node.chain.produce(112);  // parent 111, unlisted: getBlocksWithLimit(108) -> [112]
    }
    EXPECT_EQ(rig.block_at(108)->presence, Presence::unknown);
    // null result (Agave: confirmed but the blockstore cannot serve it yet).
    rig.set_fault([](const Seen& s) -> std::optional<Reply> {
        auto v = json::parse(s.body);
        return Reply{200, R"({"jsonrpc":"2.0","result":null,"id":)" + json::serialize(v.at("id")) + "}"};
    });
    auto nul = rig.block_at(107);
    ASSERT_TRUE(nul.ok());
    EXPECT_EQ(nul->presence, Presence::unknown);
}

TEST(SolanaAdapter, RefusedBatchesFallBackToSingleCalls) {
    Rig rig;
    ASSERT_TRUE(rig.adapter);
    build_chain(rig.node.chain);
    rig.node.batches = false;
    auto w = test_watch();
    auto r = rig.scan(100, 110, w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(heights(*r), (std::vector<std::uint64_t>{100, 101, 103, 107, 108, 110}));
    EXPECT_EQ(r->scanned_to, 110u);
    EXPECT_FALSE(rig.adapter->batches_enabled());
    EXPECT_EQ(rig.node.batch_requests, 1);
    auto r2 = rig.scan(100, 110, w);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(r2->blocks.size(), 6u);
    EXPECT_EQ(rig.node.batch_requests, 1);  // never again
    std::size_t deposits = 0;
    for (const auto& b : r2->blocks) deposits += b.transfers.size();
    EXPECT_EQ(deposits, 2u);
}

TEST(SolanaAdapter, RateLimitsAndGarbageAreRetriedOrErrorsNeverBlocks) {
    Rig rig(std::chrono::milliseconds(3000));
    ASSERT_TRUE(rig.adapter);
    build_chain(rig.node.chain);
    auto w = test_watch();
    // 1. HTTP 429 with Retry-After: 1 on the first getBlock request: waited out.
    std::atomic<int> n429{0};
    rig.set_fault([&](const Seen& s) -> std::optional<Reply> {
        if (s.body.find("\"getBlock\"") != std::string::npos && n429++ == 0)
            return Reply{429, R"({"jsonrpc":"2.0","error":{"code":429,"message":"Too many requests for a specific RPC call"},"id":null})",
                         {{"Retry-After", "1"}}};
        return std::nullopt;
    });
    auto r = rig.scan(101, 110, w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->blocks.size(), 5u);
    {
        std::vector<std::chrono::steady_clock::time_point> at;
        for (const auto& s : rig.srv.seen())
            if (s.body.find("\"getBlock\"") != std::string::npos) at.push_back(s.at);
        ASSERT_GE(at.size(), 2u);
        EXPECT_GE(at[1] - at[0], std::chrono::milliseconds(950));  // Retry-After honoured
    }
    // 2. A JSON-RPC 429 error (rpcpool style) inside HTTP 200, then garbage,
    // then a truncated body: retried, and the result is whole.
    std::atomic<int> k{0};
    rig.node.batches = false;
    rig.set_fault([&](const Seen& s) -> std::optional<Reply> {
        // Single calls only (the first batch is refused by the node: the adapter
        // switches to single calls); every other call is a fault, retried.
        if (s.body.front() != '{' || s.body.find("\"getBlock\"") == std::string::npos) return std::nullopt;
        const std::string id = json::serialize(json::parse(s.body).at("id"));
        switch (k++) {
            case 0: return Reply{200, R"({"jsonrpc":"2.0","error":{"code":429,"message":"Connection rate limits exceeded, contact your app developer or support@rpcpool.com."},"id":)" + id + "}"};
            case 2: return Reply{200, "<html><body>502 Bad Gateway</body></html>"};
            case 4: return Reply{200, R"({"jsonrpc":"2.0","result":{"blockHeight":1,"blockTime":17000)"};
            default: return std::nullopt;
        }
    });
    auto r2 = rig.scan(101, 110, w);
    ASSERT_TRUE(r2.ok()) << r2.error().describe();
    EXPECT_EQ(heights(*r2), (std::vector<std::uint64_t>{101, 103, 107, 108, 110}));
    EXPECT_EQ(r2->blocks[0].transfers.size(), 1u);
    EXPECT_GE(k.load(), 5);
    // 3. {} and a wrong id are never blocks: errors.
    rig.set_fault([&](const Seen& s) -> std::optional<Reply> {
        if (s.body.find("\"getBlock\"") != std::string::npos) return Reply{200, "{}"};
        return std::nullopt;
    });
    auto r3 = rig.scan(101, 110, w);
    ASSERT_FALSE(r3.ok());
    EXPECT_EQ(r3.error().code, Errc::malformed);
    rig.set_fault([&](const Seen& s) -> std::optional<Reply> {
        if (s.body.find("\"getBlocks\"") != std::string::npos) return Reply{200, R"({"jsonrpc":"2.0","result":{},"id":1})"};
        return std::nullopt;
    });
    EXPECT_FALSE(rig.scan(101, 110, w).ok());
    rig.set_fault([&](const Seen& s) -> std::optional<Reply> {
        if (s.body.find("\"getBlock\"") != std::string::npos)
            return Reply{200, R"({"jsonrpc":"2.0","result":null,"id":999999})"};
        return std::nullopt;
    });
    EXPECT_FALSE(rig.scan(101, 110, w).ok());
    // 4. getSlot garbage: no head.
    rig.set_fault([&](const Seen& s) -> std::optional<Reply> {
        if (s.body.find("\"getSlot\"") != std::string::npos) return Reply{200, R"({"jsonrpc":"2.0","result":"x","id":1})"};
        return std::nullopt;
    });
    EXPECT_FALSE(rig.head().ok());
}

TEST(SolanaAdapter, RangeIsCappedByMaxBlockRange) {
    auto cfg = sol_cfg("");
    Rig probe;  // for its URL
    cfg.rpc = {probe.srv.url("/")};
    cfg.max_block_range = 3;
    Rig rig(std::chrono::milliseconds(50), cfg);
    (void)probe;
    ASSERT_TRUE(rig.adapter);
    build_chain(probe.node.chain);
    auto w = test_watch();
    auto r = nettest::run(rig.ioc, rig.adapter->scan(101, 110, w));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(heights(*r), (std::vector<std::uint64_t>{101, 103}));
    EXPECT_EQ(r->scanned_to, 103u);  // 101..103
    for (const auto& s : probe.srv.seen()) {
        auto v = json::parse(s.body);
        if (v.is_object() && v.at("method") == "getBlocks") {
            const auto& p = v.at("params").as_array();
            EXPECT_EQ(p[1].to_number<std::uint64_t>() - p[0].to_number<std::uint64_t>(), 2u);
        }
    }
    cfg.max_block_range = 10'000'000;
    auto big = SolanaAdapter::create(cfg, std::make_unique<net::JsonRpcClient>(rig.http, net::JsonRpcOptions{}));
    ASSERT_TRUE(big.ok());
    EXPECT_EQ((*big)->range(), SolanaAdapter::kMaxSlotRange);
}

TEST(SolanaAdapter, VerifyChecksMintDecimals) {
    Rig rig;
    ASSERT_TRUE(rig.adapter);
    build_chain(rig.node.chain);
    auto ok = rig.verify();
    EXPECT_TRUE(ok.ok()) << ok.error().describe();
    rig.node.mint_decimals = 9;
    auto wrong = rig.verify();
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, Errc::invalid_input);
    EXPECT_NE(wrong.error().message.find("USDT"), std::string::npos);
    EXPECT_NE(wrong.error().message.find("9 decimals"), std::string::npos);
    rig.node.mint_decimals = 6;
    rig.node.mints.clear();
    auto notmint = rig.verify();
    ASSERT_FALSE(notmint.ok());
    EXPECT_EQ(notmint.error().code, Errc::invalid_input);
}

TEST(SolanaRegistry, SolanaKindMakesASolanaAdapter) {
    boost::asio::io_context ioc;
    net::HttpClient http(ioc.get_executor());
    auto cfg = sol_cfg("http://127.0.0.1:1");
    auto a = make_adapter(cfg, http);
    ASSERT_TRUE(a.ok()) << a.error().describe();
    EXPECT_NE(dynamic_cast<SolanaAdapter*>(a->get()), nullptr);
    auto bad = cfg;
    bad.tokens = {{"USDT", "1Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", 6}};
    auto b = make_adapter(bad, http);
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.error().message.find("USDT"), std::string::npos);
    auto dec = cfg;
    dec.native.decimals = 6;
    auto d = make_adapter(dec, http);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().message.find("9 decimals"), std::string::npos);
}

TEST(SolanaAdapter, GarbageAnswersToABatchAreNotARefusal) {
    Rig rig;
    ASSERT_TRUE(rig.adapter);
    build_chain(rig.node.chain);
    auto w = test_watch();
    std::atomic<int> k{0};
    rig.set_fault([&](const Seen& s) -> std::optional<Reply> {
        if (s.body.front() != '[') return std::nullopt;
        switch (k++) {
            case 0: return Reply{200, "{}"};                         // not a batch answer: that slot alone, then batches again
            case 1: return Reply{200, "<html>502 Bad Gateway</html>"};  // transport: retried at once
            case 2: return Reply{200, "[{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":"};  // truncated: same
            default: return std::nullopt;
        }
    });
    auto r = rig.scan(100, 110, w);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(heights(*r), (std::vector<std::uint64_t>{100, 101, 103, 107, 108, 110}));
    EXPECT_EQ(r->scanned_to, 110u);
    EXPECT_TRUE(rig.adapter->batches_enabled());
    EXPECT_GE(k.load(), 4);
    std::size_t deposits = 0;
    for (const auto& b : r->blocks) deposits += b.transfers.size();
    EXPECT_EQ(deposits, 2u);
}

TEST(SolanaAdapter, NewerTransactionVersionIsAskedForNotSkipped) {
    // chains.md §5.3: a node holding version 1 transactions refuses the whole
    // getBlock asked with maxSupportedTransactionVersion 0 (-32015). The
    // adapter asks again with 1 (batched or not); the block is never skipped.
    for (bool batches : {true, false}) {
        Rig rig;
        ASSERT_TRUE(rig.adapter);
        build_chain(rig.node.chain);
        rig.node.batches = batches;
        rig.node.v1_slots = {107};
        auto w = test_watch();
        auto r = rig.scan(100, 110, w);
        ASSERT_TRUE(r.ok()) << r.error().describe();
        EXPECT_EQ(heights(*r), (std::vector<std::uint64_t>{100, 101, 103, 107, 108, 110}));
        ASSERT_EQ(r->blocks[3].transfers.size(), 1u);  // the USDT deposit in 107
        EXPECT_EQ(rig.adapter->max_transaction_version(), 1u);
        EXPECT_GT(rig.node.max_version_seen[1], 0);
        auto b = rig.block_at(107);
        ASSERT_TRUE(b.ok());
        EXPECT_EQ(b->presence, Presence::block);
    }
}
