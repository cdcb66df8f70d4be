#pragma once
// Reads over a set of keys in a few statements instead of one per key (a
// round trip each on PostgreSQL): `IN (?1, ..., ?64)`, one statement text for
// every chunk (prepared once, cached), the last chunk padded by repeating its
// final key (IN ignores repeats). Internal to the store's repositories.
#include <algorithm>
#include <bit>
#include <span>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace depositd::store::detail {

constexpr int kInListWidth = 64;

// "(?1, ?2, ?3), (?4, ?5, ?6)" for rows × columns parameters: an IN list
// (one row) or the rows of a multi-row VALUES.
inline std::string param_rows(std::size_t rows, int columns) {
    std::string s;
    int p = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        s += r ? ", (" : "(";
        for (int c = 0; c < columns; ++c) {
            if (c) s += ", ";
            s += "?" + std::to_string(++p);
        }
        s += ")";
    }
    return s;
}

// A multi-row statement, prefix + param_rows(width, columns) + suffix, in
// one text per power-of-two width up to `widest` (built once, prepared once
// per connection): n rows go out as widths n's binary digits, at most
// log2(widest) + 1 distinct statements. A statement per row costs a round
// trip (or a pipeline slot) and the server's per-statement work each.
class RowStatements {
public:
    RowStatements(std::string_view prefix, int columns, std::string_view suffix, std::size_t widest = 64)
        : columns_(columns), widest_(std::bit_floor(std::max<std::size_t>(widest, 1))) {
        for (std::size_t w = 1; w <= widest_; w *= 2)
            texts_.push_back(std::string(prefix) + param_rows(w, columns) + std::string(suffix));
    }
    // The widest text for `remaining` (> 0) rows.
    std::size_t width_for(std::size_t remaining) const { return std::bit_floor(std::min(remaining, widest_)); }
    // The text for `width` rows (a width from width_for()).
    const std::string& text(std::size_t width) const {
        return texts_[static_cast<std::size_t>(std::countr_zero(width))];
    }
    int columns() const { return columns_; }

private:
    int columns_;
    std::size_t widest_;
    std::vector<std::string> texts_;
};

// Writes `rows` through `statements`, widest first: bind(statement,
// offset, row) binds a row's columns as parameters offset+1 ..., then
// run(statement, its rows) runs it (Statement::run_pipelined with the
// caller's expectations).
template <class Row, class Bind, class Run>
Status write_rows(Database& db, const RowStatements& statements, std::span<const Row> rows, Bind&& bind, Run&& run) {
    for (std::size_t at = 0; at < rows.size();) {
        const std::size_t n = statements.width_for(rows.size() - at);
        auto s = db.prepare(statements.text(n));
        for (std::size_t i = 0; i < n; ++i) bind(s, statements.columns() * static_cast<int>(i), rows[at + i]);
        if (auto r = run(s, rows.subspan(at, n)); !r) return r;
        at += n;
    }
    return {};
}

// "(?1, ?2, ..., ?64)"
inline std::string in_list() { return param_rows(1, kInListWidth); }

// Runs `sql` (whose parameters are in_list()'s, and only those) over `keys`
// (each once, however often listed), calling on_row(statement) for every row.
template <class Key, class OnRow>
Status query_in_chunks(Database& db, const std::string& sql, std::vector<Key> keys, OnRow&& on_row) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (std::size_t at = 0; at < keys.size(); at += kInListWidth) {
        auto s = db.prepare(sql);
        for (int i = 0; i < kInListWidth; ++i) s.bind(i + 1, keys[std::min(at + i, keys.size() - 1)]);
        for (;;) {
            auto r = s.step();
            if (!r) return r.error();
            if (!*r) break;
            on_row(s);
        }
    }
    return {};
}

// The ids `sql` selects (one integer column) for `keys`, as a set.
template <class Key>
Result<std::unordered_set<std::int64_t>> id_set_in_chunks(Database& db, const std::string& sql, std::vector<Key> keys) {
    std::unordered_set<std::int64_t> out;
    if (auto s = query_in_chunks(db, sql, std::move(keys), [&](const Statement& row) { out.insert(row.int64(0)); }); !s)
        return s.error();
    return out;
}

}  // namespace depositd::store::detail
