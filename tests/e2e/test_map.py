"""--map and --map-with-input: the answer to each batch (a command's stdout or
an HTTP response) is a JSON array with one element per record, printed one
line per record, in input order, byte for byte. Answers that are short, long,
not an array or not JSON; --parallel; a scripted "lookup" server on 127.0.0.1
(http_server.ScriptedServer, closed by a cleanup)."""

import json
import os
import tempfile
import unittest

import bp
from http_server import ScriptedServer

FAST = ["--retry-delay", "10ms", "--retry-max-delay", "10ms"]


def numbers(n):
    return b"".join(b'{"n":%d}\n' % i for i in range(1, n + 1))


def lookup(index, request):
    """Answers a JSON array of records with one element each, spaced oddly, as a server might."""
    records = json.loads(request.body)
    answers = [b'{ "id" : %d, "name" : "n\\u00e9%d" }' % (r["n"], r["n"]) for r in records]
    return ("status", 200, {"Content-Type": "application/json"}, b"[\n  " + b" ,\n  ".join(answers) + b"\n]\n")


class MapTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.dead = os.path.join(self.dir.name, "dead.ndjson")

    def test_through_a_command(self):
        r = bp.run(["--size", "7", "--exec", 'jq -c "map(.n*2)"', "--map"], numbers(20))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"".join(b"%d\n" % (2 * i) for i in range(1, 21)))

    def test_with_input_and_in_order_with_parallel_batches(self):
        # Later batches finish first (the command sleeps less for them): the output keeps input order.
        cmd = 'sleep "0.$((9 - BATCHPIPE_BATCH % 10))"; jq -c "map(.n + 1000)"'
        r = bp.run(["--size", "3", "-j", "4", "--exec", cmd, "--map-with-input"], numbers(25))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines, [b'{"in":{"n":%d},"out":%d}' % (i, i + 1000) for i in range(1, 26)])

    def test_through_a_lookup_server(self):
        server = ScriptedServer(default=lookup)
        self.addCleanup(server.close)
        r = bp.run(["--size", "50", "-j", "4", "--post", server.url("/lookup"), "--map"], numbers(1000))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(server.requests()), 20)
        self.assertEqual(r.stdout.splitlines(),
                         [b'{ "id" : %d, "name" : "n\\u00e9%d" }' % (i, i) for i in range(1, 1001)])

    def test_a_short_answer_fails_the_records_without_one(self):
        r = bp.run(["--size", "4", "--exec", 'jq -c "map(.n) | .[:2]"', "--map", "--dead-letter", self.dead],
                   numbers(6))
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(r.stdout, b"1\n2\n5\n6\n")
        with open(self.dead, "rb") as f:
            self.assertEqual(f.read(), b'{"n":3}\n{"n":4}\n')
        self.assertIn(b"batch 1 (4 records), records 3-4: no answer: 2 answers for 4 records", r.stderr)

    def test_a_pretty_printed_answer_still_gives_one_line_per_record(self):
        r = bp.run(["--size", "3", "--exec", 'jq "map({x: .n, y: [.n, .n]})"', "--map"], numbers(4))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual([json.loads(l) for l in lines], [{"x": i, "y": [i, i]} for i in range(1, 5)])

    def test_an_answer_larger_than_max_buffer_fails_its_batch(self):
        big = "python3 -c 'import json; print(json.dumps([\"x\" * 600000] * 2))'"
        r = bp.run(["--size", "2", "--max-buffer", "1M", "--exec", big, "--map", "--dead-letter", self.dead],
                   numbers(2))
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"larger than --max-buffer", r.stderr)
        with open(self.dead, "rb") as f:
            self.assertEqual(f.read(), numbers(2))

    def test_a_long_answer_is_cut_with_a_warning(self):
        r = bp.run(["--size", "2", "--exec", 'jq -c "map(.n) + [0, 0]"', "--map"], numbers(3))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"1\n2\n3\n")
        self.assertIn(b"batch 1 (2 records): 4 answers for 2 records: the last 2 ignored", r.stderr)

    def test_an_answer_that_is_not_an_array_fails_every_record(self):
        r = bp.run(["--size", "2", "--exec", "echo '{\"ok\":true}'", "--map", "--dead-letter", self.dead], numbers(2))
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"records 1-2: no answer: the answer is not an array but an object", r.stderr)
        with open(self.dead, "rb") as f:
            self.assertEqual(f.read(), numbers(2))

    def test_a_broken_answer_is_retried(self):
        server = ScriptedServer([("status", 200, {}, b"[1,"), ("status", 200, {}, b"")], default=lookup)
        self.addCleanup(server.close)
        r = bp.run(["--post", server.url("/lookup"), "--map", *FAST], numbers(2))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(server.requests()), 3)
        self.assertEqual(len(r.stdout.splitlines()), 2)
        self.assertIn(b"the answer cannot be used: not JSON", r.stderr)
        self.assertIn(b"the answer cannot be used: empty", r.stderr)

    def test_usage(self):
        for args, words in [(["--map"], b"only applies with --exec or --post"),
                            (["--map", "--format", "bulk", "--exec", "cat"], b"use --format array or ndjson")]:
            r = bp.run(args, b"1\n")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(words, r.stderr)


if __name__ == "__main__":
    unittest.main()
