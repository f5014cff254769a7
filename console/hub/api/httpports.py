"""The hub's HTTP ports: /metrics (loopback by default, or TLS), and a plain-HTTP /healthz for
probes that carry no client certificate (a kubelet), which serves nothing else."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

log = logging.getLogger("tongchou.hub")


def loopback(host: str) -> bool:
    return host.strip("[]") in ("127.0.0.1", "::1", "localhost")


def serve_metrics(
    listen: str, tls: tuple[Path, Path, Path | None] | None, registry: CollectorRegistry
) -> WSGIServer:
    """/metrics on `listen`: over TLS when `tls` (cert, key, and a client CA to require a
    client certificate from); plaintext elsewhere than loopback is logged as a warning."""
    host, _, port = listen.rpartition(":")
    if tls is None and not loopback(host):
        log.warning(
            "/metrics on %s is plaintext without authentication and names every division's "
            "clusters and workloads: serve it over TLS (--metrics-tls-*) or on loopback",
            listen,
        )
    httpd, _thread = start_http_server(
        int(port),
        addr=host.strip("[]") or "0.0.0.0",
        registry=registry,
        certfile=str(tls[0]) if tls else None,
        keyfile=str(tls[1]) if tls else None,
        client_cafile=str(tls[2]) if tls and tls[2] else None,
        client_auth_required=bool(tls and tls[2]),
    )
    return httpd


class HealthServer:
    """`GET /healthz`: 200 while the hub serves, 503 while it drains; 404 for anything else."""

    def __init__(self, listen: str, serving: Callable[[], bool]) -> None:
        host, _, port = listen.rpartition(":")
        check = serving

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/healthz":
                    self._answer(404, b"not found\n")
                elif check():
                    self._answer(200, b"ok\n")
                else:
                    self._answer(503, b"not serving\n")

            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return  # probes every few seconds: not worth a log line each

        self._httpd = ThreadingHTTPServer((host.strip("[]") or "0.0.0.0", int(port)), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="hub-healthz", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
