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
    def test_stats_prints_one_summary_line_on_stderr(self):
        data = b"".join(b'{"n":%d}\n' % n for n in range(1234))
        expected_out = bp.encode(bp.greedy_batches(data.splitlines(), 100, 8 << 20))
        plain = bp.run(["--size", "100", "--interval", "0"], data)
        self.assertEqual((plain.returncode, plain.stdout, plain.stderr), (0, expected_out, b""))

        result = bp.run(["--size", "100", "--interval", "0", "--stats"], data)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, expected_out)
        lines = bp.stderr_lines(result.stderr)
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("batchpipe: "), lines[0])
        self.assertRegex(lines[0], r"\b1234\b")  # records
        self.assertRegex(lines[0], r"\b13\b")  # batches


if __name__ == "__main__":
    unittest.main()
