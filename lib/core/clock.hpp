#pragma once
// An injectable clock: production uses the system clock, tests a manual one,
// so a 60-minute retry schedule is tested in milliseconds.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace depositd {

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point now() const = 0;
    std::int64_t now_ms() const;
};

class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t start_ms = 1'700'000'000'000) : ms_(start_ms) {}
    std::chrono::system_clock::time_point now() const override;
    void advance(std::chrono::milliseconds d) { ms_ += d.count(); }
    void set_ms(std::int64_t ms) { ms_ = ms; }

private:
    std::atomic<std::int64_t> ms_;
};

// RFC 3339 UTC with millisecond precision: "2026-11-22T00:17:16.123Z".
std::string format_rfc3339_ms(std::int64_t unix_ms);

}  // namespace depositd
