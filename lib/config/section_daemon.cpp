// [daemon]: data_dir, log_level, stall_timeout.
#include <algorithm>
#include <iterator>

#include "config/print.hpp"
#include "config/sections.hpp"

namespace depositd::config {
namespace {

using D = DaemonConfig;

constexpr Key<DaemonConfig> kKeys[] = {
    {"data_dir", {Secret::no, Use::all}, [](Printer& p, const D& d) { p.string(d.data_dir); }},
    {"log_level", {}, [](Printer& p, const D& d) { p.string(d.log_level); }},
    {"stall_timeout", {},
     [](Printer& p, const D& d) {
         if (d.stall_timeout) p.duration(*d.stall_timeout);
         else p.comment("stall_timeout: derived from the chains' request_timeout (docs/configuration.md)");
     }},
};

void load_table(Loader& l, const toml::table& t, DaemonConfig& out) {
    const Fields<DaemonConfig> f(l, t, "daemon", kKeys);
    if (auto* n = f.get("data_dir")) {
        if (auto s = l.string(*n, "daemon.data_dir")) {
            if (s->empty()) l.problem(line_of(*n), "daemon.data_dir", "must not be empty");
            else out.data_dir = *s;
        }
    }
    if (auto* n = f.get("log_level")) {
        if (auto s = l.string(*n, "daemon.log_level")) {
            static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn",
                                                          "error", "critical", "off"};
            if (std::find(std::begin(levels), std::end(levels), *s) == std::end(levels))
                l.problem(line_of(*n), "daemon.log_level",
                          "\"" + *s + "\" is not a log level; use trace, debug, info, warn, error, critical or off");
            else out.log_level = *s;
        }
    }
    if (auto* n = f.get("stall_timeout")) {
        if (auto d = l.duration(*n, "daemon.stall_timeout", false)) {
            if (*d < std::chrono::seconds(1)) l.problem(line_of(*n), "daemon.stall_timeout", "must be at least 1s");
            else out.stall_timeout = *d;
        }
    }
}

// A relative data_dir resolves against the config file's folder, not the
// working directory (systemd starts us in /).
void resolve_data_dir(const Loader& l, DaemonConfig& d) {
    std::filesystem::path p(d.data_dir);
    if (p.is_relative()) p = l.base_dir() / p;
    p = p.lexically_normal();
    std::string s = p.string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    d.data_dir = s.empty() ? "." : s;
}

}  // namespace

std::optional<Flags> daemon_key(std::string_view name) { return find_key<DaemonConfig>(kKeys, name); }

void print_daemon(Printer& p, const Config& cfg) {
    p.header("[daemon]", "daemon");
    p.keys<DaemonConfig>(kKeys, cfg.daemon);
}

void load_daemon(Loader& l, const toml::table& root, Config& cfg) {
    if (auto* t = l.section(root, "daemon")) load_table(l, *t, cfg.daemon);
    resolve_data_dir(l, cfg.daemon);
}

}  // namespace depositd::config
