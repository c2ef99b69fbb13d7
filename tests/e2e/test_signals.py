"""Time and signals: --interval with input kept open, SIGUSR1, SIGTERM, SIGINT.

Before a signal is sent, the test waits for output that proves batchpipe has
read the records concerned (and so has its handlers installed): with --size 2
and three records written at once (one write, under PIPE_BUF, so one read),
"[a,b]" on stdout means "c" is in the open batch. Windows in which nothing
may appear are bounded select() waits on stdout.
"""

import fcntl
import json
import select
import os
import shutil
import signal
import struct
import tempfile
import termios
import subprocess
import sys
import time
import unittest

import bp
from http_server import ScriptedServer

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


class MoreSignalsTest(unittest.TestCase):
    """SIGHUP, SIGUSR2, SIGALRM, signals during start-up and floods."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bp-sig-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_sighup_flushes_everything_read_and_exits_129(self):
        p = bp.Live(self, ["--interval", "0", "--size", "2"])
        p.write(lines_of(A, B, C))
        self.assertEqual(p.wait_lines(1), [b"[" + A + b"," + B + b"]\n"])
        p.send(signal.SIGHUP)
        self.assertEqual(p.finish(close_stdin=False), 129, bytes(p.err))
        self.assertEqual(bytes(p.out), b"[" + A + b"," + B + b"]\n[" + C + b"]\n")
        self.assertEqual(bytes(p.err), b"")

    def test_sighup_with_exec_dead_letters_what_is_undelivered(self):
        dead = os.path.join(self.tmp, "dead")
        p = bp.Live(self, ["--interval", "0", "--size", "1", "--exec", "exit 1", "--retries", "100",
                           "--retry-delay", "10s", "--dead-letter", dead])
        p.write(lines_of(A, B))
        self.assertTrue(p.wait_until(lambda: b"retry 1 of 100" in p.err, bp.SLACK), bytes(p.err))
        p.send(signal.SIGHUP)
        self.assertEqual(p.finish(close_stdin=False), 129, bytes(p.err))
        with open(dead, "rb") as f:
            self.assertEqual(f.read(), lines_of(A, B))

    def test_sigusr2_prints_the_stats_and_the_run_goes_on(self):
        p = bp.Live(self, ["--interval", "0", "--size", "2"])
        p.write(lines_of(A, B, C))
        self.assertEqual(p.wait_lines(1), [b"[" + A + b"," + B + b"]\n"])
        p.send(signal.SIGUSR2)
        # The third line: what --max-buffer holds now (C at least).
        self.assertTrue(p.wait_until(lambda: bytes(p.err).count(b"\n") >= 3, bp.SLACK), "no stats after SIGUSR2")
        self.assertRegex(bytes(p.err).decode(),
                         r"^batchpipe: stats: read 3 lines \(\d+ B\): 3 records\n"
                         r"batchpipe: stats: 1 batch \(\d+ B\) in .*\n"
                         r"batchpipe: stats: buffer .* of 64\.0 MiB \(\d records? read, not yet committed\)\n$")
        p.send(signal.SIGALRM)  # ignored, not fatal
        p.write(lines_of(D))
        self.assertEqual(p.wait_lines(2)[1], b"[" + C + b"," + D + b"]\n")
        self.assertEqual(p.finish(), 0, bytes(p.err))
        self.assertEqual(len(bp.stderr_lines(bytes(p.err))), 3, bytes(p.err))

    def blocked_stdout_run(self):
        """batchpipe fed for ever, its stdout a pipe nobody reads, once that pipe is full."""
        producer = bp.endless_producer(self, b'{"k":1}\n')
        proc = bp.spawn(self, [bp.binary(), "--interval", "0"], stdin=producer.stdout,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        producer.stdout.close()
        os.set_blocking(proc.stderr.fileno(), False)

        def queued():
            return struct.unpack("i", fcntl.ioctl(proc.stdout.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]

        last = [-1]

        def full():  # the pipe holds something and stopped growing
            n, grew = queued(), queued() != last[0]
            last[0] = n
            return n > 0 and not grew

        self.assertTrue(bp.wait_for(full, bp.SLACK, step=0.2), "stdout never filled up")
        return proc

    def drain_and_wait(self, proc, timeout=bp.SLACK * 2):
        """Reads stdout to its end (and stderr) against a deadline; returns (status, stderr)."""
        os.set_blocking(proc.stdout.fileno(), False)
        err = bytearray()
        deadline = time.monotonic() + timeout
        open_fds = {proc.stdout.fileno(), proc.stderr.fileno()}
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"batchpipe still writing {timeout}s later; stderr {bytes(err)[-500:]!r}")
            readable, _, _ = select.select(list(open_fds), [], [], left)
            for fd in readable:
                try:
                    chunk = os.read(fd, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    open_fds.discard(fd)
                elif fd == proc.stderr.fileno():
                    err += chunk
        return proc.wait(timeout=max(0.1, deadline - time.monotonic())), bytes(err)

    def test_sigusr2_reports_while_stdout_is_blocked(self):
        proc = self.blocked_stdout_run()
        proc.send_signal(signal.SIGUSR2)
        err = bytearray()

        def got_line():
            try:
                err.extend(os.read(proc.stderr.fileno(), 4096))
            except BlockingIOError:
                pass
            return b"\n" in err

        self.assertTrue(bp.wait_for(got_line, bp.SLACK), "no stats while stdout was blocked")
        self.assertTrue(err.startswith(b"batchpipe: stats: "), bytes(err))
        proc.send_signal(signal.SIGTERM)
        status, _ = self.drain_and_wait(proc)
        self.assertEqual(status, 143)

    def test_a_flood_of_sigusr1_does_not_hide_the_sigterm_after_it(self):
        # Once a byte a signal filled the 64 KiB signal pipe, and the SIGTERM after
        # was dropped: the run never ended. Signals sent while one is pending
        # merge, so many more are sent than must be handled.
        proc = self.blocked_stdout_run()
        for _ in range(700000):
            os.kill(proc.pid, signal.SIGUSR1)
        proc.send_signal(signal.SIGTERM)
        status, err = self.drain_and_wait(proc, timeout=bp.SLACK * 4)
        self.assertEqual(status, 143, err[-500:])

    def test_signals_during_start_up_are_not_fatal(self):
        # Reading -H @FIFO blocks in the command-line parsing until the test
        # writes it: a window in which signals find batchpipe just started.
        server = ScriptedServer()
        self.addCleanup(server.close)
        fifo = os.path.join(self.tmp, "headers")
        os.mkfifo(fifo)
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        proc = bp.spawn(self, [bp.binary(), "--post", server.url("/"), "-H", "@" + fifo],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

        def fifo_opened():  # a writer can open it without blocking once batchpipe reads it
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                return False
            self.fifo_fd = fd
            return True

        self.assertTrue(bp.wait_for(fifo_opened, bp.SLACK), "batchpipe never opened the header file")
        for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
            proc.send_signal(sig)
        self.assertIsNone(proc.poll())
        os.write(self.fifo_fd, b"X-Test: 1\n")
        os.close(self.fifo_fd)
        out, err = proc.communicate(lines_of(A), timeout=bp.RUN_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual([r.body for r in server.requests()], [b"[" + A + b"]\n"])
        self.assertEqual([r.header("X-Test") for r in server.requests()], ["1"])


if __name__ == "__main__":
    unittest.main()
