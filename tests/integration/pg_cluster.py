"""A throwaway PostgreSQL 15 cluster for tests, and a TCP proxy that can cut
its connections. Standard library only; 127.0.0.1 and a Unix socket only.

    from pg_cluster import PgCluster, pg_unavailable
    if reason := pg_unavailable(): raise unittest.SkipTest(reason)
    pg = PgCluster()                  # initdb + start, ~1-2 s
    url = pg.create_database()        # postgresql://depositd:PW@127.0.0.1:PORT/t_1 (CREATE DATABASE .. TEMPLATE template0)
    pg.sql("SELECT 1", db="t_1")      # [['1']] (psql --csv as the superuser, over the socket)
    pg.kill9(); pg.start()            # kill -9 of the postmaster, then a restart on the same port
    proxy = pg.proxy()                # pg.url(db, port=proxy.port): the same database through a TCP proxy
    proxy.cut()                       # reset every connection through it (RST both ways)
    proxy.cut(tell_server=False)      # reset the client's side only: the server's stays open and silent
    proxy.freeze() / proxy.mute()     # open connections: hold all data / drop the server's answers
    proxy.set_mode("refuse")          # new connections: "pass" | "hang" | "refuse"
    pg.close()                        # stop, remove the folder (also done at exit)

Where it lives, and who runs it
 - `initdb` and `postgres` refuse to run as root: as root, they run as the
   `postgres` user (`initdb` through `runuser -u postgres --`; the postmaster
   is exec'd directly with setuid/setgid by subprocess, so its pid is the
   real postmaster's, ours to kill -9 and to reap). Not as root, they run as
   ourselves.
 - The cluster folder is a fresh 0700 folder owned by that user. Its parent
   must be traversable by it: `mktemp -d` folders (and tempfile.mkdtemp) are
   0700 root, so a cluster folder inside a test's own mkdtemp folder would be
   out of postgres' reach. The parent is the first of $DEPOSITD_PG_TMP,
   tempfile.gettempdir(), /tmp, /var/tmp whose every ancestor lets others
   through (o+x).
 - Folder layout: data/ (PGDATA), the Unix socket .s.PGSQL.PORT (inside the
   0700 folder, so only root and postgres reach it: it trusts local
   connections), postgres.log.
 - The postmaster listens on 127.0.0.1 only, on a free port picked below the
   kernel's ephemeral range (32768+), so no outgoing connection takes it while
   the postmaster is down for a restart. Debian's own cluster is not touched.
 - fsync, full_page_writes and synchronous_commit are off: a test cluster's
   durability against power loss is not what tests check (kill -9 of the
   postmaster loses nothing committed: the WAL is in the page cache).

Never left behind
 - close() (also registered with atexit) stops the postmaster and removes
   the folder.
 - A watchdog process (this file, `watchdog` mode, in its own session) holds
   the read end of a pipe whose write end only this process has: when this
   process dies in any way (kill -9 included), the pipe reaches EOF and the
   watchdog stops the postmaster (SIGQUIT, then SIGKILL to every process
   working in the data folder) and removes the folder.

kill -9 and restart (a known trap)
 - A postmaster started by `pg_ctl` is reparented to PID 1; in these
   containers PID 1 does not reap promptly, so a killed postmaster stays a
   zombie for a moment, `kill(pid, 0)` still succeeds and its postmaster.pid
   blocks the next start ("lock file already exists"). Here the postmaster is
   our child and is reaped at once; start() still waits until no process of
   the old cluster is alive (backends of a killed postmaster exit on their
   own within moments; stragglers get SIGKILL), then removes a postmaster.pid
   whose pid is gone or a zombie.

For C++ tests, `python3 pg_cluster.py serve` runs one cluster and answers
line commands on stdin with one JSON line each (tests/unit/pg_test_cluster.hpp):
    (start-up)        {"ok": true, "port": P, "socket_dir": D, "admin_url": U, "user": "depositd", "password": W, "pid": N}
    createdb          {"ok": true, "name": "t_1", "url": "postgresql://depositd:W@127.0.0.1:P/t_1"}
                      (made ahead while the previous test ran: prefetch_database())
    kill9 | start | stop | restart     {"ok": true, "pid": N}
    proxy             {"ok": true, "id": I, "port": Q}
    cut I [half]      {"ok": true, "cut": n}   (half: cut(tell_server=False))
    mode I pass|hang|refuse | freeze I | mute I | release I      {"ok": true}
    sql DB QUERY      {"ok": true, "rows": [[...], ...]}
EOF on stdin (the test ended or died) stops the cluster and removes it.
"""
import atexit
import csv
import io
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress

