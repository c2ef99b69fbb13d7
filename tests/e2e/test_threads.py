"""--threads: validation on several threads must change nothing a user can
see. The same input gives the same stdout, stderr and exit status, byte for
byte, with 1, 2, 3 and 4 threads, whatever the invalid lines and wherever
they fall relative to the 1 MiB read blocks."""

import os
import random
import tempfile
import unittest

import bp

MiB = 1 << 20
THREADS = (1, 2, 3, 4)


def make_input(rng: random.Random, size: int) -> bytes:
    """Valid records of varied sizes, with invalid lines, blank lines, CRLF,
    an oversized line and lines placed to straddle the 1 MiB block edges."""
    out, total = [], 0
    while total < size:
        roll = rng.random()
        if roll < 0.01:
            line = b'{"broken": '  # invalid
        elif roll < 0.015:
            line = b"not json at all \xff\xfe"  # invalid, and invalid UTF-8 for --on-invalid quote
        elif roll < 0.02:
            line = b""
        elif roll < 0.021:
            line = b'"' + b"x" * rng.randint(3000, 6000) + b'"'  # over --max-bytes 2K
        else:
            n = rng.choice([1, 5, 40, 200, 1500])
            line = b'{"n":%d,"s":"%s"}' % (total, b"a" * rng.randint(0, n))
        ending = b"\r\n" if rng.random() < 0.1 else b"\n"
        out.append(line + ending)
        total += len(line) + len(ending)
    data = b"".join(out)
    # Invalid lines exactly at and around the block edges.
    for edge in (MiB, 2 * MiB, 3 * MiB):
        if edge < len(data) - 100:
            cut = data.rfind(b"\n", 0, edge) + 1
            data = data[:cut] + b"{oops\n" + data[cut:]
    return data


class ThreadsTest(unittest.TestCase):
    def setUp(self):
        scratch = tempfile.TemporaryDirectory(prefix="bp-threads-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name

    def same_for_every_thread_count(self, args, data: bytes, as_file: bool):
        results = {}
        path = os.path.join(self.dir, "in.ndjson")
        if as_file:
            with open(path, "wb") as f:
                f.write(data)
        for threads in THREADS:
            argv = ["--threads", str(threads), *args] + ([path] if as_file else [])
            r = bp.run(argv, b"" if as_file else data, timeout=120)
            results[threads] = (r.returncode, r.stdout, r.stderr)
        first = results[THREADS[0]]
        for threads in THREADS[1:]:
            got = results[threads]
            self.assertEqual(got[0], first[0], f"--threads {threads}: exit status differs")
            self.assertEqual(got[2], first[2], f"--threads {threads}: stderr differs")
            self.assertTrue(got[1] == first[1], f"--threads {threads}: stdout differs")
        return first

    def test_every_mode_is_identical_across_thread_counts(self):
        rng = random.Random(1313)
        data = make_input(rng, 5 * MiB)
        for mode, code in (("skip", 1), ("quote", 1), ("fail", 3)):
            for as_file in (False, True):
                with self.subTest(mode=mode, as_file=as_file):
                    rc, out, err = self.same_for_every_thread_count(
                        ["--on-invalid", mode, "--size", "333", "--max-bytes", "2K", "--interval", "0"], data,
                        as_file)
                    self.assertEqual(rc, code, err[-500:])
                    self.assertTrue(out, "nothing delivered")

    def test_several_inputs_keep_their_order_and_line_numbers(self):
        rng = random.Random(7)
        paths = []
        for i in range(3):
            p = os.path.join(self.dir, f"part{i}.ndjson")
            with open(p, "wb") as f:
                f.write(make_input(rng, MiB + 12345 * i))
            paths.append(p)
        for threads in THREADS:
            r = bp.run(["--threads", str(threads), "--interval", "0", "-q", *paths], timeout=120)
            if threads == THREADS[0]:
                expected = (r.returncode, r.stdout)
            self.assertEqual((r.returncode, r.stdout), expected, f"--threads {threads}")
        r = bp.run(["--threads", "4", "--interval", "0", "--max-bytes", "2K", *paths], timeout=120)
        self.assertIn(b"part1.ndjson: line ", r.stderr)

    def test_usage_errors(self):
        for value in ("0", "65", "two"):
            with self.subTest(value=value):
                r = bp.run(["--threads", value], b"")
                self.assertEqual(r.returncode, 2)
                self.assertEqual(r.stdout, b"")
                self.assertIn(b"--threads", r.stderr)


if __name__ == "__main__":
    unittest.main()
