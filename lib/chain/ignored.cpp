#include "chain/ignored.hpp"

#include <string>

#include "core/metrics.hpp"

namespace depositd::chain {

const char* to_string(Ignored why) {
    switch (why) {
        case Ignored::no: return "no";
        case Ignored::zero_value: return "zero_value";
        case Ignored::below_min_amount: return "below_min_amount";
    }
    return "unknown";
}

void count_ignored(std::string_view chain, Ignored why, std::size_t n) {
    if (n == 0 || why == Ignored::no) return;
    auto& reg = metrics::Registry::global();
    reg.describe("depositd_transfers_ignored_total", "counter",
                 "Transfers to watched addresses that are not deposits: zero value (address poisoning) or below "
                 "the currency's min_amount.");
    reg.counter_add("depositd_transfers_ignored_total", {{"chain", std::string(chain)}, {"reason", to_string(why)}},
                    static_cast<double>(n));
}

}  // namespace depositd::chain
