"""Standby daemons on one PostgreSQL store (SPEC §11, issue 24): several real
depositd processes share one [store] url; per chain one of them leads (holds
the lease "chain:<id>" and scans), the others stand by and take over when the
leader dies (kill -9), is cut off from the database, or stops cleanly.

Every test keeps making transfers to the pool while the faults happen, and
ends by comparing the shared store with what a SQLite daemon that saw no
fault made of the same chain: the same deposits (id -> status) and the same
event ids, none lost and none doubled; every event reaches the webhook
receiver at least once and at most twice (a delivery in flight when its
process died is made again).

DEPOSITD_STANDBY_CYCLES (default 10): kill -9 cycles of the first test."""
import collections
import contextlib
import os
import random
import re
import statistics
import threading
import time
import unittest
import urllib.parse

import harness
from harness import Anvil, PgDaemonTestCase, Receiver, evm_chain_block, pool_addresses, wait_until

TAKEOVER_BOUND = 15.0  # SPEC §11: a standby takes over within 15 s


class Traffic:
    """A background thread that keeps paying the pool (token transfers, some
    ETH, some empty blocks) until stop(); bounded by `limit` seconds."""

    def __init__(self, node, token, pool, interval=0.3, seed=1, limit=420):
        self.node, self.token, self.pool = node, token, pool
        self.interval, self.limit = interval, limit
        self.rnd = random.Random(seed)
        self.done = threading.Event()
        self.sent = 0
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        deadline = time.monotonic() + self.limit
        i = 0
        while not self.done.wait(self.interval) and time.monotonic() < deadline:
            try:
                to = self.pool[self.rnd.randrange(len(self.pool))]
                if i % 5 == 4:
                    self.node.send_eth(to, 10**15 + i)
                else:
                    self.node.transfer_token(self.token, to, 1000 + i)
                if i % 7 == 0:
                    self.node.mine(self.rnd.randint(1, 3))
                self.sent += 1
            except Exception as e:  # noqa: BLE001 - reported by stop()
                self.errors.append(repr(e))
                if len(self.errors) > 20:
                    return
            i += 1

    def stop(self):
        self.done.set()
        self.thread.join(timeout=60)
        return self.sent


class RoleWatch:
    """Polls one daemon's role for a chain every 50 ms in its own thread (a
    daemon whose /health is slow does not hold up the watch of another):
    samples of (seconds since start, role or None)."""

    def __init__(self, case, d, chain=None):
        self.samples = []
        self.t0 = time.monotonic()
        self.done = threading.Event()

        def run():
            while not self.done.is_set():
                started = time.monotonic() - self.t0
                r = case.role(d, chain)
                self.samples.append((time.monotonic() - self.t0, r, started))
                self.done.wait(0.05)
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def first(self, pred):
        """When a sample with pred(role) first came back (seconds since start)."""
        for t, r, _ in list(self.samples):
            if pred(r):
                return t
        return None

    def said_after(self, role, after):
        """Samples whose request started after `after` and answered role."""
        return [(round(st, 2), round(t, 2)) for t, r, st in list(self.samples) if r == role and st > after]

    def stop(self):
        self.done.set()
        self.thread.join(timeout=15)


