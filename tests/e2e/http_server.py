"""A scripted HTTP/1.1 server for the --post tests, run in threads of the test process.

    server = ScriptedServer([503, ("status", 429, {"Retry-After": "1"}), 200], default=200)
    test.addCleanup(server.close)
    ... run batchpipe against server.url("/in") ...
    requests = server.requests()

The script is a list of actions applied to successive requests (counted over
all connections, in the order their requests were read); once it runs out,
`default` answers every further request. An action is one of:

    200                               a response with this status and a short body
    ("status", 429, {"Retry-After": "1"})           status with extra headers
    ("status", 400, {}, b"body")                    ... and a given body
    ("stall",)            read the request, never answer (until close())
    ("trickle", seconds)  send a status line and headers, then the body one
                          byte per 100 ms for `seconds`
    ("reset",)            read the request, then close with SO_LINGER 0 (RST)
    ("raw", b"bytes")     read the request, send these bytes as they are (not
                          HTTP, a reply cut short, or b"" for none), then close
    ("redirect", 302, "/elsewhere")                 status with a Location
    a callable f(index, request) returning one of the above, evaluated when
    the request has been read (so a Retry-After date can be computed then)

With latency=SECONDS, every request waits that long after it has been read
before its action is applied (each connection in its own thread, so requests
on different connections wait side by side): a slow receiver. With
capacity=N as well, at most N requests wait at once (the others queue): a
receiver that does a fixed amount of work a second, however many connect.
latency may also be a callable f(in_flight) returning seconds, where
in_flight counts the requests read and not yet answered, this one included
(Request.in_flight holds it too, for callable actions): a receiver that slows
down, or refuses, as more requests arrive at once.

Every request is recorded (Request: method, path, headers, body, client
address and port, arrival time on time.monotonic(), connection number, and
over https the commonName of the client's certificate, if it sent one) before
it is answered. Connections are kept alive as HTTP/1.1 allows. With an
ssl.SSLContext the server speaks https; handshakes that fail are counted.

The server binds 127.0.0.1 on an ephemeral port, or on port=N (to start a
server again where a closed one was). close() stops it: it
releases stalled requests, shuts every connection down and joins its threads.
"""

import dataclasses
import socket
import ssl
import struct
import threading
import time

MAX_HEADER_BYTES = 64 * 1024
TRICKLE_STEP = 0.1

