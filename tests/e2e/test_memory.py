"""--max-buffer as a memory bound: with a receiver that never takes a batch
and input that never ends, peak RSS stays within the budget plus the fixed
amount the man page states, at any --parallel; and a giant record is not held
several times over.

Figures are taken against the same binary's own baseline (a run on two small
lines), as test_limits does: sanitizer builds start tens of MiB higher."""

import os
import subprocess
import sys
import tempfile
import time
import unittest

import bp
from http_server import ScriptedServer

MiB = 1 << 20
# The man page's fixed amount is 16 MiB with the shared libraries and the
# start-up heap (the baseline, about 11 MiB for a release build); beyond the
# baseline this much is allowed on top of the budget.
OVER_BASELINE = 6 * MiB


def allowed(held: int) -> int:
    """What may come on top of the baseline for `held` bytes held: they and
    OVER_BASELINE; under ASan also its shadow (an eighth of what is
    touched) and its allocator's own bookkeeping."""
    return held + OVER_BASELINE + ((held // 8 + 4 * MiB) if bp.sanitized() else 0)


RECORD = b'{"msg":"' + b"m" * 180 + b'","n":1}'


def status_field(pid: int, field: str) -> int:
    """A "kB" field of /proc/PID/status, in bytes; 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def bytes_read(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def setUpModule():
    # The sanitizer's quarantine would keep freed buffers: not what a user runs.
    if bp.sanitized():
        extra = "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
        os.environ["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), extra]))


_baseline = None


def baseline(test) -> int:
    """Peak RSS of the binary once it has batched two small lines: libraries
    and start-up. (Read from /proc, which starts afresh at exec: a child's
    ru_maxrss also counts the test process it was forked from.)"""
    global _baseline
    if _baseline is None:
        live = bp.Live(test, ["--interval", "10ms"])
        live.write(b'{"before":1}\n{"after":2}\n')
        live.wait_lines(1, timeout=bp.SLACK * 3)
        _baseline = status_field(live.proc.pid, "VmHWM")
        test.assertEqual(live.finish(), 0)
    return _baseline


def record_producer(test, size: int):
    """A process writing records of `size` bytes (newline included) for ever."""
    program = ("import sys\n"
               f"r = b'\"' + b'r' * {size - 3} + b'\"\\n'\n"
               "b = r * max(1, (1 << 20) // len(r))\n"
               "while True: sys.stdout.buffer.write(b)\n")
    return bp.spawn(test, [sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


class StalledSinkTest(unittest.TestCase):
    def stalled_peak(self, budget: int, parallel: int, record: int = 0, extra=(), read_share=0.75,
                     size=1000000) -> int:
        """Peak RSS of a run whose receiver answers 503 for ever, fed without
        end (records of `record` bytes, or RECORD); it must have read
        `read_share` of the budget first."""
        server = ScriptedServer(default=503)
        self.addCleanup(server.close)
        producer = record_producer(self, record) if record else bp.endless_producer(self, RECORD + b"\n")
        args = [bp.binary(), "-q", "--max-buffer", str(budget), "--parallel", str(parallel),
                "--size", str(size), "--max-bytes", str(budget // 4), "--retries", "inf",
                "--retry-max-delay", "200ms", "--post", server.url("/"), *extra]
        proc = bp.spawn(self, args, stdin=producer.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        producer.stdout.close()
        # The budget is spent once about its worth of input was read; then
        # the peak is taken over a bounded window while reading has stopped.
        timeout = bp.RUN_TIMEOUT * (3 if bp.sanitized() else 1)
        self.assertTrue(bp.wait_for(lambda: bytes_read(proc.pid) >= budget * read_share, timeout, step=0.05),
                        f"read only {bytes_read(proc.pid)} bytes of a {budget}-byte budget")
        peak = 0
        window_end = time.monotonic() + 2.0
        while time.monotonic() < window_end:
            self.assertIsNone(proc.poll(), "batchpipe ended")
            peak = max(peak, status_field(proc.pid, "VmHWM"))
            time.sleep(0.05)
        self.assertLess(bytes_read(proc.pid), budget * 2, "it kept reading past the budget")
        return peak

    def check(self, budget, parallel, **kwargs):
        peak = self.stalled_peak(budget, parallel, **kwargs)
        base = baseline(self)
        self.assertLessEqual(peak - base, allowed(budget),
                             f"peak {peak / MiB:.1f} MiB, baseline {base / MiB:.1f} MiB, "
                             f"--max-buffer {budget // MiB}M --parallel {parallel} {kwargs}")

    def test_16m_one_worker(self):
        self.check(16 * MiB, 1)

    def test_16m_eight_workers(self):
        self.check(16 * MiB, 8)

    def test_64m_one_worker(self):
        self.check(64 * MiB, 1)

    def test_64m_eight_workers(self):
        self.check(64 * MiB, 8)

    # One record a batch: each batch's own costs (itself, its buffers'
    # headers, its place in the sink) count, not only its bytes. A 16M
    # budget held 45 MB of such batches, the pages of one mapping each.
    def test_16m_one_record_a_batch(self):
        self.check(16 * MiB, 8, size=1, read_share=0.15)

    def test_64m_one_record_a_batch(self):
        self.check(64 * MiB, 8, size=1, read_share=0.15)

    # Records of 4 MB, two to a batch: the blocks that hold them, the part
    # of one carried to the next block, and each worker's buffers count.
    def test_4mb_records_sixteen_workers(self):
        self.check(64 * MiB, 16, record=4_000_000, extra=["--max-bytes", "8M"])

    def test_4mb_records_sixteen_workers_gzip(self):
        # A compressed body's buffer is counted at its bound (the batch's
        # size) for each worker: less is read ahead.
        self.check(64 * MiB, 16, record=4_000_000, extra=["--max-bytes", "8M", "--compress", "gzip"],
                   read_share=0.25)

    def test_4mb_records_four_workers_zstd19(self):
        # Each worker kept its own zstd:19 compressor (about 60 MiB resident
        # each): 4 MB records at -j 4 peaked far above the budget. The
        # workers now share what half the budget holds, tables made to fit.
        self.check(32 * MiB, 4, record=4_000_000, extra=["--max-bytes", "8M", "--compress", "zstd:19"],
                   read_share=0.25)


class GiantRecordTest(unittest.TestCase):
    def test_a_giant_record_is_held_once(self):
        # Read block, batch and the validator's copy held it three times.
        size = 24 * MiB
        budget = 32 * MiB
        base = baseline(self)
        with tempfile.TemporaryFile() as source:
            source.write(b'"')
            for _ in range(size // MiB):
                source.write(b"g" * MiB)
            source.seek(-2, os.SEEK_CUR)
            source.write(b'"\n{"after":1}\n')
            source.seek(0)
            live = bp.Live(self, ["--max-buffer", str(budget), "--max-bytes", str(budget)], stdin=source)
            # Once the batch is being written its record has been read,
            # checked and batched: the peak is behind.
            timeout = bp.RUN_TIMEOUT * (3 if bp.sanitized() else 1)
            self.assertTrue(live.wait_until(lambda: len(live.out) > 0, timeout), bytes(live.err))
            peak = status_field(live.proc.pid, "VmHWM")
            self.assertEqual(live.finish(timeout=timeout), 0, bytes(live.err))
        self.assertEqual(len(live.out), len(b"[") + size + len(b',{"after":1}]\n'))
        # Once in its batch, and a piece of it on the way.
        self.assertLessEqual(peak - base, allowed(size),
                             f"peak {peak / MiB:.1f} MiB for a {size // MiB} MiB record, baseline {base / MiB:.1f} MiB")


class LargeRecordTest(unittest.TestCase):
    def peak_to_the_end(self, live) -> int:
        """Peak RSS of `live` over its whole run, which must end with exit 0."""
        timeout = bp.RUN_TIMEOUT * (3 if bp.sanitized() else 1)
        peak = 0
        deadline = time.monotonic() + timeout
        while live.proc.poll() is None and time.monotonic() < deadline:
            peak = max(peak, status_field(live.proc.pid, "VmHWM"))
            live.pump(0.02)
        self.assertEqual(live.finish(timeout=timeout), 0, bytes(live.err))
        return peak

    def test_a_100_mb_record_within_a_128m_budget(self):
        # Peaked at 309 MB in 0.2 (read block, the check's copy, the batch).
        size = 100_000_000
        budget = 128 * MiB
        base = baseline(self)
        with tempfile.TemporaryFile() as source:
            source.write(b'"')
            chunk = b"h" * MiB
            left = size - 2
            while left:
                source.write(chunk[:min(left, MiB)])
                left -= min(left, MiB)
            source.write(b'"\n{"after":1}\n')
            source.seek(0)
            live = bp.Live(self, ["--max-buffer", "128M", "--max-bytes", "128M"], stdin=source)
            peak = self.peak_to_the_end(live)
        self.assertEqual(len(live.out), len(b"[") + size + len(b',{"after":1}]\n'))
        self.assertLessEqual(peak - base, allowed(budget),
                             f"peak {peak / MiB:.1f} MiB for a 100 MB record, baseline {base / MiB:.1f} MiB")

    def test_a_100_mb_record_through_the_spool_within_a_128m_budget(self):
        # The --spool writer copied a long record into its write buffer: 298 MiB.
        size = 100_000_000
        base = baseline(self)
        program = ("import sys\n"
                   "out = sys.stdout.buffer\n"
                   "out.write(b'\"')\n"
                   f"left = {size - 2}\n"
                   "chunk = b'h' * (1 << 20)\n"
                   "while left:\n"
                   "    n = min(left, len(chunk)); out.write(chunk[:n]); left -= n\n"
                   "out.write(b'\"\\n{\"after\":1}\\n')\n")
        producer = bp.spawn(self, [sys.executable, "-c", program], stdout=subprocess.PIPE)
        with tempfile.TemporaryDirectory() as tmp:
            live = bp.Live(self, ["--max-buffer", "128M", "--max-bytes", "128M", "--spool", os.path.join(tmp, "spool")],
                           stdin=producer.stdout)
            producer.stdout.close()
            peak = self.peak_to_the_end(live)
        out = bytes(live.out)  # one batch or two, as the spool hands them over
        self.assertIn(out, (b'["' + b"h" * (size - 2) + b'",{"after":1}]\n',
                            b'["' + b"h" * (size - 2) + b'"]\n[{"after":1}]\n'))
        self.assertLessEqual(peak - base, allowed(128 * MiB),
                             f"peak {peak / MiB:.1f} MiB for a 100 MB record, baseline {base / MiB:.1f} MiB")


if __name__ == "__main__":
    unittest.main()
