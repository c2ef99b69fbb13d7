"""--size and --max-bytes at and around their boundaries, oversized records,
memory use on a giant line, and volume: 200k records and seeded random runs."""

import json
import os
import random
import subprocess
import tempfile
import unittest

import bp

MiB = 1 << 20
R5 = b'"abc"'  # a 5-byte record: k of them encode to 6k+1 bytes


def oversize_message(line: int, size: int, limit: int) -> bytes:
    """The report of a record over `limit` (--max-bytes, in bytes), which it names,
    in KiB/MiB/GiB too when it is a whole number of them."""
    units = ""
    if limit % 1024 == 0:
        value, unit = limit // 1024, 0
        while value % 1024 == 0 and unit < 3:
            value, unit = value // 1024, unit + 1
        units = " (%d %s)" % (value, ("KiB", "MiB", "GiB", "TiB")[unit])
    framed = " with the batch's brackets and newline" if size <= limit else ""
    return b"batchpipe: line %d: record of %d bytes exceeds --max-bytes %d%s%s\n" % (
        line, size, limit, units.encode(), framed.encode())


class SizeTest(unittest.TestCase):
    def check_batches(self, args, records, batches):
        result = bp.run(["--interval", "0", *args], b"".join(r + b"\n" for r in records))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, bp.encode(batches))
        self.assertEqual(result.stderr, b"")

    def test_size_one_puts_each_record_alone(self):
        records = [b"%d" % n for n in range(5)]
        self.check_batches(["--size", "1"], records, [[r] for r in records])

    def test_size_boundaries(self):
        for count in (0, 1, 2, 3, 4, 5, 6, 7):
            with self.subTest(records=count):
                records = [b"%d" % n for n in range(count)]
                batches = [records[i : i + 3] for i in range(0, count, 3)]
                self.check_batches(["--size", "3"], records, batches)

    def test_default_size_is_1000(self):
        for count in (999, 1000, 1001, 2000):
            with self.subTest(records=count):
                records = [b"%d" % n for n in range(count)]
                self.check_batches([], records, [records[i : i + 1000] for i in range(0, count, 1000)])


