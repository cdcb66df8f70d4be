#include "api/admin/lag_history.hpp"

#include <algorithm>

namespace depositd::api::admin {

void LagHistory::sample(const HealthBoard& board) {
    for (const auto& [chain, h] : board.snapshot()) add(chain, h.lag());
}

void LagHistory::add(const std::string& chain, std::optional<std::uint64_t> lag) {
    std::lock_guard lock(mu_);
    auto& q = lags_[chain];
    q.push_back(lag);
    while (q.size() > capacity_) q.pop_front();
}

std::vector<std::optional<std::uint64_t>> LagHistory::series(const std::string& chain) const {
    std::lock_guard lock(mu_);
    auto it = lags_.find(chain);
    if (it == lags_.end()) return {};
    return {it->second.begin(), it->second.end()};
}

std::string sparkline_svg(const std::vector<std::optional<std::uint64_t>>& series, int width, int height) {
    std::uint64_t top = 1;
    for (const auto& v : series)
        if (v) top = std::max(top, *v);
    std::string out = "<svg class=\"spark\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                      "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
                      std::to_string(height) + "\" role=\"img\" aria-label=\"lag, last " +
                      std::to_string(series.size()) + " samples, max " + std::to_string(top) + "\">";
    if (series.size() >= 2) {
        const double dx = static_cast<double>(width - 2) / static_cast<double>(series.size() - 1);
        std::string points;
        auto flush = [&] {
            if (!points.empty()) out += "<polyline fill=\"none\" points=\"" + points + "\"/>";
            points.clear();
        };
        for (std::size_t i = 0; i < series.size(); ++i) {
            if (!series[i]) {
                flush();
                continue;
            }
            const double x = 1 + dx * static_cast<double>(i);
            const double y = 1 + (height - 2) * (1.0 - static_cast<double>(*series[i]) / static_cast<double>(top));
            char buf[48];
            std::snprintf(buf, sizeof buf, "%s%.1f,%.1f", points.empty() ? "" : " ", x, y);
            points += buf;
        }
        flush();
    }
    out += "</svg>";
    return out;
}

}  // namespace depositd::api::admin
