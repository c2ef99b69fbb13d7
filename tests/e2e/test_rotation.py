"""-F with logrotate as it really runs: a writer appending about 2,000
lines/s that reopens its file on SIGHUP (postrotate), rotated by the real
`logrotate` binary (its own state file and a config in a temporary
directory, never the system's) with `create` (+ `delaycompress`) and with
`copytruncate`, some while batchpipe runs and some while it is killed with
-9. After a restart and a drain, every line that exists in some file has
arrived at least once, and each run delivers each file's lines in order.
Also: a followed file that is deleted is closed (/proc/PID/fd) within the
rotation wait; a file truncated and then rotated while batchpipe was stopped
is read from its copy, then from the renamed file, then the new one.

Waits are for conditions against deadlines; the writer paces itself as a
logger does. Each test takes a few seconds.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import bp

WRITER = r"""
import os, signal, sys, time
path, rate = sys.argv[1], int(sys.argv[2])
reopen = False
stop = False
def on_hup(*_):
    global reopen
    reopen = True
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGHUP, on_hup)
signal.signal(signal.SIGTERM, on_term)
f = open(path, "a")
n = 0
start = time.monotonic()
while not stop:
    if reopen:
        reopen = False
        f.close()
        f = open(path, "a")
    due = int((time.monotonic() - start) * rate) + 1
    while n < due:
        f.write('{"n":%d,"pad":"%s"}\n' % (n, "x" * 60))
        n += 1
    f.flush()
    time.sleep(0.002)
f.close()
with open(path + ".count", "w") as c:
    c.write(str(n))
"""


class RotationCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bp-rot-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir]))
        self.log = self.path("app.log")
        self.ckpt = self.path("ckpt.json")
        self.runs = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def start_writer(self):
        script = self.path("writer.py")
        with open(script, "w") as f:
            f.write(WRITER)
        writer = bp.spawn(self, [sys.executable, script, self.log, "2000"])
        with open(self.path("writer.pid"), "w") as f:
            f.write(str(writer.pid))
        self.assertTrue(bp.wait_for(lambda: os.path.exists(self.log) and os.path.getsize(self.log) > 0, bp.SLACK))
        return writer

    def stop_writer(self, writer) -> int:
        writer.send_signal(signal.SIGTERM)
        writer.wait(timeout=bp.SLACK)
        with open(self.log + ".count") as f:
            return int(f.read())

    def logrotate(self, how):
        conf = self.path("logrotate.conf")
        with open(conf, "w") as f:
            f.write(f"{self.log} {{\n  rotate 9\n  missingok\n  {how}\n"
                    f"  postrotate\n    kill -HUP $(cat {self.path('writer.pid')})\n  endscript\n}}\n")
        r = subprocess.run(["logrotate", "-f", "-s", self.path("logrotate.state"), conf],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def start(self, extra=()):
        """batchpipe -F to a file of its own (kept across a kill -9)."""
        out = open(self.path(f"out.{len(self.runs)}"), "wb")
        self.addCleanup(out.close)
        proc = bp.spawn(self, [bp.binary(), "-F", "--checkpoint", self.ckpt, "--rotate-wait", "500ms",
                               "--interval", "20ms", "--format", "ndjson", *extra, self.log],
                        stdout=out, stderr=subprocess.PIPE)
        self.runs.append(proc)
        self.assertTrue(bp.wait_for(lambda: self.catches(proc.pid), bp.SLACK), "handlers never installed")
        return proc

    @staticmethod
    def catches(pid):
        try:
            with open(f"/proc/{pid}/status") as f:
                caught = next(int(l.split()[1], 16) for l in f if l.startswith("SigCgt:"))
        except (OSError, StopIteration):
            return False
        return bool(caught & (1 << (signal.SIGTERM - 1)))

    def outputs(self):
        """Each run's numbers, in the order it wrote them."""
        runs = []
        for i in range(len(self.runs)):
            with open(self.path(f"out.{i}"), "rb") as f:
                text = f.read()
            runs.append([json.loads(l)["n"] for l in text[: text.rfind(b"\n") + 1].splitlines()])
        return runs

    def wait_all(self, count, timeout=15):
        ok = bp.wait_for(lambda: set(range(count)) <= {n for run in self.outputs() for n in run}, timeout, 0.05)
        if not ok:
            got = {n for run in self.outputs() for n in run}
            missing = sorted(set(range(count)) - got)
            self.fail(f"{len(missing)} of {count} lines never arrived, first {missing[:10]}")

    def kill9(self, proc):
        proc.kill()
        proc.wait(timeout=bp.SLACK)

    def term(self, proc):
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=bp.SLACK * 2)
        self.assertEqual(proc.returncode, 143, err)
        return err.decode()

    def runs_in_order(self, runs):
        # One writer: old files hold lower numbers than new ones, so each
        # run's lines come strictly in order.
        for i, run in enumerate(runs):
            self.assertEqual(run, sorted(set(run)), f"run {i} out of order or repeating")

    def pause(self, seconds):
        time.sleep(seconds)  # the writer writes on meanwhile: time is the workload here, not a wait


