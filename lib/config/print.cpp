// The effective configuration as TOML (print.hpp).
#include "config/print.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "config/config.hpp"
#include "config/loader.hpp"

namespace depositd::config {
namespace {

bool is_reference(std::string_view s) { return s.find("${") != std::string_view::npos; }

// Text an operator wrote literally may be a secret; a ${VAR} reference
// names where the secret lives and is not one.
std::string mask_part(std::string_view part) {
    if (part.empty() || is_reference(part)) return std::string(part);
    return std::string(kMasked);
}

// A path segment that looks like a provider's key (Infura's /v3/<32 hex>,
// Alchemy's /v2/<key>, QuickNode's /<token>/): long, one word, with a digit.
bool key_like(std::string_view seg) {
    if (seg.size() < 16 || is_reference(seg)) return false;
    const bool word = std::all_of(seg.begin(), seg.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    return word && std::any_of(seg.begin(), seg.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string mask_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return mask_part(url);
    std::string out(url.substr(0, scheme_end + 3));
    std::string_view rest = url.substr(scheme_end + 3);
    const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
    std::string_view authority = rest.substr(0, authority_end);
    rest.remove_prefix(authority_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        const auto colon = userinfo.find(':');
        if (colon == std::string_view::npos) out += mask_part(userinfo);
        else out += std::string(userinfo.substr(0, colon + 1)) + mask_part(userinfo.substr(colon + 1));
        out += "@";
        authority.remove_prefix(at + 1);
    }
    out += authority;
    const auto query_start = std::min(rest.find_first_of("?#"), rest.size());
    std::string_view path = rest.substr(0, query_start);
    rest.remove_prefix(query_start);
    while (!path.empty()) {
        const auto slash = path.find('/', 1);
        const std::string_view seg = path.substr(0, slash);  // "/segment"
        out += key_like(seg.substr(1)) ? "/" + std::string(kMasked) : std::string(seg);
        path.remove_prefix(slash == std::string_view::npos ? path.size() : slash);
    }
    if (!rest.empty() && rest.front() == '?') {
        rest.remove_prefix(1);
        const auto query_end = std::min(rest.find('#'), rest.size());
        std::string_view query = rest.substr(0, query_end);
        rest.remove_prefix(query_end);
        out += "?";
        bool first = true;
        while (true) {
            const auto amp = query.find('&');
            const std::string_view param = query.substr(0, amp);
            const auto eq = param.find('=');
            out += first ? "" : "&";
            first = false;
            out += eq == std::string_view::npos ? std::string(param)
                                                : std::string(param.substr(0, eq + 1)) + mask_part(param.substr(eq + 1));
            if (amp == std::string_view::npos) break;
            query.remove_prefix(amp + 1);
        }
    }
    if (!rest.empty()) out += "#" + mask_part(rest.substr(1));  // a fragment
    return out;
}

}  // namespace

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char esc[8];
                    std::snprintf(esc, sizeof esc, "\\u%04X", static_cast<unsigned>(c));
                    out += esc;
                } else {
                    out += ch;
                }
        }
    }
    return out + "\"";
}

std::string toml_key(std::string_view k) { return is_bare_key(k) ? std::string(k) : toml_string(k); }

std::string toml_duration(Duration d) { return toml_string(format_duration(d)); }

std::string toml_size(std::uint64_t bytes) {
    const std::string text = format_size(bytes);
    // format_size says "N bytes" when no binary unit divides it: a number then.
    return text.ends_with(" bytes") ? std::to_string(bytes) : toml_string(text);
}

std::string toml_number(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string out(buf, r.ptr);
    // TOML wants a fraction or an exponent on a float.
    if (out.find_first_of(".e") == std::string::npos) out += ".0";
    return out;
}

std::string mask_secret(std::string_view as_written, Secret kind) {
    switch (kind) {
        case Secret::no: return std::string(as_written);
        case Secret::value: return mask_part(as_written);
        case Secret::url: return mask_url(as_written);
    }
    return std::string(kMasked);
}

void Printer::comment(std::string_view text) { lines_.push_back("# " + std::string(text)); }

void Printer::header(std::string_view header, std::string path) {
    if (!lines_.empty()) lines_.emplace_back();
    lines_.emplace_back(header);
    path_ = std::move(path);
}

std::string Printer::text() const {
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
}

std::string Printer::current_key() const { return join(path_, key_); }

void Printer::raw(std::string toml) { lines_.push_back(toml_key(key_) + " = " + std::move(toml)); }

void Printer::durations(const std::vector<Duration>& ds) {
    std::string out = "[";
    for (std::size_t i = 0; i < ds.size(); ++i) out += (i ? ", " : "") + toml_duration(ds[i]);
    raw(out + "]");
}

void Printer::strings(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + toml_string(items[i]);
    raw(out + "]");
}

void Printer::lines(const std::vector<std::string>& items) {
    if (items.empty()) return raw("[]");
    std::string out = "[\n";
    for (const auto& item : items) out += "  " + item + ",\n";
    raw(out + "]");
}

std::string Printer::masked(const std::string& dotted_key, const std::string& value,
                            std::string_view also_written_as) const {
    auto it = written_.find(dotted_key);
    if (it == written_.end() && !also_written_as.empty()) it = written_.find(std::string(also_written_as));
    // Not found: a literal default or a value read under another key; mask it.
    return mask_secret(it == written_.end() ? value : it->second, flags_.secret);
}

void Printer::secret(const std::string& value, std::string_view also_written_as) {
    string(masked(current_key(), value, also_written_as));
}

void Printer::secrets(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < values.size(); ++i) out.push_back(masked(item(current_key(), i), values[i]));
    strings(out);
}

void Printer::secret_table(const std::map<std::string, std::string>& values) {
    std::string out = "{ ";
    bool first = true;
    for (const auto& [name, value] : values) {
        out += (first ? "" : ", ") + toml_key(name) + " = " + toml_string(masked(join(current_key(), name), value));
        first = false;
    }
    raw(values.empty() ? "{}" : out + " }");
}

}  // namespace depositd::config
