"""--metrics-file, --progress and --stats: the run's figures for Prometheus and
for people.

The metrics file is read with the Prometheus client's own parser
(python3-prometheus-client), and its counters are held against the --stats
line and against what the input is known to hold. Runs that go on (stdin held
open) are watched by polling the file or reading stderr against deadlines;
--progress on a terminal runs under a pseudo-terminal, whose output is replayed
through a small terminal model (CR, erase-line, newline) to see what a person
would be left with. Every process started is reaped by the test's cleanup.
"""

import errno
import json
import math
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # a Python other than Debian's (pyenv, a venv): use Debian's pure-Python package
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

import bp

# The rewrite period of --metrics-file and the plain --progress period.
METRICS_EVERY = 5.0
PROGRESS_EVERY = 10.0

def numbered(n, start=1):
    return [b'{"i":%d}' % i for i in range(start, start + n)]


def ndjson(records):
    return b"".join(r + b"\n" for r in records)


def parse_metrics(text: str) -> dict:
    """Every sample of the exposition, by name (with its labels, if any):
    {"batchpipe_up": 1.0, 'batchpipe_x_bucket{le="0.5"}': 3.0, ...}. Also
    checks that each family has the type its name promises."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = s.name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items())) + "}" if s.labels else "")
            if key in samples:
                raise AssertionError(f"sample {key} twice")
            samples[key] = s.value
        if family.type == "counter":
            if not all(s.name.endswith("_total") for s in family.samples):
                raise AssertionError(f"counter {family.name} without _total")
        elif family.type not in ("gauge", "histogram"):
            raise AssertionError(f"family {family.name} of type {family.type}")
    return samples


def stats_json(stderr: bytes) -> dict:
    """The one --stats=json object on stderr."""
    lines = [l for l in bp.stderr_lines(stderr) if l.startswith("{")]
    if len(lines) != 1:
        raise AssertionError(f"expected one JSON stats line, stderr {stderr!r}")
    return json.loads(lines[0])


class Case(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bp-metrics-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, *names):
        return os.path.join(self.tmp, *names)

    def read_metrics(self, path) -> dict:
        with open(path, encoding="utf-8") as f:
            return parse_metrics(f.read())

    def assert_counters_match_stats(self, metrics, stats):
        """Every counter of the file is in --stats=json, with the same value;
        so are the gauges of open keys (routing by field), always there."""
        counters = {k for k in metrics if k.endswith("_total")}
        gauges = ("open_keys", "open_keys_peak")
        self.assertEqual(counters, {"batchpipe_" + k for k in stats
                                    if k not in ("seconds", "buffered_bytes", "buffered_records") + gauges})
        for name in gauges:
            self.assertEqual(metrics["batchpipe_" + name], stats[name], name)
        for name in counters:
            with self.subTest(metric=name):
                self.assertEqual(metrics[name], stats[name[len("batchpipe_"):]], stats)


class MetricsFileTest(Case):
    def test_counters_equal_the_stats_line_and_the_input(self):
        valid = numbered(250)
        data = ndjson(valid[:100]) + b"not json\n\n" + ndjson(valid[100:]) + b"[1,\n"
        out_file = self.path("m.prom")
        before = time.time()
        result = bp.run(["--size", "100", "--interval", "0", "--metrics-file", out_file, "--stats=json"], data)
        after = time.time()
        self.assertEqual(result.returncode, 1, result.stderr)  # invalid lines skipped
        self.assertEqual(result.stdout, bp.encode(bp.greedy_batches(valid, 100, 8 << 20)))
        metrics = self.read_metrics(out_file)
        self.assert_counters_match_stats(metrics, stats_json(result.stderr))
        expected = {
            "batchpipe_lines_read_total": 253,
            "batchpipe_bytes_read_total": len(data),
            "batchpipe_records_read_total": 250,
            "batchpipe_records_invalid_total": 2,
            "batchpipe_records_dropped_total": 0,
            "batchpipe_batches_total": 3,
            "batchpipe_batch_bytes_total": len(result.stdout),
            "batchpipe_records_undelivered_total": 0,
            "batchpipe_up": 0,  # the last write, at exit
            "batchpipe_buffered_bytes": 0,
            "batchpipe_buffered_records": 0,
        }
        self.assertEqual({k: metrics[k] for k in expected}, expected)
        self.assertLessEqual(before - 1, metrics["batchpipe_start_time_seconds"])
        self.assertLessEqual(metrics["batchpipe_start_time_seconds"], after)
        # With the stdout sink there is nothing to attempt: no delivery families.
        self.assertFalse([k for k in metrics if "_delivered_" in k or "attempt" in k], metrics)
        self.assertEqual(os.listdir(self.tmp), ["m.prom"])  # no temporary file left

    def test_delivery_counters_equal_the_stats_line_and_what_happened(self):
        # Batch 2 fails twice (one retry) and is dead-lettered; 1 and 3 go through.
        cmd = 'if [ "$BATCHPIPE_BATCH" = 2 ]; then exit 1; fi; cat > /dev/null'
        dead = self.path("dead.ndjson")
        out_file = self.path("m.prom")
        result = bp.run(
            ["--exec", cmd, "--size", "2", "--interval", "0", "--retries", "1", "--retry-delay", "10ms",
             "--dead-letter", dead, "--metrics-file", out_file, "--stats=json", "-q"],
            ndjson(numbered(5)),
        )
        self.assertEqual(result.returncode, 4, result.stderr)
        metrics = self.read_metrics(out_file)
        self.assert_counters_match_stats(metrics, stats_json(result.stderr))
        known = {
            "batchpipe_records_read_total": 5,
            "batchpipe_batches_total": 3,
            "batchpipe_batches_delivered_total": 2,
            "batchpipe_records_delivered_total": 3,
            "batchpipe_retries_total": 1,
            "batchpipe_batches_failed_total": 1,
            "batchpipe_records_dead_lettered_total": 2,
            "batchpipe_batches_in_flight": 0,
            "batchpipe_batches_retrying": 0,
            "batchpipe_up": 0,
        }
        self.assertEqual({k: metrics[k] for k in known}, known)
        buckets = sorted(
            (float(re.search(r'le="([^"]+)"', k).group(1)), v)
            for k, v in metrics.items() if k.startswith("batchpipe_attempt_duration_seconds_bucket")
        )
        self.assertEqual(buckets[-1][0], math.inf)
        self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets), "buckets not cumulative")
        self.assertEqual(buckets[-1][1], metrics["batchpipe_attempt_duration_seconds_count"])

    def test_rewritten_every_5s_while_the_run_goes_on(self):
        out_file = self.path("m.prom")
        live = bp.Live(self, ["--interval", "0", "--size", "1000", "--metrics-file", out_file])
        # Written at start-up, before anything is read.
        self.assertTrue(bp.wait_for(lambda: os.path.exists(out_file), bp.SLACK), "no metrics file at start-up")
        first = os.stat(out_file)
        self.assertEqual(self.read_metrics(out_file)["batchpipe_up"], 1)
        live.write(ndjson(numbered(7)))

        # Each rewrite renames a new file over the old one: a new inode. Every
        # version read must parse whole.
        seen = [(first.st_ino, first.st_mtime_ns)]
        versions = []

        def rewritten_twice():
            live.pump(0)
            try:
                st = os.stat(out_file)
                with open(out_file, encoding="utf-8") as f:
                    text = f.read()
            except FileNotFoundError:
                raise AssertionError("the metrics file disappeared during a rewrite")
            if (st.st_ino, st.st_mtime_ns) != seen[-1]:
                seen.append((st.st_ino, st.st_mtime_ns))
                versions.append((time.monotonic(), parse_metrics(text)))
            return len(versions) >= 2

        started = time.monotonic()
        self.assertTrue(
            bp.wait_for(rewritten_twice, 2 * METRICS_EVERY + 2 * bp.SLACK, step=0.05),
            f"rewritten {len(versions)} time(s) in {2 * METRICS_EVERY + 2 * bp.SLACK}s; stderr {bytes(live.err)!r}",
        )
        for _, m in versions:
            self.assertEqual(m["batchpipe_up"], 1)
            self.assertEqual(m["batchpipe_records_read_total"], 7)  # read long before the first rewrite
            self.assertEqual(m["batchpipe_lines_read_total"], 7)
        self.assertGreaterEqual(versions[1][0] - versions[0][0], METRICS_EVERY - 1.0, "rewritten too often")
        self.assertLess(versions[0][0] - started, METRICS_EVERY + 2 * bp.SLACK)

        self.assertEqual(live.finish(), 0, bytes(live.err))
        final = self.read_metrics(out_file)
        self.assertEqual(final["batchpipe_up"], 0)
        self.assertEqual(final["batchpipe_batches_total"], 1)
        self.assertEqual(live.lines(), [bp.encode([numbered(7)])])
        self.assertEqual(bytes(live.err), b"")

    def test_an_unwritable_path_is_a_usage_error_and_nothing_is_read(self):
        os.mkdir(self.path("a-directory"))
        cases = [self.path("no-such-dir", "m.prom"), self.path("a-directory"), ""]
        for target in cases:
            with self.subTest(target=target):
                result = bp.run(["--metrics-file", target], b'{"a":1}\n')
                detail = f"exit {result.returncode}, stdout {result.stdout!r}, stderr {result.stderr!r}"
                self.assertEqual(result.returncode, 2, detail)
                self.assertEqual(result.stdout, b"", detail)
                lines = bp.stderr_lines(result.stderr)
                self.assertEqual(len(lines), 1, detail)
                self.assertTrue(lines[0].startswith("batchpipe: --metrics-file: "), detail)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["a-directory"])
        self.assertEqual(os.listdir(self.path("a-directory")), [])

    def test_a_write_error_later_is_one_warning_and_the_run_goes_on(self):
        os.mkdir(self.path("sub"))
        out_file = self.path("sub", "m.prom")
        live = bp.Live(self, ["--interval", "0", "--size", "2", "--metrics-file", out_file])
        self.assertTrue(bp.wait_for(lambda: os.path.exists(out_file), bp.SLACK), "no metrics file at start-up")
        shutil.rmtree(self.path("sub"))  # the next rewrite cannot create its temporary file
        warned = lambda: b"--metrics-file" in bytes(live.err)
        self.assertTrue(live.wait_until(warned, METRICS_EVERY + 2 * bp.SLACK), bytes(live.err))
        live.write(ndjson(numbered(4)))
        self.assertEqual(live.wait_lines(2), [bp.encode([numbered(2)]), bp.encode([numbered(2, 3)])])
        self.assertEqual(live.finish(), 0, bytes(live.err))  # the last write fails too: no second warning
        lines = bp.stderr_lines(bytes(live.err))
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^batchpipe: --metrics-file: cannot write .*m\.prom: No such file or directory")

    def test_quiet_silences_the_write_warning(self):
        os.mkdir(self.path("sub"))
        out_file = self.path("sub", "m.prom")
        live = bp.Live(self, ["-q", "--metrics-file", out_file])
        self.assertTrue(bp.wait_for(lambda: os.path.exists(out_file), bp.SLACK), "no metrics file at start-up")
        shutil.rmtree(self.path("sub"))
        self.assertEqual(live.finish(), 0, bytes(live.err))  # the last write fails
        self.assertEqual(bytes(live.err), b"")


class MetricsLabelTest(Case):
    def test_bad_labels_are_usage_errors_that_say_what_to_fix(self):
        for label, message in (("instance", 'not KEY=VALUE'), ("9x=a", "not a Prometheus label name"),
                               ("__x=a", "Prometheus' own"), ("le=a", "batchpipe's own series"),
                               ("k=", "has no value")):
            with self.subTest(label=label):
                r = bp.run(["--metrics-file", self.path("m.prom"), "--metrics-label", label], input=b"{}\n")
                self.assertEqual((r.returncode, r.stdout), (2, b""))
                self.assertIn(message.encode(), r.stderr)
                self.assertTrue(r.stderr.startswith(b"batchpipe: --metrics-label: "), r.stderr)
        r = bp.run(["--metrics-file", self.path("m.prom"), "--metrics-label", "a=1", "--metrics-label", "a=2"],
                   input=b"{}\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--metrics-label: a is given twice", r.stderr)
        r = bp.run(["--metrics-label", "a=1"], input=b"{}\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"[{}]\n"))
        self.assertIn(b"--metrics-label: has no effect without --metrics-file", r.stderr)

    def test_two_instances_share_a_textfile_collector_folder(self):
        folder = self.path("collector")
        os.mkdir(folder)
        for name in ("app", "web"):
            r = bp.run(["--metrics-file", os.path.join(folder, f"bp-{name}.prom"), "--metrics-label",
                        f"instance={name}", "--metrics-label", 'note=a "quoted" \\ value'],
                       input=b"".join(r + b"\n" for r in numbered(3 if name == "app" else 5)))
            self.assertEqual(r.returncode, 0, r.stderr)
        exporter = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
        if exporter is None:
            self.skipTest("prometheus-node-exporter is not installed (apt-get install prometheus-node-exporter)")
        import socket
        import urllib.request
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        proc = bp.spawn(self, [exporter, f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults",
                               "--collector.textfile", f"--collector.textfile.directory={folder}"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(lambda: (proc.poll() is None and proc.terminate(), proc.wait(timeout=10)))
        text = None

        def scrape():
            nonlocal text
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
                    text = reply.read().decode()
                return True
            except OSError:
                return proc.poll() is not None  # it died: fail below
        self.assertTrue(bp.wait_for(scrape, 20, step=0.05), "node_exporter did not answer")
        self.assertIsNotNone(text, proc.stderr.read().decode() if proc.poll() is not None else "")
        self.assertIn("\nnode_textfile_scrape_error 0\n", text)
        records = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "batchpipe_records_read_total":
                    records[sample.labels["instance"]] = sample.value
                    self.assertEqual(sample.labels["note"], 'a "quoted" \\ value')
        self.assertEqual(records, {"app": 3, "web": 5})


class Terminal:
    """What a person sees: replays output with CR, ESC [ K (erase to the end of
    the line) and newline; other bytes overwrite the line at the cursor."""

    def __init__(self, data: bytes):
        self.lines = []  # finished lines
        line, col, i = bytearray(), 0, 0
        while i < len(data):
            c = data[i : i + 1]
            if data.startswith(b"\x1b[K", i):
                del line[col:]
                i += 3
                continue
            if c == b"\x1b":
                raise AssertionError(f"unexpected escape sequence {data[i:i + 8]!r}")
            if c == b"\r":
                col = 0
            elif c == b"\n":
                self.lines.append(line.decode("utf-8", "replace"))
                line, col = bytearray(), 0
            else:
                line[col : col + 1] = c
                col += 1
            i += 1
        self.current = line.decode("utf-8", "replace")  # the line the cursor is on


class ProgressTest(Case):
    def spawn_on_pty(self, args):
        """batchpipe with stderr on a pseudo-terminal, stdin and stdout pipes."""
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        proc = bp.spawn(self, [bp.binary(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        return proc, master

    def read_pty(self, master, buf: bytearray, until, timeout: float) -> bool:
        """Reads the terminal into `buf` until until(buf) holds (True), the
        deadline passes or the other side is gone (then until(buf))."""
        deadline = time.monotonic() + timeout
        while not until(buf):
            left = deadline - time.monotonic()
            if left <= 0:
                return until(buf)
            readable, _, _ = select.select([master], [], [], left)
            if readable:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError as e:
                    if e.errno != errno.EIO:
                        raise
                    chunk = b""
                if not chunk:
                    return until(buf)  # every writer closed the terminal
                buf.extend(chunk)
        return True

    def test_a_status_line_on_a_terminal_that_never_garbles_messages(self):
        proc, master = self.spawn_on_pty(["--progress", "--interval", "0", "--size", "100", "--stats"])
        shown = bytearray()
        proc.stdin.write(ndjson(numbered(1000)))
        proc.stdin.flush()
        self.assertTrue(self.read_pty(master, shown, lambda b: b"1,000 records in" in b, bp.SLACK), bytes(shown))
        # Messages while the status line is drawn: invalid lines.
        proc.stdin.write(b"bad one\n" + ndjson(numbered(234, 1001)) + b"bad two\n")
        proc.stdin.flush()
        self.assertTrue(self.read_pty(master, shown, lambda b: b"1,234 records in" in b, bp.SLACK), bytes(shown))
        proc.stdin.close()
        self.read_pty(master, shown, lambda b: False, bp.SLACK * 2)  # to the end: EIO once batchpipe is gone
        self.assertEqual(proc.wait(timeout=bp.SLACK), 1)
        self.assertEqual(len(proc.stdout.read().splitlines()), 13)

        screen = Terminal(bytes(shown).replace(b"\r\n", b"\n"))  # the terminal's ONLCR
        self.assertEqual(screen.current, "", f"status line left at exit: {bytes(shown)[-300:]!r}")
        self.assertEqual(len(screen.lines), 4, screen.lines)
        self.assertRegex(screen.lines[0], r"^batchpipe: line 1001: .+")
        self.assertRegex(screen.lines[1], r"^batchpipe: line 1236: .+")
        self.assertRegex(screen.lines[2], r"^batchpipe: stats: read 1,236 lines \(.+\): 1,234 records, 2 invalid$")
        self.assertRegex(screen.lines[3], r"^batchpipe: stats: 13 batches ")
        # Every drawing of the status line fits an 80-column terminal.
        for drawn in re.findall(rb"\r(batchpipe: [^\r\n\x1b]*)\x1b\[K", bytes(shown)):
            self.assertLessEqual(len(drawn), 79, drawn)
            self.assertRegex(drawn, rb"^batchpipe: [\d,]+ records in")

    def test_help_names_the_flags(self):
        result = bp.run(["--help"])
        self.assertEqual(result.returncode, 0, result.stderr)
        for flag in (b"--progress", b"--metrics-file FILE", b"--stats"):
            self.assertIn(flag, result.stdout)

    def test_without_a_terminal_a_short_run_prints_nothing(self):
        result = bp.run(["--progress", "--interval", "0"], ndjson(numbered(100)))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, b"")
        self.assertEqual(result.stdout, bp.encode([numbered(100)]))

    def test_without_a_terminal_a_plain_line_every_10s(self):
        live = bp.Live(self, ["--progress", "--interval", "0"])
        live.write(ndjson(numbered(42)))
        started = time.monotonic()
        one_line = lambda: b"\n" in bytes(live.err)
        self.assertTrue(live.wait_until(one_line, PROGRESS_EVERY + 2 * bp.SLACK), bytes(live.err))
        self.assertGreater(time.monotonic() - started, PROGRESS_EVERY - 1.5, "too soon")
        self.assertEqual(live.finish(), 0, bytes(live.err))
        lines = bp.stderr_lines(bytes(live.err))
        self.assertGreaterEqual(len(lines), 1, lines)
        for line in lines:
            self.assertRegex(line, r"^batchpipe: progress: 42 records in, [\d,]+/s, 0 batches out, buffer \d+% of 64\.0 MiB, 0 dropped$")
        self.assertNotIn(b"\x1b", bytes(live.err))
        self.assertNotIn(b"\r", bytes(live.err))


if __name__ == "__main__":
    unittest.main()