class MaxBytesTest(unittest.TestCase):
    def run_records(self, args, records, **kwargs):
        return bp.run(["--interval", "0", *args], b"".join(r + b"\n" for r in records), **kwargs)

    def test_batches_fill_up_to_max_bytes_exactly(self):
        # k records of 5 bytes encode to 6k+2 bytes, newline included.
        for max_bytes, per_batch in ((8, 1), (13, 1), (14, 2), (19, 2), (20, 3), (26, 4)):
            with self.subTest(max_bytes=max_bytes):
                records = [R5] * 7
                result = self.run_records(["--max-bytes", str(max_bytes)], records)
                self.assertEqual(result.returncode, 0, result.stderr)
                batches = [records[i : i + per_batch] for i in range(0, 7, per_batch)]
                self.assertEqual(result.stdout, bp.encode(batches))
                for line in result.stdout.splitlines(keepends=True):
                    self.assertLessEqual(len(line), max_bytes)

    def test_size_and_max_bytes_together(self):
        records = [R5] * 10
        result = self.run_records(["--size", "2", "--max-bytes", "100"], records)
        self.assertEqual(result.stdout, bp.encode([[R5, R5]] * 5))
        result = self.run_records(["--size", "5", "--max-bytes", "14"], records)
        self.assertEqual(result.stdout, bp.encode([[R5, R5]] * 5))

    def test_record_that_cannot_fit_alone_is_rejected(self):
        records = [b'"x"', b'"abcd"', b'"y"', b'"abc"']  # with --max-bytes 8: 6 bytes is too big, 5 fits
        result = self.run_records(["--max-bytes", "8"], records)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, b'["x"]\n["y"]\n["abc"]\n')
        self.assertEqual(result.stderr, oversize_message(2, 6, 8))

    def test_oversized_record_with_on_invalid_fail(self):
        result = self.run_records(["--max-bytes", "8", "--on-invalid", "fail"], [b"1", b"2", b'"abcd"', b"3"])
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertEqual(result.stdout, b"[1,2]\n")
        self.assertEqual(result.stderr, oversize_message(3, 6, 8))

    def test_binary_units(self):
        for flag, limit in (("1K", 1024), ("1KiB", 1024), ("2K", 2048)):
            with self.subTest(max_bytes=flag):
                fits, too_big = bp.string_record(limit - 3), bp.string_record(limit - 2)
                result = self.run_records(["--max-bytes", flag], [b"1", fits, too_big, b"2"])
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertEqual(result.stdout, b"[1]\n[" + fits + b"]\n[2]\n")
                self.assertEqual(result.stderr, oversize_message(3, limit - 2, limit))

    def test_surrounding_whitespace_does_not_count(self):
        fits = bp.string_record(1021)
        data = b"  \t" + fits + b"\t  \r\n" + b"1\n"
        result = bp.run(["--max-bytes", "1K", "--interval", "0"], data)
        self.assertEqual((result.returncode, result.stderr), (0, b""))
        self.assertEqual(result.stdout, b"[" + fits + b"]\n[1]\n")

    def test_exact_fit_giant_record_with_much_surrounding_whitespace(self):
        # Longer than any read block: the whitespace must still not count.
        record = bp.string_record(MiB - 3)
        data = b" " * 100 + record + b"\t" * 100 + b"\r\n{}\n"
        result = bp.run(["--max-bytes", "1M", "--interval", "0"], data)
        self.assertEqual(result.stderr, b"")
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stdout, b"[" + record + b"]\n[{}]\n")

    def test_giant_oversized_record_reports_its_trimmed_size(self):
        record = bp.string_record(2 * MiB)
        data = b"   " + record + b"  \r\n{}\n"
        result = bp.run(["--max-bytes", "1M"], data)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, b"[{}]\n")
        self.assertEqual(result.stderr, oversize_message(1, 2 * MiB, MiB))

    def test_far_oversized_line_is_rejected_in_little_memory(self):
        size = 50 * MiB
        with tempfile.TemporaryFile() as source:
            source.write(b'{"before":1}\n"')
            chunk = b"a" * MiB
            for _ in range(size // MiB):
                source.write(chunk)
            source.write(b'"\n{"after":2}\n')
            source.seek(0)
            with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
                proc = bp.spawn(
                    self, [bp.binary(), "--max-bytes", "1M"], stdin=source, stdout=out, stderr=err
                )
                usage = bp.wait_with_rusage(proc, bp.RUN_TIMEOUT)
                out.seek(0)
                err.seek(0)
                stdout, stderr = out.read(), err.read()
        self.assertEqual(proc.returncode, 1, stderr)
        self.assertEqual(stdout, b'[{"before":1},{"after":2}]\n')
        self.assertEqual(stderr, oversize_message(2, size + 2, MiB))
        peak = usage.ru_maxrss * 1024  # Linux reports KiB
        # Against the same binary on a few small lines: sanitizer builds start
        # at tens of MiB, a release build at about 10.
        with tempfile.TemporaryFile() as small, tempfile.TemporaryFile() as out:
            small.write(b'{"before":1}\n{"after":2}\n')
            small.seek(0)
            base = bp.wait_with_rusage(bp.spawn(self, [bp.binary(), "--max-bytes", "1M"], stdin=small, stdout=out),
                                       bp.RUN_TIMEOUT)
        baseline = base.ru_maxrss * 1024
        self.assertLess(peak - baseline, 24 * MiB,
                        f"peak RSS {peak / MiB:.1f} MiB for a 50 MiB line, {baseline / MiB:.1f} MiB for two small ones")


class VolumeTest(unittest.TestCase):
    def test_200k_records_come_out_in_order(self):
        rng = random.Random(200_000)
        words = ["alpha", "βeta", "γάμμα", "日本", "emoji 😀", 'quote " and \\ slash', "tab\tnl\n"]
        lines = []
        for i in range(200_000):
            value = {"i": i, "w": rng.choice(words), "f": rng.random(), "l": [i % 7, None, i % 2 == 0]}
            lines.append(json.dumps(value, ensure_ascii=bool(i % 2)).encode())
        result = bp.run([], b"\n".join(lines) + b"\n", timeout=bp.RUN_TIMEOUT * 2)
        self.assertEqual(result.returncode, 0, result.stderr[:500])
        self.assertEqual(result.stderr, b"")
        out_lines = result.stdout.split(b"\n")
        self.assertEqual(out_lines.pop(), b"", "stdout must end with a newline")
        delivered = []
        for n, line in enumerate(out_lines, 1):
            batch = json.loads(line)
            self.assertIsInstance(batch, list, f"batch {n}")
            self.assertTrue(1 <= len(batch) <= 1000, f"batch {n} holds {len(batch)} records")
            delivered.extend(batch)
        self.assertEqual(len(delivered), len(lines))
        self.assertTrue(delivered == [json.loads(l) for l in lines], "records differ or are out of order")
        bp.split_batches(result.stdout, lines)  # and byte for byte

    def test_random_records_round_trip_within_limits(self):
        rng = random.Random(20240611)
        for round_ in range(30):
            size = rng.choice([1, 2, 3, 5, 17, 100, 1000, rng.randint(1, 64)])
            max_bytes = rng.choice([4, 5, 11, 65, 301, 1025, 4097, rng.randint(4, 5000)])
            fit = max_bytes - 3
            records, lines, rejected = [], [], []
            for line_no in range(1, rng.randint(0, 400) + 1):
                roll = rng.random()
                if roll < 0.02:
                    length = fit + rng.randint(1, 40)  # too big to fit even alone
                elif roll < 0.1:
                    length = fit  # exactly fits alone
                else:
                    length = rng.randint(1, min(fit, rng.choice([8, 40, 400, fit])))
                record = self.make_record(rng, length)
                pad = rng.choice([b"", b"", b" ", b"\t ", b"  "])
                lines.append(pad + record + pad[::-1] + rng.choice([b"\n", b"\n", b"\r\n"]))
                if length > fit:
                    rejected.append(oversize_message(line_no, length, max_bytes))
                else:
                    records.append(record)
            args = ["--size", str(size), "--max-bytes", str(max_bytes), "--interval", "0"]
            with self.subTest(round=round_, args=args, records=len(lines)):
                result = bp.run(args, b"".join(lines))
                self.assertEqual(result.returncode, 1 if rejected else 0, result.stderr[:500])
                self.assertEqual(result.stderr, b"".join(rejected[:100]))
                batches = bp.split_batches(result.stdout, records)
                for batch in batches:
                    self.assertLessEqual(len(batch), size)
                    self.assertLessEqual(bp.encoded_size(batch), max_bytes)
                self.assertEqual(batches, bp.greedy_batches(records, size, max_bytes))

    @staticmethod
    def make_record(rng, length: int) -> bytes:
        """A valid JSON text of exactly `length` bytes."""
        kind = rng.random()
        if length == 1:
            return str(rng.randint(0, 9)).encode()
        if kind < 0.3:
            return str(rng.randint(1, 9)).encode() + b"".join(
                str(rng.randint(0, 9)).encode() for _ in range(length - 1)
            )
        if kind < 0.5 and length >= 4:
            inner = "é" * ((length - 2) // 2)  # 2 bytes each in UTF-8
            return b'"' + inner.encode() + b"x" * ((length - 2) % 2) + b'"'
        if kind < 0.7 and length >= 2:
            return b"[" + b" " * (length - 2) + b"]"
        return bp.string_record(length, bytes([rng.choice(b"abcxyz ")]))


if __name__ == "__main__":
    unittest.main()
