#pragma once
// Reads over a set of keys in a few statements instead of one per key (a
// round trip each on PostgreSQL): `IN (?1, ..., ?64)`, one statement text for
// every chunk (prepared once, cached), the last chunk padded by repeating its
// final key (IN ignores repeats). Internal to the store's repositories.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
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
