"""The PostgreSQL store ([store] url) under faults: the real depositd against
anvil and a throwaway PostgreSQL 15 cluster (pg_cluster.py). A kill -9 of the
postmaster in the middle of a catch-up, then its restart: the daemon shows
the store as degraded meanwhile, reconnects, redoes the unit of work it was
in, and ends with the same deposits and event ids as a SQLite daemon that saw
no fault; every event reaches the webhook receiver."""
import os
import random
import time
import unittest

import harness
from harness import Anvil, DaemonTestCase, Receiver, evm_chain_block, pool_addresses, wait_until
from pg_cluster import pg_unavailable


class PgStoreFaults(DaemonTestCase):
    work_prefix = "depositd-pg-"

    @classmethod
    def setUpClass(cls):
        reason = pg_unavailable()
        if reason:
            raise unittest.SkipTest(reason)
        cls.pg = harness.pg_cluster()

    def health(self, d):
        try:
            return d.get("/health", auth=False)
        except Exception:  # noqa: BLE001
            return None, None

    def chain_and_reference(self, seed):
        """~800 blocks with 140 transfers to the pool, and what a SQLite
        daemon that saw no fault makes of them."""
        node = self.started(Anvil())
        token = node.deploy_token()
        pool = pool_addresses(20, seed=seed)
        rnd = random.Random(seed)
        for i in range(120):
            node.mine(rnd.randint(1, 12))
            node.transfer_token(token, pool[i % len(pool)], 2000 + i)
            if i % 6 == 0:
                node.send_eth(pool[(i * 7) % len(pool)], 10**15 + i)
        node.mine(5)
        head = node.block_number()
        chain = evm_chain_block("local", node.url, token, confirmations=2, extra="max_block_range = 10")
        reference = self.daemon(chain, "reference", store="sqlite")
        reference.import_addresses(pool)
        reference.start()
        wait_until(lambda: reference.get("/health", auth=False)[1]["chains"][0]["scanned"] >= head,
                   timeout=240, interval=0.2, what="reference catch-up")
        reference.stop()
        want_deposits, want_events = reference.deposits(), reference.event_ids()
        self.assertGreaterEqual(len(want_deposits), 140)
        return chain, pool, head, want_deposits, want_events

    @unittest.skipUnless(os.environ.get("DEPOSITD_PG_CUT_TEST"),
                         "known open defect: after some resets a redone unit's statement gets no answer and "
                         "waits out query_timeout (30 s) again and again; run with DEPOSITD_PG_CUT_TEST=1")
    def test_connections_cut_again_and_again_mid_catch_up_lose_and_double_nothing(self):
        chain, pool, head, want_deposits, want_events = self.chain_and_reference(seed=31)
        proxy = self.pg.proxy()
        self.cleanups.append(proxy.stop)
        name = self.pg.create_database().rsplit("/", 1)[1]
        hook = self.started(Receiver())
        d = self.daemon(chain, "pg", store=self.pg.url(name, port=proxy.port), webhook_url=hook.url)
        d.import_addresses(pool)
        d.start()
        # Reset every session (RST) every 50-300 ms until the catch-up is
        # done: some land in the middle of a statement, some between COMMIT
        # and its answer.
        rnd = random.Random(3)
        cuts = 0
        scanned = lambda: (self.health(d)[1] or {}).get("chains", [{}])[0].get("scanned") or 0  # noqa: E731
        deadline = time.monotonic() + 120
        while scanned() < head and time.monotonic() < deadline:
            time.sleep(rnd.uniform(0.05, 0.3))
            cuts += proxy.cut()
        self.assertGreaterEqual(cuts, 3, "the catch-up ended before the cuts could hit it")
        wait_until(lambda: (self.health(d)[1] or {}).get("chains", [{}])[0].get("scanned", 0) >= head,
                   timeout=240, interval=0.2, what="catch-up after the cuts")
        delivered = lambda: {i for i, _ in list(hook.events)}  # noqa: E731
        wait_until(lambda: len(delivered()) >= len(want_events), timeout=120, what="every webhook")
        self.assertGreaterEqual(self.health(d)[1]["store"]["reconnects"], 1)
        d.stop()
        self.assertEqual(d.deposits(), want_deposits)
        self.assertEqual(d.event_ids(), want_events)
        self.assertEqual(delivered(), {e[0] for e in want_events})
        print(f"\n{cuts} sessions cut; {len(want_deposits)} deposits, {len(want_events)} events: none lost, none doubled")

    def test_postmaster_kill9_mid_catch_up_loses_and_doubles_nothing(self):
        chain, pool, head, want_deposits, want_events = self.chain_and_reference(seed=23)

        hook = self.started(Receiver())
        d = self.daemon(chain, "pg", store=self.pg.create_database(), webhook_url=hook.url)
        d.import_addresses(pool)  # depositctl on the same [store]
        d.start()
        self.assertEqual(d.get("/health", auth=False)[1]["instance"]["store"], "postgresql")
        wait_until(lambda: len(d.deposits()) >= 20, timeout=120, interval=0.05, what="some deposits")

        self.pg.kill9()
        seen = wait_until(lambda: (self.health(d)[1] or {}).get("store", {}).get("status") == "degraded"
                          and self.health(d), timeout=30, interval=0.1, what="/health: store degraded")
        self.assertEqual(seen[0], 503)
        self.assertEqual(seen[1]["status"], "degraded")
        time.sleep(2)  # the daemon keeps retrying meanwhile
        self.assertIsNone(d.proc.poll(), "the daemon must ride out the outage")
        self.pg.start()

        wait_until(lambda: (self.health(d)[1] or {}).get("chains", [{}])[0].get("scanned", 0) >= head,
                   timeout=240, interval=0.2, what="catch-up after the restart")
        status, body = self.health(d)
        self.assertEqual(body["store"]["status"], "ok")
        self.assertGreaterEqual(body["store"]["reconnects"], 1)
        delivered = lambda: {i for i, _ in list(hook.events)}  # noqa: E731
        wait_until(lambda: len(delivered()) >= len(want_events), timeout=120, what="every webhook")
        d.stop()

        self.assertEqual(d.deposits(), want_deposits)
        self.assertEqual(d.event_ids(), want_events)
        # At least once, and nothing but our events.
        self.assertEqual(delivered(), {e[0] for e in want_events})
        self.assertEqual(hook.bad_signatures, 0)


if __name__ == "__main__":
    unittest.main()
