// One entry of [api].keys: a key, or a key with a label that the audit log
// records for what was done with it (the key itself is never written down).
//
//   keys = ["${SHOP_KEY}", { key = "${OPS_KEY}", label = "ops" }]
//
// A key without a label is called "key#N" (its 1-based position in the list).
#include <algorithm>

#include "config/section_context.hpp"

namespace depositd::config::detail {
namespace {

bool valid_label(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '@' || c == '-' || c == ':';
    });
}

}  // namespace

void load_api_key(SectionContext& ctx, const toml::node& n, std::size_t index, ApiConfig& out) {
    const std::string key = item_key("api.keys", index);
    const toml::node* value = &n;
    std::string label = "key#" + std::to_string(index + 1);
    std::string value_key = key;
    if (const auto* t = n.as_table()) {
        ctx.check_keys(*t, key, {"key", "label"});
        value = t->get("key");
        value_key = sub_key(key, "key");
        if (!value) {
            ctx.problem(line_of(n), value_key, "required: the API key, e.g. key = \"${DEPOSITD_API_KEY}\"");
            return;
        }
        if (const auto* l = t->get("label")) {
            auto s = ctx.string(*l, sub_key(key, "label"));
            if (!s) return;
            if (s->rfind("key#", 0) == 0) {
                ctx.problem(line_of(*l), sub_key(key, "label"), "\"key#...\" is reserved for keys without a label");
                return;
            }
            if (!valid_label(*s)) {
                ctx.problem(line_of(*l), sub_key(key, "label"), "must be 1-64 characters of [A-Za-z0-9_.:@-]");
                return;
            }
            if (std::find(out.key_labels.begin(), out.key_labels.end(), *s) != out.key_labels.end()) {
                ctx.problem(line_of(*l), sub_key(key, "label"), "label \"" + *s + "\" is used twice");
                return;
            }
            label = *s;
        }
    } else if (!n.is_string()) {
        ctx.problem(line_of(n), key, "must be a string or { key = \"...\", label = \"...\" }");
        return;
    }
    auto s = ctx.string(*value, value_key);
    if (!s) return;
    if (s->size() < 16) {
        ctx.problem(line_of(*value), value_key,
                    "an API key must be at least 16 characters long (generate one with `openssl rand -hex 32`)");
        return;
    }
    if (std::any_of(s->begin(), s->end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
        ctx.problem(line_of(*value), value_key, "an API key must not contain spaces or control characters");
        return;
    }
    if (std::find(out.keys.begin(), out.keys.end(), *s) != out.keys.end()) {
        ctx.problem(line_of(*value), value_key, "duplicate API key");
        return;
    }
    out.keys.push_back(*s);
    out.key_labels.push_back(label);
}

}  // namespace depositd::config::detail
