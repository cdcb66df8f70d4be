#include "store/pool_import.hpp"

#include "store/in_list.hpp"
#include "store/pool.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <string_view>
#include <vector>
#include <thread>

namespace depositd::store {

namespace {

// Rows are inserted up to 64 per statement (7 texts: 64, 32, ..., 1 rows,
// each built once): a statement run per row cost more CPU than the rows'
// B-tree work. A key already there, or twice in the statement, inserts
// nothing (the first of two equal rows wins, rows going in in order), so the
// statement's changed rows count the imported and the rest are duplicates.
constexpr std::size_t kWidestInsert = 64;
constexpr int kInsertColumns = 7;

const detail::RowStatements& insert_addresses() {
    static const detail::RowStatements statements(
        "INSERT INTO addresses (protocol, address, watch_key, source, derivation_path, created_at, state) VALUES ",
        kInsertColumns, " ON CONFLICT DO NOTHING", kWidestInsert);
    return statements;
}

constexpr const char* kUpsertCursorMax =
    "INSERT INTO xpub_cursors (xpub, protocol, next_index) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (xpub, protocol) DO UPDATE SET next_index = CASE WHEN excluded.next_index > xpub_cursors.next_index THEN excluded.next_index ELSE xpub_cursors.next_index END";

constexpr const char* kUpsertCursorSet =
    "INSERT INTO xpub_cursors (xpub, protocol, next_index) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (xpub, protocol) DO UPDATE SET next_index = excluded.next_index";

bool valid_protocol(const std::string& p) { return p == "evm" || p == "tron" || p == "bitcoin" || p == "solana"; }

Status check_index(std::uint64_t next_index) {
    if (next_index > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return make_error(Errc::invalid_input, "xpub cursor out of range");
    return {};
}

constexpr std::size_t kBigImport = 20'000;
constexpr std::int64_t kBigImportCacheKiB = 128 * 1024;  // an upper bound; pages are allocated as used

// Raises the connection's page cache for its lifetime, then restores it (SQLite).
class CacheSize {
public:
    CacheSize(Database& db, std::int64_t kib) : db_(db) {
        if (db_.backend() != Backend::sqlite) return;  // SQLite's page cache; PostgreSQL has shared_buffers
        auto q = db_.prepare("PRAGMA cache_size");
        if (auto r = q.step(); r && *r) previous_ = q.int64(0);
        (void)db_.exec("PRAGMA cache_size = -" + std::to_string(kib));
    }
    ~CacheSize() {
        if (previous_) {
            (void)db_.exec("PRAGMA cache_size = " + std::to_string(*previous_));
            (void)db_.exec("PRAGMA shrink_memory");
        }
    }
    CacheSize(const CacheSize&) = delete;
    CacheSize& operator=(const CacheSize&) = delete;

private:
    Database& db_;
    std::optional<std::int64_t> previous_;
};

}  // namespace

Result<ImportCounts> import_addresses(Database& db, const std::string& protocol, const std::vector<ImportRow>& rows,
                                      std::int64_t now_ms) {
    return import_addresses(db, protocol, rows, now_ms, std::nullopt);
}

Result<ImportCounts> import_addresses(Database& db, const std::string& protocol, const std::vector<ImportRow>& rows,
                                      std::int64_t now_ms, const std::optional<CursorUpdate>& cursor,
                                      const ImportOptions& options) {
    if (!valid_protocol(protocol)) return make_error(Errc::invalid_input, "unknown protocol '" + protocol + "'");
    // Check everything before touching the database: bad input changes nothing.
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows[i].address.empty() || rows[i].watch_key.empty())
            return make_error(Errc::invalid_input, "row " + std::to_string(i + 1) + ": empty address or watch key");
    }
    if (cursor) {
        if (!valid_protocol(cursor->protocol) || cursor->xpub.empty())
            return make_error(Errc::invalid_input, "bad xpub cursor");
        if (auto s = check_index(cursor->next_index); !s) return s.error();
    }

    // A large import inserts into three indexes in random key order; with
    // SQLite's default 2 MiB page cache that thrashes (1 M rows: ~20 s of CPU).
    // A bigger cache for the duration keeps the index pages in memory.
    std::optional<CacheSize> cache;
    if (rows.size() >= kBigImport) cache.emplace(db, kBigImportCacheKiB);

    // The order rows are written in: the input's, or their watch keys'.
    std::vector<std::uint32_t> order;
    if (options.sort_by_key && rows.size() > 1) {
        if (rows.size() > std::numeric_limits<std::uint32_t>::max())
            return make_error(Errc::invalid_input, "too many rows for one import");
        // Compared as bytes through string_view (vector's operator< trips a GCC 12 -O3 false warning).
        auto key = [&rows](std::uint32_t i) {
            const auto& k = rows[i].watch_key;
            return std::string_view(reinterpret_cast<const char*>(k.data()), k.size());
        };
        // Each row's first 8 key bytes as a big-endian number (zero-padded)
        // settle almost every comparison without touching the rows: byte
        // order, since a shorter key that is another's prefix pads smaller
        // or equal (equal prefixes compare whole keys). Of two equal keys the
        // earlier line is written first (the later one is its duplicate).
        struct Item {
            std::uint64_t prefix;
            std::uint32_t row;
        };
        std::vector<Item> items(rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& k = rows[i].watch_key;
            std::uint64_t p = 0;
            for (std::size_t b = 0; b < 8; ++b) p = (p << 8) | (b < k.size() ? k[b] : 0);
            items[i] = Item{p, static_cast<std::uint32_t>(i)};
        }
        std::sort(items.begin(), items.end(), [&key](const Item& a, const Item& b) {
            if (a.prefix != b.prefix) return a.prefix < b.prefix;
            const auto ka = key(a.row), kb = key(b.row);
            if (ka != kb) return ka < kb;
            return a.row < b.row;
        });
        order.resize(rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) order[i] = items[i].row;
    }
    auto row_at = [&](std::size_t i) -> const ImportRow& { return order.empty() ? rows[i] : rows[order[i]]; };

