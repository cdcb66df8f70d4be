#include "store/pg/params.hpp"

namespace depositd::store::pg {

const char* type_name(Type t) {
    switch (t) {
        case Type::unspecified: return "unspecified";
        case Type::boolean: return "boolean";
        case Type::bytea: return "bytea";
        case Type::int8: return "bigint";
        case Type::int2: return "smallint";
        case Type::int4: return "integer";
        case Type::text: return "text";
        case Type::json: return "json";
        case Type::float8: return "double precision";
        case Type::unknown: return "unknown";
        case Type::bpchar: return "character";
        case Type::varchar: return "character varying";
        case Type::timestamptz: return "timestamp with time zone";
        case Type::numeric: return "numeric";
        case Type::jsonb: return "jsonb";
        case Type::xid8: return "xid8";
    }
    return "another type";
}

Param::Param(int8_tag, std::int64_t v) : type_(Type::int8), binary_(true) {
    // Binary int8: 8 bytes, network byte order.
    auto u = static_cast<std::uint64_t>(v);
    data_.resize(8);
    for (int i = 7; i >= 0; --i, u >>= 8) data_[static_cast<std::size_t>(i)] = static_cast<char>(u & 0xff);
}

Param Param::bytea(std::span<const std::uint8_t> v) {
    return Param(Type::bytea, false, true, std::string(reinterpret_cast<const char*>(v.data()), v.size()));
}

Param Param::boolean(bool v) { return Param(Type::boolean, false, true, std::string(1, v ? '\1' : '\0')); }

Param Param::null(Type t) { return Param(t, true, false, {}); }

Param Param::typed(Type t, std::string_view text) { return Param(t, false, false, std::string(text)); }

}  // namespace depositd::store::pg
