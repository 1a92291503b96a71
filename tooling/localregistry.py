"""A real image registry on loopback for tests: Debian's `docker-registry` (distribution 2.8).

    with LocalRegistry() as registry:
        image = f"{registry.host}/hardened-temporal/temporal-server"
        ...

It writes its own config (no auth, storage in a temporary directory, 127.0.0.1 only),
waits until `/v2/` answers, and on exit stops the process it started by its PID and
removes the storage. 127.0.0.0/8 is an insecure registry for the engine by default,
so no TLS is needed for `docker push`.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from tooling.errors import ToolError

REGISTRY_BINARY = "docker-registry"

_CONFIG_TEMPLATE = """\
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: {addr}
"""
# htpasswd auth with an empty user file: every request is refused as unauthenticated,
# which is how tests see a registry that says "no" to who we are.
_AUTH_TEMPLATE = """\
auth:
  htpasswd:
    realm: hardened-temporal-test
    path: {htpasswd}
"""


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_loopback_ports(1)[0]


def free_loopback_ports(count: int) -> list[int]:
    """`count` distinct free ports on 127.0.0.1. Every socket stays bound until all are
    chosen: releasing each at once lets the kernel hand the same port out twice."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


class LocalRegistry:
    """`docker-registry serve` on 127.0.0.1:<port>, started on enter and stopped on exit."""

    def __init__(
        self,
        port: int | None = None,
        *,
        startup_timeout: float = 30.0,
        refuse_everyone: bool = False,
    ) -> None:
        self.port = port if port is not None else free_loopback_port()
        self.startup_timeout = startup_timeout
        self.refuse_everyone = refuse_everyone
        self.workdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """Registry host as it appears in an image name, e.g. "127.0.0.1:5000"."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def log_path(self) -> Path:
        if self.workdir is None:
            raise ToolError("local registry is not started")
        return self.workdir / "registry.log"

    def start(self) -> LocalRegistry:
        binary = shutil.which(REGISTRY_BINARY)
        if binary is None:
            raise ToolError(
                f"{REGISTRY_BINARY} not found on PATH: install it "
                "(Debian: apt-get install docker-registry, or run scripts/setup-host.sh)"
            )
        self.workdir = Path(tempfile.mkdtemp(prefix="hardened-temporal-registry-"))
        storage = self.workdir / "storage"
        storage.mkdir()
        config = self.workdir / "config.yml"
        text = _CONFIG_TEMPLATE.format(storage=storage, addr=self.host)
        if self.refuse_everyone:
            htpasswd = self.workdir / "htpasswd"
            htpasswd.write_text("")
            text += _AUTH_TEMPLATE.format(htpasswd=htpasswd)
        config.write_text(text)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [binary, "serve", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ToolError(
                    f"{REGISTRY_BINARY} exited with code {self.process.returncode} "
                    f"before answering on {self.host}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/v2/", timeout=2) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as err:
                if err.code == 401 and self.refuse_everyone:
                    return  # answering, and refusing as configured
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise ToolError(
            f"{REGISTRY_BINARY} did not answer on {self.url}/v2/ within "
            f"{self.startup_timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, ToolError):
            return "(no registry log)"

    def stop(self) -> None:
        """Stop the process this object started (by its PID) and delete its storage."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
