// depositctl pool import / derive / stats.
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>

#include "codec/address.hpp"
#include "codec/bip32.hpp"
#include "codec/hash.hpp"
#include "codec/hex.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "ctl.hpp"
#include "store/pool.hpp"
#include "store/pool_import.hpp"

namespace depositd::ctl {

namespace {

constexpr std::size_t kMaxLine = 4096;            // longer lines are invalid (not echoed in full)
constexpr std::uint64_t kProgressEvery = 100'000;  // lines between progress updates on a TTY

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n\v\f";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// The address field of one line: first CSV column, trimmed, unquoted.
std::string_view address_field(std::string_view line) {
    line = trim(line);
    if (auto c = line.find_first_of(",;\t"); c != std::string_view::npos) line = trim(line.substr(0, c));
    if (line.size() >= 2 && ((line.front() == '"' && line.back() == '"') || (line.front() == '\'' && line.back() == '\'')))
        line = trim(line.substr(1, line.size() - 2));
    return line;
}

struct Invalid {
    std::uint64_t line;
    std::string reason;
    std::string text;
};

void progress(const char* what, std::uint64_t n, bool done = false) {
    std::cerr << "\r" << what << " " << n << (done ? "\n" : "") << std::flush;
}

}  // namespace

int cmd_pool_import(Context& ctx, const Args& a) {
    const std::string protocol = protocol_arg(a);
    const std::string& file = a.required("--file");
    const bool strict = a.has("--strict");
    Protocol proto{};
    parse_protocol(protocol, proto);

    std::ifstream in_file;
    std::istream* in = &std::cin;
    std::string name = "stdin";
    if (file != "-") {
        std::error_code ec;
        if (std::filesystem::is_directory(file, ec)) fail_input(file + ": is a directory, not a file");
        in_file.open(file, std::ios::binary);
        if (!in_file) fail_input(file + ": cannot open (" + std::strerror(errno) + ")");
        in = &in_file;
        name = std::filesystem::path(file).filename().string();
    }
    const std::string source = "file:" + name;
    const std::string where = file == "-" ? std::string("<stdin>") : file;

    const bool tty = stderr_is_tty();
    std::vector<store::ImportRow> rows;
    std::vector<Invalid> invalid;
    std::string line;
    std::uint64_t lineno = 0;
    bool first_content = true;
    while (std::getline(*in, line)) {
        ++lineno;
        if (tty && lineno % kProgressEvery == 0) progress("reading lines:", lineno);
        std::string_view view(line);
        if (lineno == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3);  // UTF-8 BOM
        std::string_view t = trim(view);
        if (t.empty() || t.front() == '#') continue;
        if (line.size() > kMaxLine) {
            invalid.push_back({lineno, "line too long", printable(std::string(t.substr(0, 60)), 60)});
            first_content = false;
            continue;
        }
        std::string_view field = address_field(t);
        if (first_content) {
            first_content = false;
            // A CSV header ("address,label,...") is not an address.
            if (iequals(field, "address") && t.size() != field.size()) continue;
        }
        if (field.empty()) {
            invalid.push_back({lineno, "empty address field", printable(std::string(t))});
            continue;
        }
        auto parsed = codec::parse_address(proto, field);
        if (!parsed) {
            invalid.push_back({lineno, parsed.error().message, printable(std::string(field))});
            continue;
        }
        if (const char* why = codec::unusable_deposit_address(*parsed)) {
            invalid.push_back({lineno, why, printable(std::string(field))});
            continue;
        }
        rows.push_back(store::ImportRow{std::move(parsed->canonical), std::move(parsed->watch_key), source,
                                        std::nullopt});
    }
    if (in->bad()) fail_input(where + ": read error after line " + std::to_string(lineno));
    if (tty && lineno >= kProgressEvery) progress("reading lines:", lineno, true);

    for (const auto& inv : invalid)
        std::cerr << "line " << inv.line << ": " << inv.reason << ": " << inv.text << "\n";

    if (strict && !invalid.empty()) {
        std::cout << "imported 0, duplicates 0, invalid " << invalid.size() << "\n";
        std::cout.flush();
        fail_input(where + ": " + std::to_string(invalid.size()) + " invalid line(s) (first: line " +
                   std::to_string(invalid.front().line) + "); --strict: nothing imported");
    }
    if (rows.empty() && !invalid.empty()) {
        std::cout << "imported 0, duplicates 0, invalid " << invalid.size() << "\n";
        std::cout.flush();
        fail_input(where + ": no valid " + protocol + " address (" + std::to_string(invalid.size()) +
                   " invalid line(s)); nothing imported");
    }

    store::ImportCounts counts;
    if (!rows.empty()) {
        store::ImportOptions opts;
        opts.sort_by_key = true;  // a file's order carries no meaning; index order writes far less
        if (tty && rows.size() >= kProgressEvery)
            opts.progress = [&rows](std::size_t done, const store::ImportCounts&) {
                if (done % kProgressEvery < store::kImportChunkRows || done == rows.size())
                    std::cerr << "\rwritten " << done << " of " << rows.size() << (done == rows.size() ? "\n" : "")
                              << std::flush;
            };
        auto r = store::import_addresses(ctx.db(), protocol, rows, now_ms(), std::nullopt, opts);
        // The chunks committed before a failure stay; importing the file again is safe.
        if (!r) fail_runtime(where + ": import failed: " + r.error().message + "; running the same import again is safe");
        counts = *r;
    }
    std::cout << "imported " << counts.imported << ", duplicates " << counts.duplicates << ", invalid "
              << invalid.size() << "\n";
    return kExitOk;
}

int cmd_pool_derive(Context& ctx, const Args& a) {
    const std::string protocol = protocol_arg(a);
    Protocol proto{};
    parse_protocol(protocol, proto);
    if (proto == Protocol::solana)
        fail_input("solana: addresses cannot be derived from a public key (ed25519/SLIP-0010 derivation is "
                   "hardened only); generate them in your signer and use `depositctl pool import --protocol "
                   "solana --file F`");
    std::string xpub_text(trim(a.required("--xpub")));
    const std::uint64_t count = uint_arg("--count", a.required("--count"), 1, 1'000'000);
    constexpr std::uint64_t kMaxIndex = 0x7fffffffULL;  // non-hardened indexes only

    auto key = codec::parse_xpub(xpub_text);
    if (!key) fail_input("--xpub: " + key.error().message);

    codec::DeriveOptions opts;
    if (auto net = a.get("--network")) {
        if (proto != Protocol::bitcoin) throw UsageError{"--network is for --protocol bitcoin only"};
        codec::BtcNetwork n{};
        if (!codec::parse_btc_network(*net, n))
            throw UsageError{"--network must be mainnet, testnet, signet, regtest or bcoin-regtest (got '" +
                             printable(*net, 40) + "')"};
        opts.network = n;
    }
    if (auto script = a.get("--script")) {
        if (proto != Protocol::bitcoin) throw UsageError{"--script is for --protocol bitcoin only"};
        if (*script == "p2pkh") opts.script = codec::BtcScriptType::p2pkh;
        else if (*script == "p2sh-p2wpkh") opts.script = codec::BtcScriptType::p2sh_p2wpkh;
        else if (*script == "p2wpkh") opts.script = codec::BtcScriptType::p2wpkh;
        else if (*script == "p2tr") opts.script = codec::BtcScriptType::p2tr;
        else
            throw UsageError{"--script must be p2pkh, p2sh-p2wpkh, p2wpkh or p2tr (got '" + printable(*script, 40) +
                             "')"};
    }
    if (proto == Protocol::evm || proto == Protocol::tron) {
        if (key->kind != codec::XpubKind::xpub && key->kind != codec::XpubKind::tpub)
            fail_input(std::string("--xpub: a ") + codec::to_string(key->kind) +
                       " is a Bitcoin SegWit account key; for " + protocol + " give the xpub of m/44'/" +
                       (proto == Protocol::evm ? "60" : "195") + "'/0'");
    }
    if (key->depth != 3)
        std::cerr << "warning: the key has depth " << int(key->depth)
                  << "; an account-level key (m/purpose'/coin'/account') has depth 3\n";

    store::Database& db = ctx.db();
    std::uint64_t from = 0;
    if (auto f = a.get("--from")) {
        from = uint_arg("--from", *f, 0, kMaxIndex);
    } else {
        auto c = store::get_xpub_cursor(db, xpub_text, protocol);
        if (!c) fail_runtime(c.error().message);
        from = *c;
    }
    if (from > kMaxIndex || count > kMaxIndex + 1 - from)
        fail_input("--count " + std::to_string(count) + " from index " + std::to_string(from) +
                   " goes past the last non-hardened index 2147483647");

    auto fp = codec::hash160(key->key);
    const std::string source = "xpub:" + codec::to_hex(std::span<const std::uint8_t>(fp.data(), 4));

    const bool tty = stderr_is_tty();
    std::vector<store::ImportRow> rows;
    rows.reserve(count);
    std::uint64_t index = from, skipped = 0;
    std::string first_path, last_path;
    while (rows.size() < count) {
        if (index > kMaxIndex) fail_input("ran past the last non-hardened index");
        auto addr = codec::derive_address(proto, *key, static_cast<std::uint32_t>(index), opts);
        if (!addr) {
            // BIP32: an invalid child (probability < 2^-127) is skipped.
            if (addr.error().code == Errc::invalid_input && skipped < 16) {
                std::cerr << "warning: index " << index << " skipped: " << addr.error().message << "\n";
                ++skipped;
                ++index;
                continue;
            }
            fail_runtime("derivation failed at index " + std::to_string(index) + ": " + addr.error().message);
        }
        auto parsed = codec::parse_address(proto, *addr);
        if (!parsed) fail_runtime("derived address " + *addr + " does not parse: " + parsed.error().message);
        std::string path = "0/" + std::to_string(index);
        rows.push_back(store::ImportRow{std::move(parsed->canonical), std::move(parsed->watch_key), source, path});
        ++index;
        if (tty && rows.size() % 10'000 == 0) progress("derived:", rows.size());
    }
    if (tty && rows.size() >= 10'000) progress("derived:", rows.size(), true);

    auto r = store::import_addresses(db, protocol, rows, now_ms(), store::CursorUpdate{xpub_text, protocol, index});
    // The key's next index moves with the last chunk: after a failure the same
    // command derives from where it was and counts what is stored as duplicates.
    if (!r) fail_runtime("import failed: " + r.error().message + "; running the same command again is safe");
    auto next = store::get_xpub_cursor(db, xpub_text, protocol);

    std::cout << "derived " << rows.size() << " " << protocol << " addresses (0/" << from << " .. "
              << *rows.back().derivation_path << "), imported " << r->imported << ", duplicates "
              << r->duplicates << "\n";
    std::cout << "first " << *rows.front().derivation_path << " " << rows.front().address << "\n";
    std::cout << "last  " << *rows.back().derivation_path << " " << rows.back().address << "\n";
    if (next) std::cout << "next index " << *next << "\n";
    return kExitOk;
}

int cmd_pool_stats(Context& ctx, const Args& a) {
    auto stats = store::pool_stats(ctx.db(), now_ms());
    if (!stats) fail_runtime(stats.error().message);
    const std::array<const char*, 4> protocols{"evm", "tron", "bitcoin", "solana"};
    auto find = [&](const std::string& p) -> store::PoolStats {
        for (const auto& s : *stats)
            if (s.protocol == p) return s;
        return store::PoolStats{p, 0, 0, 0};
    };
    auto configured = [&](const std::string& p) {
        for (const auto& c : ctx.config().chains)
            if (p == to_string(c.kind)) return true;
        return false;
    };
    if (a.has("--json")) {
        json::object o;
        for (const char* p : protocols) {
            auto s = find(p);
            json::object e;
            e["free"] = s.free;
            e["bound"] = s.bound;
            e["cooling"] = s.cooling;
            e["total"] = s.free + s.bound + s.cooling;
            o[p] = std::move(e);
        }
        std::cout << json::serialize(o) << "\n";
        return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> warnings;
    const auto low = ctx.config().pool.low_water;
    for (const char* p : protocols) {
        auto s = find(p);
        rows.push_back({p, std::to_string(s.free), std::to_string(s.bound), std::to_string(s.cooling),
                        std::to_string(s.free + s.bound + s.cooling)});
        if (configured(p) && s.free < low)
            warnings.push_back(std::string("warning: ") + p + " has " + std::to_string(s.free) +
                               " free addresses, under low_water " + std::to_string(low));
    }
    print_table({"PROTOCOL", "FREE", "BOUND", "COOLING", "TOTAL"}, rows);
    std::cout.flush();
    for (const auto& w : warnings) std::cerr << w << "\n";
    return kExitOk;
}

}  // namespace depositd::ctl
