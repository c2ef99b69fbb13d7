"""--post: batches POSTed over one kept-alive connection, retries and
Retry-After, permanent failures, timeouts, headers, gzip, secrets kept out of
messages, TLS and the shutdown grace.

The peer is http_server.ScriptedServer, running in this process's threads on
an ephemeral port of 127.0.0.1: a script of responses (statuses, stalls,
trickles, resets, redirects) for successive requests, and a record of every
request it read, with its client port (one port = one connection) and its
arrival time. Every server is closed, and every batchpipe reaped, by cleanups.
Timing assertions compare arrival times the server recorded; waits are for
conditions, against deadlines.
"""

import email.utils
import gzip
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import bp
from http_server import ScriptedServer

# Quick retries: the tests that want a longer delay say so.
FAST = ["--retry-delay", "10ms", "--retry-max-delay", "10ms"]

SECRETS = ("sekret", "topsecret", "topsecret2", "topsecret3")


def numbered(n, start=1):
    return [b'{"i":%d,"s":"r%d"}' % (i, i) for i in range(start, start + n)]


def ndjson(records):
    return b"".join(r + b"\n" for r in records)


def unused_port():
    """A port of 127.0.0.1 with nothing listening: bound, read, closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def retry_re(endpoint, status_or_error, attempt, retries):
    return re.compile(
        rf"^batchpipe: batch \d+ \(\d+ records?\): {status_or_error}.*{re.escape(endpoint)}.*; "
        rf"retry {attempt} of {retries} in \d+(\.\d)?m?s$",
        re.M,
    )


class PostCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bp-post-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def server(self, script=(), default=200, ssl_context=None):
        s = ScriptedServer(script, default, ssl_context)
        self.addCleanup(s.close)
        return s

    def path(self, name):
        return os.path.join(self.tmp, name)

    def post(self, url, records, *args, timeout=bp.RUN_TIMEOUT):
        """Runs `batchpipe --post url --interval 0 args` on `records` to the end;
        returns the CompletedProcess with .elapsed (seconds) added."""
        # A proxy from the environment would stand between batchpipe and the test's server.
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        t0 = time.monotonic()
        result = bp.run(["--post", url, "--interval", "0", *args], ndjson(records), timeout=timeout, env=env)
        result.elapsed = time.monotonic() - t0
        result.err = result.stderr.decode("utf-8", "replace")
        return result

    def detail(self, result, server=None):
        extra = ""
        if server is not None:
            extra = f"; requests {[(r.method, r.path, len(r.body)) for r in server.requests()]}"
            extra += f"; server errors {server.errors()}"
        return f"exit {result.returncode}, stderr {result.err[-2000:]!r}{extra}"

    def stdout_lines(self, records, *args):
        """What the stdout sink writes for `records`: the expected bodies."""
        plain = bp.run(["--interval", "0", *args], ndjson(records))
        self.assertEqual(plain.returncode, 0, plain.stderr)
        return plain.stdout.splitlines(keepends=True)

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()


class DeliveryTest(PostCase):
    def test_batches_arrive_in_order_byte_exact_over_one_connection(self):
        records = numbered(23) + [b'{"text":"caf\xc3\xa9 \xe2\x98\x83","esc":"\\"\\u0000"}', b"[1, 2 ,3]"]
        expected = self.stdout_lines(records, "--size", "4")
        self.assertEqual(len(expected), 7)
        server = self.server()
        result = self.post(server.url("/ingest?src=bp"), records, "--size", "4")
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        self.assertEqual(result.stdout, b"")
        self.assertEqual(result.stderr, b"")
        requests = server.requests()
        self.assertEqual([r.body for r in requests], expected)
        self.assertEqual({r.client for r in requests}, {requests[0].client}, "not one connection")
        self.assertEqual(server.connections(), 1)
        for r in requests:
            self.assertEqual((r.method, r.path), ("POST", "/ingest?src=bp"))
            self.assertEqual(r.header("Content-Type"), "application/json")
            self.assertTrue((r.header("User-Agent") or "").startswith("batchpipe/"), r.headers)
            self.assertEqual(r.header("Content-Length"), str(len(r.body)))
            self.assertIsNone(r.header("Content-Encoding"))
        self.assertEqual(server.errors(), [])

    def test_503_503_200_delivers_once_with_one_idempotency_key(self):
        records = numbered(3)
        server = self.server([503, 503, 200])
        result = self.post(server.url("/"), records, *FAST)
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        requests = server.requests()
        self.assertEqual(len(requests), 3, self.detail(result, server))
        self.assertEqual({r.body for r in requests}, {b"[" + b",".join(records) + b"]\n"})
        keys = {r.header("Idempotency-Key") for r in requests}
        self.assertEqual(len(keys), 1, keys)
        self.assertTrue(keys.pop())
        for attempt in (1, 2):
            self.assertRegex(result.err, retry_re(server.endpoint, "HTTP 503 from", attempt, 5))
        self.assertNotRegex(result.err, r"retry 3 of")
        self.assertIn("batch 1 (3 records): HTTP 503 from 127.0.0.1:", result.err)

    def test_idempotency_keys_differ_across_batches_and_runs(self):
        server = self.server()
        records = numbered(6)
        for _ in range(2):
            result = self.post(server.url("/"), records, "--size", "2")
            self.assertEqual(result.returncode, 0, self.detail(result, server))
        keys = [r.header("Idempotency-Key") for r in server.requests()]
        self.assertEqual(len(keys), 6)
        self.assertTrue(all(keys), keys)
        self.assertEqual(len(set(keys)), 6, keys)

    def test_stats_count_deliveries_and_retries(self):
        server = self.server([503, 200, 200])
        result = self.post(server.url("/"), numbered(4), "--size", "2", "--stats=json", "-q", *FAST)
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        lines = bp.stderr_lines(result.stderr)
        self.assertEqual(len(lines), 1, result.stderr)
        stats = bp.stats(result.stderr)
        self.assertEqual((stats["batches_delivered_total"], stats["records_delivered_total"]), (2, 4))
        self.assertEqual((stats["retries_total"], stats["attempts_total"]), (1, 3))

    def test_gzip_bodies_decompress_to_the_exact_batches(self):
        records = numbered(10)
        expected = self.stdout_lines(records, "--size", "4")
        server = self.server([503])  # the retry sends the same compressed bytes
        result = self.post(server.url("/"), records, "--size", "4", "--compress", "gzip", *FAST)
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        requests = server.requests()
        self.assertEqual(len(requests), 4)
        for r in requests:
            self.assertEqual(r.header("Content-Encoding"), "gzip", r.headers)
            self.assertEqual(r.header("Content-Type"), "application/json")
            self.assertEqual(r.body[:2], b"\x1f\x8b")
        self.assertEqual(requests[0].body, requests[1].body)
        self.assertEqual([gzip.decompress(r.body) for r in requests[1:]], expected)

    def test_headers_from_a_file_and_repeated_dash_h(self):
        with open(self.path("headers"), "wb") as f:
            f.write(b"# sent with every request\nX-From-File: one\n\nX-Spaced:  two words \r\nX-Last: 3")
        server = self.server()
        result = self.post(
            server.url("/"), numbered(2), "--header", "@" + self.path("headers"),
            "-H", "X-Dash-A: a", "--header", "X-Dash-B: b=c; d",
        )
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        (r,) = server.requests()
        self.assertEqual(r.header("X-From-File"), "one")
        self.assertEqual(r.header("X-Spaced"), "two words")
        self.assertEqual(r.header("X-Last"), "3")
        self.assertEqual(r.header("X-Dash-A"), "a")
        self.assertEqual(r.header("X-Dash-B"), "b=c; d")
        self.assertEqual(r.header("Content-Type"), "application/json")

    def test_50000_records_through_a_server_failing_every_other_request(self):
        records = [b'{"n":%d,"pad":"%s"}' % (i, b"p" * (i % 17)) for i in range(50000)]
        server = self.server(default=lambda i, request: 503 if i % 2 == 0 else 200)
        result = self.post(
            server.url("/"), records, "--size", "100", "--stats=json", "-q",
            "--retries", "3", "--retry-delay", "1ms", "--retry-max-delay", "1ms", timeout=60,
        )
        self.assertEqual(result.returncode, 0, self.detail(result))
        requests = server.requests()
        self.assertEqual(len(requests), 1000)
        failed, delivered = requests[0::2], requests[1::2]
        for bad, good in zip(failed, delivered):
            self.assertEqual(bad.body, good.body)
            self.assertEqual(bad.header("Idempotency-Key"), good.header("Idempotency-Key"))
        self.assertEqual(len({r.header("Idempotency-Key") for r in delivered}), 500)
        batches = bp.split_batches(b"".join(r.body for r in delivered), records)  # none lost, doubled, moved
        self.assertEqual([len(b) for b in batches], [100] * 500)
        self.assertEqual({r.client for r in requests}, {requests[0].client}, "not one connection")
        stats = bp.stats(result.stderr)
        self.assertEqual((stats["batches_delivered_total"], stats["records_delivered_total"]), (500, 50000))
        self.assertEqual(stats["retries_total"], 500)


    def test_statuses_delivered_retried_and_permanent(self):
        cases = [(s, "delivered") for s in (200, 201, 202, 204, 299)]
        cases += [(s, "retried") for s in (408, 429, 500, 502, 503, 504)]
        cases += [(s, "permanent") for s in (301, 304, 307, 308, 401, 403, 404, 409, 413, 422, 501, 505)]
        for status, kind in cases:
            with self.subTest(status=status):
                server = self.server([status], default=200)
                result = self.post(server.url("/"), numbered(1), "--retries", "1", *FAST)
                n = len(server.requests())
                if kind == "permanent":
                    # 401, 403, 404: every batch would fail so, and the run stops (exit 5).
                    rc = 5 if status in (401, 403, 404) else 4
                    self.assertEqual((result.returncode, n), (rc, 1), self.detail(result, server))
                    self.assertIn(f"HTTP {status} from", result.err)
                else:
                    self.assertEqual((result.returncode, n), (0, 1 if kind == "delivered" else 2),
                                     self.detail(result, server))

    def test_a_large_batch_and_a_large_response(self):
        records = [bp.string_record(64 * 1024, b"%c" % (97 + i % 26)) for i in range(40)]  # 2.5 MiB
        big = b"r" * (3 << 20)  # read up to 1 MiB, the rest dropped: it must not matter
        server = self.server([("status", 503, {}, big), ("status", 200, {}, big)])
        result = self.post(server.url("/"), records, *FAST)
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        first, second = server.requests()
        self.assertEqual(second.body, b"[" + b",".join(records) + b"]\n")
        self.assertEqual(first.body, second.body)


class RetryAfterTest(PostCase):
    def test_429_retry_after_seconds_replaces_the_backoff(self):
        server = self.server([("status", 429, {"Retry-After": "1"}), 200])
        # Not FAST: its --retry-max-delay 10ms would clamp the Retry-After.
        result = self.post(server.url("/"), numbered(2), "--retry-delay", "10ms")
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        first, second = server.requests()
        self.assertGreaterEqual(second.time - first.time, 0.95)
        self.assertLess(second.time - first.time, 1 + bp.SLACK)
        self.assertRegex(result.err, r'HTTP 429 from 127\.0\.0\.1:\d+: "429 Too Many Requests\."; retry 1 of 5 in 1\.0s$')

    def test_503_retry_after_http_date_replaces_the_backoff(self):
        def later(index, request):
            # Computed as the response goes out: a whole second, 1-2 s ahead.
            return ("status", 503, {"Retry-After": email.utils.formatdate(time.time() + 2, usegmt=True)})

        server = self.server([later, 200])
        result = self.post(server.url("/"), numbered(2), "--retry-delay", "10ms")
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        first, second = server.requests()
        self.assertGreaterEqual(second.time - first.time, 0.95)
        self.assertLess(second.time - first.time, 2 + bp.SLACK)

    def test_retry_after_past_the_retry_max_time_gives_up_at_once(self):
        server = self.server(default=("status", 503, {"Retry-After": "20"}))
        result = self.post(server.url("/"), numbered(2), "--retry-max-time", "3s", "--retry-delay", "10ms")
        self.assertEqual(result.returncode, 4, self.detail(result, server))
        self.assertEqual(len(server.requests()), 1)
        self.assertLess(result.elapsed, 2.5, "waited instead of giving up")
        self.assertIn("HTTP 503 from", result.err)
        self.assertIn("--retry-max-time", result.err)

    def test_retry_after_on_a_500_is_ignored(self):
        server = self.server([("status", 500, {"Retry-After": "5"}), 200])
        result = self.post(server.url("/"), numbered(2), *FAST)
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        first, second = server.requests()
        self.assertLess(second.time - first.time, 2.5)

    def test_retry_after_is_clamped_to_the_retry_max_delay(self):
        server = self.server([("status", 503, {"Retry-After": "3600"}), 200])
        result = self.post(server.url("/"), numbered(2), "--retry-delay", "10ms", "--retry-max-delay", "200ms")
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        first, second = server.requests()
        self.assertGreaterEqual(second.time - first.time, 0.19)
        self.assertLess(second.time - first.time, bp.SLACK)


class FailureTest(PostCase):
    def test_400_is_not_retried_and_its_body_is_quoted(self):
        body = b'{"error":"field \\"x\\" must be a number"}' + b"." * 200 + b"TAIL-NOT-QUOTED"
        records = numbered(3)
        server = self.server(default=("status", 400, {"Content-Type": "application/json"}, body))
        result = self.post(server.url("/"), records, "--dead-letter", self.path("dead"), *FAST)
        self.assertEqual(result.returncode, 4, self.detail(result, server))
        self.assertEqual(len(server.requests()), 1)
        self.assertEqual(self.read("dead"), ndjson(records))
        self.assertIn(f"HTTP 400 from {server.endpoint}", result.err)
        self.assertIn(body[:200].decode(), result.err)
        self.assertNotIn("TAIL-NOT-QUOTED", result.err)
        self.assertNotIn("retry", result.err)

    def test_on_error_continue_and_stop(self):
        records = numbered(6)
        server = self.server([400], default=200)
        result = self.post(server.url("/"), records, "--size", "2", "--dead-letter", self.path("continue"))
        self.assertEqual(result.returncode, 4, self.detail(result, server))
        self.assertEqual(len(server.requests()), 3)
        self.assertEqual(self.read("continue"), ndjson(records[:2]))

        server = self.server(default=400)
        result = self.post(
            server.url("/"), records, "--size", "2", "--on-error", "stop", "--dead-letter", self.path("stop")
        )
        self.assertEqual(result.returncode, 5, self.detail(result, server))
        self.assertEqual(len(server.requests()), 1)
        self.assertEqual(self.read("stop"), ndjson(records))  # the rest, untried, in order
        self.assertIn("--on-error stop", result.err)

    def test_redirect_is_not_followed(self):
        server = self.server([("redirect", 302, "/other")], default=200)
        result = self.post(server.url("/in"), numbered(2), *FAST)
        self.assertEqual(result.returncode, 4, self.detail(result, server))
        self.assertEqual([r.path for r in server.requests()], ["/in"])
        self.assertIn(f"HTTP 302 from {server.endpoint}", result.err)
        self.assertNotIn("retry", result.err)

    def test_connection_refused_is_retried_then_given_up(self):
        port = unused_port()
        result = self.post(f"http://127.0.0.1:{port}/", numbered(2), "--retries", "2", *FAST, timeout=bp.SLACK * 3)
        self.assertEqual(result.returncode, 4, self.detail(result))
        endpoint = f"127.0.0.1:{port}"
        for attempt in (1, 2):
            self.assertRegex(result.err, retry_re(endpoint, "", attempt, 2))
        self.assertRegex(result.err, r"batch 1 \(2 records\): .*" + re.escape(endpoint) + r".*records lost")

    def test_connecting_is_bounded_by_the_connect_timeout(self):
        # A listener that never accepts, its queue (backlog 0: room for one) full:
        # Linux drops further SYNs, so connecting hangs until the client gives up.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for blocking in (True, False):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.addCleanup(filler.close)
            filler.setblocking(blocking)
            filler.connect_ex(("127.0.0.1", port))
        result = self.post(
            f"http://127.0.0.1:{port}/", numbered(1), "--connect-timeout", "300ms", "--retries", "1", *FAST,
            timeout=10,
        )
        self.assertEqual(result.returncode, 4, self.detail(result))
        self.assertGreaterEqual(result.elapsed, 0.55)
        self.assertLess(result.elapsed, 0.6 + bp.SLACK)
        self.assertRegex(result.err, retry_re(f"127.0.0.1:{port}", "", 1, 1))

    def test_stalled_server_is_bounded_by_the_timeout(self):
        server = self.server(default=("stall",))
        result = self.post(server.url("/"), numbered(2), "--timeout", "500ms", "--retries", "1", *FAST, timeout=10)
        self.assertEqual(result.returncode, 4, self.detail(result, server))
        self.assertLess(result.elapsed, 10)
        self.assertGreaterEqual(result.elapsed, 0.95)
        first, second = server.requests()
        self.assertEqual(first.header("Idempotency-Key"), second.header("Idempotency-Key"))
        self.assertNotEqual(first.client, second.client)  # the cut connection was not reused
        self.assertIn("timed out after 500ms", result.err)

    def test_trickling_server_is_bounded_by_the_timeout(self):
        server = self.server(default=("trickle", 30))
        result = self.post(server.url("/"), numbered(2), "--timeout", "500ms", "--retries", "1", *FAST, timeout=10)
        self.assertEqual(result.returncode, 4, self.detail(result, server))
        self.assertLess(result.elapsed, 10)
        self.assertGreaterEqual(result.elapsed, 0.95)
        self.assertEqual(len(server.requests()), 2)
        self.assertIn("timed out after 500ms", result.err)

    def test_reset_connection_is_retried(self):
        records = numbered(2)
        server = self.server([("reset",), 200])
        result = self.post(server.url("/"), records, *FAST)
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        first, second = server.requests()
        self.assertNotEqual(first.client, second.client)
        self.assertEqual(second.body, b"[" + b",".join(records) + b"]\n")
        self.assertRegex(result.err, retry_re(server.endpoint, "", 1, 5))

    def test_sigterm_with_the_server_down_dead_letters_everything_in_order(self):
        records = numbered(11)
        dead = self.path("dead")
        p = bp.Live(self, [
            "--post", f"http://127.0.0.1:{unused_port()}/", "--size", "2", "--interval", "0",
            "--retries", "100", "--retry-delay", "200ms", "--dead-letter", dead,
        ])
        p.write(ndjson(records))
        # Batch 1 has been tried (and so the handlers are in place) once a retry is announced.
        self.assertTrue(p.wait_until(lambda: b"retry 1 of 100" in p.err, bp.SLACK), bytes(p.err))
        t0 = time.monotonic()
        p.send(signal.SIGTERM)
        code = p.finish(timeout=bp.SLACK * 2, close_stdin=False)
        elapsed = time.monotonic() - t0
        self.assertEqual(code, 143, bytes(p.err))
        self.assertLess(elapsed, 5)
        self.assertEqual(bytes(p.out), b"")
        with open(dead, "rb") as f:
            self.assertEqual(f.read(), ndjson(records))


    def test_sigterm_cuts_a_stalled_attempt_at_the_grace(self):
        records = numbered(3)
        dead = self.path("dead")
        server = self.server(default=("stall",))
        p = bp.Live(self, [
            "--post", server.url("/"), "--size", "1", "--interval", "0", "--timeout", "60s",
            "--grace", "500ms", "--dead-letter", dead,
        ])
        p.write(ndjson(records))
        server.wait_for_requests(1, bp.SLACK)
        t0 = time.monotonic()
        p.send(signal.SIGTERM)
        code = p.finish(timeout=bp.SLACK * 2, close_stdin=False)
        elapsed = time.monotonic() - t0
        self.assertEqual(code, 143, bytes(p.err))
        self.assertGreaterEqual(elapsed, 0.45, "the attempt under way did not get its grace")
        self.assertLess(elapsed, 0.5 + bp.SLACK)
        self.assertEqual(len(server.requests()), 1, "a batch was tried after the grace ran out")
        with open(dead, "rb") as f:
            self.assertEqual(f.read(), ndjson(records))
        self.assertIn("grace", bytes(p.err).decode())


class SecretsTest(PostCase):
    def setUp(self):
        super().setUp()
        with open(self.path("headers"), "w") as f:
            f.write("Proxy-Authorization: Basic topsecret3\n")
        self.secret_args = [
            "-H", "Authorization: Bearer topsecret", "-H", "Cookie: c=topsecret2",
            "--header", "@" + self.path("headers"), "-v", "--stats",
        ]

    def assert_no_secret(self, text):
        for secret in SECRETS:
            self.assertNotIn(secret, text)

    def test_secrets_stay_out_of_messages_on_failures(self):
        server = self.server(default=500)
        url = server.url("/", userinfo="user:sekret")
        result = self.post(url, numbered(2), "--retries", "2", *FAST, *self.secret_args)
        self.assertEqual(result.returncode, 4, self.detail(result, server))
        requests = server.requests()
        self.assertEqual(len(requests), 3)
        self.assertEqual(requests[0].header("Authorization"), "Bearer topsecret")  # the secrets were in play
        self.assertEqual(requests[0].header("Cookie"), "c=topsecret2")
        self.assertEqual(len(re.findall(r"attempt \d+:", result.err)), 3, result.err)  # -v: each attempt
        self.assertIn("HTTP 500", result.err)
        self.assert_no_secret(result.err)

    def test_secrets_stay_out_of_messages_when_delivered_and_when_refused(self):
        server = self.server()
        ok = self.post(server.url("/", userinfo="user:sekret"), numbered(2), *self.secret_args)
        self.assertEqual(ok.returncode, 0, self.detail(ok, server))
        self.assertIn("attempt 1:", ok.err)
        self.assert_no_secret(ok.err)
        refused = self.post(
            f"http://user:sekret@127.0.0.1:{unused_port()}/", numbered(2), "--retries", "1", *FAST, *self.secret_args
        )
        self.assertEqual(refused.returncode, 4, self.detail(refused))
        self.assertIn("attempt 2:", refused.err)
        self.assert_no_secret(refused.err)


    def test_a_retried_failure_quotes_the_reply(self):
        body = b"Code: 62. DB::Exception: Syntax error: failed at position 1. (SYNTAX_ERROR)\n"
        server = self.server([("status", 500, {}, body)], default=200)
        result = self.post(server.url("/"), numbered(1), "--retries", "1", *FAST)
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        self.assertRegex(
            result.err,
            r'^batchpipe: batch 1 \(1 record\): HTTP 500 from ' + re.escape(server.endpoint)
            + r': "Code: 62\. DB::Exception: Syntax error: failed at position 1\. \(SYNTAX_ERROR\)\."; '
            r"retry 1 of 1 in \d+(\.\d)?m?s\n$")

    @staticmethod
    def echo(index, request):
        """Answers 500, then 400, with the request's headers in the body, as some servers do."""
        names = ("X-Api-Key", "Authorization", "Cookie", "Proxy-Authorization", "Content-Type")
        text = "".join(f"{name}: {request.header(name)}\n" for name in names if request.header(name))
        return ("status", 500 if index == 0 else 400, {}, ("echo\n" + text).encode())

    def test_a_server_echoing_the_request_headers_is_quoted_redacted(self):
        with open(self.path("headers"), "a") as f:
            f.write("X-Api-Key: filekey-4f2a9\n")
        server = self.server([self.echo, self.echo])
        result = self.post(server.url("/"), numbered(1), "--retries", "1", *FAST, *self.secret_args)
        self.assertEqual(result.returncode, 4, self.detail(result, server))
        requests = server.requests()
        self.assertEqual(requests[0].header("X-Api-Key"), "filekey-4f2a9")  # the secrets were in play
        self.assertEqual(requests[0].header("Proxy-Authorization"), "Basic topsecret3")
        quoted = [line for line in result.err.splitlines() if "HTTP 500" in line and "retry 1 of 1" in line]
        self.assertEqual(len(quoted), 1, result.err)
        self.assertIn('"echo.X-Api-Key: [redacted].Authorization: [redacted].Cookie: [redacted].'
                      'Proxy-Authorization: [redacted].Content-Type: application/json."', quoted[0])
        final = [line for line in result.err.splitlines() if "HTTP 400" in line and "lost" in line]
        self.assertEqual(len(final), 1, result.err)
        self.assertIn("X-Api-Key: [redacted]", final[0])
        self.assert_no_secret(result.err)
        self.assertNotIn("filekey-4f2a9", result.err)

    def test_the_basic_credentials_of_the_url_are_redacted_too(self):
        server = self.server([self.echo, self.echo])
        result = self.post(server.url("/", userinfo="user:sekret"), numbered(1), "--retries", "1", *FAST)
        self.assertEqual(result.returncode, 4, self.detail(result, server))
        self.assertEqual(server.requests()[0].header("Authorization"), "Basic dXNlcjpzZWtyZXQ=")
        self.assertIn("Authorization: Basic [redacted]", result.err)
        self.assertNotIn("dXNlcjpzZWtyZXQ=", result.err)  # base64 of user:sekret
        self.assert_no_secret(result.err)


