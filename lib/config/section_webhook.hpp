#pragma once
// [webhook] (SPEC §3, §5): where events are delivered and how they are signed.
// Parsed by section_webhook.cpp; include config/config.hpp.
#include <string>
#include <vector>

#include "config/units.hpp"

namespace depositd::config {

struct WebhookConfig {
    std::string url;                    // empty: webhooks disabled (events stay pending)
    std::vector<std::string> secrets;   // "whsec_..."; `secret` (string) or `secrets` (array, rotation)
    Duration timeout = std::chrono::seconds(10);
    std::vector<Duration> schedule = {
        std::chrono::seconds(15), std::chrono::minutes(1),  std::chrono::minutes(5),
        std::chrono::minutes(10), std::chrono::minutes(30), std::chrono::minutes(60)};
    unsigned concurrency = 8;           // deliveries in flight
};

}  // namespace depositd::config
