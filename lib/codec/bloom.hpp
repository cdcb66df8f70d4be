#pragma once
// The 2048-bit logs bloom of EVM block headers and receipts (Yellow Paper
// §4.3.1, M3:2048): for every log, its address (20 bytes) and each topic
// (32 bytes) set three bits; bit i of the three is the low 11 bits of byte
// pair i of keccak-256(element), counted from the last bit of the 256-byte
// array. A header's bloom is the OR of its receipts' blooms.
//
// A bloom answers "maybe in the block" or "certainly not": a bit pattern set
// by other elements is a false positive, a clear bit proves absence.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/result.hpp"

namespace depositd::codec {

// The three (byte, mask) pairs one element sets. Computed once per element
// (one keccak), then tested against any number of blooms.
struct BloomBits {
    std::array<std::uint16_t, 3> byte{};
    std::array<std::uint8_t, 3> mask{};
};

BloomBits bloom_bits(std::span<const std::uint8_t> element);

class LogsBloom {
public:
    static constexpr std::size_t kBytes = 256;

    // "0x" + 512 hex digits (either case).
    static Result<LogsBloom> from_hex(std::string_view text);

    void add(const BloomBits& b) noexcept {
        for (std::size_t i = 0; i < 3; ++i) bytes_[b.byte[i]] |= b.mask[i];
    }
    void add(std::span<const std::uint8_t> element) { add(bloom_bits(element)); }
    // Every bit of `b` set: the element may be in the block.
    bool may_contain(const BloomBits& b) const noexcept {
        for (std::size_t i = 0; i < 3; ++i)
            if ((bytes_[b.byte[i]] & b.mask[i]) != b.mask[i]) return false;
        return true;
    }
    bool may_contain(std::span<const std::uint8_t> element) const { return may_contain(bloom_bits(element)); }
    // Every bit set in `other` is set here (this bloom accounts for all of other's elements).
    bool covers(const LogsBloom& other) const noexcept {
        for (std::size_t i = 0; i < kBytes; ++i)
            if ((bytes_[i] & other.bytes_[i]) != other.bytes_[i]) return false;
        return true;
    }
    bool empty() const noexcept {
        for (auto b : bytes_)
            if (b != 0) return false;
        return true;
    }
    std::size_t bits_set() const noexcept;
    const std::array<std::uint8_t, kBytes>& bytes() const noexcept { return bytes_; }

    friend bool operator==(const LogsBloom&, const LogsBloom&) = default;

private:
    std::array<std::uint8_t, kBytes> bytes_{};
};

}  // namespace depositd::codec
