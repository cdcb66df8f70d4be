"""A JSON-RPC proxy in front of real EVM nodes (anvil) that behaves like a
load balancer whose backends disagree: standard library only, threaded,
127.0.0.1 only.

Tests drive it in-process (methods on RpcProxy) or over HTTP
(POST /control with a JSON object of the same settings; GET /control returns
the state and per-method call counts):

    proxy = RpcProxy([node_a.url, node_b.url])   # forwards to backend 0
    proxy.set(backend=1)              # switch backends (A -> B -> A)
    proxy.set(logs_lag=1.0)           # eth_getLogs answers as a backend whose log
                                      # index holds only blocks first seen >= 1 s
                                      # ago: newer logs dropped, [] for them
                                      # (range and blockHash-form queries alike)
    proxy.set(null_blocks_above=h)    # a lagging backend: blocks above h are
                                      # null, eth_blockNumber says h, no logs above h
    proxy.set(delay=0.2)              # every call waits 0.2 s first
    proxy.set(fail="http500")         # every call fails: "http500", "drop" (close
                                      # the connection unanswered), "error"
                                      # (a JSON-RPC error object) or "hang" (held
                                      # unanswered until fail changes, then dropped)
    proxy.set(fail_methods=["eth_getLogs"])  # ... only these methods (with fail)
    proxy.set(routes={"eth_blockNumber": 0, "eth_getBlockByNumber(finalized)": 0})
                                      # these calls go to backend 0 whatever `backend`
                                      # says (a balancer whose backends answer different
                                      # methods); a block tag call is keyed with its tag
    proxy.set(null_receipts=True)     # eth_getTransactionReceipt answers null (geth past
                                      # --txlookuplimit / --history.transactions)
    proxy.set(no_block_receipts=True) # eth_getBlockReceipts is a "method not found" error
                                      # (geth < 1.13 and some providers)
    proxy.reset()                     # back to a plain pass-through of backend 0
    proxy.counts["eth_getLogs"]       # calls seen per method (batch elements count);
                                      # "eth_getLogs(blockHash)" counts the EIP-234 form
    proxy.stop()

A block is "first seen" when the proxy first relays it: in any block object
it returns (eth_getBlockByNumber/Hash) or as a log's blockHash.

Building a fork for the flip / same-height tests: two anvils that share the
blocks below height h and differ from h on:

    a = Anvil()                                  # history: deploy, transfers ...
    a.mine(...)                                  # ... up to height h - 1
    b = Anvil(extra=["--fork-url", a.url, "--fork-block-number", str(h - 1)])
    # b serves a's blocks 0..h-1 (same hashes, fetched from a) and mines its
    # own blocks from h on; a keeps mining its own. Blocks at height >= h now
    # differ (different timestamps / transactions), e.g.
    a.transfer_token(token, addr, 1)             # block h on a: holds the deposit
    b.mine(1)                                    # block h on b: does not
    proxy = RpcProxy([a.url, b.url])             # A; set(backend=1) flips to B
Keep `a` running while `b` is used (b fetches the shared history from a).
The fork keeps a's chain id unless b is started with --chain-id.
"""
import http.client
import http.server
import json
import threading
import time
import urllib.parse
from collections import Counter

_BLOCK_METHODS = ("eth_getBlockByNumber", "eth_getBlockByHash")


