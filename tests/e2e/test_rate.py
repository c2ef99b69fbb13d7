"""--rate N/s: request starts paced over all workers, counted by the server.

The server (http_server.ScriptedServer, 127.0.0.1, ephemeral port) records
each request's arrival time; the tests count arrivals in a window measured
from the first one. Nothing sleeps: batchpipe runs to its end against a
deadline, and every server and process is stopped by the test's cleanups.
"""

import unittest

import bp
from http_server import ScriptedServer


def ndjson(n):
    return b"".join(b'{"i":%d}\n' % i for i in range(1, n + 1))


class RateCase(unittest.TestCase):
    def server(self, **kwargs):
        s = ScriptedServer(**kwargs)
        self.addCleanup(s.close)
        return s

    def test_twenty_a_second_over_five_seconds(self):
        # 4 workers and one-record batches: without --rate, 120 requests take
        # well under a second.
        server = self.server()
        r = bp.run(["--post", server.url("/in"), "--rate", "20/s", "--size", "1", "--interval", "0", "-j", "4"],
                   ndjson(120), timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        times = [q.time for q in server.requests()]
        self.assertEqual(len(times), 120)
        start = min(times)
        in_five = sum(1 for t in times if t - start < 5.0)
        self.assertGreaterEqual(in_five, 90, f"{in_five} requests in the first 5s")
        self.assertLessEqual(in_five, 110, f"{in_five} requests in the first 5s")
        # Evenly spaced: 22 arrivals span 21 intervals (1.05s); on a busy machine one may
        # arrive up to 150ms late, but no burst packs them into 0.9s.
        times.sort()
        for i in range(len(times) - 21):
            self.assertGreaterEqual(times[i + 21] - times[i], 0.9, f"a burst at request {i}")

    def test_retries_count_against_the_rate(self):
        # Every request fails once (503) then succeeds: 10 batches make 20
        # requests, 10/s takes about 2s, not the 1s the batches alone would.
        server = self.server(script=[503] * 1, default=200)
        r = bp.run(["--post", server.url("/in"), "--rate", "10/s", "--size", "1", "--interval", "0",
                    "--retry-delay", "1ms", "--retry-max-delay", "1ms", "-q"], ndjson(10), timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        times = sorted(q.time for q in server.requests())
        self.assertEqual(len(times), 11)
        # Ten intervals of 100ms; arrival times blur each by the machine's load, so the span is the measure.
        self.assertGreaterEqual(times[-1] - times[0], 1.0 - 0.1)

    def test_exec_is_paced_too(self):
        # Each command prints when it started: 600/m is one every 100ms.
        r = bp.run(["--exec", "date +%s.%N", "--rate", "600/m", "--size", "1", "--interval", "0", "-j", "3"],
                   ndjson(6), timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        times = sorted(float(t) for t in r.stdout.split())
        self.assertEqual(len(times), 6)
        # The shell's own start-up blurs each time: the span of five gaps is the measure.
        self.assertGreaterEqual(times[-1] - times[0], 0.5 - 0.1)

    def test_bad_rate_is_a_usage_error(self):
        r = bp.run(["--post", "http://127.0.0.1:1/", "--rate", "20/h"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--rate: expected requests per second or minute", r.stderr)


if __name__ == "__main__":
    unittest.main()
