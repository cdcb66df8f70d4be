#pragma once
// The database's files are private: the data directory is created 0700, the
// database (and SQLite's -wal/-shm, which take its mode) 0600. They hold
// xpubs, references and metadata no other local user should read.
#include <sys/types.h>

#include <optional>
#include <string>

#include "core/result.hpp"

namespace depositd::store {

// Creates `dir` and its missing parents; the directories created here get
// mode 0700. An existing directory is left as it is.
Status ensure_private_dir(const std::string& dir);

// Before SQLite opens `db_path`: creates the file 0600 when absent, and
// takes group/other permissions away from an existing database, -wal and
// -shm file of ours (logged once). Files of another user are not touched.
Status prepare_database_file(const std::string& db_path);

// The first of the database's directory, file, -wal and -shm that exists and
// belongs to another user than `uid`. A tool run as another user (root,
// typically) would create or write files the daemon then cannot write.
struct ForeignFile {
    std::string path;
    uid_t owner = 0;
};
std::optional<ForeignFile> foreign_database_file(const std::string& db_path, uid_t uid);

// The login name of `uid`, or "#<uid>" (which sudo -u also takes).
std::string user_name(uid_t uid);

}  // namespace depositd::store
