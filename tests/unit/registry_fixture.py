"""A tiny registry API on 127.0.0.1 with the token handshake, for tests of the client.

It is a fixture, not a registry: tag lists and manifest digests come from a dict, but the
HTTP exchange follows the distribution spec (401 + WWW-Authenticate: Bearer, token
endpoint, Link pagination, NAME_UNKNOWN 404).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FakeRegistryState:
    tags: dict[str, list[str]] = field(default_factory=dict)
    digests: dict[tuple[str, str], str] = field(default_factory=dict)
    grant_tokens: bool = True
    page_size: int = 2
    basic_auth: str | None = None  # base64 user:password; when set, Basic auth replaces tokens
    token_requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0


def _handler(state: FakeRegistryState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: object = None, headers: dict[str, str] | None = None):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _authorized(self, name: str) -> bool:
            if state.basic_auth is not None:
                if self.headers.get("Authorization") == f"Basic {state.basic_auth}":
                    return True
                challenge = 'Basic realm="fixture"'
                self._send(
                    401, {"errors": [{"code": "UNAUTHORIZED"}]}, {"WWW-Authenticate": challenge}
                )
                return False
            expected = f"Bearer token-for-repository:{name}:pull"
            if self.headers.get("Authorization") == expected:
                return True
            realm = f"http://127.0.0.1:{state.port}/token"
            challenge = f'Bearer realm="{realm}",service="fixture",scope="repository:{name}:pull"'
            self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]}, {"WWW-Authenticate": challenge})
            return False

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/token":
                state.token_requests.append(query)
                if not state.grant_tokens:
                    self._send(401, {"details": "access denied"})
                    return
                self._send(200, {"token": f"token-for-{query.get('scope')}"})
                return
            if url.path.startswith("/v2/") and url.path.endswith("/tags/list"):
                name = url.path[len("/v2/") : -len("/tags/list")]
                if not self._authorized(name):
                    return
                if name not in state.tags:
                    self._send(404, {"errors": [{"code": "NAME_UNKNOWN"}]})
                    return
                tags = sorted(state.tags[name])
                n = int(query.get("n", state.page_size))
                n = min(n, state.page_size)
                after = [t for t in tags if t > query["last"]] if "last" in query else tags
                page, rest = after[:n], after[n:]
                headers = {}
                if rest:
                    next_query = urllib.parse.urlencode({"last": page[-1], "n": n})
                    headers["Link"] = f'</v2/{name}/tags/list?{next_query}>; rel="next"'
                self._send(200, {"name": name, "tags": page}, headers)
                return
            self._send(404, {"errors": [{"code": "NOT_FOUND"}]})

        def do_HEAD(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            name, _, tag = path[len("/v2/") :].rpartition("/manifests/")
            if not self._authorized(name):
                return
            digest = state.digests.get((name, tag))
            if digest is None:
                self._send(404)
                return
            self._send(200, None, {"Docker-Content-Digest": digest})

    return Handler


@contextmanager
def fake_registry(state: FakeRegistryState) -> Iterator[str]:
    """Serve `state` on 127.0.0.1; yields the host ("127.0.0.1:<port>")."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{state.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
