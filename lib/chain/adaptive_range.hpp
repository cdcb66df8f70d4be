#pragma once
// How many blocks one request asks for, adapted to what the provider
// accepts: EVM's eth_getLogs ranges and TRON's getblockbylimitnext both get
// "too large" answers (a provider's range/result cap, HTTP 413, or an answer
// above max_response_size) that the same request would get again.
//
//  - starts at the configured maximum;
//  - a "too large" answer for [from, end] shrinks the range at once: to the
//    end the provider suggests when it names one inside the range, else to
//    half, and the caller asks again immediately with the shorter range;
//  - a failure that hints at size (a timeout on a big answer) halves it;
//  - after `grow_after` successful requests in a row it doubles again, up to
//    the maximum.
// One per adapter, used from its coroutines only (no locking).
#include <algorithm>
#include <cstdint>
#include <optional>

namespace depositd::chain {

class AdaptiveRange {
public:
    explicit AdaptiveRange(std::uint64_t max, unsigned grow_after = 8)
        : max_(std::max<std::uint64_t>(1, max)), span_(max_), grow_after_(grow_after) {}

    std::uint64_t span() const { return span_; }
    std::uint64_t max() const { return max_; }

    // The last height of a request starting at `from` that may go up to `to` (>= from).
    std::uint64_t end(std::uint64_t from, std::uint64_t to) const { return from + std::min(to - from, span_ - 1); }

    // [from, end] was refused as too large. Returns the end to ask for now
    // (from <= new end < end), or nullopt when the range is a single block
    // and cannot shrink (the block itself is too large).
    std::optional<std::uint64_t> refused(std::uint64_t from, std::uint64_t end,
                                         std::optional<std::uint64_t> suggested_end = std::nullopt) {
        if (end <= from) return std::nullopt;
        std::uint64_t new_end = from + (end - from) / 2;
        if (suggested_end && *suggested_end >= from && *suggested_end < end) new_end = *suggested_end;
        shrink_to(new_end - from + 1);
        return new_end;
    }

    // At most `span` blocks from now on (a failure that hints at size).
    void shrink_to(std::uint64_t span) {
        span_ = std::max<std::uint64_t>(1, std::min(span_, span));
        calm_ = 0;
    }

    // A request answered: after grow_after of them in a row the span doubles
    // (up to the maximum). True when it grew.
    bool succeeded() {
        if (span_ >= max_) return false;
        if (++calm_ < grow_after_) return false;
        span_ = std::min(max_, span_ * 2);
        calm_ = 0;
        return true;
    }

private:
    std::uint64_t max_;
    std::uint64_t span_;
    unsigned grow_after_;
    unsigned calm_ = 0;
};

}  // namespace depositd::chain
