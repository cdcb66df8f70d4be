#include "api/admin/html.hpp"

#include "api/route_util.hpp"
#include "core/clock.hpp"
#include "core/text.hpp"

namespace depositd::api::admin {
namespace {

// The only stylesheet. No style="" attribute anywhere (the CSP refuses it).
constexpr std::string_view kStyle = R"css(
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;background:#f3f4f6;color:#111827}
a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem 1rem;padding:.5rem 1rem;background:#111827;color:#e5e7eb}
header.top a{color:#e5e7eb}
.brand{font-weight:700;margin-right:.5rem}
nav{display:flex;flex-wrap:wrap;gap:.15rem}
nav a{padding:.3rem .6rem;border-radius:6px}
nav a.on{background:#374151;color:#fff}
.me{margin-left:auto;display:flex;gap:.5rem;align-items:center}
.me form{margin:0}
.me button{background:transparent;color:#e5e7eb;border-color:#4b5563}
main{max-width:84rem;margin:1rem auto;padding:0 1rem}
h1{font-size:1.3rem;margin:.5rem 0 1rem}
h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
section.card{background:#fff;border-radius:10px;box-shadow:0 1px 2px rgba(0,0,0,.08);padding:.75rem 1rem;margin:0 0 1rem;overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e5e7eb;vertical-align:top;white-space:nowrap}
th{font-size:.75rem;text-transform:uppercase;letter-spacing:.03em;color:#6b7280;font-weight:600}
td.wrap{white-space:normal;word-break:break-all}
td.text{white-space:normal;overflow-wrap:anywhere;min-width:10rem;max-width:28rem}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dl.kv dt{color:#6b7280}dl.kv dd{margin:0;word-break:break-all}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.75rem;font-weight:600;background:#e5e7eb;color:#374151}
.b-ok,.b-confirmed,.b-completed,.b-delivered,.b-active{background:#dcfce7;color:#166534}
.b-pending,.b-waiting,.b-paid,.b-starting,.b-draft{background:#fef9c3;color:#854d0e}
.b-lagging{background:#ffedd5;color:#9a3412}
.b-error,.b-halted,.b-failed,.b-reverted,.b-expired,.b-low{background:#fee2e2;color:#991b1b}
.b-archived,.b-manual{background:#e0e7ff;color:#3730a3}
form.inline{display:inline;margin:0}
form.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:0 0 .75rem}
label{display:flex;flex-direction:column;font-size:.75rem;color:#6b7280;gap:.15rem}
input[type=text],input[type=password],select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid #d1d5db;border-radius:6px;background:#fff;color:#111827;min-width:12rem}
input.wide{min-width:24rem}
textarea{width:100%;min-height:4rem}
button{font:inherit;padding:.3rem .75rem;border:1px solid #d1d5db;border-radius:6px;background:#fff;color:#111827;cursor:pointer}
button.primary{background:#1d4ed8;border-color:#1d4ed8;color:#fff}
button.danger{background:#b91c1c;border-color:#b91c1c;color:#fff}
.flash{padding:.6rem .8rem;border-radius:8px;margin:0 0 1rem;background:#dcfce7;color:#166534}
.flash.err{background:#fee2e2;color:#991b1b}
.muted{color:#6b7280}
.pager{display:flex;gap:1rem;margin:.75rem 0 0}
.login{max-width:22rem;margin:4rem auto;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:1.5rem}
.login form{display:flex;flex-direction:column;gap:.75rem}
.login input{min-width:0;width:100%}
.lang{margin-top:1rem;text-align:right}
.lang button{border:0;background:transparent;color:#1d4ed8;padding:0}
svg.spark polyline{stroke:#1d4ed8;stroke-width:1.5}
details summary{cursor:pointer;color:#1d4ed8}
pre{white-space:pre-wrap;word-break:break-all;background:#f9fafb;border-radius:6px;padding:.5rem;margin:.25rem 0;max-height:20rem;overflow:auto}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1rem}
)css";

// The only script, and only progressive: local times, confirmation of
// actions, no double submit, and the overview refreshed in place. Every
// page works without it.
constexpr std::string_view kScript = R"js(
(function () {
  var lang = document.documentElement.lang;
  function localTimes(root) {
    Array.prototype.forEach.call(root.querySelectorAll('time[datetime]'), function (t) {
      var d = new Date(t.getAttribute('datetime'));
      if (!isNaN(d.getTime())) {
        t.title = t.getAttribute('datetime');
        t.textContent = d.toLocaleString(lang);
      }
    });
  }
  document.addEventListener('submit', function (e) {
    var f = e.target, question = f.getAttribute('data-confirm');
    if (f.getAttribute('data-sent')) { e.preventDefault(); return; }
    if (question && !window.confirm(question)) { e.preventDefault(); return; }
    f.setAttribute('data-sent', '1');
  });
  var live = document.getElementById('live');
  if (live && live.getAttribute('data-refresh')) {
    var every = Number(live.getAttribute('data-refresh'));
    setInterval(function () {
      if (document.hidden) return;
      fetch(window.location.href, { credentials: 'same-origin', cache: 'no-store', redirect: 'error',
                                    headers: { 'Accept': 'text/html' } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('live');
          if (!fresh) return;
          live.innerHTML = fresh.innerHTML;
          localTimes(live);
          live.setAttribute('data-updated', String(Date.now()));
        }, function () {});
    }, every);
  }
  localTimes(document);
})();
)js";

struct NavItem {
    const char* id;
    const char* href;
    Text label;
};
constexpr NavItem kNav[] = {
    {"overview", "/admin", txt::overview}, {"deposits", "/admin/deposits", txt::deposits},
    {"orders", "/admin/orders", txt::orders}, {"events", "/admin/events", txt::events},
    {"links", "/admin/links", txt::links},   {"audit", "/admin/audit", txt::audit},
    {"recheck", "/admin/recheck", txt::recheck_short},
};

}  // namespace

const char* status_text(std::string_view lang, std::string_view s) {
    struct Word {
        const char* key;
        Text text;
    };
    static constexpr Word words[] = {
        {"pending", {"pending", "待确认"}},     {"confirmed", {"confirmed", "已确认"}},
        {"reverted", {"reverted", "已回滚"}},   {"waiting", {"waiting", "等待支付"}},
        {"paid", {"paid", "已支付"}},           {"completed", {"completed", "已完成"}},
        {"expired", {"expired", "已过期"}},     {"delivered", {"delivered", "已送达"}},
        {"failed", {"failed", "失败"}},         {"draft", {"draft", "草稿"}},
        {"active", {"active", "已发布"}},       {"archived", {"archived", "已归档"}},
        {"ok", {"ok", "正常"}},                 {"lagging", {"lagging", "落后"}},
        {"error", {"error", "错误"}},           {"halted", {"halted", "已停止"}},
        {"starting", {"starting", "启动中"}},   {"low", {"low", "不足"}},
        {"manual", {"manual", "人工"}},
    };
    for (const auto& w : words)
        if (s == w.key) return tr(lang, w.text);
    return nullptr;
}

std::string esc(std::string_view s) { return util::html_escape(s); }

std::string url_escape(std::string_view s) { return percent_encode(s); }

std::string time_html(std::optional<std::int64_t> ms) {
    if (!ms || *ms <= 0) return "<span class=\"muted\">—</span>";
    const std::string iso = format_rfc3339_ms(*ms);
    std::string shown = iso.substr(0, 19);
    if (shown.size() > 10) shown[10] = ' ';
    return "<time datetime=\"" + iso + "\">" + shown + " UTC</time>";
}

std::string badge(std::string_view lang, std::string_view status) {
    const char* t = status_text(lang, status);
    std::string cls;
    for (char c : status)
        if ((c >= 'a' && c <= 'z') || c == '_') cls.push_back(c);
    return "<span class=\"badge b-" + cls + "\" data-status=\"" + esc(status) + "\">" + esc(t ? t : status) + "</span>";
}

std::string csrf_field(const std::string& token) {
    return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(token) + "\">";
}

std::string content_security_policy() {
    static const std::string csp = "default-src 'none'; script-src 'sha256-" + util::sha256_base64(kScript) +
                                   "'; style-src 'sha256-" + util::sha256_base64(kStyle) +
                                   "'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
                                   "frame-ancestors 'none'";
    return csp;
}

std::string language_form(const Frame& f) {
    return "<form method=\"post\" action=\"/admin/lang\" class=\"inline\">" + csrf_field(f.csrf) +
           "<input type=\"hidden\" name=\"back\" value=\"" + esc(f.here) +
           "\"><button type=\"submit\" name=\"lang\" value=\"" + std::string(f.lang == "zh" ? "en" : "zh") +
           "\" id=\"lang-switch\">" + tr(f.lang, txt::switch_language) + "</button></form>";
}

Response page(int status, const Frame& f, const std::string& title, const std::string& body) {
    const std::string& lang = f.lang;
    Response r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.headers.emplace_back("Content-Security-Policy", content_security_policy());
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Referrer-Policy", "same-origin");
    r.headers.emplace_back("Content-Language", lang == "zh" ? "zh-CN" : "en");
    r.headers.emplace_back("Vary", "Accept-Language, Cookie");
    std::string& h = r.body;
    h.reserve(16384);
    h += "<!doctype html>\n<html lang=\"";
    h += lang == "zh" ? "zh-CN" : "en";
    h += "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
         "<meta name=\"robots\" content=\"noindex\">\n<link rel=\"icon\" href=\"data:,\">\n<title>";
    h += esc(title);
    h += " · depositd</title>\n<style>";
    h += kStyle;
    h += "</style>\n</head>\n<body>\n";
    const std::string lang_form = language_form(f);
    if (!f.user.empty()) {
        h += "<header class=\"top\"><a class=\"brand\" href=\"/admin\">depositd</a><nav>";
        for (const auto& n : kNav) {
            h += "<a href=\"";
            h += n.href;
            h += "\" id=\"nav-";
            h += n.id;
            h += "\"";
            if (f.active == n.id) h += " class=\"on\" aria-current=\"page\"";
            h += ">";
            h += tr(lang, n.label);
            h += "</a>";
        }
        h += "</nav><div class=\"me\"><span id=\"me\">" + esc(f.user) + "</span>" + lang_form +
             "<form method=\"post\" action=\"/admin/logout\" class=\"inline\">" + csrf_field(f.csrf) +
             "<button type=\"submit\" id=\"logout\">" + tr(lang, txt::logout) + "</button></form></div></header>\n";
    }
    h += "<main>\n";
    h += body;
    h += "</main>\n<script>";
    h += kScript;
    h += "</script>\n</body>\n</html>\n";
    return r;
}

Response message_page(int status, const Frame& f, const std::string& title, const std::string& message,
                      const std::string& back_href) {
    std::string body = "<h1>" + esc(title) + "</h1>\n<section class=\"card\"><p class=\"flash err\" id=\"message\">" +
                       esc(message) + "</p><p><a href=\"" + esc(back_href) + "\">" + tr(f.lang, txt::back) +
                       "</a></p></section>\n";
    return page(status, f, title, body);
}

Response redirect(const std::string& location) {
    Response r;
    r.status = 303;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "See " + location + "\n";
    r.headers.emplace_back("Location", location);
    return r;
}

}  // namespace depositd::api::admin
