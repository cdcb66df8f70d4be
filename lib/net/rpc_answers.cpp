// JSON-RPC answers read and judged: node errors classified (rate limits,
// range overflows), single and batch answers matched to their request ids,
// and the top-level scan that lets call_raw hand a large result to its decoder unparsed.
#include "net/rpc_answers.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "core/text.hpp"
#include "net/jsonrpc.hpp"

namespace depositd::net {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// "0x1a2B" or a decimal JSON number -> value; -1 when not a quantity.
long long parse_quantity(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
        base = 16;
    }
    long long v = -1;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc() || p == s.data()) return -1;
    return v;
}

long long quantity_of(const json::value& v) {
    if (v.is_string()) return parse_quantity(v.get_string());
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() < static_cast<std::uint64_t>(INT64_MAX)) return static_cast<long long>(v.get_uint64());
    return -1;
}

// Suggested range end from the message text: "[0xa, 0xb]" or "range a-b".
long long suggested_from_text(const std::string& m) {
    // Alchemy / Infura: "... [0x0, 0xd043b8]"
    for (std::size_t pos = m.find('['); pos != std::string::npos; pos = m.find('[', pos + 1)) {
        std::size_t close = m.find(']', pos);
        if (close == std::string::npos) break;
        std::string_view inside(m.data() + pos + 1, close - pos - 1);
        std::size_t comma = inside.find(',');
        if (comma == std::string_view::npos) continue;
        long long a = parse_quantity(inside.substr(0, comma));
        long long b = parse_quantity(inside.substr(comma + 1));
        if (a >= 0 && b >= a) return b;
    }
    // "retry with the range 23879634-23879696"
    static constexpr std::string_view kRange = "with the range ";
    if (auto pos = m.find(kRange); pos != std::string::npos) {
        std::string_view rest(m.data() + pos + kRange.size(), m.size() - pos - kRange.size());
        std::size_t dash = rest.find('-');
        if (dash != std::string_view::npos) {
            long long a = parse_quantity(rest.substr(0, dash));
            long long b = parse_quantity(rest.substr(dash + 1));
            if (a >= 0 && b >= a) return b;
        }
    }
    return -1;
}

bool is_rate_limit_message(int code, const std::string& m) {
    return code == 429 || contains(m, "rate limit") || contains(m, "too many requests") ||
           contains(m, "request rate") || contains(m, "rate exceeded") || contains(m, "frequency limit") ||
           contains(m, "capacity exceeded");
}

// A node's text in our messages: capped and escaped (core/text.hpp).
std::string snippet(std::string_view body) { return quote_untrusted(body); }

Error classify_rpc_error(long long code, std::string message, const json::value* data) {
    Error err;
    err.message = std::move(message);
    err.status = static_cast<int>(std::clamp<long long>(code, INT32_MIN, INT32_MAX));
    long long suggested = -1;
    if (is_range_error(err.status, err.message, data, suggested)) {
        err.code = Errc::range_too_large;
        err.suggested_to = suggested;
    } else if (is_rate_limit_message(err.status, lower(err.message))) {
        err.code = Errc::rate_limited;
    } else {
        err.code = Errc::rpc_error;
    }
    // Classified on the node's own words; logged and returned only escaped.
    err.message = snippet(err.message);
    return err;
}

// Error from a JSON-RPC error object.
Error classify_error(const json::value& e) {
    Error err;
    if (!e.is_object()) {
        err.code = Errc::rpc_error;
        err.message = snippet(e.is_string() ? std::string(e.get_string()) : json::serialize(e));
        return err;
    }
    const auto& o = e.get_object();
    long long code = 0;
    if (auto* c = o.if_contains("code")) {
        if (c->is_int64()) code = c->get_int64();
        else if (c->is_uint64()) code = static_cast<long long>(c->get_uint64() & 0x7fffffff);
        else if (c->is_double()) code = static_cast<long long>(c->get_double());
    }
    std::string message;
    if (auto* m = o.if_contains("message"); m && m->is_string()) message = m->get_string();
    return classify_rpc_error(code, std::move(message), o.if_contains("data"));
}

bool id_equals(const json::value& v, std::int64_t id) {
    if (v.is_int64()) return v.get_int64() == id;
    if (v.is_uint64()) return id >= 0 && v.get_uint64() == static_cast<std::uint64_t>(id);
    if (v.is_string()) return parse_quantity(v.get_string()) == id && !v.get_string().empty();
    return false;
}

std::optional<std::int64_t> id_of(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v.get_uint64());
    return std::nullopt;
}

// The top level of a JSON-RPC response read only as far as call_raw needs:
// the id, and whether a (non-null) result or an error comes. Parsing stops at
// the first byte of a non-null result, so a 30 MiB eth_getLogs answer costs a
// few dozen bytes here; its decoder reads the rest.
class TopLevelScan {
public:
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
    using error_code = boost::system::error_code;
    using jsv = boost::json::string_view;

