"""Real receivers Debian ships, run privately by a test: ClickHouse and PostgreSQL.

    server = receivers.ClickHouse.start()        # or PostgreSQL.start()
    try:
        ... server.http_url, server.query("SELECT count() FROM t") ...
    finally:
        server.stop()

Each server is a child of the test process, in the foreground (so its PID is
the server's own), with its data in a fresh temporary directory: ClickHouse on
free ports of 127.0.0.1, PostgreSQL on a Unix socket in its directory only. The
system's own instance, if any, is never touched. Running as root (as CI does),
the server runs as the user its package creates (`clickhouse`, `postgres`),
since neither runs as root; otherwise as the current user.

Readiness is polled against a deadline (the server answers a query), never
waited for by sleeping. stop() kills the server by its PID (a polite signal,
then SIGKILL at a deadline) and removes its directory; the server is also given
a parent-death signal, so a test process killed outright (a ctest timeout)
does not leave it running.

A missing program skips the test on a developer's machine, but fails it when
CI=true: CI installs every receiver (README's test command), so a skip there
would hide a broken install.
"""

import ctypes
import datetime
import glob
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

# How long a server may take to answer its first query: a few seconds
# normally, more on a loaded two-core machine running the suite under ASan.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
POLL_STEP = 0.05

_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig):
    """A preexec_fn: the kernel sends `sig` to the child when the test process
    goes. Runs after subprocess has switched user (a change of credentials
    clears the setting, so it must come after)."""
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec():
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)

    return preexec


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(*paths_or_names) -> list:
    """Absolute paths of these programs (a name is looked up in PATH, then in
    /usr/sbin and /sbin); raises SkipTest if one is missing, or fails under CI."""
    found, missing = [], []
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    for p in paths_or_names:
        path = p if os.path.isabs(p) and os.access(p, os.X_OK) else shutil.which(p, path=search)
        (found if path else missing).append(path or p)
    if missing:
        unavailable(f"not installed: {', '.join(missing)}")
    return found


def unavailable(message: str):
    """Skips the test, or fails it under CI (where it must run)."""
    if in_ci():
        raise AssertionError(f"{message} (CI=true: README's test command installs every receiver)")
    raise unittest.SkipTest(message)


