"""Read-ahead to --max-buffer (issue 18): while batches wait for a receiver
that is down, batchpipe keeps reading until --max-buffer is held, then stops,
so the producer waits; once the receiver is back every record arrives once,
in order.

The test is the producer: it writes batchpipe's stdin without blocking and
knows exactly how much batchpipe took, what it wrote less what is still in
the pipe (FIONREAD on the read end, which it keeps open and never reads).
"Reading has stopped" is the pipe staying full while the receiver gets three
more attempts: the loop went round and took nothing."""

import fcntl
import json
import os
import select
import signal
import termios
import time
import unittest

import bp
from http_server import ScriptedServer

MiB = 1 << 20
RECORD_SIZE = 1000  # bytes of each record, newline not counted
LINE = RECORD_SIZE + 1


def whole_lines(size: int) -> int:
    """`size` rounded down to whole lines."""
    return size // LINE * LINE


def record(n: int) -> bytes:
    head = b'{"n":%d,"p":"' % n
    return head + b"x" * (RECORD_SIZE - len(head) - 2) + b'"}'


class Receiver:
    """A receiver that answers 503 until up() and 200 from then on; knows
    which requests it took."""

    def __init__(self, test):
        self.is_up = False
        self.taken = []  # indices of the requests answered 200
        self.server = ScriptedServer(default=self._answer)
        test.addCleanup(self.server.close)

    def _answer(self, index, request):
        if not self.is_up:
            return 503
        self.taken.append(index)
        return 200

    def up(self):
        self.is_up = True

    def records(self) -> list:
        """The records of the requests it took, in the order it took them."""
        requests = self.server.requests()
        out = []
        for i in self.taken:
            out.extend(r["n"] for r in json.loads(requests[i].body))
        return out


class Producer:
    """Writes numbered records into a pipe without ever blocking."""

    def __init__(self, test):
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.write_end, False)
        test.addCleanup(self.close)
        self.written = 0
        self.records = 0
        self.pending = b""
        self.blocked = False  # the last write found the pipe full

    def pump(self, limit: int) -> None:
        """Writes what the pipe takes now, up to `limit` bytes in all."""
        while self.written < limit:
            if not self.pending:
                chunk = []
                for _ in range(256):
                    chunk.append(record(self.records) + b"\n")
                    self.records += 1
                self.pending = b"".join(chunk)
            room = min(len(self.pending), limit - self.written)
            try:
                n = os.write(self.write_end, self.pending[:room])
            except BlockingIOError:
                self.blocked = True
                return
            self.blocked = False
            self.written += n
            self.pending = self.pending[n:]

    def in_pipe(self) -> int:
        buf = bytearray(4)
        fcntl.ioctl(self.read_end, termios.FIONREAD, buf)
        return int.from_bytes(buf, "little")

    def consumed(self) -> int:
        """Bytes batchpipe has read."""
        return self.written - self.in_pipe()

    def wait_writable(self, timeout: float) -> None:
        select.select([], [self.write_end], [], timeout)

    def close_write(self) -> None:
        if self.write_end >= 0:
            os.close(self.write_end)
            self.write_end = -1

    def close(self) -> None:
        self.close_write()
        if self.read_end >= 0:
            os.close(self.read_end)
            self.read_end = -1


def stats_now(live) -> dict:
    """Asks for --stats=json with SIGUSR2 and returns the object printed."""
    before = bytes(live.err).count(b"\n{")
    live.send(signal.SIGUSR2)
    if not live.wait_until(lambda: bytes(live.err).count(b"\n{") > before, bp.SLACK * 3):
        raise AssertionError(f"no stats after SIGUSR2: {bytes(live.err)[-2000:]!r}")
    text = bytes(live.err).decode()
    return json.loads(text[text.rfind("\n{") + 1:].split("\n", 1)[0])


