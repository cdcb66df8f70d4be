#include "codec/keccak.hpp"

#include <bit>
#include <cstring>

namespace depositd::codec {
namespace {

constexpr std::uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

// Lane i = x + 5y. Rotation offset of each lane (rho), and where pi moves
// it: lane (x, y) goes to (y, 2x + 3y).
constexpr unsigned kRho[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                               25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};
constexpr int pi_destination(int i) { return (i / 5) + 5 * ((2 * (i % 5) + 3 * (i / 5)) % 5); }

// Every loop below has constant bounds and is unrolled, so each lane index is
// a constant and the 25 lanes stay in registers (the table-driven walk of
// rho and pi did not allow that: 674 ns per permutation before, see
// docs/performance.md, "Codecs").
void keccak_f1600(std::uint64_t a[25]) {
    for (int round = 0; round < 24; ++round) {
        std::uint64_t c[5], d[5], b[25];
#pragma GCC unroll 5
        for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
#pragma GCC unroll 5
        for (int x = 0; x < 5; ++x) d[x] = c[(x + 4) % 5] ^ std::rotl(c[(x + 1) % 5], 1);
        // theta, rho and pi
#pragma GCC unroll 25
        for (int i = 0; i < 25; ++i) b[pi_destination(i)] = std::rotl(a[i] ^ d[i % 5], static_cast<int>(kRho[i]));
        // chi
#pragma GCC unroll 25
        for (int i = 0; i < 25; ++i) {
            const int row = i - i % 5, x = i % 5;
            a[i] = b[i] ^ (~b[row + (x + 1) % 5] & b[row + (x + 2) % 5]);
        }
        // iota
        a[0] ^= kRoundConstants[round];
    }
}

inline std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

constexpr std::size_t kRate = 136;  // 1600 - 2*256 bits

}  // namespace

Hash256 keccak256(std::span<const std::uint8_t> data) {
    std::uint64_t state[25] = {};
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    while (n >= kRate) {
        for (std::size_t i = 0; i < kRate / 8; ++i) state[i] ^= load_le64(p + 8 * i);
        keccak_f1600(state);
        p += kRate;
        n -= kRate;
    }
    std::uint8_t block[kRate] = {};
    if (n > 0) std::memcpy(block, p, n);
    block[n] ^= 0x01;          // original Keccak padding (SHA3 uses 0x06)
    block[kRate - 1] ^= 0x80;
    for (std::size_t i = 0; i < kRate / 8; ++i) state[i] ^= load_le64(block + 8 * i);
    keccak_f1600(state);

    Hash256 out;
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t b = 0; b < 8; ++b) out[8 * i + b] = static_cast<std::uint8_t>(state[i] >> (8 * b));
    return out;
}

Hash256 keccak256(std::string_view text) {
    return keccak256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace depositd::codec