    const std::size_t max_chunk = std::clamp<std::size_t>(options.chunk_rows, 1, 10'000);
    const bool adaptive = options.target_chunk_time.count() > 0;
    // Adaptive: start small, then size chunks to commit in about target_chunk_time.
    std::size_t chunk = adaptive ? std::min<std::size_t>(max_chunk, 1'000) : max_chunk;
    ImportCounts counts;
    std::size_t done = 0;
    auto failed = [&](const Error& e) -> Error {
        if (done == 0) return e;
        Error out = e;
        out.message += " (after " + std::to_string(done) + " of " + std::to_string(rows.size()) +
                       " rows were committed: imported " + std::to_string(counts.imported) + ", duplicates " +
                       std::to_string(counts.duplicates) + ")";
        return out;
    };
    // An empty import still moves the cursor (pool derive of nothing new).
    do {
        const std::size_t end = std::min(rows.size(), done + chunk);
        const auto started = std::chrono::steady_clock::now();
        ImportCounts part;
        {
            Transaction tx(db);
            if (!tx.begun()) return failed(tx.begun().error());
            if (auto s = lock_address_inserts(db); !s) return failed(s.error());
            for (std::size_t i = done; i < end;) {
                const std::size_t n = insert_addresses().width_for(end - i);
                auto st = db.prepare(insert_addresses().text(n));  // cached: a lookup, not a parse
                for (std::size_t r = 0; r < n; ++r) {
                    const auto& row = row_at(i + r);
                    const int p = kInsertColumns * static_cast<int>(r);
                    st.bind(p + 1, protocol)
                        .bind(p + 2, row.address)
                        .bind_blob(p + 3, row.watch_key)
                        .bind(p + 4, row.source)
                        .bind(p + 5, row.derivation_path)
                        .bind(p + 6, now_ms)
                        .bind(p + 7, "free");
                }
                // On PostgreSQL the chunk's statements are pipelined (one
                // round trip each would be most of the import's time); the
                // counts arrive by the COMMIT.
                auto counted = [&part, n](std::int64_t inserted) {
                    part.imported += static_cast<std::size_t>(inserted);
                    part.duplicates += n - static_cast<std::size_t>(inserted);
                };
                if (auto s = st.run_pipelined(counted); !s) return failed(s.error());
                i += n;
            }
            if (cursor && end == rows.size()) {
                auto st = db.prepare(kUpsertCursorMax);
                st.bind(1, cursor->xpub).bind(2, cursor->protocol).bind(3, static_cast<std::int64_t>(cursor->next_index));
                if (auto s = st.run(); !s) return failed(s.error());
            }
            if (auto s = tx.commit(); !s) return failed(s.error());
        }
        if (adaptive) {
            const double took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
            const double rows_per_ms = static_cast<double>(end - done) / std::max(took, 0.1);
            const double want = rows_per_ms * static_cast<double>(options.target_chunk_time.count());
            // At most double per step: one fast chunk says little.
            chunk = std::clamp<std::size_t>(static_cast<std::size_t>(want), std::min<std::size_t>(100, max_chunk),
                                            std::min(max_chunk, chunk * 2));
        }
        counts.imported += part.imported;
        counts.duplicates += part.duplicates;
        done = end;
        if (options.progress) options.progress(done, counts);
        // Let a writer that waited on the lock in. SQLite's waiters poll for
        // it (the busy handler), so the lock must stay free for a moment.
        // PostgreSQL queues a waiter (address inserts take an advisory lock;
        // nothing else waits for an import) and grants it at the commit: a
        // pause there only idles, 25 ms a chunk (1,000,000 rows: half the
        // import's time).
        if (done < rows.size() && options.pause.count() > 0 && db.backend() == Backend::sqlite)
            std::this_thread::sleep_for(options.pause);
    } while (done < rows.size());
    return counts;
}

Result<std::uint64_t> get_xpub_cursor(Database& db, const std::string& xpub, const std::string& protocol) {
    auto st = db.prepare("SELECT next_index FROM xpub_cursors WHERE xpub = ?1 AND protocol = ?2");
    st.bind(1, xpub).bind(2, protocol);
    auto r = st.step();
    if (!r) return r.error();
    if (!*r) return std::uint64_t{0};
    auto v = st.int64(0);
    return v < 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(v);
}

Status set_xpub_cursor(Database& db, const std::string& xpub, const std::string& protocol, std::uint64_t next_index) {
    if (!valid_protocol(protocol) || xpub.empty()) return make_error(Errc::invalid_input, "bad xpub cursor");
    if (auto s = check_index(next_index); !s) return s;
    auto st = db.prepare(kUpsertCursorSet);
    st.bind(1, xpub).bind(2, protocol).bind(3, static_cast<std::int64_t>(next_index));
    return st.run();
}

}  // namespace depositd::store
