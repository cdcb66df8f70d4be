#include "codec/keccak.hpp"

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

// Rotation offsets and the pi permutation in the lane order of the rho-pi
// walk starting from lane 1 (index = x + 5y).
constexpr unsigned kRho[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                               27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
constexpr unsigned kPi[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                              15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

constexpr std::uint64_t rotl(std::uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

void keccak_f1600(std::uint64_t a[25]) {
    for (int round = 0; round < 24; ++round) {
        // theta
        std::uint64_t c[5];
        for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; ++x) {
            std::uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5) a[y + x] ^= d;
        }
        // rho and pi
        std::uint64_t t = a[1];
        for (int i = 0; i < 24; ++i) {
            unsigned j = kPi[i];
            std::uint64_t tmp = a[j];
            a[j] = rotl(t, kRho[i]);
            t = tmp;
        }
        // chi
        for (int y = 0; y < 25; y += 5) {
            std::uint64_t r[5];
            for (int x = 0; x < 5; ++x) r[x] = a[y + x];
            for (int x = 0; x < 5; ++x) a[y + x] = r[x] ^ (~r[(x + 1) % 5] & r[(x + 2) % 5]);
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
