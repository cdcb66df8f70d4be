#pragma once
// systemd's service notification protocol (sd_notify(3)), spoken directly:
// one datagram of newline-separated VAR=value lines sent to the AF_UNIX
// socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract
// namespace). The protocol is documented as stable and meant to be
// reimplemented; doing so keeps libsystemd out of the build.
//
// Without $NOTIFY_SOCKET (not started by systemd, or Type= other than
// notify) nothing is ever sent.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace depositd {

class SdNotify {
public:
    // getenv replacement for tests; nullopt = unset.
    using Getenv = std::function<std::optional<std::string>(const char* name)>;

    // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID as systemd sets
    // them. The watchdog applies only when WATCHDOG_PID is unset or names
    // `pid` (this process), as sd_watchdog_enabled(3) says.
    static SdNotify from_environment(const Getenv& getenv = {}, std::int64_t pid = -1);

    SdNotify() = default;  // disabled: sends nothing
    ~SdNotify();
    SdNotify(SdNotify&& other) noexcept;
    SdNotify& operator=(SdNotify&& other) noexcept;
    SdNotify(const SdNotify&) = delete;
    SdNotify& operator=(const SdNotify&) = delete;

    bool enabled() const { return fd_ >= 0; }
    // The watchdog timeout systemd enforces on this process (WatchdogSec=),
    // nullopt when there is none. Ping at half of it.
    std::optional<std::chrono::microseconds> watchdog() const { return watchdog_; }
    // Set when NOTIFY_SOCKET or WATCHDOG_USEC could not be used (the caller
    // logs it); the part that could be used still works.
    const std::string& problem() const { return problem_; }

    // One datagram, e.g. "READY=1\nSTATUS=following 2 chains". Never blocks
    // (a full socket queue is an error, the message is dropped). No-op when
    // disabled.
    Status send(std::string_view message) const;

private:
    int fd_ = -1;
    std::string address_;          // sockaddr_un.sun_path bytes ('\0' first when abstract)
    std::optional<std::chrono::microseconds> watchdog_;
    std::string problem_;
};

}  // namespace depositd
