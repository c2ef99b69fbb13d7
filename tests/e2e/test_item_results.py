"""--item-results / --item-failures: per-item results in a 2xx reply of any
JSON API. Scripted Firehose PutRecordBatch-style and BigQuery insertAll-style
endpoints fail chosen records, some for good and some for a while; every
good record must be stored exactly once, the dead-letter file must hold
exactly the records failed for good, byte for byte, with their reasons, and
a --checkpoint must move past all of them. Together with what shares the
per-item machinery: --compress, --parallel, --dead-letter(-reasons) and
--checkpoint. The endpoints are http_server.ScriptedServer with a callable
action; the command lines are README's recipes as written
(receivers.readme_recipe), the endpoint put in for "$ENDPOINT" and those
options added before the input file.
"""

import gzip
import json
import os
import random
import threading
import unittest

import bp
import receivers
from http_server import ScriptedServer

FAST = ["--retry-delay", "1ms", "--retry-max-delay", "5ms"]


class ItemResultsCase(receivers.RecipeCase):
    def setUp(self):
        super().setUp()
        self.env = {k: v for k, v in self.env.items() if not k.lower().endswith("_proxy")}
        self.lock = threading.Lock()
        self.stored = []  # every record stored, as the server decoded it (duplicates would show)
        self.failures = {}  # n -> times it was failed for a while

    def write_input(self, name, lines):
        with open(self.path(name), "wb") as f:
            f.write(b"".join(l + b"\n" for l in lines))

    def recipe(self, name, server, input_name, extra):
        """README's recipe `name`, sent to `server`, with `extra` options."""
        script = receivers.replace_once(receivers.readme_recipe(name), '"$ENDPOINT"', server.url("/"))
        return receivers.replace_once(script, " " + input_name, " " + " ".join(extra) + " " + input_name)

    def server(self, answer):
        server = ScriptedServer(default=answer)
        self.addCleanup(server.close)
        return server

    def run_script(self, script):
        result = self.run_recipe(script)
        result.err = result.stderr.decode("utf-8", "replace")
        return result

    def fail_for_a_while(self, n, times=2):
        """True the first `times` times record n is seen."""
        seen = self.failures.get(n, 0)
        self.failures[n] = seen + 1
        return seen < times

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()


