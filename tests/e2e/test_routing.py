"""Routing by field: {.field} templates in --post URLs, -H values,
--bulk-action and --env, with batches kept per key. Records of different keys
never share a request; within a key they keep input order; every record
reaches its own key's URL exactly once; kill -9 with --checkpoint loses
nothing; a record whose value cannot be sent safely fails alone, into the
dead-letter file. The README's "Routing by field" recipes run here too
(the ClickHouse one in test_clickhouse.py).
"""

import json
import os
import random
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import bp
from bulk_server import BulkServer
from http_server import ScriptedServer

KEYS = [f"svc{k:02d}" for k in range(50)]


def keyed_records(n, keys=KEYS, seed=7):
    """n records {"svc":KEY,"n":i} with keys in random order."""
    rng = random.Random(seed)
    return [json.dumps({"svc": rng.choice(keys), "n": i}, separators=(",", ":")).encode() for i in range(n)]


def body_records(body: bytes):
    """The records of a --format ndjson body."""
    return [json.loads(line) for line in body.split(b"\n") if line]


class RoutingCase(unittest.TestCase):
    def setUp(self):
        scratch = tempfile.TemporaryDirectory(prefix="bp-route-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, records):
        with open(self.path(name), "wb") as f:
            f.write(b"".join(r + b"\n" for r in records))
        return self.path(name)

    def server(self, **kwargs):
        server = ScriptedServer(**kwargs)
        self.addCleanup(server.close)
        return server

    def by_key(self, requests, prefix="/in/"):
        """{key: [n, ...]} in the order received per key, checking that every
        request's records belong to the key its URL names."""
        got = {}
        for r in requests:
            self.assertTrue(r.path.startswith(prefix), r.path)
            key = urllib.parse.unquote(r.path[len(prefix):])
            recs = body_records(r.body)
            self.assertTrue(recs)
            for rec in recs:
                self.assertEqual(rec["svc"], key, f"a record of {rec['svc']} went to {r.path}")
            got.setdefault(key, []).extend(rec["n"] for rec in recs)
        return got


class RoutingTest(RoutingCase):
    def test_100000_records_over_50_keys_each_to_its_own_url_once_and_in_order(self):
        recs = keyed_records(100_000)
        path = self.write("in.ndjson", recs)
        server = self.server()
        r = bp.run(["--post", server.url("/in/{.svc}"), "--format", "ndjson", "--parallel", "4", "--size", "500",
                    "--stats=json", path], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        want = {}
        for rec in recs:
            d = json.loads(rec)
            want.setdefault(d["svc"], []).append(d["n"])
        got = self.by_key(server.requests())
        # Batches of one key may arrive out of order with --parallel 4, but
        # each batch holds its key's records in input order and the batches,
        # sorted by their first record, make the key's records exactly once.
        for key, numbers in got.items():
            self.assertEqual(sorted(numbers), want[key], key)
        for req in server.requests():
            numbers = [rec["n"] for rec in body_records(req.body)]
            self.assertEqual(numbers, sorted(numbers), "input order within a key's batch")
        self.assertEqual(set(got), set(KEYS))
        stats = bp.stats(r.stderr)
        self.assertEqual(stats["records_delivered_total"], 100_000)
        self.assertIn("open_keys", stats)

    def test_with_parallel_1_each_key_sees_its_records_in_input_order(self):
        recs = keyed_records(5_000, keys=KEYS[:5])
        server = self.server()
        r = bp.run(["--post", server.url("/in/{.svc}"), "--format", "ndjson", "--size", "50", "-"],
                   input=b"".join(x + b"\n" for x in recs))
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        got = self.by_key(server.requests())
        for key, numbers in got.items():
            self.assertEqual(numbers, sorted(numbers), key)
        self.assertEqual(sum(len(v) for v in got.values()), 5_000)

    def test_values_are_percent_encoded_in_the_url(self):
        server = self.server()
        recs = [json.dumps({"svc": v, "n": i}).encode() for i, v in enumerate(["a/b", "c?d", "e#f", "g h", "café"])]
        r = bp.run(["--post", server.url("/in/{.svc}?k={.svc}"), "--format", "ndjson", "-"],
                   input=b"".join(x + b"\n" for x in recs))
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        paths = sorted(req.path for req in server.requests())
        self.assertEqual(paths, sorted([
            "/in/a%2Fb?k=a%2Fb", "/in/c%3Fd?k=c%3Fd", "/in/e%23f?k=e%23f", "/in/g%20h?k=g%20h",
            "/in/caf%C3%A9?k=caf%C3%A9"]))

    def test_a_header_value_with_cr_lf_fails_that_record_alone_into_the_dead_letter_file(self):
        server = self.server()
        dead = self.path("dead.ndjson")
        good = [b'{"t":"a","n":1}', b'{"t":"b","n":2}', b'{"n":3}']
        evil = b'{"t":"x\\r\\nX-Injected: yes","n":4}'
        r = bp.run(["--post", server.url("/in"), "-H", "X-Tenant: {.t:-none}", "--format", "ndjson",
                    "--dead-letter", dead, "-"], input=b"\n".join([good[0], evil, good[1], good[2]]) + b"\n")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn(b"the value of .t holds a carriage return (CR), which cannot go in a header", r.stderr)
        with open(dead, "rb") as f:
            self.assertEqual(f.read(), evil + b"\n")
        tenants = {}
        for req in server.requests():
            self.assertIsNone(req.header("X-Injected"))
            tenants.setdefault(req.header("X-Tenant"), []).extend(rec["n"] for rec in body_records(req.body))
        self.assertEqual(tenants, {"a": [1], "b": [2], "none": [3]})

    def test_a_missing_field_without_a_default_fails_that_record_and_says_why(self):
        server = self.server()
        dead = self.path("dead.ndjson")
        r = bp.run(["--post", server.url("/in/{.svc}"), "--format", "ndjson", "--dead-letter", dead, "-"],
                   input=b'{"svc":"a","n":1}\n{"n":2}\n{"svc":{"o":1},"n":3}\n')
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn(b".svc is missing or null (give a default: {.svc:-DEFAULT})", r.stderr)
        self.assertIn(b".svc is an object or an array", r.stderr)
        with open(dead, "rb") as f:
            self.assertEqual(sorted(f.read().splitlines()), [b'{"n":2}', b'{"svc":{"o":1},"n":3}'])
        self.assertEqual(self.by_key(server.requests()), {"a": [1]})

    def test_max_keys_bounds_the_open_batches(self):
        server = self.server()
        recs = [json.dumps({"svc": f"k{i}", "n": i}).encode() for i in range(300)]
        r = bp.run(["--post", server.url("/in/{.svc}"), "--format", "ndjson", "--max-keys", "10", "--interval", "0",
                    "--stats=json", "-"], input=b"".join(x + b"\n" for x in recs))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(server.requests()), 300)
        self.assertEqual(sum(len(v) for v in self.by_key(server.requests()).values()), 300)

    def test_template_mistakes_are_usage_errors_before_anything_is_read(self):
        for args, message in [
            (["--post", "http://{.host}/x"], "not its scheme or host"),
            (["--post", "http://127.0.0.1:9/{.a..b}"], "a field name after each dot"),
            (["--post", "http://127.0.0.1:9/", "-H", "X-{.n}: v"], "expected 'Name: value'"),
            (["--exec", "cat", "--env", "1X={.a}"], "expected NAME=TEMPLATE"),
            (["--exec", "cat", "--env", "BATCHPIPE_X={.a}"], "batchpipe's own"),
            (["--wrap", '{"a":"{.b}","r":@}'], "--wrap: record fields ({.name}, {now:...}) route batches by key"),
            (["--exec", "cat", "--wrap", '{"a":"{.b}","id":"{batch_id}","r":@}'], "{batch_id} is not filled in"),
        ]:
            r = bp.run(args, input=b"{}\n")
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(message.encode(), r.stderr, args)


class CheckpointTest(RoutingCase):
    def test_kill_9_with_a_checkpoint_loses_nothing(self):
        recs = keyed_records(60_000, seed=11)
        path = self.write("in.ndjson", recs)
        ckpt = self.path("ckpt.json")
        slow = self.server(latency=0.05)
        args = ["--checkpoint", ckpt, "--format", "ndjson", "--parallel", "4", "--size", "200", "--interval", "50ms",
                "--max-buffer", "2M"]
        proc = bp.spawn(self, [bp.binary(), *args, "--post", slow.url("/in/{.svc}"), path],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        def saved_offset():
            try:
                with open(ckpt) as f:
                    return json.load(f)["files"][0]["offset"]
            except (OSError, ValueError, IndexError, KeyError):
                return 0
        # Killed once the checkpoint has moved, with batches of every key in flight.
        self.assertTrue(bp.wait_for(lambda: saved_offset() > 0, 30), "the checkpoint never moved")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        first = self.by_key(slow.requests())
        fast = self.server()
        r = bp.run([*args, "--post", fast.url("/in/{.svc}"), path], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        second = self.by_key(fast.requests())
        self.assertLess(sum(map(len, second.values())), len(recs), "the second run resumed")
        seen = set()
        for got in (first, second):
            for numbers in got.values():
                seen.update(numbers)
        self.assertEqual(seen, set(range(len(recs))), "every record reached its key's URL at least once")


class SpoolTest(RoutingCase):
    """--spool with record fields: a segment goes only once every record in it
    is committed, whatever key it went to."""

    def test_kill_9_loses_nothing_while_a_rare_keys_batch_stays_open(self):
        spool = self.path("spool")
        server = self.server()
        rare = [json.dumps({"svc": "rare", "n": -i}).encode() for i in range(1, 4)]
        common = [json.dumps({"svc": KEYS[i % 20], "n": i, "pad": "x" * 40}, separators=(",", ":")).encode()
                  for i in range(60_000)]
        recs = rare + common  # about 4.6 MiB: the spool's first 1 MiB segment holds the rare key's records
        args = ["--spool", spool, "--spool-max", "8M", "--spool-sync", "20ms", "--format", "ndjson", "--size", "50",
                "--interval", "60s"]
        proc = bp.spawn(self, [bp.binary(), *args, "--post", server.url("/in/{.svc}")], stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc.stdin.write(b"".join(r + b"\n" for r in recs))
        proc.stdin.flush()  # and kept open: the rare key's batch stays open (--interval 60s)
        delivered = lambda: sum(len(body_records(q.body)) for q in server.requests())
        self.assertTrue(bp.wait_for(lambda: delivered() >= len(common), 60, 0.1), "the common keys were not delivered")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdin.close()
        first = self.by_key(server.requests())
        self.assertNotIn("rare", first)
        self.assertIn("00000000000000000000.ndjson", os.listdir(spool), "the segment of the open key's records is kept")
        again = self.server()
        with open(os.devnull, "rb") as null:
            r = bp.run([*args, "--post", again.url("/in/{.svc}")], stdin=null, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        second = self.by_key(again.requests())
        self.assertEqual(second["rare"], [-1, -2, -3], "the open key's records, once, in order")
        for key in KEYS[:20]:
            self.assertEqual(first[key], list(range(KEYS.index(key), 60_000, 20)), key)
        self.assertEqual([f for f in os.listdir(spool) if f.endswith(".ndjson")], [], "the spool drained")

    def test_records_pass_through_the_spool_to_their_keys_and_it_empties(self):
        spool = self.path("spool")
        server = self.server()
        recs = keyed_records(20_000, keys=KEYS[:10])
        r = bp.run(["--spool", spool, "--post", server.url("/in/{.svc}"), "--format", "ndjson", "--size", "100",
                    "--parallel", "4", "-"], input=b"".join(x + b"\n" for x in recs), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        got = self.by_key(server.requests())
        want = {}
        for rec in recs:
            d = json.loads(rec)
            want.setdefault(d["svc"], []).append(d["n"])
        self.assertEqual({k: sorted(v) for k, v in got.items()}, want)
        self.assertEqual([f for f in os.listdir(spool) if f.endswith(".ndjson")], [])

    def test_interval_0_is_refused(self):
        r = bp.run(["--spool", self.path("spool"), "--post", "http://127.0.0.1:9/{.svc}", "--interval", "0"],
                   input=b"")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"--spool with record fields needs an --interval", r.stderr)


class PerRecordActionTest(RoutingCase):
    """--bulk-action with record fields: one action line per record, from
    that record, in batches that are not split by key."""

    FAST = ["--retry-delay", "10ms", "--retry-max-delay", "10ms"]
    ACTION = '{"index":{"_index":"logs-{.svc}-{.ts:%Y.%m.%d}"}}'

    def docs(self, n, wants=None, seed=3):
        rng = random.Random(seed)
        wants = wants or {}
        out = []
        for i in range(n):
            d = {"svc": rng.choice(KEYS[:20]), "ts": 1714521600 + 86400 * (i % 3), "n": i}
            if i in wants:
                d["want"] = wants[i]
            out.append(json.dumps(d, separators=(",", ":")).encode())
        return out

    @staticmethod
    def index_of(rec):
        d = json.loads(rec)
        return "logs-%s-2024.05.%02d" % (d["svc"], 1 + (d["ts"] - 1714521600) // 86400)

    def bulk(self, recs, *extra, timeout=60):
        es = BulkServer()
        self.addCleanup(es.close)
        path = self.write("in.ndjson", recs)
        r = bp.run(["--post", es.url("/_bulk"), "--format", "bulk", "--bulk-action", self.ACTION, "--stats=json",
                    *self.FAST, *extra, path], timeout=timeout)
        return r, es

    def test_each_document_lands_in_its_own_index_without_splitting_batches(self):
        recs = self.docs(2_000)
        r, es = self.bulk(recs, "--size", "100")
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertEqual(es.stored, recs, "every document once, in input order")
        self.assertEqual(es.placed, [(self.index_of(x), x) for x in recs])
        reqs = es.requests()
        self.assertEqual(len(reqs), 20, "batches of --size 100 over 20 services: not split by key")
        for q in reqs:
            lines = q.body.split(b"\n")
            self.assertEqual(lines[-1], b"")
            for action, doc in zip(lines[0:-1:2], lines[1:-1:2]):
                self.assertEqual(json.loads(action), {"index": {"_index": self.index_of(doc)}})
        stats = bp.stats(r.stderr)
        self.assertEqual(stats["records_delivered_total"], 2_000)
        self.assertEqual(stats["open_keys_peak"], 1)

    def test_per_item_resends_carry_each_items_own_action_line(self):
        wants = {i: "429" for i in range(5, 2_000, 37)}
        recs = self.docs(2_000, wants)
        r, es = self.bulk(recs, "--size", "100")
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertEqual(sorted(es.placed), sorted((self.index_of(x), x) for x in recs),
                         "every document once, in its own index, the resent ones too")
        refused = {recs[i] for i in wants}
        self.assertEqual([x for x in es.stored if x not in refused], [x for x in recs if x not in refused],
                         "the documents taken at once, in input order")
        self.assertEqual(bp.stats(r.stderr)["records_resent_total"], len(wants))
        resends = [q for q in es.requests() if len(q.body.split(b"\n")) // 2 < 100]
        self.assertTrue(resends)
        for q in resends:
            lines = q.body.split(b"\n")
            for action, doc in zip(lines[0:-1:2], lines[1:-1:2]):
                self.assertIn(doc, refused)
                self.assertEqual(json.loads(action)["index"]["_index"], self.index_of(doc))

    def test_with_compress_parallel_checkpoint_and_dead_letters(self):
        recs = self.docs(5_000, {i: "429" for i in range(0, 5_000, 101)})
        bad = {17: b'{"ts":1714521600,"n":"no svc"}', 400: b'{"svc":{"o":1},"ts":1714521600,"n":"object"}',
               4_999: b'{"svc":"x","ts":"yesterday","n":"not a time"}'}
        for i, b in bad.items():
            recs[i] = b
        dead, reasons, ckpt = self.path("dead.ndjson"), self.path("reasons.ndjson"), self.path("ckpt.json")
        r, es = self.bulk(recs, "--size", "64", "--compress", "gzip", "--parallel", "4", "--checkpoint", ckpt,
                          "--dead-letter", dead, "--dead-letter-reasons", reasons)
        self.assertEqual(r.returncode, 4, r.stderr[-2000:])
        good = [x for i, x in enumerate(recs) if i not in bad]
        self.assertEqual(sorted(es.placed), sorted((self.index_of(x), x) for x in good))
        self.assertEqual(len(es.stored), len(set(es.stored)))
        with open(dead, "rb") as f:
            self.assertEqual(f.read().splitlines(), [bad[i] for i in sorted(bad)])
        with open(reasons) as f:
            why = [json.loads(line)["reason"] for line in f]
        self.assertEqual(len(why), 3)
        self.assertIn("--bulk-action: .svc is missing or null (give a default: {.svc:-DEFAULT})", why[0])
        self.assertIn(".svc is an object or an array", why[1])
        self.assertIn(".ts is not a timestamp", why[2])
        stats = bp.stats(r.stderr)
        self.assertEqual(stats["records_delivered_total"], len(good))
        self.assertEqual(stats["records_dead_lettered_total"], 3)
        with open(ckpt) as f:
            self.assertEqual(json.load(f)["files"][0]["offset"], os.path.getsize(self.path("in.ndjson")))

    def test_with_exec_the_body_holds_each_records_action(self):
        recs = self.docs(30)
        out = self.path("out.ndjson")
        path = self.write("in.ndjson", recs)
        r = bp.run(["--format", "bulk", "--bulk-action", '{"create":{"_index":"{.svc}","_id":"{record_id}"}}',
                    "--size", "7", "--exec", f"cat >> {out}", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[1::2], recs)
        for action, doc in zip(lines[0::2], lines[1::2]):
            meta = json.loads(action)["create"]
            self.assertEqual(meta["_index"], json.loads(doc)["svc"])
            self.assertRegex(meta["_id"], r"^[0-9a-f]{16}-[0-9a-f]{16}$")
        self.assertEqual(len({json.loads(a)["create"]["_id"] for a in lines[0::2]}), 30)

    def test_an_action_without_fields_is_the_runs_own_in_a_routed_run(self):
        r = bp.run(["--format", "bulk", "--bulk-action", '{"index":{"_id":"{batch_id}"}}', "--env", "S={.svc}",
                    "--exec", "cat"], input=b'{"svc":"a"}\n{"svc":"b"}\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.splitlines()), sorted([b'{"index":{"_id":"{batch_id}"}}'] * 2 +
                                                               [b'{"svc":"a"}', b'{"svc":"b"}']))

    def test_refused_where_it_cannot_work(self):
        for args, message in [
            (["--format", "bulk", "--bulk-action", self.ACTION], "only apply with --exec or --post"),
            (["--format", "bulk", "--bulk-action", '{"index":{"_id":"{batch_id}{.n}"}}', "--exec", "cat"],
             "{batch_id} is not filled in"),
            (["--format", "bulk", "--bulk-action", '{"index":{"_index":{.svc}}}', "--exec", "cat"],
             "is not valid JSON"),
        ]:
            r = bp.run(args, input=b"{}\n")
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(message.encode(), r.stderr, args)


class RecipeTest(RoutingCase):
    """The README's "Routing by field" recipes, as written there."""

    def test_elasticsearch_index_per_service_and_day(self):
        es = BulkServer()
        self.addCleanup(es.close)
        recs = [json.dumps({"service": s, "ts": ts, "n": i}).encode() for i, (s, ts) in enumerate([
            ("api", "2024-05-01T10:00:00Z"), ("web", "2024-05-01T23:59:59+00:00"), ("api", 1714694400),
            ("web", 1714694400123)])] + [b'{"ts":"2024-05-02T00:00:00Z","n":4}']
        r = bp.run(["--post", es.url("/_bulk"), "--format", "bulk", "--bulk-action",
                    '{"index":{"_index":"logs-{.service:-unknown}-{.ts:%Y.%m.%d}"}}', "-"],
                   input=b"".join(x + b"\n" for x in recs))
        self.assertEqual(r.returncode, 0, r.stderr)
        index_of = {}
        for req in es.requests():
            lines = req.body.split(b"\n")
            for action, doc in zip(lines[0::2], lines[1::2]):
                index_of[json.loads(doc)["n"]] = json.loads(action)["index"]["_index"]
        self.assertEqual(index_of, {0: "logs-api-2024.05.01", 1: "logs-web-2024.05.01", 2: "logs-api-2024.05.03",
                                    3: "logs-web-2024.05.03", 4: "logs-unknown-2024.05.02"})
        self.assertEqual(len(es.stored), 5)

    def test_exec_per_tenant_writes_one_file_per_tenant(self):
        out = self.path("tenants")
        os.mkdir(out)
        recs = [json.dumps({"tenant": t, "n": i}).encode() for i, t in enumerate("abcabcaab")]
        recs.append(b'{"tenant":"../escape","n":9}')
        r = bp.run(["--format", "ndjson", "--env", "TENANT={.tenant}",
                    "--exec", f'cat >> "{out}/$(printf %s "$TENANT" | tr -c "a-zA-Z0-9_-" _).ndjson"', "-"],
                   input=b"".join(x + b"\n" for x in recs))
        self.assertEqual(r.returncode, 0, r.stderr)
        files = {}
        for name in sorted(os.listdir(out)):
            with open(os.path.join(out, name), "rb") as f:
                files[name] = [json.loads(line)["n"] for line in f.read().splitlines()]
        self.assertEqual(files, {"a.ndjson": [0, 3, 6, 7], "b.ndjson": [1, 4, 8], "c.ndjson": [2, 5],
                                 "___escape.ndjson": [9]})


if __name__ == "__main__":
    unittest.main()