def free_ports(n: int) -> list:
    """n distinct ports of 127.0.0.1 with nothing listening (bound, read, closed).
    Another process could take one before the server binds it: the servers
    below start again on new ports if theirs is taken."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _base_dir() -> str:
    """Where a server's directory goes: the usual temporary directory, unless
    running as root with one the service user cannot reach (TMPDIR under
    /root, say); then /tmp."""
    base = tempfile.gettempdir()
    if os.geteuid() != 0:
        return base
    path = os.path.realpath(base)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return "/tmp"
        if path == "/":
            return base
        path = os.path.dirname(path)


class _Server:
    """A server process and its directory; stop() ends both."""

    SERVICE_USER = ""  # who runs the server when the test runs as root
    STOP_SIGNAL = signal.SIGTERM

    def __init__(self):
        self.proc = None
        self.dir = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam(self.SERVICE_USER)
            except KeyError:
                unavailable(f"no user {self.SERVICE_USER!r} to run the server as (its package creates it)")
        else:
            self.user = pwd.getpwuid(os.geteuid())
        self.dir = tempfile.mkdtemp(prefix=f"bp-{self.SERVICE_USER}-", dir=_base_dir())
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)

    def path(self, *parts) -> str:
        return os.path.join(self.dir, *parts)

    def write(self, name: str, text: str) -> str:
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        if os.geteuid() == 0:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)
        return path

    def _as_user(self) -> dict:
        """subprocess arguments that run a program as the server's user."""
        if os.geteuid() != 0:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def _env(self) -> dict:
        return {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8", "TZ": "UTC",
                "HOME": self.dir}

    def run_as_user(self, argv, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=self.dir, env=self._env(), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout, **self._as_user())

    def _spawn(self, argv, pdeath_signal, log_name: str):
        with open(self.path(log_name), "ab") as log:
            self.proc = subprocess.Popen(
                argv, cwd=self.dir, env=self._env(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent(pdeath_signal), **self._as_user())

    def _wait_ready(self, probe, what: str) -> None:
        """Polls probe() until it returns True; raises if the server exits or
        the deadline passes (the caller stops it)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if probe():
                return
            if self.proc.poll() is not None:
                raise ServerExited(f"{what} exited with {self.proc.returncode} before it was ready")
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what} not ready after {START_TIMEOUT:.0f}s; log: {self.log_tail()}")
            time.sleep(POLL_STEP)

    def log_tail(self) -> str:
        return ""

    def kill(self) -> None:
        """Stops the server by its PID: STOP_SIGNAL, then SIGKILL at a deadline; reaps it."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(self.STOP_SIGNAL)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Kills the server (if running) and removes its directory. Safe to call twice."""
        try:
            self.kill()
        finally:
            if self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None


class ServerExited(Exception):
    """The server ended while starting (e.g. its port was taken meanwhile)."""


# -- ClickHouse ---------------------------------------------------------------

# Straight to 127.0.0.1, whatever http_proxy says.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

CLICKHOUSE_USERS = "/etc/clickhouse-server/users.xml"
CLICKHOUSE_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>{dir}/server.log</log>
    <errorlog>{dir}/server.err.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{http_port}</http_port>
  <tcp_port>{tcp_port}</tcp_port>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <users_config>{users}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
</yandex>
"""


class ClickHouse(_Server):
    """Debian's clickhouse-server (18.16), user `default` without a password."""

    SERVICE_USER = "clickhouse"

    @classmethod
    def start(cls, attempts: int = 3) -> "ClickHouse":
        server_bin, client_bin = need("clickhouse-server", "clickhouse-client")
        if not os.path.exists(CLICKHOUSE_USERS):
            unavailable(f"no {CLICKHOUSE_USERS} (package clickhouse-server)")
        server = cls()
        server.client_bin = client_bin
        try:
            for attempt in range(1, attempts + 1):
                server.http_port, server.tcp_port = free_ports(2)
                config = server.write("config.xml", CLICKHOUSE_CONFIG.format(
                    dir=server.dir, users=CLICKHOUSE_USERS, http_port=server.http_port, tcp_port=server.tcp_port))
                server._spawn([server_bin, f"--config-file={config}"], signal.SIGKILL, "console.log")
                try:
                    server._wait_ready(server._answers, "clickhouse-server")
                    return server
                except ServerExited as e:
                    server.kill()
                    if attempt == attempts or "Address already in use" not in server.log_tail():
                        raise AssertionError(f"{e}; log: {server.log_tail()}") from None
        except BaseException:
            server.stop()
            raise

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    def _answers(self) -> bool:
        try:
            with _NO_PROXY.open(self.http_url + "?query=SELECT%201", timeout=2) as r:
                return r.read() == b"1\n"
        except (OSError, urllib.error.URLError):
            return False

    def log_tail(self) -> str:
        text = ""
        for name in ("console.log", "server.err.log"):
            try:
                with open(self.path(name), "rb") as f:
                    text += f.read()[-1500:].decode("utf-8", "replace")
            except OSError:
                pass
        return text

    def client_argv(self) -> list:
        """clickhouse-client on this server's TCP port."""
        return [self.client_bin, "--host", "127.0.0.1", "--port", str(self.tcp_port)]

    def query(self, sql: str, timeout: float = 30.0) -> str:
        """Runs `sql` with clickhouse-client; returns its stdout, stripped."""
        r = subprocess.run([*self.client_argv(), "--query", sql], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise AssertionError(f"clickhouse-client {sql!r}: exit {r.returncode}: {r.stderr[-1500:]!r}")
        return r.stdout.decode().strip()


# -- PostgreSQL ---------------------------------------------------------------


def _pg_bindir() -> str:
    """The newest /usr/lib/postgresql/N/bin holding initdb and postgres (Debian
    keeps them off PATH); else the directory of an initdb on PATH."""
    def version(d):
        m = re.search(r"/postgresql/(\d+)/bin$", d)
        return int(m.group(1)) if m else 0

    dirs = [os.path.dirname(p) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if dirs:
        return max(dirs, key=version)
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else ""


class PostgreSQL(_Server):
    """A private PostgreSQL cluster (initdb), superuser `postgres`, trust
    authentication, reachable only through the Unix socket in its directory.
    client_env() gives the PG* variables that point psql at it."""

    SERVICE_USER = "postgres"
    STOP_SIGNAL = signal.SIGINT  # "fast" shutdown: ends sessions, checkpoints, exits
    PORT = 5432  # names the socket file only: the socket is in our own directory

    @classmethod
    def start(cls) -> "PostgreSQL":
        bindir = _pg_bindir()
        initdb, postgres = need(os.path.join(bindir, "initdb") if bindir else "initdb",
                                os.path.join(bindir, "postgres") if bindir else "postgres")
        (psql,) = need("psql")
        server = cls()
        server.psql_bin = psql
        try:
            r = server.run_as_user([initdb, "-D", server.path("data"), "-U", "postgres", "-A", "trust",
                                    "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"],
                                   timeout=START_TIMEOUT)
            if r.returncode != 0:
                raise AssertionError(f"initdb: exit {r.returncode}: {(r.stdout + r.stderr)[-1500:]!r}")
            server._spawn([postgres, "-D", server.path("data"), "-k", server.dir, "-p", str(cls.PORT),
                           "-c", "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off"],
                          signal.SIGQUIT, "server.log")
            server._wait_ready(server._answers, "postgres")
            return server
        except BaseException:
            server.stop()
            raise

    def client_env(self, database: str = "postgres") -> dict:
        """os.environ plus the PG* variables that point psql at this server."""
        env = dict(os.environ)
        env.update(PGHOST=self.dir, PGPORT=str(self.PORT), PGUSER="postgres", PGDATABASE=database)
        for name in ("PGPASSWORD", "PGSERVICE", "PGOPTIONS", "PGSSLMODE"):
            env.pop(name, None)
        return env

    def _answers(self) -> bool:
        if not os.path.exists(self.path(f".s.PGSQL.{self.PORT}")):
            return False
        r = subprocess.run([self.psql_bin, "-qXAtc", "select 1"], env=self.client_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        return r.returncode == 0 and r.stdout == b"1\n"

    def log_tail(self) -> str:
        try:
            with open(self.path("server.log"), "rb") as f:
                return f.read()[-1500:].decode("utf-8", "replace")
        except OSError:
            return ""

    def psql(self, sql: str, database: str = "postgres", timeout: float = 30.0) -> str:
        """Runs `sql` with psql (unaligned, tuples only); returns stdout, stripped."""
        r = subprocess.run([self.psql_bin, "-qXAt", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           env=self.client_env(database), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise AssertionError(f"psql {sql!r}: exit {r.returncode}: {r.stderr[-1500:]!r}")
        return r.stdout.decode().strip()


# -- README recipes -----------------------------------------------------------

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")


def readme_recipe(name: str) -> str:
    """The ```sh block that follows `<!-- recipe: NAME -->` in README.md, so a
    test runs exactly what the README shows."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- recipe: " + re.escape(name) + r" -->\s*```sh\n(.*?)^```", text, re.S | re.M)
    if not m:
        raise AssertionError(f"README.md has no ```sh block after <!-- recipe: {name} -->")
    return m.group(1)


def replace_once(text: str, old: str, new: str) -> str:
    """text with `old` replaced by `new`; fails unless `old` occurs (a README
    edit that drops it must break the test, not silently test something else)."""
    if old not in text:
        raise AssertionError(f"expected {old!r} in the recipe:\n{text}")
    return text.replace(old, new)


def path_with_batchpipe(scratch: str, binary: str) -> str:
    """A PATH whose first directory holds `batchpipe` (a link to the built
    binary), so recipes run as written."""
    bindir = os.path.join(scratch, "bin")
    os.makedirs(bindir, exist_ok=True)
    link = os.path.join(bindir, "batchpipe")
    if not os.path.lexists(link):
        os.symlink(os.path.abspath(binary), link)
    return bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")


LEVELS = ("info", "warn", "error")


def events(n: int, start: int = 0) -> list:
    """Records as the recipes describe them, with varied strings; some lack a
    field, some carry one no table has."""
    out = []
    for i in range(start, start + n):
        e = {"time": (datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc)
                      + datetime.timedelta(seconds=i, milliseconds=i % 1000)).isoformat(timespec="milliseconds"),
             "level": LEVELS[i % 3],
             "msg": ["started", 'it\'s "quoted" \\ back', "café ☃ 𝄞", "tab\there\nnewline", ""][i % 5] + f" {i}"}
        if i % 7 == 0:
            del e["level"]
        if i % 11 == 0:
            e["host"] = "web-1"
        out.append(json.dumps(e, ensure_ascii=(i % 2 == 0)).encode())
    return out


def md5_sum(values) -> int:
    """Sum of the first 32 bits of MD5 of each string: order-free, but counts
    each value once per occurrence."""
    return sum(int(hashlib.md5(v.encode()).hexdigest()[:8], 16) for v in values)


class RecipeCase(unittest.TestCase):
    """Runs a README recipe in a scratch directory, `batchpipe` first in PATH."""

    def setUp(self):
        batchpipe = os.environ.get("BATCHPIPE")
        if not batchpipe:
            raise RuntimeError("set BATCHPIPE to the built batchpipe binary (ctest does)")
        scratch = tempfile.TemporaryDirectory(prefix="bp-recipe-")
        self.addCleanup(scratch.cleanup)
        self.dir = scratch.name
        self.env = dict(os.environ, PATH=path_with_batchpipe(self.dir, batchpipe))

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_events(self, records) -> None:
        with open(self.path("events.ndjson"), "wb") as f:
            f.writelines(r + b"\n" for r in records)

    def write_events_with_bad(self, count: int, bad, bad_record) -> list:
        """Writes `count` events() with bad_record(i) in place of each index i
        in `bad`; returns the records written."""
        records = events(count)
        for i in bad:
            records[i] = bad_record(i)
        self.write_events(records)
        return records

    def run_recipe(self, script: str, env=None, timeout=60) -> subprocess.CompletedProcess:
        return subprocess.run(["sh", "-ec", script], cwd=self.dir, env=env or self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)

    def assert_ran(self, r, script):
        self.assertEqual(r.returncode, 0, f"recipe:\n{script}\nstderr: {r.stderr[-2000:]!r}")

    def assert_dead_lettered_alone(self, r, records, bad, message: bytes) -> list:
        """The recipe's run `r` exited 4 (records given up) saying `message`,
        and failed.ndjson holds the records at the indexes `bad`, in order,
        and nothing else. Returns failed.why, a parsed line per record."""
        self.assertEqual(r.returncode, 4, r.stderr[-2000:])
        self.assertIn(message, r.stderr)
        with open(self.path("failed.ndjson"), "rb") as f:
            self.assertEqual(f.read(), b"".join(records[i] + b"\n" for i in bad))
        with open(self.path("failed.why"), "rb") as f:
            return [json.loads(line) for line in f]
