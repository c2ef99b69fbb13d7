"""Failing fast on what cannot get better, and the statuses users name.

A command that is not found, a 404 or a host name that does not resolve
fails every batch alike: the run stops after the first, with exit status 5
and a message saying what to fix, instead of reading all the input to fail
batch after batch. --permanent-status and --retryable-status change how a
status is taken. Servers are http_server.ScriptedServer on 127.0.0.1; every
server and process is stopped by the test's cleanups.
"""

import os
import tempfile
import unittest

import bp
from http_server import ScriptedServer

FAST = ["--retry-delay", "1ms", "--retry-max-delay", "1ms"]
STOP = "batchpipe: stopping: every batch would fail the same way; "


def ndjson(n):
    return b"".join(b'{"i":%d}\n' % i for i in range(1, n + 1))


class FailFastCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def server(self, script=(), default=200):
        s = ScriptedServer(script, default=default)
        self.addCleanup(s.close)
        return s

    def lines(self, r):
        return bp.stderr_lines(r.stderr)

    def test_command_not_found_stops_after_the_first_batch(self):
        calls = self.path("calls")
        r = bp.run(["--exec", f"echo >> {calls}; no-such-command-xyz", "--size", "10", "--interval", "0",
                    "--dead-letter", self.path("dl")], ndjson(10000))
        self.assertEqual(r.returncode, 5, r.stderr)
        with open(calls) as f:
            self.assertEqual(len(f.read().splitlines()), 1, "tried more than the first batch")
        self.assertIn(STOP + "a program in the command was not found: check its name and PATH", self.lines(r))
        # What was read but not delivered is accounted for: dead-lettered, not silently dropped.
        with open(self.path("dl"), "rb") as f:
            dead = f.read()
        self.assertTrue(dead.startswith(ndjson(10)), dead[:100])

    def test_http_404_stops_the_run(self):
        server = self.server(default=404)
        r = bp.run(["--post", server.url("/no/such/path"), "--size", "5", "--interval", "0", "-j", "2", *FAST],
                   ndjson(5000))
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertLessEqual(len(server.requests()), 2, "one request per worker at most")
        self.assertIn(STOP + "there is nothing at that URL: check the path given to --post", self.lines(r))

    def test_401_names_the_credentials(self):
        server = self.server(default=401)
        r = bp.run(["--post", server.url("/"), *FAST], ndjson(3))
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertTrue(any(l.startswith(STOP + "the receiver wants credentials") for l in self.lines(r)), r.stderr)

    def test_a_host_name_that_does_not_resolve(self):
        # .invalid never resolves (RFC 2606).
        r = bp.run(["--post", "http://no-such-host.invalid/", "--connect-timeout", "5s", *FAST], ndjson(3))
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn(STOP + "the host name does not resolve: check it in the URL given to --post", self.lines(r))
        self.assertFalse(any(" retry " in l for l in self.lines(r)), r.stderr)

    def test_retryable_status_overrides_fail_fast(self):
        server = self.server([404, 404], default=200)
        r = bp.run(["--post", server.url("/"), "--retryable-status", "404", *FAST], ndjson(3))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(server.requests()), 3)

    def test_permanent_status_gives_up_at_once_and_goes_on(self):
        # psql -v ON_ERROR_STOP=1 exits 3 on an SQL error: that batch's fault, not worth a retry.
        calls = self.path("calls")
        cmd = f'echo $BATCHPIPE_BATCH >> {calls}; [ "$BATCHPIPE_BATCH" = 2 ] && exit 3; cat >/dev/null'
        r = bp.run(["--exec", cmd, "--size", "1", "--interval", "0", "--permanent-status", "3", *FAST],
                   ndjson(4))
        self.assertEqual(r.returncode, 4, r.stderr)
        with open(calls) as f:
            self.assertEqual(f.read().split(), ["1", "2", "3", "4"], "batch 2 was retried, or the run stopped")

    def test_permanent_status_127_does_not_stop_the_run(self):
        r = bp.run(["--exec", "exit 127", "--size", "1", "--interval", "0", "--permanent-status", "127"],
                   ndjson(3))
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertFalse(any(l.startswith(STOP) for l in self.lines(r)), r.stderr)

    def test_status_lists_are_checked(self):
        cases = [
            (["--exec", "cat", "--permanent-status", "3", "--retryable-status", "1-5"],
             "--permanent-status and --retryable-status both name 3"),
            (["--post", "http://127.0.0.1:1/", "--permanent-status", "200-204"],
             "--permanent-status: 2xx means delivered and cannot be named, got '200-204'"),
            (["--exec", "cat", "--retryable-status", "256"],
             "--retryable-status: 256 is not a status from 1 to 255 (exit statuses of --exec)"),
            (["--post", "http://127.0.0.1:1/", "--retryable-status", "x"],
             "--retryable-status: expected statuses such as 3 or 409,500-502, got 'x' (HTTP statuses)"),
            (["--permanent-status", "3"], "--permanent-status: only applies with --exec or --post"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = bp.run(args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stderr.decode().strip(), "batchpipe: " + message)


if __name__ == "__main__":
    unittest.main()
