"""``serve --health PORT``: liveness and readiness probes on loopback, for process supervisors.

- ``GET /livez``: 200 while the scheduler runs (the process is not wedged), else 503;
- ``GET /readyz``: 200 when the service can publish (publish.yml usable, a re-plan done), else 503;
- ``GET /status``: always 200, the same figures.
Each answers JSON: the last successful run, the last error, the settings' state, the entries
scheduled and the next run (``Service.status()``). Bound to 127.0.0.1 only: nothing here is for
the network (Kubernetes' httpGet probes and systemd/monit checks reach loopback).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HealthServer:
    def __init__(self, service, port: int):
        self.service = service
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 -- http.server's name
                path = self.path.split("?")[0]
                if path not in ("/livez", "/readyz", "/status"):
                    self._send(404, {"error": f"no such probe {path!r}: /livez, /readyz or /status"})
                    return
                status = outer.service.status()
                ok = {"/livez": status["alive"], "/readyz": status["ready"], "/status": True}[path]
                self._send(200 if ok else 503, status)

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # probes every few seconds are not news
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="health", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
