"""A scripted Solana JSON-RPC node for the integration tests (standard
library only).

Transactions are built from the two real captured transactions in
tests/fixtures/solana/ (a devnet USDC transfer and a mainnet associated token
account creation, both getTransaction in json mode), edited for new keys and
amounts, and served by getBlock in the shape Agave gives for
`transactionDetails: "accounts"` (UiAccountsList: signatures + accountKeys
objects that already include the lookup-table addresses; meta limited to err,
status, fee, balances and token balances). Slots nobody produced are
skipped: getBlock answers -32007 for them once they are below the finalized
slot and -32004 "Block not available" above it, as Agave does; getBlocks and
getBlocksWithLimit list produced slots up to the confirmed slot.

The finalized slot and its blockhash come from getLatestBlockhash
{commitment: finalized} (context.slot, value.blockhash), as from Agave's
root bank. `Node.gap`: slots missing from the node's ledger (a snapshot boot
left a hole it is still repairing): getBlock answers -32007 "skipped, or
missing due to ledger jump to recent snapshot" and the block lists leave them
out, although the cluster produced them.

Faults (seeded, on demand): HTTP 429 with Retry-After, JSON-RPC 429 errors,
`{}`, HTML, truncated JSON, -32004 or null for a block that exists, a
getBlocks list from a lagging backend, refused batches, a per-method request
limit answered with 429 + Retry-After, slow answers.
"""
import copy
import hashlib
import http.server
import json
import os
import random
import threading
import time

