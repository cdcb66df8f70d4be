// [notify.telegram]: MarkdownV2 escaping, the messages, the Bot API request
// and answers, alert de-duplication, and the relay over a real database.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "core/ids.hpp"
#include "core/json.hpp"
#include "store/database.hpp"
#include "store/events.hpp"
#include "store/notify.hpp"
#include "webhook/notifier.hpp"
#include "webhook/telegram.hpp"

namespace fs = std::filesystem;
using namespace depositd;
using namespace depositd::webhook;

namespace {

// A MarkdownV2 checker written from Telegram's rules: outside entities every
// reserved character must be escaped; * opens and closes bold, ` code (in
// which only ` and \ are escaped). Returns what Telegram would refuse, or "".
std::string markdown_v2_problem(std::string_view s) {
    const std::string_view reserved = "_*[]()~`>#+-=|{}.!";
    bool bold = false, code = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\\') {
            if (i + 1 >= s.size()) return "a lone backslash at the end";
            ++i;
            continue;
        }
        if (code) {
            if (c == '`') code = false;
            continue;
        }
        if (c == '`') code = true;
        else if (c == '*') bold = !bold;
        else if (reserved.find(c) != std::string_view::npos)
            return std::string("character '") + c + "' is reserved and must be escaped";
    }
    if (bold || code) return "an entity is not closed";
    return "";
}

json::value deposit_payload() {
    return json::parse(R"j({"id":"evt_1","type":"deposit.confirmed","createdAt":"2026-01-01T00:00:00Z","data":{
        "id":"dep_1","depositReference":"player_42 (vip)","address":"0xAb_cd","chainId":"bsc-main.net","currency":"USDT",
        "amount":"125.5","txHash":"0x12`34\\","status":"confirmed"}})j");
}

}  // namespace

TEST(Telegram, EscapesEveryReservedCharacter) {
    EXPECT_EQ(markdown_escape("a_b*c[d]e(f)g~h`i>j#k+l-m=n|o{p}q.r!s\\t"),
              "a\\_b\\*c\\[d\\]e\\(f\\)g\\~h\\`i\\>j\\#k\\+l\\-m\\=n\\|o\\{p\\}q\\.r\\!s\\\\t");
    EXPECT_EQ(markdown_escape("中文 ok"), "中文 ok");
    EXPECT_EQ(markdown_code("a`b\\c_d.e"), "`a\\`b\\\\c_d.e`");
    EXPECT_EQ(markdown_v2_problem(markdown_escape("1.5 USDT (fee: 0.1) - done!")), "");
    EXPECT_NE(markdown_v2_problem("1.5 USDT"), "");
}

TEST(Telegram, EventMessagesAreValidMarkdownV2WithAPlainTwin) {
    auto m = event_message("deposit.confirmed", deposit_payload());
    ASSERT_TRUE(m);
    EXPECT_EQ(markdown_v2_problem(m->markdown), "") << m->markdown;
    EXPECT_NE(m->markdown.find("*125\\.5 USDT*"), std::string::npos) << m->markdown;
    EXPECT_NE(m->plain.find("125.5 USDT to 0xAb_cd"), std::string::npos) << m->plain;
    EXPECT_NE(m->plain.find("Reference: player_42 (vip)"), std::string::npos) << m->plain;
    EXPECT_NE(m->markdown.find("`0x12\\`34\\\\`"), std::string::npos) << m->markdown;

    auto order = json::parse(R"({"type":"order.paid","data":{"id":"ord_1","orderId":"SHOP-1.2","status":"completed",
        "payAmount":"10","paidAmount":"0","currency":"USDT","chainId":"tron","fiatAmount":"70","fiatCurrency":"CNY",
        "manual":true}})");
    auto o = event_message("order.paid", order);
    ASSERT_TRUE(o);
    EXPECT_EQ(markdown_v2_problem(o->markdown), "") << o->markdown;
    EXPECT_NE(o->plain.find("Order settled by hand · SHOP-1.2"), std::string::npos) << o->plain;
    EXPECT_NE(o->plain.find("10 USDT on tron (70 CNY)"), std::string::npos) << o->plain;

    auto late = json::parse(R"({"type":"order.late_payment","data":{"order":{"id":"ord_2","orderId":"X-9","status":"expired"},
        "deposit":{"amount":"5","currency":"USDT","chainId":"local","txHash":"0xfe"}}})");
    auto l = event_message("order.late_payment", late);
    ASSERT_TRUE(l);
    EXPECT_EQ(markdown_v2_problem(l->markdown), "") << l->markdown;
    EXPECT_NE(l->plain.find("Late payment · X-9"), std::string::npos) << l->plain;
    EXPECT_NE(l->plain.find("5 USDT on local after the order expired"), std::string::npos) << l->plain;

    EXPECT_FALSE(event_message("deposit.pending", deposit_payload()));
    EXPECT_FALSE(event_message("deposit.confirmed", json::parse("{}")));
}

