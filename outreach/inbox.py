"""A local webhook inbox for the embedded default: receives the JSON messages that would go
to social workers' DingTalk/WeCom/e-mail, on 127.0.0.1, and files each under
``<home>/outreach/inbox/<idempotency key>.json`` (a message delivered twice is one file)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SAFE_KEY = re.compile(r"^[0-9A-Za-z_-]{1,128}$")


class LocalInbox:
    """Start with ``with LocalInbox(folder) as inbox: ... inbox.url``."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = folder
        self.port = port
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/inbox"

    def __enter__(self) -> LocalInbox:
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("X-Idempotency-Key", "")
                if not SAFE_KEY.match(key):
                    self.send_response(400)
                    self.end_headers()
                    return
                (folder / f"{key}.json").write_text(
                    json.dumps(json.loads(body or b"null"), ensure_ascii=False, indent=1), encoding="utf-8"
                )
                self.send_response(200)
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def messages(self) -> list[Path]:
        return sorted(self.folder.glob("*.json"))
