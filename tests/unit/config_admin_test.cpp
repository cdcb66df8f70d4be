// [admin], [notify.telegram] and API key labels: parsing, defaults, and
// problems that name file:line:key without echoing a secret.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "config/config.hpp"

using namespace depositd;
using namespace depositd::config;

namespace {

const char* kHash = "$argon2id$v=19$m=65536,t=2,p=1$LzlCYUhjVlJjdGpOL2lqVA$ieJOaOs+Wa4pBWNdJJDR9LDBsAAZICNTR6k9zNt/4II";
const char* kToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0";

std::string env(const std::string& name) {
    static const std::map<std::string, std::string> vars = {
        {"API_KEY", "test-api-key-0123456789abcdef"},
        {"OPS_KEY", "ops-api-key-0123456789abcdef"},
        {"TG_TOKEN", kToken},
    };
    auto it = vars.find(name);
    return it == vars.end() ? std::string() : it->second;
}

std::string base(const std::string& keys = R"(keys = ["${API_KEY}"])") {
    return std::string("[api]\n") + keys +
           "\n\n[[chains]]\nid = \"eth\"\nkind = \"evm\"\nrpc = [\"http://127.0.0.1:8545\"]\n"
           "confirmations = 12\nnative = { symbol = \"ETH\", decimals = 18 }\n\n";
}

LoadResult load(const std::string& text) { return load_string(text, "t.toml", &env); }

std::string problems(const LoadResult& r) {
    std::string out;
    for (const auto& p : r.problems) out += p.to_string() + "\n";
    return out;
}

void expect_problem(const std::string& text, const std::string& key, const std::string& part) {
    auto r = load(text);
    EXPECT_FALSE(r.config) << text;
    bool found = false;
    for (const auto& p : r.problems)
        if (p.key == key && p.message.find(part) != std::string::npos) found = true;
    EXPECT_TRUE(found) << "want " << key << ": " << part << "\ngot:\n" << problems(r);
}

}  // namespace

