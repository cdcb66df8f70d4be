#pragma once
// [store] (SPEC §11): where depositd keeps its state. Without it, SQLite in
// <data_dir>/depositd.sqlite; with url, PostgreSQL. Parsed by
// section_store.cpp; include config/config.hpp.
#include <chrono>
#include <optional>
#include <string>

namespace depositd::config {

struct StoreConfig {
    // postgresql://USER:PASSWORD@HOST:PORT/DB[?param=value...] (a libpq URI;
    // ${VAR} works). A secret: its password is never printed or logged.
    std::optional<std::string> url;
    // Standby daemons (SPEC §11, scanner/leadership.hpp): how long a chain's
    // lease lasts after its leader's last renewal (a dead leader is replaced
    // within about lease + 1 s), and how often a standby looks for a free
    // one. A shorter lease takes over sooner but steps a leader down on a
    // shorter database stall.
    std::chrono::milliseconds lease{10'000};
    std::chrono::milliseconds lease_poll{200};
};

}  // namespace depositd::config
