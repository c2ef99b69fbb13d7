"""--spool DIR: what stdin and pipes send is kept on disk until delivered.

The receiver is http_server.ScriptedServer on 127.0.0.1 (503 while "down"),
or batchpipe's own stdout. Every batchpipe started is reaped by a cleanup,
every server closed. Waits are for conditions (records in the spool's
segment files, which are plain NDJSON, requests received) against
deadlines. The crash test kills at random moments, seeded and printed.
"""

import json
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import unittest

import bp
from http_server import ScriptedServer


def record(n: int) -> bytes:
    return b'{"n":%d,"pad":"%s"}' % (n, b"x" * 40)


def received_numbers(server) -> list:
    out = []
    for r in server.requests():
        out.extend(x["n"] for x in json.loads(r.body))
    return out


def delivered_numbers(server, delivered_statuses) -> list:
    """The records of the requests the server answered 200, in order."""
    out = []
    for i, r in enumerate(server.requests()):
        if delivered_statuses(i):
            out.extend(x["n"] for x in json.loads(r.body))
    return out


def segments(spool: str) -> list:
    """The segment files' names (20 digits and .ndjson), in stream order."""
    if not os.path.isdir(spool):
        return []
    return sorted(f for f in os.listdir(spool) if len(f) == 27 and f[:20].isdigit() and f.endswith(".ndjson"))


