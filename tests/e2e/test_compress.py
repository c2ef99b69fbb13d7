"""--compress gzip[:LEVEL] and zstd[:LEVEL]: every request body, decoded by
the receiver (content_coding: Python's gzip, the system's libzstd), holds
exactly the records sent, byte for byte: with --parallel 4, a retry (the same
compressed bytes again), a 413 split by decompressed or by compressed size,
and the partial resends of a _bulk answer. Against http_server.ScriptedServer
and bulk_server.BulkServer on 127.0.0.1, closed by cleanups."""

import json
import random
import unittest

import bp
import content_coding
from bulk_server import BulkServer
from http_server import ScriptedServer

FAST = ["--retry-delay", "10ms", "--retry-max-delay", "10ms"]
CODECS = ("gzip", "zstd")


def records(n, seed=1):
    """Records whose bytes must survive: escapes, raw UTF-8, spaces, and a
    random part so that bodies do not compress to almost nothing."""
    rng = random.Random(seed)
    texts = ["plain", "café ☃ 𝄞 日本語", 'q " b \\ s /', "tab\t nl\n", ""]
    out = []
    for i in range(n):
        noise = "%016x" % rng.getrandbits(64)
        text = json.dumps(texts[i % len(texts)], ensure_ascii=i % 2 == 0)
        out.append(('{"i":%d, "s":%s, "r":"%s"}' % (i, text, noise * rng.randint(0, 3))).encode())
    return out


def ndjson(recs):
    return b"".join(r + b"\n" for r in recs)


def part_key(request):
    """(batch, part...) from an Idempotency-Key such as 'a1b2-7' or 'a1b2-7.2.1'."""
    tail = request.header("Idempotency-Key").rsplit("-", 1)[1]
    return tuple(int(p) for p in tail.split("."))


class CompressTest(unittest.TestCase):
    def serve(self, script=(), default=200):
        server = ScriptedServer(script, default=default)
        self.addCleanup(server.close)
        return server

    def test_every_record_arrives_byte_for_byte_with_parallel_4_and_a_retry(self):
        recs = records(20_000)
        for codec in CODECS:
            with self.subTest(codec=codec):
                server = self.serve([503])  # the first request is retried: the same compressed bytes again
                r = bp.run(["--format", "ndjson", "--size", "500", "--interval", "0", "--parallel", "4",
                            "--compress", codec, "--post", server.url("/in"), "--stats=json", *FAST], ndjson(recs),
                           timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr[-2000:])
                requests = server.requests()
                self.assertEqual(len(requests), 41)
                for q in requests:
                    self.assertEqual(q.header("Content-Encoding"), codec, q.headers)
                    self.assertEqual(q.header("Content-Type"), "application/x-ndjson", q.headers)
                first = requests[0]
                again = [q for q in requests[1:] if q.header("Idempotency-Key") == first.header("Idempotency-Key")]
                self.assertEqual([q.body for q in again], [first.body], "a retry sends the same compressed bytes")
                delivered = sorted(requests[1:], key=part_key)
                self.assertEqual(b"".join(content_coding.request_body(q) for q in delivered), ndjson(recs))
                # Compressed on the way: the bodies sent are far smaller than the records.
                self.assertLess(sum(len(q.body) for q in delivered) * 2, len(ndjson(recs)))
                self.assertEqual(bp.stats(r.stderr)["records_delivered_total"], 20_000)

    def test_413_splits_by_decompressed_size(self):
        recs = records(3_000, seed=2)
        limit = 30_000
        for codec in CODECS:
            with self.subTest(codec=codec):
                server = self.serve(default=lambda i, q: 413 if len(content_coding.request_body(q)) > limit else 200)
                r = bp.run(["--format", "ndjson", "--size", "1000", "--interval", "0", "--compress", codec,
                            "--post", server.url("/in"), "--stats=json"], ndjson(recs), timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr[-2000:])
                bodies = [content_coding.request_body(q) for q in server.requests()]
                accepted = [b for b in bodies if len(b) <= limit]
                self.assertLess(len(accepted), len(bodies), "some requests were split")
                self.assertEqual(b"".join(accepted), ndjson(recs), "every record once, in order")
                self.assertGreater(bp.stats(r.stderr)["requests_too_large_total"], 0)

    def test_413_splits_by_compressed_size(self):
        recs = records(3_000, seed=3)
        limit = 5_000  # compressed bytes (a batch is ~12 KB): each part is compressed anew, so parts shrink until they fit
        for codec in CODECS:
            with self.subTest(codec=codec):
                server = self.serve(default=lambda i, q: 413 if len(q.body) > limit else 200)
                r = bp.run(["--format", "ndjson", "--size", "1000", "--interval", "0", "--compress", codec,
                            "--post", server.url("/in"), "--stats=json"], ndjson(recs), timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr[-2000:])
                requests = server.requests()
                accepted = [q for q in requests if len(q.body) <= limit]
                self.assertLess(len(accepted), len(requests), "some requests were split")
                self.assertEqual(b"".join(content_coding.request_body(q) for q in accepted), ndjson(recs))
                keys = [q.header("Idempotency-Key") for q in requests]
                self.assertEqual(len(set(keys)), len(keys), "each part its own id, so its own compressed body")

    def test_bulk_partial_resends_are_compressed_anew(self):
        fates = {7: "400", 50: "429", 51: "503", 150: "429", 250: "503"}
        docs = [b'{"i":%d,"want":"%s"}' % (i, fates.get(i, "").encode()) for i in range(1, 301)]
        for codec in CODECS:
            with self.subTest(codec=codec):
                server = BulkServer()
                self.addCleanup(server.close)
                r = bp.run(["--format", "bulk", "--size", "100", "--compress", codec, "--post", server.url(),
                            "--retries", "3", *FAST], ndjson(docs))
                self.assertEqual(r.returncode, 4, r.stderr[-2000:])  # doc 7 refused for good
                reqs = server.requests()
                self.assertTrue(all(q.header("Content-Encoding") == codec for q in reqs))
                self.assertEqual(len(reqs), 6, "3 batches, and one smaller resend for each with 429/503 items")
                good = [d for d in docs if b'"want":"400"' not in d]
                self.assertEqual(sorted(server.stored), sorted(good), "every other document stored exactly once")

    def test_every_level_round_trips(self):
        recs = records(2_000, seed=4)
        for value in ("gzip:1", "gzip:12", "zstd:1", "zstd:19", "zstd:22"):
            with self.subTest(value=value):
                server = self.serve()
                r = bp.run(["--format", "ndjson", "--size", "1000", "--compress", value, "--post", server.url("/"),
                            "--stats=json"], ndjson(recs), timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr[-2000:])
                self.assertEqual(b"".join(content_coding.request_body(q) for q in server.requests()), ndjson(recs))

    def test_array_bodies_decode_to_json(self):
        recs = [b'{"n":%d}' % i for i in range(10)]
        for codec in CODECS:
            with self.subTest(codec=codec):
                server = self.serve()
                r = bp.run(["--compress", codec, "--post", server.url("/")], ndjson(recs))
                self.assertEqual(r.returncode, 0, r.stderr[-2000:])
                (q,) = server.requests()
                self.assertEqual(json.loads(content_coding.request_body(q)), [{"n": i} for i in range(10)])


if __name__ == "__main__":
    unittest.main()