class HttpsTest(PostCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is not installed: no certificate to test TLS with")
        cls.certdir = tempfile.mkdtemp(prefix="bp-tls-")
        cls.key = os.path.join(cls.certdir, "key.pem")
        cls.cert = os.path.join(cls.certdir, "cert.pem")
        made = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cls.key, "-out", cls.cert,
             "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
        )
        if made.returncode != 0:
            shutil.rmtree(cls.certdir, True)
            raise unittest.SkipTest(f"openssl could not make a certificate: {made.stderr[-300:]!r}")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certdir, True)

    def tls_server(self, script=(), default=200):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return self.server(script, default, context)

    def test_unknown_certificate_is_refused(self):
        server = self.tls_server()
        result = self.post(server.url("/"), numbered(2), *FAST)
        self.assertEqual(result.returncode, 5, self.detail(result, server))  # every batch would fail so
        self.assertEqual(server.requests(), [])
        self.assertNotIn("retry", result.err)  # permanent

    def test_cacert_makes_it_trusted(self):
        server = self.tls_server()
        records = numbered(5)
        result = self.post(server.url("/"), records, "--size", "2", "--cacert", self.cert, *FAST)
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        self.assertEqual(result.stderr, b"")
        requests = server.requests()
        self.assertEqual(b"".join(r.body for r in requests), bp.encode(bp.greedy_batches(records, 2, 8 << 20)))
        self.assertEqual(server.connections(), 1)

    def test_insecure_delivers_with_a_warning(self):
        server = self.tls_server()
        records = numbered(2)
        result = self.post(server.url("/"), records, "--insecure", *FAST)
        self.assertEqual(result.returncode, 0, self.detail(result, server))
        self.assertEqual([r.body for r in server.requests()], [b"[" + b",".join(records) + b"]\n"])
        self.assertIn("--insecure", result.err)
        self.assertTrue(result.err.startswith("batchpipe: "), result.err)


