#include "core/clock.hpp"

#include <ctime>
#include <cstdio>

namespace depositd {

std::int64_t Clock::now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
}

std::chrono::system_clock::time_point ManualClock::now() const {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_.load()));
}

std::string format_rfc3339_ms(std::int64_t unix_ms) {
    std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
    int ms = static_cast<int>(unix_ms % 1000);
    if (ms < 0) { ms += 1000; --secs; }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];  // room for any int the compiler can imagine in tm fields
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

}  // namespace depositd
