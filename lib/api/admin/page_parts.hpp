#pragma once
// The pieces the console's pages share (tables, pager, search form, list
// requests); internal to lib/api/admin.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/admin/console.hpp"
#include "store/audit.hpp"
#include "store/console.hpp"
#include "store/deposits.hpp"
#include "store/events.hpp"

namespace depositd::api::admin::parts {

inline constexpr std::uint32_t kPageSize = 25;
inline constexpr std::size_t kMaxQuery = 200;

std::string amount_text(const std::string& raw, unsigned decimals);

// A long hash or address, shortened for a table cell; the whole in a title.
std::string short_code(std::string_view s, std::size_t keep = 10);

std::string opt_text(const std::optional<std::string>& s);

std::string trimmed(const std::string* s);

// "after=<t>.<seq>": where a keyset page starts.
std::optional<store::PageKey> parse_after(const util::Params& q);

// What a list page was asked for: the search text, a status among the
// page's own (anything else counts as none), and where the page starts.
struct ListRequest {
    std::string q;
    std::string status;
    std::optional<store::PageKey> after;
    store::ConsoleQuery query() const {
        store::ConsoleQuery f;
        if (!q.empty()) f.q = q;
        if (!status.empty()) f.status = status;
        f.after = after;
        f.limit = kPageSize;
        return f;
    }
};

ListRequest list_request(const util::Params& query, std::initializer_list<std::string_view> statuses);

std::string key_text(const store::PageKey& k);

// The link to the next page: this page's filters plus after=.
std::string pager(std::string_view lang, const std::string& path, const std::vector<std::pair<std::string, std::string>>& filters,
                  const std::optional<store::PageKey>& next, bool paged);

std::string select_html(std::string_view lang, const char* name, const std::vector<std::string>& values,
                        const std::string& chosen, bool translate);

std::string search_form(std::string_view lang, const std::string& action, const std::string& q, const Text& hint,
                        const std::string& extra);

std::string deposit_amount(const store::Deposit& d);

std::string confirmations_text(const store::Deposit& d);

std::string deposit_rows(std::string_view lang, const std::vector<store::Deposit>& list);

std::string resend_form(std::string_view lang, const std::string& csrf, const std::string& id, const std::string& back);

std::string event_row(std::string_view lang, const store::EventRow& e, const std::string& csrf, const std::string& back);

std::string events_table_head(std::string_view lang);

std::string attempts_html(std::string_view lang, const std::vector<store::AttemptRecord>& attempts);

// The events of a deposit or an order, each with its delivery attempts.
std::string events_with_deliveries(std::string_view lang, const std::vector<store::EventRow>& events,
                                   const std::vector<std::vector<store::AttemptRecord>>& attempts,
                                   const std::string& csrf, const std::string& back);

// An audit entry's detail as words: "from: waiting · to: completed · …".
std::string detail_text(const std::optional<std::string>& detail);

std::string audit_rows(std::string_view lang, const std::vector<store::AuditEntry>& entries);

// The rows of a page of ids, read one by one (primary-key lookups); a row
// gone meanwhile is skipped.
template <class Row, class Get>
Status rows_of(const std::vector<std::string>& ids, std::vector<Row>& out, Get get) {
    for (const auto& id : ids) {
        auto r = get(id);
        if (!r) return r.error();
        if (*r) out.push_back(std::move(**r));
    }
    return {};
}

Response db_error(const Frame& f, const Error& e, const char* what);

}  // namespace depositd::api::admin::parts
