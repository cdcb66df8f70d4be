#include "orders/merchant.hpp"

#include "core/amount.hpp"
#include "core/json.hpp"

namespace depositd::orders {

std::string url_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
    }
    return out;
}

std::string append_query(const std::string& url, const Params& params) {
    std::string out = url;
    // A fragment would swallow the query; it never reaches the server anyway.
    if (auto hash = out.find('#'); hash != std::string::npos) out.resize(hash);
    char sep = out.find('?') == std::string::npos ? '?' : '&';
    if (!out.empty() && (out.back() == '?' || out.back() == '&')) sep = 0;
    for (const auto& [k, v] : params) {
        if (sep) out.push_back(sep);
        sep = '&';
        out += url_encode(k);
        out.push_back('=');
        out += url_encode(v);
    }
    return out;
}

std::string merchant_field(const store::Order& o, std::string_view name) {
    if (!o.merchant) return {};
    auto v = json::parse_bounded(*o.merchant);
    if (!v || !v->is_object()) return {};
    const auto* f = v->get_object().if_contains(name);
    if (!f || !f->is_string()) return {};
    return std::string(f->get_string());
}

Params epay_result_params(const store::Order& o, const config::Config& cfg) {
    Params p;
    auto add = [&](const char* k, std::string v) {
        if (!v.empty()) p.emplace_back(k, std::move(v));
    };
    add("pid", std::to_string(cfg.merchant.pid));
    add("trade_no", o.id);
    add("out_trade_no", o.order_id);
    add("type", merchant_field(o, "type"));
    add("name", merchant_field(o, "name"));
    add("money", merchant_field(o, "money"));
    add("trade_status", "TRADE_SUCCESS");
    add("param", merchant_field(o, "param"));
    p.emplace_back("sign", epay_sign(p, cfg.merchant.key));
    p.emplace_back("sign_type", "MD5");
    return p;
}

std::string append_to_return_url(const std::string& url, const Params& params) {
    const auto hash = url.find('#');
    if (hash == std::string::npos) return append_query(url, params);
    // After the fragment, as EPay does: a hash-routed shop (V2Board's
    // "/#/order/<no>") reads its route and the query from there.
    return url.substr(0, hash + 1) + append_query(url.substr(hash + 1), params);
}

std::optional<std::string> completion_redirect(const store::Order& o, const config::Config& cfg) {
    if (!o.redirect_url || o.redirect_url->empty()) return std::nullopt;
    if (o.source == "epay" && cfg.merchant.enabled)
        return append_to_return_url(*o.redirect_url, epay_result_params(o, cfg));
    return o.redirect_url;
}

std::string json_object_text(const std::vector<JsonMember>& members) {
    std::string out = "{";
    for (const auto& m : members) {
        if (out.size() > 1) out.push_back(',');
        out += json::serialize(json::value(m.key));
        out.push_back(':');
        out += m.raw ? m.value : json::serialize(json::value(m.value));
    }
    out.push_back('}');
    return out;
}

std::string epusdt_callback_body(const store::Order& o, const std::vector<store::Deposit>& deposits,
                                 const config::Config& cfg) {
    std::string amount = merchant_field(o, "amount");
    auto pay = Amount::from_raw_decimal(o.pay_raw, o.decimals);
    const std::string actual = pay ? pay->to_string() : o.amount;
    if (amount.empty()) amount = o.fiat_amount.value_or(o.amount);
    std::string tx;
    for (const auto& d : deposits)
        if (d.status == "confirmed") tx = d.tx_hash;  // the last confirmed payment

    // The same fields, as epusdt's signer sees them after decoding the JSON.
    auto number = [](const std::string& text) {
        auto v = json::parse_bounded(text);
        return v && v->is_number() ? *v : json::value(text);
    };
    json::object fields;
    fields["trade_id"] = o.id;
    fields["order_id"] = o.order_id;
    fields["amount"] = number(amount);
    fields["actual_amount"] = number(actual);
    fields["token"] = o.address;
    fields["block_transaction_id"] = tx;
    fields["status"] = 2;
    auto signature = epusdt_sign(fields, cfg.merchant.key);

    return json_object_text({{"trade_id", o.id},
                             {"order_id", o.order_id},
                             {"amount", amount, true},
                             {"actual_amount", actual, true},
                             {"token", o.address},
                             {"block_transaction_id", tx},
                             {"signature", signature ? *signature : std::string()},
                             {"status", "2", true}});
}

}  // namespace depositd::orders
