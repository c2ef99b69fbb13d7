"""batchpipe as PID 1 of a PID namespace (a container without an init), made
with `unshare --pid --fork --mount-proc --kill-child`: the processes --exec
commands leave behind become its children when their shell exits, and it must
reap them, while still getting the exit status of every command it waits for
itself. Needs root (or user namespaces); skipped where unshare cannot run.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import bp

UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]


def unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run([*UNSHARE, "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=bp.SLACK).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def stat_of(pid):
    """(state, ppid) of `pid` from /proc/PID/stat, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rfind(b")") + 2:].split()
    return fields[0].decode(), int(fields[1])


def children_of(pid):
    """Pids whose parent is `pid`, with their state, e.g. {123: 'Z'}."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = stat_of(int(name))
            if st and st[1] == pid:
                out[int(name)] = st[0]
    return out


@unittest.skipUnless(unshare_works(), "unshare --pid --fork cannot run here")
class Pid1Test(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bp-pid1-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def start(self, command, *args):
        out = open(os.path.join(self.tmp, "out"), "wb")
        self.addCleanup(out.close)
        proc = bp.spawn(self, [*UNSHARE, bp.binary(), "--interval", "0", "--size", "1", "--retries", "0",
                               "--exec", command, *args],
                        stdin=subprocess.PIPE, stdout=out, stderr=subprocess.PIPE, cwd=self.tmp)
        # batchpipe is unshare's one child, and PID 1 inside.
        self.assertTrue(bp.wait_for(lambda: len(children_of(proc.pid)) == 1, bp.SLACK), "unshare never forked")
        (pid,) = children_of(proc.pid)
        with open(f"/proc/{pid}/status") as f:
            nspid = [line.split()[1:] for line in f if line.startswith("NSpid:")][0]
        self.assertEqual(nspid[-1], "1", "batchpipe is not PID 1 in its namespace")
        return proc, pid

    def test_orphans_are_reaped_and_commands_keep_their_status(self):
        # Each command leaves a `sleep` behind, which outlives its shell and
        # becomes batchpipe's child; half the commands fail, and those
        # failures must still be seen as such.
        command = 'sleep 0.2 & echo "$BATCHPIPE_BATCH" >> calls; [ $((BATCHPIPE_BATCH % 2)) = 1 ]'
        proc, pid = self.start(command)
        n = 10
        proc.stdin.write(b"".join(b'{"i":%d}\n' % i for i in range(1, n + 1)))
        proc.stdin.flush()
        calls = os.path.join(self.tmp, "calls")

        def all_called():
            try:
                with open(calls, "rb") as f:
                    return len(f.read().split()) == n
            except FileNotFoundError:
                return False

        self.assertTrue(bp.wait_for(all_called, bp.SLACK * 2), "not every batch was tried")
        # The sleeps end 0.2s after their commands; then none may stay, as a zombie or at all.
        if not bp.wait_for(lambda: children_of(pid) == {}, 0.2 + bp.SLACK):
            self.fail(f"children of batchpipe (PID 1) left: {children_of(pid)}")
        proc.stdin.close()
        try:
            rc = proc.wait(timeout=bp.SLACK * 2)
        except subprocess.TimeoutExpired:
            self.fail("batchpipe as PID 1 did not end after its input did")
        err = proc.stderr.read().decode()
        self.assertEqual(rc, 4, err)
        lost = sorted(int(line.split()[2]) for line in err.splitlines() if "lost" in line)
        self.assertEqual(lost, list(range(2, n + 1, 2)), err)


if __name__ == "__main__":
    unittest.main()