PG_BIN = os.environ.get("DEPOSITD_PG_BIN", "/usr/lib/postgresql/15/bin")
USER = "depositd"  # the role tests connect as (LOGIN CREATEDB, not a superuser)


def pg_unavailable():
    """None when a throwaway cluster can be made here, else the reason (for a skip)."""
    for tool in ("initdb", "postgres", "psql"):
        if not os.access(os.path.join(PG_BIN, tool), os.X_OK):
            return (f"PostgreSQL server binaries not found in {PG_BIN} "
                    "(Debian: apt-get install postgresql-15, or run scripts/setup --test)")
    if os.geteuid() == 0:
        try:
            import pwd
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, but there is no 'postgres' user to run initdb/postgres as"
        if not shutil.which("runuser"):
            return "running as root, but runuser (util-linux) is missing"
    return None


def _others_can_traverse(path):
    path = os.path.abspath(path)
    while True:
        try:
            st = os.stat(path)
        except OSError:
            return False
        if not stat.S_ISDIR(st.st_mode) or not st.st_mode & stat.S_IXOTH:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _parent_dir():
    for cand in (os.environ.get("DEPOSITD_PG_TMP"), tempfile.gettempdir(), "/tmp", "/var/tmp"):
        if cand and _others_can_traverse(cand) and os.access(cand, os.W_OK):
            return cand
    raise RuntimeError("no folder the postgres user can reach for a test cluster "
                       "(set DEPOSITD_PG_TMP to a world-traversable, writable folder)")


def _pick_port():
    """A free 127.0.0.1 port below the ephemeral range (see the module note)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    top = max(low, 12000)
    for _ in range(200):
        port = random.randrange(10000, top)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port for the test cluster")


def _alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (OSError, IndexError):
        return False


def _processes_in(folder):
    """Pids of the processes whose working directory is folder: a postmaster
    and all its children chdir into the data directory."""
    real = os.path.realpath(folder)
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{name}/cwd") == real and _alive(int(name)):
                out.append(int(name))
        except OSError:
            continue
    return out


def _end_processes_in(data_dir, timeout):
    """Waits until no process works in the data folder (backends of a killed
    postmaster exit by themselves within moments); SIGKILL to those still
    there in the second half of the wait. True when none is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = _processes_in(data_dir)
        if not left:
            return True
        if time.monotonic() > deadline - timeout / 2:
            for p in left:
                with suppress(OSError):
                    os.kill(p, signal.SIGKILL)
        time.sleep(0.02)
    return not _processes_in(data_dir)


