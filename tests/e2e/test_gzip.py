"""Gzip input: a file or stdin that starts with the gzip magic bytes is
decompressed on the fly, with the framing rules and bounded memory of plain
input; a corrupt or truncated stream is an input error (exit 6) that names
the input and says how far it got."""

import gzip
import os
import random
import subprocess
import tempfile
import time
import unittest
import zlib

import bp

MiB = 1 << 20


def sample(n: int, seed: int = 5) -> bytes:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.01:
            lines.append(b"not json")
        elif roll < 0.02:
            lines.append(b"")
        else:
            lines.append(b'{"i":%d,"pad":"%s"}' % (i, b"x" * rng.randint(0, 300)))
    return b"\r\n".join(lines[: n // 2]) + b"\r\n" + b"\n".join(lines[n // 2 :]) + b"\n"


class GzipTest(unittest.TestCase):
    def setUp(self):
        scratch = tempfile.TemporaryDirectory(prefix="bp-gzip-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def write(self, name: str, data: bytes) -> str:
        with open(self.path(name), "wb") as f:
            f.write(data)
        return self.path(name)

    def test_same_output_as_zcat_piped_in(self):
        plain = b"\xef\xbb\xbf" + sample(20000)  # a BOM too
        gz = self.write("in.ndjson.gz", gzip.compress(plain))
        args = ["--size", "100", "--interval", "0"]
        expected = bp.run(args, plain)
        self.assertEqual(expected.returncode, 1)
        from_file = bp.run([*args, gz])
        from_stdin = bp.run(args, gzip.compress(plain))
        self.assertEqual((from_file.returncode, from_file.stdout), (expected.returncode, expected.stdout))
        self.assertEqual(from_stdin.stdout, expected.stdout)
        self.assertEqual(from_stdin.stderr, expected.stderr)
        # Messages name the file and its (decompressed) line numbers.
        self.assertEqual(from_file.stderr, expected.stderr.replace(b"batchpipe: line ", b"batchpipe: " + gz.encode() + b": line "))

    def test_concatenated_members_are_one_stream(self):
        a, b = sample(3000, 1), sample(3000, 2)
        gz = self.write("two.gz", gzip.compress(a) + gzip.compress(b))
        r = bp.run(["--interval", "0", "-q", gz])
        self.assertEqual(r.stdout, bp.run(["--interval", "0", "-q"], a + b).stdout)
        self.assertEqual(r.returncode, 1)

    def test_plain_and_gzip_files_mix(self):
        a, b = sample(500, 3), sample(500, 4)
        plain = self.write("a.ndjson", a)
        gz = self.write("b.ndjson.gz", gzip.compress(b))
        r = bp.run(["--interval", "0", "-q", plain, gz])
        self.assertEqual(r.stdout, bp.run(["--interval", "0", "-q"], a + b).stdout)

    def test_truncated_stream_is_an_input_error(self):
        data = gzip.compress(sample(20000))
        gz = self.write("cut.gz", data[: len(data) // 2])
        r = bp.run(["--interval", "0", "-q", gz])
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn(gz.encode() + b": the gzip data ends early: truncated (after ", r.stderr)
        self.assertIn(b"bytes decompressed)", r.stderr)
        self.assertTrue(r.stdout, "the records before the cut are still delivered")

    def test_corrupt_stream_is_an_input_error(self):
        data = bytearray(gzip.compress(sample(2000)))
        data[3] = 0xFF  # reserved flag bits set: not a valid header
        r = bp.run([self.write("bad.gz", bytes(data))])
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn(b"bad.gz: corrupt gzip data: ", r.stderr)
        # A flipped byte in the trailer: the CRC check catches it at the end.
        data = bytearray(gzip.compress(sample(2000)))
        data[-6] ^= 0xFF
        r = bp.run(["-q", self.write("crc.gz", bytes(data))])
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn(b"crc.gz: corrupt gzip data: incorrect data check", r.stderr)

    def test_trailing_garbage_is_an_input_error(self):
        r = bp.run([self.write("tail.gz", gzip.compress(b'{"a":1}\n') + b"garbage")])
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertEqual(r.stdout, b'[{"a":1}]\n')

    def test_empty_gzip_is_empty_input(self):
        r = bp.run([self.write("empty.gz", gzip.compress(b""))])
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))

    def test_a_2_gb_line_is_read_through_in_bounded_memory(self):
        # 2 GiB of one line, 2 MiB compressed: rejected as too long, read
        # through without being held, and the record after it delivered.
        path = self.path("giant.gz")
        comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        chunk = b"a" * MiB
        with open(path, "wb") as f:
            f.write(comp.compress(b'{"before":1}\n"'))
            for _ in range(2048):
                f.write(comp.compress(chunk))
            f.write(comp.compress(b'"\n{"after":2}\n'))
            f.write(comp.flush())
        err = self.path("err")
        with open(err, "wb") as ferr:
            proc = bp.spawn(self, [bp.binary(), "--max-bytes", "1M", "--interval", "0", path],
                            stdout=subprocess.PIPE, stderr=ferr)
            peak = 0
            deadline = time.monotonic() + 600
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    with open(f"/proc/{proc.pid}/status") as s:
                        for line in s:
                            if line.startswith("VmHWM:"):
                                peak = max(peak, int(line.split()[1]))
                except FileNotFoundError:
                    break
                time.sleep(0.05)  # sampling, not waiting for an event
            out = proc.stdout.read()
            rc = proc.wait(timeout=600)
        with open(err, "rb") as f:
            stderr = f.read()
        self.assertEqual(rc, 1, stderr)
        self.assertEqual(out, b'[{"before":1},{"after":2}]\n')
        self.assertIn(b"line 2: record of %d bytes exceeds --max-bytes" % (2048 * MiB + 2), stderr)
        self.assertLess(peak, 200 * 1024, f"peak RSS {peak} KiB")  # far below 2 GiB; ASan adds its own


if __name__ == "__main__":
    unittest.main()


class InputMessagesInOrderTest(unittest.TestCase):
    """Messages about the input itself (a file that will not open, corrupt
    gzip data) come in input order among those about lines, and not at all
    after a line that stopped the run."""

    def setUp(self):
        scratch = tempfile.TemporaryDirectory(prefix="bp-order-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name

    def test_on_invalid_fail_reads_nothing_after_the_bad_line(self):
        good = os.path.join(self.dir, "a.ndjson")
        with open(good, "wb") as f:
            f.write(b"".join(b'{"i":%d}\n' % i for i in range(1000)) + b"bad\n" + b"1\n" * 1000)
        missing = os.path.join(self.dir, "missing.ndjson")
        r = bp.run(["--on-invalid", "fail", "--interval", "0", good, missing])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stderr, b"batchpipe: " + good.encode() + b": line 1001: expected value at column 1\n")

    def test_errors_come_in_input_order(self):
        compressed = gzip.compress(b"oops\n" + b"".join(b'{"i":%d}\n' % i for i in range(300000)))
        cut = os.path.join(self.dir, "cut.gz")
        with open(cut, "wb") as f:
            f.write(compressed[: len(compressed) // 3])
        missing = os.path.join(self.dir, "missing.ndjson")
        r = bp.run([missing, cut])
        self.assertEqual(r.returncode, 6, r.stderr)
        lines = bp.stderr_lines(r.stderr)
        self.assertEqual(lines[0], f"batchpipe: {missing}: No such file or directory")
        self.assertEqual(lines[1], f"batchpipe: {cut}: line 1: expected value at column 1")
        self.assertTrue(lines[2].startswith(f"batchpipe: {cut}: the gzip data ends early: truncated"), lines)
