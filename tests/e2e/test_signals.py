"""Time and signals: --interval with input kept open, SIGUSR1, SIGTERM, SIGINT.

Before a signal is sent, the test waits for output that proves batchpipe has
read the records concerned (and so has its handlers installed): with --size 2
and three records written at once (one write, under PIPE_BUF, so one read),
"[a,b]" on stdout means "c" is in the open batch. Windows in which nothing
may appear are bounded select() waits on stdout.
"""

import json
import signal
import subprocess
import sys
import time
import unittest

import bp

A, B, C, D = b'{"id":"a"}', b'{"id":"b"}', b'{"id":"c"}', b'{"id":"d"}'


def lines_of(*records) -> bytes:
    return b"".join(r + b"\n" for r in records)


class IntervalTest(unittest.TestCase):
    def test_idle_open_batch_closes_after_the_interval(self):
        p = bp.Live(self, ["--interval", "300ms"])
        self.assertEqual(p.quiet_for(0.6), b"", "output before any record arrived")
        t0 = time.monotonic()
        p.write(lines_of(A))
        lines = p.wait_lines(1, 0.3 + bp.SLACK)
        elapsed = time.monotonic() - t0
        self.assertEqual(lines, [b"[" + A + b"]\n"])
        self.assertGreaterEqual(elapsed, 0.3 - 0.005, "batch closed before its record was 300ms old")
        self.assertLessEqual(elapsed, 0.3 + bp.SLACK)
        self.assertEqual(p.quiet_for(0.6), b"", "output while idle with no open batch")
        self.assertEqual(p.finish(), 0, bytes(p.err))
        self.assertEqual(bytes(p.out), b"[" + A + b"]\n")
        self.assertEqual(bytes(p.err), b"")

    def test_interval_counts_from_the_oldest_record(self):
        p = bp.Live(self, ["--interval", "1500ms"])
        t0 = time.monotonic()
        p.write(lines_of(A))
        self.assertEqual(p.quiet_for(0.75), b"", "batch closed long before the interval")
        t1 = time.monotonic()
        p.write(lines_of(B))
        lines = p.wait_lines(1, 1.5 + bp.SLACK)
        closed = time.monotonic()
        self.assertEqual(lines, [b"[" + A + b"," + B + b"]\n"])
        self.assertGreaterEqual(closed - t0, 1.5 - 0.005)
        self.assertLess(closed - t1, 1.5, "the batch waited for its newest record to be 1.5s old")
        self.assertEqual(p.finish(), 0, bytes(p.err))
        self.assertEqual(len(p.lines()), 1)

    def test_interval_zero_holds_the_batch_until_eof(self):
        p = bp.Live(self, ["--interval", "0", "--size", "2"])
        p.write(lines_of(A, B, C))
        self.assertEqual(p.wait_lines(1), [b"[" + A + b"," + B + b"]\n"])
        # Twice the default interval: a zero that meant "default" or "at once" shows here.
        self.assertEqual(p.quiet_for(1.2), b"")
        self.assertEqual(p.finish(), 0, bytes(p.err))
        self.assertEqual(bytes(p.out), b"[" + A + b"," + B + b"]\n[" + C + b"]\n")
        self.assertEqual(bytes(p.err), b"")


class SignalTest(unittest.TestCase):
    def start_with_c_open(self, extra_args=()):
        """batchpipe with [a,b] delivered and c read, in the open batch, stdin still open."""
        p = bp.Live(self, ["--interval", "0", "--size", "2", *extra_args])
        p.write(lines_of(A, B, C))
        self.assertEqual(p.wait_lines(1), [b"[" + A + b"," + B + b"]\n"])
        return p

    def test_sigusr1_flushes_the_open_batch(self):
        p = self.start_with_c_open()
        self.assertEqual(p.quiet_for(1.2), b"", "--interval 0 closed a batch by itself")
        p.send(signal.SIGUSR1)
        self.assertEqual(p.wait_lines(2)[1], b"[" + C + b"]\n")
        # With nothing open, SIGUSR1 sends nothing (no empty batch).
        p.send(signal.SIGUSR1)
        self.assertEqual(p.quiet_for(0.3), b"")
        p.write(lines_of(D))
        # d arrives at some point after this write; signal until its batch shows, boundedly.
        for _ in range(20):
            p.send(signal.SIGUSR1)
            if p.wait_until(lambda: len(p.lines()) >= 3, 0.25):
                break
        self.assertEqual(p.lines()[2:], [b"[" + D + b"]\n"])
        self.assertEqual(p.finish(), 0, bytes(p.err))
        self.assertEqual(bytes(p.out), b"[" + A + b"," + B + b"]\n[" + C + b"]\n[" + D + b"]\n")
        self.assertEqual(bytes(p.err), b"")

    def check_stop(self, sig, code):
        p = self.start_with_c_open()
        p.send(sig)
        # stdin stays open: the signal alone must end the run.
        self.assertEqual(p.finish(close_stdin=False), code, bytes(p.err))
        self.assertEqual(bytes(p.out), b"[" + A + b"," + B + b"]\n[" + C + b"]\n")
        self.assertEqual(bytes(p.err), b"")

    def test_sigterm_flushes_everything_read_and_exits_143(self):
        self.check_stop(signal.SIGTERM, 143)

    def test_sigterm_while_waiting_for_a_fifo_writer(self):
        # open() of a FIFO with no writer must not keep the stop from being heard.
        import os
        import tempfile
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        first = os.path.join(tmp.name, "first.ndjson")
        with open(first, "wb") as f:
            f.write(lines_of(A))
        fifo = os.path.join(tmp.name, "fifo")
        os.mkfifo(fifo)
        p = bp.Live(self, ["--size", "1", first, fifo], stdin=subprocess.DEVNULL)
        self.assertEqual(p.wait_lines(1), [b"[" + A + b"]\n"])
        p.send(signal.SIGTERM)
        self.assertEqual(p.finish(close_stdin=False), 143, bytes(p.err))

    def test_sigint_flushes_everything_read_and_exits_130(self):
        self.check_stop(signal.SIGINT, 130)

    def test_signal_status_wins_over_invalid_lines(self):
        p = bp.Live(self, ["--interval", "0", "--size", "2"])
        p.write(lines_of(A, b"{nope", B, C))
        self.assertEqual(p.wait_lines(1), [b"[" + A + b"," + B + b"]\n"])
        p.send(signal.SIGTERM)
        self.assertEqual(p.finish(close_stdin=False), 143, bytes(p.err))
        self.assertEqual(bytes(p.out), b"[" + A + b"," + B + b"]\n[" + C + b"]\n")
        self.assertTrue(bytes(p.err).startswith(b"batchpipe: line 2: "), bytes(p.err))

    def test_sigterm_during_a_steady_stream_leaves_whole_batches(self):
        producer = bp.endless_producer(self, b'{"k":[1,2,3]}\n')
        p = bp.Live(self, ["--interval", "0", "--size", "500"], stdin=producer.stdout)
        producer.stdout.close()
        p.wait_lines(3)
        p.send(signal.SIGTERM)
        self.assertEqual(p.finish(close_stdin=False), 143, bytes(p.err)[-300:])
        out = bytes(p.out)
        self.assertTrue(out.endswith(b"\n"), out[-100:])
        for n, line in enumerate(out.splitlines(), 1):
            batch = json.loads(line)
            self.assertTrue(all(r == {"k": [1, 2, 3]} for r in batch), f"batch {n}")
            self.assertTrue(1 <= len(batch) <= 500, f"batch {n} holds {len(batch)}")


if __name__ == "__main__":
    unittest.main()
