"""--parallel auto against a receiver that fails a quarter of its requests at
random (a 500 or a reset connection, neither an overload signal): the limit
keeps the concurrency the successful requests support.

The receiver (http_server.ScriptedServer, 127.0.0.1) answers in 20 ms while
it holds at most 8 requests, then slower (10 ms x requests held): 8 at once
is best. What is asserted is what the receiver saw, the number of requests
it held at once, never a wall-clock ratio; the throughput comparison with
the best fixed --parallel is bench/adaptive_failures.
"""

import random
import threading
import unittest

import bp
from http_server import ScriptedServer

RECORDS = 1500


def slows_above_8(in_flight):
    return 0.02 if in_flight <= 8 else 0.01 * in_flight


class RandomFailuresTest(unittest.TestCase):
    def test_random_500s_and_resets_do_not_cut_the_limit(self):
        rng = random.Random(25)
        lock = threading.Lock()

        def answer(_index, _request):
            with lock:
                draw = rng.random()
            if draw < 0.125:
                return 500
            if draw < 0.25:
                return ("reset",)
            return 200

        server = ScriptedServer(latency=slows_above_8, default=answer)
        self.addCleanup(server.close)
        data = b"".join(b'{"i":%d}\n' % i for i in range(RECORDS))
        r = bp.run(["--post", server.url("/in"), "-j", "auto", "--size", "1", "--interval", "0", "-q",
                    "--retries", "inf", "--retry-delay", "10ms", "--retry-max-delay", "100ms"], data, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        requests = server.requests()
        delivered = sorted({q.body for q in requests})
        self.assertEqual(len(delivered), RECORDS)
        held = [q.in_flight for q in requests]
        late = held[len(held) // 2:]  # once the limit has climbed
        mean = sum(late) / len(late)
        print(f"\ntest_adaptive_failures: {len(requests)} requests, most held at once {max(held)}, "
              f"mean held over the second half {mean:.1f}", flush=True)
        self.assertGreaterEqual(max(held), 6, "the limit never climbed near the receiver's best (8)")
        self.assertGreaterEqual(mean, 4.0, "the limit fell back under random failures")


if __name__ == "__main__":
    unittest.main()