class UsageTest(unittest.TestCase):
    def check_usage(self, args, flag):
        result = bp.run(args, ndjson(numbered(1)), timeout=bp.SLACK * 3)
        detail = f"exit {result.returncode}, stderr {result.stderr!r}"
        self.assertEqual(result.returncode, 2, detail)
        self.assertEqual(result.stdout, b"", detail)
        lines = bp.stderr_lines(result.stderr)
        self.assertEqual(len(lines), 1, detail)
        self.assertTrue(lines[0].startswith("batchpipe: "), detail)
        self.assertIn(flag, lines[0], detail)

    def test_http_flags_without_post_exit_2(self):
        for args in (["-H", "X-A: b"], ["--header", "X-A: b"], ["--compress", "gzip"], ["--insecure"],
                     ["--exec", "cat", "-H", "X-A: b"]):
            with self.subTest(args=args):
                self.check_usage(args, "--")

    def test_post_needs_an_http_url(self):
        for url in ("ftp://x", "file:///etc/passwd", "x", "ftp://user:sekret@x/", "http://user:sekret@exa mple/"):
            with self.subTest(url=url):
                self.check_usage(["--post", url], "--post")
                self.assertNotIn(b"sekret", bp.run(["--post", url], b"").stderr)

    def test_unreadable_header_file_exit_2(self):
        self.check_usage(["--post", "http://127.0.0.1:9/", "--header", "@/nonexistent/headers"], "--header")

    def test_malformed_header_exit_2_without_echoing_it(self):
        self.check_usage(["--post", "http://127.0.0.1:9/", "-H", "Authorization Bearer topsecret"], "--header")
        result = bp.run(["--post", "http://127.0.0.1:9/", "-H", "Authorization Bearer topsecret"], b"")
        self.assertNotIn(b"topsecret", result.stderr)


if __name__ == "__main__":
    unittest.main()
