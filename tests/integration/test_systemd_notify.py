"""The daemon's sd_notify messages, read from a datagram socket the test binds
with NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID set as systemd sets them:
READY=1 once the API listens, WATCHDOG=1 at half of WATCHDOG_USEC, STATUS=
with per-chain status and lag, STOPPING=1 on SIGTERM — and a chain loop made
to hang (its node accepts the call and never answers; request_timeout far
away) stops the pings until it moves again.
"""
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import Anvil, Daemon, evm_chain_block, wait_until
from rpc_proxy import RpcProxy


class NotifySocket:
    """What systemd's side of the protocol sees: (monotonic time, {VAR: value})."""

    def __init__(self, abstract=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"depositd-test-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind("\0" + name)
            self.env_value = "@" + name
        else:
            self.dir = tempfile.mkdtemp(prefix="notify-")
            self.env_value = os.path.join(self.dir, "notify.sock")
            self.sock.bind(self.env_value)
        self.sock.settimeout(0.2)
        self.messages = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = {}
            for line in data.decode().split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            with self.lock:
                self.messages.append((time.monotonic(), fields))

    def with_key(self, key, since=0.0):
        with self.lock:
            return [(t, m) for t, m in self.messages if key in m and t >= since]

    def statuses(self, since=0.0):
        return [m["STATUS"] for _, m in self.with_key("STATUS", since)]

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


def start_under_systemd(d, notify, watchdog_usec=None, watchdog_pid="self"):
    """Starts the daemon with the environment systemd gives a Type=notify
    service. WATCHDOG_PID names the daemon's own pid: the shell exports its
    pid and then execs the daemon (same pid)."""
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0", "NOTIFY_SOCKET": notify.env_value}
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    d.log = open(d.log_path, "ab")
    if watchdog_pid == "self":
        argv = ["sh", "-c", 'export WATCHDOG_PID=$$; exec "$0" "$@"', harness.DEPOSITD, "--config", d.config]
    else:
        if watchdog_pid is not None:
            env["WATCHDOG_PID"] = str(watchdog_pid)
        argv = [harness.DEPOSITD, "--config", d.config]
    d.proc = subprocess.Popen(argv, stdout=d.log, stderr=d.log, env=env)
    return d


class SystemdNotifyTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="depositd-notify-")
        self.node = Anvil()
        self.cleanup = []

    def tearDown(self):
        for fn in reversed(self.cleanup):
            fn()
        self.node.stop()

    def test_ready_watchdog_status_stopping(self):
        notify = NotifySocket(abstract=True)
        self.cleanup.append(notify.close)
        self.node.mine(3)
        d = Daemon(self.dir, evm_chain_block("devnet", self.node.url, confirmations=1, poll="200ms"))
        start_under_systemd(d, notify, watchdog_usec=2_000_000)
        self.cleanup.append(d.stop)

        ready = wait_until(lambda: notify.with_key("READY"), timeout=30, what="READY=1")
        self.assertEqual(ready[0][1]["READY"], "1")
        # READY comes once the API listens: /health answers right away.
        self.assertEqual(d.get("/health", auth=False)[0], 200)
        self.assertIn("devnet", ready[0][1].get("STATUS", ""))

        wait_until(lambda: any(s.startswith("devnet ok lag ") for s in notify.statuses()), timeout=30,
                   what="STATUS=devnet ok lag N")
        # Cadence: half of WATCHDOG_USEC (1 s); never a gap systemd would act on (2 s).
        t0 = time.monotonic()
        wait_until(lambda: len(notify.with_key("WATCHDOG", since=t0)) >= 5, timeout=30, what="5 pings")
        times = [t for t, _ in notify.with_key("WATCHDOG", since=t0)]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertLess(max(gaps), 2.0, gaps)
        self.assertTrue(0.7 <= statistics.median(gaps) <= 1.4, gaps)
        self.assertTrue(all(m["WATCHDOG"] == "1" for _, m in notify.with_key("WATCHDOG")))
        # Nothing in the log says the daemon thought a loop was stuck.
        self.assertNotIn("it is hung", d.log_text())

        d.proc.send_signal(signal.SIGTERM)
        stopping = wait_until(lambda: notify.with_key("STOPPING"), timeout=20, what="STOPPING=1")
        self.assertEqual(stopping[0][1]["STOPPING"], "1")
        self.assertIn("signal 15", stopping[0][1].get("STATUS", ""))
        self.assertEqual(d.proc.wait(timeout=30), 0)
        self.assertEqual(notify.with_key("WATCHDOG", since=stopping[0][0] + 0.001), [])

    def test_path_socket_and_a_watchdog_meant_for_another_process(self):
        notify = NotifySocket(abstract=False)
        self.cleanup.append(notify.close)
        d = Daemon(self.dir, evm_chain_block("devnet", self.node.url, confirmations=1, poll="200ms"))
        # WATCHDOG_PID names another process: the watchdog is not ours (sd_watchdog_enabled).
        start_under_systemd(d, notify, watchdog_usec=500_000, watchdog_pid=1)
        self.cleanup.append(d.stop)
        wait_until(lambda: notify.with_key("READY"), timeout=30, what="READY=1")
        wait_until(lambda: any(s.startswith("devnet ok") for s in notify.statuses()), timeout=30, what="ok")
        time.sleep(1.5)
        self.assertEqual(notify.with_key("WATCHDOG"), [])
        self.assertEqual(d.stop(), 0)
        self.assertTrue(notify.with_key("STOPPING"))

    def test_a_hung_chain_loop_stops_the_pings_until_it_moves_again(self):
        notify = NotifySocket()
        self.cleanup.append(notify.close)
        proxy = RpcProxy([self.node.url])
        self.cleanup.append(proxy.stop)
        chains = (evm_chain_block("good", self.node.url, confirmations=1, poll="200ms") +
                  evm_chain_block("flaky", proxy.url, confirmations=1, poll="200ms",
                                  extra='request_timeout = "10m"\n'))
        d = Daemon(self.dir, chains, extra="")
        # A short stall bound so the test does not wait minutes (the default
        # is derived from request_timeout: here over an hour).
        with open(d.config) as f:
            text = f.read()
        with open(d.config, "w") as f:
            f.write(text.replace('log_level = "debug"', 'log_level = "debug"\nstall_timeout = "3s"', 1))
        start_under_systemd(d, notify, watchdog_usec=1_000_000)
        self.cleanup.append(d.stop)

        wait_until(lambda: any("flaky ok" in s and "good ok" in s for s in notify.statuses()), timeout=30,
                   what="both chains ok")
        t0 = time.monotonic()
        wait_until(lambda: len(notify.with_key("WATCHDOG", since=t0)) >= 3, timeout=10, what="pings")

        # The node accepts the next call and never answers.
        proxy.set(fail="hang")
        hung_at = time.monotonic()
        wait_until(lambda: any(s.startswith("stuck: chain flaky") for s in notify.statuses(since=hung_at)),
                   timeout=30, what="STATUS=stuck: chain flaky")
        stuck_at = time.monotonic()
        last_ping = max(t for t, _ in notify.with_key("WATCHDOG"))
        # The bound is 3 s of one step: pings went on until then (no early alarm) ...
        self.assertGreater(last_ping - hung_at, 2.0)
        time.sleep(2.5)  # ... and then none: over 2 x WATCHDOG_USEC, systemd would have restarted us
        self.assertEqual(notify.with_key("WATCHDOG", since=last_ping + 0.001), [])
        self.assertGreater(time.monotonic() - last_ping, 2.0)
        self.assertIn("chain flaky has been inside one step", d.log_text())
        # The daemon itself still answers; the other chain still moves.
        status, health = d.get("/health", auth=False)
        self.assertEqual(status, 200)
        good = {c["chainId"]: c for c in health["chains"]}["good"]
        self.assertEqual(good["status"], "ok")

        # The node lets go (the connection drops): the step ends, pings resume.
        proxy.set(fail=None)
        released_at = time.monotonic()
        wait_until(lambda: notify.with_key("WATCHDOG", since=released_at), timeout=30, what="pings again")
        wait_until(lambda: "chain flaky is moving again" in d.log_text(), timeout=10, what="recovery log")
        self.assertLess(stuck_at - hung_at, 15)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
