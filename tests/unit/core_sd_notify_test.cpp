// The sd_notify(3) datagram protocol (core/sd_notify.hpp): environment as
// systemd sets it, path and abstract sockets, WATCHDOG_PID, and the same
// bytes on the wire as systemd's own systemd-notify sends.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/sd_notify.hpp"

using namespace depositd;

namespace {

// A datagram socket bound like systemd binds its notification socket.
class Listener {
public:
    explicit Listener(const std::string& name) : name_(name) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::string addr = name;
        if (addr[0] == '@') addr[0] = '\0';
        std::memcpy(sa.sun_path, addr.data(), addr.size());
        auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + addr.size() + (addr[0] == '\0' ? 0 : 1));
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), len) != 0) ADD_FAILURE() << std::strerror(errno);
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~Listener() {
        ::close(fd_);
        if (name_[0] == '/') std::filesystem::remove(name_);
    }
    std::optional<std::string> receive() {
        char buf[4096];
        auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) return std::nullopt;
        return std::string(buf, static_cast<std::size_t>(n));
    }
    bool empty() {
        char buf[16];
        return ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) < 0;
    }

private:
    std::string name_;
    int fd_ = -1;
};

SdNotify::Getenv env_of(std::map<std::string, std::string> vars) {
    return [vars](const char* name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

std::string unique(const std::string& what) {
    return what + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

TEST(SdNotify, WithoutNotifySocketNothingIsSent) {
    auto n = SdNotify::from_environment(env_of({{"WATCHDOG_USEC", "1000000"}}));
    EXPECT_FALSE(n.enabled());
    EXPECT_FALSE(n.watchdog());
    EXPECT_TRUE(n.problem().empty());
    EXPECT_TRUE(n.send("READY=1").ok());
}

TEST(SdNotify, PathSocket) {
    const auto path = (std::filesystem::temp_directory_path() / unique("notify")).string();
    Listener l(path);
    auto n = SdNotify::from_environment(env_of({{"NOTIFY_SOCKET", path}}));
    ASSERT_TRUE(n.enabled()) << n.problem();
    EXPECT_FALSE(n.watchdog());
    ASSERT_TRUE(n.send("READY=1\nSTATUS=eth ok lag 0").ok());
    EXPECT_EQ(l.receive(), "READY=1\nSTATUS=eth ok lag 0");
}

TEST(SdNotify, AbstractSocket) {
    const auto name = "@" + unique("depositd-test-notify");
    Listener l(name);
    auto n = SdNotify::from_environment(env_of({{"NOTIFY_SOCKET", name}}));
    ASSERT_TRUE(n.enabled()) << n.problem();
    ASSERT_TRUE(n.send("WATCHDOG=1").ok());
    EXPECT_EQ(l.receive(), "WATCHDOG=1");
}

TEST(SdNotify, WatchdogIsOursOnlyWhenWatchdogPidNamesUs) {
    const auto path = (std::filesystem::temp_directory_path() / unique("notify")).string();
    auto mine = SdNotify::from_environment(
        env_of({{"NOTIFY_SOCKET", path}, {"WATCHDOG_USEC", "4000000"}, {"WATCHDOG_PID", "4242"}}), 4242);
    EXPECT_EQ(mine.watchdog(), std::chrono::microseconds(4'000'000));
    auto other = SdNotify::from_environment(
        env_of({{"NOTIFY_SOCKET", path}, {"WATCHDOG_USEC", "4000000"}, {"WATCHDOG_PID", "1"}}), 4242);
    EXPECT_TRUE(other.enabled());
    EXPECT_FALSE(other.watchdog());
    EXPECT_TRUE(other.problem().empty());
    auto unnamed = SdNotify::from_environment(env_of({{"NOTIFY_SOCKET", path}, {"WATCHDOG_USEC", "30000000"}}), 4242);
    EXPECT_EQ(unnamed.watchdog(), std::chrono::seconds(30));
}

TEST(SdNotify, UnusableValuesAreReportedNotGuessed) {
    auto relative = SdNotify::from_environment(env_of({{"NOTIFY_SOCKET", "run/notify"}}));
    EXPECT_FALSE(relative.enabled());
    EXPECT_NE(relative.problem().find("NOTIFY_SOCKET"), std::string::npos);
    auto too_long = SdNotify::from_environment(env_of({{"NOTIFY_SOCKET", "/" + std::string(200, 'x')}}));
    EXPECT_FALSE(too_long.enabled());
    EXPECT_FALSE(too_long.problem().empty());
    for (const char* bad : {"0", "-5", "12s", "1e6", " 100"}) {
        auto n = SdNotify::from_environment(env_of({{"NOTIFY_SOCKET", "/tmp/x"}, {"WATCHDOG_USEC", bad}}));
        EXPECT_TRUE(n.enabled()) << bad;
        EXPECT_FALSE(n.watchdog()) << bad;
        EXPECT_NE(n.problem().find("WATCHDOG_USEC"), std::string::npos) << bad;
    }
    auto bad_pid = SdNotify::from_environment(
        env_of({{"NOTIFY_SOCKET", "/tmp/x"}, {"WATCHDOG_USEC", "1000"}, {"WATCHDOG_PID", "me"}}));
    EXPECT_FALSE(bad_pid.watchdog());
    EXPECT_NE(bad_pid.problem().find("WATCHDOG_PID"), std::string::npos);
}

TEST(SdNotify, NoListenerIsAnErrorNotACrash) {
    const auto path = (std::filesystem::temp_directory_path() / unique("nobody")).string();
    auto n = SdNotify::from_environment(env_of({{"NOTIFY_SOCKET", path}}));
    ASSERT_TRUE(n.enabled());
    EXPECT_FALSE(n.send("READY=1").ok());
}

// systemd's own sender (systemd-notify) and ours reach the same socket with
// the same bytes, for a path and for an abstract name.
TEST(SdNotify, SameDatagramAsSystemdNotify) {
    if (std::system("command -v systemd-notify >/dev/null 2>&1") != 0) GTEST_SKIP() << "systemd-notify not installed";
    for (const std::string& name : {(std::filesystem::temp_directory_path() / unique("ref")).string(),
                                   "@" + unique("depositd-ref")}) {
        Listener l(name);
        const std::string cmd = "NOTIFY_SOCKET='" + name + "' systemd-notify --no-block --status='eth ok lag 0'";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
        auto reference = l.receive();
        ASSERT_TRUE(reference) << "systemd-notify sent nothing to " << name;
        auto n = SdNotify::from_environment(env_of({{"NOTIFY_SOCKET", name}}));
        ASSERT_TRUE(n.send("STATUS=eth ok lag 0").ok());
        EXPECT_EQ(l.receive(), reference);
        EXPECT_TRUE(l.empty());
    }
}
