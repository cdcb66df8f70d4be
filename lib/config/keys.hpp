#pragma once
// The keys of a configuration section, declared once (internal to
// lib/config). Each section_<name>.cpp has one table of its keys, in the
// order the file documents them: the name, whether the value is a secret,
// and who reads it. That table drives the unknown-key check ("allowed here:
// ..." in table order) and reads_key() (which ${VAR}s depositctl needs).
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

// One key of a section whose values land in a T.
template <class T>
struct Key {
    std::string_view name;
    Flags flags = {};
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
