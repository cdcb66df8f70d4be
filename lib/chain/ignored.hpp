#pragma once
// Transfers to a watched address that are not deposits, one rule for every
// adapter: a zero amount (zero-value ERC20/TRC20 Transfers are
// address-poisoning spam; native transfers of 0 move nothing) and an amount
// below the currency's configured `min_amount` (dust).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/amount.hpp"

namespace depositd::chain {

enum class Ignored : std::uint8_t { no = 0, zero_value, below_min_amount };

// Metric label: "zero_value", "below_min_amount".
const char* to_string(Ignored why);

// `min_amount`: the currency's configured floor in base units (nullopt: none).
inline Ignored ignored(const U256& amount, const std::optional<U256>& min_amount) {
    if (amount.is_zero()) return Ignored::zero_value;
    if (min_amount && amount < *min_amount) return Ignored::below_min_amount;
    return Ignored::no;
}

// Adds n to depositd_transfers_ignored_total{chain, reason}.
void count_ignored(std::string_view chain, Ignored why, std::size_t n = 1);

}  // namespace depositd::chain
