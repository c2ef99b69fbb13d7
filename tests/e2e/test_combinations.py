"""The features that share a request's identity, combined, checked at the receiver.

A request carries some records of one batch: the whole batch, a half after a
413 (or a --bisect-on status), or the records a _bulk reply asked to send
again. Each has its own Idempotency-Key ("<run>-<batch>[.<part>]"); anything
cached per request (a compressed body) must follow that key, not the batch
number. Here every combination of --compress × {413 split, --bisect-on,
_bulk partial resend} × --parallel × --checkpoint runs against one scripted
receiver (http_server.ScriptedServer on 127.0.0.1, closed by a cleanup) that
decodes every body and checks that it holds exactly the records its key
claims: records of that batch only, the same bytes on every attempt of the
key, a part a strict subset of what its batch held. Then every record must
have been accepted exactly once, or dead-lettered byte for byte when it is the
poisoned one. --map joins --compress and --parallel (it does not split).
"""

import gzip
import itertools
import json
import os
import tempfile
import threading
import unittest

import bp
from http_server import ScriptedServer

SIZE = 40          # records per batch
RECORDS = 400      # ten batches
LIMIT = 1500       # decoded bytes above which the receiver answers 413
POISON = 137       # the record --bisect-on isolates
RESEND = {3, 50, 51, 52, 199, 200, 333, 400}  # _bulk: refused with 429 the first time


def record(i: int) -> bytes:
    pad = "é" * (i % 7) + "x" * (i % 23)
    return json.dumps({"i": i, "pad": pad}, ensure_ascii=False).encode()


class Receiver:
    """Decodes, checks and answers; `kind` is "split", "bisect", "bulk" or "map"."""

    def __init__(self, kind: str):
        self.kind = kind
        self.lock = threading.Lock()
        self.accepted = []   # record numbers, as accepted
        self.bodies = {}     # Idempotency-Key -> decoded body
        self.batch_records = {}  # batch number -> record numbers of its whole-batch request
        self.problems = []
        self.refused_once = set()
        self.server = ScriptedServer(default=self.answer)

    def close(self):
        self.server.close()

    def decode(self, q) -> bytes:
        encoding = q.header("Content-Encoding")
        if encoding == "gzip":
            return gzip.decompress(q.body)
        if encoding is not None:
            self.problems.append(f"unexpected Content-Encoding {encoding}")
        return q.body

    def records(self, body: bytes) -> list:
        if self.kind == "bulk":
            lines = body.split(b"\n")[:-1]
            if len(lines) % 2:
                self.problems.append(f"odd number of _bulk lines: {body[:200]!r}")
            return [json.loads(doc) for doc in lines[1::2]]
        return json.loads(body)

    def answer(self, index, q):
        body = self.decode(q)
        key = q.header("Idempotency-Key") or ""
        batch = int(key.split("-")[-1].split(".")[0])
        part = "." in key.split("-")[-1]
        recs = self.records(body)
        numbers = [r["i"] for r in recs]
        with self.lock:
            if key in self.bodies and self.bodies[key] != body:
                self.problems.append(f"{key}: another body on a later attempt")
            self.bodies[key] = body
            for n in numbers:
                if (n - 1) // SIZE + 1 != batch:
                    self.problems.append(f"{key}: record {n} is not of batch {batch}")
            if not part:
                self.batch_records.setdefault(batch, numbers)
            elif batch in self.batch_records:
                whole = self.batch_records[batch]
                if not set(numbers) < set(whole):
                    self.problems.append(f"{key}: records {numbers} are not a part of batch {batch}")
            if numbers != sorted(numbers):
                self.problems.append(f"{key}: records out of order: {numbers}")
            if self.kind == "split" and len(body) > LIMIT and len(numbers) > 1:
                return 413
            if self.kind == "bisect" and POISON in numbers:
                return ("status", 400, {}, b'{"error":"field i: poisoned"}')
            if self.kind == "bulk":
                items = []
                for n in numbers:
                    if n in RESEND and n not in self.refused_once:
                        self.refused_once.add(n)
                        items.append({"index": {"status": 429, "error": {"type": "es_rejected_execution_exception"}}})
                    else:
                        self.accepted.append(n)
                        items.append({"index": {"status": 201}})
                reply = json.dumps({"took": 1, "errors": True, "items": items}).encode()
                return ("status", 200, {"Content-Type": "application/json"}, reply)
            self.accepted.extend(numbers)
            if self.kind == "map":
                reply = json.dumps([{"n": n * 2} for n in numbers], separators=(",", ":")).encode()
                return ("status", 200, {"Content-Type": "application/json"}, reply)
        return 200


class CombinationTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.input = os.path.join(self.dir.name, "in.ndjson")
        with open(self.input, "wb") as f:
            f.write(b"".join(record(i) + b"\n" for i in range(1, RECORDS + 1)))

    def run_case(self, kind, compress, parallel, checkpoint):
        receiver = Receiver(kind)
        self.addCleanup(receiver.close)
        dead = os.path.join(self.dir.name, f"dead-{kind}-{compress}-{parallel}-{checkpoint}.ndjson")
        args = ["--size", str(SIZE), "--interval", "0", "--post", receiver.server.url("/in"),
                "--parallel", str(parallel), "--retry-delay", "10ms", "--dead-letter", dead, "-q"]
        if compress:
            args += ["--compress", "gzip"]
        if kind == "bisect":
            args += ["--bisect-on", "400"]
        if kind == "bulk":
            args += ["--format", "bulk"]
        if kind == "map":
            args += ["--map"]
        if checkpoint:
            args += ["--checkpoint", os.path.join(self.dir.name, f"ck-{kind}-{compress}-{parallel}.json")]
        r = bp.run(args + [self.input])
        case = f"{kind}, compress={compress}, -j {parallel}, checkpoint={checkpoint}"
        self.assertEqual(receiver.problems, [], case)
        poisoned = kind == "bisect"
        self.assertEqual(r.returncode, 4 if poisoned else 0, f"{case}: {r.stderr[-2000:]!r}")
        want = [i for i in range(1, RECORDS + 1) if not (poisoned and i == POISON)]
        self.assertEqual(sorted(receiver.accepted), want, f"{case}: every record accepted exactly once")
        dead_letters = open(dead, "rb").read() if os.path.exists(dead) else b""
        self.assertEqual(dead_letters, record(POISON) + b"\n" if poisoned else b"", case)
        if kind == "map":
            self.assertEqual(r.stdout, b"".join(b'{"n":%d}\n' % (2 * i) for i in range(1, RECORDS + 1)), case)

    def test_matrix(self):
        for kind, compress, parallel, checkpoint in itertools.product(
                ["split", "bisect", "bulk"], [False, True], [1, 4], [False, True]):
            with self.subTest(kind=kind, compress=compress, parallel=parallel, checkpoint=checkpoint):
                self.run_case(kind, compress, parallel, checkpoint)

    def test_map(self):
        for compress, parallel in itertools.product([False, True], [1, 4]):
            with self.subTest(compress=compress, parallel=parallel):
                self.run_case("map", compress, parallel, False)


if __name__ == "__main__":
    unittest.main()