REASONS = {
    200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found",
    303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
    413: "Content Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict  # name as sent -> value; use header() for a case-insensitive look-up
    body: bytes
    client: tuple  # (host, port) of the client end: the same port means the same connection
    time: float  # time.monotonic() once the whole request had been read
    connection: int  # 1-based number of the connection it came on
    index: int  # 0-based number of the request, over all connections
    in_flight: int = 0  # requests read and not yet answered when it was read, itself included
    peer: str = ""  # https with a client certificate: the commonName of its subject
    answered: float = 0.0  # time.monotonic() once its latency (and its wait for capacity) was over

    def header(self, name, default=None):
        lower = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lower:
                return value
        return default


def _peer_name(sock):
    """The commonName of a TLS peer's certificate, or ""."""
    getpeercert = getattr(sock, "getpeercert", None)
    cert = getpeercert() if getpeercert else None
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


class _Closed(Exception):
    """The peer closed the connection, or the server is shutting down."""


class ScriptedServer:
    def __init__(self, script=(), default=200, ssl_context=None, latency=0.0, port=0, capacity=0):
        self._script = list(script)
        self._latency = latency
        self._slots = threading.Semaphore(capacity) if capacity else None
        self._default = default
        self._ssl = ssl_context
        self._lock = threading.Condition()
        self._requests = []
        self._connections = 0
        self._handshake_failures = 0
        self._errors = []
        self._in_flight = 0
        self._socks = set()
        self._threads = []
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name="http-accept", daemon=True)
        self._acceptor.start()

    # -- the test's side -----------------------------------------------------

    def url(self, path="/", userinfo=""):
        scheme = "https" if self._ssl else "http"
        at = userinfo + "@" if userinfo else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}{path}"

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.port}"

    def requests(self):
        with self._lock:
            return list(self._requests)

    def connections(self):
        with self._lock:
            return self._connections

    def handshake_failures(self):
        with self._lock:
            return self._handshake_failures

    def errors(self):
        """Unexpected errors in the server's threads (malformed requests and the like)."""
        with self._lock:
            return list(self._errors)

    def wait_for_requests(self, n, timeout):
        """Waits until at least `n` requests have been read; returns them
        all, or raises TimeoutError at the deadline."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._requests)} of {n} requests after {timeout}s")
                self._lock.wait(left)
            return list(self._requests)

    def close(self):
        if self._stop.is_set():
            return
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._acceptor.join(5)
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the server's side ---------------------------------------------------

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, addr = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    return
                self._connections += 1
                number = self._connections
                self._socks.add(conn)
                t = threading.Thread(
                    target=self._serve, args=(conn, addr, number), name=f"http-conn-{number}", daemon=True
                )
                self._threads.append(t)
            t.start()

    def _serve(self, raw, addr, number):
        sock = raw
        try:
            if self._ssl is not None:
                raw.settimeout(10)
                try:
                    sock = self._ssl.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError):
                    with self._lock:
                        self._handshake_failures += 1
                    return
                sock.settimeout(None)
                with self._lock:
                    self._socks.add(sock)
            buf = bytearray()
            while not self._stop.is_set():
                request = self._read_request(sock, buf, addr, number)
                try:
                    latency = self._latency(request.in_flight) if callable(self._latency) else self._latency
                    if self._slots is not None:
                        self._slots.acquire()
                    try:
                        if latency > 0 and self._stop.wait(latency):
                            return
                    finally:
                        if self._slots is not None:
                            self._slots.release()
                    action = self._next_action(request)
                finally:
                    # Before the answer goes: a client that sends again as soon as it has it finds the count down.
                    request.answered = time.monotonic()
                    with self._lock:
                        self._in_flight -= 1
                if not self._answer(sock, raw, request, action):
                    return
                if (request.header("Connection") or "").lower() == "close":
                    return
        except _Closed:
            return
        except (OSError, ValueError) as e:
            if not self._stop.is_set():
                with self._lock:
                    self._errors.append(f"connection {number}: {e!r}")
        finally:
            with self._lock:
                self._socks.discard(raw)
                self._socks.discard(sock)
            try:
                sock.close()
            except OSError:
                pass
            if sock is not raw:
                raw.close()

    @staticmethod
    def _recv(sock, buf):
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed()
        buf.extend(chunk)

    def _read_request(self, sock, buf, addr, number):
        while b"\r\n\r\n" not in buf:
            if len(buf) > MAX_HEADER_BYTES:
                raise ValueError("request head too large")
            self._recv(sock, buf)
        end = buf.index(b"\r\n\r\n")
        head = bytes(buf[:end]).decode("latin-1")
        del buf[: end + 4]
        lines = head.split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("expect", "").lower() == "100-continue":
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in lower.get("transfer-encoding", "").lower():
            body = self._read_chunked(sock, buf)
        else:
            length = int(lower.get("content-length", "0"))
            while len(buf) < length:
                self._recv(sock, buf)
            body = bytes(buf[:length])
            del buf[:length]
        with self._lock:
            self._in_flight += 1
            request = Request(method, path, headers, body, addr, time.monotonic(), number, len(self._requests),
                              self._in_flight, _peer_name(sock))
            self._requests.append(request)
            self._lock.notify_all()
        return request

    def _read_chunked(self, sock, buf):
        body = bytearray()
        while True:
            while b"\r\n" not in buf:
                self._recv(sock, buf)
            end = buf.index(b"\r\n")
            size = int(bytes(buf[:end]).split(b";")[0], 16)
            del buf[: end + 2]
            if size == 0:
                while b"\r\n" not in buf:  # no trailers expected: just the final CRLF
                    self._recv(sock, buf)
                del buf[: buf.index(b"\r\n") + 2]
                return bytes(body)
            while len(buf) < size + 2:
                self._recv(sock, buf)
            body.extend(buf[:size])
            del buf[: size + 2]

    def _next_action(self, request):
        with self._lock:
            action = self._script.pop(0) if self._script else self._default
        if callable(action):
            action = action(request.index, request)
        return action

    @staticmethod
    def _response_head(status, headers, length):
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", f"Content-Length: {length}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _answer(self, sock, raw, request, action):
        """Answers `request`; False if the connection is to be closed."""
        if isinstance(action, int):
            action = ("status", action)
        kind = action[0]
        if kind == "status":
            status = action[1]
            headers = dict(action[2]) if len(action) > 2 else {}
            body = action[3] if len(action) > 3 else f"{status} {REASONS.get(status, 'Status')}\n".encode()
            sock.sendall(self._response_head(status, headers, len(body)) + body)
            return headers.get("Connection", "").lower() != "close"
        if kind == "redirect":
            _, status, location = action
            body = b"moved\n"
            sock.sendall(self._response_head(status, {"Location": location}, len(body)) + body)
            return True
        if kind == "stall":
            self._stop.wait()
            return False
        if kind == "trickle":
            steps = max(1, int(round(action[1] / TRICKLE_STEP)))
            sock.sendall(self._response_head(200, {"Content-Type": "text/plain"}, steps))
            deadline = time.monotonic()
            for _ in range(steps):
                deadline += TRICKLE_STEP
                if self._stop.wait(max(0.0, deadline - time.monotonic())):
                    return False
                sock.sendall(b".")
            return True
        if kind == "raw":
            sock.sendall(action[1])
            return False  # _serve closes it: the reply ends there
        if kind == "reset":
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False  # _serve closes it: with linger 0 that is an RST
        raise ValueError(f"unknown action {action!r}")
