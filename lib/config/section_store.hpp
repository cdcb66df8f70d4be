#pragma once
// [store] (SPEC §11): where depositd keeps its state. Without it, SQLite in
// <data_dir>/depositd.sqlite; with url, PostgreSQL. Parsed by
// section_store.cpp; include config/config.hpp.
#include <optional>
#include <string>

namespace depositd::config {

struct StoreConfig {
    // postgresql://USER:PASSWORD@HOST:PORT/DB[?param=value...] (a libpq URI;
    // ${VAR} works). A secret: its password is never printed or logged.
    std::optional<std::string> url;
};

}  // namespace depositd::config