class FirehoseStyleTest(ItemResultsCase):
    """One result per record, in order; FailedPutCount; a few unusable replies."""

    @staticmethod
    def bad(n):
        return n % 97 == 13

    def answer(self, index, request):
        body = request.body
        if request.header("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        records = json.loads(body)
        with self.lock:
            if index == 1:  # 200 without the array: the whole request again
                return ("status", 200, {}, b'{"message":"accepted, probably"}')
            if index == 3:  # one result short: the whole request again
                return ("status", 200, {}, json.dumps({"FailedPutCount": 0,
                                                       "RequestResponses": [{"RecordId": "x"}] * (len(records) - 1)}).encode())
            results = []
            for r in records:
                n = r["n"]
                if self.bad(n):
                    results.append({"ErrorCode": "InvalidArgumentException", "ErrorMessage": f"record {n} is bad"})
                elif n % 7 == 3 and self.fail_for_a_while(n):
                    results.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
                else:
                    self.stored.append(n)
                    results.append({"RecordId": f"id-{n}", "ErrorCode": None})
        failed = sum(1 for x in results if x.get("ErrorCode"))
        return ("status", 200, {}, json.dumps({"FailedPutCount": failed, "Encrypted": False,
                                               "RequestResponses": results}).encode())

    def test_only_the_failed_records_are_sent_again_or_dead_lettered(self):
        total = 2000
        lines = [b'{"n":%d,"pad":"%s"}' % (n, b"x" * (n % 11)) for n in range(total)]
        self.write_input("events.ndjson", lines)
        server = self.server(self.answer)
        script = self.recipe("firehose", server, "events.ndjson",
                             ["--compress gzip --parallel 3 --checkpoint ckpt", *FAST])
        result = self.run_script(script)
        self.assertEqual(result.returncode, 4, result.err[-3000:])  # records given up: exit 4
        bad = [n for n in range(total) if self.bad(n)]
        good = [n for n in range(total) if not self.bad(n)]
        self.assertEqual(sorted(self.stored), good)  # each good record stored once
        self.assertEqual(self.read("failed.ndjson"), b"".join(lines[n] + b"\n" for n in bad))
        reasons = [json.loads(l) for l in self.read("failed.why").splitlines()]
        self.assertEqual(len(reasons), len(bad))
        for n, reason in zip(bad, reasons):
            self.assertIn(f'"ErrorCode":"InvalidArgumentException","ErrorMessage":"record {n} is bad"', reason["reason"])
        self.assertEqual([(r["input"], r["line"]) for r in reasons], [("events.ndjson", n + 1) for n in bad])
        self.assertIn("the reply's item results cannot be used: no array at /RequestResponses", result.err)
        self.assertRegex(result.err, r"the reply's item results cannot be used: (\d+) results for (?!\1)\d+ records sent")
        self.assertEqual(server.errors(), [])
        # The checkpoint moved past every record, stored or dead-lettered: nothing is sent again.
        before = len(server.requests())
        again = self.run_script(script)
        self.assertEqual(again.returncode, 0, again.err)
        self.assertEqual(len(server.requests()), before)


class FirehoseSpoolTest(ItemResultsCase):
    """Per-item results with --spool: the records come back from the spool,
    and only the failed ones of a batch read from it are sent again."""

    def setUp(self):
        super().setUp()
        rng = random.Random(20)  # the same "random" items every run
        self.total = 1500
        self.bad = set(rng.sample(range(self.total), 40))  # failed for good
        self.flaky = {n: rng.randint(1, 3) for n in rng.sample(range(self.total), 200) if n not in self.bad}

    def answer(self, _index, request):
        records = json.loads(request.body)
        results = []
        with self.lock:
            for r in records:
                n = r["n"]
                if n in self.bad:
                    results.append({"ErrorCode": "InvalidArgumentException", "ErrorMessage": f"record {n} is bad"})
                elif n in self.flaky and self.fail_for_a_while(n, self.flaky[n]):
                    results.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
                else:
                    self.stored.append(n)
                    results.append({"RecordId": f"id-{n}", "ErrorCode": None})
        failed = sum(1 for x in results if x.get("ErrorCode"))
        return ("status", 200, {}, json.dumps({"FailedPutCount": failed, "RequestResponses": results}).encode())

    def test_nothing_lost_nothing_twice_dead_letters_exactly_the_permanent_items(self):
        lines = [b'{"n":%d}' % n for n in range(self.total)]
        self.write_input("events.ndjson", lines)
        server = self.server(self.answer)
        script = self.recipe("firehose", server, "events.ndjson",
                             ["--size 100 --parallel 3 --spool spool", *FAST])
        script = receivers.replace_once(script, " events.ndjson", " < events.ndjson")  # a spool takes stdin
        result = self.run_script(script)
        self.assertEqual(result.returncode, 4, result.err[-3000:])
        bad = sorted(self.bad)
        self.assertEqual(sorted(self.stored), [n for n in range(self.total) if n not in self.bad])
        self.assertEqual(self.read("failed.ndjson"), b"".join(lines[n] + b"\n" for n in bad))
        reasons = [json.loads(l) for l in self.read("failed.why").splitlines()]
        self.assertEqual([r["reason"].count(f"record {n} is bad") for n, r in zip(bad, reasons)], [1] * len(bad))
        self.assertEqual(len(reasons), len(bad))
        self.assertEqual([(r["input"], r["line"]) for r in reasons], [("-", n + 1) for n in bad])
        self.assertEqual(server.errors(), [])


class BigQueryStyleTest(ItemResultsCase):
    """Only the failed rows, by index; an invalid row stops the others of its request."""

    @staticmethod
    def invalid(n):
        return n % 89 == 5

    def answer(self, index, request):
        rows = json.loads(request.body)["rows"]
        with self.lock:
            errors = []
            if any(self.invalid(r["json"]["n"]) for r in rows):  # nothing is inserted
                for i, r in enumerate(rows):
                    reason = "invalid" if self.invalid(r["json"]["n"]) else "stopped"
                    errors.append({"index": i, "errors": [{"reason": reason, "location": "n", "message": ""}]})
            else:
                for i, r in enumerate(rows):
                    n = r["json"]["n"]
                    if n % 13 == 2 and self.fail_for_a_while(n, 1):
                        errors.append({"index": i, "errors": [{"reason": "backendError", "message": "try again"}]})
                    else:
                        self.stored.append(n)
        reply = {"kind": "bigquery#tableDataInsertAllResponse"}
        if errors:
            reply["insertErrors"] = list(reversed(errors))  # in no particular order
        return ("status", 200, {}, json.dumps(reply).encode())

    def test_stopped_rows_are_sent_again_and_invalid_ones_dead_lettered(self):
        total = 1000
        lines = [b'{"json":{"n":%d}}' % n for n in range(total)]
        self.write_input("rows.ndjson", lines)
        server = self.server(self.answer)
        script = self.recipe("bigquery", server, "rows.ndjson", ["--size 40 --parallel 2", *FAST])
        result = self.run_script(script)
        self.assertEqual(result.returncode, 4, result.err[-3000:])
        invalid = [n for n in range(total) if self.invalid(n)]
        self.assertEqual(sorted(self.stored), [n for n in range(total) if not self.invalid(n)])
        self.assertEqual(self.read("failed.ndjson"), b"".join(lines[n] + b"\n" for n in invalid))
        reasons = [json.loads(l) for l in self.read("failed.why").splitlines()]
        self.assertEqual([r["reason"].count('"reason":"invalid"') for r in reasons], [1] * len(invalid))
        self.assertEqual(server.errors(), [])


class ItemOptionsTest(unittest.TestCase):
    def usage(self, args, fragment):
        result = bp.run(args)
        err = result.stderr.decode()
        self.assertEqual(result.returncode, 2, err)
        self.assertIn(fragment, err)

    def test_bad_pointers_and_combinations_are_usage_errors(self):
        post = ["--post", "http://127.0.0.1:9/"]
        self.usage(post + ["--item-results", "RequestResponses", "--item-error", "/e"],
                   "--item-results: 'RequestResponses' is not a JSON Pointer")
        self.usage(post + ["--item-results", "/r"], "--item-results: give --item-error POINTER too")
        self.usage(post + ["--item-results", "/r", "--item-error", "/a~2"], "--item-error: '/a~2' is not a JSON Pointer")
        self.usage(post + ["--item-results", "/r", "--item-failures", "/f", "--item-error", "/e"], "cannot be used together")
        self.usage(post + ["--item-error", "/e"], "--item-error: only applies with --item-results or --item-failures")
        self.usage(post + ["--item-failures", "/f", "--item-retryable", "("], "--item-retryable")
        self.usage(post + ["--item-failures", "/f", "--map"], "--item-failures: not with --map")
        self.usage(post + ["--item-failures", "/f", "--format", "bulk"], "--item-failures: not with --format bulk")
        self.usage(["--exec", "cat", "--item-failures", "/f"], "--item-failures: only applies with --post")


if __name__ == "__main__":
    unittest.main()
