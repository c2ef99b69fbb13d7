"""The command line: usage errors, --help, --version and --stats."""

import re
import unittest

import bp

RECORDS = b'{"a":1}\n{"b":2}\n'


class UsageTest(unittest.TestCase):
    def test_usage_errors_exit_2_naming_the_flag(self):
        cases = [
            (["--size", "0"], "--size"),
            (["--size", "1.5"], "--size"),
            (["--size"], "--size"),
            (["--interval", "soon"], "--interval"),
            (["--interval", "5 parsecs"], "--interval"),
            (["--max-bytes", "lots"], "--max-bytes"),
            (["--max-bytes", "8X"], "--max-bytes"),
            (["--on-invalid", "x"], "--on-invalid"),
            (["--frobnicate"], "--frobnicate"),
        ]
        for args, flag in cases:
            with self.subTest(args=args):
                result = bp.run(args, RECORDS)
                detail = f"exit {result.returncode}, stdout {result.stdout!r}, stderr {result.stderr!r}"
                self.assertEqual(result.returncode, 2, detail)
                self.assertEqual(result.stdout, b"", detail)
                lines = bp.stderr_lines(result.stderr)
                self.assertEqual(len(lines), 1, detail)
                self.assertTrue(result.stderr.endswith(b"\n"), detail)
                self.assertTrue(lines[0].startswith("batchpipe: "), detail)
                self.assertIn(flag, lines[0], detail)

    def test_help_goes_to_stdout(self):
        for flag in ("--help", "-h"):
            with self.subTest(flag=flag):
                result = bp.run([flag], RECORDS)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stderr, b"")
                text = result.stdout.decode()
                self.assertTrue(text.endswith("\n"), text)
                for option in ("--size", "--interval", "--max-bytes", "--on-invalid", "--stats", "-q"):
                    self.assertIn(option, text)
                self.assertNotIn('{"a":1}', text)  # nothing was read and batched

    def test_version_goes_to_stdout(self):
        result = bp.run(["--version"], RECORDS)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, b"")
        self.assertRegex(result.stdout.decode(), r"\Abatchpipe \d+\.\d+\.\d+\S*\n\Z")


class StatsTest(unittest.TestCase):
    def test_stats_prints_a_summary_for_people(self):
        data = b"".join(b'{"n":%d}\n' % n for n in range(1234))
        expected_out = bp.encode(bp.greedy_batches(data.splitlines(), 100, 8 << 20))
        plain = bp.run(["--size", "100", "--interval", "0"], data)
        self.assertEqual((plain.returncode, plain.stdout, plain.stderr), (0, expected_out, b""))

        result = bp.run(["--size", "100", "--interval", "0", "--stats"], data)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, expected_out)
        lines = bp.stderr_lines(result.stderr)
        self.assertEqual(len(lines), 2, result.stderr)
        self.assertEqual(lines[0], "batchpipe: stats: read 1,234 lines (12.2 KiB): 1,234 records")
        self.assertRegex(lines[1], r"^batchpipe: stats: 13 batches \(12\.[0-9] KiB\) in \d+\.\d{3}s: [\d,]+ records/s, ")
        one = bp.run(["--stats"], b'{"a":1}\n')
        self.assertEqual(bp.stderr_lines(one.stderr)[0], "batchpipe: stats: read 1 line (8 B): 1 record")
        self.assertRegex(bp.stderr_lines(one.stderr)[1], r"^batchpipe: stats: 1 batch \(10 B\) in ")

    def test_stats_json_for_scripts(self):
        data = b"".join(b'{"n":%d}\n' % n for n in range(1234)) + b"bad\n"
        result = bp.run(["--size", "100", "--stats=json"], data)
        self.assertEqual(result.returncode, 1)
        stats = bp.stats(result.stderr)
        self.assertEqual(stats["lines_read_total"], 1235)
        self.assertEqual(stats["records_read_total"], 1234)
        self.assertEqual(stats["records_invalid_total"], 1)
        self.assertEqual(stats["batches_total"], 13)
        self.assertEqual(stats["bytes_read_total"], len(data))
        self.assertIsInstance(stats["seconds"], float)
        self.assertNotIn("attempts_total", stats)  # delivery figures only with --exec/--post
        bad = bp.run(["--stats=xml"], b"")
        self.assertEqual(bad.returncode, 2)


if __name__ == "__main__":
    unittest.main()
