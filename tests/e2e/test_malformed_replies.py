"""--post against a receiver that answers garbage, nothing, or half a reply,
at random: every such attempt is retried (a malformed reply is not a
refusal), every record is delivered once and in order, and each retry
message names the fault of its own attempt, never an earlier one's.

The server is http_server.ScriptedServer on 127.0.0.1; the faults come from
a seeded random generator, so a failure can be replayed.
"""

import random
import re
import unittest

import bp
from http_server import ScriptedServer

GARBAGE = b"garbage, not HTTP\r\n"
HALF = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf"
# What libcurl says of each, as the message of its attempt must show.
SAYS = {
    "garbage": "Received HTTP/0.9 when not allowed",
    "nothing": "Empty reply from server",
    "half": "transfer closed with 96 bytes remaining to read",
}
RETRY = re.compile(r"^batchpipe: batch (\d+) \(1 record\): (.*); retry \d+ of \d+ in .*$")


class MalformedReplyTest(unittest.TestCase):
    def run_against(self, faults, records):
        """Answers each request with the next of `faults` ("ok" or a kind of SAYS)."""
        plan = list(faults)
        given = []

        def answer(index, _request):
            kind = plan[index] if index < len(plan) else "ok"
            given.append(kind)
            # Every answer closes its connection: libcurl, finding a reused connection
            # dead, would otherwise send again within the same attempt ("Connection
            # died, tried 5 times"), and attempts would no longer match requests one to one.
            return {"ok": ("status", 200, {"Connection": "close"}), "garbage": ("raw", GARBAGE), "nothing": ("raw", b""), "half": ("raw", HALF)}[kind]

        server = ScriptedServer(default=answer)
        self.addCleanup(server.close)
        data = b"".join(b'{"i":%d}\n' % i for i in range(records))
        r = bp.run(["--post", server.url("/in"), "--size", "1", "--interval", "0", "--retries", "100",
                    "--retry-delay", "1ms", "--retry-max-delay", "1ms"], data, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        delivered = [q.body for q, kind in zip(server.requests(), given) if kind == "ok"]
        self.assertEqual(delivered, [b"[" + line + b"]\n" for line in data.splitlines()])
        return r, given

    def test_each_kind_alone_is_retried_with_its_own_message(self):
        for kind, says in SAYS.items():
            with self.subTest(kind=kind):
                r, given = self.run_against([kind, kind, "ok"], 1)
                lines = [l for l in bp.stderr_lines(r.stderr) if RETRY.match(l)]
                self.assertEqual(len(lines), 2, r.stderr)
                for line in lines:
                    self.assertIn(says, line)
                    self.assertIn("127.0.0.1:", line)

    def test_random_faults_lose_nothing_and_each_message_is_its_own(self):
        rng = random.Random(23)
        faults = [rng.choice(["ok", "garbage", "nothing", "half"]) for _ in range(300)]
        r, given = self.run_against(faults, 120)
        failed = [kind for kind in given if kind != "ok"]
        said = []
        for line in bp.stderr_lines(r.stderr):
            m = RETRY.match(line)
            if m:
                kinds = [kind for kind, says in SAYS.items() if says in m.group(2)]
                self.assertEqual(len(kinds), 1, f"one fault named in {line!r}")
                said.append(kinds[0])
        # One worker: the attempts, and so their messages, come in the order the server saw them.
        self.assertEqual(said, failed)
        self.assertGreater(len(set(failed)), 2, "the seed should give every kind of fault")


if __name__ == "__main__":
    unittest.main()
