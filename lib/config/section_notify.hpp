#pragma once
// [notify.telegram] (SPEC §12): operator messages through the Telegram Bot
// API. Parsed by section_notify.cpp; include config/config.hpp.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "config/units.hpp"

namespace depositd::config {

struct TelegramConfig {
    bool enabled = false;
    std::string bot_token;            // "123456:ABC-..."; a secret: never logged, never stored
    std::string chat_id;              // "-1001234567890" or "@channel"
    std::vector<std::string> events;  // which of kTelegramEvents; default all
    std::string api_base = "https://api.telegram.org";  // no trailing slash
    // One message per alert (chain, pool, webhook state) per this interval at
    // most: a flapping state cannot flood the chat.
    Duration alert_interval = std::chrono::minutes(15);
    std::string source;               // "file:line" of [notify.telegram]
    bool wants(std::string_view event) const {
        for (const auto& e : events)
            if (e == event) return true;
        return false;
    }
};

struct NotifyConfig {
    TelegramConfig telegram;
};

// The events [notify.telegram].events may name.
inline constexpr const char* kTelegramEvents[] = {"deposit.confirmed", "order.paid",     "order.late_payment",
                                                  "chain.halted",      "chain.lagging",  "pool.low",
                                                  "webhook.failing"};

}  // namespace depositd::config
