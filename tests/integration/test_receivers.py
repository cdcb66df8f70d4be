"""Runs every example receiver in examples/receivers/ once against a real
signed webhook request: a correctly signed delivery must be accepted (2xx)
and a tampered one rejected (4xx). A language whose runtime or framework is
missing is skipped with the reason.

The request is signed here with Python's hmac + base64 (checked first
against the Standard Webhooks spec vector, which depositd's C++ signer also
reproduces in tests/unit/webhook_signing_test.cpp).

    python3 -m unittest -v test_receivers      (from tests/integration)
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

SOURCE = os.environ.get("DEPOSITD_SOURCE") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(SOURCE, "examples", "receivers")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PATH = "/webhooks/deposits"
START_TIMEOUT = 40  # seconds; `go run` compiles first


def sign(secret, msg_id, timestamp, body):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python_with(*modules):
    """An interpreter that can import all of `modules` (the Debian packages live in /usr/bin/python3)."""
    candidates = [sys.executable, "/usr/bin/python3", shutil.which("python3")]
    seen = set()
    for py in candidates:
        if not py or py in seen or not os.path.exists(py):
            continue
        seen.add(py)
        probe = subprocess.run([py, "-c", "import " + ", ".join(modules)], capture_output=True)
        if probe.returncode == 0:
            return py
    return None


def event_body():
    return json.dumps({
        "id": "evt_0123456789abcdef01234567", "type": "deposit.confirmed", "createdAt": "2026-11-22T00:17:16.123Z",
        "data": {"id": "dep_0123456789abcdef01234567", "depositReference": "player_42", "amount": "125.5",
                 "currency": "USDT", "note": "ünïcødé stays byte-exact"},
    }, ensure_ascii=False, separators=(", ", ": ")).encode()


def post(port, body, headers):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{PATH}", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class Receivers(unittest.TestCase):
    def test_spec_vector(self):
        self.assertEqual(sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", b'{"test": 2432232314}'),
                         "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

    def run_receiver(self, argv, env_extra=None, cwd=EXAMPLES):
        port = free_port()
        env = dict(os.environ, DEPOSITD_WEBHOOK_SECRET=SECRET, PORT=str(port), PYTHONDONTWRITEBYTECODE="1")
        env.update(env_extra or {})
        argv = [a.replace("{port}", str(port)) for a in argv]
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    self.fail(f"{argv[0]} exited with {proc.returncode}:\n{log.read().decode(errors='replace')}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        self.fail(f"{argv} did not listen on {port} within {START_TIMEOUT}s")
                    time.sleep(0.1)

            body = event_body()
            ts = str(int(time.time()))
            msg_id = "evt_0123456789abcdef01234567"
            # Rotation: a stale signature first, the valid one second.
            stale = sign("whsec_" + base64.b64encode(b"an old, rotated-out key").decode(), msg_id, ts, body)
            headers = {"content-type": "application/json", "user-agent": "depositd/test", "webhook-id": msg_id,
                       "webhook-timestamp": ts, "webhook-signature": stale + " " + sign(SECRET, msg_id, ts, body),
                       "x-payin-signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
            status = post(port, body, headers)
            self.assertTrue(200 <= status < 300, f"signed request answered {status}")

            tampered = body.replace(b"125.5", b"925.5")
            status = post(port, tampered, headers)
            self.assertTrue(400 <= status < 500, f"tampered body answered {status}")

            reformatted = json.dumps(json.loads(body)).encode()  # same JSON, other bytes: must fail
            status = post(port, reformatted, headers)
            self.assertTrue(400 <= status < 500, f"re-serialised body answered {status}")

            old = str(int(time.time()) - 3600)
            old_headers = dict(headers, **{"webhook-timestamp": old, "webhook-signature": sign(SECRET, msg_id, old, body)})
            status = post(port, body, old_headers)
            self.assertTrue(400 <= status < 500, f"hour-old timestamp answered {status}")
        finally:
            try:
                os.killpg(proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
            log.close()

    def test_flask(self):
        py = python_with("flask")
        if not py:
            self.skipTest("Flask is not installed (apt-get install python3-flask)")
        self.run_receiver([py, "flask_receiver.py"])

    def test_fastapi(self):
        py = python_with("fastapi", "uvicorn")
        if not py:
            self.skipTest("FastAPI/uvicorn are not installed (apt-get install python3-fastapi python3-uvicorn)")
        self.run_receiver([py, "fastapi_receiver.py"])

    def test_django(self):
        py = python_with("django")
        if not py:
            self.skipTest("Django is not installed (apt-get install python3-django)")
        self.run_receiver([py, "django_receiver.py"])

    def test_express(self):
        node = shutil.which("node")
        if not node:
            self.skipTest("node is not installed")
        node_path = os.path.join(SOURCE, ".peers", "node", "node_modules")
        env = {"NODE_PATH": node_path + os.pathsep + os.environ.get("NODE_PATH", "")}
        probe = subprocess.run([node, "-e", "require('express')"], env=dict(os.environ, **env), capture_output=True)
        if probe.returncode != 0:
            self.skipTest("express is not installed (npm install --prefix .peers/node express)")
        self.run_receiver([node, "express_receiver.js"], env)

    def test_php(self):
        php = shutil.which("php")
        if not php:
            self.skipTest("php is not installed (apt-get install php-cli)")
        self.run_receiver([php, "-S", "127.0.0.1:{port}", "receiver.php"])

    def test_go(self):
        go = shutil.which("go")
        if not go:
            self.skipTest("go is not installed (apt-get install golang-go)")
        cache = os.path.join(tempfile.gettempdir(), "depositd-go-cache")
        self.run_receiver([go, "run", "receiver.go"], {"GOCACHE": cache, "GOFLAGS": "-mod=mod", "GO111MODULE": "off"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
