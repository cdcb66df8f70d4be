#pragma once
// A small process-wide metrics registry rendered in Prometheus text format.
// Counters and histograms are labelled; all operations are thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace depositd::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
public:
    static Registry& global();

    void describe(const std::string& name, const std::string& type, const std::string& help);
    void counter_add(const std::string& name, const Labels& labels, double v = 1);
    void gauge_set(const std::string& name, const Labels& labels, double v);
    // Latency histogram in seconds with fixed buckets (5 ms .. 30 s).
    void observe(const std::string& name, const Labels& labels, double seconds);

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
        std::map<std::string, double> values;       // rendered labels -> value
        std::map<std::string, Histogram> histograms;
    };
    mutable std::mutex mu_;
    std::map<std::string, Family> families_;
};

}  // namespace depositd::metrics
