"""--exec: one child per batch, retries and backoff, the error policy, the
dead-letter file, per-attempt timeouts and the shutdown grace.

batchpipe runs with its stdin from a file (or a pipe the test holds open) and
its stdout and stderr going to files in a temporary directory, which is also
its working directory. The child commands are small shell snippets that leave
evidence there: a log of calls, the bytes they were given, their environment.
With output in files, a child that outlives batchpipe cannot hold a test up;
tests whose children should be killed look for them by a unique argument
afterwards. Waiting is always for a condition, against a deadline.
"""

import fcntl
import itertools
import os
import re
import shlex
import select
import shutil
import signal
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

import bp

# Small delays keep retries fast; the backoff test sets its own.
FAST = ["--retry-delay", "10ms", "--retry-max-delay", "10ms"]

# Appends the batch number to ./calls: one line per attempt, in order.
LOG_CALL = 'echo "$BATCHPIPE_BATCH" >> calls; '

# Records whose bytes must survive exactly (no blanks around them: those are trimmed).
TRICKY = [
    '{"text":"café ☃ 𝄞 日本語","emoji":"😀"}'.encode(),
    rb'{"esc":"\"\\\/\b\f\n\r\t\u0000\u00e9\ud83d\ude00"}',
    b'{ "spaced" : [ 1 , 2 ,\t3 ] ,\t"s" : "a  b" }',
    b"123456789012345678901234567890",
    b'"just a string"',
    '"raw \u2028 and \u2029 separators"'.encode(),
]

_unique = itertools.count(1)


def numbered(n: int, start: int = 1) -> list:
    return [b'{"i":%d}' % i for i in range(start, start + n)]


def ndjson(records) -> bytes:
    return b"".join(r + b"\n" for r in records)


# Wrappers that start batchpipe with a different process state.
UMASK_0 = ["/bin/sh", "-c", 'umask 0 && exec "$@"', "sh"]


def ignoring(*names) -> list:
    """A wrapper that starts batchpipe with these signals ignored, as nohup,
    a shell's `&` or a careless supervisor would leave them."""
    code = ("import os, signal, sys\n"
            "for name in sys.argv[1].split(','):\n"
            "    signal.signal(getattr(signal, name), signal.SIG_IGN)\n"
            "os.execv(sys.argv[2], sys.argv[2:])\n")
    return [sys.executable, "-c", code, ",".join(names)]


def unique_sleep() -> list:
    """argv of a `sleep` no other test or run uses, to find it by afterwards."""
    return ["sleep", f"98.7654{os.getpid()}{next(_unique)}"]


class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def __repr__(self):
        return f"exit {self.rc} after {self.seconds:.2f}s, stdout {self.out[:300]!r}, stderr {self.err[-1500:]!r}"


class ExecCase(unittest.TestCase):
    def setUp(self):
        scratch = tempfile.TemporaryDirectory(prefix="bp-exec-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name

    # -- files in the scratch directory ------------------------------------

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def write(self, name: str, content: bytes) -> str:
        with open(self.path(name), "wb") as f:
            f.write(content)
        return self.path(name)

    def read(self, name: str) -> bytes:
        try:
            with open(self.path(name), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def calls(self) -> list:
        """The batch number of every attempt made, in order (see LOG_CALL)."""
        return [int(x) for x in self.read("calls").split()]

    # -- running batchpipe -------------------------------------------------

    def start(self, args, stdin, wrapper=(), **kwargs):
        """Starts batchpipe (through `wrapper`, if any) in the scratch
        directory, output to files; returns (process, stdout name, stderr
        name). The cleanup kills and reaps it."""
        n = next(_unique)
        out, err = f"bp-out.{n}", f"bp-err.{n}"
        with open(self.path(out), "wb") as fout, open(self.path(err), "wb") as ferr:
            proc = bp.spawn(self, [*wrapper, bp.binary(), *args], stdin=stdin, stdout=fout, stderr=ferr,
                            cwd=self.dir, **kwargs)
        return proc, out, err

    def run_bp(self, args, input=b"", timeout=bp.RUN_TIMEOUT, wrapper=(), **kwargs) -> Result:
        """Runs batchpipe to the end with `input` on stdin (from a file)."""
        stdin_path = self.write(f"bp-in.{next(_unique)}", input)
        with open(stdin_path, "rb") as fin:
            t0 = time.monotonic()
            proc, out, err = self.start(args, fin, wrapper, **kwargs)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"batchpipe {args} still running after {timeout}s; "
                      f"stdout {self.read(out)[-300:]!r}, stderr {self.read(err)[-1500:]!r}")
        return Result(rc, self.read(out), self.read(err), time.monotonic() - t0)

    def wait_exit(self, proc, timeout: float, err_name: str) -> int:
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"batchpipe still running {timeout}s later; stderr {self.read(err_name)[-1500:]!r}")

    def await_file(self, predicate, what: str, timeout=bp.SLACK, err_name=None):
        if not bp.wait_for(predicate, timeout):
            extra = f"; stderr {self.read(err_name)[-1500:]!r}" if err_name else ""
            self.fail(f"waited {timeout}s for {what}{extra}")

    def forbid_leftovers(self, argv):
        """Fails unless no process runs `argv` (within a short deadline: a
        killed one may take a moment to go); kills any found at cleanup."""
        self.addCleanup(lambda: [os.kill(pid, signal.SIGKILL) for pid in bp.processes_with_argv(argv)])
        if not bp.wait_for(lambda: not bp.processes_with_argv(argv), bp.SLACK):
            self.fail(f"{' '.join(argv)} still running after batchpipe ended: pids {bp.processes_with_argv(argv)}")

    def batchpipe_lines(self, err: bytes) -> list:
        return [line for line in bp.stderr_lines(err) if line.startswith("batchpipe: ")]

    def retry_lines(self, err: bytes) -> list:
        return [line for line in self.batchpipe_lines(err) if re.search(r"\bretry\b", line)]


