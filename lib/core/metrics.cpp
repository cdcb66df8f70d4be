#include "core/metrics.hpp"

#include <cstdio>
#include <cstdlib>

namespace depositd::metrics {
namespace {

const std::vector<double>& bucket_bounds() {
    static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    return b;
}

// {k="v",...} in one string: label values escaped (backslash, quote, newline).
std::string render_labels(const Labels& labels) {
    if (labels.empty()) return "";
    std::size_t size = 2;
    for (const auto& [k, v] : labels) size += k.size() + v.size() + 4;
    std::string s;
    s.reserve(size);
    s += '{';
    for (const auto& [k, v] : labels) {
        if (s.size() > 1) s += ',';
        s += k;
        s += "=\"";
        for (char c : v) {
            if (c == '\n') {
                s += "\\n";
                continue;
            }
            if (c == '\\' || c == '"') s += '\\';
            s += c;
        }
        s += '"';
    }
    s += '}';
    return s;
}

// Shortest text that reads back as the same double ("0.025", not "0.025000000000000001").
std::string number(double v) {
    char buf[64];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

// Adds one label to an already rendered label set.
std::string with_label(const std::string& rendered, const std::string& k, const std::string& v) {
    std::string extra = k + "=\"" + v + "\"";
    if (rendered.empty()) return "{" + extra + "}";
    return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

Registry& Registry::global() {
    static Registry r;
    return r;
}

Registry::Family& Registry::family(std::string_view name) {
    auto it = families_.find(name);
    if (it == families_.end()) it = families_.emplace(std::string(name), Family{}).first;
    return it->second;
}

void Registry::describe(std::string_view name, const std::string& type, const std::string& help) {
    std::lock_guard lock(mu_);
    auto& f = family(name);
    f.type = type;
    f.help = help;
}

void Registry::counter_add(std::string_view name, const Labels& labels, double v) {
    std::lock_guard lock(mu_);
    auto& f = family(name);
    if (f.help.empty()) f.type = "counter";
    f.values[render_labels(labels)] += v;
}

void Registry::gauge_set(std::string_view name, const Labels& labels, double v) {
    std::lock_guard lock(mu_);
    family(name).values[render_labels(labels)] = v;
}

void Registry::observe(std::string_view name, const Labels& labels, double seconds) {
    std::lock_guard lock(mu_);
    auto& f = family(name);
    f.type = "histogram";
    auto& h = f.histograms[render_labels(labels)];
    const auto& bounds = bucket_bounds();
    if (h.buckets.empty()) h.buckets.assign(bounds.size(), 0);
    for (size_t i = 0; i < bounds.size(); ++i)
        if (seconds <= bounds[i]) ++h.buckets[i];
    ++h.count;
    h.sum += seconds;
}

std::string Registry::render() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& [name, f] : families_) {
        if (f.values.empty() && f.histograms.empty()) continue;
        if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
        out += "# TYPE " + name + " " + f.type + "\n";
        for (const auto& [labels, v] : f.values) out += name + labels + " " + number(v) + "\n";
        for (const auto& [labels, h] : f.histograms) {
            const auto& bounds = bucket_bounds();
            for (size_t i = 0; i < bounds.size(); ++i)
                out += name + "_bucket" + with_label(labels, "le", number(bounds[i])) + " " +
                       std::to_string(h.buckets[i]) + "\n";
            out += name + "_bucket" + with_label(labels, "le", "+Inf") + " " + std::to_string(h.count) + "\n";
            out += name + "_sum" + labels + " " + number(h.sum) + "\n";
            out += name + "_count" + labels + " " + std::to_string(h.count) + "\n";
        }
    }
    return out;
}

void Registry::reset() {
    std::lock_guard lock(mu_);
    families_.clear();
}

}  // namespace depositd::metrics
