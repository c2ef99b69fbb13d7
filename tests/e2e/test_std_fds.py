"""Started with stdin, stdout or stderr closed (`<&-`, `>&-`, `2>&-`).

batchpipe puts /dev/null on each closed one before it opens anything else,
so none of its own descriptors (the signal pipe, eventfds, files) can land
on 0-2; a closed stdin is still reported as unreadable and a closed stdout
as a write error. The shell's redirections close them; every run is bounded
by a timeout.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import bp
from http_server import ScriptedServer


def closing(redirections: str) -> list:
    """A wrapper that starts batchpipe with `redirections` (e.g. '>&- 2>&-') applied."""
    return ["/bin/sh", "-c", f'exec "$@" {redirections}', "sh"]


class ClosedStdFdsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bp-fds-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_closed(self, redirections, args, input=b'{"a":1}\n', **kwargs):
        return subprocess.run([*closing(redirections), bp.binary(), *args], input=input,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=bp.RUN_TIMEOUT, **kwargs)

    def test_closed_stdin_is_an_unreadable_input(self):
        for args in ([], ["-"], ["--exec", "cat > delivered"]):
            with self.subTest(args=args):
                r = self.run_closed("<&-", ["--size", "1", *args], input=None, cwd=self.tmp)
                self.assertEqual(r.returncode, 6, r)
                self.assertEqual(r.stderr, b"batchpipe: stdin: Bad file descriptor\n")
                self.assertEqual(r.stdout, b"")
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "delivered")))

    def test_closed_stdin_does_not_stop_the_named_files(self):
        path = os.path.join(self.tmp, "in.ndjson")
        with open(path, "wb") as f:
            f.write(b'{"a":1}\n')
        r = self.run_closed("<&-", [path, "-"], input=None)
        self.assertEqual((r.returncode, r.stdout), (6, b'[{"a":1}]\n'), r)
        self.assertEqual(r.stderr, b"batchpipe: stdin: Bad file descriptor\n")

    def test_closed_stdout_is_a_write_error(self):
        r = self.run_closed(">&-", [])
        self.assertEqual(r.returncode, 4, r)
        self.assertEqual(r.stderr, b"batchpipe: stdout: write error: Bad file descriptor\n")

    def test_closed_stdout_with_nothing_to_write_is_no_error(self):
        r = self.run_closed(">&-", [], input=b"")
        self.assertEqual((r.returncode, r.stderr), (0, b""), r)

    def test_exec_delivers_with_stdout_and_stderr_closed(self):
        # -v writes a line to stderr per attempt: with the signal pipe on fd 2
        # those bytes used to read as signals, and the run stopped with 143.
        out = os.path.join(self.tmp, "delivered")
        r = self.run_closed(">&- 2>&-", ["-v", "--size", "1", "--exec", f"cat >> {out}"],
                            input=b'{"a":1}\n{"a":2}\n')
        self.assertEqual(r.returncode, 0, r)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b'[{"a":1}]\n[{"a":2}]\n')

    def test_post_delivers_with_stdout_and_stderr_closed(self):
        server = ScriptedServer([500], default=200)
        self.addCleanup(server.close)
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        r = self.run_closed(">&- 2>&-", ["-v", "--interval", "0", "--retry-delay", "10ms", "--post",
                                         server.url("/")], env=env)
        self.assertEqual(r.returncode, 0, r)
        bodies = [req.body for req in server.requests()]
        self.assertEqual(bodies, [b'[{"a":1}]\n'] * 2)


if __name__ == "__main__":
    unittest.main()
