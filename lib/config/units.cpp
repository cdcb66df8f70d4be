// Durations and sizes as configuration values are written (units.hpp).
#include "config/units.hpp"

#include <utility>

namespace depositd::config {

Result<Duration> parse_duration(std::string_view text) {
    auto fail = [&](const std::string& why) -> Result<Duration> {
        return make_error(Errc::invalid_input, why);
    };
    const std::string quoted = "\"" + std::string(text) + "\"";
    if (text.empty()) return fail("empty duration; use a number with a unit (ms, s, m, h), e.g. \"10s\"");
    if (text.front() == '-') return fail(quoted + ": a duration must not be negative");
    if (text.front() == '+') return fail(quoted + ": write the duration without a sign, e.g. \"10s\"");

    constexpr long long kMaxMs = 100LL * 365 * 24 * 3600 * 1000;  // 100 years: plenty
    long long total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t digits_start = i;
        long long n = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            if (n > kMaxMs) return fail(quoted + ": duration is too long");
            n = n * 10 + (text[i] - '0');
            ++i;
        }
        if (i == digits_start)
            return fail(quoted + " is not a duration; use a number with a unit (ms, s, m, h), e.g. \"10s\"");
        if (i < text.size() && (text[i] == '.' || text[i] == ','))
            return fail(quoted + ": fractions are not supported; use a smaller unit, e.g. \"1500ms\"");
        const std::size_t unit_start = i;
        while (i < text.size() && !(text[i] >= '0' && text[i] <= '9')) ++i;
        const std::string_view unit = text.substr(unit_start, i - unit_start);
        long long factor = 0;
        if (unit.empty())
            return fail(quoted + " has no unit; durations need one of ms, s, m, h (e.g. \"" +
                        std::string(text.substr(digits_start)) + "s\")");
        if (unit == "ms") factor = 1;
        else if (unit == "s") factor = 1000;
        else if (unit == "m") factor = 60 * 1000;
        else if (unit == "h") factor = 3600 * 1000;
        else
            return fail(quoted + ": unknown unit \"" + std::string(unit) + "\"; use ms, s, m or h");
        if (n > kMaxMs / factor) return fail(quoted + ": duration is too long");
        total += n * factor;
        if (total > kMaxMs) return fail(quoted + ": duration is too long");
    }
    return Duration(total);
}

Result<std::uint64_t> parse_size(std::string_view text) {
    const std::string quoted = "\"" + std::string(text) + "\"";
    std::size_t i = 0;
    std::uint64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (n > (1ULL << 40)) return make_error(Errc::invalid_input, quoted + ": size is too large");
        n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
        ++i;
    }
    if (i == 0)
        return make_error(Errc::invalid_input, quoted + " is not a size; write e.g. \"32MiB\", \"512KiB\" or a number of bytes");
    std::string_view unit = text.substr(i);
    if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    std::uint64_t factor = 0;
    if (unit.empty() || unit == "B") factor = 1;
    else if (unit == "KiB") factor = 1ULL << 10;
    else if (unit == "MiB") factor = 1ULL << 20;
    else if (unit == "GiB") factor = 1ULL << 30;
    else
        return make_error(Errc::invalid_input, quoted + ": unknown unit \"" + std::string(unit) +
                                                   "\"; use B, KiB, MiB or GiB (e.g. \"32MiB\")");
    return n * factor;
}

std::string format_size(std::uint64_t bytes) {
    if (bytes >= (1ULL << 30) && bytes % (1ULL << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
    if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
    if (bytes >= (1ULL << 10) && bytes % (1ULL << 10) == 0) return std::to_string(bytes >> 10) + "KiB";
    return std::to_string(bytes) + " bytes";
}

std::string format_duration(Duration d) {
    long long ms = d.count();
    if (ms == 0) return "0s";
    std::string out;
    // Largest units first; parse_duration adds the parts back up.
    for (const auto& [unit, factor] : {std::pair<const char*, long long>{"h", 3600 * 1000}, {"m", 60 * 1000},
                                       {"s", 1000}, {"ms", 1}}) {
        if (ms >= factor) {
            out += std::to_string(ms / factor) + unit;
            ms %= factor;
        }
    }
    return out;
}

}  // namespace depositd::config
