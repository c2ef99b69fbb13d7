"""--retryable-reply, --bisect-reply and --permanent-reply: what a failed
reply says decides, before the status rules. Against
http_server.ScriptedServer answering as ClickHouse 18.16 and Loki do (closed
by a cleanup), and --exec commands whose stderr says the same; plus
--bisect-on with --exec, by exit status."""

import json
import os
import tempfile
import unittest

import bp
from http_server import ScriptedServer

PARSE_ERROR = (b"Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected { before: "
               b"poison: (at row 1)\n")
TOO_MANY_PARTS = b"Code: 252, e.displayText() = DB::Exception: Too many parts (300). TOO_MANY_PARTS\n"
OUT_OF_ORDER = b'entry out of order for stream {app="x"}'


def numbered(n):
    return [b'{"i":%d}' % i for i in range(1, n + 1)]


def ndjson(records):
    return b"".join(r + b"\n" for r in records)


def with_poison(n, at):
    records = numbered(n)
    for i in at:
        records[i] = b'{"i":"poison%d"}' % i
    return records


FAST = ["--retry-delay", "10ms", "--retry-max-delay", "20ms"]


class ReplyRulesHttpTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.dead = os.path.join(self.dir.name, "dead.ndjson")

    def serve(self, answer):
        server = ScriptedServer(default=answer)
        self.addCleanup(server.close)
        return server

    def dead_letters(self):
        if not os.path.exists(self.dead):
            return b""
        with open(self.dead, "rb") as f:
            return f.read()

    def test_clickhouse_parse_error_splits_the_batch_and_dead_letters_only_the_bad_records(self):
        bad = [7, 1234, 1235, 2999]
        records = with_poison(3000, bad)
        server = self.serve(lambda i, q: ("status", 500, {}, PARSE_ERROR) if b"poison" in q.body else 200)
        r = bp.run(["--size", "1000", "--format", "ndjson", "--post", server.url("/"), "--bisect-reply",
                    "Code: 27[^0-9]", "--dead-letter", self.dead, "--stats=json", *FAST], ndjson(records))
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(self.dead_letters(), ndjson(records[i] for i in bad))
        stored = b"".join(q.body for q in server.requests() if b"poison" not in q.body)
        self.assertEqual(stored, ndjson(rec for i, rec in enumerate(records) if i not in bad), "in order, once")
        stats = bp.stats(r.stderr)
        self.assertEqual(stats["records_delivered_total"], 2996)
        self.assertEqual(stats["retries_total"], 0, "a parse error is split, never retried")
        self.assertIn(b"(--bisect-reply 'Code: 27[^0-9]')", r.stderr)

    def test_without_the_rule_the_500_is_retried_and_the_batch_lost_whole(self):
        records = with_poison(100, [50])
        server = self.serve(lambda i, q: ("status", 500, {}, PARSE_ERROR) if b"poison" in q.body else 200)
        r = bp.run(["--size", "100", "--post", server.url("/"), "--retries", "2", "--dead-letter", self.dead, *FAST],
                   ndjson(records))
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(len(server.requests()), 3)
        self.assertEqual(self.dead_letters(), ndjson(records))

    def test_too_many_parts_is_retried_though_its_status_is_permanent(self):
        # 400 is permanent by default; the reply says the table is only busy.
        server = ScriptedServer([("status", 400, {}, TOO_MANY_PARTS)] * 2, default=200)
        self.addCleanup(server.close)
        records = numbered(10)
        r = bp.run(["--post", server.url("/"), "--retryable-reply", "TOO_MANY_PARTS", "--permanent-status", "400",
                    *FAST], ndjson(records))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(server.requests()), 3)
        self.assertEqual(json.loads(server.requests()[2].body), [json.loads(x) for x in records])

    def test_loki_out_of_order_is_given_up_at_once_and_the_run_goes_on(self):
        records = numbered(30)
        server = self.serve(lambda i, q: ("status", 500, {}, OUT_OF_ORDER) if b'"i":11}' in q.body else 204)
        r = bp.run(["--size", "10", "--post", server.url("/"), "--permanent-reply", "entry out of order",
                    "--dead-letter", self.dead, *FAST], ndjson(records))
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(len(server.requests()), 3, "no retry of batch 2")
        self.assertEqual(self.dead_letters(), ndjson(records[10:20]))
        self.assertIn(b"(--permanent-reply 'entry out of order')", r.stderr)

    def test_a_reply_rule_beats_the_fail_fast_stop_of_a_404(self):
        server = ScriptedServer([("status", 404, {}, b"table is being created")], default=200)
        self.addCleanup(server.close)
        r = bp.run(["--post", server.url("/"), "--retryable-reply", "being created", *FAST], b"1\n2\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(server.requests()), 2)

    def test_bad_expressions_are_refused_at_start_up(self):
        for flag in ["--retryable-reply", "--bisect-reply", "--permanent-reply"]:
            for value, why in [("(open", b"is not a regular expression"), ("", b"matches every reply")]:
                r = bp.run([flag, value, "--post", "http://127.0.0.1:1/"], b"1\n")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(flag.encode() + b": ", r.stderr)
                self.assertIn(why, r.stderr)
        r = bp.run(["--bisect-reply", "x"], b"1\n")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"--bisect-reply: only applies with --exec or --post", r.stderr)


