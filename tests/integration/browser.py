"""The Python half of the browser tests (test_pay_browser.py,
test_admin_browser.py): where chromium and playwright-core are, and a
driver process (a node script, see browser_common.js) spoken to one line at
a time. Standard library only."""
import json
import os
import queue
import shutil
import subprocess
import threading

from harness import SOURCE

CHROMIUM = os.environ.get("DEPOSITD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PLAYWRIGHT = os.path.join(SOURCE, ".peers", "browser", "node_modules", "playwright-core")


def skip_without_chromium():
    """unittest has no skip exit code; ctest needs one (SKIP_RETURN_CODE 77)."""
    if not os.path.exists(CHROMIUM):
        print("chromium is not installed: browser test skipped (apt-get install chromium, or make test)", flush=True)
        os._exit(77)


class Driver:
    """A node script driving chromium. `expect(prefix)` waits for the line
    that starts with it (failing the test on FAILED or on the script's end),
    `send(text)` answers."""

    def __init__(self, test, script, settings, home):
        test.assertTrue(os.path.isdir(PLAYWRIGHT), "playwright-core is not installed (run scripts/setup --test)")
        node = shutil.which("node")
        test.assertIsNotNone(node, "node is not installed")
        self.test = test
        self.seen = []
        self.lines = queue.Queue()
        env = dict(os.environ, PLAYWRIGHT_CORE=PLAYWRIGHT, HOME=home)
        self.proc = subprocess.Popen([node, script, json.dumps(settings)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                     start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix, timeout=120):
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.test.fail(f"browser driver said nothing for {timeout}s waiting for {prefix}; so far: {self.seen}")
            if line is None:
                self.test.fail(f"browser driver ended before {prefix}: {self.seen}")
            self.seen.append(line)
            if line.startswith("FAILED"):
                self.test.fail("\n".join(self.seen))
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    def send(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def finish(self):
        """The page had no script error, CSP violation or failed request; the driver ended well."""
        errors = self.expect("ERRORS")
        self.test.assertEqual(errors, "[]", "script errors, CSP violations or failed requests in the browser")
        self.proc.wait(timeout=30)
        self.test.assertEqual(self.proc.returncode, 0, self.seen)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
