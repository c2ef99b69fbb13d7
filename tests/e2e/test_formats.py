"""--format array|ndjson|bulk, --wrap, --bulk-action, --method and the
{batch_id}/{batch}/{attempt} fields, on every sink: standard output, a
command and an HTTP server (http_server.ScriptedServer on 127.0.0.1, closed
by a cleanup)."""

import json
import os
import tempfile
import unittest

import bp
from http_server import ScriptedServer

RECORDS = [b'{"i":1}', b'  [2, 3]  ', b'"x,y"', b'{"s":"a\\nb"}', b"5"]
TRIMMED = [r.strip() for r in RECORDS]


def ndjson(records):
    return b"".join(r + b"\n" for r in records)


class StdoutTest(unittest.TestCase):
    def test_ndjson_is_the_records_one_per_line(self):
        r = bp.run(["--format", "ndjson", "--size", "2"], ndjson(RECORDS))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, ndjson(TRIMMED))

    def test_wrap_puts_each_array_in_place(self):
        r = bp.run(["--wrap", '{"src":"a@b","events":@}', "--size", "3"], ndjson(RECORDS))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertEqual(lines[0], b'{"src":"a@b","events":[' + b",".join(TRIMMED[:3]) + b"]}")
        self.assertEqual(json.loads(lines[1]), {"src": "a@b", "events": [{"s": "a\nb"}, 5]})

    def test_bulk_puts_an_action_before_each_record(self):
        r = bp.run(["--format", "bulk"], ndjson(RECORDS))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"".join(b'{"index":{}}\n' + t + b"\n" for t in TRIMMED))

    def test_max_bytes_counts_what_the_format_adds(self):
        # {"index":{}}\n + 7-byte record + \n = 21 bytes: one record a batch at 21..41.
        r = bp.run(["--format", "bulk", "--max-bytes", "41"], b'{"a":1}\n' * 4)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = bp.run(["--format", "bulk", "--max-bytes", "20"], b'{"a":1}\n')
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"exceeds --max-bytes 20", r.stderr)
        self.assertIn(b"its action line and newlines", r.stderr)

    def test_bad_options_are_usage_errors(self):
        for args, words in [
            (["--wrap", '{"e":@@}'], b"found 2 @"),
            (["--wrap", '{"e":@'], b"not valid JSON"),
            (["--format", "ndjson", "--wrap", "@"], b"only applies with --format array"),
            (["--bulk-action", '{"index":{}}'], b"only applies with --format bulk"),
            (["--format", "bulk", "--bulk-action", '{"delete":{}}'], b"index or create"),
            (["--format", "csv"], b"expected array, ndjson or bulk"),
            (["--format", "bulk", "--max-bytes", "10"], b"give at least 15"),
            (["--method", "PUT"], b"only applies with --post"),
        ]:
            with self.subTest(args=args):
                r = bp.run(args, b"1\n")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(words, r.stderr)
                self.assertEqual(r.stdout, b"")


class ExecTest(unittest.TestCase):
    def test_the_command_gets_the_body_in_the_format(self):
        r = bp.run(["--format", "ndjson", "--size", "2", "--exec", "cat; echo --"], ndjson(RECORDS))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, ndjson(TRIMMED[:2]) + b"--\n" + ndjson(TRIMMED[2:4]) + b"--\n" +
                         ndjson(TRIMMED[4:]) + b"--\n")


class PostTest(unittest.TestCase):
    def serve(self, *args, **kwargs):
        server = ScriptedServer(*args, **kwargs)
        self.addCleanup(server.close)
        return server

    def test_ndjson_bodies_and_their_content_type(self):
        server = self.serve()
        r = bp.run(["--format", "ndjson", "--size", "2", "--post", server.url("/in")], ndjson(RECORDS))
        self.assertEqual(r.returncode, 0, r.stderr)
        reqs = server.requests()
        self.assertEqual(b"".join(q.body for q in reqs), ndjson(TRIMMED))
        self.assertEqual({q.header("Content-Type") for q in reqs}, {"application/x-ndjson"})
        self.assertEqual({q.method for q in reqs}, {"POST"})

    def test_wrapped_arrays_are_json(self):
        server = self.serve()
        r = bp.run(["--wrap", '{"events":@}', "--post", server.url("/in")], ndjson(RECORDS))
        self.assertEqual(r.returncode, 0, r.stderr)
        (req,) = server.requests()
        self.assertEqual(req.header("Content-Type"), "application/json")
        self.assertEqual(json.loads(req.body)["events"], [json.loads(t) for t in TRIMMED])

    def test_put_and_fields_in_the_url_and_headers(self):
        server = self.serve([503])
        r = bp.run(["--size", "3", "--method", "put", "--retry-delay", "10ms",
                    "--post", server.url("/in?token={batch_id}&n={batch}"),
                    "-H", "X-Attempt: {attempt} of {batch}", "-H", "X-Other: {nothing}"], ndjson(RECORDS))
        self.assertEqual(r.returncode, 0, r.stderr)
        reqs = server.requests()
        self.assertEqual(len(reqs), 3)  # batch 1 twice (a 503 first), batch 2 once
        self.assertEqual({q.method for q in reqs}, {"PUT"})
        first, retry, second = reqs
        self.assertEqual(first.path, "/in?token=%s&n=1" % first.header("Idempotency-Key"))
        self.assertEqual(retry.path, first.path)
        self.assertEqual([q.header("X-Attempt") for q in reqs], ["1 of 1", "2 of 1", "1 of 2"])
        self.assertEqual(second.path, "/in?token=%s&n=2" % second.header("Idempotency-Key"))
        self.assertEqual(first.header("X-Other"), "{nothing}")


if __name__ == "__main__":
    unittest.main()