class ReplyRulesExecTest(unittest.TestCase):
    """The command's stderr is the reply; --bisect-on takes its exit statuses."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.dead = os.path.join(self.dir.name, "dead.ndjson")
        self.store = os.path.join(self.dir.name, "store")

    def command(self, fail):
        # Stores the batch unless it holds a bad record; then fails as `fail` says.
        return f"b=$(cat); case \"$b\" in *poison*) {fail};; *) printf '%s\\n' \"$b\" >> {self.store};; esac"

    def stored(self):
        with open(self.store, "rb") as f:
            return f.read()

    def test_bisect_on_an_exit_status_isolates_the_bad_records(self):
        bad = [0, 333, 999]
        records = with_poison(1000, bad)
        r = bp.run(["--size", "100", "--format", "ndjson", "--exec", self.command("exit 3"), "--bisect-on", "3",
                    "--dead-letter", self.dead, "--stats=json", *FAST], ndjson(records))
        self.assertEqual(r.returncode, 4, r.stderr)
        with open(self.dead, "rb") as f:
            self.assertEqual(f.read(), ndjson(records[i] for i in bad))
        # printf adds a newline after each part's last one: drop the empty lines.
        got = [line for line in self.stored().split(b"\n") if line]
        self.assertEqual(got, [rec for i, rec in enumerate(records) if i not in bad])
        stats = bp.stats(r.stderr)
        self.assertEqual(stats["records_delivered_total"], 997)
        self.assertEqual(stats["retries_total"], 0)

    def test_stderr_decides_with_reply_rules_and_is_passed_on(self):
        records = with_poison(40, [25])
        fail = "echo 'ERROR: invalid input syntax for type integer' >&2; exit 1"
        r = bp.run(["--size", "10", "--format", "ndjson", "--exec", self.command(fail), "--bisect-reply",
                    "invalid input syntax", "--dead-letter", self.dead, *FAST], ndjson(records))
        self.assertEqual(r.returncode, 4, r.stderr)
        with open(self.dead, "rb") as f:
            self.assertEqual(f.read(), records[25] + b"\n")
        self.assertIn(b"\nERROR: invalid input syntax for type integer\n", b"\n" + r.stderr)
        self.assertIn(b'status 1: "ERROR: invalid input syntax for type integer." (--bisect-reply', r.stderr)

    def test_a_permanent_reply_on_stderr_is_not_retried(self):
        r = bp.run(["--exec", "echo 'duplicate key value' >&2; exit 1", "--permanent-reply", "duplicate key",
                    "--retries", "5", "--dead-letter", self.dead, "--stats=json", *FAST], b"1\n")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(bp.stats(r.stderr)["retries_total"], 0)

    def test_bisect_on_with_exec_takes_exit_statuses(self):
        for value in ["0", "256", "abc", ""]:
            r = bp.run(["--bisect-on", value, "--exec", "cat"], b"1\n")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(b"--bisect-on", r.stderr)
        r = bp.run(["--bisect-on", "3", "--exec", "cat"], b"1\n")
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
