#pragma once
// Small helpers shared by the order, merchant and payment-page routes
// (orders_routes.cpp, merchant_routes.cpp, pay_page.cpp): the JSON envelope of
// SPEC §4 (handler.cpp uses the same), form and query decoding, language
// choice and HTML escaping.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/handler.hpp"
#include "core/json.hpp"
#include "core/result.hpp"

namespace depositd::api::util {

using Params = std::vector<std::pair<std::string, std::string>>;

// Metadata (bindings, orders): a JSON object of at most this many bytes.
inline constexpr std::size_t kMaxMetadata = 4096;
inline constexpr const char* kReferenceMessage = "depositReference must be 1-128 characters of [A-Za-z0-9_.:@-]";

Response json_response(int status, const json::value& v);
Response ok(int status, json::value data, const std::string& message);
Response error(int status, const std::string& name, const std::string& message);
Response validation(const std::string& message);
Response not_found(const std::string& message);
Response method_not_allowed(const std::string& method, const std::string& allow);
// Logs the detail; the client sees "Internal error" only.
Response internal(const Error& e, const char* what);

// The body as a JSON object (or a message saying why not).
Result<json::object> body_object(const Request& req, std::size_t max_bytes);
// A field that is absent or null counts as missing.
const json::value* field(const json::object& o, std::string_view key);
// The last value of `key` (as PHP reads a query), or null.
const std::string* param(const Params& p, std::string_view key);
// The first value of `key`, or null (the REST list filters).
const std::string* first_param(const Params& p, std::string_view key);

// Decimal digits only, at most 12, not above `max`.
bool parse_uint(std::string_view s, std::uint64_t max, std::uint64_t& out);
inline constexpr std::uint32_t kMaxPage = 1'000'000;
inline constexpr std::uint32_t kMaxLimit = 100;
// ?page= (1..kMaxPage) and ?limit= (1..kMaxLimit) into page and limit (left
// as they are when absent); the message names the parameter.
std::optional<std::string> parse_paging(const Params& q, std::uint32_t& page, std::uint32_t& limit);
// The "pagination" object of a list answer (SPEC §4).
json::object pagination(std::uint32_t page, std::uint32_t limit, std::uint64_t total);

// application/x-www-form-urlencoded (also what a query string holds): '+'
// is a space, %XX decoded. Errc::invalid_input on a malformed escape.
Result<Params> parse_form(std::string_view text);
// The parameters of an EPay-style request: the query, and for a POST with a
// form body the form fields too (a field in both: the body's value wins).
Result<Params> request_params(const Request& req);

bool is_http_url(std::string_view url);
// "2026-12-31T23:59:59Z", "2026-12-31T23:59:59.5+08:00" -> unix ms.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

// Accept-Language: "zh" when the payer prefers Chinese, else "en".
std::string pick_language(std::string_view accept_language);
std::string html_escape(std::string_view s);
// Base64 of the SHA-256 of `s`: the 'sha256-…' source of a CSP for an inline
// script or stylesheet (the payment page's and the console's).
std::string sha256_base64(std::string_view s);

}  // namespace depositd::api::util
