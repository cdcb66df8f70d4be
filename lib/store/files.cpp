#include "store/files.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/log.hpp"

namespace depositd::store {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::string octal(mode_t m) {
    char b[8];
    std::snprintf(b, sizeof b, "%04o", static_cast<unsigned>(m & 07777));
    return b;
}

bool special_path(const std::string& p) { return p.empty() || p == ":memory:" || p.rfind("file:", 0) == 0; }

}  // namespace

Status ensure_private_dir(const std::string& dir) {
    if (dir.empty()) return {};
    std::error_code ec;
    fs::path p = fs::path(dir).lexically_normal();
    // The missing parts, outermost first.
    std::vector<fs::path> missing;
    for (fs::path q = p; !q.empty() && !fs::exists(q, ec); q = q.parent_path()) {
        missing.push_back(q);
        if (q == q.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
            return make_error(Errc::io, "cannot create directory " + it->string() + ": " + errno_text(errno));
    }
    struct stat st{};
    if (::stat(p.c_str(), &st) != 0) return make_error(Errc::io, "cannot use directory " + dir + ": " + errno_text(errno));
    if (!S_ISDIR(st.st_mode)) return make_error(Errc::io, dir + " is not a directory");
    if (missing.empty() && (st.st_mode & 0007) != 0)
        log::get("store")->warn("data directory {} is accessible to every local user (mode {}); chmod 700 it", dir,
                                octal(st.st_mode));
    return {};
}

Status prepare_database_file(const std::string& db_path) {
    if (special_path(db_path)) return {};
    // O_EXCL: only a new file is created here, with 0600 from the start (no
    // window in which it exists with the umask's mode).
    int fd = ::open(db_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        ::close(fd);
        return {};
    }
    if (errno != EEXIST) return make_error(Errc::io, "cannot create database " + db_path + ": " + errno_text(errno));
    for (const std::string& f : {db_path, db_path + "-wal", db_path + "-shm"}) {
        struct stat st{};
        if (::stat(f.c_str(), &st) != 0) continue;
        if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 0077) == 0) continue;
        if (::chmod(f.c_str(), 0600) == 0)
            log::get("store")->warn("{} was readable by other users (mode {}); now 0600", f, octal(st.st_mode));
        else
            log::get("store")->warn("{} is readable by other users (mode {}) and chmod failed: {}", f,
                                    octal(st.st_mode), errno_text(errno));
    }
    return {};
}

std::string user_name(uid_t uid) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_name)
        return found->pw_name;
    return "#" + std::to_string(uid);
}

std::optional<ForeignFile> foreign_database_file(const std::string& db_path, uid_t uid) {
    if (special_path(db_path)) return std::nullopt;
    std::string dir = fs::path(db_path).parent_path().string();
    if (dir.empty()) dir = ".";
    for (const std::string& f : {dir, db_path, db_path + "-wal", db_path + "-shm"}) {
        struct stat st{};
        if (::stat(f.c_str(), &st) != 0) continue;
        if (st.st_uid != uid) return ForeignFile{f, st.st_uid};
    }
    return std::nullopt;
}

}  // namespace depositd::store
