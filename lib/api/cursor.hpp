#pragma once
// The opaque `cursor` of GET /api/v1/deposits (keyset pagination): where the
// next page starts, which page number it is, and a fingerprint of the filters
// it was made for (a cursor used with other filters is refused, not misread).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/deposits.hpp"

namespace depositd::api {

struct ListCursor {
    std::uint32_t page = 1;        // the number of the page the cursor leads to
    store::DepositKey after;       // the last deposit before that page
    std::uint32_t filters = 0;     // filters_fingerprint() of the query
};

// Hex of "1:<page>:<detected_at>:<seq>:<filters>" (URL-safe, opaque to clients).
std::string encode_cursor(const ListCursor& c);
// nullopt for anything encode_cursor() could not have made.
std::optional<ListCursor> decode_cursor(std::string_view text);

// FNV-1a over the filter values (reference, status, chain, currency, address).
std::uint32_t filters_fingerprint(const store::DepositFilter& f);

}  // namespace depositd::api
