#pragma once
// The MD5 signatures of the merchant protocols (SPEC §9,
// shared/merchant-protocols.md), compared in constant time.
//
// EPay (彩虹易支付 makeSign): the non-empty parameters except `sign` and
//   `sign_type`, sorted by name (byte order), joined as k=v with '&' (no
//   URL encoding), the key appended directly, MD5, lower-case hex.
// epusdt (sign.go MapToParams): the non-null fields of the JSON body except
//   `signature`, numbers printed in shortest fixed form (70.50 -> 70.5),
//   empty strings dropped, the "k=v" strings sorted and joined with '&', the
//   token appended directly, MD5, lower-case hex. Booleans, arrays and
//   objects cannot be signed (epusdt answers 401).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"

namespace depositd::orders {

using Params = std::vector<std::pair<std::string, std::string>>;

std::string md5_hex(std::string_view data);
// Constant-time comparison of a received hex signature with the expected one
// (case-insensitive; a length difference is a mismatch).
bool signature_equal(std::string_view received, std::string_view expected);

// The string MD5 runs over, without the key (for tests and diagnostics).
std::string epay_sign_input(const Params& params);
std::string epay_sign(const Params& params, std::string_view key);

// Go's strconv.FormatFloat(v, 'f', -1, 64).
std::string go_float(double v);
Result<std::string> epusdt_sign_input(const json::object& body);
Result<std::string> epusdt_sign(const json::object& body, std::string_view key);

}  // namespace depositd::orders
