"""--parallel auto: the limit adapts to a simulated receiver.

Each server (http_server.ScriptedServer, 127.0.0.1, ephemeral port) decides
its latency, or a 429, from how many requests it holds at once. Throughput
is measured by the server from its requests' arrival times, and every
figure compared is taken within the same test, so a slow machine slows
both sides. Nothing sleeps: each run goes to its end against a timeout,
and every server is closed by the test's cleanups.
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

    def throughput(self, parallel, records, latency=slows_above_8):
        """Requests a second the server saw over a whole run of one-record batches."""
        server = self.server(latency=latency)
        r = bp.run(["--post", server.url("/in"), *one_per_request(["-j", parallel])], ndjson(records), timeout=40)
        self.assertEqual(r.returncode, 0, r.stderr)
        times = sorted(q.time for q in server.requests())
        self.assertEqual(len(times), records)
        return (len(times) - 1) / (times[-1] - times[0])

    def test_converges_near_the_best_fixed_parallel(self):
        # Record counts keep each run to a few seconds at its expected speed;
        # auto's run is long enough that its climb from 1 is a fair part of it,
        # not all of it: it counts, as it would for a user.
        fixed = {n: self.throughput(str(n), count) for n, count in ((4, 600), (8, 2000), (16, 300))}
        best = max(fixed.values())
        auto = self.throughput("auto", 3000)
        figures = ", ".join(f"-j {n}: {v:.0f}/s" for n, v in fixed.items()) + f", auto: {auto:.0f}/s"
        print(f"\ntest_adaptive: {figures}", flush=True)
        self.assertGreaterEqual(auto, 0.75 * best, figures)

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
