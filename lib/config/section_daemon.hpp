#pragma once
// [daemon] (SPEC §3): where the database lives, how much is logged.
// Parsed by section_daemon.cpp; include config/config.hpp.
#include <optional>
#include <string>

#include "config/units.hpp"

namespace depositd::config {

struct DaemonConfig {
    std::string data_dir = "./data";   // relative paths resolve against the config file's folder
    std::string log_level = "info";
    // A loop (chain, webhook dispatcher) that has been inside one step for
    // longer is hung: the systemd watchdog pings stop. nullopt: derived from
    // the chains' request_timeout (daemon/service_notify.hpp).
    std::optional<Duration> stall_timeout;
};

}  // namespace depositd::config