def _stop_processes_in(data_dir, timeout=10.0):
    """SIGQUIT to the postmaster named in postmaster.pid (immediate shutdown),
    then SIGKILL to whatever still works in the data folder. Bounded."""
    pidfile = os.path.join(data_dir, "postmaster.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.readline())
        if _alive(pid):
            os.kill(pid, signal.SIGQUIT)
    except (OSError, ValueError):
        pass
    _end_processes_in(data_dir, timeout)


class PgCluster:
    def __init__(self, parent=None):
        reason = pg_unavailable()
        if reason:
            raise RuntimeError(reason)
        self.as_root = os.geteuid() == 0
        self.folder = tempfile.mkdtemp(prefix="depositd-pg-", dir=parent or _parent_dir())
        self.data_dir = os.path.join(self.folder, "data")
        self.log_path = os.path.join(self.folder, "postgres.log")
        self.password = secrets.token_hex(16)
        self.proc = None
        self.port = None
        self._log = None
        self._names = itertools.count(1)
        self._proxies = []
        self._spare = None  # (thread, {"url": ...}) of prefetch_database()
        self._closed = False
        self._lock = threading.Lock()
        if self.as_root:
            import pwd
            pw = pwd.getpwnam("postgres")
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
            os.chown(self.folder, self._uid, self._gid)
        os.chmod(self.folder, 0o700)
        # The watchdog first: from here on, the folder never outlives us.
        self._watchdog = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "watchdog", self.folder],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd="/", start_new_session=True)
        atexit.register(self.close)
        try:
            self._initdb()
            self._start_first()
            self.sql(f"CREATE ROLE {USER} LOGIN CREATEDB PASSWORD '{self.password}'")
        except BaseException:
            self.close()
            raise

    # -- set-up ---------------------------------------------------------

    def _as_postgres(self, args):
        return ["runuser", "-u", "postgres", "--", *args] if self.as_root else args

    def _initdb(self):
        cmd = self._as_postgres([os.path.join(PG_BIN, "initdb"), "-D", self.data_dir, "-U", "postgres",
                                 "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                                 "--locale=C.UTF-8", "--no-sync", "--no-instructions"])
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/")
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")

    def _start_first(self):
        # The port is free when picked; another process may take it first:
        # then pick again (only before anyone knows the port).
        for _ in range(5):
            self.port = _pick_port()
            try:
                self.start()
                return
            except RuntimeError as e:
                if "could not bind" not in str(e) and "Address already in use" not in str(e):
                    raise
        raise RuntimeError("the test cluster could not bind a port")

    # -- the postmaster -------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def start(self, timeout=30.0):
        """Starts the postmaster (after a kill9()/stop() too), on the same port."""
        with self._lock:
            if self.proc and self.proc.poll() is None:
                return self.proc.pid
            self._clear_old_cluster()
            if self._log:
                self._log.close()
            self._log = open(self.log_path, "ab")
            started_at = self._log.tell()
            settings = {
                "listen_addresses": "127.0.0.1", "port": str(self.port),
                "unix_socket_directories": self.folder, "unix_socket_permissions": "0700",
                "fsync": "off", "full_page_writes": "off",
                "max_connections": "60", "shared_buffers": "32MB", "max_wal_size": "1GB",
                "dynamic_shared_memory_type": "posix", "logging_collector": "off",
                "log_min_messages": "warning", "log_line_prefix": "%m [%p] ",
            }
            args = [os.path.join(PG_BIN, "postgres"), "-D", self.data_dir]
            for k, v in settings.items():
                args += ["-c", f"{k}={v}"]
            extra = {}
            if self.as_root:
                extra = dict(user=self._uid, group=self._gid, extra_groups=[])
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                         cwd=self.data_dir, start_new_session=True, **extra)
            self._tell_watchdog()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"postgres exited with {self.proc.returncode}: {self._log_since(started_at)}")
                if self._ready():
                    return self.proc.pid
                time.sleep(0.02)
            raise RuntimeError(f"postgres did not become ready in {timeout}s: {self._log_since(started_at)}")

    def _ready(self):
        # Line 8 of postmaster.pid is the postmaster's state ("ready" once it
        # accepts connections); pg_ctl waits on the same line.
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                lines = f.read().splitlines()
            return len(lines) >= 8 and int(lines[0]) == self.proc.pid and lines[7].strip() == "ready"
        except (OSError, ValueError):
            return False

    def _log_since(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace").strip()[-2000:]
        except OSError:
            return "(no log)"

    def _clear_old_cluster(self, timeout=15.0):
        """Waits until no process of a previous postmaster works in the data
        folder, then removes its postmaster.pid if that pid is gone."""
        if not _end_processes_in(self.data_dir, timeout):
            raise RuntimeError(f"processes of the old cluster are still running: {_processes_in(self.data_dir)}")
        pidfile = os.path.join(self.data_dir, "postmaster.pid")
        try:
            with open(pidfile) as f:
                old = int(f.readline())
        except (OSError, ValueError):
            return
        if not _alive(old):
            os.unlink(pidfile)

    def kill9(self):
        """kill -9 of the postmaster (its backends notice and exit by themselves)."""
        with self._lock:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=10)  # reaped: no zombie of ours

    def stop(self, mode="fast", timeout=15.0):
        """pg_ctl's shutdown modes: smart (SIGTERM), fast (SIGINT), immediate (SIGQUIT)."""
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        with self._lock:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)

    def restart(self, mode="fast"):
        self.stop(mode)
        return self.start()

    # -- SQL, databases -------------------------------------------------

    @property
    def admin_url(self):
        """The superuser over the Unix socket (trusted: only root and postgres reach the folder)."""
        return f"postgresql:///postgres?host={self.folder}&port={self.port}&user=postgres"

    def url(self, db, port=None, user=USER, password=None):
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{port or self.port}/{db}"

    def sql(self, query, db="postgres", timeout=60):
        """Runs SQL as the superuser; returns the rows of the last statement
        (lists of str, None for NULL)."""
        r = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1",
                            "-h", self.folder, "-p", str(self.port), "-U", "postgres", "-d", db,
                            "-P", "null=\x01", "-c", query],
                           capture_output=True, text=True, timeout=timeout, cwd="/")
        if r.returncode != 0:
            raise RuntimeError(f"psql: {r.stderr.strip()}")
        rows = list(csv.reader(io.StringIO(r.stdout)))
        return [[None if c == "\x01" else c for c in row] for row in rows[1:]]

    def create_database(self, name=None):
        """A fresh, empty database owned by the test role; returns its URL.
        Without a name, the one prefetch_database() made ahead, if it did."""
        if name is None and self._spare:
            thread, box = self._spare
            self._spare = None
            thread.join(timeout=120)
            if "url" in box:
                return box["url"]
        name = name or f"t_{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}" OWNER {USER} TEMPLATE template0')
        return self.url(name)

    def prefetch_database(self):
        """Starts creating the next create_database() in the background
        (CREATE DATABASE takes a few hundred ms: a test runs meanwhile). If
        that fails (the test stopped the postmaster), the next call makes one."""
        if self._spare:
            return
        box = {}

        def work():
            with suppress(Exception):
                box["url"] = self.create_database(f"t_{next(self._names)}")

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        self._spare = (thread, box)

    def drop_database(self, name):
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def terminate(self, db=None, application_name=None):
        """pg_terminate_backend of the sessions of a database / an application; returns how many."""
        cond = ["pid <> pg_backend_pid()", "backend_type = 'client backend'"]
        if db:
            cond.append(f"datname = '{db}'")
        if application_name:
            cond.append(f"application_name = '{application_name}'")
        rows = self.sql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {' AND '.join(cond)}")
        return int(rows[0][0])

    def proxy(self):
        p = TcpProxy("127.0.0.1", self.port)
        self._proxies.append(p)
        return p

    # -- clean-up -------------------------------------------------------

    def _tell_watchdog(self):
        with suppress(OSError, ValueError):
            self._watchdog.stdin.write(f"{self.proc.pid}\n".encode())
            self._watchdog.stdin.flush()

    def close(self):
        if self._closed:
            return
        self._closed = True
        for p in self._proxies:
            p.stop()
        self.stop("fast")
        _stop_processes_in(self.data_dir)
        if self._log:
            self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        with suppress(OSError, ValueError):
            self._watchdog.stdin.close()
        with suppress(subprocess.TimeoutExpired):
            self._watchdog.wait(timeout=10)
        atexit.unregister(self.close)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TcpProxy:
    """127.0.0.1 TCP proxy to one target, for connection faults.

    For the connections open now:
        cut()      resets each (RST to both sides); returns how many
        cut(tell_server=False)
                   resets the client's side only; the server's stays open
                   and silent (a network cut the server is not told of: its
                   backend sits in its transaction until something ends it)
                   until the server sends something or stop()
        freeze()   holds their data both ways (nothing is read: the peers wait,
                   as behind a network that went silent)
        mute()     forwards client -> server but drops server -> client (the
                   server acts, the client never hears of it)
        release()  undoes freeze() and mute()
    For new connections, set_mode(): "pass" (normal), "hang" (accepted and
    frozen from the start), "refuse" (closed at once)."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.mode = "pass"
        self.lock = threading.Lock()
        self.links = set()
        self.half_open = []  # links cut on the client's side only
        self.accepted = 0
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def set_mode(self, mode):
        if mode not in ("pass", "hang", "refuse"):
            raise ValueError(f"unknown proxy mode {mode!r}")
        self.mode = mode

    def connections(self):
        with self.lock:
            return len(self.links)

    def upstream_ports(self):
        """Local ports of the connections to the server now (pg_stat_activity.client_port)."""
        ports = []
        for link in self._current():
            with suppress(OSError):
                ports.append(link.upstream.getsockname()[1])
        return ports

    def _current(self):
        with self.lock:
            return list(self.links)

    def freeze(self):
        for link in self._current():
            link.flowing.clear()

    def mute(self):
        for link in self._current():
            link.muted = True

    def release(self):
        for link in self._current():
            link.muted = False
            link.flowing.set()

    def cut(self, tell_server=True):
        with self.lock:
            links = list(self.links)
            self.links.clear()
            if not tell_server:
                self.half_open += links
        for link in links:
            link.half_open = not tell_server
            link.close(reset=True, server=tell_server)
        return len(links)

    def stop(self):
        self._stopped = True
        with suppress(OSError):
            self.server.close()
        self.cut()
        with self.lock:
            links, self.half_open = self.half_open, []
        for link in links:
            link.close(reset=True)

    def _accept_loop(self):
        while not self._stopped:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            if self.mode == "refuse":
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            link = _Link(client, upstream)
            if self.mode == "hang":
                link.flowing.clear()
            with self.lock:
                self.links.add(link)
            threading.Thread(target=self._pump, args=(link, client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, upstream, client, True), daemon=True).start()

    def _pump(self, link, src, dst, from_server):
        try:
            while not link.closed:
                link.flowing.wait()
                data = src.recv(65536)
                if not data:
                    break
                link.flowing.wait()
                if from_server and link.muted:
                    continue
                dst.sendall(data)
        except OSError:
            pass
        with self.lock:
            self.links.discard(link)
        # After a half-open cut the server's side goes only when the server
        # speaks (its pump fails to forward) or at stop().
        link.close(server=from_server or not link.half_open)


class _Link:
    def __init__(self, client, upstream):
        self.client, self.upstream = client, upstream
        self.flowing = threading.Event()
        self.flowing.set()
        self.muted = False
        self.closed = False
        self.half_open = False

    def close(self, reset=False, server=True):
        self.closed = True
        self.flowing.set()  # wake the pumps
        for s in (self.client, self.upstream) if server else (self.client,):
            if reset:
                _reset(s)
            else:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    s.close()


def _reset(s):
    """Close with RST (SO_LINGER 0): the peer sees 'connection reset'.
    shutdown(SHUT_RD) first wakes a pump blocked in recv() on it: close()
    alone does not, and the socket (so the RST) lives on until that recv()
    returns, i.e. until the peer sends something. A backend idle in its
    transaction sends nothing: it stayed behind, half-open, holding its
    locks."""
    with suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with suppress(OSError):
        s.shutdown(socket.SHUT_RD)
    with suppress(OSError):
        s.close()


# -- processes of their own ----------------------------------------------

def _watchdog(folder):
    """Waits for EOF on stdin (our parent is gone, or closed the cluster),
    then makes sure nothing of the cluster is left."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the test, not for us
    with suppress(OSError):
        while sys.stdin.buffer.readline():
            pass  # the postmaster's pid, for the record; the data folder finds them all
    data = os.path.join(folder, "data")
    if os.path.isdir(data):
        _stop_processes_in(data)
    shutil.rmtree(folder, ignore_errors=True)


