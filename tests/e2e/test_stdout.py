"""What reaches stdout and stderr for a given input: framing, files, invalid
lines, exit statuses, and a stdout that closes or fails."""

import errno
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import bp


class Case(unittest.TestCase):
    def setUp(self):
        scratch = tempfile.TemporaryDirectory(prefix="bp-e2e-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name

    def file(self, name: str, content: bytes) -> str:
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(content)
        return path

    def check(self, result, code, stdout, stderr=b""):
        detail = f"exit {result.returncode}, stdout {result.stdout[:300]!r}, stderr {result.stderr[:600]!r}"
        self.assertEqual(result.returncode, code, detail)
        self.assertEqual(result.stdout, stdout, detail)
        if stderr is not None:
            self.assertEqual(result.stderr, stderr, detail)


class FramingTest(Case):
    def test_records_pass_through_byte_for_byte(self):
        records = [
            '{"text":"café ☃ 𝄞 日本語","emoji":"😀"}'.encode(),
            rb'{"esc":"\"\\\/\b\f\n\r\t\u0000\u00e9\ud83d\ude00"}',
            b'{ "spaced" : [ 1 , 2 ,\t3 ] ,\t"s" : "a  b" }',
            b"1e400",
            b"-1E-400",
            b"123456789012345678901234567890",
            b'{"big":-123456789012345678901234567890.5e-3,"tiny":0.000000000000000000000001}',
            b"3.141592653589793238462643383279502884197",
            b"-0.0",
            b'"just a string"',
            b"true",
            b"false",
            b"null",
            b"[]",
            b"{}",
            b"[[[[[[[[[[]]]]]]]]]]",
            b'{"a":{"b":[1,{"c":null}],"":""}}',
            '"raw \u2028 and \u2029 separators"'.encode(),
        ]
        result = bp.run(["--interval", "0"], b"\n".join(records) + b"\n")
        self.check(result, 0, b"[" + b",".join(records) + b"]\n")

    def test_surrounding_spaces_tabs_and_crlf_are_trimmed(self):
        data = b'  {"a": 1}  \r\n\t[1, 2]\t\n \t "x  y" \t\r\n7\r\n\t\t{"k" : "v"}\n'
        self.check(bp.run([], data), 0, b'[{"a": 1},[1, 2],"x  y",7,{"k" : "v"}]\n')

    def test_blank_lines_are_skipped(self):
        data = b"\n\n1\n   \n\t\r\n\r\n2\n\n \t \n"
        self.check(bp.run([], data), 0, b"[1,2]\n")

    def test_input_without_records_gives_no_output(self):
        for data in (b"", b"\n", b" \t\r\n\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n\n"):
            with self.subTest(input=data):
                self.check(bp.run([], data), 0, b"")

    def test_blank_lines_count_in_line_numbers(self):
        result = bp.run([], b"\n\n1\n \t\nnope\n2\n")
        self.check(result, 1, b"[1,2]\n", None)
        self.assertEqual(len(bp.stderr_lines(result.stderr)), 1, result.stderr)
        self.assertTrue(result.stderr.startswith(b"batchpipe: line 5: "), result.stderr)

    def test_bom_at_start_is_ignored(self):
        self.check(bp.run([], b'\xef\xbb\xbf{"a":1}\n2\n'), 0, b'[{"a":1},2]\n')

    def test_bom_after_the_start_is_an_invalid_line(self):
        result = bp.run([], b"1\n\xef\xbb\xbf2\n3\n")
        self.check(result, 1, b"[1,3]\n", None)
        self.assertTrue(result.stderr.startswith(b"batchpipe: line 2: "), result.stderr)
        self.assertEqual(len(bp.stderr_lines(result.stderr)), 1, result.stderr)

    def test_last_line_without_newline_is_a_record(self):
        self.check(bp.run([], b'1\n{"b":2}'), 0, b'[1,{"b":2}]\n')
        self.check(bp.run([], b"  3  "), 0, b"[3]\n")
        self.check(bp.run([], b"1\n2\r"), 0, b"[1,2]\n")

    def test_files_are_read_in_order_as_one_stream(self):
        a = self.file("a.ndjson", b"1\n2\n")
        b = self.file("b.ndjson", b"3\n4\n5")  # no final newline: 5 is not joined to c's 6
        c = self.file("c.ndjson", b"6\n")
        result = bp.run(["--size", "4", "--interval", "0", a, b, c])
        self.check(result, 0, b"[1,2,3,4]\n[5,6]\n")

    def test_bom_at_the_start_of_each_file_is_ignored(self):
        a = self.file("a.ndjson", b"\xef\xbb\xbf1\n")
        b = self.file("b.ndjson", b"\xef\xbb\xbf 2 \r\n3\n")
        self.check(bp.run([a, b]), 0, b"[1,2,3]\n")

    def test_dash_among_files_reads_stdin_there(self):
        a = self.file("a.ndjson", b'"a1"\n"a2"\n')
        b = self.file("b.ndjson", b'"b1"\n')
        result = bp.run([a, "-", b], b'"s1"\n"s2"\n')
        self.check(result, 0, b'["a1","a2","s1","s2","b1"]\n')
        self.check(bp.run(["-"], b"1\n2\n"), 0, b"[1,2]\n")


class InvalidLinesTest(Case):
    def test_skip_reports_each_line_and_delivers_the_rest(self):
        result = bp.run([], b'1\n{"a":\n2\nnope\n3\n')
        self.check(result, 1, b"[1,2,3]\n", None)
        lines = bp.stderr_lines(result.stderr)
        self.assertEqual(len(lines), 2, result.stderr)
        self.assertRegex(lines[0], r"^batchpipe: line 2: \S")
        self.assertRegex(lines[1], r"^batchpipe: line 4: \S")

    def test_skip_names_the_file(self):
        good = self.file("good.ndjson", b"1\n2\n")
        bad = self.file("bad.ndjson", b"3\n{oops\n4\n")
        result = bp.run([good, bad])
        self.check(result, 1, b"[1,2,3,4]\n", None)
        lines = bp.stderr_lines(result.stderr)
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith(f"batchpipe: {bad}: line 2: "), lines[0])

    def test_fail_delivers_everything_before_and_nothing_after(self):
        # About 3 MB, so the bad line sits several read blocks into the input.
        records = [b'{"n":%d,"pad":"%s"}' % (i, b"p" * 280) for i in range(10000)]
        lines = records[:7000] + [b'{"n":"unterminated}'] + records[7000:]
        result = bp.run(["--on-invalid", "fail", "--interval", "0"], b"\n".join(lines) + b"\n")
        expected = bp.encode(bp.greedy_batches(records[:7000], 1000, 8 << 20))
        self.check(result, 3, expected, None)
        stderr = bp.stderr_lines(result.stderr)
        self.assertEqual(len(stderr), 1, result.stderr)
        self.assertRegex(stderr[0], r"^batchpipe: line 7001: \S")

    def test_fail_stops_before_later_records_and_files(self):
        a = self.file("a.ndjson", b"1\n2\n[oops\n3\n")
        b = self.file("b.ndjson", b"4\n")
        result = bp.run(["--on-invalid", "fail", "--size", "1", a, b])
        self.check(result, 3, b"[1]\n[2]\n", None)
        self.assertTrue(result.stderr.startswith(f"batchpipe: {a}: line 3: ".encode()), result.stderr)

    def test_quote_delivers_invalid_lines_as_json_strings(self):
        data = (
            b'{"ok":1}\n'
            b"not json\n"
            b'  say "hi"\t\\ back  \n'
            b'{"x":"\xff"}\n'
            b"caf\xc3\xa9 \x01\x1f end\n"
            b"[2]\n"
        )
        result = bp.run(["--on-invalid", "quote"], data)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith(b'[{"ok":1},'), result.stdout)
        self.assertTrue(result.stdout.endswith(b",[2]]\n"), result.stdout)
        self.assertEqual(result.stdout.count(b"\n"), 1, result.stdout)
        value = json.loads(result.stdout.decode("utf-8"))  # strict: must be valid UTF-8 and JSON
        self.assertEqual(
            value,
            [{"ok": 1}, "not json", 'say "hi"\t\\ back', '{"x":"\ufffd"}', "café \x01\x1f end", [2]],
        )
        fffd = [l for l in bp.stderr_lines(result.stderr) if "U+FFFD" in l]
        self.assertEqual(len(fffd), 1, result.stderr)
        self.assertTrue(fffd[0].startswith("batchpipe: line 4: "), fffd[0])

    def test_after_100_reports_the_rest_are_counted(self):
        lines, bad, good = [], [], []
        for n in range(1, 501):
            if n % 2:
                lines.append(b"bad %d" % n)
                bad.append(n)
            else:
                lines.append(b"%d" % n)
                good.append(b"%d" % n)
        self.assertEqual(len(bad), 250)
        result = bp.run(["--interval", "0"], b"\n".join(lines) + b"\n")
        self.check(result, 1, b"[" + b",".join(good) + b"]\n", None)
        stderr = bp.stderr_lines(result.stderr)
        self.assertEqual(len(stderr), 101, result.stderr[-500:])
        for line, n in zip(stderr, bad[:100]):
            self.assertTrue(line.startswith(f"batchpipe: line {n}: "), line)
        self.assertTrue(stderr[100].startswith("batchpipe: "), stderr[100])
        self.assertNotRegex(stderr[100], r"^batchpipe: line \d")
        self.assertRegex(stderr[100], r"\b(150|250)\b")

    def test_quiet_silences_reports_but_exit_stays_1(self):
        lines = [b"%d" % n if n % 2 else b"bad" for n in range(1, 301)]
        result = bp.run(["-q", "--interval", "0"], b"\n".join(lines) + b"\n")
        expected = b"[" + b",".join(b"%d" % n for n in range(1, 301, 2)) + b"]\n"
        self.check(result, 1, expected, b"")
        self.check(bp.run(["-q"], b"1\nbad\n"), 1, b"[1]\n", b"")


