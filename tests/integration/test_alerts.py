"""examples/prometheus/alerts.yml parses as Prometheus rule groups, and every
depositd_* metric its expressions use is one the real daemon exports on
/metrics (after a deposit and a webhook delivery, so the lazily created
series exist too), with the labels the rules group or match by.
"""
import os
import re
import tempfile
import unittest
import urllib.request

import harness
from harness import free_port, Anvil, Daemon, Receiver, evm_chain_block, pool_addresses, wait_until

try:
    import yaml
except ImportError:  # python3-yaml (scripts/setup --test)
    yaml = None

RULES = os.path.join(harness.SOURCE, "examples", "prometheus", "alerts.yml")


def metric_families(text):
    """{family name: set of label names} from the Prometheus text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s", line)
        if not m:
            continue
        name = re.sub(r"_(bucket|sum|count)$", "", m.group(1)) if m.group(1).endswith(
            ("_bucket", "_sum", "_count")) else m.group(1)
        labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
        out.setdefault(name, set()).update(labels)
        out.setdefault(m.group(1), set()).update(labels)
    return out


@unittest.skipUnless(yaml, "python3-yaml is not installed")
class AlertRulesTest(unittest.TestCase):
    def test_rules_parse_and_use_real_metrics(self):
        with open(RULES) as f:
            doc = yaml.safe_load(f)
        rules = [r for g in doc["groups"] for r in g["rules"]]
        self.assertGreaterEqual(len(rules), 8)
        names = set()
        for r in rules:
            self.assertEqual(set(r) - {"alert", "expr", "for", "labels", "annotations"}, set(), r)
            self.assertRegex(r["alert"], r"^[A-Z][A-Za-z]+$")
            self.assertNotIn(r["alert"], names)
            names.add(r["alert"])
            self.assertIn(r["labels"]["severity"], ("critical", "warning", "info"))
            self.assertIn("summary", r["annotations"])
            if "for" in r:
                self.assertRegex(r["for"], r"^\d+[smh]$")
            # Balanced brackets: a typo there is the commonest broken rule.
            for a, b in ("()", "{}", "[]"):
                self.assertEqual(r["expr"].count(a), r["expr"].count(b), r["expr"])
        for wanted in ("DepositdChainHalted", "DepositdChainLagging", "DepositdWebhooksFailed", "DepositdPoolLow",
                       "DepositdChainDown", "DepositdChainNoProgress"):
            self.assertIn(wanted, names)

        # The daemon's real /metrics after a deposit and a delivery.
        node = Anvil()
        hook = Receiver()
        # A dead first endpoint: its failures are what depositd_rpc_errors_total
        # counts (a counter appears with its first error), anvil answers.
        dead = f"http://127.0.0.1:{free_port()}"
        d = Daemon(tempfile.mkdtemp(prefix="depositd-alerts-"),
                   evm_chain_block("devnet", [dead, node.url], confirmations=1, poll="200ms",
                                   extra="chain_id = 31337\n"), hook.url)
        try:
            d.import_addresses(pool_addresses(3, seed=5))
            d.start()
            node.send_eth(d.bind("alice"), 10**15)
            node.mine(2)
            wait_until(lambda: hook.of_type("deposit.confirmed"), timeout=30, what="a delivered webhook")
            with urllib.request.urlopen(d.url("/metrics"), timeout=10) as resp:
                families = metric_families(resp.read().decode())
        finally:
            d.stop()
            hook.stop()
            node.stop()
        used = set()
        for r in rules:
            for m in re.finditer(r"\b(depositd_[a-z0-9_]+)(\{([^}]*)\})?", r["expr"]):
                used.add(m.group(1))
                self.assertIn(m.group(1), families, f"{r['alert']}: {m.group(1)} is not exported")
                for label in re.findall(r"([a-z_]+)\s*=~?", m.group(3) or ""):
                    self.assertIn(label, families[m.group(1)], f"{r['alert']}: {m.group(1)} has no label {label}")
            for by in re.findall(r"\b(?:by|on)\s*\(([^)]*)\)", r["expr"]):
                for label in [x.strip() for x in by.split(",")]:
                    self.assertTrue(any(label in families.get(u, set()) for u in used), (r["alert"], label))
            for label in re.findall(r"\$labels\.([a-z_]+)", str(r["annotations"])):
                self.assertTrue(label in ("instance",) or any(label in families.get(u, set()) for u in used),
                                (r["alert"], label))
        for m in ("depositd_chain_halted", "depositd_chain_up", "depositd_chain_lag_blocks", "depositd_events",
                  "depositd_pool_low", "depositd_webhook_attempts_total",
                  "depositd_chain_last_success_timestamp_seconds"):
            self.assertIn(m, used)


if __name__ == "__main__":
    unittest.main()
