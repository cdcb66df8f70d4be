#pragma once
// The last few minutes of each chain's lag, sampled in memory for the
// console's sparklines (lost on restart; /metrics has the long history).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/health.hpp"

namespace depositd::api::admin {

class LagHistory {
public:
    explicit LagHistory(std::size_t capacity = 90) : capacity_(capacity) {}
    // One sample per chain of the board (nullopt when the lag is unknown).
    void sample(const HealthBoard& board);
    void add(const std::string& chain, std::optional<std::uint64_t> lag);
    std::vector<std::optional<std::uint64_t>> series(const std::string& chain) const;

private:
    std::size_t capacity_;
    mutable std::mutex mu_;
    std::map<std::string, std::deque<std::optional<std::uint64_t>>> lags_;
};

// An inline SVG polyline of the series (no script, no style attribute),
// `width` x `height` pixels, scaled to its maximum; unknown samples are gaps.
std::string sparkline_svg(const std::vector<std::optional<std::uint64_t>>& series, int width = 120, int height = 24);

}  // namespace depositd::api::admin