class InputErrorsTest(Case):
    def test_missing_file_is_named_and_the_others_are_read(self):
        a = self.file("a.ndjson", b"1\n2\n")
        missing = os.path.join(self.dir, "no-such-file.ndjson")
        b = self.file("b.ndjson", b"3\n")
        result = bp.run([a, missing, b])
        self.check(result, 6, b"[1,2,3]\n", None)
        stderr = bp.stderr_lines(result.stderr)
        self.assertEqual(len(stderr), 1, result.stderr)
        self.assertTrue(stderr[0].startswith("batchpipe: "), stderr[0])
        self.assertIn(missing, stderr[0])

    def test_unreadable_input_exits_6(self):
        a = self.file("a.ndjson", b"1\n")
        result = bp.run([self.dir, a])  # a directory opens but cannot be read
        self.check(result, 6, b"[1]\n", None)
        stderr = bp.stderr_lines(result.stderr)
        self.assertEqual(len(stderr), 1, result.stderr)
        self.assertIn(self.dir, stderr[0])

    def test_missing_file_outranks_invalid_lines(self):
        bad = self.file("bad.ndjson", b"1\nnope\n2\n")
        missing = os.path.join(self.dir, "gone.ndjson")
        result = bp.run([bad, missing])
        self.check(result, 6, b"[1,2]\n", None)
        stderr = bp.stderr_lines(result.stderr)
        self.assertEqual(len(stderr), 2, result.stderr)
        self.assertTrue(any(l.startswith(f"batchpipe: {bad}: line 2: ") for l in stderr), stderr)
        self.assertTrue(any(missing in l for l in stderr), stderr)

    def test_missing_file_outranks_stopping_at_an_invalid_line(self):
        missing = os.path.join(self.dir, "gone.ndjson")
        bad = self.file("bad.ndjson", b"1\nnope\n2\n")
        result = bp.run(["--on-invalid", "fail", missing, bad])
        self.check(result, 6, b"[1]\n", None)


