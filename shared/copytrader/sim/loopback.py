"""What every loopback HTTP server standing in for a Polymarket API or the chain shares (the simulated Polymarket,
the simulated chain, the tests' fakes): the server, a JSON handler base, start and stop.

The server binds 127.0.0.1 on a free port. Its listen backlog is 128: the default of 5 drops the SYNs of a burst
of concurrent connections, and a dropped SYN is retried after a 1 s timeout, so a test would now and then wait a
second for nothing. Handlers keep connections alive (HTTP/1.1, as the real APIs serve), write headers and body
in one write and with TCP_NODELAY: no 40 ms delayed-ACK stall on a kept-alive socket.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        return

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), headers)

    def _send_bytes(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class Loopback:
    """Start and stop one `LoopbackServer` in a daemon thread; `url` is its base URL."""

    _server: LoopbackServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _serve(self, handler: type[BaseHTTPRequestHandler], poll_interval: float = 0.5) -> None:
        self._server = LoopbackServer(("127.0.0.1", 0), handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
