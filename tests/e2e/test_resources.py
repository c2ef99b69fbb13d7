"""Start-up under a low descriptor limit (`ulimit -n`): every failure is one
"batchpipe: ..." line and exit status 7, never an abort ("terminate called
..."), and a run that can start delivers normally."""

import os
import resource
import subprocess
import unittest

import bp
from http_server import ScriptedServer


def limit_fds(n):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


# The sanitizer runtimes need descriptors of their own and misreport when they find none.
@unittest.skipIf(bp.sanitized(), "the sanitizer runtimes cannot run under a low descriptor limit")
class DescriptorLimitTest(unittest.TestCase):
    def check_limits(self, args, delivered):
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        statuses = {}
        for n in range(4, 16):
            with self.subTest(ulimit_n=n):
                r = bp.run(args, b'{"a":1}\n', preexec_fn=limit_fds(n), env=env)
                # The command's shell may fail too ("sh: 1: ..."): its words, not ours.
                err = [line for line in bp.stderr_lines(r.stderr) if not line.startswith("sh: ")]
                self.assertIn(r.returncode, (0, 4, 7), r)
                for line in err:
                    self.assertTrue(line.startswith("batchpipe: "), r)
                if r.returncode == 7:
                    self.assertEqual(len(err), 1, r)
                    self.assertRegex(err[0], r"^batchpipe: (cannot create .*: Too many open files|--exec with --parallel \d+ needs about \d+ file descriptors, but ulimit -n is \d+: raise the limit or lower --parallel)$")
                    self.assertEqual(r.stdout, b"")
                statuses[n] = r.returncode
        self.assertEqual(statuses[4], 7, "4 descriptors leave none for the eventfds")
        self.assertEqual(statuses[15], 0, f"15 descriptors should be plenty: {statuses}")
        self.assertTrue(delivered(), "the run that could start did not deliver")

    def test_stdout(self):
        self.check_limits([], lambda: True)

    def test_exec(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bp-res-{os.getpid()}.out")
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        self.check_limits(["--retries", "0", "--exec", f"cat > {path}"], lambda: open(path, "rb").read() == b'[{"a":1}]\n')

    def test_post(self):
        server = ScriptedServer()
        self.addCleanup(server.close)
        self.check_limits(["--retries", "0", "--post", server.url("/")], lambda: len(server.requests()) >= 1)


if __name__ == "__main__":
    unittest.main()
