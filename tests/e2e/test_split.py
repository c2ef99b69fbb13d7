"""413 splits a batch in halves until each piece fits; --bisect-on isolates
the records a receiver refuses. Against http_server.ScriptedServer on
127.0.0.1 (closed by a cleanup), whose answers depend on each request's body."""

import json
import math
import unittest

import bp


def numbered(n):
    return [b'{"i":%d,"pad":"%s"}' % (i, b"x" * (i % 50)) for i in range(1, n + 1)]


def ndjson(records):
    return b"".join(r + b"\n" for r in records)


class SplitTest(bp.DeadLetterCase):
    def test_413_over_a_byte_threshold(self):
        limit = 20000
        server = self.serve(lambda i, q: 413 if len(q.body) > limit else 200)
        records = numbered(3000)
        r = bp.run(["--size", "1000", "--format", "ndjson", "--post", server.url("/in"), "--stats=json"],
                   ndjson(records))
        self.assertEqual(r.returncode, 0, r.stderr)
        accepted = [q for q in server.requests() if len(q.body) <= limit]
        self.assertEqual(b"".join(q.body for q in accepted), ndjson(records), "every record once, in order")
        keys = [q.header("Idempotency-Key") for q in server.requests()]
        self.assertEqual(len(set(keys)), len(keys), "each piece has an Idempotency-Key of its own")
        # Each batch of ~62 KB: 413, halves of ~31 KB: 413, quarters of ~15.5 KB: accepted.
        self.assertEqual(len(server.requests()), 3 * (1 + 2 + 4))
        self.assertEqual(len(accepted), 3 * 4)
        err = r.stderr.decode()
        self.assertEqual(err.count("a --max-bytes below"), 1, err)  # said once per run
        stats = bp.stats(r.stderr)
        self.assertEqual(stats["requests_too_large_total"], 9)
        self.assertEqual(stats["records_delivered_total"], 3000)

    def test_one_poisoned_record_in_10000_with_bisect_on(self):
        records = numbered(10000)
        records[6789] = b'{"i":"poison"}'
        server = self.serve(lambda i, q: ("status", 400, {}, b'{"error":"field i: not a number"}')
                            if b"poison" in q.body else 200)
        r = bp.run(["--size", "1000", "--bisect-on", "400,422", "--post", server.url("/in"),
                    "--dead-letter", self.dead, "--stats=json"], ndjson(records))
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(self.dead_letters(), b'{"i":"poison"}\n')
        delivered = []
        for q in server.requests():
            if b"poison" not in q.body:
                delivered += json.loads(q.body)
        self.assertEqual(len(delivered), 9999)
        self.assertEqual(len({d["i"] for d in delivered}), 9999, "nothing delivered twice")
        bad_batch = [q for q in server.requests() if q.header("Idempotency-Key").split("-")[1].split(".")[0] == "7"]
        self.assertLessEqual(len(bad_batch), 2 * math.ceil(math.log2(1000)) + 2)
        self.assertIn(b'record 790: HTTP 400 from', r.stderr)
        self.assertIn(b"field i: not a number", r.stderr)
        self.assertEqual(bp.stats(r.stderr)["records_delivered_total"], 9999)

    def test_bad_bisect_on(self):
        for value in ["200", "abc", "99", ""]:
            r = bp.run(["--bisect-on", value, "--post", "http://127.0.0.1:1/"], b"1\n")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(b"--bisect-on", r.stderr)


if __name__ == "__main__":
    unittest.main()
