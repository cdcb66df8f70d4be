#include "store/pg/rows.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <limits>

#include "store/pg/params.hpp"

namespace depositd::store::pg {
namespace {

Type type_of(const PGresult* r, int col) { return static_cast<Type>(PQftype(r, col)); }
bool binary(const PGresult* r, int col) { return PQfformat(r, col) == 1; }

std::int64_t be_int(std::string_view b) {
    std::uint64_t u = 0;
    for (unsigned char c : b) u = (u << 8) | c;
    // Sign-extend from the field's width.
    const unsigned bits = static_cast<unsigned>(b.size()) * 8;
    if (bits < 64 && (u >> (bits - 1)) & 1) u |= ~std::uint64_t{0} << bits;
    return static_cast<std::int64_t>(u);
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

void Rows::Clear::operator()(pg_result* r) const { PQclear(r); }

Rows::Rows(pg_result* res) : res_(res) {}

int Rows::size() const { return res_ ? PQntuples(res_.get()) : 0; }
int Rows::columns() const { return res_ ? PQnfields(res_.get()) : 0; }
std::string Rows::column_name(int col) const {
    const char* n = res_ ? PQfname(res_.get(), col) : nullptr;
    return n ? n : "";
}
std::uint32_t Rows::column_type(int col) const { return res_ ? PQftype(res_.get(), col) : 0; }

std::int64_t Rows::affected() const {
    const char* n = res_ ? PQcmdTuples(res_.get()) : nullptr;
    std::int64_t v = 0;
    if (n && *n) std::from_chars(n, n + std::char_traits<char>::length(n), v);
    return v;
}

std::string Rows::command() const {
    const char* c = res_ ? PQcmdStatus(res_.get()) : nullptr;
    return c ? c : "";
}

bool Row::is_null(int col) const { return PQgetisnull(res_, row_, col) == 1; }

std::string_view Row::raw(int col) const {
    return {PQgetvalue(res_, row_, col), static_cast<std::size_t>(PQgetlength(res_, row_, col))};
}

Error Row::mismatch(int col, const char* wanted) const {
    const char* name = PQfname(res_, col);
    return make_error(Errc::internal, std::string("column ") + std::to_string(col) + " (" + (name ? name : "?") +
                                          ") is " + type_name(type_of(res_, col)) + ", read as " + wanted);
}

Status Row::in_range(int col, const char* wanted) const {
    if (col < 0 || col >= PQnfields(res_) || row_ < 0 || row_ >= PQntuples(res_))
        return make_error(Errc::internal, "no column " + std::to_string(col) + " in row " + std::to_string(row_) +
                                              " (read as " + wanted + ")");
    return {};
}

Status Row::check(int col, const char* wanted) const {
    if (auto s = in_range(col, wanted); !s) return s;
    if (is_null(col)) {
        const char* name = PQfname(res_, col);
        return make_error(Errc::internal, std::string("column ") + std::to_string(col) + " (" + (name ? name : "?") +
                                              ") is NULL, read as " + wanted);
    }
    return {};
}

Result<std::int64_t> Row::int64(int col) const {
    if (auto s = check(col, "bigint"); !s) return s.error();
    const Type t = type_of(res_, col);
    if (t != Type::int8 && t != Type::int4 && t != Type::int2) return mismatch(col, "bigint");
    auto v = raw(col);
    if (binary(res_, col)) {
        const std::size_t want = t == Type::int8 ? 8 : t == Type::int4 ? 4 : 2;
        if (v.size() != want) return mismatch(col, "bigint");
        return be_int(v);
    }
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size()) return mismatch(col, "bigint");
    return out;
}

Result<std::int32_t> Row::int32(int col) const {
    if (auto s = check(col, "integer"); !s) return s.error();
    const Type t = type_of(res_, col);
    if (t != Type::int4 && t != Type::int2) return mismatch(col, "integer");
    auto v = int64(col);
    if (!v) return v.error();
    return static_cast<std::int32_t>(*v);
}

Result<bool> Row::boolean(int col) const {
    if (auto s = check(col, "boolean"); !s) return s.error();
    if (type_of(res_, col) != Type::boolean) return mismatch(col, "boolean");
    auto v = raw(col);
    if (binary(res_, col)) return v.size() == 1 && v[0] != 0;
    return v == "t";
}

Result<std::string> Row::text(int col) const {
    if (auto s = check(col, "text"); !s) return s.error();
    switch (type_of(res_, col)) {
        case Type::text: case Type::varchar: case Type::bpchar: case Type::json: case Type::unknown:
            return std::string(raw(col));
        case Type::jsonb: {
            auto v = raw(col);
            // Binary jsonb is a version byte (1) and the JSON text.
            if (binary(res_, col)) {
                if (v.empty() || v[0] != 1) return mismatch(col, "text");
                v.remove_prefix(1);
            }
            return std::string(v);
        }
        default:
            break;
    }
    // "name" (e.g. from pg_catalog) has no Type entry of its own.
    if (PQftype(res_, col) == 19) return std::string(raw(col).substr(0, raw(col).find('\0')));
    return mismatch(col, "text");
}

Result<std::vector<std::uint8_t>> Row::bytea(int col) const {
    if (auto s = check(col, "bytea"); !s) return s.error();
    if (type_of(res_, col) != Type::bytea) return mismatch(col, "bytea");
    auto v = raw(col);
    if (binary(res_, col)) return std::vector<std::uint8_t>(v.begin(), v.end());
    // Text format: hex ("\x0102..."), the default bytea_output since 9.0.
    if (v.size() < 2 || v[0] != '\\' || v[1] != 'x' || v.size() % 2) return mismatch(col, "bytea (hex)");
    std::vector<std::uint8_t> out;
    out.reserve(v.size() / 2 - 1);
    for (std::size_t i = 2; i < v.size(); i += 2) {
        int hi = hex_digit(v[i]), lo = hex_digit(v[i + 1]);
        if (hi < 0 || lo < 0) return mismatch(col, "bytea (hex)");
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    return out;
}

template <class T, class F>
Result<std::optional<T>> Row::optional_of(int col, const char* wanted, F get) const {
    if (auto s = in_range(col, wanted); !s) return s.error();
    if (is_null(col)) return std::optional<T>{};
    auto v = get();
    if (!v) return v.error();
    return std::optional<T>(std::move(*v));
}

Result<std::optional<std::int64_t>> Row::opt_int64(int col) const {
    return optional_of<std::int64_t>(col, "bigint", [&] { return int64(col); });
}
Result<std::optional<std::int32_t>> Row::opt_int32(int col) const {
    return optional_of<std::int32_t>(col, "integer", [&] { return int32(col); });
}
Result<std::optional<bool>> Row::opt_boolean(int col) const {
    return optional_of<bool>(col, "boolean", [&] { return boolean(col); });
}
Result<std::optional<std::string>> Row::opt_text(int col) const {
    return optional_of<std::string>(col, "text", [&] { return text(col); });
}
Result<std::optional<std::vector<std::uint8_t>>> Row::opt_bytea(int col) const {
    return optional_of<std::vector<std::uint8_t>>(col, "bytea", [&] { return bytea(col); });
}

}  // namespace depositd::store::pg
