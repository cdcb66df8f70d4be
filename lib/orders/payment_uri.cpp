#include "orders/payment_uri.hpp"

#include <map>

#include "core/amount.hpp"

namespace depositd::orders {
namespace {

const char* evm_chain_number(const std::string& chain_id) {
    static const std::map<std::string, const char*> known = {
        {"ethereum", "1"},     {"bsc", "56"},    {"polygon", "137"},    {"arbitrum", "42161"},
        {"optimism", "10"},    {"base", "8453"}, {"avalanche", "43114"}, {"sepolia", "11155111"},
    };
    auto it = known.find(chain_id);
    return it == known.end() ? nullptr : it->second;
}

}  // namespace

std::string payment_uri(const store::Order& o, Protocol protocol) {
    auto amount = Amount::from_raw_decimal(o.pay_raw, o.decimals);
    const std::string human = amount ? amount->to_string() : o.amount;
    switch (protocol) {
        case Protocol::evm: {
            std::string at;
            if (const char* n = evm_chain_number(o.chain_id)) at = std::string("@") + n;
            if (o.contract) return "ethereum:" + *o.contract + at + "/transfer?address=" + o.address + "&uint256=" + o.pay_raw;
            return "ethereum:" + o.address + at + "?value=" + o.pay_raw;
        }
        case Protocol::bitcoin: return "bitcoin:" + o.address + "?amount=" + human;
        case Protocol::solana: {
            std::string uri = "solana:" + o.address + "?amount=" + human;
            if (o.contract) uri += "&spl-token=" + *o.contract;
            return uri;
        }
        case Protocol::tron: return o.address;
    }
    return o.address;
}

}  // namespace depositd::orders
