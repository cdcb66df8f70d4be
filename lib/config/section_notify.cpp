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

#include "config/print.hpp"
#include "config/sections.hpp"

namespace depositd::config {
namespace {

using T = TelegramConfig;

bool numeric_chat(std::string_view s) {
    const std::size_t sign = !s.empty() && s.front() == '-' ? 1 : 0;
    return s.size() > sign && s.size() <= 20 &&
           std::all_of(s.begin() + static_cast<std::ptrdiff_t>(sign), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

constexpr Key<TelegramConfig> kTelegramKeys[] = {
    {"bot_token", {Secret::value}, [](Printer& p, const T& t) { p.secret(t.bot_token); }},
    // A numeric id is printed as the integer it was (or the string of digits).
    {"chat_id", {}, [](Printer& p, const T& t) { numeric_chat(t.chat_id) ? p.raw(t.chat_id) : p.string(t.chat_id); }},
    {"events", {}, [](Printer& p, const T& t) { p.strings(t.events); }},
    {"api_base", {}, [](Printer& p, const T& t) { p.string(t.api_base); }},
    {"alert_interval", {}, [](Printer& p, const T& t) { p.duration(t.alert_interval); }},
};

// [notify] itself holds tables only.
constexpr Key<NotifyConfig> kKeys[] = {
    {"telegram", {}, nullptr},
};

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

void load_telegram(Loader& l, const toml::table& t, TelegramConfig& out) {
    const Fields<TelegramConfig> f(l, t, "notify.telegram", kTelegramKeys);
    out.enabled = true;
    out.source = l.at(line_of(t), "notify.telegram").file_line();
    if (const auto* n = f.get("bot_token")) {
        if (auto s = l.string(*n, "notify.telegram.bot_token")) {
            if (l.masked(*s)) out.bot_token = *s;  // --check-config of --print-config's output
            else if (!token_shape(*s))
                l.problem(line_of(*n), "notify.telegram.bot_token",
                            "must be a bot token as @BotFather gives it (\"<digits>:<secret>\")");
            else out.bot_token = *s;
        }
    } else {
        l.problem(line_of(t), "notify.telegram.bot_token",
                    "required, e.g. bot_token = \"${TELEGRAM_BOT_TOKEN}\" (from @BotFather)");
    }
    if (const auto* n = f.get("chat_id")) {
        if (const auto* i = n->as_integer()) {
            if (i->get() == 0) l.problem(line_of(*n), "notify.telegram.chat_id", "must not be 0");
            else out.chat_id = std::to_string(i->get());
        } else if (n->is_string()) {
            if (auto s = l.string(*n, "notify.telegram.chat_id")) {
                const bool numeric = numeric_chat(*s);
                const bool channel = s->size() >= 2 && s->size() <= 64 && s->front() == '@' &&
                                     std::all_of(s->begin() + 1, s->end(), [](char c) {
                                         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                                (c >= '0' && c <= '9') || c == '_';
                                     });
                if (!numeric && !channel)
                    l.problem(line_of(*n), "notify.telegram.chat_id",
                                "must be a chat id (-1001234567890) or a public channel (\"@name\")");
                else out.chat_id = *s;
            }
        } else {
            l.problem(line_of(*n), "notify.telegram.chat_id", "must be an integer chat id or \"@channel\"");
        }
    } else {
        l.problem(line_of(t), "notify.telegram.chat_id", "required: the chat the bot writes to, e.g. -1001234567890");
    }
    if (const auto* n = f.get("events")) {
        if (const auto* a = l.array_of(*n, "notify.telegram.events", "an array of event names")) {
            if (a->empty()) l.problem(line_of(*n), "notify.telegram.events", "must name at least one event");
            std::set<std::string> seen;
            for (std::size_t i = 0; i < a->size(); ++i) {
                const std::string key = item("notify.telegram.events", i);
                auto s = l.string(*a->get(i), key);
                if (!s) continue;
                const bool known = std::any_of(std::begin(kTelegramEvents), std::end(kTelegramEvents),
                                               [&](const char* e) { return *s == e; });
                if (!known) {
                    std::string list;
                    for (const char* e : kTelegramEvents) list += (list.empty() ? "" : ", ") + std::string(e);
                    l.problem(line_of(*a->get(i)), key, "\"" + *s + "\" is not an event; use " + list);
                } else if (!seen.insert(*s).second) {
                    l.problem(line_of(*a->get(i)), key, "\"" + *s + "\" is listed twice");
                } else {
                    out.events.push_back(*s);
                }
            }
        }
    } else {
        for (const char* e : kTelegramEvents) out.events.emplace_back(e);
    }
    if (const auto* n = f.get("api_base")) {
        if (auto s = l.string(*n, "notify.telegram.api_base")) {
            std::string url = *s;
            while (!url.empty() && url.back() == '/') url.pop_back();
            std::string why;
            if (!api_base_ok(url, why)) l.problem(line_of(*n), "notify.telegram.api_base", why);
            else out.api_base = url;
        }
    }
    if (const auto* n = f.get("alert_interval")) {
        if (auto d = l.duration(*n, "notify.telegram.alert_interval", true)) {
            if (*d > std::chrono::hours(24))
                l.problem(line_of(*n), "notify.telegram.alert_interval", "must be at most 24h");
            else out.alert_interval = *d;
        }
    }
}

void load_table(Loader& l, const toml::table& t, NotifyConfig& out) {
    const Fields<NotifyConfig> f(l, t, "notify", kKeys);
    if (const auto* n = f.get("telegram")) {
        if (const auto* tg = l.table_of(*n, "notify.telegram", "a table ([notify.telegram])"))
            load_telegram(l, *tg, out.telegram);
    }
}

}  // namespace

std::optional<Flags> notify_key(std::string_view name) {
    if (name.starts_with("telegram.")) return find_key<TelegramConfig>(kTelegramKeys, name.substr(9));
    return find_key<NotifyConfig>(kKeys, name);
}

void print_notify(Printer& p, const Config& cfg) {
    if (!cfg.notify.telegram.enabled) return;
    p.header("[notify.telegram]", "notify.telegram");
    p.keys<TelegramConfig>(kTelegramKeys, cfg.notify.telegram);
}

void load_notify(Loader& l, const toml::table& root, Config& cfg) {
    if (auto* t = l.section(root, "notify")) load_table(l, *t, cfg.notify);
}

}  // namespace depositd::config
