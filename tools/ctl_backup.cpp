// depositctl backup: a consistent copy of the live database (SQLite online
// backup API) while the daemon runs.
//
// The source is a read-only connection holding ONE read transaction for the
// whole copy: the copy is that committed snapshot, and because the snapshot
// is pinned, the daemon's commits meanwhile never restart the backup (they
// would, between steps, without it). Under WAL a reader never blocks the
// writer; the pages are copied in slices with a short pause between them so
// the copy does not starve the daemon of disk and CPU. The daemon's WAL may
// grow while the snapshot is held (checkpoints cannot pass it) and shrinks
// again afterwards.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "ctl.hpp"
#include "store/database.hpp"

namespace depositd::ctl {

namespace {

constexpr int kPagesPerStep = 256;                        // 1 MiB at 4 KiB pages
constexpr auto kPauseBetweenSteps = std::chrono::milliseconds(2);

// The temporary destination: removed unless kept.
struct TempFile {
    std::string path;
    bool keep = false;
    ~TempFile() {
        if (keep) return;
        std::error_code ec;
        std::filesystem::remove(path, ec);
        for (const char* s : {"-journal", "-wal", "-shm"}) std::filesystem::remove(path + s, ec);
    }
};

void fsync_path(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) fail_runtime("cannot open " + path + ": " + std::strerror(errno));
    if (::fsync(fd) != 0) {
        int e = errno;
        ::close(fd);
        fail_runtime("cannot sync " + path + ": " + std::strerror(e));
    }
    ::close(fd);
}

}  // namespace

int cmd_backup(Context& ctx, const Args& a) {
    namespace fs = std::filesystem;
    const std::string to = a.required("--to");
    if (to.empty()) throw UsageError{"--to needs a file name"};
    const bool force = a.has("--force");
    if (ctx.config().store.url)
        fail_input("the state is in PostgreSQL ([store] url): back it up with PostgreSQL's own tools, e.g.\n"
                   "  pg_dump --format=custom --file=" + to + " \"$DATABASE_URL\"\n"
                   "(consistent while the daemon runs; restore into an empty database with pg_restore;\n"
                   "docs/operations.md, \"PostgreSQL\")");
    const std::string source = ctx.config().database_path();
    std::error_code ec;

    if (!fs::exists(source, ec)) fail_runtime("no database at " + source + " (has the daemon run with this config?)");
    const fs::path target = fs::absolute(to, ec);
    if (fs::exists(target, ec)) {
        if (!force) fail_input(to + " exists; choose another name or pass --force to replace it");
        if (fs::is_directory(target, ec)) fail_input(to + " is a directory");
    }
    if (fs::weakly_canonical(target, ec) == fs::weakly_canonical(source, ec))
        fail_input(to + " is the live database itself");
    const fs::path dir = target.parent_path();
    if (!fs::is_directory(dir, ec)) fail_input("folder " + dir.string() + " does not exist");

    // The copy is written next to its final name, then renamed into place.
    TempFile tmp{(dir / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()))).string()};
    {
        int fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) fail_runtime("cannot create " + tmp.path + ": " + std::strerror(errno));
        ::close(fd);
    }

    auto src = store::Database::open_reader(source);
    if (!src) fail_runtime(src.error().message);
    sqlite3* dst = nullptr;
    if (sqlite3_open_v2(tmp.path.c_str(), &dst, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        std::string msg = dst ? sqlite3_errmsg(dst) : "out of memory";
        sqlite3_close(dst);
        fail_runtime("cannot open " + tmp.path + ": " + msg);
    }
    struct CloseDst {
        sqlite3* db;
        ~CloseDst() { sqlite3_close(db); }
    } close_dst{dst};

    // Pin one snapshot of the source for the whole copy.
    if (auto s = (*src)->exec("BEGIN"); !s) fail_runtime("database " + source + ": " + s.error().message);
    auto pin = (*src)->prepare("SELECT count(*) FROM sqlite_schema");
    if (auto r = pin.step(); !r) fail_runtime("database " + source + ": " + r.error().message);
    const int schema = (*src)->schema_version();

    const auto t0 = std::chrono::steady_clock::now();
    sqlite3_backup* b = sqlite3_backup_init(dst, "main", (*src)->handle(), "main");
    if (!b) fail_runtime(std::string("cannot start the backup: ") + sqlite3_errmsg(dst));
    int rc = SQLITE_OK;
    int pages = 0;
    while (true) {
        rc = sqlite3_backup_step(b, kPagesPerStep);
        pages = sqlite3_backup_pagecount(b);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
        std::this_thread::sleep_for(kPauseBetweenSteps);
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) fail_runtime(std::string("backup failed: ") + sqlite3_errstr(rc));
    (void)(*src)->exec("COMMIT");

    // The copy must be a sound database before it replaces anything.
    {
        sqlite3_stmt* st = nullptr;
        std::string verdict = "no answer";
        if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            verdict = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (verdict != "ok") fail_runtime("the copy failed its check (" + verdict + "); nothing written to " + to);
    }
    sqlite3_close(close_dst.db);
    close_dst.db = nullptr;

    fsync_path(tmp.path, O_RDONLY);
    ::chmod(tmp.path.c_str(), 0600);
    fs::rename(tmp.path, target, ec);
    if (ec) fail_runtime("cannot rename " + tmp.path + " to " + target.string() + ": " + ec.message());
    tmp.keep = true;
    fsync_path(dir.string(), O_RDONLY | O_DIRECTORY);

    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    std::cout << "backup of " << source << " (schema v" << schema << ", " << pages << " pages, "
              << fs::file_size(target, ec) << " bytes) written to " << target.string() << " in " << ms.count()
              << " ms\n";
    return kExitOk;
}

}  // namespace depositd::ctl
