"""Payment links under abuse (SPEC §8, issue 18), the real depositd on a real
anvil, behind a reverse proxy it trusts ([api].trusted_proxies = 127.0.0.1,
the client in X-Forwarded-For):

- GETs of /checkout/{slug} create nothing (crawlers, link previews, <img>);
- one client's POSTs leave at most [orders].open_per_client (3) open
  orders, while an API order and a bind still succeed;
- the same visitor (its cookie) gets its open order back;
- inventoryTotal 2 with 2 waiting orders refuses a third visitor;
- an IPv6 client counts per /56.
"""
import http.client
import os
import shutil
import tempfile
import unittest
import urllib.parse

from harness import Anvil, Daemon, evm_chain_block, pool_addresses, wait_until
from orders_shop import orders_toml

POOL = 40  # checkout orders never take more than half of the free addresses


class CheckoutUnderAbuse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="depositd-checkout-")
        cls.node = Anvil()
        token = cls.node.deploy_token()
        wd = os.path.join(cls.work, "d")
        os.makedirs(wd)
        cls.d = Daemon(wd, evm_chain_block("local", cls.node.url, token, confirmations=1), extra=orders_toml(fiat=False))
        # The proxy in front of depositd is this machine: X-Forwarded-For names the client.
        with open(cls.d.config) as f:
            text = f.read()
        with open(cls.d.config, "w") as f:
            f.write(text.replace(f'listen = "127.0.0.1:{cls.d.port}"\n',
                                 f'listen = "127.0.0.1:{cls.d.port}"\ntrusted_proxies = ["127.0.0.1"]\n'))
        cls.d.import_addresses(pool_addresses(POOL, seed=18))
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.node.stop()
        if os.environ.get("KEEP_WORK"):
            print("work dir kept:", cls.work)
        else:
            shutil.rmtree(cls.work, ignore_errors=True)

    # --- helpers -------------------------------------------------------------------

    def browser(self, method, path, form=None, client="198.51.100.7", cookie=None, user_agent="Mozilla/5.0"):
        """(status, headers, body) of one request as a browser behind the proxy sends it."""
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        headers = {"X-Forwarded-For": client, "User-Agent": user_agent}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if cookie:
            headers["Cookie"] = cookie
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode(errors="replace")
        finally:
            conn.close()

    def link(self, title, amount="1", inventory=None, currencies=(("USDT", "local"),)):
        body = {"title": title, "amount": amount,
                "currencies": [{"currency": c, "chainId": ch} for c, ch in currencies]}
        if inventory is not None:
            body["inventoryTotal"] = inventory
        status, res = self.d.post("/api/v1/payment-links", body)
        self.assertEqual(status, 201, res)
        status, res = self.d.post(f"/api/v1/payment-links/{res['data']['id']}/publish", {})
        self.assertEqual(status, 200, res)
        return res["data"]

    def orders_of(self, link):
        status, res = self.d.get("/api/v1/orders?limit=100")
        self.assertEqual(status, 200, res)
        return [o for o in res["data"]["orders"] if o["metadata"].get("paymentLink") == link["id"]]

    def free_addresses(self):
        status, res = self.d.get("/health")
        return [p for p in res["pool"] if p["protocol"] == "evm"][0]["free"]

    # --- the bullets of the issue -----------------------------------------------------

    def test_thirty_gets_create_nothing(self):
        link = self.link("Poster", amount="0", currencies=(("USDT", "local"), ("ETH", "local")))
        free = self.free_addresses()
        slug = link["slug"]
        paths = [f"/checkout/{slug}", f"/checkout/{slug}?pay=usdt.local", f"/checkout/{slug}?pay=usdt.local&amount=5",
                 f"/checkout/{slug}?pay=eth.local&amount=0.01&lang=zh"]
        agents = ["Mozilla/5.0", "Slackbot-LinkExpanding 1.0", "Twitterbot/1.0", "Googlebot/2.1", "curl/8.0"]
        for i in range(30):
            status, headers, body = self.browser("GET", paths[i % len(paths)], client=f"192.0.2.{i + 1}",
                                                 user_agent=agents[i % len(agents)])
            self.assertEqual(status, 200, body)
            self.assertIn('<form method="post"', body)
            self.assertNotIn("set-cookie", headers)
        self.assertEqual(self.orders_of(link), [])
        self.assertEqual(self.free_addresses(), free)
        # The form's POST is what makes an order.
        status, headers, body = self.browser("POST", f"/checkout/{slug}", {"pay": "usdt.local", "amount": "5"},
                                             client="192.0.2.200")
        self.assertEqual(status, 303, body)
        self.assertEqual(len(self.orders_of(link)), 1)

    def test_one_clients_posts_leave_three_open_orders_and_the_api_still_works(self):
        link = self.link("Sticker")
        slug = link["slug"]
        answers = [self.browser("POST", f"/checkout/{slug}", {"pay": "usdt.local"}, client="203.0.113.7")
                   for _ in range(10)]
        statuses = [a[0] for a in answers]
        self.assertEqual(statuses.count(303), 3, statuses)
        self.assertEqual(statuses.count(429), 7, statuses)
        refused = [a for a in answers if a[0] == 429][0]
        self.assertEqual(refused[1].get("retry-after"), "60")
        self.assertIn("Too many open orders", refused[2])
        mine = self.orders_of(link)
        self.assertLessEqual(len([o for o in mine if o["status"] in ("waiting", "paid")]), 3)
        # The checkout traffic starved nobody: an API order and a bind succeed.
        status, res = self.d.post("/api/v1/orders", {"orderId": "API-AFTER-CHECKOUT", "amount": "2"})
        self.assertEqual(status, 201, res)
        status, res = self.d.post("/api/v1/deposits/bind", {"depositReference": "player_after_checkout",
                                                            "protocol": "evm"})
        self.assertEqual(status, 201, res)
        # Another client behind the same proxy is not affected.
        status, _, body = self.browser("POST", f"/checkout/{slug}", {"pay": "usdt.local"}, client="203.0.113.8")
        self.assertEqual(status, 303, body)

    def test_the_same_visitor_gets_its_open_order_back(self):
        link = self.link("Mug")
        slug = link["slug"]
        status, headers, body = self.browser("POST", f"/checkout/{slug}", {"pay": "usdt.local"}, client="198.18.0.1")
        self.assertEqual(status, 303, body)
        location = headers["location"]
        self.assertTrue(location.startswith("/pay/ord_"), location)
        cookie = headers["set-cookie"].split(";")[0]
        self.assertTrue(cookie.startswith("depositd_visitor="), headers["set-cookie"])
        self.assertIn("HttpOnly", headers["set-cookie"])
        for method, form in (("POST", {"pay": "usdt.local"}), ("GET", None)):
            status, headers2, _ = self.browser(method, f"/checkout/{slug}", form, client="198.18.0.1", cookie=cookie)
            self.assertEqual((status, headers2.get("location")), (303, location))
        self.assertEqual(len(self.orders_of(link)), 1)
        status, _, page = self.browser("GET", location, client="198.18.0.1")
        self.assertEqual(status, 200)

    def test_inventory_two_with_two_waiting_refuses_a_third(self):
        link = self.link("Limited print", inventory=2)
        slug = link["slug"]
        first = self.browser("POST", f"/checkout/{slug}", {"pay": "usdt.local"}, client="100.64.1.1")
        second = self.browser("POST", f"/checkout/{slug}", {"pay": "usdt.local"}, client="100.64.1.2")
        self.assertEqual((first[0], second[0]), (303, 303))
        third = self.browser("POST", f"/checkout/{slug}", {"pay": "usdt.local"}, client="100.64.1.3")
        self.assertEqual(third[0], 410, third[2])
        self.assertIn("sold out", third[2])
        self.assertEqual(self.browser("GET", f"/checkout/{slug}", client="100.64.1.3")[0], 410)
        self.assertEqual(len(self.orders_of(link)), 2)
        # The first visitor still reaches its order.
        cookie = first[1]["set-cookie"].split(";")[0]
        status, headers, _ = self.browser("GET", f"/checkout/{slug}", client="100.64.1.1", cookie=cookie)
        self.assertEqual((status, headers.get("location")), (303, first[1]["location"]))
        status, res = self.d.get(f"/api/v1/payment-links/{link['id']}")
        self.assertEqual(res["data"]["ordersCompleted"], 0)

    def test_an_ipv6_client_counts_per_slash_56(self):
        link = self.link("Badge")
        slug = link["slug"]
        same = ["2001:db8:77:100::1", "2001:db8:77:1ff::2", "2001:db8:77:1aa:1::3", "2001:db8:77:180::4"]
        statuses = [self.browser("POST", f"/checkout/{slug}", {"pay": "usdt.local"}, client=c)[0] for c in same]
        self.assertEqual(statuses, [303, 303, 303, 429])
        self.assertEqual(self.browser("POST", f"/checkout/{slug}", {"pay": "usdt.local"},
                                      client="2001:db8:77:200::1")[0], 303)
        clients = {o["id"] for o in self.orders_of(link)}
        self.assertEqual(len(clients), 4)


if __name__ == "__main__":
    unittest.main(verbosity=2)
