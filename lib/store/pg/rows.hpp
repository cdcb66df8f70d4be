#pragma once
// The rows of a query's answer, with typed getters. A getter returns an
// error, never a made-up value, when the column is NULL (use the opt_
// getters where NULL is allowed) or of another type:
//
//     auto rows = conn.query("SELECT id, address, cooldown_until FROM addresses WHERE id = $1", {id});
//     if (!rows) return rows.error();
//     for (const Row& r : *rows) {
//         auto id = r.int64(0);              // Result<std::int64_t>
//         auto until = r.opt_int64(2);       // Result<std::optional<std::int64_t>>
//         if (!id || !until) return ...;
//     }
//
// Answers come in binary format from prepared statements and in text format
// from Connection::exec(); the getters read both. NUMERIC has no getter:
// select it as ::text (amounts are exact decimal strings anyway).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

struct pg_result;

namespace depositd::store::pg {

class Rows;

// One row; valid while its Rows lives.
class Row {
public:
    bool is_null(int col) const;
    Result<std::int64_t> int64(int col) const;  // int8, int4, int2
    Result<std::int32_t> int32(int col) const;  // int4, int2
    Result<bool> boolean(int col) const;
    Result<std::string> text(int col) const;    // text, varchar, char(n), name, json, jsonb
    Result<std::vector<std::uint8_t>> bytea(int col) const;
    Result<std::optional<std::int64_t>> opt_int64(int col) const;
    Result<std::optional<std::int32_t>> opt_int32(int col) const;
    Result<std::optional<bool>> opt_boolean(int col) const;
    Result<std::optional<std::string>> opt_text(int col) const;
    Result<std::optional<std::vector<std::uint8_t>>> opt_bytea(int col) const;

private:
    friend class Rows;
    Row(const pg_result* res, int row) : res_(res), row_(row) {}
    Error mismatch(int col, const char* wanted) const;
    Status in_range(int col, const char* wanted) const;
    Status check(int col, const char* wanted) const;  // in range and not NULL
    template <class T, class F>
    Result<std::optional<T>> optional_of(int col, const char* wanted, F get) const;
    std::string_view raw(int col) const;

    const pg_result* res_;
    int row_;
};

// A query's answer. Cheap to move; owns the libpq result.
class Rows {
public:
    Rows() = default;
    explicit Rows(pg_result* res);

    int size() const;
    bool empty() const { return size() == 0; }
    int columns() const;
    std::string column_name(int col) const;
    // The column's type OID (Type, or another built-in type's OID).
    std::uint32_t column_type(int col) const;
    // Rows an INSERT/UPDATE/DELETE touched (0 for others).
    std::int64_t affected() const;
    // The command tag's verb and count ("INSERT 0 1", "COMMIT", "ROLLBACK").
    std::string command() const;
    Row operator[](int row) const { return Row(res_.get(), row); }

    class iterator {
    public:
        iterator(const pg_result* res, int row) : res_(res), row_(row) {}
        Row operator*() const { return Row(res_, row_); }
        iterator& operator++() { ++row_; return *this; }
        bool operator!=(const iterator& o) const { return row_ != o.row_; }

    private:
        const pg_result* res_;
        int row_;
    };
    iterator begin() const { return {res_.get(), 0}; }
    iterator end() const { return {res_.get(), size()}; }

private:
    struct Clear {
        void operator()(pg_result* r) const;
    };
    std::unique_ptr<pg_result, Clear> res_;
};

}  // namespace depositd::store::pg
