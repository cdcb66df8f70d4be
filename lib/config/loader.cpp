// The TOML reading layer (loader.hpp): locations, structure, scalars.
#include "config/loader.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "config/checks.hpp"
#include "config/sections.hpp"

namespace depositd::config {

std::string Problem::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ":";
    if (!key.empty()) out += key + ":";
    out += " " + message;
    return out;
}

std::string Where::file_line() const { return file + ":" + std::to_string(line); }

std::string Where::to_string() const { return file_line() + ":" + key; }

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "nothing";
    }
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }
int line_of(const toml::key& k) { return static_cast<int>(k.source().begin.line); }

bool is_bare_key(std::string_view k) {
    if (k.empty()) return false;
    return std::all_of(k.begin(), k.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

std::string join(const std::string& path, std::string_view key) {
    std::string k = is_bare_key(key) ? std::string(key) : "\"" + std::string(key) + "\"";
    return path.empty() ? k : path + "." + k;
}

std::string item(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

static std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string_view nearest(std::string_view word, const std::vector<std::string_view>& candidates) {
    std::string_view best;
    std::size_t best_d = 3;
    for (auto c : candidates) {
        const std::size_t d = edit_distance(lower(std::string(word)), c);
        if (d < best_d) best_d = d, best = c;
    }
    return best;
}

Loader::Loader(std::string file, GetEnv env, std::filesystem::path base_dir, Reader reader)
    : file_(std::move(file)), env_(env), base_dir_(std::move(base_dir)), reader_(reader) {}

void Loader::problem(int line, std::string key, std::string message) {
    problems.push_back(Problem{file_, line, std::move(key), std::move(message)});
}

void Loader::check_keys(const toml::table& t, const std::string& path,
                        const std::vector<std::string_view>& allowed) {
    for (auto&& [k, v] : t) {
        (void)v;
        const std::string_view name = k.str();
        if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
        std::string msg = "unknown key";
        const std::string_view best = nearest(name, allowed);
        if (!best.empty()) msg += " (did you mean \"" + std::string(best) + "\"?)";
        else {
            msg += "; allowed here:";
            bool first = true;
            for (auto a : allowed) msg += (first ? " " : ", ") + std::string(a), first = false;
        }
        problem(line_of(k), join(path, name), msg);
    }
}

const toml::table* Loader::section(const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    if (!n) return nullptr;
    if (auto* t = n->as_table()) return t;
    problem(line_of(*n), std::string(name), "must be a table ([" + std::string(name) + "]), not " + type_name(*n));
    return nullptr;
}

const toml::table* Loader::table_of(const toml::node& n, const std::string& key, std::string_view what) {
    if (auto* t = n.as_table()) return t;
    problem(line_of(n), key, "must be " + std::string(what) + ", not " + type_name(n));
    return nullptr;
}

const toml::array* Loader::array_of(const toml::node& n, const std::string& key, std::string_view what) {
    if (auto* a = n.as_array()) return a;
    problem(line_of(n), key, "must be " + std::string(what) + ", not " + type_name(n));
    return nullptr;
}

// ${VAR} expansion. Unset (or empty) variables are problems naming the
// variable, never its value.
std::optional<std::string> Loader::expand(std::string_view s, int line, const std::string& key) {
    std::string out;
    bool ok = true;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t at = s.find("${", i);
        if (at == std::string_view::npos) {
            out.append(s.substr(i));
            break;
        }
        out.append(s.substr(i, at - i));
        const std::size_t close = s.find('}', at + 2);
        if (close == std::string_view::npos) {
            problem(line, key, "unterminated \"${\": write ${NAME} to use an environment variable");
            return std::nullopt;
        }
        const std::string name(s.substr(at + 2, close - at - 2));
        const bool valid_name =
            !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
            std::all_of(name.begin(), name.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
            });
        if (!valid_name) {
            problem(line, key, "\"${" + name + "}\" is not a valid environment variable reference (use letters, digits and _)");
            ok = false;
        } else {
            std::string value;
            if (env_) {
                value = env_(name);
            } else if (const char* v = std::getenv(name.c_str())) {
                value = v;
            }
            if (value.empty()) {
                problem(line, key, "environment variable " + name + " is not set (or is empty)");
                ok = false;
            }
            out += value;
        }
        i = close + 1;
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<std::string> Loader::string(const toml::node& n, const std::string& key) {
    auto* s = n.as_string();
    if (!s) {
        problem(line_of(n), key, "must be a string, not " + type_name(n));
        return std::nullopt;
    }
    const std::string& text = s->get();
    const auto flags = key_flags(key);
    const bool secret = flags && flags->secret != Secret::no;
    const bool masked = secret && text.find(kMasked) != std::string::npos;
    // A value this reader never uses is not expanded (nor checked further).
    if (!reads_key(reader_, key) && (text.find("${") != std::string::npos || masked)) return std::nullopt;
    if (masked) {
        if (reader_ != Reader::check) {
            problem(line_of(n), key,
                    "holds a masked secret (\"" + std::string(kMasked) +
                        "\", as --print-config prints one): write the value or a ${VAR} reference here");
            return std::nullopt;
        }
        masked_secrets.push_back(at(line_of(n), key).to_string());
    }
    auto value = expand(text, line_of(n), key);
    if (value && secret) secrets_as_written[key] = text;
    return value;
}

bool Loader::masked(std::string_view value) const {
    return reader_ == Reader::check && value.find(kMasked) != std::string_view::npos;
}

std::optional<std::int64_t> Loader::integer(const toml::node& n, const std::string& key, std::int64_t min,
                                            std::int64_t max, std::string_view what) {
    auto* i = n.as_integer();
    if (!i || i->get() < min || i->get() > max) {
        problem(line_of(n), key, "must be " + std::string(what) + (i ? "" : ", not " + type_name(n)));
        return std::nullopt;
    }
    return i->get();
}

std::optional<Duration> Loader::duration(const toml::node& n, const std::string& key, bool allow_zero) {
    if (n.is_integer() || n.is_floating_point()) {
        problem(line_of(n), key,
                "must be a duration string with a unit (ms, s, m, h), e.g. \"10s\", not " + type_name(n));
        return std::nullopt;
    }
    auto s = string(n, key);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d) {
        problem(line_of(n), key, d.error().message);
        return std::nullopt;
    }
    if (!allow_zero && d->count() == 0) {
        problem(line_of(n), key, "must be greater than zero");
        return std::nullopt;
    }
    return *d;
}

std::optional<std::uint64_t> Loader::size(const toml::node& n, const std::string& key, std::uint64_t min,
                                          std::uint64_t max) {
    const std::string range = "from " + format_size(min) + " to " + format_size(max);
    std::uint64_t v = 0;
    if (auto* i = n.as_integer()) {
        if (i->get() < 0) {
            problem(line_of(n), key, "must be a size " + range);
            return std::nullopt;
        }
        v = static_cast<std::uint64_t>(i->get());
    } else if (n.is_string()) {
        auto s = string(n, key);
        if (!s) return std::nullopt;
        auto parsed = parse_size(*s);
        if (!parsed) {
            problem(line_of(n), key, parsed.error().message);
            return std::nullopt;
        }
        v = *parsed;
    } else {
        problem(line_of(n), key, "must be a size such as \"32MiB\" or a number of bytes, not " + type_name(n));
        return std::nullopt;
    }
    if (v < min || v > max) {
        problem(line_of(n), key, "must be " + range + " (got " + format_size(v) + ")");
        return std::nullopt;
    }
    return v;
}

}  // namespace depositd::config
