#pragma once
// What a section loader (section_<name>.cpp) needs from the config loader:
// reporting a problem at file:line:key and reading checked scalars. The
// loader in config.cpp implements it; sections never see the loader itself,
// so a section moves between loaders unchanged. Private to lib/config.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "config/config.hpp"

namespace depositd::config::detail {

class SectionContext {
public:
    virtual ~SectionContext() = default;

    virtual void problem(int line, std::string key, std::string message) = 0;
    // Unknown keys of `t` are problems (with a "did you mean" hint).
    virtual void check_keys(const toml::table& t, const std::string& path,
                            std::initializer_list<std::string_view> allowed) = 0;
    // A string with ${VAR} expanded; nullopt after a problem, or when the
    // reader does not use this key and it holds a ${VAR} (Reader::depositctl).
    virtual std::optional<std::string> string(const toml::node& n, const std::string& key) = 0;
    virtual std::optional<std::int64_t> integer(const toml::node& n, const std::string& key, std::int64_t min,
                                                std::int64_t max, std::string_view what) = 0;
    virtual std::optional<Duration> duration(const toml::node& n, const std::string& key, bool allow_zero) = 0;
    virtual const toml::table* table_of(const toml::node& n, const std::string& key, std::string_view what) = 0;
    virtual const toml::array* array_of(const toml::node& n, const std::string& key, std::string_view what) = 0;
};

inline int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }
inline std::string item_key(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }
inline std::string sub_key(const std::string& path, std::string_view key) { return path + "." + std::string(key); }

// [admin] (section_admin.cpp).
void load_admin(SectionContext& ctx, const toml::table& t, AdminConfig& out);
// [notify] with [notify.telegram] (section_notify.cpp).
void load_notify(SectionContext& ctx, const toml::table& t, NotifyConfig& out);
// One entry of [api].keys: "key" or { key = "...", label = "..." }
// (section_api_keys.cpp). `index` is its position (0-based).
void load_api_key(SectionContext& ctx, const toml::node& n, std::size_t index, ApiConfig& out);

}  // namespace depositd::config::detail
