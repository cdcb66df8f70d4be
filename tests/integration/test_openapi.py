"""docs/openapi.yaml against the real daemon.

The file must describe every route the handler dispatches (route names read
from lib/api/*.cpp, mapped to paths below), and every answer of a realistic
session with the real depositd against a real anvil (bindings, deposits,
webhook events, orders, payment links, checkout, EPay, epusdt, errors) must be
declared by the file: the status for that operation, the content type, the
required headers and the body against the response schema. The JSON-Schema
validator is written here (standard library); it refuses keywords it does
not know, so a schema it cannot check fails instead of passing.
"""
import glob
import http.client
import json
import os
import re
import shutil
import socket
import tempfile
import time
import unittest
import urllib.parse

import yaml

from harness import API_KEY, SOURCE, Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until
from orders_shop import MERCHANT_KEY, MERCHANT_PID, Shop, epay_sign, epusdt_sign, orders_toml

SPEC = os.path.join(SOURCE, "docs", "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# The handler's route names (the `route` label of depositd_api_requests_total,
# set in lib/api/{handler,orders_routes,merchant_routes}.cpp) -> operations.
ROUTES = {
    "health": [("get", "/health")],
    "metrics": [("get", "/metrics")],
    "deposits.bind": [("post", "/api/v1/deposits/bind")],
    "deposits.unbind": [("post", "/api/v1/deposits/unbind")],
    "deposits.reference": [("get", "/api/v1/deposits/references/{ref}")],
    "deposits.list": [("get", "/api/v1/deposits")],
    "deposits.get": [("get", "/api/v1/deposits/{id}")],
    "deposits.recheck": [("post", "/api/v1/deposits/recheck")],
    "events.list": [("get", "/api/v1/events")],
    "events.get": [("get", "/api/v1/events/{id}")],
    "events.resend": [("post", "/api/v1/events/{id}/resend")],
    "orders.create": [("post", "/api/v1/orders")],
    "orders.list": [("get", "/api/v1/orders")],
    "orders.get": [("get", "/api/v1/orders/{id}")],
    "orders.mark_paid": [("post", "/api/v1/orders/{id}/mark-paid")],
    "audit.list": [("get", "/api/v1/audit")],
    "links.create": [("post", "/api/v1/payment-links")],
    "links.list": [("get", "/api/v1/payment-links")],
    "links.get": [("get", "/api/v1/payment-links/{id}")],
    "links.publish": [("post", "/api/v1/payment-links/{id}/publish")],
    "links.archive": [("post", "/api/v1/payment-links/{id}/archive")],
    "pay.page": [("get", "/pay/{id}")],
    "pay.status": [("get", "/pay/{id}/status")],
    "checkout": [("get", "/checkout/{slug}"), ("post", "/checkout/{slug}")],
    "epay.submit": [("get", "/submit.php"), ("post", "/submit.php")],
    "epay.mapi": [("get", "/mapi.php"), ("post", "/mapi.php")],
    "epay.api": [("get", "/api.php"), ("post", "/api.php")],
    "epusdt.create": [("post", "/api/v1/order/create-transaction")],
}
NOT_ROUTES = {"unknown", "unauthorized"}  # labels of answers outside any route

# Keywords the validator checks, and those that only annotate.
CHECKED = {"$ref", "type", "const", "enum", "properties", "required", "additionalProperties", "items", "minItems",
           "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum", "oneOf", "anyOf", "allOf"}
ANNOTATIONS = {"description", "examples", "example", "default", "title", "deprecated", "format"}


def load_spec():
    with open(SPEC, encoding="utf-8") as f:
        return yaml.safe_load(f)


class Invalid(AssertionError):
    pass


class SchemaValidator:
    """A small JSON-Schema (2020-12 subset) validator for the schemas of the file."""

    def __init__(self, doc):
        self.doc = doc

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise Invalid(f"only local $ref are supported: {ref}")
        node = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise Invalid(f"unresolvable $ref {ref}")
            node = node[part]
        return node

    def deref(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node and len(node) == 1:
            node = self.resolve(node["$ref"])
            seen += 1
            if seen > 20:
                raise Invalid("$ref loop")
        return node

    @staticmethod
    def type_ok(t, v):
        if t == "null":
            return v is None
        if t == "boolean":
            return isinstance(v, bool)
        if t == "integer":
            return isinstance(v, int) and not isinstance(v, bool)
        if t == "number":
            return isinstance(v, (int, float)) and not isinstance(v, bool)
        if t == "string":
            return isinstance(v, str)
        if t == "array":
            return isinstance(v, list)
        if t == "object":
            return isinstance(v, dict)
        raise Invalid(f"unknown type {t!r}")

    def errors(self, schema, v, at="$"):
        """Every way `v` fails `schema` (empty: valid)."""
        if schema is True or schema == {}:
            return []
        if schema is False:
            return [f"{at}: no value is allowed here"]
        unknown = set(schema) - CHECKED - ANNOTATIONS
        if unknown:
            raise Invalid(f"{at}: the validator does not know keyword(s) {sorted(unknown)}")
        errs = []
        if "$ref" in schema:
            errs += self.errors(self.resolve(schema["$ref"]), v, at)
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(self.type_ok(t, v) for t in types):
                return errs + [f"{at}: {json.dumps(v)[:80]} is not of type {types}"]
        if "const" in schema and not (v == schema["const"] and type(v) is type(schema["const"])):
            errs.append(f"{at}: {v!r} is not {schema['const']!r}")
        if "enum" in schema and not any(v == e and type(v) is type(e) for e in schema["enum"]):
            errs.append(f"{at}: {v!r} is not one of {schema['enum']}")
        if isinstance(v, str):
            if "minLength" in schema and len(v) < schema["minLength"]:
                errs.append(f"{at}: shorter than {schema['minLength']}")
            if "maxLength" in schema and len(v) > schema["maxLength"]:
                errs.append(f"{at}: longer than {schema['maxLength']}")
            if "pattern" in schema and not re.search(schema["pattern"], v):
                errs.append(f"{at}: {v[:80]!r} does not match {schema['pattern']!r}")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if "minimum" in schema and v < schema["minimum"]:
                errs.append(f"{at}: {v} < {schema['minimum']}")
            if "maximum" in schema and v > schema["maximum"]:
                errs.append(f"{at}: {v} > {schema['maximum']}")
        if isinstance(v, dict):
            props = schema.get("properties", {})
            for k in schema.get("required", []):
                if k not in v:
                    errs.append(f"{at}: required property {k!r} is missing")
            for k, item in v.items():
                if k in props:
                    errs += self.errors(props[k], item, f"{at}.{k}")
                elif "additionalProperties" in schema:
                    ap = schema["additionalProperties"]
                    if ap is False:
                        errs.append(f"{at}: property {k!r} is not in the schema (additionalProperties: false)")
                    elif isinstance(ap, dict):
                        errs += self.errors(ap, item, f"{at}.{k}")
        if isinstance(v, list):
            if "minItems" in schema and len(v) < schema["minItems"]:
                errs.append(f"{at}: fewer than {schema['minItems']} items")
            if "maxItems" in schema and len(v) > schema["maxItems"]:
                errs.append(f"{at}: more than {schema['maxItems']} items")
            if "items" in schema:
                for i, item in enumerate(v):
                    errs += self.errors(schema["items"], item, f"{at}[{i}]")
        for sub in schema.get("allOf", []):
            errs += self.errors(sub, v, at)
        if "anyOf" in schema:
            results = [self.errors(sub, v, at) for sub in schema["anyOf"]]
            if all(results):
                errs.append(f"{at}: matches none of anyOf: " + " | ".join("; ".join(r[:2]) for r in results))
        if "oneOf" in schema:
            results = [self.errors(sub, v, at) for sub in schema["oneOf"]]
            ok = sum(1 for r in results if not r)
            if ok != 1:
                detail = " | ".join("; ".join(r[:2]) for r in results) if ok == 0 else f"{ok} alternatives match"
                errs.append(f"{at}: must match exactly one of oneOf ({detail})")
        return errs

    def validate(self, schema, v, what="value"):
        errs = self.errors(schema, v)
        if errs:
            raise Invalid(f"{what} does not match the schema:\n  " + "\n  ".join(errs[:12]))


class Answer:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # lower-case names
        self.raw = raw
        self.body = None  # parsed JSON, or text

    def json(self):
        return self.body


class OpenApiChecker:
    """Matches a request to the file's operation and checks the answer."""

    def __init__(self, doc):
        self.doc = doc
        self.v = SchemaValidator(doc)
        self.exercised = {}  # (method, path) -> set of statuses seen

    def match_path(self, path):
        segs = path.split("/")[1:]
        best, best_literals = None, -1
        for template in self.doc["paths"]:
            tsegs = template.split("/")[1:]
            if len(tsegs) != len(segs):
                continue
            literals = 0
            for t, s in zip(tsegs, segs):
                if t.startswith("{") and t.endswith("}"):
                    if s == "":
                        break
                elif t != urllib.parse.unquote(s):
                    break
                else:
                    literals += 1
            else:
                if literals > best_literals:
                    best, best_literals = template, literals
        return best

    def response_spec(self, responses, status):
        spec = responses.get(str(status))
        if spec is None:
            raise Invalid(f"status {status} is not declared (declared: {sorted(responses)})")
        return self.v.deref(spec)

    def check_response(self, rspec, ans, what):
        for name, h in (rspec.get("headers") or {}).items():
            h = self.v.deref(h)
            value = ans.headers.get(name.lower())
            if h.get("required") and value is None:
                raise Invalid(f"{what}: required header {name} is missing")
            if value is not None and "schema" in h:
                self.v.validate(h["schema"], value, f"{what}: header {name}")
        content = rspec.get("content") or {}
        if not content:
            if ans.raw:
                raise Invalid(f"{what}: a body that the file does not declare")
            return
        ctype = ans.headers.get("content-type", "")
        essence = ctype.split(";")[0].strip().lower()
        media = None
        for key, m in content.items():
            if key.split(";")[0].strip().lower() == essence:
                media = m
        if media is None:
            raise Invalid(f"{what}: content type {ctype!r} is not declared (declared: {sorted(content)})")
        if essence == "application/json":
            try:
                ans.body = json.loads(ans.raw)
            except ValueError as e:
                raise Invalid(f"{what}: the body is not JSON ({e}): {ans.raw[:200]!r}") from e
        else:
            ans.body = ans.raw.decode("utf-8")
        self.v.validate(media.get("schema", {}), ans.body, f"{what} body")

    def check(self, method, target, ans, request_body=None):
        """Checks `ans` against the file; returns the parsed body."""
        path = target.split("?", 1)[0]
        what = f"{method} {target[:100]} -> {ans.status}"
        template = self.match_path(path)
        comps = self.doc["components"]["responses"]
        if template is None:
            # Outside every path: 404 NotFound, or 401 first under /api/.
            if ans.status == 401 and path.startswith("/api/"):
                self.check_response(self.v.deref(comps["Unauthorized"]), ans, what)
            elif ans.status == 404:
                self.check_response(self.v.deref(comps["NotFound"]), ans, what)
            else:
                raise Invalid(f"{what}: a path the file does not have answered {ans.status}")
            return ans.body
        item = self.doc["paths"][template]
        declared = [m for m in METHODS if m in item]
        m = method.lower()
        op_method = "get" if m == "head" and "head" not in item else m
        if op_method not in item:
            if ans.status == 401 and path.startswith("/api/") and ans.headers.get("www-authenticate"):
                self.check_response(self.v.deref(comps["Unauthorized"]), ans, what)
                return ans.body
            if ans.status != 405:
                raise Invalid(f"{what}: {method} is not declared for {template} but the answer is not 405")
            self.check_response(self.v.deref(comps["MethodNotAllowed"]), ans, what)
            allow = {a.strip().lower() for a in ans.headers["allow"].split(",")}
            if allow != set(declared):
                raise Invalid(f"{what}: Allow {ans.headers['allow']!r} but the file declares {declared}")
            self.exercised.setdefault(("405", template), set()).add(405)
            return ans.body
        op = item[op_method]
        if request_body is not None and "requestBody" in op:
            media = op["requestBody"]["content"].get("application/json")
            if media is not None:
                self.v.validate(media["schema"], request_body, f"{what}: the request body sent")
        rspec = self.response_spec(op["responses"], ans.status)
        if m == "head":
            if ans.raw:
                raise Invalid(f"{what}: HEAD answered with a body")
        else:
            self.check_response(rspec, ans, what)
        self.exercised.setdefault((op_method, template), set()).add(ans.status)
        return ans.body


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes, reads until the server closes; (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            chunks.append(b)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


class OpenApiContract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = load_spec()

    # --- The file itself --------------------------------------------------------

    def test_file_is_openapi_31_with_every_route_of_the_handler(self):
        doc = self.doc
        self.assertRegex(doc["openapi"], r"^3\.1\.\d+$")
        for key in ("info", "paths", "components"):
            self.assertIn(key, doc)
        # Route names in the source, including the prefixes of names built at run time.
        names, prefixes = set(), set()
        for src in glob.glob(os.path.join(SOURCE, "lib", "api", "*.cpp")):
            with open(src, encoding="utf-8") as f:
                for line in f:
                    if re.search(r"\broute\s*=[^=]", line):
                        for n in re.findall(r'"([a-z_.]+)"', line):
                            (prefixes if n.endswith(".") else names).add(n)
        self.assertGreater(len(names), 15, "the route names were not found in lib/api")
        for n in names - NOT_ROUTES:
            self.assertIn(n, ROUTES, f"route {n!r} of lib/api is not mapped to a path in this test")
        for p in prefixes:
            self.assertTrue(any(k.startswith(p) for k in ROUTES), f"route prefix {p!r} has no route here")
        for n in ROUTES:
            self.assertTrue(n in names or any(n.startswith(p) for p in prefixes),
                            f"route {n!r} is no longer in lib/api")
        # Every route's operation is in the file, and the file has nothing else.
        mapped = {op for ops in ROUTES.values() for op in ops}
        for method, path in sorted(mapped):
            self.assertIn(path, doc["paths"], f"{path} is missing from docs/openapi.yaml")
            self.assertIn(method, doc["paths"][path], f"{method.upper()} {path} is missing from docs/openapi.yaml")
        documented = {(m, p) for p, item in doc["paths"].items() for m in METHODS if m in item}
        self.assertEqual(documented - mapped, set(), "operations in the file that the handler does not serve")
        ids = [op["operationId"] for p, item in doc["paths"].items() for m, op in item.items() if m in METHODS]
        self.assertEqual(len(ids), len(set(ids)), "operationIds must be unique")
        # Every $ref resolves, every example matches its schema.
        v = SchemaValidator(doc)

        def walk(node, at):
            if isinstance(node, dict):
                if "$ref" in node:
                    v.resolve(node["$ref"])
                for k, x in node.items():
                    walk(x, f"{at}/{k}")
            elif isinstance(node, list):
                for i, x in enumerate(node):
                    walk(x, f"{at}/{i}")
        walk(doc, "#")
        checked = 0
        for name, schema in doc["components"]["schemas"].items():
            for ex in schema.get("examples", []) if isinstance(schema, dict) else []:
                v.validate(schema, ex, f"example of {name}")
                checked += 1
        for p, item in doc["paths"].items():
            for m in METHODS:
                body = (item.get(m) or {}).get("requestBody")
                for media in (body or {}).get("content", {}).values():
                    if "example" in media:
                        v.validate(media["schema"], media["example"], f"request example of {m} {p}")
                        checked += 1
        self.assertGreater(checked, 8)

    def test_validator_rejects_what_does_not_match(self):
        v = SchemaValidator(self.doc)
        dep = dict(self.doc["components"]["schemas"]["Deposit"]["examples"][0])
        ref = {"$ref": "#/components/schemas/Deposit"}
        v.validate(ref, dep)
        bad = [
            {**dep, "amount": 125.5},                     # a float for money
            {k: x for k, x in dep.items() if k != "txHash"},  # a required field missing
            {**dep, "surprise": 1},                        # additionalProperties: false
            {**dep, "status": "lost"},                     # enum
            {**dep, "blockNumber": None},                  # null where the type has no null
            {**dep, "decimals": True},                     # a boolean is no integer
            {**dep, "id": "ord_1"},                        # pattern
        ]
        for b in bad:
            with self.assertRaises(Invalid, msg=json.dumps(b)[:200]):
                v.validate(ref, b)
        env = {"$ref": "#/components/schemas/NotFoundError"}
        v.validate(env, {"success": False, "error": "NotFound", "message": "x"})
        with self.assertRaises(Invalid):
            v.validate(env, {"success": False, "error": "Conflict", "message": "x"})  # allOf + const
        with self.assertRaises(Invalid):  # oneOf: neither EPay shape
            v.validate(self.doc["components"]["responses"]["EpayMapiAnswer"]["content"]["application/json"]["schema"],
                       {"code": 1, "msg": "ok"})
        with self.assertRaises(Invalid):  # a keyword the validator cannot check is an error, not a pass
            v.validate({"type": "string", "format": "x", "multipleOf": 2}, "a")
        # The checker refuses an answer whose status or content type the file does not declare.
        c = OpenApiChecker(self.doc)
        body = json.dumps({"success": False, "error": "NotFound", "message": "x"}).encode()
        with self.assertRaises(Invalid):
            c.check("GET", "/health", Answer(404, {"content-type": "application/json"}, body))
        with self.assertRaises(Invalid):
            c.check("GET", "/api/v1/deposits/dep_x", Answer(404, {"content-type": "text/html"}, body))
        c.check("GET", "/api/v1/deposits/dep_x", Answer(404, {"content-type": "application/json"}, body))

    # --- The real daemon --------------------------------------------------------------

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="depositd-openapi-")
        self.cleanups = []

    def tearDown(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(self.work, ignore_errors=True)

    def start(self):
        self.node = Anvil()
        self.cleanups.append(self.node.stop)
        self.token = self.node.deploy_token()
        self.hook = Receiver()
        self.cleanups.append(self.hook.stop)
        self.shop = Shop()
        self.cleanups.append(self.shop.stop)
        d = Daemon(self.work, evm_chain_block("local", self.node.url, self.token, confirmations=2),
                   webhook_url=self.hook.url, extra=orders_toml())
        with open(d.config, encoding="utf-8") as f:
            text = f.read()
        # A small per-client cap so that the 503 of a connection over it can be shown.
        text = text.replace(f'keys = ["{API_KEY}"]\n', f'keys = ["{API_KEY}"]\nmax_connections_per_client = 6\n', 1)
        with open(d.config, "w", encoding="utf-8") as f:
            f.write(text)
        self.cleanups.append(d.stop)
        d.import_addresses(pool_addresses(12, seed=77))
        d.start()
        self.d = d
        self.c = OpenApiChecker(self.doc)

    def call(self, method, target, body=None, *, auth=True, headers=None, form=None, raw=None, expect=None,
             key=API_KEY, check_request=None):
        """One request on its own connection, checked against the file."""
        hdrs = dict(headers or {})
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if auth:
            hdrs.setdefault("Authorization", f"Bearer {key}")
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=15)
        try:
            conn.request(method, target, body=data, headers=hdrs)
            r = conn.getresponse()
            ans = Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()
        if expect is not None:
            self.assertEqual(ans.status, expect, f"{method} {target}: {ans.raw[:300]!r}")
        sent = body if (check_request if check_request is not None else (expect is not None and expect < 300)) else None
        self.c.check(method, target, ans, request_body=sent)
        return ans.body

    def get(self, target, **kw):
        return self.call("GET", target, **kw)

    def post(self, target, body=None, **kw):
        return self.call("POST", target, body, **kw)

    def epay_params(self, **over):
        p = {"pid": str(MERCHANT_PID), "type": "usdt.local", "out_trade_no": "SHOP-7",
             "notify_url": self.shop.base + "/epay/notify", "return_url": self.shop.base + "/return",
             "name": "VIP", "money": "70.00", "sitename": "Shop", "param": "p1"}
        p.update(over)
        p = {k: x for k, x in p.items() if x is not None}
        p["sign"] = epay_sign(p)
        p["sign_type"] = "MD5"
        return p

    def pay(self, address, raw):
        self.node.transfer_token(self.token, address, raw)

    def wait_order(self, oid, status, timeout=30):
        return wait_until(lambda: self.get(f"/api/v1/orders/{oid}", expect=200)["data"]["status"] == status,
                          timeout=timeout, what=f"order {oid} {status}")

    def test_every_answer_of_a_session_matches_the_file(self):
        started = time.monotonic()
        self.start()
        d = self.d

        # --- operations, auth, unknown paths ---------------------------------------
        h = self.get("/health", auth=False, expect=200)
        self.assertEqual([c["chainId"] for c in h["chains"]], ["local"])
        self.get("/metrics", auth=False, expect=200)
        self.call("POST", "/health", auth=False, expect=405)
        self.call("DELETE", "/metrics", auth=False, expect=405)
        self.get("/api/v1/deposits", auth=False, expect=401)
        self.get("/api/v1/deposits", key="wrong-key", expect=401)
        self.get("/api/v2/anything", auth=False, expect=401)
        self.get("/api/v2/anything", expect=404)
        self.get("/nothing/here", auth=False, expect=404)

        # --- bindings ---------------------------------------------------------------
        bound = self.post("/api/v1/deposits/bind",
                          {"depositReference": "player_1", "protocol": "evm", "metadata": {"userId": 1}}, expect=201)
        addr = bound["data"]["address"]
        again = self.post("/api/v1/deposits/bind", {"depositReference": "player_1", "protocol": "evm"}, expect=200)
        self.assertEqual(again["data"]["address"], addr)
        self.post("/api/v1/deposits/bind", {"depositReference": "player_2", "protocol": "evm"}, expect=201)
        self.post("/api/v1/deposits/bind", raw="{not json", expect=400)
        self.post("/api/v1/deposits/bind", raw="[1, 2]", expect=400)
        self.post("/api/v1/deposits/bind", {"depositReference": "player_1"}, expect=400)
        self.post("/api/v1/deposits/bind", {"depositReference": "bad ref", "protocol": "evm"}, expect=400)
        self.post("/api/v1/deposits/bind", {"depositReference": "p", "protocol": "dogecoin"}, expect=400)
        self.post("/api/v1/deposits/bind", {"depositReference": "player_1", "protocol": "tron"}, expect=409)
        self.get("/api/v1/deposits/bind", expect=405)
        self.post("/api/v1/deposits/bind", raw=b"x" * (70 * 1024), expect=413)

        # --- deposits on the chain ----------------------------------------------------
        self.pay(addr, 125_500_000)
        self.node.send_eth(addr, 10**16)
        self.pay(addr, 1_000_001)
        self.node.mine(3)
        wait_until(lambda: self.get("/api/v1/deposits?status=confirmed", expect=200)["data"]["pagination"]["total"] >= 3,
                   timeout=30, what="three confirmed deposits")
        page1 = self.get("/api/v1/deposits?limit=1&depositReference=player_1", expect=200)["data"]
        self.assertEqual(len(page1["deposits"]), 1)
        cursor = page1["pagination"]["nextCursor"]
        self.assertIsInstance(cursor, str)
        page2 = self.get(f"/api/v1/deposits?limit=2&depositReference=player_1&cursor={cursor}", expect=200)["data"]
        self.assertEqual(page2["pagination"]["page"], 2)
        self.assertIsNone(page2["pagination"]["nextCursor"])
        self.get("/api/v1/deposits?cursor=garbage", expect=400)
        self.get(f"/api/v1/deposits?limit=1&depositReference=player_1&cursor={cursor}&page=2", expect=400)
        self.get("/api/v1/deposits?page=0", expect=400)
        self.get("/api/v1/deposits?status=lost", expect=400)
        self.get("/api/v1/deposits?page=99", expect=200)
        dep = page1["deposits"][0]
        self.assertEqual(self.get(f"/api/v1/deposits/{dep['id']}", expect=200)["data"]["id"], dep["id"])
        self.get("/api/v1/deposits/dep_doesnotexist", expect=404)
        # Re-check (SPEC §10): the deposit's own transaction is recorded already.
        rc = self.post("/api/v1/deposits/recheck", {"chainId": dep["chainId"], "txHash": dep["txHash"]},
                       expect=200)["data"]
        self.assertEqual(rc["recorded"], 0)
        self.post("/api/v1/deposits/recheck", {"chainId": dep["chainId"], "txHash": "0x" + "ab" * 32}, expect=404)
        self.post("/api/v1/deposits/recheck", {"chainId": dep["chainId"], "txHash": "0x12"}, expect=400)
        self.post("/api/v1/deposits/recheck", {"chainId": "nowhere", "txHash": dep["txHash"]}, expect=400)
        self.call("DELETE", f"/api/v1/deposits/{dep['id']}", expect=405)
        ref = self.get("/api/v1/deposits/references/player_1", expect=200)["data"]
        self.assertEqual(ref["totalDeposits"], 3)
        self.get("/api/v1/deposits/references/player_1?protocol=evm", expect=200)
        self.get("/api/v1/deposits/references/player_1?protocol=tron", expect=404)
        self.get("/api/v1/deposits/references/nobody", expect=404)
        self.get("/api/v1/deposits/references/bad%20ref", expect=400)
        self.get("/api/v1/deposits/references/player_1?protocol=x", expect=400)

        # --- orders -------------------------------------------------------------------------
        o = self.post("/api/v1/orders", {"orderId": "API-1", "amount": "3", "pay": "usdt.local",
                                         "redirectUrl": "https://shop.example/thanks", "metadata": {"cart": 7}},
                      expect=201)["data"]
        self.post("/api/v1/orders", {"orderId": "API-1", "amount": "3", "pay": "usdt.local"}, expect=200)
        fiat = self.post("/api/v1/orders", {"orderId": "API-2", "amount": "70", "fiat": "CNY"}, expect=201)["data"]
        self.assertEqual(fiat["fiatCurrency"], "CNY")
        short = self.post("/api/v1/orders", {"orderId": "API-3", "amount": "1", "expiresIn": 1}, expect=201)["data"]
        self.post("/api/v1/orders", {"orderId": "API-4", "amount": 3}, expect=400)
        self.post("/api/v1/orders", {"orderId": "API-4", "amount": "3", "pay": "doge.nowhere"}, expect=400)
        self.post("/api/v1/orders", {"amount": "3"}, expect=400)
        self.call("PUT", "/api/v1/orders", {"orderId": "x"}, expect=405)
        self.get(f"/api/v1/orders/{o['id']}", expect=200)
        self.get("/api/v1/orders/ord_doesnotexist", expect=404)
        self.get("/api/v1/orders?status=waiting&limit=2", expect=200)
        self.get("/api/v1/orders?orderId=API-1", expect=200)
        self.get("/api/v1/orders?status=nope", expect=400)
        self.pay(o["address"], 3_000_000)
        self.node.mine(2)

        # --- the payment page -----------------------------------------------------------------
        page = self.get(f"/pay/{o['id']}", auth=False, expect=200)
        self.assertIn(o["address"], page)
        self.get(f"/pay/{o['id']}?lang=zh", auth=False, expect=200)
        self.get(f"/pay/{o['id']}", auth=False, headers={"Accept-Language": "zh-CN,zh;q=0.9"}, expect=200)
        self.call("HEAD", f"/pay/{o['id']}", auth=False, expect=200)
        self.get("/pay/ord_doesnotexist", auth=False, expect=404)
        self.get("/pay/not!plausible", auth=False, expect=404)
        self.call("POST", f"/pay/{o['id']}", auth=False, expect=405)
        st = self.get(f"/pay/{o['id']}/status", auth=False, expect=200)
        self.assertEqual(st["currency"], "USDT")
        self.get("/pay/ord_doesnotexist/status", auth=False, expect=404)
        self.call("DELETE", f"/pay/{o['id']}/status", auth=False, expect=405)

        # --- payment links and checkout ---------------------------------------------------------
        fixed = self.post("/api/v1/payment-links", {"title": "Fixed", "amount": "5",
                                                    "currencies": [{"currency": "USDT", "chainId": "local"}],
                                                    "inventoryTotal": 10}, expect=201)["data"]
        open_ = self.post("/api/v1/payment-links", {"title": "Tip jar", "description": "Thanks", "amount": "0",
                                                    "currencies": [{"currency": "USDT", "chainId": "local"},
                                                                   {"currency": "ETH", "chainId": "local"}],
                                                    "expiresAt": "2099-01-01T00:00:00Z", "metadata": {"k": "v"}},
                          expect=201)["data"]
        self.post("/api/v1/payment-links", {"title": "No currencies", "amount": "5"}, expect=400)
        self.post("/api/v1/payment-links", {"title": "Bad", "amount": "5",
                                            "currencies": [{"currency": "DOGE", "chainId": "local"}]}, expect=400)
        slug = fixed["slug"]
        self.get(f"/checkout/{slug}", auth=False, expect=404)  # a draft
        self.post(f"/api/v1/payment-links/{fixed['id']}/publish", expect=200)
        self.post(f"/api/v1/payment-links/{open_['id']}/publish", expect=200)
        self.get(f"/api/v1/payment-links/{fixed['id']}/publish", expect=405)
        self.get(f"/api/v1/payment-links/{fixed['id']}", expect=200)
        self.get("/api/v1/payment-links/plink_doesnotexist", expect=404)
        self.post("/api/v1/payment-links/plink_doesnotexist/archive", expect=404)
        self.get("/api/v1/payment-links?status=active", expect=200)
        self.get("/api/v1/payment-links?status=lost", expect=400)
        self.call("DELETE", "/api/v1/payment-links", expect=405)
        self.get(f"/checkout/{slug}", auth=False, expect=200)  # a GET never creates an order
        self.post(f"/checkout/{slug}", auth=False, form={"pay": "usdt.local"}, expect=303)
        self.get(f"/checkout/{open_['slug']}", auth=False, expect=200)
        self.post(f"/checkout/{open_['slug']}", auth=False, form={"pay": "usdt.local", "amount": "abc"}, expect=400)
        self.post(f"/checkout/{open_['slug']}", auth=False, form={"pay": "usdt.local", "amount": "2"}, expect=303)
        self.get(f"/checkout/{open_['slug']}?pay=eth.local&amount=0.001", auth=False, expect=200)
        self.post(f"/checkout/{open_['slug']}", auth=False, form={"pay": "eth.local", "amount": "0.001"}, expect=303)
        # This client now holds [orders].open_per_client (3) open checkout orders.
        self.post(f"/checkout/{open_['slug']}", auth=False, form={"pay": "eth.local", "amount": "0.002"}, expect=429)
        self.post(f"/api/v1/payment-links/{fixed['id']}/archive", expect=200)
        self.post(f"/api/v1/payment-links/{fixed['id']}/publish", expect=409)
        self.get(f"/checkout/{slug}", auth=False, expect=410)
        self.get("/checkout/doesnotexist", auth=False, expect=404)
        self.call("PUT", f"/checkout/{slug}", auth=False, expect=405)

        # --- EPay ------------------------------------------------------------------------------------
        p = self.epay_params()
        self.get("/submit.php?" + urllib.parse.urlencode(p), auth=False, expect=302)
        self.post("/submit.php", auth=False, form=p, expect=302)  # the same order again
        self.get("/submit.php?" + urllib.parse.urlencode({**p, "sign": "0" * 32}), auth=False, expect=400)
        self.get("/submit.php?" + urllib.parse.urlencode(self.epay_params(money="0")), auth=False, expect=400)
        m = self.post("/mapi.php", auth=False, form=p, expect=200)
        self.assertEqual(m["code"], 1)
        self.assertEqual(self.post("/mapi.php", auth=False, form={**p, "pid": "1"}, expect=200)["code"], -1)
        self.assertEqual(self.get("/mapi.php?" + urllib.parse.urlencode(p), auth=False, expect=200)["code"], 1)
        q = {"act": "order", "pid": str(MERCHANT_PID), "key": MERCHANT_KEY, "out_trade_no": "SHOP-7"}
        self.assertEqual(self.get("/api.php?" + urllib.parse.urlencode(q), auth=False, expect=200)["status"], 0)
        self.assertEqual(self.post("/api.php?" + urllib.parse.urlencode(q), auth=False, expect=200)["code"], 1)
        self.assertEqual(self.get("/api.php?" + urllib.parse.urlencode({**q, "key": "x"}), auth=False,
                                  expect=200)["code"], -3)
        self.assertEqual(self.get("/api.php?" + urllib.parse.urlencode({**q, "out_trade_no": ""}), auth=False,
                                  expect=200)["code"], -4)
        self.assertEqual(self.get("/api.php?" + urllib.parse.urlencode({**q, "out_trade_no": "NOPE"}), auth=False,
                                  expect=200)["code"], -1)
        self.call("PUT", "/submit.php", auth=False, expect=405)
        self.call("DELETE", "/mapi.php", auth=False, expect=405)
        self.call("DELETE", "/api.php", auth=False, expect=405)
        epay_order = self.get(f"/api/v1/orders/{m['trade_no']}", expect=200)["data"]
        self.pay(epay_order["address"], 10_000_000)

        # --- epusdt ----------------------------------------------------------------------------------
        body = {"order_id": "EP-1", "amount": 14, "notify_url": self.shop.base + "/epusdt/notify",
                "redirect_url": "https://shop.example/done"}
        body["signature"] = epusdt_sign(body)
        e = self.post("/api/v1/order/create-transaction", body, auth=False, expect=200)
        self.assertEqual(e["status_code"], 200, e)
        self.assertEqual(self.post("/api/v1/order/create-transaction", {**body, "signature": "0" * 32}, auth=False,
                                   expect=200, check_request=False)["status_code"], 401)
        self.assertEqual(self.post("/api/v1/order/create-transaction", raw="{", auth=False, expect=200)["status_code"],
                         400)
        bad = {"order_id": "EP-2", "amount": 14, "notify_url": "ftp://x"}
        bad["signature"] = epusdt_sign(bad)
        self.assertEqual(self.post("/api/v1/order/create-transaction", bad, auth=False, expect=200,
                                   check_request=False)["status_code"], 400)
        self.get("/api/v1/order/create-transaction", auth=False, expect=405)
        self.pay(e["data"]["token"], int(round(e["data"]["actual_amount"] * 10**6)))
        self.node.mine(3)

        # --- everything settles: completed orders, merchant notifications, events --------------------
        self.wait_order(o["id"], "completed")
        self.wait_order(epay_order["id"], "completed")
        self.wait_order(e["data"]["trade_id"], "completed")
        self.wait_order(short["id"], "expired")
        done = self.get(f"/api/v1/orders/{o['id']}", expect=200)["data"]
        self.assertEqual(len(done["deposits"]), 1)
        st = self.get(f"/pay/{o['id']}/status", auth=False, expect=200)
        self.assertEqual(st["redirectUrl"], "https://shop.example/thanks")
        self.get(f"/pay/{o['id']}", auth=False, expect=200)
        queried = self.get("/api.php?" + urllib.parse.urlencode(q), auth=False, expect=200)
        self.assertEqual(queried["status"], 1)
        self.assertIsInstance(queried["endtime"], str)
        types = ("deposit.pending", "deposit.confirmed", "order.paid", "order.completed", "order.expired",
                 "epay.notify", "epusdt.callback")

        def all_types_delivered():
            evs = self.get("/api/v1/events?limit=100", expect=200)["data"]["events"]
            seen = {ev["type"] for ev in evs if ev["status"] == "delivered"}
            return set(types) <= seen and evs
        events = wait_until(all_types_delivered, timeout=30, what="every event type delivered")
        for t in types:
            self.get(f"/api/v1/events?type={t}&status=delivered&limit=1", expect=200)
        for ev in {ev["type"]: ev for ev in events}.values():
            self.get(f"/api/v1/events/{ev['id']}", expect=200)
        self.post(f"/api/v1/events/{events[0]['id']}/resend", expect=200)
        self.get(f"/api/v1/events/{events[0]['id']}/resend", expect=405)
        self.get("/api/v1/events/evt_doesnotexist", expect=404)
        self.post("/api/v1/events/evt_doesnotexist/resend", expect=404)
        self.get("/api/v1/events?status=lost", expect=400)
        self.get("/api/v1/events?type=nope", expect=400)
        self.get("/api/v1/events?limit=101", expect=400)
        self.get("/api/v1/links?x=1", expect=404)

        # --- an order settled by hand, and the audit log -----------------------------------------------
        manual = self.post("/api/v1/orders", {"orderId": "API-9", "amount": "2"}, expect=201)["data"]
        self.post(f"/api/v1/orders/{manual['id']}/mark-paid", {}, expect=400)
        self.post(f"/api/v1/orders/{manual['id']}/mark-paid", {"reason": "x", "paid": True}, expect=400)
        settled = self.post(f"/api/v1/orders/{manual['id']}/mark-paid", {"reason": "paid by bank transfer"},
                            expect=200)["data"]
        self.assertEqual((settled["status"], settled["manual"]), ("completed", True))
        self.post(f"/api/v1/orders/{manual['id']}/mark-paid", {"reason": "again"}, expect=409)
        self.post("/api/v1/orders/ord_doesnotexist/mark-paid", {"reason": "x"}, expect=404)
        self.get(f"/api/v1/orders/{manual['id']}/mark-paid", expect=405)
        audit = self.get("/api/v1/audit?limit=2", expect=200)["data"]
        self.assertEqual(len(audit["entries"]), 2)
        self.assertEqual(audit["entries"][0]["action"], "order.mark_paid")
        self.get(f"/api/v1/audit?cursor={audit['pagination']['nextCursor']}", expect=200)
        mine = self.get(f"/api/v1/audit?action=order.mark_paid&target={manual['id']}&actor=key%231", expect=200)
        self.assertEqual(len(mine["data"]["entries"]), 1)
        self.get("/api/v1/audit?action=nope", expect=400)
        self.get("/api/v1/audit?cursor=x", expect=400)
        self.call("POST", "/api/v1/audit", expect=405)

        # --- unbind ----------------------------------------------------------------------------------
        self.post("/api/v1/deposits/unbind", {"depositReference": "player_2", "protocol": "evm"}, expect=200)
        self.post("/api/v1/deposits/unbind", {"depositReference": "player_2"}, expect=404)
        self.post("/api/v1/deposits/unbind", {"protocol": "evm"}, expect=400)
        self.get("/api/v1/deposits/unbind", expect=405)

        # --- answers of the server itself -------------------------------------------------------------
        for target in ("/pay/%zz", "/api/v1/deposits?status=%zz"):
            s, hd, b = raw_exchange(d.port, f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
                                            "Connection: close\r\n\r\n".encode())
            self.assertEqual(s, 400, b)
            self.c.check("GET", target, Answer(s, hd, b))
        s, hd, b = raw_exchange(d.port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20000 + b"\r\n\r\n")
        self.assertEqual(s, 431, b)
        self.c.check("GET", "/health", Answer(s, hd, b))
        # HEAD: the same headers as GET, no body (the next answer on the connection must not be mixed in).
        s, hd, b = raw_exchange(d.port, f"HEAD /pay/{o['id']} HTTP/1.1\r\nHost: x\r\n\r\n"
                                        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        self.assertEqual(s, 200)
        self.assertTrue(b.startswith(b"HTTP/1.1 200"), f"HEAD answered with a body: {b[:80]!r}")
        # A connection over max_connections_per_client: 503 with Retry-After, then closed.
        idle = [socket.create_connection(("127.0.0.1", d.port), timeout=5) for _ in range(6)]
        try:
            time.sleep(0.3)
            s, hd, b = raw_exchange(d.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(s, 503, b)
            self.c.check("GET", "/health", Answer(s, hd, b))
            s, hd, b = raw_exchange(d.port, f"GET /api/v1/orders HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            self.assertEqual(s, 503, b)
            self.c.check("GET", "/api/v1/orders", Answer(s, hd, b))
        finally:
            for sock in idle:
                sock.close()
        wait_until(lambda: self.get("/health", auth=False)["status"] in ("ok", "degraded"), timeout=10,
                   what="the connections freed")

        # --- coverage: every operation of the file was answered, every route was counted -------------
        documented = {(m, p) for p, item in self.doc["paths"].items() for m in METHODS if m in item}
        self.assertEqual(documented - set(self.c.exercised), set(), "operations this session never checked")
        text = self.get("/metrics", auth=False, expect=200)
        counted = set(re.findall(r'depositd_api_requests_total\{[^}]*route="([^"]+)"', text))
        self.assertEqual(counted - set(ROUTES) - NOT_ROUTES, set(), "routes the daemon counted that are not mapped")
        self.assertEqual(set(ROUTES) - counted, set(), "routes this session never reached")
        self.assertLess(time.monotonic() - started, 120)


if __name__ == "__main__":
    unittest.main()
