#pragma once
// Shared fixtures of api_handler_test and api_server_test: a temp database,
// a config with two EVM chains and one TRON chain, and pool/deposit helpers.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "api/handler.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "store/database.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"
#include "store/store.hpp"
#include "test_store.hpp"

namespace depositd::api::testing {

inline const char* kKey = "sk_test_0123456789abcdef";

inline config::Config make_config() {
    config::Config c;
    c.api.keys = {kKey, "second-key"};
    c.api.max_body_bytes = 64 * 1024;
    auto chain = [](const char* id, Protocol p) {
        config::ChainConfig ch;
        ch.id = id;
        ch.kind = p;
        return ch;
    };
    c.chains.push_back(chain("ethereum", Protocol::evm));
    c.chains.push_back(chain("bsc", Protocol::evm));
    c.chains.push_back(chain("tron", Protocol::tron));
    c.pool.cooldown = std::nullopt;
    c.pool.low_water = 5;
    return c;
}

class TempDb {
public:
    TempDb() {
        static std::atomic<int> n{0};
        dir_ = std::filesystem::temp_directory_path() /
               ("depositd_api_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
        std::filesystem::create_directories(dir_);
        location_ = test_store::location(dir_ / "t.sqlite");
        auto db = store::Database::open_location(location_);
        if (!db) throw std::runtime_error(db.error().describe());
        db_ = std::move(*db);
        if (auto s = db_->migrate(); !s) throw std::runtime_error(s.error().describe());
    }
    ~TempDb() {
        store_.reset();
        db_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    store::Database& db() { return *db_; }
    // The daemon's view: a writer thread and readers on the same file.
    store::Store& store() {
        if (!store_) {
            auto s = store::Store::open(location_);
            if (!s) throw std::runtime_error(s.error().describe());
            store_ = std::move(*s);
        }
        return *store_;
    }

private:
    std::filesystem::path dir_;
    std::string location_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<store::Store> store_;
};

// Adds `count` synthetic addresses of a protocol; returns the first id.
inline std::int64_t add_addresses(store::Database& db, const std::string& protocol, int count, int start = 0) {
    std::int64_t first = 0;
    for (int i = start; i < start + count; ++i) {
        auto q = db.prepare(
            "INSERT INTO addresses (protocol, address, watch_key, source, state, created_at) "
            "VALUES (?1, ?2, ?3, 'test', 'free', 0) RETURNING id");
        std::string addr = protocol + "_addr_" + std::to_string(i);
        std::vector<std::uint8_t> key(addr.begin(), addr.end());
        q.bind(1, protocol).bind(2, addr).bind_blob(3, key);
        auto r = q.step();
        if (!r || !*r) throw std::runtime_error("insert address: " + (r ? std::string("no row") : r.error().describe()));
        if (!first) first = q.int64(0);
    }
    return first;
}

inline std::int64_t scalar(store::Database& db, const std::string& sql) {
    auto q = db.prepare(sql);
    auto r = q.step();
    if (!r || !*r) throw std::runtime_error("scalar query failed: " + sql);
    return q.int64(0);
}

inline std::string text_scalar(store::Database& db, const std::string& sql) {
    auto q = db.prepare(sql);
    auto r = q.step();
    if (!r || !*r) throw std::runtime_error("query failed: " + sql);
    return q.text(0);
}

// Everything a request could change, as one string.
// (Rows joined here, not by group_concat / string_agg: the same on both backends.)
inline std::string snapshot(store::Database& db) {
    auto rows = [&](const std::string& sql, int columns) {
        auto q = db.prepare(sql);
        std::string out;
        for (;;) {
            auto r = q.step();
            if (!r) throw std::runtime_error("query failed: " + sql + ": " + r.error().message);
            if (!*r) break;
            for (int c = 0; c < columns; ++c) out += (q.is_null(c) ? std::string("-") : q.text(c)) + (c + 1 < columns ? "/" : ",");
        }
        return out;
    };
    return rows("SELECT id, state, cooldown_until FROM addresses ORDER BY id", 3) + "|" +
           rows("SELECT id, reference, unbound_at FROM bindings ORDER BY id", 3) + "|" +
           rows("SELECT count(*) FROM deposits", 1) + "|" +
           rows("SELECT id, status, attempts, next_attempt_at FROM events ORDER BY id", 4);
}

inline store::Deposit make_deposit(std::int64_t address_id, const std::string& address,
                                   const std::optional<std::string>& reference, const std::string& chain,
                                   const std::string& tx, const std::string& raw, unsigned decimals,
                                   const std::string& status, std::int64_t detected_at,
                                   const std::string& currency = "USDT") {
    store::Deposit d;
    d.chain_id = chain;
    d.tx_hash = tx;
    d.index = 0;
    d.block_hash = "0xblock" + tx;
    d.block_number = 100;
    d.id = deposit_id(chain, tx, 0, d.block_hash);
    d.address_id = address_id;
    d.address = address;
    d.reference = reference;
    d.currency = currency;
    d.contract = "0xdAC17F958D2ee523a2206206994597C13D831ec7";
    d.raw_amount = raw;
    d.decimals = decimals;
    d.from = "0xfrom";
    d.confirmations = 1;
    d.required_confirmations = 12;
    d.status = status;
    d.detected_at = detected_at;
    return d;
}

inline json::value parse(const std::string& body) { return json::parse(body); }

// Base64 of SHA-256: what a CSP 'sha256-…' source holds.
inline std::string sha256_b64(const std::string& s) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
    unsigned char out[64];
    int n = EVP_EncodeBlock(out, md, SHA256_DIGEST_LENGTH);
    return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
}

// The text between the first `open` and the next `close` ("" if none).
inline std::string between(const std::string& s, const std::string& open, const std::string& close) {
    auto a = s.find(open);
    if (a == std::string::npos) return {};
    a += open.size();
    auto b = s.find(close, a);
    return b == std::string::npos ? std::string() : s.substr(a, b - a);
}

// The value of an extra header of a response ("" if absent).
inline std::string header(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

}  // namespace depositd::api::testing
