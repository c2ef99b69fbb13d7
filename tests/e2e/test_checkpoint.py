"""--checkpoint and --follow: resuming input files where the last run's
commits stopped (kill -9 included), and following files as tail -F does.

Receivers are http_server.ScriptedServer on 127.0.0.1 or batchpipe's own
stdout. Every batchpipe started is reaped by a cleanup, every server closed.
Waits are for conditions (requests received, output lines, a file's content)
against deadlines. A writer thread paces its appends, as a logging program
does; no test waits in the hope that something has happened.

The crash tests run at the issue's scale (200,000 records, about 10 MB,
rotated half-way; 10 kills), in about 15 s for both on two busy cores, with
a --max-buffer of 1 MiB so that the bound on duplicates means something;
under ASan/UBSan, several times slower, with 50,000 records.
"""

import json
import os
import random
import re
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import bp
from http_server import ScriptedServer


def record(n: int) -> bytes:
    return b'{"n":%d,"pad":"%s"}' % (n, b"x" * 32)


def holds_open(pid: int, path: str) -> bool:
    """Whether process `pid` has `path` open."""
    fds = f"/proc/{pid}/fd"
    try:
        return any(os.readlink(os.path.join(fds, fd)) == path for fd in os.listdir(fds))
    except OSError:
        return False


def received_numbers(bodies) -> list:
    """The "n" of every record in the bodies, in the order they arrived."""
    out = []
    for body in bodies:
        out.extend(r["n"] for r in json.loads(body))
    return out


