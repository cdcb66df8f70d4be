#pragma once
// A small process-wide metrics registry rendered in Prometheus text format.
// Counters and histograms are labelled; all operations are thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace depositd::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
public:
    static Registry& global();

    void describe(std::string_view name, const std::string& type, const std::string& help);
    void counter_add(std::string_view name, const Labels& labels, double v = 1);
    void gauge_set(std::string_view name, const Labels& labels, double v);
    // Latency histogram in seconds with fixed buckets (5 ms .. 30 s).
    void observe(std::string_view name, const Labels& labels, double seconds);

    // Prometheus text exposition format 0.0.4.
    std::string render() const;
    void reset();  // tests

private:
    struct Histogram {
        std::vector<std::uint64_t> buckets;
        std::uint64_t count = 0;
        double sum = 0;
    };
    struct Family {
        std::string type = "gauge";
        std::string help;
        std::map<std::string, double, std::less<>> values;  // rendered labels -> value
        std::map<std::string, Histogram, std::less<>> histograms;
    };
    // The family of `name`, made on first use. Counted on every delivery and
    // request: a lookup by view, no string made for a name already there.
    Family& family(std::string_view name);
    mutable std::mutex mu_;
    std::map<std::string, Family, std::less<>> families_;
};

}  // namespace depositd::metrics
