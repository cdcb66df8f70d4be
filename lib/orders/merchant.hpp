#pragma once
// What the merchant protocols send back about an order (SPEC §9): the EPay
// notify (and the same signed parameters on the return URL), and the
// epusdt callback. Built from the order and [merchant].key only, so the same
// order always gives the same bytes.
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "orders/signing.hpp"
#include "store/deposits.hpp"
#include "store/orders.hpp"

namespace depositd::orders {

// RFC 3986 percent-encoding of a query value (unreserved characters kept).
std::string url_encode(std::string_view s);
// url + '?' (or '&' when it already has a query) + k=v&... encoded; a
// #fragment is dropped (it never reaches a server: notify URLs).
std::string append_query(const std::string& url, const Params& params);
// The same for a URL the payer's browser opens: with a #fragment, the
// parameters go after it ("https://shop/#/order/7?pid=..."), as EPay does.
std::string append_to_return_url(const std::string& url, const Params& params);

// pid, trade_no, out_trade_no, type, name, money, trade_status=TRADE_SUCCESS,
// param, sign, sign_type=MD5 of a completed EPay order; empty values left out
// (V2Board signs empty values too, so one would break its check).
Params epay_result_params(const store::Order& o, const config::Config& cfg);
// Where the payment page sends the payer once the order is completed: the
// EPay return_url with the signed parameters (after its #fragment when it
// has one), else redirectUrl as given.
std::optional<std::string> completion_redirect(const store::Order& o, const config::Config& cfg);

// The JSON body of the epusdt callback: {trade_id, order_id, amount,
// actual_amount, token, block_transaction_id, signature, status: 2}; amounts
// as JSON numbers in shortest form, signed like a create request.
std::string epusdt_callback_body(const store::Order& o, const std::vector<store::Deposit>& deposits,
                                 const config::Config& cfg);

// A JSON object whose members are given as text: strings are escaped, and
// `raw` members (a number's decimal text, a nested object) are written as
// they are; Boost.JSON would print a double as 7.05E1.
struct JsonMember {
    std::string key;
    std::string value;
    bool raw = false;
};
std::string json_object_text(const std::vector<JsonMember>& members);

// The merchant fields stored with an order (store::Order::merchant), by name.
std::string merchant_field(const store::Order& o, std::string_view name);

}  // namespace depositd::orders
