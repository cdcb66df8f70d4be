"""The unit's sandbox lets the daemon work: every system call the real daemon
makes (under strace, while it follows anvil, records a deposit, delivers a
webhook, answers the API and stops on SIGTERM) is allowed by the unit's
SystemCallFilter= (as systemd-analyze expands its groups); its sockets are
only of the families RestrictAddressFamilies= allows; it never maps memory
writable and executable (MemoryDenyWriteExecute=). systemd itself cannot run
here (not PID 1), so this is what can be checked of "the daemon still works";
the exposure score is tests/systemd/check_unit.sh.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
import urllib.request

import harness
from harness import API_KEY, Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until

UNIT = os.path.join(harness.SOURCE, "systemd", "depositd.service")


def unit_values(key):
    with open(UNIT) as f:
        return [line.split("=", 1)[1].strip() for line in f if line.startswith(key + "=")]


def syscall_groups():
    """{"@group": [members, with @subgroups]} from `systemd-analyze syscall-filter`."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True, text=True,
                         check=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = line.strip()
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())
    return groups


def expand(name, groups, seen=None):
    seen = seen or set()
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    out = set()
    for m in groups.get(name, []):
        out |= expand(m, groups, seen)
    return out


def allowed_syscalls():
    """The allow list the unit's SystemCallFilter= lines build (allow, then ~deny)."""
    groups = syscall_groups()
    allowed = set()
    for value in unit_values("SystemCallFilter"):
        deny = value.startswith("~")
        names = value.lstrip("~").split()
        for n in names:
            if deny:
                allowed -= expand(n, groups)
            else:
                allowed |= expand(n, groups)
    return allowed


def sanitized_build():
    try:
        with open(os.path.join(harness.BUILD, "CMakeCache.txt")) as f:
            return "DEPOSITD_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


# AddressSanitizer's runtime (test builds only) raises RLIMIT_* and asks
# for the scheduler's CPU set; a Release build does not make these calls.
SANITIZER_ONLY = {"setrlimit", "prlimit64"}
# SQLite gives a journal or WAL file the database's owner when it runs as
# root (unixFchown): tests run as root, the unit runs as the depositd user.
ROOT_ONLY = {"fchown"}


@unittest.skipUnless(shutil.which("strace") and shutil.which("systemd-analyze"),
                     "needs strace and systemd-analyze (scripts/setup --test)")
class UnitSandboxTest(unittest.TestCase):
    def test_daemon_stays_inside_the_units_sandbox(self):
        allowed = allowed_syscalls()
        self.assertIn("epoll_wait", allowed)
        self.assertNotIn("setuid", allowed)  # ~@privileged took effect

        work = tempfile.mkdtemp(prefix="depositd-sandbox-")
        node = Anvil()
        hook = Receiver()
        trace = os.path.join(work, "strace.txt")
        d = Daemon(work, evm_chain_block("devnet", node.url, confirmations=1, poll="200ms"), hook.url)
        try:
            d.import_addresses(pool_addresses(3, seed=9))
            d.log = open(d.log_path, "ab")
            env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0"}
            d.proc = subprocess.Popen(["strace", "-f", "-qq", "-o", trace, harness.DEPOSITD, "--config", d.config],
                                      stdout=d.log, stderr=d.log, env=env)
            wait_until(lambda: d.get("/health")[0] == 200, timeout=60, what="/health under strace")
            node.send_eth(d.bind("alice"), 10**15)
            node.mine(2)
            wait_until(lambda: hook.of_type("deposit.confirmed"), timeout=60, what="a delivered webhook")
            req = urllib.request.Request(d.url("/metrics"), headers={"authorization": f"Bearer {API_KEY}"})
            with urllib.request.urlopen(req, timeout=10) as r:
                self.assertEqual(r.status, 200)
            # SIGTERM to depositd itself (strace does not forward it); strace
            # then exits with the daemon's status.
            with open(f"/proc/{d.proc.pid}/task/{d.proc.pid}/children") as f:
                daemon_pid = int(f.read().split()[0])
            os.kill(daemon_pid, signal.SIGTERM)
            self.assertEqual(d.proc.wait(timeout=60), 0)
        finally:
            d.stop()
            hook.stop()
            node.stop()

        used, families, wx = set(), set(), []
        with open(trace) as f:
            for line in f:
                m = re.match(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)(?:\(| resumed>)", line)
                if not m:
                    continue
                used.add(m.group(1))
                if m.group(1) == "socket":
                    fam = re.search(r"socket\((AF_[A-Z0-9]+)", line)
                    if fam:
                        families.add(fam.group(1))
                if m.group(1) in ("mmap", "mprotect", "pkey_mprotect") and "PROT_EXEC" in line \
                        and "PROT_WRITE" in line:
                    wx.append(line.strip())
        self.assertTrue({"epoll_wait", "epoll_pwait", "epoll_pwait2"} & used, "not the daemon's trace")
        exempt = SANITIZER_ONLY if sanitized_build() else set()
        if os.geteuid() == 0:
            exempt = exempt | ROOT_ONLY
        # execve starts the program (systemd's own step, before the filter applies to it).
        denied = sorted(used - allowed - exempt - {"execve"})
        self.assertEqual(denied, [], f"system calls the unit's SystemCallFilter= would refuse (EPERM): {denied}")
        self.assertTrue(families, "no socket() seen: the trace is not of the daemon")
        self.assertLessEqual(families, set(unit_values("RestrictAddressFamilies")[0].split()))
        self.assertEqual(wx, [], "writable+executable mappings (MemoryDenyWriteExecute=yes refuses them)")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