TEST(Telegram, RequestCarriesTheTokenInThePathOnlyAndFallsBackToPlainText) {
    config::TelegramConfig cfg;
    cfg.bot_token = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0";
    cfg.chat_id = "-100123";
    cfg.api_base = "http://127.0.0.1:9";
    store::EventRow ev;
    ev.id = "evt_x";
    ev.kind = store::kKindTelegram;
    TextBuilder b;
    b.bold("Deposit confirmed").text(" 1.5");
    ev.payload = message_payload("deposit.confirmed", b.done(), "evt_src");
    auto req = telegram_request(ev, cfg, false, std::chrono::seconds(5));
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, "http://127.0.0.1:9/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/sendMessage");
    auto body = json::parse(req.body).as_object();
    EXPECT_EQ(body["chat_id"], "-100123");
    EXPECT_EQ(body["parse_mode"], "MarkdownV2");
    EXPECT_EQ(body["text"], "*Deposit confirmed* 1\\.5");
    for (const auto& [k, v] : req.headers) EXPECT_EQ(v.find("AAHdqTcv"), std::string::npos) << k;
    auto plain = json::parse(telegram_request(ev, cfg, true, std::chrono::seconds(5)).body).as_object();
    EXPECT_FALSE(plain.contains("parse_mode"));
    EXPECT_EQ(plain["text"], "Deposit confirmed 1.5");
    EXPECT_EQ(redact_token(req.url, cfg.bot_token), "http://127.0.0.1:9/bot<redacted>/sendMessage");
}

TEST(Telegram, ReadsTheBotApiAnswers) {
    auto ok = read_answer(200, R"({"ok":true,"result":{"message_id":7}})");
    EXPECT_TRUE(ok.ok);
    auto slow = read_answer(429, R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7",)"
                                 R"("parameters":{"retry_after":7}})");
    EXPECT_FALSE(slow.ok);
    EXPECT_EQ(slow.retry_after_s, std::optional<std::int64_t>(7));
    auto markup = read_answer(400, R"({"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: )"
                                   R"(Character '.' is reserved and must be escaped with the preceding '\\'"})");
    EXPECT_TRUE(markup.markup_refused);
    auto chat = read_answer(400, R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})");
    EXPECT_FALSE(chat.markup_refused);
    EXPECT_EQ(chat.description, "Bad Request: chat not found");
    EXPECT_FALSE(read_answer(200, "not json").ok);
    EXPECT_FALSE(read_answer(500, R"({"ok":true})").ok);
}

TEST(Telegram, AlertsAreReportedOncePerIntervalAndRecoveriesToo) {
    const std::int64_t minute = 60'000, interval = 15 * minute;
    // Nothing reported yet, all well: nothing to say.
    EXPECT_FALSE(alert_due(std::nullopt, "ok", 0, interval));
    EXPECT_TRUE(alert_due(std::nullopt, "lagging", 5, interval));
    store::NotifyState lagging{"lagging", 10 * minute};
    EXPECT_FALSE(alert_due(lagging, "lagging", 11 * minute, interval));
    // It recovers two minutes later (flapping): held back...
    EXPECT_FALSE(alert_due(lagging, "ok", 12 * minute, interval));
    // ...and told once the interval has passed, if still so.
    EXPECT_TRUE(alert_due(lagging, "ok", 25 * minute, interval));
    EXPECT_FALSE(alert_due(lagging, "lagging", 40 * minute, interval));
}