class AttemptTest(ExecCase):
    def test_transient_failure_is_retried_and_delivered_once(self):
        a, b, c = b'{"id":"a"}', b'{"id":"b"}', b'{"id":"c"}'
        # Counts its own attempts per batch, keeps its stdin and environment,
        # fails the first two attempts of batch 1, then prints what it was given.
        cmd = (
            'n=$(cat "cnt.$BATCHPIPE_BATCH" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "cnt.$BATCHPIPE_BATCH"; '
            'cat > "in.$BATCHPIPE_BATCH.$n"; '
            'printf "%s\\n" "$BATCHPIPE_BATCH" "$BATCHPIPE_RECORDS" "$BATCHPIPE_ATTEMPT" "$BATCHPIPE_BATCH_ID" '
            '> "env.$BATCHPIPE_BATCH.$n"; '
            'if [ "$BATCHPIPE_BATCH" = 1 ] && [ "$n" -lt 3 ]; then exit 1; fi; '
            'cat "in.$BATCHPIPE_BATCH.$n"'
        )
        r = self.run_bp(["--exec", cmd, "--size", "2", "--interval", "0", *FAST], ndjson([a, b, c]))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out, b"[" + a + b"," + b + b"]\n[" + c + b"]\n", r)
        self.assertEqual(self.read("cnt.1"), b"3\n")
        self.assertEqual(self.read("cnt.2"), b"1\n")
        self.assertEqual(len(self.retry_lines(r.err)), 2, r)

        for attempt in (1, 2, 3):
            self.assertEqual(self.read(f"in.1.{attempt}"), b"[" + a + b"," + b + b"]\n", f"stdin of attempt {attempt}")
        self.assertEqual(self.read("in.2.1"), b"[" + c + b"]\n")
        env = {(bn, n): self.read(f"env.{bn}.{n}").decode().split("\n")[:4] for bn, n in ((1, 1), (1, 2), (1, 3), (2, 1))}
        for (bn, n), (batch, records, attempt, batch_id) in env.items():
            with self.subTest(batch=bn, attempt=n):
                self.assertEqual(batch, str(bn))
                self.assertEqual(records, "2" if bn == 1 else "1")
                self.assertEqual(attempt, str(n))
                self.assertTrue(batch_id, "BATCHPIPE_BATCH_ID empty")
        ids = {key: v[3] for key, v in env.items()}
        self.assertEqual(ids[(1, 1)], ids[(1, 2)])
        self.assertEqual(ids[(1, 1)], ids[(1, 3)])
        self.assertNotEqual(ids[(1, 1)], ids[(2, 1)])

    def test_environment_is_ours_without_batchpipe_variables(self):
        env = dict(os.environ, BATCHPIPE_STALE="x", BATCHPIPE_ATTEMPT="99", BP_TEST_MARK="kept")
        r = self.run_bp(["--exec", "env > env.txt; cat > /dev/null"], ndjson(numbered(1)), env=env)
        self.assertEqual(r.rc, 0, r)
        seen = dict(line.split("=", 1) for line in self.read("env.txt").decode().splitlines() if "=" in line)
        self.assertEqual(seen.get("BP_TEST_MARK"), "kept")
        self.assertNotIn("BATCHPIPE_STALE", seen)
        self.assertEqual(sorted(k for k in seen if k.startswith("BATCHPIPE_")),
                         ["BATCHPIPE_ATTEMPT", "BATCHPIPE_BATCH", "BATCHPIPE_BATCH_ID", "BATCHPIPE_RECORDS"])
        self.assertEqual(seen["BATCHPIPE_ATTEMPT"], "1")
        self.assertRegex(seen["BATCHPIPE_BATCH_ID"], r"^[0-9a-f]+-1$")

    def test_batch_ids_differ_between_runs(self):
        cmd = 'echo "$BATCHPIPE_BATCH_ID" >> ids'
        for _ in range(2):
            r = self.run_bp(["--exec", cmd, "--size", "1", "--interval", "0"], ndjson(numbered(2)))
            self.assertEqual(r.rc, 0, r)
        ids = self.read("ids").split()
        self.assertEqual(len(ids), 4, ids)
        self.assertEqual(len(set(ids)), 4, f"batch ids repeat across runs: {ids}")

    def test_child_output_goes_to_ours_one_batch_at_a_time(self):
        cmd = 'echo "$BATCHPIPE_BATCH a"; echo "err $BATCHPIPE_BATCH" >&2; sleep 0.05; echo "$BATCHPIPE_BATCH b"'
        r = self.run_bp(["--exec", cmd, "--size", "1", "--interval", "0"], ndjson(numbered(6)))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out, b"".join(b"%d a\n%d b\n" % (i, i) for i in range(1, 7)), r)
        self.assertEqual(r.err, b"".join(b"err %d\n" % i for i in range(1, 7)), r)

    def test_200k_records_through_cat_match_the_stdout_sink(self):
        records = [b'{"i":%d,"s":"%s","f":[%d.5,true,null]}' % (i, b"x" * (i % 37), i * 7) for i in range(200000)]
        data = ndjson(records)
        plain = self.run_bp(["--size", "1000", "--interval", "0"], data, timeout=120)
        self.assertEqual((plain.rc, plain.err), (0, b""), plain)
        piped = self.run_bp(["--exec", "cat", "--size", "1000", "--interval", "0"], data, timeout=120)
        self.assertEqual((piped.rc, piped.err), (0, b""), piped)
        self.assertEqual(len(bp.split_batches(plain.out, records)), 200)
        if piped.out != plain.out:
            at = next(i for i in range(min(len(piped.out), len(plain.out)) + 1)
                      if piped.out[i:i + 1] != plain.out[i:i + 1])
            self.fail(f"--exec cat output ({len(piped.out)} bytes) differs from stdout's ({len(plain.out)}) "
                      f"at byte {at}: {piped.out[at:at + 60]!r} vs {plain.out[at:at + 60]!r}")

    def test_child_that_does_not_read_a_3mb_batch(self):
        records = [bp.string_record(1024, b"%d" % (i % 10)) for i in range(3000)]
        data = ndjson(records)
        args = ["--size", "3000", "--interval", "0", "--retries", "1", *FAST]

        r = self.run_bp(["--exec", LOG_CALL + "exit 0", *args], data)
        self.assertEqual((r.rc, r.out, r.err), (0, b"", b""), r)  # not -SIGPIPE; exit 0 means delivered
        self.assertEqual(self.calls(), [1])

        dead = self.path("dead.ndjson")
        r = self.run_bp(["--exec", LOG_CALL + "exit 3", "--dead-letter", dead, *args], data)
        self.assertEqual(r.rc, 4, r)
        self.assertEqual(r.out, b"", r)
        self.assertEqual(self.calls(), [1, 1, 1], "exit 3 should be tried twice (--retries 1)")
        self.assertEqual(self.read("dead.ndjson"), data)


