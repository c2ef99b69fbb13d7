"""--post into a real ClickHouse: Debian's clickhouse-server (18.16), started
for this file on free ports of 127.0.0.1 with its data in a temporary
directory (receivers.ClickHouse), loaded over HTTP with
`INSERT ... FORMAT JSONEachRow` and `--format ndjson`, and checked with
clickhouse-client: row count, and a checksum over every row's values, so a
record lost, doubled or altered on the way shows.

One server serves the whole file, each test in a table of its own. It is
stopped by its PID when the module ends, whatever happened (and dies with the
test process if that is killed outright).
"""

import datetime
import hashlib
import itertools
import json
import os
import tempfile
import unittest

import bp
import receivers

_tables = itertools.count(1)

# Strings whose bytes must survive JSON escapes, UTF-8 and ClickHouse's parser.
TEXTS = [
    "plain",
    "café ☃ 𝄞 日本語",
    'quote " backslash \\ slash /',
    "tab\tnewline\ncr\r",
    "",
    "x" * 300,
]

INSERT = "?query=INSERT%20INTO%20{table}%20FORMAT%20JSONEachRow"


def records(n: int) -> list:
    """n JSON records {"i":..,"s":..} with varied spellings: escapes, raw
    UTF-8, spaces inside, keys in either order."""
    out = []
    for i in range(n):
        s = TEXTS[i % len(TEXTS)] + f"#{i}"
        if i % 3 == 0:
            out.append(json.dumps({"i": i, "s": s}, ensure_ascii=True, separators=(",", ":")).encode())
        elif i % 3 == 1:
            out.append(json.dumps({"s": s, "i": i}, ensure_ascii=False).encode())
        else:
            out.append(b'{ "i" : %d , "s" : %s }' % (i, json.dumps(s).encode()))
    return out


def expected_checksum(rows) -> int:
    """What CHECKSUM_SQL computes, in Python: the sum, modulo 2^64, of the first
    8 bytes (little-endian) of MD5("i|s") over the rows."""
    total = 0
    for i, s in rows:
        total += int.from_bytes(hashlib.md5(f"{i}|{s}".encode()).digest()[:8], "little")
    return total % (1 << 64)


SERVER = None


def setUpModule():
    global SERVER
    SERVER = receivers.ClickHouse.start()
    unittest.addModuleCleanup(SERVER.stop)


CHECKSUM_SQL = "SELECT count(), sum(reinterpretAsUInt64(MD5(concat(toString(i), '|', s)))) FROM {table}"


