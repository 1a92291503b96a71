"""The smoke run: the image `invoke build` makes, pushed by `invoke push` to a real local
registry, run on the real engine against a real Keycloak, checked with the Temporal
Python SDK.

    nox -s smoke                    # upstream bases (golang, temporalio/server): needs Docker Hub
    nox -s smoke -- --local-bases   # bases built here (tooling.local_bases); SMOKE_LOCAL_BASES=1

Session fixtures, in the order they start:
    keycloak_starting   Keycloak with tests/smoke/realm.json (and a copy named "other"),
                        started in a thread so that it boots while the image builds
    registry            docker-registry on 127.0.0.1 (tooling.localregistry)
    image               `invoke build`, `invoke push`, `invoke bump --dry-run`
    server              the pushed image, `docker run --network host --read-only`, with the
                        config of tests/smoke/server-config mounted and a data directory
Everything is stopped and removed at the end of the session, also when a check fails.
At the end a table shows each matrix row (the `matrix` marker) with pass or fail, and
how long each phase took.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import shutil
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))  # the tooling package, also when not installed

from harness import BuiltImage, SmokeServer, Tokens, register_namespace  # noqa: E402

from tooling.errors import ToolError  # noqa: E402
from tooling.keycloak import RunningKeycloak, read_realm_file  # noqa: E402
from tooling.localregistry import LocalRegistry, free_loopback_ports  # noqa: E402
from tooling.versions import load_versions, resolve_tag  # noqa: E402

SMOKE_DIR = Path(__file__).resolve().parent
REALM_FILE = SMOKE_DIR / "realm.json"
SERVER_CONFIG = SMOKE_DIR / "server-config"
IMAGE_PATH = "hardened-temporal/temporal-server"  # the repository inside the local registry
BUILD_TIMEOUT = 3600  # seconds; a cold build compiles Temporal on 2 cores

# Phase timings and matrix outcomes, printed by pytest_terminal_summary.
TIMINGS: dict[str, float] = {}
MATRIX: dict[str, list[str]] = {}
# Things the reader of the summary must know about this run (such as which bases it used).
NOTES: list[str] = []


# --- options, markers, the summary table ----------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smoke")
    group.addoption(
        "--local-bases",
        action="store_true",
        default=os.environ.get("SMOKE_LOCAL_BASES", "") not in ("", "0", "false"),
        help="build the base images here (debootstrap + this machine's Go) instead of "
        "pulling golang and temporalio/server; default from SMOKE_LOCAL_BASES",
    )
    group.addoption(
        "--upstream-bases",
        action="store_true",
        default=False,
        help="use golang and temporalio/server and fail if they cannot be pulled (default: "
        "fall back to local bases, with a notice, when they cannot be pulled)",
    )
    group.addoption(
        "--no-build-cache",
        action="store_true",
        default=False,
        help="build the image with --no-cache (default: reuse the build cache)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "matrix(row): the smoke matrix row this check belongs to")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    row = _matrix_row(report)
    if row is None:
        return
    if report.when == "call" or report.failed or report.skipped:
        outcome = "pass" if report.passed else ("skip" if report.skipped else "FAIL")
        if report.when != "call" and report.failed:
            outcome = "ERROR"
        name = report.nodeid.split("::")[-1]
        MATRIX.setdefault(row, []).append(f"{outcome}:{name}")
        if report.when == "call":
            TIMINGS[f"check {name}"] = report.duration


def _matrix_row(report: pytest.TestReport) -> str | None:
    for key, value in report.user_properties:
        if key == "matrix":
            return str(value)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("matrix")
    if marker is not None:
        item.user_properties.append(("matrix", marker.args[0]))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write = terminalreporter.write_line
    if MATRIX:
        terminalreporter.section("smoke matrix")
        width = max(len(row) for row in MATRIX)
        for row, results in MATRIX.items():
            passed = all(r.startswith("pass") for r in results)
            failed = [r.split(":", 1)[1] for r in results if not r.startswith("pass")]
            verdict = "pass" if passed else "FAIL (" + ", ".join(failed) + ")"
            write(f"{row.ljust(width)}  {verdict}")
    for note in NOTES:
        write(f"note: {note}")
    if TIMINGS:
        terminalreporter.section("smoke timings")
        phases = {k: v for k, v in TIMINGS.items() if not k.startswith("check ")}
        checks = {k: v for k, v in TIMINGS.items() if k.startswith("check ")}
        for name, seconds in phases.items():
            write(f"{name.ljust(34)} {seconds:7.1f} s")
        if checks:
            write(f"{'checks (' + str(len(checks)) + ' calls)':34} {sum(checks.values()):7.1f} s")


# --- Keycloak ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def keycloak_starting() -> Iterator[concurrent.futures.Future[RunningKeycloak]]:
    """Keycloak booting in a thread: it takes minutes on 2 cores, as does the image build."""
    realm = read_realm_file(REALM_FILE)
    # "other" has the same clients, roles, mappers and users, but its own issuer and keys.
    other = {**json.loads(json.dumps(realm)), "realm": "other"}
    keycloak = RunningKeycloak([realm, other])
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="keycloak")
    future = pool.submit(keycloak.start)
    try:
        yield future
    finally:
        # start() stops Keycloak itself when it fails; wait for it to end either way, so
        # that no Keycloak is started after this stop.
        concurrent.futures.wait([future])
        keycloak.stop()
        pool.shutdown()


@pytest.fixture(scope="session")
def keycloak(keycloak_starting: concurrent.futures.Future[RunningKeycloak]) -> RunningKeycloak:
    began = time.monotonic()
    try:
        started = keycloak_starting.result()
    except ToolError as err:
        pytest.fail(f"Keycloak did not start: {err}", pytrace=False)
    TIMINGS["Keycloak start (incl. realm import)"] = started.start_seconds or 0.0
    TIMINGS["waited for Keycloak after build"] = time.monotonic() - began
    return started


@pytest.fixture(scope="session")
def tokens(keycloak: RunningKeycloak) -> Tokens:
    return Tokens(keycloak)


# --- engine, registry, image ----------------------------------------------------------------


@pytest.fixture(scope="session")
def engine() -> None:
    """A Docker engine that answers, with buildx: the smoke run cannot do without them."""
    try:
        subprocess.run(["docker", "info"], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        pytest.fail(
            f"no Docker engine answers ({err}): start one, e.g. scripts/setup-host.sh",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def registry(engine: None) -> Iterator[LocalRegistry]:
    with LocalRegistry() as started:
        yield started


def _invoke(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run an Invoke task of this repository as a user would; fail the session clearly."""
    env = {k: v for k, v in os.environ.items() if k not in ("TAG", "IMAGE")}
    command = [sys.executable, "-m", "invoke", *args]
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        pytest.fail(
            f"`invoke {' '.join(args)}` failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
            pytrace=False,
        )
    return result