TEST(Telegram, CurrentAlertsCoverTheConfiguredEventsOnly) {
    config::Config cfg;
    config::ChainConfig eth;
    eth.id = "ethereum";
    eth.kind = Protocol::evm;
    cfg.chains = {eth};
    cfg.pool.low_water = 10;
    cfg.notify.telegram.enabled = true;
    cfg.notify.telegram.events = {"chain.lagging", "pool.low", "webhook.failing"};
    std::map<std::string, ChainHealth> chains;
    ChainHealth h;
    h.status = "lagging";
    h.head = 150;
    h.scanned = 100;
    chains["ethereum"] = h;
    store::DeliveryTrouble trouble;
    trouble.failed = 2;
    trouble.last_error = "HTTP 502 (bad gateway)";
    auto alerts = current_alerts(cfg, chains, {store::PoolStats{"evm", 3, 7, 0}}, trouble);
    ASSERT_EQ(alerts.size(), 3u);
    EXPECT_EQ(alerts[0].key, "chain.lagging:ethereum");
    EXPECT_EQ(alerts[0].state, "lagging");
    EXPECT_NE(alerts[0].message.plain.find("50 blocks behind (head 150, scanned 100)"), std::string::npos)
        << alerts[0].message.plain;
    EXPECT_EQ(alerts[1].key, "pool.low:evm");
    EXPECT_EQ(alerts[1].state, "low");
    EXPECT_EQ(alerts[2].key, "webhook.failing");
    EXPECT_EQ(alerts[2].state, "failing");
    for (const auto& a : alerts) EXPECT_EQ(markdown_v2_problem(a.message.markdown), "") << a.message.markdown;
}

namespace {

class TelegramRelay : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("telegram_relay_" + std::to_string(::getpid()) + "_" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        auto db = store::Database::open((dir_ / "t.sqlite").string());
        ASSERT_TRUE(db);
        db_ = std::move(*db);
        ASSERT_TRUE(db_->migrate());
        cfg_.enabled = true;
        cfg_.events = {"deposit.confirmed", "chain.halted"};
        cfg_.alert_interval = std::chrono::minutes(15);
    }
    void TearDown() override {
        db_.reset();
        fs::remove_all(dir_);
    }
    void webhook(const std::string& id, const std::string& type) {
        store::NewEvent e;
        e.id = id;
        e.type = type;
        auto body = deposit_payload().as_object();
        body["type"] = type;
        e.payload = json::serialize(body);
        e.created_at = 1;
        ASSERT_TRUE(store::insert_event(*db_, e));
    }
    std::vector<store::EventRow> messages() {
        auto q = db_->prepare("SELECT id FROM events WHERE kind = 'telegram' ORDER BY seq");
        std::vector<store::EventRow> out;
        while (*q.step()) out.push_back(**store::get_event(*db_, q.text(0)));
        return out;
    }
    fs::path dir_;
    std::unique_ptr<store::Database> db_;
    config::TelegramConfig cfg_;
};

}  // namespace

TEST_F(TelegramRelay, StartsAtTheEndThenRelaysChosenTypesOnce) {
    webhook("evt_old", "deposit.confirmed");
    EXPECT_EQ(*relay_events(*db_, cfg_, 100), 0);  // history is not news
    webhook("evt_a", "deposit.pending");
    webhook("evt_b", "deposit.confirmed");
    EXPECT_EQ(*relay_events(*db_, cfg_, 200), 1);
    EXPECT_EQ(*relay_events(*db_, cfg_, 300), 0);  // nothing new, nothing twice
    auto m = messages();
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].id, event_id("evt_b", "telegram"));
    EXPECT_EQ(m[0].type, "notify.telegram");
    auto payload = json::parse(m[0].payload).as_object();
    EXPECT_EQ(payload["event"], "deposit.confirmed");
    EXPECT_EQ(payload["source"], "evt_b");
    EXPECT_EQ(markdown_v2_problem(std::string(payload["text"].as_string())), "");
    // The relayed message is not itself relayed (it is no webhook).
    EXPECT_EQ(*relay_events(*db_, cfg_, 400), 0);
}

TEST_F(TelegramRelay, AlertsAreQueuedWithTheirStateAndNotRepeated) {
    AlertNow halted{"chain.halted:eth", "chain.halted", "halted", TextBuilder().bold("Chain halted").done()};
    AlertNow ok{"chain.halted:eth", "chain.halted", "ok", TextBuilder().bold("Chain running again").done()};
    const std::int64_t m = 60'000;
    EXPECT_EQ(*report_alerts(*db_, cfg_, {ok}, 1 * m), 0);
    EXPECT_EQ(*report_alerts(*db_, cfg_, {halted}, 2 * m), 1);
    EXPECT_EQ(*report_alerts(*db_, cfg_, {halted}, 3 * m), 0);
    EXPECT_EQ(*report_alerts(*db_, cfg_, {ok}, 4 * m), 0);   // flapping: held back
    EXPECT_EQ(*report_alerts(*db_, cfg_, {halted}, 5 * m), 0);
    EXPECT_EQ(*report_alerts(*db_, cfg_, {ok}, 20 * m), 1);  // recovered, reported after the interval
    auto msgs = messages();
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(json::parse(msgs[0].payload).as_object()["event"], "chain.halted");
    EXPECT_NE(msgs[0].id, msgs[1].id);
}