class FailureTest(ExecCase):
    def test_permanent_failure_goes_to_the_dead_letter_file(self):
        records = TRICKY
        dead = self.path("dead.ndjson")
        # Batch 2 always fails; batch 1 also notes the umask the run had.
        cmd = (LOG_CALL + 'if [ "$BATCHPIPE_BATCH" = 1 ]; then umask > umask; fi; '
               'if [ "$BATCHPIPE_BATCH" = 2 ]; then exit 1; fi; cat')
        args = ["--exec", cmd, "--size", "2", "--interval", "0", "--retries", "2", *FAST, "--dead-letter", dead]
        r = self.run_bp(args, ndjson(records), wrapper=UMASK_0)
        self.assertEqual(r.rc, 4, r)
        self.assertEqual(r.out, bp.encode([records[0:2], records[4:6]]), r)
        self.assertEqual(self.calls(), [1, 2, 2, 2, 3])
        self.assertEqual(self.read("umask").strip(), b"0000", "the umask 0 wrapper did not take")
        self.assertEqual(self.read("dead.ndjson"), ndjson(records[2:4]))
        self.assertEqual(stat.S_IMODE(os.stat(dead).st_mode), 0o600, "dead-letter file mode under umask 0")

        replay = self.run_bp(["--interval", "0", dead])
        self.assertEqual(replay.rc, 0, replay)
        self.assertEqual(bp.split_batches(replay.out, records[2:4]), [records[2:4]], replay)

        again = self.run_bp(args, ndjson(records), wrapper=UMASK_0)
        self.assertEqual(again.rc, 4, again)
        self.assertEqual(self.read("dead.ndjson"), ndjson(records[2:4]) * 2, "a second run appends")
        self.assertEqual(stat.S_IMODE(os.stat(dead).st_mode), 0o600)

    def test_without_dead_letter_stderr_counts_the_lost_records(self):
        cmd = 'if [ "$BATCHPIPE_BATCH" = 2 ]; then exit 1; fi; cat'
        records = numbered(6)
        r = self.run_bp(["--exec", cmd, "--size", "2", "--interval", "0", "--retries", "1", *FAST], ndjson(records))
        self.assertEqual(r.rc, 4, r)
        self.assertEqual(r.out, bp.encode([records[0:2], records[4:6]]), r)
        lost = [line for line in self.batchpipe_lines(r.err) if re.search(r"\blost\b", line)]
        self.assertEqual(len(lost), 1, r)
        self.assertRegex(lost[0], r"\b2 records? lost\b")
        self.assertRegex(lost[0], r"\blines? 3 ?(-|to) ?4\b")

    def test_on_error_stop_delivers_nothing_after_the_failure(self):
        records = numbered(20)
        dead = self.path("dead.ndjson")
        # Batches after 2 would succeed if they were ever tried.
        cmd = LOG_CALL + 'if [ "$BATCHPIPE_BATCH" = 2 ]; then exit 1; fi; cat'
        r = self.run_bp(["--exec", cmd, "--size", "2", "--interval", "0", "--retries", "1", *FAST,
                         "--on-error", "stop", "--dead-letter", dead], ndjson(records))
        self.assertEqual(r.rc, 5, r)
        self.assertEqual(r.out, bp.encode([records[0:2]]), r)
        self.assertEqual(self.calls(), [1, 2, 2])
        dead_records = self.read("dead.ndjson").splitlines()
        self.assertEqual(dead_records, records[2:], "dead-letter file: the failed batch and all after it, in order")

    def test_child_killed_by_a_signal_is_a_failure(self):
        r = self.run_bp(["--exec", LOG_CALL + "kill -KILL $$", "--retries", "1", *FAST], ndjson(numbered(1)))
        self.assertEqual(r.rc, 4, r)
        self.assertEqual(self.calls(), [1, 1])
        self.assertTrue(any(re.search(r"SIGKILL|\bKILL\b|signal 9\b", line) for line in self.batchpipe_lines(r.err)), r)

    def test_lost_line_ranges_name_the_inputs(self):
        # Line numbers count blank and invalid lines too.
        self.write("a.ndjson", b"1\n\n2\n")
        self.write("b.ndjson", b"nope\n3\n4\n")
        r = self.run_bp(["--exec", "exit 1", "--size", "2", "--interval", "0", "--retries", "0",
                         "a.ndjson", "b.ndjson"])
        self.assertEqual(r.rc, 4, r)
        lost = [line for line in self.batchpipe_lines(r.err) if "lost" in line]
        self.assertEqual(len(lost), 2, r)
        self.assertIn("2 records lost (a.ndjson lines 1-3)", lost[0])
        self.assertIn("2 records lost (b.ndjson lines 2-3)", lost[1])

    def test_lost_range_across_inputs(self):
        self.write("a.ndjson", b"1\n2\n3\n")
        self.write("b.ndjson", b"4\n")
        r = self.run_bp(["--exec", "exit 1", "--size", "2", "--interval", "0", "--retries", "0",
                         "a.ndjson", "b.ndjson"])
        self.assertEqual(r.rc, 4, r)
        lost = [line for line in self.batchpipe_lines(r.err) if "lost" in line]
        self.assertEqual(len(lost), 2, r)
        self.assertIn("(a.ndjson line 3 to b.ndjson line 1)", lost[1])

    def test_quiet_hides_retries_not_give_ups(self):
        r = self.run_bp(["--exec", "exit 1", "-q", "--retries", "2", *FAST], ndjson(numbered(1)))
        self.assertEqual(r.rc, 4, r)
        self.assertEqual(self.retry_lines(r.err), [], r)
        self.assertEqual(len(self.batchpipe_lines(r.err)), 1, r)
        self.assertIn("1 record lost", r.err.decode())

    def test_existing_dead_letter_file_keeps_mode_and_contents(self):
        dead = self.write("dead.ndjson", b'{"old":true}\n')
        os.chmod(dead, 0o640)
        r = self.run_bp(["--exec", "exit 1", "--retries", "0", "--dead-letter", dead], ndjson(numbered(2)))
        self.assertEqual(r.rc, 4, r)
        self.assertEqual(self.read("dead.ndjson"), b'{"old":true}\n' + ndjson(numbered(2)))
        self.assertEqual(stat.S_IMODE(os.stat(dead).st_mode), 0o640)

    def test_dead_letter_that_cannot_be_opened_is_a_usage_error(self):
        r = self.run_bp(["--exec", LOG_CALL + "cat", "--dead-letter", "no/such/dir/dead.ndjson"], ndjson(numbered(1)))
        self.assertEqual((r.rc, r.out), (2, b""), r)
        self.assertIn("no/such/dir/dead.ndjson", r.err.decode())
        self.assertEqual(self.calls(), [], "delivered although the dead-letter file could not be opened")

    def test_dead_letter_write_error_reports_the_records_lost(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        r = self.run_bp(["--exec", "exit 1", "--retries", "0", "--dead-letter", "/dev/full"], ndjson(numbered(3)))
        self.assertEqual(r.rc, 4, r)
        text = r.err.decode()
        self.assertIn("/dev/full", text)
        self.assertRegex(text, r"\b3 records lost \(input lines 1-3\)")

    def test_output_to_a_closed_stdout_ends_batchpipe_by_sigpipe_like_cat(self):
        # The command's output is captured and written by batchpipe at the
        # commit step: when our reader has gone, batchpipe ends quietly by
        # SIGPIPE, as cat would, instead of failing batch after batch.
        stdin_path = self.write("in", ndjson(numbered(1)))
        with open(stdin_path, "rb") as fin, open(self.path("err"), "wb") as ferr:
            proc = bp.spawn(self, [bp.binary(), "--exec", LOG_CALL + "echo hello", "--retries", "1", *FAST],
                            stdin=fin, stdout=subprocess.PIPE, stderr=ferr, cwd=self.dir)
        proc.stdout.close()  # nobody reads our stdout any more
        rc = self.wait_exit(proc, bp.RUN_TIMEOUT, "err")
        self.assertEqual(rc, -signal.SIGPIPE, self.read("err"))
        self.assertEqual(self.read("err"), b"")
        self.assertEqual(self.calls(), [1])

    def check_permanent(self, cmd, fix):
        # Every batch would fail the same way: the run stops at once (exit 5), saying what to fix.
        r = self.run_bp(["--exec", cmd, "--retries", "3", *FAST], ndjson(numbered(2)))
        self.assertEqual(r.rc, 5, r)
        self.assertIn(f"batchpipe: stopping: every batch would fail the same way; {fix}", self.batchpipe_lines(r.err))
        self.assertEqual(self.calls(), [1], "a permanent failure was retried")
        self.assertEqual(self.retry_lines(r.err), [], r)
        self.assertTrue(any(cmd in line for line in self.batchpipe_lines(r.err)), f"no message names {cmd!r}: {r}")

    def test_exit_126_is_not_retried(self):
        script = self.write("not-executable.sh", b"#!/bin/sh\necho should not run\n")
        os.chmod(script, 0o644)
        self.check_permanent(LOG_CALL + shlex.quote(script),
                             "a program in the command is not executable (chmod +x?) or is a directory")

    def test_exit_127_is_not_retried(self):
        self.check_permanent(LOG_CALL + "nosuchcommand-xyz",
                             "a program in the command was not found: check its name and PATH")

    def test_stats_count_deliveries(self):
        cmd = 'if [ "$BATCHPIPE_BATCH" = 2 ]; then exit 1; fi; cat'
        dead = self.path("dead.ndjson")
        r = self.run_bp(["--exec", cmd, "--size", "2", "--interval", "0", "--retries", "1", *FAST,
                         "--dead-letter", dead, "--stats"], ndjson(numbered(4)))
        self.assertEqual(r.rc, 4, r)
        lines = [line for line in self.batchpipe_lines(r.err) if line.startswith("batchpipe: stats: ")]
        self.assertIn("batchpipe: stats: delivered 1 batch (2 records, 18 B) in 3 attempts (1 retry)", lines, r)
        self.assertIn("batchpipe: stats: gave up 1 batch (2 records): 2 dead-lettered", lines, r)
        self.assertIn("batchpipe: stats: 2 records not delivered", lines, r)

    def test_delivery_flags_need_exec(self):
        dead = self.path("dead.ndjson")
        cases = [["--retries", "1"], ["--retry-delay", "1s"], ["--retry-max-delay", "1s"],
                 ["--retry-max-time", "1s"], ["--timeout", "1s"], ["--on-error", "stop"],
                 ["--dead-letter", dead], ["--grace", "1s"]]
        for args in cases:
            with self.subTest(args=args):
                r = self.run_bp(args, b"1\n")
                self.assertEqual(r.rc, 2, r)
                self.assertEqual(r.out, b"", r)
                self.assertIn(args[0], r.err.decode(), r)
        self.assertFalse(os.path.exists(dead), "a usage error created the dead-letter file")
        r = self.run_bp(["--exec", ""], b"1\n")
        self.assertEqual((r.rc, r.out), (2, b""), r)


class RetryTimingTest(ExecCase):
    @staticmethod
    def announced_delays(err: bytes) -> list:
        """The delays the retry warnings announce, in ms."""
        return [float(m) * (1000 if unit == "s" else 1)
                for m, unit in re.findall(r"\bretry \d+ of \d+ in ([\d.]+)(ms|s)\b", err.decode())]

    def test_backoff_doubles_up_to_the_cap_with_jitter_bounds(self):
        cmd = "date +%s%N >> times; exit 1"
        r = self.run_bp(["--exec", cmd, "--retries", "3", "--retry-delay", "100ms", "--retry-max-delay", "150ms"],
                        ndjson(numbered(1)))
        self.assertEqual(r.rc, 4, r)
        times = [int(t) / 1e6 for t in self.read("times").split()]  # ms
        self.assertEqual(len(times), 4, r)
        gaps = [b - a for a, b in zip(times, times[1:])]
        announced = self.announced_delays(r.err)
        self.assertEqual(len(announced), 3, r)
        for k, (d, gap, said) in enumerate(zip((100, 150, 150), gaps, announced), 1):
            with self.subTest(retry=k):
                self.assertGreaterEqual(said, d / 2, f"announced {said}ms")
                self.assertLessEqual(said, d, f"announced {said}ms")
                # The gap holds the whole wait plus two process starts.
                self.assertGreaterEqual(gap, d / 2, f"gaps {gaps}")
                self.assertGreaterEqual(gap, said - 1, f"waited less than announced: gaps {gaps}, said {announced}")
                self.assertLessEqual(gap, d + bp.SLACK * 1000, f"gaps {gaps}")

    def test_delays_are_jittered(self):
        r = self.run_bp(["--exec", "exit 1", "--retries", "12", "--retry-delay", "20ms", "--retry-max-delay", "20ms"],
                        ndjson(numbered(1)))
        self.assertEqual(r.rc, 4, r)
        delays = self.announced_delays(r.err)
        self.assertEqual(len(delays), 12, r)
        self.assertTrue(all(10 <= d <= 20 for d in delays), delays)
        self.assertGreater(len(set(delays)), 1, f"no jitter: {delays}")

    def test_retry_max_time_gives_up_early(self):
        r = self.run_bp(["--exec", LOG_CALL + "exit 1", "--retries", "100", "--retry-delay", "100ms",
                         "--retry-max-delay", "100ms", "--retry-max-time", "500ms"], ndjson(numbered(1)))
        self.assertEqual(r.rc, 4, r)
        attempts = len(self.calls())
        # Every retry starts within 500ms of the first attempt, at least 50ms apart.
        self.assertGreaterEqual(attempts, 2, r)
        self.assertLessEqual(attempts, 11, r)
        self.assertGreaterEqual(r.seconds, 0.4, "gave up while a retry still fitted in --retry-max-time")
        self.assertLess(r.seconds, 0.5 + bp.SLACK, r)
        self.assertTrue(any("retry-max-time" in line for line in self.batchpipe_lines(r.err)), r)


class TimeoutTest(ExecCase):
    def test_hanging_child_is_killed_retried_and_given_up(self):
        sleep = unique_sleep()
        r = self.run_bp(["--exec", LOG_CALL + " ".join(sleep), "--timeout", "300ms", "--retries", "1", *FAST],
                        ndjson(numbered(1)), timeout=20)
        self.forbid_leftovers(sleep)
        self.assertEqual(r.rc, 4, r)
        self.assertEqual(self.calls(), [1, 1])
        self.assertGreaterEqual(r.seconds, 0.6, r)
        self.assertLess(r.seconds, 5, r)
        self.assertTrue(any(re.search(r"time", line) for line in self.batchpipe_lines(r.err)), r)

    def test_child_ignoring_sigterm_is_killed(self):
        sleep = unique_sleep()
        r = self.run_bp(["--exec", "trap '' TERM; " + LOG_CALL + " ".join(sleep), "--timeout", "300ms",
                         "--retries", "0"], ndjson(numbered(1)), timeout=20)
        self.forbid_leftovers(sleep)
        self.assertEqual(r.rc, 4, r)
        self.assertEqual(self.calls(), [1])
        # SIGTERM at 300ms, ignored; SIGKILL about 2s later.
        self.assertGreaterEqual(r.seconds, 0.3 + 1.5, r)
        self.assertLess(r.seconds, 0.3 + 2 + bp.SLACK, r)


    def test_group_member_ignoring_sigterm_is_killed_too(self):
        # sh runs sleep in a subshell that ignores SIGTERM: the process group
        # outlives the SIGTERM, so it must get the SIGKILL 2s later.
        sleep = unique_sleep()
        cmd = "(trap '' TERM; exec " + " ".join(sleep) + "); true"
        r = self.run_bp(["--exec", cmd, "--timeout", "300ms", "--retries", "0"], ndjson(numbered(1)), timeout=20)
        self.assertEqual(r.rc, 4, r)
        self.forbid_leftovers(sleep)


class DeadLetterFileTest(ExecCase):
    """When the dead-letter file is created, what happens when it is rotated
    away, and a FIFO whose reader does not read."""

    FAIL = ["--exec", "exit 1", "--retries", "0", "--size", "1", "--interval", "0"]

    def test_a_clean_run_leaves_no_dead_letter_file(self):
        r = self.run_bp(["--exec", "cat >/dev/null", "--dead-letter", "dead.ndjson"], ndjson(numbered(3)))
        self.assertEqual(r.rc, 0, r)
        self.assertFalse(os.path.exists(self.path("dead.ndjson")), "created with nothing to write")

    def test_a_dead_letter_path_that_cannot_be_created_is_still_a_usage_error(self):
        self.write("plain", b"")
        for path, reason in (("plain/dead.ndjson", "Not a directory"), ("no/such/dir/dead.ndjson",
                                                                           "No such file or directory")):
            with self.subTest(path=path):
                r = self.run_bp(["--exec", LOG_CALL + "cat", "--dead-letter", path], ndjson(numbered(1)))
                self.assertEqual((r.rc, r.out), (2, b""), r)
                self.assertEqual(r.err.decode(), f"batchpipe: --dead-letter {path}: {reason}\n")
                self.assertEqual(self.calls(), [])

    def test_a_rotated_or_deleted_dead_letter_file_is_created_anew(self):
        dead = self.path("dead.ndjson")
        proc, out, err = self.start([*self.FAIL, "--dead-letter", dead], subprocess.PIPE, wrapper=UMASK_0)
        records = numbered(3)

        def give_up(record, name):
            proc.stdin.write(record + b"\n")
            proc.stdin.flush()
            self.await_file(lambda: self.read(name) == record + b"\n", f"{record!r} in {name}", err_name=err)
            self.assertEqual(stat.S_IMODE(os.stat(self.path(name)).st_mode), 0o600)

        give_up(records[0], "dead.ndjson")
        os.rename(dead, self.path("dead.ndjson.1"))  # as logrotate does, without telling us
        give_up(records[1], "dead.ndjson")
        os.unlink(dead)
        give_up(records[2], "dead.ndjson")
        proc.stdin.close()
        self.assertEqual(self.wait_exit(proc, bp.SLACK, err), 4, self.read(err))
        self.assertEqual(self.read("dead.ndjson.1"), records[0] + b"\n", "written into the rotated file")

    def fifo_not_read(self, *args):
        """batchpipe giving up a batch to a FIFO whose reader does not read,
        once the FIFO is full; returns (process, stderr name)."""
        fifo = self.path("dead.fifo")
        os.mkfifo(fifo, 0o600)  # one that others could open for reading is refused (test_file_safety)
        os.chmod(fifo, 0o600)
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open, never read
        self.addCleanup(os.close, reader)
        proc, out, err = self.start([*self.FAIL, "--dead-letter", fifo, *args], subprocess.PIPE)
        proc.stdin.write(bp.string_record(200000) + b"\n")
        proc.stdin.flush()

        def queued():
            return struct.unpack("i", fcntl.ioctl(reader, termios.FIONREAD, b"\0\0\0\0"))[0]

        self.await_file(lambda: queued() > 0 and proc.poll() is None, "a full FIFO", err_name=err)
        self.assertFalse(bp.wait_for(lambda: proc.poll() is not None, 0.2), "did not wait for the reader")
        return proc, err

    def test_a_fifo_not_read_is_given_up_at_the_end_of_the_grace(self):
        proc, err = self.fifo_not_read("--grace", "500ms")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(proc, 0.5 + bp.SLACK, err)
        text = self.read(err).decode()
        self.assertEqual(rc, 143, text)
        self.assertGreaterEqual(time.monotonic() - t0, 0.45, "gave up before the grace ended")
        self.assertIn("dead.fifo: gave up waiting for its reader at the end of the shutdown grace", text)
        self.assertRegex(text, r"1 record lost \(input line 1\)")

    def test_a_fifo_not_read_is_given_up_on_a_second_signal(self):
        proc, err = self.fifo_not_read("--grace", "30s")
        proc.send_signal(signal.SIGTERM)
        self.assertFalse(bp.wait_for(lambda: proc.poll() is not None, 0.3), "ended on the first SIGTERM")
        proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(proc, bp.SLACK, err)
        text = self.read(err).decode()
        self.assertEqual(rc, 143, text)
        self.assertIn("dead.fifo: gave up waiting for its reader after a second signal", text)
        self.assertRegex(text, r"1 record lost \(input line 1\)")


class InheritedSignalsTest(ExecCase):
    def test_works_when_started_with_sigchld_ignored(self):
        r = self.run_bp(["--exec", "cat", "--grace", "1s"], b"1\n", bp.SLACK, wrapper=ignoring("SIGCHLD"))
        self.assertEqual((r.rc, r.out, r.err), (0, b"[1]\n", b""), r)

    def test_command_starts_with_default_signal_actions(self):
        wrapper = ignoring("SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR2", "SIGALRM", "SIGTERM", "SIGPIPE")
        # exec: read the command's own status, not that of a shell which may be
        # inside its wait for cat with every signal blocked (dash does that).
        r = self.run_bp(["--exec", "exec cat /proc/self/status > status"], b"1\n", wrapper=wrapper)
        self.assertEqual(r.rc, 0, r)
        fields = dict(line.split(":", 1) for line in self.read("status").decode().splitlines() if ":" in line)
        # Signals 32 and 33 are the C library's own, not the command's business.
        usable = sum(1 << (s - 1) for s in list(range(1, 32)) + list(range(signal.SIGRTMIN, signal.SIGRTMAX + 1)))
        ignored = int(fields["SigIgn"], 16) & usable
        blocked = int(fields["SigBlk"], 16) & usable

        def names_of(mask):
            return [signal.Signals(s).name if s < signal.SIGRTMIN else f"SIGRTMIN+{s - signal.SIGRTMIN}"
                    for s in range(1, 65) if mask >> (s - 1) & 1]

        self.assertEqual(names_of(ignored), [], "signals the command starts with ignored")
        self.assertEqual(names_of(blocked), [], "signals the command starts with blocked")


class ShutdownTest(ExecCase):
    def test_sigterm_while_waiting_to_retry(self):
        records = numbered(7)
        dead = self.path("dead.ndjson")
        cmd = LOG_CALL + 'if [ "$BATCHPIPE_BATCH" -ge 2 ]; then exit 1; fi; cat'
        proc, out, err = self.start(["--exec", cmd, "--size", "2", "--interval", "0", "--retry-delay", "10s",
                                     "--retry-max-delay", "10s", "--dead-letter", dead], subprocess.PIPE)
        proc.stdin.write(ndjson(records))  # one write under PIPE_BUF: read at once
        proc.stdin.flush()
        # Batch 1 delivered, batch 2 failed and waiting 5-10s; 7 in the open batch.
        self.await_file(lambda: self.retry_lines(self.read(err)), "batch 2's retry warning", err_name=err)
        self.assertEqual(self.read(out), bp.encode([records[0:2]]))
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(proc, 5, err)  # stdin stays open
        elapsed = time.monotonic() - t0
        detail = f"stderr {self.read(err)!r}"
        self.assertEqual(rc, 143, detail)
        self.assertLess(elapsed, 5, "waited out the retry delay")
        self.assertEqual(self.read(out), bp.encode([records[0:2]]), detail)
        # No retry after the signal; one attempt each for [5,6] and the closed [7].
        self.assertEqual(self.calls(), [1, 2, 3, 4], detail)
        self.assertEqual(self.read("dead.ndjson").splitlines(), records[2:], detail)

    def test_sigterm_gives_the_in_flight_attempt_its_grace(self):
        records = numbered(3)
        # Waits (boundedly) for ./go, then delivers.
        cmd = (LOG_CALL + 'i=0; while [ ! -e go ] && [ "$i" -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; cat')
        proc, out, err = self.start(["--exec", cmd, "--size", "2", "--interval", "0"], subprocess.PIPE)
        proc.stdin.write(ndjson(records))
        proc.stdin.flush()
        self.await_file(lambda: self.calls() == [1], "batch 1's attempt", err_name=err)
        proc.send_signal(signal.SIGTERM)
        # The attempt under way is not cut short: batchpipe keeps running meanwhile.
        self.assertFalse(bp.wait_for(lambda: proc.poll() is not None, 0.5),
                         f"ended at once on SIGTERM: exit {proc.returncode}, stderr {self.read(err)!r}")
        self.write("go", b"")
        rc = self.wait_exit(proc, bp.SLACK * 2, err)
        self.assertEqual(rc, 143, self.read(err))
        self.assertEqual(self.read(out), bp.encode([records[0:2], records[2:3]]), self.read(err))
        self.assertEqual(self.calls(), [1, 2])

    def test_grace_ends_a_hanging_attempt(self):
        sleep = unique_sleep()
        dead = self.path("dead.ndjson")
        proc, out, err = self.start(["--exec", LOG_CALL + " ".join(sleep), "--size", "1", "--grace", "500ms",
                                     "--dead-letter", dead], subprocess.PIPE)
        proc.stdin.write(ndjson(numbered(1)))
        proc.stdin.flush()
        self.await_file(lambda: self.calls() == [1], "the attempt", err_name=err)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(proc, 0.5 + bp.SLACK, err)
        elapsed = time.monotonic() - t0
        self.forbid_leftovers(sleep)
        self.assertEqual(rc, 143, self.read(err))
        self.assertGreaterEqual(elapsed, 0.45, "the attempt did not get its --grace")
        self.assertEqual(self.read(out), b"")
        self.assertEqual(self.read("dead.ndjson"), ndjson(numbered(1)), self.read(err))

    def test_second_sigint_cuts_the_grace_short(self):
        sleep = ["sleep", f"30.{os.getpid()}{next(_unique)}"]
        dead = self.path("dead.ndjson")
        proc, out, err = self.start(["--exec", LOG_CALL + " ".join(sleep), "--size", "1", "--grace", "20s",
                                     "--dead-letter", dead], subprocess.PIPE)
        proc.stdin.write(ndjson(numbered(1)))
        proc.stdin.flush()
        self.await_file(lambda: self.calls() == [1], "the attempt", err_name=err)
        proc.send_signal(signal.SIGINT)
        self.assertFalse(bp.wait_for(lambda: proc.poll() is not None, 0.5),
                         f"ended at once on the first SIGINT: exit {proc.returncode}, stderr {self.read(err)!r}")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rc = self.wait_exit(proc, bp.SLACK, err)
        elapsed = time.monotonic() - t0
        self.forbid_leftovers(sleep)
        self.assertEqual(rc, 130, self.read(err))
        self.assertLess(elapsed, bp.SLACK)
        self.assertEqual(self.read(out), b"")
        self.assertEqual(self.read("dead.ndjson"), ndjson(numbered(1)), self.read(err))


class FlowTest(ExecCase):
    def test_sigusr1_queues_the_open_batch(self):
        a, b, c = numbered(3)
        proc, out, err = self.start(["--exec", LOG_CALL + "cat", "--size", "2", "--interval", "0"], subprocess.PIPE)
        proc.stdin.write(ndjson([a, b, c]))  # one write under PIPE_BUF: read at once
        proc.stdin.flush()
        # [a,b] delivered: the handlers are in place and c is in the open batch.
        self.await_file(lambda: self.read(out) == bp.encode([[a, b]]), "batch 1", err_name=err)
        proc.send_signal(signal.SIGUSR1)
        self.await_file(lambda: self.read(out) == bp.encode([[a, b], [c]]), "the batch SIGUSR1 closed", err_name=err)
        proc.stdin.close()
        self.assertEqual(self.wait_exit(proc, bp.SLACK * 2, err), 0, self.read(err))
        self.assertEqual(self.calls(), [1, 2])

    def test_input_is_read_up_to_a_bound_while_a_batch_waits(self):
        """While batch 1 waits for a retry, batchpipe goes on reading, but
        only so far (--max-buffer): the test's writes into its stdin stop
        being taken. What was read is then all in the dead-letter file, in
        order. (A small budget: each batch not tried is dead-lettered with
        its own sync.)"""
        dead = self.path("dead.ndjson")
        proc, out, err = self.start(["--exec", "exit 1", "--size", "1000", "--interval", "0",
                                     "--retry-delay", "10s", "--retry-max-delay", "10s", "--grace", "0",
                                     "--max-buffer", "4M", "--dead-letter", dead], subprocess.PIPE)
        fd = proc.stdin.fileno()
        os.set_blocking(fd, False)
        cap = 64 << 20  # far beyond the budget
        written, pending, next_record = 0, b"", 0
        deadline = time.monotonic() + 20
        last_progress = time.monotonic()
        # Write until stdin takes nothing for 0.5s once batch 1 waits for its retry.
        while written < cap:
            now = time.monotonic()
            if now > deadline:
                self.fail(f"batch 1 never waited for a retry; stderr {self.read(err)[-1500:]!r}")
            if now - last_progress >= 0.5 and self.retry_lines(self.read(err)):
                break
            if not pending:
                pending = b"".join(b'{"i":%d}\n' % i for i in range(next_record, next_record + 4096))
                next_record += 4096
            _, writable, _ = select.select([], [fd], [], 0.05)
            if not writable:
                continue
            try:
                n = os.write(fd, pending[:65536])
            except BlockingIOError:
                continue
            pending = pending[n:]
            written += n
            last_progress = time.monotonic()
        self.assertLess(written, cap, "batchpipe kept reading while its first batch could not be delivered")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.wait_exit(proc, bp.SLACK * 2, err), 143, self.read(err)[-1500:])
        dead_records = self.read("dead.ndjson").splitlines()
        self.assertGreaterEqual(len(dead_records), 2000, "stopped reading at the first batch")
        self.assertEqual(dead_records, numbered(len(dead_records), start=0),
                         "dead-letter file is not the input read, in order")
        self.assertLessEqual(len(self.read("dead.ndjson")), written)
        self.assertEqual(self.read(out), b"")


