"""The PostgreSQL store ([store] url) under faults: the real depositd against
anvil and a throwaway PostgreSQL 15 cluster (pg_cluster.py). A kill -9 of the
postmaster in the middle of a catch-up, then its restart; a dozen resets of
every session during a catch-up, some of which the server is not told of:
the daemon shows the store as degraded meanwhile, reconnects, redoes the unit
of work it was in, and ends with the same deposits and event ids as a SQLite
daemon that saw no fault; every event reaches the webhook receiver."""
import random
import time
import unittest

from harness import Anvil, PgDaemonTestCase, Receiver, evm_chain_block, pool_addresses, wait_until
from rpc_proxy import RpcProxy


class PgStoreFaults(PgDaemonTestCase):
    work_prefix = "depositd-pg-"

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
        return node, chain, pool, head, want_deposits, want_events

    def test_connections_cut_again_and_again_mid_catch_up_lose_and_double_nothing(self):
        node, chain, pool, head, want_deposits, want_events = self.chain_and_reference(seed=31)
        # The node answers a little slowly, so that the catch-up lasts long
        # enough (~20-30 s) for every cut below to land in it.
        rpc = RpcProxy([node.url])
        self.cleanups.append(rpc.stop)
        rpc.set(delay=0.03)
        proxy = self.pg.proxy()
        self.cleanups.append(proxy.stop)
        name = self.pg.create_database().rsplit("/", 1)[1]
        hook = self.started(Receiver())
        d = self.daemon(chain.replace(node.url, rpc.url), "pg", store=self.pg.url(name, port=proxy.port),
                        webhook_url=hook.url)
        d.import_addresses(pool)
        d.start()
        scanned = lambda: (self.health(d)[1] or {}).get("chains", [{}])[0].get("scanned") or 0  # noqa: E731
        wait_until(lambda: scanned() > 0, timeout=60, interval=0.1, what="the catch-up under way")
        # A dozen cuts of every session, one every 1-2 s (a reconnect takes
        # ~0.3 s, so units complete between cuts): some land in the middle of
        # a statement, some between COMMIT and its answer, some on idle
        # sessions. Every third is half-open: the client's side is reset, the
        # server is not told, and the backend stays in its transaction with
        # its row locks until the new session ends it (or the server's
        # idle_in_transaction_session_timeout does).
        rnd = random.Random(3)
        rounds = sessions = 0
        for i in range(12):
            time.sleep(rnd.uniform(1.0, 2.0))
            if scanned() >= head:
                break
            sessions += proxy.cut(tell_server=i % 3 != 2)
            rounds += 1
        self.assertGreaterEqual(rounds, 9, "the catch-up ended before the cuts could hit it")
        wait_until(lambda: scanned() >= head, timeout=60, interval=0.2, what="catch-up after the cuts")
        delivered = lambda: {i for i, _ in list(hook.events)}  # noqa: E731
        wait_until(lambda: len(delivered()) >= len(want_events), timeout=60, what="every webhook")
        self.assertGreaterEqual(self.health(d)[1]["store"]["reconnects"], rounds)
        d.stop()
        log = d.log_text()
        # The backends of half-open cuts were found alive and ended...
        self.assertIn("ended the previous session", log)
        # ... and no statement waited out query_timeout behind one of them.
        self.assertNotIn("no answer to", log)
        self.assertEqual(d.deposits(), want_deposits)
        self.assertEqual(d.event_ids(), want_events)
        self.assertEqual(delivered(), {e[0] for e in want_events})
        print(f"\n{rounds} cuts ({sessions} sessions); {len(want_deposits)} deposits, {len(want_events)} events: "
              "none lost, none doubled")

    def test_postmaster_kill9_mid_catch_up_loses_and_doubles_nothing(self):
        _, chain, pool, head, want_deposits, want_events = self.chain_and_reference(seed=23)

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
