// lib/orders: EPay and epusdt MD5 signatures against worked examples.
#include <gtest/gtest.h>

#include "core/json.hpp"
#include "orders/merchant.hpp"
#include "orders/signing.hpp"

using namespace depositd;
using namespace depositd::orders;

TEST(OrdersSigning, Md5) {
    EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(md5_hex("The quick brown fox jumps over the lazy dog"), "9e107d9d372bb6826bd81d3542a419d6");
}

TEST(OrdersSigning, EpusdtWikiExample) {
    // assimon/epusdt wiki/API.md: token epusdt_password_xasddawqe.
    auto body = json::parse(R"({"order_id":"20220201030210321","amount":42,"notify_url":"http://example.com/notify",
                                "redirect_url":"http://example.com/redirect"})").as_object();
    EXPECT_EQ(*epusdt_sign_input(body),
              "amount=42&notify_url=http://example.com/notify&order_id=20220201030210321&redirect_url=http://example.com/redirect");
    EXPECT_EQ(*epusdt_sign(body, "epusdt_password_xasddawqe"), "1cd4b52df5587cfb1968b0c0c6e156cd");
    // The signature itself, nulls and empty strings take no part; numbers are shortest.
    body["signature"] = "whatever";
    body["extra"] = nullptr;
    body["empty"] = "";
    EXPECT_EQ(*epusdt_sign(body, "epusdt_password_xasddawqe"), "1cd4b52df5587cfb1968b0c0c6e156cd");
    body["amount"] = 42.0;
    EXPECT_EQ(*epusdt_sign(body, "epusdt_password_xasddawqe"), "1cd4b52df5587cfb1968b0c0c6e156cd");
    auto decimal = json::parse(R"({"amount":70.50})").as_object();
    EXPECT_EQ(*epusdt_sign_input(decimal), "amount=70.5");
    auto boolean = json::parse(R"({"amount":1,"flag":true})").as_object();
    EXPECT_FALSE(epusdt_sign(boolean, "k").ok());
}

TEST(OrdersSigning, EpayParametersSortedWithoutEmptyOrSign) {
    // Expected value computed independently: printf '%s' '<input>k3y_0123456789' | md5sum
    Params p = {{"pid", "1001"},          {"type", "usdt.tron"},
                {"out_trade_no", "SHOP-123"}, {"notify_url", "https://shop.example/notify"},
                {"return_url", "https://shop.example/return"}, {"name", "VIP会员"},
                {"money", "70.00"},       {"sitename", ""},
                {"sign_type", "MD5"},     {"sign", "ignored"}};
    EXPECT_EQ(epay_sign_input(p),
              "money=70.00&name=VIP会员&notify_url=https://shop.example/notify&out_trade_no=SHOP-123&pid=1001&"
              "return_url=https://shop.example/return&type=usdt.tron");
    EXPECT_EQ(epay_sign(p, "k3y_0123456789"), "a19ecf7acb62e0ec371cf45077ea8b43");
}

TEST(OrdersSigning, ConstantTimeComparisonIgnoresCase) {
    EXPECT_TRUE(signature_equal("A19ECF7ACB62E0EC371CF45077EA8B43", "a19ecf7acb62e0ec371cf45077ea8b43"));
    EXPECT_FALSE(signature_equal("a19ecf7acb62e0ec371cf45077ea8b4", "a19ecf7acb62e0ec371cf45077ea8b43"));
    EXPECT_FALSE(signature_equal("b19ecf7acb62e0ec371cf45077ea8b43", "a19ecf7acb62e0ec371cf45077ea8b43"));
    EXPECT_FALSE(signature_equal("", ""));
}

TEST(OrdersSigning, QueryAppending) {
    EXPECT_EQ(append_query("https://shop.example/notify", {{"a", "1"}, {"name", "VIP 会员&x"}}),
              "https://shop.example/notify?a=1&name=VIP%20%E4%BC%9A%E5%91%98%26x");
    EXPECT_EQ(append_query("https://shop.example/n?x=1", {{"a", "1"}}), "https://shop.example/n?x=1&a=1");
    EXPECT_EQ(append_query("https://shop.example/n?", {{"a", "1"}}), "https://shop.example/n?a=1");
}

TEST(OrdersSigning, RawJsonMembers) {
    EXPECT_EQ(json_object_text({{"a", "x\"y"}, {"n", "70.5", true}}), R"({"a":"x\"y","n":70.5})");
}
