#pragma once
// Operator messages through the Telegram Bot API (SPEC §12,
// [notify.telegram]): their text, the request that sends one, and how to
// read Telegram's answer. Pure functions; the outbox delivers them
// (dispatcher.cpp) and notifier.cpp decides what to send.
//
// Texts use MarkdownV2 (https://core.telegram.org/bots/api#markdownv2-style):
// every reserved character outside an entity is escaped; inside `code`
// only ` and \. Each message also carries a plain-text twin, sent instead
// if Telegram still refuses the markup ("can't parse entities"), so a
// message is never lost to formatting.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/json.hpp"
#include "net/http_client.hpp"
#include "store/events.hpp"

namespace depositd::webhook {

// The outbox row type of a Telegram message (kind "telegram").
inline constexpr const char* kTelegramType = "notify.telegram";

// Text as MarkdownV2 plain text: \ before each of _*[]()~`>#+-=|{}.! and \.
std::string markdown_escape(std::string_view text);
// `text` as an inline code entity (only ` and \ escaped inside).
std::string markdown_code(std::string_view text);

struct TelegramText {
    std::string markdown;  // MarkdownV2
    std::string plain;     // the same words without markup
};

// Builds a message piece by piece in both forms at once.
class TextBuilder {
public:
    TextBuilder& bold(std::string_view s);
    TextBuilder& text(std::string_view s);
    TextBuilder& code(std::string_view s);
    TextBuilder& line();  // newline
    TelegramText done() const { return t_; }

private:
    TelegramText t_;
};

// The message of a relayed outbox event (deposit.confirmed, order.paid,
// order.late_payment) from its webhook payload; nullopt for other types or
// a payload without data.
std::optional<TelegramText> event_message(std::string_view type, const json::value& payload);

// The payload stored in the outbox for one message.
std::string message_payload(std::string_view event, const TelegramText& t, std::string_view source);

// POST {api_base}/bot{token}/sendMessage with the chat of the config. With
// `plain`, the plain-text twin without parse_mode.
net::HttpRequest telegram_request(const store::EventRow& ev, const config::TelegramConfig& cfg, bool plain,
                                  std::chrono::milliseconds timeout);

struct TelegramAnswer {
    bool ok = false;                           // {"ok": true, ...}
    std::optional<std::int64_t> retry_after_s; // 429: parameters.retry_after
    bool markup_refused = false;               // 400 "can't parse entities"
    std::string description;                   // Telegram's words when not ok
};
TelegramAnswer read_answer(int status, std::string_view body);

// A URL with "/bot<token>" in it, for a log line: the token is replaced.
std::string redact_token(std::string_view text, std::string_view token);

}  // namespace depositd::webhook