    enum class Found { nothing, result, null_result, error };
    Found found = Found::nothing;
    bool stopped = false;   // stopped on purpose at a result or an error
    bool is_object = false;
    std::optional<std::int64_t> id;  // a numeric (or numeric string) id at the top level
    bool id_present = false;

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code& ec) {
        if (depth_ == 0) is_object = true;
        else if (!value(false, ec)) return false;
        ++depth_;
        return true;
    }
    bool on_object_end(std::size_t, error_code&) { return --depth_, true; }
    bool on_array_begin(error_code& ec) {
        if (depth_ == 0) return stop(ec);  // an array is no answer to one call
        if (!value(false, ec)) return false;
        ++depth_;
        return true;
    }
    bool on_array_end(std::size_t, error_code&) { return --depth_, true; }
    bool on_key_part(jsv s, std::size_t, error_code&) {
        if (depth_ == 1) part_.append(s.data(), s.size());
        return true;
    }
    bool on_key(jsv s, std::size_t, error_code&) {
        if (depth_ == 1) {
            part_.append(s.data(), s.size());
            key_ = part_ == "result" ? Key::result : part_ == "error" ? Key::error : part_ == "id" ? Key::id : Key::other;
            started_ = false;
            part_.clear();
        }
        return true;
    }
    bool on_string_part(jsv s, std::size_t, error_code& ec) {
        if (depth_ == 1 && key_ == Key::id) part_.append(s.data(), s.size());
        return value(false, ec);
    }
    bool on_string(jsv s, std::size_t, error_code& ec) {
        if (depth_ == 1 && key_ == Key::id) {
            part_.append(s.data(), s.size());
            id_present = true;
            const long long q = parse_quantity(part_);
            if (q >= 0 && !part_.empty()) id = q;
            part_.clear();
        }
        return value(false, ec);
    }
    bool on_number_part(jsv, error_code&) { return true; }
    bool on_int64(std::int64_t i, jsv, error_code& ec) {
        if (depth_ == 1 && key_ == Key::id) id_present = true, id = i;
        return value(false, ec);
    }
    bool on_uint64(std::uint64_t u, jsv, error_code& ec) {
        if (depth_ == 1 && key_ == Key::id) {
            id_present = true;
            if (u <= static_cast<std::uint64_t>(INT64_MAX)) id = static_cast<std::int64_t>(u);
        }
        return value(false, ec);
    }
    bool on_double(double, jsv, error_code& ec) {
        if (depth_ == 1 && key_ == Key::id) id_present = true;
        return value(false, ec);
    }
    bool on_bool(bool, error_code& ec) { return value(false, ec); }
    bool on_null(error_code& ec) { return value(true, ec); }
    bool on_comment_part(jsv, error_code&) { return true; }
    bool on_comment(jsv, error_code&) { return true; }

private:
    enum class Key { other, id, result, error };
    int depth_ = 0;
    Key key_ = Key::other;
    bool started_ = false;
    std::string part_;

    bool stop(error_code& ec) {
        stopped = true;
        ec = boost::system::errc::make_error_code(boost::system::errc::operation_canceled);
        return false;
    }
    // The first event of a top-level member's value.
    bool value(bool is_null, error_code& ec) {
        if (depth_ != 1 || started_) return true;
        started_ = true;
        if (key_ == Key::error && !is_null) {
            found = Found::error;
            return stop(ec);
        }
        if (key_ == Key::result) {
            // {"result":null,"error":{...}} (Bitcoin Core) is an error: read on.
            if (is_null) {
                found = Found::null_result;
                return true;
            }
            found = Found::result;
            return stop(ec);
        }
        return true;
    }
};

}  // namespace

bool is_range_error(int code, const std::string& message, const json::value* data, long long& suggested_to) {
    suggested_to = -1;
    const std::string m = lower(message);
    bool match = code == 413;  // HTTP 413 (QuickNode answers range overflows so)
    static constexpr std::string_view patterns[] = {
        "query returned more than",      // Infura: "query returned more than 10000 results. Try with this block range [..]"
        "log response size exceeded",    // Alchemy (older): "... this block range should work: [0x0, 0xd043b8]"
        "retry with the range",          // "query exceeds max results 20000, retry with the range a-b"
        "query exceeds max results",
        "max block range",               // "query exceeds max block range 100000", java-tron "exceed max block range: 5000"
        "range is too large",            // "eth_getLogs range is too large, max is 1k blocks"
        "range too large",
        "ranges over",                   // "ranges over 10000 blocks are not supported on freetier"
        "range is too wide",             // "block range is too wide"
        "range too wide",
        "too many blocks",
        "response size exceeded",
        "response size is larger than",
        "too many results",
        "returned more than",
    };
    for (auto p : patterns)
        if (contains(m, p)) match = true;
    // "eth_getLogs is limited to 1024 block range" (BlockPI), "limited to a 10,000 blocks range" (QuickNode)
    if (contains(m, "limited to") && contains(m, "range")) match = true;
    // Bare "limit exceeded" (some providers on too many logs), but not rate/quota limits.
    if (contains(m, "limit exceeded") && !contains(m, "rate") && !contains(m, "request") && !contains(m, "credit") &&
        !contains(m, "quota") && !contains(m, "daily") && !contains(m, "compute unit") && !contains(m, "frequency"))
        match = true;
    if (!match) return false;

    if (data && data->is_object()) {
        if (auto* to = data->get_object().if_contains("to")) suggested_to = quantity_of(*to);
    }
    if (suggested_to < 0) suggested_to = suggested_from_text(m);
    return true;
}


