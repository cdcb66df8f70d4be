// [webhook]: url, secret(s) (Standard Webhooks), timeout, retry schedule.
#include "config/checks.hpp"
#include "config/print.hpp"
#include "config/sections.hpp"

namespace depositd::config {
namespace {

using W = WebhookConfig;

// One secret prints as `secret`, several (rotation) as `secrets`.
constexpr Key<WebhookConfig> kKeys[] = {
    {"url", {}, [](Printer& p, const W& w) { if (!w.url.empty()) p.string(w.url); }},
    {"secret", {Secret::value}, [](Printer& p, const W& w) { if (w.secrets.size() == 1) p.secret(w.secrets[0], "webhook.secrets[0]"); }},
    {"secrets", {Secret::value}, [](Printer& p, const W& w) { if (w.secrets.size() > 1) p.secrets(w.secrets); }},
    {"timeout", {}, [](Printer& p, const W& w) { p.duration(w.timeout); }},
    {"schedule", {}, [](Printer& p, const W& w) { p.durations(w.schedule); }},
    {"concurrency", {}, [](Printer& p, const W& w) { p.integer(w.concurrency); }},
};

// Standard base64 (RFC 4648 §4), padding optional. Returns the decoded length
// or nullopt when the text is not base64.
std::optional<std::size_t> base64_decoded_size(std::string_view s) {
    while (!s.empty() && s.back() == '=') s.remove_suffix(1);
    if (s.empty()) return std::size_t{0};
    for (char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                        c == '/';
        if (!ok) return std::nullopt;
    }
    if (s.size() % 4 == 1) return std::nullopt;
    return s.size() / 4 * 3 + (s.size() % 4 == 0 ? 0 : s.size() % 4 - 1);
}

std::optional<std::string> webhook_secret(Loader& l, const toml::node& n, const std::string& key) {
    auto s = l.string(n, key);
    if (!s) return std::nullopt;
    if (l.masked(*s)) return s;  // --check-config of --print-config's output
    if (s->rfind("whsec_", 0) != 0) {
        l.problem(line_of(n), key, "a webhook secret must start with \"whsec_\" followed by base64 (Standard Webhooks)");
        return std::nullopt;
    }
    auto size = base64_decoded_size(std::string_view(*s).substr(6));
    if (!size) {
        l.problem(line_of(n), key, "the part after \"whsec_\" must be standard base64");
        return std::nullopt;
    }
    if (*size < 16) {
        l.problem(line_of(n), key,
                  "the secret must decode to at least 16 bytes (generate one with: echo whsec_$(openssl rand -base64 32))");
        return std::nullopt;
    }
    return s;
}

// `secret` or `secrets`. Returns whether a problem was reported (then a
// missing secret is not also called "required").
bool load_secrets(Loader& l, const Fields<WebhookConfig>& f, WebhookConfig& out) {
    const toml::node* secret = f.get("secret");
    const toml::node* secrets = f.get("secrets");
    if (secret && secrets) {
        l.problem(line_of(*secrets), "webhook.secrets", "use either secret or secrets (a list for key rotation), not both");
        return false;
    }
    if (secret) {
        if (auto s = webhook_secret(l, *secret, "webhook.secret")) out.secrets.push_back(*s);
        else return true;
    } else if (secrets) {
        auto* a = l.array_of(*secrets, "webhook.secrets", "an array of strings");
        if (!a) return true;
        if (a->empty()) l.problem(line_of(*secrets), "webhook.secrets", "must not be empty");
        bool all_ok = true;
        for (std::size_t i = 0; i < a->size(); ++i) {
            if (auto s = webhook_secret(l, *a->get(i), item("webhook.secrets", i))) out.secrets.push_back(*s);
            else all_ok = false;
        }
        return !all_ok;
    }
    return false;
}

void load_table(Loader& l, const toml::table& t, WebhookConfig& out) {
    const Fields<WebhookConfig> f(l, t, "webhook", kKeys);
    bool reported = false;
    if (auto* n = f.get("url")) {
        if (auto s = l.string(*n, "webhook.url")) {
            if (s->empty())
                l.problem(line_of(*n), "webhook.url", "must not be empty (leave the key out to disable webhooks)");
            else if (!is_http_url(*s))
                l.problem(line_of(*n), "webhook.url", "must be an http:// or https:// URL");
            else out.url = *s;
        } else {
            reported = true;
        }
        if (out.url.empty()) reported = true;
    }
    if (load_secrets(l, f, out)) reported = true;
    if (!out.url.empty() && out.secrets.empty() && !reported && !f.get("secrets"))
        l.problem(f.line(), "webhook.secret",
                  "required when webhook.url is set (a \"whsec_...\" secret to sign deliveries)");
    if (auto* n = f.get("timeout")) {
        if (auto d = l.duration(*n, "webhook.timeout", false)) out.timeout = *d;
    }
    if (auto* n = f.get("schedule")) {
        if (auto* a = l.array_of(*n, "webhook.schedule", "an array of durations, e.g. [\"15s\", \"1m\"]")) {
            std::vector<Duration> schedule;
            bool ok = true;
            for (std::size_t i = 0; i < a->size(); ++i) {
                if (auto d = l.duration(*a->get(i), item("webhook.schedule", i), false)) schedule.push_back(*d);
                else ok = false;
            }
            if (ok) out.schedule = std::move(schedule);
        }
    }
    if (auto* n = f.get("concurrency")) {
        if (auto v = l.integer(*n, "webhook.concurrency", 1, 1024, "an integer from 1 to 1024"))
            out.concurrency = static_cast<unsigned>(*v);
    }
}

}  // namespace

std::optional<Flags> webhook_key(std::string_view name) { return find_key<WebhookConfig>(kKeys, name); }

void print_webhook(Printer& p, const Config& cfg) {
    p.header("[webhook]", "webhook");
    if (cfg.webhook.url.empty()) p.comment("no url: webhooks are disabled (events stay pending)");
    p.keys<WebhookConfig>(kKeys, cfg.webhook);
}

void load_webhook(Loader& l, const toml::table& root, Config& cfg) {
    if (auto* t = l.section(root, "webhook")) load_table(l, *t, cfg.webhook);
}

}  // namespace depositd::config