class ReadAheadTest(unittest.TestCase):
    def start(self, extra):
        self.receiver = Receiver(self)
        self.producer = Producer(self)
        args = ["-q", "--stats=json", "--retries", "inf", "--retry-max-delay", "200ms", "--size", "1000",
                "--post", self.receiver.server.url("/"), *extra]
        # stderr starts with a newline in view so that every JSON line follows one.
        self.live = bp.Live(self, args, stdin=self.producer.read_end)
        self.live.err.extend(b"\n")

    def finish_delivery(self, total_records: int):
        self.receiver.up()
        self.producer.close_write()
        timeout = bp.RUN_TIMEOUT * (3 if bp.sanitized() else 1)
        self.assertEqual(self.live.finish(timeout=timeout), 0, bytes(self.live.err)[-2000:])
        self.assertEqual(self.receiver.records(), list(range(total_records)))

    def test_the_default_budget_takes_40_mib_while_the_receiver_is_down(self):
        self.start([])
        total = whole_lines(40 * MiB)
        deadline = time.monotonic() + bp.RUN_TIMEOUT * (3 if bp.sanitized() else 1)
        while self.producer.written < total:
            self.assertLess(time.monotonic(), deadline,
                            f"the producer could write only {self.producer.written} of {total} bytes")
            self.producer.pump(total)
            self.producer.wait_writable(0.05)
        # Every byte written was read, with the receiver still down.
        self.assertTrue(bp.wait_for(lambda: self.producer.in_pipe() == 0, bp.SLACK * 3),
                        f"{self.producer.in_pipe()} bytes left unread in the pipe")
        records = total // LINE
        self.assertTrue(bp.wait_for(lambda: stats_now(self.live)["buffered_records"] == records, bp.SLACK * 3,
                                    step=0.1))
        stats = stats_now(self.live)
        self.assertEqual(stats["records_delivered_total"], 0)
        self.assertGreaterEqual(stats["buffered_bytes"], records * RECORD_SIZE)
        self.assertLessEqual(stats["buffered_bytes"], 64 * MiB)
        self.finish_delivery(records)

    def test_8m_budget_reads_8_mib_then_the_producer_waits(self):
        budget = 8 * MiB
        self.start(["--max-buffer", "8M"])
        limit = whole_lines(12 * MiB)
        deadline = time.monotonic() + bp.RUN_TIMEOUT * (3 if bp.sanitized() else 1)
        last, attempts_then = -1, 0
        while True:
            self.assertLess(time.monotonic(), deadline,
                            f"reading never stopped within {budget} +- {MiB} bytes: {self.producer.consumed()} bytes read")
            self.producer.pump(limit)
            consumed = self.producer.consumed()
            attempts = len(self.receiver.server.requests())
            if consumed != last:
                last, attempts_then = consumed, attempts
            elif self.producer.blocked and attempts >= attempts_then + 3 and consumed >= budget - MiB:
                # The pipe stayed full while the receiver was tried three more
                # times. (Short of the budget, a loaded machine may merely
                # have kept batchpipe from reading: the deadline decides.)
                break
            self.producer.wait_writable(0.05)
        self.assertLess(self.producer.written, limit)
        # The budget, give or take one read block (at most 1 MiB).
        self.assertGreaterEqual(consumed, budget - MiB, f"read {consumed} bytes")
        self.assertLessEqual(consumed, budget + MiB, f"read {consumed} bytes")
        # The level shown is the budget's, within the same read block.
        stats = stats_now(self.live)
        self.assertGreaterEqual(stats["buffered_bytes"], budget - MiB, stats)
        self.assertLessEqual(stats["buffered_bytes"], budget + MiB, stats)
        self.assertEqual(stats["records_delivered_total"], 0)
        # Back up: the rest of the input follows.
        self.receiver.up()
        deadline = time.monotonic() + bp.RUN_TIMEOUT * (3 if bp.sanitized() else 1)
        while self.producer.written < limit:
            self.assertLess(time.monotonic(), deadline, "the producer stayed blocked with the receiver up")
            self.producer.pump(limit)
            self.producer.wait_writable(0.05)
        self.finish_delivery(limit // LINE)


if __name__ == "__main__":
    unittest.main()
