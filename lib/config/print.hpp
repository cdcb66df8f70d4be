#pragma once
// Writes the effective configuration back as TOML (internal to lib/config;
// config::to_toml() in config.hpp). The sections' key tables say, per key,
// how its value is printed (Key::print) and whether it is a secret. A secret
// is printed as written when it was a ${VAR} reference and masked ("********")
// when it was written literally: the output holds no secret, and
// --check-config accepts it (a masked secret counts as present).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/keys.hpp"
#include "config/units.hpp"

namespace depositd::config {

// TOML text of single values.
std::string toml_string(std::string_view s);               // "…" with escapes
std::string toml_key(std::string_view k);                  // bare, or quoted
std::string toml_duration(Duration d);                     // "1m30s"
std::string toml_size(std::uint64_t bytes);                // "32MiB" or 100000
std::string toml_number(double v);                         // 10 or 2.5

// A secret as written, masked: ${VAR} references stay, literal secret text
// becomes "********" (for a URL: the password or whole userinfo, every
// query value and key-like path segments).
std::string mask_secret(std::string_view as_written, Secret kind);

class Printer {
public:
    // `written`: Config::secrets_as_written.
    explicit Printer(const std::map<std::string, std::string>& written) : written_(written) {}

    // --- the document -------------------------------------------------------
    void comment(std::string_view text);               // "# text"
    // A table header ("[api]", "[[chains]]") after a blank line; `path` is
    // the dotted key of its keys ("api", "chains[0]").
    void header(std::string_view header, std::string path);
    // Every key of the table, in table order, through its print function.
    template <class T>
    void keys(KeyTable<T> table, const T& value) {
        for (const auto& k : table) {
            if (!k.print) continue;
            key_ = k.name;
            flags_ = k.flags;
            k.print(*this, value);
        }
        key_ = {};
    }
    // The same keys as an inline table ("{ symbol = "USDT", decimals = 6 }"),
    // for a value of the current key; `index`: the item of an array of
    // tables it is (its secrets are looked up as "admin.users[0].…").
    template <class T>
    std::string inline_table(KeyTable<T> table, const T& value, std::optional<std::size_t> index = {}) const {
        Printer inner(written_);
        inner.inline_ = true;
        inner.path_ = index ? current_key() + "[" + std::to_string(*index) + "]" : current_key();
        inner.keys(table, value);
        std::string out = "{ ";
        for (std::size_t i = 0; i < inner.lines_.size(); ++i) out += (i ? ", " : "") + inner.lines_[i];
        return out + " }";
    }
    std::string text() const;

    // --- the current key's value (called by Key::print) ----------------------
    void raw(std::string toml);                        // key = <toml>
    void string(std::string_view s) { raw(toml_string(s)); }
    void integer(std::int64_t n) { raw(std::to_string(n)); }
    void duration(Duration d) { raw(toml_duration(d)); }
    void durations(const std::vector<Duration>& ds);
    void strings(const std::vector<std::string>& items);
    // Arrays whose items are TOML already, one per line.
    void lines(const std::vector<std::string>& items);
    // Secrets of the current key, masked (its Flags::secret says how):
    // a string, an array of strings, a table of strings (keys printed).
    // `also_written_as`: another key the value may have been read from
    // (webhook `secret` printed for a one-item `secrets`).
    void secret(const std::string& value, std::string_view also_written_as = {});
    void secrets(const std::vector<std::string>& values);
    void secret_table(const std::map<std::string, std::string>& values);
    // The dotted key being printed ("chains[0].native").
    std::string current_key() const;
    // A secret of the current key read as `dotted_key` (an item of an array
    // printed through lines()), masked as secret() would.
    std::string masked_value(const std::string& dotted_key, const std::string& value) const {
        return masked(dotted_key, value);
    }

private:
    std::string masked(const std::string& dotted_key, const std::string& value,
                       std::string_view also_written_as = {}) const;

    const std::map<std::string, std::string>& written_;
    std::vector<std::string> lines_;
    std::string path_;
    std::string_view key_;
    Flags flags_;
    bool inline_ = false;
};

}  // namespace depositd::config
