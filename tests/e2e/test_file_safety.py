"""The files batchpipe writes are its own: never one of its inputs or of each
other (checked before anything is written), never reached through a planted
symbolic link, never another user's.

Another user is simulated by running commands as `nobody` with setpriv (the
tests that need it are skipped unless run as root with setpriv at hand);
they plant files in a sticky world-writable directory, as in /tmp. Plain
planted links are tried in a non-sticky directory writable by all, where
only O_NOFOLLOW protects, whatever fs.protected_symlinks says.
"""

import os
import shutil
import stat
import subprocess
import tempfile
import unittest

import bp

RECORDS = b"".join(b'{"i":%d}\n' % i for i in range(50))
FAIL = ["--exec", "exit 1", "--retries", "0"]


def as_nobody(argv):
    subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv], check=True,
                   timeout=30)


def can_be_nobody() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


class Case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bp-safety-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, *names):
        return os.path.join(self.dir, *names)

    def write(self, name, data: bytes, mode=0o600):
        with open(self.path(name), "wb") as f:
            f.write(data)
        os.chmod(self.path(name), mode)
        return self.path(name)

    def read(self, path) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def usage_error(self, args, *fragments, **kwargs) -> str:
        r = bp.run(args, **kwargs)
        detail = f"{args}: exit {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r}"
        self.assertEqual(r.returncode, 2, detail)
        lines = bp.stderr_lines(r.stderr)
        self.assertEqual(len(lines), 1, detail)
        self.assertTrue(lines[0].startswith("batchpipe: "), detail)
        for fragment in fragments:
            self.assertIn(fragment, lines[0], detail)
        return lines[0]


class ClashTest(Case):
    def test_metrics_file_that_is_the_input_is_refused_and_the_input_kept(self):
        data = self.write("events.ndjson", RECORDS)
        self.usage_error(["--metrics-file", data, data], f"--metrics-file {data} is also the input {data}")
        self.assertEqual(self.read(data), RECORDS)
        self.assertEqual(sorted(os.listdir(self.dir)), ["events.ndjson"])

    def test_metrics_file_that_is_stdin_is_refused(self):
        data = self.write("events.ndjson", RECORDS)
        with open(data, "rb") as stdin:
            self.usage_error(["--metrics-file", data], "is also the standard input", stdin=stdin)
        self.assertEqual(self.read(data), RECORDS)

    def test_metrics_file_that_is_the_dead_letter_file_is_refused_and_the_dead_letters_kept(self):
        dead = self.write("dead.ndjson", b'{"old":1}\n')
        os.link(dead, self.path("other-name"))
        self.usage_error([*FAIL, "--dead-letter", dead, "--metrics-file", self.path("other-name")],
                         f"--dead-letter {dead} and --metrics-file {self.path('other-name')} are the same file",
                         input=RECORDS)
        self.assertEqual(self.read(dead), b'{"old":1}\n')

    def test_metrics_file_that_is_the_checkpoint_is_refused_and_the_checkpoint_kept(self):
        data = self.write("in.ndjson", RECORDS)
        cp = self.path("cp")
        self.assertEqual(bp.run(["--checkpoint", cp, data], b"").returncode, 0)
        before = self.read(cp)
        self.usage_error(["--checkpoint", cp, "--metrics-file", cp, data], "are the same file")
        self.assertEqual(self.read(cp), before)

    def test_checkpoint_and_dead_letter_one_file_is_refused_existing_or_not(self):
        data = self.write("in.ndjson", RECORDS)
        for name in ("new", "existing"):
            if name == "existing":
                self.write(name, b"")
            target = self.path(name)
            via = os.path.join(self.dir, ".", name)  # another spelling of the same name
            self.usage_error([*FAIL, "--checkpoint", target, "--dead-letter", via, data],
                             f"--dead-letter {via} and --checkpoint {target} are the same file")
        self.assertEqual(self.read(self.path("existing")), b"")
        self.assertFalse(os.path.exists(self.path("new")))

    def test_metrics_file_on_the_checkpoints_lock_is_refused(self):
        data = self.write("in.ndjson", RECORDS)
        cp = self.path("cp")
        self.usage_error(["--checkpoint", cp, "--metrics-file", cp + ".lock", data],
                         f"the checkpoint's lock {cp}.lock and --metrics-file {cp}.lock are the same file")

    def test_a_follow_input_not_there_yet_is_no_metrics_file(self):
        log = self.path("app.log")
        self.usage_error(["-F", "--metrics-file", log, log], f"--metrics-file {log} is also the input {log}",
                         input=b"")
        self.assertFalse(os.path.exists(log))

    def test_distinct_files_and_dev_null_are_fine(self):
        data = self.write("in.ndjson", RECORDS)
        with open(os.devnull, "rb") as devnull:
            r = bp.run([*FAIL, "--dead-letter", os.devnull, "--metrics-file", self.path("m.prom"), "-"],
                       stdin=devnull)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = bp.run([*FAIL, "--dead-letter", self.path("dead"), "--checkpoint", self.path("cp"),
                    "--metrics-file", self.path("m.prom"), data])
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(self.read(self.path("dead")), RECORDS)