class ClickHouseTest(unittest.TestCase):
    def setUp(self):
        self.server = SERVER
        scratch = tempfile.TemporaryDirectory(prefix="bp-ch-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name

    def new_table(self, columns="i UInt64, s String") -> str:
        table = f"t{next(_tables)}"
        self.server.query(f"CREATE TABLE {table} ({columns}) ENGINE = MergeTree ORDER BY tuple()")
        return table

    def write_input(self, recs) -> str:
        path = os.path.join(self.dir, "in.ndjson")
        with open(path, "wb") as f:
            f.writelines(r + b"\n" for r in recs)
        return path

    def count_and_checksum(self, table) -> tuple:
        count, checksum = self.server.query(CHECKSUM_SQL.format(table=table)).split("\t")
        return int(count), int(checksum)

    def test_100000_records_over_http_with_parallel_4(self):
        table = self.new_table()
        recs = records(100_000)
        path = self.write_input(recs)
        url = self.server.http_url + INSERT.format(table=table)
        r = bp.run(["--post", url, "--format", "ndjson", "--parallel", "4", "--stats=json", path], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        stats = bp.stats(r.stderr)
        self.assertEqual(stats["records_delivered_total"], 100_000, stats)
        self.assertGreaterEqual(stats["batches_delivered_total"], 100, stats)  # --size 1000, the default

        want = [(i, json.loads(rec)["s"]) for i, rec in enumerate(recs)]
        self.assertEqual(self.count_and_checksum(table), (100_000, expected_checksum(want)))
        # The checksum is a sum: say which rows differ if it ever disagrees.
        self.assertEqual(self.server.query(f"SELECT uniqExact(i), min(i), max(i) FROM {table}"),
                         "100000\t0\t99999")

    def test_routing_by_field_a_table_per_event_type(self):
        # README, Routing by field: the event type fills in the table name of
        # the INSERT in the URL's query; each type's rows land in its table.
        prefix = f"t{next(_tables)}"
        types = ["click", "view", "buy"]
        for t in types:
            self.server.query(f"CREATE TABLE {prefix}_{t} (i UInt64, type String) ENGINE = MergeTree ORDER BY tuple()")
        recs = [json.dumps({"i": i, "type": types[(i * 7) % 3]}).encode() for i in range(30_000)]
        path = self.write_input(recs)
        url = self.server.http_url + f"?query=INSERT%20INTO%20{prefix}_{{.type}}%20FORMAT%20JSONEachRow"
        r = bp.run(["--post", url, "--format", "ndjson", "--parallel", "4", path], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        for t in types:
            want = [i for i in range(30_000) if types[(i * 7) % 3] == t]
            got = self.server.query(f"SELECT count(), sum(i), countIf(type != '{t}') FROM {prefix}_{t}")
            self.assertEqual(got, f"{len(want)}\t{sum(want)}\t0", t)

    def test_a_batch_clickhouse_rejects_is_dead_lettered_whole_and_the_rest_loaded(self):
        # ClickHouse answers a row it cannot parse with HTTP 500 ("Code: 27"),
        # which batchpipe retries, then gives the batch up. An INSERT is
        # atomic: none of that batch's rows are stored.
        table = self.new_table()
        recs = records(3_000)
        recs[1_500] = b'{"i":"not a number","s":"bad"}'
        path = self.write_input(recs)
        dead = os.path.join(self.dir, "dead.ndjson")
        url = self.server.http_url + INSERT.format(table=table)
        r = bp.run(["--post", url, "--format", "ndjson", "--parallel", "4", "--interval", "0", "--retries", "1",
                    "--retry-delay", "10ms", "--dead-letter", dead, path], timeout=60)
        self.assertEqual(r.returncode, 4, r.stderr[-2000:])
        self.assertIn(b"HTTP 500", r.stderr)
        self.assertIn(b"Code: 27", r.stderr, "the server's own reason is quoted")
        with open(dead, "rb") as f:
            self.assertEqual(f.read(), b"".join(rec + b"\n" for rec in recs[1_000:2_000]))
        kept = [(i, json.loads(recs[i])["s"]) for i in [*range(1_000), *range(2_000, 3_000)]]
        self.assertEqual(self.count_and_checksum(table), (2_000, expected_checksum(kept)))

    # --compress into the real server. ClickHouse 18.16 decodes gzip (and
    # deflate) request bodies; zstd it does not know (newer ClickHouse does),
    # and it says so in its answer, which batchpipe quotes.

    def test_gzip_bodies_load_every_row(self):
        table = self.new_table()
        recs = records(30_000)
        url = self.server.http_url + INSERT.format(table=table)
        r = bp.run(["--post", url, "--format", "ndjson", "--compress", "gzip", "--parallel", "4", "--stats=json",
                    self.write_input(recs)], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        want = [(i, json.loads(rec)["s"]) for i, rec in enumerate(recs)]
        self.assertEqual(self.count_and_checksum(table), (30_000, expected_checksum(want)))

    def test_zstd_bodies_are_refused_by_clickhouse_18(self):
        table = self.new_table()
        url = self.server.http_url + INSERT.format(table=table) + "&enable_http_compression=1"
        r = bp.run(["--post", url, "--format", "ndjson", "--compress", "zstd", "--retries", "0",
                    self.write_input(records(10))], timeout=60)
        self.assertEqual(r.returncode, 4, r.stderr[-2000:])
        self.assertIn(b"Unknown Content-Encoding of HTTP request: zstd", r.stderr)
        self.assertEqual(self.count_and_checksum(table), (0, 0))


class ClickHouseRecipeTest(receivers.RecipeCase):
    """README's ClickHouse recipe, run as written but for the server's ports."""

    def setUp(self):
        super().setUp()
        SERVER.query("DROP TABLE IF EXISTS events")  # the recipe creates it, as for a first-time user

    def test_readme_recipe(self):
        self.server = SERVER
        recipe = receivers.readme_recipe("clickhouse")
        recipe = receivers.replace_once(recipe, "localhost:8123", f"127.0.0.1:{self.server.http_port}")
        recipe = receivers.replace_once(
            recipe, "clickhouse-client ", f"clickhouse-client --host 127.0.0.1 --port {self.server.tcp_port} ")

        # ISO 8601 times with zones, and a field the table does not have.
        events = []
        for n in range(25_000):
            events.append({"time": f"2026-12-02T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.5+01:00",
                           "level": ("info", "warn", "error")[n % 3], "msg": f"event {n} ✓ \"q\"",
                           "host": "web-1"})
        self.write_events([json.dumps(e).encode() for e in events])
        self.assert_ran(self.run_recipe(recipe), recipe)
        self.assertFalse(os.path.exists(self.path("failed.ndjson")))

        got = self.server.query(
            "SELECT count(), countIf(level = 'error'), min(time), max(time),"
            " sum(reinterpretAsUInt64(MD5(msg))) FROM events")
        want_sum = sum(int.from_bytes(hashlib.md5(e["msg"].encode()).digest()[:8], "little")
                       for e in events) % (1 << 64)
        # DateTime keeps whole seconds, shown in the server's zone (UTC).
        times = [datetime.datetime.fromisoformat(e["time"]).astimezone(datetime.timezone.utc)
                 .strftime("%Y-%m-%d %H:%M:%S") for e in events]
        self.assertEqual(got.split("\t"), ["25000", str(sum(e["level"] == "error" for e in events)),
                                           min(times), max(times), str(want_sum)])

    def test_readme_recipe_dead_letters_exactly_five_bad_rows_in_100000(self):
        # A time it cannot read (400, Code: 41), a number for a string (400,
        # Code: 26), a line that is not an object (500, Code: 27).
        self.server = SERVER
        recipe = receivers.readme_recipe("clickhouse")
        recipe = receivers.replace_once(recipe, "localhost:8123", f"127.0.0.1:{self.server.http_port}")
        recipe = receivers.replace_once(
            recipe, "clickhouse-client ", f"clickhouse-client --host 127.0.0.1 --port {self.server.tcp_port} ")
        recs = receivers.events(100_000)
        bad = {10: b'{"time":"not a time","level":"info","msg":"a"}', 33_333: b'{"time":"2026-12-02T00:00:00Z","level":7,"msg":"b"}',
               50_000: b'[1,2,3]', 50_001: b'{"time":"2026-12-02T00:00:00Z","level":"x","msg":{"c":1}}',
               99_999: b'"just a string"'}
        for i, rec in bad.items():
            recs[i] = rec
        self.write_events(recs)
        r = self.run_recipe(recipe)
        self.assertEqual(r.returncode, 4, r.stderr[-2000:])
        with open(self.path("failed.ndjson"), "rb") as f:
            self.assertEqual(sorted(f.read().splitlines()), sorted(bad.values()))
        with open(self.path("failed.why"), "rb") as f:
            why = [json.loads(line) for line in f]
        self.assertEqual(sorted(w["status"] for w in why), [400, 400, 400, 500, 500])
        self.assertTrue(all("Code: " in w["reason"] for w in why), why)
        good = [json.loads(rec) for i, rec in enumerate(recs) if i not in bad]
        got = self.server.query("SELECT count(), sum(reinterpretAsUInt64(MD5(msg))) FROM events")
        want_sum = sum(int.from_bytes(hashlib.md5(e["msg"].encode()).digest()[:8], "little")
                       for e in good) % (1 << 64)
        self.assertEqual(got.split("\t"), [str(len(good)), str(want_sum)])


if __name__ == "__main__":
    unittest.main()
