"""The throwaway PostgreSQL cluster of the tests (pg_cluster.py): where it
lives and who owns it, what it listens on, fresh databases, kill -9 and
restart, the fault proxy, and that nothing is left behind - also when the
test process is killed. Skipped without PostgreSQL's server binaries."""
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from harness import wait_until
from pg_cluster import PG_BIN, PgCluster, pg_unavailable

SSL_REQUEST = struct.pack("!ii", 8, 80877103)  # the first message a client may send; the answer is one byte


def ask_ssl(port, timeout=2.0):
    """One real protocol exchange: 'N' (no SSL here) from the server."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(SSL_REQUEST)
        return s.recv(1)


def only_connection(proxy, timeout=2.0):
    """A client connection through the proxy, once it is the proxy's only one."""
    wait_until(lambda: proxy.connections() == 0, timeout=5, what="earlier connections to go")
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout)
    wait_until(lambda: proxy.connections() == 1, timeout=5, what="the proxied connection")
    return s


def psql_tcp(url, password, query):
    return subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-At", url, "-c", query],
                          env={**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"},
                          capture_output=True, text=True, timeout=30)


class PgClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = pg_unavailable()
        if reason:
            raise unittest.SkipTest(reason)
        cls.pg = PgCluster()

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()
        assert not os.path.exists(cls.pg.folder)

    def test_folder_socket_and_listen_address(self):
        st = os.stat(self.pg.folder)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        if os.geteuid() == 0:
            import pwd
            self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, "postgres")
        # postgres can reach it: every folder above lets others through.
        parent = os.path.dirname(self.pg.folder)
        while parent != "/":
            self.assertTrue(os.stat(parent).st_mode & stat.S_IXOTH, parent)
            parent = os.path.dirname(parent)
        self.assertTrue(os.path.exists(os.path.join(self.pg.folder, f".s.PGSQL.{self.pg.port}")))
        settings = dict(self.pg.sql("SELECT name, setting FROM pg_settings WHERE name IN "
                                    "('listen_addresses', 'port', 'unix_socket_directories', 'fsync', "
                                    "'synchronous_commit', 'data_directory')"))
        self.assertEqual(settings["listen_addresses"], "127.0.0.1")
        self.assertEqual(settings["unix_socket_directories"], self.pg.folder)
        self.assertEqual(settings["fsync"], "off")
        self.assertEqual(settings["synchronous_commit"], "on")  # a kill -9 must not lose a commit
        self.assertEqual(settings["data_directory"], self.pg.data_dir)
        self.assertLess(self.pg.port, 32768)  # below the ephemeral range

    def test_the_test_role_needs_its_password_over_tcp(self):
        url = self.pg.create_database()
        ok = psql_tcp(url.replace(f":{self.pg.password}@", "@"), self.pg.password, "SELECT current_user")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(ok.stdout.strip(), "depositd")
        bad = psql_tcp(url.replace(f":{self.pg.password}@", "@"), "wrong", "SELECT 1")
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("password authentication failed", bad.stderr)

    def test_fresh_databases_are_empty_and_separate(self):
        a = self.pg.create_database().rsplit("/", 1)[1]
        b = self.pg.create_database().rsplit("/", 1)[1]
        self.assertNotEqual(a, b)
        self.pg.sql("CREATE TABLE t (v int); INSERT INTO t VALUES (1)", db=a)
        self.assertEqual(self.pg.sql("SELECT count(*) FROM pg_tables WHERE tablename = 't'", db=b), [["0"]])
        owner = self.pg.sql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{a}'")
        self.assertEqual(owner, [["depositd"]])

    def test_kill9_of_the_postmaster_and_restart_keep_what_was_committed(self):
        db = self.pg.create_database().rsplit("/", 1)[1]
        self.pg.sql("CREATE TABLE k (v int); INSERT INTO k VALUES (42)", db=db)
        old = self.pg.pid
        self.pg.kill9()
        self.assertIsNone(self.pg.pid)
        with self.assertRaises(OSError):
            ask_ssl(self.pg.port, timeout=1)
        t0 = time.monotonic()
        new = self.pg.start()
        print(f"restart after kill -9: {time.monotonic() - t0:.2f} s", file=sys.stderr)
        self.assertNotEqual(new, old)
        self.assertEqual(self.pg.sql("SELECT v FROM k", db=db), [["42"]])
        # The old postmaster's processes are all gone (none is a zombie of ours).
        for line in subprocess.run(["ps", "-eo", "pid,stat"], capture_output=True, text=True).stdout.splitlines()[1:]:
            pid, st = line.split()
            if int(pid) == old:
                self.fail(f"the killed postmaster {old} is still there ({st})")

    def test_a_stale_lock_file_does_not_block_a_start(self):
        self.pg.kill9()
        # As after a crash whose pid was reaped elsewhere: postmaster.pid names a pid that is gone.
        pidfile = os.path.join(self.pg.data_dir, "postmaster.pid")
        with open(pidfile) as f:
            lines = f.read().splitlines()
        lines[0] = "4194000"  # no such process
        with open(pidfile, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.pg.start()
        self.assertEqual(self.pg.sql("SELECT 1"), [["1"]])

    def test_proxy_cut_freeze_mute_refuse(self):
        proxy = self.pg.proxy()
        self.assertEqual(ask_ssl(proxy.port), b"N")
        # cut: open connections are reset.
        s = only_connection(proxy)
        self.assertEqual(proxy.cut(), 1)
        with self.assertRaises((ConnectionResetError, BrokenPipeError)):
            s.sendall(SSL_REQUEST)
            if s.recv(1) == b"":
                raise ConnectionResetError("closed")
        s.close()
        # freeze: nothing comes back until release; new connections still pass.
        s = only_connection(proxy, timeout=0.5)
        proxy.freeze()
        s.sendall(SSL_REQUEST)
        with self.assertRaises(socket.timeout):
            s.recv(1)
        self.assertEqual(ask_ssl(proxy.port), b"N")
        proxy.release()
        s.settimeout(2)
        self.assertEqual(s.recv(1), b"N")
        s.close()
        # mute: the server gets the request, its answer is dropped.
        s = only_connection(proxy, timeout=0.5)
        proxy.mute()
        s.sendall(SSL_REQUEST)
        with self.assertRaises(socket.timeout):
            s.recv(1)
        s.close()
        # refuse: new connections are closed at once.
        proxy.set_mode("refuse")
        with self.assertRaises((ConnectionResetError, OSError)):
            if ask_ssl(proxy.port) == b"":
                raise ConnectionResetError("closed")
        proxy.set_mode("pass")
        self.assertEqual(ask_ssl(proxy.port), b"N")
        proxy.stop()


@unittest.skipIf(pg_unavailable(), pg_unavailable() or "")
class PgClusterCleanupTest(unittest.TestCase):
    def test_nothing_is_left_when_the_test_process_is_killed(self):
        # The test process runs under a TMPDIR that postgres cannot reach
        # (0700 root, like mktemp -d): the cluster must live elsewhere.
        private = tempfile.mkdtemp(prefix="pg-private-")
        os.chmod(private, 0o700)
        child = textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
            from pg_cluster import PgCluster
            pg = PgCluster()
            print(pg.folder, pg.pid, flush=True)
            time.sleep(120)
        """)
        proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "TMPDIR": private})
        try:
            line = proc.stdout.readline().split()
            self.assertEqual(len(line), 2, "the child did not start a cluster")
            folder, pid = line[0], int(line[1])
            self.assertFalse(folder.startswith(private), folder)
            self.assertTrue(os.path.isdir(folder))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            wait_until(lambda: not os.path.exists(folder), timeout=30, what="the watchdog removing the cluster")

            def gone():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        return f.read().rsplit(")", 1)[1].split()[0] == "Z"
                except OSError:
                    return True
            wait_until(gone, timeout=30, what="the orphaned postmaster to stop")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.rmdir(private)


if __name__ == "__main__":
    unittest.main()