class PlantedLinkTest(Case):
    """Links planted in a directory everyone may write, not sticky: only O_NOFOLLOW protects here."""

    def setUp(self):
        super().setUp()
        self.shared = self.path("shared")
        os.mkdir(self.shared)
        os.chmod(self.shared, 0o777)
        self.victim = self.write("victim", b"precious\n")

    def plant(self, name, target=None):
        link = os.path.join(self.shared, name)
        os.symlink(target or self.victim, link)
        return link

    def test_dead_letter_link_is_not_followed(self):
        dead = self.plant("dead.ndjson")
        self.usage_error([*FAIL, "--dead-letter", dead], f"--dead-letter {dead}: it is a symbolic link",
                         input=RECORDS)
        self.assertEqual(self.read(self.victim), b"precious\n")

    def test_dead_letter_link_planted_after_start_up_is_not_followed(self):
        # The file does not exist at start-up; the link appears before the first give-up.
        dead = os.path.join(self.shared, "dead.ndjson")
        live = bp.Live(self, [*FAIL, "--dead-letter", dead, "--size", "1"])
        live.write(b'{"i":0}\n')
        self.assertTrue(live.wait_until(lambda: b"written to" in live.err, bp.SLACK * 3),
                        bytes(live.err))
        os.unlink(dead)
        self.plant("dead.ndjson")
        live.write(b'{"i":1}\n')
        live.finish()
        self.assertEqual(self.read(self.victim), b"precious\n")
        self.assertIn(b"1 record lost", bytes(live.err))

    def test_checkpoint_lock_link_is_not_followed_nor_created_through(self):
        data = self.write("in.ndjson", RECORDS)
        cp = os.path.join(self.shared, "cp")
        self.plant("cp.lock")
        self.usage_error(["--checkpoint", cp, data], f"cannot create {cp}.lock: it is a symbolic link")
        self.assertEqual(self.read(self.victim), b"precious\n")
        os.unlink(cp + ".lock")
        self.plant("cp.lock", self.path("created-through-the-link"))  # a dangling link
        self.usage_error(["--checkpoint", cp, data], "symbolic link")
        self.assertFalse(os.path.exists(self.path("created-through-the-link")))

    def test_checkpoint_and_metrics_temporary_files_are_not_written_through_links(self):
        data = self.write("in.ndjson", RECORDS)
        cp = os.path.join(self.shared, "cp")
        metrics = os.path.join(self.shared, "m.prom")
        # The old predictable names: FILE.tmp and .NAME.PID.tmp for the next PIDs.
        self.plant("cp.tmp")
        for pid in range(os.getpid(), os.getpid() + 200):
            self.plant(f".m.prom.{pid}.tmp")
        r = bp.run(["--checkpoint", cp, "--metrics-file", metrics, data])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.read(self.victim), b"precious\n")
        self.assertEqual(r.stdout.count(b"\n"), 1)
        self.assertIn(b"batchpipe_records_read_total 50", self.read(metrics))
        self.assertFalse(stat.S_ISLNK(os.lstat(cp).st_mode))
        leftovers = [n for n in os.listdir(self.shared) if n.endswith(".tmp") and not os.path.islink(
            os.path.join(self.shared, n))]
        self.assertEqual(leftovers, [])


