"""README's recipes for PostgreSQL, SQLite and Kafka, run as written against
the real receivers (ClickHouse's is in test_clickhouse.py, beside its server).

Each recipe is read from README.md (the ```sh block after
`<!-- recipe: NAME -->`) and run by `sh -e` in a scratch directory holding
`events.ndjson`, with `batchpipe` first in PATH; only the receiver's address
is put in where the README names a placeholder. What arrived is then read
back with the receiver's own client and compared with the input.

- PostgreSQL: a private cluster (receivers.PostgreSQL), reached through the
  PG* variables, so `psql -d mydb` in the recipe needs no change.
- SQLite: a new database file, as a first-time user has.
- Kafka: Debian has no broker; librdkafka's mock cluster (kafka_mock.py, the
  library kcat is built on) speaks the protocol on 127.0.0.1, and the topic
  is read back with `kcat -C`.
"""

import datetime
import hashlib
import json
import os
import select
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import bp
import receivers

HERE = os.path.dirname(os.path.abspath(__file__))

LEVELS = ("info", "warn", "error")


def events(n: int, start: int = 0) -> list:
    """Records as the recipes describe them, with varied strings; some lack a
    field, some carry one no table has."""
    out = []
    for i in range(start, start + n):
        e = {"time": (datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc)
                      + datetime.timedelta(seconds=i, milliseconds=i % 1000)).isoformat(timespec="milliseconds"),
             "level": LEVELS[i % 3],
             "msg": ["started", 'it\'s "quoted" \\ back', "café ☃ 𝄞", "tab\there\nnewline", ""][i % 5] + f" {i}"}
        if i % 7 == 0:
            del e["level"]
        if i % 11 == 0:
            e["host"] = "web-1"
        out.append(json.dumps(e, ensure_ascii=(i % 2 == 0)).encode())
    return out


def md5_sum(values) -> int:
    """Sum of the first 32 bits of MD5 of each string: order-free, but counts
    each value once per occurrence."""
    return sum(int(hashlib.md5(v.encode()).hexdigest()[:8], 16) for v in values)