Error classify_rpc_error(long long code, std::string message) {
    return classify_rpc_error(code, std::move(message), nullptr);
}


namespace detail {

Result<json::value> interpret_single(json::value&& v, std::int64_t id) {
    if (!v.is_object()) return make_error(Errc::malformed, "JSON-RPC response is not an object");
    auto& o = v.get_object();
    if (auto* e = o.if_contains("error"); e && !e->is_null()) return classify_error(*e);
    auto* idv = o.if_contains("id");
    if (!idv || !id_equals(*idv, id)) return make_error(Errc::malformed, "JSON-RPC response id does not match the request");
    auto* r = o.if_contains("result");
    if (!r) return make_error(Errc::malformed, "JSON-RPC response has neither result nor error");
    return std::move(*r);
}

Result<json::value> interpret_batch(json::value&& v, std::int64_t first_id, std::size_t count) {
    if (v.is_object()) {
        // Whole-batch refusal, e.g. geth {"code":-32600,"message":"batch too large"}.
        if (auto* e = v.get_object().if_contains("error"); e && !e->is_null()) return classify_error(*e);
        return make_error(Errc::malformed, "JSON-RPC batch response is not an array");
    }
    if (!v.is_array()) return make_error(Errc::malformed, "JSON-RPC batch response is not an array");
    auto& arr = v.get_array();
    std::vector<json::object*> slot(count, nullptr);
    for (auto& el : arr) {
        if (!el.is_object()) return make_error(Errc::malformed, "JSON-RPC batch element is not an object");
        auto* idv = el.get_object().if_contains("id");
        auto id = idv ? id_of(*idv) : std::nullopt;
        if (!id || *id < first_id || *id >= first_id + static_cast<std::int64_t>(count)) {
            // An error without a usable id refuses the whole batch.
            if (auto* e = el.get_object().if_contains("error"); e && !e->is_null()) return classify_error(*e);
            return make_error(Errc::malformed, "JSON-RPC batch answer with an unknown id");
        }
        auto k = static_cast<std::size_t>(*id - first_id);
        if (slot[k]) return make_error(Errc::malformed, "JSON-RPC batch answers id " + std::to_string(*id) + " twice");
        slot[k] = &el.get_object();
    }
    json::array out;
    out.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
        if (!slot[k])
            return make_error(Errc::malformed, "JSON-RPC batch answer lacks id " +
                                                   std::to_string(first_id + static_cast<std::int64_t>(k)));
        auto& o = *slot[k];
        if (auto* e = o.if_contains("error"); e && !e->is_null()) {
            Error err = classify_error(*e);
            err.message = "batch element " + std::to_string(k) + ": " + err.message;
            return err;
        }
        auto* r = o.if_contains("result");
        if (!r) return make_error(Errc::malformed, "JSON-RPC batch element has neither result nor error");
        out.push_back(std::move(*r));
    }
    return json::value(std::move(out));
}

Status check_raw_answer(const std::string& body, std::int64_t id, std::size_t max_bytes) {
    boost::json::parse_options opt;
    opt.max_depth = 64;
    boost::json::basic_parser<TopLevelScan> p(opt);
    boost::system::error_code ec;
    p.write_some(false, body.data(), body.size(), ec);
    const TopLevelScan& h = p.handler();
    if (ec && !h.stopped) return make_error(Errc::transport, "not JSON");
    if (!h.is_object) return make_error(Errc::malformed, "JSON-RPC response is not an object");
    if (h.found == TopLevelScan::Found::error) {
        auto v = json::parse_bounded(body, max_bytes);
        if (!v) return make_error(Errc::malformed, "JSON-RPC error answer is not valid JSON");
        auto r = interpret_single(std::move(*v), id);
        if (!r) return r.error();
        return make_error(Errc::malformed, "JSON-RPC response has both a result and an error");
    }
    if (h.found == TopLevelScan::Found::nothing)
        return make_error(Errc::malformed, "JSON-RPC response has neither result nor error");
    // The id is checked when it precedes the result (every node we know
    // writes jsonrpc, id, result in that order).
    if (h.id_present && h.id != id) return make_error(Errc::malformed, "JSON-RPC response id does not match the request");
    if (!h.id_present && !h.stopped) return make_error(Errc::malformed, "JSON-RPC response id does not match the request");
    return {};
}

}  // namespace detail

}  // namespace depositd::net