def git_revision() -> str:
    """What SOURCE_COMMIT must say: HEAD, plus "-dirty" when the work tree has changes."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    return head + ("-dirty" if status.strip() else "")


def use_local_bases(config: pytest.Config, go_version: str, temporal_version: str) -> bool:
    """Local bases when asked; upstream bases when asked or when they can be had; otherwise
    local bases with a notice, so the test command passes on machines that cannot pull."""
    if config.getoption("--local-bases"):
        return True
    upstream = [f"golang:{go_version}", f"temporalio/server:{temporal_version}"]
    missing = [ref for ref in upstream if not _image_present_or_pulled(ref)]
    if not missing or config.getoption("--upstream-bases"):
        return False  # with --upstream-bases a missing base fails the build, clearly
    NOTES.append(
        f"{', '.join(missing)} cannot be pulled here: the image was built on local bases "
        "(tooling.local_bases); pass --upstream-bases to fail instead"
    )
    return True


def _image_present_or_pulled(ref: str) -> bool:
    def docker(*args: str) -> bool:
        try:
            result = subprocess.run(["docker", *args], capture_output=True, timeout=600)
        except subprocess.TimeoutExpired:
            return False
        return result.returncode == 0

    return docker("image", "inspect", ref) or docker("pull", ref)


@pytest.fixture(scope="session")
def image(
    request: pytest.FixtureRequest,
    keycloak_starting: concurrent.futures.Future[RunningKeycloak],
    registry: LocalRegistry,
) -> Iterator[BuiltImage]:
    """`invoke build` into the engine, `invoke push` to the local registry, `invoke bump`."""
    name = f"{registry.host}/{IMAGE_PATH}"
    tag = resolve_tag(load_versions(REPO_ROOT, env={})).text
    build_args = ["build", "--image", name, "--tag", tag, "--network", "host"]
    if not request.config.getoption("--no-build-cache"):
        build_args.append("--cache")
    versions = load_versions(REPO_ROOT, env={})
    if use_local_bases(request.config, versions.go, versions.temporal):
        began = time.monotonic()
        from tooling.local_bases import ensure_local_bases

        try:
            bases = ensure_local_bases(versions.go, versions.temporal)
        except ToolError as err:
            pytest.fail(f"local base images: {err}", pytrace=False)
        TIMINGS[f"local bases {bases.builder_image}, {bases.runtime_image}"] = (
            time.monotonic() - began
        )
        build_args.append("--local-bases")  # the same images, found by `invoke build` itself
    expected_revision = git_revision()
    began = time.monotonic()
    _invoke(*build_args, timeout=BUILD_TIMEOUT)
    TIMINGS["image build (invoke build)"] = time.monotonic() - began
    built = BuiltImage(
        name=name,
        tag=tag,
        reference="",
        expected_revision=expected_revision,
        bump_output="",
        cleanup=[f"{name}:{tag}", f"{name}:latest"],
    )
    try:
        began = time.monotonic()
        _invoke("push", "--image", name, "--tag", tag, "--timeout", "300", timeout=1200)
        TIMINGS["image push (invoke push)"] = time.monotonic() - began
        digests = json.loads(
            subprocess.run(
                [
                    "docker",
                    "image",
                    "inspect",
                    "--format",
                    "{{json .RepoDigests}}",
                    f"{name}:{tag}",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        pushed = [d for d in digests if d.startswith(name + "@")]
        assert pushed, (
            f"{name}:{tag} has no digest from {registry.host} after invoke push: {digests}"
        )
        built.reference = pushed[0]
        built.bump_output = _invoke("bump", "--image", name, "--dry-run", timeout=120).stdout
        yield built
    finally:
        subprocess.run(["docker", "image", "rm", *built.cleanup], capture_output=True, check=False)


# --- the server ------------------------------------------------------------------------------


PORT_NAMES = [
    "FRONTEND_PORT",
    "FRONTEND_HTTP_PORT",
    "FRONTEND_MEMBERSHIP_PORT",
    "INTERNAL_FRONTEND_PORT",
    "INTERNAL_FRONTEND_HTTP_PORT",
    "INTERNAL_FRONTEND_MEMBERSHIP_PORT",
    "HISTORY_PORT",
    "HISTORY_MEMBERSHIP_PORT",
    "MATCHING_PORT",
    "MATCHING_MEMBERSHIP_PORT",
    "WORKER_PORT",
    "WORKER_MEMBERSHIP_PORT",
]


def render_server_config(target: Path, values: dict[str, str]) -> None:
    """tests/smoke/server-config/* with ${NAMES} filled in, readable by uid 1000."""
    target.mkdir(parents=True)
    target.chmod(0o755)
    for source in sorted(SERVER_CONFIG.glob("*.yaml")):
        try:
            text = string.Template(source.read_text()).substitute(values)
        except (KeyError, ValueError) as err:
            raise ToolError(f"{source}: placeholder {err} has no value") from err
        rendered = target / source.name
        rendered.write_text(text)
        rendered.chmod(0o644)


@pytest.fixture(scope="session")
def server(image: BuiltImage, keycloak: RunningKeycloak, tokens: Tokens) -> Iterator[SmokeServer]:
    """The pushed image running with the smoke config; `default` registered by a system admin."""
    workdir = Path(tempfile.mkdtemp(prefix="hardened-temporal-smoke-"))
    workdir.chmod(0o755)
    ports = dict(zip(PORT_NAMES, map(str, free_loopback_ports(len(PORT_NAMES))), strict=True))
    render_server_config(workdir / "config", {**ports, "ISSUER": keycloak.issuer("temporal")})
    data = workdir / "data"
    data.mkdir()
    os.chown(data, 1000, 1000)  # the image's user writes its SQLite files here
    smoke = SmokeServer(
        container=f"smoke-temporal-{uuid.uuid4().hex[:8]}",
        image=image.reference,
        config_dir=workdir / "config",
        data_dir=data,
        target=f"127.0.0.1:{ports['FRONTEND_PORT']}",
    )
    try:
        began = time.monotonic()
        smoke.run()
        asyncio.run(smoke.wait_until_serving(timeout=300))
        TIMINGS["server start (docker run to serving)"] = time.monotonic() - began
        began = time.monotonic()
        asyncio.run(register_namespace(smoke, tokens, "default"))
        TIMINGS["register namespace default"] = time.monotonic() - began
        yield smoke
    finally:
        if smoke.started:
            logs = smoke.logs()
            (REPO_ROOT / "build").mkdir(exist_ok=True)
            (REPO_ROOT / "build" / "smoke-server.log").write_text(logs)
        smoke.remove()
        shutil.rmtree(workdir, ignore_errors=True)
