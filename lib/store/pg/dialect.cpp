#include "store/pg/dialect.hpp"

namespace depositd::store::pg {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool ident(char c) { return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// End of the quoted run that starts at i (quote char q, doubled to escape).
std::size_t skip_quoted(std::string_view s, std::size_t i, char q) {
    for (++i; i < s.size(); ++i) {
        if (s[i] != q) continue;
        if (i + 1 < s.size() && s[i + 1] == q) {
            ++i;
            continue;
        }
        return i + 1;
    }
    return s.size();
}

}  // namespace

Result<std::string> numbered_placeholders(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        std::size_t end = i + 1;
        if (c == '\'' || c == '"') {
            end = skip_quoted(s, i, c);
        } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
            end = s.find('\n', i);
            end = end == std::string_view::npos ? s.size() : end;
        } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
            end = s.find("*/", i + 2);
            end = end == std::string_view::npos ? s.size() : end + 2;
        } else if (c == '$' && (i == 0 || !ident(s[i - 1]))) {
            // A dollar quote: $$ or $tag$ ... the same tag. ($1 is not one.)
            std::size_t t = i + 1;
            while (t < s.size() && ident(s[t]) && !digit(s[i + 1])) ++t;
            if (t < s.size() && s[t] == '$') {
                const std::string_view tag = s.substr(i, t - i + 1);
                auto close = s.find(tag, t + 1);
                end = close == std::string_view::npos ? s.size() : close + tag.size();
            }
        } else if (c == '?') {
            std::size_t d = i + 1;
            while (d < s.size() && digit(s[d])) ++d;
            if (d == i + 1)
                return make_error(Errc::internal, "SQL has an unnumbered parameter '?' at offset " + std::to_string(i));
            out += '$';
            out.append(s.substr(i + 1, d - i - 1));
            i = d;
            continue;
        }
        out.append(s.substr(i, end - i));
        i = end;
    }
    return out;
}

}  // namespace depositd::store::pg
