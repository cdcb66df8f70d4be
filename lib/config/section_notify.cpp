// [notify.telegram]: operator messages through the Telegram Bot API (SPEC §12).
//
//   [notify.telegram]
//   bot_token = "${TELEGRAM_BOT_TOKEN}"     # from @BotFather; a secret
//   chat_id   = -1001234567890              # or "@channel"
//   events    = ["deposit.confirmed", "order.paid", "chain.halted"]   # default: all
//   # api_base = "https://api.telegram.org"
//   # alert_interval = "15m"
#include <algorithm>
#include <set>

#include "config/section_context.hpp"

namespace depositd::config::detail {
namespace {

// "<bot id>:<secret>" as @BotFather issues them.
bool token_shape(std::string_view s) {
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 20) return false;
    if (!std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    std::string_view secret = s.substr(colon + 1);
    return secret.size() >= 30 && secret.size() <= 100 && std::all_of(secret.begin(), secret.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
           });
}

bool loopback_host(std::string_view host) {
    return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// https://host[:port][/path], or http:// to a loopback address (tests): the
// bot token travels in the URL path, never in clear over a network.
bool api_base_ok(const std::string& url, std::string& why) {
    std::string_view rest;
    bool tls = false;
    if (url.rfind("https://", 0) == 0) {
        rest = std::string_view(url).substr(8);
        tls = true;
    } else if (url.rfind("http://", 0) == 0) {
        rest = std::string_view(url).substr(7);
    } else {
        why = "must be an https:// URL (http:// only to 127.0.0.1, for tests)";
        return false;
    }
    if (rest.empty() || rest.front() == '/' || url.find_first_of("?# \t") != std::string::npos ||
        std::any_of(url.begin(), url.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        why = "must be a URL such as \"https://api.telegram.org\" (no query)";
        return false;
    }
    std::string_view host = rest.substr(0, rest.find('/'));
    if (host.find('@') != std::string_view::npos) {
        why = "must not carry user:password";
        return false;
    }
    if (!tls) {
        std::string_view name = host;
        if (name.front() != '[') name = name.substr(0, name.rfind(':'));
        else name = name.substr(0, name.find(']') + 1);
        if (!loopback_host(name)) {
            why = "must be https:// (the bot token is part of the URL); plain http:// is accepted for 127.0.0.1 only";
            return false;
        }
    }
    return true;
}

void load_telegram(SectionContext& ctx, const toml::table& t, TelegramConfig& out) {
    ctx.check_keys(t, "notify.telegram", {"bot_token", "chat_id", "events", "api_base", "alert_interval"});
    out.enabled = true;
    out.source = std::string(t.source().path ? *t.source().path : "") + ":" + std::to_string(line_of(t));
    if (const auto* n = t.get("bot_token")) {
        if (auto s = ctx.string(*n, "notify.telegram.bot_token")) {
            if (!token_shape(*s))
                ctx.problem(line_of(*n), "notify.telegram.bot_token",
                            "must be a bot token as @BotFather gives it (\"<digits>:<secret>\")");
            else out.bot_token = *s;
        }
    } else {
        ctx.problem(line_of(t), "notify.telegram.bot_token",
                    "required, e.g. bot_token = \"${TELEGRAM_BOT_TOKEN}\" (from @BotFather)");
    }
    if (const auto* n = t.get("chat_id")) {
        if (const auto* i = n->as_integer()) {
            if (i->get() == 0) ctx.problem(line_of(*n), "notify.telegram.chat_id", "must not be 0");
            else out.chat_id = std::to_string(i->get());
        } else if (n->is_string()) {
            if (auto s = ctx.string(*n, "notify.telegram.chat_id")) {
                const bool numeric = !s->empty() && s->size() <= 20 &&
                                     std::all_of(s->begin() + (s->front() == '-' ? 1 : 0), s->end(),
                                                 [](char c) { return c >= '0' && c <= '9'; }) &&
                                     s->size() > (s->front() == '-' ? 1u : 0u);
                const bool channel = s->size() >= 2 && s->size() <= 64 && s->front() == '@' &&
                                     std::all_of(s->begin() + 1, s->end(), [](char c) {
                                         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                                (c >= '0' && c <= '9') || c == '_';
                                     });
                if (!numeric && !channel)
                    ctx.problem(line_of(*n), "notify.telegram.chat_id",
                                "must be a chat id (-1001234567890) or a public channel (\"@name\")");
                else out.chat_id = *s;
            }
        } else {
            ctx.problem(line_of(*n), "notify.telegram.chat_id", "must be an integer chat id or \"@channel\"");
        }
    } else {
        ctx.problem(line_of(t), "notify.telegram.chat_id", "required: the chat the bot writes to, e.g. -1001234567890");
    }
    if (const auto* n = t.get("events")) {
        if (const auto* a = ctx.array_of(*n, "notify.telegram.events", "an array of event names")) {
            if (a->empty()) ctx.problem(line_of(*n), "notify.telegram.events", "must name at least one event");
            std::set<std::string> seen;
            for (std::size_t i = 0; i < a->size(); ++i) {
                const std::string key = item_key("notify.telegram.events", i);
                auto s = ctx.string(*a->get(i), key);
                if (!s) continue;
                const bool known = std::any_of(std::begin(kTelegramEvents), std::end(kTelegramEvents),
                                               [&](const char* e) { return *s == e; });
                if (!known) {
                    std::string list;
                    for (const char* e : kTelegramEvents) list += (list.empty() ? "" : ", ") + std::string(e);
                    ctx.problem(line_of(*a->get(i)), key, "\"" + *s + "\" is not an event; use " + list);
                } else if (!seen.insert(*s).second) {
                    ctx.problem(line_of(*a->get(i)), key, "\"" + *s + "\" is listed twice");
                } else {
                    out.events.push_back(*s);
                }
            }
        }
    } else {
        for (const char* e : kTelegramEvents) out.events.emplace_back(e);
    }
    if (const auto* n = t.get("api_base")) {
        if (auto s = ctx.string(*n, "notify.telegram.api_base")) {
            std::string url = *s;
            while (!url.empty() && url.back() == '/') url.pop_back();
            std::string why;
            if (!api_base_ok(url, why)) ctx.problem(line_of(*n), "notify.telegram.api_base", why);
            else out.api_base = url;
        }
    }
    if (const auto* n = t.get("alert_interval")) {
        if (auto d = ctx.duration(*n, "notify.telegram.alert_interval", true)) {
            if (*d > std::chrono::hours(24))
                ctx.problem(line_of(*n), "notify.telegram.alert_interval", "must be at most 24h");
            else out.alert_interval = *d;
        }
    }
}

}  // namespace

void load_notify(SectionContext& ctx, const toml::table& t, NotifyConfig& out) {
    ctx.check_keys(t, "notify", {"telegram"});
    if (const auto* n = t.get("telegram")) {
        if (const auto* tg = ctx.table_of(*n, "notify.telegram", "a table ([notify.telegram])"))
            load_telegram(ctx, *tg, out.telegram);
    }
}

}  // namespace depositd::config::detail