class CreateRotationTest(RotationCase):
    def test_create_rotations_while_running_lose_no_line(self):
        writer = self.start_writer()
        bp_proc = self.start()
        for _ in range(3):
            self.pause(0.6)
            self.logrotate("create")
        self.pause(0.3)
        count = self.stop_writer(writer)
        self.wait_all(count)
        self.term(bp_proc)
        runs = self.outputs()
        self.assertEqual(runs[0], list(range(count)))  # nothing lost, nothing twice, in order

    def test_create_delaycompress_with_a_kill_9_and_a_rotation_while_stopped(self):
        writer = self.start_writer()
        first = self.start()
        self.pause(0.5)
        self.logrotate("create\n  compress\n  delaycompress")
        # Past the rotation wait, so the checkpoint is in the new file: a
        # kill within the wait, then a second rotation while stopped, would
        # leave the file between unread (documented).
        self.pause(1.2)
        self.kill9(first)
        self.logrotate("create\n  compress\n  delaycompress")  # app.log.1 -> .2.gz, app.log -> .1
        self.pause(0.3)
        second = self.start()
        self.pause(0.5)
        self.logrotate("create\n  compress\n  delaycompress")
        self.pause(0.3)
        count = self.stop_writer(writer)
        self.wait_all(count)
        err = self.term(second)
        self.assertIn("rotated since the checkpoint", err)
        self.runs_in_order(self.outputs())


class QuickRotationsTest(RotationCase):
    def write(self, name, start, end, mode="ab"):
        with open(self.path(name), mode) as f:
            f.write(b"".join(b'{"n":%d}\n' % n for n in range(start, end)))

    def holds(self, pid, path):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                    return True
            except OSError:
                pass
        return False

    def test_a_second_rotation_within_the_wait_does_not_skip_the_file_between(self):
        self.write("app.log", 0, 10)
        proc = self.start(extra=("--rotate-wait", "1s"))
        self.wait_all(10)
        os.rename(self.log, self.log + ".1")
        self.write("app.log", 10, 20)
        # Once batchpipe holds the new file (it keeps reading the old one for the wait)...
        self.assertTrue(bp.wait_for(lambda: self.holds(proc.pid, self.log), bp.SLACK))
        os.rename(self.log + ".1", self.log + ".2")  # ...rotated again within the wait
        os.rename(self.log, self.log + ".1")
        self.write("app.log", 20, 30)
        self.wait_all(30)
        self.term(proc)
        self.assertEqual(self.outputs()[0], list(range(30)))


class CopytruncateTest(RotationCase):
    def test_copytruncate_while_running_reads_the_rest_from_the_copy(self):
        writer = self.start_writer()
        bp_proc = self.start()
        for _ in range(2):
            self.pause(0.6)
            self.logrotate("copytruncate")
        self.pause(0.3)
        count = self.stop_writer(writer)
        # Only logrotate's own race (lines written between its copy and its
        # truncation) may be missing: those are in no file.
        in_files = set()
        for name in glob.glob(self.log + "*"):
            if name.endswith(".count"):
                continue
            with open(name, "rb") as f:
                in_files |= {json.loads(l)["n"] for l in f}
        self.wait_all_of(in_files)
        err = self.term(bp_proc)
        # Caught up at the truncation, so the copy holds nothing unread.
        self.assertIn("truncated", err)
        self.runs_in_order(self.outputs())
        self.assertGreater(len(in_files), count * 0.9)

    def test_copytruncate_behind_the_writer_reads_the_rest_from_the_copy(self):
        with open(self.log, "wb") as f:
            f.write(b"".join(b'{"n":%d}\n' % n for n in range(100)))
        proc = self.start()
        self.wait_all(100)
        proc.send_signal(signal.SIGSTOP)  # batchpipe falls behind
        self.addCleanup(lambda: proc.poll() is None and proc.send_signal(signal.SIGCONT))
        with open(self.log, "ab") as f:
            f.write(b"".join(b'{"n":%d}\n' % n for n in range(100, 150)))
        subprocess.run(["cp", self.log, self.log + ".1"], check=True)  # what copytruncate does
        with open(self.log, "r+b") as f:
            f.truncate(0)
        with open(self.log, "ab") as f:
            f.write(b"".join(b'{"n":%d}\n' % n for n in range(150, 160)))
        proc.send_signal(signal.SIGCONT)
        self.wait_all(160)
        err = self.term(proc)
        self.assertIn("reading the rest from its copy", err)
        self.assertEqual(self.outputs()[0], list(range(160)))

    def wait_all_of(self, numbers, timeout=15):
        ok = bp.wait_for(lambda: numbers <= {n for run in self.outputs() for n in run}, timeout, 0.05)
        if not ok:
            missing = sorted(numbers - {n for run in self.outputs() for n in run})
            self.fail(f"{len(missing)} lines in the files never arrived, first {missing[:10]}")

    def test_copytruncate_while_killed_resumes_from_the_copy(self):
        writer = self.start_writer()
        first = self.start()
        self.pause(0.8)
        self.kill9(first)
        self.pause(0.2)
        self.logrotate("copytruncate")
        self.pause(0.3)
        second = self.start()
        self.pause(0.5)
        count = self.stop_writer(writer)
        in_files = set()
        for name in glob.glob(self.log + "*"):
            if not name.endswith(".count"):
                with open(name, "rb") as f:
                    in_files |= {json.loads(l)["n"] for l in f}
        self.wait_all_of(in_files)
        err = self.term(second)
        self.assertIn("from its copy", err)
        self.runs_in_order(self.outputs())


