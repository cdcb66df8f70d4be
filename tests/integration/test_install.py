"""scripts/install (`make install` / `make uninstall`) into a staging root
(DESTDIR), without touching the system: the files, their modes, the unit's
paths, idempotence (a second run changes nothing and never overwrites a
configuration or secret), uninstall and --purge; and the same run as an
unprivileged user when the test runs as root.
"""
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

import harness

SCRIPT = os.path.join(harness.SOURCE, "scripts", "install")
NOBODY = 65534


def run_install(destdir, *args, prefix="/usr/local", as_nobody=False, destdir_set=True):
    env = {k: v for k, v in os.environ.items() if k not in ("DESTDIR", "PREFIX", "SYSCONFDIR", "UNITDIR")}
    env.update({"BUILD": harness.BUILD, "PREFIX": prefix})
    if destdir_set:
        env["DESTDIR"] = destdir
    argv = ["bash", SCRIPT, *args]
    if as_nobody:
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, cwd="/")


def tree(root):
    """{relative path: (mode, sha256)} of every file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = (stat.S_IMODE(os.stat(p).st_mode), hashlib.sha256(fh.read()).hexdigest())
    return out


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="depositd-install-")
        os.chmod(self.root, 0o755)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def check_installed(self, root, prefix="/usr/local"):
        bindir = root + prefix + "/bin"
        for b in ("depositd", "depositctl"):
            self.assertEqual(mode(os.path.join(bindir, b)), 0o755)
            with open(os.path.join(bindir, b), "rb") as got, \
                 open(os.path.join(harness.BUILD, "daemon" if b == "depositd" else "tools", b), "rb") as want:
                self.assertEqual(got.read(), want.read())
        conf = root + "/etc/depositd"
        self.assertEqual(mode(conf + "/depositd.toml"), 0o640)
        self.assertEqual(mode(conf + "/env"), 0o600)
        with open(conf + "/depositd.toml") as f, open(os.path.join(harness.SOURCE, "examples", "production.toml")) as g:
            self.assertEqual(f.read(), g.read())
        with open(conf + "/env") as f:
            env = dict(line.split("=", 1) for line in f.read().splitlines() if line and not line.startswith("#"))
        self.assertRegex(env["DEPOSITD_API_KEY"], r"^[0-9a-f]{64}$")
        self.assertRegex(env["DEPOSITD_WEBHOOK_SECRET"], r"^whsec_[A-Za-z0-9+/]{43}=$")
        unit = root + "/etc/systemd/system/depositd.service"
        self.assertEqual(mode(unit), 0o644)
        with open(unit) as f:
            text = f.read()
        self.assertIn(f"ExecStart={prefix}/bin/depositd --config /etc/depositd/depositd.toml", text)
        self.assertIn("Type=notify", text)
        return env

    def test_staged_install_is_idempotent_and_uninstalls(self):
        r = run_install(self.root)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        env = self.check_installed(self.root)
        self.assertNotIn("useradd", r.stdout)  # DESTDIR: nothing outside it is touched

        # The generated secrets and the shipped config pass the daemon's own check.
        cfg_env = {**os.environ, **env, "ETH_RPC_URL": "https://eth.example/rpc",
                   "ETH_RPC_URL_BACKUP": "https://eth2.example/rpc", "BSC_RPC_URL": "https://bsc.example/rpc",
                   "TRONGRID_KEY": "k", "ASAN_OPTIONS": "detect_leaks=0"}
        c = subprocess.run([self.root + "/usr/local/bin/depositd", "--config", self.root + "/etc/depositd/depositd.toml",
                            "--check-config"], capture_output=True, text=True, env=cfg_env, timeout=60)
        self.assertEqual(c.returncode, 0, c.stdout + c.stderr)

        # Again: nothing changes, the operator's edits and secrets are kept.
        with open(self.root + "/etc/depositd/depositd.toml", "a") as f:
            f.write("# edited by the operator\n")
        before = tree(self.root)
        r = run_install(self.root)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("depositd.toml exists: kept", r.stdout)
        self.assertIn("env exists: kept", r.stdout)
        self.assertIn("depositd.service is up to date", r.stdout)
        self.assertEqual(tree(self.root), before)

        # A mode someone loosened is put back.
        os.chmod(self.root + "/etc/depositd/env", 0o644)
        run_install(self.root)
        self.assertEqual(mode(self.root + "/etc/depositd/env"), 0o600)

        r = run_install(self.root, "--uninstall")
        self.assertEqual(r.returncode, 0, r.stderr)
        for p in ("/usr/local/bin/depositd", "/usr/local/bin/depositctl", "/etc/systemd/system/depositd.service"):
            self.assertFalse(os.path.exists(self.root + p), p)
        self.assertTrue(os.path.exists(self.root + "/etc/depositd/env"))  # configuration kept
        r = run_install(self.root, "--uninstall")  # twice: fine
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run_install(self.root, "--uninstall", "--purge")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(self.root + "/etc/depositd"))
        self.assertIn("database", r.stdout)

    def test_prefix_is_written_into_the_unit(self):
        r = run_install(self.root, prefix="/opt/depositd")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_installed(self.root, prefix="/opt/depositd")

    def test_bad_arguments_and_missing_build(self):
        r = run_install(self.root, "--purge")
        self.assertEqual(r.returncode, 2)
        r = run_install(self.root, "--frobnicate")
        self.assertEqual(r.returncode, 2)
        env = {**os.environ, "DESTDIR": self.root, "BUILD": os.path.join(self.root, "no-build")}
        r = subprocess.run(["bash", SCRIPT], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("build it first", r.stderr)
        self.assertEqual(os.listdir(self.root), [])  # nothing was touched

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root to switch to an unprivileged user")
    def test_unprivileged_user(self):
        os.chown(self.root, NOBODY, NOBODY)
        # The build and the sources must be readable by nobody for this test.
        # (A clone inside `mktemp -d`, mode 0700, is not: every folder above
        # the sources must let others through.)
        above = os.path.dirname(os.path.abspath(harness.SOURCE))
        blocked = False
        while above != os.path.dirname(above):
            blocked |= mode(above) & 0o001 == 0
            above = os.path.dirname(above)
        if blocked or not os.access(harness.BUILD, os.R_OK | os.X_OK) or mode(harness.SOURCE) & 0o005 != 0o005:
            self.skipTest("the tree is not readable by nobody")
        r = run_install(self.root, as_nobody=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.check_installed(self.root)
        self.assertEqual(os.stat(self.root + "/etc/depositd/env").st_uid, NOBODY)
        # Into the real system without root: refused with what to do.
        r = run_install(self.root, as_nobody=True, destdir_set=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("sudo make install", r.stderr)
        self.assertFalse(re.search(r"created|installed|wrote", r.stdout))


if __name__ == "__main__":
    unittest.main()
