"""Shared helpers for batchpipe's end-to-end tests.

Runs the built binary (BATCHPIPE in the environment, as ctest sets it) with
real pipes and processes. Nothing here sleeps in the hope that something has
happened: output is read with select() against a deadline, and every process
started is killed and reaped by a cleanup registered on the test.
"""

import os
import select
import sys
import subprocess
import tempfile
import time
import unittest

from http_server import ScriptedServer

# Time allowed on top of any expected delay: the suite also runs under
# ASan/UBSan on a busy two-core machine.
SLACK = 3.0

# Bounds a whole run that is expected to end by itself.
RUN_TIMEOUT = 30.0


def binary() -> str:
    path = os.environ.get("BATCHPIPE")
    if not path:
        raise RuntimeError("set BATCHPIPE to the built batchpipe binary (ctest does)")
    return path


_sanitized = None


def sanitized() -> bool:
    """Whether the binary was built with ASan/UBSan (several times slower,
    with more memory and descriptors of its own)."""
    global _sanitized
    if _sanitized is None:
        with open(binary(), "rb") as f:
            _sanitized = b"__asan_init" in f.read()
    return _sanitized


def run(args, input=b"", timeout=RUN_TIMEOUT, **kwargs) -> subprocess.CompletedProcess:
    """Runs batchpipe to the end; kills it if it outlives `timeout`."""
    if "stdin" in kwargs:
        input = None
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([binary(), *args], input=input, timeout=timeout, **kwargs)


def spawn(test, argv, **kwargs) -> subprocess.Popen:
    """Starts any process; the test's cleanup kills and reaps it."""
    proc = subprocess.Popen(argv, **kwargs)
    test.addCleanup(reap, proc)
    return proc


