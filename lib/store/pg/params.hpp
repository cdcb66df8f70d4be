#pragma once
// Parameters of a prepared statement: each with an explicit PostgreSQL type,
// sent as text or binary, or NULL. The statement is prepared with these
// types, so the server never guesses one.
//
//     conn.query("SELECT id FROM addresses WHERE protocol = $1 AND id > $2", {protocol, after_id});
//     conn.query("UPDATE t SET key = $1, until = $2 WHERE id = $3",
//                {Param::bytea(key), std::optional<std::int64_t>{}, id});
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace depositd::store::pg {

// Type OIDs of the built-in types (fixed in PostgreSQL's catalog, pg_type.dat).
enum class Type : std::uint32_t {
    unspecified = 0,  // let the server infer it (avoid: prepared statements here state types)
    boolean = 16,
    bytea = 17,
    int8 = 20,
    int2 = 21,
    int4 = 23,
    text = 25,
    json = 114,
    float8 = 701,
    unknown = 705,
    bpchar = 1042,
    varchar = 1043,
    timestamptz = 1184,
    numeric = 1700,
    jsonb = 3802,
    xid8 = 5069,
};
const char* type_name(Type t);

class Param {
public:
    // Integers are BIGINT (int8), sent binary. Unsigned 64-bit values do not
    // fit a BIGINT: convert them on purpose (an amount is text, a height is int64).
    template <std::integral T>
        requires(!std::same_as<T, bool> && (std::signed_integral<T> || sizeof(T) < 8))
    Param(T v) : Param(int8_tag{}, static_cast<std::int64_t>(v)) {}
    // Text, sent as text.
    Param(std::string_view v) : type_(Type::text), data_(v) {}
    Param(const char* v) : Param(std::string_view(v)) {}
    Param(const std::string& v) : Param(std::string_view(v)) {}
    // Bytes, sent binary.
    Param(const std::vector<std::uint8_t>& v) : Param(bytea(v)) {}
    // NULL when empty, of T's type otherwise.
    template <class T>
    Param(const std::optional<T>& v) : Param(v ? from(*v) : null(type_of<T>())) {}

    static Param bytea(std::span<const std::uint8_t> v);
    static Param boolean(bool v);
    static Param null(Type t);
    // Any type in its text form, e.g. typed(Type::numeric, "12.50"), typed(Type::jsonb, "{}").
    static Param typed(Type t, std::string_view text);

    Type type() const { return type_; }
    bool is_null() const { return null_; }
    bool binary() const { return binary_; }
    const std::string& bytes() const { return data_; }

private:
    struct int8_tag {};
    Param(int8_tag, std::int64_t v);
    Param(Type t, bool null, bool binary, std::string data)
        : type_(t), null_(null), binary_(binary), data_(std::move(data)) {}
    template <class T>
    static Param from(const T& v) {
        if constexpr (std::same_as<T, bool>) return boolean(v);
        else return Param(v);
    }
    template <class T>
    static constexpr Type type_of() {
        if constexpr (std::same_as<T, bool>) return Type::boolean;
        else if constexpr (std::integral<T>) return Type::int8;
        else if constexpr (std::same_as<T, std::vector<std::uint8_t>>) return Type::bytea;
        else return Type::text;
    }

    Type type_ = Type::text;
    bool null_ = false;
    bool binary_ = false;
    std::string data_;
};

}  // namespace depositd::store::pg
