"""--retryable-reply, --bisect-reply and --permanent-reply: what a failed
reply says decides, before the status rules. Against
http_server.ScriptedServer answering as ClickHouse 18.16 and Loki do (closed
by a cleanup), and --exec commands whose stderr says the same; plus
--bisect-on with --exec, by exit status."""

import json
import os
import subprocess
import unittest

import bp

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


class ReplyRulesHttpTest(bp.DeadLetterCase):
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
        server = self.serve(200, script=[("status", 400, {}, TOO_MANY_PARTS)] * 2)
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
        server = self.serve(200, script=[("status", 404, {}, b"table is being created")])
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


class DeadLetterReasonsTest(bp.DeadLetterCase):
    """--dead-letter-reasons: a JSON line per record given up, read with jq."""

    def setUp(self):
        super().setUp()
        self.why = self.path("why.jsonl")
        self.input = self.path("in.ndjson")

    def jq(self, program):
        r = subprocess.run(["jq", "-c", program, self.why], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def test_each_record_given_up_has_its_reason_and_the_dead_letters_stay_replayable(self):
        bad = [5, 1500]
        records = with_poison(2000, bad)
        with open(self.input, "wb") as f:
            f.write(ndjson(records))
        token = "s3cr3t-token-value"
        # The server echoes the Authorization header in its error, as some do.
        server = self.serve(lambda i, q: ("status", 400, {}, b"bad row; you sent " + q.header("Authorization").encode())
                            if b"poison" in q.body else 200)
        r = bp.run(["--size", "1000", "--format", "ndjson", "--post", server.url("/"), "-H",
                    f"Authorization: Bearer {token}", "--bisect-on", "400", "--dead-letter", self.dead,
                    "--dead-letter-reasons", self.why, self.input])
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(self.dead_letters(), ndjson(records[i] for i in bad), "byte for byte, nothing else")
        with open(self.why, "rb") as f:
            self.assertNotIn(token.encode(), f.read())
        self.assertEqual(os.stat(self.why).st_mode & 0o777, 0o600)
        reasons = self.jq(".")
        self.assertEqual([(x["batch"], x["record"], x["records"], x["status"], x["input"], x["line"], x["lines"])
                          for x in reasons],
                         [(1, 6, 1000, 400, self.input, 6, [1, 1000]),
                          (2, 501, 1000, 400, self.input, 1501, [1001, 2000])])
        for x in reasons:
            self.assertRegex(x["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn("HTTP 400 from", x["reason"])
            self.assertIn("bad row; you sent [redacted]", x["reason"])
        # Replaying the dead letters gives back exactly the bad records.
        again = bp.run([self.dead])
        self.assertEqual(again.stdout, b"[" + b",".join(records[i] for i in bad) + b"]\n")

    def test_a_record_isolated_by_bisection_gives_its_own_line(self):
        # Blank lines and a second input: a record's line is not its batch's first line + its place.
        first, second = self.input, self.path("more.ndjson")
        with open(first, "wb") as f:
            f.write(b'{"i":1}\n\n\n{"i":"poison2"}\n{"i":3}\n\n{"i":4}\n')
        with open(second, "wb") as f:
            f.write(b'\n{"i":"poison5"}\n{"i":6}\n')
        server = self.serve(lambda i, q: ("status", 400, {}, b"bad row") if b"poison" in q.body else 200)
        r = bp.run(["--size", "10", "--post", server.url("/"), "--bisect-on", "400", "--dead-letter", self.dead,
                    "--dead-letter-reasons", self.why, first, second])
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(self.jq("[.record, .input, .line, .lines]"),
                         [[2, first, 4, [1, 3]], [5, second, 2, [1, 3]]])

    def test_a_whole_batch_given_up_has_a_line_per_record_with_the_exit_status(self):
        r = bp.run(["--exec", "exit 9", "--retries", "0", "--dead-letter", self.dead, "--dead-letter-reasons",
                    self.why], b"1\n2\n3\n")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(self.jq("[.record, .status, .input, .reason]"),
                         [[n, 9, "-", "command exited with status 9; retries are off"] for n in (1, 2, 3)])

    def test_it_is_an_output_file_like_the_others(self):
        with open(self.input, "wb") as f:
            f.write(b"1\n")
        cases = [
            (["--dead-letter-reasons", self.why], b"only applies with --dead-letter"),
            (["--dead-letter", self.dead, "--dead-letter-reasons", self.dead], b"are the same file"),
            (["--dead-letter", self.dead, "--dead-letter-reasons", self.input], b"is also the input"),
            (["--dead-letter", self.dead, "--dead-letter-reasons", ""], b"the path is empty"),
        ]
        for args, message in cases:
            r = bp.run(["--exec", "cat", *args, self.input])
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(message, r.stderr)
        r = bp.run(["--dead-letter-reasons", self.why], b"1\n")
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_a_planted_link_is_not_followed(self):
        shared = self.path("shared")
        os.mkdir(shared)
        os.chmod(shared, 0o1777)
        target = self.path("precious")
        with open(target, "wb") as f:
            f.write(b"keep\n")
        link = os.path.join(shared, "why.jsonl")
        os.symlink(target, link)
        if os.geteuid() == 0:  # planted by another user
            os.lchown(link, 65534, 65534)
        r = bp.run(["--exec", "exit 9", "--retries", "0", "--dead-letter", self.dead, "--dead-letter-reasons", link],
                   b"1\n")
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"--dead-letter-reasons", r.stderr)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"keep\n")


class ReplyRulesExecTest(bp.DeadLetterCase):
    """The command's stderr is the reply; --bisect-on takes its exit statuses."""

    def setUp(self):
        super().setUp()
        self.store = self.path("store")

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
        self.assertEqual(self.dead_letters(), ndjson(records[i] for i in bad))
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
        self.assertEqual(self.dead_letters(), records[25] + b"\n")
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
