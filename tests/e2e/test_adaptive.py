"""--parallel auto: the limit adapts to a simulated receiver.

Each server (http_server.ScriptedServer, 127.0.0.1, ephemeral port) decides
its latency, or a 429, from how many requests it holds at once. What is
asserted is what the server saw: how many requests it held at once, how many
429s it answered; never a wall-clock ratio, which a loaded machine skews
(throughput against the best fixed --parallel is bench/adaptive's). Nothing
sleeps: each run goes to its end against a timeout, and every server is
closed by the test's cleanups.
"""

import os
import tempfile
import unittest

import bp
from http_server import ScriptedServer


def ndjson(n):
    return b"".join(b'{"i":%d}\n' % i for i in range(1, n + 1))


def slows_above_8(in_flight):
    """20 ms up to 8 at once, then 10 ms × in flight: 8 at once is best (400/s), 9 gives 100/s."""
    return 0.02 if in_flight <= 8 else 0.01 * in_flight


def one_per_request(args):
    return ["--size", "1", "--interval", "0", "--retries", "20", "--retry-delay", "10ms",
            "--retry-max-delay", "100ms", "-q", *args]


class AdaptiveCase(unittest.TestCase):
    def server(self, **kwargs):
        s = ScriptedServer(**kwargs)
        self.addCleanup(s.close)
        return s

    def in_flight(self, parallel, records, latency=slows_above_8):
        """How many requests the server held at once, request by request, over a run of one-record batches."""
        server = self.server(latency=latency)
        r = bp.run(["--post", server.url("/in"), *one_per_request(["-j", parallel])], ndjson(records), timeout=40)
        self.assertEqual(r.returncode, 0, r.stderr)
        requests = sorted(server.requests(), key=lambda q: q.time)
        self.assertEqual(len(requests), records)
        return [q.in_flight for q in requests]

    def test_climbs_from_one_and_stays_within_its_cap(self):
        # auto starts at one request and adds one per window while latency
        # holds: the server sees several at once, never more than the cap.
        seen = self.in_flight("auto:12", 1500)
        print(f"\ntest_adaptive: most at once {max(seen)}, first {seen[:3]}", flush=True)
        self.assertEqual(seen[0], 1, "auto starts with one request at a time")
        self.assertGreaterEqual(max(seen), 4, "auto never went past a few requests at once")
        self.assertLessEqual(max(seen), 12, "auto went past its cap")

    def test_backs_off_when_the_server_answers_429(self):
        # 429 at once to a fifth request held at the same time; 20 ms for the others.
        def refuse(_index, request):
            return ("status", 429, {}) if request.in_flight > 4 else 200

        server = self.server(latency=lambda n: 0.0 if n > 4 else 0.02, default=refuse)
        with tempfile.TemporaryDirectory() as tmp:
            metrics = os.path.join(tmp, "metrics.prom")
            r = bp.run(["--post", server.url("/in"), "--metrics-file", metrics,
                        *one_per_request(["-j", "auto:16"])], ndjson(1000), timeout=40)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(metrics) as f:
                text = f.read()
        self.assertIn("\nbatchpipe_concurrency_limit ", text)
        requests = server.requests()
        ok = sorted(q.time for q in requests if q.in_flight <= 4)
        refused = sorted(q.time for q in requests if q.in_flight > 4)
        self.assertEqual(len(ok), 1000)
        start, end = ok[0] + 2.0, ok[-1]  # converged after 2 s
        self.assertGreater(end - start, 1.0, "the run was too short to judge")
        late = sum(1 for t in refused if start <= t <= end)
        rate = late / (end - start)
        print(f"\ntest_adaptive: {len(refused)} 429s in all, {rate:.1f}/s after convergence, "
              f"{(len(ok) - 1) / (ok[-1] - ok[0]):.0f} delivered/s", flush=True)
        self.assertLessEqual(rate, 5.0, f"{late} 429s in {end - start:.1f}s after convergence")


if __name__ == "__main__":
    unittest.main()
