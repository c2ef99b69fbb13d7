"""The command line a Unix user expects: start-up checks that refuse a run
before anything is read or sent (exit 2, one line on stderr naming the flag,
nothing on stdout, nothing delivered), warnings that let it go ahead, and
messages in batchpipe's own words.

Receivers are http_server.ScriptedServer on 127.0.0.1; "untouched" means it
accepted no connection at all.
"""

import os
import shutil
import ssl
import subprocess
import tempfile
import unittest

import bp
from http_server import ScriptedServer

RECORDS = b'{"a":1}\n{"b":2}\n'
BATCH = b'[{"a":1},{"b":2}]\n'
FAST = ["--retries", "0"]
# CLI11's own phrases, which users should not see.
JARGON = ("required", "missing (", "not in {", "excludes", "was not expected", "Could not convert", "At Most")


class Case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bp-usage-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data: bytes, mode=None):
        with open(self.path(name), "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(self.path(name), mode)
        return self.path(name)

    def server(self, script=(), default=200, ssl_context=None):
        server = ScriptedServer(script, default=default, ssl_context=ssl_context)
        self.addCleanup(server.close)
        return server

    def usage_error(self, args, fragment, input=RECORDS, **kwargs) -> str:
        """Runs batchpipe expecting a usage error; returns its one line."""
        result = bp.run(args, input, **kwargs)
        detail = f"{args}: exit {result.returncode}, stdout {result.stdout!r}, stderr {result.stderr!r}"
        self.assertEqual(result.returncode, 2, detail)
        self.assertEqual(result.stdout, b"", detail)
        lines = bp.stderr_lines(result.stderr)
        self.assertEqual(len(lines), 1, detail)
        self.assertTrue(lines[0].startswith("batchpipe: "), detail)
        self.assertIn(fragment, lines[0], detail)
        for phrase in JARGON:
            self.assertNotIn(phrase, lines[0], detail)
        return lines[0]

    def assert_untouched(self, server):
        self.assertEqual(server.connections(), 0)
        self.assertEqual(server.requests(), [])

    def run_ok(self, args, input=RECORDS, **kwargs):
        result = bp.run(args, input, **kwargs)
        self.assertEqual(result.returncode, 0, f"{args}: stderr {result.stderr!r}")
        return result


class DeadLetterTest(Case):
    def test_dead_letter_that_is_an_input_is_refused(self):
        server = self.server()
        dl = self.write("failed.ndjson", RECORDS)
        os.link(dl, self.path("other-name"))
        out = self.path("exec-ran")
        sinks = (["--post", server.url("/")], ["--exec", f"cat > {out}"])
        for sink in sinks:
            for args, stdin_file in (
                ([dl], None),                                       # the same name
                ([self.path("missing"), self.path("other-name")], None),  # another name, after a missing file
                ([os.path.join(self.dir, ".", "failed.ndjson")], None),
                ([], dl),                                           # as stdin
                (["-"], dl),
            ):
                with self.subTest(sink=sink[0], args=args, stdin=stdin_file):
                    kwargs = {}
                    if stdin_file:
                        kwargs["stdin"] = open(stdin_file, "rb")
                        self.addCleanup(kwargs["stdin"].close)
                    line = self.usage_error([*sink, "--dead-letter", dl, *args], f"--dead-letter {dl}: it is also ",
                                            **kwargs)
                    self.assertIn("mv ", line)
        self.assert_untouched(server)
        self.assertFalse(os.path.exists(out))
        with open(dl, "rb") as f:
            self.assertEqual(f.read(), RECORDS)

    def test_dead_letter_not_yet_there_or_another_file_is_fine(self):
        server = self.server()
        data = self.write("in.ndjson", RECORDS)
        self.run_ok(["--post", server.url("/"), "--dead-letter", self.path("new.ndjson"), data])
        self.write("old.ndjson", b"", mode=0o600)  # one that others could read is refused (test_file_safety)
        self.run_ok(["--post", server.url("/"), "--dead-letter", self.path("old.ndjson"), data])
        with open(os.devnull, "rb") as devnull:  # stdin from /dev/null, as under cron or systemd
            self.run_ok(["--post", server.url("/"), "--dead-letter", os.devnull], stdin=devnull)
        self.assertEqual([r.body for r in server.requests()], [BATCH, BATCH])


class HeaderAndCertificateFileTest(Case):
    def test_header_file_that_is_a_directory_or_unreadable_is_refused(self):
        server = self.server()
        cases = [(self.dir, f"--header: {self.dir} is a directory"),
                 (self.path("nope"), f"--header: cannot read {self.path('nope')}: No such file")]
        if os.geteuid() != 0:  # root reads any file
            cases.append((self.write("secret", b"A: b\n", 0o000), "--header: cannot read"))
        for path, fragment in cases:
            with self.subTest(path=path):
                self.usage_error(["--post", server.url("/"), "-H", "@" + path], fragment)
        self.usage_error(["--post", server.url("/"), "-H", "@"], "--header @: expected a file name")
        self.assert_untouched(server)

    def test_cacert_must_be_a_file_with_a_pem_certificate(self):
        server = self.server()
        empty = self.write("empty.pem", b"")
        key = self.write("key.pem", b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
        for path, fragment in ((self.dir, f"--cacert: {self.dir} is a directory"),
                               (empty, f"--cacert: {empty} has no PEM certificate in it"),
                               (key, f"--cacert: {key} has no PEM certificate in it"),
                               (self.path("nope"), "--cacert: cannot read")):
            with self.subTest(path=path):
                self.usage_error(["--post", server.url("/").replace("http:", "https:"), "--cacert", path], fragment)
        self.assert_untouched(server)

    def test_tls_options_with_an_http_url_warn(self):
        server = self.server()
        cert = self.write("ca.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        for args, warning in ((["--insecure"], "batchpipe: --insecure: has no effect on an http:// URL"),
                              (["--cacert", cert], "batchpipe: --cacert: has no effect on an http:// URL")):
            with self.subTest(args=args):
                result = self.run_ok(["--post", server.url("/"), *args])
                self.assertEqual(result.stdout, b"")
                self.assertEqual(bp.stderr_lines(result.stderr), [warning + ", which has no TLS"])
                self.assertEqual(bp.run(["-q", "--post", server.url("/"), *args], RECORDS).stderr, b"")
        self.assertEqual(len(server.requests()), 4)


class UrlTest(Case):
    def test_bad_urls_are_refused_with_the_fix(self):
        server = self.server()
        port = server.port
        cases = [
            (f"127.0.0.1:{port}", f"--post 127.0.0.1:{port}: add a scheme, e.g. http://127.0.0.1:{port}"),
            ("localhost:8080", "--post localhost:8080: add a scheme, e.g. http://localhost:8080"),
            ("http://", "--post http://: missing host"),
            ("http:///x", "--post http:///x: missing host"),
            ("http://h:99999/", "--post http://h:99999/: bad port '99999'"),
            ("http://127.0.0.1:0/", "--post http://127.0.0.1:0/: bad port '0'"),
            ("ftp://127.0.0.1/", "--post ftp://127.0.0.1/: ftp:// is not supported"),
            ("", "--post: the URL is empty"),
            ("http//127.0.0.1/", "--post http//127.0.0.1/: malformed URL; expected http://HOST[:PORT][/PATH] or https://"),
        ]
        for url, message in cases:
            with self.subTest(url=url):
                self.assertTrue(self.usage_error(["--post", url], message).startswith("batchpipe: " + message))
        self.assert_untouched(server)

    def test_password_in_the_url_warns_and_is_never_shown(self):
        server = self.server()
        result = self.run_ok(["--post", server.url("/", userinfo="ann:sekret")])
        lines = bp.stderr_lines(result.stderr)
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("--post: the URL's user:password can be read by other users in ps", lines[0])
        self.assertIn("'Authorization: Basic ...' header", lines[0])
        self.assertIn("-H @FILE", lines[0])
        self.assertNotIn("sekret", lines[0])
        self.assertEqual([r.body for r in server.requests()], [BATCH])
        line = self.usage_error(["--post", f"http://ann:sekret@127.0.0.1:0/"], "bad port '0'")
        self.assertNotIn("sekret", line)


class IdempotencyKeyTest(Case):
    def test_idempotency_key_header_is_refused_saying_why(self):
        server = self.server()
        headers = self.write("h", b"X-Ok: 1\nidempotency-key: mine\n")
        for args in (["-H", "Idempotency-Key: X"], ["--header", "idempotency-key:X"], ["-H", "@" + headers]):
            with self.subTest(args=args):
                line = self.usage_error(["--post", server.url("/"), *args], "--header: Idempotency-Key")
                self.assertIn("batchpipe sends its own, one per batch", line)
                self.assertIn("drops duplicates", line)
        self.assert_untouched(server)


class OwnWordsTest(Case):
    def test_messages_name_the_flag_and_what_it_takes(self):
        cases = [
            (["--size"], "batchpipe: --size: missing value; expected a whole number of at least 1"),
            (["--interval"], "batchpipe: --interval: missing value; expected a duration such as 250ms"),
            (["--max-bytes"], "batchpipe: --max-bytes: missing value; expected a size such as 65536, 64K"),
            (["--on-invalid", "ignore"], "batchpipe: --on-invalid: expected skip, fail or quote, got 'ignore'"),
            (["--on-full", "wait"], "batchpipe: --on-full: expected block or drop, got 'wait'"),
            (["--exec", "cat", "--on-error", "halt"], "batchpipe: --on-error: expected continue or stop, got 'halt'"),
            (["--post", "http://h/", "--compress", "brotli"], "batchpipe: --compress: unknown method 'brotli'; "
             "expected gzip[:LEVEL] (LEVEL 1-12, default 6) or zstd[:LEVEL] (LEVEL 1-22, default 3)"),
            (["--exec", "cat", "--post", "http://h/"], "batchpipe: --exec and --post cannot be used together"),
            (["-H"], "batchpipe: --header: missing value; expected 'Name: value' or @FILE"),
            (["--stats=abc"], "batchpipe: --stats: expected human or json, got 'abc'"),
            (["--max-bytes", "2G"], "batchpipe: --max-bytes: 2G is too large (at most 1G)"),
            (["--max-bytes", "100.5"], "batchpipe: --max-bytes: 100.5 is not whole bytes"),
            (["--max-buffer", "1.1M"], "batchpipe: --max-buffer: 1.1M is not whole bytes"),
            (["--interval", "99999999999h"], "batchpipe: --interval: 99999999999h is too large"),
            (["--size", "99999999999999999999"], "batchpipe: --size: 99999999999999999999 is too large"),
            (["--threads", "65"], "batchpipe: --threads: 65 is too large (at most 64)"),
            (["--exec", "cat", "-j", "257"], "batchpipe: --parallel: 257 is too large (at most 256)"),
            # An option is not the value of the one before it.
            (["--compress", "--post", "http://h/"], "batchpipe: --compress: missing value before --post; expected gzip"),
            (["--post", "http://h/", "-H", "--method", "PUT"],
             "batchpipe: --header: missing value before --method; expected 'Name: value' or @FILE"),
            (["--size", "--interval=1s"], "batchpipe: --size: missing value before --interval; expected a whole number"),
        ]
        for args, start in cases:
            with self.subTest(args=args):
                self.assertTrue(self.usage_error(args, start.removeprefix("batchpipe: ")).startswith(start))

    def test_compress_names_the_methods_and_level_ranges(self):
        forms = "expected gzip[:LEVEL] (LEVEL 1-12, default 6) or zstd[:LEVEL] (LEVEL 1-22, default 3)"
        for value, reason in (("brotli", "unknown method 'brotli'"),
                              ("gzip:0", "gzip level must be a whole number from 1 to 12, got '0'"),
                              ("gzip:13", "gzip level must be a whole number from 1 to 12, got '13'"),
                              ("zstd:23", "zstd level must be a whole number from 1 to 22, got '23'"),
                              ("gzip:x", "gzip level must be a whole number from 1 to 12, got 'x'")):
            with self.subTest(value=value):
                line = self.usage_error(["--post", "http://h/", "--compress", value], "--compress")
                self.assertEqual(line, f"batchpipe: --compress: {reason}; {forms}")
        # The option parser takes the word after --compress whatever it is:
        # said as a missing value, not as "--compress only applies with --post".
        line = self.usage_error(["--compress", "--post", "http://h/"], "--compress")
        self.assertEqual(line, f"batchpipe: --compress: missing value before --post; {forms} (try 'batchpipe --help')")
        line = self.usage_error(["--post", "http://h/", "--compress"], "--compress")
        self.assertEqual(line, f"batchpipe: --compress: missing value; {forms} (try 'batchpipe --help')")

    def test_unknown_option_suggests_the_closest(self):
        for args, message in (
            (["--sise", "5"], "unknown option --sise; did you mean --size?"),
            (["--intreval=1s"], "unknown option --intreval; did you mean --interval?"),
            (["--dead-leter", "x", "--exec", "cat"], "unknown option --dead-leter; did you mean --dead-letter?"),
            (["-size", "5"], "unknown option -size; did you mean --size?"),
            (["--frobnicate"], "unknown option --frobnicate (try 'batchpipe --help')"),
        ):
            with self.subTest(args=args):
                self.assertIn("batchpipe: " + message, self.usage_error(args, message))

    def test_help_says_a_bare_interval_is_seconds(self):
        text = self.run_ok(["--help"]).stdout.decode()
        self.assertIn("a bare number is seconds", text)
        self.assertIn("not Idempotency-Key", text)


class RepeatedOptionTest(Case):
    def test_the_last_scalar_wins_and_lists_accumulate(self):
        # --post is a list too (several URLs take turns), so it is given once here.
        server = self.server()
        data = b"".join(b'{"n":%d}\n' % n for n in range(6))
        result = self.run_ok(["--size", "1", "--size", "3", "--interval", "0",
                              "--post", server.url("/in"), "-H", "X-A: 1", "--header", "X-B: 2", "-"], data)
        self.assertEqual(result.stderr, b"", result.stderr)
        requests = server.requests()
        self.assertEqual([r.body.count(b"{") for r in requests], [3, 3])
        self.assertEqual([r.path for r in requests], ["/in", "/in"])
        self.assertEqual((requests[0].header("X-A"), requests[0].header("X-B")), ("1", "2"))
        out = self.run_ok(["--on-invalid", "fail", "--on-invalid", "quote"], b"oops\n").stdout
        self.assertEqual(out, b'["oops"]\n')


class IntervalTest(Case):
    def test_a_bare_interval_of_60_or_more_warns(self):
        result = self.run_ok(["--interval", "500"])
        self.assertEqual(result.stdout, BATCH)
        self.assertEqual(bp.stderr_lines(result.stderr), ["batchpipe: --interval 500: 500 seconds; did you mean 500ms?"])
        for args in (["--interval", "59"], ["--interval", "500ms"], ["--interval", "2m"], ["-q", "--interval", "500"]):
            with self.subTest(args=args):
                self.assertEqual(self.run_ok(args).stderr, b"")


class RecordSizeTest(Case):
    def test_oversize_record_names_the_limit(self):
        big = b'"' + b"x" * 2008 + b'"'  # 2010 bytes
        result = bp.run(["--max-bytes", "1000"], b'{"a":1}\n' + big + b"\n")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, b"batchpipe: line 2: record of 2010 bytes exceeds --max-bytes 1000\n")
        result = bp.run(["--max-bytes", "1K"], big + b"\n")
        self.assertEqual(result.stderr, b"batchpipe: line 1: record of 2010 bytes exceeds --max-bytes 1024 (1 KiB)\n")


class HttpMessagesTest(Case):
    def test_redirect_names_its_location(self):
        server = self.server([("redirect", 301, "https://127.0.0.1:1/in"), ("redirect", 308, "/moved")])
        for url, fragment in ((server.url("/in"), "Location: https://127.0.0.1:1/in (the server wants https)"),
                              (server.url("/x"), f"Location: http://127.0.0.1:{server.port}/moved;")):
            with self.subTest(url=url):
                result = bp.run(["--post", url, *FAST], RECORDS)
                self.assertEqual(result.returncode, 4, result.stderr)
                err = result.stderr.decode()
                self.assertIn(fragment, err)
                self.assertIn("batchpipe does not follow redirects, so --post that URL instead", err)
        self.assertEqual([r.path for r in server.requests()], ["/in", "/x"])

    def test_redirect_message_never_shows_a_password(self):
        server = self.server([("redirect", 302, "/moved"), ("redirect", 307, "http://ann:sekret2@127.0.0.1:1/x")])
        for path, location in (("/a", f"http://127.0.0.1:{server.port}/moved"), ("/b", "http://127.0.0.1:1/x")):
            with self.subTest(path=path):
                result = bp.run(["-q", "--post", server.url(path, userinfo="ann:sekret"), *FAST], RECORDS)
                self.assertEqual(result.returncode, 4, result.stderr)
                self.assertIn(f"Location: {location};", result.stderr.decode())
                self.assertNotIn(b"sekret", result.stderr)

    def test_tls_failure_says_what_curl_says_and_hints_at_cacert(self):
        if shutil.which("openssl") is None:
            self.skipTest("openssl is not installed: no certificate to test TLS with")
        key, cert = self.path("key.pem"), self.path("cert.pem")
        made = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
             "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(made.returncode, 0, made.stderr)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = self.server(ssl_context=context)
        result = bp.run(["--post", server.url("/"), *FAST], RECORDS)
        self.assertEqual(result.returncode, 5, result.stderr)  # every batch would fail so: the run stops
        err = result.stderr.decode()
        self.assertIn("SSL certificate problem: self-signed certificate", err)
        self.assertIn("batchpipe: stopping: every batch would fail the same way; the server's certificate", err)
        self.assertIn("pass that CA's certificate with --cacert FILE", err)
        self.assertEqual(server.requests(), [])


class ExecPipelineTest(Case):
    """The trap that README and batchpipe(1) document, and the safe forms they give."""

    def test_a_failing_first_stage_is_hidden_by_the_pipeline(self):
        result = bp.run(["--exec", "false | cat > /dev/null", *FAST], RECORDS)
        self.assertEqual(result.returncode, 0, result.stderr)  # delivered, as far as anyone can tell

    def test_the_documented_safe_forms_fail_the_batch(self):
        dead = self.path("failed.ndjson")
        forms = ['tmp=$(mktemp) && trap "rm -f $tmp" EXIT && false > "$tmp" && cat "$tmp" > /dev/null']
        if shutil.which("bash"):
            forms.append("exec bash -o pipefail -c 'false | cat > /dev/null'")
        for command in forms:
            with self.subTest(command=command):
                result = bp.run(["--exec", command, "--dead-letter", dead, *FAST], RECORDS)
                self.assertEqual(result.returncode, 4, result.stderr)
                self.assertIn("command exited with status 1", result.stderr.decode())
        with open(dead, "rb") as f:
            self.assertEqual(f.read(), RECORDS * len(forms))

    def test_help_points_at_the_man_page(self):
        self.assertIn("a pipeline's status is its last command's (see batchpipe(1))", self.run_ok(["--help"]).stdout.decode())


class BashCompletionTest(Case):
    """completions/batchpipe.bash, typed into an interactive bash on a pty:
    what readline puts on the line after a Tab."""

    COMPLETION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "completions", "batchpipe.bash")

    def complete(self, line: str) -> str:
        """The text bash echoes after `line` and a Tab, control characters dropped."""
        import pty
        import select
        import time
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(self.dir)
            os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"],
                       {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "dumb", "PS1": "$ ", "HOME": self.dir})
        self.addCleanup(lambda: (os.close(fd), os.waitpid(pid, 0)))

        def read_until(marker: bytes, timeout=bp.SLACK * 2) -> bytes:
            out, deadline = b"", time.monotonic() + timeout
            while marker not in out and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.05)[0]:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        break
            return out

        os.write(fd, f"source {self.COMPLETION}; echo sourced-$((6*7))\n".encode())
        read_until(b"sourced-42")
        os.write(fd, line.encode() + b"\t")
        out = read_until(b"\x00never\x00", timeout=1.0)  # whatever readline puts there in a second
        os.write(fd, b"\x15exit\n")
        text = out.decode("utf-8", "replace")
        while "\b" in text:  # apply backspaces as the terminal would
            i = text.index("\b")
            text = text[: max(0, i - 1)] + text[i + 1 :]
        return "".join(c for c in text if c >= " ")

    def test_header_file_completes_without_a_backslash(self):
        if shutil.which("bash") is None:
            self.skipTest("bash is not installed")
        self.write("hdrs.txt", b"A: b\n")
        os.mkdir(self.path("sub"))
        self.write("my file.txt", b"")
        for line, expected in (("batchpipe -H @hd", "batchpipe -H @hdrs.txt "),
                               ("batchpipe --header @hd", "batchpipe --header @hdrs.txt "),
                               ("batchpipe --header=@hd", "batchpipe --header=@hdrs.txt "),
                               ("batchpipe -H @su", "batchpipe -H @sub/"),
                               ("batchpipe -H @my", "batchpipe -H @my\\ file.txt "),
                               ("batchpipe --cacert hd", "batchpipe --cacert hdrs.txt ")):
            with self.subTest(line=line):
                got = self.complete(line)
                self.assertTrue(got.endswith(expected), got)
                self.assertNotIn("\\@", got)


