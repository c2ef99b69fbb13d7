"""Credentials that change during a run. -H @FILE read again during a run: a token file replaced between requests
is sent from the next request on; one replaced while a request is on its way
gets a 401, which reads the file again and sends the batch again at once; a
token that stays wrong still stops the run (exit 5); a file that goes away or
is left empty keeps the headers read last, with a warning.

The receiver is http_server.ScriptedServer with a callable action that
accepts a request only if its Authorization header is what the token file
says at that moment: "a server that accepts only the current token". The
test rotates the file between rounds of records it writes to batchpipe's
stdin, after the server has taken every batch of the round before: no sleep.

--cert FILE (a client certificate, with its key in the same file) replaced
during a run: the next request goes on a new connection with the new
certificate, as the https server (which requires one signed by the test's
CA) sees it. Certificates are made by openssl, as in test_post.HttpsTest.

--aws-sigv4: every request's signature is computed again by botocore (from
Debian's python3-botocore, when installed) from what the server received,
with the keys the test put in batchpipe's environment.
"""

import gzip
import json
import os
import ssl
import subprocess
import shutil
import tempfile
import threading
import time
import unittest

import bp
from http_server import ScriptedServer

SIZE = 5  # records a batch; --interval 0, so a batch closes only when full
ROUND = 10  # records a round: two batches


def records(first, n):
    return [b'{"n":%d}' % i for i in range(first, first + n)]


def ndjson(recs):
    return b"".join(r + b"\n" for r in recs)


class HeaderRotationTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bp-hdr-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.token_file = os.path.join(self.tmp, "auth")
        self.lock = threading.Lock()
        self.accepted = []  # (token, records) of each request answered 200
        self.refused = []  # tokens of the requests answered 401

    def write_token(self, token, in_place=False):
        """Replaces the token file whole (a new file renamed over it), or
        rewrites it in place."""
        text = f"# rotated by the test\nAuthorization: Bearer {token}\n".encode()
        if in_place:
            with open(self.token_file, "r+b") as f:
                f.truncate(0)
                f.write(text)
            return
        tmp = self.token_file + ".tmp"
        with open(tmp, "wb") as f:
            f.write(text)
        os.rename(tmp, self.token_file)

    def current_token(self):
        try:
            with open(self.token_file, "rb") as f:
                for line in f.read().decode().splitlines():
                    if line.startswith("Authorization: Bearer "):
                        return line.split(" ", 2)[2]
        except FileNotFoundError:
            pass
        return self.last_token

    def server(self, before_check=None):
        """The server that accepts only the current token; `before_check(i)`
        runs before request i is checked (to rotate the file meanwhile)."""

        def answer(index, request):
            if before_check:
                before_check(index)
            sent = request.header("Authorization", "")
            token = sent.removeprefix("Bearer ")
            with self.lock:
                if token != self.current_token():
                    self.refused.append(token)
                    return ("status", 401, {}, b'{"error":"token expired or wrong"}')
                self.accepted.append((token, [r["n"] for r in json.loads(request.body)]))
            return 200

        server = ScriptedServer(default=answer)
        self.addCleanup(server.close)
        return server

    def accepted_count(self):
        with self.lock:
            return sum(len(recs) for _, recs in self.accepted)

    def start(self, server, *args):
        env_args = ["--post", server.url("/in"), "-H", "@" + self.token_file, "--size", str(SIZE),
                    "--interval", "0", *args]
        return bp.Live(self, env_args)

    @staticmethod
    def poll(live, predicate, timeout=bp.SLACK * 3):
        """Checks the server-side `predicate` every 10 ms, reading batchpipe's
        output meanwhile, until it holds or the deadline passes."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                return predicate()
            live.pump(0.01)
        return True

    def round(self, live, first):
        """Writes one round of records; returns once the server accepted them."""
        live.write(ndjson(records(first, ROUND)))
        self.assertTrue(self.poll(live, lambda: self.accepted_count() >= first + ROUND),
                        f"accepted {self.accepted_count()} of {first + ROUND}; stderr {bytes(live.err)!r}")

    def assert_each_record_once(self, total):
        got = sorted(n for _, recs in self.accepted for n in recs)
        self.assertEqual(got, list(range(total)))

    def test_a_replaced_token_file_is_sent_from_the_next_request(self):
        self.last_token = "t0"
        self.write_token("t0")
        server = self.server()
        live = self.start(server, "--parallel", "2")
        # Once rewritten in place, not renamed: a new size tells it even
        # within one tick of the file system's clock.
        tokens = ["t0", "t1", "t2-in-place", "t3"]
        for k, token in enumerate(tokens):
            if k:
                self.write_token(token, in_place=(k == 2))
            self.last_token = token
            self.round(live, k * ROUND)
        self.assertEqual(live.finish(), 0, bytes(live.err))
        self.assertEqual(bytes(live.err), b"")
        self.assertEqual(self.refused, [])  # read before each request: never sent stale
        self.assert_each_record_once(4 * ROUND)
        for token, recs in self.accepted:  # each round with its own token
            self.assertEqual(token, tokens[recs[0] // ROUND])
        self.assertEqual(server.errors(), [])

    def test_a_token_replaced_while_a_request_is_on_its_way_gets_the_batch_sent_again_at_once(self):
        self.last_token = "aaaa"
        self.write_token("aaaa")

        def rotate(index):  # request 2 left with "aaaa"; the token changes before it is checked
            if index == 2:
                self.write_token("bbbb", in_place=True)
                self.last_token = "bbbb"

        server = self.server(before_check=rotate)
        live = self.start(server, "--retries", "0")  # sent again without a retry: none is needed
        for k in range(3):
            self.round(live, k * ROUND)
        self.assertEqual(live.finish(), 0, bytes(live.err))
        self.assertEqual(bytes(live.err), b"")
        self.assertEqual(self.refused, ["aaaa"])
        self.assertEqual([t for t, _ in self.accepted], ["aaaa", "aaaa"] + ["bbbb"] * 4)
        self.assert_each_record_once(3 * ROUND)
        requests = server.requests()
        self.assertEqual(len(requests), 7)
        self.assertEqual(requests[2].body, requests[3].body)  # the same batch,
        self.assertEqual(requests[2].header("Idempotency-Key"), requests[3].header("Idempotency-Key"))  # same key

    def test_a_token_that_stays_wrong_stops_the_run_at_once(self):
        self.last_token = "right"
        self.write_token("wrong")

        def answer(index, request):
            return ("status", 401, {}, b"token wrong")

        server = ScriptedServer(default=answer)
        self.addCleanup(server.close)
        result = bp.run(["--post", server.url("/in"), "-H", "@" + self.token_file, "--retries", "inf"],
                        ndjson(records(0, 3)))
        err = result.stderr.decode()
        self.assertEqual(result.returncode, 5, err)
        self.assertEqual(len(server.requests()), 1)  # read again, unchanged: not sent again
        self.assertIn("HTTP 401", err)
        self.assertIn("the header file, read again, is unchanged", err)
        self.assertNotIn("Bearer wrong", err)

    def test_a_token_file_gone_or_emptied_keeps_the_last_token_with_a_warning(self):
        self.last_token = "keep"
        self.write_token("keep")
        server = self.server()
        live = self.start(server)
        self.round(live, 0)
        os.unlink(self.token_file)
        self.round(live, ROUND)
        self.assertTrue(self.poll(live, lambda: b"No such file" in live.err))
        open(self.token_file, "wb").close()  # left empty, as by a writer that truncates first
        self.round(live, 2 * ROUND)
        with open(self.token_file, "wb") as f:
            f.write(b"Authorization Bearer no-colon\n")
        self.round(live, 3 * ROUND)
        self.assertEqual(live.finish(), 0, bytes(live.err))
        self.assertEqual(self.refused, [])
        self.assertEqual({t for t, _ in self.accepted}, {"keep"})
        self.assert_each_record_once(4 * ROUND)
        lines = bp.stderr_lines(bytes(live.err))
        path = self.token_file
        self.assertEqual(lines, [
            f"batchpipe: --header @{path}: cannot read it: No such file or directory; still sending the "
            "headers read from it before (replace the file whole: write a new one and rename it over this one)",
            f"batchpipe: --header @{path}: the file is empty (or holds only comments); still sending the "
            "headers read from it before (replace the file whole: write a new one and rename it over this one)",
            f"batchpipe: --header: expected 'Name: value' on line 1 of {path}; still sending the headers "
            "read from it before",
        ])

    def test_record_fields_in_a_header_file_are_refused_at_start_up(self):
        with open(self.token_file, "wb") as f:
            f.write(b"X-Tenant: {.tenant}\n")
        result = bp.run(["--post", "http://127.0.0.1:9/", "-H", "@" + self.token_file], b"")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"--header @{self.token_file}: 'X-Tenant' uses record fields", result.stderr.decode())


def openssl(*args):
    made = subprocess.run(["openssl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if made.returncode != 0:
        raise unittest.SkipTest(f"openssl could not make a certificate: {made.stderr[-300:]!r}")


class ClientCertificateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl is not installed: no certificate to test TLS with")
        cls.dir = tempfile.mkdtemp(prefix="bp-cert-")
        d = lambda name: os.path.join(cls.dir, name)  # noqa: E731
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
        openssl("req", "-x509", *ec, "-keyout", d("ca.key"), "-out", d("ca.pem"), "-subj", "/CN=test-ca")
        openssl("req", "-x509", *ec, "-keyout", d("server.key"), "-out", d("server.pem"), "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-CA", d("ca.pem"), "-CAkey", d("ca.key"))
        for name in ("client-a", "client-b"):
            openssl("req", "-x509", *ec, "-keyout", d(name + ".key"), "-out", d(name + ".crt"), "-subj", "/CN=" + name,
                    "-CA", d("ca.pem"), "-CAkey", d("ca.key"))
            with open(d(name + ".pem"), "wb") as out:  # the certificate and its key in one file
                for part in (".crt", ".key"):
                    with open(d(name + part), "rb") as f:
                        out.write(f.read())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def install(self, name):
        """Puts client certificate `name` in place as client.pem, renamed over it."""
        with open(self.path(name + ".pem"), "rb") as f, open(self.path("client.tmp"), "wb") as out:
            out.write(f.read())
        os.rename(self.path("client.tmp"), self.path("client.pem"))

    def tls_server(self):
        """A server that wants a client certificate from the test CA."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.path("server.pem"), self.path("server.key"))
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(self.path("ca.pem"))
        server = ScriptedServer(ssl_context=context)
        self.addCleanup(server.close)
        return server

    def test_a_replaced_client_certificate_is_presented_from_the_next_request(self):
        server = self.tls_server()
        self.install("client-a")
        live = bp.Live(self, ["--post", server.url("/in"), "--cacert", self.path("ca.pem"), "--cert",
                              self.path("client.pem"), "--size", "5", "--interval", "0"])
        for k, name in enumerate(["client-a", "client-b", "client-a"]):
            if k:
                self.install(name)
            live.write(ndjson(records(k * ROUND, ROUND)))
            want = (k + 1) * ROUND // SIZE
            self.assertTrue(HeaderRotationTest.poll(live, lambda: len(server.requests()) >= want),
                            f"{len(server.requests())} of {want} requests; stderr {bytes(live.err)!r}")
            self.assertEqual({r.peer for r in server.requests()[k * ROUND // SIZE:]}, {name}, [(r.peer, r.connection) for r in server.requests()])
        self.assertEqual(live.finish(), 0, bytes(live.err))
        self.assertEqual(bytes(live.err), b"")
        self.assertEqual(len(server.requests()), 3 * ROUND // SIZE)
        self.assertEqual(server.handshake_failures(), 0)

    def test_certificate_and_key_are_checked_at_start_up(self):
        post = ["--post", "https://127.0.0.1:9/"]
        for args, fragment in [
            (["--key", self.path("client-a.key")], "--key: only applies with --cert"),
            (["--cert", self.path("client-a.crt")], "holds no private key: name its file with --key FILE"),
            (["--cert", self.path("client-a.key"), "--key", self.path("client-a.key")], "has no PEM certificate"),
            (["--cert", self.path("client-a.crt"), "--key", self.path("client-a.crt")], "has no PEM private key"),
            (["--cert", self.path("nope.pem")], "--cert: cannot read"),
        ]:
            with self.subTest(args=args):
                result = bp.run(post + args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(fragment, result.stderr.decode())
        ok = bp.run(post + ["--cert", self.path("client-a.crt"), "--key", self.path("client-a.key"), "--retries", "0"],
                    b"")
        self.assertEqual(ok.returncode, 0, ok.stderr)  # no records: nothing sent, the files were fine


    def test_a_key_that_is_not_the_certificates_stops_the_run_at_once_with_a_hint(self):
        # (A server's "certificate required" alert is not tested here: with
        # TLS 1.3 it comes after the client's handshake, and libcurl reports a
        # reset or a failed write as often as the alert.)
        server = self.tls_server()
        r = bp.run(["--post", server.url("/in"), "--cacert", self.path("ca.pem"), "--size", "10", "--retry-delay",
                    "10ms", "--cert", self.path("client-a.crt"), "--key", self.path("client-b.key")],
                   ndjson(records(0, 30)))
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("check that --key is the key of --cert's certificate", r.stderr.decode())
        self.assertEqual(server.requests(), [])


class AwsSigV4Test(unittest.TestCase):
    KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLETOKEN"}

    def env(self, **keys):
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("AWS_")}
        env.update(keys)
        return env

    def verify(self, request, service, region):
        """Whether botocore, given the request as received, signs it as batchpipe did."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        authorization = request.header("Authorization")
        signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
        headers = {k: v for k, v in request.headers.items() if k.lower() in signed}
        again = AWSRequest(method=request.method, url=f"http://{request.header('Host')}{request.path}",
                           data=request.body, headers=headers)
        again.context["timestamp"] = request.header("X-Amz-Date")
        auth = SigV4Auth(Credentials(self.KEYS["AWS_ACCESS_KEY_ID"], self.KEYS["AWS_SECRET_ACCESS_KEY"],
                                     self.KEYS["AWS_SESSION_TOKEN"]), service, region)
        signature = auth.signature(auth.string_to_sign(again, auth.canonical_request(again)), again)
        return signed, authorization.endswith("Signature=" + signature)

    def test_every_request_is_signed_as_botocore_signs_it(self):
        try:
            import botocore.auth  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("botocore is not installed (Debian: python3-botocore)")
        server = ScriptedServer(default=200)
        self.addCleanup(server.close)
        # Batches over 1 KiB even compressed: the body signed is the body sent.
        big = [b'{"n":%d,"pad":"%s"}' % (n, os.urandom(300).hex().encode()) for n in range(10)]
        result = bp.run(["--post", server.url("/firehose?Action=PutRecordBatch"), "--aws-sigv4",
                         "aws:amz:eu-west-1:firehose", "--size", "4", "--compress", "gzip", "-H", "X-Tenant: t1",
                         "-v"], ndjson(big), env=self.env(**self.KEYS))
        err = result.stderr.decode()
        self.assertEqual(result.returncode, 0, err)
        requests = server.requests()
        self.assertEqual(len(requests), 3)
        self.assertEqual(b"".join(gzip.decompress(r.body) for r in requests),
                         b"".join(b"[" + b",".join(big[i:i + 4]) + b"]\n" for i in (0, 4, 8)))
        for r in requests:
            self.assertTrue(r.header("Authorization").startswith(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), r.header("Authorization"))
            self.assertIn("/eu-west-1/firehose/aws4_request", r.header("Authorization"))
            self.assertEqual(r.header("x-amz-security-token"), self.KEYS["AWS_SESSION_TOKEN"])
            signed, good = self.verify(r, "firehose", "eu-west-1")
            self.assertTrue(good, f"botocore signs it otherwise; signed headers {signed}")
            for name in ("host", "x-amz-date", "x-amz-security-token", "content-encoding", "idempotency-key",
                         "x-tenant"):
                self.assertIn(name, signed)
            self.assertNotIn("expect", signed)  # not sent empty and signed
        for secret in (self.KEYS["AWS_SECRET_ACCESS_KEY"], self.KEYS["AWS_SESSION_TOKEN"]):
            self.assertNotIn(secret, err)

    def test_keys_come_from_the_environment_only(self):
        post = ["--post", "http://127.0.0.1:9/"]
        result = bp.run(post + ["--aws-sigv4", "aws:amz"], env=self.env())
        self.assertEqual(result.returncode, 2)
        self.assertIn("--aws-sigv4: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment",
                      result.stderr.decode())
        result = bp.run(post + ["--aws-sigv4", "aws::x"], env=self.env(**self.KEYS))
        self.assertEqual(result.returncode, 2)
        self.assertIn("--aws-sigv4: 'aws::x': expected PROVIDER1[:PROVIDER2[:REGION[:SERVICE]]]", result.stderr.decode())
        result = bp.run(["--post", "http://u:p@127.0.0.1:9/", "--aws-sigv4", "aws:amz"], env=self.env(**self.KEYS))
        self.assertEqual(result.returncode, 2)
        self.assertIn("not with a user:password in the --post URL", result.stderr.decode())


if __name__ == "__main__":
    unittest.main()
