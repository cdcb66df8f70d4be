// store/files: the data directory 0700, the database and its -wal/-shm 0600,
// and depositctl's refusal to touch another user's database (issue 10).
#include "store/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/database.hpp"

namespace fs = std::filesystem;
using namespace depositd;
using namespace depositd::store;

namespace {

mode_t mode_of(const fs::path& p) {
    struct stat st{};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

class FilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        old_umask_ = ::umask(022);  // the usual umask, which made 0644 files before
        dir_ = fs::temp_directory_path() / ("store_files_test_" + std::to_string(::getpid()) + "_" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override {
        ::umask(old_umask_);
        fs::remove_all(dir_);
    }
    fs::path dir_;
    mode_t old_umask_ = 022;
};

TEST_F(FilesTest, DataDirectoryIsCreated0700WithItsParents) {
    const fs::path data = dir_ / "a" / "b" / "data";
    ASSERT_TRUE(ensure_private_dir(data.string()));
    EXPECT_EQ(mode_of(data), 0700u);
    EXPECT_EQ(mode_of(dir_ / "a"), 0700u);
    EXPECT_EQ(mode_of(dir_ / "a" / "b"), 0700u);
    // Existing: left as it is (an operator's choice), still fine.
    fs::create_directories(dir_ / "open");
    fs::permissions(dir_ / "open", fs::perms(0755));
    ASSERT_TRUE(ensure_private_dir((dir_ / "open").string()));
    EXPECT_EQ(mode_of(dir_ / "open"), 0755u);
    // A file in the way is an error.
    std::ofstream(dir_ / "file") << "x";
    EXPECT_FALSE(ensure_private_dir((dir_ / "file").string()));
}

TEST_F(FilesTest, DatabaseAndItsWalAndShmAre0600) {
    const fs::path db_path = dir_ / "depositd.sqlite";
    {
        auto db = Database::open(db_path.string());
        ASSERT_TRUE(db) << db.error().message;
        ASSERT_TRUE((*db)->migrate());
        ASSERT_TRUE((*db)->exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)"));
        EXPECT_EQ(mode_of(db_path), 0600u);
        ASSERT_TRUE(fs::exists(db_path.string() + "-wal"));
        ASSERT_TRUE(fs::exists(db_path.string() + "-shm"));
        EXPECT_EQ(mode_of(db_path.string() + "-wal"), 0600u);
        EXPECT_EQ(mode_of(db_path.string() + "-shm"), 0600u);
    }
    EXPECT_EQ(mode_of(db_path), 0600u);
}

TEST_F(FilesTest, AnExistingWorldReadableDatabaseIsTightened) {
    const fs::path db_path = dir_ / "old.sqlite";
    { ASSERT_TRUE(Database::open(db_path.string())); }
    for (const auto& f : {db_path.string(), db_path.string() + "-wal", db_path.string() + "-shm"}) {
        if (!fs::exists(f)) std::ofstream(f).flush();
        fs::permissions(f, fs::perms(0644));
    }
    auto db = Database::open(db_path.string());
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(mode_of(db_path), 0600u);
    EXPECT_EQ(mode_of(db_path.string() + "-wal"), 0600u);
    EXPECT_EQ(mode_of(db_path.string() + "-shm"), 0600u);
}

TEST_F(FilesTest, MemoryDatabasesAreUntouched) {
    ASSERT_TRUE(Database::open(":memory:"));
    EXPECT_FALSE(fs::exists(":memory:"));
}

TEST_F(FilesTest, ForeignDatabaseFilesAreFound) {
    const fs::path data = dir_ / "data";
    const std::string db_path = (data / "depositd.sqlite").string();
    const uid_t me = ::geteuid();
    const uid_t other = me + 4242;  // any uid that owns none of these files
    // Nothing there yet: nothing foreign, for anyone (a fresh install).
    EXPECT_FALSE(foreign_database_file(db_path, me));
    EXPECT_FALSE(foreign_database_file(db_path, other));
    // The directory exists (ours): another user would create the database in it.
    ASSERT_TRUE(ensure_private_dir(data.string()));
    EXPECT_FALSE(foreign_database_file(db_path, me));
    auto f = foreign_database_file(db_path, other);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->path, data.string());
    EXPECT_EQ(f->owner, me);
    // The database itself.
    { ASSERT_TRUE(Database::open(db_path)); }
    EXPECT_FALSE(foreign_database_file(db_path, me));
    EXPECT_TRUE(foreign_database_file(db_path, other));
    EXPECT_FALSE(foreign_database_file(":memory:", other));
}

TEST_F(FilesTest, UserNames) {
    EXPECT_EQ(user_name(0), "root");
    EXPECT_EQ(user_name(3999999999u), "#3999999999");
}

}  // namespace
