"""A local stand-in for the Telegram Bot API (https://core.telegram.org/bots/api)
that answers the way the real one does, for the methods depositd calls:

  POST /bot<token>/sendMessage  JSON {chat_id, text, parse_mode?, ...}
    200 {"ok":true,"result":{message_id, date, chat:{id}, text}}
    401 {"ok":false,"error_code":401,"description":"Unauthorized"}           wrong token
    400 {"ok":false,"error_code":400,"description":"Bad Request: chat not found"}
    400 {"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: ..."}  bad MarkdownV2
    429 {"ok":false,"error_code":429,"description":"Too Many Requests: retry after N",
         "parameters":{"retry_after":N}}                                      when told to throttle

Every request is recorded (method, path with the token, parsed body, the
answer's code). Standard library only.
"""
import http.server
import json
import threading
import time

RESERVED = set("_*[]()~`>#+-=|{}.!")


def markdown_v2_problem(text):
    """What Telegram's MarkdownV2 parser refuses in `text`, or None. Outside
    entities every reserved character needs a backslash; * toggles bold, _
    italic, ~ strike, ` code (inside code only ` and \\ are escaped)."""
    open_ = {"*": False, "_": False, "~": False}
    code = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                return "Can't parse entities: a lone backslash at the end"
            i += 2
            continue
        if code:
            if c == "`":
                code = False
            i += 1
            continue
        if c == "`":
            code = True
        elif c in open_:
            open_[c] = not open_[c]
        elif c in RESERVED:
            return f"Can't parse entities: character '{c}' is reserved and must be escaped with the preceding '\\'"
        i += 1
    if code or any(open_.values()):
        return "Can't parse entities: can't find end of the entity"
    return None


class FakeBotApi:
    def __init__(self, token, chat_id):
        self.token = token
        self.chat_id = str(chat_id)
        self.requests = []       # (path, body dict or None, status)
        self.messages = []       # accepted message bodies
        self.throttle = 0        # answer this many requests with 429
        self.retry_after = 1
        self.lock = threading.Lock()
        self.next_id = 1
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self, code, obj):
                raw = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                code, obj = outer.handle(self.path, body)
                with outer.lock:
                    outer.requests.append((self.path, body, code))
                self.answer(code, obj)

            def do_GET(self):  # noqa: N802
                self.answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, path, body):
        if not path.startswith(f"/bot{self.token}/"):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(f"/bot{self.token}/"):]
        if method != "sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        with self.lock:
            if self.throttle > 0:
                self.throttle -= 1
                return 429, {"ok": False, "error_code": 429,
                             "description": f"Too Many Requests: retry after {self.retry_after}",
                             "parameters": {"retry_after": self.retry_after}}
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
        if str(body.get("chat_id")) != self.chat_id:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
        if body.get("parse_mode") == "MarkdownV2":
            problem = markdown_v2_problem(body["text"])
            if problem:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: " + problem.replace(
                    "Can't", "can't")}
        with self.lock:
            mid = self.next_id
            self.next_id += 1
            self.messages.append(body)
        return 200, {"ok": True, "result": {"message_id": mid, "date": int(time.time()),
                                            "chat": {"id": self.chat_id, "type": "group"}, "text": body["text"]}}

    def texts(self):
        with self.lock:
            return [m["text"] for m in self.messages]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
