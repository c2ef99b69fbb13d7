"""Several --post URLs: a simulated three-node cluster on 127.0.0.1.

Requests take turns over the URLs that answer; a node that stops answering is
put aside and its batches go to the others at once, without costing retries;
once it is back it gets requests again. Every node is a scripted server
(http_server.ScriptedServer); one is closed mid-run and started again on the
same port later. The receivers are taken to drop duplicates by
Idempotency-Key, as a real one would: the test checks that, so counted,
every record arrived exactly once and in input order. Waits are for
conditions against deadlines; every server and process is stopped by the
test's cleanups.
"""

import collections
import os
import re
import tempfile
import unittest

import bp
from http_server import ScriptedServer

# Quick cool-downs: 50ms doubling up to 300ms.
FAST = ["--retry-delay", "50ms", "--retry-max-delay", "300ms"]


def records(first, n):
    return [b'{"i":%d}' % i for i in range(first, first + n)]


def ndjson(rs):
    return b"".join(r + b"\n" for r in rs)


class ClusterCase(unittest.TestCase):
    def start(self, script=(), port=0, **kwargs):
        s = ScriptedServer(script, port=port, **kwargs)
        self.addCleanup(s.close)
        return s

    def wait(self, what, predicate, live, timeout=bp.SLACK * 3):
        if not live.wait_until(predicate, timeout):
            # wait_until reads batchpipe's output meanwhile; the servers count on their own threads.
            self.fail(f"waited {timeout}s for {what}; stderr {bytes(live.err)[-2000:]!r}")

    def test_a_node_killed_and_restarted(self):
        a, b, c = (self.start(latency=0.005) for _ in range(3))
        b_port = b.port
        everything = records(1, 10000)  # written 1000, 1000, then 100 at a time
        live = bp.Live(self, ["--post", a.url("/in"), "--post", b.url("/in"), "--post", c.url("/in"),
                              "--size", "10", "--interval", "0", "-j", "3", *FAST])

        live.write(ndjson(everything[:1000]))
        self.wait("100 requests over all three", lambda: sum(len(s.requests()) for s in (a, b, c)) >= 100, live)
        self.assertTrue(all(s.requests() for s in (a, b, c)), "not every node got requests")
        b.close()  # killed: connections shut, nothing listening
        before = len(a.requests()) + len(c.requests())
        live.write(ndjson(everything[1000:2000]))
        self.wait("the others to take the load", lambda: len(a.requests()) + len(c.requests()) >= before + 100, live)
        b2 = self.start(port=b_port, latency=0.005)  # back, on the same port
        # Ten batches at a time until the restarted node has had some: its cool-down has to end first.
        written = 2000
        while not b2.requests() and written < len(everything):
            live.write(ndjson(everything[written:written + 100]))
            written += 100
            live.wait_until(lambda: len(b2.requests()) > 0, 0.05)
        self.assertTrue(b2.requests(), f"the restarted node got nothing by record {written}")
        everything = everything[:written]
        batches = written // 10
        rc = live.finish()
        err = bytes(live.err).decode()
        self.assertEqual(rc, 0, err)

        # Received, as a receiver that drops duplicates by Idempotency-Key sees it.
        by_key = collections.defaultdict(list)
        for server in (a, b, b2, c):
            for q in server.requests():
                by_key[q.header("Idempotency-Key")].append(q.body)
        for key, bodies in by_key.items():
            self.assertEqual(len(set(bodies)), 1, f"{key}: different bodies under one key")
        numbers = sorted(int(k.rsplit("-", 1)[1]) for k in by_key)
        self.assertEqual(numbers, list(range(1, batches + 1)), "a batch missing, or an unexpected key")
        in_order = b"".join(by_key[k][0] for k in sorted(by_key, key=lambda k: int(k.rsplit("-", 1)[1])))
        self.assertEqual([len(x) for x in bp.split_batches(in_order, everything)], [10] * batches)
        # Only batches in flight when the node went away can have been sent twice.
        duplicates = sum(len(v) - 1 for v in by_key.values())
        self.assertLessEqual(duplicates, 3, "more resent than the 3 in flight")

        # The run said which node it put aside and when it was back, by host:port.
        endpoint = f"127.0.0.1:{b_port}"
        self.assertRegex(err, rf"(?m)^batchpipe: {re.escape(endpoint)}: put aside for \d+ms: ")
        self.assertRegex(err, rf"(?m)^batchpipe: {re.escape(endpoint)}: answering again$")
        self.assertNotRegex(err, r"(?m)retry \d+ of", "a failover cost a retry")

    def test_failover_does_not_count_against_retries(self):
        # One node always 503, --retries 0: every batch still gets through at the other.
        bad = self.start(default=503)
        good = self.start()
        r = bp.run(["--post", bad.url("/"), "--post", good.url("/"), "--retries", "0", "--size", "1",
                    "--interval", "0", *FAST], ndjson(records(1, 20)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(good.requests()), 20)
        self.assertGreaterEqual(len(bad.requests()), 1)
        # Put aside, it is tried again only when its cool-down is over, not for every batch.
        self.assertLess(len(bad.requests()), 20)

    def test_all_nodes_down_is_retried_as_usual(self):
        bad1, bad2 = self.start(default=503), self.start(default=503)
        r = bp.run(["--post", bad1.url("/"), "--post", bad2.url("/"), "--retries", "2", *FAST],
                   ndjson(records(1, 1)))
        self.assertEqual(r.returncode, 4, r.stderr)
        # Each counted attempt tries each node at most once (one still put aside is skipped).
        self.assertGreaterEqual(len(bad1.requests()) + len(bad2.requests()), 3)
        self.assertLessEqual(len(bad1.requests()) + len(bad2.requests()), 6)
        self.assertIn("no retries left after 3 attempts", r.stderr.decode())

    def test_a_429_is_not_failed_over(self):
        # 429 is a node asking to slow down, not a node down: the batch waits and retries.
        busy = self.start([("status", 429, {"Retry-After": "0"})], default=200)
        other = self.start()
        r = bp.run(["--post", busy.url("/"), "--post", other.url("/"), "--size", "1", "--interval", "0", *FAST],
                   ndjson(records(1, 1)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual((len(busy.requests()), len(other.requests())), (1, 1))
        self.assertIn("retry 1 of 5", r.stderr.decode())

    def test_metrics_name_each_url(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path = os.path.join(d.name, "m.prom")
        one, two = self.start(), self.start(default=503)
        r = bp.run(["--post", one.url("/"), "--post", two.url("/"), "--metrics-file", path, "--size", "1",
                    "--interval", "0", *FAST], ndjson(records(1, 4)))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(path) as f:
            text = f.read()
        self.assertIn(f'batchpipe_upstream_requests_total{{upstream="127.0.0.1:{one.port}"}} 4', text)
        self.assertRegex(text, rf'batchpipe_upstream_failures_total{{upstream="127.0.0.1:{two.port}"}} [1-9]')
        self.assertIn(f'batchpipe_upstream_up{{upstream="127.0.0.1:{two.port}"}} 0', text)

    def test_the_same_url_twice_is_a_usage_error(self):
        r = bp.run(["--post", "http://127.0.0.1:1/", "--post", "http://127.0.0.1:1/"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--post: http://127.0.0.1:1/ is given twice", r.stderr)


if __name__ == "__main__":
    unittest.main()
