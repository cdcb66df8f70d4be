#pragma once
// Boost.JSON, with its implementation compiled once (json.cpp), plus small
// accessors that turn a wrong type into an Error instead of an exception.
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace depositd::json {

using namespace boost::json;

// Parses with a size cap and depth limit; any syntax error is Errc::malformed.
Result<value> parse_bounded(std::string_view text, std::size_t max_bytes = 64 << 20);

// Typed field access on an object; the error names the field.
Result<std::string_view> get_string(const object& o, std::string_view key);
Result<std::int64_t> get_int(const object& o, std::string_view key);
Result<const object*> get_object(const object& o, std::string_view key);
Result<const array*> get_array(const object& o, std::string_view key);

}  // namespace depositd::json
