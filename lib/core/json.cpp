// The one translation unit that compiles Boost.JSON and Boost.URL.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>

#include "core/json.hpp"

namespace depositd::json {

Result<value> parse_bounded(std::string_view text, std::size_t max_bytes) {
    if (text.size() > max_bytes) return make_error(Errc::malformed, "JSON document too large");
    parse_options opt;
    opt.max_depth = 64;
    boost::system::error_code ec;
    value v = boost::json::parse(text, ec, {}, opt);
    if (ec) return make_error(Errc::malformed, "invalid JSON: " + ec.message());
    return v;
}

Result<std::string_view> get_string(const object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return make_error(Errc::malformed, "missing field '" + std::string(key) + "'");
    if (!it->value().is_string()) return make_error(Errc::malformed, "field '" + std::string(key) + "' is not a string");
    const auto& s = it->value().get_string();
    return std::string_view(s.data(), s.size());
}

Result<std::int64_t> get_int(const object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return make_error(Errc::malformed, "missing field '" + std::string(key) + "'");
    const auto& v = it->value();
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    return make_error(Errc::malformed, "field '" + std::string(key) + "' is not an integer");
}

Result<const object*> get_object(const object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_object())
        return make_error(Errc::malformed, "field '" + std::string(key) + "' is not an object");
    return &it->value().get_object();
}

Result<const array*> get_array(const object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_array())
        return make_error(Errc::malformed, "field '" + std::string(key) + "' is not an array");
    return &it->value().get_array();
}

}  // namespace depositd::json
