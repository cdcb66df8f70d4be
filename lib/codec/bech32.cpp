#include "codec/bech32.hpp"

#include <array>

namespace depositd::codec {
namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::uint32_t kBech32Const = 1;
constexpr std::uint32_t kBech32mConst = 0x2bc830a3;

constexpr std::array<std::int8_t, 128> make_rev() {
    std::array<std::int8_t, 128> m{};
    for (auto& v : m) v = -1;
    for (std::size_t i = 0; i < kCharset.size(); ++i) {
        m[static_cast<unsigned char>(kCharset[i])] = static_cast<std::int8_t>(i);
        char up = kCharset[i];
        if (up >= 'a' && up <= 'z') up = static_cast<char>(up - 'a' + 'A');
        m[static_cast<unsigned char>(up)] = static_cast<std::int8_t>(i);
    }
    return m;
}
constexpr auto kRev = make_rev();

std::uint32_t polymod_step(std::uint32_t c, std::uint8_t v) {
    constexpr std::uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    std::uint32_t b = c >> 25;
    c = ((c & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i)
        if ((b >> i) & 1) c ^= gen[i];
    return c;
}

std::uint32_t hrp_polymod(std::string_view hrp) {
    std::uint32_t c = 1;
    for (char ch : hrp) c = polymod_step(c, static_cast<std::uint8_t>(static_cast<unsigned char>(ch) >> 5));
    c = polymod_step(c, 0);
    for (char ch : hrp) c = polymod_step(c, static_cast<std::uint8_t>(static_cast<unsigned char>(ch) & 31));
    return c;
}

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

Error bad(std::string msg) { return make_error(Errc::invalid_input, "bech32: " + std::move(msg)); }

}  // namespace

Result<Bech32Decoded> bech32_decode(std::string_view text) {
    if (text.size() > kBech32MaxLength) return bad("longer than 90 characters");
    bool lower = false, upper = false;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126) return bad("invalid character");
        if (c >= 'a' && c <= 'z') lower = true;
        if (c >= 'A' && c <= 'Z') upper = true;
    }
    if (lower && upper) return bad("mixed case");
    std::size_t pos = text.rfind('1');
    if (pos == std::string_view::npos) return bad("no separator");
    if (pos == 0) return bad("empty human-readable part");
    if (text.size() - pos - 1 < 6) return bad("checksum too short");

    Bech32Decoded out;
    out.hrp.reserve(pos);
    for (std::size_t i = 0; i < pos; ++i) out.hrp.push_back(to_lower(text[i]));
    std::uint32_t c = hrp_polymod(out.hrp);
    out.data.reserve(text.size() - pos - 1);
    for (std::size_t i = pos + 1; i < text.size(); ++i) {
        auto u = static_cast<unsigned char>(text[i]);
        int v = kRev[u];  // u < 127 checked above
        if (v < 0) return bad("invalid data character");
        out.data.push_back(static_cast<std::uint8_t>(v));
        c = polymod_step(c, static_cast<std::uint8_t>(v));
    }
    if (c == kBech32Const)
        out.encoding = Bech32Encoding::bech32;
    else if (c == kBech32mConst)
        out.encoding = Bech32Encoding::bech32m;
    else
        return bad("bad checksum");
    out.data.resize(out.data.size() - 6);
    return out;
}

Result<std::string> bech32_encode(Bech32Encoding encoding, std::string_view hrp, std::span<const std::uint8_t> data) {
    if (hrp.empty()) return bad("empty human-readable part");
    if (hrp.size() + 1 + data.size() + 6 > kBech32MaxLength) return bad("longer than 90 characters");
    std::string out;
    out.reserve(hrp.size() + 1 + data.size() + 6);
    for (char ch : hrp) {
        auto u = static_cast<unsigned char>(ch);
        if (u < 33 || u > 126) return bad("invalid character in human-readable part");
        if (ch >= 'A' && ch <= 'Z') return bad("upper case human-readable part");
        out.push_back(ch);
    }
    out.push_back('1');
    std::uint32_t c = hrp_polymod(hrp);
    for (std::uint8_t v : data) {
        if (v >= 32) return bad("data value out of range");
        c = polymod_step(c, v);
        out.push_back(kCharset[v]);
    }
    for (int i = 0; i < 6; ++i) c = polymod_step(c, 0);
    c ^= encoding == Bech32Encoding::bech32 ? kBech32Const : kBech32mConst;
    for (int i = 0; i < 6; ++i) out.push_back(kCharset[(c >> (5 * (5 - i))) & 31]);
    return out;
}

Result<Bytes> convert_bits(std::span<const std::uint8_t> in, int from, int to, bool pad) {
    if (from < 1 || from > 8 || to < 1 || to > 8) return bad("bad bit group size");
    std::uint32_t acc = 0;
    int bits = 0;
    const std::uint32_t maxv = (1u << to) - 1;
    Bytes out;
    out.reserve(in.size() * static_cast<std::size_t>(from) / static_cast<std::size_t>(to) + 1);
    for (std::uint8_t v : in) {
        if ((v >> from) != 0) return bad("value out of range");
        acc = ((acc << from) | v) & 0xffffff;
        bits += from;
        while (bits >= to) {
            bits -= to;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & maxv));
        }
    }
    if (pad) {
        if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (to - bits)) & maxv));
    } else if (bits >= from || ((acc << (to - bits)) & maxv) != 0) {
        return bad("invalid padding");
    }
    return out;
}

Result<SegwitProgram> segwit_decode(std::string_view hrp, std::string_view address) {
    auto d = bech32_decode(address);
    if (!d) return d.error();
    if (d->hrp != hrp) return bad("wrong human-readable part '" + d->hrp + "'");
    if (d->data.empty()) return bad("empty data");
    int version = d->data[0];
    if (version > 16) return bad("witness version above 16");
    auto prog = convert_bits(std::span<const std::uint8_t>(d->data).subspan(1), 5, 8, false);
    if (!prog) return prog.error();
    if (prog->size() < 2 || prog->size() > 40) return bad("witness program length not 2..40");
    if (version == 0 && prog->size() != 20 && prog->size() != 32) return bad("v0 witness program not 20 or 32 bytes");
    if (version == 0 && d->encoding != Bech32Encoding::bech32) return bad("v0 address must use bech32, not bech32m");
    if (version != 0 && d->encoding != Bech32Encoding::bech32m) return bad("v1+ address must use bech32m, not bech32");
    return SegwitProgram{version, std::move(*prog)};
}

Result<std::string> segwit_encode(std::string_view hrp, int version, std::span<const std::uint8_t> program) {
    if (version < 0 || version > 16) return bad("witness version out of range");
    if (program.size() < 2 || program.size() > 40) return bad("witness program length not 2..40");
    if (version == 0 && program.size() != 20 && program.size() != 32) return bad("v0 witness program not 20 or 32 bytes");
    auto five = convert_bits(program, 8, 5, true);
    if (!five) return five.error();
    Bytes data;
    data.reserve(five->size() + 1);
    data.push_back(static_cast<std::uint8_t>(version));
    data.insert(data.end(), five->begin(), five->end());
    return bech32_encode(version == 0 ? Bech32Encoding::bech32 : Bech32Encoding::bech32m, hrp, data);
}

}  // namespace depositd::codec