def _serve():
    """One cluster driven by line commands (for the C++ tests); see the module note."""
    def answer(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    reason = pg_unavailable()
    if reason:
        answer({"ok": False, "skip": True, "error": reason})
        return
    try:
        pg = PgCluster()
    except Exception as e:  # noqa: BLE001 - reported to the test
        answer({"ok": False, "error": str(e)})
        return
    proxies = {}
    answer({"ok": True, "port": pg.port, "socket_dir": pg.folder, "admin_url": pg.admin_url, "user": USER,
            "password": pg.password, "pid": pg.pid})
    pg.prefetch_database()
    try:
        for line in sys.stdin:
            words = line.split(maxsplit=2)
            if not words:
                continue
            cmd = words[0]
            try:
                if cmd == "createdb":
                    url = pg.create_database()
                    answer({"ok": True, "name": url.rsplit("/", 1)[1], "url": url})
                    pg.prefetch_database()  # for the next test
                elif cmd == "kill9":
                    pg.kill9()
                    answer({"ok": True})
                elif cmd in ("start", "restart"):
                    answer({"ok": True, "pid": pg.start() if cmd == "start" else pg.restart()})
                elif cmd == "stop":
                    pg.stop(words[1] if len(words) > 1 else "fast")
                    answer({"ok": True})
                elif cmd == "proxy":
                    p = pg.proxy()
                    proxies[len(proxies) + 1] = p
                    answer({"ok": True, "id": len(proxies), "port": p.port})
                elif cmd == "cut":
                    half = len(words) > 2 and words[2].strip() == "half"
                    answer({"ok": True, "cut": proxies[int(words[1])].cut(tell_server=not half)})
                elif cmd == "mode":
                    proxies[int(words[1])].set_mode(words[2].strip())
                    answer({"ok": True})
                elif cmd in ("freeze", "mute", "release"):
                    getattr(proxies[int(words[1])], cmd)()
                    answer({"ok": True})
                elif cmd == "sql":
                    answer({"ok": True, "rows": pg.sql(words[2], db=words[1])})
                else:
                    answer({"ok": False, "error": f"unknown command {cmd!r}"})
            except Exception as e:  # noqa: BLE001 - reported to the test
                answer({"ok": False, "error": str(e)})
    finally:
        pg.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "watchdog":
        _watchdog(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "serve":
        _serve()
    else:
        sys.stderr.write("usage: pg_cluster.py serve | watchdog FOLDER\n")
        sys.exit(2)
