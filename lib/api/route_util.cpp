#include "api/route_util.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>

#include "core/log.hpp"

namespace depositd::api::util {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

Result<std::string> form_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%') {
            if (i + 2 >= s.size()) return make_error(Errc::invalid_input, "malformed percent-escape");
            const int hi = hex_digit(s[i + 1]);
            const int lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0) return make_error(Errc::invalid_input, "malformed percent-escape");
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

Response json_response(int status, const json::value& v) {
    Response r;
    r.status = status;
    r.content_type = "application/json";
    r.body = json::serialize(v);
    return r;
}

Response ok(int status, json::value data, const std::string& message) {
    json::object o;
    o["success"] = true;
    o["data"] = std::move(data);
    o["message"] = message;
    return json_response(status, o);
}

Response error(int status, const std::string& name, const std::string& message) {
    json::object o;
    o["success"] = false;
    o["error"] = name;
    o["message"] = message;
    return json_response(status, o);
}

Response validation(const std::string& message) { return error(400, "ValidationError", message); }
Response not_found(const std::string& message) { return error(404, "NotFound", message); }

Response method_not_allowed(const std::string& method, const std::string& allow) {
    auto r = error(405, "MethodNotAllowed", "Method " + method + " is not allowed here; allowed: " + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
}

Response internal(const Error& e, const char* what) {
    log::get("api")->error("{}: {}", what, e.describe());
    return error(500, "InternalError", "Internal error");
}

Result<json::object> body_object(const Request& req, std::size_t max_bytes) {
    auto v = json::parse_bounded(req.body, max_bytes);
    if (!v) {
        if (trim(req.body).empty()) return make_error(Errc::invalid_input, "Request body must be a JSON object");
        return make_error(Errc::invalid_input, "Malformed JSON body");
    }
    if (!v->is_object()) return make_error(Errc::invalid_input, "Request body must be a JSON object");
    return std::move(v->get_object());
}

const json::value* field(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

const std::string* param(const Params& p, std::string_view key) {
    const std::string* found = nullptr;
    for (const auto& [k, v] : p)
        if (k == key) found = &v;  // the last one, as PHP does
    return found;
}

const std::string* first_param(const Params& p, std::string_view key) {
    for (const auto& [k, v] : p)
        if (k == key) return &v;
    return nullptr;
}

bool parse_uint(std::string_view s, std::uint64_t max, std::uint64_t& out) {
    if (s.empty() || s.size() > 12) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > max) return false;
    out = v;
    return true;
}

std::optional<std::string> parse_paging(const Params& q, std::uint32_t& page, std::uint32_t& limit) {
    if (auto* s = first_param(q, "page")) {
        std::uint64_t v = 0;
        if (!parse_uint(*s, kMaxPage, v) || v < 1)
            return "page must be an integer between 1 and " + std::to_string(kMaxPage);
        page = static_cast<std::uint32_t>(v);
    }
    if (auto* s = first_param(q, "limit")) {
        std::uint64_t v = 0;
        if (!parse_uint(*s, kMaxLimit, v) || v < 1)
            return "limit must be an integer between 1 and " + std::to_string(kMaxLimit);
        limit = static_cast<std::uint32_t>(v);
    }
    return std::nullopt;
}

json::object pagination(std::uint32_t page, std::uint32_t limit, std::uint64_t total) {
    json::object o;
    o["page"] = page;
    o["limit"] = limit;
    o["total"] = total;
    o["totalPages"] = (total + limit - 1) / limit;
    return o;
}

Result<Params> parse_form(std::string_view text) {
    Params out;
    while (!text.empty()) {
        const auto amp = text.find('&');
        std::string_view pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        auto k = form_decode(pair.substr(0, eq));
        auto v = form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!k || !v) return make_error(Errc::invalid_input, "malformed form data");
        out.emplace_back(std::move(*k), std::move(*v));
    }
    return out;
}

Result<Params> request_params(const Request& req) {
    std::string_view target = req.target;
    const auto q = target.find('?');
    Params out;
    if (q != std::string_view::npos) {
        auto query = parse_form(target.substr(q + 1));
        if (!query) return query.error();
        out = std::move(*query);
    }
    if (req.method == "POST") {
        const std::string ct = lower(req.content_type);
        if (ct.rfind("application/x-www-form-urlencoded", 0) == 0 || (ct.empty() && !req.body.empty())) {
            auto body = parse_form(req.body);
            if (!body) return body.error();
            for (auto& kv : *body) out.push_back(std::move(kv));
        }
    }
    return out;
}

bool is_http_url(std::string_view url) {
    std::string_view rest;
    if (url.substr(0, 7) == "http://") rest = url.substr(7);
    else if (url.substr(0, 8) == "https://") rest = url.substr(8);
    else return false;
    if (rest.empty() || rest.front() == '/' || rest.front() == ':' || rest.front() == '?' || url.size() > 2048)
        return false;
    return std::none_of(url.begin(), url.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

std::optional<std::int64_t> parse_rfc3339(std::string_view s) {
    auto num = [&](std::size_t pos, std::size_t len, int& out) {
        if (pos + len > s.size()) return false;
        out = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            out = out * 10 + (s[i] - '0');
        }
        return true;
    };
    int y, mo, d, h, mi, sec;
    if (s.size() < 20 || !num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) ||
        s[16] != ':' || !num(17, 2, sec))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    std::size_t i = 19;
    int ms = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        int digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (digits < 3) ms = ms * 10 + (s[i] - '0');
            ++digits;
            ++i;
        }
        if (digits == 0) return std::nullopt;
        for (int k = digits; k < 3; ++k) ms *= 10;
    }
    int offset_min = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (!num(i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !num(i + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_min = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    const std::time_t t = timegm(&tm);
    return (static_cast<std::int64_t>(t) - offset_min * 60LL) * 1000 + ms;
}

std::string pick_language(std::string_view header) {
    // The language with the highest q wins; on a tie the first one.
    std::string best = "en";
    double best_q = -1;
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view item = trim(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        const auto semi = item.find(';');
        const std::string tag = lower(trim(item.substr(0, semi)));
        double q = 1.0;
        if (semi != std::string_view::npos) {
            std::string_view rest = trim(item.substr(semi + 1));
            if (rest.substr(0, 2) == "q=") {
                try {
                    q = std::stod(std::string(rest.substr(2)));
                } catch (...) {
                    q = 0;
                }
            }
        }
        if (tag.empty() || q <= best_q) continue;
        best_q = q;
        best = tag.rfind("zh", 0) == 0 ? "zh" : "en";
    }
    return best;
}

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out.push_back(c);
        }
    }
    return out;
}

std::string sha256_base64(std::string_view s) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
    unsigned char out[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
    const int n = EVP_EncodeBlock(out, md, SHA256_DIGEST_LENGTH);
    return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

}  // namespace depositd::api::util
