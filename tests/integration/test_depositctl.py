"""depositctl end to end: the real binary on a temporary config and database.

Standard library only. DEPOSITD_BUILD points at the build directory
(build/tools/depositctl), DEPOSITD_SOURCE at the repository. depositctl never
talks to a node: the configured chain points at a closed port.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("DEPOSITD_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
CTL = os.path.join(BUILD, "tools", "depositctl")

# ---------------------------------------------------------------- encoders (test data)
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58enc(b):
    n = int.from_bytes(b, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + s


def b58check(payload):
    return b58enc(payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4])


BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def _hrp_expand(hrp):
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _convertbits(data, frombits, tobits):
    acc = bits = 0
    out = []
    for v in data:
        acc = (acc << frombits) | v
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & ((1 << tobits) - 1))
    if bits:
        out.append((acc << (tobits - bits)) & ((1 << tobits) - 1))
    return out


def segwit_address(hrp, version, program):
    const = 1 if version == 0 else 0x2BC830A3
    data = [version] + _convertbits(program, 8, 5)
    pm = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ const
    checksum = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def tron_address(b20):
    return b58check(b"\x41" + b20)


def evm_address_lower(n):
    return "0x" + hashlib.sha256(b"evm-%d" % n).hexdigest()[:40]


# ---------------------------------------------------------------- vectors (chains.md §7.2)
ZPUB = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs"
YPUB = "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP"
XPUB44 = "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj"
XPUB86 = "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ"
# m/44'/60'/0' and m/44'/195'/0' of the same "abandon x11 about" mnemonic. Computed
# with the pure-Python BIP32/Keccak of /work/shared/chains/verify_vectors.py; 0/0
# is the well-known 0x9858EfFD232B4033E47d90003D41EC34EcaEda94.
XPUB_ETH = "xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBngh5GFZaM6si3yZdUsT8ddYM3PwnATt"
XPUB_TRX = "xpub6D1AabNHCupeiLM65ZR9UStMhJ1vCpyV4XbZdyhMZBiJXALQtmn9p42VTQckoHVn8WNqS7dqnJokZHAHcHGoaQgmv8D45oNUKx6DZMNZBCd"

CONFIG = """\
[daemon]
data_dir  = "data"
log_level = "info"

[api]
listen = "127.0.0.1:0"
keys   = ["test-key-0123456789abcdef-0123456789"]

