#pragma once
// The TOML reading layer of lib/config (internal: only lib/config includes
// it). One Loader reads one file: it knows where every value is
// (Where{file, line, key}), reads scalars and reports what is wrong with
// them as Problems, and leaves the meaning of each value to the sections.
//
// Every accessor reports a bad value as a Problem and returns nullopt, so
// the caller keeps the field's default and goes on: all problems of a file
// come out of one run. A Config is returned only when there is no problem at
// all, so a default never stands in for a bad value. Secrets are never
// echoed in a message.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "config/config.hpp"
#include "config/keys.hpp"

namespace depositd::config {

using GetEnv = std::string (*)(const std::string&);

// Where a value is: its file, its line (0: a whole section is missing) and
// its dotted key ("chains[0].tokens[1].contract").
struct Where {
    std::string file;
    int line = 0;
    std::string key;
    std::string file_line() const;   // "depositd.toml:12"
    std::string to_string() const;   // "depositd.toml:12:chains[0].chain_id"
};

// Dotted keys as messages name them: join("chains[0].headers", "X Y") is
// chains[0].headers."X Y"; item("api.keys", 1) is api.keys[1].
std::string join(const std::string& path, std::string_view key);
std::string item(const std::string& path, std::size_t i);

bool is_bare_key(std::string_view k);         // TOML: A-Za-z0-9_- only
std::string type_name(const toml::node& n);  // "a string", "an array", ...
int line_of(const toml::node& n);
int line_of(const toml::key& k);

// The candidate within two edits of `word` (lower-cased), closest first;
// empty when none is: the "did you mean" of a misspelt name.
std::string_view nearest(std::string_view word, const std::vector<std::string_view>& candidates);

class Loader {
public:
    Loader(std::string file, GetEnv env, std::filesystem::path base_dir, Reader reader);

    const std::string& file() const { return file_; }
    // The config file's folder: relative paths in it resolve against this.
    const std::filesystem::path& base_dir() const { return base_dir_; }
    Where at(int line, std::string key) const { return Where{file_, line, std::move(key)}; }

    std::vector<Problem> problems;
    void problem(int line, std::string key, std::string message);

    // Secrets as written (with their ${VAR}s), by dotted key, and where
    // masked ones are (Reader::check): Config::secrets_as_written and
    // Config::masked_secrets.
    std::map<std::string, std::string> secrets_as_written;
    std::vector<std::string> masked_secrets;
    // Whether `value` of a secret key is masked (only Reader::check lets
    // one through string()): its format checks do not apply.
    bool masked(std::string_view value) const;

    // --- structure ---------------------------------------------------------
    // Every key of `t` not in `allowed` is a problem, with a suggestion for a
    // near miss or else the list of what is allowed (in the order given).
    void check_keys(const toml::table& t, const std::string& path, const std::vector<std::string_view>& allowed);
    // The top-level table `name`, when present and a table.
    const toml::table* section(const toml::table& root, std::string_view name);
    const toml::table* table_of(const toml::node& n, const std::string& key, std::string_view what = "a table");
    const toml::array* array_of(const toml::node& n, const std::string& key, std::string_view what = "an array");

    // --- scalars -----------------------------------------------------------
    // A string with its ${VAR}s expanded. A value the reader never uses is
    // not expanded (nor checked further): nullopt without a problem. A
    // masked secret is a problem, except for Reader::check.
    std::optional<std::string> string(const toml::node& n, const std::string& key);
    std::optional<std::int64_t> integer(const toml::node& n, const std::string& key, std::int64_t min,
                                        std::int64_t max, std::string_view what);
    std::optional<Duration> duration(const toml::node& n, const std::string& key, bool allow_zero);
    // A size in bytes: an integer, or a string with a binary unit ("32MiB").
    std::optional<std::uint64_t> size(const toml::node& n, const std::string& key, std::uint64_t min,
                                      std::uint64_t max);

private:
    std::optional<std::string> expand(std::string_view s, int line, const std::string& key);

    std::string file_;
    GetEnv env_;
    std::filesystem::path base_dir_;
    Reader reader_;
};

// One table of a section, read through its key table: the unknown-key check
// runs on construction, and get() refuses a name the table does not declare
// (a misspelt name in the code would otherwise read nothing, silently).
template <class T>
class Fields {
public:
    Fields(Loader& loader, const toml::table& t, std::string path, KeyTable<T> keys)
        : table_(t), path_(std::move(path)), keys_(keys) {
        loader.check_keys(t, path_, key_names(keys));
    }

    const toml::node* get(std::string_view name) const {
        if (!find_key(keys_, name))
            throw std::logic_error("\"" + std::string(name) + "\" is not in the key table of " + path_);
        return table_.get(name);
    }
    std::string key(std::string_view name) const { return join(path_, name); }
    const std::string& path() const { return path_; }
    const toml::table& table() const { return table_; }
    int line() const { return line_of(table_); }

private:
    const toml::table& table_;
    std::string path_;
    KeyTable<T> keys_;
};

}  // namespace depositd::config