class SqliteTest(ExecCase):
    SQL = "insert into t select value from json_each(readfile('/dev/stdin'))"

    def setUp(self):
        super().setUp()
        if not shutil.which("sqlite3"):
            self.skipTest("the sqlite3 command-line shell is not installed")
        self.db = self.path("test.db")
        with sqlite3.connect(self.db) as db:
            db.execute("create table t(v)")

    def check_rows(self, cmd):
        records = [b'{"i":%d,"s":"it\'s \\"%d\\""}' % (i, i) for i in range(2500)]
        r = self.run_bp(["--exec", cmd, "--size", "1000", "--interval", "0"], ndjson(records))
        self.assertEqual(r.rc, 0, r)
        with sqlite3.connect(self.db) as db:
            rows = [v for (v,) in db.execute("select v from t order by rowid")]
        self.assertEqual(len(rows), len(records))
        self.assertEqual(rows[0], records[0].decode())
        self.assertEqual(rows[-1], records[-1].decode())

    def test_sqlite3_reads_the_batch_from_stdin(self):
        # The example as written: readfile('/dev/stdin') needs a stdin
        # it can size and seek, which the batch's memfd is (a pipe is not).
        self.check_rows(f"sqlite3 {shlex.quote(self.db)} {shlex.quote(self.SQL)}")


if __name__ == "__main__":
    unittest.main()