def catches(pid: int, sig) -> bool:
    """True once process `pid` has a handler for `sig` (SigCgt in /proc)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            caught = next(int(l.split()[1], 16) for l in f if l.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(caught & (1 << (int(sig) - 1)))


class Writer(threading.Thread):
    """Appends record(0..count-1) to `path` in chunks, renaming the file to
    path + ".1" and starting a new one after record `rotate_at` (if given)."""

    def __init__(self, path, count, rotate_at=None, chunk=200, pause=0.005):
        super().__init__(daemon=True)
        self.path, self.count, self.rotate_at, self.chunk, self.pause = path, count, rotate_at, chunk, pause
        self.done = threading.Event()

    def run(self):
        f = open(self.path, "ab")
        try:
            for start in range(0, self.count, self.chunk):
                end = min(self.count, start + self.chunk)
                if self.rotate_at is not None and start <= self.rotate_at < end:
                    f.write(b"".join(record(n) + b"\n" for n in range(start, self.rotate_at)))
                    f.close()
                    os.rename(self.path, self.path + ".1")
                    f = open(self.path, "ab")
                    start = self.rotate_at
                f.write(b"".join(record(n) + b"\n" for n in range(start, end)))
                f.flush()
                time.sleep(self.pause)  # the writer's own pace, not a wait for anything
        finally:
            f.close()
            self.done.set()


class CheckpointCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bp-ckpt-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir]))
        self.ckpt = self.path("ckpt.json")

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, records, mode="wb"):
        with open(self.path(name), mode) as f:
            f.write(b"".join(r + b"\n" for r in records))

    def saved(self):
        with open(self.ckpt, "rb") as f:
            return json.load(f)

    def start(self, args, **kwargs):
        return bp.spawn(self, [bp.binary(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)

    def server(self, **kwargs):
        server = ScriptedServer(**kwargs)
        self.addCleanup(server.close)
        return server

    def wait_numbers(self, server, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            got = received_numbers(r.body for r in server.requests())
            if predicate(got):
                return got
            if time.monotonic() > deadline:
                self.fail(f"{what}: after {timeout}s, {len(got)} records received")
            try:
                server.wait_for_requests(len(server.requests()) + 1, min(0.2, max(0.01, deadline - time.monotonic())))
            except TimeoutError:
                pass

    def stop(self, proc, sig=signal.SIGTERM, timeout=10):
        if sig != signal.SIGKILL:
            # A signal before batchpipe has its handlers would kill it outright.
            self.assertTrue(bp.wait_for(lambda: catches(proc.pid, sig), bp.SLACK), "handlers never installed")
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"batchpipe did not stop within {timeout}s of signal {sig}")
        return proc.returncode, err


class ResumeTest(CheckpointCase):
    def test_each_run_sends_only_what_is_new(self):
        self.write("a.log", [record(n) for n in range(10)])
        first = bp.run(["--checkpoint", self.ckpt, "--size", "4", self.path("a.log")])
        self.assertEqual((first.returncode, first.stderr), (0, b""))
        self.assertEqual(first.stdout, bp.encode([[record(n) for n in range(i, min(10, i + 4))] for i in (0, 4, 8)]))
        saved = self.saved()
        self.assertEqual(saved["version"], 1)
        [entry] = saved["files"]
        self.assertEqual((entry["path"], entry["offset"], entry["line"]),
                         (os.path.realpath(self.path("a.log")), os.path.getsize(self.path("a.log")), 10))
        self.assertEqual(entry["inode"], os.stat(self.path("a.log")).st_ino)

        self.assertEqual(bp.run(["--checkpoint", self.ckpt, self.path("a.log")]).stdout, b"")  # nothing new
        self.write("a.log", [record(n) for n in range(10, 13)], mode="ab")
        again = bp.run(["--checkpoint", self.ckpt, self.path("a.log")])
        self.assertEqual((again.returncode, again.stdout), (0, bp.encode([[record(n) for n in range(10, 13)]])))

    def test_invalid_lines_after_the_last_record_are_not_read_again(self):
        self.write("a.log", [record(1), b"oops", b""])
        first = bp.run(["--checkpoint", self.ckpt, self.path("a.log")])
        self.assertEqual(first.returncode, 1)
        second = bp.run(["--checkpoint", self.ckpt, self.path("a.log")])
        self.assertEqual((second.returncode, second.stdout, second.stderr), (0, b"", b""))

    def test_a_replaced_or_shortened_file_is_read_from_its_start_with_a_warning(self):
        self.write("a.log", [record(n) for n in range(5)])
        bp.run(["--checkpoint", self.ckpt, self.path("a.log")])
        os.unlink(self.path("a.log"))
        self.write("a.log", [record(n) for n in range(100, 102)])  # a new file, maybe with the old inode number
        r = bp.run(["--checkpoint", self.ckpt, self.path("a.log")])
        self.assertEqual(r.stdout, bp.encode([[record(100), record(101)]]))
        self.assertRegex(r.stderr.decode(), r"a\.log: (not the file the checkpoint saw|its first bytes changed|shorter)")
        self.assertIn("reading it from the start", r.stderr.decode())

    def test_a_file_rotated_between_runs_is_finished_before_the_new_one(self):
        self.write("a.log", [record(n) for n in range(3)])
        bp.run(["--checkpoint", self.ckpt, self.path("a.log")])
        self.write("a.log", [record(n) for n in range(3, 5)], mode="ab")
        os.rename(self.path("a.log"), self.path("a.log.1"))
        self.write("a.log", [record(n) for n in range(5, 7)])
        r = bp.run(["--checkpoint", self.ckpt, self.path("a.log")])
        self.assertEqual(r.stdout, bp.encode([[record(n) for n in range(3, 7)]]))
        self.assertIn("rotated since the checkpoint: reading the rest of", r.stderr.decode())

    def test_a_file_is_in_the_checkpoint_before_any_of_its_records_is_sent(self):
        # Otherwise a crash after a delivery leaves a checkpoint without the
        # file, and the next run reads whatever the name leads to then: a
        # file rotated meanwhile was lost (found by the kill -9 campaign).
        self.write("a.log", [record(n) for n in range(0, 3)])
        self.write("b.log", [record(n) for n in range(3, 6)])
        inodes = {os.stat(self.path(n)).st_ino: n for n in ("a.log", "b.log")}
        named_then = []

        def answer(index, request):
            named = {inodes.get(e["inode"]) for e in self.saved()["files"]} if os.path.exists(self.ckpt) else set()
            first = json.loads(request.body)[0]["n"]
            named_then.append(("a.log" if first < 3 else "b.log", named))
            return 200

        server = self.server(default=answer)
        r = bp.run(["--checkpoint", self.ckpt, "--size", "1", "--post", server.url("/"),
                    self.path("a.log"), self.path("b.log")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(named_then), 6)
        for sent_from, named in named_then:
            self.assertIn(sent_from, named, named_then)

    def test_gzip_input_resumes_by_decompressed_offset(self):
        import gzip
        with gzip.open(self.path("a.log.gz"), "wb") as f:
            f.write(b"".join(record(n) + b"\n" for n in range(6)))
        proc = self.start(["--checkpoint", self.ckpt, "--post", "http://127.0.0.1:9/", "--retries", "0",
                           self.path("a.log.gz")])
        proc.communicate(timeout=bp.RUN_TIMEOUT)  # nothing delivered: nothing moves
        server = self.server()
        r = bp.run(["--checkpoint", self.ckpt, "--size", "4", "--post", server.url("/"), self.path("a.log.gz")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(received_numbers(q.body for q in server.requests()), list(range(6)))
        entry = self.saved()["files"][0]
        self.assertEqual(entry["offset"], sum(len(record(n)) + 1 for n in range(6)))
        # Cut the checkpoint back to after record 3, as a crash could have left it.
        entry["offset"], entry["line"] = sum(len(record(n)) + 1 for n in range(4)), 4
        with open(self.ckpt, "w") as f:
            json.dump({"version": 1, "files": [entry]}, f)
        r = bp.run(["--checkpoint", self.ckpt, self.path("a.log.gz")])
        self.assertEqual(r.stdout, bp.encode([[record(4), record(5)]]))

    def test_cron_run_against_a_receiver_that_dies_is_finished_by_the_next_run(self):
        count, size = 5000, 100
        self.write("day.log", [record(n) for n in range(count)])
        state = {"healthy": False, "answered": 0}
        accepted = []

        def answer(index, request):
            if state["healthy"] or state["answered"] < count // size * 4 // 10:  # dies after 40%
                state["answered"] += 1
                accepted.append(request.body)
                return 200
            return ("reset",)

        server = self.server(default=answer)
        args = ["--checkpoint", self.ckpt, "--size", str(size), "--post", server.url("/in"), "--retries", "1",
                "--retry-delay", "10ms", self.path("day.log")]
        first = bp.run(args)
        self.assertEqual(first.returncode, 4, first.stderr[-500:])
        self.assertEqual(len(received_numbers(accepted)), count * 4 // 10)
        state["healthy"] = True
        second = bp.run(args)
        self.assertEqual(second.returncode, 0, second.stderr[-500:])
        got = received_numbers(accepted)
        self.assertEqual(sorted(set(got)), list(range(count)))
        self.assertLessEqual(len(got) - count, size)  # duplicates: one batch's worth at most
        self.assertEqual(got, sorted(got))


    def test_sigterm_while_a_part_of_a_split_batch_waits_leaves_the_batch_for_the_next_run(self):
        # 100 records in one batch: 413 to the whole, 200 to its first half,
        # 503 to its second half, which then waits for a retry when SIGTERM
        # comes. The second half is neither dead-lettered nor passed by the
        # checkpoint: the next run sends the batch again, its first half too.
        self.write("in.ndjson", [record(n) for n in range(100)])
        dead = self.path("dead.ndjson")
        args = ["--checkpoint", self.ckpt, "--dead-letter", dead, "--size", "100", "--retry-delay", "30s",
                "--grace", "1s", self.path("in.ndjson")]
        server = self.server(script=[413, 200], default=503)
        proc = self.start(["--post", server.url("/in"), *args])
        server.wait_for_requests(3, bp.RUN_TIMEOUT)
        code, err = self.stop(proc)
        self.assertEqual(code, 143, err)
        self.assertIn(b"left for the next run (--checkpoint), the parts already delivered too", err)
        self.assertFalse(os.path.exists(dead) and os.path.getsize(dead), "nothing dead-lettered")
        again = self.server(default=200)
        r = bp.run(["--post", again.url("/in"), *args])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(received_numbers(q.body for q in again.requests()), list(range(100)))


    def test_sigterm_while_a_batch_waits_for_a_retry_attempts_nothing_after_it(self):
        # Five batches of 10; the first is refused with 503 and waits 30 s
        # for its retry when SIGTERM comes. It is left for the next run, and
        # so is every batch after it: none is attempted in the grace (the
        # checkpoint, before batch 1, could not cover them), so the next run
        # sends each record exactly once.
        self.write("in.ndjson", [record(n) for n in range(50)])
        args = ["--checkpoint", self.ckpt, "--size", "10", "--retry-delay", "30s", "--grace", "5s",
                self.path("in.ndjson")]
        server = self.server(script=[503], default=200)
        proc = self.start(["--post", server.url("/in"), *args])
        server.wait_for_requests(1, bp.RUN_TIMEOUT)
        code, err = self.stop(proc)
        self.assertEqual(code, 143, err)
        self.assertEqual(len(server.requests()), 1, "nothing attempted after the batch left for the next run")
        self.assertRegex(err.decode(), r"batch 1 \(10 records\): HTTP 503 .*; no retries while shutting down; "
                                       r"left for the next run \(--checkpoint\), with every batch after it\n")
        self.assertNotIn(b"lost", err)
        again = self.server(default=200)
        r = bp.run(["--post", again.url("/in"), *args])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(received_numbers(q.body for q in again.requests()), list(range(50)))


    def test_a_batch_given_up_without_a_dead_letter_file_is_left_for_the_next_run_not_lost(self):
        self.write("in.ndjson", [record(n) for n in range(20)])
        server = self.server(default=503)
        metrics = self.path("m.prom")
        base = ["--checkpoint", self.ckpt, "--size", "10", "--retries", "0", "--post", server.url("/in"),
                "--metrics-file", metrics, self.path("in.ndjson")]
        r = bp.run([*base, "--stats"])
        self.assertEqual(r.returncode, 4, r.stderr)
        err = r.stderr.decode()
        self.assertIn("batch 1 (10 records): HTTP 503", err)
        self.assertIn("10 records left for the next run (--checkpoint; input lines 1-10)", err)
        self.assertNotIn("lost", err)
        self.assertIn("stats: 20 records not delivered: left for the next run (--checkpoint)", err)
        with open(metrics) as f:
            self.assertIn("batchpipe_records_left_total 20\n", f.read())
        r = bp.run([*base, "--stats=json", "-q"])
        self.assertEqual(r.returncode, 4, r.stderr)
        stats = json.loads(r.stderr.decode().splitlines()[-1])
        self.assertEqual((stats["records_left_total"], stats["records_undelivered_total"]), (20, 20))
        # The next run reads them again indeed.
        healthy = self.server(default=200)
        r = bp.run(["--checkpoint", self.ckpt, "--size", "10", "--post", healthy.url("/in"), self.path("in.ndjson")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(received_numbers(q.body for q in healthy.requests()), list(range(20)))


class CheckpointFileTest(CheckpointCase):
    def test_a_corrupt_checkpoint_is_exit_2_and_nothing_is_sent(self):
        self.write("a.log", [record(1)])
        with open(self.ckpt, "w") as f:
            f.write('{"version": 1, "files": [{"path": "/x"')
        r = bp.run(["--checkpoint", self.ckpt, self.path("a.log")])
        self.assertEqual((r.returncode, r.stdout), (2, b""))
        self.assertRegex(r.stderr.decode(), r"^batchpipe: --checkpoint: .*ckpt\.json is not a batchpipe checkpoint: "
                                            r"not JSON .*; fix or remove it\n$")

    def test_a_checkpoint_that_cannot_be_written_is_exit_2_and_nothing_is_sent(self):
        self.write("a.log", [record(1)])
        if os.geteuid() == 0:
            where = "/sys/bp-ckpt.json"  # root writes any directory's files; /sys refuses even root
        else:
            ro = self.path("ro")
            os.mkdir(ro, 0o555)
            where = os.path.join(ro, "ckpt.json")
        r = bp.run(["--checkpoint", where, self.path("a.log")])
        self.assertEqual((r.returncode, r.stdout), (2, b""))
        self.assertRegex(r.stderr.decode(), r"^batchpipe: --checkpoint: cannot (create|lock) .*: .*\n$")

    def test_two_runs_cannot_share_a_checkpoint(self):
        self.write("a.log", [record(1)])
        first = self.start(["--follow", "--checkpoint", self.ckpt, self.path("a.log")])
        self.assertTrue(bp.wait_for(lambda: os.path.exists(self.ckpt), bp.SLACK))
        second = bp.run(["--checkpoint", self.ckpt, self.path("a.log")])
        self.assertEqual((second.returncode, second.stdout), (2, b""))
        self.assertIn(b"is in use by another batchpipe", second.stderr)
        self.assertEqual(self.stop(first)[0], 143)

    def test_stdin_with_a_checkpoint_warns_that_it_cannot_be_resumed(self):
        r = bp.run(["--checkpoint", self.ckpt], input=record(1) + b"\n")
        self.assertEqual((r.returncode, r.stdout), (0, bp.encode([[record(1)]])))
        self.assertIn(b"--checkpoint: stdin cannot be resumed", r.stderr)

    def test_a_named_pipe_with_a_checkpoint_warns_that_it_cannot_be_resumed(self):
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        writer = bp.spawn(self, ["sh", "-c", f"printf '%s\\n' '{{\"a\":1}}' > {fifo}"])
        r = bp.run(["--checkpoint", self.ckpt, fifo])
        writer.wait(timeout=bp.SLACK)
        self.assertEqual((r.returncode, r.stdout), (0, b'[{"a":1}]\n'))
        self.assertIn(b"fifo: not a regular file: --checkpoint cannot resume it", r.stderr)

    def test_more_than_the_budget_through_stdin_and_a_file(self):
        # Nothing to write down for stdin: its commits must still free the budget.
        records = [record(n) for n in range(60000)]  # about 3 MB, three times --max-buffer
        self.write("a.log", records)
        r = bp.run(["--checkpoint", self.ckpt, "--max-buffer", "1M", "-", self.path("a.log")],
                   input=b"".join(x + b"\n" for x in records))
        self.assertEqual(r.returncode, 0, r.stderr[-500:])
        self.assertEqual(received_numbers(r.stdout.splitlines()), list(range(60000)) * 2)
        self.assertEqual(self.saved()["files"][0]["offset"], os.path.getsize(self.path("a.log")))


class FollowTest(CheckpointCase):
    def follow(self, *names, extra=()):
        args = ["--follow", "--rotate-wait", "200ms", "--interval", "20ms", *extra, *[self.path(n) for n in names]]
        return bp.Live(self, args, stdin=subprocess.DEVNULL)

    def wait_records(self, live, count, timeout=bp.SLACK + 1.5):
        if not live.wait_until(lambda: len(received_numbers(live.lines())) >= count, timeout):
            self.fail(f"waited {timeout}s for {count} records, got {bytes(live.out)!r}; stderr {bytes(live.err)!r}")
        return received_numbers(live.lines())

    def test_appends_rotation_truncation_and_a_file_that_appears_later(self):
        live = self.follow("a.log")
        self.assertTrue(live.wait_until(lambda: b"waiting for it to appear" in live.err, bp.SLACK), live.err)
        self.write("a.log", [record(1)])
        self.wait_records(live, 1)
        self.write("a.log", [record(2)], mode="ab")
        self.wait_records(live, 2)
        os.rename(self.path("a.log"), self.path("a.log.1"))
        self.write("a.log.1", [record(3)], mode="ab")  # the old file still gets a last line
        self.write("a.log", [record(4)])
        self.wait_records(live, 4)
        with open(self.path("a.log"), "wb"):
            pass  # : > a.log
        self.assertTrue(live.wait_until(lambda: b"truncated" in live.err, bp.SLACK + 1.5), live.err)
        self.write("a.log", [record(5)], mode="ab")
        self.assertEqual(self.wait_records(live, 5), [1, 2, 3, 4, 5])
        self.assertTrue(catches(live.proc.pid, signal.SIGTERM))
        live.send(signal.SIGTERM)
        self.assertEqual(live.finish(), 143)

    def test_several_files_each_in_order(self):
        live = self.follow("a.log", "b.log")
        for n in range(0, 40, 2):
            self.write("a.log", [record(n)], mode="ab")
            self.write("b.log", [record(n + 1)], mode="ab")
        got = self.wait_records(live, 40)
        self.assertEqual([n for n in got if n % 2 == 0], list(range(0, 40, 2)))
        self.assertEqual([n for n in got if n % 2 == 1], list(range(1, 40, 2)))
        self.assertTrue(catches(live.proc.pid, signal.SIGTERM))
        live.send(signal.SIGTERM)
        self.assertEqual(live.finish(), 143)

    def test_an_idle_followed_file_costs_no_cpu(self):
        self.write("a.log", [record(1)])
        live = self.follow("a.log")
        self.wait_records(live, 1)
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu():
            with open(f"/proc/{live.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

        before = cpu()
        self.assertEqual(live.quiet_for(2.0), b"")
        self.assertLess(cpu() - before, 0.05)
        self.assertTrue(catches(live.proc.pid, signal.SIGTERM))
        live.send(signal.SIGTERM)
        self.assertEqual(live.finish(), 143)


class OutageTest(CheckpointCase):
    def test_follow_retries_until_the_receiver_is_back_by_default(self):
        # The receiver is down (nothing listens on its port) for more
        # attempts than the old default of 5 retries; with -F the default is
        # to retry until delivered, so nothing is given up. Short delays keep
        # it fast: the count of retries is what is tested, not their pace.
        import socket
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        self.write("app.log", [record(n) for n in range(1000)])
        live = bp.Live(self, ["-F", "--checkpoint", self.ckpt, "--post", f"http://127.0.0.1:{port}/in",
                              "--size", "100", "--retry-delay", "10ms", "--retry-max-delay", "50ms",
                              self.path("app.log")], stdin=subprocess.DEVNULL)
        self.assertTrue(live.wait_until(lambda: b"; retry 12 " in live.err, 30), bytes(live.err)[-500:])
        server = self.server(port=port)
        self.wait_numbers(server, lambda got: len(got) >= 1000, 30, "after the receiver came back")
        live.send(signal.SIGTERM)
        self.assertEqual(live.finish(), 143, bytes(live.err)[-500:])
        self.assertEqual(received_numbers(r.body for r in server.requests()), list(range(1000)))
        for word in (b"given up", b"lost", b"left for the next run", b"no retries left"):
            self.assertNotIn(word, live.err)


class DiskFullTest(CheckpointCase):
    """The checkpoint on a small tmpfs that fills up: records stay charged to
    --max-buffer while it cannot be written, so reading waits and a kill -9
    repeats no more than the budget. Needs root (mount); skipped otherwise."""
    MAX_BUFFER = 1 << 20

    def mount_tmpfs(self, where):
        os.mkdir(where)
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,nr_inodes=64", "tmpfs", where], capture_output=True)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
        self.addCleanup(lambda: subprocess.run(["umount", "-l", where]))

    def fill(self, path):
        """Fills the file system `path` is on, bytes and inodes."""
        with open(path, "wb", buffering=0) as f:
            try:
                for _ in range(1024):  # 4 MiB at most, by 4 KiB
                    f.write(b"x" * 4096)
            except OSError:
                pass
        for n in range(1000):
            try:
                open(f"{path}.{n}", "wb").close()
            except OSError:
                break

    def wait_quiet(self, server, quiet=1.0, timeout=30):
        """Until no request has come for `quiet` seconds (bounded by `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = len(server.requests())
            try:
                server.wait_for_requests(seen + 1, quiet)
            except TimeoutError:
                return
        self.fail(f"requests still coming after {timeout}s")

    def test_a_full_disk_holds_reading_so_kill_9_repeats_within_the_budget(self):
        state = self.path("state")
        self.mount_tmpfs(state)
        ckpt = os.path.join(state, "ckpt.json")
        log = self.path("app.log")
        self.write("app.log", [record(n) for n in range(1000)])
        server = self.server()
        args = ["--follow", "--checkpoint", ckpt, "--post", server.url("/in"), "--interval", "20ms",
                "--size", "200", "--max-buffer", str(self.MAX_BUFFER), log]
        proc = self.start(args)
        self.wait_numbers(server, lambda got: len(got) >= 1000, bp.RUN_TIMEOUT, "the first records")

        def written():
            try:
                with open(ckpt) as f:
                    return json.load(f)["files"][0]["offset"] == os.path.getsize(log)
            except (OSError, ValueError, LookupError):
                return False
        self.assertTrue(bp.wait_for(written, bp.SLACK), "the checkpoint never covered the first records")
        self.fill(os.path.join(state, "filler"))
        count = 61000  # about 3 MB more, three times --max-buffer
        self.write("app.log", [record(n) for n in range(1000, count)], mode="ab")
        self.wait_quiet(server)
        per_record = len(record(10000)) + 1 + 8  # as the budget counts them
        delivered = len(received_numbers(r.body for r in server.requests()))
        self.assertLess(delivered, count, "reading should wait while the checkpoint cannot be written")
        self.assertLessEqual((delivered - 1000) * per_record, self.MAX_BUFFER)
        code, err = self.stop(proc, signal.SIGKILL)
        self.assertEqual(code, -signal.SIGKILL)
        self.assertRegex(err.decode(), r"--checkpoint: cannot (write|create)")
        for name in os.listdir(state):
            if name.startswith("filler"):
                os.unlink(os.path.join(state, name))

        proc = self.start(args)
        got = self.wait_numbers(server, lambda got: len(set(got)) >= count, 30, "the run after the kill")
        self.assertEqual(self.stop(proc)[0], 143)
        got = received_numbers(r.body for r in server.requests())
        self.assertEqual(sorted(set(got)), list(range(count)))
        self.assertLessEqual((len(got) - count) * per_record, self.MAX_BUFFER)


class CrashTest(CheckpointCase):
    COUNT = 50000 if bp.sanitized() else 200000
    KILLS = 10
    MAX_BUFFER = 1 << 20

    def run_with_restarts(self, sig, check):
        server = self.server()
        log = self.path("app.log")
        open(log, "wb").close()
        writer = Writer(log, self.COUNT, rotate_at=self.COUNT // 2)
        args = ["--follow", "--rotate-wait", "200ms", "--checkpoint", self.ckpt, "--post", server.url("/in"), "--interval", "20ms",
                "--size", "200", "--max-buffer", str(self.MAX_BUFFER), "-q", log]
        rng = random.Random(20261202)
        for kill in range(self.KILLS):
            proc = self.start(args)
            if kill == 0:
                # The writer starts once the first run has the file open: a
                # file rotated before any run saw it is no run's to read (a
                # slow start under load let the writer rotate first).
                self.assertTrue(bp.wait_for(lambda: holds_open(proc.pid, os.path.realpath(log)), bp.SLACK * 3), "app.log never opened")
                writer.start()
            # A random moment: after 0 to 5 more requests, so some kills come
            # before the first delivery and some in the middle of the stream.
            want = len(server.requests()) + rng.randrange(6)
            try:
                server.wait_for_requests(want, 10)
            except TimeoutError:
                pass  # everything was sent already: kill it anyway
            code, err = self.stop(proc, sig)
            check(code, err)
        proc = self.start(args)
        self.assertTrue(writer.done.wait(60), "the writer did not finish")
        got = self.wait_numbers(server, lambda got: len(set(got)) >= self.COUNT, 60, "the last run")
        code, err = self.stop(proc, signal.SIGTERM)
        self.assertEqual(code, 143, err[-1000:])
        got = received_numbers(r.body for r in server.requests())
        self.assertEqual(sorted(set(got)), list(range(self.COUNT)))
        # In order within each file: every run sends each file's records in
        # order, so the first arrivals are in order.
        first_seen = list(dict.fromkeys(got))
        half = self.COUNT // 2
        self.assertEqual([n for n in first_seen if n < half], list(range(half)))
        self.assertEqual([n for n in first_seen if n >= half], list(range(half, self.COUNT)))
        return got

    def test_kill_9_at_random_moments_loses_nothing_and_repeats_little(self):
        def killed(code, err):
            self.assertEqual(code, -signal.SIGKILL, err[-1000:])

        got = self.run_with_restarts(signal.SIGKILL, killed)
        duplicates = len(got) - self.COUNT
        # What a crash repeats is within --max-buffer, in records as the budget counts them.
        per_record = len(record(10000)) + 1 + 8
        self.assertLessEqual(duplicates * per_record, self.KILLS * self.MAX_BUFFER)

    def test_sigterm_at_random_moments_delivers_each_record_exactly_once(self):
        def stopped(code, err):
            self.assertEqual(code, 143, err[-1000:])

        got = self.run_with_restarts(signal.SIGTERM, stopped)
        self.assertEqual(len(got), self.COUNT)


if __name__ == "__main__":
    unittest.main()