class RpcProxy:
    def __init__(self, backends, port=0):
        self.backends = list(backends)
        self.lock = threading.Lock()
        self.counts = Counter()
        self.first_seen = {}  # block hash (lower case) -> monotonic time
        self.released = threading.Event()  # cleared while fail == "hang"
        self.reset()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                if self.path.rstrip("/") == "/control":
                    self._send(200, json.dumps(outer.state()).encode())
                else:
                    self._send(404, b"{}")

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.path.rstrip("/") == "/control":
                    try:
                        outer.set(**json.loads(body or b"{}"))
                    except (TypeError, ValueError) as e:
                        self._send(400, json.dumps({"error": str(e)}).encode())
                        return
                    self._send(200, json.dumps(outer.state()).encode())
                    return
                status, out = outer.handle(body)
                if status is None:  # "drop": close without an answer
                    self.close_connection = True
                    return
                self._send(status, out)

            def _send(self, status, out):
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.control_url = self.url + "/control"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- control --------------------------------------------------------

    def reset(self):
        with self.lock:
            self.backend = 0
            self.logs_lag = 0.0
            self.null_blocks_above = None
            self.delay = 0.0
            self.fail = None
            self.fail_methods = []
            self.routes = {}
            self.null_receipts = False
            self.no_block_receipts = False
            self.released.set()

    def set(self, backend=None, logs_lag=None, null_blocks_above=..., delay=None, fail=..., fail_methods=None,
            routes=None, null_receipts=None, no_block_receipts=None):
        with self.lock:
            if backend is not None:
                if not 0 <= int(backend) < len(self.backends):
                    raise ValueError(f"no backend {backend}")
                self.backend = int(backend)
            if logs_lag is not None:
                self.logs_lag = float(logs_lag)
            if null_blocks_above is not ...:
                self.null_blocks_above = None if null_blocks_above is None else int(null_blocks_above)
            if delay is not None:
                self.delay = float(delay)
            if fail is not ...:
                if fail not in (None, "http500", "drop", "error", "hang"):
                    raise ValueError(f"unknown failure {fail!r}")
                self.fail = fail
                if fail == "hang":
                    self.released.clear()
                else:
                    self.released.set()
            if fail_methods is not None:
                self.fail_methods = list(fail_methods)
            if routes is not None:
                for k, v in routes.items():
                    if not 0 <= int(v) < len(self.backends):
                        raise ValueError(f"no backend {v} for {k}")
                self.routes = {k: int(v) for k, v in routes.items()}
            if null_receipts is not None:
                self.null_receipts = bool(null_receipts)
            if no_block_receipts is not None:
                self.no_block_receipts = bool(no_block_receipts)

    def state(self):
        with self.lock:
            return {"backend": self.backend, "backends": self.backends, "logs_lag": self.logs_lag,
                    "null_blocks_above": self.null_blocks_above, "delay": self.delay, "fail": self.fail,
                    "fail_methods": self.fail_methods, "routes": self.routes, "null_receipts": self.null_receipts,
                    "no_block_receipts": self.no_block_receipts, "counts": dict(self.counts)}

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    # -- relaying -------------------------------------------------------

    def handle(self, body):
        try:
            req = json.loads(body)
        except ValueError:
            return 400, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}'
        calls = req if isinstance(req, list) else [req]
        with self.lock:
            backend = self.backends[self.backend]
            delay, fail, fail_methods = self.delay, self.fail, list(self.fail_methods)
            routes, no_block_receipts = dict(self.routes), self.no_block_receipts
            for c in calls:
                method = c.get("method", "?") if isinstance(c, dict) else "?"
                self.counts[method] += 1
                params = c.get("params") if isinstance(c, dict) else None
                if method == "eth_getLogs" and params and isinstance(params[0], dict) and "blockHash" in params[0]:
                    self.counts["eth_getLogs(blockHash)"] += 1
        if delay:
            time.sleep(delay)
        methods = [c.get("method") for c in calls if isinstance(c, dict)]
        if fail and (not fail_methods or any(m in fail_methods for m in methods)):
            if fail == "hang":
                self.released.wait()
                return None, b""
            if fail == "drop":
                return None, b""
            if fail == "http500":
                return 500, b'{"error":"proxy: injected failure"}'
            errs = [{"jsonrpc": "2.0", "id": c.get("id") if isinstance(c, dict) else None,
                     "error": {"code": -32000, "message": "proxy: injected failure"}} for c in calls]
            return 200, json.dumps(errs if isinstance(req, list) else errs[0]).encode()
        # Calls routed elsewhere or answered here: one by one, then one answer.
        if any(self._route(c, routes) is not None for c in calls) or (
                no_block_receipts and "eth_getBlockReceipts" in methods):
            answers = []
            for c in calls:
                if no_block_receipts and isinstance(c, dict) and c.get("method") == "eth_getBlockReceipts":
                    answers.append({"jsonrpc": "2.0", "id": c.get("id"), "error": {
                        "code": -32601, "message": "the method eth_getBlockReceipts does not exist/is not available"}})
                    continue
                i = self._route(c, routes)
                st, out = self.handle_one(self.backends[i] if i is not None else backend, c)
                if st != 200:
                    return st, out
                answers.append(out)
            return 200, json.dumps(answers if isinstance(req, list) else answers[0]).encode()
        return self._relay(backend, body, req, calls)

    @staticmethod
    def _route(call, routes):
        if not routes or not isinstance(call, dict):
            return None
        method, params = call.get("method"), call.get("params") or []
        if method == "eth_getBlockByNumber" and params and isinstance(params[0], str) and not params[0].startswith("0x"):
            tagged = f"{method}({params[0]})"
            if tagged in routes:
                return routes[tagged]
        return routes.get(method)

    def handle_one(self, backend, call):
        """One call relayed to `backend`: (status, answer object or raw body)."""
        st, raw = self._relay(backend, json.dumps(call).encode(), call, [call])
        if st != 200:
            return st, raw
        return 200, json.loads(raw)

    def _relay(self, backend, body, req, calls):
        # Rewrite requests a lagging backend could not answer from what it has.
        status, raw = self._forward(backend, body)
        if status != 200:
            return status, raw
        try:
            res = json.loads(raw)
        except ValueError:
            return status, raw
        answers = res if isinstance(res, list) else [res]
        by_id = {c.get("id"): c for c in calls if isinstance(c, dict)}
        for a in answers:
            if not isinstance(a, dict) or "result" not in a:
                continue
            c = by_id.get(a.get("id"))
            if c is not None:
                a["result"] = self._rewrite(c.get("method"), c.get("params") or [], a["result"])
        return 200, json.dumps(res).encode()

    def _forward(self, backend, body):
        u = urllib.parse.urlsplit(backend)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request("POST", u.path or "/", body, {"content-type": "application/json"})
            r = conn.getresponse()
            return r.status, r.read()
        except OSError as e:
            return 502, json.dumps({"error": f"proxy: backend {backend}: {e}"}).encode()
        finally:
            conn.close()

    def _seen(self, block_hash):
        h = block_hash.lower()
        now = time.monotonic()
        with self.lock:
            return self.first_seen.setdefault(h, now)

    def _rewrite(self, method, params, result):
        with self.lock:
            lag, above, null_receipts = self.logs_lag, self.null_blocks_above, self.null_receipts
        if method == "eth_getTransactionReceipt" and null_receipts:
            return None
        if method == "eth_blockNumber" and above is not None and isinstance(result, str):
            return hex(min(int(result, 16), above))
        if method in _BLOCK_METHODS and isinstance(result, dict):
            if above is not None and int(result.get("number", "0x0"), 16) > above:
                return None
            if result.get("hash"):
                self._seen(result["hash"])
            return result
        if method == "eth_getLogs" and isinstance(result, list):
            now = time.monotonic()
            kept = []
            for log in result:
                if above is not None and int(log.get("blockNumber", "0x0"), 16) > above:
                    continue
                first = self._seen(log.get("blockHash", ""))
                if lag and now - first < lag:
                    continue  # not indexed yet by this "backend"
                kept.append(log)
            return kept
        return result
