// depositctl admin hash-password | totp-secret: the console's credentials.
// Neither needs the configuration or the database.
#include <openssl/rand.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <iostream>
#include <string>

#include "codec/otp.hpp"
#include "codec/password.hpp"
#include "core/text.hpp"
#include "ctl.hpp"

namespace depositd::ctl {
namespace {

// Echo off on the terminal while a line is read; restored whatever happens.
class NoEcho {
public:
    explicit NoEcho(int fd) : fd_(fd) {
        if (tcgetattr(fd_, &saved_) == 0) {
            termios t = saved_;
            t.c_lflag &= static_cast<tcflag_t>(~ECHO);
            active_ = tcsetattr(fd_, TCSAFLUSH, &t) == 0;
        }
    }
    ~NoEcho() {
        if (active_) tcsetattr(fd_, TCSAFLUSH, &saved_);
    }

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

bool read_line(std::string& out) {
    out.clear();
    if (!std::getline(std::cin, out)) return false;
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return true;
}

std::string ask(const char* prompt) {
    std::cerr << prompt << std::flush;
    std::string line;
    bool ok;
    {
        NoEcho quiet(STDIN_FILENO);
        ok = read_line(line);
    }
    std::cerr << "\n";
    if (!ok) fail_input("no password given (end of input)");
    return line;
}

}  // namespace

int cmd_admin_hash_password(const Args&) {
    std::string password;
    if (isatty(STDIN_FILENO)) {
        password = ask("Password: ");
        const std::string again = ask("Repeat it: ");
        if (again != password) fail_input("the two passwords differ; nothing was hashed");
    } else if (!read_line(password)) {
        fail_input("no password on standard input (one line expected)");
    }
    if (password.empty()) fail_input("the password is empty");
    if (password.size() < 12)
        std::cerr << "depositctl: warning: a password of fewer than 12 characters is easy to guess\n";
    auto hash = codec::hash_password(password);
    std::fill(password.begin(), password.end(), '\0');
    if (!hash) {
        if (hash.error().code == Errc::invalid_input) fail_input(hash.error().message);
        fail_runtime(hash.error().message);
    }
    std::cout << *hash << "\n";
    return kExitOk;
}

int cmd_admin_totp_secret(const Args& a) {
    const std::string& user = a.required("--user");
    const std::string issuer = a.get("--issuer").value_or("depositd");
    if (user.empty() || user.size() > 64) throw UsageError{"--user must be 1-64 characters"};
    if (issuer.empty() || issuer.size() > 64 || issuer.find(':') != std::string::npos)
        throw UsageError{"--issuer must be 1-64 characters without ':'"};
    std::array<unsigned char, 20> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) fail_runtime("no randomness available");
    const std::string secret = codec::base32_encode(key);
    std::cout << "totp_secret = \"" << secret << "\"\n"
              << "otpauth://totp/" << percent_encode(issuer) << ":" << percent_encode(user) << "?secret=" << secret
              << "&issuer=" << percent_encode(issuer) << "&algorithm=SHA1&digits=6&period=30\n";
    return kExitOk;
}

}  // namespace depositd::ctl
