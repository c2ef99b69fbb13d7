"""--post https:// to a port that speaks plain HTTP stops at once with a hint
(exit 5), rather than retrying every batch. The port is served by a socket
that answers whatever arrives with a plain-HTTP 400, as nginx and most HTTP
servers answer a TLS ClientHello; closed by a cleanup."""

import socket
import threading
import unittest

import bp


class PlainPort:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=10)


class HttpsToPlainHttpTest(unittest.TestCase):
    def test_stops_at_once_saying_to_use_http(self):
        server = PlainPort()
        self.addCleanup(server.close)
        r = bp.run(["--post", f"https://127.0.0.1:{server.port}/", "--retries", "5"], b"1\n2\n")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn(b"wrong version number", r.stderr)
        self.assertIn(b"--post an http:// URL", r.stderr)
        self.assertEqual(server.connections, 1, "not retried")


if __name__ == "__main__":
    unittest.main()