class StandbyDaemons(PgDaemonTestCase):
    work_prefix = "depositd-standby-"
    chain_id = "local"

    # -- looking at the daemons ------------------------------------------

    @staticmethod
    def health(d, timeout=5):
        """/health's body, or None (not running, not answering within timeout)."""
        if d.proc is None or d.proc.poll() is not None:
            return None
        try:
            _, body = harness.http_json("GET", d.url("/health"), timeout=timeout)
        except Exception:  # noqa: BLE001
            return None
        return body if isinstance(body, dict) else None

    def chain(self, d, chain=None):
        body = self.health(d)
        for c in (body or {}).get("chains", []):
            if c.get("chainId") == (chain or self.chain_id):
                return c
        return None

    def role(self, d, chain=None):
        return (self.chain(d, chain) or {}).get("role")

    def leaders(self, daemons, chain=None):
        return [d for d in daemons if self.role(d, chain) == "leader"]

    def stored_height(self, db, chain=None):
        rows = self.pg.sql(f"SELECT height FROM chain_cursors WHERE chain_id = '{chain or self.chain_id}'", db=db)
        return int(rows[0][0]) if rows else -1

    def sessions(self, db):
        """pg_stat_activity of the database, for failure messages."""
        with contextlib.suppress(Exception):
            return self.pg.sql("SELECT pid, application_name, state, wait_event_type, wait_event, "
                               "round(extract(epoch FROM now() - xact_start)::numeric, 1) AS xact_s, "
                               f"left(query, 100) FROM pg_stat_activity WHERE datname = '{db}'")
        return "(pg_stat_activity unavailable)"

    def leases(self, db):
        with contextlib.suppress(Exception):
            return self.pg.sql("SELECT name, holder, epoch, expires_at - (extract(epoch FROM clock_timestamp()) * 1000)"
                               "::bigint AS left_ms FROM leases ORDER BY name", db=db)
        return "(leases unavailable)"

    # -- a chain, traffic, the shared store, the reference ---------------

    def setup_chain(self, pool_size=20, seed=1, history=10):
        node = self.started(Anvil())
        token = node.deploy_token()
        pool = pool_addresses(pool_size, seed=seed)
        for i in range(history):
            node.transfer_token(token, pool[i % len(pool)], 500 + i)
        chain = evm_chain_block(self.chain_id, node.url, token, confirmations=2)
        return node, token, pool, chain

    def shared_store(self):
        url = self.pg.create_database()
        return url, url.rsplit("/", 1)[1]

    def leader_and_standby(self, chain, pool, hook, a_store, b_store, **kw):
        """Daemon a on a_store (it imports the pool and leads), then b on
        b_store (one database either way), which must stand by."""
        a = self.daemon(chain, "a", store=a_store, webhook_url=hook.url, **kw)
        b = self.daemon(chain, "b", store=b_store, webhook_url=hook.url, **kw)
        a.import_addresses(pool)
        a.start()
        wait_until(lambda: self.role(a) == "leader", timeout=30, what="a leading")
        b.start()
        self.assertEqual(self.role(b), "standby")
        return a, b

    def reference(self, chain, pool):
        """The SQLite daemon that sees no fault, following the same chain from
        block 0 beside the others all along."""
        ref = self.daemon(chain, "reference", store="sqlite")
        ref.import_addresses(pool)
        return ref.start()

    def traffic(self, node, token, pool, seed=1, **kw):
        t = Traffic(node, token, pool, seed=seed, **kw)
        self.cleanups.append(t.stop)
        return t

    def finish_and_compare(self, node, traffic, ref, daemons, hook, db):
        """Stops the traffic, lets the leader and the reference catch up and
        the deliveries settle, stops everything and compares with the
        reference. Returns (deposits, events, doubled deliveries)."""
        sent = traffic.stop()
        self.assertEqual(traffic.errors, [], "the traffic thread failed")
        node.mine(5)
        head = node.block_number()
        wait_until(lambda: (self.chain(ref) or {}).get("scanned", -1) >= head, timeout=180, interval=0.25,
                   what="the reference catching up")
        wait_until(lambda: self.stored_height(db) >= head, timeout=180, interval=0.25,
                   what=f"the leader catching up (leases {self.leases(db)})")
        leader = wait_until(lambda: self.leaders([d for d in daemons if self.health(d)]), timeout=30,
                            what="a leader at the end")
        self.assertEqual(len(leader), 1, "exactly one leader at the end")
        self.assertGreaterEqual((self.chain(leader[0]) or {}).get("scanned", -1), head)
        want_deposits, want_events = ref.deposits(), ref.event_ids()
        # Deliveries settle: every event delivered in the store and at the
        # receiver (a delivery claimed by a killed process is due again after
        # 2 * webhook timeout + 30 s = 34 s).
        undelivered = lambda: int(self.pg.sql("SELECT count(*) FROM events WHERE status <> 'delivered'",  # noqa: E731
                                              db=db)[0][0])
        received = lambda: {i for i, _ in list(hook.events)}  # noqa: E731
        wait_until(lambda: undelivered() == 0 and received() >= {e[0] for e in want_events}, timeout=150,
                   interval=0.5, what="every event delivered")
        time.sleep(1.0)  # a straggling second delivery, if any, arrives now
        for d in daemons:
            d.stop()
        ref.stop()
        got_deposits, got_events = daemons[0].deposits(), daemons[0].event_ids()
        self.assertGreater(len(want_deposits), 10)
        self.assertEqual(set(got_deposits) - set(want_deposits), set(), "deposits the reference does not have")
        self.assertEqual(set(want_deposits) - set(got_deposits), set(), "deposits lost")
        self.assertEqual(got_deposits, want_deposits, "deposit statuses differ")
        self.assertEqual(got_events, want_events)
        counts = collections.Counter(i for i, _ in list(hook.events))
        self.assertEqual(set(counts), {e[0] for e in want_events}, "the receiver got events the store does not have")
        too_many = {i: n for i, n in counts.items() if n > 2}
        self.assertEqual(too_many, {}, "events delivered more than twice")
        self.assertEqual(hook.bad_signatures, 0)
        doubled = sum(1 for n in counts.values() if n == 2)
        print(f"\n  {sent} transfers; {len(want_deposits)} deposits, {len(want_events)} events equal to the "
              f"reference; {doubled} event(s) delivered twice, none more")
        return want_deposits, want_events, doubled

    # -- the tests ---------------------------------------------------------

    def test_kill9_of_the_leader_ten_times_loses_and_doubles_nothing(self):
        cycles = int(os.environ.get("DEPOSITD_STANDBY_CYCLES", "10"))
        node, token, pool, chain = self.setup_chain(pool_size=20, seed=41)
        url, db = self.shared_store()
        hook = self.started(Receiver())
        daemons = [self.daemon(chain, name, store=url, webhook_url=hook.url) for name in ("a", "b", "c")]
        daemons[0].import_addresses(pool)  # once, by depositctl, on the shared store
        daemons[0].start()
        wait_until(lambda: self.role(daemons[0]) == "leader", timeout=30, what="a leading")
        for d in daemons[1:]:
            d.start()
            self.assertEqual(self.role(d), "standby")
        # A standby's chain figures are the leader's stored progress.
        wait_until(lambda: (self.chain(daemons[1]) or {}).get("scanned") is not None, timeout=15,
                   what="the standby showing the stored progress")
        ref = self.reference(chain, pool)
        traffic = self.traffic(node, token, pool, seed=41)
        wait_until(lambda: len(daemons[0].deposits()) >= 15, timeout=60, what="some deposits")

        rnd = random.Random(41)
        times = []
        for cycle in range(cycles):
            leaders = self.leaders(daemons)
            self.assertEqual(len(leaders), 1, f"cycle {cycle}: exactly one leader ({[self.role(d) for d in daemons]})")
            victim = leaders[0]
            others = [d for d in daemons if d is not victim]
            victim.kill9()
            killed_at = time.monotonic()
            height = self.stored_height(db)  # the dead leader commits nothing more

            def taken_over():
                for d in others:
                    c = self.chain(d)
                    if c and c.get("role") == "leader" and (c.get("scanned") or -1) > height:
                        return d
                return None
            try:
                successor = wait_until(taken_over, timeout=TAKEOVER_BOUND + 15, interval=0.05, what="a takeover")
            except AssertionError as e:
                raise AssertionError(f"cycle {cycle}: {e}; leases {self.leases(db)}; roles "
                                     f"{[self.chain(d) for d in others]}") from None
            took = time.monotonic() - killed_at
            times.append(took)
            self.assertLessEqual(took, TAKEOVER_BOUND, f"cycle {cycle}: the takeover took {took:.2f} s")
            # The killed process comes back as a standby.
            victim.start()
            self.assertEqual(self.role(victim), "standby", f"cycle {cycle}: the restarted process")
            self.assertEqual(self.role(successor), "leader")
            time.sleep(rnd.uniform(0.5, 2.0))  # kill at varied points of the scan and the deliveries
            self.assertEqual(self.role(victim), "standby", f"cycle {cycle}: the restarted process, a moment later")

        roles = [self.role(d) for d in daemons]
        self.assertEqual(sorted(roles), ["leader", "standby", "standby"])
        leader_log = "".join(d.log_text() for d in daemons)
        self.assertGreaterEqual(leader_log.count(f"{self.chain_id}: leader now (lease epoch"), cycles + 1)
        self.assertGreaterEqual(leader_log.count(f"{self.chain_id}: scanning as leader (lease epoch"), cycles + 1)
        self.finish_and_compare(node, traffic, ref, daemons, hook, db)
        if times:
            print(f"  takeover after kill -9 of the leader ({len(times)} cycles, 3 daemons, same host): "
                  f"min {min(times):.2f} s, median {statistics.median(times):.2f} s, max {max(times):.2f} s")
            print("  all:", " ".join(f"{t:.2f}" for t in times))

    def test_leader_cut_off_from_the_database_is_replaced_by_expiry_and_fenced(self):
        lease = 4.0
        # freeze: nothing flows either way; mute: the server acts on what
        # a sends, a never hears back (DEPOSITD_STANDBY_CUT_MODE).
        mode = os.environ.get("DEPOSITD_STANDBY_CUT_MODE", "freeze")
        node, token, pool, chain = self.setup_chain(pool_size=20, seed=43)
        url, db = self.shared_store()
        proxy = self.pg.proxy()
        self.cleanups.append(proxy.stop)
        hook = self.started(Receiver())
        extra = f'lease = "{int(lease)}s"'
        a, b = self.leader_and_standby(chain, pool, hook, self.pg.url(db, port=proxy.port), url, store_extra=extra)
        ref = self.reference(chain, pool)
        traffic = self.traffic(node, token, pool, seed=43)
        wait_until(lambda: len(b.deposits()) >= 15, timeout=60, what="some deposits")
        self.assertEqual(self.role(a), "leader")

        # A network partition between a and the database: its sessions hang
        # without an error, and so do the ones it opens meanwhile. The worst
        # moment is taken: a's scanner inside a commit (its transaction has
        # proven the lease, so the server holds a's row lock on it until the
        # orphaned transaction is ended); up to 60 tries, else any moment.
        caught = None
        for attempt in range(60):
            proxy.set_mode("hang")
            getattr(proxy, mode)()
            time.sleep(0.1)
            ports = proxy.upstream_ports()
            rows = ports and self.pg.sql(
                "SELECT pid, left(query, 60) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' "
                f"AND client_port IN ({','.join(map(str, ports))})", db=db)
            if rows:
                caught = (attempt, rows)
                break
            if attempt == 59:
                break
            proxy.set_mode("pass")
            proxy.release()
            time.sleep(random.uniform(0.0, 0.3))
        wa, wb = RoleWatch(self, a), RoleWatch(self, b)
        self.cleanups += [wa.stop, wb.stop]
        height = self.stored_height(db)
        deadline = time.monotonic() + lease + 20
        while time.monotonic() < deadline and wb.first(lambda r: r == "leader") is None:
            time.sleep(0.05)
        b_up = wb.first(lambda r: r == "leader")
        diag = (f"sessions {self.sessions(db)}; leases {self.leases(db)}; a's roles "
                f"{collections.Counter(r for _, r, _ in wa.samples)}")
        self.assertIsNotNone(b_up, f"b never took over while a was cut off; {diag}")
        print(f"\n  a cut off ({mode}, lease {lease:.0f} s, "
              f"{'inside a transaction: ' + repr(caught) if caught else 'not inside a transaction'}): "
              f"b leader after {b_up:.2f} s")
        self.assertIsNone(b.proc.poll(), f"b died (exit {b.proc.returncode}; see its log)")
        self.assertLessEqual(b_up, lease + 2, f"b took over only after {b_up:.2f} s; {diag}")
        time.sleep(0.5)
        self.assertIsNone(b.proc.poll(), f"b died after taking over (exit {b.proc.returncode}; see its log)")
        # Scanning goes on under b.
        wait_until(lambda: self.stored_height(db) > height + 3, timeout=30, what="b scanning")
        n = len(b.deposits())
        wait_until(lambda: len(b.deposits()) > n, timeout=30, what="new deposits under b")
        time.sleep(1.0)
        wa.stop()
        wb.stop()
        # a believes itself leader no longer than the database lets anyone
        # else take over: no answer of a's /health asked after b led says
        # leader. (Its /health may not answer at all while it is cut off.)
        self.assertEqual(wa.said_after("leader", b_up), [], "a still said leader after b took over")
        a_down = wa.first(lambda r: r == "standby")
        answered = sum(1 for _, r, _ in wa.samples if r is not None)
        print(f"  during the partition a's /health answered {answered} of {len(wa.samples)} polls"
              + (f"; standby first at {a_down:.2f} s" if a_down is not None else ""))

        # The network comes back: a's held statements go through now, and
        # a writes nothing more for the chain (fenced), standing by.
        proxy.set_mode("pass")
        proxy.release()
        wait_until(lambda: self.role(a) == "standby", timeout=45, interval=0.2, what="a answering as a standby")
        end = time.monotonic() + 6
        while time.monotonic() < end:
            self.assertNotEqual(self.role(a), "leader", "a took the chain back")
            self.assertEqual(self.role(b), "leader")
            time.sleep(0.2)
        self.assertIsNone(a.proc.poll(), "a must ride out the partition")
        # a's held statement waits out query_timeout (30 s) before a learns it lost.
        wait_until(lambda: re.search(r"no longer leader|was taken over|lease gone", a.log_text()), timeout=60,
                   interval=0.5, what="a's log saying it lost the lease")
        self.finish_and_compare(node, traffic, ref, [a, b], hook, db)

    def test_postgres_restart_under_two_daemons(self):
        node, token, pool, chain = self.setup_chain(pool_size=20, seed=47)
        url, db = self.shared_store()
        hook = self.started(Receiver())
        a, b = self.leader_and_standby(chain, pool, hook, url, url)
        ref = self.reference(chain, pool)
        traffic = self.traffic(node, token, pool, seed=47)
        wait_until(lambda: len(a.deposits()) >= 15, timeout=60, what="some deposits")
        height = self.stored_height(db)

        self.pg.kill9()
        time.sleep(3)  # the traffic goes on; both daemons retry
        self.assertIsNone(a.proc.poll(), "a must ride out the outage")
        self.assertIsNone(b.proc.poll(), "b must ride out the outage")
        self.pg.start()

        # Exactly one leader, and the same one for 3 s in a row.
        def stable_leader():
            first = self.leaders([a, b])
            if len(first) != 1:
                return None
            end = time.monotonic() + 3
            while time.monotonic() < end:
                now = self.leaders([a, b])
                if now != first:
                    return None
                time.sleep(0.1)
            return first[0]
        leader = wait_until(stable_leader, timeout=60, interval=0.2,
                            what=f"one stable leader after the restart (roles {self.role(a)}, {self.role(b)})")
        print(f"\n  after the postmaster's restart: {'a' if leader is a else 'b'} leads")
        wait_until(lambda: self.stored_height(db) > height + 5, timeout=60, what="scanning after the restart")
        self.finish_and_compare(node, traffic, ref, [a, b], hook, db)

    def test_binds_on_both_apis_at_once_never_share_an_address(self):
        node, token, pool, chain = self.setup_chain(pool_size=60, seed=53, history=0)
        url, db = self.shared_store()
        a = self.daemon(chain, "a", store=url)
        b = self.daemon(chain, "b", store=url)
        a.import_addresses(pool)
        a.start()
        b.start()

        def bind(d, ref):
            for _ in range(50):
                status, res = d.post("/api/v1/deposits/bind", {"depositReference": ref, "protocol": "evm"})
                if status in (200, 201):
                    return res["data"]["address"].lower()
                # A bind that lost a race against the other process: retry.
                if not (status == 409 and isinstance(res, dict) and "Conflict" in str(res)):
                    raise AssertionError(f"bind {ref}: {status} {res}")
                time.sleep(0.02)
            raise AssertionError(f"bind {ref}: still in conflict")

        shared = [f"shared-{i}" for i in range(10)]
        results = []  # (daemon name, ref, address)
        errors = []
        lock = threading.Lock()

        def worker(name, d, t):
            own = [f"{name}-{t}-{i}" for i in range(5)]
            order = own + shared
            random.Random(f"{name}{t}").shuffle(order)
            try:
                for ref in order:
                    addr = bind(d, ref)
                    with lock:
                        results.append((name, ref, addr))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(name, d, t))
                   for name, d in (("a", a), ("b", b)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)
        self.assertFalse(any(th.is_alive() for th in threads), "bind threads still running")
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 8 * 15)
        by_ref = collections.defaultdict(set)
        by_addr = collections.defaultdict(set)
        for _, ref, addr in results:
            by_ref[ref].add(addr)
            by_addr[addr].add(ref)
        self.assertEqual({r: s for r, s in by_ref.items() if len(s) != 1}, {}, "a reference got two addresses")
        self.assertEqual({a_: s for a_, s in by_addr.items() if len(s) != 1}, {}, "an address went to two references")
        self.assertEqual(len(by_ref), 40 + 10)
        self.assertTrue(set(by_addr) <= set(pool))
        for ref in shared:  # both processes handed out the same address
            self.assertEqual({n for n, r, _ in results if r == ref}, {"a", "b"})

        # A bind on one process is visible through the other at once.
        for i in range(5):
            ref = f"seen-{i}"
            addr = bind(a if i % 2 == 0 else b, ref)
            other = b if i % 2 == 0 else a
            status, res = other.get(f"/api/v1/deposits/references/{urllib.parse.quote(ref)}")
            self.assertEqual(status, 200, res)
            self.assertEqual(res["data"]["address"].lower(), addr)
        print(f"\n  {len(results)} binds on two processes at once: {len(by_ref)} references, "
              f"{len(by_addr)} addresses, none shared")

    def test_two_chains_are_spread_over_two_daemons(self):
        node1 = self.started(Anvil())
        node2 = self.started(Anvil(extra=["--chain-id", "31338"]))
        chains = (evm_chain_block("one", node1.url, confirmations=2) +
                  evm_chain_block("two", node2.url, confirmations=2))
        url, db = self.shared_store()
        a = self.daemon(chains, "a", store=url)
        b = self.daemon(chains, "b", store=url)
        a.import_addresses(pool_addresses(5, seed=59))
        a.start()
        wait_until(lambda: self.role(a, "one") == "leader" and self.role(a, "two") == "leader", timeout=30,
                   what="a leading both chains")
        b.start()
        started = time.monotonic()

        def spread():
            ra = (self.role(a, "one"), self.role(a, "two"))
            rb = (self.role(b, "one"), self.role(b, "two"))
            return sorted(ra) == ["leader", "standby"] and sorted(rb) == ["leader", "standby"] and ra != rb
        wait_until(spread, timeout=25, interval=0.1,
                   what=f"one chain each (leases {self.leases(db)})")
        print(f"\n  two chains spread over two processes {time.monotonic() - started:.2f} s after the second started")
        b_chain = "one" if self.role(b, "one") == "leader" else "two"
        self.assertIn(f"{b_chain}: handing the chain over", a.log_text())
        for _ in range(10):  # and it stays so
            self.assertTrue(spread(), (self.leases(db)))
            time.sleep(0.3)
        # Both chains are scanned.
        for ch, node in (("one", node1), ("two", node2)):
            node.mine(3)
            h = node.block_number()
            wait_until(lambda: self.stored_height(db, ch) >= h, timeout=30, what=f"{ch} scanned")

        # A clean stop releases b's lease at once: a leads both.
        stopping = time.monotonic()
        self.assertEqual(b.stop(), 0)
        stopped = time.monotonic() - stopping
        wait_until(lambda: self.role(a, "one") == "leader" and self.role(a, "two") == "leader", timeout=20,
                   interval=0.05, what="a leading both chains after b's stop")
        took = time.monotonic() - stopping
        print(f"  after b's SIGTERM (it took {stopped:.2f} s to exit): a leads both chains after {took:.2f} s")
        self.assertLessEqual(took, 5.0)
        self.assertIn("released 1 lease(s)", b.log_text())
        node_b = node1 if b_chain == "one" else node2
        node_b.mine(3)
        h = node_b.block_number()
        wait_until(lambda: self.stored_height(db, b_chain) >= h, timeout=30, what=f"{b_chain} scanned by a")


if __name__ == "__main__":
    unittest.main()
