"""SIGINT, SIGTERM and SIGHUP in batchpipe's first milliseconds.

The counting handlers are installed from .preinit_array, the first code of
batchpipe's own that the dynamic loader runs. The test sends each signal
over and over as early as it can (right after exec) and at the moment the
kernel shows the handler in place (SigCgt in /proc/PID/status), and checks
what the man page promises: either batchpipe handled it (exit 128+N, every
record it read written), or, in the loader's own few milliseconds before
that, it was ended by the signal having read and written nothing. With
--checkpoint, a second run then writes the rest: every record exactly once,
in order.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import bp

RECORDS = [b'{"i":%d}' % i for i in range(3000)]
SIGNALS = [s for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
           if s != signal.SIGHUP or signal.getsignal(signal.SIGHUP) != signal.SIG_IGN]


def caught(pid) -> int:
    """The SigCgt mask of `pid`, or 0 if it cannot be read (gone, or not yet exec'd)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


class EarlySignalTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bp-early-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.input = os.path.join(self.dir, "in.ndjson")
        with open(self.input, "wb") as f:
            f.write(b"".join(r + b"\n" for r in RECORDS))

    def run_signalled(self, sig, wait_for_handler: bool, checkpoint: str):
        proc = bp.spawn(self, [bp.binary(), "--size", "100", "--checkpoint", checkpoint, self.input],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if wait_for_handler:
            deadline = time.monotonic() + bp.SLACK
            while not caught(proc.pid) & (1 << (sig - 1)) and proc.poll() is None:
                self.assertLess(time.monotonic(), deadline, "the handler never showed in SigCgt")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=bp.RUN_TIMEOUT)
        return proc.returncode, out, err

    def records_of(self, out: bytes) -> list:
        """The records of the batches written (each "[r,r,...]"), in order."""
        records = []
        for line in out.splitlines():
            self.assertTrue(line.startswith(b"[") and line.endswith(b"]"), line)
            records += line[1:-1].split(b",")
        return records

    def check(self, sig, wait_for_handler, outcomes):
        checkpoint = os.path.join(self.dir, f"cp-{sum(outcomes.values())}")
        rc, out, err = self.run_signalled(sig, wait_for_handler, checkpoint)
        detail = f"signal {sig.name}, exit {rc}, stderr {err[-1000:]!r}"
        if rc == -sig:
            # Only before the handlers are in place: nothing read, nothing written.
            self.assertFalse(wait_for_handler, "ended by a signal whose handler was in place: " + detail)
            self.assertEqual((out, err), (b"", b""), detail)
            outcomes["ended by the signal"] = outcomes.get("ended by the signal", 0) + 1
        else:
            self.assertIn(rc, (128 + sig, 0), detail)  # 0: it had read and written everything first
            outcomes["handled"] = outcomes.get("handled", 0) + 1
        first = self.records_of(out)
        rest = bp.run(["--size", "100", "--checkpoint", checkpoint, self.input], stdin=subprocess.DEVNULL)
        self.assertEqual(rest.returncode, 0, rest.stderr)
        self.assertEqual(first + self.records_of(rest.stdout), RECORDS, detail)

    def test_a_signal_once_the_handler_shows_is_always_handled(self):
        outcomes = {}
        for i in range(12):
            self.check(SIGNALS[i % len(SIGNALS)], True, outcomes)
        self.assertEqual(outcomes.get("ended by the signal", 0), 0, outcomes)

    def test_a_signal_right_after_exec_loses_nothing(self):
        outcomes = {}
        for i in range(30):
            self.check(SIGNALS[i % len(SIGNALS)], False, outcomes)
        print(f"\ntest_early_signals: right after exec, 30 runs: {outcomes}", flush=True)


if __name__ == "__main__":
    unittest.main()
