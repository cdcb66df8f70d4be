#include "core/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace depositd {

namespace {

std::optional<std::uint64_t> parse_u64(const std::string& s) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

}  // namespace

SdNotify SdNotify::from_environment(const Getenv& getenv_fn, std::int64_t pid) {
    auto env = [&](const char* name) -> std::optional<std::string> {
        if (getenv_fn) return getenv_fn(name);
        const char* v = std::getenv(name);
        if (!v) return std::nullopt;
        return std::string(v);
    };
    if (pid < 0) pid = static_cast<std::int64_t>(::getpid());

    SdNotify n;
    auto socket_name = env("NOTIFY_SOCKET");
    if (!socket_name || socket_name->empty()) return n;  // not under systemd (or not Type=notify)

    // "/path" or "@abstract"; systemd may also name vsock addresses, which a
    // local service never gets.
    std::string address = *socket_name;
    if (address[0] == '@') {
        address[0] = '\0';
    } else if (address[0] != '/') {
        n.problem_ = "NOTIFY_SOCKET=" + *socket_name + " is not a unix socket path or @name: not notifying systemd";
        return n;
    }
    if (address.size() > sizeof(sockaddr_un::sun_path) - (address[0] == '\0' ? 0 : 1)) {
        n.problem_ = "NOTIFY_SOCKET is longer than a unix socket address: not notifying systemd";
        return n;
    }
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        n.problem_ = std::string("cannot create the notification socket: ") + std::strerror(errno);
        return n;
    }
    n.fd_ = fd;
    n.address_ = std::move(address);

    if (auto usec = env("WATCHDOG_USEC"); usec && !usec->empty()) {
        auto wpid = env("WATCHDOG_PID");
        auto value = parse_u64(*usec);
        if (!value || *value == 0) {
            n.problem_ = "WATCHDOG_USEC=" + *usec + " is not a positive number of microseconds: no watchdog pings";
        } else if (wpid && !wpid->empty()) {
            auto owner = parse_u64(*wpid);
            if (!owner) n.problem_ = "WATCHDOG_PID=" + *wpid + " is not a process id: no watchdog pings";
            else if (static_cast<std::int64_t>(*owner) == pid) n.watchdog_ = std::chrono::microseconds(*value);
            // Another process's watchdog (we were started by a wrapper): not ours.
        } else {
            n.watchdog_ = std::chrono::microseconds(*value);
        }
    }
    return n;
}

SdNotify::~SdNotify() {
    if (fd_ >= 0) ::close(fd_);
}

SdNotify::SdNotify(SdNotify&& other) noexcept
    : fd_(other.fd_),
      address_(std::move(other.address_)),
      watchdog_(other.watchdog_),
      problem_(std::move(other.problem_)) {
    other.fd_ = -1;
}

SdNotify& SdNotify::operator=(SdNotify&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        address_ = std::move(other.address_);
        watchdog_ = other.watchdog_;
        problem_ = std::move(other.problem_);
        other.fd_ = -1;
    }
    return *this;
}

Status SdNotify::send(std::string_view message) const {
    if (fd_ < 0) return {};
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, address_.data(), address_.size());
    // A path is NUL-terminated (the zeroed struct ends it); an abstract name
    // is exactly its bytes.
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() +
                                            (address_[0] == '\0' ? 0 : 1));
    const ssize_t n = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&sa), len);
    if (n < 0) return make_error(Errc::io, std::string("sd_notify: ") + std::strerror(errno));
    if (static_cast<std::size_t>(n) != message.size()) return make_error(Errc::io, "sd_notify: short send");
    return {};
}

}  // namespace depositd