[[chains]]
id            = "ethereum"
kind          = "evm"
rpc           = ["http://127.0.0.1:9"]
confirmations = 12
native        = {{ symbol = "ETH", decimals = 18 }}
tokens = [
  {{ symbol = "USDT", contract = "0xdAC17F958D2ee523a2206206994597C13D831ec7", decimals = 6 }},
]
{pool}
"""


class Ctl(unittest.TestCase):
    """One fresh config + database per test."""

    pool_section = ""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(CTL):
            raise unittest.SkipTest(f"{CTL} not built")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="depositctl-test-")
        self.config = os.path.join(self.dir, "depositd.toml")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(pool=self.pool_section))
        self.db_path = os.path.join(self.dir, "data", "depositd.sqlite")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def ctl(self, *args, config=True, timeout=300, stdin=None):
        cmd = [CTL] + (["--config", self.config] if config else []) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=stdin)

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.returncode, 0, f"{args}: rc={r.returncode}\nstdout={r.stdout}\nstderr={r.stderr}")
        return r

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def rows(self, sql, *params):
        con = sqlite3.connect(self.db_path)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def addresses(self, protocol):
        if not os.path.exists(self.db_path):
            return []
        return [r[0] for r in self.rows("SELECT address FROM addresses WHERE protocol=? ORDER BY id", protocol)]

    def report(self, r):
        return [l for l in r.stdout.splitlines() if l.startswith("imported ")]


class ImportTest(Ctl):
    def import_file(self, protocol, text, *extra):
        path = self.write(f"{protocol}.txt", text)
        return self.ctl("pool", "import", "--protocol", protocol, "--file", path, *extra)

    def test_evm_mixed_file(self):
        text = "\n".join([
            "# EVM deposit addresses",                          # 1 comment
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",       # 2 valid, checksummed
            "",                                                 # 3 blank
            "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb",       # 4 valid, lowercase
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",       # 5 bad EIP-55 (last letter flipped)
            "  0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED  ",   # 6 duplicate of 2 (upper case), trimmed
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359,player_1,2024-01-01",  # 7 valid, CSV
            "0x1234",                                           # 8 wrong length
            "0xzzb6916095ca1df60bb79ce92ce3ea74c37c5d35",       # 9 not hex
            "   # indented comment",                            # 10 comment
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",       # 11 duplicate of 4
            "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",               # 12 a TRON address is not EVM
        ]) + "\n"
        r = self.import_file("evm", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 3, duplicates 2, invalid 4"])
        bad = [l for l in r.stderr.splitlines() if l.startswith("line ")]
        self.assertEqual([l.split(":")[0] for l in bad], ["line 5", "line 8", "line 9", "line 12"])
        self.assertIn("checksum", bad[0])
        self.assertTrue(bad[0].endswith(": 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), bad[0])
        self.assertIn("length", bad[1])
        self.assertEqual(self.addresses("evm"), [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",   # stored checksummed
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        ])
        src = self.rows("SELECT DISTINCT source, state FROM addresses")
        self.assertEqual(src, [("file:evm.txt", "free")])
        # Importing the same file again: everything valid is a duplicate now.
        r = self.import_file("evm", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 0, duplicates 5, invalid 4"])

    def test_tron(self):
        good = [tron_address(bytes([i]) * 20) for i in (1, 2)]
        bad_checksum = b58enc(b"\x41" + bytes([3]) * 20 + b"\0\0\0\0")
        text = "\n".join([
            "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",   # 1 USDT contract, valid
            good[0],                                # 2
            "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u",   # 3 typo: bad checksum
            bad_checksum,                           # 4 zero checksum
            good[1] + ",label",                     # 5 CSV
            "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",   # 6 duplicate
            "T0000000000000000000000000000000000",  # 7 not base58
            "41a614f803b6fd780986a42c78ec9c7f77e6ded13c",  # 8 hex form of line 1: duplicate
        ]) + "\n"
        r = self.import_file("tron", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 3, duplicates 2, invalid 3"])
        bad = [l.split(":")[0] for l in r.stderr.splitlines() if l.startswith("line ")]
        self.assertEqual(bad, ["line 3", "line 4", "line 7"])
        self.assertEqual(sorted(self.addresses("tron")), sorted(["TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"] + good))

    def test_bitcoin_every_type_and_network(self):
        regtest = segwit_address("bcrt", 0, bytes([7]) * 20)
        bcoin = segwit_address("rb", 0, bytes([8]) * 20)
        testnet = segwit_address("tb", 0, bytes([9]) * 20)
        text = "\n".join([
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",      # 1 P2WPKH (upper case is fine)
            "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA",              # 2 P2PKH
            "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf",              # 3 P2SH
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # 4 P2TR
            testnet,                                           # 5 tb1
            regtest,                                           # 6 bcrt1
            bcoin,                                             # 7 rb1 (bcoin regtest)
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",      # 8 bech32m on v0: invalid
            "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabB",              # 9 bad base58 checksum
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",      # 10 duplicate of 1
            "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # 11 unknown HRP
            "bc1pw5dgrnzv",                                    # 12 1-byte program
        ]) + "\n"
        r = self.import_file("bitcoin", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 7, duplicates 1, invalid 4"])
        bad = [l.split(":")[0] for l in r.stderr.splitlines() if l.startswith("line ")]
        self.assertEqual(bad, ["line 8", "line 9", "line 11", "line 12"])
        stored = self.addresses("bitcoin")
        self.assertIn("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", stored)  # canonical lower case
        for a in (regtest, bcoin, testnet, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA"):
            self.assertIn(a, stored)
        # watch_key is the scriptPubKey
        key = self.rows("SELECT hex(watch_key) FROM addresses WHERE address=?",
                        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")[0][0]
        self.assertEqual(key.lower(), "0014751e76e8199196d454941c45d1b3a323f1433bd6")

    def test_solana(self):
        text = "\n".join([
            "11111111111111111111111111111111",              # 1 32 zero bytes
            "644PJ6UW8e4gQpjKdBVd4MCYasWjSECKjqd2qzdeAJY6",  # 2
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",   # 3
            b58enc(b"\x05" * 31),                           # 4 31 bytes: wrong length
            "644PJ6UW8e4gQpjKdBVd4MCYasWjSECKjqd2qzdeAJY0",  # 5 '0' is not base58
            "644PJ6UW8e4gQpjKdBVd4MCYasWjSECKjqd2qzdeAJY6",  # 6 duplicate
            "abc",                                          # 7 too short
        ]) + "\n"
        r = self.import_file("solana", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 3, duplicates 1, invalid 3"])
        bad = [l.split(":")[0] for l in r.stderr.splitlines() if l.startswith("line ")]
        self.assertEqual(bad, ["line 4", "line 5", "line 7"])

    def test_strict_rejects_whole_file(self):
        text = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\n" \
               "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n"
        r = self.import_file("evm", text, "--strict")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("line 2:", r.stderr)
        self.assertIn("evm.txt", r.stderr)          # the message names the file
        self.assertIn("nothing imported", r.stderr)
        self.assertEqual(self.addresses("evm"), [])
        # the same file without the bad line imports under --strict
        r = self.import_file("evm", text.replace("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\n", ""), "--strict")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 2, duplicates 0, invalid 0"])

    def test_csv_with_header_quotes_and_crlf(self):
        text = "address,label\r\n" \
               "\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\",a\r\n" \
               "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359;b\r\n" \
               "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB\tc\r\n"
        r = self.import_file("evm", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 3, duplicates 0, invalid 0"])

    def test_only_invalid_lines_is_bad_input(self):
        r = self.import_file("evm", "nonsense\n0x12\n")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(self.report(r), ["imported 0, duplicates 0, invalid 2"])

    def test_empty_file_and_stdin(self):
        r = self.import_file("evm", "# nothing here\n\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 0, duplicates 0, invalid 0"])
        r = self.ok("pool", "import", "--protocol", "evm", "--file", "-",
                    stdin="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n")
        self.assertEqual(self.report(r), ["imported 1, duplicates 0, invalid 0"])

    def test_missing_file(self):
        r = self.ctl("pool", "import", "--protocol", "evm", "--file", os.path.join(self.dir, "nope.txt"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("nope.txt", r.stderr)

    def test_hundred_thousand_lines(self):
        n = 100_000
        path = os.path.join(self.dir, "big.txt")
        with open(path, "w") as f:
            for i in range(n):
                f.write(evm_address_lower(i) + "\n")
            f.write(evm_address_lower(5) + "\n")  # one duplicate
        t0 = time.monotonic()
        r = self.ok("pool", "import", "--protocol", "evm", "--file", path)
        took = time.monotonic() - t0
        self.assertEqual(self.report(r), [f"imported {n}, duplicates 1, invalid 0"])
        self.assertEqual(self.rows("SELECT count(*) FROM addresses")[0][0], n)
        self.assertLess(took, 60, "100k lines (sanitizer build) must not take a minute")
        r = self.ok("pool", "stats", "--json")
        self.assertEqual(json.loads(r.stdout)["evm"]["free"], n)


    def test_zero_address_is_invalid(self):
        text = "\n".join([
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",   # 1 valid
            "0x0000000000000000000000000000000000000000",   # 2 the zero address
            "0000000000000000000000000000000000000000",     # 3 the same without 0x
            "0x0000000000000000000000000000000000000001",   # 4 valid (not zero)
        ]) + "\n"
        r = self.import_file("evm", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 2, duplicates 0, invalid 2"])
        bad = [l for l in r.stderr.splitlines() if l.startswith("line ")]
        self.assertEqual([l.split(":")[0] for l in bad], ["line 2", "line 3"])
        for l in bad:
            self.assertIn("zero address", l)
        zero_tron = tron_address(bytes(20))
        self.assertEqual(zero_tron, "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb")
        text = "\n".join(["TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", zero_tron, "41" + "00" * 20]) + "\n"
        r = self.import_file("tron", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.report(r), ["imported 1, duplicates 0, invalid 2"])
        bad = [l for l in r.stderr.splitlines() if l.startswith("line ")]
        self.assertEqual([l.split(":")[0] for l in bad], ["line 2", "line 3"])
        self.assertTrue(all("zero address" in l for l in bad), bad)
        # --strict: the zero address alone rejects the file.
        r = self.import_file("evm", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n" + "0x" + "0" * 40 + "\n", "--strict")
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 2", r.stderr)
        self.assertNotIn("0x0000000000000000000000000000000000000000", [a.lower() for a in self.addresses("evm")])

    def test_strict_validates_everything_before_writing_anything(self):
        # 20,000 good lines then one bad one at the very end: nothing is written,
        # although the writing would be done in several transactions.
        lines = [evm_address_lower(i) for i in range(20_000)] + ["0x1234"]
        r = self.import_file("evm", "\n".join(lines) + "\n", "--strict")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("line 20001", r.stderr)
        self.assertEqual(self.addresses("evm"), [])


class FilesTest(Ctl):
    """Issue 10: private files, another user's database, ${VAR}s depositctl does not need."""

    @staticmethod
    def mode(path):
        return os.stat(path).st_mode & 0o777

    def test_database_0600_and_data_dir_0700(self):
        old = os.umask(0o022)
        try:
            path = self.write("pool.txt", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n")
            self.ok("pool", "import", "--protocol", "evm", "--file", path)
        finally:
            os.umask(old)
        data = os.path.join(self.dir, "data")
        self.assertEqual(self.mode(data), 0o700)
        self.assertEqual(self.mode(self.db_path), 0o600)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.db_path + suffix):
                self.assertEqual(self.mode(self.db_path + suffix), 0o600, suffix)

    def test_the_daemon_creates_them_private_too(self):
        depositd = os.path.join(BUILD, "daemon", "depositd")
        if not os.path.exists(depositd):
            self.skipTest("depositd not built")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(pool="").replace('data_dir  = "data"', 'data_dir  = "state/deep/data"'))
        old = os.umask(0o022)
        try:
            proc = subprocess.Popen([depositd, "--config", self.config], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"})
        finally:
            os.umask(old)
        try:
            db = os.path.join(self.dir, "state", "deep", "data", "depositd.sqlite")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not os.path.exists(db + "-wal"):
                time.sleep(0.05)
            self.assertTrue(os.path.exists(db + "-wal"), "the daemon did not open its database")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for d in ("state", "state/deep", "state/deep/data"):
            self.assertEqual(self.mode(os.path.join(self.dir, d)), 0o700, d)
        self.assertEqual(self.mode(db), 0o600)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(db + suffix):
                self.assertEqual(self.mode(db + suffix), 0o600, suffix)

    def test_refuses_another_users_database(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to give the files to another user (unit-tested with an injected uid)")
        self.ok("pool", "stats")  # creates data/ and the database, as root
        nobody = 65534
        for root, dirs, files in os.walk(os.path.join(self.dir, "data")):
            os.chown(root, nobody, nobody)
            for f in files:
                os.chown(os.path.join(root, f), nobody, nobody)
        before = {f: os.stat(os.path.join(self.dir, "data", f)).st_mtime_ns
                  for f in os.listdir(os.path.join(self.dir, "data"))}
        path = self.write("pool.txt", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n")
        for args in (("pool", "import", "--protocol", "evm", "--file", path), ("pool", "stats"),
                     ("bind", "ref1", "--protocol", "evm")):
            r = self.ctl(*args)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("belongs to user", r.stderr)
            self.assertIn("sudo -u ", r.stderr)
        # Nothing was written, nothing new belongs to root.
        for f in os.listdir(os.path.join(self.dir, "data")):
            st = os.stat(os.path.join(self.dir, "data", f))
            self.assertEqual(st.st_uid, nobody, f)
            self.assertEqual(st.st_mtime_ns, before.get(f), f)
        # Only the data directory is another user's: creating the database in it is refused too.
        shutil.rmtree(os.path.join(self.dir, "data"))
        os.makedirs(os.path.join(self.dir, "data"))
        os.chown(os.path.join(self.dir, "data"), nobody, nobody)
        r = self.ctl("pool", "stats")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("sudo -u ", r.stderr)
        self.assertEqual(os.listdir(os.path.join(self.dir, "data")), [])

    def test_unset_variables_of_keys_depositctl_does_not_read(self):
        unset = {k: v for k, v in os.environ.items() if not k.startswith("DEPOSITCTL_TEST_")}
        text = CONFIG.format(pool='[pool]\nlow_water = 1\n')
        text = text.replace('keys   = ["test-key-0123456789abcdef-0123456789"]', 'keys   = ["${DEPOSITCTL_TEST_API_KEY}"]')
        text = text.replace('rpc           = ["http://127.0.0.1:9"]', 'rpc           = ["${DEPOSITCTL_TEST_RPC_URL}"]')
        text += '\n[webhook]\nurl = "https://shop.example/hooks"\nsecret = "${DEPOSITCTL_TEST_SECRET}"\n'
        with open(self.config, "w") as f:
            f.write(text)
        path = self.write("pool.txt", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n")
        for args in (("pool", "import", "--protocol", "evm", "--file", path), ("pool", "stats"),
                     ("bind", "ref1", "--protocol", "evm", "--json"), ("deposits", "list")):
            r = subprocess.run([CTL, "--config", self.config, *args], capture_output=True, text=True, timeout=60,
                               env=unset)
            self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        # The daemon, which uses them, still insists on every one.
        depositd = os.path.join(BUILD, "daemon", "depositd")
        if os.path.exists(depositd):
            r = subprocess.run([depositd, "--config", self.config, "--check-config"], capture_output=True, text=True,
                               timeout=60, env=unset)
            self.assertEqual(r.returncode, 2, r.stderr)
            for v in ("DEPOSITCTL_TEST_API_KEY", "DEPOSITCTL_TEST_RPC_URL", "DEPOSITCTL_TEST_SECRET"):
                self.assertIn(v, r.stderr)
        # A variable of a key depositctl reads (data_dir) is still required.
        with open(self.config, "w") as f:
            f.write(text.replace('data_dir  = "data"', 'data_dir  = "${DEPOSITCTL_TEST_DATA_DIR}"'))
        r = subprocess.run([CTL, "--config", self.config, "pool", "stats"], capture_output=True, text=True,
                           timeout=60, env=unset)
        self.assertEqual(r.returncode, 2)
        self.assertIn("daemon.data_dir", r.stderr)
        self.assertIn("DEPOSITCTL_TEST_DATA_DIR", r.stderr)


class DeriveTest(Ctl):
    def derive(self, protocol, xpub, count, *extra):
        return self.ctl("pool", "derive", "--protocol", protocol, "--xpub", xpub, "--count", str(count), *extra)

    def test_bip84_zpub_and_continue(self):
        r = self.derive("bitcoin", ZPUB, 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("derived 2", r.stdout)
        self.assertIn("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", r.stdout)   # first
        self.assertIn("bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g", r.stdout)   # last
        rows = self.rows("SELECT address, derivation_path FROM addresses ORDER BY id")
        self.assertEqual(rows, [("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "0/0"),
                                ("bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g", "0/1")])
        self.assertTrue(self.rows("SELECT source FROM addresses")[0][0].startswith("xpub:"))
        self.assertEqual(self.rows("SELECT next_index FROM xpub_cursors WHERE protocol='bitcoin'"), [(2,)])
        # A second call continues at 0/2.
        r = self.derive("bitcoin", ZPUB, 3)
        self.assertEqual(r.returncode, 0, r.stderr)
        paths = [p for (p,) in self.rows("SELECT derivation_path FROM addresses ORDER BY id")]
        self.assertEqual(paths, ["0/0", "0/1", "0/2", "0/3", "0/4"])
        self.assertIn("0/2", r.stdout)
        self.assertEqual(self.rows("SELECT next_index FROM xpub_cursors"), [(5,)])
        # --from re-derives known indexes: duplicates, cursor does not move back.
        r = self.derive("bitcoin", ZPUB, 2, "--from", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("imported 0, duplicates 2", r.stdout)
        self.assertEqual(self.rows("SELECT next_index FROM xpub_cursors"), [(5,)])

    def test_bip49_ypub(self):
        r = self.derive("bitcoin", YPUB, 1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.addresses("bitcoin"), ["37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf"])

    def test_bip44_xpub(self):
        r = self.derive("bitcoin", XPUB44, 1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.addresses("bitcoin"), ["1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA"])

    def test_bip86_taproot(self):
        r = self.derive("bitcoin", XPUB86, 1, "--script", "p2tr")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.addresses("bitcoin"),
                         ["bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"])

    def test_regtest_network(self):
        r = self.derive("bitcoin", ZPUB, 1, "--network", "regtest")
        self.assertEqual(r.returncode, 0, r.stderr)
        (addr,) = self.addresses("bitcoin")
        self.assertTrue(addr.startswith("bcrt1q"), addr)
        # same key hash as the mainnet vector: bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu
        self.assertEqual(self.rows("SELECT hex(watch_key) FROM addresses")[0][0][:4], "0014")

    def test_evm_and_tron(self):
        r = self.derive("evm", XPUB_ETH, 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.addresses("evm"), ["0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
                                                 "0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0"])
        r = self.derive("tron", XPUB_TRX, 1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.addresses("tron"), ["TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH"])

    def test_refusals(self):
        r = self.derive("solana", XPUB44, 1)
        self.assertEqual(r.returncode, 2)
        self.assertIn("Solana", r.stderr.replace("solana", "Solana"))
        self.assertIn("import", r.stderr)
        r = self.derive("evm", ZPUB, 1)   # a SegWit account key for EVM
        self.assertEqual(r.returncode, 2)
        r = self.derive("bitcoin", XPUB44[:-1] + "k", 1)  # bad checksum
        self.assertEqual(r.returncode, 2)
        self.assertIn("--xpub", r.stderr)
        r = self.derive("bitcoin", ZPUB, 0)
        self.assertEqual(r.returncode, 2)
        r = self.derive("bitcoin", ZPUB, 1, "--from", "2147483648")
        self.assertEqual(r.returncode, 2)
        r = self.derive("evm", XPUB_ETH, 1, "--network", "regtest")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(self.rows("SELECT count(*) FROM addresses")[0][0], 0)


class BindingTest(Ctl):
    pool_section = '[pool]\ncooldown = "1h"\nlow_water = 1\n'

    def setUp(self):
        super().setUp()
        path = self.write("pool.txt", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n"
                                      "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n")
        self.ok("pool", "import", "--protocol", "evm", "--file", path)

    def stats(self):
        return json.loads(self.ok("pool", "stats", "--json").stdout)

    def test_bind_unbind_stats(self):
        self.assertEqual(self.stats()["evm"], {"free": 2, "bound": 0, "cooling": 0, "total": 2})
        r = self.ok("bind", "player_42", "--protocol", "evm", "--metadata", '{"tier":"gold"}', "--json")
        b = json.loads(r.stdout)
        self.assertEqual(b["depositReference"], "player_42")
        self.assertEqual(b["protocol"], "evm")
        self.assertEqual(b["monitoredChains"], ["ethereum"])
        self.assertTrue(b["created"])
        addr = b["address"]
        # idempotent
        r = self.ok("bind", "player_42", "--protocol", "evm")
        self.assertIn(addr, r.stdout)
        self.assertEqual(self.stats()["evm"], {"free": 1, "bound": 1, "cooling": 0, "total": 2})
        r = self.ok("pool", "stats")
        self.assertRegex(r.stdout, r"evm\s+1\s+1\s+0\s+2")
        r = self.ok("unbind", "player_42")
        self.assertIn(addr, r.stdout)
        self.assertEqual(self.stats()["evm"], {"free": 1, "bound": 0, "cooling": 1, "total": 2})
        until = self.rows("SELECT cooldown_until - strftime('%s','now')*1000 FROM addresses WHERE state='cooling'")
        self.assertTrue(3_500_000 < until[0][0] <= 3_601_000, until)   # cooldown = "1h" from the config
        # no binding any more
        r = self.ctl("unbind", "player_42")
        self.assertEqual(r.returncode, 2)
        # pool runs dry
        self.ok("bind", "a", "--protocol", "evm")
        r = self.ctl("bind", "b", "--protocol", "evm")
        self.assertEqual(r.returncode, 1)
        self.assertIn("InsufficientAddresses", r.stderr)

    def test_bind_bad_input(self):
        for args in (["bind", "player 42", "--protocol", "evm"],      # space in REF
                     ["bind", "x" * 129, "--protocol", "evm"],
                     ["bind", "p", "--protocol", "dogecoin"],
                     ["bind", "p"],                                   # --protocol missing
                     ["bind", "p", "--protocol", "evm", "--metadata", "{bad json"],
                     ["bind", "p", "--protocol", "evm", "--metadata", "[1,2]"],
                     ["unbind", "p", "--protocol", "nope"]):
            r = self.ctl(*args)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stderr}")
        self.assertEqual(self.stats()["evm"]["bound"], 0)


class ListingTest(Ctl):
    def seed(self):
        self.ok("pool", "stats")  # creates the database
        con = sqlite3.connect(self.db_path)
        con.execute("INSERT INTO addresses (id, protocol, address, watch_key, source, state, created_at) "
                    "VALUES (1, 'evm', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', x'5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', 'file:t', 'bound', 1)")
        con.execute("INSERT INTO deposits (id, chain_id, tx_hash, idx, block_hash, block_number, address_id, address, "
                    "reference, currency, contract, raw_amount, decimals, from_address, confirmations, "
                    "required_confirmations, status, detected_at) VALUES ('dep_000000000000000000000001', "
                    "'ethereum', '0xaa', 7, '0xbb', 19000000, 1, '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', "
                    "'player_42', 'USDT', '0xdAC17F958D2ee523a2206206994597C13D831ec7', '125500000', 6, '0xcc', 3, "
                    "12, 'pending', 1700000000000)")
        con.execute("INSERT INTO deposits (id, chain_id, tx_hash, idx, block_hash, block_number, address_id, address, "
                    "reference, currency, contract, raw_amount, decimals, from_address, confirmations, "
                    "required_confirmations, status, detected_at, confirmed_at) VALUES "
                    "('dep_000000000000000000000002', 'ethereum', '0xab', 0, '0xbc', 19000001, 1, "
                    "'0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', NULL, 'ETH', NULL, '1000000000000000000', 18, "
                    "'0xcd', 12, 12, 'confirmed', 1700000001000, 1700000002000)")
        con.execute("INSERT INTO events (id, deposit_id, type, payload, status, attempts, next_attempt_at, "
                    "last_error, created_at) VALUES ('evt_000000000000000000000001', 'dep_000000000000000000000001', "
                    "'deposit.pending', '{\"id\":\"evt_000000000000000000000001\"}', 'failed', 7, 1700000000000, "
                    "'HTTP 500', 1700000000000)")
        con.execute("INSERT INTO events (id, deposit_id, type, payload, status, attempts, next_attempt_at, "
                    "created_at, delivered_at) VALUES ('evt_000000000000000000000002', "
                    "'dep_000000000000000000000002', 'deposit.confirmed', '{}', 'delivered', 1, 1700000002000, "
                    "1700000002000, 1700000002500)")
        con.commit()
        con.close()

    def test_deposits_list(self):
        self.seed()
        deps = json.loads(self.ok("deposits", "list", "--json").stdout)
        self.assertEqual(len(deps), 2)
        d = {x["id"]: x for x in deps}["dep_000000000000000000000001"]
        self.assertEqual(d["depositReference"], "player_42")
        self.assertEqual(d["amount"], "125.5")
        self.assertEqual(d["rawAmount"], "125500000")
        self.assertEqual(d["chainId"], "ethereum")
        self.assertEqual(d["status"], "pending")
        for key in ("address", "currency", "contract", "decimals", "txHash", "index", "from", "blockNumber",
                    "blockHash", "confirmations", "requiredConfirmations", "detectedAt", "confirmedAt"):
            self.assertIn(key, d)
        one = json.loads(self.ok("deposits", "list", "--reference", "player_42", "--json").stdout)
        self.assertEqual([x["id"] for x in one], ["dep_000000000000000000000001"])
        conf = json.loads(self.ok("deposits", "list", "--status", "confirmed", "--json").stdout)
        self.assertEqual([x["id"] for x in conf], ["dep_000000000000000000000002"])
        self.assertEqual(json.loads(self.ok("deposits", "list", "--chain", "bsc", "--json").stdout), [])
        self.assertEqual(len(json.loads(self.ok("deposits", "list", "--limit", "1", "--json").stdout)), 1)
        table = self.ok("deposits", "list").stdout
        self.assertIn("125.5", table)
        self.assertIn("player_42", table)
        self.assertIn("STATUS", table.splitlines()[0])
        self.assertEqual(self.ctl("deposits", "list", "--status", "lost").returncode, 2)
        self.assertEqual(self.ctl("deposits", "list", "--limit", "0").returncode, 2)

    def test_events_list_and_resend(self):
        self.seed()
        evs = json.loads(self.ok("events", "list", "--json").stdout)
        self.assertEqual({e["id"]: (e["status"], e["attempts"]) for e in evs},
                         {"evt_000000000000000000000001": ("failed", 7),
                          "evt_000000000000000000000002": ("delivered", 1)})
        failed = json.loads(self.ok("events", "list", "--status", "failed", "--json").stdout)
        self.assertEqual([e["id"] for e in failed], ["evt_000000000000000000000001"])
        typed = json.loads(self.ok("events", "list", "--type", "deposit.confirmed", "--json").stdout)
        self.assertEqual([e["id"] for e in typed], ["evt_000000000000000000000002"])
        table = self.ok("events", "list").stdout
        self.assertRegex(table, r"evt_000000000000000000000001\s+deposit.pending\s+\S+\s+failed\s+7")
        self.ok("events", "resend", "evt_000000000000000000000001")
        status = self.rows("SELECT status FROM events WHERE id='evt_000000000000000000000001'")[0][0]
        self.assertEqual(status, "pending")
        r = self.ctl("events", "resend", "evt_nope")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(self.ctl("events", "list", "--status", "sent").returncode, 2)


class UsageTest(Ctl):
    def test_version_and_help(self):
        r = self.ctl("--version", config=False)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^depositctl \d+\.\d+\.\d+")
        r = self.ctl("--help", config=False)
        self.assertEqual(r.returncode, 0)
        self.assertIn("pool import", r.stdout)
        for cmd in (["pool", "import"], ["pool", "derive"], ["pool", "stats"], ["bind"], ["unbind"],
                    ["deposits", "list"], ["events", "list"], ["events", "resend"]):
            r = self.ctl(*cmd, "--help", config=False)
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn("usage: depositctl", r.stdout)

    def test_bad_usage(self):
        for args in (["pool"], ["pool", "imprt"], ["frobnicate"], ["pool", "stats", "--bogus"],
                     ["pool", "stats", "extra"], ["pool", "import", "--protocol", "evm"],
                     ["pool", "import", "--protocol", "evm", "--file"],
                     ["pool", "import", "--protocol", "evm", "--protocol", "evm", "--file", "x"],
                     ["deposits", "list", "--json=yes"], ["events", "resend"], []):
            r = self.ctl(*args)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stdout} {r.stderr}")
            self.assertIn("usage", r.stderr, args)
        self.assertFalse(os.path.exists(self.db_path))  # bad usage touches nothing

    def test_missing_config(self):
        r = self.ctl("pool", "stats", config=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--config", r.stderr)
        r = subprocess.run([CTL, "--config", os.path.join(self.dir, "nope.toml"), "pool", "stats"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("nope.toml", r.stderr)

    def test_bad_config(self):
        with open(self.config, "a") as f:
            f.write("\n[pool]\ncooldown = \"soon\"\nbogus_key = 1\n")
        r = self.ctl("pool", "stats")
        self.assertEqual(r.returncode, 2)
        self.assertIn("depositd.toml", r.stderr)
        self.assertIn("pool.cooldown", r.stderr)
        self.assertFalse(os.path.exists(self.db_path))

    def test_database_failure_is_runtime_error(self):
        os.makedirs(os.path.join(self.dir, "data", "depositd.sqlite"))  # a directory where the file goes
        r = self.ctl("pool", "stats")
        self.assertEqual(r.returncode, 1, r.stderr)


if __name__ == "__main__":
    unittest.main()


class AdminCredentialsTest(Ctl):
    """depositctl admin hash-password / totp-secret: no configuration needed,
    the password only from stdin (never argv), hashes another argon2
    implementation verifies (PHP's password_verify, libargon2)."""

    def test_hash_password_from_stdin_verifies_elsewhere(self):
        r = self.ctl("admin", "hash-password", config=False, stdin="correct horse battery staple\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        hashed = r.stdout.strip()
        self.assertRegex(hashed, r"^\$argon2id\$v=19\$m=65536,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$")
        self.assertNotIn("correct horse", r.stdout + r.stderr)
        php = shutil.which("php")
        if php:
            for pw, want in (("correct horse battery staple", "yes"), ("correct horse battery stapl", "no")):
                v = subprocess.run([php, "-r", "echo password_verify(stream_get_contents(STDIN), $argv[1]) ? 'yes' : 'no';",
                                    hashed], input=pw, capture_output=True, text=True, timeout=60)
                self.assertEqual(v.stdout, want, v.stderr)
        # A second hash of the same password has another salt.
        again = self.ctl("admin", "hash-password", config=False, stdin="correct horse battery staple\n")
        self.assertNotEqual(again.stdout.strip(), hashed)
        # Short: a warning, still a hash.
        short = self.ctl("admin", "hash-password", config=False, stdin="short\n")
        self.assertEqual(short.returncode, 0)
        self.assertIn("warning", short.stderr)

    def test_hash_password_refuses_argv_and_empty_input(self):
        r = self.ctl("admin", "hash-password", "hunter2", config=False, stdin="x\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)
        self.assertEqual(r.stdout, "")
        for stdin in ("", "\n"):
            r = self.ctl("admin", "hash-password", config=False, stdin=stdin)
            self.assertEqual(r.returncode, 2, repr(stdin))
            self.assertEqual(r.stdout, "")

    def test_totp_secret(self):
        r = self.ctl("admin", "totp-secret", "--user", "ops alice", "--issuer", "Shop 1", config=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().split("\n")
        self.assertRegex(lines[0], r'^totp_secret = "[A-Z2-7]{32}"$')
        secret = lines[0].split('"')[1]
        self.assertEqual(lines[1], f"otpauth://totp/Shop%201:ops%20alice?secret={secret}&issuer=Shop%201"
                                   "&algorithm=SHA1&digits=6&period=30")
        other = self.ctl("admin", "totp-secret", "--user", "x", config=False)
        self.assertNotIn(secret, other.stdout)
        self.assertEqual(self.ctl("admin", "totp-secret", config=False).returncode, 2)
        self.assertEqual(self.ctl("admin", config=False).returncode, 2)