class RecipeCase(unittest.TestCase):
    def setUp(self):
        scratch = tempfile.TemporaryDirectory(prefix="bp-recipe-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name
        self.env = dict(os.environ, PATH=receivers.path_with_batchpipe(self.dir, bp.binary()))

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_events(self, records) -> None:
        with open(self.path("events.ndjson"), "wb") as f:
            f.writelines(r + b"\n" for r in records)

    def run_recipe(self, script: str, env=None, timeout=60) -> subprocess.CompletedProcess:
        return subprocess.run(["sh", "-ec", script], cwd=self.dir, env=env or self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)

    def assert_ran(self, r, script):
        self.assertEqual(r.returncode, 0, f"recipe:\n{script}\nstderr: {r.stderr[-2000:]!r}")


class PostgresRecipeTest(RecipeCase):
    @classmethod
    def setUpClass(cls):
        cls.server = receivers.PostgreSQL.start()
        cls.addClassCleanup(cls.server.stop)

    def setUp(self):
        super().setUp()
        # A fresh database per test, as the recipe's reader has.
        self.db = f"mydb_{self._testMethodName[-20:]}"
        self.server.psql(f"drop database if exists {self.db}")
        self.server.psql(f"create database {self.db}")
        self.env.update({k: v for k, v in self.server.client_env().items() if k.startswith("PG")})
        self.env.pop("PGDATABASE")

    def recipe(self) -> str:
        return receivers.replace_once(receivers.readme_recipe("postgresql"), "mydb", self.db)

    def test_readme_recipe(self):
        recs = events(2_500)
        self.write_events(recs)
        script = self.recipe()
        self.assert_ran(self.run_recipe(script), script)

        want = [json.loads(r) for r in recs]
        got = self.server.psql(
            "select count(*), count(level), sum(extract(epoch from time) * 1000)::bigint,"
            " sum(('x' || left(md5(msg), 8))::bit(32)::bigint),"
            " count(*) filter (where level = 'error') from events", database=self.db)
        epoch_ms = sum(round(datetime.datetime.fromisoformat(e["time"]).timestamp() * 1000) for e in want)
        self.assertEqual(got.split("|"), [
            str(len(want)), str(sum("level" in e for e in want)), str(epoch_ms),
            str(md5_sum(e["msg"] for e in want)), str(sum(e.get("level") == "error" for e in want))])

    def test_a_batch_postgresql_rejects_is_dead_lettered_and_the_rest_loaded(self):
        # psql exits 3 on the SQL error (ON_ERROR_STOP); the batch's INSERT is
        # one transaction, so none of its rows stay.
        recs = events(3_000)
        recs[1_234] = b'{"time":"not a time","level":"info","msg":"bad"}'
        self.write_events(recs)
        script = receivers.replace_once(self.recipe(), "--size 1000",
                                        "--size 1000 --retries 0 --dead-letter failed.ndjson")
        r = self.run_recipe(script)
        self.assertEqual(r.returncode, 4, r.stderr[-2000:])
        self.assertIn(b"invalid input syntax for type timestamp with time zone", r.stderr)
        self.assertIn(b"command exited with status 3", r.stderr)
        with open(self.path("failed.ndjson"), "rb") as f:
            self.assertEqual(f.read(), b"".join(rec + b"\n" for rec in recs[1_000:2_000]))
        kept = [json.loads(r)["msg"] for r in recs[:1_000] + recs[2_000:]]
        got = self.server.psql("select count(*), sum(('x' || left(md5(msg), 8))::bit(32)::bigint) from events",
                               database=self.db)
        self.assertEqual(got, f"{len(kept)}|{md5_sum(kept)}")


class SqliteRecipeTest(RecipeCase):
    def setUp(self):
        super().setUp()
        receivers.need("sqlite3")

    def test_readme_recipe_on_a_new_database(self):
        self.assertFalse(os.path.exists(self.path("events.db")))
        recs = events(2_500)
        self.write_events(recs)
        script = receivers.readme_recipe("sqlite")
        self.assert_ran(self.run_recipe(script), script)

        with sqlite3.connect(self.path("events.db")) as db:
            rows = db.execute("select time, level, msg, record from events order by rowid").fetchall()
        want = [json.loads(r) for r in recs]
        self.assertEqual(len(rows), len(want))
        for row, e in zip(rows, want):
            self.assertEqual(row[:3], (e["time"], e.get("level"), e["msg"]))
            self.assertEqual(json.loads(row[3]), e)

    def test_running_the_recipe_again_appends(self):
        # "create table if not exists": the second run finds the table.
        self.write_events(events(10))
        script = receivers.readme_recipe("sqlite")
        self.assert_ran(self.run_recipe(script), script)
        self.assert_ran(self.run_recipe(script), script)
        with sqlite3.connect(self.path("events.db")) as db:
            self.assertEqual(db.execute("select count(*) from events").fetchone(), (20,))


class KafkaRecipeTest(RecipeCase):
    BROKER = "kafka1:9092"  # the README's placeholder

    def setUp(self):
        super().setUp()
        (self.kcat,) = receivers.need("kcat")

    def start_mock(self, topic: str) -> str:
        """Starts a mock Kafka cluster with `topic` (1 partition, so the order is
        checkable); returns its bootstrap address. The cleanup stops it."""
        proc = bp.spawn(self, [sys.executable, os.path.join(HERE, "kafka_mock.py"), topic, "1"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + receivers.START_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                self.fail(f"kafka_mock.py gave no address (exit {proc.poll()}): {proc.stderr.read1()!r}")
            if select.select([proc.stdout], [], [], left)[0]:
                chunk = proc.stdout.read1()
                if not chunk:
                    self.fail(f"kafka_mock.py ended: {proc.stderr.read()!r}")
                line += chunk
        return line.decode().strip()

    def consume(self, broker: str, topic: str) -> bytes:
        """Every message of the topic, from the start, each followed by a newline."""
        r = subprocess.run([self.kcat, "-C", "-b", broker, "-t", topic, "-o", "beginning", "-e", "-q"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        return r.stdout

    def test_readme_recipe_one_message_per_record(self):
        broker = self.start_mock("events")
        recs = events(2_500)
        self.write_events(recs)
        script = receivers.replace_once(receivers.readme_recipe("kafka"), self.BROKER, broker)
        self.assert_ran(self.run_recipe(script), script)
        self.assertEqual(self.consume(broker, "events"), b"".join(r + b"\n" for r in recs))

    def test_no_broker_fails_the_batch(self):
        # kcat exits 1 when no broker answers: batchpipe gives the batch up and
        # keeps its records, byte for byte.
        port = receivers.free_ports(1)[0]
        recs = events(50)
        self.write_events(recs)
        script = receivers.replace_once(receivers.readme_recipe("kafka"), self.BROKER, f"127.0.0.1:{port}")
        script = receivers.replace_once(script, "--size 1000", "--size 1000 --retries 0 --dead-letter failed.ndjson")
        r = self.run_recipe(script)
        self.assertEqual(r.returncode, 4, r.stderr[-2000:])
        self.assertIn(b"command exited with status 1", r.stderr)
        with open(self.path("failed.ndjson"), "rb") as f:
            self.assertEqual(f.read(), b"".join(rec + b"\n" for rec in recs))


if __name__ == "__main__":
    unittest.main()
