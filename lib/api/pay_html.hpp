#pragma once
// The HTML of the payer-facing pages (payment page, checkout, error pages):
// server-rendered, UTF-8, English or 中文, no external asset, and a strict
// Content-Security-Policy that admits exactly the one inline stylesheet and
// the one inline script below (by their SHA-256).
#include <string>
#include <string_view>

#include "api/handler.hpp"

namespace depositd::api::html {

// Text of the pages in one language ("en" or "zh").
struct Strings {
    const char* lang_tag;          // <html lang>
    const char* pay_title;         // "Pay"
    const char* amount;
    const char* network;
    const char* address;
    const char* copy;
    const char* copied;
    const char* time_left;
    const char* paid_so_far;
    const char* exact_hint;        // send exactly this amount / to this address
    const char* waiting;
    const char* paid;              // seen in a block, confirming
    const char* completed;
    const char* expired;
    const char* returning;         // going back to the shop
    const char* back_to_shop;
    const char* scan;              // QR caption
    const char* refused;           // a payment request was refused
    const char* order_not_found;
    const char* link_not_found;
    const char* link_archived;
    const char* link_expired;
    const char* link_sold_out;
    const char* choose_currency;
    const char* enter_amount;
    const char* continue_;
    const char* order;             // order number
    const char* too_many;          // the client holds too many open checkout orders
    const char* busy;              // no address or amount can be spared right now
};
const Strings& strings(std::string_view lang);

enum class Message { request_refused, order_not_found, link_not_found, link_archived, link_expired, link_sold_out,
                     too_many, busy };

// A complete page: `body` is already-escaped HTML inside <main>.
Response page(int status, std::string_view lang, const std::string& title, const std::string& body, bool script,
              const std::string& main_attributes = "");
// A short page saying what went wrong; `detail` is escaped here.
Response message_page(int status, std::string_view lang, Message m, const std::string& detail = "");

// The Content-Security-Policy header value of these pages.
std::string content_security_policy();

}  // namespace depositd::api::html