def spooled_numbers(spool: str) -> list:
    """The whole, valid records in the spool's segments, in stream order."""
    out = []
    for name in segments(spool):
        try:
            with open(os.path.join(spool, name), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue  # deleted meanwhile
        for line in data.split(b"\n")[:-1]:
            try:
                out.append(json.loads(line)["n"])
            except ValueError:
                pass
    return out


def last_segment_ends_with(spool: str, line: bytes) -> bool:
    names = segments(spool)
    try:
        with open(os.path.join(spool, names[-1]), "rb") as f:
            f.seek(max(0, os.path.getsize(f.name) - len(line)))
            return f.read() == line
    except (IndexError, FileNotFoundError):
        return False


def wait_for(condition, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout + bp.SLACK
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Switch:
    """A receiver's state, flipped by the test: answers 503 while down."""

    def __init__(self, up=False):
        self.up = up
        self.answers = []  # the status given to each request, in order
        self.lock = threading.Lock()

    def action(self, index, request):
        with self.lock:
            status = 200 if self.up else 503
            self.answers.append(status)
            return status

    def delivered(self, index) -> bool:
        with self.lock:
            return index < len(self.answers) and self.answers[index] == 200


class StderrCollector:
    """Reads a process's stderr on a thread, so that the test can look at it while it runs."""

    def __init__(self, test, proc):
        self.chunks, self.lock = [], threading.Lock()
        self.thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self.thread.start()
        test.addCleanup(self.thread.join, 10)

    def _read(self, stream):
        for chunk in iter(lambda: stream.read1(65536), b""):
            with self.lock:
                self.chunks.append(chunk)

    def text(self) -> bytes:
        with self.lock:
            return b"".join(self.chunks)


class SpoolTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.spool = os.path.join(self.tmp.name, "spool")

    def server(self, switch) -> ScriptedServer:
        s = ScriptedServer(default=switch.action)
        self.addCleanup(s.close)
        return s

    def start(self, args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL) -> subprocess.Popen:
        return bp.spawn(self, [bp.binary(), "--spool", self.spool, *args], stdin=stdin, stdout=stdout,
                        stderr=subprocess.PIPE)

    def test_drain_of_an_empty_spool_exits_0_and_creates_it_private(self):
        switch = Switch(up=True)
        server = self.server(switch)
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool, "--post", server.url("/in")], stdin=null)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(server.requests(), [])
        self.assertEqual(stat.S_IMODE(os.stat(self.spool).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.spool, "state")).st_mode), 0o600)

    def test_records_pass_through_the_spool_unchanged_and_it_empties(self):
        data = b"".join(record(i) + b"\n" for i in range(5000))
        r = bp.run(["--spool", self.spool, "--format", "ndjson", "--stats=json"], input=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, data)
        self.assertEqual(segments(self.spool), [])
        stats = json.loads(r.stderr.decode().strip().splitlines()[-1])
        self.assertEqual((stats["records_read_total"], stats["spool_bytes"], stats["spool_segments"]), (5000, 0, 0))

    def test_ids_are_positions_in_the_spool_and_the_same_after_a_restart(self):
        switch = Switch(up=False)
        server = self.server(switch)
        args = ["--post", server.url("/in"), "--format", "ndjson", "--size", "2", "--retries", "0", "-q"]
        data = b"".join(record(i) + b"\n" for i in range(4))
        r = bp.run(["--spool", self.spool, *args], input=data)
        self.assertEqual(r.returncode, 4, r.stderr)  # given up: kept in the spool
        switch.up = True
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool, *args], stdin=null)
        self.assertEqual(r.returncode, 0, r.stderr)
        requests = server.requests()
        down, up = requests[0], requests[-2]  # batch 1 of the first run, and of the second
        self.assertEqual(down.body, up.body)
        self.assertEqual(down.header("Idempotency-Key"), up.header("Idempotency-Key"))
        key, first, end = up.header("Idempotency-Key").split("-")  # the spool's key, then positions
        self.assertEqual((len(key), int(first, 16), int(end, 16)), (16, 0, 2 * (len(record(0)) + 1)))

    def test_a_receiver_down_does_not_stop_the_reading_and_nothing_is_lost(self):
        switch = Switch(up=False)
        server = self.server(switch)
        n = 20000  # about 1.2 MB: more than --max-buffer 1M
        p = self.start(["--post", server.url("/in"), "--retries", "inf", "--retry-delay", "50ms",
                        "--retry-max-delay", "200ms", "--max-buffer", "1M", "--size", "500"])
        p.stdin.write(b"".join(record(i) + b"\n" for i in range(n)))  # would block if reading stopped
        p.stdin.close()
        wait_for(lambda: len(spooled_numbers(self.spool)) == n, "every record in the spool")
        switch.up = True
        self.assertEqual(p.wait(timeout=bp.RUN_TIMEOUT), 0, p.stderr.read())
        self.assertEqual(delivered_numbers(server, switch.delivered), list(range(n)))
        self.assertEqual(segments(self.spool), [])

    def drain_and_check(self, server, switch, must, seed):
        """A last run on empty input drains the spool: every record in `must` arrived, first arrivals in order."""
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool, "--post", server.url("/in"), "--retries", "inf", "--retry-delay",
                        "20ms"], stdin=null)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = delivered_numbers(server, switch.delivered)
        self.assertTrue(must <= set(got), f"seed {seed}: lost {sorted(must - set(got))[:10]}")
        first_seen = list(dict.fromkeys(got))
        self.assertEqual(first_seen, sorted(first_seen), f"seed {seed}: out of order")
        self.assertEqual(segments(self.spool), [])
    def test_kill_9_at_random_moments_loses_no_spooled_record(self):
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        print(f"seed {seed}")
        switch = Switch(up=False)
        server = self.server(switch)
        per_run, runs = 3000, 6
        must = set()  # every record seen in the spool after a kill, or delivered
        for run in range(runs):
            switch.up = rng.random() < 0.5
            p = self.start(["--post", server.url("/in"), "--retries", "inf", "--retry-delay", "20ms",
                            "--retry-max-delay", "50ms", "--size", "100", "--interval", "50ms", "--spool-sync",
                            "20ms", "--quiet"])
            chunk = b"".join(record(i) + b"\n" for i in range(run * per_run, (run + 1) * per_run))

            def feed(stdin=p.stdin, chunk=chunk):
                try:
                    for at in range(0, len(chunk), 4096):
                        stdin.write(chunk[at:at + 4096])
                        stdin.flush()
                except (BrokenPipeError, ValueError, OSError):
                    pass

            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
            time.sleep(rng.uniform(0.0, 0.4))  # the moment of the kill: random on purpose
            p.kill()
            p.wait(timeout=10)
            feeder.join(timeout=10)
            must.update(spooled_numbers(self.spool))
        must.update(delivered_numbers(server, switch.delivered))
        switch.up = True
        self.drain_and_check(server, switch, must, seed)

    def test_kill_9_while_segments_are_deleted_loses_no_spooled_record(self):
        # Each run: the receiver is down while more than --max-buffer is piped in (the spool holds the rest),
        # then comes back; the run is killed just as a segment is deleted, or a little after.
        seed = random.randrange(1 << 30)
        rng = random.Random(seed)
        print(f"seed {seed}")
        switch = Switch(up=False)
        server = self.server(switch)
        # About 1.8 MB a run: two 1 MiB segments (--spool-max 8M) for a 1M budget; 7.2 MB in all never fills it.
        per_run, runs = 30000, 4
        args = ["--post", server.url("/in"), "--retries", "inf", "--retry-delay", "20ms", "--retry-max-delay", "50ms",
                "--size", "400", "--max-buffer", "1M", "--spool-max", "8M", "--spool-sync", "10ms", "--quiet"]
        must = set()
        kills_at_deletion = 0
        for run in range(runs):
            with switch.lock:
                switch.up = False
            p = self.start(args)
            last = record((run + 1) * per_run - 1) + b"\n"
            chunk = b"".join(record(i) + b"\n" for i in range(run * per_run, (run + 1) * per_run))
            feeder = threading.Thread(target=lambda: p.stdin.write(chunk), daemon=True)
            feeder.start()
            wait_for(lambda: last_segment_ends_with(self.spool, last), "this run's records in the spool")
            feeder.join(timeout=10)
            before = segments(self.spool)
            with switch.lock:
                switch.up = True
            # The moment: the first segment is gone (deleted once committed), then 0-30 ms more.
            deadline = time.monotonic() + 10 + bp.SLACK
            while segments(self.spool)[:1] == before[:1] and time.monotonic() < deadline and p.poll() is None:
                time.sleep(0.001)  # a tight poll: the kill lands while the deletion and the state's rewrite go on
            if segments(self.spool)[:1] != before[:1]:
                kills_at_deletion += 1
            delay = rng.choice([0.0, 0.0, rng.uniform(0.0, 0.03)])
            if delay:
                time.sleep(delay)  # the moment of the kill: random on purpose
            p.kill()
            p.wait(timeout=10)
            p.stdin.close()
            must.update(spooled_numbers(self.spool))
        must.update(delivered_numbers(server, switch.delivered))
        self.assertGreaterEqual(kills_at_deletion, runs // 2, "the kills should come as segments are deleted")
        self.drain_and_check(server, switch, must, seed)

    def test_a_batch_refused_for_good_is_kept_aside_and_the_spool_drains(self):
        # No --dead-letter: the refused batch goes to DIR/refused.ndjson, the ones after it are committed.
        server = self.server(Switch(up=True))
        server._default = lambda index, request: 400 if b'"n":1234,' in request.body else 200
        n = 3000
        data = b"".join(record(i) + b"\n" for i in range(n))
        args = ["--post", server.url("/in"), "--format", "ndjson", "--size", "100", "--retry-delay", "10ms"]
        r = bp.run(["--spool", self.spool, *args], input=data)
        self.assertEqual(r.returncode, 4, r.stderr)
        refused = os.path.join(self.spool, "refused.ndjson")
        self.assertIn(("written to %s" % refused).encode(), r.stderr)
        with open(refused, "rb") as f:
            self.assertEqual(f.read(), b"".join(record(i) + b"\n" for i in range(1200, 1300)))
        self.assertEqual(stat.S_IMODE(os.stat(refused).st_mode), 0o600)
        got = [json.loads(l)["n"] for req in server.requests() for l in req.body.splitlines()
               if b'"n":1234,' not in req.body]
        self.assertEqual(got, [i for i in range(n) if not 1200 <= i < 1300])
        self.assertEqual(segments(self.spool), [])
        # The next run resends nothing, and leaves the refused records where they are.
        sent = len(server.requests())
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool, *args], stdin=null)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(server.requests()), sent)
        self.assertTrue(os.path.exists(refused))

    def test_sigterm_then_restart_delivers_exactly_once(self):
        switch = Switch(up=True)
        server = self.server(switch)
        dead = os.path.join(self.tmp.name, "dead.ndjson")
        n = 3000
        p = self.start(["--post", server.url("/in"), "--retries", "inf", "--retry-delay", "20ms", "--size", "100",
                        "--dead-letter", dead, "--grace", "1s"])
        p.stdin.write(b"".join(record(i) + b"\n" for i in range(n)))
        p.stdin.flush()
        server.wait_for_requests(3, timeout=10 + bp.SLACK)
        switch.up = False
        wait_for(lambda: set(range(n)) <= set(spooled_numbers(self.spool)) |
                 set(delivered_numbers(server, switch.delivered)), "every record spooled or delivered")
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=bp.RUN_TIMEOUT), 143)
        p.stdin.close()
        self.assertFalse(os.path.exists(dead) and os.path.getsize(dead) > 0, "dead-lettered because of the signal")
        switch.up = True
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool, "--post", server.url("/in"), "--dead-letter", dead], stdin=null)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(delivered_numbers(server, switch.delivered), list(range(n)))

    def test_a_torn_and_a_damaged_segment_are_said_and_the_rest_delivered(self):
        os.mkdir(self.spool, 0o700)
        first = b"".join(record(i) + b"\n" for i in range(0, 10))
        garbage = b"\x00\x01 not json at all\n"
        second = b"".join(record(i) + b"\n" for i in range(10, 20))
        with open(os.path.join(self.spool, "%020d.ndjson" % 0), "wb") as f:
            f.write(first + garbage + second)
        base = len(first + garbage + second)
        third = b"".join(record(i) + b"\n" for i in range(20, 30))
        with open(os.path.join(self.spool, "%020d.ndjson" % base), "wb") as f:
            f.write(third + record(30)[:17])  # cut short
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool, "--format", "ndjson"], stdin=null)
        self.assertEqual(r.returncode, 1, r.stderr)
        got = [json.loads(l)["n"] for l in r.stdout.splitlines()]
        self.assertEqual(got, list(range(30)))
        err = r.stderr.decode()
        self.assertIn("%s/%020d.ndjson: bytes %d-%d are not JSON records" % (self.spool, 0, len(first),
                                                                         len(first + garbage)), err)
        self.assertIn("%s/%020d.ndjson: bytes %d-%d are a line cut short" % (self.spool, base, len(third),
                                                                         len(third) + 17), err)
        self.assertEqual(segments(self.spool), [])

    def write_segments(self, parts) -> list:
        """Segments holding `parts` (lists of record numbers), back to back in the stream; their bases."""
        os.makedirs(self.spool, 0o700, exist_ok=True)
        bases, base = [], 0
        for numbers in parts:
            data = b"".join(record(i) + b"\n" for i in numbers)
            with open(os.path.join(self.spool, "%020d.ndjson" % base), "wb") as f:
                f.write(data)
            bases.append(base)
            base += len(data)
        return bases

    def drain_to_stdout(self):
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool, "--format", "ndjson"], stdin=null)
        return r, [json.loads(l)["n"] for l in r.stdout.splitlines()]

    def test_a_segment_emptied_or_cut_at_a_line_end_is_said_with_its_bytes(self):
        # What a crash on ext4 can leave: a segment before the last one empty,
        # or shorter by whole lines. The stream has a hole: said, exit 1.
        bases = self.write_segments([range(0, 10), range(10, 20), range(20, 30)])
        with open(os.path.join(self.spool, "%020d.ndjson" % bases[1]), "r+b") as f:
            f.truncate(0)
        r, got = self.drain_to_stdout()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(got, list(range(0, 10)) + list(range(20, 30)))
        self.assertIn(b"bytes %d-%d of the spool are missing before %s/%020d.ndjson" % (
            bases[1], bases[2], self.spool.encode(), bases[2]), r.stderr)
        shutil.rmtree(self.spool)
        bases = self.write_segments([range(0, 10), range(10, 20), range(20, 30)])
        cut = bases[1] + 4 * len(record(10) + b"\n")
        with open(os.path.join(self.spool, "%020d.ndjson" % bases[1]), "r+b") as f:
            f.truncate(cut - bases[1])
        r, got = self.drain_to_stdout()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(got, list(range(0, 14)) + list(range(20, 30)))
        self.assertIn(b"bytes %d-%d of the spool are missing" % (cut, bases[2]), r.stderr)

    def test_a_second_run_on_the_same_spool_is_refused(self):
        p = self.start([], stdout=subprocess.PIPE)
        p.stdin.write(record(1) + b"\n")
        p.stdin.flush()
        line = p.stdout.readline()  # delivered: the first run holds the spool
        self.assertEqual(json.loads(line), [json.loads(record(1))])
        with open(os.devnull, "rb") as null:
            r = bp.run(["--spool", self.spool], stdin=null)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"is in use by another batchpipe run", r.stderr)
        p.stdin.close()
        self.assertEqual(p.wait(timeout=bp.RUN_TIMEOUT), 0)

    def test_regular_files_are_refused_and_the_spool_clashes_with_no_output(self):
        path = os.path.join(self.tmp.name, "in.ndjson")
        with open(path, "wb") as f:
            f.write(record(1) + b"\n")
        r = bp.run(["--spool", self.spool, path])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"is a regular file", r.stderr)
        os.mkdir(self.spool, 0o700)
        r = bp.run(["--spool", self.spool, "--metrics-file", os.path.join(self.spool, "state")], input=b"")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--spool", r.stderr)
        # A dead-letter file named like a segment to come would be deleted with it.
        dead = os.path.join(self.spool, "00000000000000000000.ndjson")
        r = bp.run(["--spool", self.spool, "--dead-letter", dead, "--exec", "cat"], input=record(1) + b"\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"is inside the --spool directory", r.stderr)
        self.assertFalse(os.path.exists(dead))

    def test_spool_max_full_with_on_full_drop_drops_the_newest_exit_4(self):
        switch = Switch(up=False)
        server = self.server(switch)
        n = 40000  # about 2.4 MB, for a 1 MiB spool
        p = self.start(["--post", server.url("/in"), "--retries", "inf", "--retry-delay", "50ms", "--spool-max",
                        "1M", "--on-full", "drop", "--max-buffer", "1M", "--max-bytes", "64K"])
        err = StderrCollector(self, p)
        p.stdin.write(b"".join(record(i) + b"\n" for i in range(n)))
        p.stdin.close()
        wait_for(lambda: b"--spool-max was full" in err.text(), "the writer's last word on what it dropped")
        switch.up = True
        self.assertEqual(p.wait(timeout=bp.RUN_TIMEOUT), 4)
        got = delivered_numbers(server, switch.delivered)
        self.assertLess(len(got), n)
        self.assertEqual(got, list(range(len(got))))  # the oldest kept, in order; the newest dropped
        err.thread.join(bp.RUN_TIMEOUT)  # its stderr to the end
        self.assertIn(b"--spool-max was full", err.text())
        self.assertNotIn(b"--max-buffer", err.text())  # the spool dropped them, not the memory budget

    def test_a_small_disk_that_fills_blocks_the_reading_and_loses_nothing(self):
        mount = os.path.join(self.tmp.name, "fs")
        os.mkdir(mount)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", mount],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here (not root, or not permitted)")
        self.addCleanup(subprocess.run, ["umount", "-l", mount])
        self.spool = os.path.join(mount, "spool")
        switch = Switch(up=False)
        server = self.server(switch)
        n = 80000  # about 4.8 MB, for a 2 MiB disk
        p = self.start(["--post", server.url("/in"), "--retries", "inf", "--retry-delay", "50ms",
                        "--retry-max-delay", "100ms", "--max-buffer", "1M", "--max-bytes", "256K"])
        err = StderrCollector(self, p)
        feeder = threading.Thread(target=lambda: (p.stdin.write(b"".join(record(i) + b"\n" for i in range(n))),
                                                  p.stdin.close()), daemon=True)
        feeder.start()
        wait_for(lambda: b"No space left on device" in err.text(), "the disk full")
        self.assertTrue(feeder.is_alive(), "the producer should wait while the disk is full")
        switch.up = True
        self.assertEqual(p.wait(timeout=bp.RUN_TIMEOUT), 0, err.text())
        feeder.join(timeout=10)
        self.assertEqual(delivered_numbers(server, switch.delivered), list(range(n)))
        self.assertEqual(segments(self.spool), [])


if __name__ == "__main__":
    unittest.main()
