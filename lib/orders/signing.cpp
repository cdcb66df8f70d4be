#include "orders/signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

namespace depositd::orders {

std::string md5_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr) != 1) return {};
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 0xf]);
    }
    return out;
}

bool signature_equal(std::string_view received, std::string_view expected) {
    if (received.size() != expected.size() || expected.empty()) return false;
    std::string r(received);
    for (auto& c : r)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return CRYPTO_memcmp(r.data(), expected.data(), expected.size()) == 0;
}

std::string epay_sign_input(const Params& params) {
    // PHP arrays keep the last value of a repeated name; ksort is byte order.
    std::map<std::string, std::string> sorted;
    for (const auto& [k, v] : params) sorted[k] = v;
    std::string out;
    for (const auto& [k, v] : sorted) {
        if (k == "sign" || k == "sign_type" || v.empty()) continue;
        if (!out.empty()) out.push_back('&');
        out += k;
        out.push_back('=');
        out += v;
    }
    return out;
}

std::string epay_sign(const Params& params, std::string_view key) {
    return md5_hex(epay_sign_input(params) + std::string(key));
}

std::string go_float(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[400];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    return std::string(buf, r.ptr);
}

Result<std::string> epusdt_sign_input(const json::object& body) {
    std::vector<std::string> parts;
    for (const auto& kv : body) {
        const std::string key(kv.key());
        if (key == "signature") continue;
        const json::value& v = kv.value();
        std::string text;
        if (v.is_null()) continue;
        if (const auto* s = v.if_string()) text = std::string(*s);
        // encoding/json decodes every number into a float64.
        else if (const auto* i = v.if_int64()) text = go_float(static_cast<double>(*i));
        else if (const auto* u = v.if_uint64()) text = go_float(static_cast<double>(*u));
        else if (const auto* d = v.if_double()) text = go_float(*d);
        else return make_error(Errc::invalid_input, "field " + key + " cannot be signed (not a string or number)");
        if (text.empty()) continue;
        parts.push_back(key + "=" + text);
    }
    std::sort(parts.begin(), parts.end());
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out.push_back('&');
        out += p;
    }
    return out;
}

Result<std::string> epusdt_sign(const json::object& body, std::string_view key) {
    auto input = epusdt_sign_input(body);
    if (!input) return input.error();
    return md5_hex(*input + std::string(key));
}

}  // namespace depositd::orders