class DocsTest(Case):
    """man/batchpipe.1 and the completions, against what --help offers."""

    ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

    def read(self, relative):
        with open(os.path.join(self.ROOT, relative), encoding="utf-8") as f:
            return f.read()

    def test_man_page_has_the_expected_sections_and_no_groff_warnings(self):
        man = self.read("man/batchpipe.1")
        sections = [line[4:].strip('"') for line in man.splitlines() if line.startswith(".SH ")]
        expected = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "BUGS",
                    "EXAMPLES", "REPORTING BUGS", "SEE ALSO"]
        self.assertEqual([s for s in sections if s in expected], expected)  # all there, in man-pages(7) order
        for text in ("https_proxy", "no_proxy", "TMPDIR", "BATCHPIPE_BATCH_ID", "Pipelines in the command"):
            self.assertIn(text, man)
        if shutil.which("groff") is None:
            self.skipTest("groff is not installed")
        checked = subprocess.run(["groff", "-ww", "-z", "-man", os.path.join(self.ROOT, "man/batchpipe.1")],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual((checked.returncode, checked.stderr), (0, b""))

    # An option's name as written: -q, --max-bytes.
    NAME = r"(?<![\w-])(--[a-z][a-z0-9-]*|-[A-Za-z])(?![\w-])"
    # The names at the start of an option line of --help: "  -j,--parallel N ...".
    HELP_LINE = r"^  ((?:-[A-Za-z]|--[a-z][a-z0-9-]*)(?:,(?:-[A-Za-z]|--[a-z][a-z0-9-]*))*)"

    def help_options(self):
        """{long name: default in --help's brackets, or None}, and every name.
        --help is drawn from the option table (src/cli/option_table.cc), and
        tests/option_table_test.cc checks it against the table."""
        import re
        defaults, names, current = {}, set(), None
        for line in self.run_ok(["--help"]).stdout.decode().splitlines():
            m = re.match(self.HELP_LINE, line)
            if m:
                names.update(m.group(1).split(","))
                current = m.group(1).split(",")[-1]
                defaults[current] = None
            elif not line.startswith("  "):
                current = None
            bracket = re.search(r" \[([^\]]*)\]$", line)
            if bracket and current:
                defaults[current] = bracket.group(1)
        return defaults, names

    def man_options(self):
        """{long name: the text of its entry} for each tagged paragraph of
        OPTIONS whose tag is an option, font escapes and macros dropped."""
        import re
        text = self.read("man/batchpipe.1").replace("\\-", "-")
        section = text[text.index("\n.SH OPTIONS\n") + 1:]
        section = section[: section.index("\n.SH ")]
        entries = {}
        for entry in section.split("\n.TP\n")[1:]:
            tag = re.sub(r"\\f[A-Z]", "", entry.split("\n")[0])
            if not re.match(r'\.(B|BI|BR) "?-', tag):
                continue  # FILE
            flat = re.sub(r"\\f[A-Z]|\\\(aq|\\&", "", entry)
            flat = re.sub(r"^\.(B|BR|BI|I|RB|IR)\s+", "", flat, flags=re.M)
            flat = " ".join(flat.replace('"', "").split())
            for name in re.findall(self.NAME, tag):
                entries[name] = entries.get(name, "") + " " + flat
        return entries

    def completion_options(self):
        """{file: the option names it completes}."""
        import re
        bash = re.search(r"local opts='([^']*)'", self.read("completions/batchpipe.bash")).group(1)
        zsh = set()
        for line in self.read("completions/_batchpipe").splitlines():
            spec = line.strip()
            if not spec.startswith("'"):
                continue
            spec = re.sub(r"^'\([^)]*\)'?", "", spec).lstrip("'*")  # the exclusion list and '*'
            both = re.match(r"\{([^}]*)\}", spec)
            one = re.match(r"(--?[A-Za-z][A-Za-z0-9-]*)", spec)
            if both:
                zsh.update(n.rstrip("+=") for n in both.group(1).split(","))
            elif one:
                zsh.add(one.group(1))
        fish = set()
        for line in self.read("completions/batchpipe.fish").splitlines():
            if line.startswith("complete -c batchpipe"):
                fish.update("-" + s for s in re.findall(r" -s (\S)", line))
                fish.update("--" + l for l in re.findall(r" -l (\S+)", line))
        return {"completions/batchpipe.bash": {w.split("=")[0] for w in bash.split()},
                "completions/_batchpipe": zsh, "completions/batchpipe.fish": fish}

    def readme_rows(self):
        """{name: [Default cells]} of README's options table."""
        import re
        text = self.read("README.md")
        section = text[text.index("\n## Options\n") + 1:]
        section = section[: section.index("\n## ")]
        rows = {}
        for line in section.splitlines():
            if line.startswith("| `"):
                cells = line.split("|")
                for name in re.findall(self.NAME, cells[1]):
                    rows.setdefault(name, []).append(cells[2].strip())
        return rows

    def test_every_option_is_documented_and_completed_and_nothing_else(self):
        _, options = self.help_options()
        self.assertIn("--max-bytes", options)
        places = {"man/batchpipe.1 (OPTIONS)": set(self.man_options()), "README.md (Options)": set(self.readme_rows())}
        places.update(self.completion_options())
        for place, names in places.items():
            with self.subTest(place=place):
                self.assertEqual(sorted(options - names), [], "options missing")
                self.assertEqual(sorted(names - options), [], "options that --help does not know")

    def test_synopsis_names_every_option(self):
        import re
        _, options = self.help_options()
        text = self.read("man/batchpipe.1").replace("\\-", "-")
        synopsis = re.sub(r"\\f[A-Z]", "", text[text.index(".SH SYNOPSIS"):text.index(".SH DESCRIPTION")])
        named = set(re.findall(self.NAME, synopsis))
        self.assertEqual(sorted(named - options), [])
        for line in self.run_ok(["--help"]).stdout.decode().splitlines():
            m = re.match(self.HELP_LINE, line)
            if m:
                with self.subTest(option=m.group(1)):
                    self.assertTrue(named & set(m.group(1).split(",")), "not in SYNOPSIS")

    def test_defaults_agree_with_help(self):
        """A default --help shows as one word is the man page's "Default:",
        README's Default cell, fish's "[DEFAULT]" and zsh's "(default DEFAULT)"."""
        import re
        defaults, _ = self.help_options()
        man, readme = self.man_options(), self.readme_rows()
        fish = self.read("completions/batchpipe.fish").split("\ncomplete ")
        zsh = self.read("completions/_batchpipe").replace("\\:", ":").splitlines()
        checked = 0
        for option, default in defaults.items():
            if not default or " " in default:
                continue  # none, or words ("online CPUs, at most 4")
            checked += 1
            with self.subTest(option=option):
                bare = default.replace('"', "")  # as man_options leaves it
                self.assertTrue(re.search(r"Default:? " + re.escape(bare) + r"(?=[\s.,;)]|$)", man[option])
                                or bare + " (the default)" in man[option], man[option])
                self.assertIn(f"`{default}`", readme[option])
                self.assertTrue([c for c in fish if f" -l {option[2:]} " in c and f"[{default}]" in c], "fish")
                self.assertTrue([s for s in zsh if re.search(re.escape(option) + r"[=\[]", s)
                                 and f"(default {default})" in s], "zsh")
        self.assertGreater(checked, 15)

if __name__ == "__main__":
    unittest.main()