@unittest.skipUnless(can_be_nobody(), "needs root and setpriv to act as another user")
class AnotherUserTest(Case):
    """`nobody` plants files in a sticky directory everyone may write, as /tmp."""

    def setUp(self):
        super().setUp()
        os.chmod(self.dir, 0o755)
        self.shared = self.path("tmp")
        os.mkdir(self.shared)
        os.chmod(self.shared, 0o1777)

    def planted(self, name, mode):
        path = os.path.join(self.shared, name)
        as_nobody(["sh", "-c", f"umask 0; : > {path}; chmod {mode:o} {path}"])
        self.assertNotEqual(os.stat(path).st_uid, 0)
        return path

    def test_dead_letter_file_of_another_user_is_refused(self):
        for mode in (0o644, 0o600, 0o666):
            name = f"dead-{mode:o}.ndjson"
            dead = self.planted(name, mode)
            self.usage_error([*FAIL, "--dead-letter", dead], f"--dead-letter {dead}: it belongs to another user",
                             input=RECORDS)
            self.assertEqual(os.path.getsize(dead), 0, "records went into another user's file")

    def test_own_dead_letter_file_others_can_read_is_refused_not_widened(self):
        dead = os.path.join(self.shared, "dead.ndjson")
        with open(dead, "wb"):
            pass
        os.chmod(dead, 0o644)
        self.usage_error([*FAIL, "--dead-letter", dead], "its mode 0644 lets other users read or change the records",
                         "chmod 600", input=RECORDS)
        self.assertEqual(os.path.getsize(dead), 0)
        os.chmod(dead, 0o640)  # shared with its group by its owner: kept as it is
        r = bp.run([*FAIL, "--dead-letter", dead], RECORDS)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(self.read(dead), RECORDS)
        self.assertEqual(stat.S_IMODE(os.stat(dead).st_mode), 0o640)

    def test_a_new_dead_letter_file_is_ours_and_private(self):
        dead = os.path.join(self.shared, "dead.ndjson")
        r = bp.run([*FAIL, "--dead-letter", dead], RECORDS)
        self.assertEqual(r.returncode, 4, r.stderr)
        st = os.stat(dead)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o600))
        self.assertEqual(self.read(dead), RECORDS)

    def test_checkpoint_lock_or_checkpoint_of_another_user_is_refused(self):
        data = self.write("in.ndjson", RECORDS)
        cp = os.path.join(self.shared, "cp")
        self.planted("cp.lock", 0o666)
        self.usage_error(["--checkpoint", cp, data], f"--checkpoint: {cp}.lock: it belongs to another user")
        os.unlink(cp + ".lock")
        self.planted("cp", 0o666)
        self.usage_error(["--checkpoint", cp, data], f"--checkpoint: {cp}: it belongs to another user")
        self.assertEqual(os.path.getsize(cp), 0)

    def test_links_planted_by_another_user_are_not_followed(self):
        victim = self.write("victim", b"precious\n")
        dead = os.path.join(self.shared, "dead.ndjson")
        cp = os.path.join(self.shared, "cp")
        as_nobody(["ln", "-s", victim, dead])
        as_nobody(["ln", "-s", victim, cp + ".lock"])
        # Refused either way: by O_NOFOLLOW (ELOOP), or before it by the kernel's
        # protected_symlinks / sticky-directory rules (EACCES) where they are on.
        line = self.usage_error([*FAIL, "--dead-letter", dead], f"--dead-letter {dead}: ", input=RECORDS)
        self.assertRegex(line, "symbolic link|Permission denied")
        data = self.write("in.ndjson", RECORDS)
        line = self.usage_error(["--checkpoint", cp, data], f"{cp}.lock: ")
        self.assertRegex(line, "symbolic link|Permission denied")
        self.assertEqual(self.read(victim), b"precious\n")


if __name__ == "__main__":
    unittest.main()
