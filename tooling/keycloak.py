"""A real Keycloak on loopback for the smoke tests, with tokens from its token endpoint.

    with RunningKeycloak([read_realm_file(Path("tests/smoke/realm.json"))]) as keycloak:
        token = keycloak.password_token("temporal", "temporal", "writer", "writer")

The distribution (`org.keycloak:keycloak-quarkus-dist`) comes from Maven Central, is
checked against its `.sha1` and unpacked once under ~/.cache/hardened-temporal/keycloak.
Keycloak 26 needs Java 21 or newer: the JDK is looked up in $KEYCLOAK_JAVA_HOME,
$JAVA_HOME, /usr/lib/jvm/* and `java` on PATH, newest first.

It runs in dev mode (`kc.sh start-dev`) with an H2 file database in a temporary
directory. Creating Keycloak's schema takes minutes on 2 busy cores, so the database of
the first clean run (schema, master realm, bootstrap admin) is kept in the cache and
copied for later runs. The realms are (re)imported on every run through the admin REST
API with the bootstrap admin: a realm left from an earlier run is deleted first, so each
run starts from the realm files alone. Each realm's discovery document must answer before
the server counts as ready. On exit the whole process group is stopped by its PID.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from types import TracebackType
from typing import Any

from tooling.errors import ToolError
from tooling.localregistry import free_loopback_port

KEYCLOAK_VERSION = os.environ.get("KEYCLOAK_VERSION", "26.5.6")
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
MIN_JAVA = 21

# Throwaway credentials of a Keycloak that lives on loopback for one test session.
BOOTSTRAP_ADMIN = "smoke-admin"
BOOTSTRAP_PASSWORD = "smoke-admin-password"


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "hardened-temporal" / "keycloak"


def ensure_distribution(version: str = KEYCLOAK_VERSION) -> Path:
    """Download (once) and unpack (once) Keycloak `version`; return its home directory."""
    cache = cache_dir()
    home = cache / f"keycloak-{version}"
    if (home / "bin" / "kc.sh").is_file():
        return home
    cache.mkdir(parents=True, exist_ok=True)
    name = f"keycloak-quarkus-dist-{version}.zip"
    url = f"{MAVEN_CENTRAL}/org/keycloak/keycloak-quarkus-dist/{version}/{name}"
    archive = cache / name
    if not archive.is_file():
        expected = _fetch(url + ".sha1").decode().split()[0].strip().lower()
        partial = archive.with_suffix(".part")
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
            shutil.copyfileobj(response, out)
        actual = hashlib.sha1(partial.read_bytes()).hexdigest()  # Maven Central publishes SHA-1
        if actual != expected:
            partial.unlink()
            raise ToolError(f"{url}: SHA-1 {actual} does not match the published {expected}")
        partial.rename(archive)
    unpack = Path(tempfile.mkdtemp(prefix=f"keycloak-{version}-", dir=cache))
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(unpack)
    top = unpack / f"keycloak-{version}"
    if not (top / "bin" / "kc.sh").is_file():
        shutil.rmtree(unpack, ignore_errors=True)
        raise ToolError(f"{archive} holds no keycloak-{version}/bin/kc.sh")
    for script in (top / "bin").glob("*.sh"):
        script.chmod(0o755)  # zipfile drops the mode bits
    top.rename(home)
    shutil.rmtree(unpack, ignore_errors=True)
    return home


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data: bytes = response.read()
            return data
    except urllib.error.URLError as err:
        raise ToolError(f"cannot download {url}: {err}") from err


def java_major(java_home: Path) -> int | None:
    """The major version of the JDK at java_home (from its `release` file), or None."""
    release = java_home / "release"
    if not (java_home / "bin" / "java").is_file() or not release.is_file():
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else None


def find_java_home(minimum: int = MIN_JAVA) -> Path:
    """The newest JDK with major version >= minimum; a ToolError naming what was seen if none."""
    candidates: list[Path] = []
    for var in ("KEYCLOAK_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(var):
            candidates.append(Path(os.environ[var]))
    candidates += sorted(Path("/usr/lib/jvm").glob("*")) if Path("/usr/lib/jvm").is_dir() else []
    java = shutil.which("java")
    if java:
        candidates.append(Path(java).resolve().parent.parent)
    seen: dict[Path, int | None] = {home: java_major(home) for home in candidates}
    usable = [
        (major, home) for home, major in seen.items() if major is not None and major >= minimum
    ]
    if not usable:
        found = ", ".join(f"{home} ({major or 'no JDK'})" for home, major in seen.items()) or "none"
        raise ToolError(
            f"Keycloak needs Java {minimum} or newer; JDKs found: {found}. "
            "Install one (Debian: apt-get install openjdk-21-jdk-headless) "
            "or set KEYCLOAK_JAVA_HOME."
        )
    return max(usable)[1]


def read_realm_file(path: Path) -> dict[str, Any]:
    """A realm export (the JSON that Keycloak's admin console exports) read from `path`."""
    try:
        realm: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ToolError(f"{path}: cannot read a Keycloak realm export: {err}") from err
    if not isinstance(realm, dict) or not isinstance(realm.get("realm"), str):
        raise ToolError(f'{path}: a Keycloak realm export needs a top-level string "realm"')
    return realm


class RunningKeycloak:
    """`kc.sh start-dev` on 127.0.0.1:<port> with the given realms imported."""

    def __init__(
        self,
        realms: list[dict[str, Any]],
        *,
        port: int | None = None,
        version: str = KEYCLOAK_VERSION,
        startup_timeout: float = 600.0,
    ) -> None:
        self.realms = realms
        self.port = port if port is not None else free_loopback_port()
        self.version = version
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.workdir: Path | None = None
        self.start_seconds: float | None = None
        self.fresh_database = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_template(self) -> Path:
        """The cached H2 database (schema and master realm only) that each run starts from."""
        return cache_dir() / f"h2-template-{self.version}"

    def issuer(self, realm: str) -> str:
        """The `iss` of tokens from `realm`, as Keycloak reports it in discovery."""
        return f"{self.url}/realms/{realm}"

    def token_endpoint(self, realm: str) -> str:
        return f"{self.issuer(realm)}/protocol/openid-connect/token"

    @property
    def log_path(self) -> Path:
        if self.workdir is None:
            raise ToolError("Keycloak is not started")
        return self.workdir / "keycloak.log"

    def start(self) -> RunningKeycloak:
        began = time.monotonic()
        home = ensure_distribution(self.version)
        java_home = find_java_home()
        self.workdir = Path(tempfile.mkdtemp(prefix="hardened-temporal-keycloak-"))
        env = {
            **os.environ,
            "JAVA_HOME": str(java_home),
            "PATH": f"{java_home / 'bin'}:{os.environ.get('PATH', '')}",
            "KC_BOOTSTRAP_ADMIN_USERNAME": BOOTSTRAP_ADMIN,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": BOOTSTRAP_PASSWORD,
        }
        database = self.workdir / "db"
        self.fresh_database = not self.database_template.is_dir()
        if not self.fresh_database:
            shutil.copytree(self.database_template, database)
        command = [
            str(home / "bin" / "kc.sh"),
            "start-dev",
            "--db=dev-file",
            f"--db-url-path={database}",  # H2 files under <path>/data/h2
            f"--http-port={self.port}",
            "--http-host=127.0.0.1",
            "--hostname-strict=false",
            "--health-enabled=false",  # no management interface (port 9000) to collide on
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so stop() reaches the JVM
            )
        try:
            self._wait_for(f"{self.issuer('master')}/.well-known/openid-configuration")
            for realm in self.realms:
                self.import_realm(realm)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        return self

    def import_realm(self, realm: dict[str, Any]) -> None:
        """Create `realm` (a realm export, see read_realm_file) and wait for its discovery."""
        name = realm["realm"]
        admin = self.password_token("master", "admin-cli", BOOTSTRAP_ADMIN, BOOTSTRAP_PASSWORD)
        self._delete_realm(name, admin)
        request = urllib.request.Request(
            f"{self.url}/admin/realms",
            data=json.dumps(realm).encode(),
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60):
                pass
        except urllib.error.HTTPError as err:
            raise ToolError(
                f"Keycloak refused realm {name!r}: HTTP {err.code} "
                f"{err.read().decode(errors='replace')}"
            ) from err
        self._wait_for(f"{self.issuer(name)}/.well-known/openid-configuration")

    def _delete_realm(self, name: str, admin_token: str) -> None:
        """Delete realm `name` if it exists (left in the cached database by an earlier run)."""
        request = urllib.request.Request(
            f"{self.url}/admin/realms/{urllib.parse.quote(name)}",
            headers={"Authorization": f"Bearer {admin_token}"},
            method="DELETE",
        )
        try:
            with urllib.request.urlopen(request, timeout=60):
                pass
        except urllib.error.HTTPError as err:
            if err.code != 404:
                raise ToolError(
                    f"Keycloak cannot delete old realm {name!r}: HTTP {err.code}"
                ) from err

    def _wait_for(self, url: str) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ToolError(
                    f"Keycloak exited with code {self.process.returncode} before {url} "
                    f"answered:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise ToolError(
            f"Keycloak did not answer {url} within {self.startup_timeout:.0f} s:\n{self.log_tail()}"
        )

    def password_token(
        self,
        realm: str,
        client_id: str,
        username: str,
        password: str,
        client_secret: str | None = None,
    ) -> str:
        """An access token from the realm's token endpoint (resource-owner password grant)."""
        form = {
            "grant_type": "password",
            "client_id": client_id,
            "username": username,
            "password": password,
        }
        if client_secret is not None:
            form["client_secret"] = client_secret
        body = self._post_form(self.token_endpoint(realm), form)
        token: str = body["access_token"]
        return token

    def _post_form(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        request = urllib.request.Request(
            url, data=urllib.parse.urlencode(form).encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body: dict[str, Any] = json.load(response)
                return body
        except urllib.error.HTTPError as err:
            raise ToolError(
                f"{url} refused a token for {form.get('username')!r} of client "
                f"{form.get('client_id')!r}: HTTP {err.code} {err.read().decode(errors='replace')}"
            ) from err

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, ToolError):
            return "(no Keycloak log)"

    def stop(self) -> None:
        """Stop the process group this object started (by its PID) and remove its files."""
        clean_exit = False
        if self.process is not None and self.process.poll() is None:
            pgid = self.process.pid  # start_new_session: the group id is the leader's PID
            try:
                os.killpg(pgid, signal.SIGTERM)
                self.process.wait(timeout=60)
                clean_exit = self.start_seconds is not None
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.process = None
        if clean_exit and self.fresh_database and self.workdir is not None:
            self._keep_database_template(self.workdir / "db")
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def _keep_database_template(self, database: Path) -> None:
        """Cache the database of a run that started and stopped cleanly, for later runs."""
        partial = Path(tempfile.mkdtemp(prefix="h2-template-", dir=cache_dir()))
        try:
            shutil.copytree(database, partial / "db")
            (partial / "db").rename(self.database_template)
        except OSError:
            pass  # another run kept one first, or the disk is full: the next run starts fresh
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def __enter__(self) -> RunningKeycloak:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
