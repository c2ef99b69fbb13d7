"""--format bulk against a scripted _bulk endpoint (bulk_server.BulkServer on
127.0.0.1, closed by a cleanup): the response is read item by item; refused
items fail alone (dead-lettered byte for byte, each reason on stderr), 429 and
5xx items go again in a smaller request, 409 on create counts as stored, and
a response that cannot be read fails the whole request."""

import json
import os
import tempfile
import unittest

import bp
from bulk_server import BulkServer
from http_server import ScriptedServer

FAST = ["--retry-delay", "10ms", "--retry-max-delay", "10ms"]


def doc(i, want=""):
    return b'{"i":%d,"want":"%s"}' % (i, want.encode())


def wants(n, every):
    """Documents 1..n, with the fates in `every` ({i: want}) sprinkled in."""
    return [doc(i, every.get(i, "")) for i in range(1, n + 1)]


class BulkTest(unittest.TestCase):
    def setUp(self):
        self.server = BulkServer()
        self.addCleanup(self.server.close)
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.dead = os.path.join(self.dir.name, "dead.ndjson")

    def run_bulk(self, records, *extra):
        return bp.run(["--format", "bulk", "--size", "100", "--post", self.server.url(), "--dead-letter", self.dead,
                       "--stats=json", *FAST, *extra], b"".join(r + b"\n" for r in records))

    def test_refused_items_fail_alone_and_retried_items_go_again(self):
        fates = {7: "400", 50: "429", 51: "503", 120: "400", 150: "429", 250: "503"}
        records = wants(300, fates)
        r = self.run_bulk(records)
        self.assertEqual(r.returncode, 4, r.stderr)
        bad = [doc(7, "400"), doc(120, "400")]
        with open(self.dead, "rb") as f:
            self.assertEqual(f.read(), b"".join(d + b"\n" for d in bad))
        good = [d for d in records if d not in bad]
        self.assertEqual(sorted(self.server.stored), sorted(good), "every other record stored exactly once")
        self.assertEqual(len(set(self.server.stored)), len(self.server.stored))
        # 3 batches, and the batches with 429/503 items one smaller request each.
        reqs = self.server.requests()
        self.assertEqual(len(reqs), 6)
        sizes = sorted(len(q.body.splitlines()) // 2 for q in reqs)
        self.assertEqual(sizes, [1, 1, 2, 100, 100, 100])
        keys = [q.header("Idempotency-Key") for q in reqs]
        self.assertEqual(len(set(keys)), len(keys), "a part carries an Idempotency-Key of its own")
        err = r.stderr.decode()
        self.assertIn("record 7: HTTP 400 mapper_parsing_exception: failed to parse field [want] of type [long]", err)
        self.assertIn("record 20: HTTP 400 mapper_parsing_exception", err)  # 120 is record 20 of batch 2
        stats = bp.stats(r.stderr)
        self.assertEqual(stats["records_rejected_total"], 2)
        self.assertEqual(stats["records_resent_total"], 4)  # 50+51 in batch 1, 150 and 250 in 2 and 3
        self.assertEqual(stats["records_delivered_total"], 298)
        self.assertEqual(stats["records_dead_lettered_total"], 2)

    def test_create_with_record_ids_stores_nothing_twice(self):
        records = wants(50, {10: "503", 11: "429"})
        action = '{"create":{"_index":"t","_id":"{record_id}"}}'
        r = self.run_bulk(records, "--bulk-action", action)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(self.server.stored), sorted(records))
        self.assertEqual(len(self.server.by_id), 50)

    def test_a_rerun_over_the_same_file_stores_nothing_twice(self):
        path = os.path.join(self.dir.name, "in.ndjson")
        records = wants(250, {})
        with open(path, "wb") as f:
            f.write(b"".join(r + b"\n" for r in records))
        args = ["--format", "bulk", "--size", "100", "--bulk-action", '{"create":{"_id":"{record_id}"}}',
                "--post", self.server.url(), "--stats=json", path]
        first = bp.run(args)
        self.assertEqual(first.returncode, 0, first.stderr)
        second = bp.run(args)  # a cron job run again over the same file
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertEqual(sorted(self.server.stored), sorted(records))
        self.assertEqual(bp.stats(second.stderr)["records_already_stored_total"], 250)

    def test_already_stored_documents_count_as_delivered(self):
        records = wants(5, {})
        # One id for all: the last four find it stored, as a re-run's records would.
        r = self.run_bulk(records, "--bulk-action", '{"create":{"_id":"same"}}')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.server.stored), 1)
        stats = bp.stats(r.stderr)
        self.assertEqual(stats["records_already_stored_total"], 4)
        self.assertEqual(stats["records_delivered_total"], 5)

    def test_items_that_keep_failing_fail_alone_when_retries_run_out(self):
        always = ScriptedServer(default=lambda i, q: ("status", 200, {}, json.dumps({
            "errors": True,
            "items": [{"index": {"status": 503 if b'"i":2,' in line else 201}}
                      for line in q.body.splitlines()[1::2]]}).encode()))
        self.addCleanup(always.close)
        records = wants(3, {})
        r = bp.run(["--format", "bulk", "--post", always.url("/_bulk"), "--retries", "2", "--dead-letter", self.dead,
                    *FAST], b"".join(d + b"\n" for d in records))
        self.assertEqual(r.returncode, 4, r.stderr)
        with open(self.dead, "rb") as f:
            self.assertEqual(f.read(), doc(2) + b"\n")
        self.assertEqual(len(always.requests()), 3)
        self.assertIn(b"no retries left", r.stderr)

    def test_a_response_that_cannot_be_read_fails_the_request(self):
        broken = ScriptedServer([("status", 200, {}, b'{"errors":true,"items":[]}')],
                                default=("status", 200, {}, b'{"took":3,"errors":false}'))
        self.addCleanup(broken.close)
        r = bp.run(["--format", "bulk", "--post", broken.url("/_bulk"), *FAST], b"".join(d + b"\n" for d in wants(2, {})))
        self.assertEqual(r.returncode, 0, r.stderr)
        reqs = broken.requests()
        self.assertEqual(len(reqs), 2, "retried whole")
        self.assertEqual(reqs[0].body, reqs[1].body)
        self.assertIn(b"0 items for 2 records sent", r.stderr)


if __name__ == "__main__":
    unittest.main()