class StoppedTruncateThenRotateTest(RotationCase):
    def lines(self, start, end):
        return b"".join(b'{"n":%d}\n' % n for n in range(start, end))

    def checkpointed_then_appended(self):
        """app.log with lines 0-99, all delivered and checkpointed; then 100-119 appended."""
        with open(self.log, "wb") as f:
            f.write(self.lines(0, 100))
        r = bp.run(["--checkpoint", self.ckpt, "--format", "ndjson", self.log])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.log, "ab") as f:
            f.write(self.lines(100, 120))  # after the checkpoint

    def test_truncated_then_rotated_while_stopped_reads_copy_renamed_and_new_file(self):
        self.checkpointed_then_appended()
        subprocess.run(["cp", self.log, self.log + ".ct1"], check=True)
        with open(self.log, "wb") as f:
            f.write(self.lines(120, 170))  # : > app.log, and the app writes on
        os.rename(self.log, self.log + ".1")
        with open(self.log, "wb") as f:
            f.write(self.lines(170, 180))
        r = bp.run(["-q", "--checkpoint", self.ckpt, "--format", "ndjson", self.log])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [json.loads(l)["n"] for l in r.stdout.splitlines()]
        self.assertEqual(got, list(range(100, 180)))
        err = r.stderr.decode()
        self.assertIn("its first bytes changed (truncated, then rotated)", err)  # said even with -q
        r = bp.run(["--checkpoint", self.ckpt, "--format", "ndjson", self.log])
        self.assertEqual(r.stdout, b"")

    def test_two_rotations_while_stopped_read_the_file_between_too(self):
        # app.log -> app.log.1 -> app.log.2 with a new app.log.1 between: the
        # rest of the checkpoint's file, then app.log.1, then app.log.
        older = self.log + ".5"
        with open(older, "wb") as f:
            f.write(self.lines(900, 910))  # an old rotation, read long ago
        os.utime(older, (time.time() - 3600, time.time() - 3600))
        self.checkpointed_then_appended()
        os.rename(self.log, self.log + ".1")
        with open(self.log, "wb") as f:
            f.write(self.lines(120, 150))
        os.rename(self.log + ".1", self.log + ".2")
        os.rename(self.log, self.log + ".1")
        with open(self.log, "wb") as f:
            f.write(self.lines(150, 160))
        r = bp.run(["--checkpoint", self.ckpt, "--format", "ndjson", self.log])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([json.loads(l)["n"] for l in r.stdout.splitlines()], list(range(100, 160)))
        self.assertIn("app.log.1, rotated after it", r.stderr.decode())
        r = bp.run(["--checkpoint", self.ckpt, "--format", "ndjson", self.log])
        self.assertEqual(r.stdout, b"")

    def test_truncated_while_stopped_without_a_copy_says_what_is_skipped_even_with_q(self):
        with open(self.log, "wb") as f:
            f.write(self.lines(0, 100))
        r = bp.run(["--checkpoint", self.ckpt, "--format", "ndjson", self.log])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.log, "wb") as f:
            f.write(self.lines(500, 510))
        r = bp.run(["-q", "--checkpoint", self.ckpt, "--format", "ndjson", self.log])
        self.assertEqual([json.loads(l)["n"] for l in r.stdout.splitlines()], list(range(500, 510)))
        self.assertIn("is skipped", r.stderr.decode())


class DeletedFileTest(RotationCase):
    def open_fds(self, pid):
        out = []
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
        return out

    def test_a_deleted_file_is_read_to_its_end_and_closed_within_the_wait(self):
        with open(self.log, "wb") as f:
            f.write(b'{"n":0}\n')
        proc = self.start(extra=("--rotate-wait", "2s"))
        self.assertTrue(bp.wait_for(lambda: self.log in self.open_fds(proc.pid), bp.SLACK))
        with open(self.log, "ab") as f:
            f.write(b'{"n":1}\n')
            os.unlink(self.log)
            f.write(b'{"n":2}\n')  # written after the deletion: still read
        deleted_at = time.monotonic()
        closed = bp.wait_for(lambda: not any(l.startswith(self.log) for l in self.open_fds(proc.pid)), 2 + bp.SLACK)
        self.assertTrue(closed, self.open_fds(proc.pid))
        self.assertLess(time.monotonic() - deleted_at, 2 + bp.SLACK)
        self.wait_all(3)
        with open(self.log, "wb") as f:
            f.write(b'{"n":3}\n')  # the name comes back: followed again
        self.wait_all(4)
        self.term(proc)
        self.assertEqual(self.outputs()[0], [0, 1, 2, 3])


if __name__ == "__main__":
    unittest.main()
