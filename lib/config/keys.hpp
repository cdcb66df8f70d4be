#pragma once
// The keys of a configuration section, declared once (internal to
// lib/config). Each section_<name>.cpp has one table of its keys, in the
// order the file documents them: the name, whether the value is a secret,
// who reads it, and how its effective value is printed. That table drives
// the unknown-key check ("allowed here: ..." in table order), reads_key()
// (which ${VAR}s depositctl needs), which values are secrets (masked by
// --print-config, a mask accepted by --check-config) and to_toml().
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace depositd::config {

// Whether a value is a secret (never echoed in messages).
//   value: the whole value (an API key, a webhook secret, a header value).
//   url:   a node URL whose userinfo, query values and key-like path
//          segments may carry a provider's key.
enum class Secret { no, value, url };

// Who reads a key: the daemon only, or depositctl too (config::Reader).
enum class Use { daemon, all };

struct Flags {
    Secret secret = Secret::no;
    Use use = Use::daemon;
};

class Printer;

// One key of a section whose values land in a T. `print` writes the key's
// effective value (print.hpp) or nothing (the key is absent, e.g. an unset
// optional, or another key prints the value).
template <class T>
struct Key {
    std::string_view name;
    Flags flags = {};
    void (*print)(Printer& p, const T& value) = nullptr;
};

template <class T>
using KeyTable = std::span<const Key<T>>;

template <class T>
std::optional<Flags> find_key(KeyTable<T> keys, std::string_view name) {
    for (const auto& k : keys)
        if (k.name == name) return k.flags;
    return std::nullopt;
}

template <class T>
std::vector<std::string_view> key_names(KeyTable<T> keys) {
    std::vector<std::string_view> names;
    for (const auto& k : keys) names.push_back(k.name);
    return names;
}

}  // namespace depositd::config
