#pragma once
// The console's HTML: one stylesheet and one small script, both inline and
// admitted by the Content-Security-Policy through their SHA-256 (no other
// script, no style attribute, no third-party asset), the page frame with
// its navigation, and the texts in English and 中文.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/handler.hpp"

namespace depositd::api::admin {

// A text in both languages. Pages pick one with tr().
struct Text {
    const char* en;
    const char* zh;
};
inline const char* tr(std::string_view lang, const Text& t) { return lang == "zh" ? t.zh : t.en; }

// The status words of deposits, orders, events, links and chains.
const char* status_text(std::string_view lang, std::string_view status);

std::string esc(std::string_view s);          // HTML-escaped
std::string url_escape(std::string_view s);   // for a query parameter value
// <time datetime="...Z">YYYY-MM-DD HH:MM:SS UTC</time>; "—" for nullopt / 0.
std::string time_html(std::optional<std::int64_t> unix_ms);
// A coloured badge with the translated status.
std::string badge(std::string_view lang, std::string_view status);

// What every console page needs to draw its frame.
struct Frame {
    std::string lang;        // "en" | "zh"
    std::string user;        // empty: not logged in (login page)
    std::string csrf;        // the session's form token (or the login form's)
    std::string here;        // path + query of this page (the language switch returns here)
    std::string active;      // nav item: overview, deposits, orders, events, links, audit, recheck
};

// A complete page with the console's headers (CSP, no caching, no framing).
// `body` is already-escaped HTML.
Response page(int status, const Frame& f, const std::string& title, const std::string& body);
// A short page for a refused or failed request (message escaped here).
Response message_page(int status, const Frame& f, const std::string& title, const std::string& message,
                      const std::string& back_href = "/admin");
// 303 See Other to `location` (a path under /admin), with extra headers.
Response redirect(const std::string& location);

// The language switch: a small form that POSTs to /admin/lang and comes back here.
std::string language_form(const Frame& f);

// The hidden CSRF field of a form.
std::string csrf_field(const std::string& token);

// The Content-Security-Policy of the console's pages.
std::string content_security_policy();

namespace txt {
inline constexpr Text console{"depositd console", "depositd 控制台"};
inline constexpr Text overview{"Overview", "概览"};
inline constexpr Text deposits{"Deposits", "充值"};
inline constexpr Text orders{"Orders", "订单"};
inline constexpr Text events{"Events", "事件"};
inline constexpr Text links{"Payment links", "支付链接"};
inline constexpr Text audit{"Audit log", "审计日志"};
inline constexpr Text recheck{"Re-check a transaction", "重新检查交易"};
inline constexpr Text recheck_short{"Re-check", "重新检查"};
inline constexpr Text logout{"Log out", "退出登录"};
inline constexpr Text login{"Log in", "登录"};
inline constexpr Text user{"User", "用户名"};
inline constexpr Text password{"Password", "密码"};
inline constexpr Text code{"Authenticator code (if enabled)", "动态验证码（如已启用）"};
inline constexpr Text login_failed{"Wrong name, password or code.", "用户名、密码或验证码错误。"};
inline constexpr Text login_limited{"Too many failed attempts. Try again in about this many minutes:",
                                    "失败次数过多，请在以下分钟数后重试："};
inline constexpr Text login_busy{"The console is busy checking another login; try again in a moment.",
                                 "控制台正在处理其他登录，请稍后重试。"};
inline constexpr Text login_cookies{"The login form has expired, or this browser refuses cookies. Reload the page "
                                    "and try again.",
                                    "登录表单已失效，或浏览器拒绝了 Cookie。请刷新页面后重试。"};
inline constexpr Text session_ended{"Your session has ended; log in again.", "会话已结束，请重新登录。"};
inline constexpr Text logged_out{"You are logged out.", "您已退出登录。"};
inline constexpr Text chains{"Chains", "链"};
inline constexpr Text chain{"Chain", "链"};
inline constexpr Text status{"Status", "状态"};
inline constexpr Text head{"Head", "最新高度"};
inline constexpr Text scanned{"Scanned", "已扫描"};
inline constexpr Text lag{"Lag", "落后"};
inline constexpr Text finality{"Finality", "最终性"};
inline constexpr Text role{"Role", "角色"};
inline constexpr Text leader{"leader", "主节点"};
inline constexpr Text last_error{"Last error", "最近错误"};
inline constexpr Text lag_trend{"Lag, last 15 min", "落后趋势（15 分钟）"};
inline constexpr Text confirmations_n{"confirmations", "个确认"};
inline constexpr Text finalized{"finalized", "最终确认"};
inline constexpr Text outbox{"Outbox", "发送队列"};
inline constexpr Text kind{"Kind", "类型"};
inline constexpr Text pending{"Pending", "待发送"};
inline constexpr Text failed{"Failed", "失败"};
inline constexpr Text outbox_empty{"Nothing waiting: every event was delivered.", "没有待发送的事件：全部已送达。"};
inline constexpr Text pool{"Address pool", "地址池"};
inline constexpr Text protocol{"Protocol", "协议"};
inline constexpr Text free{"Free", "空闲"};
inline constexpr Text bound{"Bound", "已绑定"};
inline constexpr Text cooling{"Cooling", "冷却中"};
inline constexpr Text low{"low", "不足"};
inline constexpr Text latest_deposits{"Latest deposits", "最新充值"};
inline constexpr Text latest_actions{"Latest manual actions", "最近的人工操作"};
inline constexpr Text search{"Search", "搜索"};
inline constexpr Text deposits_hint{"Reference, address, tx hash or order id", "用户标识、地址、交易哈希或订单号"};
inline constexpr Text orders_hint{"Order id, merchant order id, address or tx hash", "订单号、商户订单号、地址或交易哈希"};
inline constexpr Text events_hint{"Event, deposit or order id", "事件、充值或订单编号"};
inline constexpr Text links_hint{"Link id, slug or title", "链接编号、短码或标题"};
inline constexpr Text any{"any", "全部"};
inline constexpr Text time{"Time", "时间"};
inline constexpr Text amount{"Amount", "金额"};
inline constexpr Text address{"Address", "地址"};
inline constexpr Text reference{"Reference", "用户标识"};
inline constexpr Text transaction{"Transaction", "交易"};
inline constexpr Text block{"Block", "区块"};
inline constexpr Text from{"From", "付款地址"};
inline constexpr Text confirmations{"Confirmations", "确认数"};
inline constexpr Text detected{"Detected", "发现时间"};
inline constexpr Text confirmed_at{"Confirmed", "确认时间"};
inline constexpr Text next_page{"Next page", "下一页"};
inline constexpr Text first_page{"First page", "第一页"};
inline constexpr Text nothing{"Nothing found.", "没有找到记录。"};
inline constexpr Text deposit{"Deposit", "充值"};
inline constexpr Text order{"Order", "订单"};
inline constexpr Text merchant_order{"Merchant order id", "商户订单号"};
inline constexpr Text source{"Source", "来源"};
inline constexpr Text to_pay{"To pay", "应付"};
inline constexpr Text paid_amount{"Received", "已收"};
inline constexpr Text by_hand{"settled by hand", "人工确认"};
inline constexpr Text created{"Created", "创建时间"};
inline constexpr Text expires{"Expires", "过期时间"};
inline constexpr Text paid_at{"Paid", "支付时间"};
inline constexpr Text completed_at{"Completed", "完成时间"};
inline constexpr Text pays_order{"Pays order", "所属订单"};
inline constexpr Text no_order{"none (not matched to an order)", "无（未匹配订单）"};
inline constexpr Text event{"Event", "事件"};
inline constexpr Text type{"Type", "类型"};
inline constexpr Text attempts{"Attempts", "尝试次数"};
inline constexpr Text delivered_at{"Delivered", "送达时间"};
inline constexpr Text next_attempt{"Next attempt", "下次尝试"};
inline constexpr Text deliveries{"Deliveries", "投递记录"};
inline constexpr Text no_deliveries{"No delivery attempt yet.", "尚无投递记录。"};
inline constexpr Text latency{"Latency", "耗时"};
inline constexpr Text answer{"Answer", "响应"};
inline constexpr Text error{"Error", "错误"};
inline constexpr Text payload{"Payload", "内容"};
inline constexpr Text resend{"Resend", "重新发送"};
inline constexpr Text resend_confirm{"Deliver this event again now?", "现在重新发送此事件？"};
inline constexpr Text mark_paid{"Mark paid", "标记为已付"};
inline constexpr Text mark_paid_help{
    "The shop was paid another way, or you checked a payment depositd could not match. The order is settled "
    "now: order.paid and order.completed are sent (marked \"manual\"), and the shop's EPay notify or epusdt "
    "callback too, as for a payment seen on chain. The reason is kept in the audit log.",
    "商户已通过其他方式收款，或您核实了一笔 depositd 无法匹配的付款。订单将立即结算：发送 order.paid 与 "
    "order.completed（标记为 \"manual\"），以及 EPay 通知或 epusdt 回调，与链上付款相同。原因会记入审计日志。"};
inline constexpr Text mark_paid_confirm{"Settle this order by hand? This cannot be undone.",
                                        "确定人工结算此订单？此操作无法撤销。"};
inline constexpr Text reason{"Reason", "原因"};
inline constexpr Text publish{"Publish", "发布"};
inline constexpr Text archive{"Archive", "归档"};
inline constexpr Text archive_confirm{"Archive this payment link? It cannot be published again.",
                                      "归档此支付链接？归档后无法再次发布。"};
inline constexpr Text title{"Title", "标题"};
inline constexpr Text currencies{"Currencies", "币种"};
inline constexpr Text completed_orders{"Completed orders", "已完成订单"};
inline constexpr Text checkout{"Checkout page", "收款页面"};
inline constexpr Text actions{"Actions", "操作"};
inline constexpr Text who{"Who", "操作人"};
inline constexpr Text action{"Action", "操作"};
inline constexpr Text target{"Target", "对象"};
inline constexpr Text detail{"Detail", "详情"};
inline constexpr Text client{"Client", "客户端"};
inline constexpr Text tx_hash{"Transaction hash", "交易哈希"};
inline constexpr Text block_hash{"Block hash (optional; Bitcoin nodes without -txindex need it)",
                                 "区块哈希（可选；未开启 -txindex 的比特币节点需要）"};
inline constexpr Text recheck_help{
    "Asks the chain's nodes for one transaction and records every transfer in it to a watched address that "
    "depositd has not recorded yet, exactly as the scanner would have.",
    "向节点查询一笔交易，并按扫描器的规则记录其中尚未记录的、转入受监控地址的转账。"};
inline constexpr Text done_mark_paid{"The order is settled by hand.", "订单已人工结算。"};
inline constexpr Text done_resend{"The event is queued for delivery.", "事件已加入发送队列。"};
inline constexpr Text done_publish{"The payment link is published.", "支付链接已发布。"};
inline constexpr Text done_archive{"The payment link is archived.", "支付链接已归档。"};
inline constexpr Text refused{"Refused", "已拒绝"};
inline constexpr Text csrf_refused{"This form has expired or did not come from this console. Reload the page and "
                                   "try again.",
                                   "表单已失效或并非来自本控制台，请刷新页面后重试。"};
inline constexpr Text action_failed{"The action was not carried out", "操作未执行"};
inline constexpr Text back{"Back", "返回"};
inline constexpr Text not_found{"Not found", "未找到"};
inline constexpr Text switch_language{"中文", "English"};
inline constexpr Text details{"Details", "详情"};
inline constexpr Text order_actions{"Manual actions on this order", "该订单的人工操作"};
inline constexpr Text webhooks_and_notifies{"Events and deliveries", "事件与投递"};
inline constexpr Text none{"none", "无"};
inline constexpr Text filter{"Filter", "筛选"};
}  // namespace txt

}  // namespace depositd::api::admin