def endless_producer(test, line: bytes) -> subprocess.Popen:
    """A process writing `line` (with its newline) to its stdout pipe for ever;
    the test's cleanup kills it."""
    program = f"import sys\nb = {line!r} * 4096\nwhile True: sys.stdout.buffer.write(b)"
    return spawn(test, [sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def reap(proc: subprocess.Popen) -> None:
    if proc.returncode is None and proc.poll() is None:
        proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


def stats(err: bytes) -> dict:
    """The --stats=json object on stderr (the one line that starts with "{")."""
    import json

    lines = [l for l in err.decode("utf-8", "replace").splitlines() if l.startswith("{")]
    if len(lines) != 1:
        raise AssertionError(f"expected one --stats=json line, stderr {err[-2000:]!r}")
    return json.loads(lines[0])


def stderr_lines(err: bytes) -> list:
    """stderr split into lines; asserts nothing, an unterminated tail counts as a line."""
    return err.decode("utf-8", "replace").splitlines()


class Live:
    """A running batchpipe whose stdin the test writes and whose output it reads
    as it comes, with deadlines."""

    def __init__(self, test, args, stdin=subprocess.PIPE):
        self.test = test
        self.proc = spawn(
            test, [binary(), *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.out = bytearray()
        self.err = bytearray()
        self._bufs = {self.proc.stdout.fileno(): self.out, self.proc.stderr.fileno(): self.err}
        for fd in self._bufs:
            os.set_blocking(fd, False)

    # -- input -------------------------------------------------------------

    def write(self, data: bytes, timeout=SLACK) -> None:
        """Writes all of `data` to stdin, reading output meanwhile so neither side blocks."""
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"stdin still had {len(view)} bytes to take after {timeout}s")
            readable, writable, _ = select.select(list(self._bufs), [fd], [], left)
            self._read(readable)
            if writable:
                n = os.write(fd, view[: select.PIPE_BUF] if len(view) > select.PIPE_BUF else view)
                view = view[n:]

    def close_stdin(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()

    def send(self, sig) -> None:
        self.proc.send_signal(sig)

    # -- output ------------------------------------------------------------

    def _read(self, fds) -> None:
        for fd in fds:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if chunk:
                self._bufs[fd].extend(chunk)
            else:
                del self._bufs[fd]

    def pump(self, timeout: float) -> None:
        """Waits up to `timeout` for output and takes whatever is there."""
        if not self._bufs:
            return
        readable, _, _ = select.select(list(self._bufs), [], [], max(0.0, timeout))
        self._read(readable)

    def wait_until(self, predicate, timeout: float) -> bool:
        """Reads output until predicate() holds (True) or the deadline passes (False)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0 or not self._bufs:
                return predicate()
            self.pump(left)
        return True

    def lines(self) -> list:
        """The complete stdout lines so far, newline included."""
        text = bytes(self.out)
        return text[: text.rfind(b"\n") + 1].splitlines(keepends=True)

    def wait_lines(self, count: int, timeout=SLACK) -> list:
        """Waits for `count` complete stdout lines; fails the test at the deadline."""
        if not self.wait_until(lambda: len(self.lines()) >= count, timeout):
            self.test.fail(
                f"waited {timeout}s for {count} output line(s), got {bytes(self.out)!r}; "
                f"stderr {bytes(self.err)!r}"
            )
        return self.lines()

    def quiet_for(self, seconds: float) -> bytes:
        """Reads output for `seconds` and returns what stdout gained meanwhile
        (the test asserts it is empty: this is a bounded window, not a hope)."""
        before = len(self.out)
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not self._bufs:
                break
            self.pump(left)
        return bytes(self.out[before:])

    def finish(self, timeout=SLACK * 2, close_stdin=True) -> int:
        """Reads all remaining output and reaps the process; returns its exit code."""
        if close_stdin:
            self.close_stdin()
        deadline = time.monotonic() + timeout
        while self._bufs:
            left = deadline - time.monotonic()
            if left <= 0:
                self.test.fail(
                    f"batchpipe still running {timeout}s later; stdout {bytes(self.out)[-300:]!r}, "
                    f"stderr {bytes(self.err)!r}"
                )
            self.pump(left)
        try:
            return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.test.fail(f"batchpipe closed its output but did not exit within {timeout}s")


def wait_with_rusage(proc: subprocess.Popen, timeout: float):
    """Reaps `proc` with wait4 and returns its own resource usage (ru_maxrss in
    KiB), or raises TimeoutError, leaving it for the cleanup to kill."""
    deadline = time.monotonic() + timeout
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        pidfd = None  # no pidfd: fall back to polling in short select() steps
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                return usage
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"pid {proc.pid} still running after {timeout}s")
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                select.select([], [], [], min(left, 0.02))
    finally:
        if pidfd is not None:
            os.close(pidfd)


# -- the batching model ------------------------------------------------------


def encode(batches) -> bytes:
    """The exact stdout for these batches (lists of record bytes)."""
    return b"".join(b"[" + b",".join(batch) + b"]\n" for batch in batches)


def encoded_size(batch) -> int:
    """A batch's size as --max-bytes counts it: brackets, commas and the newline."""
    return 3 + sum(len(r) for r in batch) + max(0, len(batch) - 1)


def greedy_batches(records, size: int, max_bytes: int) -> list:
    """Batches as the spec closes them when only --size, --max-bytes and EOF
    act (--interval 0, no signals): a record goes into the open batch unless it
    would push it past max_bytes; a batch closes once it holds `size` records."""
    batches, open_batch, open_size = [], [], 3
    for record in records:
        growth = len(record) + (1 if open_batch else 0)
        if open_batch and open_size + growth > max_bytes:
            batches.append(open_batch)
            open_batch, open_size, growth = [], 3, len(record)
        open_batch.append(record)
        open_size += growth
        if len(open_batch) == size:
            batches.append(open_batch)
            open_batch, open_size = [], 3
    if open_batch:
        batches.append(open_batch)
    return batches


def split_batches(stdout: bytes, records) -> list:
    """Matches stdout back onto `records` (in order, byte for byte) and returns
    the batches it was cut into; raises AssertionError saying where it differs."""
    batches, i, pos = [], 0, 0
    while pos < len(stdout):
        where = f"batch {len(batches) + 1} (stdout offset {pos})"
        if stdout[pos : pos + 1] != b"[":
            raise AssertionError(f"{where} does not start with '[': {stdout[pos:pos + 80]!r}")
        pos += 1
        batch = []
        while True:
            if i >= len(records):
                raise AssertionError(f"{where}: more records out than the {len(records)} in")
            record = records[i]
            if stdout[pos : pos + len(record)] != record:
                raise AssertionError(
                    f"{where}: record {i + 1} should be {record[:80]!r}, "
                    f"got {stdout[pos:pos + min(80, len(record) + 10)]!r}"
                )
            batch.append(record)
            i += 1
            pos += len(record)
            if stdout[pos : pos + 1] == b",":
                pos += 1
            elif stdout[pos : pos + 2] == b"]\n":
                pos += 2
                break
            else:
                raise AssertionError(f"{where}: after record {i}: {stdout[pos:pos + 20]!r}")
        batches.append(batch)
    if i != len(records):
        raise AssertionError(f"{len(records) - i} of {len(records)} records missing from stdout")
    return batches


def string_record(size: int, fill: bytes = b"x") -> bytes:
    """A JSON string literal exactly `size` bytes long (size >= 2)."""
    assert size >= 2
    return b'"' + fill * (size - 2) + b'"'


# -- polling and leftover processes ------------------------------------------


def wait_for(predicate, timeout: float, step: float = 0.01) -> bool:
    """Checks predicate() every `step` seconds until it holds (True) or
    `timeout` passes (False). For conditions no descriptor signals, such as a
    file a child process writes."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return predicate()
        time.sleep(min(step, left))


def processes_with_argv(argv) -> list:
    """Pids of the live processes whose command line is exactly `argv`
    (zombies have an empty one and do not count)."""
    want = b"".join(os.fsencode(a) + b"\0" for a in argv)
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if f.read() == want:
                    pids.append(int(name))
        except OSError:
            continue  # gone meanwhile
    return pids


class DeadLetterCase(unittest.TestCase):
    """A scratch directory (self.dir, removed by a cleanup) with a dead-letter
    path in it (self.dead), and scripted HTTP servers each closed by a
    cleanup."""

    def setUp(self):
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name
        self.dead = self.path("dead.ndjson")

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def serve(self, answer=200, script=()) -> ScriptedServer:
        """A ScriptedServer answering `script` first, then `answer`."""
        server = ScriptedServer(script, default=answer)
        self.addCleanup(server.close)
        return server

    def dead_letters(self) -> bytes:
        """What the dead-letter file holds; b"" if there is none."""
        if not os.path.exists(self.dead):
            return b""
        with open(self.dead, "rb") as f:
            return f.read()
