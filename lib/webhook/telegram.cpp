#include "webhook/telegram.hpp"

#include "core/amount.hpp"

namespace depositd::webhook {
namespace {

constexpr std::string_view kReserved = "_*[]()~`>#+-=|{}.!\\";

const json::object* object_at(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() ? it->value().if_object() : nullptr;
}

std::string str(const json::object* o, std::string_view key) {
    if (!o) return {};
    auto it = o->find(key);
    if (it == o->end()) return {};
    if (it->value().is_string()) return std::string(it->value().get_string());
    if (it->value().is_int64()) return std::to_string(it->value().get_int64());
    if (it->value().is_uint64()) return std::to_string(it->value().get_uint64());
    if (it->value().is_bool()) return it->value().get_bool() ? "true" : "false";
    return {};
}

// At most `n` characters of text from a payload (whole UTF-8 sequences).
std::string cap(std::string s, std::size_t n = 200) {
    if (s.size() <= n) return s;
    std::size_t cut = n;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
    return s.substr(0, cut) + "…";
}

}  // namespace

std::string markdown_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (char c : text) {
        if (kReserved.find(c) != std::string_view::npos) out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

std::string markdown_code(std::string_view text) {
    std::string out = "`";
    for (char c : text) {
        if (c == '`' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "`";
}

TextBuilder& TextBuilder::bold(std::string_view s) {
    t_.markdown += "*" + markdown_escape(s) + "*";
    t_.plain += s;
    return *this;
}
TextBuilder& TextBuilder::text(std::string_view s) {
    t_.markdown += markdown_escape(s);
    t_.plain += s;
    return *this;
}
TextBuilder& TextBuilder::code(std::string_view s) {
    t_.markdown += markdown_code(s);
    t_.plain += s;
    return *this;
}
TextBuilder& TextBuilder::line() {
    t_.markdown += "\n";
    t_.plain += "\n";
    return *this;
}

std::optional<TelegramText> event_message(std::string_view type, const json::value& payload) {
    const auto* body = payload.if_object();
    const json::object* data = body ? object_at(*body, "data") : nullptr;
    if (!data) return std::nullopt;
    TextBuilder b;
    if (type == "deposit.confirmed") {
        const std::string ref = str(data, "depositReference");
        b.text("✅ ").bold("Deposit confirmed").text(" · ").text(cap(str(data, "chainId"), 64)).line();
        b.bold(cap(str(data, "amount"), 80) + " " + cap(str(data, "currency"), 32)).text(" to ").code(cap(str(data, "address"), 100)).line();
        b.text("Reference: ").text(ref.empty() ? "none" : cap(ref, 128)).line();
        b.text("Tx: ").code(cap(str(data, "txHash"), 130));
        return b.done();
    }
    if (type == "order.paid") {
        const bool manual = str(data, "manual") == "true";
        b.text(manual ? "✍️ " : "💰 ").bold(manual ? "Order settled by hand" : "Order paid").text(" · ").text(cap(str(data, "orderId"), 64)).line();
        b.bold(cap(str(data, "payAmount"), 80) + " " + cap(str(data, "currency"), 32)).text(" on ").text(cap(str(data, "chainId"), 64));
        const std::string fiat = str(data, "fiatAmount");
        if (!fiat.empty()) b.text(" (" + cap(fiat, 40) + " " + cap(str(data, "fiatCurrency"), 8) + ")");
        b.line().text("Received: ").text(cap(str(data, "paidAmount"), 80) + " " + cap(str(data, "currency"), 32)).line();
        b.text("Order: ").code(cap(str(data, "id"), 64));
        return b.done();
    }
    if (type == "order.late_payment") {
        // The order and the late deposit: {order, deposit} or the order with a deposit inside.
        const json::object* order = object_at(*data, "order");
        if (!order) order = data;
        const json::object* deposit = object_at(*data, "deposit");
        b.text("⏰ ").bold("Late payment").text(" · ").text(cap(str(order, "orderId"), 64)).line();
        if (deposit) {
            b.bold(cap(str(deposit, "amount"), 80) + " " + cap(str(deposit, "currency"), 32)).text(" on ")
                .text(cap(str(deposit, "chainId"), 64)).text(" after the order ").text(cap(str(order, "status"), 16)).line();
            b.text("Tx: ").code(cap(str(deposit, "txHash"), 130)).line();
        }
        b.text("Order: ").code(cap(str(order, "id"), 64)).line().text("Settle it with the shop (or mark it paid in the console).");
        return b.done();
    }
    return std::nullopt;
}

std::string message_payload(std::string_view event, const TelegramText& t, std::string_view source) {
    json::object o;
    o["event"] = std::string(event);
    o["text"] = t.markdown;
    o["plain"] = t.plain;
    o["source"] = std::string(source);
    return json::serialize(o);
}

net::HttpRequest telegram_request(const store::EventRow& ev, const config::TelegramConfig& cfg, bool plain,
                                  std::chrono::milliseconds timeout) {
    net::HttpRequest req;
    req.method = "POST";
    req.url = cfg.api_base + "/bot" + cfg.bot_token + "/sendMessage";
    req.timeout = timeout;
    req.max_response_bytes = 64 * 1024;
    req.headers = {{"content-type", "application/json"}, {"user-agent", "depositd/" DEPOSITD_VERSION}};
    std::string md, text;
    if (auto v = json::parse_bounded(ev.payload); v && v->is_object()) {
        const auto& o = v->get_object();
        md = str(&o, "text");
        text = str(&o, "plain");
    }
    json::object body;
    body["chat_id"] = cfg.chat_id;
    if (plain || md.empty()) {
        body["text"] = text.empty() ? md : text;
    } else {
        body["text"] = md;
        body["parse_mode"] = "MarkdownV2";
    }
    body["disable_web_page_preview"] = true;
    req.body = json::serialize(body);
    return req;
}

TelegramAnswer read_answer(int status, std::string_view body) {
    TelegramAnswer a;
    auto v = json::parse_bounded(body, 64 * 1024);
    const json::object* o = v ? v->if_object() : nullptr;
    if (o) {
        auto ok = o->find("ok");
        a.ok = status >= 200 && status < 300 && ok != o->end() && ok->value().is_bool() && ok->value().get_bool();
        a.description = cap(str(o, "description"), 300);
        if (const json::object* p = object_at(*o, "parameters")) {
            auto ra = p->find("retry_after");
            if (ra != p->end() && (ra->value().is_int64() || ra->value().is_uint64())) {
                const auto s = ra->value().to_number<std::int64_t>();
                if (s >= 0) a.retry_after_s = s;
            }
        }
    }
    if (status == 400 && a.description.find("can't parse entities") != std::string::npos) a.markup_refused = true;
    return a;
}

std::string redact_token(std::string_view text, std::string_view token) {
    std::string out(text);
    if (token.empty()) return out;
    for (std::size_t at = out.find(token); at != std::string::npos; at = out.find(token, at))
        out.replace(at, token.size(), "<redacted>");
    return out;
}

}  // namespace depositd::webhook