class DownstreamTest(Case):
    def test_reader_going_away_ends_batchpipe_quietly(self):
        # Endless input, so only the closed pipe can end the run: like `producer | batchpipe | head -1`.
        producer = bp.endless_producer(self, b'{"a":1}\n')
        err = tempfile.TemporaryFile()
        self.addCleanup(err.close)
        batchpipe = bp.spawn(self, [bp.binary()], stdin=producer.stdout, stdout=subprocess.PIPE, stderr=err)
        head = bp.spawn(self, ["head", "-n", "1"], stdin=batchpipe.stdout, stdout=subprocess.PIPE)
        producer.stdout.close()
        batchpipe.stdout.close()
        first, _ = head.communicate(timeout=bp.SLACK * 2)
        started = time.monotonic()
        code = batchpipe.wait(timeout=bp.SLACK * 2)
        err.seek(0)
        stderr = err.read()
        self.assertEqual(code, -13, f"exit {code} (want death by SIGPIPE), stderr {stderr!r}")
        self.assertEqual(stderr, b"")
        self.assertEqual(first, b"[" + b",".join([b'{"a":1}'] * 1000) + b"]\n")
        self.assertLess(time.monotonic() - started, bp.SLACK * 2)

    def test_reader_going_away_mid_file_ends_batchpipe_quietly(self):
        # A file read in large blocks, so reading is cut off between two lines' halves.
        records = b"".join(b'{"n":%d,"pad":"%s"}\n' % (i, b"r" * (i % 97)) for i in range(200000))
        big = self.file("big.ndjson", records)  # ~12 MB: more than the pipes between hold
        err = tempfile.TemporaryFile()
        self.addCleanup(err.close)
        with open(big, "rb") as source:
            batchpipe = bp.spawn(self, [bp.binary()], stdin=source, stdout=subprocess.PIPE, stderr=err)
        head = bp.spawn(self, ["head", "-n", "1"], stdin=batchpipe.stdout, stdout=subprocess.PIPE)
        batchpipe.stdout.close()
        first, _ = head.communicate(timeout=bp.SLACK * 2)
        code = batchpipe.wait(timeout=bp.SLACK * 2)
        err.seek(0)
        stderr = err.read()
        self.assertEqual(stderr, b"", f"exit {code}")
        self.assertEqual(code, -13, "want death by SIGPIPE")
        self.assertEqual(first, bp.encode([records.splitlines()[:1000]]))

    def test_write_error_is_reported_once_with_exit_4(self):
        records = b"".join(b'{"n":%d,"pad":"%s"}\n' % (i, b"q" * 100) for i in range(30000))  # ~3.5 MB
        for data in (b"1\n2\n", records):
            with self.subTest(bytes=len(data)), open("/dev/full", "wb") as full:
                result = bp.run(["--interval", "0"], data, stdout=full)
                self.assertEqual(result.returncode, 4, result.stderr)
                stderr = bp.stderr_lines(result.stderr)
                self.assertEqual(len(stderr), 1, result.stderr)
                self.assertTrue(stderr[0].startswith("batchpipe: "), stderr[0])
                self.assertIn(os.strerror(errno.ENOSPC), stderr[0])


if __name__ == "__main__":
    unittest.main()
