#include "api/pay_html.hpp"

#include "api/route_util.hpp"

namespace depositd::api::html {
namespace {

// The only stylesheet of the pages. No style="" attribute anywhere (the CSP
// would refuse it).
constexpr std::string_view kStyle = R"css(
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;background:#f3f4f6;color:#111827}
main{max-width:26rem;margin:1.5rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.25rem;margin:0 0 1rem}
.row{margin:.75rem 0}
.label{font-size:.8rem;color:#6b7280;text-transform:uppercase;letter-spacing:.04em}
.value{display:flex;gap:.5rem;align-items:center;justify-content:space-between}
.amount{font-size:1.6rem;font-weight:600}
code{font:.9rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
button,.button{font:inherit;font-size:.85rem;padding:.35rem .8rem;border:1px solid #d1d5db;border-radius:6px;background:#fff;cursor:pointer;color:#111827;text-decoration:none}
button.primary,.button.primary{background:#2563eb;border-color:#2563eb;color:#fff;font-size:1rem;padding:.55rem 1.2rem}
#qr{display:flex;justify-content:center;margin:1rem 0}
#qr svg{width:220px;height:220px}
.status{padding:.6rem .8rem;border-radius:8px;background:#eff6ff;color:#1e40af;font-weight:600}
.st-paid .status{background:#fef9c3;color:#854d0e}
.st-completed .status{background:#dcfce7;color:#166534}
.st-expired .status{background:#fee2e2;color:#991b1b}
.st-completed .payto,.st-expired .payto{display:none}
.hint{font-size:.85rem;color:#6b7280}
.error{color:#991b1b}
label.choice{display:block;padding:.5rem .7rem;border:1px solid #d1d5db;border-radius:8px;margin:.4rem 0;cursor:pointer}
input[type=text]{font:inherit;width:100%;padding:.45rem .6rem;border:1px solid #d1d5db;border-radius:6px}
)css";

// The only script: copy buttons, the countdown, the live status and the
// redirect. Everything it needs comes from data- attributes of <main>.
constexpr std::string_view kScript = R"js(
(function () {
  var m = document.getElementById('pay');
  if (!m) return;
  var d = m.dataset, done = false;
  var skew = Date.now() - Number(d.now), expires = Number(d.expires);
  var statusEl = document.getElementById('status'), paidEl = document.getElementById('paid');
  var countdown = document.getElementById('countdown');
  var text = { waiting: d.tWaiting, paid: d.tPaid, completed: d.tCompleted, expired: d.tExpired };
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function tick() {
    var left = Math.max(0, expires - (Date.now() - skew));
    var s = Math.floor(left / 1000), h = Math.floor(s / 3600);
    countdown.textContent = (h ? h + ':' : '') + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60);
  }
  function fallback(value) {
    var t = document.createElement('textarea');
    t.value = value;
    document.body.appendChild(t);
    t.select();
    try { document.execCommand('copy'); } catch (e) {}
    document.body.removeChild(t);
    return Promise.resolve();
  }
  function copy(value) {
    if (navigator.clipboard && window.isSecureContext)
      return navigator.clipboard.writeText(value).then(null, function () { return fallback(value); });
    return fallback(value);
  }
  Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (b) {
    b.addEventListener('click', function () {
      copy(b.getAttribute('data-copy')).then(function () {
        b.textContent = d.tCopied;
        setTimeout(function () { b.textContent = d.tCopy; }, 1500);
      }, function () {});
    });
  });
  function show(j) {
    m.className = 'st-' + j.status;
    m.setAttribute('data-status', j.status);
    if (text[j.status]) statusEl.textContent = text[j.status];
    if (j.paidAmount != null) paidEl.textContent = j.paidAmount;
    if (j.status === 'completed') {
      done = true;
      if (j.redirectUrl) {
        statusEl.textContent = text.completed + ' ' + d.tReturning;
        setTimeout(function () { window.location.href = j.redirectUrl; }, 1500);
      }
    } else if (j.status === 'expired') {
      done = true;
    }
  }
  function poll() {
    fetch(d.statusUrl, { cache: 'no-store', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j) show(j); }, function () {})
      .then(function () { if (!done) setTimeout(poll, 2000); });
  }
  tick();
  setInterval(tick, 1000);
  if (d.status === 'completed' || d.status === 'expired') show({ status: d.status, redirectUrl: d.redirect || null });
  else poll();
})();
)js";

const Strings kEnglish = {
    "en",
    "Pay",
    "Amount",
    "Network",
    "Address",
    "Copy",
    "Copied",
    "Time left",
    "Received so far",
    "Send exactly this amount to this address, on this network only.",
    "Waiting for your payment",
    "Payment received, waiting for confirmations",
    "Payment complete",
    "This order has expired. Do not send a payment to it.",
    "Returning to the shop…",
    "Back to the shop",
    "Scan with your wallet",
    "The payment request was refused",
    "This order does not exist.",
    "This payment link does not exist.",
    "This payment link is no longer available.",
    "This payment link has expired.",
    "This payment link is sold out.",
    "Choose how to pay",
    "Amount to pay",
    "Continue",
    "Order",
    "Too many open orders from your network. Pay or let one expire, then try again.",
    "Payments are busy right now. Please try again in a few minutes.",
};

const Strings kChinese = {
    "zh-CN",
    "支付",
    "金额",
    "网络",
    "收款地址",
    "复制",
    "已复制",
    "剩余时间",
    "已收到",
    "请仅通过此网络向此地址转账准确的金额。",
    "等待支付",
    "已收到付款，等待区块确认",
    "支付成功",
    "订单已过期，请勿再向此地址付款。",
    "正在返回商户…",
    "返回商户",
    "使用钱包扫码支付",
    "支付请求被拒绝",
    "订单不存在。",
    "支付链接不存在。",
    "此支付链接已停用。",
    "此支付链接已过期。",
    "此支付链接已售罄。",
    "选择支付方式",
    "支付金额",
    "继续",
    "订单号",
    "您的网络未支付的订单过多。请先完成支付或等待订单过期后再试。",
    "当前支付繁忙，请几分钟后再试。",
};

}  // namespace

const Strings& strings(std::string_view lang) { return lang == "zh" ? kChinese : kEnglish; }

std::string content_security_policy() {
    static const std::string csp = "default-src 'none'; script-src 'sha256-" + util::sha256_base64(kScript) +
                                   "'; style-src 'sha256-" + util::sha256_base64(kStyle) +
                                   "'; connect-src 'self'; img-src 'self' data:; form-action 'self'; "
                                   "base-uri 'none'; frame-ancestors 'none'";
    return csp;
}

Response page(int status, std::string_view lang, const std::string& title, const std::string& body, bool script,
              const std::string& main_attributes) {
    const Strings& t = strings(lang);
    Response r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.headers.emplace_back("Content-Security-Policy", content_security_policy());
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("Content-Language", t.lang_tag);
    r.headers.emplace_back("Vary", "Accept-Language");
    std::string& h = r.body;
    h.reserve(8192);
    h += "<!doctype html>\n<html lang=\"";
    h += t.lang_tag;
    h += "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
         "<meta name=\"robots\" content=\"noindex\">\n<link rel=\"icon\" href=\"data:,\">\n<title>";
    h += util::html_escape(title);
    h += "</title>\n<style>";
    h += kStyle;
    h += "</style>\n</head>\n<body>\n<main";
    if (!main_attributes.empty()) h += " " + main_attributes;
    h += ">\n";
    h += body;
    h += "</main>\n";
    if (script) {
        h += "<script>";
        h += kScript;
        h += "</script>\n";
    }
    h += "</body>\n</html>\n";
    return r;
}

Response message_page(int status, std::string_view lang, Message m, const std::string& detail) {
    const Strings& t = strings(lang);
    const char* headline = t.refused;
    switch (m) {
        case Message::request_refused: headline = t.refused; break;
        case Message::order_not_found: headline = t.order_not_found; break;
        case Message::link_not_found: headline = t.link_not_found; break;
        case Message::link_archived: headline = t.link_archived; break;
        case Message::link_expired: headline = t.link_expired; break;
        case Message::link_sold_out: headline = t.link_sold_out; break;
        case Message::too_many: headline = t.too_many; break;
        case Message::busy: headline = t.busy; break;
    }
    std::string body = "<h1>" + util::html_escape(headline) + "</h1>\n";
    if (!detail.empty()) body += "<p class=\"error\" id=\"detail\">" + util::html_escape(detail) + "</p>\n";
    return page(status, lang, headline, body, false);
}

}  // namespace depositd::api::html