TEST(ConfigAdmin, UsersAndDefaults) {
    auto r = load(base() + "[admin]\nusers = [\n  { name = \"alice\", password_hash = \"" + kHash +
                  "\" },\n  { name = \"bob\", password_hash = \"" + kHash +
                  "\", totp_secret = \"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\" },\n]\n");
    ASSERT_TRUE(r.config) << problems(r);
    const auto& a = r.config->admin;
    EXPECT_TRUE(a.enabled);
    ASSERT_EQ(a.users.size(), 2u);
    EXPECT_EQ(a.users[0].name, "alice");
    EXPECT_EQ(a.users[0].password_hash, kHash);
    EXPECT_TRUE(a.users[0].totp_secret.empty());
    EXPECT_EQ(a.users[1].totp_secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    EXPECT_EQ(a.session_idle, std::chrono::minutes(30));
    EXPECT_EQ(a.session_max, std::chrono::hours(12));
    EXPECT_FALSE(a.secure_cookies.has_value());
    EXPECT_EQ(a.user("bob"), &a.users[1]);
    EXPECT_EQ(a.user("carol"), nullptr);

    auto none = load(base());
    ASSERT_TRUE(none.config);
    EXPECT_FALSE(none.config->admin.enabled);
    EXPECT_FALSE(none.config->notify.telegram.enabled);
}

TEST(ConfigAdmin, SessionLimitsAndCookies) {
    auto r = load(base() + "[admin]\nusers = [{ name = \"a\", password_hash = \"" + kHash +
                  "\" }]\nsession_idle = \"10m\"\nsession_max = \"2h\"\nsecure_cookies = true\n");
    ASSERT_TRUE(r.config) << problems(r);
    EXPECT_EQ(r.config->admin.session_idle, std::chrono::minutes(10));
    EXPECT_EQ(r.config->admin.session_max, std::chrono::hours(2));
    EXPECT_EQ(r.config->admin.secure_cookies, std::optional<bool>(true));
    const std::string user = std::string("users = [{ name = \"a\", password_hash = \"") + kHash + "\" }]\n";
    expect_problem(base() + "[admin]\n" + user + "session_idle = \"2h\"\nsession_max = \"1h\"\n", "admin.session_idle",
                   "must not be longer");
    expect_problem(base() + "[admin]\n" + user + "session_idle = \"10s\"\n", "admin.session_idle", "from 1m");
    expect_problem(base() + "[admin]\n" + user + "secure_cookies = \"yes\"\n", "admin.secure_cookies", "true or false");
    expect_problem(base() + "[admin]\n" + user + "sesion_max = \"1h\"\n", "admin.sesion_max", "did you mean");
}

TEST(ConfigAdmin, BadUsersNameTheKeyNotTheSecret) {
    expect_problem(base() + "[admin]\n", "admin.users", "at least one user");
    expect_problem(base() + "[admin]\nusers = []\n", "admin.users", "at least one user");
    expect_problem(base() + "[admin]\nusers = [{ password_hash = \"" + kHash + "\" }]\n", "admin.users[0].name",
                   "required");
    expect_problem(base() + "[admin]\nusers = [{ name = \"a b\", password_hash = \"" + kHash + "\" }]\n",
                   "admin.users[0].name", "[A-Za-z0-9_.@-]");
    expect_problem(base() + "[admin]\nusers = [{ name = \"a\", password_hash = \"" + kHash + "\" }, { name = \"a\", "
                   "password_hash = \"" + kHash + "\" }]\n",
                   "admin.users[1].name", "twice");
    expect_problem(base() + "[admin]\nusers = [{ name = \"a\" }]\n", "admin.users[0].password_hash", "hash-password");
    // A plain password where the hash belongs: refused, and never echoed.
    auto r = load(base() + "[admin]\nusers = [{ name = \"a\", password_hash = \"hunter2-secret\" }]\n");
    EXPECT_FALSE(r.config);
    EXPECT_EQ(problems(r).find("hunter2"), std::string::npos) << problems(r);
    EXPECT_NE(problems(r).find("t.toml:12:admin.users[0].password_hash"), std::string::npos) << problems(r);
    expect_problem(base() + "[admin]\nusers = [{ name = \"a\", password_hash = \"$argon2i$v=19$m=65536,t=2,p=1$"
                   "c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc\" }]\n",
                   "admin.users[0].password_hash", "argon2i and argon2d are not accepted");
    expect_problem(base() + "[admin]\nusers = [{ name = \"a\", password_hash = \"$argon2id$v=19$m=65536,t=2$"
                   "c29tZXNhbHQxMjM0$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc\" }]\n",
                   "admin.users[0].password_hash", "parameters");
    expect_problem(base() + "[admin]\nusers = [{ name = \"a\", password_hash = \"" + kHash +
                   "\", totp_secret = \"JBSWY3DPEHPK3PXP\" }]\n",
                   "admin.users[0].totp_secret", "too short");
    expect_problem(base() + "[admin]\nusers = [{ name = \"a\", password_hash = \"" + kHash +
                   "\", totp_secret = \"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1\" }]\n",
                   "admin.users[0].totp_secret", "base32");
    expect_problem(base() + "[admin]\nusers = [{ name = \"a\", password_hash = \"" + kHash + "\", role = \"x\" }]\n",
                   "admin.users[0].role", "unknown key");
}

TEST(ConfigAdmin, ApiKeyLabels) {
    auto r = load(base(R"(keys = ["${API_KEY}", { key = "${OPS_KEY}", label = "ops" }, { key = "third-key-0123456789" }])"));
    ASSERT_TRUE(r.config) << problems(r);
    const auto& api = r.config->api;
    ASSERT_EQ(api.keys.size(), 3u);
    EXPECT_EQ(api.keys[1], "ops-api-key-0123456789abcdef");
    EXPECT_EQ(api.key_labels, (std::vector<std::string>{"key#1", "ops", "key#3"}));

    expect_problem(base(R"(keys = [{ label = "x" }])"), "api.keys[0].key", "required");
    expect_problem(base(R"(keys = [{ key = "${API_KEY}", label = "a b" }])"), "api.keys[0].label", "1-64");
    expect_problem(base(R"(keys = [{ key = "${API_KEY}", label = "key#2" }])"), "api.keys[0].label", "reserved");
    expect_problem(base(R"(keys = [{ key = "${API_KEY}", label = "x" }, { key = "${OPS_KEY}", label = "x" }])"),
                   "api.keys[1].label", "used twice");
    expect_problem(base(R"(keys = [{ key = "${API_KEY}", lable = "x" }])"), "api.keys[0].lable", "did you mean");
    expect_problem(base(R"(keys = [{ key = "short" }])"), "api.keys[0].key", "at least 16");
    expect_problem(base(R"(keys = ["${API_KEY}", { key = "${API_KEY}" }])"), "api.keys[1].key", "duplicate");
    expect_problem(base(R"(keys = [42])"), "api.keys[0]", "a string or");
}

TEST(ConfigTelegram, FullAndDefaults) {
    auto r = load(base() + "[notify.telegram]\nbot_token = \"${TG_TOKEN}\"\nchat_id = -1001234567890\n");
    ASSERT_TRUE(r.config) << problems(r);
    const auto& t = r.config->notify.telegram;
    EXPECT_TRUE(t.enabled);
    EXPECT_EQ(t.bot_token, kToken);
    EXPECT_EQ(t.chat_id, "-1001234567890");
    EXPECT_EQ(t.api_base, "https://api.telegram.org");
    EXPECT_EQ(t.events.size(), 7u);  // all of them
    EXPECT_TRUE(t.wants("order.late_payment"));
    EXPECT_EQ(t.alert_interval, std::chrono::minutes(15));

    auto r2 = load(base() + "[notify]\ntelegram = { bot_token = \"" + kToken +
                   "\", chat_id = \"@shop_ops\", events = [\"deposit.confirmed\", \"chain.halted\"], "
                   "api_base = \"http://127.0.0.1:9999/\", alert_interval = \"0s\" }\n");
    ASSERT_TRUE(r2.config) << problems(r2);
    const auto& t2 = r2.config->notify.telegram;
    EXPECT_EQ(t2.chat_id, "@shop_ops");
    EXPECT_EQ(t2.events, (std::vector<std::string>{"deposit.confirmed", "chain.halted"}));
    EXPECT_FALSE(t2.wants("order.paid"));
    EXPECT_EQ(t2.api_base, "http://127.0.0.1:9999");
    EXPECT_EQ(t2.alert_interval, std::chrono::milliseconds(0));
}

TEST(ConfigTelegram, ProblemsNeverShowTheToken) {
    const std::string head = base() + "[notify.telegram]\n";
    const std::string token = std::string("bot_token = \"") + kToken + "\"\n";
    expect_problem(head + "chat_id = 1\n", "notify.telegram.bot_token", "required");
    expect_problem(head + token, "notify.telegram.chat_id", "required");
    expect_problem(head + token + "chat_id = \"somebody\"\n", "notify.telegram.chat_id", "@name");
    expect_problem(head + token + "chat_id = 0\n", "notify.telegram.chat_id", "not be 0");
    expect_problem(head + token + "chat_id = 1\nevents = [\"deposit.pending\"]\n", "notify.telegram.events[0]",
                   "not an event");
    expect_problem(head + token + "chat_id = 1\nevents = [\"pool.low\", \"pool.low\"]\n", "notify.telegram.events[1]",
                   "twice");
    expect_problem(head + token + "chat_id = 1\nevents = []\n", "notify.telegram.events", "at least one");
    expect_problem(head + token + "chat_id = 1\napi_base = \"http://telegram.example\"\n", "notify.telegram.api_base",
                   "127.0.0.1 only");
    expect_problem(head + token + "chat_id = 1\napi_base = \"ftp://x\"\n", "notify.telegram.api_base", "https://");
    expect_problem(head + token + "chat_id = 1\nchat = 2\n", "notify.telegram.chat", "unknown key");
    expect_problem(base() + "[notify]\nemail = {}\n", "notify.email", "unknown key");
    auto r = load(head + "bot_token = \"not-a-token-AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0\"\nchat_id = 1\n");
    EXPECT_FALSE(r.config);
    EXPECT_EQ(problems(r).find("AAHdqTcv"), std::string::npos) << problems(r);
    EXPECT_NE(problems(r).find("notify.telegram.bot_token"), std::string::npos) << problems(r);
}

TEST(ConfigTelegram, DepositctlNeedsNoneOfTheSecrets) {
    const std::string text = base() + "[admin]\nusers = [{ name = \"a\", password_hash = \"${ADMIN_HASH}\" }]\n\n"
                             "[notify.telegram]\nbot_token = \"${TG_MISSING}\"\nchat_id = 1\n";
    auto none = [](const std::string&) { return std::string(); };
    auto daemon = load_string(text, "t.toml", none, Reader::daemon);
    EXPECT_FALSE(daemon.config);
    auto ctl = load_string(text, "t.toml", none, Reader::depositctl);
    EXPECT_TRUE(ctl.config) << problems(ctl);
}
