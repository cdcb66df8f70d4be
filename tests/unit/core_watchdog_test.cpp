// The liveness rule behind the systemd watchdog (core/watchdog.hpp): a
// sleeping loop is alive however long it sleeps, a loop inside one step is
// stuck once its beat lies more than `stall` behind, a halted chain is not
// checked. The real scanner's beats: scanner_watchdog_test.cpp.
#include <gtest/gtest.h>

#include "core/watchdog.hpp"

using namespace depositd;
using namespace depositd::watchdog;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr std::int64_t kStall = 180'000;

ChainHealth chain(const std::string& status, std::int64_t progress_at, std::int64_t sleep_until) {
    ChainHealth h;
    h.status = status;
    h.progress_at = progress_at;
    h.sleep_until = sleep_until;
    return h;
}

}  // namespace

TEST(Watchdog, SleepingLoopIsAliveHoweverLongItSleeps) {
    // Last step ended an hour ago; it sleeps (a long Retry-After) for one more minute.
    auto h = chain("error", kNow - 3'600'000, kNow + 60'000);
    EXPECT_TRUE(stuck_loops({chain_beat("eth", h, kNow - 7'200'000)}, kNow, kStall).empty());
}

TEST(Watchdog, LoopInsideOneStepIsStuckAfterStall) {
    // The wait ended at kNow - stall - 1: a step has been running since.
    auto h = chain("ok", kNow - kStall - 5'000, kNow - kStall - 1);
    auto stuck = stuck_loops({chain_beat("eth", h, 0)}, kNow, kStall);
    ASSERT_EQ(stuck.size(), 1u);
    EXPECT_EQ(stuck[0].name, "chain eth");
    EXPECT_EQ(stuck[0].silent_ms, kStall + 1);
    // Exactly at the bound: still alive.
    h.sleep_until = kNow - kStall;
    EXPECT_TRUE(stuck_loops({chain_beat("eth", h, 0)}, kNow, kStall).empty());
}

TEST(Watchdog, ProgressOrAFinishedStepKeepsTheLoopAlive) {
    // Catching up: no sleeps, every step ends (success or failure) -> progress_at moves.
    auto h = chain("lagging", kNow - 1'000, 0);
    EXPECT_TRUE(stuck_loops({chain_beat("eth", h, 0)}, kNow, kStall).empty());
}

TEST(Watchdog, StartTimeIsTheFloorBeforeTheFirstStep) {
    auto h = chain("starting", 0, 0);  // no step ended yet, never slept
    EXPECT_TRUE(stuck_loops({chain_beat("eth", h, kNow - kStall)}, kNow, kStall).empty());
    auto stuck = stuck_loops({chain_beat("eth", h, kNow - kStall - 10)}, kNow, kStall);
    ASSERT_EQ(stuck.size(), 1u);
    EXPECT_EQ(stuck[0].silent_ms, kStall + 10);
}

TEST(Watchdog, HaltedChainIsNotChecked) {
    auto h = chain("halted", kNow - 10 * kStall, 0);
    EXPECT_TRUE(chain_beat("eth", h, 0).finished);
    EXPECT_TRUE(stuck_loops({chain_beat("eth", h, 0)}, kNow, kStall).empty());
}

TEST(Watchdog, OnlyTheStuckLoopsAreReportedInOrder) {
    std::vector<LoopBeat> loops = {
        {"chain a", kNow - 1, false},
        {"chain b", kNow - kStall - 1, false},
        {"webhook dispatcher", kNow - kStall - 2, false},
        {"chain c", kNow - kStall - 3, true},
    };
    auto stuck = stuck_loops(loops, kNow, kStall);
    ASSERT_EQ(stuck.size(), 2u);
    EXPECT_EQ(stuck[0].name, "chain b");
    EXPECT_EQ(stuck[1].name, "webhook dispatcher");
}

TEST(Watchdog, StatusLineNamesEveryChainWithLagAndStuckFirst) {
    std::map<std::string, ChainHealth> chains;
    chains["eth"] = chain("ok", 0, 0);
    chains["eth"].head = 100;
    chains["eth"].scanned = 98;
    chains["tron"] = chain("starting", 0, 0);
    chains["tron"].role = "standby";
    EXPECT_EQ(status_line(chains, {}), "eth ok lag 2 (leader), tron starting (standby)");
    EXPECT_EQ(status_line(chains, {{"chain tron", 200'500}}),
              "stuck: chain tron (200s); eth ok lag 2 (leader), tron starting (standby)");
    EXPECT_EQ(status_line({}, {}), "no chains");
}

TEST(Watchdog, StatusLineIsOneBoundedLine) {
    std::map<std::string, ChainHealth> chains;
    for (int i = 0; i < 100; ++i) chains["chain-" + std::to_string(i)] = chain("lagging", 0, 0);
    chains["chain-0"].status = "error\nX";
    auto s = status_line(chains, {}, 120);
    EXPECT_EQ(s.size(), 120u);
    EXPECT_EQ(s.substr(117), "...");
    EXPECT_EQ(s.find('\n'), std::string::npos);
}
