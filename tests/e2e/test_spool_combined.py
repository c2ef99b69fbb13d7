"""--spool with the rest of the machinery, checked at the receiver: a real
child command (--exec), --map, --parallel, --format bulk with per-item 429
resends (bulk_server.BulkServer), --compress gzip and --dead-letter. Each
run pipes records in while the receiver is down (so that they wait in the
spool), then brings it up: every record arrives exactly once and in order
(or, after kill -9, at least once, in order of first arrival), and the spool
ends with no segment. Servers are on 127.0.0.1 and closed by cleanups; waits
are for conditions against deadlines.
"""

import json
import os
import random
import subprocess
import tempfile
import threading
import time
import unittest

import bp
import content_coding
from bulk_server import BulkServer
from http_server import ScriptedServer
from test_spool import record, segments, spooled_numbers, wait_for

FAST = ["--retries", "inf", "--retry-delay", "20ms", "--retry-max-delay", "100ms"]


class Receiver:
    """A --post endpoint that answers 503 while down and, while up, 200, or
    400 to a batch holding a record `refuse` names. Keeps the records of each
    answered request (bodies decoded as the Content-Encoding says)."""

    def __init__(self, test, refuse=lambda n: False):
        self.up = False
        self.refuse = refuse
        self.lock = threading.Lock()
        self.delivered = []  # per request answered 200: its records' numbers
        self.refused = []    # per request answered 400
        self.server = ScriptedServer(default=self.answer)
        test.addCleanup(self.server.close)

    def url(self):
        return self.server.url("/in")

    def answer(self, index, request):
        with self.lock:
            if not self.up:
                return 503
            body = content_coding.request_body(request)
            numbers = [json.loads(line)["n"] for line in body.splitlines() if line.strip()]
            if any(self.refuse(n) for n in numbers):
                self.refused.append(numbers)
                return 400
            self.delivered.append(numbers)
            return 200

    def numbers(self):
        with self.lock:
            return [n for batch in self.delivered for n in batch]

    def batches(self):
        with self.lock:
            return list(self.delivered)


def payload(first, count) -> bytes:
    return b"".join(record(i) + b"\n" for i in range(first, first + count))


class SpoolCombinedTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.spool = os.path.join(self.tmp.name, "spool")

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def start(self, args, stdout=subprocess.DEVNULL):
        return bp.spawn(self, [bp.binary(), "--spool", self.spool, *args], stdin=subprocess.PIPE, stdout=stdout,
                        stderr=subprocess.PIPE)

    def outage(self, receiver, args, n, stdout=subprocess.DEVNULL):
        """Pipes records 0..n-1 in while `receiver` is down; brings it up once all are in the spool.
        Returns the run's exit status and stderr."""
        p = self.start(["--post", receiver.url(), *args], stdout=stdout)
        p.stdin.write(payload(0, n))  # all of it: the spool reads ahead of the receiver
        p.stdin.close()
        wait_for(lambda: len(spooled_numbers(self.spool)) == n, "every record in the spool")
        with receiver.lock:
            receiver.up = True
        p.wait(timeout=bp.RUN_TIMEOUT)
        return p.returncode, p.stderr.read()

    def assert_emptied(self):
        self.assertEqual(segments(self.spool), [], "segments left in the spool")

    def test_exec_a_real_child_gets_every_record_once_in_order(self):
        out = self.path("out.ndjson")
        n = 5000
        data = payload(0, n)
        r = bp.run(["--spool", self.spool, "--format", "ndjson", "--size", "300", "--max-buffer", "1M",
                    "--exec", f"cat >> {out}"], input=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assert_emptied()

    def test_map_with_parallel_children_answers_in_input_order(self):
        # Later batches finish first: the answers still come out in input order.
        n = 2000
        cmd = 'sleep "0.0$((9 - BATCHPIPE_BATCH % 10))"; jq -c "map(.n)"'
        r = bp.run(["--spool", self.spool, "--size", "97", "-j", "4", "--exec", cmd, "--map"], input=payload(0, n))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [b"%d" % i for i in range(n)])
        self.assert_emptied()

    def test_parallel_post_after_an_outage_delivers_each_record_once(self):
        receiver = Receiver(self)
        n = 20000
        code, err = self.outage(receiver, ["--format", "ndjson", "-j", "4", "--size", "250", "--max-buffer", "1M",
                                           *FAST], n)
        self.assertEqual(code, 0, err)
        batches = sorted(receiver.batches())
        self.assertEqual([n for b in batches for n in b], list(range(n)))  # each once; each batch a run
        self.assert_emptied()

    def test_bulk_with_per_item_429_resends(self):
        server = BulkServer()
        self.addCleanup(server.close)
        down = threading.Event()
        down.set()
        answer = server.server._default

        def gate(index, request):  # 503 for the whole request while down, then _bulk's own answers
            return 503 if down.is_set() else answer(index, request)

        server.server._default = gate
        n = 3000
        docs = [b'{"n":%d,"want":"%s"}' % (i, b"429" if i % 97 == 5 else b"") for i in range(n)]
        p = self.start(["--format", "bulk", "--size", "200", "--post", server.url(), "--max-buffer", "1M", *FAST])
        p.stdin.write(b"".join(d + b"\n" for d in docs))
        p.stdin.close()
        wait_for(lambda: len(spooled_numbers(self.spool)) == n, "every record in the spool")
        down.clear()
        self.assertEqual(p.wait(timeout=bp.RUN_TIMEOUT), 0, p.stderr.read())
        stored = [json.loads(d)["n"] for d in server.stored]
        self.assertEqual(sorted(stored), list(range(n)))  # each once
        resent = [i for i in range(n) if i % 97 == 5]
        self.assertEqual([i for i in stored if i % 97 != 5], [i for i in range(n) if i % 97 != 5])  # in order
        self.assertEqual(server.item_statuses.count(429), len(resent))
        self.assert_emptied()

    def test_bulk_items_refused_for_good_without_dead_letter_are_kept_aside(self):
        server = BulkServer()
        self.addCleanup(server.close)
        n = 2000
        docs = [b'{"n":%d,"want":"%s"}' % (i, b"400" if i % 101 == 7 else b"") for i in range(n)]
        r = bp.run(["--spool", self.spool, "--format", "bulk", "--size", "200", "--post", server.url(), *FAST],
                   input=b"".join(d + b"\n" for d in docs))
        self.assertEqual(r.returncode, 4, r.stderr)
        refused = os.path.join(self.spool, "refused.ndjson")
        with open(refused, "rb") as f:
            self.assertEqual(f.read(), b"".join(d + b"\n" for d in docs if b'"400"' in d))
        self.assertEqual([json.loads(d)["n"] for d in server.stored], [i for i in range(n) if i % 101 != 7])
        self.assert_emptied()

    def test_gzip_compressed_bodies_carry_every_record_once_in_order(self):
        receiver = Receiver(self)
        n = 10000
        code, err = self.outage(receiver, ["--format", "ndjson", "--compress", "gzip", "--size", "500",
                                           "--max-buffer", "1M", *FAST], n)
        self.assertEqual(code, 0, err)
        self.assertEqual(receiver.numbers(), list(range(n)))
        self.assert_emptied()

    def test_dead_letter_takes_refused_batches_and_the_spool_still_drains(self):
        receiver = Receiver(self, refuse=lambda n: n in (1234, 4321))
        dead = self.path("dead.ndjson")
        n = 6000
        code, err = self.outage(receiver, ["--format", "ndjson", "--size", "100", "--dead-letter", dead, *FAST], n)
        self.assertEqual(code, 4, err)
        with open(dead, "rb") as f:
            dead_numbers = [json.loads(line)["n"] for line in f.read().splitlines()]
        self.assertEqual(dead_numbers, list(range(1200, 1300)) + list(range(4300, 4400)))
        self.assertEqual(sorted(receiver.numbers() + dead_numbers), list(range(n)))
        self.assertEqual(receiver.numbers(), [i for i in range(n) if i // 100 not in (12, 43)])
        self.assert_emptied()
        # Nothing is left for a next run.
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool, "--post", receiver.url()], stdin=null)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(receiver.numbers()), n - 200)

    def test_kill_9_with_parallel_compressed_posts_then_restart(self):
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        print(f"seed {seed}")
        receiver = Receiver(self)
        args = ["--format", "ndjson", "-j", "4", "--compress", "gzip", "--size", "100", "--interval", "50ms",
                "--spool-sync", "10ms", "--quiet", *FAST]
        must = set()
        per_run = 4000
        for run in range(4):
            with receiver.lock:
                receiver.up = rng.random() < 0.5
            p = self.start(["--post", receiver.url(), *args])
            p.stdin.write(payload(run * per_run, per_run))
            p.stdin.flush()
            wait_for(lambda: len(spooled_numbers(self.spool)) + len(receiver.numbers()) > 0, "a record spooled")
            time.sleep(rng.uniform(0.0, 0.3))  # the moment of the kill: random on purpose
            p.kill()
            p.wait(timeout=10)
            must.update(spooled_numbers(self.spool))
        with receiver.lock:
            receiver.up = True
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool, "--post", receiver.url(), *args], stdin=null)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = receiver.numbers()
        self.assertTrue(must <= set(got), f"seed {seed}: lost {sorted(must - set(got))[:10]}")
        self.assert_emptied()


if __name__ == "__main__":
    unittest.main()