SOURCE = os.environ.get("DEPOSITD_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "solana")
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
USDT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
MAINNET_GENESIS = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"


def b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def key(*seed) -> str:
    """A 32-byte key (base58) from a seed."""
    return b58(hashlib.sha256("|".join(str(s) for s in seed).encode()).digest())


def signature(*seed) -> str:
    return b58(hashlib.sha512("|".join(str(s) for s in seed).encode()).digest())


def _fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        v = json.load(f)
    return v.get("result", v)


DEVNET_TRANSFER = _fixture("getTransaction_json_devnet_usdc_transfer_result.json")
MAINNET_CREATE_ATA = _fixture("getTransaction_json_mainnet_create_ata.json")


def token_balance(index, mint, owner, amount, decimals=6):
    return {"accountIndex": index, "mint": mint, "owner": owner, "programId": TOKEN_PROGRAM,
            "uiTokenAmount": {"amount": str(amount), "decimals": decimals,
                              "uiAmount": (amount / 10 ** decimals) if amount else None,
                              "uiAmountString": str(amount / 10 ** decimals)}}


def spl_transfer(tag, sender, recipient, mint, amount, ok=True, recipient_before=0):
    """The devnet fixture, re-keyed: `sender` (fee payer) moves `amount` of
    `mint` from its token account to `recipient`'s. The recipient wallet is
    not among the account keys (a plain Transfer names token accounts only)."""
    tx = copy.deepcopy(DEVNET_TRANSFER)
    rec_ata, snd_ata = key("ata", recipient, mint), key("ata", sender, mint)
    tx["transaction"]["signatures"] = [signature("spl", tag)]
    tx["transaction"]["message"]["accountKeys"] = [sender, rec_ata, snd_ata, TOKEN_PROGRAM]
    meta = tx["meta"]
    sender_before = 10 ** 12
    meta["preTokenBalances"] = [token_balance(1, mint, recipient, recipient_before),
                                token_balance(2, mint, sender, sender_before)]
    meta["postTokenBalances"] = [token_balance(1, mint, recipient, recipient_before + amount),
                                 token_balance(2, mint, sender, sender_before - amount)]
    if not ok:
        fail(tx)
    return tx


def sol_transfer(tag, sender, recipient, lamports, lookup=False, ok=True):
    """A System Program transfer in the fixture's shape. With `lookup`, a v0
    transaction whose recipient is loaded from an address lookup table."""
    tx = copy.deepcopy(DEVNET_TRANSFER)
    tx["transaction"]["signatures"] = [signature("sol", tag)]
    msg = tx["transaction"]["message"]
    meta = tx["meta"]
    pre = [50 * 10 ** 9, 7 * 10 ** 6, 1]
    post = [pre[0] - lamports - 5000, pre[1] + lamports, 1]
    if lookup:
        msg["accountKeys"] = [sender, SYSTEM_PROGRAM]
        msg["addressTableLookups"] = [{"accountKey": key("alt", tag), "readonlyIndexes": [], "writableIndexes": [3]}]
        meta["loadedAddresses"] = {"writable": [recipient], "readonly": []}
        meta["preBalances"] = [pre[0], pre[2], pre[1]]
        meta["postBalances"] = [post[0], post[2], post[1]]
        tx["version"] = 0
    else:
        msg["accountKeys"] = [sender, recipient, SYSTEM_PROGRAM]
        msg["header"] = {"numReadonlySignedAccounts": 0, "numReadonlyUnsignedAccounts": 1, "numRequiredSignatures": 1}
        meta["preBalances"], meta["postBalances"] = pre, post
        tx["version"] = "legacy"
    meta["preTokenBalances"], meta["postTokenBalances"] = [], []
    if not ok:
        fail(tx)
    return tx


def create_ata_and_fund(tag, payer, owner, mint, amount):
    """The mainnet fixture, re-keyed: `payer` creates `owner`'s token account
    (2,039,280 lamports of rent move into it) and `amount` tokens arrive from
    a token account loaded from a lookup table."""
    tx = copy.deepcopy(MAINNET_CREATE_ATA)
    ata = key("ata", owner, mint)
    src = key("ata", payer, mint)
    tx["transaction"]["signatures"] = [signature("ata", tag)]
    keys = tx["transaction"]["message"]["accountKeys"]
    keys[0], keys[1], keys[4], keys[5] = payer, ata, mint, owner
    meta = tx["meta"]
    meta["loadedAddresses"] = {"writable": [src], "readonly": []}
    meta["preBalances"].append(2039280)
    meta["postBalances"].append(2039280)
    meta["preTokenBalances"] = [token_balance(7, mint, payer, 10 ** 12)]
    meta["postTokenBalances"] = [token_balance(1, mint, owner, amount), token_balance(7, mint, payer, 10 ** 12 - amount)]
    tx["version"] = 0
    return tx


def create_ata_only(tag, payer, owner, mint):
    """The mainnet fixture as it is, re-keyed: rent into a new, empty token account."""
    tx = copy.deepcopy(MAINNET_CREATE_ATA)
    tx["transaction"]["signatures"] = [signature("ata-only", tag)]
    keys = tx["transaction"]["message"]["accountKeys"]
    keys[0], keys[1], keys[4], keys[5] = payer, key("ata", owner, mint), mint, owner
    tx["meta"]["postTokenBalances"][0].update(mint=mint, owner=owner)
    return tx


def sol_and_spl(tag, sender, recipient, lamports, mint, amount):
    """One transaction paying `recipient` both SOL (wallet in the accounts,
    loaded from a lookup table) and tokens (its token account)."""
    tx = spl_transfer(tag, sender, recipient, mint, amount)
    tx["transaction"]["signatures"] = [signature("both", tag)]
    meta = tx["meta"]
    meta["loadedAddresses"] = {"writable": [recipient], "readonly": []}
    meta["preBalances"] = meta["preBalances"] + [1_000_000]
    meta["postBalances"] = meta["postBalances"] + [1_000_000 + lamports]
    meta["preBalances"][0] += lamports
    tx["version"] = 0
    return tx


def close_token_account(tag, owner, mint, rent=2039280):
    """`owner` (fee payer, the only signer) closes its empty token account of
    `mint`: the rent comes back to the owner's wallet. The owner's SOL goes
    up, but nobody paid it: its own transaction."""
    tx = copy.deepcopy(DEVNET_TRANSFER)
    ata = key("ata", owner, mint)
    tx["transaction"]["signatures"] = [signature("close", tag)]
    msg = tx["transaction"]["message"]
    msg["accountKeys"] = [owner, ata, TOKEN_PROGRAM]
    msg["header"] = {"numReadonlySignedAccounts": 0, "numReadonlyUnsignedAccounts": 1, "numRequiredSignatures": 1}
    meta = tx["meta"]
    meta["preBalances"] = [10_000_000, rent, 1]
    meta["postBalances"] = [10_000_000 + rent - 5000, 0, 1]
    meta["preTokenBalances"] = [token_balance(1, mint, owner, 0)]
    meta["postTokenBalances"] = []
    tx["version"] = "legacy"
    return tx


def fail(tx):
    err = {"InstructionError": [0, {"Custom": 1}]}
    tx["meta"]["err"] = err
    tx["meta"]["status"] = {"Err": err}


def accounts_entry(tx):
    """getBlock's `transactionDetails: "accounts"` entry for a json-mode
    transaction (Agave: UiAccountsList + build_simple_ui_transaction_status_meta)."""
    msg = tx["transaction"]["message"]
    hdr = msg["header"]
    static = msg["accountKeys"]
    n, nsig = len(static), hdr["numRequiredSignatures"]
    loaded = tx["meta"].get("loadedAddresses") or {"writable": [], "readonly": []}
    keys = []
    for i, k in enumerate(static):
        signer = i < nsig
        writable = i < nsig - hdr["numReadonlySignedAccounts"] if signer else i < n - hdr["numReadonlyUnsignedAccounts"]
        keys.append({"pubkey": k, "writable": writable, "signer": signer, "source": "transaction"})
    keys += [{"pubkey": k, "writable": True, "signer": False, "source": "lookupTable"} for k in loaded["writable"]]
    keys += [{"pubkey": k, "writable": False, "signer": False, "source": "lookupTable"} for k in loaded["readonly"]]
    assert len(keys) == len(tx["meta"]["preBalances"]) == len(tx["meta"]["postBalances"]), tx
    meta = {k: tx["meta"][k] for k in ("err", "status", "fee", "preBalances", "postBalances",
                                       "preTokenBalances", "postTokenBalances")}
    return {"transaction": {"signatures": tx["transaction"]["signatures"], "accountKeys": keys}, "meta": meta,
            "version": tx.get("version", "legacy")}


class Chain:
    """Produced slots of the canonical fork. Hashes derive from (branch, slot)."""

    def __init__(self, fin_lag=8):
        self.lock = threading.RLock()
        self.blocks = {}       # slot -> block (result object, accounts mode)
        self.txs = {}          # slot -> [json-mode transactions]
        self.branch = "a"
        self.confirmed = 0
        self.finalized = 0
        self.fin_lag = fin_lag
        self.fin_hold = None   # when set, the finalized slot does not pass it (the cluster has not rooted yet)

    def last_slot(self):
        return max(self.blocks) if self.blocks else None

    def produce(self, slot, txs=()):
        with self.lock:
            last = self.last_slot()
            assert last is None or slot > last, (slot, last)
            parent = self.blocks[last] if last is not None else None
            block = {"blockHeight": len(self.blocks) + 250_000_000, "blockTime": 1_736_500_000 + slot * 4 // 10,
                     "blockhash": key("blockhash", self.branch, slot),
                     "parentSlot": last if last is not None else slot - 1,
                     "previousBlockhash": parent["blockhash"] if parent else key("genesis-parent"),
                     "transactions": [accounts_entry(t) for t in txs]}
            self.blocks[slot] = block
            self.txs[slot] = list(txs)
            self.confirmed = slot
            fin = slot - self.fin_lag
            if self.fin_hold is not None:
                fin = min(fin, self.fin_hold)
            self.finalized = max(self.finalized, fin)
            return block

    def finalize_all(self):
        with self.lock:
            self.fin_hold = None
            self.finalized = self.confirmed

    def hold_finalized(self):
        with self.lock:
            self.fin_hold = self.finalized

    def fork(self, keep_up_to, branch):
        """Fork choice drops every block above `keep_up_to`; new blocks get
        hashes of `branch`. Nothing at or below the finalized slot may go."""
        with self.lock:
            assert keep_up_to >= self.finalized
            for s in [s for s in self.blocks if s > keep_up_to]:
                del self.blocks[s]
                del self.txs[s]
            self.branch = branch
            self.confirmed = keep_up_to


class Node:
    def __init__(self, chain, seed=12, mints=(USDT,)):
        self.chain = chain
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.faults = False
        self.batches = True
        self.delay = 0.0                 # seconds per getBlock element (slow node)
        self.method_limit = None         # (requests, window seconds): per-method limit -> 429 + Retry-After
        self.gap = set()                 # slots missing from this node's ledger (see the module docstring)
        self.mints = set(mints)
        self.counts = {}
        self.faulted = {}
        self.limited = 0
        self.batch_requests = 0
        self.bad_requests = []
        self._window = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")) or 0)
                status, payload, headers = outer.handle(body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- faults -------------------------------------------------------------

    def _count(self, what, table):
        with self.lock:
            table[what] = table.get(what, 0) + 1

    def _chance(self, p):
        with self.lock:
            return self.faults and self.rng.random() < p

    def _limited(self, method):
        """A per-method window limit (public endpoints: 40 per 10 s per method)."""
        if not self.method_limit:
            return False
        n, window = self.method_limit
        now = time.monotonic()
        with self.lock:
            q = [t for t in self._window.get(method, []) if now - t < window]
            if len(q) >= n:
                self._window[method] = q
                self.limited += 1
                return True
            q.append(now)
            self._window[method] = q
            return False

    def handle(self, body):
        try:
            req = json.loads(body)
        except ValueError:
            return 200, {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}, {}
        methods = [r.get("method") for r in (req if isinstance(req, list) else [req])]
        for m in methods:
            self._count(m, self.counts)
        for m in set(methods):
            if self._limited(m):
                return 429, {"jsonrpc": "2.0", "error": {"code": 429, "message": "Too many requests for a specific RPC "
                             "call, contact your app developer or support@rpcpool.com."}, "id": None}, {"Retry-After": "1"}
        whole = self._whole_fault(methods)
        if whole:
            return whole
        if isinstance(req, list):
            with self.lock:
                self.batch_requests += 1
            if not self.batches:
                return 200, {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Batch requests are not supported "
                             "on your plan"}, "id": None}, {}
            return 200, [self.answer(r, in_batch=True) for r in req], {}
        return 200, self.answer(req), {}

    def _whole_fault(self, methods):
        name = methods[0] if len(methods) == 1 else "batch"
        if name in ("getGenesisHash", "getTokenSupply"):
            return None
        x = None
        with self.lock:
            if self.faults:
                x = self.rng.random()
        if x is None:
            return None
        choice = None
        if x < 0.03:
            choice = (429, {"jsonrpc": "2.0", "error": {"code": 429, "message": "Too many requests"}, "id": None},
                      {"Retry-After": "1"})
        elif x < 0.05:
            choice = (200, {"jsonrpc": "2.0", "error": {"code": 429, "message": "Connection rate limits exceeded, "
                      "contact your app developer or support@rpcpool.com."}, "id": None}, {})
        elif x < 0.08:
            choice = (200, {}, {})
        elif x < 0.10:
            choice = (502, b"<html><head><title>502 Bad Gateway</title></head></html>", {})
        elif x < 0.12:
            choice = (200, b'{"jsonrpc":"2.0","result":{"blockHeight":250000123,"blockTime":17365', {})
        elif x < 0.14:
            choice = (200, b"<html>cloudflare: checking your browser</html>", {})
        if choice:
            self._count(name, self.faulted)
        return choice

    # --- JSON-RPC -----------------------------------------------------------

    @staticmethod
    def _ok(result, rid):
        return {"jsonrpc": "2.0", "result": result, "id": rid}

    @staticmethod
    def _err(code, message, rid):
        return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": rid}

    def answer(self, req, in_batch=False):
        rid, method, params = req.get("id"), req.get("method"), req.get("params") or []
        c = self.chain

        def commitment(i):
            if len(params) > i and isinstance(params[i], dict):
                return params[i].get("commitment", "finalized")
            return "finalized"

        with c.lock:
            if method == "getSlot":
                return self._ok(c.finalized if commitment(0) == "finalized" else c.confirmed, rid)
            if method == "getGenesisHash":
                return self._ok(MAINNET_GENESIS, rid)
            if method == "getLatestBlockhash":
                at = c.finalized if commitment(0) == "finalized" else c.confirmed
                slots = [s for s in c.blocks if s <= at]
                if not slots:
                    return self._err(-32004, "Block not available", rid)
                bank = max(slots)
                return self._ok({"context": {"slot": bank}, "value": {"blockhash": c.blocks[bank]["blockhash"],
                                                                      "lastValidBlockHeight": bank + 150}}, rid)
            if method == "getTokenSupply":
                if params[0] not in self.mints:
                    return self._err(-32602, "Invalid param: not a Token mint", rid)
                return self._ok({"context": {"slot": c.confirmed}, "value": {"amount": "1000000000000000",
                                 "decimals": 6, "uiAmount": 1e9, "uiAmountString": "1000000000"}}, rid)
            if method in ("getBlocks", "getBlocksWithLimit"):
                if commitment(2) != "confirmed":
                    self.bad_requests.append(req)
                    return self._err(-32602, "expected commitment confirmed", rid)
                start = params[0]
                tip = c.confirmed
                if method == "getBlocks":
                    end = params[1]
                    if end < start or end - start > 500_000:
                        self.bad_requests.append(req)
                        return self._err(-32602, "Slot range too large; max 500000", rid)
                    if self._chance(0.08):  # a backend that lags behind the confirmed slot
                        self._count("getBlocks lagging", self.faulted)
                        tip = max(start, tip - self.rng.randint(1, 12))
                    return self._ok([s for s in sorted(c.blocks) if start <= s <= min(end, tip) and s not in self.gap],
                                    rid)
                if self._chance(0.08):
                    self._count("getBlocksWithLimit lagging", self.faulted)
                    return self._ok([], rid)
                return self._ok([s for s in sorted(c.blocks) if start <= s <= tip and s not in self.gap][:params[1]],
                                rid)
            if method == "getBlock":
                slot, cfg = params[0], params[1]
                if (cfg.get("commitment") != "confirmed" or cfg.get("encoding") != "json"
                        or cfg.get("maxSupportedTransactionVersion") != 0 or cfg.get("rewards") is not False
                        or cfg.get("transactionDetails") not in ("accounts", "none")):
                    self.bad_requests.append(req)
                    return self._err(-32602, "unexpected getBlock config", rid)
                if self.delay:
                    time.sleep(self.delay)
                if slot in self.gap:
                    return self._err(-32007, f"Slot {slot} was skipped, or missing due to ledger jump to recent "
                                             "snapshot", rid)
                block = c.blocks.get(slot)
                if block is not None and slot <= c.confirmed:
                    if self._chance(0.06):
                        self._count("getBlock -32004", self.faulted)
                        return self._err(-32004, f"Block not available for slot {slot}", rid)
                    if self._chance(0.02):
                        self._count("getBlock null", self.faulted)
                        return self._ok(None, rid)
                    if cfg["transactionDetails"] == "none":
                        block = {k: v for k, v in block.items() if k != "transactions"}
                    return self._ok(block, rid)
                if slot <= c.finalized:
                    return self._err(-32007, f"Slot {slot} was skipped, or missing due to ledger jump to recent "
                                             "snapshot", rid)
                return self._err(-32004, f"Block not available for slot {slot}", rid)
        self.bad_requests.append(req)
        return self._err(-32601, "Method not found", rid)
