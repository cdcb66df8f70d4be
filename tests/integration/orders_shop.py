"""Helpers of the order tests: an independent EPay / epusdt signer (hashlib),
a scripted shop that receives EPay notifies and epusdt callbacks, and an HTTP
client that does not follow redirects. Standard library only."""
import hashlib
import http.server
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

MERCHANT_PID = 1001
MERCHANT_KEY = "merchant-key-0123456789abcdef01234567"  # [merchant].key: at least 32 characters


def epay_sign(params, key=MERCHANT_KEY):
    """彩虹易支付 makeSign, written from its description: non-empty values
    except sign/sign_type, sorted by name, k=v joined by &, key appended, md5."""
    items = sorted((k, v) for k, v in params.items() if k not in ("sign", "sign_type") and v != "")
    text = "&".join(f"{k}={v}" for k, v in items) + key
    return hashlib.md5(text.encode()).hexdigest()


def go_number(v):
    """Go's strconv.FormatFloat(v, 'f', -1, 64) for the values used here."""
    f = float(v)
    if f == int(f) and abs(f) < 2**53:
        return str(int(f))
    return repr(f)


def epusdt_sign(body, key=MERCHANT_KEY):
    """epusdt sign.go: non-null, non-empty fields except signature, numbers
    shortest, "k=v" strings sorted, joined by &, token appended, md5."""
    parts = []
    for k, v in body.items():
        if k == "signature" or v is None:
            continue
        text = go_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
        if text == "":
            continue
        parts.append(f"{k}={text}")
    return hashlib.md5(("&".join(sorted(parts)) + key).encode()).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: D401 - never follow
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_raw(method, url, body=None, headers=None, timeout=10):
    """(status, headers dict lower-case, body bytes); redirects are not followed."""
    data = body if body is None or isinstance(body, bytes) else body.encode()
    req = urllib.request.Request(url, data=data, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with _opener.open(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


class Shop:
    """A shop's notify endpoints. EPay notifies arrive as GET /epay/notify
    (recorded as query dicts), epusdt callbacks as POST /epusdt/notify
    (recorded as (headers, raw body)). `epay_answers` / `epusdt_answers` are
    the bodies answered in turn (the last one repeats)."""

    def __init__(self):
        self.epay = []
        self.epay_methods = []
        self.epusdt = []
        self.returns = []
        self.epay_answers = ["success"]
        self.epusdt_answers = ["ok"]
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self, code, text, ctype="text/plain; charset=utf-8"):
                raw = text.encode()
                self.send_response(code)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):  # noqa: N802
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                if url.path == "/epay/notify":
                    with outer.lock:
                        outer.epay.append(query)
                        outer.epay_methods.append("GET")
                        n = len(outer.epay)
                        text = outer.epay_answers[min(n, len(outer.epay_answers)) - 1]
                    return self.answer(200, text)
                if url.path == "/return":
                    with outer.lock:
                        outer.returns.append(query)
                    return self.answer(200, "<!doctype html><link rel=icon href='data:,'><title>Thanks</title><h1 id=thanks>Thank you</h1>",
                                       "text/html; charset=utf-8")
                return self.answer(404, "no")

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.path.startswith("/epusdt/notify"):
                    with outer.lock:
                        outer.epusdt.append(({k.lower(): v for k, v in self.headers.items()}, body))
                        n = len(outer.epusdt)
                        text = outer.epusdt_answers[min(n, len(outer.epusdt_answers)) - 1]
                    return self.answer(200, text)
                if self.path.startswith("/epay/notify"):
                    with outer.lock:
                        outer.epay_methods.append("POST")
                    return self.answer(405, "GET only")
                return self.answer(404, "no")

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class RateServer:
    """Answers GET /rate with self.body (JSON text) and self.status."""

    def __init__(self, body='{"data":{"CNY":"7.0"}}'):
        self.body = body
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                raw = outer.body.encode()
                self.send_response(outer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rate"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def orders_toml(mode="address", receive=None, fiat=True, rate="7", rate_source=None, extra="", private_notify=True):
    """[orders] and [merchant]. The test shops listen on 127.0.0.1, which
    [merchant].allow_private_notify must admit (private_notify=False: the
    default, notify URLs on private addresses refused)."""
    lines = ["[orders]", 'default = "usdt.local"', 'expiry = "30m"', f'mode = "{mode}"', 'cooldown = "1h"']
    if receive:
        lines.append(f'receive = {{ local = "{receive}" }}')
    if fiat:
        lines += ['fiat = "CNY"', f'rate = "{rate}"', "precision = 2"]
    if rate_source:
        lines += [f'rate_source = "{rate_source}"', 'rate_path = "data.CNY"', 'rate_refresh = "300ms"',
                  'rate_max_age = "2s"']
    lines.append(extra)
    lines += ["", "[merchant]", f"pid = {MERCHANT_PID}", f'key = "{MERCHANT_KEY}"']
    if private_notify:
        lines.append("allow_private_notify = true")
    lines.append("")
    return "\n".join(lines)
