"""--input text (every line a record, as a JSON string) and the hints for
input of another shape (pretty-printed JSON, one array over many lines)."""

import json
import os
import tempfile
import unittest

import bp


class TextInputTest(unittest.TestCase):
    def test_every_line_is_a_string_whatever_it_holds(self):
        lines = [b"GET /index.html 200", b"42", b'{"a":1}', b"", b"  spaced  \t", b"tab\there", b'quote " and \\',
                 "caf\u00e9 \u2603".encode(), b"\x01control"]
        data = b"\n".join(lines[:4]) + b"\r\n" + b"\n".join(lines[4:]) + b"\n"
        r = bp.run(["--input", "text", "--interval", "0"], data)
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        out = json.loads(r.stdout)
        self.assertEqual(out, [l.decode() for l in lines])
        # Escaped as JSON requires, nothing more: the non-ASCII bytes pass through.
        self.assertIn("caf\u00e9 \u2603".encode(), r.stdout)

    def test_invalid_utf8_is_replaced_and_counted(self):
        r = bp.run(["--input", "text", "--interval", "0", "--stats=json"], b"ok\nbad \xff\xfe here\n")
        self.assertEqual(bp.stats(r.stderr)["lines_utf8_replaced_total"], 1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), ["ok", "bad \ufffd\ufffd here"])
        self.assertIn(b"batchpipe: line 2: invalid UTF-8 replaced with U+FFFD\n", r.stderr)

    def test_last_line_without_newline_and_bom(self):
        r = bp.run(["--input", "text"], b"\xef\xbb\xbffirst\nlast")
        self.assertEqual(json.loads(r.stdout), ["first", "last"])

    def test_too_long_once_quoted(self):
        r = bp.run(["--input", "text", "--max-bytes", "10", "--interval", "0"], b'abc\n"q"\nabcdefgh\nz\n')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, b'["abc"]\n["\\"q\\""]\n["z"]\n')
        self.assertIn(b"line 3: record of ", r.stderr)

    def test_same_output_on_any_thread_count(self):
        data = b"".join(b"line %d {x}\n" % i for i in range(50000))
        outs = {bp.run(["--input", "text", "--threads", t], data).stdout for t in ("1", "4")}
        self.assertEqual(len(outs), 1)

    def test_usage_error(self):
        r = bp.run(["--input", "csv"], b"")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"--input", r.stderr)


class ShapeHintTest(unittest.TestCase):
    def setUp(self):
        scratch = tempfile.TemporaryDirectory(prefix="bp-hint-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name

    def hints(self, err: bytes) -> list:
        return [l for l in err.decode().splitlines() if "hint:" in l]

    def test_pretty_printed_json(self):
        doc = json.dumps({"a": {"b": 1}, "c": [1, 2]}, indent=2).encode() + b"\n"
        r = bp.run([], doc * 3)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.hints(r.stderr),
                         ["batchpipe: hint: stdin looks like pretty-printed JSON, not NDJSON (one value per line); "
                          "try: jq -c . | batchpipe ..."])

    def test_one_array_over_many_lines_once_per_input(self):
        path = os.path.join(self.dir, "array.json")
        with open(path, "wb") as f:
            f.write(json.dumps([{"a": 1}, {"b": 2}], indent=2).encode() + b"\n")
        r = bp.run(["--on-invalid", "fail", path])
        self.assertEqual(r.returncode, 3)
        self.assertEqual(self.hints(r.stderr),
                         [f"batchpipe: hint: {path} looks like one JSON array spread over lines, not NDJSON; "
                          f"try: jq -c '.[]' {path} | batchpipe ..."])
        r = bp.run([path, path])
        self.assertEqual(len(self.hints(r.stderr)), 2)  # once for each input

    def test_ndjson_with_a_few_bad_lines_gets_no_hint(self):
        r = bp.run([], b'{"a":1}\n{bad\n{bad\n{bad\n[bad\n{"b":2}\n')
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.hints(r.stderr), [])

    def test_quiet_silences_hints(self):
        r = bp.run(["-q"], b"[\n1,\n2\n]\n")
        self.assertEqual(self.hints(r.stderr), [])


if __name__ == "__main__":
    unittest.main()
