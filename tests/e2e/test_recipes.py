"""README's recipes for SQLite and Kafka, run as written against the real
receivers (ClickHouse's is in test_clickhouse.py, PostgreSQL's in
test_postgresql.py, each beside its server).

Each recipe is read from README.md (the ```sh block after
`<!-- recipe: NAME -->`) and run by `sh -e` in a scratch directory holding
`events.ndjson`, with `batchpipe` first in PATH (receivers.RecipeCase); only
the receiver's address is put in where the README names a placeholder. What
arrived is then read back with the receiver's own client and compared with
the input.

- SQLite: a new database file, as a first-time user has.
- Kafka: Debian has no broker; librdkafka's mock cluster (kafka_mock.py, in
  the library kcat is built on) speaks the protocol on 127.0.0.1, and the
  topic is read back with `kcat -C`.
"""

import json
import os
import select
import sqlite3
import subprocess
import sys
import time
import unittest

import bp
import receivers
from bulk_server import BulkServer
from receivers import RecipeCase, events

HERE = os.path.dirname(os.path.abspath(__file__))


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

    def test_five_bad_records_in_100000_are_dead_lettered_alone(self):
        # Events without a time break the table's "not null": sqlite3 exits 1,
        # and the recipe's --bisect-on 1 isolates them.
        bad = [3, 20_000, 20_001, 77_777, 99_999]
        recs = self.write_events_with_bad(100_000, bad, lambda i: b'{"level":"error","msg":"no time %d"}' % i)
        script = receivers.readme_recipe("sqlite")
        why = self.assert_dead_lettered_alone(self.run_recipe(script), recs, bad, b"NOT NULL constraint failed")
        self.assertEqual([w["status"] for w in why], [19] * 5)
        with sqlite3.connect(self.path("events.db")) as db:
            rows = db.execute("select record from events order by rowid").fetchall()
        self.assertEqual([json.loads(row[0]) for row in rows],
                         [json.loads(rec) for i, rec in enumerate(recs) if i not in bad])

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


class ElasticsearchRecipeTest(RecipeCase):
    """The _bulk recipe against bulk_server.BulkServer, run twice: the second run stores nothing twice."""

    URL = "http://localhost:9200/_bulk"  # the README's placeholder

    def test_readme_recipe_twice(self):
        server = BulkServer()
        self.addCleanup(server.close)
        recs = events(2_500)
        self.write_events(recs)
        script = receivers.replace_once(receivers.readme_recipe("elasticsearch"), self.URL, server.url())
        self.assert_ran(self.run_recipe(script), script)
        self.assert_ran(self.run_recipe(script), script)
        self.assertEqual(sorted(server.stored), sorted(recs))
        self.assertEqual(server.item_statuses.count(409), 2_500)
        self.assertFalse(os.path.exists(self.path("failed.ndjson")))
