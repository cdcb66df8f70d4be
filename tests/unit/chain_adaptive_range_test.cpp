// The adaptive block range shared by EVM's eth_getLogs and TRON's
// getblockbylimitnext: shrinks at once on "too large", grows back slowly.
#include <gtest/gtest.h>

#include "chain/adaptive_range.hpp"

using depositd::chain::AdaptiveRange;

TEST(AdaptiveRange, StartsAtTheMaximumAndCapsTheEnd) {
    AdaptiveRange r(100);
    EXPECT_EQ(r.span(), 100u);
    EXPECT_EQ(r.end(1000, 5000), 1099u);
    EXPECT_EQ(r.end(1000, 1010), 1010u);  // never past `to`
    EXPECT_EQ(r.end(7, 7), 7u);
    EXPECT_EQ(AdaptiveRange(0).span(), 1u);  // at least one block
}

TEST(AdaptiveRange, RefusedHalvesOrTakesTheSuggestionThenGrowsBack) {
    AdaptiveRange r(100, 3);
    auto e = r.refused(1000, 1099);
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, 1049u);
    EXPECT_EQ(r.span(), 50u);
    e = r.refused(1000, 1049, 1009u);  // the provider names an end inside the range
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, 1009u);
    EXPECT_EQ(r.span(), 10u);
    e = r.refused(1000, 1009, 5000u);  // a suggestion outside the range is ignored
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, 1004u);
    EXPECT_FALSE(r.refused(1000, 1000));  // one block cannot shrink
    EXPECT_EQ(r.span(), 5u);
    // Grows back after 3 answered requests in a row, doubling, up to the maximum.
    EXPECT_FALSE(r.succeeded());
    EXPECT_FALSE(r.succeeded());
    EXPECT_TRUE(r.succeeded());
    EXPECT_EQ(r.span(), 10u);
    r.shrink_to(4);  // a failure resets the calm count
    EXPECT_EQ(r.span(), 4u);
    EXPECT_FALSE(r.succeeded());
    EXPECT_FALSE(r.succeeded());
    EXPECT_TRUE(r.succeeded());
    EXPECT_EQ(r.span(), 8u);
    for (int i = 0; i < 40; ++i) r.succeeded();
    EXPECT_EQ(r.span(), 100u);
    EXPECT_FALSE(r.succeeded());
}
